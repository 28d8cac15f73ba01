"""Scale benchmark: FAISS + in-process BM25 beside Milvus Lite (milvus-lite 2.5.1,
Milvus's C++ engine in a child process) on one generated corpus.

The corpus is the article (real text, real embeddings) inside N generated
passages: documents recombining the article's sentences with other names and
numbers (benchmarks/retrieval_bench.py's generator), so BM25 meets real
distractors. Embedding 100,000 passages with MiniLM takes ~11 minutes on this
machine's two shared cores, so the filler passages get deterministic
pseudo-random unit vectors instead (seeded by their text); the article's
passages and every question are embedded by the real model. Random vectors
are nearly orthogonal to questions, so dense search meets weak distractors:
the hit rate here measures the lexical side and fusion more than the dense side.

For each backend, in fresh processes: build (index from nothing), then reopen
(open the stored index + make the retriever, as `rag ask` does) and run the
article's answerable dev questions (eval/qa/dev/article.jsonl): query p50/p95,
where that time goes (embedding the question, the search, reading the found
paragraphs from Milvus, fusion, evidence selection: ``Retrieval.timings``),
evidence hit rate (an evidence item overlaps a gold sentence of the article),
resident memory after the open and after the queries. Milvus Lite's engine
is a process of its own, so its memory is reported beside ours (``engine_rss``:
resident now and at peak). For Milvus it also times the engine alone
(``engine_floor``: the two searches straight through pymilvus on the same
collection, query vectors made beforehand), the floor under our code.

Run: .venv/bin/python benchmarks/scale_bench.py [--passages 100000] [--backends faiss milvus]
[--workdir DIR [--serve-only]] [--repeat N] (`make bench-scale`). ``--workdir`` keeps the
corpus and indexes; ``--serve-only`` re-measures them without building.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

ARTICLE = ROOT / "seeds" / "rferl-2020-04-26-us-russia-reset.txt"
FILLER_MARK = "Generated Report"  # retrieval_bench.generated_corpus's headings: every filler passage's section


class FillerAwareEmbedder:
    """The real embedder for the article and the questions; a deterministic
    pseudo-random unit vector for a generated filler passage."""

    def __init__(self, real):
        self.real = real
        # Another name: such an index must never pass for a real one.
        self.model_name = f"{real.model_name}+scale-bench-filler"
        self.dimension = real.dimension

    def _filler(self, text: str):
        import numpy as np

        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(self.dimension).astype("float32")
        return v / np.linalg.norm(v)

    def embed_batch(self, texts):
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype="float32")
        real = [i for i, t in enumerate(texts) if FILLER_MARK not in t]
        if real:
            out[real] = self.real.embed_batch([texts[i] for i in real])
        for i, t in enumerate(texts):
            if FILLER_MARK in t:
                out[i] = self._filler(t)
        return out


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def engine_rss() -> dict:
    """Resident and peak memory (MB) of this process's Milvus Lite engine
    (a child process), or {} when there is none (FAISS, a server)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            status = (proc / "status").read_text()
            argv0 = (proc / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if argv0.endswith(b"milvus_lite/lib/milvus") and int(fields["PPid"]) == os.getpid():
            return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024, "peak_mb": int(fields["VmHWM"].split()[0]) / 1024}
    return {}


def _settings(backend: str, data: Path):
    from rag.settings import Settings

    return Settings().with_updates(index={"data_dir": data, "show_progress": False, "backend": backend})


def _open(backend: str, docs: Path, data: Path):
    from rag.embed import make_embedder
    from rag.index import open_index

    settings = _settings(backend, data)
    return settings, open_index(settings, [docs], embed_model=FillerAwareEmbedder(make_embedder(settings)))


def run_build(backend: str, docs: Path, data: Path) -> dict:
    from rag.embed import make_embedder

    make_embedder(_settings(backend, data)).embed_batch(["warm up"])  # model load is not build time
    t = time.perf_counter()
    _, index = _open(backend, docs, data)
    build = time.perf_counter() - t
    return {"passages": len(index.passages), "build_s": build,
            "timings": {k: round(v, 2) for k, v in index.timings.items()},
            "rss_mb": rss_mb(), "peak_rss_mb": peak_rss_mb(), "engine": engine_rss()}


def run_serve(backend: str, docs: Path, data: Path, repeat: int = 1) -> dict:
    from eval.metrics import percentile
    from rag.retrieve import Retriever

    from retrieval_bench import first_hit, gold_spans, load_qa

    t = time.perf_counter()
    settings, index = _open(backend, docs, data)
    retriever = Retriever(index, settings.retrieval)
    reopen = time.perf_counter() - t
    assert index.timings.get("embedded", 0) == 0, "the reopen re-embedded passages"
    qa = load_qa()
    article = next(s for s in index.documents if s.endswith(ARTICLE.name))
    texts = {article: index.documents[article].text}
    rss_open, engine_open = rss_mb(), engine_rss()
    for row in qa[:5]:
        retriever.retrieve(row["question"])  # warm-up
    times, hits = [], 0
    parts: dict[str, list[float]] = {}
    for round_ in range(repeat):  # more samples for the percentiles; hits from the first round
        for row in qa:
            t = time.perf_counter()
            r = retriever.retrieve(row["question"])
            times.append(time.perf_counter() - t)
            for part, seconds in r.timings.items():
                parts.setdefault(part, []).append(seconds)
            if round_ == 0:
                hits += first_hit([(e.source, e.start, e.end) for e in r.evidence], gold_spans(row, texts)) is not None
    out = {"reopen_s": reopen, "p50_ms": percentile(times, 50) * 1000, "p95_ms": percentile(times, 95) * 1000,
           "parts_p50_ms": {k: round(percentile(v, 50) * 1000, 1) for k, v in parts.items()},
           "parts_p95_ms": {k: round(percentile(v, 95) * 1000, 1) for k, v in parts.items()},
           "hits": hits, "questions": len(qa), "samples": len(times), "rss_open_mb": rss_open, "rss_mb": rss_mb(),
           "peak_rss_mb": peak_rss_mb(), "engine_open": engine_open, "engine": engine_rss(),
           "open_timings": {k: round(v, 2) for k, v in index.timings.items()}}
    if backend == "milvus":
        out["floor"] = engine_floor(index, settings, [row["question"] for row in qa])
    return out


def engine_floor(index, settings, questions: list[str]) -> dict:
    """The engine alone: the two searches a question without a named person
    costs (dense top k and BM25 top k, passage ids back), straight through
    pymilvus on the same collection, with the query vectors made beforehand."""
    from eval.metrics import percentile
    from rag.milvus import lexical_terms

    engine = index.engine
    vectors = [v.tolist() for v in index.embed_model.embed_batch(questions)]
    r = settings.retrieval

    def both(vector, terms):
        engine.client.search(engine.collection, data=[vector], anns_field="dense", limit=r.dense_top_k,
                             search_params={"metric_type": "IP"}, output_fields=["pid"])
        engine.client.search(engine.collection, data=[terms], anns_field="sparse", limit=r.lexical_top_k,
                             search_params={"metric_type": "BM25"}, output_fields=["pid"])

    times = []
    for vector, question in zip(vectors, questions):
        terms = lexical_terms(question)
        t = time.perf_counter()
        both(vector, terms)
        times.append(time.perf_counter() - t)
    return {"p50_ms": percentile(times, 50) * 1000, "p95_ms": percentile(times, 95) * 1000}


def child(args) -> int:
    docs, data = Path(args.docs), Path(args.data)
    out = run_build(args.backend, docs, data) if args.child == "build" else run_serve(args.backend, docs, data, args.repeat)
    print("RESULT " + json.dumps(out))
    return 0


def in_process(step: str, backend: str, docs: Path, data: Path, repeat: int = 1) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, "--backend", backend, "--docs", str(docs), "--data", str(data),
         "--repeat", str(repeat)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    if out.returncode != 0 or line is None:
        raise SystemExit(f"{backend} {step} failed:\n{out.stderr[-3000:]}")
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=100_000, help="generated passages around the article")
    parser.add_argument("--backends", nargs="+", default=["faiss", "milvus"], choices=["faiss", "milvus"])
    parser.add_argument("--workdir", type=Path, help="keep the corpus and the indexes here (default: a temporary folder)")
    parser.add_argument("--serve-only", action="store_true",
                        help="reuse the indexes built in --workdir by an earlier run: measure reopen and queries only")
    parser.add_argument("--repeat", type=int, default=1,
                        help="ask the questions this many times (more samples for p50/p95; hits from the first time)")
    parser.add_argument("--child", choices=["build", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--docs", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    from retrieval_bench import generated_corpus

    if args.serve_only and not args.workdir:
        parser.error("--serve-only needs the --workdir of an earlier run")
    with tempfile.TemporaryDirectory() as tmp:
        if args.workdir:
            tmp = args.workdir
            tmp.mkdir(parents=True, exist_ok=True)
        docs = Path(tmp) / "docs"
        if not args.serve_only:
            shutil.rmtree(docs, ignore_errors=True)
            docs.mkdir()
            generated_corpus(docs, ARTICLE.read_text(encoding="utf-8"), args.passages)
            (docs / ARTICLE.name).write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
        print(f"corpus: {len(list(docs.iterdir()))} documents, ~{args.passages:,} generated passages + the article "
              f"(filler vectors pseudo-random, article and questions embedded by the real model)")
        rows = {}
        for backend in args.backends:
            data = Path(tmp) / f"data-{backend}"
            if args.serve_only:
                build = json.loads((data / "build.json").read_text())
            else:
                shutil.rmtree(data, ignore_errors=True)
                build = in_process("build", backend, docs, data)
                (data / "build.json").write_text(json.dumps(build))
            serve = in_process("serve", backend, docs, data, args.repeat)
            rows[backend] = (build, serve)
            print(f"{backend}: {json.dumps({'build': build, 'serve': serve})}", flush=True)
        print()
        def mem(ours: float, engine: dict, key: str) -> str:
            return f"{ours:.0f} MB" + (f" + engine {engine[key]:.0f} MB" if engine else "")

        print(f"queries: {args.repeat} x the article's answerable dev questions")
        print("| backend | passages | build | reopen | query p50 | query p95 | RSS after open | RSS serving | peak RSS build | evidence hit rate |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for backend, (b, s) in rows.items():
            print(f"| {backend} | {b['passages']:,} | {b['build_s']:.1f} s | {s['reopen_s']:.2f} s | {s['p50_ms']:.1f} ms | "
                  f"{s['p95_ms']:.1f} ms | {mem(s['rss_open_mb'], s.get('engine_open'), 'rss_mb')} | "
                  f"{mem(s['rss_mb'], s.get('engine'), 'rss_mb')} | {mem(b['peak_rss_mb'], b.get('engine'), 'peak_mb')} | "
                  f"{s['hits']}/{s['questions']} |")
        print()
        print("| backend | embed query p50 | search p50 / p95 | read paragraphs p50 / p95 | fuse p50 | select p50 | engine alone (2 searches) p50 / p95 |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for backend, (b, s) in rows.items():
            p50, p95 = s["parts_p50_ms"], s["parts_p95_ms"]
            floor = s.get("floor")
            read = f"{p50['read_s']:.1f} / {p95['read_s']:.1f} ms" if "read_s" in p50 else "-"
            print(f"| {backend} | {p50.get('embed_s', 0):.1f} ms | {p50.get('search_s', 0):.1f} / {p95.get('search_s', 0):.1f} ms | "
                  f"{read} | {p50.get('fuse_s', 0):.1f} ms | {p50.get('select_s', 0):.1f} ms | "
                  + (f"{floor['p50_ms']:.1f} / {floor['p95_ms']:.1f} ms |" if floor else "- |"))
        print()
        for backend, (b, s) in rows.items():
            print(f"{backend} build steps (s): {b['timings']}; reopen steps (s): {s.get('open_timings')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
