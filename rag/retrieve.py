"""Hybrid retrieval and evidence selection.

For a question this module ranks passages by reciprocal-rank fusion of
  * dense search: the question's MiniLM vector against the llama-index vector
    store (FAISS by default), and
  * lexical search: llama-index's ``BM25Retriever`` (bm25s, English stemming),
and boosts passages spoken by a person the question names, by name, surname
or a role the document gives them ("the Kremlin spokesman"; ``rag.question``
finds them, in the retriever's ``people`` index). It then selects
evidence: the best sentences, each widened to the whole quotation it belongs
to, in relevance order, until a token budget is spent.

With the Milvus backend (``rag.milvus``) the engine does the dense and BM25
searches (``CorpusIndex.engine.rank`` fuses them and applies the speaker
boost), and evidence is selected from the found passages' whole paragraphs,
read from the engine, rather than from every passage in memory; the rule is
the same for both backends (quotations and context never leave a paragraph).
Each ``Retrieval`` says where its time went (``timings``).

What it does not do: query rewriting with an LLM (the embedded model is too
small to do it reliably), or deciding whether the evidence answers the
question (``rag.answer`` does, with the figures this module reports).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Optional

from rag.attribute import QUOTE_CHARS
from rag.index import CorpusIndex, embedding_text
from rag.question import PeopleIndex, content_words, named_speakers, role_holders, speaker_focus
from rag.settings import RetrievalSettings
from rag.types import Evidence, Passage

def estimate_tokens(text: str) -> int:
    """Rough LLM token count (about 4 characters a token for English)."""
    return max(1, (len(text) + 3) // 4)


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for one question."""

    query: str
    evidence: tuple[Evidence, ...]
    speakers: tuple[str, ...]  # people/organisations whose words the question asks for
    best_dense: float  # cosine of the best passage (0 when nothing)
    best_lexical: float  # BM25 score of the best passage
    ranked: tuple[tuple[str, float], ...] = field(default=(), repr=False)  # passage id, fused score
    seconds: float = 0.0
    # Where ``seconds`` went: embed_s (the query's vector), search_s (FAISS +
    # BM25, or the engine's searches), read_s (an engine's paragraphs around
    # the hits), fuse_s (fusion, mapping hits to passages), select_s
    # (evidence selection).
    timings: dict = field(default_factory=dict, repr=False, compare=False)


def _bm25(retriever_cls, nodes, top_k: int):
    """llama-index's BM25 retriever over ``nodes``; None when no node has a
    word BM25 indexes (a corpus of stopwords and punctuation, such as a
    Markdown table "| the |"): bm25s cannot build an empty vocabulary, and
    lexical search over such a corpus finds nothing anyway."""
    try:
        return retriever_cls.from_defaults(nodes=nodes, similarity_top_k=top_k)
    except ValueError:
        import bm25s

        if bm25s.tokenize([n.text for n in nodes], stopwords="en", show_progress=False).vocab:
            raise  # not the empty-vocabulary case
        return None


@dataclass(frozen=True)
class _View:
    """Passages in document order (all of them, or whole paragraphs), with
    their quote parity: does a passage start inside an open quotation?"""

    passages: list[Passage]
    opens_inside: list[bool]
    by_id: dict[str, int]

    @classmethod
    def of(cls, passages: list[Passage], by_id: Optional[dict[str, int]] = None) -> "_View":
        opens_inside = []
        inside = False
        previous_para = None
        for p in passages:
            if (p.source, p.paragraph) != previous_para or p.kind != "sentence":
                inside = False
                previous_para = (p.source, p.paragraph)
            opens_inside.append(inside)
            if p.kind == "sentence":
                inside ^= sum(p.text.count(c) for c in QUOTE_CHARS) % 2 == 1
        return cls(passages, opens_inside, by_id if by_id is not None else {p.id: i for i, p in enumerate(passages)})


def evidence_of(run, text: str, score: float) -> Evidence:
    """Evidence for a run of consecutive passages of one document (``text``
    is that document's raw text): its span, its first passage's section and
    paragraph, and the first speaker in it."""
    a, b = run[0], run[-1]
    return Evidence(
        source=a.source,
        start=a.start,
        end=b.end,
        text=text[a.start : b.end],
        section=a.section,
        paragraph=a.paragraph,
        speaker=next((p.speaker for p in run if p.speaker), None),
        score=score,
        passage_ids=tuple(p.id for p in run),
    )


class Retriever:
    """Hybrid retriever over one ``CorpusIndex``."""

    def __init__(self, index: CorpusIndex, settings: Optional[RetrievalSettings] = None,
                 people: Optional[PeopleIndex] = None):
        from llama_index.core.schema import TextNode
        from llama_index.retrievers.bm25 import BM25Retriever

        self.index = index
        self.settings = settings or RetrievalSettings()
        self.bm25 = None
        if index.engine is None:  # an engine (rag.milvus) runs BM25 itself
            nodes = [TextNode(id_=p.id, text=embedding_text(p)) for p in index.passages]
            self.bm25 = _bm25(BM25Retriever, nodes, min(self.settings.lexical_top_k, max(1, len(nodes))))
        # What evidence selection reads: every passage when they are in
        # memory; with an engine, each question's paragraphs (``rank``).
        self._all = _View.of(index.passages, index.by_id) if index.in_memory else None
        # Who the documents quote, for resolving the people a question names.
        self.people = people or PeopleIndex.build(index.people, sorted(index.speaker_names()))

    # -- ranking -------------------------------------------------------------

    def _dense(self, vec) -> list[tuple[int, float]]:
        from llama_index.core.vector_stores.types import VectorStoreQuery

        k = min(self.settings.dense_top_k, len(self.index.passages))
        result = self.index.vector_store.query(
            VectorStoreQuery(query_embedding=vec.tolist(), similarity_top_k=k)
        )
        hits = []
        for rank, pid in enumerate(result.ids or []):
            # FAISS returns positions; server stores return node ids.
            pos = self.index.by_id.get(pid)
            if pos is None and str(pid).isdigit():
                pos = int(pid)
            if pos is not None:
                score = result.similarities[rank] if result.similarities else 0.0
                hits.append((pos, float(score)))
        return hits

    def _lexical(self, query: str) -> list[tuple[int, float]]:
        if not content_words(query) or self.bm25 is None:
            return []
        hits = []
        for hit in self.bm25.retrieve(query):
            if hit.score and hit.score > 0:
                hits.append((self.index.by_id[hit.node.node_id], float(hit.score)))
        return hits

    def rank(self, query: str, speakers: tuple[str, ...], timings: Optional[dict] = None
             ) -> tuple[list[tuple[int, float]], float, float, "_View"]:
        """Positions in the returned view by fused score, the best cosine, the
        best BM25 score, and the view (the passages evidence is chosen from)."""
        timings = {} if timings is None else timings
        t0 = time.perf_counter()
        vec = self.index.embed_model.embed_batch([query])[0]
        timings["embed_s"] = time.perf_counter() - t0
        if self.index.engine is not None:
            # Dense + BM25 searches (and the speaker-filtered ones) in the engine.
            t = time.perf_counter()
            ranked_ids, best_dense, best_lexical = self.index.engine.rank(query, speakers, self.settings, vector=vec)
            timings["search_s"] = time.perf_counter() - t
            t = time.perf_counter()
            if self._all is not None:
                view = self._all
            else:
                # The found passages' whole paragraphs, in document order:
                # positions in it order as in the whole corpus, and quotations
                # never cross a paragraph.
                view = _View.of(self.index.passages.window([pid for pid, _ in ranked_ids]))
            timings["read_s"] = time.perf_counter() - t
            t = time.perf_counter()
            by_id = view.by_id
            ranked = sorted(((by_id[pid], score) for pid, score in ranked_ids if pid in by_id),
                            key=lambda kv: (-kv[1], kv[0]))
            timings["fuse_s"] = time.perf_counter() - t
            return ranked, best_dense, best_lexical, view
        t = time.perf_counter()
        dense = self._dense(vec)
        lexical = self._lexical(query)
        timings["search_s"] = time.perf_counter() - t
        t = time.perf_counter()
        k = self.settings.rrf_k
        fused: dict[int, float] = {}
        for hits in (dense, lexical):
            for rank, (pos, _) in enumerate(hits):
                fused[pos] = fused.get(pos, 0.0) + 1.0 / (k + rank + 1)
        if speakers:
            for pos in fused:
                if self.index.passages[pos].speaker in speakers:
                    fused[pos] *= self.settings.speaker_boost
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        best_dense = dense[0][1] if dense else 0.0
        best_lexical = lexical[0][1] if lexical else 0.0
        timings["fuse_s"] = time.perf_counter() - t
        return ranked, best_dense, best_lexical, self._all

    # -- evidence ------------------------------------------------------------

    @staticmethod
    def quotation_run(view: "_View", pos: int) -> tuple[int, int]:
        """The positions [first, last] of the quotation that passage ``pos`` is part of."""
        passages, opens_inside = view.passages, view.opens_inside
        first = last = pos
        while opens_inside[first] and first > 0 and passages[first - 1].paragraph == passages[pos].paragraph:
            first -= 1
        while last + 1 < len(passages) and opens_inside[last + 1] and passages[last + 1].paragraph == passages[pos].paragraph:
            last += 1
        return first, last

    def select(self, view: "_View", ranked: list[tuple[int, float]], budget: Optional[int] = None) -> tuple[Evidence, ...]:
        """Evidence from ``ranked`` positions of ``view`` (as ``rank`` returns them)."""
        budget = budget or self.settings.evidence_tokens
        passages = view.passages
        chosen: list[tuple[int, int, float]] = []
        covered: set[int] = set()
        spent = 0
        for pos, score in ranked:
            if len(chosen) >= self.settings.max_evidence_items:
                break
            # Headings organise; they are not evidence. Bylines and datelines
            # are. A field ("Date: 12 March 2025") is metadata: questions
            # about the document read it (``Answerer.about_document``).
            if pos in covered or passages[pos].kind in ("heading", "field"):
                continue
            first, last = self.quotation_run(view, pos)
            prev = first - 1
            if (len(self._text(view, first, last)) < self.settings.min_standalone_chars and prev >= 0 and passages[prev].kind == "sentence"
                    and (passages[prev].source, passages[prev].paragraph) == (passages[first].source, passages[first].paragraph)):
                # "I don't know the answer to that." means nothing without the
                # sentence before it.
                first = prev
            if covered.intersection(range(first, last + 1)):
                continue
            cost = estimate_tokens(self._text(view, first, last))
            if cost > budget - spent:
                if chosen:
                    continue  # a smaller item further down may still fit
                first = last = pos  # always offer the best sentence
                cost = estimate_tokens(passages[pos].text)
            chosen.append((first, last, score))
            covered.update(range(first, last + 1))
            spent += cost
        return tuple(self._evidence(view, first, last, score) for first, last, score in chosen)

    def _text(self, view: "_View", first: int, last: int) -> str:
        a, b = view.passages[first], view.passages[last]
        return self.index.text_of(a.source)[a.start : b.end]

    def _evidence(self, view: "_View", first: int, last: int, score: float) -> Evidence:
        run = view.passages[first : last + 1]
        return evidence_of(run, self.index.text_of(run[0].source), score)

    def retrieve(self, question: str, budget: Optional[int] = None) -> Retrieval:
        """Evidence for a question; an empty or meaningless question gets none."""
        t0 = time.perf_counter()
        query = " ".join(question.split())[: self.settings.max_query_chars]
        if not query or not re.search(r"\w", query) or not self.index.passages:
            return Retrieval(query, (), (), 0.0, 0.0, seconds=time.perf_counter() - t0)
        named = named_speakers(query, self.people, self.settings)
        speakers = speaker_focus(query, named, self.people, self.settings)
        timings: dict[str, float] = {}
        holders = () if speakers else role_holders(query, self.people)
        unboosted = None
        if holders:
            # "What did the mayor say about the June 14 date?": the mayor of
            # the document that the question's other words find first.
            unboosted = self.rank(query, (), timings)
            ranked, view = unboosted[0], unboosted[3]
            if ranked:
                roster = self.index.people.get(view.passages[ranked[0][0]].source, {})
                mine = [h for h in holders if h in roster]
                speakers = tuple(mine) if len(mine) == 1 else ()
        if unboosted is not None and not speakers:
            # No one of them in that document: that ranking is the answer's.
            ranked, best_dense, best_lexical, view = unboosted
        else:
            # Say who the question means in the words the index uses: passages
            # are embedded and indexed with their speaker's full name, so "the
            # Kremlin spokesman" must become "Dmitry Peskov" to meet them.
            expanded = " ".join([query, *[s for s in speakers if s.lower() not in query.lower()]])
            ranked, best_dense, best_lexical, view = self.rank(expanded, speakers, timings)
        t = time.perf_counter()
        evidence = self.select(view, ranked, budget)
        timings["select_s"] = time.perf_counter() - t
        return Retrieval(
            query=query,
            evidence=evidence,
            speakers=speakers,
            best_dense=best_dense,
            best_lexical=best_lexical,
            ranked=tuple((view.passages[p].id, s) for p, s in ranked[: self.settings.ranked_kept]),
            seconds=time.perf_counter() - t0,
            timings=timings,
        )
