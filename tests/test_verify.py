"""The answer verifier's checks, one rule at a time (its figures as a classifier: rag eval --claims)."""

import pytest

from rag.types import Evidence
from rag.verify import claim_body, negated_stems, numbers_count_the_same, supports


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
