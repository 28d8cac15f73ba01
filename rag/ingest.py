"""Reading documents from disk: files and folders of .txt, .md, .html, .pdf and .docx.

``load_documents(paths)`` returns the readable documents and a warning per
file it skipped; ``read_document(path)`` raises ``IngestError`` naming the
file, the problem and the fix. Nothing here parses sentences or embeds.

Offsets of every later stage index ``Document.text``: for .txt and .md that
is the file's UTF-8 text exactly as stored (a BOM is dropped; CRLF kept); for
.html it is the text a browser would show, extracted with BeautifulSoup, one
block per paragraph and headings marked with ``#`` as in Markdown.

For .pdf it is the text layer as PDFium (pypdfium2) extracts it, rebuilt into paragraphs
from the lines' positions (a vertical gap wider than the usual line step ends
a paragraph; a line in a clearly larger font is a ``#`` heading), pages
separated by a blank line, and ``Document.pages`` holds where each page
starts, so a span maps to its page. A paragraph that runs across a page
break becomes two. PDFium rather than pypdf (pure Python): on a 100-page
PDF printed by Chromium it read 50 pages/s against pypdf's 4, with the same
words (benchmarks/pdf_bench.py). What it does not do: OCR (a scan without a
text layer is refused with the fix), reading order of multi-column layouts
beyond what PDFium gives, tables. For .docx it is python-docx's paragraphs, one block each,
with Heading/Title styles marked ``#`` like Markdown; tables, headers and
footnotes are left out.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from rag.errors import IngestError, NoDocumentsError
from rag.settings import PROJECT_ROOT, IngestSettings
from rag.types import Document

_HTML_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre", "figcaption", "td", "dt", "dd")
# id/class words of page furniture (see ``html_to_text``).
_FURNITURE = re.compile(r"cookie|consent|newsletter|signup|sign-up|subscribe|share|sharing|social|related|promo|advert"
                        r"|breadcrumb|sidebar|popup|modal", re.I)


@dataclass(frozen=True)
class LoadResult:
    documents: list[Document]
    warnings: list[str]


def source_name(path: Path) -> str:
    """The path users see: relative to the project root when inside it.

    Example: ``source_name(PROJECT_ROOT / "seeds/a.txt")`` -> ``"seeds/a.txt"``
    """
    path = path.resolve()
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


# File types recognised by their first bytes, whatever the extension says: a
# PNG renamed .txt is an image. (Text formats have no signature; for them the
# control-character check below decides.)
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a .docx/.xlsx/.odt, which are ZIP files)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"MZ", "a Windows executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"GGUF", "a GGUF model file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"RIFF", "a RIFF media file (WAV, AVI, WebP)"),
    (b"OggS", "an Ogg media file"),
    (b"ID3", "an MP3 file"),
    (b"\x93NUMPY", "a NumPy array"),
)


def sniff_binary_type(data: bytes) -> str | None:
    """What a file is by its content, when that is a known binary format; None otherwise.

    Example: ``sniff_binary_type(b"\\x89PNG\\r\\n\\x1a\\n...")`` -> ``"a PNG image"``
    """
    head = data[:32]
    for magic, what in _SIGNATURES:
        # A short signature of printable letters ("MZ", "RIFF") can begin a
        # text too: only trust one of those on data that is not text anyway.
        printable = all(32 <= b < 127 for b in magic)
        if head.startswith(magic) and (not printable or len(magic) >= 5 or _looks_binary(data)):
            return what
    return None


def _looks_binary(data: bytes) -> bool:
    if b"\x00" in data[:65536]:
        return True
    sample = data[:4096]
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return bool(sample) and control / len(sample) > 0.05


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page, a block per paragraph, headings as ``# …``.

    Example: ``html_to_text("<h2>Title</h2><p>Hi <b>there</b>.</p>")`` -> ``"## Title\\n\\nHi there."``
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    # Page furniture is not what the page says: menus, forms and buttons,
    # asides ("Related stories" are other stories' headlines), and blocks
    # marked as cookie notices, newsletters, sharing or promotions. The
    # header and footer stay: the masthead and the publisher line answer
    # questions about the document itself.
    for tag in soup(["nav", "aside", "form", "button", "dialog"]):
        tag.decompose()
    for tag in soup.find_all(lambda t: t.attrs is not None and _FURNITURE.search(
            " ".join([t.get("id") or ""] + list(t.get("class") or [])))):
        tag.decompose()
    blocks = []
    for element in soup.find_all(_HTML_BLOCKS):
        # Only the innermost block elements, so nested <li><p> is not doubled.
        if element.find(_HTML_BLOCKS):
            continue
        text = " ".join(element.get_text(" ", strip=True).split())
        if not text:
            continue
        if element.name[0] == "h" and element.name[1:].isdigit():
            text = "#" * int(element.name[1:]) + " " + text
        blocks.append(text)
    if not blocks:  # a page of bare text without block tags
        blocks = [" ".join(soup.get_text(" ", strip=True).split())]
    return "\n\n".join(b for b in blocks if b)


def read_document(path: Path, settings: IngestSettings | None = None) -> Document:
    """Read one file; raise IngestError naming the problem and the fix."""
    settings = settings or IngestSettings()
    name = source_name(path)
    suffix = path.suffix.lower()
    if suffix not in settings.extensions:
        raise IngestError(
            name,
            f"unsupported file type '{suffix or '(none)'}'",
            f"Convert it to one of {', '.join(settings.extensions)}.",
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(name, f"cannot be read ({exc.strerror})", "Check the path and its permissions.") from exc
    if size > settings.max_file_bytes:
        raise IngestError(
            name,
            f"is {size / 1e6:.1f} MB, over the {settings.max_file_bytes / 1e6:.1f} MB limit",
            "Split it into smaller files or raise RAG_INGEST__MAX_FILE_BYTES.",
        )
    data = path.read_bytes()
    pages: tuple[int, ...] = ()
    if suffix == ".pdf":
        fmt = "pdf"
        text, pages = pdf_to_text(data, name, settings)
    elif suffix == ".docx":
        fmt = "docx"
        text = docx_to_text(data, name)
    else:
        kind = sniff_binary_type(data)
        if kind is not None:
            raise IngestError(
                name, f"is {kind} (a binary file, going by its content rather than its extension)",
                "Add the document as plain text, Markdown, HTML, PDF or Word (.docx), with the extension its content has.",
            )
        text = _decode_text(data, name)
        fmt = {".htm": "html", ".html": "html", ".md": "md"}.get(suffix, "txt")
        if fmt == "html":
            text = html_to_text(text)
    if not text.strip():
        raise IngestError(name, "is empty (no text to index)", "Add text to it or remove it from the folder.")
    return Document(source=name, text=text, sha256=hashlib.sha256(data).hexdigest(), format=fmt, pages=pages)


def _decode_text(data: bytes, name: str) -> str:
    if _looks_binary(data):
        raise IngestError(name, "looks like a binary file, not text", "Add it as plain text, Markdown, HTML, PDF or Word (.docx).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            name,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "Re-save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`).",
        ) from exc


# --------------------------------------------------------------------------- PDF


# PDFium is not thread-safe: one document is read at a time.
_PDFIUM_LOCK = threading.Lock()


def _page_lines(textpage) -> list[tuple[str, float | None, float]]:
    """PDFium's lines of one page, each with its baseline y and font size (None/0 if unknown)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    text = textpage.get_text_range()
    # PDFium counts a character beyond the BMP as two; then offsets into the
    # text no longer name characters, and lines go without positions.
    aligned = textpage.count_chars() == len(text)
    x, y = ctypes.c_double(), ctypes.c_double()
    lines = []
    position = 0
    for raw_line in re.split(r"(\r\n|\n|\r)", text)[::2]:
        first = next((i for i, ch in enumerate(raw_line) if not ch.isspace()), None)
        if first is not None:
            baseline, size = None, 0.0
            if aligned:
                index = position + first
                if pdfium_c.FPDFText_GetCharOrigin(textpage.raw, index, x, y):
                    baseline = y.value
                size = pdfium_c.FPDFText_GetFontSize(textpage.raw, index)
            lines.append((" ".join(raw_line.split()), baseline, float(size)))
        position += len(raw_line) + (2 if text.startswith("\r\n", position + len(raw_line)) else 1)
    return lines


def _read_pdf_lines(data: bytes, name: str) -> list[list[tuple[str, float | None, float]]]:
    """Every page's positioned lines; IngestError for a damaged or encrypted PDF."""
    import pypdfium2 as pdfium

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise IngestError(name, "is not a PDF (no %PDF header)",
                          "Check the file; if it is another format, give it that format's extension.")
    damaged = ("Re-download it, or re-export it from the program that made it "
               "(\"Save as PDF\" / \"Print to PDF\").")
    with _PDFIUM_LOCK:
        try:
            # A PDF "encrypted" with an empty user password (to restrict
            # printing or copying) opens without one.
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            code = getattr(exc, "err_code", None)
            if code == pdfium.raw.FPDF_ERR_PASSWORD:
                raise IngestError(
                    name, "is encrypted (password-protected)",
                    "Remove the password (e.g. `qpdf --password=PASSWORD --decrypt in.pdf out.pdf`) "
                    "and add the copy.") from exc
            if code == pdfium.raw.FPDF_ERR_SECURITY:
                raise IngestError(
                    name, "is protected by a security handler that cannot be read here",
                    "Save an unprotected copy (e.g. `qpdf --decrypt in.pdf out.pdf`) and add that.") from exc
            raise IngestError(name, "is a damaged PDF (it cannot be opened)", damaged) from exc
        try:
            pages = []
            for index in range(len(document)):
                page = document[index]
                textpage = page.get_textpage()
                try:
                    pages.append(_page_lines(textpage))
                finally:
                    textpage.close()
                    page.close()
            return pages
        except pdfium.PdfiumError as exc:
            raise IngestError(name, f"is a damaged PDF (its text cannot be read: {exc})", damaged) from exc
        finally:
            document.close()


def _line_step(steps: list[float]) -> float:
    """The page's usual distance between two lines of one paragraph.

    A low percentile, not the median: in a page of short paragraphs most
    gaps are between paragraphs, yet the closest fifth still falls inside one.
    """
    steps = sorted(steps)
    return steps[len(steps) // 5] if steps else 0.0


def _page_text(lines, body: float, levels: dict[float, int], settings: IngestSettings) -> str:
    """One page's lines joined into paragraphs (blank line between) and ``#`` headings."""
    def heading_level(size: float) -> int:
        return levels.get(round(size, 1), 0)

    steps = [
        abs(b[1] - a[1]) for a, b in zip(lines, lines[1:])
        if a[1] is not None and b[1] is not None and not heading_level(a[2]) and not heading_level(b[2])
        and abs(b[1] - a[1]) > 0
    ]
    step = _line_step(steps)
    blocks: list[tuple[int, list[str]]] = []  # (heading level or 0, lines)
    previous = None
    for text, y, size in lines:
        level = heading_level(size)
        # Lines of a heading sit as far apart as its larger type makes them.
        scale = size / body if level and body > 0 else 1.0
        new_block = (
            previous is None
            or level != previous[2]
            or y is None or previous[1] is None
            or (step > 0 and abs(y - previous[1]) > settings.pdf_paragraph_gap * step * scale)
        )
        if new_block:
            blocks.append((level, [text]))
        else:
            blocks[-1][1].append(text)
        previous = (text, y, level)
    out = []
    for level, block_lines in blocks:
        joined = block_lines[0]
        for line in block_lines[1:]:
            # A line broken after a hyphen continues the word ("well-" "known").
            joined += line if joined.endswith("-") else " " + line
        out.append(("#" * level + " " if level else "") + joined)
    return "\n\n".join(out)


def pdf_to_text(data: bytes, name: str = "document.pdf",
                settings: IngestSettings | None = None) -> tuple[str, tuple[int, ...]]:
    """The text layer of a PDF as paragraphs, and the offset where each page starts.

    Raises IngestError for a damaged, encrypted or image-only PDF.

    Example: a two-page PDF whose pages read "Alpha." and "Beta." ->
    ``("Alpha.\\n\\nBeta.", (0, 8))``
    """
    settings = settings or IngestSettings()
    all_lines = _read_pdf_lines(data, name)
    if not any(all_lines):
        raise IngestError(
            name, f"has no text layer ({len(all_lines)} page(s) of images only, e.g. a scan)",
            "Run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`) and add the result.")
    # The body font is the size most characters are set in; clearly larger
    # sizes are headings, the largest being level 1.
    weight: dict[float, int] = {}
    for lines in all_lines:
        for text, _y, size in lines:
            weight[round(size, 1)] = weight.get(round(size, 1), 0) + len(text)
    body = max(weight, key=weight.get)
    larger = sorted((s for s in weight if body > 0 and s >= settings.pdf_heading_size * body), reverse=True)
    levels = {s: min(i + 1, 6) for i, s in enumerate(larger)}
    pieces, starts, offset = [], [], 0
    for lines in all_lines:
        if pieces:
            offset += 2  # the blank line between pages
        starts.append(offset)
        page = _page_text(lines, body, levels, settings)
        pieces.append(page)
        offset += len(page)
    return "\n\n".join(pieces), tuple(starts)


# --------------------------------------------------------------------------- Word


def docx_to_text(data: bytes, name: str = "document.docx") -> str:
    """The paragraphs of a Word file, a block each, Heading N / Title styles as ``#`` headings.

    Example: a file with a "Heading 1" paragraph "Budget" and a body paragraph
    "It rose." -> ``"# Budget\\n\\nIt rose."``
    """
    import io
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        if data[:4] == b"\xd0\xcf\x11\xe0":  # the OLE header of the old binary .doc
            raise IngestError(name, "is an old binary Word (.doc) file renamed .docx",
                              "Open it in Word or LibreOffice and save it as .docx.") from exc
        raise IngestError(name, "is a damaged Word file (not a readable .docx package)",
                          "Open and re-save it in Word or LibreOffice, or export it as PDF.") from exc
    blocks = []
    for paragraph in document.paragraphs:
        text = " ".join(paragraph.text.split())
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = 0
        if style == "Title":
            level = 1
        elif style.startswith("Heading"):
            digits = style.removeprefix("Heading").strip()
            level = min(int(digits), 6) if digits.isdigit() else 1
        blocks.append(("#" * level + " " if level else "") + text)
    return "\n\n".join(blocks)


def _candidate_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(
        p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def load_documents(paths, settings: IngestSettings | None = None, on_progress=None) -> LoadResult:
    """Load every supported file under ``paths`` (files or folders).

    Files that cannot be used are skipped with a warning that names the file,
    the problem and the fix; only a corpus with no usable file at all raises.
    ``on_progress("reading", done, total)`` is called after each file.
    """
    settings = settings or IngestSettings()
    documents: list[Document] = []
    warnings: list[str] = []
    seen: set[str] = set()
    candidates: list[Path] = []
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            warnings.append(f"{raw}: does not exist. Check the path (RAG_DOCS or the command's arguments).")
            continue
        candidates.extend(_candidate_files(root))
    for number, path in enumerate(candidates, 1):
        doc = None
        if path.suffix.lower() not in settings.extensions:
            warnings.append(
                f"{source_name(path)}: skipped, unsupported file type '{path.suffix or '(none)'}'. "
                f"Supported: {', '.join(settings.extensions)}."
            )
        else:
            try:
                doc = read_document(path, settings)
            except IngestError as exc:
                warnings.append(str(exc))
        if doc is not None and doc.source not in seen:
            seen.add(doc.source)
            documents.append(doc)
        if on_progress is not None:
            on_progress("reading", number, len(candidates))
    if not documents:
        where = ", ".join(str(p) for p in paths) or "(no paths)"
        raise NoDocumentsError(
            f"No readable .txt, .md, .html, .pdf or .docx documents in {where}. "
            "Add some there, or point RAG_DOCS (or `rag index PATH`) at a folder that has them."
            + ("\n" + "\n".join(warnings) if warnings else "")
        )
    return LoadResult(documents, warnings)
