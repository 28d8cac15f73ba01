"""Milvus as the index backend: passages as rows, hybrid search inside the engine.

Selected by ``RAG_INDEX__BACKEND=milvus`` (or ``rag … --index-backend milvus``);
``rag.index.open_index`` hands over to ``open_milvus_index`` here. The same code
runs against Milvus Lite (the default: one file such as ``.rag-data/milvus.db``)
and against a Milvus server or cluster (``RAG_INDEX__MILVUS_URI=http://host:19530``,
``RAG_INDEX__MILVUS_TOKEN``).

Milvus Lite here is milvus-lite 2.5.1: Milvus's C++ engine (segcore, knowhere)
as a program that pymilvus starts beside this process when the URI is a path
ending in ``.db``, talking gRPC over a Unix socket; the rows live in that one
SQLite file and are loaded into the engine's memory when a collection is
loaded. The Python process holds a POSIX lock on ``.<name>.lock`` beside the
file for as long as it uses it; the engine waits on that lock and exits as
soon as it gets it, so it never outlives the process that started it
(``connect`` checks the lock and names the holder; ``_ending_engines`` waits
for an engine still finishing a call). The engine's glog files and its
output go to ``milvus-logs`` beside the file (``engine_log_dir``), not to
/tmp or the terminal; a failed start's reason is read from there.

One collection per set of document paths (named like the FAISS folder) holds
one row per passage: every ``Passage`` field (so the rows give back the exact
``Passage`` objects, spans included), the document's sha256, the dense vector,
and a BM25 sparse vector the engine computes itself from the text that is
embedded (``rag.index.embedding_text``: section, speaker, sentence). Primary
keys are a hash of the embedding model, source, span and text.

A second, small collection has one row per document (sha256, passage count,
the people attribution found, its speakers), written only after all of the
document's rows (which are inserted in batches across documents):
a document without its row, or with another sha256, is indexed again, first
deleting its rows by filter. So adding a document inserts only its rows,
removing one deletes by filter, a changed one replaces its rows, and a run
killed part-way is finished by the next one with no duplicates. Every open
then checks that the engine holds as many passage rows as the documents
collection counts (Milvus Lite serves what it could read of a damaged file).

The manifest (format version, embedding model and dimension, chunking and
attribution settings) is the collection's description, checked on open; a
mismatch is an ``IndexMismatchError`` naming the rebuild command.

``MilvusSearch.rank`` is retrieval's seam: a dense search and a BM25 search
in the engine (filtered by document when asked), fused here by the same
reciprocal-rank sum as the engine's RRF ranker and the FAISS path; the first
hit of each list gives the best cosine and BM25 score. For a question about
named people their passages are boosted as on the FAISS path, and the same
two searches restricted to their passages (``speaker in [...]``) add the rest
of what they said after the fused ones.

The passage rows stay in the engine. ``MilvusPassages`` is the index's
``passages``: an open reads only the documents collection (counts, people,
speakers); a question reads the paragraphs of its hits in one query
(``window``), a citation a passage by id, an answer about a person that
person's passages by filter, the speakers list the documents where someone
speaks. A few documents and recent passages are kept, bounded.

What it does not do: select evidence or decide answerability (``rag.retrieve``,
``rag.answer`` work on the ``Passage`` objects read here, as with FAISS),
start a Milvus server, or notice damage that keeps the row count and the
texts (SQLite keeps no checksums: a changed vector goes unseen).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import warnings
from pathlib import Path
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Optional

from rag.errors import ConfigError, IndexCorruptError, IndexMismatchError, IndexUnavailableError
from rag.index import CorpusIndex, analyse, config_manifest, embed_in_chunks, embedding_text, index_dir
from rag.ingest import load_documents
from rag.parse import snowball
from rag.settings import RetrievalSettings, Settings
from rag.types import Document, Passage

log = logging.getLogger(__name__)

# 3: BM25 text split on whitespace only (was Milvus's "standard" tokenizer,
# which splits "foo_bar" where bm25s keeps one token); a paragraph key.
# 2: the documents collection lists each document's speakers (so an open
# need not read every passage row to know who speaks).
ROWS_FORMAT_VERSION = 3
# Milvus requires a vector field in every collection; the documents
# collection has no use for one.
_PLACEHOLDER_DIM = 2
# BM25 text is analysed here, as bm25s analyses it on the FAISS path (tokens
# of 2+ word characters, lowercase, bm25s's English stop words, Snowball
# stemming), and stored as space-separated stems that the engine's whitespace
# tokenizer takes as they are. The engine's own filters (stemmer, "_english_"
# stop words) work too, but their stop list and token rule are not bm25s's:
# the same analysis on both paths is what makes their BM25 scores equal.
ANALYZER = {"tokenizer": "whitespace"}
LEXICAL_ANALYSIS = "bm25s-en-stopwords+snowball-english"
# bm25s's (and so the FAISS path's) BM25 parameters; Milvus's default k1 is 1.2.
BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}
_PASSAGE_FIELDS = ("pid", "source", "start", "end", "text", "kind", "section", "paragraph", "sentence", "speaker", "quoted")
_VARCHAR = 65535
# The most rows one query call may return (Milvus's limit, Lite's and a server's).
_QUERY_WINDOW = 16384
# Dense index types Milvus Lite builds ("local mode only support FLAT IVF_FLAT
# AUTOINDEX"); a server builds every type the settings allow.
LITE_DENSE_INDEXES = ("FLAT", "IVF_FLAT", "AUTOINDEX")
# Milvus Lite 2.5.1 slows down sharply once one insert carries more than
# about 7 MB of float vectors (measured: 4,500 rows of 384 floats 0.75 s,
# 4,800 rows 15 s, 8,000 rows 44 s; text does not do it). Inserts into a
# Lite file are cut to at most this many bytes of vectors.
_LITE_INSERT_VECTOR_BYTES = 4 * 2**20
# How long an open waits for an engine whose process ended to finish its
# last call and exit (measured: gone within 0.3 s of its parent's SIGKILL).
ENDING_ENGINE_WAIT_S = 10.0


def rebuild_command(settings: Settings) -> str:
    uri = settings.index.milvus_uri
    return "rag index --index-backend milvus" + (f" --milvus-uri {uri}" if uri else "") + " --rebuild"


def milvus_uri(settings: Settings) -> str:
    """The configured URI; a Milvus Lite file in the data directory by default."""
    return settings.index.milvus_uri or str(Path(settings.index.data_dir) / "milvus.db")


def _is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "tcp://", "unix:"))


def _check_uri(uri: str) -> None:
    if not _is_server(uri) and not uri.endswith(".db"):
        raise ConfigError(
            f"RAG_INDEX__MILVUS_URI={uri!r} is neither a server (http://host:19530) nor a Milvus Lite "
            "file (a path ending in .db). Fix: give one of those, or unset it for <data_dir>/milvus.db"
        )
    name = Path(uri).name
    # milvus-lite's own rule for the file name (it refuses any other).
    if not _is_server(uri) and (not re.fullmatch(r"[a-zA-Z0-9.\-_]+", name) or len(name) > 36):
        raise ConfigError(
            f"RAG_INDEX__MILVUS_URI={uri!r}: Milvus Lite takes a file name of at most 36 letters, digits, "
            "'.', '-' or '_'. Fix: rename it (e.g. milvus.db; the folder may be any path)"
        )


def _pymilvus():
    # gRPC's C core (ours, and the engine's, which inherits this environment)
    # logs connection chatter on stderr; failures reach the user as errors.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        import pymilvus
    except ImportError as exc:
        raise ConfigError(
            "RAG_INDEX__BACKEND=milvus needs the pymilvus and milvus-lite packages "
            f"({exc}). Fix: pip install 'rag-local[milvus]', or set RAG_INDEX__BACKEND=faiss"
        ) from None
    # pymilvus logs every failed call at ERROR with a traceback; the errors
    # raised here say the same in one line with the fix.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            # milvus-lite 2.5.1 reads its version with pkg_resources, which warns.
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
            import milvus_lite.server
            import milvus_lite.server_manager
    except ImportError:
        return pymilvus  # a server needs no Milvus Lite
    # milvus-lite logs a failed start on the root logger ("Start milvus-lite
    # failed", "… opened by another program"); here they go to a logger of
    # their own that prints nothing, and connect reads them to say which it
    # was, with the fix.
    milvus_lite.server.logger = milvus_lite.server_manager.logger = _LITE_LOG
    milvus_lite.server.Server.stop = _stop_engine
    return pymilvus


def _stop_engine(self) -> None:
    """``milvus_lite.server.Server.stop`` (2.5.1) without unlinking the lock
    file. Upstream unlinks it on every stop, also when the start failed
    because another process holds the lock, and again when the stopped
    server is garbage-collected: the holder then keeps a lock on a file no
    longer there, and the next process locks a new one and starts a second
    engine on the same database (seen here: two engines on one .db after one
    refused open). The empty lock file stays beside the database instead.
    It is installed as that method, hence ``self``."""
    if self._lock_fd:
        # The engine waits on this lock and exits when it gets it.
        self._lock_fd.close()
        self._lock_fd = None
    if self._p is not None:
        try:
            self._p.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._p.send_signal(signal.SIGKILL)
            self._p.wait(timeout=3)
        self._p = None
        try:
            os.unlink(self._uds_path)
        except FileNotFoundError:
            pass


_LITE_LOG = logging.getLogger("milvus_lite")
_LITE_LOG.propagate = False
_LITE_LOG.addHandler(logging.NullHandler())


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


_CLIENTS: dict[str, Any] = {}
_ENGINE_START = threading.Lock()


def connect(settings: Settings):
    """A ``MilvusClient`` for the configured URI, shared within the process
    (one process at a time may open a Milvus Lite file).

    Raises ``IndexUnavailableError`` (server unreachable, Lite file in use)
    or ``IndexCorruptError`` (Lite file unreadable), each naming the fix."""
    uri = milvus_uri(settings)
    _check_uri(uri)
    pymilvus = _pymilvus()
    token = settings.index.milvus_token.get_secret_value() if settings.index.milvus_token else ""
    key = f"{uri}\0{hashlib.sha256(token.encode()).hexdigest()}"
    if key in _CLIENTS:
        return _CLIENTS[key]
    lite = None if _is_server(uri) else Path(uri)
    if lite is not None:
        if importlib.util.find_spec("milvus_lite") is None:
            raise ConfigError(
                f"RAG_INDEX__MILVUS_URI={uri!r} is a Milvus Lite file, and the milvus-lite package is not "
                "installed. Fix: pip install 'rag-local[milvus]', or give a server (http://host:19530)"
            )
        lite.parent.mkdir(parents=True, exist_ok=True)
        if lite.is_dir():
            raise IndexCorruptError(
                f"the Milvus Lite index {uri} is a folder: milvus-lite 3.x wrote folders, this version "
                f"(2.5, Milvus's C++ engine) keeps one file. Fix: {rebuild_command(settings)} (removes the folder)"
            )
        if not any(k.split("\0")[0] == uri for k in _CLIENTS):  # not already running for this process
            _check_free(lite)
    # The timeout is for a server that does not answer. Milvus Lite's engine
    # is up in about half a second (milvus-lite waits 0.5 s to see that it did
    # not exit) and loads rows only when a collection is loaded.
    timeout = settings.index.milvus_timeout_s if lite is None else None
    # An engine that is up but has not answered on its socket within
    # pymilvus's 10 s (a machine busy with other work) said nothing about the
    # file: it is started again until milvus_start_s, never called damaged.
    deadline = time.monotonic() + settings.index.milvus_start_s
    pause = 0.5
    while True:
        said: list[str] = []
        try:
            with _engine_environment(lite, said):
                client = pymilvus.MilvusClient(uri=uri, token=token, timeout=timeout)
            client.list_collections(timeout=timeout)
            break
        except Exception as exc:  # pymilvus raises several unrelated types here
            detail = _said(exc)
            _forget_clients(uri)  # an engine that started but cannot serve would keep the file
            if lite is None:
                raise IndexUnavailableError(
                    f"the Milvus server at {uri} cannot be reached ({detail}). Fix: start it, correct "
                    "RAG_INDEX__MILVUS_URI (and RAG_INDEX__MILVUS_TOKEN), or use RAG_INDEX__BACKEND=faiss"
                ) from None
            if any("opened by another program" in m for m in said):  # another process was quicker
                holder = _lite_holder(lite)
                raise IndexUnavailableError(_in_use(lite, holder)) from None
            reason = _engine_error(lite)
            if reason is None and _not_answering(detail):
                if time.monotonic() + pause < deadline:
                    log.warning("the Milvus Lite engine for %s did not answer yet (%s); starting it again", uri, detail)
                    time.sleep(pause)
                    pause = min(pause * 2, 4.0)
                    continue
                raise IndexUnavailableError(
                    f"the Milvus Lite engine for {uri} did not answer within {settings.index.milvus_start_s:g} s "
                    f"({detail}); the index file was not changed. Fix: run the command again when the machine "
                    "is less busy, or allow longer with RAG_INDEX__MILVUS_START_S"
                ) from None
            raise IndexCorruptError(
                f"the Milvus Lite index {uri} is damaged or unreadable ({reason or detail}). "
                f"Fix: {rebuild_command(settings)}"
            ) from None
    _CLIENTS[key] = client
    return client


def _not_answering(detail: str) -> bool:
    """Whether pymilvus's error says only that nothing answered on the socket
    (its CONNECT_FAILED: "Fail connecting to server on unix:…, illegal
    connection params or server unavailable"), as opposed to the engine
    refusing the file."""
    return "server unavailable" in detail or "Fail connecting to server" in detail


def _said(exc: Exception) -> str:
    """An engine error on one line: pymilvus passes on the engine's
    multi-line asserts ("… at …/segment_c.cpp:303\\n: segcore error").

    Example: ``_said(RuntimeError("a\\n: b"))`` -> ``'a : b'``
    """
    return " ".join(str(exc).split()) or type(exc).__name__


def _lock_file(path: Path) -> Path:
    """The file milvus-lite locks for a database file (its server.py's naming)."""
    path = path.absolute().resolve()
    return path.parent / f".{path.name}.lock"


def _lite_holder(path: Path) -> Optional[int]:
    """The id of another process that has the Milvus Lite file open (holds
    its lock), or None.

    Read from /proc/locks rather than by trying the lock: a process drops
    every POSIX lock it holds on a file when it closes any descriptor of it,
    so probing the lock in a process that serves the file would stop its
    engine."""
    lock = _lock_file(path)
    try:
        st = lock.stat()
        table = Path("/proc/locks").read_text()
    except OSError:
        return None
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        # "1: POSIX  ADVISORY  WRITE 8349 00:2d:1234 0 EOF"; waiters ("1: -> POSIX …")
        # are engines waiting for their parent to go.
        if len(fields) >= 6 and fields[1] == "POSIX" and fields[5] == where and int(fields[4]) != os.getpid():
            return int(fields[4])
    return None


def _ending_engines(path: Path) -> list[int]:
    """Milvus Lite engine processes still running on ``path`` (by their
    command line: the engine binary, then the database file)."""
    target = str(path.absolute().resolve())
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[0].endswith(b"milvus_lite/lib/milvus") and argv[1].decode(errors="replace") == target:
            pids.append(int(proc.name))
    return pids


def _check_free(path: Path) -> None:
    """Raise ``IndexUnavailableError`` if another process has the Lite file
    open; wait (bounded) for an engine whose process ended to exit. (Such an
    engine holds the lock for a moment itself, between getting it and exiting.)"""
    deadline = time.monotonic() + ENDING_ENGINE_WAIT_S
    while True:
        holder, ending = _lite_holder(path), _ending_engines(path)
        if holder is not None and holder not in ending:
            raise IndexUnavailableError(_in_use(path, holder))
        if not ending:
            return
        if time.monotonic() > deadline:
            raise IndexUnavailableError(
                f"the Milvus Lite index {path} is still open in an engine process (pid {', '.join(map(str, ending))}) "
                f"whose parent has ended; it did not exit within {ENDING_ENGINE_WAIT_S:.0f} s. Fix: wait for it "
                f"or stop it (kill {' '.join(map(str, ending))}), then run the command again"
            )
        time.sleep(0.05)


def _in_use(path: Path, holder: Optional[int]) -> str:
    who = f"pid {holder}; " if holder is not None else ""
    return (f"the Milvus Lite index {path} is open in another process ({who}Milvus Lite allows one). Fix: stop "
            "that process (`rag ui`, `rag index`, …) first, or use a Milvus server (RAG_INDEX__MILVUS_URI=http://…)")


def engine_log_dir(path: Path) -> Path:
    """Where Milvus Lite's engine writes its log (glog files), beside the database file."""
    return path.absolute().parent / "milvus-logs"


def engine_stderr(path: Path) -> Path:
    """The engine's stderr for the database ``path`` (its errors, a crash's
    last words): one file per database, rewritten by each engine start."""
    return engine_log_dir(path) / f"{path.name}.stderr"


class _EngineSubprocess:
    """``subprocess`` as milvus_lite.server sees it while an engine starts:
    the engine's stdout and stderr go to ``engine_stderr`` instead of ours.
    glog prints errors on stderr whatever GLOG_* says (the engine is started
    with its own log level), so without this a damaged file printed the
    engine's raw log lines above the error that names the fix."""

    TimeoutExpired = subprocess.TimeoutExpired

    def __init__(self, path: Path) -> None:
        self.path = path

    def Popen(self, *args, **kwargs):  # noqa: N802 (subprocess's name)
        # Opened only here: milvus-lite starts the engine after it holds the
        # file's lock, so a second process never truncates a running engine's file.
        with open(self.path, "wb") as out:
            return subprocess.Popen(*args, stdout=out, stderr=out, **kwargs)


@contextmanager
def _engine_environment(path: Optional[Path], said: list[str]) -> Iterator[None]:
    """The environment the Milvus Lite engine starts with: its glog files go
    to ``engine_log_dir`` (not /tmp), errors only (not lines per search),
    unless GLOG_log_dir / GLOG_minloglevel are set already; its output to
    ``engine_stderr``. What milvus-lite logs meanwhile is appended to ``said``."""
    if path is None:
        yield
        return
    import milvus_lite.server

    wanted = {"GLOG_log_dir": str(engine_log_dir(path)), "GLOG_minloglevel": "2"}
    recorder = _Recorder()
    with _ENGINE_START:
        added = {k: v for k, v in wanted.items() if k not in os.environ}
        engine_log_dir(path).mkdir(parents=True, exist_ok=True)
        os.environ.update(added)
        _LITE_LOG.addHandler(recorder)
        milvus_lite.server.subprocess = _EngineSubprocess(engine_stderr(path))
        try:
            yield
        finally:
            milvus_lite.server.subprocess = subprocess
            _LITE_LOG.removeHandler(recorder)
            said.extend(recorder.messages)
            for k in added:
                os.environ.pop(k, None)


def _engine_error(path: Path) -> Optional[str]:
    """The last error the engine for ``path`` printed, e.g.
    ``'Create table failed, errs: file is not a database'``."""
    try:
        text = engine_stderr(path).read_text(errors="replace")
    except OSError:
        return None
    # "E20261203 07:05:00.033015  6797 collection_meta.cpp:94] [SERVER][CreateTable][milvus][]Create table failed, …"
    lines = [l for l in text.splitlines() if re.match(r"E\d{8} ", l)]
    messages = [l.split("]")[-1].strip() for l in lines if "Init milvus failed" not in l]
    return messages[-1] if messages else None


def _forget_clients(uri: str) -> None:
    for key in [k for k in _CLIENTS if k.split("\0")[0] == uri]:
        try:
            _CLIENTS.pop(key).close()
        except Exception:  # closing a broken client must not hide the real problem
            pass
    if not _is_server(uri):
        # Stops the engine (it exits when the lock is released; milvus-lite
        # kills it after 2 s otherwise) and frees the file for other processes.
        try:
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(uri)
        except ImportError:
            pass


def release_all() -> None:
    """Close every client this process opened (and stop its Milvus Lite
    engines), so another process may open the files."""
    for uri in {k.split("\0")[0] for k in _CLIENTS}:
        _forget_clients(uri)


def collection_names(settings: Settings, key_paths) -> tuple[str, str]:
    """(passages, documents) collection names for a set of document paths."""
    base = index_dir(settings, key_paths).name.replace("index-", "rag_")
    return base, base + "_docs"


def passage_key(model: str, p: Passage) -> str:
    """The row's primary key: same passage, same model, same key, on every run.

    Example: ``passage_key("m", Passage("a:0-2", "a", 0, 2, "Hi"))`` is the same hex string each time.
    """
    blob = "\0".join((model, p.source, str(p.start), str(p.end), p.text))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def _wanted_manifest(settings: Settings, embed_model) -> dict:
    manifest = config_manifest(settings, embed_model)
    manifest["rows_format_version"] = ROWS_FORMAT_VERSION
    manifest["lexical_analysis"] = LEXICAL_ANALYSIS
    return manifest


_ANALYSE = None


def lexical_terms(text: str) -> str:
    """The text BM25 sees: its stems, as bm25s makes them, joined by spaces.

    Example: ``lexical_terms("What did the presidents say?")`` -> ``'what did presid say'``
    """
    global _ANALYSE
    if _ANALYSE is None:
        from bm25s.stopwords import STOPWORDS_EN

        stem = snowball()
        stop = frozenset(STOPWORDS_EN)
        token = re.compile(r"(?u)\b\w\w+\b")
        _ANALYSE = lambda t: " ".join(stem(w) for w in token.findall(t.lower()) if w not in stop)  # noqa: E731
    return _ANALYSE(text)


def _create(client, settings: Settings, names: tuple[str, str], manifest: dict) -> None:
    pymilvus = _pymilvus()
    DataType = pymilvus.DataType
    # The manifest is the collection's description: Milvus Lite keeps no
    # collection properties (nor implements altering them); a server keeps both.
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False,
                                  description=json.dumps(manifest, sort_keys=True))
    schema.add_field("pk", DataType.VARCHAR, max_length=64, is_primary=True)
    schema.add_field("pid", DataType.VARCHAR, max_length=_VARCHAR)
    schema.add_field("source", DataType.VARCHAR, max_length=_VARCHAR)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=_VARCHAR)
    schema.add_field("search_text", DataType.VARCHAR, max_length=_VARCHAR, enable_analyzer=True,
                     analyzer_params=ANALYZER)
    schema.add_field("kind", DataType.VARCHAR, max_length=32)
    schema.add_field("section", DataType.VARCHAR, max_length=_VARCHAR)
    schema.add_field("paragraph", DataType.INT64)
    schema.add_field("paragraph_key", DataType.INT64)
    schema.add_field("sentence", DataType.INT64)
    schema.add_field("speaker", DataType.VARCHAR, max_length=_VARCHAR)
    schema.add_field("quoted", DataType.BOOL)
    schema.add_field("doc_sha256", DataType.VARCHAR, max_length=64)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=manifest["embedding_dim"])
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(pymilvus.Function(
        name="bm25", function_type=pymilvus.FunctionType.BM25,
        input_field_names=["search_text"], output_field_names=["sparse"],
    ))
    params = client.prepare_index_params()
    dense = {"field_name": "dense", "index_type": settings.index.milvus_dense_index, "metric_type": "IP"}
    if settings.index.milvus_dense_index == "HNSW":
        dense["params"] = {"M": 16, "efConstruction": 200}
    elif settings.index.milvus_dense_index in ("IVF_FLAT", "IVF_PQ"):
        dense["params"] = {"nlist": 1024, **({"m": 48} if settings.index.milvus_dense_index == "IVF_PQ" else {})}
    params.add_index(**dense)
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params=BM25_PARAMS)
    params.add_index(field_name="source", index_type="INVERTED")
    params.add_index(field_name="speaker", index_type="INVERTED")
    params.add_index(field_name="paragraph_key", index_type="INVERTED")
    # The documents collection first: a passages collection (which carries the
    # manifest) then never exists without it.
    docs = client.create_schema(auto_id=False, enable_dynamic_field=False)
    docs.add_field("source", DataType.VARCHAR, max_length=_VARCHAR, is_primary=True)
    docs.add_field("sha256", DataType.VARCHAR, max_length=64)
    docs.add_field("passages", DataType.INT64)
    docs.add_field("people", DataType.VARCHAR, max_length=_VARCHAR)
    docs.add_field("speakers", DataType.VARCHAR, max_length=_VARCHAR)
    docs.add_field("placeholder", DataType.FLOAT_VECTOR, dim=_PLACEHOLDER_DIM)
    docs_params = client.prepare_index_params()
    docs_params.add_index(field_name="placeholder", index_type="FLAT", metric_type="L2")
    if not client.has_collection(names[1]):
        client.create_collection(names[1], schema=docs, index_params=docs_params)
    client.create_collection(names[0], schema=schema, index_params=params)


def _stored_manifest(client, name: str) -> Optional[dict]:
    raw = client.describe_collection(name).get("description")
    try:
        manifest = json.loads(raw) if raw else None
    except ValueError:
        return None
    return manifest if isinstance(manifest, dict) else None


def _describe_difference(stored: Optional[dict], wanted: dict) -> str:
    if not stored:
        return "it carries no manifest"
    for key, label in (("embedding_model", "embedding model"), ("embedding_dim", "embedding dimension")):
        if stored.get(key) != wanted.get(key):
            return f"it was built with {label} {stored.get(key)!r}, the settings give {wanted.get(key)!r}"
    for key in sorted(set(stored) | set(wanted)):
        if stored.get(key) != wanted.get(key):
            return f"its {key} is {stored.get(key)!r}, the settings give {wanted.get(key)!r}"
    return "its manifest differs"


@contextmanager
def engine_errors(what: str) -> Iterator[None]:
    """Turn the engine failing mid-session (pymilvus, Milvus Lite or gRPC
    errors) into an ``IndexUnavailableError`` that says ``what`` failed and
    how to recover; any other exception is a bug and passes through.

    Example: ``with engine_errors("the Milvus index x failed to search"): ...``
    """
    try:
        yield
    except Exception as exc:
        if not type(exc).__module__.startswith(("pymilvus", "milvus_lite", "grpc")):
            raise
        raise IndexUnavailableError(
            f"{what} ({_said(exc)}). "
            "Fix: check that the server is up (RAG_INDEX__MILVUS_URI), then ask again"
        ) from None


def _row(p: Passage, model: str, sha: str, vector) -> dict:
    return {
        "pk": passage_key(model, p), "pid": p.id, "source": p.source, "start": p.start, "end": p.end,
        "text": p.text, "search_text": lexical_terms(embedding_text(p)), "kind": p.kind, "section": p.section or "",
        "paragraph": p.paragraph, "paragraph_key": paragraph_key(p.source, p.paragraph), "sentence": p.sentence,
        "speaker": p.speaker or "", "quoted": p.quoted,
        "doc_sha256": sha, "dense": vector.tolist() if hasattr(vector, "tolist") else [float(x) for x in vector],
    }


def _passage(row: dict) -> Passage:
    return Passage(
        id=row["pid"], source=row["source"], start=int(row["start"]), end=int(row["end"]), text=row["text"],
        kind=row["kind"], section=row["section"] or None, paragraph=int(row["paragraph"]),
        sentence=int(row["sentence"]), speaker=row["speaker"] or None, quoted=bool(row["quoted"]),
    )


def _literal(value) -> str:
    """A string or list of strings as a Milvus filter literal (JSON's escapes are Milvus's).

    Example: ``_literal(['Dmitry "Dima" Peskov'])`` -> ``'["Dmitry \\"Dima\\" Peskov"]'``
    """
    return json.dumps(value, ensure_ascii=False)


def _all_rows(client, name: str, fields: list[str], filter: str = "") -> list[dict]:
    rows: list[dict] = []
    # The largest batch Milvus allows: the fewest calls.
    iterator = client.query_iterator(name, batch_size=_QUERY_WINDOW, filter=filter, output_fields=fields)
    try:
        while True:
            batch = iterator.next()
            if not batch:
                break
            rows.extend(batch)
    finally:
        iterator.close()
    return rows


def paragraph_key(source: str, paragraph: int) -> int:
    """A row's paragraph as one integer (a hash of source and paragraph
    number, below 2**63), so reading whole paragraphs is one ``in`` filter on
    integers. On Milvus Lite 2.5.1 at 103k rows, 30 paragraphs (~60 rows) took
    8-17 ms that way against 29-36 ms as an OR of (source == …, paragraph in …)
    clauses (string comparisons on every row); and a flat chain of more than
    ~45 such clauses failed ("unsupported expr proto node": past protobuf's
    nesting depth).

    Example: ``paragraph_key("a", 1) == paragraph_key("a", 1) != paragraph_key("a", 2)``
    """
    digest = hashlib.sha256(f"{source}\0{paragraph}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class MilvusPassages(Sequence):
    """The collection's passages, read from the engine when asked.

    Nothing is read at open but the documents collection (per document: its
    passage count, its people and its speakers). A position (``self[i]``)
    reads that passage's document; ``get(pid)``, ``of(source)``,
    ``by_speaker(name)`` and ``window(pids)`` query by key or filter. The last
    few documents and the passages of recent searches are kept (bounded), so
    an answer's citations do not ask again. Rows read are checked against
    the document's text (and a whole document against its record's count):
    a mismatch is an ``IndexCorruptError``.

    ``rows_read`` counts every row fetched, for tests and the scale benchmark.
    """

    lazy = True
    KEEP_DOCUMENTS = 8
    KEEP_PASSAGES = 4096

    def __init__(self, client, name: str, documents: list[Document], records: dict[str, dict], rebuild: str = ""):
        self.client = client
        self.name = name
        self.fix = f". Fix: {rebuild}" if rebuild else ""  # for the errors raised mid-session
        self.texts = {d.source: d.text for d in documents}
        self.order = [d.source for d in documents if d.source in records]
        self.records = records
        self.offsets: list[int] = []
        total = 0
        for source in self.order:
            self.offsets.append(total)
            total += int(records[source]["passages"])
        self.total = total
        self._rank = {source: i for i, source in enumerate(self.order)}
        self.rows_read = 0
        self._lock = threading.Lock()
        self._documents: dict[str, list[Passage]] = {}  # insertion order = age
        self._passages: dict[str, Passage] = {}
        self._paragraph: dict[str, tuple[str, int]] = {}  # pid -> (source, paragraph), from searches

    # -- Sequence --------------------------------------------------------------

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.total))]
        if i < 0:
            i += self.total
        if not 0 <= i < self.total:
            raise IndexError(i)
        import bisect

        d = bisect.bisect_right(self.offsets, i) - 1
        return self.of(self.order[d])[i - self.offsets[d]]

    def __iter__(self):
        for source in self.order:
            yield from self.of(source)

    # -- reads by key or filter --------------------------------------------------

    def _query(self, expr: str, most: int = _QUERY_WINDOW, bulk: bool = False) -> list[Passage]:
        """The passages ``expr`` selects; ``most`` bounds how many there can be
        (``bulk``: expect many, read in batches straight away)."""
        with engine_errors(f"the Milvus collection {self.name} failed to read passages"):
            # One call when it can hold them all (an iterator makes at least two).
            limit = min(most, _QUERY_WINDOW)
            rows = [] if bulk else self.client.query(self.name, filter=expr, output_fields=list(_PASSAGE_FIELDS),
                                                     limit=limit)
            if bulk or len(rows) == limit < most:
                rows = _all_rows(self.client, self.name, list(_PASSAGE_FIELDS), filter=expr)
        passages = [_passage(r) for r in rows]
        for p in passages:
            if self.texts.get(p.source, "")[p.start : p.end] != p.text:
                raise IndexCorruptError(f"passage {p.id} in {self.name} does not match its source text{self.fix}")
        with self._lock:
            self.rows_read += len(passages)
            for p in passages:
                self._passages[p.id] = p
            while len(self._passages) > self.KEEP_PASSAGES:
                self._passages.pop(next(iter(self._passages)))
        rank = self._rank
        passages.sort(key=lambda p: (rank.get(p.source, len(rank)), p.start, p.end))
        return passages

    def of(self, source: str) -> list[Passage]:
        with self._lock:
            kept = self._documents.get(source)
        if kept is not None:
            return kept
        expected = int(self.records.get(source, {}).get("passages", 0))
        passages = self._query(f"source == {_literal(source)}", expected + 1) if source in self.records else []
        if len(passages) != expected:
            raise IndexCorruptError(
                f"the Milvus collection {self.name} holds {len(passages)} passages of {source}, "
                f"its record says {expected}{self.fix}"
            )
        with self._lock:
            self._documents[source] = passages
            while len(self._documents) > self.KEEP_DOCUMENTS:
                self._documents.pop(next(iter(self._documents)))
        return passages

    def get(self, pid: str) -> Optional[Passage]:
        with self._lock:
            kept = self._passages.get(pid)
        if kept is not None:
            return kept
        found = self._query(f"pid == {_literal(pid)}", 1)
        return found[0] if found else None

    def by_speaker(self, speaker: str) -> list[Passage]:
        return self._query(f"speaker == {_literal(speaker)}", self.total)

    def remember(self, hits) -> None:
        """Note where searched passages are (document and paragraph), so
        ``window`` can read their paragraphs in one query."""
        with self._lock:
            for hit in hits:
                e = hit["entity"]
                self._paragraph[e["pid"]] = (e["source"], int(e["paragraph"]))
            while len(self._paragraph) > self.KEEP_PASSAGES:
                self._paragraph.pop(next(iter(self._paragraph)))

    def window(self, pids) -> list[Passage]:
        """The whole paragraphs that ``pids`` are in, in document order: all
        that evidence selection reads around a hit (quotations and the
        sentence before a short one never leave their paragraph)."""
        with self._lock:
            where = {pid: self._paragraph.get(pid) for pid in pids}
        unknown = [pid for pid, w in where.items() if w is None]
        if unknown:
            for p in self._query(f"pid in {_literal(unknown)}", len(unknown)):
                where[p.id] = (p.source, p.paragraph)
        wanted = {w for w in where.values() if w is not None}
        if not wanted:
            return []
        keys = sorted({paragraph_key(*w) for w in wanted})
        rows = self._query(f"paragraph_key in {keys}", self.total)
        return [p for p in rows if (p.source, p.paragraph) in wanted]  # a hash collision reads a stray paragraph

    # -- what an open needs, from the documents collection ----------------------

    def counts(self) -> dict[str, int]:
        return {s: int(r["passages"]) for s, r in self.records.items()}

    def speakers(self) -> set[str]:
        return {name for r in self.records.values() for name in json.loads(r.get("speakers") or "[]")}

    def of_speaking_documents(self, source: Optional[str] = None) -> list[Passage]:
        sources = [s for s in self.order if json.loads(self.records[s].get("speakers") or "[]")]
        if source is not None:
            return self.of(source) if source in sources else []
        if not sources:
            return []
        # One read for all of them, not a query per document; the caller lists speakers
        # and lets the rows go.
        most = sum(int(self.records[s]["passages"]) for s in sources)
        where = "" if len(sources) == len(self.order) else f"source in {_literal(sources)}"
        return self._query(where, most, bulk=most > _QUERY_WINDOW)


def _embed(embed_model, texts: list[str]):
    return embed_in_chunks(embed_model, texts, progress=False)


class MilvusSearch:
    """Hybrid search in a Milvus collection: the engine ``rag.retrieve`` asks
    instead of FAISS + in-process BM25."""

    def __init__(self, client, collection: str, embed_model, location: str,
                 store: Optional[MilvusPassages] = None):
        self.client = client
        self.collection = collection
        self.embed_model = embed_model
        self.location = location  # for messages: "<uri> collection <name>"
        self.store = store  # told where found passages are, for reading their paragraphs

    def _search(self, field: str, data, limit: int, expr: str, fields: list[str]) -> list[dict]:
        metric = "IP" if field == "dense" else "BM25"
        return self.client.search(self.collection, data=[data], anns_field=field, limit=limit,
                                  search_params={"metric_type": metric}, output_fields=fields,
                                  filter=expr)[0]

    def rank(self, query: str, speakers: tuple[str, ...], settings: RetrievalSettings,
             sources: Optional[list[str]] = None, vector=None) -> tuple[list[tuple[str, float]], float, float]:
        """Passage ids by fused score, the best cosine and the best BM25 score.

        ``sources`` restricts the search to those documents (a filter in the
        engine); ``vector`` is the query's embedding when the caller has it.
        A server that fails mid-session is an ``IndexUnavailableError`` naming it."""
        with engine_errors(f"the Milvus index {self.location} failed to search"):
            return self._rank(query, speakers, settings, sources, vector)

    def _lists(self, vector: list[float], terms: str, lexical: bool, settings: RetrievalSettings,
               expr: str, fields: list[str]) -> tuple[list[dict], list[dict]]:
        dense = self._search("dense", vector, settings.dense_top_k, expr, fields)
        sparse = self._search("sparse", terms, settings.lexical_top_k, expr, fields) if lexical else []
        return dense, sparse

    def _rank(self, query, speakers, settings, sources, vector):
        import numpy as np

        from rag.question import content_words

        if vector is None:
            vector = self.embed_model.embed_batch([query])[0]
        vector = np.asarray(vector, dtype=np.float32).tolist()
        terms = lexical_terms(query)
        lexical = bool(content_words(query)) and bool(terms)
        expr = f"source in {_literal(list(sources))}" if sources else ""
        # Two plain searches, fused here with the same reciprocal-rank sum the
        # engine's RRFRanker computes (1/(k + rank), rank from 1) and the
        # FAISS path uses. One hybrid_search would need a third search for
        # the best BM25 score and the dense vectors back for the best cosine;
        # the two lists carry both as their first distances.
        fields = ["pid", "speaker", "source", "paragraph"]
        dense, sparse = self._lists(vector, terms, lexical, settings, expr, fields)
        fused = _rrf((dense, sparse), settings.rrf_k)
        speaker_of = {h["entity"]["pid"]: h["entity"]["speaker"] for hits in (dense, sparse) for h in hits}
        best_dense = float(dense[0]["distance"]) if dense else 0.0
        # Milvus's BM25 (Lite's and a server's: the same C++ code) keeps the
        # classic (k1 + 1) factor that bm25s (Lucene's form) drops; dividing
        # it out puts the score on the scale the answer step's
        # min_lexical_score was set on.
        best_lexical = float(sparse[0]["distance"]) / (BM25_PARAMS["bm25_k1"] + 1.0) if sparse else 0.0
        if speakers:
            # The people the question names: their passages among the fused
            # ones are boosted exactly as on the FAISS path. The same two
            # searches, filtered to their passages in the engine, find the
            # rest of what they said; those rank as if just past the end of
            # the fused lists (in their filtered fused order), so they add
            # evidence without reordering what FAISS would have chosen.
            for pid in fused:
                if speaker_of[pid] in speakers:
                    fused[pid] *= settings.speaker_boost
            s_expr = f"speaker in {_literal(list(speakers))}" + (f" and {expr}" if expr else "")
            beyond = settings.rrf_k + max(settings.dense_top_k, settings.lexical_top_k) + 1
            lists = self._lists(vector, terms, lexical, settings, s_expr, fields)
            dense, sparse = dense + lists[0], sparse + lists[1]
            filtered = sorted(_rrf(lists, settings.rrf_k).items(), key=lambda kv: -kv[1])
            for rank, (pid, _) in enumerate(kv for kv in filtered if kv[0] not in fused):
                fused[pid] = 1.0 / (beyond + rank)
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        if self.store is not None:
            self.store.remember(dense + sparse)
        return ranked, best_dense, best_lexical


def _rrf(lists, k: int) -> dict[str, float]:
    """Reciprocal-rank fusion of ranked hit lists, as Milvus's ``RRFRanker(k)``:
    a passage at rank r (from 1) of a list adds 1/(k + r).

    Example: ``_rrf(([{"entity": {"pid": "a"}}], [{"entity": {"pid": "a"}}]), 60)`` -> ``{"a": 2/61}``
    """
    fused: dict[str, float] = {}
    for hits in lists:
        for rank, hit in enumerate(hits, start=1):
            pid = hit["entity"]["pid"]
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (k + rank)
    return fused


def drop(settings: Settings, key_paths) -> None:
    """Remove the collections for ``key_paths`` (``rag index --rebuild``); a
    damaged Milvus Lite file (or a milvus-lite 3.x folder) is removed whole,
    with SQLite's journal beside it, since nothing in it can be read. A file
    another process has open is never touched, nor one that could not be
    opened for another reason (milvus-lite missing, a bad URI)."""
    uri = milvus_uri(settings)
    try:
        client = connect(settings)
        for name in collection_names(settings, key_paths):
            if client.has_collection(name):
                client.drop_collection(name)
        return
    except IndexCorruptError:
        pass
    except Exception as exc:  # the engine failing on damaged data, or anything else: not damage
        if _is_server(uri) or not type(exc).__module__.startswith(("pymilvus", "milvus_lite", "grpc")):
            raise
    _forget_clients(uri)
    path = Path(uri)
    _check_free(path)
    log.warning("removing the damaged Milvus Lite index %s", uri)
    if path.is_dir():
        shutil.rmtree(path)
    for leftover in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        if leftover.is_file():
            leftover.unlink()


def open_milvus_index(settings: Settings, paths, embed_model, progress: bool = False,
                      key_paths=None) -> CorpusIndex:
    """Bring the Milvus collection for ``paths`` up to date with the documents
    and return it as a ``CorpusIndex`` whose ``engine`` retrieval searches."""
    t0 = time.perf_counter()
    uri = milvus_uri(settings)
    if not _is_server(uri) and settings.index.milvus_dense_index not in LITE_DENSE_INDEXES:
        raise ConfigError(
            f"RAG_INDEX__MILVUS_DENSE_INDEX={settings.index.milvus_dense_index} needs a Milvus server: Milvus Lite "
            f"({uri}) builds only {', '.join(LITE_DENSE_INDEXES)}. Fix: use one of those, or a server "
            "(RAG_INDEX__MILVUS_URI=http://…)"
        )
    loaded = load_documents(paths, settings.ingest)
    t = time.perf_counter()
    client = connect(settings)
    connect_s = time.perf_counter() - t
    names = collection_names(settings, key_paths if key_paths is not None else paths)
    model = embed_model.model_name
    wanted = _wanted_manifest(settings, embed_model)
    try:
        if client.has_collection(names[0]):
            stored = _stored_manifest(client, names[0])
            if stored != wanted:
                raise IndexMismatchError(
                    f"the Milvus collection {names[0]} at {uri} does not fit these settings: "
                    f"{_describe_difference(stored, wanted)}. Fix: {rebuild_command(settings)} (re-embeds every document)"
                )
        else:
            _create(client, settings, names, wanted)
        t = time.perf_counter()
        for name in names:
            client.load_collection(name)  # Milvus Lite reads every row into the engine's memory here
        load_s = time.perf_counter() - t
        timings = _synchronise(client, names, loaded.documents, settings, embed_model, model, progress)
        timings.update(connect_s=connect_s, load_s=load_s)
        records = {r["source"]: r for r in _all_rows(client, names[1], ["source", "passages", "people", "speakers"])}
        _check_complete(client, names[0], records, None if _is_server(uri) else Path(uri))
    except (IndexMismatchError, ConfigError):
        raise
    except IndexCorruptError as exc:
        _forget_clients(uri)
        raise IndexCorruptError(f"the Milvus index {uri} is damaged: {exc}. Fix: {rebuild_command(settings)}") from None
    except Exception as exc:
        if type(exc).__module__.startswith(("pymilvus", "milvus_lite", "grpc")):
            _forget_clients(uri)
            if _is_server(uri):
                raise IndexUnavailableError(
                    f"the Milvus server at {uri} failed ({_said(exc)}). "
                    f"Fix: check the server; if the collection is damaged, {rebuild_command(settings)}"
                ) from None
            if _not_answering(_said(exc)) and _engine_error(Path(uri)) is None:
                raise IndexUnavailableError(  # the engine went away and said nothing about the file
                    f"the Milvus Lite engine for {uri} stopped answering ({_said(exc)}); the index file was "
                    f"not changed. Fix: run the command again; if this repeats, {rebuild_command(settings)}"
                ) from None
            raise IndexCorruptError(
                f"the Milvus Lite index {uri} is damaged ({_said(exc)}). "
                f"Fix: {rebuild_command(settings)}"
            ) from None
        raise
    # The passage rows stay in the engine: the index reads them by key or
    # filter when an answer, a citation or a speaker list needs them.
    store = MilvusPassages(client, names[0], loaded.documents, records, rebuild_command(settings))
    index = CorpusIndex(
        documents={d.source: d for d in loaded.documents},
        passages=store,
        people={d.source: json.loads(records[d.source]["people"]) for d in loaded.documents if d.source in records},
        vector_store=None,
        embed_model=embed_model,
        directory=None,
        timings=timings,
    )
    index.engine = MilvusSearch(client, names[0], embed_model, f"{uri} (collection {names[0]})", store)
    index.warnings = loaded.warnings
    index.timings["total_s"] = time.perf_counter() - t0
    return index


def _count(client, name: str, filter: str = "") -> int:
    # Strong: a server counts the deletes and inserts just made.
    rows = client.query(name, filter=filter, output_fields=["count(*)"], consistency_level="Strong")
    return int(rows[0]["count(*)"])


def _check_complete(client, name: str, records: dict[str, dict], lite: Optional[Path]) -> None:
    """Raise ``IndexCorruptError`` unless the engine holds exactly the passage
    rows the documents collection counts (one count, ~1 ms at 100k rows).

    Milvus Lite reads a file's rows when a collection is loaded and stops at
    a damaged SQLite page without failing the load (it logs "Load data
    failed"): the rows before the page are served, the rest are silently
    missing. Rows of a document that has no record and is no longer among the
    documents (a crash before its record, then the file removed) are not
    damage: they are deleted, and the count taken again."""
    want = sum(int(r["passages"]) for r in records.values())
    have = _count(client, name)
    if have != want:
        orphans = f"source not in {_literal(sorted(records))}"
        if _count(client, name, orphans):
            client.delete(name, filter=orphans)
            have = _count(client, name)
    if have != want:
        reason = _engine_error(lite) if lite is not None else None
        raise IndexCorruptError(
            f"the Milvus collection {name} holds {have} passage rows, its documents collection counts {want}"
            + (f" (the engine said: {reason})" if reason else "")
        )


def _synchronise(client, names, documents: list[Document], settings: Settings, embed_model, model: str,
                 progress: bool) -> dict[str, float]:
    """Make the collections hold exactly ``documents``' passages."""
    rows_name, docs_name = names
    t0 = time.perf_counter()
    stored = {r["source"]: r for r in _all_rows(client, docs_name, ["source", "sha256", "passages"])}
    current = {d.source for d in documents}
    removed = sorted(set(stored) - current)
    if removed:
        client.delete(rows_name, filter=f"source in {_literal(removed)}")
        client.delete(docs_name, ids=removed)
    stale = [d for d in documents if stored.get(d.source, {}).get("sha256") != d.sha256]
    bar = None
    if progress and stale:
        from tqdm import tqdm

        bar = tqdm(total=len(stale), desc="indexing", unit="document")
    parse_s = embed_s = insert_s = 0.0
    embedded = 0
    # The stale documents' records go first and come back last: until then a
    # document counts as not indexed, whatever rows a crash left behind. One
    # delete for all of them (a delete by filter is a query, then a delete by
    # key, in the engine), not one per document.
    if stale:
        gone = [d.source for d in stale if d.source in stored]
        if gone:
            client.delete(docs_name, ids=gone)
        client.delete(rows_name, filter=f"source in {_literal([d.source for d in stale])}")
    delete_s = time.perf_counter() - t0  # with reading the documents collection
    rows: list[dict] = []
    records: list[dict] = []
    # At most ~2 KB of text and the vector a row, so the default batch stays
    # far below a server's 64 MB message limit; on Milvus Lite also below the
    # vector bytes one insert handles quickly.
    batch = settings.index.milvus_insert_batch
    if not _is_server(milvus_uri(settings)):
        batch = max(1, min(batch, _LITE_INSERT_VECTOR_BYTES // (4 * embed_model.dimension)))

    def flush() -> None:
        nonlocal insert_s
        # Rows across documents in one insert (each call costs the same
        # fixed work in the engine); a document's record only after its rows.
        # Insert, not upsert: the rows were deleted above, and a crash before
        # the record means the next run deletes them again. (An upsert is a
        # delete then an insert in the engine: a crash between the two leaves
        # a document without its record, which is indexed again.)
        t = time.perf_counter()
        for i in range(0, len(rows), batch):
            client.insert(rows_name, rows[i : i + batch])
        if records:
            client.upsert(docs_name, records)
        insert_s += time.perf_counter() - t
        rows.clear()
        records.clear()

    for doc in stale:
        t = time.perf_counter()
        passages, people = analyse(doc, settings)
        parse_s += time.perf_counter() - t
        t = time.perf_counter()
        vectors = _embed(embed_model, [embedding_text(p) for p in passages]) if passages else []
        embed_s += time.perf_counter() - t
        embedded += len(passages)
        rows.extend(_row(p, model, doc.sha256, vectors[j]) for j, p in enumerate(passages))
        records.append({"source": doc.source, "sha256": doc.sha256, "passages": len(passages),
                        "people": json.dumps(people, ensure_ascii=False),
                        "speakers": json.dumps(sorted({p.speaker for p in passages if p.speaker}), ensure_ascii=False),
                        "placeholder": [0.0] * _PLACEHOLDER_DIM})
        if len(rows) >= batch:
            flush()
        if bar is not None:
            bar.update(1)
    flush()
    if bar is not None:
        bar.close()
    return {"parse_s": parse_s, "model_load_s": 0.0, "embed_s": embed_s, "delete_s": delete_s,
            "insert_s": insert_s, "embedded": float(embedded)}
