"""Which evidence an answer rests on: list questions, two-part questions and
transcript turns (``Answerer.best_evidence``), extractive so the choice is
what the answer shows."""

import pytest

from rag.question import asks_for_people, asks_for_speakers, list_size

INTERVIEW = """Harbour Hour | Westmere Radio

Presenter Lena Okoro spoke to harbour master Piet Vandermeer about the winter storms.

OKORO: Welcome, Piet. How many boats did the storms sink?

VANDERMEER: Four. Two fishing boats went down at the north quay, and two yachts broke their moorings in the outer basin.

OKORO: What are you asking the port authority for?

VANDERMEER: Two things. First, a new breakwater on the seaward side of the north quay. Second, a tide gauge that sends readings to the harbour office every minute.

OKORO: Thank you, Piet.
"""

TOWN = """Gravel Bay council notice

The ferry timetable changes on Monday. Ferries to Lund will leave at 7:10 and 9:40.

The library in Gravel Bay opens on Saturdays from March. The town pool stays closed until the roof is repaired.

The council meets in the town hall. Residents can read the minutes online.

Ferries to Osterby will leave at 8:15 on weekdays. The ferry to Karsholm is suspended for the winter.
"""


@pytest.fixture(params=["faiss", "milvus"])
def index_backend(request):
    """Every test here runs on FAISS and on Milvus Lite (conftest's make_assistant)."""
    return request.param


@pytest.mark.parametrize(
    "question, size",
    [
        ("What three things is the union asking for?", 3),
        ("Which two people does she name?", 2),
        ("On which Gravel Bay ferry routes will times change?", 0),
        ("Which experts doubt a reset?", 0),
        ("What steps did the council take?", 0),
        ("Which route is new?", None),
        ("What happens to the tax rate?", None),
        ("Which company paid its suppliers?", None),
        ("What is the status of the treaty?", None),
    ],
)
def test_list_size(question, size):
    assert list_size(question) == size


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_interviewers_question_stands_for_the_answer_that_follows(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "harbour.txt", INTERVIEW)])
    answer = assistant.ask("What is the harbour master asking the port authority for?")
    assert answer.mode == "extractive"
    assert "breakwater" in answer.text and "tide gauge" in answer.text, answer.text
    assert all(not c.quote.startswith("OKORO") for c in answer.citations), answer.citations
    text = INTERVIEW
    assert all(text[c.start:c.end] == c.quote for c in answer.citations)


def test_a_short_announcement_brings_the_rest_of_its_turn(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "harbour.txt", INTERVIEW)])
    answer = assistant.ask("How many boats did the storms sink, according to Vandermeer?")
    assert "Four." in answer.text and "fishing boats" in answer.text, answer.text


def test_a_list_question_gets_one_cited_item_per_part_and_nothing_off_topic(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "notice.txt", TOWN)])
    answer = assistant.ask("Which ferries will leave at new times?")
    assert "Lund" in answer.text and "Osterby" in answer.text, answer.text
    assert len(answer.citations) >= 2
    # Sentences without the list's focus words (the pool, the minutes) are not items.
    assert "pool" not in answer.text and "minutes" not in answer.text, answer.text


def test_a_plain_question_gets_no_unrelated_second_item(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "notice.txt", TOWN)])
    answer = assistant.ask("When does the library open on Saturdays?")
    assert "library" in answer.text
    assert "minutes" not in answer.text and "Osterby" not in answer.text, answer.text


# -- how the chosen evidence reads ------------------------------------------------------


def test_a_transcript_turn_reads_as_its_speakers_words(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "harbour.txt", INTERVIEW)])
    answer = assistant.ask("What is the harbour master asking the port authority for?")
    assert "Vandermeer said: \u201cTwo things." in answer.text or "Vandermeer also said: \u201cTwo things." in answer.text, \
        answer.text
    assert "VANDERMEER:" not in answer.text
    # The citation is still the exact span, label included.
    assert any(c.quote.startswith("VANDERMEER: Two things.") for c in answer.citations)


def test_a_list_answer_is_one_line_per_item(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "notice.txt", TOWN)])
    answer = assistant.ask("Which ferries will leave at new times?")
    lines = answer.text.split("\n")
    assert len(lines) == len(answer.citations) >= 2
    assert all(line.startswith("- ") and line.rstrip().endswith(f"[{n}]") for n, line in enumerate(lines, 1)), lines


def test_compose_says_also_for_the_same_speaker():
    from rag.answer import compose

    parts = [("Ann Lee", 'Ann Lee said: "Yes." [1]'), ("Ann Lee", 'Ann Lee said: "No." [2]'),
             (None, "The vote was close. [3]"), ("Ann Lee", 'Ann Lee said: "Maybe." [4]')]
    assert compose(parts) == ('Ann Lee said: "Yes." [1] Lee also said: "No." [2] The vote was close. [3] '
                              'Ann Lee said: "Maybe." [4]')
    assert compose(parts[:2], as_list=True) == '- Ann Lee said: "Yes." [1]\n- Ann Lee said: "No." [2]'
    assert compose(parts[:1], as_list=True) == 'Ann Lee said: "Yes." [1]'


@pytest.mark.parametrize(
    "claim, speakers, shown",
    [
        ('Dmitry Suslov: "No reset."', ["Dmitry Suslov"], 'Dmitry Suslov said: "No reset."'),
        ('Suslov: "No reset."', ["Dmitry Suslov"], 'Suslov said: "No reset."'),
        # Not the cited speaker, or narration: left for the verifier to judge.
        ('Peskov: "No reset."', ["Dmitry Suslov"], 'Peskov: "No reset."'),
        ("State Department: In their call they spoke.", [None], "State Department: In their call they spoke."),
        ("Note: the calls were short.", ["Dmitry Suslov"], "Note: the calls were short."),
        # Words that already say who spoke lose the label instead of saying it twice.
        ("Harriet Lomax: Harriet Lomax, who chairs the association, said her members could not carry the cost.",
         ["Harriet Lomax"], "Harriet Lomax, who chairs the association, said her members could not carry the cost."),
        ('Dmitry Suslov: "No reset," Suslov said.', ["Dmitry Suslov"], '"No reset," Suslov said.'),
        # A name inside the quotation is not the frame's.
        ('Dmitry Suslov: "Suslov is wrong."', ["Dmitry Suslov"], 'Dmitry Suslov said: "Suslov is wrong."'),
        # A transcript's turn label in capitals names the speaker by surname.
        ("VANCE: The pumps failed twice.", ["Mira Vance"], "Mira Vance said: The pumps failed twice."),
        # Another speaker's turn label (the interviewer narrating) is not the
        # answer's words: the claim is narration, with no label at all.
        ("Ole Brand: HOLT: The mayor, Ole Brand, told the council the pumps were fine.", ["Ole Brand"],
         "The mayor, Ole Brand, told the council the pumps were fine."),
        ("HOLT: The mayor, Ole Brand, told the council the pumps were fine.", ["Ole Brand"],
         "The mayor, Ole Brand, told the council the pumps were fine."),
    ],
)
def test_a_transcript_form_claim_becomes_a_sentence(claim, speakers, shown):
    from rag.answer import _as_speech

    assert _as_speech(claim, speakers) == shown


def test_generated_transcript_form_reads_as_an_answer(make_assistant, fake_llm):
    """What SmolLM2 writes ('NAME: "…" [1] NAME: "…" [2]') is shown as
    'NAME said: "…" [1] SURNAME also said: "…" [2]', citations unchanged."""
    assistant = make_assistant(fake_llm, answer={"cut_share": 0})  # the sentences as the model cut them
    question = "What did Suslov say about New START?"
    fake_llm.enqueue("placeholder")
    assistant.ask(question)
    user = fake_llm.history[-1][-1].content
    import re

    lines = dict(re.findall(r"^\[(\d+)\] (.*)$", user, re.M))
    n_time = next(n for n, t in lines.items() if "We want time" in t)
    n_old = next(n for n, t in lines.items() if "outdated" in t)
    fake_llm.enqueue(f'Dmitry Suslov: "We want time to elaborate the system, to expand it." [{n_time}] '
                     f'Dmitry Suslov: "arms control as it exists today is outdated" [{n_old}]')
    answer = assistant.ask(question)
    assert answer.mode == "generated", answer.text
    assert answer.text.startswith('Dmitry Suslov said: "We want time'), answer.text
    assert 'Suslov also said: "arms control' in answer.text, answer.text


@pytest.mark.parametrize(
    "question, parts",
    [
        ("Why did it fail, and what did Suslov say?", ["Why did it fail?", "what did Suslov say?"]),
        ("When and where did they meet?", ["When did they meet?", "where did they meet?"]),
        ("What did Suslov say?", ["What did Suslov say?"]),
        ("Who is Ann Lee and what does she do?", ["Who is Ann Lee?", "what does she do?"]),
    ],
)
def test_question_parts(question, parts):
    from rag.question import question_parts

    assert question_parts(question) == parts


def test_each_part_of_a_two_part_question_gets_its_own_item(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "notice.txt", TOWN)])
    answer = assistant.ask("When does the library open on Saturdays, and why is the pool closed?")
    assert "library" in answer.text and "roof" in answer.text, answer.text
    assert len(answer.citations) == 2


def test_every_part_of_a_question_is_answered_from_one_document(make_assistant, tmp_path):
    other = ("Marsh Point harbour news\n\nThe Marsh Point pool reopened after its roof was repaired in May. "
             "Swimmers said the new roof made the pool much brighter.\n")
    assistant = make_assistant(paths=[_write(tmp_path, "notice.txt", TOWN), _write(tmp_path, "other.txt", other)])
    answer = assistant.ask("When does the Gravel Bay library open on Saturdays, and what did swimmers say about the roof?")
    assert answer.citations, answer.text
    assert {c.source for c in answer.citations} == {answer.citations[0].source}, answer.text


def test_the_mayor_is_the_mayor_of_the_document_the_question_is_about(make_assistant, tmp_path):
    ferry = ("Ferry news\n\nThe ferry timetable to Lund changes in April. The mayor of Gravel Bay, Ansel Rook, "
             "was unhappy with it. Speaking on Monday, he said the early ferry should stay in the timetable.\n")
    budget = ("Budget news\n\nMayor Celia Amberly presented the budget. \"We kept the pool open,\" said Amberly. "
              "She said the library would open on Sundays.\n")
    assistant = make_assistant(paths=[_write(tmp_path, "ferry.txt", ferry), _write(tmp_path, "budget.txt", budget)])
    answer = assistant.ask("What did the mayor say about the ferry timetable?")
    assert "early ferry should stay" in answer.text, answer.text
    answer = assistant.ask("What did the mayor say about the budget?")
    assert "Amberly" in answer.text and "Rook" not in answer.text, answer.text


def test_a_yes_no_answer_quotes_the_short_sentence_that_settles_it(make_assistant, tmp_path):
    text = ("Harbour news\n\nPart of the north quay collapsed into the harbour during the storm on Tuesday night. "
            "No one was hurt. The harbour office will publish a repair plan in spring.\n\n"
            "The ferry timetable to Lund changes in April.\n")
    assistant = make_assistant(paths=[_write(tmp_path, "quay.txt", text)])
    answer = assistant.ask("Was anyone injured when the north quay collapsed into the harbour?")
    assert "No one was hurt." in answer.text, answer.text
    assert "repair plan" not in answer.text, answer.text  # one sentence more, not the paragraph
    # Other questions keep one sentence.
    answer = assistant.ask("What collapsed into the harbour during the storm?")
    assert "No one was hurt" not in answer.text, answer.text


def test_names_asked_for_must_come_from_the_answers_own_document(make_assistant, tmp_path):
    quay = "Quay news\n\nTwo companies won the contract to rebuild the north quay in Gravel Bay.\n"
    other = ("Railway news\n\nKastel Hillside Railways, the company that runs the funicular, "
             "won a contract for new cars.\n")
    assistant = make_assistant(paths=[_write(tmp_path, "quay.txt", quay), _write(tmp_path, "rail.txt", other)])
    answer = assistant.ask("What are the names of the two companies that will rebuild the north quay in Gravel Bay?")
    assert answer.mode == "refused" and "names" in answer.text, answer.text


PAGE = """<html><body><nav><a href="/">Home</a></nav>
<article><h1>Gravel Bay quay to reopen</h1><p class="byline">By Ann Lee</p>
<p>The cooperative that runs the ferry wants three things from the council: a new pontoon, longer opening hours
and a ticket office on the quay.</p><p>The council will answer in May.</p></article>
<footer><p>The Harbour Post is published by Quay Media Cooperative.</p><p>About us | Privacy | Contact</p>
<p>&copy; 2025 Quay Media Cooperative. All rights reserved.</p></footer></body></html>"""


def test_a_page_footer_answers_who_publishes_it_and_nothing_else(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "page.html", PAGE)])
    answer = assistant.ask("What does the cooperative want from the council?")
    assert "pontoon" in answer.text and "\u00a9" not in answer.text and "published by" not in answer.text, answer.text
    answer = assistant.ask("Who publishes The Harbour Post?")
    assert "Quay Media Cooperative" in answer.text and answer.citations, answer.text
    assert answer.citations[0].quote == "The Harbour Post is published by Quay Media Cooperative."


def test_which_agency_published_a_story_is_not_refused_for_want_of_names(make_assistant, tmp_path):
    wire = ("Ferries cancelled as storm nears\n\nBy Ann Lee\n\n"
            "GRAVEL BAY, March 3 (Quayline News) - All ferries to Lund were cancelled on Monday.\n")
    assistant = make_assistant(paths=[_write(tmp_path, "wire.txt", wire)])
    answer = assistant.ask("Which news agency published the story about the cancelled ferries?")
    assert answer.mode != "refused" and "Quayline" in answer.text, answer.text


def test_a_sentence_from_the_middle_of_a_turn_names_its_speaker(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "harbour.txt", INTERVIEW)])
    answer = assistant.ask("Who said that a tide gauge should send readings to the harbour office every minute?")
    assert "Piet Vandermeer said: \u201c" in answer.text, answer.text


RELEASE = """TOWN OF GRAVEL BAY
Harbour Office
Quay Road 4, Gravel Bay

FOR IMMEDIATE RELEASE
May 2, 2025

The harbour reopens to ferries on Monday after repairs to the north quay.
"""


def test_the_issuer_is_the_masthead_block(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "release.txt", RELEASE)])
    answer = assistant.ask("Who issued the press release about the harbour?")
    assert "Harbour Office" in answer.text, answer.text
    assert "FOR IMMEDIATE RELEASE" not in answer.text and "May 2" not in answer.text, answer.text
    (c,) = answer.citations
    assert RELEASE[c.start:c.end] == c.quote and c.quote.startswith("TOWN OF GRAVEL BAY\nHarbour Office")


SURVEY = """# Harbour Water 2024

## Findings

| Basin | 2020 average (mg/l) | 2024 average (mg/l) |
| --- | --- | --- |
| North | 12.5 | 14.0 |
| South | 9.1 | 9.8 |

The North basin rose the most, by 1.5 milligrams per litre.
"""


def test_a_table_row_reads_with_its_header(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "survey.md", SURVEY)])
    answer = assistant.ask("What was the South basin average in 2024?")
    assert "Basin: South; 2020 average (mg/l): 9.1; 2024 average (mg/l): 9.8." in answer.text, answer.text
    row = next(c for c in answer.citations if "South" in c.quote)
    assert row.quote == "| South | 9.1 | 9.8 |"


def test_a_header_that_reads_like_a_marker_is_not_shown(make_assistant, tmp_path):
    # Found by the fuzz test: "| [99] |" as a header put an uncited "[99]" in the answer.
    text = SURVEY.replace("| Basin |", "| [99] |")
    assistant = make_assistant(paths=[_write(tmp_path, "survey.md", text)])
    answer = assistant.ask("What was the South basin average in 2024?")
    assert "| South | 9.1 | 9.8 |" in answer.text and "[99]" not in answer.text, answer.text


def test_a_year_no_evidence_mentions_is_refused(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "survey.md", SURVEY)])
    answer = assistant.ask("What was the South basin average in 2019?")
    assert answer.mode == "refused" and "2019" in answer.text, answer.text


def test_a_year_said_of_something_else_is_refused(make_assistant, tmp_path):
    text = SURVEY + "\nThe harbour master said eel catches had halved since 2019.\n"
    assistant = make_assistant(paths=[_write(tmp_path, "survey.md", text)])
    answer = assistant.ask("What was the South basin average in 2019?")
    assert answer.mode == "refused" and "2019" in answer.text, answer.text
    # The year beside what is asked about still answers.
    answer = assistant.ask("How did eel catches change since 2019?")
    assert answer.mode != "refused" and "halved" in answer.text, answer.text


def test_a_noun_that_is_money_asks_for_an_amount():
    from rag.question import asked_details

    for q in ("What hourly wage will the new drivers be paid?", "What is the annual budget of the library?",
              "How much does the budget allocate to parks?", "What fare will riders pay?"):
        assert [d.what for d in asked_details(q)][0] == "an amount of money", q
    for q in ("What did the budget change?", "How much did the river rise?", "What is the fare system called?"):
        assert "an amount of money" not in [d.what for d in asked_details(q)], q


def test_a_money_noun_before_a_relative_clause_asks_for_an_amount():
    """"What is the rent the bakery pays…": the clause that follows the noun
    (no "that") says whose rent; the question still asks for an amount."""
    from rag.question import asked_details

    for q in ("What is the rent the bakery pays its landlord?", "What is the fee Hanne Vold charges for a lesson?",
              "What was the price they agreed for the boat?", "What is the wage a new porter earns?"):
        assert [d.what for d in asked_details(q)][0] == "an amount of money", q
    for q in ("What is the rent dispute about?", "What is the budget committee called?", "What is the fee waiver for?"):
        assert "an amount of money" not in [d.what for d in asked_details(q)], q


BAKERY = """Corner bakery signs a new lease

Mirela Stanek has signed a ten-year lease with the Harrow Street landlord for the shop her bakery has used since 2019.
The bakery sells about 400 loaves a day and employs six bakers.
Stanek said the lease lets her build a second oven at the back of the shop.
"""


def test_a_rent_the_text_does_not_give_is_refused_and_one_it_gives_is_answered(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "bakery.txt", BAKERY)])
    answer = assistant.ask("What is the rent the bakery pays its landlord?")
    assert answer.mode == "refused" and "amount of money" in answer.text, answer.text
    paid = BAKERY + "The bakery pays 1,200 crowns a month in rent to the Harrow Street landlord.\n"
    assistant = make_assistant(paths=[_write(tmp_path, "bakery.txt", paid)])
    answer = assistant.ask("What is the rent the bakery pays its landlord?")
    assert answer.mode != "refused" and "1,200 crowns" in answer.text, answer.text


DAIRY = """Lindqvist dairy expands its herd

The Lindqvist dairy outside Rosvik bought forty more cows this spring, its owner, Sara Lindqvist, said.
The herd now gives about 12,000 litres a day, which the dairy sells to the Rosvik cheese cooperative.
Lindqvist said the new barn was finished in March.
"""


def test_a_refused_amount_of_a_mass_noun_is_named_as_an_amount(make_assistant, tmp_path):
    """"How much butter…" the text does not give is refused as "the amount
    of butter" (it said "the number of butter")."""
    assistant = make_assistant(paths=[_write(tmp_path, "dairy.txt", DAIRY)])
    answer = assistant.ask("How much butter does the dairy sell to the cooperative?")
    assert answer.mode == "refused" and answer.text.endswith("They do not give the amount of butter."), answer.text
    answer = assistant.ask("How many goats does the Lindqvist dairy keep?")
    assert answer.mode == "refused" and answer.text.endswith("the number of goats."), answer.text


def test_how_many_is_refused_when_the_text_counts_only_the_largest(make_assistant, tmp_path):
    """A text that counts "the four biggest herds" gives no number of herds
    in all: "How many herds…" is refused, "How many of the biggest…" is not."""
    herds = DAIRY + "The valley's four biggest herds graze on the south slope, the cooperative said.\n"
    assistant = make_assistant(paths=[_write(tmp_path, "dairy.txt", herds)])
    answer = assistant.ask("How many herds are there in the valley?")
    assert answer.mode == "refused" and "the number of herds" in answer.text, answer.text
    answer = assistant.ask("How many of the biggest herds graze on the south slope?")
    assert answer.mode != "refused" and "four" in answer.text, answer.text


def test_who_is_the_role_asks_for_a_name_beside_the_role():
    from rag.question import asks_for_names

    assert asks_for_names("Who is the vet who treats the herd?") == "vet"
    assert asks_for_names("Who was the architect of the new barn?") == "architect"
    assert asks_for_names("Who is the person who sold the cows?") is None  # names no role
    assert asks_for_names("Who is the best judge of that?") is None  # a describing word first: no plain role


VET = DAIRY + "A vet from Rosvik checks the cows every month.\nThe barn was designed by the architect Jonas Berg.\n"


def test_who_is_the_role_is_refused_when_the_text_names_nobody_in_it(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "dairy.txt", VET)])
    answer = assistant.ask("Who is the vet who checks the cows?")
    assert answer.mode == "refused" and "names" in answer.text, answer.text
    answer = assistant.ask("Who is the architect who designed the barn?")
    assert answer.mode != "refused" and "Jonas Berg" in answer.text, answer.text


def test_how_much_asks_for_a_number_unless_it_is_about_money():
    from rag.question import asked_details

    assert [d.what for d in asked_details("How much did the level rise?")] == ["the size of the change"]
    assert [d.what for d in asked_details("How much grain did they harvest?")] == ["that number"]
    assert [d.what for d in asked_details("How much did the pool cost?")][0] == "an amount of money"
    assert [d.what for d in asked_details("How much can each member borrow?")][0] == "an amount of money"


def test_a_report_the_text_mentions_is_answered_from_the_body(make_assistant, tmp_path):
    release = RELEASE + ("\nThe repairs follow the annual safety report from the Coastal Shipping Board, which found "
                         "cracks in two of the quay's piers.\n")
    assistant = make_assistant(paths=[_write(tmp_path, "release.txt", release)])
    # "the annual safety report" stands in the text: the question is about it, not about this release.
    answer = assistant.ask("Which body issued the annual safety report about the quay?")
    assert "Coastal Shipping Board" in answer.text and "Harbour Office" not in answer.text, answer.text
    # The release itself is still answered from its masthead.
    answer = assistant.ask("Who issued the press release about the harbour?")
    assert "Harbour Office" in answer.text, answer.text


def test_of_the_items_with_the_asked_detail_the_one_about_the_question_leads(make_assistant, tmp_path):
    from rag.retrieve import Retrieval
    from rag.types import Evidence

    assistant = make_assistant(paths=[_write(tmp_path, "town.txt", TOWN)])

    def item(text, score):
        return Evidence(source="town.txt", start=0, end=len(text), text=text, section=None, paragraph=1,
                        speaker=None, score=score)

    evidence = (item("The council meets in the town hall.", 0.9),
                item("The pier was built in 1911 and rebuilt in 1987.", 0.8),
                item("The storm hit the north quay on March 3 and bent two cranes.", 0.7))
    ranked = assistant.answerer._ranked("When did the storm hit the quay?", Retrieval("q", evidence, (), 0.5, 5.0))
    # Both later items hold a date; the one about the storm and the quay comes first.
    assert ranked[0] is evidence[2]
    # Of equals, the first in retrieval order.
    ranked = assistant.answerer._ranked("When was it done?", Retrieval("q", evidence, (), 0.5, 5.0))
    assert ranked[0] is evidence[1]


def test_a_list_is_led_by_the_item_that_holds_most_of_what_it_is_of(make_assistant, tmp_path):
    """Retrieval's first item shares one word with the question; the next two,
    from another document, hold the list: they answer, the first does not."""
    from rag.retrieve import Retrieval
    from rag.types import Evidence

    assistant = make_assistant(paths=[_write(tmp_path, "town.txt", TOWN)])

    def item(source, text, score, paragraph):
        return Evidence(source=source, start=0, end=len(text), text=text, section=None, paragraph=paragraph,
                        speaker=None, score=score)

    evidence = (item("clinic.txt", "Doctors say the rationing is changing how they treat patients.", 0.9, 1),
                item("ferry.txt", "Absorbing the cut would mean fewer winter sailings on the service.", 0.8, 1),
                item("ferry.txt", "The cooperative would also have to raise the fare to absorb the cut.", 0.7, 2))
    question = "Which two changes to the service would the cooperative make to absorb the cut?"
    chosen = assistant.answerer.best_evidence(question, Retrieval("q", evidence, (), 0.5, 5.0))
    assert [e.source for e in chosen] == ["ferry.txt", "ferry.txt"]
    # Where no later item holds more of the question, retrieval's first leads.
    chosen = assistant.answerer.best_evidence("Which two changes do doctors see in how they treat patients?",
                                              Retrieval("q", evidence, (), 0.5, 5.0))
    assert chosen[0] is evidence[0]


def first_retrieval(assistant, question):
    answerer = assistant.answerer
    return answerer.with_turns(answerer.scoped(question, answerer.retriever.retrieve(question)))


def test_an_unverified_draft_still_chooses_what_is_quoted(make_assistant, fake_llm, tmp_path):
    """When no sentence of a draft verifies, the answer quotes evidence, led by
    the source the draft cited first (not the model's words)."""
    assistant = make_assistant(fake_llm, paths=[_write(tmp_path, "town.txt", TOWN)])
    question = "What is changing for the ferries?"
    fake_llm.enqueue("placeholder")
    first = assistant.ask(question)
    import re

    lines = dict(re.findall(r"^\[(\d+)\] (.*)$", fake_llm.history[-1][-1].content, re.M))
    # A source retrieval did not put first; the draft words it too freely to verify.
    n, text = next((n, t) for n, t in lines.items() if n != "1" and "erry" in t)
    fake_llm.enqueue(f"Boats will sail to other islands on a new timetable, with extra trips at dawn [{n}].")
    answer = assistant.ask(question)
    assert answer.mode == "extractive" and answer.draft is not None, answer.text
    assert answer.citations[0].quote in text, (answer.text, text)
    assert "other islands" not in answer.text and "dawn" not in answer.text
    # Without the draft's choice, retrieval's first source leads.
    assert lines["1"].startswith(assistant.answerer.best_evidence(question, first_retrieval(assistant, question))[0]
                                 .text[:20])


def test_a_generated_sentence_that_only_cuts_its_source_is_shown_as_the_source(make_assistant, fake_llm, tmp_path):
    """A small model's cut of a sentence can drop what was asked: "By what
    date must the council adopt a budget?" answered with the hearing dates."""
    notice = ("Gravel Bay budget notice\n\nThe council will hold hearings on April 3 and April 10 in the town hall, "
              "and must adopt a budget by June 15.\n\nThe ferry timetable changes on Monday.\n")
    assistant = make_assistant(fake_llm, paths=[_write(tmp_path, "notice.txt", notice)])
    question = "By what date must the council adopt a budget?"
    fake_llm.enqueue("April 3 and April 10 in the town hall [1].")
    answer = assistant.ask(question)
    assert answer.mode == "generated" and "June 15" in answer.text, answer.text
    c = answer.citations[0]
    assert notice[c.start:c.end] == c.quote and "June 15" in c.quote and "April 3" in c.quote
    assert answer.text.count("April 3") == 1, answer.text
    # cut_share 0 shows the cut as the model wrote it.
    assistant = make_assistant(fake_llm, paths=[_write(tmp_path, "notice.txt", notice)], answer={"cut_share": 0},
                               index={"data_dir": tmp_path / "data2"})
    fake_llm.enqueue("April 3 and April 10 in the town hall [1].")
    assert "June 15" not in assistant.ask(question).text


HARBOUR = """Kessel harbour notice

The harbour master, Ines Brook, said the storm on Friday had flooded the ferry terminal and cut power to the north quay.

The harbour office keeps its usual hours. Parking at the marina is free in March.

The north quay cranes have been back in service since Sunday.
"""


def test_an_item_that_adds_what_the_best_one_leaves_out_joins_it(make_assistant, tmp_path):
    path = _write(tmp_path, "harbour.txt", HARBOUR)
    question = "What has become of the ferry terminal and of the north quay cranes since the storm?"
    assistant = make_assistant(paths=[path])
    answer = assistant.ask(question)
    assert "flooded the ferry terminal" in answer.text and "back in service" in answer.text, answer.text
    assert [c.speaker for c in answer.citations] == ["Ines Brook", None]
    assert all(HARBOUR[c.start:c.end] == c.quote for c in answer.citations)
    # Nothing joins that adds nothing the question asks about.
    assert "marina" not in answer.text
    # The rule has a setting: with depth 0 the best item stands alone.
    alone = make_assistant(paths=[path], answer={"complement_depth": 0}).ask(question)
    assert "back in service" not in alone.text, alone.text


DAM = """Kessel dam plan divides engineers

The regional council wants to raise the Kessel dam by four metres before 2030. The dam was built in 1961 and last raised in 1988.

"Raising the dam will not stop a flood like the one in 2021," said Mara Voss, a hydrologist at Lund University.

Piet Arendt, an engineer who helped inspect the dam in 2019, doubted the old wall could carry the extra height. "The concrete was never meant for it," he said.

The council's own engineer, Sofie Lind, said the plan was sound.
"""


@pytest.mark.parametrize("question, speakers", [
    ("Which experts doubt the dam plan?", True),
    ("Name the engineers who spoke about the dam.", True),
    ("Which officials warned about the shortage?", True),
    ("Which two people does Meresky mention by name?", False),
    ("Which routes will change?", False),
    ("What three things is the union asking for?", False),
])
def test_asks_for_speakers(question, speakers):
    assert asks_for_speakers(question) is speakers


def test_a_list_of_people_by_what_they_said_gives_each_person_once(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "dam.txt", DAM)])
    answer = assistant.ask("Which experts doubt the plan to raise the dam?")
    speakers = [c.speaker for c in answer.citations]
    assert speakers and all(speakers), answer.text  # no narration among the items
    assert len(set(speakers)) == len(speakers), answer.text  # each person once
    assert all(DAM[c.start:c.end] == c.quote for c in answer.citations)


def test_a_list_item_that_is_a_list_line_keeps_one_bullet():
    from rag.answer import compose

    text = compose([(None, "- Chair: notify the ferry company. [1]"), (None, "* Treasurer: publish the budget. [2]")], True)
    assert text == "- Chair: notify the ferry company. [1]\n- Treasurer: publish the budget. [2]"


def test_who_recorded_the_minutes_is_read_from_their_closing_line(make_assistant, tmp_path):
    minutes = ("# Pier Board: Minutes of 4 May 2025\n\n**Date:** Sunday 4 May 2025\n\n## Present\n\n- Ada Lorn, Chair\n\n"
               "## 1. Fees\n\nThe Chair said mooring fees would rise by 4 percent.\n\nThe meeting closed at 9 pm.\n\n"
               "*Minutes recorded by Tove Brant, Board Secretary.*\n")
    assistant = make_assistant(paths=[_write(tmp_path, "minutes.md", minutes)])
    answer = assistant.ask("Who recorded the minutes of the Pier Board meeting?")
    assert "Tove Brant" in answer.text and not answer.text.startswith("*"), answer.text
    c = answer.citations[0]
    assert minutes[c.start:c.end] == c.quote and "recorded by" in c.quote


PIER_REPORT = """# Pier survey 2025

The pier's timber deck has rotted at its seaward end, the survey found. Divers measured the piles in June.

## Recommendations

1. Replace the seaward deck boards before the winter storms.
2. Close the pier to vehicles heavier than three tonnes.
3. Inspect the piles again every spring.

The board will decide on these recommendations, and on the survey's other measures, in October.

## Costs

Replacing the boards would cost 80,000 crowns.
"""


def test_a_list_question_about_a_sections_list_gets_its_items(make_assistant, tmp_path):
    """Retrieval finds the sentence after a list as readily as its items; a list
    question whose words name the section (recommend / Recommendations) is
    answered with the section's list items, each cited, the list marks not
    repeated."""
    path = _write(tmp_path, "pier.md", PIER_REPORT)
    assistant = make_assistant(paths=[path])
    answer = assistant.ask("Which measures does the survey recommend?")
    assert answer.mode == "extractive"
    for item in ("seaward deck boards", "heavier than three tonnes", "piles again every spring"):
        assert item in answer.text, answer.text
    assert "October" not in answer.text, answer.text
    lines = answer.text.split("\n")
    assert len(lines) == len(answer.citations) == 3
    assert all(line.startswith("- ") and not line.startswith("- 1.") and not line[2].isdigit() for line in lines), lines
    assert all(PIER_REPORT[c.start:c.end] == c.quote for c in answer.citations)
    # "What two …" asks for two of them.
    assert len(assistant.ask("What two measures does the survey recommend?").citations) == 2


def test_a_who_or_which_question_that_names_a_cost_asks_for_no_amount():
    from rag.question import asked_details

    for q in ("Who said the ferry operators could not carry the cost alone?",
              "Besides the ferry firms, which businesses did the price rise hurt?",
              "Why did the fuel price matter to the harbour?"):
        assert "an amount of money" not in [d.what for d in asked_details(q)], q
    # A second part that asks for the amount still does.
    assert "an amount of money" in [d.what for d in asked_details("Who won the dredging contract, and what did it cost?")]
    # "How much higher…" asks for the size of a change, not for a mass noun called "higher".
    assert [d.what for d in asked_details("How much higher is the sea wall than before?")] == ["the size of the change"]


def test_an_amount_in_a_currency_no_list_knows_is_an_amount_by_its_verb():
    from rag.question import DETAILS

    money = next(d for d in DETAILS if d.what == "an amount of money").needs
    assert money.search("The new quay would cost 46 million marks a year to run.")
    assert money.search("the cost of running the lock, which the board put at 12 million marks")
    assert not money.search("The new quay would cost them 3 days of work.")
    assert not money.search("The extra funding will pay for 35 new pilots.")
    assert not money.search("The basin holds 2 million tonnes of silt.")


LEDGER = """# Kessel Harbour Board, 4 June 2025

## 3. Lock repairs

The Treasurer presented the budget for repairing the east lock.

| Item | Amount (£) |
| --- | --- |
| Gate replacement | 410,000 |
| **Total** | **455,000** |

## 4. Staff

| Year | Pilots employed | Tugs |
| --- | --- | --- |
| 2023 | 14 | 3 |
| 2024 | 17 | 3 |

The harbour master said the lock had closed twice in May.
"""


def test_a_table_row_gives_the_amount_and_count_its_header_names(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "ledger.md", LEDGER)])
    answer = assistant.ask("What is the total budget for the east lock repairs?")
    assert answer.mode != "refused" and "455,000" in answer.text, answer.text
    # The year the question names picks the row.
    answer = assistant.ask("How many pilots did the harbour employ in 2024?")
    assert answer.mode != "refused" and "17" in answer.text.split("[1]")[0], answer.text


def test_a_deadline_year_in_a_yes_no_question_is_not_a_missing_year(make_assistant, tmp_path):
    text = "Kessel lock notice\n\nThe board said the new east lock could not open before 2031 at the earliest.\n"
    assistant = make_assistant(paths=[_write(tmp_path, "lock.txt", text)])
    answer = assistant.ask("Could the new east lock be open by 2029?")
    assert answer.mode != "refused" and "2031" in answer.text, answer.text


def test_a_place_before_a_common_noun_is_not_the_speaker_asked_about():
    from rag.question import names_the_speaker

    assert not names_the_speaker("the Mill Green librarian", "Green")
    assert not names_the_speaker("the Green opposition's amendment", "Green")
    assert names_the_speaker("harbour master Ines Brandt", "Brandt")
    assert names_the_speaker("Brandt and Okafor", "Brandt")


def test_how_many_people_counts_people_by_what_they_do():
    from rag.question import focus_noun
    from rag.verify import counted_in

    assert focus_noun("How many people signed their names to the petition?", r"\bhow many") == "people"
    assert counted_in("people", "The harbour employs 35 lock keepers.")
    assert not counted_in("people", "The harbour has 3 tugs.")


MAGAZINE = """Saving the East Lock

A century-old lock is failing, and the harbour cannot agree on how to fix it.

By Ines Brandt

Tidewater Monthly | April 3, 2025

The east lock at Kessel has closed twice this spring.
"""


def test_a_masthead_line_names_the_publisher(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "feature.txt", MAGAZINE)])
    answer = assistant.ask("Which magazine published the piece on the east lock?")
    assert "Tidewater Monthly" in answer.text, answer.text
    assert answer.citations[0].quote == "Tidewater Monthly | April 3, 2025"


MINUTES_DATE = """# Kessel Harbour Board

**Date:** Tuesday 4 June 2025

**Place:** Pier Hall

## 1. Lock repairs

The Treasurer said the east lock would close for repairs on 20 July.
"""


def test_when_the_board_met_is_the_date_field_of_its_minutes(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "minutes.md", MINUTES_DATE)])
    answer = assistant.ask("When did the Kessel harbour board meet?")
    assert answer.text == "Date: Tuesday 4 June 2025 [1]", answer.text
    assert answer.citations[0].quote == "**Date:** Tuesday 4 June 2025"
    # A meeting still to come, or one between two people, is not the document's date.
    from rag.question import document_facets

    assert document_facets("When will the board meet?") == ()
    assert document_facets("When did Pompeo meet Lavrov?") == ()


RELEASE_CONTACT = """KESSEL HARBOUR BOARD

The board will reopen the east lock on 20 July after repairs.

###

Media contact:
Ines Brandt, Communications Officer
(555) 010-4411
"""


def test_a_press_release_media_contact_is_the_block_under_its_label(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "release.txt", RELEASE_CONTACT)])
    answer = assistant.ask("Who is the media contact for the lock announcement?")
    assert "Ines Brandt, Communications Officer" in answer.text, answer.text
    assert answer.citations[0].quote == "Media contact:\nInes Brandt, Communications Officer\n(555) 010-4411"



FERRY = """Tern Island ferry news

The new ferry Maren Lys entered service on Tuesday, the island's harbour office said.

"We waited nine years for this boat," the harbour master, Olav Brekke, said on 3 May. "The Maren Lys will sail every hour in summer," Brekke said.

The old ferry carried passengers for forty years. The Maren Lys carries 240 passengers and 40 cars.
"""


def test_an_item_with_what_the_question_asks_for_stands_alone(make_assistant, tmp_path):
    # The sentence with the date answers "when" by itself: Brekke's other
    # words would be read as part of the answer.
    path = _write(tmp_path, "ferry.txt", FERRY)
    assistant = make_assistant(paths=[path])
    answer = assistant.ask("When did Brekke say they had waited nine years for the boat?")
    assert "3 May" in answer.text, answer.text
    assert len(answer.citations) == 1, answer.text
    answer = assistant.ask("Who said they had waited nine years for the boat?")
    assert "Brekke" in answer.text and len(answer.citations) == 1, answer.text
    # "How many passengers" wants a number of passengers, not the forty years
    # of a sentence that also names passengers.
    answer = assistant.ask("How many passengers does the Maren Lys carry?")
    assert "240 passengers" in answer.text, answer.text
    assert all(FERRY[c.start:c.end] == c.quote for c in answer.citations)


BRIDGE = """Old bridge may reopen to cyclists

The county closed the Varde footbridge in March after a crack was found in one of its piers.

Two inspectors who examined the bridge for the county came to opposite views. Lena Hartvig of the Roads Agency said the crack was old and stable. Her colleague on the inspection, Tomas Berglund, an engineer at Dale College, disagreed.

The county will decide in June whether to repair the bridge or replace it.
"""


def test_a_list_of_people_gives_the_sentences_that_name_them(make_assistant, tmp_path):
    # The sentence that announces "two inspectors" names neither: the ones
    # after it in its paragraph do, and they are the answer.
    assistant = make_assistant(paths=[_write(tmp_path, "bridge.txt", BRIDGE)])
    answer = assistant.ask("Which two inspectors examined the bridge for the county?")
    assert "Hartvig" in answer.text and "Berglund" in answer.text, answer.text
    assert len(answer.citations) == 2, answer.text
    assert all(BRIDGE[c.start:c.end] == c.quote for c in answer.citations)


@pytest.mark.parametrize("question, people", [
    ("Which two hydrologists reviewed the report?", True),
    ("Name the engineers who spoke about the dam.", True),
    ("Which two people does Meresky mention by name?", True),
    ("Which routes will change?", False),
    ("Which two measures is the agency taking?", False),
])
def test_asks_for_people(question, people):
    assert asks_for_people(question) is people


GRAIN = """Grain co-op faces dearer seed

The price of a tonne of seed barley rose to 410 crowns this winter, the Hollin Grain Cooperative said. Members will vote on a bulk order in April.
"""

TIMBER = """Sawmill strike ends

Workers at the Ravnsborg sawmill returned on Monday after a strike over night shifts that lasted three weeks. The strike halted deliveries of spruce planks to the coast.

The mill's owner said the strike had cost it orders, and that the price of planks would stay where it was.
"""


def test_a_question_about_one_document_is_not_answered_from_another(make_assistant, tmp_path):
    # Only the sawmill story speaks of a strike, planks and deliveries; the
    # co-op's price of seed is not the price asked for.
    assistant = make_assistant(paths=[_write(tmp_path, "grain.txt", GRAIN), _write(tmp_path, "timber.txt", TIMBER)])
    answer = assistant.ask("What was the price of a tonne of spruce planks after the strike?")
    assert answer.mode == "refused", answer.text
    assert "410" not in answer.text
    # The rule has a setting: with margin 0, documents are not told apart by focus words.
    loose = make_assistant(paths=[tmp_path / "grain.txt", tmp_path / "timber.txt"], answer={"scope_margin": 0})
    assert "410" in loose.ask("What was the price of a tonne of spruce planks after the strike?").text


def test_of_the_documents_that_know_a_name_the_one_about_the_question_answers(make_assistant, tmp_path):
    # Both stories mention Ravnsborg; only one speaks of a strike and planks.
    grain = GRAIN.replace("the Hollin Grain Cooperative said", "the Hollin Grain Cooperative in Ravnsborg said")
    assistant = make_assistant(paths=[_write(tmp_path, "grain.txt", grain), _write(tmp_path, "timber.txt", TIMBER)])
    answer = assistant.ask("What was the price of a tonne of spruce planks after the Ravnsborg strike?")
    assert answer.mode == "refused" and "410" not in answer.text, answer.text


LAKE = """# Lake Varn water survey

| Site | 2019 level (mg/l) | 2024 level (mg/l) | Samples over limit |
| --- | --- | --- | --- |
| North bay | 4.1 | 6.3 | 18% |
| Mill inlet | 3.2 | 3.5 | 2% |

The North bay rose the most, by 2.2 milligrams per litre.
"""


def test_a_table_row_does_not_answer_by_how_much_alone(make_assistant, tmp_path):
    # The row gives two levels and a share of samples, not the rise: the
    # sentence that states the rise joins it.
    assistant = make_assistant(paths=[_write(tmp_path, "lake.md", LAKE)])
    answer = assistant.ask("By how much did the North bay level rise?")
    assert "2.2" in answer.text, answer.text


HALL = """Riverside school board, March meeting

The board approved the new timetable. A parent, Mona Ekdahl, asked when the gym would reopen. The Principal said it would stay shut until the roof was fixed and that classes had moved to the church hall.

Asked whether the roof would be fixed by May, the Principal laughed. "Ask the builders," she said.
"""


def test_what_someone_answered_is_the_sentence_after_the_question(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "hall.txt", HALL)])
    answer = assistant.ask("What did the Principal answer Mona Ekdahl about the gym?")
    assert "church hall" in answer.text, answer.text
    answer = assistant.ask("What did the Principal reply when asked if the roof would be fixed by May?")
    assert "Ask the builders" in answer.text, answer.text
    assert all(HALL[c.start:c.end] == c.quote for c in answer.citations)


GUIDE = """# Boat Licence Renewals: Questions and Answers

Published by the Harrow Coast Marine Office | Last updated: 3 June 2025

This page explains how to renew a mooring licence.

## Who must renew?

Every owner of a boat moored in the harbour must renew by 1 April.
"""

COLUMN = """The Saltby Courier | 9 May 2025

Keep the old lighthouse lit

By Mara Quellin

I have walked past the lighthouse every morning for forty years, and the council's plan to switch it off is a mistake.

Mara Quellin is a retired lifeboat coxswain and writes a monthly column for the Courier.
"""

NEWS = """Harbour news

Two former keepers published an opinion piece last week urging the council to sell the lighthouse.
"""


def test_questions_about_a_faq_or_a_column_are_answered_from_its_masthead(make_assistant, tmp_path):
    paths = [_write(tmp_path, "guide.md", GUIDE), _write(tmp_path, "column.txt", COLUMN), _write(tmp_path, "news.txt", NEWS)]
    assistant = make_assistant(paths=paths)
    # "FAQ" is the kind of document, not a name the documents do not know.
    answer = assistant.ask("Which organisation publishes the boat licence FAQ?")
    assert "Harrow Coast Marine Office" in answer.text, answer.text
    assert "3 June 2025" in assistant.ask("When was the boat licence FAQ last updated?").text
    assert "Boat Licence Renewals" in assistant.ask("What is the boat licence page called?").text
    answer = assistant.ask("Which paper ran the column about the Saltby lighthouse, and on what date?")
    assert "Saltby Courier" in answer.text and "9 May 2025" in answer.text, answer.text
    # Another document mentions "an opinion piece", but not Saltby: the column itself is meant.
    assert "Mara Quellin" in assistant.ask("Who wrote the opinion piece about the Saltby lighthouse?").text
    answer = assistant.ask("What is the author's background, according to the lighthouse column?")
    assert "lifeboat coxswain" in answer.text, answer.text


CORRECTED = """The Saltby Courier | 9 May 2025

Lighthouse visits rise

The lighthouse museum had its best year in 2024, with 48,500 people through the door.

Correction: An earlier version of this story said the museum counted 84,500 visitors in 2024.
"""


def test_a_correction_does_not_answer_with_the_figure_it_corrects(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "museum.txt", CORRECTED)])
    answer = assistant.ask("How many visitors did the lighthouse museum count in 2024?")
    assert "48,500" in answer.text and "84,500" not in answer.text, answer.text
    # Asked about the correction, the correction answers.
    assert "84,500" in assistant.ask("What did the correction at the end of the story say?").text


FARES = """# Island ferry fares

Fares for the 2026 season, set by the ferry board.

| Ticket type | Single | Return |
| --- | --- | --- |
| Adult | 6 crowns | 11 crowns |
| Child | 3 crowns | 5 crowns |
| Bicycle | 2 crowns | 3 crowns |

Fares rise on 1 May.
"""


def test_a_list_of_what_a_tables_first_column_lists_is_its_rows(make_assistant, tmp_path):
    assistant = make_assistant(paths=[_write(tmp_path, "fares.md", FARES)])
    answer = assistant.ask("Which ticket types are in the fares table?")
    assert all(t in answer.text for t in ("Adult", "Child", "Bicycle")), answer.text
    assert len(answer.citations) == 3
    assert all(FARES[c.start:c.end] == c.quote for c in answer.citations)


@pytest.mark.parametrize(
    "draft, claims",
    [
        ("The source that provided the answer to the question is: The pumps failed twice [1].",
         [("The pumps failed twice.", [1])]),
        ("Based on the evidence given, the answer is: The pumps failed twice [2].", [("The pumps failed twice.", [2])]),
        ("Here is what the sources say: The pumps failed twice [1].", [("The pumps failed twice.", [1])]),
        # Statements about the sources carry no claim, however they are worded.
        ("The cost of the pumps is not explicitly mentioned in the provided text [1].", []),
        ("The pumps' age is not clearly stated [1].", []),
        # A draft that recites its numbered sources copies the prompt: it answers nothing.
        ("The sources in question are:\n[1] Ann Lee: The pumps failed twice.\n[2] Ferry fares rose", []),
        # A colon in a real claim stays.
        ('The mayor told the council: "The pumps are fine" [1].', [('The mayor told the council: "The pumps are fine".', [1])]),
        ('On the question of pumps, the mayor said: "They are fine" [1].',
         [('On the question of pumps, the mayor said: "They are fine".', [1])]),
    ],
)
def test_a_draft_s_talk_about_its_sources_is_not_a_claim(draft, claims):
    from rag.answer import claims_of

    assert claims_of(draft, 3) == claims
