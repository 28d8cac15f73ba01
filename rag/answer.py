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
from rag.retrieve import Retrieval, Retriever, estimate_tokens, evidence_of
from rag.settings import Settings
from rag.types import Answer, Citation, Draft, Evidence, Passage, Timings
from rag.parse import LOWER, UPPER, is_boilerplate, is_item_line, split_answer_sentences
from rag.question import MONTHS, QUOTATION, CorpusFacts, asked_details, asks_for_people, asks_for_speakers, asks_time_between, dates_in, counted_noun, document_facets, document_phrases, expected_detail, is_yes_no, \
    list_size, question_parts, said_about
from rag.verify import attributed_to, content_stems, counted_in, counts, echoes_the_question, focus_stems, has_instructions, names_in, \
    refusal_reason, same_person, supports

# Letter classes: rag.parse.UPPER and LOWER (Latin-1 and Latin Extended-A letters beside A-Z/a-z).

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


_RECITED = re.compile(r"(?m)^\s*\[\d+\]\s+\S")  # a line of the prompt's evidence list: "[2] Ann Lee: …"


def claims_of(generated: str, shown: int) -> list[tuple[str, list[int]]]:
    """The claims of a generated answer: each sentence without its markers,
    with the markers it cites (only those numbering one of ``shown`` items).

    Chatter carries no claim and is left out: a preface ("The answer is:"),
    statements about the sources ("… is not mentioned in the text"), the
    model's own no-answer phrases, and repeated sentences.

    Example: ``claims_of("The answer is: Talks failed [2]. Talks failed [2].", 3)``
    -> ``[("Talks failed.", [2])]``
    """
    if len(_RECITED.findall(generated)) >= 2:
        # "The sources are:\n[1] Ann Lee: …\n[2] …": the model copied its
        # numbered evidence. Each line is verbatim, so each would verify, but
        # the draft chose nothing and answers nothing.
        return []
    claims, seen = [], set()
    for sentence in split_answer_sentences(generated):
        claim = _META_PREFIX.sub("", strip_markers(sentence)).strip()
        leadin = _META_LEADIN.match(claim)
        if leadin and not _REPORTING.search(leadin.group(0)):
            # (not "The question of sanctions, Sullivan said:", which reports)
            claim = claim[leadin.end():].strip()
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
        self._doc_stems: Optional[dict[str, set[str]]] = None  # likewise
        self._turns: dict[str, bool] = {}  # source -> has transcript turns

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
        header = self._table_header(passages[0]) if len(passages) == 1 else None
        # A header is shown but not cited: one that reads like a citation
        # marker ("| [99] |") would put an uncited "[99]" in the answer.
        if header and not markers_of(" ".join(header)):
            # A table row means nothing without its header: "| Mooser | 18.9 |"
            # reads as "Stream: Mooser; 2020 average (mg/l): 18.9".
            cells = _cells(passages[0].text)
            return "; ".join(f"{h}: {c}" if h else c for h, c in zip(header + [""] * len(cells), cells)) + "."
        turn = self._turn_speaker(passages[0])
        if turn and any(q.speaker == turn for q in passages):
            # A transcript turn is its speaker's words, quotations of others
            # inside it included: "MERESKY: Three things. …" (or a sentence
            # from the middle of that turn) reads as
            # 'Anton Meresky said: "Three things. …"'.
            words = " ".join(_TURN_LABEL.sub("", e.text, count=1).split())
            return f"{turn} said: \u201c{words}\u201d"
        out, previous = [], None
        for p in passages:
            # Someone else's words inside a turn ("CALLOWAY: The minister,
            # Paul Drennan, told Parliament …") are theirs: no label.
            text = " ".join((_TURN_LABEL.sub("", p.text, count=1) if turn else p.text).split())
            # A quotation that goes on from the same speaker's sentence just
            # before it reads as theirs already: no second "NAME said:".
            continues = previous is not None and previous.speaker == p.speaker and previous.quoted
            out.append(text if continues else speaker_named(text, p.speaker, p.quoted))
            previous = p
        return " ".join(out)


    def _document_of(self, pids) -> tuple[list[Passage], list[int]]:
        """The passages of the document the passages ``pids`` belong to, in
        document order, and the positions of ``pids`` among them (on either
        backend: FAISS slices its in-memory list, Milvus reads the document)."""
        index = self.retriever.index
        pids = list(pids)
        if index.in_memory:
            positions = [index.by_id[pid] for pid in pids if pid in index.by_id]
            if not positions:
                return [], []
            source = index.passages[positions[0]].source
            a, b = min(positions), max(positions)
            while a > 0 and index.passages[a - 1].source == source:
                a -= 1
            while b + 1 < len(index.passages) and index.passages[b + 1].source == source:
                b += 1
            return index.passages[a: b + 1], [pos - a for pos in positions]
        first = index.passage(pids[0]) if pids else None
        if first is None:
            return [], []
        doc = index.passages_of(first.source)
        where = {q.id: i for i, q in enumerate(doc)}
        return doc, [where[pid] for pid in pids if pid in where]

    def _has_turns(self, source: str) -> bool:
        """Whether a document has transcript turns (a line opening with
        "NAME: "): only then is it worth reading its passages for them."""
        if source not in self._turns:
            self._turns[source] = bool(_TURN_LINE.search(self.retriever.index.text_of(source)))
        return self._turns[source]

    def _table_header(self, p: Passage) -> Optional[list[str]]:
        """The header cells of the Markdown table row ``p``, or None when
        ``p`` is not a row under a header (the row above a ``| --- |`` line)."""
        if not _TABLE_ROW.match(p.text):
            return None
        passages, at = self._document_of([p.id])
        if not at:
            return None
        pos = at[0]
        while pos > 0 and _TABLE_ROW.match(passages[pos - 1].text):
            pos -= 1
            if _TABLE_RULE.match(passages[pos].text):
                if pos == 0 or not _TABLE_ROW.match(passages[pos - 1].text) or passages[pos - 1].id == p.id:
                    return None
                return _cells(passages[pos - 1].text)
        return None

    def header_of(self, e: Evidence) -> str:
        """The header row of the table ``e`` is a row of, or ""."""
        passages = self._passages(e)
        header = self._table_header(passages[0]) if passages else None
        return " | ".join(header or [])

    def _is_table_header(self, e: Evidence) -> bool:
        """Whether ``e`` is a table's header row or the rule under it."""
        if not _TABLE_ROW.match(e.text):
            return False
        if _TABLE_RULE.match(e.text):
            return True
        passages, at = self._document_of(e.passage_ids)
        if not at or max(at) + 1 >= len(passages):
            return False
        return bool(_TABLE_RULE.match(passages[max(at) + 1].text))

    def _turn_speaker(self, p: Passage) -> Optional[str]:
        """The speaker of the transcript turn ``p`` is part of (its paragraph
        opens with a speaker label), or None outside transcripts."""
        if not self._has_turns(p.source):
            return None
        passages, at = self._document_of([p.id])
        if not at:
            return None
        pos = at[0]
        while pos > 0 and passages[pos - 1].paragraph == p.paragraph:
            pos -= 1
        label = _TURN_LABEL.match(passages[pos].text)
        if not label:
            return None
        # The label's person, not the first sentence's speaker: in
        # "CALLOWAY: The minister, Paul Drennan, told Parliament …" the
        # sentence reports Drennan, and the turn is still Calloway's.
        words = label.group(0).rstrip(": \t").split()
        for person in self.retriever.people.people:
            if person.is_person and person.name.split()[-1].lower() == words[-1].lower():
                return person.name
        return passages[pos].speaker

    # -- which evidence answers ------------------------------------------

    def _run(self, passages: list[Passage], first: int, last: int, score: float) -> Evidence:
        """Evidence for ``passages[first..last]`` (one document's passages)."""
        run = passages[first: last + 1]
        return evidence_of(run, self.retriever.index.text_of(run[0].source), score)

    def answering_turn(self, e: Evidence, asked: tuple[str, ...] = ()) -> Evidence:
        """In a transcript, the turn that answers what ``e`` points at.

        A question the interviewer asks ("CALLOWAY: So what are you asking
        for?") is where the answer is found, not the answer: the next turn
        is; so is the next turn when it is by the person the question asks
        about (``asked``) and this one is not. A turn that opens with a short
        announcement ("MERESKY: Three things.") goes on to say them: the
        whole turn is the evidence. A turn is a paragraph that opens with a
        speaker label ("NAME:"). Other evidence is returned unchanged.
        """
        if not self._has_turns(e.source):
            return e
        passages, ids = self._document_of(e.passage_ids)
        if not ids:
            return e
        first, last = min(ids), max(ids)

        def paragraph_span(pos: int) -> tuple[int, int]:
            a = b = pos
            while a > 0 and passages[a - 1].paragraph == passages[pos].paragraph:
                a -= 1
            while b + 1 < len(passages) and passages[b + 1].paragraph == passages[pos].paragraph:
                b += 1
            return a, b

        a, b = paragraph_span(first)
        if not _TURN_LABEL.match(passages[a].text):
            return e
        limit = self.settings.answer.max_turn_chars
        follows = b + 1 < len(passages) and bool(_TURN_LABEL.match(passages[b + 1].text))
        replied = follows and bool(asked) and e.speaker not in asked and passages[b + 1].speaker in asked
        if follows and (replied or (e.text.rstrip().endswith("?") and last == b)):
            na, nb = paragraph_span(b + 1)
            while nb > na and passages[nb].end - passages[na].start > limit:
                nb -= 1
            return self._run(passages, na, nb, e.score)
        if first == a and last < b and len(_TURN_LABEL.sub("", e.text).strip()) < self.settings.retrieval.min_standalone_chars:
            while b > last and passages[b].end - passages[a].start > limit:
                b -= 1
            return self._run(passages, a, b, e.score)
        return e

    def with_turns(self, retrieval: Retrieval) -> Retrieval:
        """Retrieval with each item replaced by ``answering_turn``; an item
        that a longer one now contains is merged into it (kept at the better
        rank), so a turn is never shown twice."""
        items: list[Evidence] = []
        for e in (self.answering_turn(e, retrieval.speakers) for e in retrieval.evidence):
            inside = [i for i, t in enumerate(items) if t.source == e.source and t.start < e.end and e.start < t.end]
            if not inside:
                items.append(e)
            elif all(e.start <= items[i].start and items[i].end <= e.end for i in inside):
                items[inside[0]] = replace(e, score=items[inside[0]].score)
                for i in reversed(inside[1:]):
                    del items[i]
        items_t = tuple(items)
        return retrieval if items_t == retrieval.evidence else replace(retrieval, evidence=items_t)

    def _ranked(self, question: str, retrieval: Retrieval, lead: Optional[Evidence] = None) -> list[Evidence]:
        """Retrieval's evidence in the order an answer takes it: instructions
        left out, the named person's words first, and before them an item
        with the detail the question asks for; before all, ``lead`` (a
        draft's choice of source) when it has both."""
        # Evidence that gives the assistant orders (an injected instruction)
        # may be shown as what a document says, but never becomes the answer,
        # not even quoted: an extractive answer would repeat the instruction.
        evidence = [e for e in retrieval.evidence if not has_instructions(e.text)] or list(retrieval.evidence)
        # A copyright line or a row of links answers nothing a page reports.
        evidence = [e for e in evidence if not is_boilerplate(e.text)] or evidence
        # A correction ("An earlier version of this column said … 321,000")
        # repeats the figure that was wrong: it answers only a question about
        # the correction.
        if not _ABOUT_CORRECTION.search(question):
            evidence = [e for e in evidence if not _RETRACTED.search(e.text)] or evidence
        # A table's header row names columns and answers nothing by itself
        # (its rows are shown with it: ``quoted``).
        evidence = [e for e in evidence if not self._is_table_header(e)] or evidence
        # Retrieval's order stands otherwise: ranking items by the share of
        # the question's focus words they contain lost paraphrased questions
        # on the dev split (72.6% -> 70.9% key facts at the lightest weight tried).
        detail = expected_detail(question)
        focus = focus_stems(question)
        years = set(_YEAR.findall(question))

        def holds(e: Evidence) -> tuple[int, int]:
            # The year asked about first ("How many drivers in 2022?" wants
            # the 2022 row), then the question's focus words, a table row's
            # header included ("| 2022 | … | 266 |" under "Drivers").
            seen = f"{e.speaker or ''} {e.text} {self.header_of(e)}"
            return bool(years & set(_YEAR.findall(e.text))), len(focus & content_stems(seen))

        held = {e: holds(e) for e in evidence}  # once: a table row's header is a lookup

        for wanted in (
            lambda e: e.speaker in retrieval.speakers,
            lambda e: detail is not None and detail.search(e.text),
        ):
            # The first match, unless a later one holds more of what the
            # question is about (``max`` keeps the first of equals): "How
            # many people have fled…" wants the number beside the fighting,
            # not the first year in the evidence.
            match = max((e for e in evidence if wanted(e)), default=None, key=held.__getitem__)
            if match is not None and match is not evidence[0]:
                evidence.remove(match)
                evidence.insert(0, match)
        # An unverified draft's first source (``drafts_choice``) leads when it
        # has what the question needs.
        if lead is not None and lead in evidence and lead is not evidence[0] \
                and (not retrieval.speakers or lead.speaker in retrieval.speakers) \
                and (detail is None or detail.search(lead.text)):
            evidence.remove(lead)
            evidence.insert(0, lead)
        return evidence

    def _part_evidence(self, parts: list[str]) -> list[Evidence]:
        """The best item for each part of a two-part question, each part
        retrieved on its own. A pronoun in the second part ("how did he
        describe…", "what did X say about it?") stands for what the first
        part names, so the first part's names and focus words join its query."""
        found: list[Evidence] = []
        for k, part in enumerate(parts):
            query = part
            if k and re.search(r"\b(he|she|they|him|her|them|his|its|it|this|that)\b", part, re.I):
                context = " ".join(sorted(names_in(parts[0]))) + " " + " ".join(sorted(focus_stems(parts[0])))
                query = f"{part} {context}".strip()
            retrieval = self.with_turns(self.scoped(query, self.retriever.retrieve(query)))
            ranked = self._ranked(part, retrieval) if retrieval.evidence else []
            if found:
                # One question, one document: a later part answered from
                # another document would join two unrelated stories.
                ranked = [e for e in ranked if e.source == found[0].source]
            if ranked and not any(f.source == ranked[0].source and f.start < ranked[0].end and ranked[0].start < f.end
                                  for f in found):
                found.append(ranked[0])
        return found

    def _two_dates(self, question: str, evidence: list[Evidence]) -> list[Evidence]:
        """For "How long after A did B happen?": the best item with a date,
        and, unless it has two, the next of the best few from its document
        with another date and a focus word of the question (not a date of
        something else), in document order. Empty when there is no such pair."""
        focus = focus_stems(question)
        top = evidence[: self.settings.answer.list_lead_depth]
        first = next((e for e in top if dates_in(e.text)), None)
        if first is None:
            return []
        if len(dates_in(first.text)) >= 2:
            return [first]
        second = next((e for e in top if e is not first and e.source == first.source
                       and dates_in(e.text) - dates_in(first.text) and focus & content_stems(e.text)), None)
        return sorted([first, second], key=lambda e: e.start) if second else []

    def best_evidence(self, question: str, retrieval: Retrieval, lead: Optional[Evidence] = None) -> list[Evidence]:
        """The evidence an answer must rest on, best first.

        In a transcript, an interviewer's question stands for the turn that
        answers it (``with_turns``). The named person's words come first, and
        before them an item with the detail the question asks for (a date for
        "when", a number for "how many"); otherwise retrieval's order.

        One item answers most questions. A question with two parts gets the
        best item for each part, each part retrieved on its own. A list
        question ("which routes…", "what three things…") gets further items
        from the same document while each contains about as many of the
        question's focus words as the best item (each word weighted by how
        few items contain it), up to the number asked for
        (``answer.max_list_items`` for a bare plural). An item that has the
        kind of thing the question asks for (``answers_alone``: the date for
        "when", a speaker for "who") and as many of its focus words as the
        next stands alone. Otherwise a close second joins only when it
        continues the same speaker's words, or is narration after narration
        that contains a focus word.
        """
        evidence = self._ranked(question, retrieval, lead)
        if not evidence:
            return []
        focus = focus_stems(question)
        stems = [content_stems(f"{e.speaker or ''} {e.text}") for e in evidence]
        weight = {w: 1.0 / sum(1 for s in stems if w in s) for w in focus if any(w in s for s in stems)}
        total = float(len(focus)) or 1.0

        def covered(i: int) -> float:
            return sum(weight.get(w, 0.0) for w in focus if w in stems[i]) / total

        asking = next((e for e in evidence[: self.settings.answer.complement_depth + 1] if _ASKING.search(e.text)),
                      None) if asks_for_reply(question) else None
        if asking is not None:
            # "What did the Superintendent answer her?": the sentence that
            # asks (one of the best few) is where the answer is found, and
            # the reply follows it.
            return [self.with_reply(asking)]
        parts = question_parts(question)
        if len(parts) > 1:
            found = self._part_evidence(parts)
            if len(found) > 1:
                return found
        if asks_time_between(question):
            items = self._two_dates(question, evidence)
            if items:
                return items
        chosen = [0]
        wanted_items = list_size(question)
        # "Which experts doubt a reset?" lists people by what they said: each
        # item is someone's words, one item a person.
        voices = wanted_items is not None and asks_for_speakers(question)
        if voices:
            first = next((i for i, e in enumerate(evidence) if e.speaker), None)
            voices = first is not None
            if voices:
                chosen = [first]
        if wanted_items is not None and not voices and asks_for_people(question):
            items = self._named_people(question, evidence, wanted_items)
            if items:
                return items
        if wanted_items is not None and not voices:
            items = self._table_rows(evidence, focus, wanted_items)
            if items:
                return items
        if wanted_items is not None and not voices:
            items = self._section_items(evidence, focus, wanted_items)
            if items:
                return items
        if wanted_items is not None and not voices:
            # A list is drawn from one document: the one of the best few
            # items that holds most of what the list is of leads it ("Which
            # two changes to the service would the cooperative make to absorb
            # the cut?" is not led by "Doctors say the rationing is changing…").
            top = range(min(len(evidence), self.settings.answer.list_lead_depth))
            best = max(top, key=covered)
            if covered(best) > covered(0):
                chosen = [best]
        if wanted_items is not None:
            limit = wanted_items or self.settings.answer.max_list_items
            lead = evidence[chosen[0]]
            for i in range(len(evidence)):
                if len(chosen) >= limit:
                    break
                e = evidence[i]
                if i in chosen or e.source != lead.source or any(
                        (e.paragraph, e.speaker) == (evidence[j].paragraph, evidence[j].speaker) for j in chosen):
                    continue
                if voices and (not e.speaker or any(e.speaker == evidence[j].speaker for j in chosen)):
                    continue
                # Every item of a list is about what the list is of, about as
                # much as the best item is.
                if focus and not (covered(i) > 0 and covered(i) >= self.settings.answer.list_item_focus * covered(chosen[0])):
                    continue
                chosen.append(i)
        elif len(parts) > 1:
            # The parts found one item between them: "Why X, and what did Y
            # say?" still needs other evidence for its second part.
            other = next((i for i in range(1, len(evidence))
                          if evidence[i].source == evidence[0].source and evidence[i].paragraph != evidence[0].paragraph),
                         None)
            if other is not None:
                chosen.append(other)
        elif len(evidence) > 1 and not (covered(0) > 0 and covered(0) >= covered(1)
                                        and answers_alone(question, evidence[0])):
            # (An item that has what the question asks for, and as much of
            # its focus as the next, is the answer: a second would be read as
            # part of it, and is seldom about the same thing.)
            first, second = evidence[0], evidence[1]
            # A close second joins only when it continues the same voice:
            # another quotation of the same speaker, or narration after
            # narration that is about the question too.
            if second.score >= self.settings.answer.close_second_ratio * first.score and second.speaker == first.speaker \
                    and (second.speaker is not None or not focus or covered(1) > 0):
                chosen.append(1)
            extra = self._complement(evidence, chosen, stems, weight, focus)
            if extra is not None:
                chosen.append(extra)
        if is_yes_no(question) and len(parts) == 1:
            first = self.with_next_sentence(evidence[0])
            return [first] + [evidence[i] for i in chosen[1:]
                              if not (evidence[i].source == first.source and evidence[i].start < first.end
                                      and first.start < evidence[i].end)]
        return [evidence[i] for i in chosen]

    def _named_people(self, question: str, evidence: list[Evidence], wanted: int) -> list[Evidence]:
        """For a list of people ("Which two hydrologists reviewed the
        report?"), the items that name them, each adding someone the ones
        before did not name, until ``wanted`` people are named (at most
        ``answer.max_list_items`` items for a bare plural). A sentence that
        only announces them ("Two hydrologists … reached different
        conclusions.") names nobody; the sentences after it in its paragraph
        are searched first, as that is where such a sentence's people are
        named. A person is someone the documents introduce by full name
        (``CorpusFacts.people``), found by surname; the people the question
        names do not count. Empty when fewer than two people (``wanted``,
        when it is one) are found, and the list is then chosen as before."""
        lead = evidence[0]
        asked = {w.lower() for n in names_in(question) for w in n.split()}
        surnames = {p.split()[-1] for p in self.facts.people} - {w.title() for w in asked}
        candidates = [lead]
        passages, ids = self._document_of(lead.passage_ids)
        if ids:
            last = max(ids)
            for i in range(last + 1, len(passages)):
                if passages[i].paragraph != passages[last].paragraph or passages[i].kind != "sentence":
                    break
                candidates.append(self._run(passages, i, i, lead.score))
        candidates += [e for e in evidence[1:] if e.source == lead.source]
        named: set[str] = set()
        chosen: list[Evidence] = []
        limit = wanted or self.settings.answer.max_list_items
        for e in candidates:
            new = set(re.findall(rf"[{UPPER}][{LOWER}'-]+", e.text)) & surnames - named
            if not new or any(e.start < c.end and c.start < e.end for c in chosen):
                continue
            chosen.append(e)
            named |= new
            if len(named) >= (wanted or limit) or len(chosen) >= limit:
                break
        return chosen if len(named) >= min(2, wanted or 2) else []

    def _table_rows(self, evidence: list[Evidence], focus: set[str], wanted: int) -> list[Evidence]:
        """The rows of a table, for a list question about what its first
        column lists ("Which home types are listed in the grant table?" of a
        table whose first column is "Home type"): the first evidence item
        that is a row of a table whose first header cell shares a focus word
        with the question stands for the whole table, one item a row, up to
        ``wanted`` (at most ``answer.max_section_items`` for a bare plural).
        Empty when no such row was retrieved."""
        for e in evidence:
            passages = self._passages(e)
            header = self._table_header(passages[0]) if passages else None
            if not header or not (focus & content_stems(header[0])):
                continue
            rows, at = self._document_of(e.passage_ids)
            if not at:
                continue
            first = last = min(at)
            while first > 0 and _TABLE_ROW.match(rows[first - 1].text) and not _TABLE_RULE.match(rows[first - 1].text):
                first -= 1
            while last + 1 < len(rows) and _TABLE_ROW.match(rows[last + 1].text):
                last += 1
            items = [self._run(rows, i, i, e.score) for i in range(first, last + 1)]
            return items[: wanted or self.settings.answer.max_section_items]
        return []

    def _section_items(self, evidence: list[Evidence], focus: set[str], wanted: int) -> list[Evidence]:
        """The list items of a section the question names, when a list
        question is about one: "What three measures does the trust
        recommend?" is answered by the items under "Recommendations", and
        "Which actions were assigned?" by those under "6. Actions", where
        retrieval finds the sentence after the list as readily as the items.

        The section is that of one of the best ``answer.complement_depth`` + 1
        items, from the best item's document, whose heading shares a focus
        word with the question and which holds at least two list items
        (paragraphs opening with "- ", "* " or "1."). Up to ``wanted`` items
        are given (all of them, at most ``answer.max_section_items``, for a
        bare plural). Empty when there is no such section."""
        if not focus:
            return []
        first = evidence[0]
        for e in evidence[: self.settings.answer.complement_depth + 1]:
            if e.source != first.source or not e.section or not (focus & content_stems(e.section)):
                continue
            passages, at = self._document_of(e.passage_ids)
            if not at:
                continue
            text = self.retriever.index.text_of(e.source)
            runs: dict[int, list[int]] = {}
            for i, q in enumerate(passages):
                if q.section == e.section and q.kind == "sentence" and q.paragraph:
                    runs.setdefault(q.paragraph, []).append(i)
            items = []
            for paragraph, ids in sorted(runs.items()):
                start = passages[ids[0]].start
                line_start = text.rfind("\n", 0, start) + 1
                line_end = text.find("\n", start)
                if is_item_line(text[line_start: line_end if line_end >= 0 else len(text)]):
                    items.append(self._run(passages, ids[0], ids[-1], e.score))
            if len(items) >= 2:
                return items[: wanted or self.settings.answer.max_section_items]
        return []

    def _complement(self, evidence: list[Evidence], chosen: list[int], stems: list[set[str]],
                    weight: dict[str, float], focus: set[str]) -> Optional[int]:
        """The item that answers the part of the question the best item
        leaves out, if one of the next few does: the question is a set of
        focus words, and an answer should cover as much of it as the
        evidence can. The item must be from the best item's document, score
        at least ``answer.complement_ratio`` of the best score, and add focus
        words the best item lacks, of weight at least
        ``answer.complement_weight`` (a word in one item of the evidence
        weighs 1, in two 0.5: words every item has add nothing).

        "Why do residents want a noise barrier, and what has the company done
        about the noise?" is answered by the residents' request and by the
        company's dampers, two sentences apart."""
        settings = self.settings.answer
        first = evidence[0]
        if not focus or not settings.complement_depth:
            return None
        have = set().union(*(stems[j] for j in chosen))
        for i in range(1, min(settings.complement_depth + 1, len(evidence))):
            e = evidence[i]
            if i in chosen or e.source != first.source or e.score < settings.complement_ratio * first.score:
                continue
            new = (stems[i] - have) & focus
            if new and sum(weight.get(w, 0.0) for w in new) >= settings.complement_weight:
                return i
        return None

    def with_reply(self, e: Evidence) -> Evidence:
        """``e`` (a sentence that asks: "A parent asked when the hall would
        reopen.") and the sentence after it in its paragraph, the reply ("The
        Superintendent said it would stay closed…"), whoever speaks it."""
        passages, ids = self._document_of(e.passage_ids)
        if not ids or max(ids) + 1 >= len(passages):
            return e
        first, last = min(ids), max(ids)
        if passages[last + 1].paragraph != passages[last].paragraph or passages[last + 1].kind != "sentence":
            return e
        return self._run(passages, first, last + 1, e.score)

    def with_next_sentence(self, e: Evidence) -> Evidence:
        """``e`` and the sentence after it, when that sentence is in the same
        paragraph, by the same speaker or nobody's (narration), and short.
        A yes/no question is often settled by what follows the matching
        sentence: "…slid onto the line." then "No one was hurt."; "…asked
        two suppliers to ship stock." then "It did not name the suppliers."."""
        passages, ids = self._document_of(e.passage_ids)
        if not ids:
            return e
        first, last = min(ids), max(ids)
        if last + 1 >= len(passages):
            return e
        nxt = passages[last + 1]
        if nxt.paragraph != passages[last].paragraph or nxt.speaker not in (None, passages[last].speaker) \
                or len(nxt.text) > self.settings.answer.next_sentence_chars:
            return e
        return self._run(passages, first, last + 1, e.score)

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
        chosen = self.best_evidence(resolved or question, retrieval, self.drafts_choice(draft, retrieval))
        parts, citations = [], []
        for n, e in enumerate(chosen, 1):
            parts.append((e.speaker, f"{self.quoted(e)} [{n}]"))
            citations.append(self._citation(n, e))
        return self._answer(question, compose(parts, list_size(resolved or question) is not None), citations,
                            retrieval, "extractive", t0, first_token_s, notice, resolved, draft)

    @staticmethod
    def drafts_choice(draft: Optional[Draft], retrieval: Retrieval) -> Optional[Evidence]:
        """The evidence item a draft cited first, when it is retrieval's.

        When no sentence of a draft survives verification, the answer quotes
        the evidence instead, and the model's choice of source is still worth
        having: a larger model often cites the right sentence and words it
        too freely to verify. Only the choice is used, never the model's
        words; ``_ranked`` takes it only where it has what the question
        needs (the named speaker's words, the asked-for detail). Measured
        with Qwen2.5-Coder-1.5B on 90 dev questions (four files): 2 answers
        fixed, none broken; with SmolLM2 no change (it cites its first source)."""
        if draft is None:
            return None
        for _, cited in claims_of(draft.text, len(draft.shown)):
            for n in cited:
                e = draft.shown[n - 1]
                if e in retrieval.evidence:
                    return e
        return None

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
               referent: Optional[str] = None, question: Optional[str] = None) -> tuple[str, list[Citation]]:
        """Keep the supported sentences of a generated answer, with renumbered citations.

        ``referent`` is the person the question asks about: a sentence that
        opens with "He said …" speaks of them until a kept sentence names
        another speaker, and must cite that person's words.
        """
        kept: list[tuple[Optional[str], str]] = []
        citations: list[Citation] = []
        numbering: dict[tuple[int, int, int], int] = {}
        whole: set[int] = set()  # shown items quoted whole in place of a cut claim

        def marker(citation: Citation) -> tuple[int, bool]:
            """The citation's number in the answer, and whether it is new."""
            key = (hash(citation.source), citation.start, citation.end)
            new = key not in numbering
            if new:
                numbering[key] = len(numbering) + 1
                citations.append(Citation(**{**citation.__dict__, "marker": numbering[key]}))
            return numbering[key], new

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
            if question and echoes_the_question(claim, question, [shown[n - 1] for n in cited]):
                continue
            attribution = attributed_to(claim, referent)
            if attribution and attribution[0]:
                # Later pronouns refer to the speaker this sentence named.
                referent = next((shown[n - 1].speaker for n in cited if shown[n - 1].speaker
                                 and same_person(attribution[0], shown[n - 1].speaker)), referent)
            if len(cited) == 1 and self.cut_from(claim, shown[cited[0] - 1]):
                # The sentence only cuts its source: the source, whole and
                # cited whole, is the better answer (what was cut may be what
                # was asked: "April 3 and April 10 …" for "By what date must
                # the council adopt a budget?", where the source goes on "…
                # and is required to adopt a budget by June 15"). Once only.
                e = shown[cited[0] - 1]
                n, new = marker(self._citation(0, e))
                if new:
                    kept.append((e.speaker, f"{self.quoted(e)} [{n}]"))
                whole.add(cited[0])
                continue
            if any(n in whole for n in cited):
                continue  # its source is already quoted whole
            marks = [marker(self._citation(0, shown[n - 1], claim))[0] for n in cited]
            claim = _as_speech(claim, [shown[n - 1].speaker for n in cited])
            body = claim if claim.endswith((".", "!", "?", '"', "\u201d")) else claim + "."
            if body.count('"') % 2:
                # The model opened a verbatim quotation (checked by ``supports``)
                # and forgot to close it.
                body = body + '"' if body.endswith((".", "!", "?")) else body
            kept.append((shown[cited[0] - 1].speaker, body + " " + "".join(f"[{m}]" for m in marks)))
        return compose(kept), citations

    def cut_from(self, claim: str, e: Evidence) -> bool:
        """Whether a generated sentence is its cited source with parts left
        out: nearly all its words are the source's (``answer.cut_share``)
        and it leaves out some of the source's."""
        share = self.settings.answer.cut_share
        if not share:
            return False
        words = content_stems(strip_markers(claim))
        source = content_stems(f"{e.speaker or ''} {e.text}")
        if not words or not source:
            return False
        return len(words & source) >= share * len(words) and not source <= words

    def complete_with_quotes(self, text: str, citations: list[Citation], best: list[Evidence]):
        """Append, quoted and cited, the best evidence the generated answer left
        out (a small model often answers from one of two sentences that belong
        together). Quotes are verbatim, so nothing unverified is added."""
        citations = list(citations)
        for e in best:
            if any(c.source == e.source and c.start < e.end and c.end > e.start for c in citations):
                continue
            n = len(citations) + 1
            previous = citations[-1].speaker if citations else None
            citation = self._citation(n, e)
            citations.append(citation)
            text += " " + compose([(previous, ""), (e.speaker, f"{self.quoted(e)} [{n}]")]).lstrip()
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
        if counted and content_stems(counted) and not counts(counted, text):
            return False
        return True

    def off_topic(self, question: str, retrieval: Retrieval) -> Optional[str]:
        """The refusal for "What did X say about T?" when nothing X said is about T.

        X's words are every sentence the documents attribute to X (not only
        the retrieved ones). One that shares a content word with T, or sits
        under a section heading that does, is about T; failing that, the
        closest of them in meaning must reach ``verify.min_topic_similarity``,
        raised by ``verify.topic_similarity_step`` for each further word of T.
        Without this, the answer would quote X on something else.
        """
        topic = said_about(question)
        # Only a question that asks for what was said: "Did X comment on T?"
        # may be answered by narration ("X did not respond to a request").
        if not topic or len(retrieval.speakers) != 1 or not re.match(r"\s*(?:and\s+)?(?:what|how)\b", question, re.I):
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
        check = self.settings.verify
        if float((vectors[1:] @ vectors[0]).max()) >= check.min_topic_similarity + check.topic_similarity_step * (len(stems) - 1):
            return None
        return prompts.REFUSE_OFF_TOPIC.format(name=speaker, topic=topic)

    def missing_year(self, question: str, retrieval: Retrieval) -> Optional[str]:
        """The refusal when the question names a year ("What was the level in
        2019?") that none of the best few evidence items mentions, in its
        text, its section heading or its table's header. Without this, a
        figure for another year is quoted as the answer."""
        asked = QUOTATION.sub(" ", question)
        if is_yes_no(question):
            # "Could the gates be in use by 2030?" names a deadline to check
            # against, not a year the text must mention ("not before 2032").
            asked = re.sub(r"\b(?:by|before|until|till|no later than|ahead of)\s+(?:the end of\s+)?(?:1[89]|20)\d\d\b", " ", asked)
        years = sorted(set(_YEAR.findall(asked)))
        if not years:
            return None
        top = retrieval.evidence[: self.settings.verify.detail_items]
        focus = focus_stems(question)
        for e in top:
            seen = f"{e.text} {e.section or ''} {self.header_of(e)}"
            # The year must be said of what the question is about: "trout
            # numbers halved since 2019" does not give a nitrate level in 2019.
            if any(re.search(rf"\b{y}\b", seen) for y in years) and (not focus or focus & content_stems(seen)):
                return None
        return prompts.REFUSE_MISSING_DETAIL.format(what=f"anything for {' or '.join(years)}")

    # -- which documents a question is about ---------------------------------

    def _document_facts(self) -> dict[str, CorpusFacts]:
        if self._doc_facts is None:
            docs = self.retriever.index.documents
            self._doc_facts = {src: CorpusFacts.from_texts([d.text], (), ()) for src, d in docs.items()}
        return self._doc_facts

    def _focus_document(self, question: str, among: set[str]) -> set[str]:
        """The one document of ``among`` that has clearly more of the question's focus
        words than any other (``answer.scope_margin`` more), as a set; empty
        when none stands out. "What was the price of a barrel of oil after
        the collapse?" is about the document that speaks of oil, barrels and
        a collapse, not the one that prices fertiliser. Measured on the dev
        split: where one document stands out by two words, it is the gold
        answer's document for every answerable question (100 of 100 over 13
        documents, 117 of 117 over 15)."""
        margin = self.settings.answer.scope_margin
        focus = focus_stems(question)
        if not margin or len(focus) < margin:
            return set()
        if self._doc_stems is None:
            self._doc_stems = {src: content_stems(" ".join(sorted(f.words))) for src, f in self._document_facts().items()}
        held = sorted(((len(focus & stems), src) for src, stems in self._doc_stems.items() if src in among),
                      reverse=True)
        if len(held) < 2:
            return set()
        return {held[0][1]} if held[0][0] - held[1][0] >= margin else set()

    def scoped(self, question: str, retrieval: Retrieval) -> Retrieval:
        """Retrieval kept to the documents that mention every name the
        question uses: "What will Dunmore Falls pay its drivers?" is about the
        documents that mention Dunmore Falls, and a wage quoted in another
        document is not its answer. Of several such documents (or of all, for
        a question that names nobody) the one with clearly the most of the
        question's focus words, when one has (``_focus_document``). Unchanged
        when no document mentions them all (the question may join two
        documents) or the corpus is one document."""
        names = [n for n in names_in(question) if self.facts.knows(n)]
        docs = self._document_facts()
        if len(docs) < 2:
            return retrieval
        about = {src for src, facts in docs.items() if all(facts.knows(n) for n in names)} if names else set()
        if len(about) != 1:
            about = self._focus_document(question, about or set(docs)) or about
        if not about:
            return retrieval
        kept = tuple(e for e in retrieval.evidence if e.source in about)
        return retrieval if len(kept) == len(retrieval.evidence) else replace(retrieval, evidence=kept)

    # -- questions about the document itself -------------------------------

    def mentioned_document(self, question: str) -> bool:
        """Whether the question's document noun is one a text talks about:
        "Which body issued the bipartisan report that…?" asks about the
        report the article mentions ("the most recent bipartisan report from
        the Senate Intelligence Committee"), so its body answers, not its
        masthead. "Who wrote the news article?" names no phrase of any text."""
        phrases = document_phrases(question)
        if not phrases:
            return False
        # Only a document that also knows the question's names mentions the
        # report asked about: "Who wrote the opinion piece about the Brannock
        # ferry subsidy?" is not about the opinion piece an article on Moscow
        # mentions.
        names = [n for n in names_in(question) if self.facts.knows(n)]
        docs = self._document_facts()
        return any(re.search(rf"\b{re.escape(phrase)}\b", d.text, re.I)
                   for src, d in self.retriever.index.documents.items()
                   if all(docs[src].knows(n) for n in names) for phrase in phrases)

    def document_passages(self, source: str) -> tuple[list[Passage], list[Passage]]:
        """A document's front matter (everything before its third body
        paragraph: masthead, title, byline, dateline, lead) and its last
        three paragraphs (a colophon, a copyright or contact line; at most
        eight passages), in document order."""
        mine = self.retriever.index.passages_of(source)
        front = []
        # Paragraphs of prose count; list items (an attendance list) do not.
        prose: set[int] = set()
        for p in mine:
            if p.kind == "sentence" and not is_item_line(p.text):
                prose.add(p.paragraph)
                if len(prose) > 2:
                    break
            front.append(p)
        last = sorted({p.paragraph for p in mine})[-3:]
        return front, [p for p in mine if p.paragraph in last][-8:]

    def _masthead_block(self, front: list[Passage], sentences: bool = False) -> Passage:
        """A masthead line with the lines right under it (no blank line
        between): "CITY OF X / Office of the Mayor / City Hall, …" names its
        issuer on the second line. With ``sentences``, lines the parser read
        as sentences join too ("Media contact:" / "Leo Marchetti, Press Secretary")."""
        text = self.retriever.index.text_of(front[0].source)
        end = front[0].end
        for p in front[1:]:
            gap = text[end:p.start]
            if "\n\n" in gap.replace("\r", "") or "\n" not in gap or (p.kind == "sentence" and not sentences) \
                    or _DATE.search(p.text):
                break
            end = p.end
        return replace(front[0], end=end, text=text[front[0].start:end])

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
            if facet == "publisher" and front and found is front[0]:
                found = self._masthead_block(front)
            if facet == "contact":
                # "Media contact:" names nobody; the lines under it do.
                found = self._masthead_block(colophon[colophon.index(found):], sentences=True)
            if found not in chosen:
                chosen.append(found)
        document = self.retriever.index.documents[chosen[0].source]
        text = document.text
        parts, citations = [], []
        for n, p in enumerate(chosen, 1):
            # Markdown emphasis ("*Minutes recorded by …*") is markup, not words.
            line = _EMPHASIS.sub("", " ".join(text[p.start:p.end].split())).strip("*_ ")
            parts.append(f"{line} [{n}]")
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
        retrieval = self.with_turns(self.scoped(query, self.retriever.retrieve(query)))
        facets = document_facets(query)
        if facets and self.mentioned_document(query):
            facets = ()
        if facets:
            answer = self.about_document(question, retrieval, facets, t0, resolved)
            if answer is not None:
                yield answer
                return
        reason = refusal_reason(
            query, retrieval.evidence, self.facts, retrieval.best_dense, self.settings.answer.min_dense_score,
            retrieval.best_lexical, self.settings.answer.min_lexical_score, self.settings.verify, self.header_of,
        )
        reason = reason or self.off_topic(query, retrieval) or self.missing_year(query, retrieval)
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
        text, citations = self.verify(draft.text, shown, referent, query)
        if citations and not self.answers_the_question(query, text, citations, best):
            text, citations = "", []
        if citations:
            text, citations = self.complete_with_quotes(text, citations, best)
        if not citations:
            yield self.extractive(question, retrieval, t0, first, prompts.NOTICE_EXTRACTIVE, resolved, draft)
            return
        yield self._answer(question, text, citations, retrieval, "generated", t0, first, None, resolved, draft)

_DATE = re.compile(rf"\b{MONTHS}\.? \d{{1,2}}\b|\b\d{{1,2}} {MONTHS}\b|\b{MONTHS}\.? (?:19|20)\d\d\b|\b(?:19|20)\d\d-\d\d-\d\d\b")
# A byline names someone: "By Ann Lee", not "By clicking Accept you agree…".
_AUTHOR_LINE = re.compile(rf"^\W*(?:By|Authors?|Written by|Reported by|Interview by)\W*(?-i:[{UPPER}])|\b(?:presenter|host|interviewer|correspondent)\b"
                          # "Minutes recorded by Maren Holt, Board Secretary."
                          rf"|\b(?:recorded|compiled|prepared|taken|minuted|transcribed) by\W+(?-i:[{UPPER}])", re.I)
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_EMPHASIS = re.compile(r"\*\*|__")  # Markdown bold: "**Date:** 12 March" reads "Date: 12 March"
_MASTHEAD = re.compile(rf"^[{UPPER}][^|\n]{{1,60}}?\s+[|\u00b7\u2022]\s+\S")
_PUBLISHER_LINE = re.compile(r"\b(?:published|produced|issued|released|distributed) by\b|\bpublisher\b", re.I)
# The verbs a date question names and their stems ("When was it recorded?").
_DATE_VERBS = re.compile(r"\b(publish|broadcast|record|issu|releas|air|writ|post|date|updat|revis)", re.I)


# A correction that repeats what an earlier version wrongly said.
_RETRACTED = re.compile(r"\b(?:an?|the) (?:earlier|previous|original|first) (?:version|edition) of this\b"
                        r"|\b(?:incorrectly|wrongly|mistakenly) (?:said|stated|reported|gave|described)\b", re.I)
_ABOUT_CORRECTION = re.compile(r"\bcorrect(?:ed|ion|ions)?\b|\beditor'?s note\b|\b(?:earlier|previous|original) "
                               r"version\b|\berror\b|\bmistake\b", re.I)
# A sentence that asks: "A parent asked when…", "Asked whether…, he laughed.", "…?"
_ASKING = re.compile(r"\b(?:asked|asking|wanted to know|inquired|enquired)\b|\?\s*[\"\u201d\u2019']?\s*$", re.I)


def asks_for_reply(question: str) -> bool:
    """Whether the question asks what someone answered a question with.

    Example: ``asks_for_reply("What did the Superintendent answer her?")`` -> True;
    ``asks_for_reply("What is the answer to the shortage?")`` -> False
    """
    return bool(re.search(r"\b(?:did|does|do|will|would)\s+(?:[\w.'-]+\s+){1,4}?(?:answer|reply|respond)\b"
                          r"|\b(?:answered|replied|responded)\b|\bwhen asked\b|\bin reply\b", question, re.I))


def answers_alone(question: str, item: Evidence) -> bool:
    """Whether one evidence item gives the kind of thing the question asks
    for: a speaker for "who" (the item is someone's words), the date, amount
    or number for a question that asks for one, and for "how many X" a
    number of X ("620,000 passengers", not "carry passengers again on June 14").

    Example: for "When did Trump say he had worked out a deal on oil?", the
    item "…," Trump said at a White House briefing on April 18." -> True.
    """
    if re.match(r"\s*(?:and\s+)?(?:who|whom)\b", question, re.I) and item.speaker:
        return True
    details = asked_details(question)
    if details and details[0].what == "the size of the change" and _TABLE_ROW.match(item.text):
        # A row gives each column's level ("| Kessel | 21.2 | 29.8 | 71% |"),
        # not the change between them: the sentence that states it may follow.
        return False
    detail = expected_detail(question)
    if detail is None or not detail.search(item.text):
        return False
    counted = counted_noun(question)
    return not (counted and content_stems(counted) and not counted_in(counted, item.text))


def _pick_author(question: str, front: list[Passage], colophon: list[Passage]) -> Optional[Passage]:
    lines = [p for p in front if p.kind == "byline"] + [p for p in front + colophon if _AUTHOR_LINE.search(p.text)]
    return lines[0] if lines else None


def _pick_bio(question: str, front: list[Passage], colophon: list[Passage]) -> Optional[Passage]:
    # The sentence near the end that says who the byline's author is:
    # "Edda Tolliver is a former harbour pilot …".
    bylines = [p for p in front if p.kind == "byline"]
    if not bylines:
        return None
    name = re.sub(r"^\W*by\s+", "", bylines[0].text, flags=re.I).split(",")[0].strip(" *_")
    if not name:
        return None
    surname = name.split()[-1]
    lines = [p for p in colophon if p.kind == "sentence"
             and re.match(rf"\W*(?:{re.escape(name)}|{re.escape(surname)})\s+(?:is|was|has been|writes|worked)\b", p.text)]
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
    # A masthead line: the publication, a bar and the date ("Fjellpost Weekly | September 2, 2025").
    lines += [p for p in front if _MASTHEAD.match(p.text) and _DATE.search(p.text)]
    # Otherwise the masthead: the document's first line, when it is not prose.
    lines += [p for p in front[:1] if p.kind != "sentence" and not _DATE.fullmatch(p.text.strip())]
    return lines[0] if lines else None


def _pick_title(question: str, front: list[Passage], colophon: list[Passage]) -> Optional[Passage]:
    lines = [p for p in front if p.kind in ("title", "heading") and not _DATE.search(p.text)]
    lines += [p for p in front if p.kind == "sentence" and p.paragraph == 1 and not p.text.rstrip().endswith(".")]
    return lines[0] if lines else None


_CONTACT_LINE = re.compile(r"^\W*(?:(?:media|press|news)\s+)?(?:contacts?|enquiries|inquiries)\s*:\s*$", re.I)


def _pick_contact(question: str, front: list[Passage], colophon: list[Passage]) -> Optional[Passage]:
    lines = [p for p in colophon if _CONTACT_LINE.match(p.text)]
    return lines[0] if lines else None


def _pick_meeting(question: str, front: list[Passage], colophon: list[Passage]) -> Optional[Passage]:
    # Only minutes have it: elsewhere the question goes the usual way.
    lines = [p for p in front if p.kind == "field" and re.match(r"\W*Date\W*:", p.text) and _DATE.search(p.text)]
    return lines[0] if lines else None


_FACET_PICKERS = {"author": _pick_author, "bio": _pick_bio, "date": _pick_date, "meeting": _pick_meeting, "publisher": _pick_publisher,
                  "title": _pick_title, "contact": _pick_contact}


def _as_speech(claim: str, speakers: list[Optional[str]]) -> str:
    """A claim in transcript form, "NAME: words", as a sentence: "NAME said:
    words" (a small model copies the "Speaker: text" form of its sources).
    Only when NAME is the speaker of the evidence the claim cites; words
    that name NAME themselves (outside quotation marks) lose the label.

    Example: ``_as_speech('Dmitry Suslov: "No reset."', ["Dmitry Suslov"])`` -> ``'Dmitry Suslov said: "No reset."'``
    """
    m = re.match(rf"^([{UPPER}][\w.'-]*(?:\s+[{UPPER}][\w.'-]*){{0,3}})\s*:\s+(\S.*)$", claim, re.S)
    if not m:
        return claim
    label, words = m.group(1), m.group(2)
    if _CAPS_LABEL.fullmatch(label):
        # A transcript's turn label in capitals ("VANCE:"), copied from the source.
        speaker = next((s for s in speakers if s and same_person(label.title(), s)), None)
        if speaker is None:
            # Another speaker's turn (the interviewer narrating): the words
            # are narration, cited plainly.
            return _as_speech(words, speakers) if _TURN_LABEL.match(words) else words
        label = speaker
    elif not any(s and same_person(label, s) for s in speakers):
        return claim
    caps = re.match(rf"^({_CAPS_LABEL.pattern})\s*:\s+(\S.*)$", words, re.S)
    if caps and not any(s and same_person(caps.group(1).title(), s) for s in speakers):
        # "Ole Brand: HOLT: The mayor, Ole Brand, told …": the model put the
        # cited speaker's label before the interviewer's turn label.
        return caps.group(2)
    if _names_outside_quotes(words, label):
        # "Harriet Lomax: Harriet Lomax, who chairs …, said …": the words say
        # who spoke already; a label would say it twice.
        return words
    return f"{label} said: {words}"


_CAPS_LABEL = re.compile(rf"[{UPPER}][{UPPER}'-]+")


_LIST_MARK = re.compile(r"^(?:(?:[-*+\u2022]|\d{1,2}[.)])\s+)+")  # "- ", "* ", "1. ", "2) "


def compose(parts: list[tuple[Optional[str], str]], as_list: bool = False) -> str:
    """An answer's text from its cited parts (each: speaker, text with its marker).

    A list answer of several parts is a bulleted list, one item per line.
    Otherwise the parts follow one another, and a part that opens with
    "NAME said:" after a part by the same speaker says "SURNAME also said:",
    so the answer does not read like a transcript.

    Example: ``compose([("Ann Lee", 'Ann Lee said: "Yes." [1]'), ("Ann Lee", 'Ann Lee said: "No." [2]')])``
    -> ``'Ann Lee said: "Yes." [1] Lee also said: "No." [2]'``
    """
    if as_list and len(parts) > 1:
        # An item that is itself a list line ("- Chair: notify …") keeps one bullet.
        return "\n".join("- " + _LIST_MARK.sub("", text) for _, text in parts)
    out: list[str] = []
    previous = None
    for speaker, text in parts:
        if speaker and speaker == previous and text.startswith(f"{speaker} said: "):
            text = f"{speaker.split()[-1]} also said: " + text[len(speaker) + len(" said: "):]
        out.append(text)
        previous = speaker
    return " ".join(out)


_PRONOUN_SPEECH = re.compile(
    r"\b(?P<pronoun>[Hh]e|[Ss]he)\s+(?=(?:also\s+|later\s+|then\s+)?(?:said|says|told|tells|added|adds|wrote|"
    r"writes|warned|noted|argued|explained|insisted|stated|claimed|asked)\b)"
    r"|\b(?:said|says)\s+(?P<after>he|she)\b"
)


def _names_outside_quotes(text: str, name: str) -> bool:
    """Whether ``text`` has a capitalised word of ``name`` (of 3+ letters)
    outside quotation marks: the text says who spoke ("…," Okafor said.)."""
    outside = QUOTATION.sub(" ", text)
    return any(re.search(rf"\b{re.escape(w)}\b", outside) for w in name.split() if w[:1].isupper() and len(w) > 2)


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
    if _names_outside_quotes(text, speaker):
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


# A Markdown table row, and the rule under a table's header row.
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|(?:\s*:?-{3,}:?\s*\|)+\s*$")


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


# A transcript turn's speaker label: "MERESKY: ", "Q: ", "Ruth Calloway: ".
_TURN_LABEL = re.compile(rf"^\s*(?:[{UPPER}][{UPPER}{LOWER}.'-]*(?:\s+[{UPPER}][{UPPER}{LOWER}.'-]*){{0,2}}|Q|A)\s*:\s+")
_TURN_LINE = re.compile(rf"(?m)^[ \t]*(?:[{UPPER}][{UPPER}{LOWER}.'-]*(?:[ \t]+[{UPPER}][{UPPER}{LOWER}.'-]*){{0,2}}|Q|A)[ \t]*:[ \t]+\S")
# A speech verb after a closing quotation mark: '"…," the report said', '"…," a spokesman told RFE/RL'.
_OWN_ATTRIBUTION = re.compile(r"[\"\u201d]\s*,?\s*(?:[\w.'-]+\s+){1,4}(?:said|says|told|wrote|added)\b")
_META_PREFIX = re.compile(r"^(?:the answer(?: to (?:this|the) question)? is:?|answer:|the source (?:that )?(?:says|wrote):?)\s*", re.I)
# A lead-in that talks about the answer or its sources and ends in a colon
# ("The source that provided the answer to the question is:", "Here is what
# the sources say:"): a small model's preface to the claim, never part of it.
# Quoted text before the colon means the colon introduces a quotation.
_META_LEADIN = re.compile(r"^[^:\"\u201c\u201d]{0,80}?\b(?:answer|answers|question|evidence|passages?|context|"
                          r"(?:the|these|this|provided|given) (?:sources?|texts?|documents?))\b[^:\"\u201c\u201d]{0,40}:\s+", re.I)
_REPORTING = re.compile(r"\b(?:said|says|told|tells|wrote|writes|asked|asks|added|adds)\b", re.I)
# Statements about the sources rather than answers from them; an adverb may
# sit in between ("is not explicitly mentioned", "is not clearly stated").
_META_CLAIM = re.compile(r"\b(?:is|are|was|were) (?:not (?:\w+ly )?(?:provided|mentioned|given|stated|specified|listed|named)|"
                         r"mentioned in the text)\b|\bthe (text|source|sources|article) (does|do) not\b", re.I)

