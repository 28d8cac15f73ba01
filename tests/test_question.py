"""Question analysis: subjects, named speakers, details asked for, unknown names, follow-ups."""

import ast
from pathlib import Path

import pytest
from fakes import HashEmbedding

from rag.index import open_index
from rag.question import (
    CorpusFacts,
    PeopleIndex,
    Person,
    asked_details,
    asks_for_names,
    content_words,
    counted_noun,
    expected_detail,
    focus_noun,
    named_speakers,
    question_subject,
    resolve_follow_up,
    speaker_focus,
    two_part,
    unknown_names,
)
from rag.retrieve import Retriever
from rag.settings import RetrievalSettings, Settings
from rag.types import Answer, Citation

from conftest import ARTICLE

PEOPLE = PeopleIndex.build(
    {
        "a.txt": {
            "Dmitry Peskov": ["Kremlin spokesman"],
            "Dmitry Suslov": ["a professor and foreign affairs expert at Moscow's Higher School of Economics"],
        },
        "b.txt": {"Donald Trump": ["President"]},
    },
    speakers={"Dmitry Peskov", "Dmitry Suslov", "Kremlin"},
)


@pytest.fixture(scope="module")
def article_people(tmp_path_factory) -> PeopleIndex:
    settings = Settings().with_updates(index={"data_dir": tmp_path_factory.mktemp("d"), "show_progress": False})
    return Retriever(open_index(settings, [ARTICLE], embed_model=HashEmbedding()), settings.retrieval).people


# -- the people index ---------------------------------------------------------------


def test_people_index_holds_names_surnames_roles_and_speaking_organisations():
    peskov = PEOPLE.people[0]
    assert peskov == Person("Dmitry Peskov", ("dmitry peskov", "peskov"), (frozenset({"kremlin", "spokesman"}),),
                            heads=("spokesman",))
    assert [p.name for p in PEOPLE.people] == ["Dmitry Peskov", "Dmitry Suslov", "Donald Trump", "Kremlin"]
    kremlin = PEOPLE.people[-1]
    assert kremlin.names == ("kremlin",) and kremlin.roles == () and not kremlin.is_person
    assert PEOPLE.is_person("Donald Trump") and not PEOPLE.is_person("Kremlin")
    assert not PEOPLE.is_person("Angela Merkel")


def test_people_index_is_a_frozen_value():
    with pytest.raises(AttributeError):
        PEOPLE.people = ()  # type: ignore[misc]


def test_mentioned_in_lists_people_in_order_of_mention():
    assert PEOPLE.mentioned_in("Peskov answered Trump, then Dmitry Suslov spoke") == [
        "Dmitry Peskov", "Donald Trump", "Dmitry Suslov"]
    assert PEOPLE.mentioned_in("nobody here") == []
    assert PEOPLE.mentioned_in("Trumpet players") == []  # whole words only


def test_people_index_of_the_article(article_people):
    names = [p.name for p in article_people.people]
    assert "Dmitry Suslov" in names and "Oksana Antonenko" in names
    peskov = next(p for p in article_people.people if p.name == "Dmitry Peskov")
    assert any({"kremlin", "spokesman"} <= role for role in peskov.roles)


# -- who the question is about ------------------------------------------------------


@pytest.mark.parametrize(
    "question, subject",
    [
        ("What did the U.S. ambassador to Russia say?", "the U.S. ambassador to Russia"),
        ("Peskov's view on the calls?", "Peskov"),
        ("According to Suslov, why is arms control outdated?", "Suslov"),
        ("When did the call happen?", None),
    ],
)
def test_question_subject(question, subject):
    assert question_subject(question) == subject


@pytest.mark.parametrize(
    "question, named",
    [
        ("What did Suslov say about New START?", ("Dmitry Suslov",)),
        ("What did the Kremlin spokesman say?", ("Dmitry Peskov",)),  # a role beats the organisation in it
        ("What did the Kremlin say?", ("Kremlin",)),
        ("Why did Trump-Putin calls matter?", ()),  # a hyphenated compound names the calls
        ("What did Peskov say about Trump?", ("Dmitry Peskov", "Donald Trump")),
    ],
)
def test_named_speakers(question, named):
    assert named_speakers(question, PEOPLE) == named


def test_a_role_needs_min_role_words_shared_words():
    # "spokesman" alone shares one word with "Kremlin spokesman".
    assert named_speakers("What did the spokesman say?", PEOPLE) == ()
    assert named_speakers("What did the spokesman say?", PEOPLE, RetrievalSettings(min_role_words=1)) == (
        "Dmitry Peskov",)


def test_speaker_focus_is_the_subject_of_the_speech_verb():
    named = ("Dmitry Peskov", "Donald Trump")
    assert speaker_focus("What did Peskov say about Trump?", named, PEOPLE) == ("Dmitry Peskov",)
    assert speaker_focus("Who said Trump was right?", ("Donald Trump",), PEOPLE) == ()
    assert speaker_focus("Why did Trump call?", ("Donald Trump",), PEOPLE) == ("Donald Trump",)


@pytest.mark.parametrize(
    "question, speaker",
    [
        ("What did the U.S. ambassador to Russia say about sanctions?", "John Sullivan"),
        ("What did the Control Risks director say?", "Oksana Antonenko"),
    ],
)
def test_roles_in_the_article_resolve(article_people, question, speaker):
    assert speaker in named_speakers(question, article_people)


# -- names the corpus never mentions -------------------------------------------------

FACTS = CorpusFacts.from_texts(["Trump and Putin talked. American aid came to Moscow."],
                               people=["Donald Trump"], speakers=["Donald Trump"])


@pytest.mark.parametrize(
    "question, unknown",
    [
        ("What did Angela Merkel say about Putin?", ["Angela Merkel"]),
        ("Why did the Trump-Putin calls matter?", []),
        ("Besides Moscow, where did aid go?", []),  # a capitalised first word is not a name
        ("Did America send aid?", []),  # "American" is a longer form of it
        ('Who said "Gorbachev was right"?', []),  # quoted words are not names asked about
    ],
)
def test_unknown_names(question, unknown):
    assert unknown_names(question, FACTS) == unknown


def test_known_prefix_chars_decides_what_counts_as_a_longer_form():
    assert FACTS.knows("Americ", min_prefix_chars=5)
    assert not FACTS.knows("Americ", min_prefix_chars=7)


# -- what the answer must contain -----------------------------------------------------


@pytest.mark.parametrize(
    "question, what",
    [
        ("When did the plane land?", ["a date"]),
        ("How much did the supplies cost?", ["an amount of money"]),
        ("How many ventilators were on board?", ["that number"]),
        ("How long did the call last?", ["a duration"]),
        ("What did Suslov say?", []),
    ],
)
def test_asked_details(question, what):
    assert [d.what for d in asked_details(question)] == what


def test_expected_detail_patterns():
    assert expected_detail("When did the plane land?").search("on April 1")
    assert not expected_detail("When did the plane land?").search("on the runway")
    assert expected_detail("How many masks?").search("two masks")  # any number
    assert expected_detail("What did Suslov say?") is None


def test_focus_counted_and_named_nouns():
    assert focus_noun("How many of the Russian ventilators were sent?", r"\bhow many") == "ventilators"
    assert focus_noun("How many was it?", r"\bhow many") is None
    assert counted_noun("How many medical masks arrived?") == "masks"
    assert counted_noun("How many Russian cargo planes?") is None  # only one word may come between
    assert asks_for_names("What are the names of the two companies?") == "companies"
    assert asks_for_names("Which newspaper reported it?") == "newspaper"
    assert asks_for_names("Which day was it?") is None
    assert asks_for_names("Which German company is making the part?") == "company"  # a describing word between
    assert asks_for_names("Which two local firms won the contract?") == "firms"
    assert asks_for_names("Which routes change?") is None
    assert asks_for_names("Which two other cooperatives joined?") == "cooperatives"  # any organisation noun
    assert asks_for_names("Which agency issued the figures?") == "agency"


@pytest.mark.parametrize(
    "question, two",
    [
        ("When and where did they meet?", True),
        ("Why did oil collapse, and what did Trump do?", True),
        ("What did Suslov say about arms control?", False),
    ],
)
def test_two_part(question, two):
    assert two_part(question) is two


def test_content_words_drop_question_framing():
    assert content_words("What did the Kremlin spokesman say?") == {"kremlin", "spokesman"}
    assert content_words("What does he think, in your view?") == {"your"}


# -- follow-ups ----------------------------------------------------------------------


def _answer(question, text="", speakers=(), resolved=None) -> Answer:
    citations = tuple(Citation(n, "a.txt", 0, 1, "x", speaker=s) for n, s in enumerate(speakers, 1))
    return Answer(question, text, citations, (), "extractive", resolved_question=resolved)


def test_follow_up_pronoun_means_the_person_asked_about():
    history = [_answer("What did Suslov say about New START?", speakers=["Dmitry Suslov"])]
    assert resolve_follow_up("And what did he say about Ukraine?", history, PEOPLE) == \
        "What did Dmitry Suslov say about Ukraine?"


def test_follow_up_after_a_who_question_means_the_answer():
    history = [_answer("Who said the calls were unusual?", "Dmitry Suslov: it was unusual", ["Dmitry Suslov"])]
    assert resolve_follow_up("What else did he say?", history, PEOPLE) == "What else did Dmitry Suslov say?"


def test_follow_up_ellipsis_reuses_the_last_frame():
    history = [_answer("What did Suslov say about New START?")]
    assert resolve_follow_up("What about Ukraine?", history, PEOPLE) == "What did Suslov say about Ukraine?"
    assert resolve_follow_up("And about Peskov?", history, PEOPLE) == "What did Dmitry Peskov say about New START?"


def test_follow_up_possessive_and_say_that():
    history = [_answer("What did Peskov say about the calls?", speakers=["Dmitry Peskov"])]
    assert resolve_follow_up("When did he say that?", history, PEOPLE) == \
        "When did Dmitry Peskov say that about the calls?"
    assert resolve_follow_up("What is his role?", history, PEOPLE) == "What is Dmitry Peskov's role?"


def test_a_standalone_question_is_left_alone():
    history = [_answer("What did Suslov say?")]
    assert resolve_follow_up("When did the plane land?", history, PEOPLE) == "When did the plane land?"
    assert resolve_follow_up("What did he say?", [], PEOPLE) == "What did he say?"


# -- stage boundaries ----------------------------------------------------------------


def test_no_rag_module_uses_another_modules_private_names():
    """``from rag.x import _y`` or ``something._attr`` on another module's object
    means a stage reaches past another's interface."""
    offences = []
    paths = sorted((Path(__file__).resolve().parent.parent / "rag").glob("*.py"))
    assert paths
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rag"):
                offences += [f"{path}: {a.name}" for a in node.names if a.name.startswith("_")]
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                base = node.value
                if not (isinstance(base, ast.Name) and base.id in {"self", "cls"}):
                    offences.append(f"{path}:{node.lineno}: .{node.attr}")
    assert offences == []


def test_verify_does_not_import_retrieve():
    tree = ast.parse(Path(__file__).resolve().parent.parent.joinpath("rag", "verify.py").read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "rag.retrieve" not in modules and "rag.question" in modules


def test_plural_possessive_names_are_known_names():
    from rag.question import CorpusFacts, unknown_names

    facts = CorpusFacts.from_texts(["The Dunmore Falls budget was presented by Mayor Abernathy."], [], [])
    assert unknown_names("What happens to the tax rate under Dunmore Falls' proposed budget?", facts) == []
    assert unknown_names("Is Abernathy's budget larger?", facts) == []
    assert unknown_names("What did Angela Merkel say about Dunmore Falls'?", facts) == ["Angela Merkel"]


def test_said_about_finds_the_topic_of_a_what_did_x_say_question():
    from rag.question import said_about

    assert said_about("What did Suslov tell RFE/RL about New START?") == "New START"
    assert said_about("What did the minister say about the harbour tolls?") == "the harbour tolls"
    assert said_about("What did Greer comment on the wage offer?") == "the wage offer"
    assert said_about("What did he say has to exist for that to happen?") is None
    assert said_about("Who said the talks failed?") is None


# -- a name that qualifies a role is not the speaker ------------------------------------

TOWN = PeopleIndex.build(
    {
        "town.txt": {
            # The attribution takes a two-word place name for a full name.
            "Elm Harbour": [],
            "Maria Quist": ["Elm Harbour's harbour master"],
            "Tomas Brant": ["Deputy Mayor of Elm Harbour"],
            "Ines Vale": ["Town Board chair"],
        }
    },
    speakers={"Maria Quist", "Tomas Brant", "Ines Vale"},
)


@pytest.mark.parametrize(
    "question, named",
    [
        ("What did Elm Harbour's harbour master say about the storm?", ("Maria Quist",)),
        ("What did the harbour master of Elm Harbour say?", ("Maria Quist",)),
        ("What did the deputy mayor say about the ferry?", ("Tomas Brant",)),
        # "Town Board" names the board, not its chair: no role is named.
        ("When will the Elm Harbour Town Board meet?", ("Elm Harbour",)),
    ],
)
def test_a_name_that_qualifies_a_role_gives_way_to_the_role(question, named):
    assert named_speakers(question, TOWN) == named


@pytest.mark.parametrize(
    "subject, name, speaker",
    [
        ("Dunmore Falls' finance director", "Falls", False),
        ("Elm Harbour\u2019s harbour master", "Harbour", False),
        ("the general manager of Dunmore Falls Transit", "Falls", False),
        ("the chair of the Town Board", "Board", False),
        ("Kremlin spokesman Peskov", "Peskov", True),
        ("Sergei Lavrov", "Lavrov", True),
        ("Lavrov", "Lavrov", True),
    ],
)
def test_names_the_speaker(subject, name, speaker):
    from rag.question import names_the_speaker

    assert names_the_speaker(subject, name) is speaker


def test_a_role_is_named_by_its_head_noun():
    from rag.question import role_head

    assert role_head("a director of global risk analysis at Control Risks") == "director"
    assert role_head("City Council President") == "president"
    assert role_head("the U.S. ambassador to Russia") == "ambassador"
    assert role_head("of") is None


def test_a_plural_of_a_known_word_is_known():
    facts = CorpusFacts.from_texts(["Service returns on Sunday."], (), ())
    assert facts.knows("Sundays") and not facts.knows("Mondays")
    assert unknown_names("Will buses run on Sundays?", facts) == []
def test_a_person_introduced_alike_in_many_documents_is_one_entry():
    roster = {"Dmitry Peskov": ["Kremlin spokesman"], "Dmitry Suslov": ["professor"]}
    many = PeopleIndex.build({f"{i}.txt": roster for i in range(300)}, speakers={"Dmitry Peskov", "Kremlin"})
    one = PeopleIndex.build({"0.txt": roster}, speakers={"Dmitry Peskov", "Kremlin"})
    assert many == one and len(many.people) == 3
    assert many.mentioned_in("And what did Peskov and Suslov say?") == ["Dmitry Peskov", "Dmitry Suslov"]
    # Introduced differently (another role) is kept: each role can name them.
    other = PeopleIndex.build({"a.txt": roster, "b.txt": {"Dmitry Peskov": ["press secretary"]}}, speakers=())
    assert [p.name for p in other.people] == ["Dmitry Peskov", "Dmitry Suslov", "Dmitry Peskov"]
    assert named_speakers("What did the press secretary say?", other) == ("Dmitry Peskov",)


def test_role_holders_are_everyone_with_that_role_head():
    from rag.question import PeopleIndex, role_holders

    people = PeopleIndex.build({"a.txt": {"Ansel Rook": ["mayor of Gravel Bay"], "Ivo Lind": ["harbour master"]},
                                "b.txt": {"Celia Amberly": ["Mayor"]}}, set())
    assert set(role_holders("What did the mayor say about the ferry?", people)) == {"Ansel Rook", "Celia Amberly"}
    assert role_holders("What did the harbour master say?", people) == ("Ivo Lind",)
    assert role_holders("What did Rook say?", people) == ()  # a name, not a role
    assert role_holders("Who is the mayor?", people) == ()  # no speech verb: not asking for anyone's words


def test_yes_no_questions_open_with_an_auxiliary_and_ask_for_no_list():
    from rag.question import is_yes_no, list_size

    assert is_yes_no("Did Schantz comment on the report?") and is_yes_no("And was anyone hurt?")
    assert not is_yes_no("What did Schantz say?") and not is_yes_no("Who was hurt?")
    assert list_size("Has the ministry said which firms will send supplies?") is None
    assert list_size("Which firms will send supplies?") == 0


def test_who_publishes_asks_for_the_publisher_in_any_tense():
    from rag.question import document_facets

    assert document_facets("Who publishes The Harbour Post?") == ("publisher",)
    assert document_facets("Who issues the bulletin?") == ("publisher",)


@pytest.mark.parametrize(
    "question, what",
    [
        ("How long is the new quay?", ["a length"]),
        ("How far is the station from the harbour?", ["a length"]),
        ("How long did the storm last?", ["a duration"]),
        ("How long was the closure?", ["a duration"]),  # a thing that lasts
        ("How long is the wait for a ferry?", ["a duration"]),
    ],
)
def test_how_long_asks_for_a_length_or_a_duration(question, what):
    assert [d.what for d in asked_details(question)] == what


def test_a_length_needs_a_unit():
    detail = next(d for d in asked_details("How long is the new quay?"))
    assert detail.needs.search("The quay is 240 metres long.") and detail.needs.search("a 3.5 km track")
    assert not detail.needs.search("It took seven months to build.")
    # A length in words is a length too.
    assert detail.needs.search("Six metres of peat.") and detail.needs.search("a dozen kilometres of road")
    assert not detail.needs.search("six months of rain")


def test_a_role_of_stopwords_only_names_nobody():
    # Found by the fuzz test: a role with no content words divided by zero.
    from rag.question import PeopleIndex, named_speakers

    people = PeopleIndex.build({"a.md": {"Maren Odell": ["the"]}}, {"Maren Odell"})
    assert named_speakers("What did the minister say?", people) == ()


# -- written for the fresh dev questions on the article (eval/qa/dev/article-fresh.jsonl) --


@pytest.mark.parametrize(
    "question, what",
    [
        ("Over what span of time did the five meetings take place?", ["a duration"]),
        ("For what period will the bridge stay shut?", ["a duration"]),
        # "price" names what a how/why question is about; it asks for no amount.
        ("How did the fuel price rise come about?", []),
        ("Why did the ticket price go up?", []),
        ("How much did the tickets cost?", ["an amount of money"]),
        ("What did the new ferry cost?", ["an amount of money"]),
        ("How did the council pay for the hall, and how much did it spend?", ["an amount of money"]),
    ],
)
def test_asked_details_by_question_form(question, what):
    assert [d.what for d in asked_details(question)] == what


def test_a_duration_may_be_an_ordinal_or_a_start():
    needs = next(d for d in asked_details("How long has the strike been going on?")).needs
    for text in ("Now in its third week, the strike…", "The strike, in its 4th month,", "on strike since March",
                 "closed since 2019", "It took 12 days."):
        assert needs.search(text), text
    assert not needs.search("The third speaker said so.") and not needs.search("since the storm")


def test_name_or_list_the_plural_asks_for_a_list():
    from rag.question import list_size

    assert list_size("Name the experts who spoke at the panel.") == 0
    assert list_size("List the new routes.") == 0
    assert list_size("Name the two local firms.") == 2
    assert list_size("Name the mayor.") is None


def test_a_name_is_capitalised_and_not_a_modifier_of_a_government():
    people = PeopleIndex.build({"a.txt": {"Donald Trump": ["President"], "Northern Report": ["a radio programme"]}},
                               speakers={"Donald Trump", "Northern Report"})
    # A programme called "Northern Report" is not named by "the compliance report".
    assert named_speakers("When did the compliance report come out?", people) == ()
    assert named_speakers("What did Northern Report broadcast?", people) == ("Northern Report",)
    # "the Trump administration" is a government, not Trump speaking.
    assert named_speakers("Had the Trump administration decided to renew the treaty?", people) == ()
    assert named_speakers("When did Trump call the king?", people) == ("Donald Trump",)
    # A question typed all in lower case still names people.
    assert named_speakers("what did trump say about oil?", people) == ("Donald Trump",)


@pytest.mark.parametrize(
    "question, what",
    [
        ("By how much did fares rise?", ["the size of the change"]),
        ("How much did the average level in the three northern lakes rise over the decade?", ["the size of the change"]),
        ("How much does the transit budget rise?", ["an amount of money", "the size of the change"]),
        ("How much grain did the farm harvest?", ["that number"]),
    ],
)
def test_by_how_much_asks_for_the_size_of_a_change(question, what):
    assert [d.what for d in asked_details(question)] == what


def test_the_size_of_a_change():
    needs = next(d for d in asked_details("By how much did the level fall?")).needs
    for text in ("cut supply by about 70 percent", "rose by 8.6 milligrams per litre", "fell 12%",
                 "rose from 18.4 to 23.9 milligrams", "from $37.5 million to $41.2 million", "ridership halved"):
        assert needs.search(text), text
    # A number that is not a change: "a six-year agreement", "by 2030".
    assert not needs.search("the collapse of a six-year agreement") and not needs.search("done by March")
    assert not needs.search("to be finished by 2030")


def test_a_time_after_an_event_is_not_a_duration():
    needs = next(d for d in asked_details("How long did the strike last?")).needs
    assert not needs.search("Five days after the vote, the union met.")
    assert needs.search("The strike lasted five days.")


def test_document_phrases_are_qualified_document_nouns():
    from rag.question import document_phrases

    assert document_phrases("Which body issued the bipartisan report that bolstered it?") == ["bipartisan report"]
    assert document_phrases("Who published the annual compliance report?") == ["annual compliance report"]
    assert document_phrases("Who wrote the article?") == []
    assert document_phrases("When was the city's press release issued?") == []


def test_a_question_about_events_asks_for_nobodys_words():
    from rag.question import speaker_focus

    trump = ("Donald Trump",)
    # No verb of saying or thinking: the question is about what happened to Trump, not what he said.
    assert speaker_focus("Why has Trump struggled to work more closely with Moscow?", trump, PEOPLE) == ()
    assert speaker_focus("What did Trump say about oil?", trump, PEOPLE) == trump
    assert speaker_focus("Was Trump optimistic about a deal?", trump, PEOPLE) == trump
    assert speaker_focus('Did Trump call it "a great call"?', trump, PEOPLE) == trump


def test_how_large_asks_for_a_quantity_and_a_year_is_none():
    number = expected_detail("How large is the proposed budget?")
    assert number is not None and expected_detail("How big is the loan fund?") is not None
    for text in ("It rises to $286.4 million.", "a fund of 600,000 crowns", "five calls", "a 200-hectare farm"):
        assert number.search(text), text
    for text in ("the budget for the 2024–25 fiscal year", "in 2019", "from 2020-2024"):
        assert not number.search(text), text


def test_a_role_subject_speaks_not_the_person_named_after_the_verb():
    from rag.question import PeopleIndex, named_speakers, speaker_focus

    people = PeopleIndex.build({"m.md": {"Gudrun Falk": ["Superintendent"], "Ida Lundmark": ["parent"]}},
                               {"Gudrun Falk", "Ida Lundmark"})
    question = "What did the Superintendent tell Ida Lundmark?"
    named = named_speakers(question, people)
    assert "Ida Lundmark" not in speaker_focus(question, named, people)
    assert speaker_focus("What did Ida Lundmark say?", named_speakers("What did Ida Lundmark say?", people),
                         people) == ("Ida Lundmark",)


def test_what_someone_said_about_a_price_asks_for_no_amount():
    assert asked_details("What did the Treasurer say about the mooring price?") == []
    assert [d.what for d in asked_details("How much did the Treasurer say a mooring would cost?")] == ["an amount of money"]


@pytest.mark.parametrize("question, details", [
    ("Did the number of people using the ferry go down in 2025?", []),
    ("Did the fare rise by more than a crown?", []),
    ("Does the grant cost the council anything?", []),
    ("How many people used the ferry in 2025?", ["that number"]),
])
def test_a_yes_no_question_asks_for_no_figure(question, details):
    assert [d.what for d in asked_details(question)] == details


@pytest.mark.parametrize("question, facets", [
    ("When was the draft budget published?", ()),
    ("When did the agency first publish guidance on wind farms?", ()),
    ("When was the article published?", ("date",)),
    ("When was it aired?", ("date",)),
    ("When was the heat pump FAQ last updated?", ("date",)),
])
def test_when_was_x_published_is_about_the_document_only_when_x_is_one(question, facets):
    from rag.question import document_facets

    assert document_facets(question) == facets


def test_the_person_asked_about_may_be_named_in_an_appositive():
    from rag.question import question_subject

    assert question_subject("What has the regional premier, Odile Varnum, said about the ferry cut?") \
        == "the regional premier, Odile Varnum"
    assert question_subject("What did Suslov say about New START?") == "Suslov"


@pytest.mark.parametrize("question, future", [
    ("When will the line reopen?", True),
    ("When is the hall due to reopen?", True),
    ("When does the director expect the plant to restart?", True),
    ("What date will the vote be held?", True),
    ("When did the line close?", False),
    ("When was the hall built?", False),
    ("When did she say the drivers would start training?", False),
])
def test_asks_about_future(question, future):
    from rag.question import asks_about_future

    assert asks_about_future(question) is future


@pytest.mark.parametrize("question, between", [
    ("How long after the vote did the strike start?", True),
    ("How long afterwards did they meet?", True),
    ("How much warning did traders get between the announcement and the closure?", True),
    ("How long did the strike last?", False),
    ("How long is the bridge?", False),
])
def test_asks_time_between(question, between):
    from rag.question import asks_time_between

    assert asks_time_between(question) is between


def test_dates_in_reads_each_date_once_as_written():
    from rag.question import dates_in

    assert dates_in("Announced on 4 March, begun on 18 March 2024; the May meeting.") == {"4 March", "18 March", "2024", "May"}
