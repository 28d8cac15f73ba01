"""Quote attribution: who said each sentence of a news article.

Given the sentence passages of one document (from ``rag.parse``), this module
finds every quotation, works out its speaker and stamps ``speaker`` (full name
as first introduced in the document, or an organisation such as "Kremlin") and
``quoted`` on the passages. It also returns the document's people with the
roles the text gives them ("Kremlin spokesman", "the U.S. ambassador to
Russia"), which retrieval uses to resolve questions that name a role.

The rules are the ones news writing follows, applied deterministically:
  * ``"…," Peskov said`` / ``said Dmitry Suslov, a professor…`` / ``Suslov told
    RFE/RL`` name the speaker next to a speech verb (appositives skipped);
  * ``he said`` / ``she said`` is the person the text last made the subject
    of a sentence ("Suslov was blunter. Speaking to TV, he said …" is
    Suslov's), or else the most recent person who spoke;
  * a quotation with no attribution of its own continues the speaker of the
    paragraph, or, when a paragraph opens with one, the previous speaker;
  * ``a spokesman said`` / ``the report said`` fall back to the organisation
    that spoke last, ``the three diplomats wrote`` to the phrase that
    introduced "three …".
What it does not do: coreference beyond these patterns, or named-entity
recognition with a model; a sentence it cannot attribute keeps ``speaker=None``
rather than getting a guess.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace

from rag.parse import LOWER, UPPER
from rag.settings import IndexSettings
from rag.types import Passage

# Letter classes: rag.parse.UPPER and LOWER (Latin-1 and Latin Extended-A letters beside A-Z/a-z).

QUOTE_CHARS = '"\u201c\u201d'
SPEECH_VERBS = (
    "said|says|say|told|tells|wrote|writes|added|adds|asked|described|describes|reported|"
    "warned|stated|noted|argued|claimed|insisted|explained|signaling|signalling|"
    "saying|according to"
)
_VERB_RE = re.compile(rf"\b({SPEECH_VERBS})\b")
_ADVERBS = {"later", "also", "then", "has", "have", "had", "reportedly", "previously", "recently", "once", "again", "further"}
_PRONOUNS = {"he": "m", "she": "f", "they": "p"}
# Words of a role that say whether a later "he" or "she" can be that person.
_FEMALE_WORDS = {"spokeswoman", "chairwoman", "businesswoman", "congresswoman", "councilwoman", "mrs", "ms", "miss",
                 "madam", "actress", "wife", "mother", "daughter", "sister", "queen", "grandmother", "widow"}
_MALE_WORDS = {"spokesman", "chairman", "businessman", "congressman", "councilman", "mr", "sir", "husband", "father",
               "son", "brother", "king", "grandfather", "widower"}
_TITLES = {
    "President", "Secretary", "King", "Queen", "Prime", "Minister", "Ambassador", "Mr", "Mrs", "Ms",
    "Dr", "Professor", "Prof", "Senator", "Sen", "Gen", "General", "Chancellor", "Pope", "Prince",
    # Job titles written before a name ("Presenter Ruth Calloway", "Mayor Celia Abernathy").
    "Presenter", "Host", "Anchor", "Reporter", "Correspondent", "Editor", "Mayor", "Governor", "Councillor",
    "Councilor", "Commissioner", "Director", "Chair", "Chairman", "Chairwoman", "Chief", "Deputy", "Judge",
    "Justice", "Inspector", "Detective", "Sergeant", "Captain", "Colonel", "Spokesman", "Spokeswoman",
    "Spokesperson", "Analyst", "Economist", "Rev", "Father", "Sister", "Sir", "Dame", "Lord", "Lady",
}
_ORG_WORDS = {
    "House", "Department", "Council", "Center", "Centre", "University", "School", "Committee",
    "Endowment", "Airport", "International", "Union", "Nations", "Organization", "Organisation",
    "States", "Kingdom", "Risks", "Europe", "Radio", "Liberty", "Press", "War", "Peninsula", "Court",
    "Agency", "Ministry", "Office", "Institute", "Foundation", "Bank", "Company", "Party", "Times",
    "Post", "News", "Service", "Senate", "Congress", "Parliament", "Council", "Street", "City",
    "College", "Economics", "Intelligence", "Health", "Treaty", "Forces", "Army", "Navy",
    # Head nouns of organisations: "Valley Media Cooperative" is not a person
    # called Cooperative whom every "the cooperative" in a question names.
    "Cooperative", "Co-operative", "Association", "Society", "Trust", "Group", "Media", "Pharma", "Railways",
    "Railway", "Exchange", "Fund", "Corporation", "Inc", "Ltd", "Network", "Alliance", "Federation", "Authority",
    "Commission", "Board", "Hospital", "Museum", "Club", "Airlines", "Partners", "Holdings", "Industries",
    # Heads of addresses and places: "3 Birch Road" is nobody.
    "Road", "Avenue", "Square", "Quay", "Bridge", "Harbour", "Station",
}
_NAME_STOP = {
    "The", "A", "An", "In", "On", "At", "After", "Before", "But", "And", "However", "Meanwhile",
    "Neither", "Even", "Though", "While", "When", "Without", "For", "Along", "Efforts", "Ties",
    "Relations", "Initially", "Moreover", "Two", "Five", "Three", "That", "This", "There", "It",
    "Now", "By", "Critics", "Adding", "As", "Will", "What", "We", "They", "He", "She", "Free",
    "Russian", "Russia", "U.S.", "Saudi", "State", "New", "Ukrainian", "Soviet", "American", "Moscow", "Washington",
}
# Up to six capitalised words: a name may follow an organisation and a title
# ("City Council President Denise Okafor"); ``_Registry.scan`` strips them.
_NAME_RUN = re.compile(rf"(?:(?:[{UPPER}][{LOWER}]+(?:-[{UPPER}][{LOWER}]+)?|[{UPPER}]\.)\s+){{1,5}}[{UPPER}][{LOWER}]+(?:-[{UPPER}][{LOWER}]+)?")
# A phrase in commas between a subject and its verb describes the subject:
# "Suslov, a professor at…, said", "Greer, general manager of X, said",
# "Pettifer, of the Independents, said". A pronoun or a speech verb inside the
# commas is a clause of its own ("…, he said, …"), not a description.
_APPOSITIVE = re.compile(
    rf",\s+(?!(?:he|she|they|it|we|i|you)\b)(?:a|an|the|who|which|whose|then|[{LOWER}][\w'-]*)\b"
    rf"(?![^,;:]*\b(?:{SPEECH_VERBS})\b)[^,;:\"\u201c\u201d]*,"
)
_NUMBER_WORDS = "two|three|four|five|six|seven|eight|nine|ten|several|both"


@dataclass
class Person:
    name: str
    roles: list[str] = field(default_factory=list)


@dataclass
class Attribution:
    passages: list[Passage]
    # full name -> roles/descriptions given in the document
    people: dict[str, list[str]]


def _quote_spans(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """(open, close, closed) offsets of quotations inside one paragraph; an
    unclosed quotation runs to the end of the paragraph (news convention for a
    quote that continues in the next paragraph)."""
    marks = [i for i in range(start, end) if text[i] in QUOTE_CHARS]
    spans = []
    for k in range(0, len(marks) - 1, 2):
        spans.append((marks[k], marks[k + 1] + 1, True))
    if len(marks) % 2:
        spans.append((marks[-1], end, False))
    return spans


def _overlapping(starts: list[int], ends: list[int], lo: int, hi: int) -> range:
    """Indices of the spans ``(starts[i], ends[i])`` that overlap ``[lo, hi)``,
    for spans sorted and disjoint (quotations, or the sentences of a paragraph).

    By bisection, so a paragraph of thousands of sentences and quotations is
    not quadratic. Example: ``_overlapping([0, 10], [5, 20], 4, 12)`` -> ``range(0, 2)``
    """
    return range(bisect.bisect_right(ends, lo), bisect.bisect_left(starts, hi))


def _frame(text: str, start: int, end: int, quotes) -> str:
    """The sentence with quoted material replaced by ``Q`` (keeps the attribution)."""
    out, pos = [], start
    for qs, qe, _ in quotes:
        if qe <= start or qs >= end:
            continue
        out.append(text[pos:max(qs, start)])
        out.append(" Q ")
        pos = min(qe, end)
    out.append(text[pos:end])
    return re.sub(r"\s+", " ", "".join(out)).strip()


class _Registry:
    """People and organisations a document mentions, in order of introduction."""

    def __init__(self, settings: IndexSettings, common_words: frozenset[str] = frozenset()):
        self.settings = settings
        # Words the document also writes in lower case ("presenter",
        # "library"): capitalised, they are a role before a name or the head
        # noun of a place or institution, never a person's surname.
        self.common_words = common_words
        self.people: dict[str, Person] = {}
        self.by_last: dict[str, str] = {}

    def scan(self, sentence: str) -> None:
        for m in _NAME_RUN.finditer(sentence):
            words = m.group(0).split()
            while words and (
                words[0] in _NAME_STOP or words[0].rstrip(".") in _TITLES or re.fullmatch(rf"(?:[{UPPER}]\.)+", words[0])
            ):
                words = words[1:]
            if len(words) > 2 and words[0].lower() in self.common_words:
                words = words[1:]  # "Presenter Ruth Calloway": the role, then the name
            # A role the document gives someone, written as a title: "Trustee
            # Elin Sørby" (the attendance list says "Reza Moradi, Trustee").
            titles = self.role_heads()
            while len(words) > 1 and words[0].lower() in titles:
                words = words[1:]
            # A name does not take "the": "the Finance Officer" is a role,
            # "The Chair" a title, "the State Department" an organisation.
            if re.search(r"\b[Tt]he\s+$", sentence[:m.start()]) or m.group(0).startswith("The "):
                continue
            if self.by_role(words):
                continue  # "Finance Officer" in "Teodor Lyng, Finance Officer": his role
            titled = [i for i, w in enumerate(words[:-1]) if w.rstrip(".") in _TITLES]
            if titled:
                words = words[titled[-1] + 1:]  # "Finance Director Rajiv Castellano": the name follows the title
            if len(words) < 2 or any(w in _ORG_WORDS or w.rstrip(".") in _TITLES for w in words):
                continue
            if words[-1].lower() in self.common_words:
                continue  # "Orchard Lane Library": a place named like a person
            # A possessive or a run glued to an org word ("New York's John F.
            # Kennedy International Airport") is a place, not a person.
            after = sentence[m.end():m.end() + self.settings.org_lookahead_chars]
            if re.match(rf"\s+(?:[{UPPER}][{LOWER}]+\s+)?(?:" + "|".join(_ORG_WORDS) + r")\b", after) or after.startswith("'s "):
                continue
            name = " ".join(words)
            last = words[-1]
            # Two people may share a surname ("Bruno Marten, Ilse Marten's
            # brother"): a new full name is a new person; the bare surname
            # stays the one introduced first.
            known = self.by_last.get(last)
            new_person = known is None or (len(words) >= 2 and " ".join(words[:-1]) not in known.split()[:-1]
                                           and not set(words[:-1]) & set(known.split()[:-1])
                                           and known.split()[0] != words[0] and len(known.split()) >= 2)
            if name not in self.people and new_person:
                self.people[name] = Person(name)
                self.by_last.setdefault(last, name)
                prefix = sentence[: m.start() + m.group(0).find(words[0])]
                role = _role_before(prefix, self.settings.max_role_words)
                if role:
                    self.people[name].roles.append(role)
                # A role that opens the sentence, with the name in commas after
                # it: "Its technical director, Hanne Brodt, told …".
                opening = re.fullmatch(rf"(?:(?:The|Its|His|Her|Their|Our|My|A|An)\s+)?([{LOWER}][\w'-]*(?:\s+[\w'-]+){{0,6}}),\s*",
                                       prefix)
                if opening and not role:
                    self.people[name].roles.append(opening.group(1))
                # A list of people: "- Teodor Lyng, Finance Officer (non-voting)":
                # the line is the name and, after a comma, the role.
                listed = re.fullmatch(rf"\s*(?:[-*+\u2022]\s+)?,\s+([{UPPER}][\w'’-]*(?:\s+[\w'’-]+){{0,5}})\s*(?:\([^)]*\))?\s*\.?\s*",
                                      sentence[m.end():])
                if listed and not sentence[:m.start()].strip(" -*+\u2022"):
                    self.people[name].roles.append(listed.group(1))
                appositive = re.match(rf",\s+((?:a|an|the|who)\b[^,;:]*|[{LOWER}][\w'-]*(?:\s+[{LOWER}][\w'-]*){{0,3}}\s+(?:of|at|for)\s+[^,;:]*)[,.]",
                                      sentence[m.end():])
                if appositive:
                    self.people[name].roles.append(appositive.group(1).strip())

    def role_heads(self) -> set[str]:
        """Last words of the roles given so far ("trustee", "officer")."""
        return {role.split()[-1].lower() for person in self.people.values() for role in person.roles
                if role and role.split()[-1][:1].isupper()}

    def turn_speaker(self, paragraph: str) -> str | None:
        """The person a transcript paragraph is labelled with, if any.

        ``NAME:`` or ``SURNAME:`` opening a paragraph, in capitals or not, is
        a turn of that person when the name is someone the document
        introduces, or a full name of two or more words; a one-word label
        the document does not introduce ("Note:", "Update:") is not a turn.

        Example: ``turn_speaker("MERESKY: We met officials.")`` -> ``'Anton Meresky'``
        (when the document introduced Anton Meresky)
        """
        m = _TURN.match(paragraph)
        if not m:
            return None
        words = [w if not w.isupper() or len(w) < 2 else w.capitalize() for w in m.group(1).split()]
        if any(w.lower() in self.common_words for w in words):
            return None
        known = self.resolve(words)
        if known:
            return known
        if len(words) >= 2:
            name = " ".join(words)
            self.people.setdefault(name, Person(name))
            self.by_last.setdefault(words[-1], name)
            return name
        return None

    def by_role(self, words: list[str]) -> str | None:
        """The one person the document gives exactly this role ("the Finance
        Officer", "the Vice-Chair", "the Chair" for a "Board Chair"), else None.

        Example: ``by_role(["Finance", "Officer"])`` -> ``'Teodor Lyng'`` (listed as
        "Teodor Lyng, Finance Officer")
        """
        wanted = [w.lower() for w in words if w not in {"The", "the"}]
        if not wanted:
            return None
        holders = [name for name, person in self.people.items()
                   if any(role.lower().split()[-len(wanted):] == wanted for role in person.roles)]
        return holders[0] if len(holders) == 1 else None

    def resolve(self, words: list[str]) -> str | None:
        """A person's full name for a run of capitalised words, if known."""
        words = [w for w in words if w.rstrip(".") not in _TITLES]
        if not words:
            return None
        if len(words[-1]) > 2:
            # The sentence's full stop, not an initial: '…," said Ines Marchetti.'
            words[-1] = words[-1].rstrip(".")
        name = " ".join(words)
        if name in self.people:
            return name
        return self.by_last.get(words[-1])


_FUNCTION_WORDS = {
    "the", "a", "an", "to", "after", "before", "by", "with", "and", "or", "between", "for", "from",
    "in", "on", "at", "as", "that", "said", "told", "his", "her", "their", "its", "but", "then",
}


def _role_before(prefix: str, max_words: int) -> str | None:
    """The role words right before a name: 'But Kremlin spokesman ' -> 'Kremlin spokesman'."""
    words = prefix.rstrip().split(" ") if prefix.strip() else []
    role: list[str] = []
    while words and len(role) < max_words:
        w = words[-1]
        if not w or w[-1] in ",;:\"'" or w.lower() in _FUNCTION_WORDS:
            break
        if w == "of" and not (role and role[0][:1].isupper()):
            break
        role.insert(0, words.pop())
    while role and role[0] in {"But", "And", "The", "A", "In", "On", "of"}:
        role.pop(0)
    if not role or not any(w[:1].islower() or w.rstrip(".") in _TITLES for w in role):
        return None
    return " ".join(role)


def _left_tokens(text: str) -> list[str]:
    return re.findall(rf"[{UPPER}{LOWER}][\w.'/-]*|[,;:]|\S", text)


class _Attributor:
    def __init__(self, registry: _Registry, settings: IndexSettings):
        self.registry = registry
        self.settings = settings
        self.last_person: str | None = None
        self.last_org: str | None = None
        self.last_org_paragraph = 0
        self.history: list[str] = []  # sentences so far, for antecedents
        self.paragraph = 0  # the paragraph being read
        # People in the order the text last named them or made them a
        # subject, with the paragraph where that happened, for "he"/"she".
        self.recent: list[tuple[str, int]] = []
        # People named since the last one ``note``d, in a sentence whose
        # subject was not found: "His colleague on the review, Maja Roos, …,
        # disagreed." A "she" right after may well be Maja Roos, so it is
        # nobody's rather than the person noted before her.
        self.unplaced: list[str] = []
        self.gender: dict[str, str] = {}  # "m"/"f", from roles and resolved pronouns

    def _gender_of(self, who: str) -> str | None:
        if who not in self.gender:
            person = self.registry.people.get(who)
            words = {w.lower().strip(".") for role in (person.roles if person else []) for w in role.split()}
            female, male = words & _FEMALE_WORDS, words & _MALE_WORDS
            if bool(female) != bool(male):
                self.gender[who] = "f" if female else "m"
        return self.gender.get(who)

    def referent(self, pronoun: str) -> str | None:
        """Whom "he" or "she" stands for: the person the text last named or
        made a subject, in this paragraph or the one before, skipping anyone
        the text has shown to be of the other gender ("she" is not the man
        quoted just before). None when no one fits: an unattributed sentence
        is better than a misattributed one."""
        wanted = _PRONOUNS.get(pronoun)
        if wanted not in ("m", "f"):
            return None
        for who, paragraph in reversed(self.recent):
            if paragraph < self.paragraph - 1:
                return None
            if any(other != who and self._gender_of(other) in (None, wanted) for other in self.unplaced):
                return None  # someone named since could be meant as well
            if self._gender_of(who) in (None, wanted):
                self.gender[who] = wanted
                return who
        return None

    def subject(self, frame: str) -> str | None:
        """The speaker named by the first speech verb of a frame that has one."""
        clean = _APPOSITIVE.sub("", frame)
        for m in _VERB_RE.finditer(clean):
            who = self._subject_at(clean, m)
            if who:
                return who
        return None

    def _subject_at(self, clean: str, m: re.Match) -> str | None:
        left = _left_tokens(clean[: m.start()])
        if left and left[-1].lower() in {"was", "were", "been", "being"}:
            return None  # "Peskov was asked": spoken to, not speaking
        while left and left[-1].lower() in _ADVERBS:
            left.pop()
        if m.group(1).endswith("ing"):
            # A participle ("…, while also signaling that…") shares the
            # subject of its main clause: the first person the frame names.
            for run in _NAME_RUN.finditer(clean[: m.start()]):
                who = self.registry.resolve(run.group(0).split())
                if who:
                    return who
            return None
        # Inverted attribution after a quotation: 'Q, said Dmitry Suslov'
        if m.group(1) in ("said", "says") and (not left or left[-1] in {",", "Q"}):
            run = re.match(rf"\s+((?:[{UPPER}][\w.'-]*\s*)+)", clean[m.end():])
            if run:
                who = self.registry.resolve(run.group(1).split())
                if who:
                    return who
        if not left:
            return None
        if left[-1] == ",":
            # "The fisheries officer for the district, Paul Engert, said …":
            # a name in commas right before the verb is the speaker.
            i, run = len(left) - 2, []
            while i >= 0 and left[i][:1].isupper() and left[i] != "Q":
                run.insert(0, left[i])
                i -= 1
            who = self.registry.resolve(run) if run else None
            # In commas, any name the document introduced is the speaker. With
            # no comma before it, only a person is: in "Speaking on radio, the
            # party's spokeswoman, Maja Brandt, said …" the description in
            # commas is gone (``_APPOSITIVE``) and the name follows the lead-in.
            if who and ((i >= 0 and left[i] == ",") or who in self.registry.people):
                return who
        prev = left[-1]
        if prev.lower() in {"but", "and"} and "," not in left and "Q" not in left:
            # "Okafor welcomed the plan but said …": a second verb shares the
            # subject the sentence opened with.
            return self.topic(clean)
        if prev.lower() == "who":
            # "…was Ingrid Solheim, 64, who said …": the relative pronoun
            # stands for the name before it (past an age or a comma).
            i = len(left) - 2
            while i >= 0 and (left[i] == "," or left[i].isdigit()):
                i -= 1
            run = []
            while i >= 0 and left[i][:1].isupper() and left[i] != "Q":
                run.insert(0, left[i])
                i -= 1
            return self.registry.resolve(run) if run else None
        if prev.lower() in _PRONOUNS:
            return self.referent(prev.lower())
        if prev[:1].isupper() and prev not in {"Q"}:
            run = [prev]
            i = len(left) - 2
            while i >= 0 and left[i][:1].isupper() and left[i] != "Q":
                run.insert(0, left[i])
                i -= 1
            determiner = i >= 0 and left[i].lower() == "the"
            while run and run[0] in {"The", "A", "An", "But", "And"}:
                determiner = determiner or run[0] == "The"
                run.pop(0)
                i += 1
            before = [t.lower() for t in left[max(0, i - 1): i + 1]]
            if not run or "of" in before:
                # "Per Sandvik of the Northern Water Authority said": the
                # person before "of" speaks; "Critics of the White House
                # said" has no person there, so nobody does.
                j = i - 1 if left[i].lower() == "the" else i
                if j >= 0 and left[j].lower() == "of":
                    k, person = j - 1, []
                    while k >= 0 and left[k][:1].isupper() and left[k] != "Q":
                        person.insert(0, left[k])
                        k -= 1
                    who = self.registry.resolve(person) if person else None
                    if who in self.registry.people:
                        return who
                return None
            who = self.registry.resolve(run)
            if who:
                return who
            if determiner:
                # "The Finance Officer said": the one person with that role.
                who = self.registry.by_role(run)
                if who:
                    return who
            if all(w.rstrip(".") in _TITLES for w in run):
                # "the Mayor said": the one person the text gave that title,
                # not an organisation called "Mayor"; nobody when it is unclear.
                titled = [name for name, person in self.registry.people.items()
                          if any(w.lower() in role.lower().split() for role in person.roles for w in run)]
                return titled[0] if len(titled) == 1 else None
            if determiner or (len(run) > 1 and any(w in _ORG_WORDS for w in run)):
                # An organisation: "the State Department said", "Carvell Pharma said".
                return " ".join(run)
            return None
        # A common noun subject: "a spokesman said", "the report said".
        head = prev.lower()
        if head in {"spokesman", "spokeswoman", "spokesperson", "report", "statement", "ministry", "embassy"}:
            # "A spokesman said" speaks for the organisation that spoke just
            # before (at most two paragraphs up), not one from far above.
            return self.last_org if self.last_org_paragraph >= self.paragraph - 2 else None
        number = next((t.lower() for t in left[-self.settings.number_subject_tokens:] if re.fullmatch(_NUMBER_WORDS, t.lower())), None)
        if number:
            return self._antecedent(number)
        return None

    def _antecedent(self, number: str) -> str | None:
        """'the three diplomats' -> 'three former U.S. ambassadors to Ukraine'."""
        for sentence in reversed(self.history):
            m = re.search(
                rf"\b({number}\s+(?:[\w.-]+\s+){{0,{self.settings.antecedent_gap_words}}}?[{LOWER}]+s(?:\s+(?:to|of|from)\s+[{UPPER}][\w.]*(?:\s+[{UPPER}][\w.]*)*)?)\s+(?:published|wrote|said|signed|have|had|were|are)\b",
                sentence,
            )
            if m:
                return m.group(1)
        return None

    def topic(self, frame: str) -> str | None:
        """The person a sentence is about, when a known name is its subject.

        English puts the subject first: a sentence that opens (after a
        conjunction or a short lead-in adverb) with a person's name makes that
        person what a following "he"/"she" refers to, whether or not the
        sentence reports speech. A possessive ("Putin's spokesman") or a name
        after a preposition is not the subject.

        Example: ``topic("Suslov was blunter.")`` -> ``'Dmitry Suslov'``
        (when the document introduced Dmitry Suslov)
        """
        m = _SUBJECT_START.match(frame)
        if not m:
            return None
        words = m.group("name").split()
        if m.group("after").startswith("'"):
            return None  # "Putin's spokesman": the head is the spokesman
        if words[0] == "The":
            # "The Vice-Chair disagreed.": the one person with that role.
            return self.registry.by_role(words[1:])
        return self.registry.resolve(words)

    def unnamed_subject(self, frame: str) -> str | None:
        """The role a sentence's subject has when it names no one ("the
        Principal laughed" -> "the principal"), or None. Its gender, when the
        word tells it, is recorded for ``referent``."""
        m = _UNNAMED_SUBJECT.match(frame)
        if not m:
            return None
        head = m.group("head").lower()
        if head not in _PERSON_NOUNS and not _PERSON_SUFFIX.fullmatch(head) and head not in self.registry.role_heads():
            return None
        who = f"the {head}"
        if head in _FEMALE_WORDS or head in _MALE_WORDS:
            self.gender[who] = "f" if head in _FEMALE_WORDS else "m"
        return who

    def mentioned(self, frame: str) -> list[str]:
        """The people a sentence names (outside quotations), in order."""
        found = []
        for run in _NAME_RUN.finditer(frame):
            words = [w for w in run.group(0).split() if w not in _NAME_STOP]
            who = self.registry.resolve(words) if words else None
            if who in self.registry.people and who not in found:
                found.append(who)
        return found

    def note(self, who: str | None) -> None:
        if not who:
            return
        if who in self.registry.people:
            self.last_person = who
            self.recent = [r for r in self.recent if r[0] != who] + [(who, self.paragraph)]
            self.unplaced = []
        else:
            self.last_org = who
            self.last_org_paragraph = self.paragraph


# What may open a sentence before its subject: a conjunction or adverb, and
# a lead-in clause ("Asked whether it could fail again, Pellen was blunt.").
_LEAD_IN = (
    r"^(?:(?:But|And|Yet|Still|So|Then|Meanwhile|However|Later|Earlier),?\s+)?"
    rf"(?:(?:[{UPPER}][{LOWER}]+(?:ed|ing)|When|After|Before|While|Although|Though|As|Once|Since|Until|Unlike|Like|Despite|"
    r"On|In|At|By|For|During|Over|From|Within|Across|Through|Under|With|Without|Along|Around|Last|Earlier|Later|"
    r"Today|Yesterday|This|Every)\b[^,]{0,100},\s+)?"
)
# A sentence that opens with a name, after at most a conjunction or one
# lead-in adverb ("But", "Still,"), and goes on with a verb-like word.
_SUBJECT_START = re.compile(_LEAD_IN + (
    # a subject named in apposition: "My deputy, Joanna Whitlock, put it best",
    # "The mayor of Brenholm, Tomas Haug, was more cautious"
    rf"(?:(?:My|Our|His|Her|Their|Its|The|A|An)\s+(?:[{LOWER}'-]+\s+){{0,4}}[{LOWER}-]+"
    rf"(?:\s+(?:of|for|at)\s+(?:the\s+)?[{UPPER}][\w-]*(?:\s+[{UPPER}][\w-]*){{0,3}})?,\s+(?=[^,]+,))?"
    # a role before the name: "Port director Lene Okoro spoke …"
    rf"(?:[{UPPER}][{LOWER}]+\s+(?:[{LOWER}-]+\s+){{1,2}}(?=(?:[{UPPER}][{LOWER}]+\s+){{1,3}}[{LOWER}]))?"
    rf"(?P<name>(?:[{UPPER}][{LOWER}]+(?:-[{UPPER}][{LOWER}]+)?\.?\s+){{0,5}}[{UPPER}][{LOWER}]+(?:-[{UPPER}][{LOWER}]+)?)"
    rf"(?P<after>'s?\b|\s+[{LOWER}]|,)"
))


# Nouns for people by role, work or kin: English words, not names from any
# document. A sentence whose subject is one of them ("Asked whether the roof
# would be fixed, the Principal laughed.") is about someone the text does not
# name, and a "she" after it is that person, not the woman named before.
_PERSON_NOUNS = {
    "man", "woman", "boy", "girl", "person", "parent", "mother", "father", "son", "daughter", "brother", "sister",
    "wife", "husband", "neighbour", "neighbor", "resident", "official", "expert", "spokesman", "spokeswoman",
    "spokesperson", "principal", "superintendent", "director", "manager", "owner", "chair", "chairman",
    "chairwoman", "head", "officer", "inspector", "engineer", "driver", "worker", "farmer", "teacher", "doctor",
    "nurse", "lawyer", "judge", "minister", "mayor", "councillor", "councilor", "trustee", "member", "presenter",
    "reporter", "journalist", "editor", "analyst", "economist", "scientist", "researcher", "professor", "student",
    "pupil", "captain", "pilot", "passenger", "customer", "visitor", "volunteer", "witness", "survivor", "victim",
    "campaigner", "organiser", "organizer", "founder", "secretary", "treasurer", "clerk", "fisherman", "shopkeeper",
    "landlord", "tenant",
}
# …and nouns of a profession or a side ("hydrologist", "librarian", "activist").
_PERSON_SUFFIX = re.compile(rf"[{LOWER}]{{3,}}(?:ist|ian)")
_UNNAMED_SUBJECT = re.compile(
    _LEAD_IN + rf"(?:the|a|an|one|The|A|An|One)\s+(?:[{LOWER}'\u2019-]+\s+){{0,2}}(?P<head>[{UPPER}{LOWER}][{LOWER}-]+)\s+[{LOWER}]"
)


# A transcript label: one to three capitalised words and a colon opening a paragraph.
_TURN = re.compile(rf"([{UPPER}][{UPPER}{LOWER}.'\u2019-]*(?:\s+[{UPPER}][{UPPER}{LOWER}.'\u2019-]*){{0,2}})\s*:\s")


def attribute(passages: list[Passage], text: str, settings: IndexSettings = IndexSettings()) -> Attribution:
    """Stamp ``speaker``/``quoted`` on the sentence passages of one document."""
    registry = _Registry(settings, frozenset(re.findall(rf"\b[{LOWER}][{LOWER}'-]+\b", text)))
    for p in passages:
        if p.kind == "sentence":
            registry.scan(p.text)
    attributor = _Attributor(registry, settings)

    out: list[Passage] = []
    paragraphs: dict[int, list[int]] = {}
    for i, p in enumerate(passages):
        if p.kind == "sentence":
            paragraphs.setdefault(p.paragraph, []).append(i)
    speakers: dict[int, tuple[str | None, bool]] = {}
    carry_open = False  # previous paragraph ended inside an unclosed quotation

    for number in sorted(paragraphs):
        idx = paragraphs[number]
        attributor.paragraph = number
        ps = [passages[i] for i in idx]
        start, end = ps[0].start, ps[-1].end
        quotes = _quote_spans(text, start, end)
        # A transcript turn ("MERESKY: We met officials…"): the paragraph is
        # the labelled person's own words, except what they quote others saying.
        turn = registry.turn_speaker(text[start:end])
        if turn:
            attributor.note(turn)
        # Who the frame of each sentence names.
        # In reading order, so a pronoun refers to whoever the sentences
        # before it named as a speaker or made their subject.
        q_starts, q_ends = [q[0] for q in quotes], [q[1] for q in quotes]
        p_starts, p_ends = [p.start for p in ps], [p.end for p in ps]
        named: list[str | None] = []
        for p in ps:
            frame = _frame(text, p.start, p.end, [quotes[q] for q in _overlapping(q_starts, q_ends, p.start, p.end)])
            who = attributor.subject(frame)
            named.append(who)
            placed = who or attributor.topic(frame)
            attributor.note(placed)
            if not placed:
                attributor.unplaced += attributor.mentioned(frame)
                unnamed = attributor.unnamed_subject(frame)
                if unnamed:
                    attributor.unplaced.append(unnamed)
        para_speaker: str | None = None
        # Speaker of each quotation: a name in the frame of any sentence it touches.
        quote_speaker: dict[int, str | None] = {}
        for q, (qs, qe, _) in enumerate(quotes):
            touching = _overlapping(p_starts, p_ends, qs, qe)
            who = next((named[k] for k in touching if named[k]), None)
            quote_speaker[q] = who
        for k, p in enumerate(ps):
            inside = list(_overlapping(q_starts, q_ends, p.start, p.end))
            quoted = bool(inside)
            who = named[k] or next((quote_speaker[q] for q in inside if quote_speaker[q]), None)
            if turn:
                who, quoted = (named[k] if inside and named[k] else turn), True
            # Scare quotes ("reset") are nobody's speech: only a quotation
            # that opens a paragraph or follows a speaker continues one.
            if who is None and quoted:
                opens_paragraph = text[ps[0].start] in QUOTE_CHARS
                if para_speaker:
                    who = para_speaker
                elif (opens_paragraph or carry_open) and _is_speech(text, quotes, inside, settings.scare_quote_max_words):
                    who = attributor.last_person if k == 0 or carry_open else None
            if who:
                para_speaker = who
                if not named[k]:  # named speakers were noted in reading order above
                    attributor.note(who)
            speakers[idx[k]] = (who, quoted)
            attributor.history.append(p.text)
        carry_open = bool(quotes) and not quotes[-1][2]

    for i, p in enumerate(passages):
        who, quoted = speakers.get(i, (None, False))
        out.append(replace(p, speaker=who, quoted=quoted))
    people = {name: person.roles for name, person in registry.people.items()}
    return Attribution(out, people)


def _is_speech(text: str, quotes, inside: list[int], scare_quote_max_words: int) -> bool:
    """A quotation long enough to be speech rather than a quoted term."""
    return any(len(text[quotes[q][0]:quotes[q][1]].split()) > scare_quote_max_words for q in inside)
