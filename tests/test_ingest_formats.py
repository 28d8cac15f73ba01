"""PDF and Word files: text with paragraphs and headings, pages kept, bad files refused with the fix.

Every PDF here is written by tests/pdfmaker.py (or pypdf, for encryption) and
every .docx by python-docx: no binary fixtures.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from pdfmaker import COUNCIL_PAGES, encrypt, make_pdf
from rag.errors import IngestError
from rag.ingest import docx_to_text, load_documents, pdf_to_text, read_document
from rag.parse import parse_document


def council_pdf(tmp_path, name="council.pdf"):
    path = tmp_path / name
    path.write_bytes(make_pdf(COUNCIL_PAGES))
    return path


def test_pdf_paragraphs_headings_and_pages(tmp_path):
    doc = read_document(council_pdf(tmp_path))
    assert doc.format == "pdf" and len(doc.pages) == 3 and doc.pages[0] == 0
    # wrapped lines are joined into one paragraph; larger type becomes a heading
    assert "# The Library Question\n\nFinance chair Tomas Reyl, a former bank auditor, argued" in doc.text
    assert "Harbour master Edith Varga opened" in doc.text  # joined across the line break
    passages = parse_document(doc)
    headings = [p.text for p in passages if p.kind == "heading"]
    assert headings == ["Riverside Council Budget Hearing", "The Library Question", "The Vote"]
    for p in passages:
        assert doc.text[p.start:p.end] == p.text
    fund = next(p for p in passages if "18,000 euros" in p.text)
    assert doc.page_at(fund.start) == 2 and fund.section == "The Library Question"
    vote = next(p for p in passages if "seven votes" in p.text)
    assert doc.page_at(vote.start) == 3
    assert doc.page_at(0) == 1


def test_non_paged_formats_have_no_page(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("# T\n\nHello.")
    doc = read_document(path)
    assert doc.pages == () and doc.page_at(3) is None


@pytest.mark.parametrize(
    "make, problem, fix",
    [
        (lambda: encrypt(make_pdf(COUNCIL_PAGES)), "is encrypted (password-protected)", "qpdf"),
        (lambda: make_pdf([[], []], image_only=True), "has no text layer (2 page(s)", "ocrmypdf"),
        (lambda: make_pdf(COUNCIL_PAGES)[:400], "is a damaged PDF", "re-export"),
        (lambda: b"PK\x03\x04 a zip, not a pdf", "is not a PDF", "extension"),
    ],
    ids=["encrypted", "scan", "truncated", "not-a-pdf"],
)
def test_bad_pdfs_name_the_problem_and_the_fix_and_lose_nothing_else(tmp_path, make, problem, fix):
    council_pdf(tmp_path, "good.pdf")
    (tmp_path / "notes.txt").write_text("Plain notes about the hearing.", encoding="utf-8")
    (tmp_path / "bad.pdf").write_bytes(make())
    result = load_documents([tmp_path])
    assert sorted(d.source.rsplit("/", 1)[-1] for d in result.documents) == ["good.pdf", "notes.txt"]
    (warning,) = result.warnings
    assert warning.startswith(str(tmp_path / "bad.pdf").lstrip("/")) or "bad.pdf" in warning
    assert problem in warning and fix in warning
    with pytest.raises(IngestError) as info:
        read_document(tmp_path / "bad.pdf")
    assert "\n" not in str(info.value)  # one line


def test_a_pdf_with_an_empty_user_password_opens(tmp_path):
    pdf = encrypt(make_pdf(COUNCIL_PAGES), password="")
    text, pages = pdf_to_text(pdf)
    assert "18,000 euros" in text and len(pages) == 3


# Words that survive a trip through a PDF's Helvetica unchanged.
_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=9)


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_word, min_size=1, max_size=40), min_size=1, max_size=5))
def test_every_word_maps_to_the_page_it_was_printed_on(pages):
    pdf = make_pdf([[("p", " ".join(words) + ".")] for words in pages], width=40)
    text, starts = pdf_to_text(pdf)
    assert len(starts) == len(pages)
    ends = list(starts[1:]) + [len(text)]
    for number, (words, a, b) in enumerate(zip(pages, starts, ends), 1):
        assert text[a:b].strip() == " ".join(words) + "."
        from rag.types import Document

        doc = Document("x.pdf", text, "0", "pdf", starts)
        assert doc.page_at(a) == number and doc.page_at(max(a, b - 1)) == number


# --------------------------------------------------------------------------- Word


def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Riverside Council Budget Hearing", level=0)
    document.add_paragraph("The council met on Tuesday to debate the budget for the coming year.")
    document.add_heading("The Library Question", level=1)
    document.add_paragraph(
        'Finance chair Tomas Reyl argued that the roof should come first. "The roof leaks every time it rains," Reyl said.')
    document.add_paragraph("")
    document.add_heading("Costs", level=2)
    document.add_paragraph("The library fund held 18,000 euros.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_and_headings(tmp_path):
    path = tmp_path / "hearing.docx"
    path.write_bytes(_docx_bytes())
    doc = read_document(path)
    assert doc.format == "docx" and doc.pages == ()
    assert doc.text.startswith("# Riverside Council Budget Hearing\n\nThe council met on Tuesday")
    assert "\n# The Library Question\n\nFinance chair" in doc.text and "\n## Costs\n\nThe library fund" in doc.text
    passages = parse_document(doc)
    fund = next(p for p in passages if "18,000" in p.text)
    assert fund.section == "Costs" and doc.text[fund.start:fund.end] == fund.text
    roof = next(p for p in passages if "leaks" in p.text)
    assert roof.section == "The Library Question"


@pytest.mark.parametrize(
    "data, problem",
    [(b"PK\x03\x04 broken zip", "is a damaged Word file"),
     (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old binary Word (.doc)")],
)
def test_bad_docx_is_refused_with_the_fix(tmp_path, data, problem):
    (tmp_path / "good.docx").write_bytes(_docx_bytes())
    (tmp_path / "bad.docx").write_bytes(data)
    result = load_documents([tmp_path])
    assert [d.source.rsplit("/", 1)[-1] for d in result.documents] == ["good.docx"]
    assert problem in result.warnings[0] and "bad.docx" in result.warnings[0]
    with pytest.raises(IngestError, match="Word or LibreOffice"):
        docx_to_text(data)


# --------------------------------------------------------------------------- citations carry the page


def test_answer_about_page_two_cites_page_two(tmp_path, make_assistant):
    pdf = council_pdf(tmp_path)
    assistant = make_assistant(paths=[pdf])
    answer = assistant.ask("How much money did the library fund hold?")
    assert answer.citations, answer
    fund = next(c for c in answer.citations if "18,000 euros" in c.quote)
    assert fund.page == 2
    text = assistant.index.text_of(fund.source)
    assert text[fund.start:fund.end] == fund.quote
    as_json = answer.to_json()["citations"]
    assert {"page"} <= set(as_json[0]) and any(c["page"] == 2 for c in as_json)


def test_citations_of_text_sources_have_no_page(make_assistant):
    answer = make_assistant().ask("What did Suslov say about New START?")
    assert answer.citations and all(c.page is None for c in answer.citations)
    assert all(c["page"] is None for c in answer.to_json()["citations"])
