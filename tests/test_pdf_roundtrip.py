"""A PDF question round-trips through `rag ask --json` with the right page (real models).

The PDF is printed from HTML by the headless Debian Chromium the browser
tests use (a real producer's PDF: embedded subset fonts, its own text
operators), so no binary fixture is committed. Skipped without chromium.
"""

from __future__ import annotations

import json
import shutil

import pytest

from pdfmaker import council_html
from test_cli import run

CHROMIUM = shutil.which("chromium")


def print_pdf(html: str, path) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.set_content(html, wait_until="load")
            page.pdf(path=str(path), format="A5")
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (`make install-test`)")
def test_pdf_answer_cites_page_two_through_the_cli(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    pdf = docs / "hearing.pdf"
    print_pdf(council_html(), pdf)
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
