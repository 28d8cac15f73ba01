"""Latency of the local LLM on RAG-shaped prompts.

Prints the model load time and, for 10 prompts of ~250 prompt tokens (a
numbered evidence list plus a question), time to first token and total time
(p50/p95) and generated tokens per second, streaming through
``rag.llm.XLlamaCppLLM`` exactly as the answer pipeline does.

    .venv/bin/python benchmarks/llm_bench.py                # embedded SmolLM2, 2 threads
    .venv/bin/python benchmarks/llm_bench.py --http         # also via llama.cpp's HTTP server
    .venv/bin/python benchmarks/llm_bench.py --model x.gguf --threads 4

The machine's load average is printed before and after: llama.cpp threads
spin-wait, so other busy processes on a 2-core machine slow it down many times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from llama_index.core.llms import ChatMessage  # noqa: E402

from eval.metrics import percentile  # noqa: E402  (the one percentile definition)

from rag.llm import XLlamaCppLLM, embedded_model_path, make_llm  # noqa: E402
from rag.settings import Settings  # noqa: E402

SYSTEM = (
    "You answer questions using only the numbered evidence. Cite the evidence "
    "numbers you use, like [2]. If the evidence does not contain the answer, say "
    "that you do not know."
)

FACTS = [
    "The Eiffel Tower was completed in March 1889 as the entrance arch to the World's Fair in Paris.",
    "Gustave Eiffel's engineering company designed and built the tower in about two years.",
    "The tower is 330 metres tall and was the tallest man-made structure until 1930.",
    "Around seven million people visit the Eiffel Tower every year, most of them tourists.",
    "The tower is repainted roughly every seven years, using about 60 tonnes of paint.",
    "During the First World War the tower's radio transmitter intercepted enemy messages.",
    "The Statue of Liberty was dedicated in New York Harbor on 28 October 1886.",
    "Its internal iron framework was also engineered by Gustave Eiffel.",
    "The Brooklyn Bridge opened in 1883 and connects Manhattan and Brooklyn across the East River.",
    "Construction of the Panama Canal was completed in 1914 after a decade of American work.",
    "The Golden Gate Bridge in San Francisco opened to traffic in May 1937.",
    "Big Ben is the nickname of the great bell in the clock tower of the Palace of Westminster.",
]

QUESTIONS = [
    "When was the Eiffel Tower completed?",
    "Who designed the Eiffel Tower?",
    "How tall is the Eiffel Tower?",
    "How many people visit the Eiffel Tower each year?",
    "How often is the tower repainted?",
    "What did the tower do during the First World War?",
    "When was the Statue of Liberty dedicated?",
    "Who engineered the Statue of Liberty's framework?",
    "When did the Brooklyn Bridge open?",
    "When did the Golden Gate Bridge open?",
]


def prompts() -> list[list[ChatMessage]]:
    out = []
    for i, question in enumerate(QUESTIONS):
        evidence = "\n".join(f"[{j + 1}] {FACTS[(i + j) % len(FACTS)]}" for j in range(8))
        out.append(
            [
                ChatMessage(role="system", content=SYSTEM),
                ChatMessage(role="user", content=f"Evidence:\n{evidence}\n\nQuestion: {question}"),
            ]
        )
    return out


def run(llm, label: str) -> None:
    ttfts, totals, rates, prompt_tokens, gen_tokens = [], [], [], [], []
    for messages in prompts():
        started = time.perf_counter()
        first = None
        last = None
        n_deltas = 0
        for response in llm.stream_chat(messages):
            if response.delta:
                n_deltas += 1
                if first is None:
                    first = time.perf_counter() - started
            last = response
        total = time.perf_counter() - started
        extra = last.additional_kwargs if last is not None else {}
        usage = getattr(getattr(last, "raw", None), "usage", None)
        n_gen = extra.get("completion_tokens") or (usage.completion_tokens if usage else None) or n_deltas
        n_prompt = extra.get("prompt_tokens") or (usage.prompt_tokens if usage else None)
        ttfts.append(first if first is not None else total)
        totals.append(total)
        gen_tokens.append(n_gen)
        if n_prompt:
            prompt_tokens.append(n_prompt)
        if first is not None and total > first and n_gen > 1:
            rates.append((n_gen - 1) / (total - first))  # tokens after the first
    print(f"\n[{label}] {len(totals)} prompts")
    if prompt_tokens:
        print(
            f"  prompt tokens       mean {statistics.mean(prompt_tokens):.0f} "
            f"(min {min(prompt_tokens)}, max {max(prompt_tokens)})"
        )
    print(f"  generated tokens    mean {statistics.mean(gen_tokens):.0f} (max_tokens {llm.metadata.num_output})")
    print(f"  time to first token p50 {percentile(ttfts, 50):.3f} s   p95 {percentile(ttfts, 95):.3f} s")
    print(f"  total               p50 {percentile(totals, 50):.3f} s   p95 {percentile(totals, 95):.3f} s")
    if rates:
        print(f"  generation          p50 {percentile(rates, 50):.1f} tok/s (min {min(rates):.1f})")
    if prompt_tokens:
        pp = [p / t for p, t in zip(prompt_tokens, ttfts)]
        print(f"  prompt processing   p50 {percentile(pp, 50):.0f} tok/s (prompt tokens / time to first token)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="GGUF file (default: shipped SmolLM2)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=Settings().llm.max_tokens)
    parser.add_argument("--cache-prompt", action="store_true", help="let llama.cpp reuse prompt KV cache")
    parser.add_argument(
        "--http",
        action="store_true",
        help="also run the prompts through llama.cpp's HTTP server with the openai backend",
    )
    args = parser.parse_args()

    model = args.model or embedded_model_path()
    settings = Settings().with_updates(
        llm={
            "backend": "gguf",
            "model_path": model,
            "threads": args.threads,
            "max_tokens": args.max_tokens,
            "temperature": 0.0,
            "cache_prompt": args.cache_prompt,
        }
    )
    print(f"model {model.name}  threads {args.threads}  cpus {os.cpu_count()}  "
          f"load average before {os.getloadavg()[0]:.2f}")

    llm = make_llm(settings)
    assert isinstance(llm, XLlamaCppLLM)
    llm.load()
    print(f"model load            {llm.load_seconds:.3f} s")
    run(llm, "in-process xllamacpp (rag.llm.XLlamaCppLLM)")

    if args.http:
        import secrets

        import xllamacpp

        llm.close()
        key = secrets.token_hex(8)
        params = xllamacpp.CommonParams()
        params.model.path = str(model)
        params.n_ctx = settings.llm.context_window
        params.n_parallel = 1
        params.cpuparams.n_threads = args.threads
        params.cpuparams_batch.n_threads = args.threads
        params.cache_prompt = args.cache_prompt
        params.verbosity = 1
        params.api_keys = [key]
        server = xllamacpp.Server(params)
        http_llm = make_llm(
            settings.with_updates(
                llm={"backend": "openai", "base_url": server.listening_address + "/v1", "api_key": key}
            )
        )
        run(http_llm, f"HTTP {server.listening_address} via OpenAILike (backend=openai)")
        del server

    print(f"\nload average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
