"""The labelled claims (eval/claims) and the verifier measured on them (rag eval --claims)."""

import json
from pathlib import Path

import pytest

from eval import claimcheck as C
from eval.runner import main as eval_main
from rag.ingest import load_documents

ROOT = Path(__file__).resolve().parent.parent


def claim(sentence, text, speaker=None, source="a.txt", supported=True, origin="written", cid="c1", referent=None):
    return {"id": cid, "sentence": sentence, "referent": referent, "supported": supported, "why": "",
            "origin": origin, "evidence": [{"source": source, "start": 0, "end": len(text), "speaker": speaker,
                                            "text": text}]}


# -- the claims files ---------------------------------------------------------


@pytest.fixture(scope="module")
def all_claims():
    return C.load_claims(C.claim_files("all"))


def test_claims_files_have_both_splits_and_both_labels(all_claims):
    assert len(all_claims) >= 300
    for split in C.SPLITS:
        rows = [c for c in all_claims if c["split"] == split]
        assert sum(c["supported"] for c in rows) >= 40, split
        assert sum(not c["supported"] for c in rows) >= 40, split
        kinds = {C.kind_of(c) for c in rows}
        assert {"draft", "swapped-speaker", "wrong-number", "flipped-negation", "invented-detail",
                "other-document"} <= kinds, split


def test_every_claim_is_labelled_with_a_reason_and_unique(all_claims):
    ids = [c["id"] for c in all_claims]
    assert len(ids) == len(set(ids))
    for c in all_claims:
        assert c["why"].strip(), c["id"]
        assert c["sentence"].strip(), c["id"]


def test_claim_evidence_is_text_of_the_shipped_documents(all_claims):
    """Every cited passage is a real span of a seed document (whitespace folded)."""
    docs = {d.source: d.text for d in load_documents([ROOT / "seeds"]).documents}
    for c in all_claims:
        for e in c["evidence"]:
            assert e["source"] in docs, (c["id"], e["source"])
            assert " ".join(docs[e["source"]][e["start"]:e["end"]].split()) == " ".join(e["text"].split()), c["id"]


def test_the_shipped_claims_meet_the_gate(capsys):
    assert eval_main(["--claims", "--gate", "--quiet"]) == 0, capsys.readouterr().err


def test_test_claims_come_only_from_test_questions(all_claims):
    """Held-out claims are drafts of held-out questions (or negatives made from them)."""
    dev_questions = {c["question"] for c in all_claims if c["split"] == "dev" and c.get("question")}
    for c in all_claims:
        if c["split"] == "test" and c.get("question"):
            assert c["question"] not in dev_questions, c["id"]


# -- loading and judging ------------------------------------------------------


def test_a_claims_line_that_is_not_json_names_file_and_line(tmp_path):
    path = tmp_path / "dev.jsonl"
    path.write_text(json.dumps(claim("A b c d.", "A b c d.")) + "\n{oops\n")
    with pytest.raises(C.DataFileError, match=r"dev.jsonl:2 is not JSON \(.*\); fix or delete that line"):
        C.load_claims([path])


def test_a_claim_without_a_label_is_refused(tmp_path):
    path = tmp_path / "dev.jsonl"
    row = claim("A b c d.", "A b c d.")
    row["supported"] = None
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(C.ClaimsError, match="true/false 'supported'"):
        C.load_claims([path])


def test_judge_and_metrics_count_both_kinds_of_error(tmp_path):
    ev = "Mayor Celia Abernathy said the city will hire 35 new bus drivers this year."
    rows = [
        claim("Abernathy said the city will hire 35 new bus drivers.", ev, speaker="Celia Abernathy", cid="ok"),
        claim("Abernathy said the city will hire 53 new bus drivers.", ev, speaker="Celia Abernathy",
              supported=False, origin="wrong-number", cid="bad"),
    ]
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    judged = C.judge(C.load_claims([path]))
    m = C.claim_metrics(judged)
    assert m["splits"]["test"]["supported_accepted"] == 1.0
    assert m["splits"]["test"]["unsupported_rejected"] == 1.0
    assert m["kinds"]["wrong-number"]["unsupported"] == 1


def test_rag_eval_claims_reports_and_gates(tmp_path, capsys):
    ev = "Dmitry Suslov said arms control as it exists today is outdated."
    rows = [claim("Suslov said arms control is outdated.", ev, speaker="Dmitry Suslov", cid="p"),
            claim("Trenin said arms control is outdated.", ev, speaker="Dmitry Suslov", supported=False,
                  origin="swapped-speaker", cid="n")]
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bounds = tmp_path / "t.json"
    bounds.write_text(json.dumps({"min": {"splits.test.unsupported_rejected": 1.0,
                                          "splits.test.supported_accepted": 1.0}}))
    assert eval_main(["--claims", "--claims-file", str(path), "--gate", "--thresholds", str(bounds)]) == 0
    out = capsys.readouterr().out
    assert "| test | 2 | 1 | 100.0% | 1 | 100.0% |" in out
    bounds.write_text(json.dumps({"min": {"splits.dev.supported_accepted": 1.0}}))
    assert eval_main(["--claims", "--claims-file", str(path), "--gate", "--thresholds", str(bounds)]) == 1
    assert "not measured" in capsys.readouterr().err


def test_rag_eval_claims_with_a_missing_file_is_a_clear_error(tmp_path, capsys):
    assert eval_main(["--claims", "--claims-file", str(tmp_path / "nope.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err


# -- hard negatives ------------------------------------------------------------


def test_negatives_change_exactly_what_they_say():
    ev = "The council will not vote on the budget until May 14, Mayor Celia Abernathy said."
    base = claim("Abernathy said the council will not vote on the budget until May 14.", ev,
                 speaker="Celia Abernathy")
    assert C.wrong_number(base)["sentence"] == "Abernathy said the council will not vote on the budget until May 15."
    assert C.wrong_date(base)["sentence"] == "Abernathy said the council will not vote on the budget until June 14."
    assert C.flipped_negation(base)["sentence"] == "Abernathy said the council will vote on the budget until May 14."
    swapped = C.swapped_speaker(base, ["Celia Abernathy", "Hollis Greer"])
    assert swapped["sentence"] == "Greer said the council will not vote on the budget until May 14."
    assert all(not n["supported"] for n in (swapped, C.wrong_number(base)))


def test_no_negative_when_the_change_would_still_be_in_the_evidence():
    ev = "Sales rose 4 percent in March and 5 percent in April."
    base = claim("Sales rose 4 percent in March.", ev)
    assert C.wrong_number(base)["sentence"] == "Sales rose 6 percent in March."
    assert C.swapped_speaker(base, ["Hollis Greer"]) is None  # no speaker to swap


def test_other_document_negative_cites_another_source():
    a = claim("Greer said the city needs 247 drivers.", "We need 247 drivers, Greer said.", speaker="Hollis Greer",
              source="a.txt", cid="a")
    b = claim("Shipping insurers raised premiums for the drivers of trucks.",
              "Insurers raised premiums for truck drivers and ships.", source="b.txt", cid="b")
    made = C.other_document(a, [a, b])
    assert made["evidence"][0]["source"] == "b.txt" and made["supported"] is False
