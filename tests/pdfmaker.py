"""A small PDF writer for tests: text pages in Helvetica, no library, no binary fixture.

``make_pdf(pages)`` lays out each page's blocks top to bottom: ``("h", text)``
is a heading in a larger font, ``("p", text)`` a paragraph wrapped at
``width`` characters with the usual line step, and a wider gap between
blocks, the way word processors print. It writes only what the PDF 1.4
specification needs for text (catalog, page tree, a standard Type 1 font,
one content stream per page, a cross-reference table), so the tests know
exactly what the text layer holds. ``encrypt`` and ``image_only`` variants
make the PDFs that ingestion must refuse.

Example: ``make_pdf([[("h", "Title"), ("p", "Hello there.")]])`` -> bytes starting ``%PDF-1.4``.
"""

from __future__ import annotations

import textwrap

BODY_SIZE = 11
HEADING_SIZE = 16
LINE_STEP = 14
BLOCK_GAP = 12


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content(blocks, width: int) -> bytes:
    y = 800
    ops = []
    for kind, text in blocks:
        size = HEADING_SIZE if kind == "h" else BODY_SIZE
        lines = [text] if kind == "h" else textwrap.wrap(text, width)
        for line in lines:
            ops.append(f"BT /F1 {size} Tf 56 {y} Td ({_escape(line)}) Tj ET")
            y -= LINE_STEP if kind == "p" else HEADING_SIZE + 4
        y -= BLOCK_GAP
    return "\n".join(ops).encode("latin-1")


def make_pdf(pages: list[list[tuple[str, str]]], width: int = 85, image_only: bool = False) -> bytes:
    """A PDF whose pages hold ``pages``' blocks (see the module docstring)."""
    objects: list[bytes] = []  # object n is objects[n - 1]
    n_pages = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, blocks in enumerate(pages):
        stream = b"q 100 0 0 100 56 600 cm 0.5 g 0 0 1 1 re f Q" if image_only else _content(blocks, width)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def encrypt(pdf: bytes, password: str = "s3cret") -> bytes:
    """``pdf`` protected by a user password (RC4, which pypdf writes without extra packages)."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# A short council report of our own writing, three pages, with named speakers:
# the tests for PDFs, speakers and the browser share it.
COUNCIL_PAGES = [
    [
        ("h", "Riverside Council Budget Hearing"),
        ("p", "The council met on Tuesday to debate the budget for the coming year. Harbour master "
              "Edith Varga opened the hearing with a report on the state of the quay."),
        ("p", '"We cannot wait another winter for repairs to the north wall," Varga told the council. '
              "She said the stones had shifted by four centimetres since March."),
    ],
    [
        ("h", "The Library Question"),
        ("p", "Finance chair Tomas Reyl, a former bank auditor, argued that the library roof should come "
              'first. "The roof leaks over the children\'s section every time it rains," Reyl said.'),
        ("p", "He added that the library fund held 18,000 euros, enough for a new roof but not for both "
              "projects."),
    ],
    [
        ("h", "The Vote"),
        ("p", "Councillor Ines Marchetti proposed splitting the fund between the two repairs. "
              '"Half a wall and half a roof is still better than a flood," said Ines Marchetti.'),
        ("p", "The motion passed by seven votes to two."),
    ],
]


def council_html() -> str:
    """The same report as an HTML page with a page break before each section, for Chromium's ``page.pdf()``."""
    import html

    parts = []
    for i, blocks in enumerate(COUNCIL_PAGES):
        style = ' style="break-before: page"' if i else ""
        for j, (kind, text) in enumerate(blocks):
            tag = "h1" if kind == "h" and i == 0 else "h2" if kind == "h" else "p"
            attr = style if j == 0 else ""
            parts.append(f"<{tag}{attr}>{html.escape(text)}</{tag}>")
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>"
