"""Who said what: Assistant.speakers(), `rag speakers`, and the role rules on documents they were not written for."""

from __future__ import annotations

import json

import pytest

from pdfmaker import COUNCIL_PAGES, make_pdf
from rag.cli import _format_speaker
from rag.errors import IngestError
from rag.speakers import organisations, stated_roles

# Our own short text, in the shape of a wire report, for the role rules.
FERRY = (
    "Ferry services to the outer islands will resume on Monday, said Petra Lindqvist, operations "
    "director of the Skerry Ferry Company. \"The new hull passed every test,\" Lindqvist said. "
    "Our harbour pilot, Colm Brady, disagreed. Brady, who chairs the Pilots' Guild of Skerry, "
    "said the channel was still too shallow at low tide. Petra Lindqvist, was not available later."
)


def test_roles_come_from_apposition_at_any_mention():
    assert stated_roles(FERRY, "Petra Lindqvist") == ["operations director of the Skerry Ferry Company"]
    # The surname alone opening a sentence gives a role too ("Brady, who chairs …,")…
    assert stated_roles(FERRY, "Colm Brady") == ["harbour pilot", "who chairs the Pilots' Guild of Skerry"]
    # …unless someone else with that surname has been introduced by then.
    two = "Our pilot, Colm Brady, spoke first. His sister Aine Brady runs the cafe. Brady, a diver, disagreed."
    assert stated_roles(two, "Colm Brady", others=["Colm Brady", "Aine Brady"]) == ["pilot"]
    # A name after a preposition is described by nothing, and a clause is not a role.
    assert stated_roles("For Ann Lee, the question is not whether but where.", "Ann Lee") == []
    assert organisations(["operations director of the Skerry Ferry Company"]) == ["Skerry Ferry Company"]
    assert organisations(["who chairs the Pilots' Guild of Skerry"]) == ["Pilots' Guild of Skerry"]
    assert organisations(["a director of risk at the London-based company Control Risks"]) == ["Control Risks"]
    assert organisations(["the U.S. ambassador to Russia", "Kremlin spokesman"]) == []


@pytest.fixture
def council(tmp_path, make_assistant):
    pdf = tmp_path / "hearing.pdf"
    pdf.write_bytes(make_pdf(COUNCIL_PAGES))
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\n" + FERRY + "\n", encoding="utf-8")
    return make_assistant(paths=[pdf, notes])


def test_speakers_with_roles_and_statements_in_document_order(council):
    speakers = council.speakers()
    by_name = {s.name: s for s in speakers}
    assert {"Edith Varga", "Tomas Reyl", "Ines Marchetti", "Petra Lindqvist"} <= set(by_name)
    reyl = by_name["Tomas Reyl"]
    assert reyl.kind == "person" and reyl.roles == ("Finance chair", "a former bank auditor")
    assert [s.page for s in reyl.statements] == [2, 2, 2]
    assert [s.quoted for s in reyl.statements] == [False, True, False]
    assert "18,000 euros" in reyl.statements[-1].text
    assert by_name["Ines Marchetti"].roles == ("Councillor",)
    assert by_name["Ines Marchetti"].statements[0].page == 3
    lindqvist = by_name["Petra Lindqvist"]
    assert lindqvist.organisations == ("Skerry Ferry Company",)
    assert all(s.page is None for s in lindqvist.statements)  # Markdown has no pages
    for speaker in speakers:
        starts = [(s.source, s.start) for s in speaker.statements]
        assert starts == sorted(starts)
        for s in speaker.statements:
            assert council.index.text_of(s.source)[s.start:s.end] == s.text
    # every attributed sentence is in exactly one statement of its speaker
    attributed = [p for p in council.index.passages if p.speaker]
    for p in attributed:
        owner = by_name[p.speaker]
        assert sum(s.source == p.source and s.start <= p.start and p.end <= s.end for s in owner.statements) == 1


def test_filter_by_document_and_unknown_document(council):
    only = council.speakers("hearing.pdf")
    assert {s.name for s in only} == {"Edith Varga", "Tomas Reyl", "Ines Marchetti"}
    assert all(st.source.endswith("hearing.pdf") for s in only for st in s.statements)
    with pytest.raises(IngestError, match=r"minutes\.pdf: is not an indexed document\. Name one of: .*hearing\.pdf"):
        council.speakers("minutes.pdf")


def test_json_and_text_forms(council):
    reyl = next(s for s in council.speakers() if s.name == "Tomas Reyl")
    data = json.loads(json.dumps(reyl.to_json()))
    assert data["name"] == "Tomas Reyl" and data["sources"] == [reyl.statements[0].source]
    assert data["statements"][1]["quoted"] is True and data["statements"][1]["page"] == 2
    text = _format_speaker(reyl)
    assert text.startswith("Tomas Reyl — Finance chair; a former bank auditor")
    assert "p. 2 (quote)" in text and "p. 2 (reported)" in text


@pytest.mark.slow
def test_rag_speakers_cli(tmp_path):
    from test_cli import run

    pdf = tmp_path / "hearing.pdf"
    pdf.write_bytes(make_pdf(COUNCIL_PAGES))
    env = {"RAG_INDEX__DATA_DIR": str(tmp_path / "data")}
    result = run("speakers", "--json", "--doc", "hearing.pdf", "--docs", str(pdf), "--backend", "none", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["name"] for s in data] == ["Edith Varga", "Tomas Reyl", "Ines Marchetti"]
    text = run("speakers", "--docs", str(pdf), "--backend", "none", env=env)
    assert text.returncode == 0 and "3 speakers, " in text.stdout and "Ines Marchetti — Councillor" in text.stdout
    bad = run("speakers", "--doc", "nope.pdf", "--docs", str(pdf), "--backend", "none", env=env)
    assert bad.returncode == 2 and bad.stderr.startswith("error: nope.pdf: is not an indexed document")
