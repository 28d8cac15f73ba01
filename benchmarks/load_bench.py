"""Load and soak benchmark: many gradio_client users against `rag ui` on loopback.

    python benchmarks/load_bench.py load [--users 50] [--seconds 120] [--backend none|embedded]
    python benchmarks/load_bench.py soak [--questions 1000] [--max-seconds S] [--users 4] [--backend none|embedded]

Starts `rag ui` on a free loopback port with a fresh data directory (the
models folder of ``--models-from`` is linked in, so nothing is re-exported),
then runs simulated users, each its own gradio_client session:
  * ``load``: ``--users`` users for ``--seconds``, each mixing one-off
    questions (``/ask``), conversation questions and follow-ups (``/chat``),
    uploads of a file of its own (``/upload``) and removals of them (``/remove``);
  * ``soak``: ``--questions`` questions and follow-ups from ``--users`` users,
    nothing else, to watch memory.
It reports latency p50/p95/p99 (per kind and overall), the time requests wait
in Gradio's queue (from submission to the moment the client hears
"processing", polled every 50 ms), errors, "busy" replies (the queue bound,
``RAG_UI__QUEUE_MAX_SIZE``), the server's resident memory over time (VmRSS of
its pid from /proc, every 2 s) and whether every upload is listed exactly
once and every removed one is gone. Every cited quote of a seed document is
checked against the file. Figures are printed and written as JSON to
``benchmarks/out/``; nothing is asserted (``tests/test_load.py`` runs the
same users briefly and asserts).

What it does not do: drive a browser (the page's own requests go through the
same queue) or open anything but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.metrics import percentile  # noqa: E402  (the one percentile definition)

QUESTIONS = [
    "What did Suslov say about New START?",
    'Who said "We had a great call"?',
    "What did the U.S. ambassador to Russia say about sanctions?",
    "What did Peskov say about the phone calls?",
    "Why did the reset fail?",
    "What did Angela Merkel say about the reset?",
    "When did Trump and Putin speak?",
    "What did Trump say about the call?",
]
FOLLOW_UPS = ["And what did he say about Ukraine?", "What about sanctions?", "When did he say that?",
              "What about Peskov?", "Why?"]
# The kinds of request a load user makes, with their weights.
MIX = {"ask": 40, "chat": 20, "follow_up": 20, "upload": 12, "remove": 8}


@dataclass
class Sample:
    kind: str
    started: float  # seconds since the run began
    latency_s: float
    queue_wait_s: Optional[float]
    outcome: str  # "ok" | "busy" | "error"
    detail: str = ""


@dataclass
class Report:
    samples: list[Sample] = field(default_factory=list)
    memory: list[tuple[float, float]] = field(default_factory=list)  # (seconds, RSS MB)
    uploads_added: list[str] = field(default_factory=list)
    uploads_removed: list[str] = field(default_factory=list)
    listed_at_end: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    @property
    def errors(self) -> list[Sample]:
        return [s for s in self.samples if s.outcome == "error"]

    @property
    def busy(self) -> list[Sample]:
        return [s for s in self.samples if s.outcome == "busy"]

    def upload_problems(self) -> list[str]:
        """Uploads lost (added, not removed, not listed), duplicated, or removed but still listed."""
        problems = []
        kept = [s for s in self.uploads_added if s not in set(self.uploads_removed)]
        for s in kept:
            n = self.listed_at_end.count(s)
            if n != 1:
                problems.append(f"{s}: listed {n} times, expected once")
        for s in self.uploads_removed:
            if s in self.listed_at_end:
                problems.append(f"{s}: removed but still listed")
        for s in set(self.listed_at_end) - set(kept):
            problems.append(f"{s}: listed but never reported added (or removed)")
        if len(set(self.uploads_added)) != len(self.uploads_added):
            problems.append("one file was reported added twice")
        return problems

    def summary(self) -> dict:
        def stats(values):
            values = sorted(values)
            if not values:
                return None
            return {"n": len(values), "p50": round(percentile(values, 50), 3),
                    "p95": round(percentile(values, 95), 3), "p99": round(percentile(values, 99), 3),
                    "max": round(values[-1], 3)}

        done = [s for s in self.samples if s.outcome == "ok"]
        out = {
            "requests": len(self.samples),
            "answered": len(done),
            "busy": len(self.busy),
            "errors": len(self.errors),
            "error_examples": sorted({f"{s.kind}: {s.detail}" for s in self.errors})[:10],
            "latency_s": stats([s.latency_s for s in done]),
            "latency_by_kind_s": {k: stats([s.latency_s for s in done if s.kind == k])
                                  for k in sorted({s.kind for s in done})},
            "queue_wait_s": stats([s.queue_wait_s for s in done if s.queue_wait_s is not None]),
            # how long a refused request took to hear "busy" (it should be at once)
            "busy_reply_s": stats([s.latency_s for s in self.busy]),
            "uploads": {"added": len(self.uploads_added), "removed": len(self.uploads_removed),
                        "listed_at_end": len(self.listed_at_end), "problems": self.upload_problems()},
        }
        if self.memory:
            out["rss_mb"] = memory_summary(self.memory, [s.started for s in self.samples])
        return out


def memory_summary(memory: list[tuple[float, float]], starts: list[float], warm_share: float = 0.1) -> dict:
    """RSS at start, after warm-up (the first ``warm_share`` of requests), at the end, and the peak."""
    starts = sorted(starts)
    warm_t = starts[int(len(starts) * warm_share)] if starts else 0.0
    after = [m for t, m in memory if t >= warm_t] or [memory[-1][1]]
    return {"start": memory[0][1], "after_warm_up": after[0], "end": memory[-1][1],
            "peak": max(m for _, m in memory), "growth_after_warm_up": round(memory[-1][1] - after[0], 1),
            "warm_up_requests": int(len(starts) * warm_share)}


# -- one user --------------------------------------------------------------------------------


def _status_code(job):
    try:
        return job.status().code
    except Exception:  # the status of a job that just failed can raise; the result says why
        return None


def timed(report: Report, t0: float, kind: str, submit, check=None, timeout: float = 600.0):
    """Run one request: latency, queue wait, outcome; returns the result or None."""
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError, Status

    running = {Status.PROCESSING, Status.ITERATING, Status.PROGRESS, Status.FINISHED}
    started = time.perf_counter()
    wait = None
    result, outcome, detail = None, "ok", ""
    try:
        job = submit()
        while not job.done():
            if wait is None and _status_code(job) in running:
                wait = time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                job.cancel()
                raise TimeoutError(f"no reply within {timeout:.0f} s")
            time.sleep(0.05)
        result = job.result(timeout=timeout)
        if check is not None:
            problem = check(result)
            if problem:
                outcome, detail = "error", problem
    except QueueError as exc:
        outcome, detail = "busy", str(exc)
    except (AppError, TimeoutError, Exception) as exc:  # every failure is counted, none ends the run
        outcome, detail = "error", f"{type(exc).__name__}: {str(exc)[:200]}"
    latency = time.perf_counter() - started
    if wait is None and outcome == "ok":
        wait = latency  # finished between two polls: all of it may have been waiting
    report.add(Sample(kind, started - t0, latency, wait, outcome, detail))
    return result if outcome == "ok" else None


_SEED_TEXTS: dict[str, str] = {}


def check_answer(result) -> str:
    """'' when the answer JSON is well formed and each seed quote is its span of the file."""
    if not isinstance(result, dict) or result.get("mode") not in ("generated", "extractive", "refused"):
        return f"not an answer: {str(result)[:120]}"
    for c in result["citations"]:
        path = ROOT / c["source"]
        if c["source"].startswith("seeds/"):
            text = _SEED_TEXTS.setdefault(c["source"], path.read_text(encoding="utf-8-sig"))
            if text[c["start"]:c["end"]] != c["quote"]:
                return f"citation {c['marker']} is not its span of {c['source']}"
    return ""


def upload_text(name: str) -> str:
    """A small document of its own for each upload (original text, unique per file)."""
    return (f"Harbour notes {name}\n\n"
            f"The ferry timetable for pier {name} changes on Monday. "
            f"\"We will run the late boat again,\" said Lena Quist, the harbour master.\n")


class User:
    """One simulated person: a gradio_client session with its own conversation and uploads."""

    def __init__(self, url: str, number: int, report: Report, t0: float, workdir: Path, seed: int):
        from gradio_client import Client

        self.client = Client(url, verbose=False)
        self.number = number
        self.report = report
        self.t0 = t0
        self.workdir = workdir
        self.random = random.Random(seed * 1000 + number)
        self.mine: list[str] = []
        self.uploads = 0
        self.chatted = False

    def ask(self):
        q = self.random.choice(QUESTIONS)
        timed(self.report, self.t0, "ask", lambda: self.client.submit(q, api_name="/ask"), check_answer)

    def chat(self, follow_up: bool):
        q = self.random.choice(FOLLOW_UPS if follow_up and self.chatted else QUESTIONS)
        kind = "follow_up" if follow_up and self.chatted else "chat"
        result = timed(self.report, self.t0, kind, lambda: self.client.submit(q, api_name="/chat"),
                       lambda r: check_answer(r[0] if isinstance(r, (list, tuple)) else r))
        self.chatted = self.chatted or result is not None

    def upload(self):
        from gradio_client import handle_file

        self.uploads += 1
        name = f"load-u{self.number}-n{self.uploads}"
        path = self.workdir / f"{name}.txt"
        path.write_text(upload_text(name), encoding="utf-8")

        def check(result):
            message = result[0] if isinstance(result, (list, tuple)) else str(result)
            if not str(message).startswith("Added"):
                return f"upload refused: {str(message)[:160]}"
            return ""

        result = timed(self.report, self.t0, "upload",
                       lambda: self.client.submit(handle_file(str(path)), api_name="/upload"), check)
        if result is not None:
            source = str(result[0]).split("**")[1]  # the public name the page shows ("uploads/x.txt")
            self.mine.append(source)
            with self.report.lock:
                self.report.uploads_added.append(Path(source).name)

    def remove(self):
        if not self.mine:
            return self.upload()
        source = self.mine.pop(self.random.randrange(len(self.mine)))

        def check(result):
            message = result[0] if isinstance(result, (list, tuple)) else str(result)
            return "" if str(message).startswith("Removed") else f"remove refused: {str(message)[:160]}"

        if timed(self.report, self.t0, "remove", lambda: self.client.submit(source, api_name="/remove"), check):
            with self.report.lock:
                self.report.uploads_removed.append(Path(source).name)
        else:
            self.mine.append(source)  # still there (busy or failed): it may be removed later

    def step(self, mix: dict[str, int]):
        kind = self.random.choices(list(mix), weights=list(mix.values()))[0]
        if kind == "ask":
            self.ask()
        elif kind in ("chat", "follow_up"):
            self.chat(kind == "follow_up")
        elif kind == "upload":
            self.upload()
        else:
            self.remove()


def run_users(url: str, users: int, *, seconds: Optional[float] = None, questions: Optional[int] = None,
              mix: Optional[dict[str, int]] = None, seed: int = 0, report: Optional[Report] = None,
              think_s: float = 0.0) -> Report:
    """``users`` users until ``seconds`` have passed or ``questions`` requests were made in all."""
    from gradio_client import Client

    mix = mix or MIX
    report = report or Report()
    t0 = time.perf_counter()
    made = [0]
    made_lock = threading.Lock()
    failures: list[BaseException] = []

    def more() -> bool:
        if seconds is not None and time.perf_counter() - t0 >= seconds:
            return False
        if questions is not None:
            with made_lock:
                if made[0] >= questions:
                    return False
                made[0] += 1
        return True

    with tempfile.TemporaryDirectory() as tmp:
        def body(n: int):
            try:
                user = User(url, n, report, t0, Path(tmp), seed)
                while more():
                    user.step(mix)
                    if think_s:
                        time.sleep(user.random.uniform(0, 2 * think_s))
            except BaseException as exc:  # a user that cannot even connect is an error too
                failures.append(exc)
                report.add(Sample("connect", time.perf_counter() - t0, 0.0, None, "error",
                                  f"{type(exc).__name__}: {exc}"))

        threads = [threading.Thread(target=body, args=(n,), daemon=True) for n in range(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    # The upload message names the file, not its source id: compare by file name.
    report.listed_at_end = [Path(d["source"]).name for d in Client(url, verbose=False).predict(api_name="/documents")
                            if d.get("removable")]
    return report


# -- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> Optional[float]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@contextlib.contextmanager
def rag_ui(backend: str, queue_max_size: int, models_from: Optional[Path], log_path: Path,
           start_timeout: float = 600.0):
    """`rag ui` on a free loopback port with a fresh data dir; yields (url, pid)."""
    data = Path(tempfile.mkdtemp(prefix="rag-load-"))
    if models_from and models_from.is_dir():
        (data / "models").symlink_to(models_from.resolve())
    port = free_port()
    env = {**os.environ, "RAG_LLM__BACKEND": backend, "RAG_UI__QUEUE_MAX_SIZE": str(queue_max_size),
           "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(ROOT)}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", "ui", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(data)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.time() + start_timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"`rag ui` exited with {proc.returncode}; see {log_path}")
                try:
                    urllib.request.urlopen(url, timeout=2).read(1)
                    break
                except OSError:
                    if time.time() > deadline:
                        raise RuntimeError(f"`rag ui` did not come up in {start_timeout:.0f} s; see {log_path}")
                    time.sleep(1)
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            import shutil

            shutil.rmtree(data, ignore_errors=True)


def sample_memory(pid: int, report: Report, stop: threading.Event, every_s: float = 2.0, t0: float = 0.0):
    while not stop.is_set():
        m = rss_mb(pid)
        if m is not None:
            report.memory.append((round(time.perf_counter() - t0, 1), round(m, 1)))
        stop.wait(every_s)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["load", "soak"])
    parser.add_argument("--users", type=int, default=None, help="default 50 (load) / 4 (soak)")
    parser.add_argument("--seconds", type=float, default=120.0, help="load: how long users keep asking")
    parser.add_argument("--questions", type=int, default=1000, help="soak: questions in all")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="soak: stop starting new questions after this long, even if fewer were asked "
                             "(for a slow model on a busy machine; the report says how many were)")
    parser.add_argument("--backend", default="none", choices=["none", "embedded"],
                        help="the LLM: none (extractive answers) or the embedded SmolLM2")
    parser.add_argument("--queue-max-size", type=int, default=64, help="RAG_UI__QUEUE_MAX_SIZE for the server")
    parser.add_argument("--models-from", type=Path, default=ROOT / ".rag-data" / "models",
                        help="a data dir's models folder to link in (ONNX export, Q8_0 copy)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args(argv)
    users = args.users or (50 if args.mode == "load" else 4)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log_path = args.out / f"{args.mode}-{stamp}-server.log"
    load_before = load_average()
    print(f"{args.mode}: {users} users, backend {args.backend}, queue bound {args.queue_max_size}, "
          f"seed {args.seed}, load average {load_before}", flush=True)
    t_start = time.perf_counter()
    with rag_ui(args.backend, args.queue_max_size, args.models_from, log_path) as (url, pid):
        print(f"server up at {url} (pid {pid}) after {time.perf_counter() - t_start:.1f} s; "
              f"RSS {rss_mb(pid):.0f} MB", flush=True)
        report = Report()
        stop = threading.Event()
        t0 = time.perf_counter()
        sampler = threading.Thread(target=sample_memory, args=(pid, report, stop, 2.0, t0), daemon=True)
        sampler.start()
        if args.mode == "load":
            run_users(url, users, seconds=args.seconds, seed=args.seed, report=report)
        else:
            run_users(url, users, questions=args.questions, seconds=args.max_seconds, seed=args.seed,
                      report=report, mix={"ask": 50, "chat": 25, "follow_up": 25})
        stop.set()
        sampler.join()
        wall = time.perf_counter() - t0
    summary = report.summary()
    summary.update(mode=args.mode, users=users, backend=args.backend, queue_max_size=args.queue_max_size,
                   wall_s=round(wall, 1), throughput_rps=round(len(report.samples) / wall, 2),
                   load_average_before=load_before, load_average_after=load_average(),
                   memory_timeline=report.memory)
    path = args.out / f"{args.mode}-{stamp}.json"
    path.write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "memory_timeline"}, indent=1))
    print("memory (s, RSS MB):", " ".join(f"{t:.0f}:{m:.0f}" for t, m in report.memory[:: max(1, len(report.memory) // 20)]))
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
