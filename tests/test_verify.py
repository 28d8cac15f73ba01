"""The answer verifier's checks, one rule at a time (its figures as a classifier: rag eval --claims)."""

import pytest

from rag.types import Evidence
from rag.verify import claim_body, negated_stems, numbers_count_the_same, numbers_keep_order, reverses, supports


def ev(text, speaker=None):
    return [Evidence("a.txt", 0, len(text), text, None, 0, speaker, 0.0)]


@pytest.mark.parametrize("sentence, evidence, speaker, ok", [
    # a paraphrase that drops words in between keeps its relation
    ("Suslov said arms control is outdated.", "Dmitry Suslov said arms control as it exists today is outdated.",
     "Dmitry Suslov", True),
    # a claim that drops the evidence's negation says the opposite
    ("Ortiz said the levy funds new ferries.", "\u201cThe levy does not fund new ferries,\u201d Ortiz said.",
     "Lia Ortiz", False),
    # the same figures in another relation
    ("Ortiz said 40 of the port's 12 cranes are idle.", "Of the 40 cranes at the port, 12 are idle, Ortiz said.",
     "Lia Ortiz", False),
    ("Ortiz said 12 of the 40 cranes at the port are idle.", "Of the 40 cranes at the port, 12 are idle, Ortiz said.",
     "Lia Ortiz", True),
    # speech the cited speaker reports, by its own speaker
    ("Pell told the board that the cranes need new motors.",
     "Our engineer, Ana Pell, inspected them, and she told the board that the cranes need new motors.",
     "Lia Ortiz", True),
    # a name inside the speaker's quotation is not a speaker
    ("Brandt said the cranes need new motors.", "\u201cUnlike the Brandt plan, the cranes need new motors,\u201d Ortiz said.",
     "Lia Ortiz", False),
    # a speaker named at the end must be the cited one
    ("The cranes need new motors, Brandt said.", "The cranes need new motors, Ortiz said.", "Lia Ortiz", False),
    ("The cranes need new motors, Ortiz said.", "The cranes need new motors, Ortiz said.", "Lia Ortiz", True),
])
def test_supports(sentence, evidence, speaker, ok):
    assert supports(sentence, ev(evidence, speaker)) is ok


def test_claim_body_drops_the_attribution():
    assert claim_body("Pell told the board that the cranes need motors.") == "the cranes need motors."
    assert claim_body("The cranes need motors, Pell said.") == "The cranes need motors."
    assert claim_body("The cranes need motors.") == "The cranes need motors."


def test_negated_stems_are_the_words_after_a_negation():
    assert negated_stems("The levy does not fund new ferries.") == {"fund", "new"}
    assert negated_stems("A deliberate choice, not a habit.") == {"habit"}


def test_numbers_count_the_same_thing():
    assert numbers_count_the_same("12 cranes", "40 cranes, of which 12 are idle") is True  # 12 counts nothing there
    assert numbers_count_the_same("40 ships", "40 cranes and 12 ships") is False


def test_people_counted_as_people():
    from rag.verify import counts

    assert counts("workers", "The plant employs about 340 people.")
    assert counts("residents", "About 118,000 people live there.")
    assert counts("farms", "Of the 412 farms in the cooperative, 131 told us.")
    assert not counts("tonnes", "The plant employs about 340 people.")
    assert not counts("farms", "The plant employs about 340 people.")


def test_a_count_names_what_it_counts():
    from rag.verify import counted_in

    assert counted_in("farms", "Of the 412 farms in the cooperative, 131 told us.")
    assert counted_in("cooperatives", "We joined a bulk purchase with two other cooperatives.")
    assert counted_in("workers", "The plant employs about 340 people.")
    # 5,000 counts crowns; the members are only nearby.
    assert not counted_in("members", "Members can borrow up to 5,000 crowns each, interest-free.")


def test_a_number_before_a_superlative_counts_a_ranked_few_not_the_whole():
    """"The three oldest mills" counts the oldest mills, not all the mills:
    it answers "How many mills…" only when the question ranks them too."""
    from rag.verify import counted_in

    assert not counted_in("mills", "Two of the town's three oldest mills stand on the river.")
    assert not counted_in("mills", "It owns the five most profitable mills in the county.")
    assert counted_in("mills", "Two of the town's three oldest mills stand on the river.", ranked=True)
    assert counted_in("mills", "The town has three old mills and a new one.")  # no superlative
    assert counted_in("mills", "The three mills closest to the river flooded.")  # ranks after the noun


def test_how_many_is_refused_when_no_number_counts_the_noun():
    from rag.settings import VerifySettings
    from rag.question import CorpusFacts
    from rag.verify import refusal_reason

    loan = Evidence(source="a.txt", start=0, end=58, section=None, paragraph=1, speaker=None, score=1.0,
                    text="Members can borrow up to 5,000 crowns each, interest-free.")
    facts = CorpusFacts.from_texts([loan.text], (), ())
    reason = refusal_reason("How many members have borrowed from the fund?", (loan,), facts, 1.0, 0.0, 9.0, 0.0,
                            VerifySettings())
    assert reason and "number of members" in reason
    # An amount of a mass noun is told in units: "one bottle" is how much syrup.
    syrup = Evidence(source="a.txt", start=0, end=50, section=None, paragraph=1, speaker=None, score=1.0,
                     text="Pharmacies sell one bottle of syrup per prescription.")
    facts = CorpusFacts.from_texts([syrup.text], (), ())
    assert refusal_reason("How much syrup can a customer buy?", (syrup,), facts, 1.0, 0.0, 9.0, 0.0,
                          VerifySettings()) is None


@pytest.mark.parametrize("sentence, evidence, ok", [
    # the evidence's own figures, the change turned round
    ("Crane hours rose from 410 to 520.", "Crane hours fell from 520 to 410 last year.", False),
    ("Crane hours fell from 520 to 410.", "Crane hours fell from 520 to 410 last year.", True),
    # a share with part and whole swapped, in either word order of the evidence
    ("Ortiz said 40 of the 12 cranes are idle.", "Of the 40 cranes at the port, 12 are idle.", False),
    ("Ortiz said 12 of its 40 cranes are idle.", "Of the 40 cranes at the port, 12 are idle.", True),
    # figures given with their years in another order are a paraphrase
    ("In 2019 the port spent $1.2 million on repairs; in 2023 it spent $3.4 million.",
     "Repairs cost $3.4 million in 2023, against $1.2 million in 2019.", True),
])
def test_numbers_keep_order(sentence, evidence, ok):
    assert numbers_keep_order(sentence, evidence) is ok


@pytest.mark.parametrize("sentence, evidence, reversed_", [
    ("The ferry fares went up 4 percent.", "Ferry fares went down 4 percent in May.", True),
    ("The council will end night service on the harbour line.",
     "The budget restores night service on the harbour line.", True),
    ("Ortiz said idle cranes are easy to live with.",
     "\u201cIdle cranes are easy to budget for and harder to live with,\u201d Ortiz said.", True),
    ("The closures will cost the port 2 million a year.", "The closures will save the port 2 million a year.", True),
    # the other direction said of something else is no contradiction
    ("The harbour line reopens on June 3.", "The harbour line, closed since March, carries passengers again on June 3.",
     False),
    ("Fares went up 4 percent and waiting times went down.", "Fares went up 4 percent; waiting times went down.", False),
])
def test_reverses(sentence, evidence, reversed_):
    assert reverses(sentence, evidence) is reversed_


def test_a_negation_the_evidence_does_not_make_is_unsupported():
    text = "Lia Ortiz, a professor of maritime law at Kessel University, chairs the port board."
    assert supports("Lia Ortiz is not a professor of maritime law.", ev(text)) is False
    # "declined to say" is "did not say"
    declined = "The port board declined to say when the cranes would be repaired."
    assert supports("The port board did not say when the cranes would be repaired.", ev(declined)) is True


def test_a_quotation_cut_off_mid_sentence_is_unsupported():
    text = "\u201cThe new cranes are just another promise that the board is making to the unions,\u201d Ortiz said."
    cut = 'Lia Ortiz said: "The new cranes are just another promise that the board is making'
    assert supports(cut, ev(text, "Lia Ortiz")) is False
    whole = 'Lia Ortiz said: "The new cranes are just another promise that the board is making to the unions'
    assert supports(whole, ev(text, "Lia Ortiz")) is True


def test_a_fraction_counts_what_it_counts():
    text = "If a field gets half its water, it might lose a fifth of the harvest."
    assert numbers_count_the_same("it loses half of its harvest", text) is False
    assert numbers_count_the_same("it loses a fifth of its harvest", text) is True


def test_an_x_free_compound_negates_its_first_word():
    evidence = ev("Crews may rent a dinghy for 30 days, fee-free, from the harbour office.")
    assert "fee" in negated_stems(evidence[0].text)
    assert supports("Crews may rent a dinghy for 30 days without a fee from the harbour office.", evidence)
    assert not supports("Crews may rent a dinghy for 30 days for a small fee from the harbour office.", evidence)


def test_each_clause_needs_its_own_words_from_the_evidence():
    evidence = ev("Mira Holt, who chairs the Tidewater Port Trust, said dredging would start in June.", "Mira Holt")
    assert supports("Mira Holt chairs the Tidewater Port Trust and said dredging would start in June.", evidence)
    # A faithful clause must not carry an invented one past the check.
    assert not supports("Mira Holt chairs the Tidewater Port Trust and said dredging would start in June, "
                        "and is a retired naval captain.", evidence)


def test_a_label_with_nothing_after_it_and_a_claim_of_absence_are_not_claims():
    evidence = ev("The harbour board approved a new breakwater for the western basin.")
    assert not supports("The harbour board approved a new breakwater:", evidence)
    assert not supports("The cost of the breakwater is not mentioned in the document.", evidence)


def test_words_attributed_to_a_speaker_come_from_that_speakers_items():
    question = Evidence("t.txt", 0, 40, "OKAFOR: Was the levy a mistake?", None, 1, "Ben Okafor", 0.0)
    reply = Evidence("t.txt", 41, 80, "LINDQVIST: No, I would not put it that way.", None, 2, "Saga Lindqvist", 0.0)
    # The interviewer asked about a mistake; the answer denies it.
    assert not supports("Lindqvist said the levy was a mistake.", [question, reply])


def test_a_doubt_denies_what_follows_it():
    evidence = ev("Ruiz said she doubted there would be any quick agreement on the fishing quotas.", "Ana Ruiz")
    assert not supports("Ruiz said she expected a quick agreement on the fishing quotas.", evidence)
    assert supports("Ruiz said she doubted there would be any quick agreement on the fishing quotas.", evidence)


def test_a_fronted_phrase_may_move_and_an_of_phrase_may_become_a_compound():
    assert supports("Brandt resigned after the storm.", ev("After the storm, Brandt resigned."))
    assert supports("Okafor said a terminal has been a council ambition.",
                    ev("A terminal has been an ambition for the council, Okafor said.", "Ben Okafor"))
    # Word order still guards the relation.
    assert not supports("The storm came after Brandt resigned.", ev("After the storm, Brandt resigned."))


def test_a_name_cited_only_as_a_speaker_must_have_said_the_words():
    """A name no cited text contains stands for a cited speaker: that speaker's
    own items must support the sentence, not narration cited beside them."""
    company = Evidence("a.txt", 0, 46, "The company says the new cars will be quieter.", None, 1, None, 0.0)
    pellen = Evidence("a.txt", 47, 100, '"We will know before it moves," he said of the slope.', None, 2, "Dario Pellen", 0.0)
    assert supports("The company says the new cars will be quieter.", [company, pellen])
    assert not supports("Dario Pellen The company says the new cars will be quieter.", [company, pellen])
    assert not supports("Dario Pellen said the new cars will be quieter.", [company, pellen])
    # The speaker's own words still back a sentence that cites narration beside them.
    assert supports('Pellen said "We will know before it moves."', [company, pellen])


@pytest.mark.parametrize("text, to_come", [
    ("The crane broke down in March, the port said.", False),
    ("Inspectors had found salt damage in February.", False),
    ("The terminal will open on 12 September.", True),
    ("The night bus starts running on 3 October.", True),
    ("The footbridge, closed since a storm in January, reopens on 2 May.", True),
    ("She said the director expects the line to restart in December.", True),
    ("Output rose by a hundred tonnes in June.", False),
    ("Saal told the radio that the line should restart in the first week of December.", True),
    ("The plant closed in May.", False),
])
def test_a_date_on_something_still_to_come(text, to_come):
    from rag.question import DETAILS
    from rag.verify import dates_what_is_to_come

    dates = next(d.needs for d in DETAILS if d.what == "a date")
    assert dates_what_is_to_come(text, dates) is to_come
