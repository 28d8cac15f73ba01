"""Parsing keeps exact spans whatever the input; structure is found in news articles."""

from hypothesis import given, strategies as st

from fuzzdocs import document, fuzz_settings
from rag.attribute import attribute
from rag.ingest import html_to_text
from rag.parse import looks_like_heading, parse_document
from rag.types import Document


def _doc(text: str, source="t.txt") -> Document:
    return Document(source, text, "x", "md" if source.endswith(".md") else "txt")


def _assert_exact(doc, passages):
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        assert p.text == p.text.strip() and p.text


_alphabet = st.sampled_from(list("abc XYZ.,!?\"'\n\r\t-é漢字😀Ωж") + ["\r\n", "\n\n", ". ", '." ', "U.S. "])


@fuzz_settings(300)
@given(st.lists(_alphabet, max_size=200).map("".join))
def test_every_passage_is_an_exact_span_of_the_raw_text(text):
    doc = _doc(text)
    _assert_exact(doc, parse_document(doc))


@fuzz_settings(100)
@given(st.lists(st.sampled_from(["Peace talks resume.", "He said \"yes.\" Then left.", "Short Title",
                                 "A long sentence about the treaty, which is new, and the talks.", "# Heading"]),
                max_size=12),
       st.sampled_from(["\n", "\r\n", "\n\n", "\r\n\r\n"]))
def test_spans_hold_for_crlf_and_blank_line_documents(lines, eol):
    for source in ("t.txt", "t.md"):
        doc = _doc(eol.join(lines) + eol, source)
        passages = parse_document(doc)
        _assert_exact(doc, passages)
        assert not any("\r" in p.text or p.text.startswith("#") for p in passages)


@fuzz_settings(60)
@given(document())
def test_generated_documents_parse_and_attribute_within_their_text(generated):
    """Whole generated documents (quotes of every kind, open or nested, RTL and
    zero-width characters, mixed line ends, tables, HTML): exact spans, and
    every speaker and role is words of the document. ``tests/test_fuzz.py``
    runs the same documents through the whole pipeline, fewer of them."""
    raw = generated.data.decode("utf-8-sig")
    fmt = generated.name.rsplit(".", 1)[1]
    text = html_to_text(raw) if fmt == "html" else raw
    doc = Document(generated.name, text, "x", fmt)
    passages = parse_document(doc)
    _assert_exact(doc, passages)
    result = attribute(passages, text)
    _assert_exact(doc, result.passages)
    flat = " ".join(text.split()).lower()
    for p in result.passages:
        assert p.speaker is None or " ".join(p.speaker.split()).lower() in flat, p.speaker
    for name, roles in result.people.items():
        assert all(" ".join(w.split()).lower() in flat for w in [name, *roles]), (name, roles)


def test_article_structure(article_text):
    passages = parse_document(_doc(article_text))
    kinds = [p.kind for p in passages]
    assert kinds[:2] == ["dateline", "byline"]
    headings = [p.text for p in passages if p.kind == "heading"]
    assert "New START, Old START" in headings and "Reset Vs. Overload" in headings
    suslov = next(p for p in passages if "arms control as it exists today" in p.text)
    assert suslov.section == "New START, Old START" and suslov.paragraph > 0
    # Punkt splits '"…Ukraine?" he said.' in two; parsing joins it back.
    assert any(p.text.endswith('on Ukraine?" he said.') for p in passages)


def test_markdown_headings_and_long_sentences_are_split():
    text = "# Report\n\nFirst para. " + "word, " * 200 + "end.\n\n## Next Part\n\nLast one."
    doc = _doc(text, "r.md")
    passages = parse_document(doc, max_passage_chars=200)
    _assert_exact(doc, passages)
    assert [p.text for p in passages if p.kind == "heading"] == ["Report", "Next Part"]
    assert max(len(p.text) for p in passages) <= 200
    assert passages[-1].section == "Next Part"


def test_heading_rule():
    assert looks_like_heading("Cloud Of Suspicion")
    assert looks_like_heading("'Propaganda Victory'")
    assert not looks_like_heading("He said it was over.")
    assert not looks_like_heading("But Kremlin spokesman Dmitry Peskov was asked specifically about the calls on April 11")


def test_boilerplate_lines():
    from rag.parse import is_boilerplate

    for line in ("\u00a9 2025 Quay Media. All rights reserved.", "About us | Privacy | Contact",
                 "The Harbour Post is published by Quay Media, Gravel Bay."):
        assert is_boilerplate(line), line
    for line in ("| North | 12.5 | 14.0 |", "The report was published by the trust in May.",
                 "Fares rise from 4 euros to 4.50 euros.", "Routes 4 | 9"):
        assert not is_boilerplate(line), line


MINUTES = """# Harbour Board: Minutes of 4 May 2025

**Date:** Sunday 4 May 2025

**Place:** Pier Hall

## Present

- Ada Lorn, Board Chair
- Nils Brack, Treasurer
- Reza Moradi, Trustee

**Apologies:** Trustee Elin Sørby.

## 1. Fees

The Treasurer said mooring fees would rise by 4 percent.
"""


def test_list_items_and_fields_are_not_headings():
    doc = Document("m.md", MINUTES, "x", "md")
    by_text = {p.text: p for p in parse_document(doc)}
    assert by_text["**Date:** Sunday 4 May 2025"].kind == "field"
    assert by_text["**Place:** Pier Hall"].kind == "field"
    # A list item is a paragraph of content, and never the section of what follows.
    ada, nils = by_text["- Ada Lorn, Board Chair"], by_text["- Nils Brack, Treasurer"]
    assert ada.kind == nils.kind == "sentence" and ada.paragraph != nils.paragraph
    assert ada.section == nils.section == "Present"
    # A field with a full stop is a statement of the text.
    assert by_text["**Apologies:** Trustee Elin Sørby."].kind == "sentence"
    assert by_text["The Treasurer said mooring fees would rise by 4 percent."].section == "1. Fees"
    # A transcript turn is not a field; emphasis does not hide a full stop.
    assert not looks_like_heading("- Ada Lorn, Board Chair")
    assert not looks_like_heading("*Minutes recorded by Tove Brant, Board Secretary.*")
    turns = Document("t.txt", "OKORO: Welcome, Piet.\n\nVANDERMEER: Thank you.\n", "x", "txt")
    assert all(p.kind == "sentence" for p in parse_document(turns))


def test_a_numbered_list_mark_is_no_sentence_and_a_closing_star_stays_with_its_line():
    text = ("## Recommendations\n\n1. Raise the wage to $22.50 an hour. It costs $3.8 million.\n"
            "2. Cut split shifts by half.\n\n*Minutes recorded by Tove Brant, Board Secretary.*\n")
    doc = Document("r.md", text, "x", "md")
    sentences = [p for p in parse_document(doc) if p.kind == "sentence"]
    _assert_exact(doc, sentences)
    assert [p.text for p in sentences] == [
        "Raise the wage to $22.50 an hour.", "It costs $3.8 million.", "Cut split shifts by half.",
        "*Minutes recorded by Tove Brant, Board Secretary.*",
    ]
    # The item's sentences are one paragraph, the next item another.
    assert [p.paragraph for p in sentences][:3] == [1, 1, 2]


def test_an_attendance_list_gives_roles_and_a_role_names_its_holder():
    doc = Document("m.md", MINUTES, "x", "md")
    attribution = attribute(parse_document(doc), MINUTES)
    assert attribution.people["Nils Brack"] == ["Treasurer"]
    # The list makes "Trustee" a role, so "Trustee Elin Sørby" is Elin Sørby.
    assert "Elin Sørby" in attribution.people and "Trustee Elin Sørby" not in attribution.people
    said = next(p for p in attribution.passages if p.text.startswith("The Treasurer said"))
    assert said.speaker == "Nils Brack"
