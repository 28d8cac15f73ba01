"""HTML for the chat and the sources panel (pure functions, no Gradio).

Everything that comes from a document, an uploaded file, the LLM or a user is
text, never markup: it is HTML-escaped here before it reaches the page.
Chat messages additionally pass through Gradio's Markdown renderer, so the
characters Markdown/KaTeX would interpret are written as numeric entities and
each message is one HTML block without blank lines (CommonMark leaves the
inside of such a block alone).
"""

from __future__ import annotations

import html
import re
from typing import Any, Callable, Iterable, Optional

MODE_LABELS = {
    "generated": "generated",
    "extractive": "extractive (quoted from the text)",
    "refused": "not in the documents",
}

MODE_HINTS = {
    "generated": "Written by the language model from the cited sentences; every claim was checked against them.",
    "extractive": "Sentences quoted word for word from the documents.",
    "refused": "The documents do not answer this question, so nothing was made up.",
}

# HTML's special characters plus those Markdown, GFM tables/strikethrough or
# KaTeX would act on, each written as a numeric entity in a single pass.
_MD_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "\\": "&#92;",
    "`": "&#96;",
    "*": "&#42;",
    "_": "&#95;",
    "[": "&#91;",
    "]": "&#93;",
    "$": "&#36;",
    "~": "&#126;",
    "|": "&#124;",
    "#": "&#35;",
    "!": "&#33;",
    "{": "&#123;",
    "}": "&#125;",
}
_MD_RE = re.compile("[" + re.escape("".join(_MD_ENTITIES)) + "]")
_MARKER_RE = re.compile(r"&#91;([0-9]+)&#93;")  # ASCII digits, as rag.answer's markers


def esc(text: Optional[str]) -> str:
    """HTML-escape ``text`` (for gr.HTML)."""
    return html.escape(text or "", quote=True)


def esc_md(text: Optional[str]) -> str:
    """Escape ``text`` for a chat message: HTML-escaped, Markdown-inert, no blank lines."""
    out = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    out = _MD_RE.sub(lambda m: _MD_ENTITIES[m.group(0)], out)
    return out.replace("\n", "<br>")


def linkify_markers(escaped: str, markers: Iterable[int], linked: bool = True) -> str:
    """Turn escaped ``[n]`` markers into links to the source cards ``#src-n``.

    Only markers that name a citation become links; with ``linked=False``
    (older answers, whose cards are no longer shown) they are styled but inert.
    """
    known = set(markers)

    def sub(m: re.Match) -> str:
        n = int(m.group(1))
        if n not in known:
            return m.group(0)
        if linked:
            return f'<a class="cite" href="#src-{n}" title="Show source {n}">&#91;{n}&#93;</a>'
        return f'<span class="cite cite-old">&#91;{n}&#93;</span>'

    return _MARKER_RE.sub(sub, escaped)


def mode_badge(mode: str) -> str:
    label = MODE_LABELS.get(mode, mode)
    hint = MODE_HINTS.get(mode, "")
    return f'<span class="badge badge-{esc(mode)}" title="{esc(hint)}">{esc(label)}</span>'


def user_message(question: str) -> str:
    return f'<div class="rag-question">{esc_md(question)}</div>'


def pending_message(draft: str = "") -> str:
    """The assistant bubble while the answer is being made."""
    if draft:
        body = f'<div class="answer-text draft-text">{esc_md(draft)}</div>'
        label = "drafting…"
    else:
        body = ""
        label = "searching the documents…"
    return (
        f'<div class="rag-answer pending"><span class="badge badge-drafting">{label}</span>'
        f"{body}</div>"
    )


def answer_message(answer: Any, linked: bool = True) -> str:
    """The assistant bubble for a finished ``rag.Answer``."""
    markers = [c.marker for c in answer.citations]
    text = linkify_markers(esc_md(answer.text), markers, linked=linked)
    parts = ['<div class="rag-answer">', f'<div class="answer-meta">{mode_badge(answer.mode)}']
    resolved = (answer.resolved_question or "").strip()
    if resolved and resolved != (answer.question or "").strip():
        parts.append(f'<span class="resolved">understood as: “{esc_md(resolved)}”</span>')
    parts.append("</div>")
    parts.append(f'<div class="answer-text">{text}</div>')
    if answer.notice:
        parts.append(f'<div class="notice">&#9888; {esc_md(answer.notice)}</div>')
    parts.append("</div>")
    return "".join(parts)


def error_message(message: str) -> str:
    return (
        '<div class="rag-answer"><div class="answer-meta"><span class="badge badge-error">'
        f'problem</span></div><div class="answer-text">{esc_md(message)}</div></div>'
    )


# --------------------------------------------------------------------------- sources


SOURCES_EMPTY = (
    '<div class="sources-empty"><div class="sources-empty-title">Sources</div>'
    "<p>Every answer cites the exact sentences it is based on. They appear here, "
    "highlighted in their paragraph.</p><p>Click a <b>[n]</b> marker in an answer to jump "
    "to its source.</p></div>"
)

SOURCES_PENDING = '<div class="sources-empty"><p>Finding the sources…</p></div>'


def highlighted(source: str, start: int, end: int, quote: str, paragraph: Optional[Callable]) -> str:
    """The paragraph around ``[start, end)`` with that span in <mark> (all escaped).

    ``paragraph(source, start, end)`` gives ``(para_start, para_end, text)``
    (``Assistant.paragraph``); without it, or when it fails or disagrees with
    the span, the quote alone is shown.
    """
    quote_only = f"<mark>{esc(quote)}</mark>"
    if paragraph is None:
        return quote_only
    try:
        pstart, pend, ptext = paragraph(source, start, end)
    except Exception:  # the document may have been removed since; show the quote alone
        return quote_only
    a, b = start - pstart, end - pstart
    if not (0 <= a <= b <= len(ptext)) or pend - pstart != len(ptext):
        return quote_only
    return f"{esc(ptext[:a])}<mark>{esc(ptext[a:b])}</mark>{esc(ptext[b:])}"


def _paragraph_html(citation: Any, paragraph: Optional[Callable]) -> str:
    """The citation's paragraph with the cited span in <mark> (all escaped)."""
    return highlighted(citation.source, citation.start, citation.end, citation.quote, paragraph)


def sources_panel(answer: Any, paragraph: Optional[Callable] = None) -> str:
    """One card per citation of ``answer``: id ``src-n``, speaker, source, section, paragraph."""
    if answer is None:
        return SOURCES_EMPTY
    if answer.refused or not answer.citations:
        msg = (
            "The documents don't answer this question, so nothing is cited."
            if answer.refused
            else "This answer has no citations."
        )
        return f'<div class="sources-empty"><div class="sources-empty-title">Sources</div><p>{msg}</p></div>'
    cards = []
    for c in sorted(answer.citations, key=lambda c: c.marker):
        meta = [f'<span class="src-doc" title="{esc(c.source)}">{esc(c.source)}</span>']
        if getattr(c, "page", None):
            meta.append(f'<span class="src-page">p. {int(c.page)}</span>')
        if c.section:
            meta.append(f'<span class="src-section">{esc(c.section)}</span>')
        if c.paragraph:
            meta.append(f'<span class="src-para-no">¶ {int(c.paragraph)}</span>')
        speaker = (
            f'<span class="src-speaker">{esc(c.speaker)}</span>'
            if c.speaker
            else '<span class="src-speaker src-speaker-none">narration</span>'
        )
        cards.append(
            f'<div class="src-card" id="src-{int(c.marker)}" data-marker="{int(c.marker)}">'
            f'<div class="src-head"><span class="src-marker">[{int(c.marker)}]</span>{speaker}</div>'
            f'<div class="src-meta">{" · ".join(meta)}</div>'
            f'<div class="src-text">{_paragraph_html(c, paragraph)}</div>'
            "</div>"
        )
    count = len(cards)
    title = f'{count} source{"s" if count != 1 else ""} for “{esc(answer.question)}”'
    return f'<div class="sources"><div class="sources-title">{title}</div>{"".join(cards)}</div>'


# --------------------------------------------------------------------------- speakers

SPEAKERS_EMPTY = (
    '<div class="sources-empty">No one is quoted or reported in these documents: '
    "the attribution found no speaker.</div>"
)


def ask_about(name: str) -> str:
    """The question a click on a speaker puts in the chat box."""
    return f"What did {name} say about "


def speakers_panel(speakers: list, paragraph: Optional[Callable] = None) -> str:
    """A card per speaker (``rag.Speaker``): the name (a click asks about them),
    roles and organisations as the documents state them, and every statement in
    document order, highlighted in its paragraph with its source and page or span."""
    if not speakers:
        return SPEAKERS_EMPTY
    cards = []
    total = sum(len(sp.statements) for sp in speakers)
    for i, sp in enumerate(speakers, 1):
        count = len(sp.statements)
        head = (
            f'<div class="speaker-head"><button type="button" class="ask-speaker" '
            f'data-question="{esc(ask_about(sp.name))}" title="Ask what {esc(sp.name)} said">{esc(sp.name)}</button>'
            f'<span class="speaker-count">{count} statement{"s" if count != 1 else ""}</span>'
            + ("" if sp.kind == "person" else '<span class="speaker-kind">organisation or group</span>')
            + "</div>"
        )
        about = ""
        if sp.roles:
            about += f'<div class="speaker-roles">{esc("; ".join(sp.roles))}</div>'
        if sp.organisations:
            about += f'<div class="speaker-orgs">organisation: {esc("; ".join(sp.organisations))}</div>'
        items = []
        for j, st in enumerate(sp.statements, 1):
            where = [f'<span class="src-doc" title="{esc(st.source)}">{esc(st.source)}</span>']
            if st.page:
                where.append(f'<span class="src-page">p. {int(st.page)}</span>')
            else:
                where.append(f'<span class="src-span">characters {int(st.start)}–{int(st.end)}</span>')
            if st.section:
                where.append(f'<span class="src-section">{esc(st.section)}</span>')
            where.append(f'<span class="statement-kind">{"quotation" if st.quoted else "reported"}</span>')
            items.append(
                f'<li class="statement" id="statement-{i}-{j}" data-source="{esc(st.source)}" '
                f'data-start="{int(st.start)}" data-end="{int(st.end)}">'
                f'<div class="src-meta">{" · ".join(where)}</div>'
                f'<div class="src-text">{highlighted(st.source, st.start, st.end, st.text, paragraph)}</div></li>'
            )
        cards.append(f'<div class="speaker-card" id="speaker-{i}">{head}{about}<ol class="statements">{"".join(items)}</ol></div>')
    title = f'{len(speakers)} speaker{"s" if len(speakers) != 1 else ""}, {total} statement{"s" if total != 1 else ""}'
    hint = "Click a name to ask about them in the chat."
    return f'<div class="speakers"><div class="sources-title">{title}<span class="speakers-hint"> · {hint}</span></div>{"".join(cards)}</div>'


# --------------------------------------------------------------------------- export


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def conversation_markdown(turns: list, exported_at: str = "") -> str:
    """The conversation as Markdown: each question, its answer with numbered
    footnotes (the quote, document, page or span, and speaker), or the problem.

    ``turns`` are ``(question, Answer | None, error | None)``. Footnotes are
    numbered through the whole file, so each ``[n]`` of an answer becomes a unique ``[^k]``.
    """
    out = ["# Conversation with the documents"]
    if exported_at:
        out.append(f"\nExported {exported_at}. Every footnote quotes the source word for word.")
    number = 0
    for q, (question, answer, error) in enumerate(turns, 1):
        out.append(f"\n## {q}. {_one_line(question)}\n")
        if answer is None:
            out.append(f"*Not answered: {_one_line(error or 'something went wrong')}*")
            continue
        if answer.resolved_question and answer.resolved_question.strip() != (answer.question or "").strip():
            out.append(f"*Understood as: {_one_line(answer.resolved_question)}*\n")
        labels = {}
        for c in sorted(answer.citations, key=lambda c: c.marker):
            number += 1
            labels[c.marker] = number
        text = re.sub(r"\[(\d+)\]", lambda m: f"[^{labels[int(m.group(1))]}]" if int(m.group(1)) in labels else m.group(0),
                      _one_line(answer.text))
        out.append(text)
        out.append(f"\n*{MODE_LABELS.get(answer.mode, answer.mode)}*" + (f" — {_one_line(answer.notice)}" if answer.notice else ""))
        notes = []
        for c in sorted(answer.citations, key=lambda c: c.marker):
            where = f"p. {c.page}" if getattr(c, "page", None) else f"characters {c.start}–{c.end}"
            who = c.speaker or "narration (no speaker)"
            notes.append(f"[^{labels[c.marker]}]: “{_one_line(c.quote)}” — {who}. {c.source}, {where}"
                         + (f", section “{c.section}”" if c.section else "") + ".")
        if notes:
            out.append("\n" + "\n".join(notes))
    return "\n".join(out) + "\n"


def conversation_json(turns: list) -> list[dict]:
    """The answered turns as a list of ``rag ask --json`` objects."""
    return [answer.to_json() for _q, answer, _e in turns if answer is not None]


# --------------------------------------------------------------------------- documents, status


def _human_chars(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1_000:
        return f"{n / 1_000:.1f}k"
    return str(n)


def documents_table(docs: list[dict]) -> str:
    if not docs:
        return '<div class="docs-empty">No documents are indexed.</div>'
    rows = []
    for d in docs:
        tag = '<span class="badge badge-uploaded">uploaded</span>' if d.get("removable") else ""
        rows.append(
            f'<tr><td class="doc-src">{esc(str(d.get("source", "")))} {tag}</td>'
            f'<td class="num">{_human_chars(int(d.get("chars", 0)))}</td>'
            f'<td class="num">{int(d.get("passages", 0))}</td></tr>'
        )
    return (
        '<table class="docs-table"><thead><tr><th>document</th><th class="num">characters</th>'
        f'<th class="num">passages</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def status_banner(llm_status: str, startup_error: Optional[str] = None) -> str:
    status = llm_status or "unknown"
    lowered = status.lower()
    llm_down = any(w in lowered for w in ("unreachable", "unavailable", "error", "not found", "missing"))
    if startup_error and (startup_error in status or llm_down):
        # the language model is the problem: the assistant still answers, extractively
        return (
            '<div class="status-banner status-warn"><b>Running without the language model:</b> '
            "answers are quoted from the documents instead of written."
            f'<div class="status-sub">{esc(startup_error)}</div></div>'
        )
    if startup_error:
        return (
            '<div class="status-banner status-error"><b>The assistant could not fully start:</b> '
            f'{esc(startup_error)}<div class="status-sub">Language model: {esc(status)}</div></div>'
        )
    if llm_down:
        return (
            '<div class="status-banner status-warn"><b>Running without the language model:</b> '
            "answers are quoted from the documents instead of written."
            f'<div class="status-sub">{esc(status)}</div></div>'
        )
    return f'<div class="status-banner status-ok">Ready · language model: {esc(status)}</div>'
