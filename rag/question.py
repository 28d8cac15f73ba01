"""Question analysis: what a question asks for, and about whom.

Every later stage asks the same few things about a question, and this module
answers them, deterministically, from the question's words:
  * who it asks about as a speaker, as written (``question_subject``); which
    people it names by name, surname or role (``named_speakers``); whose words
    it wants (``speaker_focus``);
  * what the answer must contain: a date, an amount, a number, names
    (``asked_details``, ``expected_detail``, ``focus_noun``, ``counted_noun``,
    ``asks_for_names``);
  * names the documents never mention (``unknown_names``);
  * whether it asks two things at once (``two_part``);
  * whether it asks about the document itself: its author, date,
    publisher or title (``document_facets``);
  * what a follow-up means after the last answer (``resolve_follow_up``:
    pronouns and ellipsis, by rules, because a 135M model cannot condense a
    conversation reliably).

The people come from a ``PeopleIndex`` and the corpus's words from
``CorpusFacts``: small values built once per index and passed in, so this
module never reaches into the retriever.

What it does not do: rank passages (``rag.retrieve``), check answers against
evidence (``rag.verify``), or call a model. It understands English question
patterns only; a question it cannot analyse gets the neutral answer (no
subject, no detail, no follow-up rewrite), never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

from rag.parse import LOWER, STOPWORDS, UPPER
from rag.settings import RetrievalSettings, VerifySettings
from rag.types import Answer

# Letter classes: rag.parse.UPPER and LOWER (Latin-1 and Latin Extended-A letters beside A-Z/a-z).

# A quotation inside a question or an answer sentence: straight or curly quotes.
QUOTATION = re.compile(r'"([^"]{3,})"|\u201c([^\u201d]{3,})\u201d')

# Words that frame a question rather than say what it is about: the
# stopwords, the question words, the verbs of asking for an opinion ("think",
# "view") and the imperatives people ask with. Also what a capitalised first
# word of a question usually is: capitalised by position, not a name.
QUESTION_WORDS = STOPWORDS | {
    "how", "where", "why", "whom", "whose", "should", "think", "view", "views",
    "tell", "give", "list", "name", "describe", "explain", "summarize", "summarise", "please",
}

_WORD = re.compile(rf"[{UPPER}{LOWER}][{UPPER}{LOWER}.'-]*[{UPPER}{LOWER}]|[{UPPER}{LOWER}]")


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning, in a question or a role.

    Example: ``content_words("What did the Kremlin spokesman say?")`` -> ``{"kremlin", "spokesman"}``
    """
    return {re.sub(r"'s?$", "", w.lower()).strip(".'") for w in _WORD.findall(text)} - QUESTION_WORDS


# -- what the corpus knows -------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone (or an organisation) whose words the documents report."""

    name: str  # full name as first introduced ("Dmitry Peskov"), or an organisation ("Kremlin")
    names: tuple[str, ...]  # lower-cased forms that name them: the full name, then the surname
    roles: tuple[frozenset[str], ...]  # content words of each role the documents give them
    is_person: bool = True  # False for an organisation that speaks but was never introduced as a person
    heads: tuple[str, ...] = ()  # each role's head noun ("director" of "a director of risk analysis at …")


_ROLE_PREPOSITION = re.compile(r"\b(?:of|at|for|to|in|with|from|on|and)\b", re.I)


def role_head(role: str) -> Optional[str]:
    """The noun a role is named by: its last content word before the first
    preposition, lower-cased.

    Example: ``role_head("a director of global risk analysis at Control Risks")`` -> ``"director"``;
    ``role_head("City Council President")`` -> ``"president"``
    """
    words = [w.lower() for w in _WORD.findall(_ROLE_PREPOSITION.split(role)[0])]
    words = [w for w in words if w not in STOPWORDS]
    return words[-1] if words else None


@dataclass(frozen=True)
class PeopleIndex:
    """The people of a corpus, as question analysis needs them."""

    people: tuple[Person, ...] = ()

    @classmethod
    def build(cls, people: Mapping[str, Mapping[str, Sequence[str]]], speakers: Iterable[str]) -> "PeopleIndex":
        """From an index's people data (source -> full name -> roles) and the
        speakers its passages are attributed to.

        Example: ``PeopleIndex.build({"a.txt": {"Dmitry Peskov": ["Kremlin spokesman"]}}, {"Dmitry Peskov", "Kremlin"})``
        has ``Person("Dmitry Peskov", ("dmitry peskov", "peskov"), (frozenset({"kremlin", "spokesman"}),))``
        and the organisation ``Person("Kremlin", ("kremlin",), (), is_person=False)``.
        """
        # A person introduced alike in many documents is one entry: question
        # analysis tries each entry's names on every question, so 500
        # documents quoting the same six people cost a second a question.
        found: dict[Person, None] = {}
        for roster in people.values():
            for name, roles in roster.items():
                names = tuple(dict.fromkeys((name.lower(), name.split()[-1].lower())))
                heads = tuple(h for h in (role_head(r) for r in roles) if h)
                found.setdefault(Person(name, names, tuple(frozenset(content_words(r)) for r in roles), heads=heads))
        known = {p.name for p in found}
        for org in sorted(set(speakers) - known):
            found.setdefault(Person(org, (org.lower(),), (), is_person=False))
        return cls(tuple(found))

    def is_person(self, name: str) -> bool:
        return any(p.name == name and p.is_person for p in self.people)

    def mentioned_in(self, text: str) -> list[str]:
        """The people ``text`` names by full name or surname, in order of mention.

        Example: with Suslov and Peskov known,
        ``mentioned_in("Peskov answered Suslov")`` -> ``["Dmitry Peskov", "Dmitry Suslov"]``
        """
        found = []
        lower = text.lower()
        for person in self.people:
            for n in person.names:
                m = re.search(rf"\b{re.escape(n)}\b", lower)
                if m:
                    found.append((m.start(), person.name))
                    break
        return [name for _, name in sorted(found)]


@dataclass(frozen=True)
class CorpusFacts:
    """What the whole corpus mentions, for refusal checks."""

    words: frozenset[str]  # every word form in the documents, as written
    people: frozenset[str]  # full names introduced in the documents
    speakers: frozenset[str]  # people/organisations with attributed passages

    @classmethod
    def from_texts(cls, texts: Iterable[str], people: Iterable[str], speakers: Iterable[str]) -> "CorpusFacts":
        words: set[str] = set()
        for text in texts:
            for w in re.findall(rf"[{UPPER}{LOWER}][\w'-]*", text):
                w = re.sub(r"'s?$", "", w)
                words.add(w)
                words.update(part for part in w.split("-") if part)
        return cls(frozenset(words), frozenset(people), frozenset(speakers))

    def knows(self, word: str, min_prefix_chars: int = VerifySettings().known_prefix_chars) -> bool:
        """Whether the corpus uses this word, or a longer form of it ("America" in "American").

        Example: over "American aid", ``knows("America")`` -> True, ``knows("Amer")`` -> False (too short to
        count as a stem).
        """
        if word in self.words or word.upper() in self.words:
            return True
        if len(word) > 3 and word.endswith("s") and word[:-1] in self.words:
            return True  # a plural of a word the corpus uses ("Sundays" beside "Sunday")
        return len(word) >= min_prefix_chars and any(w.startswith(word) for w in self.words)


# -- who the question is about ---------------------------------------------------

_SUBJECT = re.compile(
    # (an appositive may name the person: "has the regional premier, Odile Varnum, said")
    r"\b(?:did|does|do|has|have|had|would|will|was|is|were|are)\s+(?P<x>(?:the\s+)?(?:[\w.'-]+,?\s+){0,5}?[\w.'-]+),?\s+"
    r"(?:say|said|think|thought|describe|argue|warn|tell|believe|propose|"
    r"expect|suggest|add|claim|write|feel|react|respond|comment|predict)\b"
    rf"|\b(?P<y>[{UPPER}][\w.'-]*(?:\s+[{UPPER}][\w.'-]*)*)'s\s+(?:view|views|opinion|position|stance|take|comments?|words|remarks|assessment)\b"
    r"|\baccording to\s+(?P<z>(?:the\s+)?[\w.' -]+?)(?:,|\?|$)",
    re.I,
)


_SAID_ABOUT = re.compile(
    r"\b(?:say|said|says|think|thinks|thought|tell|told|write|wrote|argue|argued|warn|warned|believe|believes|"
    r"comment|comments|commented)\b(?:\s+\S+){0,3}?\s+(?:about|on|regarding|concerning)\s+(?P<topic>[^?]+)",
    re.I,
)


def said_about(question: str) -> Optional[str]:
    """The topic of a question that asks what someone said about something.

    Example: ``said_about("What did Suslov tell RFE/RL about New START?")`` -> ``"New START"``
    """
    m = _SAID_ABOUT.search(question)
    if not m:
        return None
    return m.group("topic").strip(" .") or None


def question_subject(question: str) -> Optional[str]:
    """Who the question asks about as a speaker, as written.

    Example: ``question_subject("What did the U.S. ambassador to Russia say?")`` -> ``"the U.S. ambassador to Russia"``
    """
    m = _SUBJECT.search(question)
    if not m:
        return None
    return next(g for g in m.groups() if g)


def names_the_speaker(subject: str, name: str) -> bool:
    """Whether ``name`` in the question's subject phrase is the speaker asked
    about, not a word that qualifies someone else: in "Dunmore Falls' finance
    director" or "the general manager of Dunmore Falls Transit" the speaker
    is the director or the manager, and the name only says whose.

    Example: ``names_the_speaker("Dunmore Falls' finance director", "Falls")`` -> False;
    ``names_the_speaker("Kremlin spokesman Peskov", "Peskov")`` -> True
    """
    m = re.search(rf"\b{re.escape(name)}\b", subject)
    if not m:
        return False
    before, after = subject[: m.start()], subject[m.end():]
    # A possessive name qualifies the noun after it; a name after "of" or
    # "for" qualifies the noun before it; a name followed by another
    # capitalised word is part of a longer name ("Dunmore Falls Transit").
    if re.match(r"(?:'s?|’s?)\s+\w", after) or re.match(rf"\s+[{UPPER}]", after):
        return False
    # A name before a common noun qualifies it: "the Orchard Lane librarian",
    # "the Green opposition's amendment" ask about the librarian, the amendment.
    follower = re.match(rf"\s+([{LOWER}][\w'’-]*)", after)
    if follower and re.sub(r"['’]s?$", "", follower.group(1)) not in STOPWORDS | QUESTION_WORDS:
        return False
    return not re.search(rf"\b(?:of|for|at|from)\s+(?:the\s+)?(?:[{UPPER}][\w.'-]*\s+)*$", before)


# A name before one of these nouns says whose: "the Trump administration"
# names a government, not what Trump himself said.
# (Nouns only: "When did Trump call Putin?" names Trump.)
_ATTRIBUTIVE_NOUNS = r"administration|government|campaign|presidency|era|cabinet|regime|years|doctrine|policy|policies"


def _names_person(question: str, name: str) -> bool:
    """Whether ``question`` names someone by ``name`` (lower case, as
    ``Person.names`` holds it).

    A name is written capitalised: in a question that capitalises anything
    (its first word, as a sentence does), "the compliance report" does not
    name the radio programme "Northern Report", nor "the trust" an
    organisation called "Trust". A question typed all in lower case matches
    without case.
    (?<!-)…(?!-): "Trump-Putin calls" names the calls, not a speaker; a
    name before an attributive noun ("the Trump administration") says whose.
    """
    cased = any(c.isupper() for c in question)
    for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", question, re.I):
        if cased and not question[m.start()].isupper():
            continue
        if re.match(rf"\s+(?:{_ATTRIBUTIVE_NOUNS})\b", question[m.end():], re.I):
            continue
        return True
    return False


def named_speakers(question: str, people: PeopleIndex,
                   settings: RetrievalSettings = RetrievalSettings()) -> tuple[str, ...]:
    """Speakers the question names by name, surname or role.

    Example: ``named_speakers("What did the Kremlin spokesman say?", people)`` -> ``("Dmitry Peskov",)``
    when the documents introduce "Kremlin spokesman Dmitry Peskov".
    """
    q_words = content_words(question)
    found: list[str] = []
    best_role: tuple[tuple[int, float], Optional[str], frozenset[str]] = ((settings.min_role_words - 1, 1.0), None,
                                                                           frozenset())
    qualifiers: list[str] = []
    for person in people.people:
        if any(_names_person(question, n) for n in person.names):
            found.append(person.name)
            if not names_the_speaker(question, person.name.split()[-1]):
                qualifiers.append(person.name)
    for person in people.people:
        if person.name in found:
            continue
        for role in person.roles:
            if not role:
                continue  # a role of stopwords only ("the") names nobody
            # Ties go to the role the question names more fully: "technical
            # director" is all of Brodt's role, and two words of a long one.
            overlap = (len(role & q_words), len(role & q_words) / len(role))
            # A role is named by its head noun: "the City Council" in a
            # question does not name the "City Council President".
            if person.heads and not (role & set(person.heads) & q_words):
                continue
            if overlap > best_role[0]:
                best_role = (overlap, person.name, role)
    if best_role[1]:
        # "the Kremlin spokesman" names Peskov, not the Kremlin: a role
        # beats an organisation whose name is part of that role.
        # So does "Dunmore Falls' finance director": the name only says whose director.
        found = [f for f in found if not (f.lower() in best_role[2] and not people.is_person(f)) and f not in qualifiers]
        if not found:
            found.append(best_role[1])
    return tuple(dict.fromkeys(found))


_YES_NO = re.compile(r"\s*(?:(?:and|but|so)\s+)?(?:is|are|was|were|do|does|did|has|have|had|will|would|can|could|"
                     r"should|may|might|must|isn't|aren't|wasn't|didn't|doesn't|hasn't|haven't)\b", re.I)


def is_yes_no(question: str) -> bool:
    """Whether the question is answered by yes or no: it opens with an auxiliary verb.

    Example: ``is_yes_no("Did Schantz comment on the report?")`` -> True;
    ``is_yes_no("What did Schantz say?")`` -> False
    """
    return bool(_YES_NO.match(question))


def role_holders(question: str, people: PeopleIndex) -> tuple[str, ...]:
    """Everyone the question's speaker could be when it names them only by
    the head noun of a role ("What did the mayor say…?"): the people with a
    role of that head. Several documents may each have a mayor; which one
    is meant is the retriever's call (``Retriever.retrieve``: the one in the
    document the rest of the question finds).

    Example: with Tomas Haug "mayor of Brenholm" and Celia Abernathy
    "Mayor" known, ``role_holders("What did the mayor say?", people)``
    -> ``("Tomas Haug", "Celia Abernathy")``
    """
    subject = question_subject(question)
    if not subject or not re.match(r"(?:the|its|their|his|her)\b", subject, re.I):
        return ()
    words = {w.lower() for w in _WORD.findall(subject)}
    return tuple(p.name for p in people.people if p.is_person and set(p.heads) & words)


# Verbs and nouns of saying, thinking and reporting, and adjectives of a
# stance ("Was Trenin optimistic?"): a question with none of them asks about
# events ("Why has Trump struggled to…?"), not about anyone's words.
_ABOUT_WORDS = re.compile(
    r"\b(?:say|says|said|saying|tell|tells|told|describ\w*|call(?:s|ed)?|warn\w*|argu\w*|think\w*|thought|believ\w*|"
    r"views?|position|stance|opinion|according|claim\w*|suggest\w*|propos\w*|comment\w*|react\w*|respond\w*|"
    r"response|mention\w*|explain\w*|quot\w*|predict\w*|expect\w*|admit\w*|den(?:y|ies|ied)|insist\w*|accus\w*|"
    r"critici\w*|prais\w*|doubt\w*|agree\w*|disagree\w*|hop(?:e|es|ed|eful)|fear\w*|ask\w*|answer\w*|add(?:s|ed)?|"
    r"not(?:e|es|ed)|writ\w*|wrote|announc\w*|urg\w*|recommend\w*|dismiss\w*|reject\w*|defend\w*|conced\w*|"
    r"acknowledg\w*|point\w* out|put it|words?|remarks?|statement|interview\w*|feel\w*|felt|consider\w*|want\w*|"
    r"worr\w*|concern\w*|voic\w*|stress\w*|emphasi\w*|complain\w*|promis\w*|vow\w*|optimis\w*|pessimis\w*|"
    r"skeptic\w*|sceptic\w*|blunt|cautious|confident|convinced|sure|certain|repl(?:y|ies|ied)|message|letter|speech|"
    r"find|finds|found|conclu\w*|calculat\w*|estimat\w*|advis\w*|discuss\w*)\b",
    re.I)


# A plural that names people by what they do ("economists", "researchers",
# "politicians", "residents", "employees").
DOER_PLURAL = rf"[{LOWER}]{{2,}}(?:ers|ors|ists|ians|ants|ents|ees)"
# Plural nouns that name people: "experts", "officials", and any doer.
_PEOPLE_PLURAL = rf"(?:people|persons|experts|officials|leaders|critics|voices|{DOER_PLURAL})"


# "Which two hydrologists…", "Name the experts who…": a list of people.
_PEOPLE_LIST = re.compile(
    rf"\b(?:which|name|list)\s+(?:all\s+)?(?:of\s+)?(?:the\s+)?(?:two|three|four|five|six|[2-6]\s+)?"
    rf"\s*(?:[{LOWER}-]+\s+)?{_PEOPLE_PLURAL}\b\s*(?:who\s+|that\s+)?(?P<rest>.*)", re.I)


def asks_for_people(question: str) -> bool:
    """Whether a list question asks for people: a plural noun of people after
    "which", "name" or "list". Its answer is their names.

    Example: ``asks_for_people("Which two hydrologists reviewed the report?")`` -> True;
    ``asks_for_people("Which routes will change?")`` -> False
    """
    return bool(_PEOPLE_LIST.search(question))


def asks_for_speakers(question: str) -> bool:
    """Whether a list question lists people by what they said or think:
    a plural noun of people after "which", "name" or "list", and a verb of
    saying or thinking ("Which experts doubt …", "Name the officials who
    warned …"). "Which two people does Meresky mention?" lists names, not
    speakers: the people are the object there, not the ones saying.

    Example: ``asks_for_speakers("Which experts doubt a reset?")`` -> True;
    ``asks_for_speakers("Which routes will change?")`` -> False
    """
    m = _PEOPLE_LIST.search(question)
    # The people must be the ones doing the saying: the verb follows them.
    verb = m.group("rest").split(" ", 1)[0] if m and m.group("rest") else ""
    return bool(verb and (_ABOUT_WORDS.match(verb) or re.match(r"(?:speak|spoke|spoken)\b", verb, re.I)))


def speaker_focus(question: str, named: tuple[str, ...], people: PeopleIndex,
                  settings: RetrievalSettings = RetrievalSettings()) -> tuple[str, ...]:
    """The named speakers whose words the question asks for.

    "Who said …?" asks for a speaker, so names inside it are topics, not
    speakers; "How did the Kremlin describe the Trump-Putin call?" asks
    for the Kremlin's words, the subject of the speech verb.

    Example: ``speaker_focus("What did Suslov say about Trump?", ("Dmitry Suslov", "Donald Trump"), people)``
    -> ``("Dmitry Suslov",)``
    """
    if re.match(r"\s*(?:and\s+)?(who|whom)\b", question, re.I) or not named:
        return ()
    if not _ABOUT_WORDS.search(question) and not QUOTATION.search(question):
        return ()
    subject = question_subject(question)
    if subject:
        chosen = [n for n in named if _names_match(n, subject, people, settings)]
        if chosen or (len(named) == 1 and re.match(r"(?:the|a|an|its|their|his|her)\s", subject, re.I)):
            # "What did the Superintendent answer Ida Lundmark?": a role is
            # the one speaking; the person named after the verb is spoken to.
            return tuple(chosen)
    return named


def _names_match(speaker: str, phrase: str, people: PeopleIndex, settings: RetrievalSettings) -> bool:
    phrase_l = phrase.lower()
    for person in people.people:
        if person.name == speaker:
            if any(re.search(rf"\b{re.escape(n)}\b", phrase_l) for n in person.names):
                return True
            return any(len(role & content_words(phrase)) >= settings.min_role_words for role in person.roles)
    return False


def unknown_names(question: str, facts: CorpusFacts, settings: VerifySettings = VerifySettings()) -> list[str]:
    """Runs of capitalised words in the question that the corpus never mentions.

    Example: over the Suslov article, ``unknown_names("What did Angela Merkel say about Putin?", facts)``
    -> ``["Angela Merkel"]``
    """
    stripped = QUOTATION.sub(" ", question)
    tokens = re.findall(rf"[{UPPER}{LOWER}][\w'-]*|[^\w\s]", stripped)
    runs: list[list[str]] = []
    current: list[str] = []
    for i, tok in enumerate(tokens):
        word = re.sub(r"'s?$", "", tok)
        # A capitalised first word is a name only when a name follows it
        # ("Angela Merkel said…"), not when it merely starts the question ("Besides…").
        first = i == 0 and not (len(tokens) > 1 and tokens[1][:1].isupper())
        is_name = word[:1].isupper() and not first and not _DOC_WORD.fullmatch(word)
        if is_name and word.lower() not in QUESTION_WORDS - {"will"}:
            current.append(word)
        else:
            if current:
                runs.append(current)
            current = []
    if current:
        runs.append(current)
    unknown = []
    for run in runs:
        # "Trump-Putin" is known when "Trump" and "Putin" are.
        # ("Obama-era": only the capitalised parts are names.)
        missing = [w for w in run if not all(facts.knows(part, settings.known_prefix_chars)
                                             for part in w.split("-") if part[:1].isupper())]
        # A run whose last word (usually the surname) or most words are unknown
        # names someone or something the documents do not mention.
        if missing and (run[-1] in missing or len(missing) * 2 > len(run)):
            unknown.append(" ".join(run))
    return unknown


# -- what the answer must contain --------------------------------------------------

MONTHS = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
# A quantity, not a year: "How large is the budget?" is not answered by "the
# 2024–25 fiscal year" (a year, or a year range, counts nothing).
ANY_NUMBER = re.compile(r"(?<![\w\u2013-])(?!(?:19|20)\d\d(?:[\u2013-]\d\d(?:\d\d)?)?\b)\d|"
                        r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|"
                        r"million|billion)\b", re.I)


# Words that make "How long is/was X" ask for a time, not a length: verbs of
# lasting and nouns of things that last ("How long was the closure?").
_DURATIVE = (r"last|take|took|wait|stay|run|closure|closed|delay|strike|shutdown|stoppage|outage|break|pause|"
             r"sentence|term|tenure|war|trip|journey|flight|process|season|period|meeting|call|interview|visit|"
             r"talk|speech|trial|contract|lease|programme|program|course|shift|holiday|leave|absence")
# "How long is the track?": a length (and, by the same pattern, not a duration).
_HOW_LONG_IS = rf"how long (?:is|was|are|were|will be)\b(?!.*\b(?:{_DURATIVE})\w*\b)"


@dataclass(frozen=True)
class Detail:
    """A kind of detail a question can ask for, and how to recognise it in text."""

    what: str  # how a refusal names it: "a date"
    asks: re.Pattern  # the question asks for it
    needs: Optional[re.Pattern]  # the text that has it; None: a number of the thing counted


# "46 million dalers": an amount in millions of a unit that is not a count of
# people, goods, distance or time (a currency the list below does not know).
_MILLIONS_OF = (r"\d[\d,.]*\s+(?:million|billion|thousand)\s+(?!(?:people|tonnes|tons|litres|liters|barrels|"
                r"passengers|trips|hours|years|residents|homes|households|metres|meters|kilometres|kilometers|miles)\b)[a-z]+")

DETAILS = (
    # "How much" asks for money only beside a word about money ("How much did
    # it cost?"); "How much did the level rise?" asks for a number.
    Detail("an amount of money", re.compile(
        r"\bcost\b|\bprice\b|\bworth\b|\bhow much\b.*\b(?:pay|paid|pays|spend|spent|spends|money|charge|charged|"
        r"fee|fees|earn|earned|earns|borrow|lend|owe|owed|budget|budgets|allocate|allocates|allocated|fund|funds|"
        r"funded|grant|granted|invest|invested|raise|raised|salary|wage|wages)\b"
        # "What hourly wage…", "What is the annual budget of…": a noun that is an amount of money.
        r"|\bwhat (?:is |was |are |were |will be )?(?:the )?(?:(?!(?:did|does|do|has|have|had|can|could|would|should|might|may|must)\b)[\w-]+ ){0,2}(?:wages?|salar(?:y|ies)|fares?|fees?|rents?|"
        r"budgets?|prices?|costs?)(?=\s+(?:of|for|per|will|would|is|was|are|were|did|does|do|has|have|had|can|could|"
        r"in|on|at|to|that)\b|\s*[?,]"
        # …or a relative clause without "that", opened by a determiner, a
        # pronoun or a name: "What is the rent the bakery pays…", "the fee Hanne Vold charges".
        rf"|\s+(?:the|a|an|his|her|their|its|our|my|your|he|she|they|it|we|you|I)\s|\s+(?-i:[{UPPER}]))", re.I),
           re.compile(r"[$\u20ac\u00a3\u00a5]|\b(dollars?|rubles?|roubles?|euros?|pounds?|cents?|pence|crowns?|kronor|kroner|"
                      r"krona|francs?|yen|yuan|rupees?|pesos?|USD|EUR|GBP)\b"
                      # A currency the list does not know, told by the verb of
                      # paying before the amount: "would cost 46 million dalers".
                      r"|\b(?:cost|costs|costing|priced|spend|spends|spent|pay|pays|paid|charge|charges|charged|bid|bids|"
                      r"earn|earns|earned|fund|funds|funded|budget|budgets|budgeted)\b"
                      # (the amount is the verb's object: "pay for 35 drivers" counts drivers)
                      r"(?:\s+(?!(?:for|to|in|on|with|by|from|of|at|per|into|towards?)\b)[\w'-]+){0,3}?\s+"
                      r"(?:about|around|roughly|nearly|almost|some|over|under|only|just|up to|at least|more than|less than)?\s*"
                      r"(?!(?:19|20)\d\d\b)\d[\d,.]*\s*(?:million|billion|thousand|bn|m|k)?\s+"
                      r"(?!(?:percent|per cent|seconds?|minutes?|hours?|days?|weeks?|months?|years?|times|people|jobs)\b)[a-z]"
                      # …or an amount in millions beside a word about money in
                      # its sentence: "the cost of running the gates, which it
                      # put at 46 million dalers a year".
                      rf"|\b(?:cost|costs|budget|budgets|price|prices|spending|estimate|funding)\b[^.;!?]{{0,80}}?"
                      rf"\b{_MILLIONS_OF}"
                      rf"|\b{_MILLIONS_OF}\s+(?:budget|estimate|bill|deficit|gap|shortfall|overrun|a year|per year)\b", re.I)),
    # "How long is the track?" asks for a length; "How long did it last?" for a duration.
    Detail("a length", re.compile(rf"\b{_HOW_LONG_IS}|\bhow (?:far|tall|high|deep|wide)\b", re.I),
           # "6 m", "six metres", "a dozen kilometres".
           re.compile(r"\b(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                      r"fifty|hundred|a few|several|dozen)\s*(?:-\s*)?(?:km|kilometres?|kilometers?|metres?|meters?|m|miles?|"
                      r"feet|foot|ft|yards?|centimetres?|cm|inches?)\b", re.I)),
    # "Over what span of time…", "For what period…" ask the same as "How long…".
    # A duration is also told as an ordinal ("now in its sixth year") or a
    # start ("since 2014", "since March").
    Detail("a duration", re.compile(rf"\b(?!{_HOW_LONG_IS})how long\b|\bduration\b|"
                                    r"\b(?:over|for|during|in) what (?:span|period|length|stretch)\b|"
                                    r"\bwhat (?:span|period|length|stretch) of time\b", re.I),
           # "Five days after the arrival…" is a point in time, not a duration.
           re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|several|a few)[ -](seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b"
                      r"(?!\s+(?:after|before|later|earlier|ago|on|into)\b)"
                      r"|\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:st|nd|rd|th)) "
                      r"(?:year|month|week|day|decade)\b"
                      rf"|\bsince (?:(?:early |late |mid-)?{MONTHS}\b|(?:19|20)\d\d\b)", re.I)),
    # "By how much did X fall?" asks for the size of a change: a percentage,
    # "by 8.6 milligrams", "from 18.4 to 23.9", "halved"; any number in the
    # text about X is not it ("a six-year agreement").
    Detail("the size of the change", re.compile(
        r"\bby how much\b|\bhow much (?:[\w'-]+ ){0,12}?(?:rise|rises|rose|risen|fall|falls|fell|fallen|drop|drops|dropped|"
        r"grow|grows|grew|grown|increase|increases|increased|decrease|decreases|decreased|decline|declines|declined|"
        r"shrink|shrinks|shrank|climb|climbs|climbed|jump|jumps|jumped)\b"
        # "How much higher is the sea now?", "How much cheaper is the bid?"
        r"|\bhow much (?:higher|lower|more|less|larger|smaller|bigger|greater|faster|slower|longer|shorter|"
        r"cheaper|dearer|warmer|colder|deeper|wider|heavier|lighter|older|younger)\b", re.I),
           re.compile(r"\d[\d,.]*\s*(?:%|percent\b|per cent\b|percentage points?\b)"
                      r"|\bby (?:(?:more than|less than|almost|nearly|about|around|roughly|some|over|under|just|only) )?"
                      r"[$\u20ac\u00a3]?(?!(?:19|20)\d\d\b)\d"  # not "by 2030"
                      r"|\bfrom [$\u20ac\u00a3]?\d[\d,.]*(?:\s+[\w-]+){0,3}? to [$\u20ac\u00a3]?\d"
                      r"|\b(?:halved|doubled|tripled|quadrupled)\b|\bby (?:half|a third|a quarter|two-thirds|one-third)\b",
                      re.I)),
    # "How large is the budget?", "How big is the fund?" ask for a quantity too.
    Detail("that number", re.compile(r"\bhow many\b|\bhow much\b|\bnumber of\b|\bpercent(age)?\b|\bhow (?:large|big|small|heavy)\b", re.I),
           None),
    Detail("a date", re.compile(r"\bwhat (year|date|day)\b|^\s*(and\s+)?when\b|\bwhen (was|were|did|will|is|does|do)\b", re.I),
           re.compile(rf"\b{MONTHS}\b|\b(19|20)\d\d\b|\b(yesterday|today|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")),
)


_BARE_MONEY = re.compile(r"\b(?:cost|price|worth)\b", re.I)
# A question that asks why, or how something happened (not how much, how many…).
_MANNER_OR_REASON = re.compile(r"\s*(?:and\s+)?(?:why\b|how (?:did|does|do|is|was|are|were|has|have|had|will|would|"
                               r"can|could|should|might|may)\b)", re.I)


# Questions whose answer is a person, a thing, a reason or a place.
# (A phrase may come first: "Besides the pandemic, which …")
_ASKS_OTHER = re.compile(r"\s*(?:[^,?]{1,80},\s*)?(?:(?:and|but|so)\s+)?(?:who|whom|whose|which|why|where)\b", re.I)


# "When will…", "When is the hall due to reopen?", "When does Saal expect…",
# "What date will…": the date asked for is still to come.
_ASKS_FUTURE = re.compile(
    r"^\s*(?:and\s+)?(?:by\s+)?(?:when|what (?:date|day|year|month))\s+(?:will|shall|'ll\b"
    r"|(?:is|are)\s+(?:[\w'-]+\s+){0,8}?(?:due|expected|scheduled|set|going|planned|likely)\b"
    r"|(?:does|do)\s+(?:[\w'-]+\s+){0,8}?(?:expect|plan|intend|hope|aim)s?\b)", re.I)


def asks_about_future(question: str) -> bool:
    """Whether a date question asks when something is still to happen.

    Example: ``asks_about_future("When will the line reopen?")`` -> True;
    ``asks_about_future("When did the line close?")`` -> False
    """
    return bool(_ASKS_FUTURE.search(QUOTATION.sub(" ", question)))


# "How long after the announcement did it start?", "How much warning did they
# get between the ban's announcement and its start?": the time between two
# events, which two dates give as well as a duration does.
_TIME_BETWEEN = re.compile(r"\bhow (?:long|much (?:time|warning|notice)|many (?:days|weeks|months|years))\b"
                           r"(?:\s+[\w'-]+){0,12}?\s+(?:after(?:wards)?|before|later|earlier|between)\b", re.I)
# A date as a text writes one: "4 March", "March 4", "March", "1998".
DATE_MENTION = re.compile(rf"\b\d{{1,2}}\s+{MONTHS}\b|\b{MONTHS}\.?\s+\d{{1,2}}\b|\b{MONTHS}\b|\b(?:19|20)\d\d\b")


def asks_time_between(question: str) -> bool:
    """Whether a question asks for the time between two events.

    Example: ``asks_time_between("How long after the vote did the strike start?")`` -> True;
    ``asks_time_between("How long did the strike last?")`` -> False
    """
    return bool(_TIME_BETWEEN.search(question))


def dates_in(text: str) -> set[str]:
    """The distinct dates a text mentions, as written ("4 March", "1998").

    Example: ``dates_in("announced on 4 March, begun on 18 March")`` -> ``{"4 March", "18 March"}``
    """
    return {" ".join(m.group(0).split()) for m in DATE_MENTION.finditer(text)}


def asked_details(question: str) -> list[Detail]:
    """Every kind of detail the question asks for, in ``DETAILS`` order.

    Example: ``[d.what for d in asked_details("When did it start and how much did it cost?")]``
    -> ``["an amount of money", "a date"]``
    """
    topic = said_about(question)
    if topic and re.match(r"\s*(?:and\s+)?what\b", question, re.I):
        # "What did the Finance Officer say about the price?" asks for words
        # said about the price, not for an amount: the topic asks for nothing.
        question = question.replace(topic, " ")
    found = [d for d in DETAILS if d.asks.search(question)]
    if is_yes_no(question):
        # "Did the number of people using the ferry go down?" asks whether,
        # not how many: a figure may settle it, but none is asked for.
        found = [d for d in found if d.what == "a date"]
    money, number = (next(d for d in DETAILS if d.what == w) for w in ("an amount of money", "that number"))
    if money in found and _MANNER_OR_REASON.match(question) \
            and not money.asks.search(_BARE_MONEY.sub(" ", question)):
        # "How did the oil price collapse come about?" asks how, not how much:
        # "price" only names what the question is about.
        found.remove(money)
    if money in found and _ASKS_OTHER.match(question) and not re.search(r"\bhow much\b|\band (?:what|how)\b", question, re.I):
        # "Which producers did the price collapse hurt?", "Who said they could
        # not carry the cost?": the answer is a name; "cost" names the topic.
        found.remove(money)
    if money in found and number in found and not re.search(r"\bhow many\b|\bnumber of\b|\bpercent", question, re.I):
        found.remove(number)  # "How much did it cost?" asks for the amount, once
    change = next(d for d in DETAILS if d.what == "the size of the change")
    if change in found and number in found:
        found.remove(number)  # "By how much did it fall?" asks for the change, once
    return found


def expected_detail(question: str) -> Optional[re.Pattern]:
    """What the answer to ``question`` must contain (a date, an amount, a
    number…), as a pattern, or None when the question asks for no such detail.

    Example: ``expected_detail("When was the call?").search("on April 1")`` matches.
    """
    details = asked_details(question)
    if not details:
        return None
    return details[0].needs or ANY_NUMBER


_NOT_NOUNS = {"has", "was", "is", "does", "were", "its", "this", "his", "hers", "thus", "as", "us", "yes", "less", "across"}


def focus_noun(question: str, after: str) -> Optional[str]:
    """The plural noun a question counts or names, up to three words after the pattern ``after``.

    Example: ``focus_noun("How many ventilators were sent?", r"\\bhow many")`` -> ``"ventilators"``
    """
    # An irregular plural right after: "How many people put their names to it?" counts people.
    irregular = re.search(rf"(?:{after})" + r"\s+(?:of\s+)?(?:the\s+)?(?:[\w.-]+\s+)?(people|children|men|women|staff)\b",
                          question, re.I)
    if irregular:
        return irregular.group(1)
    m = re.search(rf"(?:{after})" + rf"\s+(?:of\s+)?(?:the\s+)?((?:[\w.-]+\s+){{0,3}}?)([{LOWER}]+s)\b", question, re.I)
    if not m or m.group(2).lower() in _NOT_NOUNS or set(m.group(1).lower().split()) & _NOT_NOUNS:
        return None
    return m.group(2)


def counted_noun(question: str) -> Optional[str]:
    """The plural noun right after "how many" (one word may come between), which
    an answer must mention. Stricter than ``focus_noun``: an answer is held to
    the thing named next to "how many", a refusal looks a little further.

    Example: ``counted_noun("How many medical masks arrived?")`` -> ``"masks"``
    """
    m = re.search(rf"\bhow many\s+(?:[\w-]+\s+)?([{LOWER}]+s)\b", question, re.I)
    return m.group(1) if m else None


def asks_for_names(question: str) -> Optional[str]:
    """For a question that asks for names ("the names of…", "which newspaper…"),
    the noun whose names it wants ("" when it names none); None for other questions.

    Example: ``asks_for_names("What are the names of the two companies?")`` -> ``"companies"``;
    ``asks_for_names("Which newspaper reported it?")`` -> ``"newspaper"``
    """
    # "Which newspaper", and with a describing word or two between:
    # "which German company", "which two local firms".
    kinds = (r"(newspaper|company|companies|firms?|paper|publication|outlet|agenc(?:y|ies)|ministr(?:y|ies)|"
             r"cooperatives?|co-operatives?|associations?|organi[sz]ations?|banks?|universit(?:y|ies)|charit(?:y|ies)|"
             r"parties|party|unions?|laborator(?:y|ies)|hospitals?|suppliers?)")
    m = re.search(rf"\bwhich (?:[\w-]+ ){{0,2}}{kinds}\b", question, re.I)
    if m:
        return m.group(1)
    # "Who is the surveyor who inspected the roof?": a role the answer must
    # name someone in ("the architect Jonas Berg"); "the person who…" names no role.
    m = re.match(r"\s*(?:and\s+)?who (?:is|was|are|were) the ([a-z][\w-]*)(?=\s+(?:who|that|of|at|in|for|on|with|behind)\b|\s*\?)",
                 question, re.I)
    if m and m.group(1).lower() not in _NO_ROLE:
        return m.group(1)
    if not re.search(r"\bnames? of\b", question, re.I):
        return None
    noun = focus_noun(question, r"\bnames? of")
    if noun:
        return noun
    m = re.search(r"\bwhich (\w+)", question, re.I)
    return m.group(1) if m else ""


# Nouns that name nobody's role: "Who is the person who…" asks only who.
_NO_ROLE = {"person", "people", "one", "man", "woman", "men", "women", "speaker", "author", "writer", "reporter"}

_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6}
_IRREGULAR_PLURALS = {"people", "children", "men", "women", "media", "data", "criteria"}


def list_size(question: str) -> Optional[int]:
    """How many items a list question asks for: the number it names ("What
    three things…" -> 3), 0 for a plural with no number ("Which experts…",
    "On which dates…"), None when the question does not ask for a list.

    Example: ``list_size("Which two people does she name?")`` -> 2;
    ``list_size("On which routes will service return?")`` -> 0; ``list_size("Which route is new?")`` -> None
    """
    if is_yes_no(question):
        return None  # "Has the ministry said which firms…?" asks for yes or no, not for the firms
    m = re.search(rf"\b(?:what|which|name|list)\s+(?:are\s+|were\s+)?(?:the\s+)?(two|three|four|five|six|[2-6])\s+[{LOWER}]",
                  question, re.I)
    if m:
        return _COUNTS[m.group(1).lower()]
    def plural(noun: str) -> bool:
        noun = noun.lower()
        return noun in _IRREGULAR_PLURALS or (
            noun.endswith("s") and not noun.endswith(("ss", "us", "is")) and noun not in _NOT_NOUNS)

    # "Which [Dunmore Falls] [bus] routes …": names and one word may qualify
    # the noun. "What Xs …" is a list only when a verb follows ("What steps
    # did they take"), since "What happens…" starts with a verb, not a noun.
    names = rf"(?:[{UPPER}][\w.'-]*\s+){{0,3}}"
    # An order to name or list: "Name the experts who…", "List all the routes…".
    for qualifier in ("", rf"[{LOWER}-]+\s+"):
        m = re.match(rf"\s*(?:please\s+)?(?:name|list)\s+(?:all\s+)?(?:of\s+)?(?:the\s+)?{qualifier}([{LOWER}]+)\b",
                     question, re.I)
        if m and plural(m.group(1)):
            return 0
    for qualifier in ("", rf"[{LOWER}-]+\s+"):
        m = re.search(rf"\b[Ww]hich\s+(?:other\s+)?{names}{qualifier}([{LOWER}]+)\b", question)
        if m and plural(m.group(1)):
            return 0
    m = re.search(rf"\bwhat\s+(?:other\s+)?([{LOWER}]+)\s+(?:are|were|did|do|does|have|has|had|will|would|could|can|should|might|may)\b",
                  question, re.I)
    if m and plural(m.group(1)):
        return 0
    return None


def two_part(question: str) -> bool:
    """Whether the question asks for two things.

    Example: ``two_part("When and where did they meet?")`` -> True;
    ``two_part("Why X, and how did Y react?")`` -> True; ``two_part("What did Suslov say?")`` -> False
    """
    return len(question_parts(question)) > 1


def question_parts(question: str) -> list[str]:
    """The parts of a two-part question, each a question of its own; the
    question alone when it has one part. The second part of "When and where
    …?" shares the rest of the sentence.

    Example: ``question_parts("Why did it fail, and what did Suslov say?")``
    -> ``["Why did it fail?", "what did Suslov say?"]``;
    ``question_parts("When and where did they meet?")`` -> ``["When did they meet?", "where did they meet?"]``
    """
    m = re.search(r"^(.*?\b(?:when|where|why|how|what|who|which))\s+and\s+((?:when|where|why|how|what|who|which)\b)(.*)$",
                  question, re.I | re.S)
    if m:
        rest = m.group(3)
        return [f"{m.group(1)}{rest}".strip(), f"{m.group(2)}{rest}".strip()]
    m = re.search(r"^(.*?),?\s+and\s+((?:what|how|when|where|why|who|which|in what)\b.*)$", question, re.I | re.S)
    if m and m.group(1).strip():
        first = m.group(1).strip().rstrip(",")
        return [first if first.endswith("?") else first + "?", m.group(2).strip()]
    return [question]


# -- follow-ups ------------------------------------------------------------------

_PRONOUNS = re.compile(r"\b(he|she|him|her|his|hers|they|them|their)\b", re.I)
_LEAD = re.compile(r"^(and|but|so|also|then|ok(ay)?|well)[,\s]+", re.I)


def resolve_follow_up(question: str, history: Sequence[Answer], people: PeopleIndex,
                      settings: RetrievalSettings = RetrievalSettings()) -> str:
    """Replace pronouns and ellipsis in ``question`` using the last answer.

    Example: after "What did Suslov say about New START?",
    ``resolve_follow_up("And what did he say about Ukraine?", history, people)`` ->
    ``"What did Dmitry Suslov say about Ukraine?"``, and
    ``resolve_follow_up("What about Ukraine?", history, people)`` -> ``"What did Suslov say about Ukraine?"``
    """
    if not history:
        return question
    last = history[-1]
    previous = last.resolved_question or last.question
    q = _LEAD.sub("", question.strip())
    # Ellipsis: "What about Ukraine?" / "And about Peskov?" reuse the last question's frame.
    m = re.fullmatch(r"(?:what|how)?\s*about\s+(.+?)\??", q, re.I)
    if m:
        topic = m.group(1)
        mentioned = people.mentioned_in(topic)
        if mentioned and (named := named_speakers(previous, people, settings)):
            return re.sub(re.escape(named[0].split()[-1]), mentioned[0], previous, count=1) \
                if named[0].split()[-1] in previous else previous.replace(named[0], mentioned[0])
        if re.search(r"\babout\b", previous):
            return re.sub(r"\babout\b.*$", f"about {topic}?", previous)
        return previous.rstrip("?") + f" about {topic}?"
    pronouns = _PRONOUNS.findall(q)
    if not pronouns:
        return question
    if named_speakers(q, people, settings):
        return q  # the follow-up names its own person
    referents = _referents(previous, last, people, settings)
    if not referents:
        return question
    plural = any(p.lower() in {"they", "them", "their"} for p in pronouns)
    who = " and ".join(referents[:2]) if plural else referents[0]

    def swap(match: re.Match) -> str:
        word = match.group(1).lower()
        if word in {"his", "hers", "their"} or (word == "her" and _possessive_her(q, match)):
            return who + "'s"
        return who

    resolved = _PRONOUNS.sub(swap, q)
    # "When did he say that?": "that" is what the last question was about.
    topic = re.search(r"\babout (.+?)\??$", previous)
    if topic and re.search(r"\b(say|said) (that|this|it)\b", resolved):
        resolved = re.sub(r"\b(say|said) (that|this|it)\b", rf"\1 that about {topic.group(1)}", resolved)
    return resolved[0].upper() + resolved[1:] if resolved else resolved


def _possessive_her(q: str, match: re.Match) -> bool:
    after = q[match.end():].lstrip()
    return bool(after) and after.split()[0].lower() not in {"say", "said", "think", "to", "about", "?"} and after[0].isalpha()


def _referents(previous: str, last: Answer, people: PeopleIndex, settings: RetrievalSettings) -> list[str]:
    """Who a pronoun in the next question most likely means."""
    named = list(named_speakers(previous, people, settings))
    in_answer = [c.speaker for c in last.citations if c.speaker]
    in_answer += people.mentioned_in(last.text)
    in_answer = list(dict.fromkeys(in_answer))
    if re.match(r"\s*(who|which|whom)\b", previous, re.I):
        fresh = [p for p in in_answer if p not in named]
        return fresh or in_answer or named
    if re.search(r"\b(and|both)\b", previous) and len(people.mentioned_in(previous)) > 1:
        return people.mentioned_in(previous)
    return named or in_answer


# -- questions about the document itself ------------------------------------

_DOC_NOUN = (r"(?:article|story|report|statement|release|press release|interview|piece|document|page|post|broadcast|programme|"
             r"program|study|paper|text|minutes|transcript|column|op-ed|editorial|FAQs?|explainer|guide|notice|newsletter|"
             r"bulletin|blog|leaflet|briefing|review|memo|letter|survey|audit)")
# A document noun as a word of the question ("the heat pump grants FAQ"): not a name.
_DOC_WORD = re.compile(rf"{_DOC_NOUN}", re.I)
_FACETS = (
    ("date", re.compile(
        # (of a document: "When was the article published?", "When was it
        # aired?"; "When was the draft budget published?" asks about the budget)
        rf"\bwhen (?:and where )?(?:was|were|is|did)\b(?=[^?]*\b(?:{_DOC_NOUN}|it|this|that|they)\b).*\b(?:published|issued|released|broadcast|aired|written|dated|posted|recorded|"
        rf"put out|come out|publish|issue|release|air|updated|revised|update|revise)\b|\b(?:what|which) (?:is the )?(?:date|day)\b.*\b{_DOC_NOUN}\b|"
        rf"\bpublication date\b", re.I)),
    # Minutes: the meeting's date is the document's "Date:" field ("When did
    # the board meet?", "On what date was the meeting held?").
    ("meeting", re.compile(
        r"\b(?:when|(?:on )?what (?:date|day))\b (?:did|was|were)\b(?:\s+[\w'-]+){0,5}?\s+"
        r"(?:(?:board|committee|commission|council|trustees|meeting)\s+(?:meet|convene|sit|held|take place)|"
        r"(?:meet|convene)|held|take place)\s*\?\s*$", re.I)),
    # A press release's contact block: "Media contact:" and the lines under it.
    ("contact", re.compile(r"\b(?:media|press) contact\b|\bcontact (?:person|for (?:the )?(?:media|press|journalists))\b|"
                           r"\bwho (?:should|can|do) (?:journalists|reporters|the media|the press) (?:contact|call|ask)\b", re.I)),
    ("author", re.compile(
        r"\bwho (?:wrote|authored|reported|conducted|presented|hosted|is the (?:author|reporter|writer|presenter|host)|"
        r"are the authors)\b|\b(?:author|authors|byline|reporter|writer)s? of\b|"
        # the minutes of a meeting are recorded, a transcript taken
        rf"\bwho (?:recorded|took|compiled|prepared|kept|minuted|transcribed)\b.*\b{_DOC_NOUN}\b", re.I)),
    ("publisher", re.compile(
        r"\bwho (?:published|publishes|issued|issues|released|releases|put out|puts out|produced|produces|owns|"
        r"is the publisher)\b|"
        r"\b(?:which|what) (?:organi[sz]ation|agency|outlet|newspaper|news agency|office|body|institute|publication|"
        r"magazine|journal|paper|website|news site|radio station|station|broadcaster|programme|program)\b.*\b(?:published|"
        r"publishes|issued|issues|released|releases|produced|produces|aired|airs|broadcast|broadcasts|ran|runs|carried|"
        r"carries|printed|prints|for)\b|"
        r"\bfor which (?:programme|program|outlet|newspaper|station|agency|publication|broadcaster)\b|\bpublisher\b", re.I)),
    ("title", re.compile(rf"\b(?:title|headline)\b.*\b{_DOC_NOUN}\b|\bwhat is the (?:title|headline)\b|"
                         rf"\bwhat (?:is|was) (?:the |this |that )?(?:[\w-]+ ){{0,4}}{_DOC_NOUN} called\b", re.I)),
    # The author's bio line at the end: "X is a former harbour pilot and chairs …".
    ("bio", re.compile(r"\b(?:author|writer|columnist)(?:'s|\u2019s)\s+(?:background|bio|biography|job|role|profession|"
                       r"occupation|career)\b|\bwhat (?:does|did) the (?:author|writer|columnist) do\b|"
                       r"\bwho is the (?:author|writer|columnist),? (?:and what|professionally)\b", re.I)),
)


# Words that end a document noun's run of qualifiers (stopwords end it too).
_NOT_MODIFIERS = frozenset({"the", "a", "an", "this", "that", "its", "their", "his", "her", "whole", "full", "original",
                            "same", "which", "what", "who", "whose", "new", "latest", "press", "news"}) | STOPWORDS


def document_phrases(question: str) -> list[str]:
    """The question's document nouns with the lower-case words that qualify
    them ("bipartisan report", "annual compliance report"). When such a
    phrase stands in a document's text, the question asks about a report
    the text mentions, not about the document itself (``Answerer.stream``).

    Example: ``document_phrases("Which body issued the bipartisan report?")`` -> ``["bipartisan report"]``;
    ``document_phrases("Who wrote the article?")`` -> ``[]``
    """
    found = []
    for m in re.finditer(rf"\b((?:[{LOWER}][\w-]*\s+){{1,3}}){_DOC_NOUN}\b", question):
        # The qualifying words run back from the noun to a determiner or a
        # verb's object marker: "wrote the article" has none.
        words: list[str] = []
        for word in reversed(m.group(1).split()):
            if word.lower() in _NOT_MODIFIERS:
                break
            words.insert(0, word)
        if words and len(words) < len(m.group(1).split()):
            found.append(" ".join(words + [question[m.start(1) + len(m.group(1)):m.end()]]).lower())
    return found


def document_facets(question: str) -> tuple[str, ...]:
    """What a question asks about the document itself: its ``author``,
    ``date``, ``publisher`` or ``title`` (in that order), answered from the
    byline, dateline, masthead and title rather than from the body.

    Example: ``document_facets("Who issued the statement, and on what date?")``
    -> ``('publisher',)``; ``document_facets("Who wrote the report?")`` -> ``('author',)``
    """
    if re.search(rf"(?:'s?|\u2019s?)\s+(?:[\w-]+\s+){{0,2}}{_DOC_NOUN}\b", question, re.I):
        # "the ambassadors' opinion piece", "Suslov's article": a document the
        # text mentions, not the text itself; the body has to answer.
        return ()
    found = [name for name, pattern in _FACETS if pattern.search(question)]
    if "publisher" in found and re.search(r"\b(?:on )?what date\b|\bwhen\b", question, re.I) and "date" not in found:
        found.append("date")  # "Who issued it, and on what date?"
    order = ("author", "bio", "date", "meeting", "publisher", "title", "contact")
    return tuple(f for f in order if f in found)
