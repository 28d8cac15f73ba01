"""Reading files: bad input gets a message naming the file and the fix; nothing is lost."""

import pytest

from rag.errors import IngestError, NoDocumentsError
from rag.ingest import html_to_text, load_documents, read_document
from rag.settings import IngestSettings


def test_empty_directory(tmp_path):
    with pytest.raises(NoDocumentsError, match="No readable .txt, .md, .html, .pdf or .docx documents"):
        load_documents([tmp_path])


def test_missing_path_is_a_warning_not_a_crash(tmp_path):
    (tmp_path / "a.txt").write_text("Hello there.")
    result = load_documents([tmp_path / "a.txt", tmp_path / "nope"])
    assert len(result.documents) == 1 and "does not exist" in result.warnings[0]


@pytest.mark.parametrize(
    "name, data, problem",
    [
        ("empty.txt", b"", "is empty"),
        ("blank.md", b"  \n\n\t", "is empty"),
        ("latin1.txt", "caf\u00e9 cr\u00e8me".encode("latin-1"), "is not UTF-8 text"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    ],
)
def test_bad_files_are_skipped_with_a_named_warning(tmp_path, name, data, problem):
    (tmp_path / "good.txt").write_text("A good document.", encoding="utf-8")
    (tmp_path / name).write_bytes(data)
    result = load_documents([tmp_path])
    assert [d.source.split("/")[-1] for d in result.documents] == ["good.txt"]
    (warning,) = result.warnings
    assert name in warning and problem in warning
    with pytest.raises(IngestError, match=problem):
        read_document(tmp_path / name)


def test_unsupported_extension_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "good.txt").write_text("A good document.")
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    result = load_documents([tmp_path])
    assert len(result.documents) == 1
    assert "table.csv" in result.warnings[0] and "unsupported file type '.csv'" in result.warnings[0]


def test_very_large_file_names_the_limit_and_the_setting(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 5000)
    with pytest.raises(IngestError, match="over the 0.0 MB limit.*RAG_INGEST__MAX_FILE_BYTES"):
        read_document(big, IngestSettings(max_file_bytes=1000))


def test_bom_and_crlf(tmp_path):
    path = tmp_path / "w.txt"
    path.write_bytes("\ufeffTitle Line\r\nFirst sentence. Second one.\r\n".encode("utf-8"))
    doc = read_document(path)
    assert doc.text.startswith("Title Line\r\n")


def test_html_is_parsed_to_text_with_headings():
    html = """<html><head><title>t</title><style>p{}</style></head><body>
    <h1>Big &amp; News</h1><script>alert(1)</script>
    <p>First <b>bold</b> paragraph.</p><ul><li><p>Item one.</p></li></ul></body></html>"""
    assert html_to_text(html) == "# Big & News\n\nFirst bold paragraph.\n\nItem one."


def test_page_furniture_is_not_part_of_an_html_document():
    html = """<html><body>
    <div id="cookie-banner"><p>We use cookies. <button>Accept all</button></p></div>
    <header><nav><ul><li><a href="/">News</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
    <article><h1>Quay reopens</h1><p>The north quay reopens on Monday.</p></article>
    <aside class="related"><h2>Related stories</h2><ul><li>Storm bill passes 20 million</li></ul></aside>
    <section class="newsletter"><p>Sign up for our briefing.</p><form><input type="email"></form></section>
    <footer><p>The Harbour Post is published by Quay Media.</p><p>&copy; 2025 Quay Media.</p></footer>
    </body></html>"""
    assert html_to_text(html) == ("# Quay reopens\n\nThe north quay reopens on Monday.\n\n"
                                  "The Harbour Post is published by Quay Media.\n\n\u00a9 2025 Quay Media.")
