"""From evidence to a verified, cited answer.

``Answerer.stream(question)`` retrieves evidence, refuses when the documents
cannot answer (``rag.verify.refusal_reason``), otherwise asks the LLM for a
short answer with ``[n]`` markers, streams its text as it is generated, and
finally yields the verified ``Answer``:
  * markers that point at no evidence are dropped, the rest renumbered in
    order of first use, each resolved to the exact span of the sentence it
    supports: ``Citation.quote == raw_text[start:end]``;
  * a sentence whose cited evidence does not support it is removed; a
    sentence without a marker is kept only if some evidence supports it;
  * if no sentence survives, or the LLM is unavailable, the answer quotes the
    best evidence with its speaker (``mode="extractive"``).

What it does not do: hold conversation state (``rag.assistant.ChatSession``)
or decide how passages are ranked (``rag.retrieve``).
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Iterator, Optional, Union

from rag import prompts
from rag.errors import LLMError, QuestionError
from rag.retrieve import Retrieval, Retriever, estimate_tokens
from rag.settings import Settings
from rag.types import Answer, Citation, Draft, Evidence, Passage, Timings
from rag.parse import split_answer_sentences
from rag.question import MONTHS, QUOTATION, CorpusFacts, counted_noun, document_facets, expected_detail, \
    said_about, two_part
from rag.verify import attributed_to, content_stems, has_instructions, names_in, refusal_reason, same_person, \
    supports

# ASCII digits only: ``\d`` also matches other scripts' digits, and "[\u0663]"
# (Arabic-Indic three) in a document or a reply is text, not citation 3.
_MARKER = re.compile(r"\[([0-9]+(?:\s*[,;]\s*[0-9]+)*)\]")


def check_question(question: str, limit: int) -> str:
    """The question, stripped; QuestionError when it is empty or too long."""
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("The question is empty. Type a question about the documents.")
    question = question.strip()
    if len(question) > limit:
        raise QuestionError(
            f"The question is {len(question):,} characters long; the limit is {limit:,}. "
            "Ask a shorter question (raise RAG_ANSWER__MAX_QUESTION_CHARS to allow longer ones)."
        )
    return question


def markers_of(sentence: str) -> list[int]:
    out = []
    for group in _MARKER.findall(sentence):
        out.extend(int(n) for n in re.split(r"\s*[,;]\s*", group))
    return out


def strip_markers(sentence: str) -> str:
    return " ".join(_MARKER.sub("", sentence).split()).replace(" .", ".").replace(" ,", ",")


def claims_of(generated: str, shown: int) -> list[tuple[str, list[int]]]:
    """The claims of a generated answer: each sentence without its markers,
    with the markers it cites (only those numbering one of ``shown`` items).

    Chatter carries no claim and is left out: a preface ("The answer is:"),
    statements about the sources ("… is not mentioned in the text"), the
    model's own no-answer phrases, and repeated sentences.

    Example: ``claims_of("The answer is: Talks failed [2]. Talks failed [2].", 3)``
    -> ``[("Talks failed.", [2])]``
    """
    claims, seen = [], set()
    for sentence in split_answer_sentences(generated):
        claim = _META_PREFIX.sub("", strip_markers(sentence)).strip()
        if not claim or claim.lower() in seen:
            continue
        seen.add(claim.lower())
        if _META_CLAIM.search(claim) or any(m in claim.lower() for m in prompts.MODEL_NO_ANSWER_MARKERS):
            continue
        claims.append((claim, [n for n in dict.fromkeys(markers_of(sentence)) if 1 <= n <= shown]))
    return claims


def render_evidence(evidence: list[Evidence]) -> str:
    lines = []
    for n, e in enumerate(evidence, 1):
        speaker = f"{e.speaker}: " if e.speaker else ""
        lines.append(prompts.EVIDENCE_LINE.format(n=n, speaker=speaker, text=" ".join(e.text.split())))
    return "\n".join(lines)


class Answerer:
    """Answers one question at a time over a retriever and an optional LLM."""

    def __init__(self, retriever: Retriever, llm, settings: Settings, facts: CorpusFacts):
        self.retriever = retriever
        self.llm = llm
        self.settings = settings
        self.facts = facts
        self._doc_facts: Optional[dict[str, CorpusFacts]] = None  # built on first use

    # -- citations -------------------------------------------------------

    def _passages(self, e: Evidence) -> list[Passage]:
        index = self.retriever.index
        return [p for p in map(index.passage, e.passage_ids) if p is not None]

    def _citation(self, marker: int, e: Evidence, claim: Optional[str] = None) -> Citation:
        """Cite the evidence span, narrowed to the sentence that supports ``claim``
        when one sentence of a longer quotation does."""
        start, end = e.start, e.end
        if claim is not None:
            passages = self._passages(e)
            if len(passages) > 1:
                stems = content_stems(claim)
                best = max(passages, key=lambda p: len(stems & content_stems(p.text)))
                if len(stems & content_stems(best.text)) > 0:
                    start, end = best.start, best.end
        document = self.retriever.index.documents[e.source]
        return Citation(
            marker=marker,
            source=e.source,
            start=start,
            end=end,
            quote=document.text[start:end],
            speaker=e.speaker,
            section=e.section,
            paragraph=e.paragraph,
            page=document.page_at(start),
        )

    # -- answer modes ----------------------------------------------------

    def quoted(self, e: Evidence) -> str:
        """Evidence as an answer shows it: its sentences verbatim, each with
        its speaker named only where it is their speech and the text does not
        already name them (narration is shown plainly)."""
        passages = self._passages(e)
        if not passages:
            return " ".join(e.text.split())
        out, previous = [], None
        for p in passages:
            text = " ".join(p.text.split())
            # A quotation that goes on from the same speaker's sentence just
            # before it reads as theirs already: no second "NAME said:".
            continues = previous is not None and previous.speaker == p.speaker and previous.quoted
            out.append(text if continues else speaker_named(text, p.speaker, p.quoted))
            previous = p
        return " ".join(out)


    def best_evidence(self, question: str, retrieval: Retrieval) -> list[Evidence]:
        """The evidence an answer must rest on: the best item that has what the
        question asks for (the named person's words, a date for "when", a
        number for "how many"), and a second item when the question has two
        parts or the same voice continues."""
        # Evidence that gives the assistant orders (an injected instruction)
        # may be shown as what a document says, but never becomes the answer,
        # not even quoted: an extractive answer would repeat the instruction.
        evidence = [e for e in retrieval.evidence if not has_instructions(e.text)] or list(retrieval.evidence)
        detail = expected_detail(question)
        for wanted in (
            lambda e: e.speaker in retrieval.speakers,
            lambda e: detail is not None and detail.search(e.text),
        ):
            match = next((e for e in evidence if wanted(e)), None)
            if match is not None and match is not evidence[0]:
                evidence.remove(match)
                evidence.insert(0, match)
        chosen = [evidence[0]]
        if two_part(question):
            # "Why X, and what did Y say?": the second part needs other evidence.
            other = next((e for e in evidence[1:] if (e.source, e.paragraph) != (chosen[0].source, chosen[0].paragraph)), None)
            if other is not None:
                chosen.append(other)
        elif len(evidence) > 1 and evidence[1].score >= self.settings.answer.close_second_ratio * evidence[0].score:
            # A close second joins only when it continues the same voice:
            # another quotation of the same speaker, or narration after narration.
            if evidence[1].speaker == evidence[0].speaker:
                chosen.append(evidence[1])
        return chosen

    def _answer(self, question, text, citations, retrieval: Retrieval, mode, t0, first_token_s,
                notice=None, resolved=None, draft: Optional[Draft] = None) -> Answer:
        return Answer(
            question=question,
            text=text,
            citations=tuple(citations),
            evidence=retrieval.evidence,
            mode=mode,
            timings=Timings(retrieval.seconds, first_token_s, time.perf_counter() - t0),
            settings_hash=self.settings.hash(),
            notice=notice,
            resolved_question=resolved,
            draft=draft,
        )

    def extractive(self, question: str, retrieval: Retrieval, t0: float, first_token_s, notice,
                   resolved: Optional[str] = None, draft: Optional[Draft] = None) -> Answer:
        """Quote the best evidence, each item with its speaker."""
        chosen = self.best_evidence(resolved or question, retrieval)
        parts, citations = [], []
        for n, e in enumerate(chosen, 1):
            parts.append(f"{self.quoted(e)} [{n}]")
            citations.append(self._citation(n, e))
        return self._answer(question, " ".join(parts), citations, retrieval, "extractive", t0,
                            first_token_s, notice, resolved, draft)

    def llm_evidence(self, best: list[Evidence], retrieval: Retrieval) -> list[Evidence]:
        """What the LLM is shown: the best evidence first, then the rest in
        rank order, as far as the prompt budget goes (at least one item)."""
        budget = self.settings.answer.llm_evidence_tokens
        ordered = best + [e for e in retrieval.evidence if e not in best]
        # The model never reads an injected instruction: a small model obeys
        # what it reads, and verification alone would only catch it afterwards.
        ordered = [e for e in ordered if not has_instructions(e.text)] or ordered
        chosen, spent = [], 0
        for e in ordered:
            cost = estimate_tokens(e.text) + self.settings.answer.evidence_line_tokens
            if chosen and spent + cost > budget:
                break
            chosen.append(e)
            spent += cost
        return chosen

    def verify(self, generated: str, shown: list[Evidence],
               referent: Optional[str] = None) -> tuple[str, list[Citation]]:
        """Keep the supported sentences of a generated answer, with renumbered citations.

        ``referent`` is the person the question asks about: a sentence that
        opens with "He said …" speaks of them until a kept sentence names
        another speaker, and must cite that person's words.
        """
        kept: list[str] = []
        citations: list[Citation] = []
        numbering: dict[tuple[int, int, int], int] = {}
        for claim, cited in claims_of(generated, len(shown)):
            check = self.settings.verify
            if cited and not supports(claim, [shown[n - 1] for n in cited], check, referent):
                # Try each cited item alone: a sentence may over-cite.
                cited = [n for n in cited if supports(claim, [shown[n - 1]], check, referent)]
            if not cited:
                cited = [n for n in range(1, len(shown) + 1)
                         if supports(claim, [shown[n - 1]], check, referent)][:1]
            if not cited:
                continue
            attribution = attributed_to(claim, referent)
            if attribution and attribution[0]:
                # Later pronouns refer to the speaker this sentence named.
                referent = next((shown[n - 1].speaker for n in cited if shown[n - 1].speaker
                                 and same_person(attribution[0], shown[n - 1].speaker)), referent)
            marks = []
            for n in cited:
                citation = self._citation(0, shown[n - 1], claim)
                key = (hash(citation.source), citation.start, citation.end)
                if key not in numbering:
                    numbering[key] = len(numbering) + 1
                    citations.append(Citation(**{**citation.__dict__, "marker": numbering[key]}))
                marks.append(numbering[key])
            body = claim if claim.endswith((".", "!", "?", '"')) else claim + "."
            if body.count('"') % 2:
                # The model opened a verbatim quotation (checked by ``supports``)
                # and forgot to close it.
                body = body + '"' if body.endswith((".", "!", "?")) else body
            kept.append(body + " " + "".join(f"[{m}]" for m in marks))
        return " ".join(kept), citations

    def complete_with_quotes(self, text: str, citations: list[Citation], best: list[Evidence]):
        """Append, quoted and cited, the best evidence the generated answer left
        out (a small model often answers from one of two sentences that belong
        together). Quotes are verbatim, so nothing unverified is added."""
        citations = list(citations)
        for e in best:
            if any(c.source == e.source and c.start < e.end and c.end > e.start for c in citations):
                continue
            n = len(citations) + 1
            citation = self._citation(n, e)
            citations.append(citation)
            text += f" {self.quoted(e)} [{n}]"
        return text, citations

    @staticmethod
    def answers_the_question(question: str, text: str, citations, best: list[Evidence]) -> bool:
        """Verified sentences can still miss the point. The answer must rest on
        the best evidence (cite it); a "who" question must be answered with the
        speaker of the cited words; a "when"/"how many" question with a
        date/number (and the thing counted)."""
        if not any(c.source == b.source and c.start < b.end and c.end > b.start for c in citations for b in best):
            return False
        if re.match(r"\s*(who|whom)\b", question, re.I):
            speakers = {c.speaker for c in citations if c.speaker}
            if not speakers or not any(s.split()[-1] in text for s in speakers):
                return False
        detail = expected_detail(question)
        if detail is not None and not detail.search(strip_markers(text)):
            return False
        counted = counted_noun(question)
        if counted and content_stems(counted) and not content_stems(counted) & content_stems(text):
            return False
        return True

    def off_topic(self, question: str, retrieval: Retrieval) -> Optional[str]:
        """The refusal for "What did X say about T?" when nothing X said is about T.

        X's words are every sentence the documents attribute to X (not only
        the retrieved ones). One that shares a content word with T, or sits
        under a section heading that does, is about T; failing that, the
        closest of them in meaning must reach ``verify.min_topic_similarity``.
        Without this, the answer would quote X on something else.
        """
        topic = said_about(question)
        if not topic or len(retrieval.speakers) != 1:
            return None
        speaker = retrieval.speakers[0]
        stems = content_stems(topic) - content_stems(speaker)
        theirs = self.retriever.index.passages_by(speaker)
        if not stems or not theirs:
            return None
        if any(stems & content_stems(f"{p.text} {p.section or ''}") for p in theirs):
            return None
        import numpy as np

        vectors = np.asarray(self.retriever.index.embed_model.embed_batch([topic] + [p.text for p in theirs]),
                             dtype="float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        if float((vectors[1:] @ vectors[0]).max()) >= self.settings.verify.min_topic_similarity:
            return None
        return prompts.REFUSE_OFF_TOPIC.format(name=speaker, topic=topic)

    # -- which documents a question is about ---------------------------------

    def _document_facts(self) -> dict[str, CorpusFacts]:
        if self._doc_facts is None:
            docs = self.retriever.index.documents
            self._doc_facts = {src: CorpusFacts.from_texts([d.text], (), ()) for src, d in docs.items()}
        return self._doc_facts

    def scoped(self, question: str, retrieval: Retrieval) -> Retrieval:
        """Retrieval kept to the documents that mention every name the
        question uses: "What will Dunmore Falls pay its drivers?" is about the
        documents that mention Dunmore Falls, and a wage quoted in another
        document is not its answer. Unchanged when no document mentions them
        all (the question may join two documents) or the corpus is one document."""
        names = [n for n in names_in(question) if self.facts.knows(n)]
        docs = self._document_facts()
        if not names or len(docs) < 2:
            return retrieval
        about = {src for src, facts in docs.items() if all(facts.knows(n) for n in names)}
        if not about:
            return retrieval
        kept = tuple(e for e in retrieval.evidence if e.source in about)
        return retrieval if len(kept) == len(retrieval.evidence) else replace(retrieval, evidence=kept)

    # -- questions about the document itself -------------------------------

    def document_passages(self, source: str) -> tuple[list[Passage], list[Passage]]:
        """A document's front matter (everything before its third body
        paragraph: masthead, title, byline, dateline, lead) and its last
        three passages (a colophon or contact line), in document order."""
        mine = self.retriever.index.passages_of(source)
        front = []
        for p in mine:
            if p.kind == "sentence" and p.paragraph > 2:
                break
            front.append(p)
        return front, mine[-3:]

    def about_document(self, question: str, retrieval: Retrieval, facets: tuple[str, ...], t0: float,
                       resolved: Optional[str] = None) -> Optional[Answer]:
        """Answer "who wrote / when was … published / who issued …" from the
        byline, dateline, masthead and title of the document the question is
        about (the source of the best evidence), each part cited to its line.
        None when a part has no such line: the question then goes the usual way."""
        if not retrieval.evidence:
            return None
        front, colophon = self.document_passages(retrieval.evidence[0].source)
        chosen: list[Passage] = []
        for facet in facets:
            found = _FACET_PICKERS[facet](question, front, colophon)
            if found is None:
                return None
            if found not in chosen:
                chosen.append(found)
        document = self.retriever.index.documents[chosen[0].source]
        text = document.text
        parts, citations = [], []
        for n, p in enumerate(chosen, 1):
            parts.append(f"{' '.join(p.text.split())} [{n}]")
            citations.append(Citation(marker=n, source=p.source, start=p.start, end=p.end, quote=text[p.start:p.end],
                                      speaker=None, section=p.section, paragraph=p.paragraph,
                                      page=document.page_at(p.start)))
        return self._answer(question, " ".join(parts), citations, retrieval, "extractive", t0, None, None, resolved)

    # -- the pipeline ------------------------------------------------------

    def stream(self, question: str, retrieval_query: Optional[str] = None,
               resolved: Optional[str] = None) -> Iterator[Union[str, Answer]]:
        """Yield generated text deltas, then the final verified ``Answer``."""
        t0 = time.perf_counter()
        question = check_question(question, self.settings.answer.max_question_chars)
        query = retrieval_query or question
        retrieval = self.scoped(query, self.retriever.retrieve(query))
        facets = document_facets(query)
        if facets:
            answer = self.about_document(question, retrieval, facets, t0, resolved)
            if answer is not None:
                yield answer
                return
        reason = refusal_reason(
            query, retrieval.evidence, self.facts, retrieval.best_dense, self.settings.answer.min_dense_score,
            retrieval.best_lexical, self.settings.answer.min_lexical_score, self.settings.verify,
        )
        reason = reason or self.off_topic(query, retrieval)
        if reason:
            yield self._answer(question, reason, (), retrieval, "refused", t0, None, None, resolved)
            return
        if self.llm is None:
            yield self.extractive(question, retrieval, t0, None, None, resolved)
            return
        best = self.best_evidence(query, retrieval)
        shown = self.llm_evidence(best, retrieval)
        from llama_index.core.llms import ChatMessage

        messages = [
            ChatMessage(role="system", content=prompts.SYSTEM_PROMPT),
            ChatMessage(role="user", content=prompts.USER_PROMPT.format(
                evidence=render_evidence(shown), question=query)),
        ]
        generated, first = [], None
        try:
            for chunk in self.llm.stream_chat(messages):
                delta = chunk.delta or ""
                if delta:
                    if first is None:
                        first = time.perf_counter() - t0
                    generated.append(delta)
                    yield delta
        except LLMError as exc:
            notice = prompts.NOTICE_LLM_UNAVAILABLE.format(error=exc)
            yield self.extractive(question, retrieval, t0, first, notice, resolved)
            return
        # The question's one named speaker is who "he"/"she" in the answer means.
        referent = retrieval.speakers[0] if len(retrieval.speakers) == 1 else None
        draft = Draft("".join(generated), tuple(shown), referent)
        text, citations = self.verify(draft.text, shown, referent)
        if citations and not self.answers_the_question(query, text, citations, best):
            text, citations = "", []
        if citations:
            text, citations = self.complete_with_quotes(text, citations, best)
        if not citations:
            yield self.extractive(question, retrieval, t0, first, prompts.NOTICE_EXTRACTIVE, resolved, draft)
            return
        yield self._answer(question, text, citations, retrieval, "generated", t0, first, None, resolved, draft)

_DATE = re.compile(rf"\b{MONTHS}\.? \d{{1,2}}\b|\b\d{{1,2}} {MONTHS}\b|\b{MONTHS}\.? (?:19|20)\d\d\b|\b(?:19|20)\d\d-\d\d-\d\d\b")
_AUTHOR_LINE = re.compile(r"^\W*(?:By|Authors?|Written by|Reported by|Interview by)\b|\b(?:presenter|host|interviewer|correspondent)\b",
                          re.I)
_PUBLISHER_LINE = re.compile(r"\b(?:published|produced|issued|released|distributed) by\b|\bpublisher\b", re.I)
# The verbs a date question names and their stems ("When was it recorded?").
_DATE_VERBS = re.compile(r"\b(publish|broadcast|record|issu|releas|air|writ|post|date)", re.I)


def _pick_author(question: str, front: list[Passage], colophon: list[Passage]) -> Optional[Passage]:
    lines = [p for p in front if p.kind == "byline"] + [p for p in front + colophon if _AUTHOR_LINE.search(p.text)]
    return lines[0] if lines else None


def _pick_date(question: str, front: list[Passage], colophon: list[Passage]) -> Optional[Passage]:
    dated = [p for p in front if _DATE.search(p.text)]
    if not dated:
        return None
    verbs = {m.group(1).lower() for m in _DATE_VERBS.finditer(question)}
    # A line that names the event asked about ("recorded … on February 9")
    # beats the first date on the page.
    named = [p for p in dated if any(v in p.text.lower() for v in verbs)]
    return (named or [p for p in dated if p.kind != "sentence"] or dated)[0]


def _pick_publisher(question: str, front: list[Passage], colophon: list[Passage]) -> Optional[Passage]:
    lines = [p for p in front + colophon if _PUBLISHER_LINE.search(p.text)]
    lines += [p for p in front if p.kind == "dateline" and "(" in p.text]
    # Otherwise the masthead: the document's first line, when it is not prose.
    lines += [p for p in front[:1] if p.kind != "sentence" and not _DATE.fullmatch(p.text.strip())]
    return lines[0] if lines else None


def _pick_title(question: str, front: list[Passage], colophon: list[Passage]) -> Optional[Passage]:
    lines = [p for p in front if p.kind in ("title", "heading") and not _DATE.search(p.text)]
    lines += [p for p in front if p.kind == "sentence" and p.paragraph == 1 and not p.text.rstrip().endswith(".")]
    return lines[0] if lines else None


_FACET_PICKERS = {"author": _pick_author, "date": _pick_date, "publisher": _pick_publisher, "title": _pick_title}


_PRONOUN_SPEECH = re.compile(
    r"\b(?P<pronoun>[Hh]e|[Ss]he)\s+(?=(?:also\s+|later\s+|then\s+)?(?:said|says|told|tells|added|adds|wrote|"
    r"writes|warned|noted|argued|explained|insisted|stated|claimed|asked)\b)"
    r"|\b(?:said|says)\s+(?P<after>he|she)\b"
)


def speaker_named(text: str, speaker: Optional[str], quoted: bool) -> str:
    """A sentence with its speaker named: the text as it stands when it names
    them; its "he said"/"she said" (outside quotation marks) turned into the
    name; a bare quotation prefixed with "NAME said:". Narration (no speaker)
    and reported speech that names its speaker are left alone.

    Example: ``speaker_named('"No reset," he said.', "Dmitry Suslov", True)``
    -> ``'"No reset," Dmitry Suslov said.'``
    """
    if not speaker:
        return text
    outside = QUOTATION.sub(" ", text)
    if any(re.search(rf"\b{re.escape(w)}\b", outside) for w in speaker.split() if w[:1].isupper() and len(w) > 2):
        return text
    inside = [(m.start(), m.end()) for m in QUOTATION.finditer(text)]
    if _OWN_ATTRIBUTION.search(text) and not _PRONOUN_SPEECH.search(text):
        return text  # '"…," the report said.': the sentence says whose words they are
    for m in _PRONOUN_SPEECH.finditer(text):
        group = "pronoun" if m.group("pronoun") else "after"
        at = m.start(group)
        if any(a <= at < b for a, b in inside):
            continue  # a "he said" inside someone's quotation is theirs, not the frame's
        return text[:at] + speaker + text[m.end(group):]
    if quoted and text[:1] in '"\u201c':
        return f"{speaker} said: {text}"
    return text


# A speech verb after a closing quotation mark: '"…," the report said', '"…," a spokesman told RFE/RL'.
_OWN_ATTRIBUTION = re.compile(r"[\"\u201d]\s*,?\s*(?:[\w.'-]+\s+){1,4}(?:said|says|told|wrote|added)\b")
_META_PREFIX = re.compile(r"^(?:the answer(?: to (?:this|the) question)? is:?|answer:|the source (?:that )?(?:says|wrote):?)\s*", re.I)
# Statements about the sources rather than answers from them.
_META_CLAIM = re.compile(r"\b(is|are) (not provided|not mentioned|mentioned in the text|not given)\b|\bthe (text|source|sources|article) (does|do) not\b", re.I)

