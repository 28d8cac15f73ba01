"""Embedding benchmark: cold start, query latency and document throughput.

Run: ``.venv/bin/python benchmarks/embed_bench.py [--cold-runs 3]``

Prints
* the cold query path, in a fresh subprocess (median of ``--cold-runs``):
  ``import rag.embed`` + settings, ``make_embedder(Settings())``, the first
  query embedding (which loads the model), the whole process wall time, and
  which heavy modules (torch, transformers, sentence-transformers) it imported;
* query latency p50/p95 of ``make_embedder(Settings())`` for 50 short
  questions, one at a time, on an idle-ish machine and again with two
  busy-looping processes on the two cores (``--no-busy`` skips that);
* documents/s for 1,000 sentences with each value of the
  ``embedding.engine`` setting, each in a fresh subprocess.

It reaches the embedder only through ``make_embedder`` and the settings'
engine names, so the same script measures any version of ``rag.embed``: the
query and document calls are ``embed_batch`` (the ``Embedder`` seam), or
``embed_query``/``embed_documents`` on versions before it.
Percentiles are ``numpy.percentile`` with its default (linear) method.
Everything runs offline (HF_HUB_OFFLINE=1). Timings on a shared machine are
noisy: compare runs on the same host, back to back.
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
QA = ROOT / "eval" / "qa" / "dev" / "article.jsonl"

# Shared by the subprocesses: the two ways a version of rag.embed embeds.
CALLS = """
    def embed_query(e, text):
        if hasattr(e, "embed_batch"):
            return e.embed_batch([text])[0]
        return e.embed_query(text)  # before the Embedder seam

    def embed_documents(e, texts):
        if hasattr(e, "embed_batch"):
            return e.embed_batch(texts)
        return e.embed_documents(texts)  # before the Embedder seam
"""

COLD = CALLS + """
    import time; t0 = time.perf_counter()
    from rag.embed import make_embedder
    from rag.settings import Settings
    t1 = time.perf_counter()
    e = make_embedder(Settings())
    t2 = time.perf_counter()
    embed_query(e, "What did Suslov say about New START?")
    t3 = time.perf_counter()
    import json, sys
    heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
    print(json.dumps({"import": t1 - t0, "build": t2 - t1, "first": t3 - t2, "heavy": heavy}))
"""

THROUGHPUT = CALLS + """
    import json, sys, time
    from rag.embed import make_embedder
    from rag.settings import Settings
    engine, batch_size = sys.argv[1], int(sys.argv[2])
    texts = json.loads(sys.stdin.read())
    e = make_embedder(Settings().with_updates(embedding={"engine": engine, "batch_size": batch_size}))
    embed_documents(e, texts[:batch_size])  # loads the model
    t = time.perf_counter()
    vecs = embed_documents(e, texts)
    dt = time.perf_counter() - t
    print(json.dumps({"seconds": dt, "shape": list(vecs.shape)}))
"""

BUSY = "while True: pass"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
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


def _query_latency(embed_query, embedder, qs) -> str:
    import numpy as np

    lat = []
    for q in qs:
        t = time.perf_counter()
        embed_query(embedder, q)
        lat.append(time.perf_counter() - t)
    ms = np.array(lat) * 1e3
    return (
        f"p50 {np.percentile(ms, 50):.1f} ms   p95 {np.percentile(ms, 95):.1f} ms   "
        f"max {ms.max():.1f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--no-busy", action="store_true", help="skip the query latency under CPU load")
    args = ap.parse_args()

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average at start {os.getloadavg()[0]:.2f}"
    )
    print(f"\n== cold query path (fresh subprocess, median of {args.cold_runs}) ==")
    print(f"{'import':>8s} {'build':>8s} {'1st query':>10s} {'total':>8s} {'process':>8s}  heavy modules")
    runs = [_run(COLD) for _ in range(args.cold_runs)]
    med = {k: statistics.median(r[0][k] for r in runs) for k in ("import", "build", "first")}
    wall = statistics.median(r[1] for r in runs)
    print(
        f"{med['import']:7.2f}s {med['build']:7.2f}s {med['first']:9.3f}s "
        f"{sum(med.values()):7.2f}s {wall:7.2f}s  {runs[0][0]['heavy'] or '-'}"
    )

    sys.path.insert(0, str(ROOT))
    import numpy as np

    calls: dict = {}
    exec(textwrap.dedent(CALLS), calls)
    from rag.embed import make_embedder
    from rag.settings import EmbeddingSettings, Settings

    embedder = make_embedder(Settings())
    qs = questions(args.queries)
    calls["embed_query"](embedder, qs[0])  # loads the model
    print(f"\n== query latency, make_embedder(Settings()), {len(qs)} questions one at a time "
          f"(mean {np.mean([len(q) for q in qs]):.0f} chars) ==")
    print(f"{'machine as it is':24s} {_query_latency(calls['embed_query'], embedder, qs)}")
    if not args.no_busy:
        busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2)]
        try:
            time.sleep(0.5)
            print(f"{'+ 2 busy processes':24s} {_query_latency(calls['embed_query'], embedder, qs)}")
        finally:
            for p in busy:
                p.kill()
                p.wait()

    docs = sentences(args.docs)
    engines = EmbeddingSettings.model_fields["engine"].annotation.__args__
    print(
        f"\n== documents/s, {len(docs)} sentences (mean {np.mean([len(d) for d in docs]):.0f} chars), "
        f"batch size {args.batch_size}, fresh subprocess each =="
    )
    for engine in engines:
        res, _ = _run(THROUGHPUT, [engine, str(args.batch_size)], stdin=json.dumps(docs))
        print(f"{engine:24s} {len(docs) / res['seconds']:8.1f} docs/s   ({res['seconds']:.2f} s, shape {res['shape']})")
    print(f"\nload average at end {os.getloadavg()[0]:.2f} (other processes on this host skew timings)")


if __name__ == "__main__":
    main()
