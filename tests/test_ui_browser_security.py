"""HTML and Markdown in documents never execute, in a real (headless, Debian) Chromium.

Documents carrying ``<script>``, ``onerror``/``onload`` handlers, ``javascript:``
links and entity-encoded markup are uploaded through the page, asked about,
and their citations opened in the sources panel. Every payload would set
``window.__pwned`` or open a dialog; the test asserts neither happened and
that the markup is shown as text. Real ``rag.Assistant`` with the fake
embedder and no LLM (extractive answers quote the documents' own text).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_ui import serve  # noqa: E402
from test_ui_browser import ask, expect, last_bot, open_page  # noqa: E402

MARKDOWN = """# Lighthouse notes

The keeper said the lamp <script>window.__pwned = "md-script"; alert("md-script")</script> was replaced in May.

The keeper's logbook <img src=x onerror="window.__pwned='md-img'; alert('md-img')"> records every storm since 1998.

The keeper wrote that the [harbour chart](javascript:window.__pwned='md-link') shows the new buoys.

The keeper added that <a href="javascript:alert('md-anchor')">the tide table</a> is pinned by the door.

The keeper noted an <svg onload="window.__pwned='md-svg'"><circle r=1 /></svg> icon on the foghorn.

The keeper mentioned <iframe srcdoc="<script>parent.__pwned='md-iframe'</script>"></iframe> the old radio mast.
"""

HTML = """<!doctype html><html><head><script>window.__pwned='html-head'</script>
<title>x</title></head><body onload="window.__pwned='html-body'">
<h1>Ferry timetable</h1>
<p>The ferry captain said boarding starts <img src=x onerror="alert('html-img')"> twenty minutes early.</p>
<p>The ferry captain warned that &lt;script&gt;window.__pwned='html-entity'&lt;/script&gt; tickets sell out.</p>
<p>The ferry captain said <a href="javascript:alert('html-link')">the winter timetable</a> starts in October.</p>
<script>alert('html-script')</script>
</body></html>
"""

TEXT = (
    "The gardener said the roses <b onmouseover=\"window.__pwned='txt'\">bloom</b> in June.\n\n"
    "The gardener said the shed key is under <img src=1 onerror=alert('txt-img')> the blue pot.\n"
)

QUESTIONS = [
    ("What did the keeper say about the lamp?", "<script>"),
    ("What does the keeper's logbook record?", "onerror"),
    ("What does the harbour chart show?", "javascript:"),
    ("Where is the tide table pinned?", "javascript:"),
    ("What did the ferry captain say about boarding?", "twenty minutes"),
    ("What did the ferry captain warn about tickets?", "<script>"),
    ("When do the roses bloom?", "onmouseover"),
    ("Where is the shed key?", "onerror"),
]


@pytest.fixture
def hostile_files(tmp_path):
    files = {
        "lighthouse.md": MARKDOWN,
        "ferry.html": HTML,
        "garden.txt": TEXT,
        "<img src=x onerror=alert('name')>.md": "The file name itself carries markup. The bell rings at six.\n",
        # refused (binary): its name is shown in the status and the warning toast
        "<img src=x onerror=\"window.__pwned='toast';alert('toast')\">.txt": b"\x89PNG\r\n\x1a\n" + bytes(64),
    }
    out = []
    for name, text in files.items():
        path = tmp_path / "upload" / name
        path.parent.mkdir(exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


def test_document_markup_never_runs(browser, make_assistant, tmp_path, hostile_files):
    from fakes import HashEmbedding  # noqa: F401  (make_assistant uses it)

    assistant = make_assistant(llm=None)
    with serve(assistant) as url:
        page = open_page(browser, url)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        try:
            page.locator("#documents").get_by_text("Documents").first.click()
            page.locator("#upload input[type=file]").set_input_files([str(p) for p in hostile_files])
            status = page.locator("#upload-status")
            expect(status).to_contain_text("Added", timeout=60_000)
            expect(page.locator("#docs-list")).to_contain_text("lighthouse.md", timeout=60_000)
            expect(status).to_contain_text("Could not add", timeout=60_000)
            assert status.inner_text().count("Added") == 4, status.inner_text()
            assert "onerror" in status.inner_text()  # the refused file's name, shown as text
            page.wait_for_timeout(500)  # the warning toast is up

            seen = ""
            for question, _payload in QUESTIONS:
                ask(page, question)
                answer = last_bot(page)
                expect(answer.locator(".badge")).to_be_visible()
                # open every citation of the answer: the sources panel highlights it in its paragraph
                for marker in answer.locator("a.cite").all():
                    marker.click()
                expect(page.locator("#sources-panel mark").first).to_be_visible(timeout=30_000)
                page.wait_for_timeout(200)  # give an injected handler (img onerror) time to fire
                seen += page.locator("#sources-panel").inner_text() + answer.inner_text()
            # the payloads were shown (as text), not dropped: retrieval with the fake embedder
            # need not cite each question's own sentence, but together they reach every kind
            for _question, payload in QUESTIONS:
                assert payload in seen, payload

            # markup is text everywhere: no element a document could have created exists
            for selector in ("#chat img", "#sources-panel img", "#chat iframe", "#sources-panel iframe",
                             "#chat svg circle", "#sources-panel svg circle", "#docs-list img",
                             'a[href^="javascript:"]', "[onerror]", "[onload]", "[onmouseover]"):
                assert page.locator(selector).count() == 0, selector
            page.locator("#sources-panel").hover()
            page.mouse.move(10, 10)
            assert page.evaluate("window.__pwned === undefined"), page.evaluate("window.__pwned")
            assert dialogs == []

            # control: the same payload, inserted as markup, is caught by these checks
            page.evaluate("""document.querySelector('#sources-panel').insertAdjacentHTML('beforeend',
                '<img src=x onerror="window.__pwned=\\'control\\'; alert(\\'control\\')">')""")
            page.wait_for_function("window.__pwned === 'control'", timeout=10_000)
            page.wait_for_timeout(200)
            assert dialogs == ["control"]
        finally:
            page.close()
