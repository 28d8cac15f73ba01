"""PDF extraction benchmark: pages/s and text recovered on a generated 100-page PDF.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/pdf_bench.py [--pages 100] [--runs 3]``

Makes two 100-page PDFs from the seed article's paragraphs (a heading and
about 2,000 characters of prose per page): one printed by headless Chromium
(``page.pdf()``, a real producer: subset fonts, kerned text runs; skipped when
Debian's ``chromium`` is absent) and one written by tests/pdfmaker.py (one
text operator per line). For each it prints the median of ``--runs`` timings of

* ``rag.ingest.pdf_to_text``: PDFium's (pypdfium2) text with line positions,
  rebuilt into paragraphs and headings (what indexing does),
* plain pypdfium2 ``get_text_range()`` for every page (what the rebuild costs), and
* pure-Python ``pypdf`` ``page.extract_text()`` for every page, the alternative,

with pages/s, and the share of the source's words found in the extracted
text in order (``difflib`` over word sequences), so speed is never bought with
lost text; for ``pdf_to_text`` also the share of the source's paragraphs and
headings that come out as one block each (``#`` headings included), which
plain extraction does not attempt. Timings on a shared machine are noisy: compare runs back to back.
"""

from __future__ import annotations

import argparse
import difflib
import html
import io
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
ARTICLE = ROOT / "seeds" / "rferl-2020-04-26-us-russia-reset.txt"


def page_blocks(pages: int) -> list[list[tuple[str, str]]]:
    paragraphs = [p.strip() for p in ARTICLE.read_text(encoding="utf-8").split("\n") if len(p.strip()) > 80]
    out, k = [], 0
    for number in range(pages):
        blocks = [("h", f"Section {number + 1}")]
        size = 0
        while size < 1800:
            text = paragraphs[k % len(paragraphs)]
            blocks.append(("p", text))
            size += len(text)
            k += 1
        out.append(blocks)
    return out


def chromium_pdf(pages) -> bytes | None:
    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright

    body = []
    for i, blocks in enumerate(pages):
        for j, (kind, text) in enumerate(blocks):
            tag = "h2" if kind == "h" else "p"
            style = ' style="break-before: page"' if i and j == 0 else ""
            body.append(f"<{tag}{style}>{html.escape(text)}</{tag}>")
    # Small type so a page's ~2,000 characters never spill onto the next one.
    doc = ("<!doctype html><html><head><style>body{font:8pt serif} h2{font-size:13pt}</style></head><body>"
           + "".join(body) + "</body></html>")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.set_content(doc, wait_until="load")
        path = Path(tmp) / "bench.pdf"
        page.pdf(path=str(path), format="A4")
        browser.close()
        return path.read_bytes()


def recovered(source_words: list[str], text: str) -> float:
    words = text.replace("#", " ").split()
    matcher = difflib.SequenceMatcher(None, source_words, words, autojunk=False)
    return sum(b.size for b in matcher.get_matching_blocks()) / len(source_words)


def blocks_recovered(pages, text: str) -> float:
    blocks = {" ".join(b.lstrip("#").split()) for b in text.split("\n\n")}
    source = [" ".join(t.split()) for page in pages for _kind, t in page]
    return sum(1 for t in source if t in blocks) / len(source)


def plain_pypdf(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def plain_pdfium(data: bytes) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return "\n\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def measure(name: str, data: bytes, pages, runs: int) -> None:
    from rag.ingest import pdf_to_text

    source_words = " ".join(text for blocks in pages for _kind, text in blocks).split()
    extractors = (("rag.ingest.pdf_to_text", lambda d: pdf_to_text(d)[0]),
                  ("plain pypdfium2", plain_pdfium), ("pypdf extract_text", plain_pypdf))
    for label, extract in extractors:
        times, text = [], ""
        for _ in range(runs):
            t0 = time.perf_counter()
            text = extract(data)
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        print(f"{name:<22} {label:<24} {median:6.2f} s  {len(pages) / median:6.1f} pages/s  "
              f"words recovered in order: {100 * recovered(source_words, text):5.1f}%"
              + (f"  paragraphs/headings as blocks: {100 * blocks_recovered(pages, text):5.1f}%"
                 if label.startswith("rag.") else ""))


def main() -> None:
    import pypdf
    import pypdfium2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from pdfmaker import make_pdf

    pages = page_blocks(args.pages)
    print(f"pypdfium2 {pypdfium2.PYPDFIUM_INFO}, pypdf {pypdf.__version__}, {args.pages} pages, "
          f"median of {args.runs} runs")
    chromium = chromium_pdf(pages)
    if chromium is None:
        print("chromium not installed: the Chromium-printed PDF is skipped")
    else:
        from pypdf import PdfReader

        n = len(PdfReader(io.BytesIO(chromium)).pages)
        measure(f"Chromium ({n} pages, {len(chromium) // 1024} KB)", chromium, pages, args.runs)
    written = make_pdf(pages, width=110)
    measure(f"pdfmaker ({len(written) // 1024} KB)", written, pages, args.runs)


if __name__ == "__main__":
    main()
