"""The Gradio chat for the assistant: presentation only, on top of ``rag``'s public API.

    python -m ui [--host 127.0.0.1] [--port 7860] [--share] [--docs PATH ...]
                 [--backend B] [--model-path FILE] [--base-url URL] [--model NAME] [--data-dir DIR]

``build_app(assistant)`` returns the ``gr.Blocks`` (queue already configured);
``launch_app`` starts it with the settings-derived launch options.

API endpoints for ``gradio_client``:
  * ``/ask``       question (str) -> the answer JSON (``Answer.to_json()``)
  * ``/chat``      question (str) -> the answer JSON, within this client's conversation
                   (follow-ups resolved as in the browser chat)
  * ``/upload``    a .txt/.md/.html file -> (status message, documents, ...)
  * ``/documents`` -> the document list (``assistant.documents()``)
  * ``/remove``    source id -> (status message, documents, ...)
  * ``/speakers``  source id or "" -> every speaker as JSON (``Speaker.to_json()``)

Documents are shown (on the page and through the API) by public names, never
by absolute server paths (``ui.paths``): a source outside the project is
``uploads/<name>`` or the shortest unique ending of its path.

The "Speakers" tab lists who said what (``assistant.speakers()``); the chat
offers the conversation as Markdown with footnotes and as ``rag ask --json``
objects (``render.conversation_markdown`` / ``conversation_json``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import gradio as gr

from rag import ConfigError, IngestError, QuestionError, RagError, Settings, add_settings_options

from ui import render
from ui.paths import PublicNames, without_server_paths  # noqa: F401  (without_server_paths: used by tests)
from ui.assets import CITE_JS, CSS, SPEAKER_JS

log = logging.getLogger("ui")

EXAMPLES = [
    "What did Suslov say about New START?",
    'Who said "We had a great call"?',
    "What did the U.S. ambassador to Russia say about sanctions?",
    "What did Angela Merkel say about the reset?",
]

# One local model: the answer, ask and indexing events share one slot.
MODEL_SLOT = "model"

ALL_DOCUMENTS = "All documents"


@dataclass
class ChatState:
    """One browser session's conversation (kept in ``gr.State``)."""

    session: Any = None  # rag ChatSession, created on the first question
    turns: list = field(default_factory=list)  # [(question, Answer | None, error | None)]

    @property
    def last_answer(self):
        for _q, answer, _err in reversed(self.turns):
            if answer is not None:
                return answer
        return None


def _messages(state: ChatState, pending: Optional[tuple[str, str]] = None) -> list[dict]:
    """The chat as Gradio messages; only the latest answer's markers are links."""
    out: list[dict] = []
    last = state.last_answer
    for question, answer, error in state.turns:
        out.append({"role": "user", "content": render.user_message(question)})
        if answer is not None:
            content = render.answer_message(answer, linked=answer is last and pending is None)
        else:
            content = render.error_message(error or "Something went wrong.")
        out.append({"role": "assistant", "content": content})
    if pending is not None:
        question, draft = pending
        out.append({"role": "user", "content": render.user_message(question)})
        out.append({"role": "assistant", "content": render.pending_message(draft)})
    return out


_DONE = object()


class ThreadedStream:
    """Run ``make_iterator()`` on a worker thread; the consumer takes its items from a queue.

    Why a thread: the chat shows the question (and a busy button) as soon as
    it is accepted, yet must refuse an unusable one (empty, too long) before
    showing it. A ``rag`` stream raises ``QuestionError`` at its first step,
    but a good question's first item comes only after retrieval and the LLM's
    prompt, or, for a refusal, an extractive answer or a slow server, with the
    whole answer. Run here, ``wait_first`` can wait a moment for an immediate
    error and then let the UI show the question while the answer is made.
    (Which thread runs a ``rag`` stream does not matter otherwise: no lock is
    held across its yields, see docs/API_CONTRACT.md.)

    Exceptions are re-raised in the consumer. ``close()`` (the browser went
    away) makes the worker stop and close the stream at its next item, which
    stops the LLM.
    """

    def __init__(self, make_iterator: Callable[[], Iterator], name: str = "rag-stream"):
        self._items: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._buffer: list = []
        self._finished = False
        self._make_iterator = make_iterator
        threading.Thread(target=self._produce, name=name, daemon=True).start()

    def _produce(self) -> None:
        iterator = None
        try:
            iterator = iter(self._make_iterator())
            for item in iterator:
                self._items.put((item, None))
                if self._stop.is_set():
                    break
        except BaseException as exc:  # handed to the consumer
            self._items.put((None, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.exception("closing the answer stream failed")
            self._items.put((_DONE, None))

    def wait_first(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for the first item; raise now if the stream failed at once.

        Lets the UI reject an unusable question without first showing it as asked.
        """
        if self._buffer or self._finished:
            return
        try:
            entry = self._items.get(timeout=timeout)
        except queue.Empty:
            return
        if entry[1] is not None:
            self._finished = True
            raise entry[1]
        self._buffer.append(entry)

    def __iter__(self):
        return self

    def __next__(self):
        if self._finished:
            raise StopIteration
        item, exc = self._buffer.pop(0) if self._buffer else self._items.get()
        if exc is not None:
            self._finished = True
            raise exc
        if item is _DONE:
            self._finished = True
            raise StopIteration
        return item

    def close(self) -> None:
        self._stop.set()

    def __del__(self):
        self._stop.set()


def _fmt_bytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n / 1000:.0f} kB"


def build_app(assistant: Any, startup_error: Optional[str] = None) -> gr.Blocks:
    """The whole page for ``assistant`` (anything implementing the rag public API)."""
    settings = assistant.settings
    max_bytes = int(settings.ingest.max_file_bytes)
    ui_settings = getattr(settings, "ui", None)
    max_session_bytes = int(ui_settings.max_session_upload_bytes) if ui_settings is not None else max_bytes
    extensions = list(settings.ingest.extensions)

    # ------------------------------------------------------------------ helpers

    # The page shows public names, never absolute server paths (ui.paths): every
    # source id going out is mapped, every name coming back is mapped back.
    def names(docs: Optional[list[dict]] = None) -> PublicNames:
        if docs is None:
            try:
                docs = assistant.documents()
            except RagError:
                docs = []
        removable = [str(d["source"]) for d in docs if d.get("removable")]
        uploads = removable[0].rsplit("/", 1)[0] if removable else None
        return PublicNames([str(d["source"]) for d in docs], uploads=uploads)

    def paragraph_in(nm: PublicNames):
        return lambda source, start, end: assistant.paragraph(nm.private(source), start, end)

    def docs_outputs():
        try:
            docs = assistant.documents()
        except RagError as exc:
            return (f'<div class="docs-empty">{render.esc(without_server_paths(str(exc)))}</div>',
                    gr.update(choices=[], value=None))
        nm = names(docs)
        removable = [nm.public(d["source"]) for d in docs if d.get("removable")]
        return render.documents_table(nm.documents(docs)), gr.update(choices=removable, value=None)

    def status_markdown() -> str:
        try:
            llm = assistant.llm_status()
        except Exception as exc:  # status must never break the page
            llm = f"unknown ({exc})"
        r = settings.retrieval
        lines = [
            f"**Language model:** {render.esc_md(without_server_paths(llm))}",
            f"**Evidence token budget:** {r.evidence_tokens} tokens retrieved"
            f" (the model reads the first {settings.answer.llm_evidence_tokens})",
            f"**Settings hash:** `{settings.hash()}`",
            f"**Upload limits:** {_fmt_bytes(max_bytes)} per file, {_fmt_bytes(max_session_bytes)} per session, "
            f"{_fmt_bytes(int(getattr(settings.ingest, 'max_upload_bytes', 0)))} for all uploads · {', '.join(extensions)}",
        ]
        if startup_error:
            lines.append(f"**Start-up problem:** {render.esc_md(without_server_paths(startup_error))}")
        return "\n\n".join(lines)

    def banner() -> str:
        try:
            llm = assistant.llm_status()
        except Exception as exc:
            llm = f"unknown ({exc})"
        return render.status_banner(without_server_paths(llm),
                                    without_server_paths(startup_error) if startup_error else startup_error)

    # ------------------------------------------------------------------ events

    busy_btn = dict(value="Answering…", interactive=False)
    idle_btn = dict(value="Ask", interactive=True)

    def respond(question: str, state: Optional[ChatState]):
        """Stream one answer into the chat; outputs: chatbot, sources, textbox, ask button, state.

        The textbox is cleared once, when the question is shown: later updates
        leave it alone so a person can type the next question meanwhile.
        """
        state = state if state is not None else ChatState()
        question = question or ""
        shown = False

        def keep_sources():
            return render.sources_panel(state.last_answer, paragraph_in(names()))

        def failed(message: str):
            gr.Warning(message)
            state.turns.append((question, None, message))
            return _messages(state), keep_sources(), gr.skip() if shown else question, gr.update(**idle_btn), state

        try:
            if state.session is None:
                state.session = assistant.chat()
            session = state.session
            stream = ThreadedStream(lambda: session.stream(question))
            try:
                stream.wait_first(0.3)  # an empty/too long question fails right away
                shown = True
                yield (
                    _messages(state, (question, "")),
                    render.SOURCES_PENDING,
                    "",
                    gr.update(**busy_btn),
                    state,
                )
                draft = ""
                answer = None
                for item in stream:
                    if isinstance(item, str):
                        draft += item
                        yield _messages(state, (question, draft)), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                    else:
                        answer = item
            finally:
                stream.close()
        except QuestionError as exc:
            gr.Warning(str(exc))
            # the question was not asked: give it back for editing
            yield _messages(state), keep_sources(), question, gr.update(**idle_btn), state
            return
        except RagError as exc:
            yield failed(without_server_paths(str(exc)))
            return
        except Exception as exc:  # never let one question break the session
            log.exception("answering %r failed", question)
            yield failed(f"Something went wrong while answering ({type(exc).__name__}: "
                         f"{without_server_paths(str(exc))}).")
            return
        if answer is None:
            yield failed("The assistant returned no answer.")
            return
        nm = names()
        answer = nm.answer(answer)  # the session keeps its own copy, with the real source ids
        state.turns.append((question, answer, None))
        yield (
            _messages(state),
            render.sources_panel(answer, paragraph_in(nm)),
            gr.skip(),
            gr.update(**idle_btn),
            state,
        )

    def clear(state: Optional[ChatState]):
        if state is not None and state.session is not None:
            try:
                state.session.reset()
            except Exception:
                log.exception("reset failed")
        return [], render.SOURCES_EMPTY, gr.update(**idle_btn), ChatState()

    def example_to_textbox(evt: gr.SelectData):
        value = evt.value
        if isinstance(value, dict):
            value = value.get("text") or value.get("display_text") or ""
        return str(value or "")

    def ask(question: str) -> dict:
        """Answer one question (no conversation) and return the answer JSON."""
        try:
            answer = assistant.ask(question or "")
        except RagError as exc:
            raise gr.Error(without_server_paths(str(exc)), print_exception=False) from None
        return names().answer(answer).to_json()

    def chat_api(question: str, state: Optional[ChatState]):
        """Answer within the client's own conversation; outputs: answer JSON, state."""
        state = state if state is not None else ChatState()
        if state.session is None:
            state.session = assistant.chat()
        try:
            answer = state.session.ask(question or "")
        except RagError as exc:
            raise gr.Error(without_server_paths(str(exc)), print_exception=False) from None
        return names().answer(answer).to_json(), state

    def upload_one(path: str, session_bytes: int, step=None) -> tuple[bool, str, int]:
        """Add one uploaded file: (added?, a message naming only the file, its size)."""
        name = os.path.basename(path)  # Gradio keeps the browser's file name; never show the folder
        try:
            size = os.path.getsize(path)
        except OSError:
            return False, f"Could not add {name}: it was not received completely. Upload it again.", 0
        if size > max_bytes:
            return False, (
                f"{name} is {_fmt_bytes(size)}; the limit is {_fmt_bytes(max_bytes)} "
                "(setting ingest.max_file_bytes, env RAG_INGEST__MAX_FILE_BYTES). Nothing was added."
            ), 0
        if session_bytes + size > max_session_bytes:
            return False, (
                f"Could not add {name}: this session has uploaded {_fmt_bytes(session_bytes)} and the limit "
                f"per session is {_fmt_bytes(max_session_bytes)} (RAG_UI__MAX_SESSION_UPLOAD_BYTES)."
            ), 0
        try:
            source = assistant.add_file(path, name=name, progress=step)
        except IngestError as exc:  # its message starts with the file's name
            return False, f"Could not add {without_server_paths(str(exc))}", 0
        except RagError as exc:
            return False, f"Could not add {name}: {without_server_paths(str(exc))}", 0
        except Exception:
            log.exception("add_file(%s) failed", path)  # the details go to the server log only
            return False, f"Could not add {name}: an unexpected error (details are in the server's log).", 0
        # The source id is absolute when the data dir is outside the project: show its public name.
        return True, f"Added **{names().public(source)}**: you can ask about it now.", size

    def upload(paths, session_bytes: Optional[int], progress=gr.Progress()):
        """Index uploaded files, one at a time; outputs: status, documents, remove choices, file box, session bytes.

        A file that is refused (type, size, limits) is reported by name and
        the others are still added.
        """
        session_bytes = int(session_bytes or 0)
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        paths = [str(p) for p in (paths or []) if p]
        if not paths:
            return ("No file was received.", *docs_outputs(), None, session_bytes)
        lines = []
        # Real steps from the indexer: files read, documents analysed, passages
        # embedded. Embedding is most of the time, so it gets most of each file's share of the bar.
        spans = {"reading": (0.02, 0.15), "analysing": (0.15, 0.30), "embedding": (0.30, 0.98)}
        words = {"reading": "Reading files", "analysing": "Finding sentences and speakers",
                 "embedding": "Embedding passages"}
        for i, path in enumerate(paths):
            name = os.path.basename(path)
            progress((i + 0.02) / len(paths), desc=f"Reading {name}…")

            def step(stage: str, done: int, total: int, i=i) -> None:
                lo, hi = spans.get(stage, (0.02, 0.98))
                progress((i + lo + (hi - lo) * (done / max(total, 1))) / len(paths),
                         desc=f"{words.get(stage, stage)}: {done}/{total}")

            added, message, size = upload_one(path, session_bytes, step)
            session_bytes += size
            if added:
                gr.Info(message.replace("**", ""), duration=4)
            else:
                gr.Warning(message)
            lines.append(message)
        progress(1.0, desc="Done")
        return ("\n\n".join(lines), *docs_outputs(), None, session_bytes)

    def remove(source: Optional[str]):
        """Remove an uploaded document; outputs: status, documents, remove choices."""
        if not source:
            gr.Warning("Choose an uploaded document to remove.")
            return ("Choose an uploaded document to remove.", *docs_outputs())
        shown = without_server_paths(source)
        try:
            assistant.remove_document(names().private(source))
        except (RagError, KeyError) as exc:
            message = f"Could not remove {shown}: {without_server_paths(str(exc))}"
            gr.Warning(message)
            return (message, *docs_outputs())
        return (f"Removed **{shown}**.", *docs_outputs())

    def documents() -> list[dict]:
        return names().documents(assistant.documents())

    # ------------------------------------------------------------------ speakers

    def speakers_view(choice: Optional[str]) -> str:
        nm = names()
        source = None if choice in (None, "", ALL_DOCUMENTS) else nm.private(choice)
        try:
            return render.speakers_panel(nm.speakers(assistant.speakers(source)), paragraph_in(nm))
        except RagError as exc:
            return f'<div class="docs-empty">{render.esc(without_server_paths(str(exc)))}</div>'

    def open_speakers(choice: Optional[str]):
        """Opening the tab: the current documents as filter choices, and the list."""
        try:
            docs = assistant.documents()
        except RagError:
            docs = []
        nm = names(docs)
        sources = [nm.public(d["source"]) for d in docs]
        if choice not in sources:
            choice = ALL_DOCUMENTS
        return gr.update(choices=[ALL_DOCUMENTS, *sources], value=choice), speakers_view(choice)

    def speakers(source: str = "") -> list[dict]:
        """Every speaker (of one document, when ``source`` names it) as JSON."""
        nm = names()
        try:
            return [sp.to_json() for sp in nm.speakers(assistant.speakers(nm.private(source) or None))]
        except RagError as exc:
            raise gr.Error(without_server_paths(str(exc)), print_exception=False) from None

    # ------------------------------------------------------------------ export

    export_dir = tempfile.mkdtemp(prefix="rag-export-")

    def export(state: Optional[ChatState]):
        """The conversation as Markdown and JSON files for the two download buttons."""
        turns = state.turns if state is not None else []
        if not any(answer is not None for _q, answer, _e in turns):
            off = gr.update(value=None, interactive=False)
            return off, off
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        folder = tempfile.mkdtemp(prefix=f"{stamp}-", dir=export_dir)
        md_path = os.path.join(folder, f"conversation-{stamp}.md")
        json_path = os.path.join(folder, f"conversation-{stamp}.json")
        with open(md_path, "w", encoding="utf-8") as fh:
            fh.write(render.conversation_markdown(turns, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
        with open(json_path, "w", encoding="utf-8") as fh:
            json.dump(render.conversation_json(turns), fh, ensure_ascii=False, indent=1)
        return gr.update(value=md_path, interactive=True), gr.update(value=json_path, interactive=True)

    # ------------------------------------------------------------------ layout

    with gr.Blocks(title="Ask the documents", analytics_enabled=False) as demo:
        state = gr.State(None)
        gr.Markdown(
            "# Ask the documents\nAnswers come only from the indexed documents, "
            "and every claim links to the exact sentence it rests on.",
            elem_id="rag-title",
        )
        banner_html = gr.HTML(banner(), elem_id="status-banner")
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("Chat", id="chat-tab", elem_id="chat-tab"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=380):
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            elem_id="chat",
                            height=560,
                            placeholder="**Ask a question about the documents**\n\nor pick an example:",
                            examples=[{"text": q} for q in EXAMPLES],
                            sanitize_html=True,
                            render_markdown=True,
                            latex_delimiters=[],
                            feedback_options=None,
                            buttons=[],
                            layout="bubble",
                        )
                        with gr.Row(equal_height=True):
                            question_box = gr.Textbox(
                                placeholder="Ask a question about the documents…",
                                show_label=False,
                                lines=1,
                                max_lines=4,
                                scale=6,
                                elem_id="question",
                                autofocus=True,
                            )
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                        with gr.Row():
                            clear_btn = gr.Button(
                                "Clear conversation",
                                variant="secondary",
                                size="sm",
                                scale=0,
                                min_width=160,
                                elem_id="clear",
                            )
                            # Filled after every answer: the conversation so far, as files.
                            md_download = gr.DownloadButton(
                                "Download Markdown", value=None, size="sm", variant="secondary", scale=0,
                                min_width=170, elem_id="export-md", interactive=False,
                            )
                            json_download = gr.DownloadButton(
                                "Download JSON", value=None, size="sm", variant="secondary", scale=0,
                                min_width=150, elem_id="export-json", interactive=False,
                            )
                    with gr.Column(scale=2, min_width=320):
                        sources_html = gr.HTML(
                            render.SOURCES_EMPTY,
                            elem_id="sources-panel",
                            label="Sources",
                            show_label=False,
                            max_height=640,
                            container=True,
                            padding=True,
                            head=CSS,
                            js_on_load=CITE_JS,
                        )
            with gr.Tab("Speakers", id="speakers-tab", elem_id="speakers-tab") as speakers_tab:
                gr.Markdown(
                    "Everyone the documents quote or report, with their roles as the documents state them, "
                    "and everything the assistant attributes to them, in document order.",
                    elem_id="speakers-intro",
                )
                speakers_doc = gr.Dropdown(
                    choices=[ALL_DOCUMENTS], value=ALL_DOCUMENTS, label="Document",
                    elem_id="speakers-doc", scale=0, min_width=320,
                )
                speakers_html = gr.HTML(
                    render.SPEAKERS_EMPTY, elem_id="speakers-list", container=True, padding=True,
                    js_on_load=SPEAKER_JS,
                )
        with gr.Accordion("Documents", open=False, elem_id="documents"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    docs_html = gr.HTML(render.documents_table([]), elem_id="docs-list")
                with gr.Column(scale=2):
                    upload_box = gr.File(
                        label=f"Add a document ({', '.join(extensions)}, up to {_fmt_bytes(max_bytes)})",
                        file_types=extensions,
                        file_count="multiple",
                        type="filepath",
                        height=150,
                        elem_id="upload",
                    )
                    upload_status = gr.Markdown("", elem_id="upload-status")
                    session_upload_bytes = gr.State(0)
                    remove_choice = gr.Dropdown(
                        choices=[],
                        label="Remove an uploaded document",
                        allow_custom_value=True,
                        elem_id="remove-choice",
                    )
                    with gr.Row():
                        remove_btn = gr.Button(
                            "Remove", size="sm", variant="stop", scale=0, min_width=120, elem_id="remove"
                        )
        with gr.Accordion("Settings & status", open=False, elem_id="settings"):
            status_md = gr.Markdown(status_markdown())
            with gr.Row():
                refresh_btn = gr.Button("Refresh status", size="sm", scale=0, min_width=140)

        # -------------------------------------------------------------- wiring
        chat_io = dict(
            fn=respond,
            inputs=[question_box, state],
            outputs=[chatbot, sources_html, question_box, ask_btn, state],
            concurrency_limit=1,
            concurrency_id=MODEL_SLOT,
            # While the question waits for the model slot, the chat shows its place
            # in the queue ("queue: 3/7 | 41.2s"): with a slow model and many users
            # the wait is minutes, and a page that shows nothing looks hung.
            show_progress="minimal",
            show_progress_on=[chatbot],
            api_visibility="private",
        )
        answer_events = [
            question_box.submit(**chat_io),
            ask_btn.click(**chat_io),
            chatbot.example_select(
                example_to_textbox,
                None,
                [question_box],
                queue=False,
                api_visibility="private",
            ).then(**chat_io),
        ]

        clear_io = dict(
            fn=clear,
            inputs=[state],
            outputs=[chatbot, sources_html, ask_btn, state],
            queue=False,
            api_visibility="private",
            cancels=answer_events,  # stop an answer that is still streaming
        )
        export_io = dict(
            fn=export, inputs=[state], outputs=[md_download, json_download], queue=False,
            api_visibility="private", show_progress="hidden",
        )
        for event in answer_events:
            event.then(**export_io)
        clear_btn.click(**clear_io).then(**export_io)
        chatbot.clear(**clear_io).then(**export_io)

        speakers_tab.select(
            open_speakers, [speakers_doc], [speakers_doc, speakers_html], api_visibility="private",
            concurrency_limit=None,
        )
        speakers_doc.input(speakers_view, [speakers_doc], [speakers_html], api_visibility="private",
                           concurrency_limit=None)
        gr.api(speakers, api_name="speakers", concurrency_limit=None)

        gr.api(
            ask,
            api_name="ask",
            concurrency_limit=1,
            concurrency_id=MODEL_SLOT,
        )
        upload_box.upload(
            upload,
            [upload_box, session_upload_bytes],
            [upload_status, docs_html, remove_choice, upload_box, session_upload_bytes],
            api_name="upload_files",
            concurrency_limit=1,
            concurrency_id=MODEL_SLOT,
            show_progress="full",
        )
        # The API's /upload takes one file, as it always has: an invisible
        # single-file input and button carry it (the page's box takes several).
        api_file = gr.File(file_count="single", type="filepath", visible=False)
        api_upload_btn = gr.Button(visible=False)
        api_upload_btn.click(
            upload,
            [api_file, session_upload_bytes],
            [upload_status, docs_html, remove_choice, api_file, session_upload_bytes],
            api_name="upload",
            concurrency_limit=1,
            concurrency_id=MODEL_SLOT,
        )
        remove_btn.click(
            remove,
            [remove_choice],
            [upload_status, docs_html, remove_choice],
            api_name="remove",
            concurrency_limit=1,
            concurrency_id=MODEL_SLOT,
        )
        gr.api(documents, api_name="documents", concurrency_limit=None)
        # API only (gradio_client): a conversation per client session, kept in
        # the same per-session state as the browser chat. Nothing on the page
        # shows or triggers these two components.
        chat_json = gr.JSON(visible=False)
        chat_trigger = gr.Button(visible=False)
        chat_trigger.click(
            chat_api,
            [question_box, state],
            [chat_json, state],
            api_name="chat",
            concurrency_limit=1,
            concurrency_id=MODEL_SLOT,
        )

        def on_load():
            return (banner(), *docs_outputs(), status_markdown())

        load_io = dict(
            fn=on_load,
            inputs=None,
            outputs=[banner_html, docs_html, remove_choice, status_md],
            concurrency_limit=None,
            api_visibility="private",
            show_progress="hidden",
        )
        demo.load(**load_io)
        refresh_btn.click(**load_io)

    # A bounded queue: past ui.queue_max_size waiting requests, the next one is
    # told at once that the server is busy rather than left waiting.
    demo.queue(default_concurrency_limit=1, max_size=settings.ui.queue_max_size)
    return demo


def make_theme() -> gr.themes.Base:
    """Gradio's default theme in blue, with the system's own fonts (nothing fetched)."""
    return gr.themes.Default(
        primary_hue="blue",
        secondary_hue="slate",
        neutral_hue="slate",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )


def launch_app(
    demo: gr.Blocks,
    assistant: Any,
    *,
    host: str = "127.0.0.1",
    port: Optional[int] = 7860,
    share: bool = False,
    auth: Optional[list[tuple[str, str]]] = None,
    **kwargs: Any,
):
    """``demo.launch`` with the options this app needs (upload size limit, no telemetry).

    ``auth``: the logins from ``login_config``; ``launch_app`` itself refuses
    an exposed address or a share link without them, whoever calls it.
    """
    if (share or not is_loopback(host)) and not auth:
        raise ConfigError(
            f"Refusing to serve the chat on {host}{' with a share link' if share else ''} without a login. "
            "Fix: set RAG_UI__AUTH='user:password' (or RAG_UI__AUTH_FILE), or use 127.0.0.1."
        )
    options: dict[str, Any] = dict(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth or None,
        auth_message="Log in to ask the documents." if auth else None,
        max_file_size=int(assistant.settings.ingest.max_file_bytes),
        footer_links=["api"],
        run_history=False,
        show_error=True,
        theme=make_theme(),
    )
    options.update(kwargs)
    return demo.launch(**options)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost).

    Example: ``is_loopback("127.0.0.1")`` -> True; ``is_loopback("0.0.0.0")`` -> False
    """
    import ipaddress

    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def _parse_logins(text: str, where: str) -> list[tuple[str, str]]:
    """``user:password`` entries (comma- or line-separated); the password is never echoed."""
    logins = []
    for n, entry in enumerate(text.replace(",", "\n").splitlines(), 1):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        user, sep, password = entry.partition(":")
        if not sep or not user.strip() or not password:
            raise ConfigError(
                f"{where}: entry {n} is not 'user:password' (the user and a non-empty password, "
                "separated by a colon). Fix it or unset it."
            )
        logins.append((user.strip(), password))
    return logins


def login_config(settings: Settings, host: str, share: bool) -> Optional[list[tuple[str, str]]]:
    """The logins ``launch`` must require, from ``ui.auth`` / ``ui.auth_file``; None when there are none.

    Raises ``ConfigError`` when the chat would be reachable from other machines
    (a non-loopback ``host``, or ``share``) without any login configured:
    documents and uploads must never be opened to a network by accident, and
    there is no default password to fall back on.
    """
    ui = settings.ui
    logins: list[tuple[str, str]] = []
    if ui.auth is not None:
        logins += _parse_logins(ui.auth.get_secret_value(), "RAG_UI__AUTH")
    if ui.auth_file is not None:
        try:
            text = Path(ui.auth_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"RAG_UI__AUTH_FILE={str(ui.auth_file)!r} cannot be read ({exc.strerror}). "
                "Fix: point it at a readable file of 'user:password' lines."
            ) from None
        logins += _parse_logins(text, f"RAG_UI__AUTH_FILE ({ui.auth_file})")
        if not logins:
            raise ConfigError(f"RAG_UI__AUTH_FILE ({ui.auth_file}) has no 'user:password' line. Add one.")
    exposed = [] if is_loopback(host) else [f"--host {host}"]
    if share:
        exposed.append("--share")
    if exposed and not logins:
        raise ConfigError(
            f"Refusing to start: {' and '.join(exposed)} would let other machines reach the chat, "
            "its documents and its uploads, and no login is configured. Fix: set RAG_UI__AUTH='user:password' "
            "(or RAG_UI__AUTH_FILE=a file of such lines), or listen on 127.0.0.1 without --share."
        )
    return logins or None


def make_assistant(settings: Optional[Settings] = None):
    """``rag.Assistant(settings)`` (None: from the environment), then warm-up.

    Returns ``(assistant, startup_error)``; a warm-up failure (e.g. the LLM is
    unreachable) is reported, not raised, so the page still comes up.
    """
    from rag import Assistant

    assistant = Assistant(settings=settings)
    startup_error = None
    try:
        assistant.warm_up()
    except RagError as exc:
        startup_error = str(exc)
        print(f"warning: {exc}", file=sys.stderr)
    return assistant, startup_error


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rag ui", description="Start the chat in the browser (local by default)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument(
        "--share", action="store_true", default=False, help="also create a public gradio.live link"
    )
    add_settings_options(parser)
    args = parser.parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    try:
        settings = Settings.from_args(args)
        # Before anything loads: an exposed chat without a login never starts.
        logins = login_config(settings, args.host, bool(args.share))
        assistant, startup_error = make_assistant(settings)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    demo = build_app(assistant, startup_error=startup_error)
    users = f" (login required: {len(logins)} user{'s' if len(logins) != 1 else ''})" if logins else ""
    print(f"Open http://{args.host}:{args.port} in a browser{users} (Ctrl+C to stop).")
    launch_app(demo, assistant, host=args.host, port=args.port, share=bool(args.share), auth=logins)
    return 0
