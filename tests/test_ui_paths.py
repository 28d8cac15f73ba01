"""The web page and its API never show an absolute server path.

The real ``rag.Assistant`` (hashing embedder, no LLM) serves a document from a
folder outside the project, with its data dir (and so its uploads folder)
under a temp dir too: every source id it has is an absolute path. Through
``gradio_client`` and in headless Chromium, nothing a visitor can get (answers,
the sources panel, the Speakers tab, the document list, upload and remove
messages, errors, the exported Markdown and JSON) contains that temp dir;
documents are shown by their public names (``ui.paths.PublicNames``), and
those names work as input again (Remove, the Speakers filter).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import string
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ui.paths import PublicNames, without_server_paths

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "seeds" / "rferl-2020-04-26-us-russia-reset.txt"
QUESTION = "What did Suslov say about New START?"


# -- the mapping -----------------------------------------------------------------------------


def test_public_names_examples():
    nm = PublicNames(["seeds/a.txt", "/srv/d/uploads/n.txt", "/home/me/x/r.md", "/home/me/y/r.md",
                      "/home/me/z/only.txt"], uploads="/srv/d/uploads")
    assert [nm.public(s) for s in ("seeds/a.txt", "/srv/d/uploads/n.txt", "/home/me/x/r.md",
                                   "/home/me/y/r.md", "/home/me/z/only.txt")] == \
        ["seeds/a.txt", "uploads/n.txt", "x/r.md", "y/r.md", "only.txt"]
    assert nm.private("x/r.md") == "/home/me/x/r.md" and nm.private("uploads/n.txt") == "/srv/d/uploads/n.txt"
    # an id it was not given is still cut to its name; an unknown name comes back as it is
    assert nm.public("/var/lib/other/q.txt") == "q.txt" and nm.private("nothing.txt") == "nothing.txt"
    # a clash with a project-relative id: the absolute one gets a longer ending
    clash = PublicNames(["a.txt", "/data/a.txt"])
    assert clash.public("/data/a.txt") == "data/a.txt" and clash.public("a.txt") == "a.txt"


segment = st.text(string.ascii_lowercase + "._-", min_size=1, max_size=4).filter(lambda p: p not in (".", ".."))
paths = st.lists(segment, min_size=1, max_size=4).map("/".join)


@settings(max_examples=300, deadline=None)
@given(relative=st.lists(paths, max_size=4), absolute=st.lists(paths, max_size=6),
       uploaded=st.lists(segment, max_size=3))
def test_public_names_are_unique_relative_and_map_back(relative, absolute, uploaded):
    sources = list(dict.fromkeys(relative + ["/" + p for p in absolute] + ["/srv/up/" + u for u in uploaded]))
    nm = PublicNames(sources, uploads="/srv/up")
    shown = [nm.public(s) for s in sources]
    assert len(set(shown)) == len(shown), shown
    for s, name in zip(sources, shown):
        assert not name.startswith("/"), name
        assert nm.private(name) == s
        assert name.split(" (")[0].endswith(s.rsplit("/", 1)[-1])  # the file name is always there


# -- the running app -------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def outside(tmp_path):
    """A document folder and a data dir, both outside the project."""
    docs = tmp_path / "private-reports"
    docs.mkdir()
    shutil.copy(ARTICLE, docs / "reset.txt")
    return tmp_path, docs


@contextlib.contextmanager
def serving(tmp_path: Path, docs: Path):
    pytest.importorskip("gradio")
    from fakes import HashEmbedding

    from rag.assistant import Assistant
    from rag.settings import Settings
    from ui.app import build_app, launch_app

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    s = Settings().with_updates(index={"data_dir": tmp_path / "data", "show_progress": False})
    assistant = Assistant(settings=s, paths=[docs], llm=None, embed_model=HashEmbedding())
    assistant.warm_up()
    assert all(d["source"].startswith(str(tmp_path)) for d in assistant.documents())  # the premise
    demo = build_app(assistant)
    launch_app(demo, assistant, host="127.0.0.1", port=_free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url, assistant
    finally:
        demo.close()


def _assert_no_server_path(what: str, value, tmp_path: Path):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    assert str(tmp_path) not in text, f"{what} shows a server path: {text[:300]}"
    assert "/tmp/" not in text, f"{what} shows a server path: {text[:300]}"


def test_the_api_shows_public_names_only(outside):
    pytest.importorskip("gradio_client")
    from gradio_client import Client, handle_file

    tmp_path, docs = outside
    upload = tmp_path / "upload-src" / "harbour.txt"
    upload.parent.mkdir()
    upload.write_text('Harbour notes\n\n"We will run the late boat again," said Lena Quist, the harbour master.\n',
                      encoding="utf-8")
    with serving(tmp_path, docs) as (url, assistant):
        c = Client(url, verbose=False)
        message = c.predict(handle_file(str(upload)), api_name="/upload")[0]
        _assert_no_server_path("the upload message", message, tmp_path)
        assert "**uploads/harbour.txt**" in message

        listed = c.predict(api_name="/documents")
        _assert_no_server_path("/documents", listed, tmp_path)
        assert sorted(d["source"] for d in listed) == ["reset.txt", "uploads/harbour.txt"]

        for api in ("/ask", "/chat"):
            answer = c.predict(QUESTION, api_name=api)
            answer = answer[0] if isinstance(answer, (list, tuple)) else answer
            _assert_no_server_path(api, answer, tmp_path)
            assert answer["citations"] and {x["source"] for x in answer["citations"]} <= {"reset.txt"}

        # the public name works as input: the Speakers filter and Remove
        speakers = c.predict("reset.txt", api_name="/speakers")
        _assert_no_server_path("/speakers", speakers, tmp_path)
        assert speakers and all(s == "reset.txt" for sp in speakers for s in sp["sources"])
        with pytest.raises(Exception) as err:
            c.predict("nothing.txt", api_name="/speakers")
        _assert_no_server_path("the /speakers error", str(err.value), tmp_path)

        removed = c.predict("uploads/harbour.txt", api_name="/remove")
        _assert_no_server_path("the remove message", removed, tmp_path)
        assert str(removed[0]).startswith("Removed")
        assert [d["source"] for d in c.predict(api_name="/documents")] == ["reset.txt"]
        assert not (assistant.uploads_dir / "harbour.txt").exists()


def test_the_page_shows_public_names_only(browser, outside):
    from test_ui_browser import ask, expect, open_page

    tmp_path, docs = outside
    with serving(tmp_path, docs) as (url, _assistant):
        page = open_page(browser, url)
        try:
            ask(page, QUESTION)
            expect(page.locator("#src-1 mark")).to_be_visible(timeout=30_000)
            expect(page.locator("#src-1 .src-doc")).to_have_text("reset.txt")
            _assert_no_server_path("the chat and sources panel", page.content(), tmp_path)

            page.get_by_role("tab", name="Speakers").click()
            listing = page.locator("#speakers-list")
            expect(listing.locator(".speaker-card").first).to_be_visible(timeout=30_000)
            page.locator("#speakers-doc input").click()
            page.get_by_role("option", name="reset.txt").click()
            expect(listing.locator("li.statement .src-doc").first).to_have_text("reset.txt", timeout=30_000)
            _assert_no_server_path("the Speakers tab", page.content(), tmp_path)

            page.get_by_role("tab", name="Chat").click()
            page.locator("#documents").get_by_text("Documents").first.click()
            expect(page.locator("#docs-list")).to_contain_text("reset.txt", timeout=30_000)
            page.locator("#settings").get_by_text("Settings & status").first.click()
            _assert_no_server_path("the documents and status", page.content(), tmp_path)

            for button in ("#export-md", "#export-json"):
                expect(page.locator(button)).to_be_enabled(timeout=30_000)
                with page.expect_download(timeout=30_000) as info:
                    page.locator(button).click()
                saved = tmp_path / "downloads" / info.value.suggested_filename
                info.value.save_as(saved)
                exported = saved.read_text(encoding="utf-8")
                assert "reset.txt" in exported
                _assert_no_server_path(f"the export {saved.suffix}", exported, tmp_path)
        finally:
            page.close()


def test_without_server_paths_keeps_urls_and_fractions():
    assert without_server_paths("/tmp/gradio/ab12/x.txt: empty") == "x.txt: empty"
    assert without_server_paths("see http://127.0.0.1:8080/v1/chat and 3/4") == "see http://127.0.0.1:8080/v1/chat and 3/4"
