"""The Milvus backend on the real Milvus Lite engine: rows, incremental
updates, crash convergence, manifest and fault messages, lazy import.

Retrieval and answer behaviour on Milvus is tested by the same tests as FAISS
(tests/test_retrieve.py, tests/test_answer.py run on both backends).
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import HashEmbedding

from rag.errors import ConfigError, IndexCorruptError, IndexMismatchError, IndexUnavailableError
from rag.index import analyse, open_index
from rag.ingest import read_document
from rag.settings import Settings

from conftest import ARTICLE, ROOT, release_milvus

pytest.importorskip("pymilvus")


@pytest.fixture
def settings(tmp_path):
    yield Settings().with_updates(index={"data_dir": tmp_path / "data", "show_progress": False, "backend": "milvus"})
    release_milvus()


def _doc(folder: Path, name: str, topic: str, n: int = 6) -> Path:
    """A small document of its own words: n sentences about ``topic``."""
    path = folder / name
    lines = [f"Notes on {topic}", ""]
    for i in range(n):
        lines.append(f"Paragraph {i} about {topic}: the {topic} committee met on day {i + 1} and "
                     f"agreed item {i} of the {topic} plan.")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _rows(settings, paths):
    """(pk, pid, source) of every row the collection holds, read with pymilvus directly."""
    from rag.milvus import _all_rows, collection_names, connect

    client = connect(settings)
    name = collection_names(settings, paths)[0]
    client.load_collection(name)
    return [(r["pk"], r["pid"], r["source"]) for r in _all_rows(client, name, ["pk", "pid", "source"])]


def _expected_ids(settings, folder: Path) -> set[str]:
    ids = set()
    for path in sorted(folder.iterdir()):
        passages, _ = analyse(read_document(path, settings.ingest), settings)
        ids.update(p.id for p in passages)
    return ids


def test_rows_give_back_the_faiss_passages_span_for_span(settings, tmp_path):
    milvus = open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    faiss = open_index(settings.with_updates(index={"backend": "faiss"}), [ARTICLE], embed_model=HashEmbedding())
    assert list(milvus.passages) == faiss.passages and len(milvus.passages) == 85
    assert milvus.people == faiss.people
    assert milvus.speaker_names() == faiss.speaker_names() and milvus.passage_counts() == faiss.passage_counts()
    assert [milvus.passages[i] for i in (0, 40, 84, -1)] == [faiss.passages[i] for i in (0, 40, 84, -1)]
    who = sorted(faiss.speaker_names())[0]
    assert milvus.passages_by(who) == faiss.passages_by(who)
    text = ARTICLE.read_text(encoding="utf-8")
    assert all(text[p.start : p.end] == p.text for p in milvus.passages)
    assert milvus.engine is not None and faiss.engine is None


def test_the_assistant_keeps_passage_rows_in_the_engine_not_in_memory(make_assistant, tmp_path):
    """Open reads no passage row; a question reads only its paragraphs; the
    answer, its citations and the speaker list are those FAISS gives."""
    folder = tmp_path / "docs"
    folder.mkdir()
    topics = ["harbour", "orchard", "lighthouse", "quarry", "railway", "glacier", "bakery", "observatory",
              "vineyard", "ferry", "mill", "canal", "archive", "meadow", "foundry", "aqueduct"]
    for i, topic in enumerate(topics):
        _doc(folder, f"{i:02d}.txt", topic, n=20)
    shutil.copy(ARTICLE, folder / ARTICLE.name)
    milvus = make_assistant(None, paths=[folder], index={"backend": "milvus"})
    faiss = make_assistant(None, paths=[folder], index={"backend": "faiss"})
    store = milvus.index.passages
    total = len(store)
    assert total > 400 and total == len(faiss.index.passages)
    assert store.rows_read == 0  # opened: counts, people and speakers come from the documents collection
    question = "What did Suslov say about New START?"
    answer = milvus.ask(question)
    assert answer.citations
    assert all(milvus.index.text_of(c.source)[c.start : c.end] == c.quote for c in answer.citations)
    read = store.rows_read
    assert 0 < read < total / 4  # the found passages' paragraphs (one search: 60 at most), not the corpus
    assert [(c.source, c.start, c.end) for c in answer.citations] == \
        [(c.source, c.start, c.end) for c in faiss.ask(question).citations]
    assert milvus.speakers() == faiss.speakers()
    assert milvus.documents() == faiss.documents()


def test_adding_removing_and_changing_documents_touch_only_their_rows(settings, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    _doc(folder, "a.txt", "harbour")
    _doc(folder, "b.txt", "orchard")
    embedder = HashEmbedding()
    first = open_index(settings, [folder], embed_model=embedder)
    rows_before = set(_rows(settings, [folder]))
    assert {pid for _, pid, _ in rows_before} == _expected_ids(settings, folder)

    # Adding: only the new document's passages are embedded and inserted.
    _doc(folder, "c.txt", "lighthouse", n=3)
    embedder.calls.clear()
    added = open_index(settings, [folder], embed_model=embedder)
    new = [p for p in added.passages if p.source.endswith("c.txt")]
    assert sum(embedder.calls) == len(new) == added.timings["embedded"]
    rows = set(_rows(settings, [folder]))
    assert rows_before < rows and len(rows) == len(rows_before) + len(new)

    # Changing: the document's old rows go, its new ones come; others stay.
    _doc(folder, "a.txt", "harbour", n=2)
    changed = open_index(settings, [folder], embed_model=embedder)
    a_rows = {r for r in _rows(settings, [folder]) if r[2].endswith("a.txt")}
    assert {pid for _, pid, _ in a_rows} == {p.id for p in changed.passages if p.source.endswith("a.txt")}
    assert len(a_rows) < len([r for r in rows_before if r[2].endswith("a.txt")])

    # Removing: deleted by filter, nothing of it left.
    (folder / "b.txt").unlink()
    removed = open_index(settings, [folder], embed_model=embedder)
    assert not any(r[2].endswith("b.txt") for r in _rows(settings, [folder]))
    assert not any(p.source.endswith("b.txt") for p in removed.passages)
    assert removed.timings["embedded"] == 0
    assert len(_rows(settings, [folder])) == len(removed.passages)
    assert len(first.passages) > 0


class _DyingEmbedder(HashEmbedding):
    """Raises on its ``die_at``-th call: a crash in the middle of indexing."""

    def __init__(self, die_at: int):
        super().__init__()
        self.die_at = die_at

    def embed_batch(self, texts):
        if len(self.calls) + 1 == self.die_at:
            raise KeyboardInterrupt("simulated crash")
        return super().embed_batch(texts)


def test_a_crash_mid_insert_converges_on_the_next_run(settings, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, topic in enumerate(["harbour", "orchard", "lighthouse", "quarry"]):
        _doc(folder, f"{i}.txt", topic)
    # Rows are inserted in batches across documents; a small batch lets the
    # crash come after some documents are complete.
    settings = settings.with_updates(index={"milvus_insert_batch": 8})
    with pytest.raises(KeyboardInterrupt):
        open_index(settings, [folder], embed_model=_DyingEmbedder(die_at=3))
    partial = _rows(settings, [folder])
    assert 0 < len(partial) < len(_expected_ids(settings, folder))
    index = open_index(settings, [folder], embed_model=HashEmbedding())
    rows = _rows(settings, [folder])
    pks = [pk for pk, _, _ in rows]
    assert len(pks) == len(set(pks))  # no duplicates
    assert {pid for _, pid, _ in rows} == _expected_ids(settings, folder) == {p.id for p in index.passages}
    assert index.timings["embedded"] == len(index.passages) - len(partial)  # finished documents kept


def test_rows_a_crash_left_for_a_since_removed_document_are_deleted(settings, tmp_path):
    """Killed between a document's rows and its record, then the file
    removed: the rows have no record and no document, so no sync step
    deleted them and searches found them. The open's row count finds them;
    they are deleted, not reported as a damaged index."""
    from rag.milvus import _row, collection_names, connect

    folder = tmp_path / "docs"
    folder.mkdir()
    _doc(folder, "a.txt", "harbour")
    embedder = HashEmbedding()
    open_index(settings, [folder], embed_model=embedder)
    # What the kill leaves: b's rows inserted, its record not yet written.
    gone = _doc(folder, "b.txt", "orchard")
    doc = read_document(gone, settings.ingest)
    passages, _ = analyse(doc, settings)
    vectors = embedder.embed_batch([p.text for p in passages])
    connect(settings).insert(collection_names(settings, [folder])[0],
                             [_row(p, embedder.model_name, doc.sha256, v) for p, v in zip(passages, vectors)])
    gone.unlink()
    index = open_index(settings, [folder], embed_model=embedder)
    rows = _rows(settings, [folder])
    assert {pid for _, pid, _ in rows} == {p.id for p in index.passages} == _expected_ids(settings, folder)
    assert len(rows) == len(index.passages)


def test_search_filters_by_document_in_the_engine(settings, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    _doc(folder, "a.txt", "harbour")
    _doc(folder, "b.txt", "orchard")
    index = open_index(settings, [folder], embed_model=HashEmbedding())
    b = next(s for s in index.documents if s.endswith("b.txt"))
    ranked, _, _ = index.engine.rank("harbour committee plan", (), settings.retrieval, sources=[b])
    assert ranked and all(index.passage(pid).source == b for pid, _ in ranked)
    ranked, best_dense, best_lexical = index.engine.rank("harbour committee plan", (), settings.retrieval)
    assert index.passage(ranked[0][0]).source.endswith("a.txt")
    assert best_dense > 0 and best_lexical > 0


def test_speaker_questions_boost_as_faiss_does_and_add_the_speakers_other_passages(settings):
    index = open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    question, who = "What did he say about the calls?", "Dmitry Peskov"
    plain, _, _ = index.engine.rank(question, (), settings.retrieval)
    focused, _, _ = index.engine.rank(question, (who,), settings.retrieval)
    speaker = {p.id: p.speaker for p in index.passages}
    plain_scores, focused_scores = dict(plain), dict(focused)
    # The fused passages keep their scores, the speaker's multiplied by the boost (the FAISS rule).
    for pid, score in plain:
        expected = score * (settings.retrieval.speaker_boost if speaker[pid] == who else 1.0)
        assert focused_scores[pid] == pytest.approx(expected)
    # The filtered search adds the speaker's other passages, after all of those.
    added = [pid for pid, _ in focused if pid not in plain_scores]
    assert added and all(speaker[pid] == who for pid in added)
    assert max(focused_scores[pid] for pid in added) < min(plain_scores.values())
    assert [pid for pid, _ in focused][: len(plain)] == sorted(plain_scores, key=lambda p: -focused_scores[p])


def test_another_embedding_model_is_a_clear_error_naming_the_rebuild(settings):
    open_index(settings, [ARTICLE], embed_model=HashEmbedding())

    class Other(HashEmbedding):
        model_name = "other-model"

    with pytest.raises(IndexMismatchError, match="embedding model 'hash-256'.*'other-model'.*--rebuild"):
        open_index(settings, [ARTICLE], embed_model=Other())
    with pytest.raises(IndexMismatchError, match="max_passage_chars"):
        open_index(settings.with_updates(index={"max_passage_chars": 300}), [ARTICLE], embed_model=HashEmbedding())
    from rag.milvus import drop

    drop(settings, [ARTICLE])
    assert open_index(settings, [ARTICLE], embed_model=Other()).passages


def test_an_unreachable_server_is_a_clear_error_within_seconds(tmp_path):
    import socket

    with socket.socket() as s:  # a free port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    settings = Settings().with_updates(index={"data_dir": tmp_path, "backend": "milvus", "milvus_uri": uri,
                                              "milvus_timeout_s": 2})
    t0 = time.perf_counter()
    with pytest.raises(IndexUnavailableError, match=f"Milvus server at {uri} cannot be reached.*Fix:"):
        open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    assert time.perf_counter() - t0 < 10


def test_a_server_that_never_answers_is_a_clear_error_within_the_timeout(tmp_path):
    """A port that accepts connections and says nothing (a hung server, a
    firewall that drops): the timeout applies, the URI is named."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)  # never accepted: the handshake completes, no reply follows
        uri = f"http://127.0.0.1:{s.getsockname()[1]}"
        settings = Settings().with_updates(index={"data_dir": tmp_path, "backend": "milvus", "milvus_uri": uri,
                                                  "milvus_timeout_s": 1})
        t0 = time.perf_counter()
        with pytest.raises(IndexUnavailableError, match=f"Milvus server at {uri} cannot be reached.*Fix:"):
            open_index(settings, [ARTICLE], embed_model=HashEmbedding())
        assert time.perf_counter() - t0 < 6


def _slow_engine(monkeypatch, fails: int):
    """pymilvus's MilvusClient failing its first ``fails`` connects as it does
    when the Lite engine has not answered on its socket yet (a busy machine):
    "Fail connecting to server on unix:…, … server unavailable"."""
    import pymilvus
    from pymilvus.exceptions import MilvusException

    real, tries = pymilvus.MilvusClient, []

    def client(*args, **kwargs):
        tries.append(kwargs.get("uri"))
        if len(tries) <= fails:
            raise MilvusException(code=2, message="Fail connecting to server on unix:/tmp/x.sock, "
                                                  "illegal connection params or server unavailable")
        return real(*args, **kwargs)

    monkeypatch.setattr(pymilvus, "MilvusClient", client)
    return tries


def test_an_engine_slow_to_answer_is_waited_for_not_called_damaged(settings, monkeypatch, caplog):
    open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    release_milvus()
    tries = _slow_engine(monkeypatch, fails=2)
    with caplog.at_level("WARNING", logger="rag.milvus"):
        index = open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    assert len(index.passages) == 85 and len(tries) == 3
    assert "did not answer yet" in caplog.text


def test_an_engine_that_never_answers_is_unavailable_and_the_file_is_kept(settings, monkeypatch):
    open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    release_milvus()
    db = Path(settings.index.data_dir) / "milvus.db"
    size = db.stat().st_size
    _slow_engine(monkeypatch, fails=1000)
    slow = settings.with_updates(index={"milvus_start_s": 1})
    t0 = time.perf_counter()
    with pytest.raises(IndexUnavailableError) as error:
        open_index(slow, [ARTICLE], embed_model=HashEmbedding())
    assert time.perf_counter() - t0 < 5
    message = str(error.value)
    assert "damaged" not in message and "--rebuild" not in message
    assert f"the Milvus Lite engine for {db} did not answer within 1 s" in message
    assert "RAG_INDEX__MILVUS_START_S" in message
    assert db.is_file() and db.stat().st_size == size
    monkeypatch.undo()
    assert len(open_index(settings, [ARTICLE], embed_model=HashEmbedding()).passages) == 85


def test_an_engine_that_stops_answering_while_opening_is_not_called_damaged(settings, monkeypatch):
    import rag.milvus
    from pymilvus.exceptions import MilvusException

    open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    release_milvus()

    def gone(*args, **kwargs):
        raise MilvusException(code=2, message="Fail connecting to server on unix:/tmp/x.sock, "
                                              "illegal connection params or server unavailable")

    monkeypatch.setattr(rag.milvus, "_synchronise", gone)
    with pytest.raises(IndexUnavailableError, match="engine for .* stopped answering .*Fix: run the command again"):
        open_index(settings, [ARTICLE], embed_model=HashEmbedding())


def _garbage(db: Path) -> None:
    db.write_bytes(os.urandom(64 * 1024))


def _truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


def _old_folder(db: Path) -> None:
    """What milvus-lite 3.x left at the same path: a folder."""
    db.unlink()
    (db / "collections").mkdir(parents=True)
    (db / "LOCK").write_text("")


def _schema_scrambled(db: Path) -> None:
    """A readable SQLite file whose collection schemas are garbage."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE collection_meta SET blob_field = ? WHERE meta_type = 'schema'", (os.urandom(200),))


def _page_damaged(db: Path) -> None:
    """One page in the middle of the passage rows' table overwritten: Milvus
    Lite loads the rows before it, logs "Load data failed" and serves them."""
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        table = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rag_%' "
                             "AND name NOT LIKE '%_docs'").fetchone()[0]
        leaves = [n for (n,) in conn.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' "
                                             "ORDER BY pageno", (table,))]
    assert len(leaves) > 10
    with open(db, "r+b") as f:
        f.seek((leaves[len(leaves) // 2] - 1) * size)
        f.write(b"\xff" * size)


@pytest.mark.parametrize("damage, reason", [
    (_garbage, "file is not a database"),
    (_truncated, "malformed"),
    (_old_folder, "is a folder: milvus-lite 3.x"),
    (_schema_scrambled, ""),
    (_page_damaged, "passage rows, its documents collection counts 85 (the engine said: Load data failed"),
])
def test_a_damaged_lite_file_names_the_rebuild_command_and_rebuild_works(settings, damage, reason):
    open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    release_milvus()
    db = Path(settings.index.data_dir) / "milvus.db"
    assert db.is_file()
    damage(db)
    with pytest.raises(IndexCorruptError, match="rag index --index-backend milvus --rebuild") as error:
        open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    assert reason in str(error.value)
    from rag.milvus import drop

    drop(settings, [ARTICLE])
    assert len(open_index(settings, [ARTICLE], embed_model=HashEmbedding()).passages) == 85
    assert db.is_file()


def test_a_lite_uri_must_be_a_db_path(tmp_path):
    settings = Settings().with_updates(index={"data_dir": tmp_path, "backend": "milvus", "milvus_uri": str(tmp_path / "x")})
    with pytest.raises(ConfigError, match="RAG_INDEX__MILVUS_URI.*ending in .db"):
        open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    # milvus-lite's own rule for the file's name, said before it refuses.
    for name in ("my index.db", "a" * 34 + ".db"):
        settings = settings.with_updates(index={"milvus_uri": str(tmp_path / name)})
        with pytest.raises(ConfigError, match="at most 36 letters, digits"):
            open_index(settings, [ARTICLE], embed_model=HashEmbedding())


def test_without_milvus_lite_a_lite_file_is_a_config_error_and_rebuild_keeps_it(settings, monkeypatch):
    """Not "damaged": `--rebuild` would then remove a sound file."""
    import importlib.util

    from rag.milvus import drop

    open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    release_milvus()
    db = Path(settings.index.data_dir) / "milvus.db"
    size = db.stat().st_size
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "milvus_lite" else find_spec(name, *a))
    with pytest.raises(ConfigError, match="milvus-lite package is not installed. Fix: pip install 'rag-local\\[milvus\\]'"):
        open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    with pytest.raises(ConfigError, match="milvus-lite package is not installed"):
        drop(settings, [ARTICLE])
    assert db.is_file() and db.stat().st_size == size


def test_dense_indexes_lite_cannot_build_are_a_config_error(settings):
    with pytest.raises(ConfigError, match="MILVUS_DENSE_INDEX=HNSW needs a Milvus server.*FLAT, IVF_FLAT, AUTOINDEX"):
        open_index(settings.with_updates(index={"milvus_dense_index": "HNSW"}), [ARTICLE], embed_model=HashEmbedding())
    assert not (Path(settings.index.data_dir) / "milvus.db").exists()  # refused before any collection was made
    index = open_index(settings.with_updates(index={"milvus_dense_index": "IVF_FLAT"}), [ARTICLE],
                       embed_model=HashEmbedding())
    assert index.engine.rank("What did Suslov say?", (), settings.retrieval)[0]


def test_lite_inserts_stay_below_the_engines_slow_size(settings, monkeypatch):
    """Milvus Lite slows down sharply past ~7 MB of vectors in one insert:
    a large insert batch is cut to the byte bound."""
    import rag.milvus

    monkeypatch.setattr(rag.milvus, "_LITE_INSERT_VECTOR_BYTES", 10 * 4 * HashEmbedding.dimension)
    sizes = []
    real = rag.milvus._synchronise

    def spy(client, *args, **kwargs):
        insert = client.insert

        def counting(name, rows, *a, **k):
            sizes.append(len(rows))
            return insert(name, rows, *a, **k)

        monkeypatch.setattr(client, "insert", counting)
        return real(client, *args, **kwargs)

    monkeypatch.setattr(rag.milvus, "_synchronise", spy)
    index = open_index(settings.with_updates(index={"milvus_insert_batch": 20_000}), [ARTICLE],
                       embed_model=HashEmbedding())
    assert sum(sizes) == len(index.passages) == 85 and max(sizes) == 10


def test_settings_and_options(monkeypatch):
    monkeypatch.setenv("RAG_INDEX__BACKEND", "milvus")
    monkeypatch.setenv("RAG_INDEX__MILVUS_TOKEN", "root:s3cret-token")
    s = Settings()
    assert s.index.backend == "milvus" and s.index.milvus_token.get_secret_value() == "root:s3cret-token"
    assert "s3cret" not in repr(s) and "s3cret" not in str(s.model_dump(mode="json"))
    monkeypatch.delenv("RAG_INDEX__BACKEND")
    from rag.cli import build_parser

    args = build_parser().parse_args(["index", "--index-backend", "milvus", "--backend", "none"])
    s = Settings.from_args(args)
    assert (s.index.backend, s.llm.backend) == ("milvus", "none")
    args = build_parser().parse_args(["ask", "q", "--milvus-uri", "http://h:19530"])
    s = Settings.from_args(args)
    assert (s.index.backend, s.index.milvus_uri) == ("milvus", "http://h:19530")
    with pytest.raises(ConfigError, match="RAG_INDEX__BACKEND"):
        monkeypatch.setenv("RAG_INDEX__BACKEND", "qdrant")
        Settings()


def test_assistant_add_and_remove_a_file_on_milvus(make_assistant, tmp_path):
    assistant = make_assistant(None, index={"backend": "milvus"})
    note = _doc(tmp_path, "ferry.txt", "ferry")
    source = assistant.add_file(note)
    assert any(p.source == source for p in assistant.index.passages)
    answer = assistant.ask("What did the ferry committee agree?")
    assert answer.citations and answer.citations[0].source == source
    assistant.remove_document(source)
    assert not any(p.source == source for p in assistant.index.passages)
    assert not any(r[2] == source for r in _rows(assistant.settings, assistant.paths))


def test_the_default_path_never_imports_pymilvus(tmp_path):
    code = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "from fakes import HashEmbedding\n"
        "from rag.assistant import Assistant\n"
        "from rag.settings import Settings\n"
        f"s = Settings().with_updates(index={{'data_dir': {str(tmp_path)!r}, 'show_progress': False}}, llm={{'backend': 'none'}})\n"
        f"a = Assistant(settings=s, paths=[{str(ARTICLE)!r}], embed_model=HashEmbedding())\n"
        "assert a.ask('What did Suslov say about New START?').citations\n"
        "assert 'pymilvus' not in sys.modules and 'rag.milvus' not in sys.modules, 'pymilvus imported'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_INDEX__")}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.slow
def test_default_rag_ask_does_not_import_pymilvus(tmp_path):
    code = ("import sys, atexit\n"
            "atexit.register(lambda: print('PYMILVUS', 'pymilvus' in sys.modules))\n"
            "from rag.cli import main\n"
            f"sys.exit(main(['ask', '--backend', 'none', '--docs', {str(ARTICLE)!r}, 'What did Suslov say?']))\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RAG_INDEX__")}, "RAG_INDEX__DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "PYMILVUS False" in result.stdout


def _rows_on_disk(db: Path, collection: str) -> int:
    """Rows of a collection in Milvus Lite's SQLite file (one table per
    collection), read beside the engine. ``immutable=1``: the read takes no
    lock, so it can never make the engine's own write fail (a CI run under
    load saw Milvus Lite report an internal error while this poll, with a
    shared lock, was reading); a read that catches a write half-done raises
    and counts as no rows yet."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True, timeout=0.1) as conn:
            return conn.execute(f'SELECT count(*) FROM "{collection}"').fetchone()[0]
    except sqlite3.Error:  # not created yet, or the engine is writing
        return 0


@pytest.mark.slow
def test_killing_rag_index_part_way_then_rerunning_converges(tmp_path):
    """SIGKILL `rag index --index-backend milvus` while it inserts; the rerun
    ends with every passage once: no duplicates, nothing missing."""
    folder = tmp_path / "docs"
    folder.mkdir()
    topics = ["harbour", "orchard", "lighthouse", "quarry", "railway", "glacier", "bakery", "observatory",
              "vineyard", "ferry", "mill", "canal", "archive", "meadow", "foundry", "aqueduct"]
    for i, topic in enumerate(topics):
        _doc(folder, f"{i:02d}.txt", topic, n=40)
    data = tmp_path / "data"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RAG_INDEX__")}, "RAG_INDEX__DATA_DIR": str(data),
           "RAG_INDEX__MILVUS_INSERT_BATCH": "40"}  # documents complete one or two at a time
    args = [sys.executable, "-m", "rag.cli", "index", str(folder), "--index-backend", "milvus", "--backend", "none"]
    # A first run on another folder pays the one-off model export, so the
    # timed run below is all indexing.
    warm = tmp_path / "warm"
    warm.mkdir()
    _doc(warm, "w.txt", "warm-up", n=1)
    subprocess.run(args[:4] + [str(warm)] + args[5:], env=env, cwd=ROOT, capture_output=True, timeout=900, check=True)
    from rag.milvus import collection_names

    settings = Settings().with_updates(index={"data_dir": data, "backend": "milvus"})
    documents = collection_names(settings, [folder])[1]
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 600
    # Kill once some documents are complete (the documents collection has rows on disk).
    while time.time() < deadline and proc.poll() is None:
        if _rows_on_disk(data / "milvus.db", documents) > 0:
            break
        time.sleep(0.02)
    time.sleep(0.3)  # into the next document's rows
    engines = _engines_of(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, \
        f"indexing ended (exit {proc.returncode}) before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    assert len(engines) == 1
    # The engine went with it (it exits when its parent's lock goes), not left holding the file.
    assert _gone(engines[0], within=10)
    rerun = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    expected = _expected_ids(settings, folder)
    newly = int(rerun.stdout.split("newly embedded:")[1].split()[0])
    assert 0 < newly < len(expected), rerun.stdout  # finished documents were kept
    try:
        rows = _rows(settings, [folder])
    finally:
        release_milvus()
    pks = [pk for pk, _, _ in rows]
    assert len(pks) == len(set(pks))
    assert {pid for _, pid, _ in rows} == expected
    assert len(rows) == len(expected)


def test_bm25_scores_in_the_engine_equal_the_faiss_paths_bm25s(settings):
    """Same analysis (stems, stop words) and the same scale, so the answer
    step's min_lexical_score means the same on both backends."""
    from rag.retrieve import Retriever

    milvus = open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    faiss_settings = settings.with_updates(index={"backend": "faiss"})
    faiss = Retriever(open_index(faiss_settings, [ARTICLE], embed_model=HashEmbedding()), faiss_settings.retrieval)
    for query in ["sanctions", "Peskov Peskov", "oil price collapse", "What is the capital of France?"]:
        _, _, best = milvus.engine.rank(query, (), settings.retrieval)
        assert best == pytest.approx(faiss._lexical(query)[0][1], rel=1e-4)


def test_bm25_tokens_are_bm25s_tokens_in_the_engine(settings, tmp_path):
    """The engine splits the stems we send on spaces only: tokens bm25s keeps
    whole (underscores, digits, letters outside ASCII, long words) score as
    on the FAISS path. Milvus's "standard" tokenizer splits "rate_limit"."""
    from rag.retrieve import Retriever

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Notes\n\nThe rate_limit flag was set to 2026 by Müller in Москва.\n\n"
        "The rate of the limit was discussed.\n\nAntidisestablishmentarianismlike words appear.\n\n"
        "Nothing about flags here, only limits and rates of Müller.\n", encoding="utf-8")
    milvus = open_index(settings, [folder], embed_model=HashEmbedding())
    faiss_settings = settings.with_updates(index={"backend": "faiss"})
    faiss = Retriever(open_index(faiss_settings, [folder], embed_model=HashEmbedding()), faiss_settings.retrieval)
    for query in ["rate_limit", "Müller 2026", "Москва flag", "Müller rates", "antidisestablishmentarianismlike"]:
        _, _, best = milvus.engine.rank(query, (), settings.retrieval)
        want = faiss._lexical(query)
        assert want and best == pytest.approx(want[0][1], rel=1e-4), query


def _hold(db: Path) -> subprocess.Popen:
    """Another process with the Milvus Lite file open (as `rag ui` would have)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time, warnings\n"
         "warnings.simplefilter('ignore')\n"
         "from pymilvus import MilvusClient\n"
         f"MilvusClient({str(db)!r}).list_collections()\n"
         "print('held', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "GLOG_minloglevel": "2"})
    assert holder.stdout.readline().strip() == "held"
    return holder


def _gone(pid: int, within: float) -> bool:
    """Has process ``pid`` exited (or is only a zombie left for its new parent to reap)?"""
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def _engines_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid), "-f", "milvus_lite/lib/milvus"], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def test_a_lite_file_open_in_another_process_is_named_not_called_damaged(settings):
    open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    release_milvus()
    db = Path(settings.index.data_dir) / "milvus.db"
    size = db.stat().st_size
    holder = _hold(db)
    try:
        with pytest.raises(IndexUnavailableError, match=f"open in another process \\(pid {holder.pid};"):
            open_index(settings, [ARTICLE], embed_model=HashEmbedding())
        from rag.milvus import drop

        with pytest.raises(IndexUnavailableError, match="open in another process"):
            drop(settings, [ARTICLE])  # never deletes a file in use
        assert db.is_file() and db.stat().st_size == size
    finally:
        holder.kill()
        holder.wait()
    # Its engine went with it (it exits when the holder's lock goes): the file is free at once.
    assert len(open_index(settings, [ARTICLE], embed_model=HashEmbedding()).passages) == 85


def test_losing_the_race_to_open_a_lite_file_is_named_not_called_damaged(settings, monkeypatch):
    """Another process takes the file between our check and milvus-lite's own
    lock (two `rag` commands started together): still "open in another
    process", never "damaged", and the file is untouched. The refused start
    leaves the holder's lock file in place (milvus-lite 2.5.1 unlinked it, and
    the next process then started a second engine on the same file)."""
    import rag.milvus

    open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    release_milvus()
    db = Path(settings.index.data_dir) / "milvus.db"
    size = db.stat().st_size
    holder = _hold(db)
    try:
        with monkeypatch.context() as m:
            m.setattr(rag.milvus, "_check_free", lambda path: None)  # the holder came after the check
            with pytest.raises(IndexUnavailableError, match=f"open in another process \\(pid {holder.pid};"):
                open_index(settings, [ARTICLE], embed_model=HashEmbedding())
        assert rag.milvus._lock_file(db).exists()
        for _ in range(2):  # and every later open is refused too, naming the holder
            with pytest.raises(IndexUnavailableError, match=f"open in another process \\(pid {holder.pid};"):
                open_index(settings, [ARTICLE], embed_model=HashEmbedding())
        assert _engines_of(os.getpid()) == []
        assert db.is_file() and db.stat().st_size == size
    finally:
        holder.kill()
        holder.wait()


def test_the_engine_never_outlives_the_process_that_started_it(settings, monkeypatch):
    """SIGKILL the process that has the file open: its engine exits by
    itself. An engine that cannot exit yet (here: stopped) is waited for,
    then named, never run beside a second one."""
    import rag.milvus

    open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    release_milvus()
    db = Path(settings.index.data_dir) / "milvus.db"
    holder = _hold(db)
    (engine,) = _engines_of(holder.pid)
    os.kill(engine, signal.SIGSTOP)
    holder.kill()
    holder.wait()
    try:
        monkeypatch.setattr(rag.milvus, "ENDING_ENGINE_WAIT_S", 1.0)
        with pytest.raises(IndexUnavailableError, match=f"still open in an engine process \\(pid {engine}\\).*kill {engine}"):
            open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    finally:
        os.kill(engine, signal.SIGCONT)
    monkeypatch.setattr(rag.milvus, "ENDING_ENGINE_WAIT_S", 10.0)
    # Continued, it finds its parent gone and exits; the open goes ahead.
    assert len(open_index(settings, [ARTICLE], embed_model=HashEmbedding()).passages) == 85
    assert engine not in rag.milvus._ending_engines(db)  # only this process's own engine is left


def _open_in_a_process(data: Path, then: str = "") -> subprocess.CompletedProcess:
    """Open the article's Milvus Lite index in a fresh process with no GLOG_*
    set (as a user's shell would), then run ``then``; a RagError exits 1 with
    its message, as the CLI prints it."""
    code = ("import sys, warnings; sys.path.insert(0, 'tests')\n"
            "from fakes import HashEmbedding\n"
            "from rag.errors import RagError\n"
            "from rag.index import open_index\n"
            "from rag.settings import Settings\n"
            f"s = Settings().with_updates(index={{'data_dir': {str(data)!r}, 'backend': 'milvus', 'show_progress': False}})\n"
            "try:\n"
            f"    i = open_index(s, [{str(ARTICLE)!r}], embed_model=HashEmbedding())\n"
            "except RagError as e:\n"
            "    sys.exit(f'error: {e}')\n" + then)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_INDEX__", "GLOG_"))}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


def test_engine_logs_go_to_the_data_dir_not_tmp(tmp_path):
    """glog would write INFO files (lines per search) into /tmp, and print
    the engine's errors on our stderr; here its errors go to
    <data_dir>/milvus-logs, and a damaged file is one line: ours."""
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("milvus*"))
    data = tmp_path / "data"
    result = _open_in_a_process(data, then="i.engine.rank('What did Suslov say?', (), s.retrieval)\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.strip() == ""  # no engine or milvus-lite chatter either
    assert set(Path(tempfile.gettempdir()).glob("milvus*")) == before
    # The engine's output, empty: it logs errors only.
    assert [(f.name, f.stat().st_size) for f in (data / "milvus-logs").iterdir()] == [("milvus.db.stderr", 0)]
    assert sorted(f.name for f in data.iterdir() if f.name.startswith("milvus")) == ["milvus-logs", "milvus.db"]

    (data / "milvus.db").write_bytes(b"not a database" * 1000)
    result = _open_in_a_process(data)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: the Milvus Lite index {data / 'milvus.db'} is damaged or unreadable (Create table failed, errs: "
        "file is not a database). Fix: rag index --index-backend milvus --rebuild"]
    assert "file is not a database" in (data / "milvus-logs" / "milvus.db.stderr").read_text()
    assert set(Path(tempfile.gettempdir()).glob("milvus*")) == before


def test_an_engine_gone_mid_session_is_a_clear_error(settings):
    index = open_index(settings, [ARTICLE], embed_model=HashEmbedding())
    index.engine.client.close()  # as if the server went away
    release_milvus()
    with pytest.raises(IndexUnavailableError, match="failed to search.*Fix: check that the server is up"):
        index.engine.rank("What did Suslov say?", (), settings.retrieval)


def test_engine_errors_name_what_failed_and_let_bugs_through():
    from rag.milvus import engine_errors

    class MilvusException(Exception):
        pass

    MilvusException.__module__ = "pymilvus.exceptions"
    with pytest.raises(IndexUnavailableError, match=r"^the rows failed to read \(connection reset\)\. Fix: check"):
        with engine_errors("the rows failed to read"):
            raise MilvusException("connection reset")
    with pytest.raises(KeyError):  # our own bug is not dressed up as the server's
        with engine_errors("the rows failed to read"):
            raise KeyError("pid")


def test_reads_larger_than_one_query_call_come_whole(make_assistant, monkeypatch):
    """Past the most rows one query call returns, reads go on in batches:
    the speakers list and a question's paragraphs lose nothing."""
    import rag.milvus

    faiss = make_assistant(None, index={"backend": "faiss"})
    milvus = make_assistant(None, index={"backend": "milvus"})
    monkeypatch.setattr(rag.milvus, "_QUERY_WINDOW", 7)
    assert milvus.speakers() == faiss.speakers()
    question = "What did Peskov say about the calls?"
    got, want = milvus.ask(question), faiss.ask(question)
    assert [(c.source, c.start, c.end) for c in got.citations] == [(c.source, c.start, c.end) for c in want.citations]


def test_a_window_over_many_documents_is_one_query_the_engine_can_parse(settings, tmp_path):
    """The paragraphs of hits in 120 documents, read in one query: one
    ``paragraph_key in [...]`` filter. (As an OR of 120 (source, paragraph)
    clauses it failed on Milvus Lite 2.5.1: "unsupported expr proto node".)"""
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(120):
        _doc(folder, f"{i:03d}.txt", f"topic{i}", n=2)
    index = open_index(settings, [folder], embed_model=HashEmbedding())
    first = [next(p for p in index.passages.of(s) if p.paragraph == 1) for s in index.documents]
    got = index.passages.window([p.id for p in first])
    want = [p for s in index.documents for p in index.passages.of(s) if p.paragraph == 1]
    assert len(first) == 120 and got == want
