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
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

import gradio as gr

from rag import IngestError, QuestionError, RagError, Settings, add_settings_options

from ui import render
from ui.assets import CITE_JS, CSS

log = logging.getLogger("ui")

EXAMPLES = [
    "What did Suslov say about New START?",
    'Who said "We had a great call"?',
    "What did the U.S. ambassador to Russia say about sanctions?",
    "What did Angela Merkel say about the reset?",
]

# One local model: the answer, ask and indexing events share one slot.
MODEL_SLOT = "model"


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
    extensions = list(settings.ingest.extensions)

    # ------------------------------------------------------------------ helpers

    def paragraph(source: str, start: int, end: int):
        return assistant.paragraph(source, start, end)

    def docs_outputs():
        try:
            docs = assistant.documents()
        except RagError as exc:
            return f'<div class="docs-empty">{render.esc(str(exc))}</div>', gr.update(choices=[], value=None)
        removable = [d["source"] for d in docs if d.get("removable")]
        return render.documents_table(docs), gr.update(choices=removable, value=None)

    def status_markdown() -> str:
        try:
            llm = assistant.llm_status()
        except Exception as exc:  # status must never break the page
            llm = f"unknown ({exc})"
        r = settings.retrieval
        lines = [
            f"**Language model:** {render.esc_md(llm)}",
            f"**Evidence token budget:** {r.evidence_tokens} tokens retrieved"
            f" (the model reads the first {settings.answer.llm_evidence_tokens})",
            f"**Settings hash:** `{settings.hash()}`",
            f"**Upload limit:** {_fmt_bytes(max_bytes)} · {', '.join(extensions)}",
        ]
        if startup_error:
            lines.append(f"**Start-up problem:** {render.esc_md(startup_error)}")
        return "\n\n".join(lines)

    def banner() -> str:
        try:
            llm = assistant.llm_status()
        except Exception as exc:
            llm = f"unknown ({exc})"
        return render.status_banner(llm, startup_error)

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
            return render.sources_panel(state.last_answer, paragraph)

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
            yield failed(str(exc))
            return
        except Exception as exc:  # never let one question break the session
            log.exception("answering %r failed", question)
            yield failed(f"Something went wrong while answering ({type(exc).__name__}: {exc}).")
            return
        if answer is None:
            yield failed("The assistant returned no answer.")
            return
        state.turns.append((question, answer, None))
        yield (
            _messages(state),
            render.sources_panel(answer, paragraph),
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
            return assistant.ask(question or "").to_json()
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    def chat_api(question: str, state: Optional[ChatState]):
        """Answer within the client's own conversation; outputs: answer JSON, state."""
        state = state if state is not None else ChatState()
        if state.session is None:
            state.session = assistant.chat()
        try:
            answer = state.session.ask(question or "")
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return answer.to_json(), state

    def upload(path: Optional[str], progress=gr.Progress()):
        """Index an uploaded file; outputs: status, documents, remove choices, file box."""
        if not path:
            return ("No file was received.", *docs_outputs(), None)
        name = os.path.basename(path)
        try:
            size = os.path.getsize(path)
        except OSError:
            size = 0
        if size > max_bytes:
            message = (
                f"{name} is {_fmt_bytes(size)}; the limit is {_fmt_bytes(max_bytes)} "
                "(setting ingest.max_file_bytes, env RAG_INGEST__MAX_FILE_BYTES). Nothing was added."
            )
            gr.Warning(message)
            return (message, *docs_outputs(), None)
        progress(0.05, desc=f"Reading and indexing {name}…")
        try:
            source = assistant.add_file(path)
        except (IngestError, RagError) as exc:
            message = f"Could not add {name}: {exc}"
            gr.Warning(message)
            return (message, *docs_outputs(), None)
        except Exception as exc:
            log.exception("add_file(%s) failed", path)
            message = f"Could not add {name}: {type(exc).__name__}: {exc}"
            gr.Warning(message)
            return (message, *docs_outputs(), None)
        progress(1.0, desc="Done")
        gr.Info(f"Added {source}", duration=4)
        return (f"Added **{source}**: you can ask about it now.", *docs_outputs(), None)

    def remove(source: Optional[str]):
        """Remove an uploaded document; outputs: status, documents, remove choices."""
        if not source:
            gr.Warning("Choose an uploaded document to remove.")
            return ("Choose an uploaded document to remove.", *docs_outputs())
        try:
            assistant.remove_document(source)
        except (RagError, KeyError) as exc:
            message = f"Could not remove {source}: {exc}"
            gr.Warning(message)
            return (message, *docs_outputs())
        return (f"Removed **{source}**.", *docs_outputs())

    def documents() -> list[dict]:
        return assistant.documents()

    # ------------------------------------------------------------------ layout

    with gr.Blocks(title="Ask the documents", analytics_enabled=False) as demo:
        state = gr.State(None)
        gr.Markdown(
            "# Ask the documents\nAnswers come only from the indexed documents, "
            "and every claim links to the exact sentence it rests on.",
            elem_id="rag-title",
        )
        banner_html = gr.HTML(banner(), elem_id="status-banner")
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
        with gr.Accordion("Documents", open=False, elem_id="documents"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    docs_html = gr.HTML(render.documents_table([]), elem_id="docs-list")
                with gr.Column(scale=2):
                    upload_box = gr.File(
                        label=f"Add a document ({', '.join(extensions)}, up to {_fmt_bytes(max_bytes)})",
                        file_types=extensions,
                        file_count="single",
                        type="filepath",
                        height=150,
                        elem_id="upload",
                    )
                    upload_status = gr.Markdown("", elem_id="upload-status")
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
            show_progress="hidden",
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
        clear_btn.click(**clear_io)
        chatbot.clear(**clear_io)

        gr.api(
            ask,
            api_name="ask",
            concurrency_limit=1,
            concurrency_id=MODEL_SLOT,
        )
        upload_box.upload(
            upload,
            [upload_box],
            [upload_status, docs_html, remove_choice, upload_box],
            api_name="upload",
            concurrency_limit=1,
            concurrency_id=MODEL_SLOT,
            show_progress="full",
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
    **kwargs: Any,
):
    """``demo.launch`` with the options this app needs (upload size limit, no telemetry)."""
    options: dict[str, Any] = dict(
        server_name=host,
        server_port=port,
        share=share,
        max_file_size=int(assistant.settings.ingest.max_file_bytes),
        footer_links=["api"],
        run_history=False,
        show_error=True,
        theme=make_theme(),
    )
    options.update(kwargs)
    return demo.launch(**options)


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
        assistant, startup_error = make_assistant(Settings.from_args(args))
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    demo = build_app(assistant, startup_error=startup_error)
    print(f"Open http://{args.host}:{args.port} in a browser (Ctrl+C to stop).")
    launch_app(demo, assistant, host=args.host, port=args.port, share=bool(args.share))
    return 0
