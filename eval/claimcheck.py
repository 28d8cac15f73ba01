"""The answer verifier measured as a classifier, on labelled claims.

A claim is one answer sentence, the evidence it cites, and a label: does the
evidence support the sentence (``supported``), and why. The labelled claims
live in ``eval/claims/{dev,test}.jsonl`` (format and provenance:
``eval/claims/README.md``); dev is what the verifier may be calibrated on,
test is held out, as for the QA files.

Usage::

    rag eval --claims [--claims-split dev|test|all] [--gate]
    python -m eval.claimcheck harvest --split dev --out FILE [model options]

``rag eval --claims`` runs ``rag.verify.supports`` (the check every generated
sentence must pass before a user sees it) on every claim and reports, per
split, the share of unsupported claims rejected and of supported claims
accepted, with a breakdown by the claim's origin (a real model draft, or a
hard negative of a named kind) and every misjudged claim.

``harvest`` asks the QA questions with a real model and writes one unlabelled
row per cited sentence of each draft (``Answer.draft``: what the model wrote
before verification), for a person to label.

What it does not do: label claims (a person does), or change the verifier.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Optional, Sequence

from eval.jsonl import DataFileError, read_jsonl
from rag import Evidence, RagError, Settings, add_settings_options  # the public API (docs/API_CONTRACT.md)
from rag.verify import supports

ROOT = Path(__file__).resolve().parent.parent
CLAIMS_DIR = ROOT / "eval" / "claims"
SPLITS = ("dev", "test")
REQUIRED = ("id", "sentence", "evidence", "supported", "why", "origin")
# The gate's floors (measured, minus a claim's worth) live beside the claims;
# the targets are what the verifier should reach (issue 11).
THRESHOLDS = CLAIMS_DIR / "thresholds.json"
TARGETS = {"unsupported_rejected": 0.98, "supported_accepted": 0.85}


class ClaimsError(DataFileError):
    """A claims file whose rows lack what a claim needs (message names the file, line and fix)."""


def claim_files(split: str = "all") -> list[Path]:
    splits = SPLITS if split == "all" else (split,)
    return [CLAIMS_DIR / f"{s}.jsonl" for s in splits]


def load_claims(paths: Iterable[Path]) -> list[dict]:
    """Every claim of ``paths``, each with ``split`` set to its file's stem.

    A missing file or a line that is not JSON raises ``DataFileError``
    (``eval.jsonl``); a row without the required keys, ``ClaimsError``."""
    rows = []
    for path in paths:
        path = Path(path)
        for n, row in read_jsonl(path, "claims file"):
            missing = [k for k in REQUIRED if k not in row]
            if missing or not isinstance(row.get("supported"), bool) or not row.get("evidence"):
                raise ClaimsError(f"{path}:{n} needs {', '.join(REQUIRED)} with a true/false 'supported' and "
                                  f"at least one evidence item (missing: {', '.join(missing) or 'a valid value'})")
            row["split"] = path.stem
            rows.append(row)
    return rows


def evidence_of(claim: dict) -> list[Evidence]:
    return [Evidence(source=e.get("source", ""), start=e.get("start", 0), end=e.get("end", 0), text=e["text"],
                     section=None, paragraph=0, speaker=e.get("speaker"), score=0.0)
            for e in claim["evidence"]]


def judge(claims: Sequence[dict], settings: Optional[Settings] = None) -> list[dict]:
    """Each claim with ``accepted``: what the verifier decided."""
    check = (settings or Settings()).verify
    return [{**c, "accepted": supports(c["sentence"], evidence_of(c), check, c.get("referent"))} for c in claims]


def kind_of(claim: dict) -> str:
    """"draft" for a model's sentence, "written" for one a person wrote, else the hard-negative kind."""
    origin = claim["origin"]
    return "draft" if origin.startswith("draft:") else origin


def _rates(rows: Sequence[dict]) -> dict:
    pos = [r for r in rows if r["supported"]]
    neg = [r for r in rows if not r["supported"]]
    return {
        "claims": len(rows),
        "supported": len(pos),
        "unsupported": len(neg),
        "supported_accepted": sum(r["accepted"] for r in pos) / len(pos) if pos else None,
        "unsupported_rejected": sum(not r["accepted"] for r in neg) / len(neg) if neg else None,
    }


def claim_metrics(judged: Sequence[dict]) -> dict:
    by_split: dict[str, list[dict]] = defaultdict(list)
    for r in judged:
        by_split[r["split"]].append(r)
    out = {"all": _rates(judged), "splits": {s: _rates(rs) for s, rs in sorted(by_split.items())}, "kinds": {}}
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in judged:
        by_kind[kind_of(r)].append(r)
    out["kinds"] = {k: _rates(rs) for k, rs in sorted(by_kind.items())}
    return out


def _pct(x: Optional[float]) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def report(metrics: dict, judged: Sequence[dict], show_errors: bool = True) -> str:
    lines = ["| split | claims | supported | accepted of supported | unsupported | rejected of unsupported |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, m in list(metrics["splits"].items()) + [("all", metrics["all"])]:
        lines.append(f"| {name} | {m['claims']} | {m['supported']} | {_pct(m['supported_accepted'])} | "
                     f"{m['unsupported']} | {_pct(m['unsupported_rejected'])} |")
    lines.append("targets (held-out test claims): " + ", ".join(f"{k.replace('_', ' ')} >= {_pct(v)}"
                                                          for k, v in TARGETS.items()))
    lines += ["", "| origin | claims | accepted of supported | rejected of unsupported |", "| --- | ---: | ---: | ---: |"]
    for name, m in metrics["kinds"].items():
        lines.append(f"| {name} | {m['claims']} | {_pct(m['supported_accepted'])} | {_pct(m['unsupported_rejected'])} |")
    if show_errors:
        wrong = [r for r in judged if r["accepted"] != r["supported"]]
        if wrong:
            lines += ["", f"Misjudged ({len(wrong)}):"]
            for r in wrong:
                verdict = "accepted an unsupported claim" if r["accepted"] else "rejected a supported claim"
                lines.append(f"  [{r['split']}] {r['id']}: {verdict}: {r['sentence']!r} ({r['why']})")
    return "\n".join(lines)


def check_gate(metrics: dict, path: Path = THRESHOLDS) -> list[str]:
    """Failure messages for the metrics outside ``path``'s bounds (names like
    ``splits.test.unsupported_rejected``); [] when all pass."""
    from eval.runner import check_thresholds, load_thresholds

    return check_thresholds(metrics, load_thresholds(path))


# ---------------------------------------------------------------------------
# harvesting drafts to label
# ---------------------------------------------------------------------------


def harvest_rows(answers: Iterable[tuple[dict, object]], origin: str) -> list[dict]:
    """One unlabelled claim per cited sentence of each answer's draft."""
    from rag.answer import claims_of  # the same claim split the verifier sees
    from rag.verify import content_stems

    rows = []
    for qa, answer in answers:
        draft = getattr(answer, "draft", None)
        if draft is None:
            continue
        for n, (sentence, cited) in enumerate(claims_of(draft.text, len(draft.shown)), 1):
            if not cited:
                # A small model often cites nothing; the verifier then tries
                # each item shown. The pair to judge is the sentence and the
                # item that shares most of its words.
                stems = content_stems(sentence)
                cited = [1 + max(range(len(draft.shown)),
                                 key=lambda i: len(stems & content_stems(draft.shown[i].text)))]
            rows.append({
                "id": f"{origin.split(':', 1)[-1]}/{qa.get('qa_file', '')}/{qa['id']}/{n}",
                "question": qa["question"],
                "sentence": sentence,
                "referent": draft.referent,
                "evidence": [{"source": e.source, "start": e.start, "end": e.end, "speaker": e.speaker,
                              "text": " ".join(e.text.split())}
                             for e in (draft.shown[i - 1] for i in cited)],
                "supported": None,
                "why": "",
                "origin": origin,
            })
    return rows


def harvest(args) -> int:
    """Ask the questions of ``args.split`` and write the claims of every draft,
    one answer at a time (a stopped run keeps what it has)."""
    from eval.runner import default_qa_files, load_qa
    from rag import Assistant

    settings = Settings.from_args(args)
    assistant = Assistant(settings=settings)
    model = settings.llm.model if settings.llm.model != "local" else "smollm2"
    qa_rows = load_qa(default_qa_files(args.split))[::args.every]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    raw_path = args.out.with_suffix(".drafts.jsonl")  # the drafts themselves, to split again without asking again
    claims = answers = 0
    with args.out.open("w", encoding="utf-8") as out, raw_path.open("w", encoding="utf-8") as raw:
        for i, qa in enumerate(qa_rows, 1):
            print(f"\r{i}/{len(qa_rows)}", end="", file=sys.stderr, flush=True)
            if qa.get("follow_up_of"):
                continue  # a follow-up needs its chain; the claim would be read without its context
            try:
                answer = assistant.ask(qa["question"])
            except RagError as exc:
                print(f"\n{qa['id']}: {exc}", file=sys.stderr)
                continue
            answers += 1
            rows = harvest_rows([(qa, answer)], f"draft:{model}")
            claims += len(rows)
            out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            out.flush()
            if answer.draft is not None:
                raw.write(json.dumps({
                    "qa_file": qa.get("qa_file"), "id": qa["id"], "question": qa["question"], "mode": answer.mode,
                    "draft": answer.draft.text, "referent": answer.draft.referent,
                    "shown": [{"source": e.source, "start": e.start, "end": e.end, "speaker": e.speaker,
                               "text": e.text} for e in answer.draft.shown]}, ensure_ascii=False) + "\n")
                raw.flush()
    print(f"\n{claims} unlabelled claims from {answers} answers -> {args.out}", file=sys.stderr)
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    """``rag eval --claims``: 0 ok, 1 gate failed, 2 bad input."""
    p = argparse.ArgumentParser(prog="rag eval --claims", description="Measure the answer verifier on labelled claims.")
    p.add_argument("--claims", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--claims-split", "--split", choices=["dev", "test", "all"], default="all",
                   help="which claims: dev (calibrated on), test (held out) or all (default)")
    p.add_argument("--claims-file", metavar="FILE", type=Path, nargs="+", help="claims .jsonl file(s) instead")
    p.add_argument("--gate", action="store_true", help="exit 1 when a figure misses its bound in --thresholds")
    p.add_argument("--thresholds", metavar="FILE", type=Path, default=THRESHOLDS,
                   help="bounds for --gate (default: eval/claims/thresholds.json)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--quiet", action="store_true", help="do not list the misjudged claims")
    args = p.parse_args(argv)
    try:
        judged = judge(load_claims(args.claims_file or claim_files(args.claims_split)))
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    metrics = claim_metrics(judged)
    print(json.dumps(metrics, indent=2) if args.json else report(metrics, judged, not args.quiet))
    if args.gate:
        failures = check_gate(metrics, args.thresholds)
        for msg in failures:
            print(f"claims gate FAILED: {msg}", file=sys.stderr)
        return 1 if failures else 0
    return 0


# ---------------------------------------------------------------------------
# hard negatives made from supported claims
# ---------------------------------------------------------------------------

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_AUX = re.compile(r"\b(is|are|was|were|will|would|can|could|should|has|have|had|must|may)\b(?! not\b)")
_NEGATED = re.compile(r"\b(is|are|was|were|will|would|can|could|should|has|have|had|must|may|does|do|did) not\b|"
                      r"\b(is|are|was|were|does|do|did|has|have|had|could|would|should)n't\b")
_NUM = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")


def _blob(claim: dict) -> str:
    return " ".join(e["text"] for e in claim["evidence"]).lower()


def _negative(base: dict, kind: str, sentence: str, why: str, evidence=None) -> dict:
    return {"id": f"{base['id']}~{kind}", "question": base.get("question", ""), "sentence": sentence,
            "referent": base.get("referent"), "evidence": evidence or base["evidence"], "supported": False,
            "why": why, "origin": kind}


def swapped_speaker(claim: dict, speakers: Sequence[str]) -> Optional[dict]:
    """The claim with its speaker's name replaced by another person's."""
    from rag.verify import attributed_to, same_person

    who = attributed_to(claim["sentence"])
    cited = [e.get("speaker") for e in claim["evidence"] if e.get("speaker")]
    if not who or not who[0] or not cited or not any(same_person(who[0], s) for s in cited):
        return None
    blob = _blob(claim)
    others = [s for s in speakers if not any(same_person(s, c) or same_person(c, s) for c in cited)
              and s.split()[-1].lower() not in blob]
    if not others:
        return None
    other = others[sum(map(ord, claim["id"])) % len(others)]
    written = who[0]
    replacement = other if len(written.split()) > 1 else other.split()[-1]
    return _negative(claim, "swapped-speaker", claim["sentence"].replace(written, replacement, 1),
                     f"the cited words are {cited[0]}'s, not {other}'s")


def wrong_number(claim: dict) -> Optional[dict]:
    m = _NUM.search(claim["sentence"])
    if not m:
        return None
    blob = _blob(claim)
    digits = m.group().replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        return None
    for delta in (1, 2, 3, 7):
        new = value + delta if not (1900 <= value <= 2100) else value - delta
        text = f"{new:,.{len(digits.split('.')[1]) if '.' in digits else 0}f}"
        if "," not in m.group():
            text = text.replace(",", "")
        if text not in blob:
            return _negative(claim, "wrong-number", claim["sentence"][:m.start()] + text + claim["sentence"][m.end():],
                             f"the evidence says {m.group()}, not {text}")
    return None


def wrong_date(claim: dict) -> Optional[dict]:
    blob = _blob(claim)
    for i, month in enumerate(_MONTHS):
        if re.search(rf"\b{month}\b", claim["sentence"]):
            for step in (1, 2, 5):
                other = _MONTHS[(i + step) % 12]
                if other.lower() not in blob:
                    return _negative(claim, "wrong-date", re.sub(rf"\b{month}\b", other, claim["sentence"], count=1),
                                     f"the evidence says {month}, not {other}")
    return None


def flipped_negation(claim: dict) -> Optional[dict]:
    sentence = claim["sentence"]
    m = _NEGATED.search(sentence)
    if m:
        aux = m.group(1) or m.group(2)
        flipped = sentence[:m.start()] + (aux if aux not in ("does", "do", "did") else {"does": "does", "do": "do",
                                                                                         "did": "did"}[aux]) \
            + sentence[m.end():]
        return _negative(claim, "flipped-negation", flipped, "the evidence says the opposite: the negation was removed")
    m = _AUX.search(sentence)
    if m and not re.search(r"\b(not|never|no)\b", sentence):
        return _negative(claim, "flipped-negation", sentence[:m.end()] + " not" + sentence[m.end():],
                         "the evidence does not negate this; a 'not' was inserted")
    return None


def invented_detail(claim: dict, donors: Sequence[dict]) -> Optional[dict]:
    """The claim with a clause from another document's claim joined on."""
    from rag.verify import content_stems

    blob_stems = content_stems(_blob(claim))
    source = claim["evidence"][0].get("source")
    for donor in sorted(donors, key=lambda d: (sum(map(ord, d["id"] + claim["id"])) % 97, d["id"])):
        if donor["evidence"][0].get("source") == source:
            continue
        clause = re.split(r",? (?:that|said|says) ", donor["sentence"].rstrip(". "), maxsplit=1)[-1]
        new = content_stems(clause) - blob_stems
        if len(new) >= 3 and len(clause.split()) <= 18:
            clause = clause[0].lower() + clause[1:]
            return _negative(claim, "invented-detail", claim["sentence"].rstrip(". ") + ", and that " + clause + ".",
                             f"nothing in the evidence says that {clause}")
    return None


def other_document(claim: dict, pool: Sequence[dict]) -> Optional[dict]:
    """The claim citing the closest-worded evidence from another document."""
    from rag.verify import content_stems

    stems = content_stems(claim["sentence"])
    sources = {e.get("source") for e in claim["evidence"]}
    best, best_overlap = None, 0
    for other in pool:
        for e in other["evidence"]:
            if e.get("source") in sources:
                continue
            overlap = len(stems & content_stems(e["text"]))
            if overlap > best_overlap:
                best, best_overlap = e, overlap
    if best is None:
        return None
    return _negative(claim, "other-document", claim["sentence"], f"the claim is about {sorted(sources)[0]}; the "
                     f"cited passage is from {best.get('source')} and does not say it", [best])


def make_negatives(supported: Sequence[dict]) -> list[dict]:
    """Every hard negative the supported claims give, one of each kind per claim at most."""
    speakers = sorted({e["speaker"] for c in supported for e in c["evidence"] if e.get("speaker")})
    out = []
    for claim in supported:
        for made in (swapped_speaker(claim, speakers), wrong_number(claim), wrong_date(claim),
                     flipped_negation(claim), invented_detail(claim, supported), other_document(claim, supported)):
            if made is not None:
                out.append(made)
    return out


def _negatives_main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.claimcheck negatives",
                                description="Write hard negatives made from the supported claims of FILE.")
    p.add_argument("file", type=Path)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    rows = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]
    made = make_negatives([r for r in rows if r.get("supported") is True and r["origin"].startswith(("draft:", "written"))])
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in made), encoding="utf-8")
    print(f"{len(made)} hard negatives -> {args.out}: {dict(Counter(r['origin'] for r in made))}")
    return 0


def _harvest_main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.claimcheck harvest")
    p.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--every", type=int, default=1, metavar="K", help="only every K-th question (a larger model is slow)")
    add_settings_options(p)
    return harvest(p.parse_args(argv))


if __name__ == "__main__":
    if sys.argv[1:2] == ["harvest"]:
        sys.exit(_harvest_main(sys.argv[2:]))
    if sys.argv[1:2] == ["negatives"]:
        sys.exit(_negatives_main(sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
