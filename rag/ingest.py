"""Reading documents from disk: files and folders of .txt, .md and .html.

``load_documents(paths)`` returns the readable documents and a warning per
file it skipped; ``read_document(path)`` raises ``IngestError`` naming the
file, the problem and the fix. Nothing here parses structure or embeds.

Offsets of every later stage index ``Document.text``: for .txt and .md that
is the file's UTF-8 text exactly as stored (a BOM is dropped; CRLF kept); for
.html it is the text a browser would show, extracted with BeautifulSoup, one
block per paragraph and headings marked with ``#`` as in Markdown.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rag.errors import IngestError, NoDocumentsError
from rag.settings import PROJECT_ROOT, IngestSettings
from rag.types import Document

_HTML_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre", "figcaption", "td", "dt", "dd")


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
    kind = sniff_binary_type(data)
    if kind is not None:
        raise IngestError(
            name, f"is {kind} (a binary file, going by its content rather than its extension)",
            "Add the document as plain text, Markdown or HTML.",
        )
    if _looks_binary(data):
        raise IngestError(name, "looks like a binary file, not text", "Add it as plain text, Markdown or HTML.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            name,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "Re-save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`).",
        ) from exc
    fmt = {".htm": "html", ".html": "html", ".md": "md"}.get(suffix, "txt")
    if fmt == "html":
        text = html_to_text(text)
    if not text.strip():
        raise IngestError(name, "is empty (no text to index)", "Add text to it or remove it from the folder.")
    return Document(source=name, text=text, sha256=hashlib.sha256(data).hexdigest(), format=fmt)


def _candidate_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(
        p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def load_documents(paths, settings: IngestSettings | None = None) -> LoadResult:
    """Load every supported file under ``paths`` (files or folders).

    Files that cannot be used are skipped with a warning that names the file,
    the problem and the fix; only a corpus with no usable file at all raises.
    """
    settings = settings or IngestSettings()
    documents: list[Document] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            warnings.append(f"{raw}: does not exist. Check the path (RAG_DOCS or the command's arguments).")
            continue
        for path in _candidate_files(root):
            if path.suffix.lower() not in settings.extensions:
                warnings.append(
                    f"{source_name(path)}: skipped, unsupported file type '{path.suffix or '(none)'}'. "
                    f"Supported: {', '.join(settings.extensions)}."
                )
                continue
            try:
                doc = read_document(path, settings)
            except IngestError as exc:
                warnings.append(str(exc))
                continue
            if doc.source not in seen:
                seen.add(doc.source)
                documents.append(doc)
    if not documents:
        where = ", ".join(str(p) for p in paths) or "(no paths)"
        raise NoDocumentsError(
            f"No readable .txt, .md or .html documents in {where}. "
            "Add some there, or point RAG_DOCS (or `rag index PATH`) at a folder that has them."
            + ("\n" + "\n".join(warnings) if warnings else "")
        )
    return LoadResult(documents, warnings)
