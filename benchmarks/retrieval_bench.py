"""Retrieval benchmark: evidence hit rate and MRR on the QA files, our hybrid
retriever beside the naive baseline (llama-index dense top-4 over 128-token
chunks, the setting measured in the retrieval issue), then latency on the
article and on a generated corpus of >= 10,000 passages.

Run: .venv/bin/python benchmarks/retrieval_bench.py [--passages 10000] [--skip-scale]
Prints figures; asserts nothing (targets live in the README).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.metrics import percentile  # noqa: E402  (the one percentile definition)
from rag.index import open_index  # noqa: E402
from rag.retrieve import Retriever  # noqa: E402
from rag.settings import Settings  # noqa: E402


def load_qa():
    rows = []
    # The article's original questions (dev split), so figures compare with earlier runs.
    for path in [ROOT / "eval" / "qa" / "dev" / "article.jsonl"]:
        rows += [json.loads(line) for line in path.open() if line.strip()]
    return [r for r in rows if r["answerable"] and not r["follow_up_of"]]


def gold_spans(row, texts):
    spans = []
    for ev in row["evidence"]:
        for source, text in texts.items():
            start = text.find(ev)
            while start != -1:
                spans.append((source, start, start + len(ev)))
                start = text.find(ev, start + 1)
    return spans


def first_hit(items, gold):
    for rank, (source, start, end) in enumerate(items, 1):
        if any(s == source and start < ge and end > gs for s, gs, ge in gold):
            return rank
    return None


def naive_baseline(settings, embed_model, texts):
    """llama-index dense top-4 over 128-token SentenceSplitter chunks."""
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    from rag.embed import as_llama_index

    docs = [Document(text=t, metadata={"source": s}) for s, t in texts.items()]
    index = VectorStoreIndex.from_documents(
        docs, embed_model=as_llama_index(embed_model), transformations=[SentenceSplitter(chunk_size=128, chunk_overlap=20)]
    )
    retriever = index.as_retriever(similarity_top_k=4)

    def run(question):
        out = []
        for hit in retriever.retrieve(question):
            node = hit.node
            out.append((node.metadata["source"], node.start_char_idx, node.end_char_idx))
        return out

    return run


def quality(settings, retriever, texts, qa):
    baseline = naive_baseline(settings, retriever.index.embed_model, texts)
    rows = []
    for row in qa:
        gold = gold_spans(row, texts)
        ours = first_hit([(e.source, e.start, e.end) for e in retriever.retrieve(row["question"]).evidence], gold)
        base = first_hit(baseline(row["question"]), gold)
        rows.append((row["id"], ours, base))
    n = len(rows)
    for name, col in (("hybrid (ours)", 1), ("naive dense top-4/128-token chunks", 2)):
        hits = [r[col] for r in rows if r[col]]
        print(f"  {name:38s} hit rate {len(hits)}/{n} = {len(hits) / n:.1%}   MRR {sum(1 / h for h in hits) / n:.3f}")
    misses = [r[0] for r in rows if not r[1]]
    print(f"  our misses: {misses or 'none'}")


def latency(retriever, questions, label, repeats=3):
    for q in questions[:5]:
        retriever.retrieve(q)  # warm-up: model load, caches
    times = []
    for _ in range(repeats):
        for q in questions:
            t = time.perf_counter()
            retriever.retrieve(q)
            times.append(time.perf_counter() - t)
    print(f"  {label}: retrieval p50 {percentile(times, 50) * 1000:.1f} ms  p95 {percentile(times, 95) * 1000:.1f} ms  (n={len(times)})")


def generated_corpus(folder: Path, article: str, passages: int) -> None:
    """Documents made by recombining the article's sentences with new names and
    numbers, so the index holds >= ``passages`` distinct sentences."""
    import re

    sentences = [s for s in re.split(r"(?<=[.!?])\s+", article.replace("\n", " ")) if len(s) > 40]
    rng = random.Random(7)
    names = ["Anna Petrova", "Boris Ivanov", "Carla Mendes", "David Okafor", "Elena Rossi", "Farid Haddad"]
    made, doc = 0, 0
    while made < passages:
        body = []
        for _ in range(100):
            s = rng.choice(sentences)
            s = s.replace("Suslov", rng.choice(names).split()[1]).replace("2020", str(rng.randint(1990, 2030)))
            body.append(f"{s} Report {doc}-{len(body)} notes {rng.randint(1, 99999)} cases.")
        (folder / f"doc{doc:04d}.txt").write_text(f"Generated Report {doc}\n" + "\n".join(body) + "\n")
        made += int(len(body) * 1.85)  # ~1.9 sentences a line; err on the side of more
        doc += 1


def scale(settings, article, n):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        generated_corpus(folder, article, n)
        s = settings.with_updates(index={"data_dir": Path(tmp) / "data", "show_progress": False})
        t = time.perf_counter()
        index = open_index(s, [folder])
        build = time.perf_counter() - t
        tm = index.timings
        print(f"  generated corpus: {len(index.documents)} documents, {len(index.passages)} passages")
        print(f"  index build {build:.1f} s (model load {tm.get('model_load_s', 0):.1f} s, parse+attribute "
              f"{tm.get('parse_s', 0):.1f} s, embedding {tm.get('embed_s', 0):.1f} s) -> "
              f"{len(index.passages) / build:.0f} passages/s overall, {len(index.passages) / max(tm.get('embed_s', 1e-9), 1e-9):.0f} passages/s embedding")
        t = time.perf_counter()
        reopened = open_index(s, [folder])
        print(f"  reopen without re-embedding: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        retriever = Retriever(reopened, s.retrieval)
        print(f"  retriever ready (BM25 index over {len(reopened.passages)} passages): {time.perf_counter() - t:.2f} s")
        questions = [r["question"] for r in load_qa()]
        latency(retriever, questions, f"{len(reopened.passages)}-passage corpus")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings().with_updates(index={"show_progress": False})
    qa = load_qa()
    t = time.perf_counter()
    index = open_index(settings)
    retriever = Retriever(index, settings.retrieval)
    print(f"article index ready in {time.perf_counter() - t:.2f} s ({len(index.passages)} passages)")
    texts = {s: d.text for s, d in index.documents.items()}
    print(f"evidence quality on {len(qa)} answerable questions (budget {settings.retrieval.evidence_tokens} tokens):")
    quality(settings, retriever, texts, qa)
    print("latency:")
    latency(retriever, [r["question"] for r in qa], "article")
    if not args.skip_scale:
        scale(settings, next(iter(texts.values())), args.passages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
