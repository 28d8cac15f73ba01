"""Hypothesis strategies for whole documents, questions and adversarial model replies.

Used by ``tests/test_fuzz.py``. A generated document is a ``GeneratedDoc``:
the file name (its extension picks the reader: .txt, .md or .html) and the
bytes written to disk. The pieces are the hard cases for span arithmetic and
quote attribution: straight, curly, French and single quotation marks,
balanced, nested or left open (also across paragraphs); named speakers in the
patterns news writing uses ("Maren Odell said", "said Tomas Vrba, the
minister", "he told", "according to"); zero-width and right-to-left
characters; CRLF, CR and mixed line ends; Markdown headings, empty sections
and tables; HTML with scripts, entities, comments and broken tags; and, in a
few examples, a paragraph of about 100 KB.

All words and names here are made up for these tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, settings, strategies as st

# ``make fuzz`` sets FUZZ_LONG=1: every property test runs fifty times its CI
# examples (FUZZ_FACTOR=n for n times instead).
FACTOR = int(os.environ.get("FUZZ_FACTOR") or (50 if os.environ.get("FUZZ_LONG") == "1" else 1))


def fuzz_settings(ci: int) -> settings:
    """Hypothesis settings for a property test: ``ci`` examples in CI, fifty
    times as many under ``make fuzz``; no deadline (the machine is shared)."""
    return settings(
        max_examples=ci * FACTOR,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
        print_blob=True,
    )

NAMES = ["Maren Odell", "Tomas Vrba", "Ines Calderwood", "Kofi Mensah-Lark", "Yara Haddad", "Piet van Dorn"]
ROLES = ["the minister", "a spokeswoman", "the mayor of Eastbridge", "an analyst at the Halvard Institute",
         "the committee chair"]
WORDS = ("the harbour plan was delayed again because the budget ran short and the council met late "
         "on Tuesday to vote on bridges, tariffs, schools and a new ferry line; nobody expected 42 "
         "percent or $3.5 million in 2026").split()
ODD_WORDS = ["U.S.", "Mr.", "e.g.", "naïve", "Ωmega", "漢字", "😀", "שלום", "مرحبا", "x\u200by", "a\u200dz",
             "\u202eevil\u202c", "\u200fRTL", "\ufeffbom", "co\u00adop", "&amp;", "[1]", "[99]", "#tag", "|", "*",
             "--", "...", "'", "’", "‘", "«", "»", '"', "“", "”"]
VERBS = ["said", "says", "told reporters", "wrote", "added", "warned", "argued", "asked"]
OPEN_CLOSE = [('"', '"'), ("\u201c", "\u201d"), ("\u00ab", "\u00bb"), ("\u00ab\u00a0", "\u00a0\u00bb"),
              ("'", "'"), ("\u2018", "\u2019"), ("\u201e", "\u201c")]

word = st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from(ODD_WORDS),
                 st.sampled_from([n.split()[-1] for n in NAMES]))
phrase = st.lists(word, min_size=1, max_size=12).map(" ".join)


@st.composite
def quotation(draw) -> str:
    """A quotation: balanced, nested, or left open."""
    opening, closing = draw(st.sampled_from(OPEN_CLOSE))
    inner = draw(phrase)
    if draw(st.booleans()):
        o2, c2 = draw(st.sampled_from(OPEN_CLOSE))
        inner = f"{inner} {o2}{draw(phrase)}{c2 if draw(st.booleans()) else ''} {draw(phrase)}"
    end = draw(st.sampled_from([".", ",", "?", "!", ""]))
    kind = draw(st.sampled_from(["balanced", "balanced", "open", "close-only"]))
    if kind == "open":
        return f"{opening}{inner}{end}"
    if kind == "close-only":
        return f"{inner}{end}{closing}"
    return f"{opening}{inner}{end}{closing}"


@st.composite
def sentence(draw) -> str:
    name = draw(st.sampled_from(NAMES))
    surname = name.split()[-1]
    verb = draw(st.sampled_from(VERBS))
    q = draw(quotation())
    role = draw(st.sampled_from(ROLES))
    pattern = draw(st.integers(0, 9))
    return [
        f"{q} {surname} {verb}.",
        f"{q} said {name}, {role}.",
        f"{name}, {role}, {verb} that {draw(phrase)}.",
        f"{q} he {verb}.",
        f"According to {name}, {draw(phrase)}.",
        f"{draw(phrase).capitalize()}.",
        f"{draw(phrase).capitalize()} {q}",
        f"{role.capitalize()} {name} {verb}: {q}",
        f"{q}",
        f"{draw(phrase)}? {draw(phrase)}!",
    ][pattern]


paragraph_text = st.lists(sentence(), min_size=1, max_size=5).map(" ".join)


@st.composite
def paragraph(draw) -> str:
    # Rare, and shrinks away: a paragraph of about 100 KB (one sentence repeated).
    if draw(st.integers(0, 80)) == 80:
        one = draw(sentence()) + " "
        return (one * (100_000 // len(one) + 1)).strip()
    return draw(paragraph_text)


def _md_table(rows: list[list[str]]) -> str:
    width = max(len(r) for r in rows)
    lines = ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows]
    lines.insert(1, "|" + "---|" * width)
    return "\n".join(lines)


heading = st.tuples(st.integers(1, 3), st.sampled_from(["Harbour Plan", "Budget Talks", "What Odell Said",
                                                        "«Quoted» Heading", "Notes", "\u200bHidden Start"]))


@st.composite
def md_block(draw) -> str:
    kind = draw(st.sampled_from(["para", "para", "para", "heading", "empty-section", "table", "turn", "list"]))
    if kind == "heading":
        level, title = draw(heading)
        return "#" * level + " " + title
    if kind == "empty-section":
        (l1, t1), (l2, t2) = draw(heading), draw(heading)
        return "#" * l1 + " " + t1 + "\n\n" + "#" * l2 + " " + t2
    if kind == "table":
        rows = draw(st.lists(st.lists(phrase, min_size=1, max_size=3), min_size=1, max_size=4))
        return _md_table(rows)
    if kind == "turn":
        return f"{draw(st.sampled_from(NAMES)).split()[-1].upper()}: {draw(paragraph_text)}"
    if kind == "list":
        return "\n".join(f"- {s}" for s in draw(st.lists(sentence(), min_size=1, max_size=3)))
    return draw(paragraph())


@st.composite
def html_block(draw) -> str:
    kind = draw(st.sampled_from(["p", "p", "h", "script", "entities", "broken", "comment", "table", "nested"]))
    text = draw(paragraph_text).replace("&", "&amp;").replace("<", "&lt;")
    if kind == "h":
        level, title = draw(heading)
        return f"<h{level}>{title}</h{level}>"
    if kind == "script":
        return f"<script>document.title = \"{draw(phrase)}\"; alert('x')</script><p>{text}</p>"
    if kind == "entities":
        return f"<p>&ldquo;{draw(phrase)}&rdquo; &laquo;{draw(phrase)}&raquo; &#8220;x&#8221; &quot;q&quot; &nbsp;&amp;&#x200B;{text}</p>"
    if kind == "broken":
        return draw(st.sampled_from([f"<p>{text}", f"<p><b>{text}</p>", f"{text}</div>", f"<p {text}>",
                                     f"<a href='x>{text}</a>", f"<p>{text}</p></p></li>", f"<{text}"]))
    if kind == "comment":
        return f"<!-- {draw(phrase)} --><p>{text}</p><!-- unclosed"
    if kind == "table":
        cells = draw(st.lists(phrase, min_size=1, max_size=4))
        return "<table><tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr></table>"
    if kind == "nested":
        return f"<ul><li><p>{text}</p></li><li>{draw(paragraph_text)}</li></ul><blockquote>{text}</blockquote>"
    return f"<p>{text}</p>"


line_end = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def joined(draw, blocks: list[str]) -> str:
    """Blocks joined by blank lines, with one line-end style or a mix of them."""
    mixed = draw(st.booleans())
    fixed = draw(line_end)
    out = []
    for i, block in enumerate(blocks):
        if i:
            eol = draw(line_end) if mixed else fixed
            out.append(eol * draw(st.sampled_from([1, 2, 2, 3])))
        out.append(block if fixed == "\n" and not mixed else block.replace("\n", draw(line_end) if mixed else fixed))
    return "".join(out) + (draw(line_end) if draw(st.booleans()) else "")


@dataclass(frozen=True)
class GeneratedDoc:
    name: str
    data: bytes

    def __repr__(self) -> str:  # hypothesis prints this on failure: keep it replayable
        return f"GeneratedDoc({self.name!r}, {self.data[:2000]!r}{'...' if len(self.data) > 2000 else ''})"


@st.composite
def document(draw) -> GeneratedDoc:
    fmt = draw(st.sampled_from(["txt", "md", "html"]))
    if fmt == "html":
        blocks = draw(st.lists(html_block(), min_size=1, max_size=8))
        body = "\n".join(blocks)
        if draw(st.booleans()):
            body = f"<html><head><title>t</title><style>p {{}}</style></head><body>{body}</body></html>"
        text = body
    elif fmt == "md":
        text = draw(joined(draw(st.lists(md_block(), min_size=1, max_size=8))))
    else:
        text = draw(joined(draw(st.lists(paragraph(), min_size=1, max_size=8))))
    bom = "\ufeff" if draw(st.integers(0, 9)) == 9 else ""
    return GeneratedDoc(f"doc.{fmt}", (bom + text).encode("utf-8"))


@st.composite
def question(draw) -> str:
    name = draw(st.sampled_from(NAMES))
    return draw(st.sampled_from([
        f"What did {name} say about the harbour?",
        f"What did {name.split()[-1]} say?",
        f'Who said "{draw(phrase)}"?',
        f"Who is {draw(st.sampled_from(ROLES))}?",
        "When was the budget vote?",
        "How many percent?",
        "Who wrote the article?",
        draw(phrase) + "?",
        draw(st.text(min_size=1, max_size=60)),
    ]))


@st.composite
def follow_up(draw) -> str:
    return draw(st.sampled_from([
        "And what did he say about the ferry?", "What about Vrba?", "What about the budget?",
        "When did she say that?", "What did they say?", "And about Odell?", "Did he mention her?",
        "What about?", "about", "And his view?", "what about  ?", "How about Haddad and him?",
    ]) | st.text(min_size=1, max_size=40))


MARKERS = ["[1]", "[2]", "[3]", "[0]", "[99]", "[1, 2]", "[2;3]", "[1,1,1]", "[-1]", "[", "]", "[[1]]", "[1",
           "1]", "[a]", "[ 1 ]", "[12345678901234567890]", "【1】", "(1)", "[1][2][3]"]


@st.composite
def model_reply(draw, evidence_sentences: list[str]) -> str:
    """What a misbehaving model might write: copied evidence (so some of it
    passes verification), invented quotations, stray and out-of-range markers,
    unbalanced brackets and quotation marks, chatter and the no-answer phrase."""
    pieces = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.integers(0, 6))
        if kind <= 1 and evidence_sentences:
            pieces.append(draw(st.sampled_from(evidence_sentences)))
        elif kind == 2:
            pieces.append(f'{draw(st.sampled_from(NAMES))} said "{draw(phrase)}"')
        elif kind == 3:
            pieces.append(draw(quotation()))
        elif kind == 4:
            pieces.append(draw(st.sampled_from(["The answer is:", "I don't know.", "He said it.",
                                                "The text does not say.", "Sources: [1]", ""])))
        elif kind == 5:
            pieces.append(draw(st.text(max_size=40)))
        else:
            pieces.append(draw(phrase))
        pieces.append(draw(st.lists(st.sampled_from(MARKERS), max_size=3).map("".join)))
        pieces.append(draw(st.sampled_from([". ", " ", "\n", "", "! ", '." ', "?\u201d "])))
    return "".join(pieces)
