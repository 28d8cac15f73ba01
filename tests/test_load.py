"""A short load test of the web app: real pipeline, fake models, gradio_client users.

The Gradio app (``ui.app``) serves a real ``rag.Assistant`` over the seed
article with the hashing embedder and no LLM (extractive answers) or a gated
fake one, on a free loopback port. The users are the ones
``benchmarks/load_bench.py`` runs for ``make load`` (questions, follow-ups,
uploads and removals), here a handful for a few seconds:
  * every request is answered, none fails, no upload is lost or duplicated;
  * past the queue bound (``ui.queue_max_size``) a request is told at once
    that the server is busy, and the ones in the queue are still answered.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
from llama_index.core.bridge.pydantic import PrivateAttr

from fakes import FakeLLM, HashEmbedding

pytest.importorskip("gradio")
pytest.importorskip("gradio_client")

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "seeds" / "rferl-2020-04-26-us-russia-reset.txt"


def _load_bench():
    spec = importlib.util.spec_from_file_location("load_bench", ROOT / "benchmarks" / "load_bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_bench"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(tmp_path: Path, llm=None, queue_max_size: int = 64):
    from rag.assistant import Assistant
    from rag.settings import Settings
    from ui.app import build_app, launch_app

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    settings = Settings().with_updates(index={"data_dir": tmp_path / "data", "show_progress": False},
                                       ui={"queue_max_size": queue_max_size})
    assistant = Assistant(settings=settings, paths=[ARTICLE], llm=llm, embed_model=HashEmbedding())
    assistant.warm_up()
    demo = build_app(assistant)
    launch_app(demo, assistant, host="127.0.0.1", port=_free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url, assistant
    finally:
        demo.close()


def test_concurrent_users_mixing_questions_follow_ups_uploads_and_removals(tmp_path):
    bench = _load_bench()
    with serving(tmp_path) as (url, assistant):
        report = bench.run_users(url, users=5, seconds=12, seed=1)
        summary = report.summary()
        kinds = {s.kind for s in report.samples}
        assert summary["errors"] == 0, summary["error_examples"]
        assert summary["busy"] == 0
        assert {"ask", "chat", "follow_up", "upload"} <= kinds, kinds
        assert summary["uploads"]["problems"] == []
        # What the server lists is what is on disk: nothing lost or left over.
        on_disk = sorted(p.name for p in assistant.uploads_dir.iterdir()) if assistant.uploads_dir.is_dir() else []
        assert on_disk == sorted(Path(s).name for s in report.listed_at_end)
        assert summary["uploads"]["added"] >= 1


class GatedLLM(FakeLLM):
    """Answers only when the gate opens, always with the same reply."""

    _gate: threading.Event = PrivateAttr(default_factory=threading.Event)

    def _next(self, messages):
        self._history.append(list(messages))
        if not self._gate.wait(120):
            raise AssertionError("GatedLLM: the gate never opened")
        return "Suslov said the arms control system is outdated [1]."


def test_a_full_queue_says_busy_at_once_and_the_queued_requests_are_answered(tmp_path):
    from gradio_client import Client
    from gradio_client.utils import QueueError, Status

    llm = GatedLLM()
    question = "What did Suslov say about New START?"
    with serving(tmp_path, llm=llm, queue_max_size=2) as (url, _assistant):
        clients = [Client(url, verbose=False) for _ in range(5)]
        running = clients[0].submit(question, api_name="/ask")
        deadline = time.time() + 60
        while not llm.history and time.time() < deadline:
            time.sleep(0.05)
        assert llm.history, "the first request never reached the model"
        queued = []
        for c in clients[1:3]:
            queued.append(c.submit(question, api_name="/chat"))
            while queued[-1].status().code != Status.IN_QUEUE and time.time() < deadline:
                time.sleep(0.05)
        t = time.perf_counter()
        for c in clients[3:]:
            with pytest.raises(QueueError, match="(?i)queue is full|busy"):
                c.submit(question, api_name="/ask").result(timeout=30)
        assert time.perf_counter() - t < 30, "a full queue must answer at once, not hang"
        llm._gate.set()
        assert running.result(timeout=60)["mode"] in ("generated", "extractive")
        for job in queued:
            answer = job.result(timeout=60)
            answer = answer[0] if isinstance(answer, (list, tuple)) else answer
            assert answer["mode"] in ("generated", "extractive") and answer["citations"]
