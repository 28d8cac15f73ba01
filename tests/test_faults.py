"""Fault injection: killed, starved and concurrent indexing, damaged files, a dying LLM server.

Each fault is a test; the ones that need the real models or many repetitions
are marked slow (``make faults`` runs them). Subprocesses index with the fake
embedder (``tests/fakes.py``) unless a test says it uses the real ``rag`` CLI.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from fakes import HashEmbedding
from rag.assistant import Assistant
from rag.errors import IndexWriteError, LLMUnavailableError
from rag.index import _IndexLock, _read_stored, index_dir, open_index
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
ARTICLE = ROOT / "seeds" / "rferl-2020-04-26-us-russia-reset.txt"
SEED_DOCS = sorted((ROOT / "seeds").iterdir())

# Indexes the corpus with the fake embedder; prints "ready" once imported,
# then "done <passages> <embedded>"; a RagError is one line on stderr and exit 2.
DRIVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from fakes import HashEmbedding
    from rag.errors import RagError
    from rag.index import open_index
    from rag.settings import Settings
    settings = Settings().with_updates(index={{"data_dir": {data!r}, "show_progress": False}}, docs=[{docs!r}])
    print("ready", flush=True)
    try:
        index = open_index(settings, embed_model=HashEmbedding())
    except RagError as exc:
        print(f"error: {{exc}}", file=sys.stderr)
        sys.exit(2)
    print("done", len(index.passages), int(index.timings.get("embedded", 0)), flush=True)
""")


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [e.get("PYTHONPATH")] if p])
    return e


def make_corpus(tmp_path: Path, files=(ARTICLE,)) -> tuple[Path, Settings]:
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    for f in files:
        shutil.copy(f, docs / f.name)
    settings = Settings().with_updates(index={"data_dir": tmp_path / "data", "show_progress": False},
                                       docs=[docs], llm={"backend": "none"})
    return docs, settings


def driver(settings: Settings, docs: Path, **popen) -> subprocess.Popen:
    code = DRIVER.format(tests=str(TESTS), data=str(settings.index.data_dir), docs=str(docs))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env(), **popen)


def assert_consistent(settings: Settings, docs: Path, embed_model=None) -> None:
    """The stored index is whole and matches the documents; the next question is answered."""
    directory = index_dir(settings, [docs])
    stored = _read_stored(directory)
    assert stored is not None, "no readable index (not even the previous one) after the fault"
    ids = [p.id for p in stored.passages]
    spans = [(p.source, p.start, p.end) for p in stored.passages]
    assert len(ids) == len(set(ids)) and len(spans) == len(set(spans)), "duplicated passages"
    assert stored.vectors.shape[0] == len(stored.passages)
    assistant = Assistant(settings=settings, paths=[docs], llm=None, embed_model=embed_model or HashEmbedding())
    answer = assistant.ask("What did Suslov say about New START?")
    assert answer.mode in {"extractive", "refused"} and answer.text
    for c in answer.citations:
        assert assistant.index.text_of(c.source)[c.start:c.end] == c.quote
    now = [p.id for p in assistant.index.passages]
    assert len(now) == len(set(now))
    assert not list(directory.parent.glob(directory.name + ".tmp-*")), "a half-written folder was left behind"


# --------------------------------------------------------------------------- kill -9


def kill_at_random_moments(docs: Path, settings: Settings, start, kills: int, seed: int, embed_model=None):
    """Start an indexing process ``kills`` times and SIGKILL it at seeded random moments of its run.

    Each round first changes the corpus (adds, edits or removes a note), so the
    killed process had real work to do. Returns the moments and how each ended.
    """
    rng = random.Random(seed)
    t0 = time.monotonic()
    proc = start()
    proc.communicate(timeout=600)
    full = time.monotonic() - t0
    assert proc.returncode == 0
    outcomes = []
    for i in range(kills):
        note = docs / "note.md"
        if i % 3 == 2:
            note.unlink(missing_ok=True)
        else:
            note.write_text(f"# Note {i}\n\nThe committee met {i + 2} times in round {i}. "
                            f"Its chair said the budget was {100 + i} euros.\n", encoding="utf-8")
        moment = rng.uniform(0.0, full * 1.1)
        proc = start()
        time.sleep(moment)
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate(timeout=600)
        outcomes.append((round(moment, 2), "finished first" if proc.returncode == 0 else "killed"))
        assert_consistent(settings, docs, embed_model)
    return full, outcomes


def test_kill_9_while_indexing_keeps_a_consistent_index(tmp_path):
    docs, settings = make_corpus(tmp_path, SEED_DOCS[:3])
    full, outcomes = kill_at_random_moments(docs, settings, lambda: driver(settings, docs), kills=4, seed=13)
    assert any(o == "killed" for _m, o in outcomes)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("RAG_LONG_TESTS"), reason="a long run: `make faults` / `make injection`")
def test_kill_9_of_rag_index_at_20_random_moments(tmp_path):
    """The real `rag index --rebuild` (ONNX embedder), SIGKILLed 20 times; `rag ask` afterwards."""
    from rag.embed import make_embedder

    docs, settings = make_corpus(tmp_path, SEED_DOCS)
    cmd = [sys.executable, "-m", "rag.cli", "index", str(docs), "--rebuild", "--data-dir", str(settings.index.data_dir)]
    subprocess.run(cmd, check=True, env=env(), capture_output=True, timeout=900)  # exports the ONNX model once
    embedder = make_embedder(settings)

    def start():
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())

    full, outcomes = kill_at_random_moments(docs, settings, start, kills=20, seed=20261129, embed_model=embedder)
    print(f"uninterrupted run {full:.1f} s; kills: {outcomes}")
    assert sum(o == "killed" for _m, o in outcomes) >= 15
    done = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--json", "--backend", "none",
                           "--docs", str(docs), "--data-dir", str(settings.index.data_dir),
                           "What did Suslov say about New START?"],
                          capture_output=True, text=True, env=env(), timeout=600)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["citations"] and answer["mode"] == "extractive"


# --------------------------------------------------------------------------- disk full, read-only


def _limit_file_size(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_disk_full_during_an_index_write_is_a_clear_error_and_keeps_the_previous_index(tmp_path):
    docs, settings = make_corpus(tmp_path)
    before = open_index(settings, embed_model=HashEmbedding())
    directory = before.directory
    biggest = max(f.stat().st_size for f in directory.iterdir())
    big = " ".join(f"Paragraph {i} says the harbour fee rose to {i} euros in spring." for i in range(6000))
    (docs / "big.txt").write_text(big, encoding="utf-8")
    proc = driver(settings, docs, preexec_fn=_limit_file_size(biggest + 50_000))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, (out, err)
    # Only our line: a library may log to stderr as the process ends (gRPC's
    # "epoll_wait error" was seen once in CI).
    ours = [line for line in err.splitlines() if line.startswith("error:")]
    assert ours and ours[0].startswith("error: Could not write the index") and "File too large" in ours[0], err
    assert "previous index, if any, is unchanged" in err and "Traceback" not in err
    stored = _read_stored(directory)
    assert [p.id for p in stored.passages] == [p.id for p in before.passages]  # the previous index, intact
    assert not list(directory.parent.glob(directory.name + ".tmp-*"))
    after = open_index(settings, embed_model=HashEmbedding())  # with room again, the update goes through
    assert len(after.passages) > len(before.passages)


def _can_remount_read_only(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    done = subprocess.run(["unshare", "-m", "sh", "-c",
                           f"mount --bind {probe} {probe} && mount -o remount,bind,ro {probe} && ! touch {probe}/x"],
                          capture_output=True)
    return done.returncode == 0


def read_only(data: Path, argv: list[str]) -> list[str]:
    """``argv`` run in a private mount namespace where ``data`` is a read-only bind mount of itself."""
    return ["unshare", "-m", "sh", "-c",
            f'mount --bind "{data}" "{data}" && mount -o remount,bind,ro "{data}" && exec "$@"', "sh", *argv]


def test_read_only_data_dir(tmp_path):
    """Root ignores file modes, so chmod proves nothing here: the data dir is a read-only bind mount
    (in a private mount namespace, so nothing outside the test sees it)."""
    if not _can_remount_read_only(tmp_path):
        pytest.skip("needs `unshare -m` and mount (root): cannot make a read-only bind mount here")
    docs, settings = make_corpus(tmp_path)
    before = open_index(settings, embed_model=HashEmbedding())
    data = Path(settings.index.data_dir)
    code = DRIVER.format(tests=str(TESTS), data=str(data), docs=str(docs))

    # an up-to-date index is only read: that works on a read-only disk
    done = subprocess.run(read_only(data, [sys.executable, "-c", code]), capture_output=True, text=True,
                          env=env(), timeout=300)
    assert done.returncode == 0 and done.stdout.split()[-3:] == ["done", str(len(before.passages)), "0"], done

    # an update must be written: a clear error naming the problem and the fix
    (docs / "note.md").write_text("# Note\n\nThe ferry now leaves at noon.\n", encoding="utf-8")
    done = subprocess.run(read_only(data, [sys.executable, "-c", code]), capture_output=True, text=True,
                          env=env(), timeout=300)
    assert done.returncode == 2, done
    assert "Read-only file system" in done.stderr and "RAG_INDEX__DATA_DIR" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert [p.id for p in _read_stored(before.directory).passages] == [p.id for p in before.passages]


def test_write_errors_name_the_fix(tmp_path):
    import errno

    from rag.index import _write_failed

    for code, fix in [(errno.ENOSPC, "Free disk space"), (errno.EFBIG, "Free disk space"),
                      (errno.EROFS, "writable"), (errno.EACCES, "writable")]:
        message = str(_write_failed(tmp_path / "index-x", OSError(code, os.strerror(code))))
        assert os.strerror(code) in message and fix in message and str(tmp_path) in message


# --------------------------------------------------------------------------- two at once


def test_a_second_indexer_waits_for_the_lock(tmp_path, caplog):
    docs, settings = make_corpus(tmp_path)
    open_index(settings, embed_model=HashEmbedding())
    (docs / "note.md").write_text("# Note\n\nThe ferry now leaves at noon.\n", encoding="utf-8")
    result = {}
    with _IndexLock(index_dir(settings, [docs])):  # another "process" is building
        worker = threading.Thread(target=lambda: result.setdefault("index", open_index(settings, embed_model=HashEmbedding())))
        worker.start()
        worker.join(1.5)
        assert worker.is_alive(), "open_index did not wait for the lock"
    worker.join(60)
    assert not worker.is_alive()
    assert any(p.source.endswith("note.md") for p in result["index"].passages)
    assert "another process is building the index" in caplog.text


def test_two_indexing_processes_at_once(tmp_path):
    docs, settings = make_corpus(tmp_path, SEED_DOCS[:3])
    procs = [driver(settings, docs) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    results = sorted(tuple(int(x) for x in out.split()[-2:]) for out, _ in outs)
    (n1, embedded1), (n2, embedded2) = results
    assert n1 == n2 and embedded1 == 0 and embedded2 == n2  # one built, the other waited and reopened it
    assert "another process is building the index" in "".join(err for _, err in outs)
    assert_consistent(settings, docs)


# --------------------------------------------------------------------------- damaged files


def test_truncated_vectors_file_is_detected_and_rebuilt(tmp_path, caplog):
    docs, settings = make_corpus(tmp_path)
    first = open_index(settings, embed_model=HashEmbedding())
    vectors = first.directory / "vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[: vectors.stat().st_size // 2])
    again = open_index(settings, embed_model=HashEmbedding())
    assert "unreadable" in caplog.text and "vectors.npy" in caplog.text or "rebuilding" in caplog.text
    assert [p.id for p in again.passages] == [p.id for p in first.passages]
    assert_consistent(settings, docs)


def test_truncated_gguf_is_detected_with_the_path(tmp_path):
    from rag.llm import check_llm, embedded_model_path, make_llm

    try:
        real = embedded_model_path()
    except LLMUnavailableError:
        pytest.skip("the embedded GGUF package is not installed")
    cut = tmp_path / "cut.gguf"
    with open(real, "rb") as src:
        cut.write_bytes(src.read(real.stat().st_size // 3))  # a download that stopped a third of the way
    llm = make_llm(Settings().with_updates(llm={"backend": "gguf", "model_path": cut}))
    with pytest.raises(LLMUnavailableError) as info:
        check_llm(llm)
    assert str(cut.resolve()) in str(info.value) or str(cut) in str(info.value)


# --------------------------------------------------------------------------- a dying LLM server

SSE_SERVER = textwrap.dedent("""
    import json, os, signal, sys, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    CHUNKED = sys.argv[1] == "chunked"

    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: the body ends when the connection closes, so a dying server
        # just ends the stream; HTTP/1.1 chunked: the client sees a broken body.
        protocol_version = "HTTP/1.1" if CHUNKED else "HTTP/1.0"

        def log_message(self, *a):
            pass

        def do_GET(self):
            body = json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            if CHUNKED:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for word in ["Suslov ", "said ", "that "]:
                chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                         "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
                data = f"data: {json.dumps(chunk)}\\n\\n".encode()
                self.wfile.write(f"{len(data):x}\\r\\n".encode() + data + b"\\r\\n" if CHUNKED else data)
                self.wfile.flush()
                time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGKILL)  # the server process dies mid-answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
""")


@pytest.mark.parametrize("framing", ["close-delimited", "chunked"])
def test_llm_server_killed_mid_stream_gives_the_extractive_answer_with_a_notice(tmp_path, framing):
    server = subprocess.Popen([sys.executable, "-c", SSE_SERVER, framing], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        settings = Settings().with_updates(
            index={"data_dir": tmp_path / "data", "show_progress": False},
            llm={"backend": "openai", "base_url": f"http://127.0.0.1:{port}/v1", "model": "fake"},
        )
        assistant = Assistant(settings=settings, paths=[ARTICLE], embed_model=HashEmbedding())
        items = list(assistant.stream("What did Suslov say about New START?"))
        drafts, answer = items[:-1], items[-1]
        assert "".join(drafts).startswith("Suslov said")  # the stream had begun…
        assert server.wait(timeout=10) == -signal.SIGKILL  # …when the server died
        assert answer.mode == "extractive" and answer.citations
        assert "unavailable" in answer.notice and f"127.0.0.1:{port}" in answer.notice
        assert "Suslov said that" not in answer.text  # no half-written sentence in the answer
        text = assistant.index.text_of(answer.citations[0].source)
        assert all(text[c.start:c.end] == c.quote for c in answer.citations)
        # the next question (server still dead) is answered too, with the same kind of notice
        again = assistant.ask("What did Suslov say about New START?")
        assert again.mode == "extractive" and "unavailable" in again.notice
    finally:
        server.kill()
        server.wait()
