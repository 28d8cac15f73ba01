"""The stock llama-index ``CitationQueryEngine`` on our models, for comparison.

What it is: the documents of ``settings.docs``, read by
``rag.ingest.load_documents`` (the same files and the same text our assistant
indexes, so offsets are comparable), chunked by
``VectorStoreIndex.from_documents`` with llama-index's default
``SentenceSplitter`` (1024 tokens, overlap 200), embedded with our embedder
(``rag.embed.make_embedder``), retrieved densely with ``similarity_top_k=3``,
re-split into citation chunks of the default size (512 tokens) and answered
by our LLM (``rag.llm.make_llm``) with llama-index's citation prompt. Nothing
of our pipeline (sentence passages, speakers, hybrid retrieval, refusal,
follow-up resolution) is used.

How its answers become result rows (same shape as ``Answer.to_json()``):

* ``citations``: one per distinct ``[n]`` marker of the response text that
  names an existing ``Source n`` (``response.source_nodes[n-1]``):
  ``source`` = the document's path relative to the project root; ``start``/
  ``end`` = ``node.start_char_idx``/``end_char_idx`` when set, otherwise
  (llama-index resets them on citation chunks) the span where the chunk text
  (without its ``Source n:`` header) occurs in the raw text, found exactly or
  else allowing any whitespace between its words; ``quote`` = the chunk text.
  A chunk that cannot be located gets ``start``/``end`` None and counts as an
  invalid citation.
* ``evidence``: every source node, located the same way, with its retrieval
  score.
* ``mode``: ``"refused"`` when ``eval.metrics.is_refusal_text`` says so (empty
  answer, or a refusal phrase such as "does not mention" / "no information"
  / "not mentioned" outside quotation marks in the first sentence), else
  ``"generated"``; the engine has no refusal of its own.
* ``timings``: ``retrieve_s`` (retrieval + citation chunking), ``total_s``;
  ``first_token_s`` None (not streamed).
* Follow-ups: the engine has no conversation memory, so every question,
  follow-ups included, is asked on its own.

Asking the QA file through it and writing result rows is ``eval.runner.run_baseline``.
"""

from __future__ import annotations

import re
import time
from typing import Optional

from eval.metrics import is_refusal_text, markers_in
from rag import RagError

SIMILARITY_TOP_K = 3
_HEADER_RE = re.compile(r"^Source \d+:\n")


class BaselineUnavailable(RagError):
    """The baseline cannot run with these settings."""


def locate(chunk: str, text: Optional[str]) -> tuple[Optional[int], Optional[int]]:
    """Where ``chunk`` sits in ``text``: exact match first, then any
    whitespace between its words; ``(None, None)`` when not found."""
    if not text or not chunk.strip():
        return None, None
    i = text.find(chunk)
    if i != -1:
        return i, i + len(chunk)
    stripped = chunk.strip()
    i = text.find(stripped)
    if i != -1:
        return i, i + len(stripped)
    words = stripped.split()
    m = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (m.start(), m.end()) if m else (None, None)


def node_span(node, text: Optional[str]) -> tuple[Optional[int], Optional[int], str]:
    """``(start, end, chunk_text)`` of a citation node."""
    chunk = _HEADER_RE.sub("", node.get_content())
    if chunk.endswith("\n"):
        chunk = chunk[:-1]
    start, end = getattr(node, "start_char_idx", None), getattr(node, "end_char_idx", None)
    if isinstance(start, int) and isinstance(end, int) and text is not None and text[start:end] == chunk:
        return start, end, chunk
    start, end = locate(chunk, text)
    return start, end, chunk


class BaselineEngine:
    """Builds the index once; ``ask(question) -> dict`` in ``Answer.to_json()`` shape."""

    def __init__(self, settings, llm=None, embed_model=None):
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core.query_engine import CitationQueryEngine

        from rag.ingest import load_documents

        self.settings = settings
        if llm is None:
            from rag.llm import make_llm

            llm = make_llm(settings)
        if llm is None:
            raise BaselineUnavailable(
                "the baseline needs an LLM but the backend is 'none'; run with --backend embedded (or gguf/openai)"
            )
        if embed_model is None:
            from rag.embed import as_llama_index, make_embedder

            embed_model = as_llama_index(make_embedder(settings))
        # Raises NoDocumentsError (a RagError) when nothing is readable.
        loaded = load_documents(settings.docs, settings.ingest)
        self.texts = {doc.source: doc.text for doc in loaded.documents}
        documents = [Document(text=doc.text, metadata={"source": doc.source},
                              excluded_embed_metadata_keys=["source"], excluded_llm_metadata_keys=["source"])
                     for doc in loaded.documents]
        self.index = VectorStoreIndex.from_documents(documents, embed_model=embed_model, show_progress=False)
        self.engine = CitationQueryEngine.from_args(self.index, llm=llm, similarity_top_k=SIMILARITY_TOP_K)

    def ask(self, question: str) -> dict:
        from llama_index.core.schema import QueryBundle

        t0 = time.perf_counter()
        query = QueryBundle(question)
        nodes = self.engine.retrieve(query)
        t1 = time.perf_counter()
        response = self.engine.synthesize(query, nodes)
        t2 = time.perf_counter()
        text = str(response.response or "").strip()
        if text == "Empty Response":
            text = ""
        source_nodes = list(response.source_nodes or [])
        spans = []
        for nws in source_nodes:
            source = nws.node.metadata.get("source") or "?"
            start, end, chunk = node_span(nws.node, self.texts.get(source))
            spans.append((source, start, end, chunk, nws.score))
        citations = []
        for n in markers_in(text):
            if 1 <= n <= len(spans):
                source, start, end, chunk, _ = spans[n - 1]
                citations.append({"marker": n, "source": source, "start": start, "end": end,
                                  "quote": chunk, "speaker": None})
        refused = is_refusal_text(text)
        return {
            "question": question,
            "answer": text,
            "mode": "refused" if refused else "generated",
            "refused": refused,
            "citations": citations,
            "evidence": [{"source": s, "start": a, "end": b, "score": round(float(sc or 0.0), 6)}
                         for s, a, b, _, sc in spans],
            "timings": {"retrieve_s": round(t1 - t0, 4), "first_token_s": None, "total_s": round(t2 - t0, 4)},
            "settings_hash": self.settings.hash(),
            "notice": None,
            "resolved_question": None,
        }
