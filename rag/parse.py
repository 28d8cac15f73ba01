"""Structure-aware parsing of a document into span-exact passages.

A news article is split into its dateline, byline, section headings,
labelled fields ("**Date:** 12 March 2025": metadata, kind ``field``),
paragraphs and sentences; a list item is a paragraph of its own. Every passage records ``start``/``end`` offsets into
``Document.text`` so that ``document.text[p.start:p.end] == p.text`` holds
for every passage, whatever the line endings or the script.

What it does not do: decide who said a sentence (``rag.attribute``), or embed
anything (``rag.index``). Sentence boundaries come from NLTK's Punkt model as
shipped inside llama-index-core (no download), with one repair: Punkt ends a
sentence at ``?"`` even when the attribution continues in lower case
(``"...on Ukraine?" he said.``), so such pieces are joined back.

Things every later stage shares live here, so there is one of each: the
sentence splitters, ``split_sentences`` (Punkt, for documents, at index
time) and ``split_answer_sentences`` (a rule for short text at question
time: generated answers with their ``[n]`` markers, questions, evidence
items; it never loads NLTK), and ``STOPWORDS`` (the function words that carry
no content, for retrieval, question analysis, verification and attribution).

Example:
    >>> from rag.types import Document
    >>> doc = Document("a.txt", "Title Here\\nHe said it. She did not.\\n", "0", "txt")
    >>> [(p.kind, p.text) for p in parse_document(doc)]
    [('heading', 'Title Here'), ('sentence', 'He said it.'), ('sentence', 'She did not.')]
"""

from __future__ import annotations

import functools
import re
from typing import Iterator

from rag.types import Document, Passage

# Letter classes (the inside of [...]) for Latin-1 and Latin Extended-A letters
# (À-Ö, Ø-Þ, ß-ÿ, Ā-ſ) beside A-Z/a-z, so that Sørby, Müller and Łukasz are names.
# Patterns use them in f-strings: rf"[{UPPER}][{LOWER}]+" is a capitalised word.
UPPER = "A-ZÀ-ÖØ-ÞĀ-ſ"
LOWER = "a-zß-öø-ÿĀ-ſ"

_DATELINE = re.compile(
    rf"^[^\n]{{0,60}}\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[{LOWER}]*\.? \d{{1,2}}, \d{{4}}\s*$"
)
_BYLINE = re.compile(rf"^By [{UPPER}]")
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+")
_HEADING_END_PUNCT = tuple('.!?:;,"')
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "vs", "vs."}

# Function words (articles, prepositions, pronouns, auxiliaries, conjunctions)
# and the verbs that frame reported speech ("say", "told", "according"): words
# that say nothing about what a sentence is about. One list for every stage,
# lower case. (``rag.question.QUESTION_WORDS`` adds the words that frame a
# question: "how", "why", "think", "list"….)
STOPWORDS = frozenset({
    "a", "about", "according", "all", "also", "an", "and", "any", "are", "as", "at", "be", "because",
    "been", "both", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have",
    "he", "her", "his", "i", "if", "in", "into", "is", "it", "its", "just", "more", "not", "of", "on",
    "or", "our", "over", "s", "say", "said", "says", "she", "so", "some", "such", "than", "that", "the",
    "their", "them", "then", "there", "these", "they", "this", "those", "to", "told", "us", "very", "was",
    "we", "were", "what", "when", "which", "while", "who", "will", "with", "would", "you",
})


@functools.lru_cache(maxsize=1)
def snowball():
    """The English Snowball stemmer's ``stemWord`` (PyStemmer, which bm25s
    installs and stems with), loaded on first use.

    Example: ``snowball()("presidents")`` -> ``'presid'``
    """
    import Stemmer

    return Stemmer.Stemmer("english").stemWord


@functools.lru_cache(maxsize=1)
def _punkt():
    """Punkt English model from llama-index-core's bundled NLTK data (no download)."""
    import os

    import llama_index.core
    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    cache = os.path.join(os.path.dirname(llama_index.core.__file__), "_static", "nltk_cache")
    if cache not in nltk.data.path:
        nltk.data.path.append(cache)
    return PunktTokenizer("english")


# A list item ("- Lotta Engqvist, Board Chair", "2. Cut split shifts") and a
# labelled field ("**Date:** 12 March 2025", "Place: Town Hall") are lines of
# content, each its own paragraph, never headings: a heading would hide them
# from the evidence and make each the section of the text after it.
_LIST_ITEM = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,2}[.)])\s+\S")
# A field's label is a common noun phrase ("Date", "Published by", "Members of
# the public"): one capital, so "MERESKY:" and "Ruth Calloway:" (transcript
# turns) and "Q:" are not fields; the line is short and ends without a full
# stop ("**Apologies:** Trustee Elin Sørby." is a statement of the minutes).
_FIELD = re.compile(rf"^\s*(?:\*\*|__)?[{UPPER}][{LOWER}]+(?:[ -][{LOWER}]+){{0,3}}:(?:\*\*|__)?\s+\S[^\n]{{0,100}}(?<![.!?])$")


def is_item_line(line: str) -> bool:
    """Whether a line is a list item or a labelled field (see ``_LIST_ITEM``).

    Example: ``is_item_line("- Hanna Vik, Trustee")`` -> True; ``is_item_line("**Date:** 12 March")`` -> True;
    ``is_item_line("Budget for 2025")`` -> False
    """
    return bool(_LIST_ITEM.match(line) or _FIELD.match(line))


def looks_like_heading(line: str) -> bool:
    """A short title-case line without sentence punctuation, that is not a
    list item or a labelled field.

    Example: ``looks_like_heading("New START, Old START")`` -> True;
    ``looks_like_heading("He said so.")`` -> False; ``looks_like_heading("- Hanna Vik, Trustee")`` -> False
    """
    # Markdown emphasis around a line ("*Minutes recorded by …, Secretary.*")
    # hides its full stop.
    s = line.strip().strip("'\u2018\u2019").strip("*_").strip()
    if not s or len(s) > 70 or is_item_line(s):
        return False
    words = s.split()
    if len(words) > 9 or s.endswith(_HEADING_END_PUNCT):
        return False
    content = [w for w in words if w.lower() not in _SMALL_WORDS]
    if not content:
        return False
    capitalised = sum(1 for w in content if w[:1].isupper() or w[:1].isdigit())
    return capitalised / len(content) >= 0.6


_BOILERPLATE = re.compile(
    r"\u00a9|\(c\)\s*\d{4}|\ball rights reserved\b"  # a copyright notice
    r"|^[^|\n]{1,30}(?:\s\|\s[^|\n]{1,30}){2,}$"  # a row of links: "About us | Privacy | Contact"
    # a colophon: "The Valley Courier is published by Valley Media Cooperative."
    rf"|^(?:The\s+)?[{UPPER}][\w'.&-]*(?:\s+[{UPPER}][\w'.&-]*){{0,5}}\s+(?:is|are)\s+(?:published|produced|owned|operated)\s+by\b",
    re.I,
)


def is_boilerplate(text: str) -> bool:
    """Whether a line is page furniture that says nothing about the world: a
    copyright notice, a row of links, a colophon ("X is published by Y"). It
    may still answer who published a page (``rag.answer`` reads those lines
    for that); it never answers what the page reports.

    Example: ``is_boilerplate("\u00a9 2025 Valley Media. All rights reserved.")`` -> True;
    ``is_boilerplate("| Mooser | 18.9 | 22.4 |")`` -> False (a table row)
    """
    return bool(_BOILERPLATE.search(text.strip()))


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every line, excluding the line break (\\n, \\r\\n or \\r)."""
    for m in re.finditer(r"[^\r\n]*", text):
        if m.start() == m.end() and m.start() > 0 and text[m.start() - 1] in "\r\n":
            continue
        yield m.start(), m.end()


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraph blocks: runs of non-blank lines, or single lines when the
    document separates paragraphs by line breaks only (as many news exports do)."""
    lines = [(s, e) for s, e in _lines(text)]
    has_blank_separators = any(
        not text[s:e].strip() for s, e in lines[1:-1]
    )
    blocks: list[tuple[int, int]] = []
    current: list[tuple[int, int]] = []
    for s, e in lines:
        if not text[s:e].strip():
            if current:
                blocks.append((current[0][0], current[-1][1]))
                current = []
            continue
        line = text[s:e]
        if not has_blank_separators or looks_like_heading(line) or _MD_HEADING.match(line) or is_item_line(line):
            if current:
                blocks.append((current[0][0], current[-1][1]))
                current = []
            blocks.append((s, e))
        else:
            current.append((s, e))
    if current:
        blocks.append((current[0][0], current[-1][1]))
    return [b for b in (_strip_span(text, s, e) for s, e in blocks) if b[0] < b[1]]


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]``, as absolute offsets."""
    chunk = text[start:end]
    spans = [(start + s, start + e) for s, e in _punkt().span_tokenize(chunk)]
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        # Repair Punkt's split after a quoted question/exclamation that the
        # attribution continues in lower case: '"...Ukraine?" he said.'
        if merged and text[s:e][:1].islower() and text[merged[-1][1] - 2 : merged[-1][1]] in ('?"', '!"', "?\u201d", "!\u201d"):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def split_sentences(text: str) -> list[str]:
    """The sentences of a piece of prose, with the same splitter documents get.

    Example: ``split_sentences('"Why now?" he asked. U.S. aid came.')`` ->
    ``['"Why now?" he asked.', 'U.S. aid came.']``
    """
    return [text[s:e] for s, e in sentence_spans(text, 0, len(text))]


# The end of a sentence in short, generated or typed text: a full stop (or
# ?/!), maybe inside a closing quotation mark, maybe followed by ``[n]``
# citation markers, then space and a capital or an opening quotation mark.
# Not after an initial or a common abbreviation ("U.S. Ambassador", "Mr. Smith").
_SENTENCE_END = re.compile(
    r"(?:(?<=[.!?])|(?<=[.!?][\"\u201d]))"
    rf"(?<![{UPPER}]\.[{UPPER}]\.)(?<!\b[{UPPER}]\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bMrs\.)(?<!\bNo\.)"
    rf"(?:\s*(?:\[[0-9]+(?:\s*[,;]\s*[0-9]+)*\]))*\s+(?=[{UPPER}\"\u201c])"
)


def split_answer_sentences(text: str) -> list[str]:
    """Sentences of short text at question time: a generated answer, an
    answer sentence, a question, an evidence item. Each keeps the ``[n]``
    markers that follow it.

    Not Punkt (``split_sentences``, for documents at index time), for two
    reasons: a model's answer puts ``[n]`` markers after the full stop, and
    they belong to the sentence before them, which Punkt hands to the next
    sentence; and loading Punkt imports NLTK (~4 s), which a cold
    ``rag ask`` must not pay.

    Example: ``split_answer_sentences('A said "x." [1] B said y [2].')`` ->
    ``['A said "x." [1]', 'B said y [2].']``
    """
    text = " ".join(text.split())
    if not text:
        return []
    pieces, last = [], 0
    for m in _SENTENCE_END.finditer(text):
        pieces.append(text[last : m.start()].strip() + "".join(re.findall(r"\s*\[[0-9,; ]+\]", m.group(0))))
        last = m.end()
    pieces.append(text[last:].strip())
    return [p.strip() for p in pieces if p.strip()]


def _split_long(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Split an over-long sentence at clause punctuation (or spaces) so that no
    passage exceeds ``limit`` characters."""
    pieces = []
    while end - start > limit:
        window = text[start : start + limit]
        cut = max(window.rfind("; "), window.rfind(", "), window.rfind(": "))
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit - 1
        pieces.append(_strip_span(text, start, start + cut + 1))
        start = start + cut + 1
    pieces.append(_strip_span(text, start, end))
    return [p for p in pieces if p[0] < p[1]]


def parse_document(doc: Document, max_passage_chars: int = 600) -> list[Passage]:
    """Split a document into dateline/byline/heading/field/sentence passages with exact spans."""
    text = doc.text
    passages: list[Passage] = []
    section: str | None = None
    paragraph = 0
    for index, (bs, be) in enumerate(_blocks(text)):
        block = text[bs:be]
        md = _MD_HEADING.match(block)
        kind = None
        if index == 0 and _DATELINE.match(block):
            kind = "dateline"
        elif index <= 2 and _BYLINE.match(block):
            kind = "byline"
        elif md or ("\n" not in block and looks_like_heading(block)):
            kind = "heading"
        elif "\n" not in block and _FIELD.match(block):
            kind = "field"  # metadata: neither a section nor a paragraph of the body
        if kind is not None:
            if md:
                bs += md.end()
                block = text[bs:be]
            if kind == "heading":
                section = block
            passages.append(_passage(doc, bs, be, kind, section, 0, 0))
            continue
        paragraph += 1
        pieces = _join_wordless(text, [
            piece for s, e in sentence_spans(text, bs, be) for piece in _split_long(text, s, e, max_passage_chars)
        ])
        for number, (ss, se) in enumerate(pieces):
            passages.append(_passage(doc, ss, se, "sentence", section, paragraph, number))
    return passages


# A piece with no letter in it: a list mark Punkt split off ("1." before
# "Raise the wage."), or the closing "*" of an italic line.
_WORDLESS = re.compile(r"^[\W\d_]{1,4}$")


def _join_wordless(text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop a block's leading wordless pieces (a list mark is markup, like a
    heading's "##", and belongs to no passage) and join any later one to the
    sentence before it (the "*" that closes an italic line). A block that is
    nothing but marks stays as it is."""
    out: list[tuple[int, int]] = []
    for s, e in pieces:
        if _WORDLESS.match(text[s:e]):
            if out:
                out[-1] = (out[-1][0], e)
            continue
        out.append((s, e))
    return out or pieces


def _passage(doc, start, end, kind, section, paragraph, sentence) -> Passage:
    return Passage(
        id=f"{doc.source}:{start}-{end}",
        source=doc.source,
        start=start,
        end=end,
        text=doc.text[start:end],
        kind=kind,
        section=section,
        paragraph=paragraph,
        sentence=sentence,
    )
