"""Answer benchmark: end-to-end latency and time to first token on the QA
file with the embedded models, the stock llama-index CitationQueryEngine on
the same models beside it, and the cold start of `rag ask`.

Run: .venv/bin/python benchmarks/answer_bench.py [--baseline-questions 10] [--cold-runs 3]
Prints figures; asserts nothing (targets live in the README). Run it on an
otherwise idle machine: two cores are shared by everything.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.metrics import percentile  # noqa: E402  (the one percentile definition)


def questions():
    rows = []
    # The article's original questions (dev split), so figures compare with earlier runs.
    for path in [ROOT / "eval" / "qa" / "dev" / "article.jsonl"]:
        rows += [json.loads(line) for line in path.open() if line.strip()]
    return [r["question"] for r in rows if not r["follow_up_of"]]


def ours(qs):
    from rag import Assistant
    from rag.types import Answer

    assistant = Assistant()
    t = time.perf_counter()
    assistant.warm_up()
    print(f"warm-up (index reopen, embedder, LLM load): {time.perf_counter() - t:.2f} s")
    totals, firsts, modes = [], [], {}
    for q in qs:
        t0 = time.perf_counter()
        first = None
        for item in assistant.stream(q):
            if first is None:
                first = time.perf_counter() - t0  # first text the user sees (draft or answer)
            if isinstance(item, Answer):
                modes[item.mode] = modes.get(item.mode, 0) + 1
        totals.append(time.perf_counter() - t0)
        firsts.append(first)
    print(f"ours ({len(qs)} questions): total p50 {percentile(totals, 50):.2f} s  p95 {percentile(totals, 95):.2f} s   "
          f"first text p50 {percentile(firsts, 50):.2f} s  p95 {percentile(firsts, 95):.2f} s   modes {modes}")


def baseline(qs):
    from eval.baseline import BaselineEngine
    from rag.settings import Settings

    t = time.perf_counter()
    engine = BaselineEngine(Settings())
    totals, firsts = [], []
    for q in qs:
        t0 = time.perf_counter()
        engine.ask(q)
        totals.append(time.perf_counter() - t0)
    print(f"stock CitationQueryEngine ({len(qs)} questions, setup {time.perf_counter() - t - sum(totals):.1f} s): "
          f"total p50 {percentile(totals, 50):.2f} s  p95 {percentile(totals, 95):.2f} s (no streaming: first text = total)")


def cold(runs):
    rag = str(ROOT / ".venv" / "bin" / "rag")
    if not os.path.exists(rag):
        rag = "rag"
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([rag, "ask", "--json", "What did Suslov say about New START?"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    print(f"cold `rag ask` (new process, index on disk): {', '.join(f'{x:.2f}' for x in times)} s; median {percentile(times, 50):.2f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline-questions", type=int, default=10, help="0 skips the (slow) baseline")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    qs = questions()[: args.limit]
    if args.cold_runs > 0:
        cold(args.cold_runs)
    ours(qs)
    if args.baseline_questions:
        baseline(qs[: args.baseline_questions])
    return 0


if __name__ == "__main__":
    sys.exit(main())
