"""Embedding benchmark: cold start, query latency and document throughput.

Run: ``.venv/bin/python benchmarks/embed_bench.py [--cold-runs 3]``

Prints
* cold import+load time of each engine, each in a fresh subprocess (median of
  ``--cold-runs``): import, model load, first encode, and the whole process
  wall time including interpreter start-up; plus the CLI query path
  (``import rag.embed`` with llama-index + first ``get_query_embedding``);
* query latency p50/p95 of NumpyMiniLM for 50 short questions, one at a time;
* documents/s for 1,000 sentences with each engine (torch threads = 2).

Everything runs offline (HF_HUB_OFFLINE=1). Timings on a shared machine are
noisy: compare runs on the same host.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "seeds" / "rferl-2020-04-26-us-russia-reset.txt"
QA = ROOT / "eval" / "qa" / "article.jsonl"
TORCH_THREADS = 2

COLD = {
    "numpy": """
        import time; t0 = time.perf_counter()
        from rag.embed import NumpyMiniLM
        t1 = time.perf_counter()
        m = NumpyMiniLM()
        t2 = time.perf_counter()
        m.encode(["What did Suslov say about New START?"])
        t3 = time.perf_counter()
    """,
    "sentence-transformers": f"""
        import time; t0 = time.perf_counter()
        from rag.embed import SentenceTransformerEncoder
        import sentence_transformers
        t1 = time.perf_counter()
        m = SentenceTransformerEncoder(threads={TORCH_THREADS})
        t2 = time.perf_counter()
        m.encode(["What did Suslov say about New START?"])
        t3 = time.perf_counter()
    """,
    "cli query (LocalEmbedding)": """
        import time; t0 = time.perf_counter()
        from rag.embed import make_embedder
        from rag.settings import Settings
        t1 = time.perf_counter()
        e = make_embedder(Settings())
        e.query_engine
        t2 = time.perf_counter()
        e.get_query_embedding("What did Suslov say about New START?")
        t3 = time.perf_counter()
    """,
}
COLD_TAIL = """
    import json, sys
    heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
    print(json.dumps({"import": t1 - t0, "load": t2 - t1, "first": t3 - t2, "heavy": heavy}))
"""

THROUGHPUT = """
    import json, sys, time
    from rag.embed import NumpyMiniLM, SentenceTransformerEncoder
    engine, batch_size = sys.argv[1], int(sys.argv[2])
    texts = json.loads(sys.stdin.read())
    if engine == "numpy":
        m = NumpyMiniLM()
    else:
        m = SentenceTransformerEncoder(threads=%d)
    m.encode(texts[:batch_size], batch_size)  # warm-up
    t = time.perf_counter()
    vecs = m.encode(texts, batch_size)
    dt = time.perf_counter() - t
    print(json.dumps({"seconds": dt, "shape": list(vecs.shape)}))
""" % TORCH_THREADS


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "true"})
    return env


def _run(code: str, args: list[str] = (), stdin: str | None = None) -> tuple[dict, float]:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT, env=_env(), input=stdin, capture_output=True, text=True,
    )
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(f"benchmark subprocess failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def sentences(n: int) -> list[str]:
    text = ARTICLE.read_text(encoding="utf-8")
    sents = [s.strip() for s in re.split(r'(?<=[.!?"])\s+|\n+', text) if len(s.strip()) > 2]
    return [sents[i % len(sents)] for i in range(n)]


def questions(n: int) -> list[str]:
    rows = [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [r["question"] for r in rows]
    return [qs[i % len(qs)] for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, torch threads = {TORCH_THREADS}, "
        f"load average at start {os.getloadavg()[0]:.2f}"
    )
    print(f"\n== cold start (fresh subprocess, median of {args.cold_runs}) ==")
    print(f"{'engine':28s} {'import':>8s} {'load':>8s} {'1st enc':>8s} {'total':>8s} {'process':>8s}  heavy modules")
    for name, code in COLD.items():
        runs = [_run(textwrap.dedent(code) + textwrap.dedent(COLD_TAIL)) for _ in range(args.cold_runs)]
        med = {k: statistics.median(r[0][k] for r in runs) for k in ("import", "load", "first")}
        wall = statistics.median(r[1] for r in runs)
        total = med["import"] + med["load"] + med["first"]
        print(
            f"{name:28s} {med['import']:7.2f}s {med['load']:7.2f}s {med['first']:7.3f}s "
            f"{total:7.2f}s {wall:7.2f}s  {runs[0][0]['heavy'] or '-'}"
        )

    print(f"\n== query latency, NumpyMiniLM, {args.queries} short questions one at a time ==")
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from rag.embed import NumpyMiniLM

    model = NumpyMiniLM()
    qs = questions(args.queries)
    model.encode([qs[0]])  # warm-up
    lat = []
    for q in qs:
        t = time.perf_counter()
        model.encode([q])
        lat.append(time.perf_counter() - t)
    lat_ms = np.array(lat) * 1e3
    print(
        f"p50 {np.percentile(lat_ms, 50):.1f} ms   p95 {np.percentile(lat_ms, 95):.1f} ms   "
        f"max {lat_ms.max():.1f} ms   (mean question length {np.mean([len(q) for q in qs]):.0f} chars)"
    )

    docs = sentences(args.docs)
    print(
        f"\n== documents/s, {len(docs)} sentences (mean {np.mean([len(d) for d in docs]):.0f} chars), "
        f"batch size {args.batch_size}, fresh subprocess each =="
    )
    for engine in ("numpy", "sentence-transformers"):
        res, _ = _run(THROUGHPUT, [engine, str(args.batch_size)], stdin=json.dumps(docs))
        print(f"{engine:28s} {len(docs) / res['seconds']:8.1f} docs/s   ({res['seconds']:.2f} s, shape {res['shape']})")
    print(f"\nload average at end {os.getloadavg()[0]:.2f} (other processes on this host skew timings)")


if __name__ == "__main__":
    main()
