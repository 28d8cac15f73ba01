"""Evaluation metrics: pure functions over result rows.

A *result row* is the dict written to ``results.jsonl``: the
``Answer.to_json()`` object (``question``, ``answer``, ``mode``, ``refused``,
``citations``, ``evidence``, ``timings``, ...) plus the gold fields of the QA
line (``id``, ``gold_answer``, ``must_include``, ``gold_evidence``,
``answerable``, ``category``, ``follow_up_of``) and ``error`` (``None``, or
the message of the error the question raised). An *error row* has
``mode == "error"``, no citations, no evidence, an empty answer and
``timings`` ``None``.

Nothing here touches the pipeline. The only input from outside a row is
``source_text(source) -> str | None``, the raw text of a source file (see
``eval.runner.SourceTexts``), used to find gold spans and check quotes.

Definitions (all shares are in [0, 1]; a share with an empty denominator is
``None``, "not measured", never 0 or 1):

Spans
    Spans are half-open ``[start, end)`` character ranges of the raw text of a
    source. Two spans of the same source *overlap* iff they share at least one
    character: ``a.start < b.end and b.start < a.end``. Touching spans
    (``a.end == b.start``) and empty spans do not overlap.

Gold spans
    For a question and a source, every occurrence (all offsets, overlapping
    occurrences included) of every gold evidence string in the raw text of
    that source. Gold strings name no source, so they are searched in each
    source an answer's evidence or citations point at.

``evidence_hit_rate``
    Over answerable questions: share whose ``evidence`` list has at least one
    item overlapping a gold span.

``mrr``
    Over answerable questions: mean of ``1 / rank`` of the first evidence item
    overlapping a gold span (0 when none does). Rank = position in the
    evidence list sorted by ``score`` descending (ties keep list order),
    starting at 1.

``key_fact_accuracy``
    Over answerable questions: share whose answer text contains, for every
    ``must_include`` group, at least one of the group's alternatives
    (case-insensitive substring, after removing ``[n]`` markers, collapsing
    whitespace and straightening curly quotes). A refused answer scores 0.

``citation_validity``
    Over all citations of all answers: share whose ``quote`` equals
    ``raw_text(source)[start:end]`` exactly (with ``0 <= start < end``). A
    citation whose source file cannot be read is invalid. Must be 1.0.

``citation_precision``
    Over the citations of answers to answerable questions: share whose span
    overlaps a gold span of that question.

``answer_support``
    Over the sentences of every non-refused, non-error answer: share of
    *supported* sentences. A sentence is supported iff it carries at least one
    ``[n]`` marker that resolves to a citation AND, after removing the
    markers, every number and every capitalised word of the sentence appears
    in the concatenation of the quotes of the citations it carries. Matching
    is case-insensitive on whole words (a possessive ``'s`` is dropped;
    thousands separators are ignored in numbers). The first word of a
    sentence is exempt when it is a common function word (``The``, ``He``,
    ``Yes``, ``According``...: ``SENTENCE_STARTERS``), since it is
    capitalised only by position. Sentences are split at ``.``, ``!``, ``?``
    followed by whitespace (not after abbreviations like ``U.S.`` or ``Mr.``,
    nor inside a double-quoted passage, which is one claim) and at line
    breaks; markers right after the terminator belong to the sentence before
    them.

``answer_support_with_speaker``
    The same, with each citation's ``speaker`` (when set) counted as part of
    its quote: an extractive answer "Dmitry Suslov: \"...\" [1]" whose quote
    only says "he said" is supported here but not above.

``refusal_accuracy``
    Over unanswerable questions: share answered with ``mode == "refused"``.

``false_refusal_rate``
    Over answerable questions: share answered with ``mode == "refused"``.

``error_rate``
    Over all questions: share that raised an error instead of answering.
    Error rows count as not refused, with no evidence, no citations and a
    failed key-fact check; they are left out of latencies and answer support.

``mode_mix``
    Count of rows per mode (``generated``, ``extractive``, ``refused``,
    ``error``).

Latencies
    ``latency_total_p50_s`` / ``_p95_s`` over ``timings.total_s``,
    ``latency_first_token_p50_s`` / ``_p95_s`` over the non-null
    ``timings.first_token_s``, ``latency_retrieve_p50_s`` / ``_p95_s`` over
    ``timings.retrieve_s``, of non-error rows. Percentiles are
    ``numpy.percentile`` with its default method (linear interpolation
    between order statistics): ``percentile`` below.

``per_category``
    Per category: ``n`` questions and ``accuracy``: key-fact accuracy for
    answerable categories, refusal accuracy for the unanswerable one (the
    number the report's bar chart shows). ``key_fact_accuracy_by_category``
    holds only the key-fact accuracies of answerable questions.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Callable, Iterable, Mapping, Optional, Sequence

import numpy as np

SourceText = Callable[[str], Optional[str]]

# ---------------------------------------------------------------------------
# spans
# ---------------------------------------------------------------------------


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """True iff half-open spans ``[a_start, a_end)`` and ``[b_start, b_end)``
    share at least one character.

    Example: ``overlaps(0, 5, 4, 9)`` -> True; ``overlaps(0, 5, 5, 9)`` -> False
    """
    if a_start >= a_end or b_start >= b_end:
        return False
    return a_start < b_end and b_start < a_end


def find_all(text: str, needle: str) -> list[tuple[int, int]]:
    """Every ``(start, end)`` where ``needle`` occurs in ``text``, overlapping
    occurrences included.

    Example: ``find_all("aaa", "aa")`` -> ``[(0, 2), (1, 3)]``
    """
    if not needle:
        return []
    spans = []
    i = text.find(needle)
    while i != -1:
        spans.append((i, i + len(needle)))
        i = text.find(needle, i + 1)
    return spans


def gold_spans(gold_evidence: Sequence[str], text: Optional[str]) -> list[tuple[int, int]]:
    """All occurrences of all gold evidence strings in one source's raw text,
    sorted. ``text`` None (unreadable source) gives no spans."""
    if not text:
        return []
    spans: set[tuple[int, int]] = set()
    for ev in gold_evidence:
        spans.update(find_all(text, ev))
    return sorted(spans)


class GoldIndex:
    """Gold spans of one question, computed lazily per source."""

    def __init__(self, gold_evidence: Sequence[str], source_text: SourceText):
        self.gold_evidence = list(gold_evidence)
        self.source_text = source_text
        self._cache: dict[str, list[tuple[int, int]]] = {}

    def spans(self, source: str) -> list[tuple[int, int]]:
        if source not in self._cache:
            self._cache[source] = gold_spans(self.gold_evidence, self.source_text(source))
        return self._cache[source]

    def hits(self, source: str, start: int, end: int) -> bool:
        """Does ``[start, end)`` of ``source`` overlap any gold span?"""
        if start is None or end is None:
            return False
        return any(overlaps(start, end, s, e) for s, e in self.spans(source))


# ---------------------------------------------------------------------------
# retrieval
# ---------------------------------------------------------------------------


def ranked_evidence(evidence: Sequence[Mapping]) -> list[Mapping]:
    """Evidence sorted by ``score`` descending; ties (and missing scores) keep
    list order."""
    indexed = list(enumerate(evidence))
    indexed.sort(key=lambda p: (-(p[1].get("score") or 0.0), p[0]))
    return [e for _, e in indexed]


def reciprocal_rank(evidence: Sequence[Mapping], gold: GoldIndex) -> float:
    """``1 / rank`` of the first evidence item overlapping a gold span, 0.0 if
    none does (see ``ranked_evidence`` for the order)."""
    for rank, item in enumerate(ranked_evidence(evidence), start=1):
        if gold.hits(item["source"], item["start"], item["end"]):
            return 1.0 / rank
    return 0.0


def evidence_hit(evidence: Sequence[Mapping], gold: GoldIndex) -> bool:
    """Does any evidence item overlap a gold span?"""
    return reciprocal_rank(evidence, gold) > 0.0


# ---------------------------------------------------------------------------
# answer text
# ---------------------------------------------------------------------------

MARKER_RE = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def markers_in(text: str) -> list[int]:
    """The citation numbers of the ``[n]`` (or ``[n, m]``) markers in ``text``,
    in order, without duplicates.

    Example: ``markers_in("a [2] b [1, 2].")`` -> ``[2, 1]``
    """
    out: list[int] = []
    for m in MARKER_RE.finditer(text):
        for part in m.group(1).split(","):
            n = int(part)
            if n not in out:
                out.append(n)
    return out


def strip_markers(text: str) -> str:
    """``text`` without ``[n]`` markers, curly quotes straightened, runs of
    whitespace collapsed to one space, and no space before punctuation left
    behind by a removed marker.

    Example: ``strip_markers("Five calls [1].")`` -> ``"Five calls."``
    """
    text = MARKER_RE.sub(" ", text.translate(_CURLY))
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r" (?=[.,;:!?])", "", text)


def key_fact_match(answer_text: str, must_include: Sequence[Sequence[str]], refused: bool = False) -> bool:
    """Every ``must_include`` group has an alternative in the answer
    (case-insensitive substring of ``strip_markers(answer_text)``). A refused
    answer never matches; an empty ``must_include`` matches any non-refused
    answer.

    Example: ``key_fact_match("It ended on April 1 [1].", [["April 1"]])`` -> True
    """
    if refused:
        return False
    low = strip_markers(answer_text or "").lower()
    return all(any(strip_markers(alt).lower() in low for alt in group) for group in must_include)


# ---------------------------------------------------------------------------
# citations
# ---------------------------------------------------------------------------


def citation_is_valid(citation: Mapping, text: Optional[str]) -> bool:
    """``citation["quote"] == text[start:end]`` with ``0 <= start < end <=
    len(text)``; False when the source text is unknown (None)."""
    start, end, quote = citation.get("start"), citation.get("end"), citation.get("quote")
    if text is None or not isinstance(start, int) or not isinstance(end, int) or quote is None:
        return False
    if not (0 <= start < end <= len(text)):
        return False
    return text[start:end] == quote


# ---------------------------------------------------------------------------
# answer support
# ---------------------------------------------------------------------------

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "sen", "rep", "gov", "lt", "col",
    "capt", "no", "vs", "etc", "e.g", "i.e", "jan", "feb", "mar", "apr", "aug", "sept", "sep",
    "oct", "nov", "dec", "inc", "corp", "co", "ltd",
}

# First words that are capitalised only because they start the sentence.
SENTENCE_STARTERS = {
    "a", "an", "the", "he", "she", "it", "they", "we", "i", "you", "his", "her", "its", "their",
    "this", "that", "these", "those", "there", "here", "in", "on", "at", "by", "for", "from",
    "to", "of", "with", "as", "after", "before", "during", "since", "until", "while", "when",
    "where", "who", "what", "which", "why", "how", "both", "neither", "either", "no", "yes",
    "not", "but", "and", "or", "so", "yet", "however", "also", "according", "based", "then",
    "some", "many", "most", "all", "each", "one", "two", "three", "four", "five", "six",
    "seven", "eight", "nine", "ten", "if", "although", "though", "because", "instead",
    "meanwhile", "moreover", "furthermore", "finally", "first", "second", "third", "sources",
    "source", "unlike", "like", "about", "over", "under", "more", "less", "only", "such",
}

_TERMINATOR_RE = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?:\s*\[\d+(?:\s*,\s*\d+)*\])*(?=\s|$)")
_WORD_BEFORE_RE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")
_INITIALS_RE = re.compile(r"(?:[A-Za-z]\.){2,}$")
_NUMBER_RE = re.compile(r"\d+(?:[.,:/]\d+)*")
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'\u2019.\-]*[A-Za-z]|[A-Za-z]")


def _is_abbreviation_end(chunk: str) -> bool:
    """Does ``chunk`` (text up to and including a '.') end with an abbreviation?"""
    if _INITIALS_RE.search(chunk):
        return True
    m = _WORD_BEFORE_RE.search(chunk)
    if not m:
        return False
    word = m.group(1)
    # a middle initial ("Donald J. Trump") or a known abbreviation
    return (len(word) == 1 and word.isupper()) or word.lower() in ABBREVIATIONS


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer, each with the ``[n]`` markers it carries.

    Example: ``split_sentences("U.S. aid came. [1] It was late [2].")`` ->
    ``["U.S. aid came. [1]", "It was late [2]."]``
    """
    sentences: list[str] = []
    for line in (text or "").splitlines():
        start = 0
        for m in _TERMINATOR_RE.finditer(line):
            end = m.end()
            if line[m.start()] == "." and end < len(line) and _is_abbreviation_end(line[: m.start() + 1]):
                continue
            if end < len(line) and line[:end].translate(_CURLY).count('"') % 2:
                continue  # inside a quotation: a quoted passage is one claim with the marker after it
            sentences.append(line[start:end].strip())
            start = end
        sentences.append(line[start:].strip())
    out: list[str] = []
    for s in sentences:
        if not s:
            continue
        if not re.search(r"\w", MARKER_RE.sub("", s)):
            # only markers (e.g. "[1]" on its own line): they belong to the sentence before
            if out:
                out[-1] = out[-1] + " " + s
            continue
        out.append(s)
    return out


def _norm_number(s: str) -> str:
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)


def claim_tokens(sentence: str) -> tuple[list[str], list[str]]:
    """``(numbers, capitalised_words)`` a sentence asserts (markers removed;
    the first word skipped when it is in ``SENTENCE_STARTERS``; possessive
    ``'s`` dropped).

    Example: ``claim_tokens("The Kremlin's 5 calls [1].")`` -> ``(["5"], ["Kremlin"])``
    """
    clean = strip_markers(sentence)
    numbers = [_norm_number(n) for n in _NUMBER_RE.findall(clean)]
    words = []
    for i, m in enumerate(_WORD_RE.finditer(clean)):
        w = m.group(0)
        if not w[0].isupper():
            continue
        w = re.sub(r"['\u2019]s$", "", w).rstrip(".")
        if i == 0 and w.lower() in SENTENCE_STARTERS:
            continue
        words.append(w)
    return numbers, words


def _contains_word(haystack_low: str, token: str) -> bool:
    return re.search(r"(?<![a-z0-9])" + re.escape(token.lower()) + r"(?![a-z0-9])", haystack_low) is not None


def sentence_supported(sentence: str, quotes_by_marker: Mapping[int, str]) -> bool:
    """A sentence carries >= 1 marker resolving to a citation and every number
    and capitalised word of it (see ``claim_tokens``) appears, as a whole word
    and case-insensitively, in the concatenated quotes of those citations."""
    quotes = [quotes_by_marker[n] for n in markers_in(sentence) if n in quotes_by_marker]
    if not quotes:
        return False
    haystack = _norm_number(" ".join(quotes).translate(_CURLY)).lower()
    numbers, words = claim_tokens(sentence)
    return all(_contains_word(haystack, t) for t in numbers + words)


def answer_support(answer_text: str, citations: Sequence[Mapping], with_speaker: bool = False) -> tuple[int, int]:
    """``(supported_sentences, sentences)`` of one answer; ``with_speaker``
    adds each citation's ``speaker`` to its quote."""
    quotes = {
        c["marker"]: (c.get("quote") or "") + (f" {c['speaker']}" if with_speaker and c.get("speaker") else "")
        for c in citations
    }
    sentences = split_sentences(answer_text)
    return sum(sentence_supported(s, quotes) for s in sentences), len(sentences)


# ---------------------------------------------------------------------------
# refusal detection (for engines that never say "refused", i.e. the baseline)
# ---------------------------------------------------------------------------

_REFUSAL_PATTERNS = [
    r"\bno (?:relevant )?information\b",
    r"\bnot (?:mentioned|specified|stated|provided|given|included|discussed|available)\b",
    r"\b(?:does|do|did)(?: not|n't) (?:say|mention|provide|contain|specify|state|include|indicate|give|discuss|address|have|know)\b",
    r"\b(?:cannot|can't|can not|unable to) (?:answer|determine|find|be determined|say|tell|provide)\b",
    r"\bno mention\b",
    r"\bnot enough information\b",
    r"\binsufficient information\b",
    r"\bthere is no (?:indication|evidence|answer|record|data|reference)\b",
    r"^empty response$",
]
_REFUSAL_RE = re.compile("|".join(_REFUSAL_PATTERNS))
_QUOTED_RE = re.compile(r"\"[^\"]*\"|\u201c[^\u201d]*\u201d")


def is_refusal_text(text: str) -> bool:
    """Does a free-text answer refuse? The rule used for engines without a
    refusal mode (the llama-index baseline): the answer is empty, or its first
    sentence, with quotations ("...") and markers removed, contains a refusal
    phrase (``_REFUSAL_PATTERNS``: "no information", "not mentioned", "does
    not say/mention/provide/...", "cannot answer/determine", "no mention",
    "not enough information", ...). Quotations are removed so that a speaker's
    words ("I don't know the answer to that") are not taken for a refusal.

    Example: ``is_refusal_text("The sources do not mention Merkel.")`` -> True
    """
    clean = strip_markers(text or "")
    if not clean:
        return True
    sentences = split_sentences(clean)
    first = sentences[0] if sentences else clean
    first = _QUOTED_RE.sub(" ", first).lower().strip()
    return _REFUSAL_RE.search(first) is not None


# ---------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------


def ratio(num: float, den: float) -> Optional[float]:
    """``num / den``, or None when ``den`` is 0."""
    return None if not den else num / den


def mean(values: Iterable[float]) -> Optional[float]:
    values = list(values)
    return None if not values else sum(values) / len(values)


def percentile(values: Iterable[Optional[float]], q: float) -> Optional[float]:
    """The ``q``-th percentile (0..100) of the non-None, non-NaN values, as
    ``numpy.percentile`` computes it by default (linear interpolation between
    order statistics); None for no values. The one definition of a percentile
    in eval/ and benchmarks/.

    Example: ``percentile([1, 2, 3, 4], 50)`` -> 2.5
    """
    xs = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return float(np.percentile(xs, q)) if xs else None


# ---------------------------------------------------------------------------
# per question and aggregate
# ---------------------------------------------------------------------------


def is_error(row: Mapping) -> bool:
    return bool(row.get("error")) or row.get("mode") == "error"


def score_row(row: Mapping, source_text: SourceText) -> dict:
    """Per-question scores of one result row (see the module docstring).

    Keys: ``error``, ``refused``, ``correct`` (key fact for answerable,
    refusal for unanswerable), ``key_fact``, ``evidence_hit`` and
    ``reciprocal_rank`` (None for unanswerable), ``citations``,
    ``citations_valid``, ``citations_on_gold`` (None for unanswerable),
    ``invalid_citations`` (markers), ``sentences``, ``sentences_supported``,
    ``sentences_supported_with_speaker``.
    """
    error = is_error(row)
    refused = (row.get("mode") == "refused") and not error
    answerable = bool(row.get("answerable"))
    citations = [] if error else list(row.get("citations") or [])
    evidence = [] if error else list(row.get("evidence") or [])
    gold = GoldIndex(row.get("gold_evidence") or [], source_text)

    valid = [citation_is_valid(c, source_text(c["source"])) for c in citations]
    scores: dict = {
        "error": error,
        "refused": refused,
        "citations": len(citations),
        "citations_valid": sum(valid),
        "invalid_citations": [c.get("marker") for c, ok in zip(citations, valid) if not ok],
    }
    if answerable:
        rr = reciprocal_rank(evidence, gold)
        key = (not error) and key_fact_match(row.get("answer") or "", row.get("must_include") or [], refused)
        scores.update(
            key_fact=key,
            evidence_hit=rr > 0,
            reciprocal_rank=rr,
            citations_on_gold=sum(gold.hits(c["source"], c["start"], c["end"]) for c in citations),
            correct=key,
        )
    else:
        scores.update(
            key_fact=None, evidence_hit=None, reciprocal_rank=None, citations_on_gold=None, correct=refused
        )
    if error or refused:
        scores.update(sentences=0, sentences_supported=0, sentences_supported_with_speaker=0)
    else:
        supported, total = answer_support(row.get("answer") or "", citations)
        with_speaker, _ = answer_support(row.get("answer") or "", citations, with_speaker=True)
        scores.update(sentences=total, sentences_supported=supported, sentences_supported_with_speaker=with_speaker)
    return scores


def _timing(row: Mapping, key: str) -> Optional[float]:
    timings = row.get("timings") or {}
    value = timings.get(key)
    return None if value is None else float(value)


def aggregate(rows: Sequence[Mapping]) -> dict:
    """Metrics over result rows that carry ``scores`` (see ``score_row``).

    Returns a flat dict of the metrics in the module docstring plus
    ``counts`` (questions, answerable, unanswerable, errors, citations,
    sentences), ``mode_mix``, ``per_category`` and
    ``key_fact_accuracy_by_category``.
    """
    answerable = [r for r in rows if r.get("answerable")]
    unanswerable = [r for r in rows if not r.get("answerable")]
    ok_rows = [r for r in rows if not r["scores"]["error"]]
    s = lambda r: r["scores"]  # noqa: E731

    n_cit = sum(s(r)["citations"] for r in rows)
    n_cit_answerable = sum(s(r)["citations"] for r in answerable)
    n_sent = sum(s(r)["sentences"] for r in rows)

    metrics: dict = {
        "evidence_hit_rate": ratio(sum(bool(s(r)["evidence_hit"]) for r in answerable), len(answerable)),
        "mrr": mean(s(r)["reciprocal_rank"] for r in answerable),
        "key_fact_accuracy": ratio(sum(bool(s(r)["key_fact"]) for r in answerable), len(answerable)),
        "citation_validity": ratio(sum(s(r)["citations_valid"] for r in rows), n_cit),
        "citation_precision": ratio(sum(s(r)["citations_on_gold"] for r in answerable), n_cit_answerable),
        "answer_support": ratio(sum(s(r)["sentences_supported"] for r in rows), n_sent),
        "answer_support_with_speaker": ratio(
            sum(s(r).get("sentences_supported_with_speaker", 0) for r in rows), n_sent),
        "refusal_accuracy": ratio(sum(s(r)["refused"] for r in unanswerable), len(unanswerable)),
        "false_refusal_rate": ratio(sum(s(r)["refused"] for r in answerable), len(answerable)),
        "error_rate": ratio(sum(s(r)["error"] for r in rows), len(rows)),
    }
    for name, key in (("total", "total_s"), ("first_token", "first_token_s"), ("retrieve", "retrieve_s")):
        values = [_timing(r, key) for r in ok_rows]
        metrics[f"latency_{name}_p50_s"] = percentile(values, 50)
        metrics[f"latency_{name}_p95_s"] = percentile(values, 95)

    mode_mix = Counter("error" if s(r)["error"] else (r.get("mode") or "?") for r in rows)
    metrics["mode_mix"] = dict(sorted(mode_mix.items()))

    per_category: dict = {}
    by_cat_key: dict = {}
    for cat in sorted({r.get("category") or "?" for r in rows}):
        cat_rows = [r for r in rows if (r.get("category") or "?") == cat]
        per_category[cat] = {
            "n": len(cat_rows),
            "accuracy": ratio(sum(bool(s(r)["correct"]) for r in cat_rows), len(cat_rows)),
            "measure": "key_fact" if all(r.get("answerable") for r in cat_rows) else (
                "refusal" if not any(r.get("answerable") for r in cat_rows) else "mixed"),
        }
        cat_answerable = [r for r in cat_rows if r.get("answerable")]
        if cat_answerable:
            by_cat_key[cat] = ratio(sum(bool(s(r)["key_fact"]) for r in cat_answerable), len(cat_answerable))
    metrics["per_category"] = per_category
    metrics["key_fact_accuracy_by_category"] = by_cat_key
    metrics["counts"] = {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "errors": sum(s(r)["error"] for r in rows),
        "citations": n_cit,
        "citations_answerable": n_cit_answerable,
        "sentences": n_sent,
        "first_token_measured": sum(_timing(r, "first_token_s") is not None for r in ok_rows),
    }
    return metrics


# Headline metrics, in the order the summary table and reports show them.
# (name, label, kind) with kind "share" (0..1, higher is better), "rate"
# (0..1, lower is better) or "seconds".
HEADLINE = [
    ("evidence_hit_rate", "evidence hit rate", "share"),
    ("mrr", "evidence MRR", "share"),
    ("key_fact_accuracy", "key-fact accuracy", "share"),
    ("citation_validity", "citation validity", "share"),
    ("citation_precision", "citation precision", "share"),
    ("answer_support", "answer support", "share"),
    ("answer_support_with_speaker", "  + speaker names", "share"),
    ("refusal_accuracy", "refusal accuracy", "share"),
    ("false_refusal_rate", "false-refusal rate", "rate"),
    ("error_rate", "error rate", "rate"),
    ("latency_total_p50_s", "total latency p50", "seconds"),
    ("latency_total_p95_s", "total latency p95", "seconds"),
    ("latency_first_token_p50_s", "first token p50", "seconds"),
    ("latency_first_token_p95_s", "first token p95", "seconds"),
    ("latency_retrieve_p50_s", "retrieve p50", "seconds"),
    ("latency_retrieve_p95_s", "retrieve p95", "seconds"),
]


def format_value(value, kind: str) -> str:
    """How the summary table and reports print a metric value."""
    if value is None:
        return "n/a"
    if kind == "seconds":
        return f"{value:.2f}s"
    return f"{100 * value:.1f}%"
