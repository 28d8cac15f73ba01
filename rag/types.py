"""Value objects passed between pipeline stages.

All are frozen dataclasses: a stage never mutates what an earlier stage made.
Character offsets (``start``/``end``) always index the *raw file text* of the
document, so ``document.text[p.start:p.end] == p.text`` for every passage and
``raw_text[c.start:c.end] == c.quote`` for every citation.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Literal, Optional

PassageKind = Literal["sentence", "heading", "dateline", "byline", "title", "field"]
AnswerMode = Literal["generated", "extractive", "refused"]


@dataclass(frozen=True)
class Document:
    """One source file as read from disk."""

    source: str  # path relative to the project root when inside it
    text: str  # the decoded raw text; offsets index this string
    sha256: str  # of the raw bytes
    format: str  # "txt" | "md" | "html" | "pdf" | "docx"
    # For HTML, PDF and DOCX the text above is the extracted text, not the file.
    # Paged formats (PDF): the offset in ``text`` where each page starts, in
    # page order; empty for formats without pages.
    pages: tuple[int, ...] = ()

    def page_at(self, offset: int) -> Optional[int]:
        """The 1-based page holding ``text[offset]``; None for non-paged formats.

        Example: with ``pages=(0, 120)``, ``page_at(5)`` -> 1 and ``page_at(130)`` -> 2.
        """
        if not self.pages:
            return None
        return max(1, bisect.bisect_right(self.pages, offset))


@dataclass(frozen=True)
class Passage:
    """One sentence (or heading/dateline/byline line) with its exact span."""

    id: str  # f"{source}:{start}-{end}"
    source: str
    start: int
    end: int
    text: str
    kind: PassageKind = "sentence"
    section: Optional[str] = None
    paragraph: int = 0  # 1-based paragraph number in the document; 0 for headings
    sentence: int = 0  # 0-based sentence number within the paragraph
    speaker: Optional[str] = None  # who said it (quoted or reported speech)
    quoted: bool = False  # True when the sentence contains a direct quotation


@dataclass(frozen=True)
class Evidence:
    """A run of consecutive passages selected to answer a question."""

    source: str
    start: int
    end: int
    text: str  # == raw_text[start:end]
    section: Optional[str]
    paragraph: int
    speaker: Optional[str]
    score: float
    passage_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Citation:
    """An answer's ``[marker]`` resolved to an exact span of a source."""

    marker: int
    source: str
    start: int
    end: int
    quote: str  # == raw_text(source)[start:end]
    speaker: Optional[str] = None
    section: Optional[str] = None
    paragraph: int = 0
    page: Optional[int] = None  # 1-based page of ``start`` in a paged source (PDF); None otherwise


@dataclass(frozen=True)
class Draft:
    """What the LLM wrote, before verification, and the evidence it was shown.

    The ``[n]`` markers of ``text`` number ``shown`` from 1. Kept on the
    ``Answer`` so a person can audit what verification dropped, and so
    ``eval/claims`` can be built from real drafts.
    """

    text: str
    shown: tuple[Evidence, ...]
    # Who "he"/"she" at the start of a sentence stands for (the question's one named speaker).
    referent: Optional[str] = None


@dataclass(frozen=True)
class Timings:
    retrieve_s: float = 0.0
    first_token_s: Optional[float] = None
    total_s: float = 0.0


@dataclass(frozen=True)
class Answer:
    """What ``Assistant.ask`` returns."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    evidence: tuple[Evidence, ...]
    mode: AnswerMode
    timings: Timings = field(default_factory=Timings)
    settings_hash: str = ""
    # Something the user should know about how this answer was made, e.g.
    # "the LLM server at http://… is unreachable; answered from the text".
    notice: Optional[str] = None
    # The question as the pipeline understood it (follow-ups are rewritten).
    resolved_question: Optional[str] = None
    # The LLM's unverified text, when one was generated (not part of ``to_json``).
    draft: Optional[Draft] = None

    @property
    def refused(self) -> bool:
        return self.mode == "refused"

    def to_json(self) -> dict:
        """The ``rag ask --json`` object."""
        return {
            "question": self.question,
            "answer": self.text,
            "mode": self.mode,
            "refused": self.refused,
            "citations": [
                {
                    "marker": c.marker,
                    "source": c.source,
                    "start": c.start,
                    "end": c.end,
                    "quote": c.quote,
                    "speaker": c.speaker,
                    "page": c.page,
                }
                for c in self.citations
            ],
            "evidence": [
                {"source": e.source, "start": e.start, "end": e.end, "score": round(e.score, 6)}
                for e in self.evidence
            ],
            "timings": {
                "retrieve_s": round(self.timings.retrieve_s, 4),
                "first_token_s": None
                if self.timings.first_token_s is None
                else round(self.timings.first_token_s, 4),
                "total_s": round(self.timings.total_s, 4),
            },
            "settings_hash": self.settings_hash,
            "notice": self.notice,
            "resolved_question": self.resolved_question,
        }


@dataclass(frozen=True)
class Statement:
    """One quotation or reported statement: consecutive sentences of one
    paragraph attributed to the same speaker (all quoted or all reported), as an exact span."""

    source: str
    start: int
    end: int
    text: str  # == raw_text(source)[start:end]
    quoted: bool  # a direct quotation (else reported speech)
    section: Optional[str] = None
    paragraph: int = 0
    page: Optional[int] = None  # 1-based, paged sources (PDF) only

    def to_json(self) -> dict:
        return {"source": self.source, "start": self.start, "end": self.end, "text": self.text,
                "quoted": self.quoted, "section": self.section, "paragraph": self.paragraph, "page": self.page}


@dataclass(frozen=True)
class Speaker:
    """Someone (or some body) the attribution found speaking, with what they said."""

    name: str
    kind: Literal["person", "organisation"]  # a named person, or a body/group ("Kremlin", "the report")
    roles: tuple[str, ...]  # as the documents state them ("Kremlin spokesman", "a professor at …")
    organisations: tuple[str, ...]  # institutions those roles name ("Moscow's Higher School of Economics")
    statements: tuple[Statement, ...]  # in document order

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.source for s in self.statements))

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "roles": list(self.roles),
                "organisations": list(self.organisations), "sources": list(self.sources),
                "statements": [s.to_json() for s in self.statements]}
