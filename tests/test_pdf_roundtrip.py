"""A PDF question round-trips through `rag ask --json` with the right page (real models).

The PDF is printed from HTML by the headless Debian Chromium the browser
tests use (a real producer's PDF: embedded subset fonts, its own text
operators), so no binary fixture is committed. Skipped without chromium.
"""

from __future__ import annotations

import json

import pytest

from pdfmaker import council_html
from test_cli import run


def print_pdf(browser, html: str, path) -> None:
    page = browser.new_page()
    try:
        page.set_content(html, wait_until="load")
        page.pdf(path=str(path), format="A5")
    finally:
        page.close()


@pytest.mark.slow
def test_pdf_answer_cites_page_two_through_the_cli(browser, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    pdf = docs / "hearing.pdf"
    print_pdf(browser, council_html(), pdf)
    env = {"RAG_INDEX__DATA_DIR": str(tmp_path / "data")}
    indexed = run("index", str(docs), env=env)
    assert indexed.returncode == 0, indexed.stderr
    assert "documents: 1" in indexed.stdout
    assert "speakers: 3" in indexed.stdout and "quotations: 3" in indexed.stdout
    assert "embedding" not in indexed.stderr  # stderr is no terminal here: no bars unless asked
    asked = run("index", str(docs), "--rebuild", "--progress", env=env)
    assert asked.returncode == 0, asked.stderr
    assert "reading" in asked.stderr and "analysing" in asked.stderr and "embedding" in asked.stderr

    result = run("ask", "--json", "How much money did the library fund hold?", "--backend", "none",
                 "--docs", str(docs), env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert not data["refused"] and data["citations"], data
    fund = next(c for c in data["citations"] if "18,000 euros" in c["quote"])
    assert fund["page"] == 2
    assert fund["source"].endswith("hearing.pdf")

    # the span indexes the extracted text, which is what `rag.ingest` gives for the file
    from rag.ingest import read_document

    document = read_document(pdf)
    assert document.text[fund["start"]:fund["end"]] == fund["quote"]
    assert document.page_at(fund["start"]) == 2 and len(document.pages) == 3
    assert "# The Library Question" in document.text  # Chromium's larger heading type is a heading
