"""The persisted passage index: parse, attribute, embed, store, reopen.

``open_index(settings)`` reads the configured documents, and either reopens
the index persisted for them (nothing re-embedded when nothing changed) or
builds it, re-embedding only passages whose text it has not embedded before.
Vectors live in a llama-index ``FaissVectorStore`` (cosine = inner product of
normalised vectors); any other llama-index vector store (Qdrant, Milvus,
OpenSearch, …) can be passed as ``vector_store=`` instead. With
``settings.index.backend == "milvus"`` the whole index (rows, BM25, hybrid
search) lives in Milvus instead: ``rag.milvus``, imported only then.

On disk, one folder per set of document paths under ``settings.index.data_dir``:
``manifest.json`` (format version, embedding model, chunking settings, a
sha256 per source file), ``passages.jsonl``, ``vectors.npy``, ``people.json``
and ``texts.json`` (the text each span indexes). A folder is written beside
the old one and swapped in by rename, so a crash mid-write leaves the previous
index usable; an unreadable or inconsistent folder is reported and rebuilt.
Building takes an exclusive ``flock`` on ``<folder>.lock`` beside it, so two
``rag index`` processes never build the same index at once: the second waits,
then reopens what the first wrote. Reopening an up-to-date index takes no lock
and writes nothing, so it works on a read-only data dir. A write that fails
(disk full, read-only) raises ``IndexWriteError`` and leaves the previous
index as it was.

What it does not do: rank passages for a question (``rag.retrieve``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from rag.attribute import attribute
from rag.errors import IndexCorruptError, IndexWriteError
from rag.ingest import load_documents
from rag.parse import parse_document
from rag.settings import Settings
from rag.types import Document, Passage

log = logging.getLogger(__name__)

# Told about long work as it happens: (stage, done, total), stage one of
# "reading" (files), "analysing" (documents parsed and attributed) and
# "embedding" (passages). The CLI draws bars with it, the UI its progress.
ProgressFn = Callable[[str, int, int], None]

INDEX_FORMAT_VERSION = 1
# Bump when ingest (HTML text), parse or attribute change what passages they produce.
PARSER_VERSION = 14


def embedding_text(p: Passage) -> str:
    """What is embedded for a passage: the sentence with its speaker and section,
    so "What did Suslov say about New START?" meets Suslov's sentences in the
    New START section even when they name neither."""
    parts = []
    if p.section:
        parts.append(f"[{p.section}]")
    if p.speaker:
        parts.append(f"{p.speaker}:")
    parts.append(p.text)
    return " ".join(parts)


@dataclass
class CorpusIndex:
    """Everything retrieval needs: in memory for FAISS; for an engine that
    holds the passage rows (``rag.milvus``), ``passages`` is a read-through
    view of the engine and the methods below ask it by key or filter."""

    documents: dict[str, Document]
    passages: Sequence[Passage]  # a list, or rag.milvus.MilvusPassages
    people: dict[str, dict[str, list[str]]]  # source -> full name -> roles
    vector_store: Any  # a llama-index BasePydanticVectorStore
    embed_model: Any  # a rag.embed.Embedder
    directory: Optional[Path] = None
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # Passage id -> position in ``passages``; filled only when the passages
    # are in memory (an engine's view answers ``passage(pid)`` instead).
    by_id: dict[str, int] = field(default_factory=dict)
    # A search engine that ranks passages itself (``rag.milvus.MilvusSearch``);
    # None means FAISS here and BM25 in ``rag.retrieve``.
    engine: Any = None

    def __post_init__(self):
        if self.in_memory:
            self.by_id = {p.id: i for i, p in enumerate(self.passages)}

    @property
    def in_memory(self) -> bool:
        return isinstance(self.passages, list)

    def text_of(self, source: str) -> str:
        return self.documents[source].text

    def passage(self, pid: str) -> Optional[Passage]:
        if self.in_memory:
            pos = self.by_id.get(pid)
            return None if pos is None else self.passages[pos]
        return self.passages.get(pid)

    def passages_of(self, source: str) -> list[Passage]:
        """One document's passages in document order."""
        if self.in_memory:
            return [p for p in self.passages if p.source == source]
        return self.passages.of(source)

    def passages_by(self, speaker: str) -> list[Passage]:
        """Every passage attributed to ``speaker``, in document order."""
        if self.in_memory:
            return [p for p in self.passages if p.speaker == speaker]
        return self.passages.by_speaker(speaker)

    def passage_counts(self) -> dict[str, int]:
        if self.in_memory:
            counts: dict[str, int] = {}
            for p in self.passages:
                counts[p.source] = counts.get(p.source, 0) + 1
            return counts
        return self.passages.counts()

    def speaker_names(self) -> set[str]:
        """Everyone a passage is attributed to."""
        if self.in_memory:
            return {p.speaker for p in self.passages if p.speaker}
        return self.passages.speakers()

    def attributed_passages(self, source: Optional[str] = None) -> list[Passage]:
        """The passages of the documents (or the one document) where someone
        speaks: what ``rag.speakers.collect_speakers`` reads."""
        if self.in_memory:
            return list(self.passages)
        return self.passages.of_speaking_documents(source)


def index_dir(settings: Settings, paths) -> Path:
    """One index folder per set of document paths."""
    key = "\n".join(sorted(str(Path(p).resolve()) for p in paths))
    return Path(settings.index.data_dir) / f"index-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


_ATTRIBUTION_FIELDS = ("max_role_words", "scare_quote_max_words", "number_subject_tokens",
                       "antecedent_gap_words", "org_lookahead_chars")


def _manifest(settings: Settings, embed_model, documents: list[Document]) -> dict:
    return {
        "format_version": INDEX_FORMAT_VERSION,
        "embedding_model": embed_model.model_name,
        "embedding_dim": embed_model.dimension,
        "chunking": {
            "unit": "sentence",
            "max_passage_chars": settings.index.max_passage_chars,
            "parser_version": PARSER_VERSION,
            "embedding_text": "section+speaker+sentence",
            # Attribution decides passages' speakers: a changed rule re-attributes.
            "attribution": {k: v for k, v in settings.index.model_dump().items() if k in _ATTRIBUTION_FIELDS},
        },
        "files": {d.source: d.sha256 for d in documents},
    }


def config_manifest(settings: Settings, embed_model) -> dict:
    """The manifest without its files: what any stored index (a folder here, a
    Milvus collection in ``rag.milvus``) must match to be reused."""
    manifest = _manifest(settings, embed_model, [])
    manifest.pop("files")
    return manifest


def _same_config(a: dict, b: dict) -> bool:
    keys = ("format_version", "embedding_model", "embedding_dim", "chunking")
    return all(a.get(k) == b.get(k) for k in keys)


def _passage_from_dict(d: dict) -> Passage:
    return Passage(**d)


class _Stored:
    """A persisted index folder, read and checked for consistency."""

    def __init__(self, directory: Path):
        import numpy as np

        self.manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        if self.manifest.get("format_version") != INDEX_FORMAT_VERSION:
            raise IndexCorruptError(f"unknown index format {self.manifest.get('format_version')!r}")
        with open(directory / "passages.jsonl", encoding="utf-8") as fh:
            self.passages = [_passage_from_dict(json.loads(line)) for line in fh if line.strip()]
        self.vectors = np.load(directory / "vectors.npy", allow_pickle=False)
        self.people = json.loads((directory / "people.json").read_text(encoding="utf-8"))
        self.texts = json.loads((directory / "texts.json").read_text(encoding="utf-8"))
        if self.vectors.shape != (len(self.passages), self.manifest["embedding_dim"]):
            raise IndexCorruptError(
                f"{len(self.passages)} passages but vectors of shape {self.vectors.shape}"
            )
        for p in self.passages:
            text = self.texts.get(p.source)
            if text is None or text[p.start : p.end] != p.text:
                raise IndexCorruptError(f"passage {p.id} does not match its source text")


def _read_stored(directory: Path) -> Optional[_Stored]:
    """The index in ``directory``, or None if absent; a damaged one is reported
    (and so rebuilt) instead of crashing."""
    for candidate in (directory, directory.with_name(directory.name + ".old")):
        if not (candidate / "manifest.json").exists():
            continue
        try:
            return _Stored(candidate)
        except (OSError, ValueError, KeyError, TypeError, IndexCorruptError) as exc:
            log.warning("index at %s is unreadable (%s); rebuilding it", candidate, exc)
    return None


def _write_failed(directory: Path, exc: OSError) -> IndexWriteError:
    import errno

    why = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        fix = "Free disk space there (or raise the quota / file size limit), or set RAG_INDEX__DATA_DIR to another disk"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = "Make it writable, or set RAG_INDEX__DATA_DIR (--data-dir) to a writable folder"
    else:
        fix = "Check the folder, or set RAG_INDEX__DATA_DIR (--data-dir) to another one"
    return IndexWriteError(
        f"Could not write the index under {directory.parent} ({why}). The previous index, if any, is unchanged. "
        f"Fix: {fix}."
    )


class _IndexLock:
    """An exclusive ``flock`` on ``<index folder>.lock``, held while an index is built and written.

    Waits for another holder (saying so on the log) rather than failing: the
    second ``rag index`` then reopens what the first wrote. The kernel drops
    the lock when its process dies, so a killed ``rag index`` never leaves it held.
    """

    def __init__(self, directory: Path):
        self.path = directory.with_name(directory.name + ".lock")
        self._fh = None

    def __enter__(self) -> "_IndexLock":
        import fcntl

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a+b")
        except OSError as exc:
            raise _write_failed(self.path.with_suffix(""), exc) from None
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another process is building the index in %s; waiting for it", self.path.parent)
            fcntl.flock(self._fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._fh is not None:
            self._fh.close()  # closing releases the flock
            self._fh = None


def _remove_stale_temporaries(directory: Path) -> None:
    """Half-written folders of writers that died (``kill -9``, power cut); called holding the lock."""
    for leftover in directory.parent.glob(directory.name + ".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _write_atomically(directory: Path, manifest, passages, vectors, people, texts) -> None:
    tmp = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")
    try:
        _write_folder(directory, tmp, manifest, passages, vectors, people, texts)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)  # never leave half a folder (or a full disk) behind
        raise _write_failed(directory, exc) from exc


def _write_folder(directory: Path, tmp: Path, manifest, passages, vectors, people, texts) -> None:
    import numpy as np

    directory.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    with open(tmp / "passages.jsonl", "w", encoding="utf-8") as fh:
        for p in passages:
            fh.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
    np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
    (tmp / "people.json").write_text(json.dumps(people, ensure_ascii=False), encoding="utf-8")
    (tmp / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    # The manifest goes last: a folder without one is never trusted.
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)


def make_vector_store(dimension: int):
    """An in-memory FAISS inner-product store behind llama-index's interface."""
    import faiss
    from llama_index.vector_stores.faiss import FaissVectorStore

    return FaissVectorStore(faiss_index=faiss.IndexFlatIP(dimension))


def _fill_store(store, passages: list[Passage], vectors) -> None:
    from llama_index.core.schema import TextNode

    nodes = [
        TextNode(
            id_=p.id,
            text=p.text,
            embedding=vectors[i].tolist(),
            metadata={"source": p.source, "start": p.start, "end": p.end, "speaker": p.speaker or ""},
        )
        for i, p in enumerate(passages)
    ]
    for i in range(0, len(nodes), 2048):
        store.add(nodes[i : i + 2048])


def analyse(doc: Document, settings: Settings) -> tuple[list[Passage], dict[str, list[str]]]:
    """Parse and attribute one document."""
    result = attribute(parse_document(doc, settings.index.max_passage_chars), doc.text, settings.index)
    return result.passages, result.people


# Texts per embed_batch call: large enough for good batches, small enough
# for a progress bar that moves.
EMBED_CHUNK = 512


def embed_in_chunks(embed_model, texts: list[str], progress: bool, on_progress: Optional[ProgressFn] = None,
                    chunk: int = EMBED_CHUNK):
    import numpy as np

    bar = None
    if progress and on_progress is None and len(texts) > chunk:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc="embedding", unit="passage")
    parts = []
    done = 0
    for start in range(0, len(texts), chunk):
        parts.append(embed_model.embed_batch(texts[start : start + chunk]))
        done += len(parts[-1])
        if bar is not None:
            bar.update(len(parts[-1]))
        if on_progress is not None:
            on_progress("embedding", done, len(texts))
    if bar is not None:
        bar.close()
    return np.concatenate(parts)


def build_index(
    documents: list[Document],
    settings: Settings,
    embed_model,
    directory: Optional[Path] = None,
    vector_store=None,
    previous: Optional[_Stored] = None,
    progress: bool = False,
    on_progress: Optional[ProgressFn] = None,
) -> CorpusIndex:
    """Analyse, embed (reusing ``previous`` vectors for unchanged passages) and
    persist to ``directory`` when given; ``on_progress`` hears of each document
    analysed and each batch embedded."""
    import numpy as np

    t0 = time.perf_counter()
    passages: list[Passage] = []
    people: dict[str, dict[str, list[str]]] = {}
    for number, doc in enumerate(documents, 1):
        ps, pp = analyse(doc, settings)
        passages.extend(ps)
        people[doc.source] = pp
        if on_progress is not None:
            on_progress("analysing", number, len(documents))
    t_parse = time.perf_counter() - t0

    cache: dict[str, Any] = {}
    if previous is not None and _same_config(previous.manifest, _manifest(settings, embed_model, [])):
        for p, v in zip(previous.passages, previous.vectors):
            cache[embedding_text(p)] = v
    texts = [embedding_text(p) for p in passages]
    missing = [i for i, t in enumerate(texts) if t not in cache]
    t_load = 0.0
    dim = embed_model.dimension
    vectors = np.zeros((len(passages), dim), dtype="float32")
    if missing:
        # An embedder loads its model (and may export it) on its first call:
        # one passage alone first, so that cost is reported apart.
        t_load = time.perf_counter()
        vectors[missing[0]] = embed_model.embed_batch([texts[missing[0]]])[0]
        t_load = time.perf_counter() - t_load
    t1 = time.perf_counter()
    if len(missing) > 1:
        # Smaller batches when someone is watching, so the progress moves.
        new = embed_in_chunks(embed_model, [texts[i] for i in missing[1:]], progress, on_progress,
                              EMBED_CHUNK if on_progress is None else settings.embedding.batch_size)
        for row, i in enumerate(missing[1:]):
            vectors[i] = new[row]
    for i, t in enumerate(texts):
        if t in cache:
            vectors[i] = cache[t]
    t_embed = time.perf_counter() - t1

    store = vector_store if vector_store is not None else make_vector_store(dim)
    _fill_store(store, passages, vectors)
    if directory is not None:
        _write_atomically(
            directory,
            _manifest(settings, embed_model, documents),
            passages,
            vectors,
            people,
            {d.source: d.text for d in documents},
        )
    return CorpusIndex(
        documents={d.source: d for d in documents},
        passages=passages,
        people=people,
        vector_store=store,
        embed_model=embed_model,
        directory=directory,
        timings={"parse_s": t_parse, "model_load_s": t_load, "embed_s": t_embed, "embedded": float(len(missing))},
    )


def open_index(
    settings: Settings,
    paths=None,
    embed_model=None,
    vector_store=None,
    progress: Optional[bool] = None,
    persist: bool = True,
    key_paths=None,
    on_progress: Optional[ProgressFn] = None,
    rebuild: bool = False,
) -> CorpusIndex:
    """Reopen the persisted index for ``paths`` (default ``settings.docs``) or
    build it; skipped files come back in ``CorpusIndex.warnings``.

    ``key_paths`` (default ``paths``) name the index folder, so adding an
    uploads folder to the paths updates the same index instead of starting a
    new one. ``rebuild`` embeds everything again (nothing reused) and swaps
    the new index in like any update: the old one stays until then.

    Raises ``IndexWriteError`` when a needed build cannot be written."""
    from rag.embed import make_embedder

    paths = list(paths if paths is not None else settings.docs)
    embed_model = embed_model or make_embedder(settings)
    progress = settings.index.show_progress if progress is None else progress
    if settings.index.backend == "milvus":
        from rag.milvus import open_milvus_index

        return open_milvus_index(settings, paths, embed_model, progress, key_paths)
    t0 = time.perf_counter()
    loaded = load_documents(paths, settings.ingest, on_progress)
    directory = index_dir(settings, key_paths if key_paths is not None else paths) if persist else None
    wanted = _manifest(settings, embed_model, loaded.documents)
    stored = _read_stored(directory) if directory is not None and not rebuild else None
    if stored is not None and stored.manifest == wanted:
        index = _reopened(stored, loaded, embed_model, vector_store, directory, wanted)
    elif directory is None:
        index = build_index(loaded.documents, settings, embed_model, None, vector_store, None, progress, on_progress)
    else:
        with _IndexLock(directory):
            # Another process may have written it while this one waited.
            stored = _read_stored(directory)
            if stored is not None and stored.manifest == wanted and not rebuild:
                index = _reopened(stored, loaded, embed_model, vector_store, directory, wanted)
            else:
                _remove_stale_temporaries(directory)
                index = build_index(
                    loaded.documents, settings, embed_model, directory, vector_store,
                    None if rebuild else stored, progress, on_progress,
                )
    index.warnings = loaded.warnings
    index.timings["total_s"] = time.perf_counter() - t0
    return index


def _reopened(stored: _Stored, loaded, embed_model, vector_store, directory: Path, wanted: dict) -> CorpusIndex:
    import numpy as np

    store = vector_store if vector_store is not None else make_vector_store(wanted["embedding_dim"])
    _fill_store(store, stored.passages, stored.vectors.astype(np.float32))
    return CorpusIndex(
        documents={d.source: d for d in loaded.documents},
        passages=stored.passages,
        people=stored.people,
        vector_store=store,
        embed_model=embed_model,
        directory=directory,
        timings={"embedded": 0.0},
    )
