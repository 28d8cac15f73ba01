"""Who said what: every speaker the attribution found, with their roles and statements.

``collect_speakers(documents, passages, people)`` turns the attributed
passages of an index into ``Speaker``s: each with the roles and
organisations the documents give them, and every quotation or reported
statement of theirs, in document order, as exact spans (consecutive sentences
of one paragraph attributed to the same speaker form one statement). It is
what ``Assistant.speakers()``, ``rag speakers`` and the UI's Speakers tab
show, so the attribution can be audited.

Roles come from ``rag.attribute`` (the words before a name at its first
mention, and an appositive after it) and, for every later mention of the
name, from the grammar of apposition, not from word lists:
``NAME, chair of the Tallis Valley Growers' Cooperative,`` (a noun phrase
set off by commas that opens in lower case) and ``My deputy, NAME,`` (one
before the name). Organisations are the capitalised complement of ``at``,
``of``, ``for`` or ``with`` in a role, or the object of ``heads``/``chairs``/
``leads``/``runs``. What it does not do: decide speakers (``rag.attribute``)
or resolve one person written two ways across documents (names are kept as
each document introduces them).
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from rag.parse import LOWER, UPPER
from rag.types import Document, Passage, Speaker, Statement

# Letter classes: rag.parse.UPPER and LOWER (Latin-1 and Latin Extended-A letters beside A-Z/a-z).

# An appositive after the name: ", <noun phrase>," (or "." / "said"). A role
# opens in lower case ("chair of …", "a professor …", "who heads …") and
# stays inside its sentence.
_TOKEN = r"[^\s,;:()\"“”.]+(?:\.[^\s,;:()\"“”.]+)*\.?"
_AFTER = rf",\s+([{LOWER}][\w'’-]*(?:\s+{_TOKEN}){{0,14}}?)\s*(?=[,;)]|\.(?:\s|$)|\s+(?:said|says|told)\b)"
# An appositive before it: "My deputy, NAME," / "The council's treasurer, NAME,".
_BEFORE = rf"(?:^|[.;:]\s+|\b)(?:[Mm]y|[Oo]ur|[Hh]is|[Hh]er|[Tt]heir|[Tt]he)\s+((?:[{LOWER}][\w'’-]*\s+){{0,3}}[{LOWER}][\w'’-]*),\s+$"
# Closed word classes that show a phrase is a clause, not a noun phrase:
# "NAME, was defeated …", "NAME, thank you …", "NAME, put it best …".
_BE = {"is", "are", "was", "were", "be", "been", "being", "has", "have", "had"}
_NOT_NP_START = _BE | {"do", "does", "did", "will", "would", "can", "could", "should", "may", "might", "must"}
_PRONOUNS = {"i", "me", "you", "he", "him", "she", "it", "we", "us", "they", "them"}
# An institution: the capitalised complement of at/of/for/with (or of heads/
# chairs/leads/runs), after at most two modifiers ("the London-based company").
# A run ending in a possessive takes the noun it qualifies ("County's transport committee").
_ORG = re.compile(
    rf"\b(?:at|of|for|with|heads|chairs|leads|runs)\s+(?:the\s+)?(?:(?:[{LOWER}][\w-]*|[{UPPER}]\w*-[{LOWER}]+)\s+){{0,2}}?"
    rf"((?:[{UPPER}][\w'’.&]*(?:-[{UPPER}][\w'’.&]*)*)(?:\s+(?:(?:of|at|for|and|the|de|du)\s+)*[{UPPER}][\w'’.&]*(?:-[{UPPER}][\w'’.&]*)*)*"
    rf"(?:(?<=['’]s)(?:\s+[{LOWER}][\w-]*){{1,3}})?)(?![\w-])"
)


def _clean_role(role: str) -> Optional[str]:
    role = " ".join(role.split()).strip(" ,;:")
    role = role.rsplit(" — ", 1)[-1].rsplit(" - ", 1)[-1]  # a dateline glued on: "CITY — Mayor"
    words = role.split()
    if not words or words[-1].lower() in _BE or len(words) > 25:
        return None  # "companies named are": a clause, not a role
    if words[0].lower() in _NOT_NP_START or any(w.lower().strip("'’") in _PRONOUNS for w in words):
        return None
    # A finite verb makes a clause ("the question is not whether …"), unless
    # a relative pronoun opens it inside the role ("an engineer who has …").
    if any(w.lower() in _NOT_NP_START and words[i - 1].lower() not in {"who", "which", "that"}
           for i, w in enumerate(words[1:], 1)):
        return None
    return role


def stated_roles(text: str, name: str, others: Iterable[str] = ()) -> list[str]:
    """Roles the text gives ``name`` in apposition, at any mention of the full
    name, or of the surname alone opening a sentence ("Lee, a pilot, …")
    before anyone else in ``others`` with that surname is introduced.

    Example: ``stated_roles("Ann Lee, chair of the Harbour Trust, said so.", "Ann Lee")``
    -> ``['chair of the Harbour Trust']``
    """
    roles = []
    surname = name.split()[-1]
    mentions = list(re.finditer(re.escape(name), text))
    if len(name.split()) > 1:
        # Until someone else with that surname is introduced, it is unambiguous.
        until = min((text.find(o) for o in others if o != name and o.split()[-1] == surname and o in text),
                    default=len(text))
        mentions += [m for m in re.finditer(rf"(?:^|(?<=[.!?]\s)|(?<=\n)){re.escape(surname)}(?=,)", text)
                     if m.start() < until]
    for m in mentions:
        # A name after a preposition is not the subject a role describes:
        # "For Ilse Marten, the question is …".
        if re.search(r"\b(?:[Ff]or|[Tt]o|[Ww]ith|[Ff]rom|[Bb]y|[Aa]bout|[Ll]ike)\s+$", text[max(0, m.start() - 6):m.start()]):
            continue
        before = re.search(_BEFORE, text[max(0, m.start() - 80):m.start()])
        if before:
            # "Our pilot, NAME, disagreed": the name is itself the appositive,
            # and the comma after it closes it; what follows is the predicate.
            roles.append(before.group(1))
            continue
        after = re.match(_AFTER, text[m.end():m.end() + 240])
        if after:
            roles.append(after.group(1))
    return [r for r in map(_clean_role, roles) if r]


def organisations(roles: Iterable[str]) -> list[str]:
    """Institutions named in roles: the capitalised complement of at/of/for/with/heads….

    Example: ``organisations(["a professor at the European University at St. Petersburg"])``
    -> ``['European University at St. Petersburg']``
    """
    out = []
    for role in roles:
        found = [m.group(1).rstrip(".") for m in _ORG.finditer(role)]
        if found:
            out.append(found[-1])  # the last: "… for Russia at the National Intelligence Council"
    return list(dict.fromkeys(o for o in out if o))


def _statements(doc: Document, passages: list[Passage]) -> list[tuple[str, Statement]]:
    """(speaker, statement) for one document, consecutive sentences merged."""
    out: list[tuple[str, Statement]] = []
    run: list[Passage] = []

    def flush():
        if run:
            a, b = run[0].start, run[-1].end
            out.append((run[0].speaker, Statement(
                source=doc.source, start=a, end=b, text=doc.text[a:b], quoted=any(p.quoted for p in run),
                section=run[0].section, paragraph=run[0].paragraph, page=doc.page_at(a))))
            run.clear()

    for p in sorted((p for p in passages if p.source == doc.source), key=lambda p: p.start):
        if run and (p.speaker != run[-1].speaker or p.paragraph != run[-1].paragraph
                    or p.quoted != run[-1].quoted or p.kind != "sentence"):
            flush()
        if p.speaker and p.kind == "sentence":
            run.append(p)
    flush()
    return out


def collect_speakers(
    documents: dict[str, Document],
    passages: list[Passage],
    people: dict[str, dict[str, list[str]]],
    source: Optional[str] = None,
) -> list[Speaker]:
    """Every speaker in ``documents`` (or only ``source``), in order of their first statement."""
    found: dict[str, list[Statement]] = {}
    for name in sorted(documents):
        if source is not None and name != source:
            continue
        for who, statement in _statements(documents[name], passages):
            found.setdefault(who, []).append(statement)
    speakers = []
    for who, statements in found.items():
        rosters = [people.get(s, {}) for s in dict.fromkeys(st.source for st in statements)]
        is_person = any(who in roster for roster in rosters)
        roles: list[str] = []
        for src in dict.fromkeys(st.source for st in statements):
            roles += people.get(src, {}).get(who, [])
            roles += stated_roles(documents[src].text, who, people.get(src, {}))
        cleaned = list(dict.fromkeys(r for r in map(_clean_role, roles) if r))
        speakers.append(Speaker(
            name=who, kind="person" if is_person else "organisation", roles=tuple(cleaned),
            organisations=tuple(organisations(cleaned)), statements=tuple(statements)))
    return speakers
