"""Fast tests of the Gradio app against a fake assistant (no models).

The fake implements the public API of ``rag.Assistant`` (docs/API_CONTRACT.md)
with canned ``rag.types.Answer``s whose citations are real spans of the seed
article, so the sources panel and highlighting work as with the real thing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rag import Answer, Citation, Evidence, IngestError, QuestionError, RagError, Settings
from rag.ingest import read_document
from rag.types import Timings

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from ui import render  # noqa: E402
from ui.app import build_app, launch_app  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "seeds/rferl-2020-04-26-us-russia-reset.txt"
TEXT = (ROOT / SOURCE).read_text(encoding="utf-8")

SUSLOV_QUOTE = (
    '"We completely agree with the Trump administration, that arms control as it exists '
    'today is outdated," Suslov told RFE/RL.'
)
SUSLOV_QUOTE_2 = '"We want time to elaborate the system, to expand it.'
GREAT_CALL = '"We had a great call," Trump later told reporters.'
SULLIVAN = '"U.S. sanctions do not inhibit humanitarian assistance," Sullivan said.'
UKRAINE = (
    "\"There's no way that coronavirus or falling oil prices can change the Kremlin position\" "
    "on Ukraine, he said."
)


# --------------------------------------------------------------------------- the fake


def _paragraph_bounds(start: int, end: int) -> tuple[int, int]:
    pstart = TEXT.rfind("\n", 0, start) + 1
    pend = TEXT.find("\n", end)
    return pstart, len(TEXT) if pend < 0 else pend


def _para_no(start: int) -> int:
    return TEXT.count("\n", 0, start) + 1


def cite(marker: int, quote: str, speaker=None, section=None) -> Citation:
    start = TEXT.index(quote)
    return Citation(
        marker=marker,
        source=SOURCE,
        start=start,
        end=start + len(quote),
        quote=quote,
        speaker=speaker,
        section=section,
        paragraph=_para_no(start),
    )


def evidence_for(citations) -> tuple[Evidence, ...]:
    out = []
    for c in citations:
        ps, pe = _paragraph_bounds(c.start, c.end)
        out.append(
            Evidence(SOURCE, ps, pe, TEXT[ps:pe], c.section, c.paragraph, c.speaker, 0.8, ())
        )
    return tuple(out)


def canned(question: str, resolved: str | None = None) -> Answer:
    q = (resolved or question).lower()
    if "markup" in q:  # an answer whose text carries markup: must be shown as text
        cits = (cite(1, GREAT_CALL, "Donald Trump"),)
        text = 'He wrote <img src=x onerror="window.__pwned=1"> and <b>bold</b> [1].'
        mode = "generated"
    elif "ukraine" in q:
        cits = (cite(1, UKRAINE, "Dmitry Suslov", "Longest War In Europe Since WWII"),)
        text = "Suslov said coronavirus and falling oil prices cannot change the Kremlin's position on Ukraine [1]."
        mode = "generated"
    elif "suslov" in q or "new start" in q:
        cits = (
            cite(1, SUSLOV_QUOTE, "Dmitry Suslov", "New START, Old START"),
            cite(2, SUSLOV_QUOTE_2, "Dmitry Suslov", "New START, Old START"),
        )
        text = (
            "Suslov said Russia agrees with the Trump administration that arms control as it "
            "exists today is outdated [1], and that Moscow wants time to expand the system, "
            "which is impossible now [2]."
        )
        mode = "generated"
    elif "great call" in q:
        cits = (cite(1, GREAT_CALL, "Donald Trump"),)
        text = GREAT_CALL + " [1]"
        mode = "extractive"
    elif "ambassador" in q or "sanctions" in q:
        cits = (cite(1, SULLIVAN, "John Sullivan", "'Propaganda Victory'"),)
        text = "John Sullivan said U.S. sanctions do not inhibit humanitarian assistance [1]."
        mode = "generated"
    else:
        cits = ()
        text = "The documents don't say."
        mode = "refused"
    return Answer(
        question=question,
        text=text,
        citations=cits,
        evidence=evidence_for(cits),
        mode=mode,
        timings=Timings(0.01, 0.02, 0.03),
        settings_hash="fakehash0001",
        notice="the LLM is a fake; canned answer" if mode == "extractive" else None,
        resolved_question=resolved,
    )


class FakeSession:
    def __init__(self, assistant: "FakeAssistant"):
        self._assistant = assistant
        self.history: list[Answer] = []

    def _resolve(self, question: str) -> str | None:
        q = question.strip()
        if self.history and q.lower().startswith(("and ", "what about")):
            # "And what did he say about Ukraine?" -> keep the speaker of the last answer
            speaker = next((c.speaker for c in self.history[-1].citations if c.speaker), None)
            if speaker:
                rest = q.split("about", 1)[-1].strip(" ?")
                return f"What did {speaker.split()[-1]} say about {rest}?"
        return None

    def stream(self, question: str):
        self._assistant._check(question)
        answer = canned(question, self._resolve(question))
        # Like rag.Assistant: one answer at a time (the LLM's lock is a plain
        # Lock, released by whichever thread finishes the answer).
        with self._assistant.model_lock:
            time.sleep(self._assistant.first_delay)  # retrieval + the prompt, before the first item
            for word in answer.text.split(" "):
                time.sleep(self._assistant.delay)
                yield word + " "
            self.history.append(answer)
            yield answer

    def ask(self, question: str) -> Answer:
        *_, answer = self.stream(question)
        return answer

    def reset(self) -> None:
        self.history.clear()


class FakeAssistant:
    """Implements the public API of rag.Assistant with canned answers."""

    def __init__(self, delay: float = 0.0, llm_status: str = "fake: canned answers", first_delay: float = 0.0):
        self.settings = Settings()
        self.delay = delay
        self.first_delay = first_delay
        self._llm_status = llm_status
        self.uploads: dict[str, str] = {}
        self.calls = 0
        self._lock = threading.Lock()
        self.model_lock = threading.Lock()

    def _check(self, question: str) -> None:
        if not question or not question.strip():
            raise QuestionError("The question is empty: type a question about the documents.")
        limit = self.settings.answer.max_question_chars
        if len(question) > limit:
            raise QuestionError(
                f"The question is {len(question)} characters long; the limit is {limit}. Shorten it."
            )

    def warm_up(self) -> None:
        pass

    def llm_status(self) -> str:
        return self._llm_status

    def ask(self, question: str) -> Answer:
        with self._lock:
            self.calls += 1
        self._check(question)
        time.sleep(self.delay)
        return canned(question)

    def stream(self, question: str):
        return FakeSession(self).stream(question)

    def chat(self) -> FakeSession:
        return FakeSession(self)

    def paragraph(self, source: str, start: int, end: int):
        if source != SOURCE:
            raise RagError(f"unknown document {source}")
        ps, pe = _paragraph_bounds(start, end)
        return ps, pe, TEXT[ps:pe]

    def documents(self) -> list[dict]:
        docs = [{"source": SOURCE, "chars": len(TEXT), "passages": 60, "removable": False}]
        for source, text in self.uploads.items():
            docs.append({"source": source, "chars": len(text), "passages": 1, "removable": True})
        return docs

    def add_file(self, path, name=None, progress=None) -> str:
        path = Path(path)
        # The real reader validates (type, encoding, damaged/encrypted PDFs) and extracts the text.
        text = read_document(path, self.settings.ingest).text
        # (nothing is indexed here, so there is no progress to report)
        source = f"uploads/{name or path.name}"
        self.uploads[source] = text
        return source

    def speakers(self, source=None):
        """The real attribution and speaker rules, run on the seed article."""
        from rag.index import analyse
        from rag.speakers import collect_speakers
        from rag.types import Document

        if source not in (None, SOURCE):
            raise IngestError(source, "is not an indexed document", f"Name one of: {SOURCE}.")
        if getattr(self, "_speakers", None) is None:
            doc = Document(SOURCE, TEXT, "0", "txt")
            passages, people = analyse(doc, self.settings)
            self._speakers = collect_speakers({SOURCE: doc}, passages, {SOURCE: people})
        return self._speakers

    def remove_document(self, source: str) -> None:
        if source not in self.uploads:
            raise RagError(f"{source} is not an uploaded document")
        del self.uploads[source]


# --------------------------------------------------------------------------- serving


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(assistant, startup_error=None):
    """Launch the app for ``assistant`` on a free loopback port; yields its URL."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_app(assistant, startup_error=startup_error)
    launch_app(
        demo,
        assistant,
        host="127.0.0.1",
        port=free_port(),
        prevent_thread_lock=True,
        quiet=True,
    )
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def fake():
    return FakeAssistant(delay=0.01)


@pytest.fixture(scope="module")
def app_url(fake):
    with serve(fake) as url:
        yield url


def client(url):
    from gradio_client import Client

    return Client(url, verbose=False)


# --------------------------------------------------------------------------- API tests


def test_fake_citations_are_exact_spans():
    for q in ["What did Suslov say about New START?", 'Who said "We had a great call"?']:
        for c in canned(q).citations:
            assert TEXT[c.start : c.end] == c.quote


def test_ask_endpoint_returns_answer_json(app_url):
    result = client(app_url).predict("What did Suslov say about New START?", api_name="/ask")
    assert result["mode"] == "generated"
    assert "[1]" in result["answer"]
    assert [c["marker"] for c in result["citations"]] == [1, 2]
    for c in result["citations"]:
        assert c["source"] == SOURCE
        assert TEXT[c["start"] : c["end"]] == c["quote"]
    assert set(result) >= {"question", "answer", "mode", "refused", "citations", "evidence", "timings"}


def test_ask_endpoint_refusal(app_url):
    result = client(app_url).predict("What did Angela Merkel say about the reset?", api_name="/ask")
    assert result["refused"] is True and result["citations"] == []


@pytest.mark.parametrize("bad", ["", "   ", "x" * 5000])
def test_bad_question_is_an_error_message_not_a_crash(app_url, bad):
    from gradio_client.exceptions import AppError

    c = client(app_url)
    with pytest.raises(AppError) as info:
        c.predict(bad, api_name="/ask")
    message = str(info.value).lower()
    assert "empty" in message or "limit" in message
    # the server is still fine
    assert c.predict('Who said "We had a great call"?', api_name="/ask")["mode"] == "extractive"


LOAD_QUESTIONS = [
    "What did Suslov say about New START?",
    'Who said "We had a great call"?',
    "What did the U.S. ambassador to Russia say about sanctions?",
    "What did Angela Merkel say about the reset?",
]


def ask_concurrently(url, users=10):
    """``users`` gradio_client users asking at once; (question, answer JSON) pairs."""

    def one(i):
        q = LOAD_QUESTIONS[i % len(LOAD_QUESTIONS)]
        return q, client(url).predict(q, api_name="/ask")

    with ThreadPoolExecutor(max_workers=users) as pool:
        results = list(pool.map(one, range(users)))
    assert len(results) == users
    for q, r in results:
        assert r["question"] == q
        assert r["mode"] in {"generated", "extractive", "refused"}
    return results


def test_ten_concurrent_users_all_get_answers(app_url):
    for q, r in ask_concurrently(app_url):
        if not r["refused"]:
            assert r["citations"]


def test_upload_list_and_remove_via_api(app_url, fake, tmp_path):
    from gradio_client import handle_file

    c = client(app_url)
    doc = tmp_path / "note.txt"
    doc.write_text("The committee met on Tuesday. It approved the budget.", encoding="utf-8")
    status, *_ = c.predict(handle_file(str(doc)), api_name="/upload")
    assert "Added" in status and "uploads/note.txt" in status
    sources = [d["source"] for d in c.predict(api_name="/documents")]
    assert "uploads/note.txt" in sources

    empty = tmp_path / "empty.md"
    empty.write_text("   ", encoding="utf-8")
    status, *_ = c.predict(handle_file(str(empty)), api_name="/upload")
    assert "Could not add empty.md" in status and "empty" in status
    assert [d["source"] for d in c.predict(api_name="/documents")] == sources  # index unchanged

    status, *_ = c.predict("uploads/note.txt", api_name="/remove")
    assert "Removed" in status
    assert "uploads/note.txt" not in [d["source"] for d in c.predict(api_name="/documents")]
    status, *_ = c.predict("uploads/nope.txt", api_name="/remove")
    assert "Could not remove" in status


def test_upload_of_wrong_type_is_refused(app_url, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "slides.pptx"
    bad.write_bytes(b"PK\x03\x04 not really")
    c = client(app_url)
    before = c.predict(api_name="/documents")
    try:
        status, *_ = c.predict(handle_file(str(bad)), api_name="/upload")
    except Exception as exc:  # gradio itself may refuse the file type
        status = str(exc)
    assert "pptx" in status.lower() or "file type" in status.lower() or "invalid" in status.lower()
    assert c.predict(api_name="/documents") == before


def test_damaged_pdf_upload_names_the_problem_and_adds_nothing(app_url, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "minutes.pdf"
    bad.write_bytes(b"%PDF-1.4 cut off in the middle")
    c = client(app_url)
    before = c.predict(api_name="/documents")
    status, *_ = c.predict(handle_file(str(bad)), api_name="/upload")
    assert "Could not add minutes.pdf" in status and "damaged PDF" in status and "re-export" in status
    assert c.predict(api_name="/documents") == before


def test_page_comes_up_when_llm_unreachable():
    broken = FakeAssistant(llm_status="openai server http://127.0.0.1:9: unreachable (connection refused)")
    with serve(broken, startup_error="the LLM server at http://127.0.0.1:9 is unreachable") as url:
        import httpx

        page = httpx.get(url, timeout=10)
        assert page.status_code == 200
        assert client(url).predict('Who said "We had a great call"?', api_name="/ask")["citations"]


# --------------------------------------------------------------------------- chat handler


def _handler(demo, name):
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name)


def test_chat_streams_then_shows_verified_answer_and_follow_up():
    demo = build_app(FakeAssistant())
    respond = _handler(demo, "respond")
    outputs = list(respond("What did Suslov say about New START?", None))
    first_chat = outputs[0][0]
    assert "searching the documents" in first_chat[-1]["content"]
    assert any("drafting" in o[0][-1]["content"] for o in outputs[1:-1])
    assert outputs[0][2] == ""  # the textbox is cleared when the question is shown
    # ... and then left alone, so the next question can be typed while this one streams
    assert all(o[2] == gr.skip() for o in outputs[1:])
    assert outputs[0][3]["interactive"] is False and outputs[-1][3]["interactive"] is True
    chat, sources, _box, _btn, state = outputs[-1]
    final = chat[-1]["content"]
    assert 'href="#src-1"' in final and "badge-generated" in final
    assert 'id="src-1"' in sources and 'id="src-2"' in sources
    assert "<mark>" in sources and "Dmitry Suslov" in sources

    # follow-up in the same session: resolved against the last answer
    *_, (chat, sources, _box, _btn, state) = respond("And what did he say about Ukraine?", state)
    assert "understood as" in chat[-1]["content"]
    assert "Ukraine" in sources and 'id="src-1"' in sources
    # the older answer's markers are no longer links (its cards are gone)
    assert 'href="#src-' not in chat[1]["content"]
    assert len(state.turns) == 2 and len(state.session.history) == 2


def test_chat_empty_question_warns_and_keeps_session():
    demo = build_app(FakeAssistant())
    respond = _handler(demo, "respond")
    *_, (chat, sources, _box, _btn, state) = respond("What did Suslov say about New START?", None)
    with pytest.warns(UserWarning, match="empty"):
        outputs = list(respond("   ", state))
    assert len(outputs) == 1  # not shown as asked first
    chat2, sources2, box2, _btn, state2 = outputs[0]
    assert box2 == "   "  # given back for editing
    assert state2 is state and len(state.turns) == 1
    assert chat2 == chat and sources2 == sources


def test_clear_resets_session_and_sources():
    demo = build_app(FakeAssistant())
    respond = _handler(demo, "respond")
    *_, (_chat, _src, _box, _btn, state) = respond("What did Suslov say about New START?", None)
    session = state.session
    chat, sources, _btn, new_state = _handler(demo, "clear")(state)
    assert chat == [] and sources == render.SOURCES_EMPTY and not new_state.turns
    assert session.history == []


def test_the_question_shows_at_once_while_the_first_item_is_slow():
    """Why ThreadedStream exists (with the empty-question test above: a bad
    question is refused before it is shown)."""
    demo = build_app(FakeAssistant(first_delay=2.0))
    outputs = _handler(demo, "respond")("What did Suslov say about New START?", None)
    t0 = time.perf_counter()
    chat, _sources, box, button, _state = next(outputs)
    assert time.perf_counter() - t0 < 1.5
    assert "searching the documents" in chat[-1]["content"] and box == "" and button["interactive"] is False
    *_, (chat, _sources, _box, button, _state) = outputs
    assert "badge-generated" in chat[-1]["content"] and button["interactive"] is True


def test_wait_first_raises_an_immediate_error_and_waits_no_longer_than_told():
    from ui.app import ThreadedStream

    def refused():
        raise QuestionError("The question is empty.")
        yield  # a generator, like rag's streams

    with pytest.raises(QuestionError, match="empty"):
        ThreadedStream(refused).wait_first(5.0)

    def slow():
        time.sleep(0.8)
        yield "late"

    it = ThreadedStream(slow)
    t0 = time.perf_counter()
    it.wait_first(0.1)
    assert time.perf_counter() - t0 < 0.6
    assert list(it) == ["late"]


def test_close_stops_and_closes_the_stream():
    from ui.app import ThreadedStream

    closed = threading.Event()

    def endless():
        try:
            while True:
                yield "word "
                time.sleep(0.01)
        finally:
            closed.set()

    it = ThreadedStream(endless)
    assert next(it) == "word "
    it.close()
    assert closed.wait(2.0)


def test_stream_errors_reach_the_consumer():
    from ui.app import ThreadedStream

    def gen():
        yield "a"
        raise QuestionError("too long")

    it = ThreadedStream(gen)
    assert next(it) == "a"
    with pytest.raises(QuestionError, match="too long"):
        next(it)


# --------------------------------------------------------------------------- rendering


def test_everything_from_documents_and_llm_is_escaped():
    answer = canned("markup please")
    html = render.answer_message(answer)
    assert "<img" not in html and "<b>bold" not in html
    assert "&lt;img" in html and 'href="#src-1"' in html

    evil = Answer(
        question="<script>alert(1)</script>",
        text="x [1]",
        citations=(Citation(1, "evil.html", 5, 10, "<b>x</b>", "<i>Eve</i>", "<h1>s</h1>", 1),),
        evidence=(),
        mode="generated",
    )
    panel = render.sources_panel(evil, lambda s, a, b: (0, 20, "12345<b>x</b>!<script>"))
    assert "<script>" not in panel and "<b>" not in panel and "<i>" not in panel and "<h1>" not in panel
    assert "<mark>&lt;b&gt;x&lt;/b&gt;</mark>" in panel


def test_chat_text_is_escaped_once():
    assert render.esc_md("don't <b> & [1] *x*") == "don&#39;t &lt;b&gt; &amp; &#91;1&#93; &#42;x&#42;"


def test_markers_only_link_known_citations():
    assert render.linkify_markers(render.esc_md("a [1] b [7]"), [1]).count("<a ") == 1
    assert "<a " not in render.linkify_markers(render.esc_md("a [1]"), [1], linked=False)


def test_sources_panel_falls_back_to_quote_when_paragraph_fails():
    answer = canned("What did Suslov say about New START?")

    def broken(*_):
        raise RagError("document removed")

    panel = render.sources_panel(answer, broken)
    assert f"<mark>{render.esc(SUSLOV_QUOTE)}</mark>" in panel


def test_status_banner_kinds():
    ok = render.status_banner("embedded: SmolLM2-135M-Instruct.Q4_1.gguf")
    assert "status-ok" in ok and "SmolLM2" in ok
    down = render.status_banner("openai server http://x: unavailable (refused)", "No LLM server answers at http://x")
    assert "status-warn" in down and "quoted from the documents" in down
    broken = render.status_banner("embedded: m.gguf", "<b>index</b> is unreadable")
    assert "status-error" in broken and "&lt;b&gt;index" in broken


# --------------------------------------------------------------------------- the real assistant


@pytest.mark.slow
def test_real_assistant_api_under_load_and_upload(tmp_path):
    """Ten concurrent gradio_client users against the real rag.Assistant (one model slot)."""
    from gradio_client import handle_file

    from rag import Assistant

    settings = Settings().with_updates(index={"data_dir": tmp_path / "data"})
    assistant = Assistant(settings=settings)
    startup_error = None
    try:
        assistant.warm_up()
    except RagError as exc:
        startup_error = str(exc)
    with serve(assistant, startup_error=startup_error) as url:
        results = ask_concurrently(url)
        for q, r in results:
            for c in r["citations"]:  # seeds/ has other documents besides the article
                assert read_document(ROOT / c["source"]).text[c["start"] : c["end"]] == c["quote"]
        suslov = [r for q, r in results if "Suslov" in q]
        assert all(r["citations"] for r in suslov)

        c = client(url)
        doc = tmp_path / "memo.txt"
        doc.write_text(
            "Budget memo\nThe harbour committee approved a budget of 4 million euros on Tuesday, "
            "the chairwoman Ilse Varga said.\n",
            encoding="utf-8",
        )
        status, *_ = c.predict(handle_file(str(doc)), api_name="/upload")
        assert "Added" in status, status
        source = next(d["source"] for d in c.predict(api_name="/documents") if d["removable"])
        r = c.predict("What budget did the harbour committee approve?", api_name="/ask")
        assert any(cit["source"] == source for cit in r["citations"]), r
        status, *_ = c.predict(source, api_name="/remove")
        assert "Removed" in status, status
        assert all(not d["removable"] for d in c.predict(api_name="/documents"))


def test_sources_panel_shows_the_page_of_a_paged_source():
    answer = canned("What did Suslov say about New START?")
    paged = Answer(**{**answer.__dict__, "citations": tuple(
        Citation(**{**c.__dict__, "page": n + 1}) for n, c in enumerate(answer.citations))})
    panel = render.sources_panel(paged)
    assert '<span class="src-page">p. 1</span>' in panel and '<span class="src-page">p. 2</span>' in panel
    assert "src-page" not in render.sources_panel(answer)  # text sources have no page


# --------------------------------------------------------------------------- speakers and export


def test_speakers_endpoint_and_filter(app_url):
    c = client(app_url)
    speakers = c.predict("", api_name="/speakers")
    suslov = next(sp for sp in speakers if sp["name"] == "Dmitry Suslov")
    assert suslov["kind"] == "person" and "Moscow's Higher School of Economics" in suslov["organisations"]
    for st in suslov["statements"]:
        assert TEXT[st["start"]:st["end"]] == st["text"] and st["page"] is None
    assert c.predict(SOURCE, api_name="/speakers") == speakers
    with pytest.raises(Exception, match="is not an indexed document"):
        c.predict("nope.txt", api_name="/speakers")


def test_speakers_panel_highlights_each_statement_and_escapes():
    fake = FakeAssistant()
    html = render.speakers_panel(fake.speakers(), fake.paragraph)
    assert 'data-question="What did Dmitry Suslov say about "' in html
    # the statement holding the quote is marked inside its paragraph
    assert re.search(r"<mark>[^<]*" + re.escape(render.esc(SUSLOV_QUOTE)) + r"[^<]*</mark>", html)
    assert "Kremlin spokesman" in html and "organisation or group" in html  # the Kremlin itself speaks once
    assert "characters " in html and "p. " not in html  # a text source: spans, no pages
    from rag.types import Speaker, Statement

    evil = Speaker("<b>Eve</b>", "person", ("<i>spy</i>",), (), (Statement("e.pdf", 0, 5, "<x>!", True, page=4),))
    out = render.speakers_panel([evil])
    assert "<b>" not in out and "<i>" not in out and "<x>" not in out and "p. 4" in out
    assert render.speakers_panel([]) == render.SPEAKERS_EMPTY


def _two_turns():
    first = canned("What did Suslov say about New START?")
    paged = Answer(**{**canned("What did the ambassador say about sanctions?").__dict__})
    paged = Answer(**{**paged.__dict__, "citations": tuple(
        Citation(**{**c.__dict__, "page": 7}) for c in paged.citations)})
    return [("What did Suslov say about New START?", first, None),
            ("Why?", None, "The question is too vague."),
            ("What did the ambassador say about sanctions?", paged, None)]


def test_markdown_export_has_numbered_footnotes_with_quote_document_place_and_speaker():
    md = render.conversation_markdown(_two_turns(), "2026-11-29 14:00 UTC")
    assert md.startswith("# Conversation with the documents\n\nExported 2026-11-29 14:00 UTC.")
    assert "## 1. What did Suslov say about New START?" in md
    assert "is outdated [^1], and that" in md and "impossible now [^2]." in md
    assert "[^1]: “" + " ".join(SUSLOV_QUOTE.split()) + "” — Dmitry Suslov. " + SOURCE + ", characters " in md
    assert "*Not answered: The question is too vague.*" in md
    # numbering runs through the file; a paged source gives its page
    assert "humanitarian assistance [^3]." in md
    assert "[^3]: “" + SULLIVAN + "” — John Sullivan. " + SOURCE + ", p. 7, section “'Propaganda Victory'”." in md
    assert "[1]" not in md and "[2]" not in md


def test_json_export_is_a_list_of_ask_json_objects():
    data = json.loads(json.dumps(render.conversation_json(_two_turns())))
    assert [d["question"] for d in data] == ["What did Suslov say about New START?",
                                             "What did the ambassador say about sanctions?"]
    assert set(data[0]) == set(canned("x").to_json())
    assert data[1]["citations"][0]["page"] == 7 and data[0]["citations"][0]["page"] is None


def test_export_files_follow_the_conversation():
    demo = build_app(FakeAssistant())
    respond = _handler(demo, "respond")
    export = _handler(demo, "export")
    md, js = export(None)
    assert md["interactive"] is False and md["value"] is None
    *_, (_chat, _src, _box, _btn, state) = respond("What did Suslov say about New START?", None)
    md, js = export(state)
    assert md["interactive"] is True
    text = Path(md["value"]).read_text(encoding="utf-8")
    assert "[^1]: “" in text and "Dmitry Suslov" in text
    assert json.loads(Path(js["value"]).read_text(encoding="utf-8"))[0]["citations"][0]["marker"] == 1


def test_upload_progress_comes_from_the_real_indexer(tmp_path, make_assistant):
    """A real Assistant (fake models): the bar moves with files read, documents analysed, batches embedded."""
    from pdfmaker import COUNCIL_PAGES, make_pdf

    assistant = make_assistant(embedding={"batch_size": 8})
    demo = build_app(assistant)
    pdf = tmp_path / "hearing.pdf"
    pdf.write_bytes(make_pdf(COUNCIL_PAGES * 4))
    seen = []

    def progress(fraction, desc=None, **_):
        seen.append((fraction, desc))

    status, *_ = _handler(demo, "upload")([str(pdf)], 0, progress=progress)
    assert "Added" in status and "hearing.pdf" in status
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    descs = [d for _, d in seen]
    assert any(d.startswith("Reading files: ") for d in descs)
    assert any(d.startswith("Finding sentences and speakers: ") for d in descs)
    embedding = [d for d in descs if d.startswith("Embedding passages: ")]
    assert len(embedding) >= 3  # one step per batch of 8 passages
    assert embedding[-1].split(": ")[1].split("/")[0] == embedding[-1].split("/")[1]
    assert any(d["source"].endswith("hearing.pdf") for d in assistant.documents())
