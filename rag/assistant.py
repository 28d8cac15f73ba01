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

``speakers()`` lists who said what (``rag.speakers``), for auditing the
attribution; ``add_file(path, progress=...)`` reports the indexer's steps.

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
from rag.types import Answer, Speaker

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

    def _build(self, on_progress=None) -> Answerer:
        index = open_index(
            self.settings, self._all_paths(), embed_model=self._embed_model,
            vector_store=self._vector_store, key_paths=self.paths, on_progress=on_progress,
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
        counts = index.passage_counts()
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
        mine = index.passages_of(source)
        inside = [p for p in mine if p.start < end and p.end > start]
        if inside:
            para = inside[0].paragraph
            same = [p for p in mine if p.paragraph == para and p.kind == inside[0].kind]
            if para == 0:
                same = inside
            a, b = min(p.start for p in same), max(p.end for p in same)
        else:
            a, b = start, end
        return a, b, text[a:b]

    def speakers(self, source: Optional[str] = None) -> list[Speaker]:
        """Everyone the attribution found speaking, with roles and statements in document order.

        ``source`` limits it to one document: its source id, or a unique end
        of one ("hearing.pdf"). Raises IngestError naming the documents when
        none matches.
        """
        from rag.speakers import collect_speakers

        index = self.index
        if source is not None:
            source = self._document_named(source)
        return collect_speakers(index.documents, index.attributed_passages(source), index.people, source)

    def _document_named(self, name: str) -> str:
        sources = sorted(self.index.documents)
        if name in sources:
            return name
        matches = [s for s in sources if s.endswith("/" + name.lstrip("/"))]
        if len(matches) == 1:
            return matches[0]
        problem = "matches several documents" if matches else "is not an indexed document"
        raise IngestError(name, problem, "Name one of: " + ", ".join(matches or sources) + ".")

    def add_file(self, path, name: Optional[str] = None, progress=None) -> str:
        """Copy a file into the uploads folder and index it; returns its source name.

        ``name`` is the name the user gave the file (a browser upload arrives
        under a temporary path); it is sanitised (no folders, no ``..``, no
        control characters, at most ``ingest.max_upload_name_chars``) and the
        copy always lands directly in the uploads folder. Errors name only
        that file name, never a server path.

        Raises IngestError (index unchanged) when the file cannot be used:
        unreadable, binary by its content, too large, or over the uploads'
        total limit (``ingest.max_upload_bytes``). ``progress(stage, done,
        total)`` hears of each file read, document analysed and batch of
        passages embedded (``rag.index.ProgressFn``).
        """
        path = Path(path)
        ingest = self.settings.ingest
        stored_name = safe_upload_name(name if name is not None else path.name, ingest.max_upload_name_chars)
        shown = stored_name
        try:
            read_document(path, ingest)  # validates: raises IngestError
            size = path.stat().st_size
        except IngestError as exc:
            raise IngestError(shown, exc.problem, exc.fix) from None
        except OSError as exc:
            raise IngestError(shown, f"cannot be read ({exc.strerror})", "Upload it again.") from None
        if Path(stored_name).suffix.lower() != path.suffix.lower():
            # the check above read the file as its own extension says; store it as that too
            stored_name = (Path(stored_name).stem or "document") + path.suffix.lower()
        with self._lock:
            uploads = self.uploads_dir
            uploads.mkdir(parents=True, exist_ok=True)
            held = sum(f.stat().st_size for f in uploads.iterdir() if f.is_file())
            if held + size > ingest.max_upload_bytes:
                raise IngestError(
                    shown,
                    f"would bring the uploaded documents to {(held + size) / 1e6:.1f} MB, over the "
                    f"{ingest.max_upload_bytes / 1e6:.1f} MB limit for all uploads together",
                    "Remove uploaded documents you no longer need, or raise RAG_INGEST__MAX_UPLOAD_BYTES.",
                )
            target = uploads / stored_name
            n = 1
            while target.exists() and target.read_bytes() != path.read_bytes():
                target = uploads / f"{Path(stored_name).stem}-{n}{Path(stored_name).suffix}"
                n += 1
            # invariant: whatever the name said, the copy is a direct child of the uploads folder
            assert target.resolve().parent == uploads.resolve(), target
            shutil.copyfile(path, target)
            try:
                self._answerer = self._build(progress)
            except BaseException:
                # Whatever failed, the copy must not stay: every later build
                # (and so every later question) would read it again.
                target.unlink(missing_ok=True)
                raise
            return source_name(target)

    def remove_document(self, source: str) -> None:
        """Remove an uploaded document. ``source`` is its source id or, as the
        upload message shows it, its file name when only one uploaded
        document has that name."""
        with self._lock:
            docs = self.documents()
            entry = next((d for d in docs if d["source"] == source), None)
            if entry is None:
                named = [d for d in docs if d["removable"] and Path(d["source"]).name == source]
                entry = named[0] if len(named) == 1 else None
            if entry is None:
                raise IngestError(source, "is not in the index", "Pick one of the listed documents.")
            source = entry["source"]
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


def safe_upload_name(name: str, max_chars: int = 120) -> str:
    """A file name that is safe to create in the uploads folder, from whatever a client sent.

    Only the last component of a ``/`` or ``\\`` path is kept; anything but
    letters, digits, ``.``, ``-`` and ``_`` becomes ``_`` (NUL, control
    characters, spaces); leading dots go (no hidden files, no ``..``); the stem
    is cut so the name has at most ``max_chars`` characters and 240 UTF-8
    bytes, keeping the extension.

    Example: ``safe_upload_name("../../etc/pass wd.txt")`` -> ``"pass_wd.txt"``
    """
    base = re.split(r"[/\\]", name or "")[-1]
    base = re.sub(r"[^\w.-]+", "_", base).strip("._") or "document"
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem:
        stem, suffix = base, ""
    suffix = ("." + suffix[:16]) if suffix else ""
    stem = stem[: max(1, max_chars - len(suffix))]
    while len((stem + suffix).encode("utf-8")) > 240:  # file systems count bytes, at most 255
        stem = stem[:-1]
    return (stem.rstrip("._") or "document") + suffix


def _facts(index: CorpusIndex) -> CorpusFacts:
    people = [name for roster in index.people.values() for name in roster]
    speakers = index.speaker_names()
    return CorpusFacts.from_texts((d.text for d in index.documents.values()), people, speakers)


def _last(items):
    final = None
    for item in items:
        final = item
    if not isinstance(final, Answer):  # pragma: no cover - internal invariant
        raise RuntimeError("the answer stream ended without an Answer")
    return final
