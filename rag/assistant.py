"""The public entry point: ``Assistant`` and its ``ChatSession``.

``Assistant()`` answers questions about ``seeds/`` with the embedded models;
``Assistant.from_paths([...])`` about any files and folders. Everything heavy
(documents, embeddings, the LLM) is loaded on first use or by ``warm_up()``,
so constructing one is instant. ``ask`` returns an ``Answer``; ``stream``
yields the LLM's text as it is generated and the verified ``Answer`` last.

``chat()`` returns a ``ChatSession`` that resolves follow-ups ("And what did
he say about Ukraine?") against the conversation with fixed rules
(``rag.question.resolve_follow_up``) rather than asking the LLM to condense
the question, which a 135M model cannot do reliably. Uploaded files are copied under the data directory and indexed
incrementally; the index is swapped in only when the new one is complete.

What it does not do: presentation (``ui/``, ``rag.cli``) or evaluation (``eval/``).
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path
from typing import Iterator, Optional, Union

from rag.answer import Answerer
from rag.errors import IngestError, LLMError, RagError
from rag.index import CorpusIndex, index_dir, open_index
from rag.ingest import read_document, source_name
from rag.question import CorpusFacts, resolve_follow_up
from rag.retrieve import Retriever
from rag.settings import Settings
from rag.types import Answer

_DEFAULT = object()


class Assistant:
    """Question answering over a set of documents with verified citations."""

    def __init__(self, settings: Optional[Settings] = None, paths=None, llm=_DEFAULT,
                 embed_model=None, vector_store=None):
        self.settings = settings or Settings()
        self.paths = [Path(p) for p in (paths if paths is not None else self.settings.docs)]
        self._llm = llm
        self._llm_error: Optional[str] = None
        self._embed_model = embed_model
        self._vector_store = vector_store
        self._lock = threading.RLock()
        self._answerer: Optional[Answerer] = None
        self.warnings: list[str] = []

    @classmethod
    def from_paths(cls, paths, settings: Optional[Settings] = None, **kw) -> "Assistant":
        return cls(settings=settings, paths=list(paths), **kw)

    # -- loading -----------------------------------------------------------

    @property
    def uploads_dir(self) -> Path:
        return index_dir(self.settings, self.paths).with_name(
            index_dir(self.settings, self.paths).name.replace("index-", "uploads-"))

    def _all_paths(self) -> list[Path]:
        uploads = self.uploads_dir
        extra = [uploads] if uploads.is_dir() and any(uploads.iterdir()) else []
        return self.paths + extra

    def _build(self) -> Answerer:
        index = open_index(
            self.settings, self._all_paths(), embed_model=self._embed_model,
            vector_store=self._vector_store, key_paths=self.paths,
        )
        self._embed_model = index.embed_model
        self.warnings = list(index.warnings)
        return Answerer(Retriever(index, self.settings.retrieval), self.llm, self.settings, _facts(index))

    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            with self._lock:
                if self._answerer is None:
                    self._answerer = self._build()
        return self._answerer

    @property
    def index(self) -> CorpusIndex:
        return self.answerer.retriever.index

    @property
    def llm(self):
        """The LLM (llama-index interface), or None for extractive-only answers."""
        if self._llm is _DEFAULT:
            with self._lock:
                if self._llm is _DEFAULT:
                    from rag.llm import make_llm

                    try:
                        self._llm = make_llm(self.settings)
                    except RagError as exc:
                        # Answers still come, quoted from the documents; the
                        # status line and each answer's notice say why.
                        self._llm_error = str(exc)
                        self._llm = None
        return self._llm

    def warm_up(self) -> None:
        """Load the index, the embedder and the LLM now instead of on first question."""
        answerer = self.answerer
        answerer.retriever.retrieve("warm up")
        llm = self.llm
        if llm is not None and hasattr(llm, "load"):
            llm.load()
        if llm is not None:
            from rag.llm import check_llm

            try:
                check_llm(llm)
            except LLMError as exc:
                self._llm_error = str(exc)
                raise

    def llm_status(self) -> str:
        cfg = self.settings.llm
        if cfg.backend == "none":
            return "none: answers are quoted from the documents (extractive only)"
        from rag.llm import pulled_model_name

        try:
            pulled = pulled_model_name(cfg)
        except RagError:
            pulled = None  # make_llm's error is the status's "unavailable" part
        if cfg.backend == "openai":
            what = f"openai-compatible server {cfg.base_url} (model {cfg.model})"
        elif pulled:
            from rag.models import MODELS

            what = f"{pulled}: {MODELS[pulled].file_name} (pulled, SHA-256 checked)"
        elif cfg.backend == "gguf":
            what = f"gguf: {cfg.model_path}"
        else:
            what = "embedded: SmolLM2-135M-Instruct.Q4_1.gguf"
            if cfg.embedded_q8_0:
                what += " (run as its Q8_0 re-encoding)"
        if self._llm_error:
            return f"{what}: unavailable ({self._llm_error})"
        return what

    # -- questions -----------------------------------------------------------

    def stream(self, question: str) -> Iterator[Union[str, Answer]]:
        # No lock is held across yields: a UI may advance this generator from
        # several threads. The LLM serialises its own calls (one local model),
        # and an update swaps in a whole new answerer, so an answer in flight
        # finishes on the index it started with.
        from rag.answer import check_question

        check_question(question, self.settings.answer.max_question_chars)  # before loading anything
        yield from self.answerer.stream(question)

    def ask(self, question: str) -> Answer:
        return _last(self.stream(question))

    def chat(self) -> "ChatSession":
        return ChatSession(self)

    # -- documents -----------------------------------------------------------

    def documents(self) -> list[dict]:
        index = self.index
        counts: dict[str, int] = {}
        for p in index.passages:
            counts[p.source] = counts.get(p.source, 0) + 1
        uploads = source_name(self.uploads_dir)
        return [
            {"source": s, "chars": len(d.text), "passages": counts.get(s, 0),
             "removable": s.startswith(uploads + "/")}
            for s, d in sorted(index.documents.items())
        ]

    def paragraph(self, source: str, start: int, end: int) -> tuple[int, int, str]:
        """The paragraph around ``[start, end)``: (para_start, para_end, its text)."""
        index = self.index
        text = index.text_of(source)
        inside = [p for p in index.passages if p.source == source and p.start < end and p.end > start]
        if inside:
            para = inside[0].paragraph
            same = [p for p in index.passages if p.source == source and p.paragraph == para and p.kind == inside[0].kind]
            if para == 0:
                same = inside
            a, b = min(p.start for p in same), max(p.end for p in same)
        else:
            a, b = start, end
        return a, b, text[a:b]

    def add_file(self, path) -> str:
        """Copy a file into the uploads folder and index it; returns its source name.

        Raises IngestError (index unchanged) when the file cannot be used.
        """
        path = Path(path)
        read_document(path, self.settings.ingest)  # validates: raises IngestError
        with self._lock:
            uploads = self.uploads_dir
            uploads.mkdir(parents=True, exist_ok=True)
            target = uploads / _safe_name(path.name)
            n = 1
            while target.exists() and target.read_bytes() != path.read_bytes():
                target = uploads / f"{target.stem}-{n}{target.suffix}"
                n += 1
            shutil.copyfile(path, target)
            try:
                self._answerer = self._build()
            except BaseException:
                # Whatever failed, the copy must not stay: every later build
                # (and so every later question) would read it again.
                target.unlink(missing_ok=True)
                raise
            return source_name(target)

    def remove_document(self, source: str) -> None:
        with self._lock:
            entry = next((d for d in self.documents() if d["source"] == source), None)
            if entry is None:
                raise IngestError(source, "is not in the index", "Pick one of the listed documents.")
            if not entry["removable"]:
                raise IngestError(
                    source, "is one of the configured document folders' files",
                    "Remove it from that folder (or RAG_DOCS) and re-run `rag index`.")
            target = self.uploads_dir / Path(source).name
            target.unlink(missing_ok=True)
            self._answerer = self._build()


class ChatSession:
    """A conversation: follow-up questions are resolved against earlier turns."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.history: list[Answer] = []

    def reset(self) -> None:
        self.history = []

    def resolve(self, question: str) -> str:
        """Rewrite a follow-up into a standalone question, deterministically.

        Example: after "What did Suslov say about New START?",
        ``resolve("And what did he say about Ukraine?")`` ->
        ``"What did Dmitry Suslov say about Ukraine?"``
        """
        return resolve_follow_up(question, self.history, self.assistant.answerer.retriever.people,
                                 self.assistant.settings.retrieval)

    def stream(self, question: str) -> Iterator[Union[str, Answer]]:
        from rag.answer import check_question

        question = check_question(question, self.assistant.settings.answer.max_question_chars)
        resolved = self.resolve(question)
        final = None
        for item in self.assistant.answerer.stream(
            question, retrieval_query=resolved, resolved=resolved if resolved != question else None
        ):
            if isinstance(item, Answer):
                final = item
            yield item
        if final is not None:
            self.history.append(final)

    def ask(self, question: str) -> Answer:
        return _last(self.stream(question))


def _safe_name(name: str) -> str:
    name = re.sub(r"[^\w.-]+", "_", Path(name).name).strip("._") or "document.txt"
    return name


def _facts(index: CorpusIndex) -> CorpusFacts:
    people = [name for roster in index.people.values() for name in roster]
    speakers = {p.speaker for p in index.passages if p.speaker}
    return CorpusFacts.from_texts((d.text for d in index.documents.values()), people, speakers)


def _last(items):
    final = None
    for item in items:
        final = item
    if not isinstance(final, Answer):  # pragma: no cover - internal invariant
        raise RuntimeError("the answer stream ended without an Answer")
    return final
