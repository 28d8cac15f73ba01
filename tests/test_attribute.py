"""Every quotation in the article gets the speaker a careful reader would give it."""

import json
from pathlib import Path

import pytest

from rag.attribute import attribute
from rag.parse import parse_document
from rag.types import Document

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "seeds" / "rferl-2020-04-26-us-russia-reset.txt"
QUOTES = json.loads((ROOT / "tests" / "data" / "article_quotes.json").read_text())


@pytest.fixture(scope="module")
def article():
    text = ARTICLE.read_text(encoding="utf-8")
    doc = Document("seeds/" + ARTICLE.name, text, "x", "txt")
    return text, attribute(parse_document(doc), text)


@pytest.mark.parametrize("gold", QUOTES, ids=[q["quote"][:40] for q in QUOTES])
def test_every_quotation_has_its_speaker(article, gold):
    text, attribution = article
    start = gold["char_start"]
    containing = [p for p in attribution.passages if p.start <= start < p.end]
    assert containing, gold
    passage = containing[0]
    assert passage.quoted
    assert passage.speaker == gold["speaker"], (passage.text, passage.speaker)


def test_continuation_quote_belongs_to_suslov(article):
    text, attribution = article
    target = "We want time to elaborate the system, to expand it."
    passage = next(p for p in attribution.passages if target in p.text)
    assert passage.speaker == "Dmitry Suslov"


def test_reported_speech_and_roles(article):
    _, attribution = article
    by_text = {p.text[:40]: p for p in attribution.passages}
    antonenko = next(p for t, p in by_text.items() if t.startswith("Oksana Antonenko"))
    assert antonenko.speaker == "Oksana Antonenko" and not antonenko.quoted
    experts = next(p for p in attribution.passages if p.text.endswith("experts said."))
    assert experts.speaker is None  # "experts" are nobody in particular
    critics = next(p for p in attribution.passages if p.text.startswith("Critics of the White House"))
    assert critics.speaker is None
    people = attribution.people
    assert "Kremlin spokesman" in people["Dmitry Peskov"]
    assert any("ambassador to Russia" in r for r in people["John Sullivan"])
    assert "Dmitry Suslov" in people and "Vladimir Putin" in people
    assert not any("Kennedy" in name for name in people)


def _attribute(text: str):
    doc = Document("notes/x.txt", text, "x", "txt")
    return attribute(parse_document(doc), text)


def _speaker_of(attribution, start_of_text: str):
    return next(p for p in attribution.passages if p.text.startswith(start_of_text)).speaker


def test_pronoun_after_narration_refers_to_the_sentence_subject():
    # The paragraph before quotes someone else; "he" in the reported speech
    # belongs to the person the previous sentence is about, not the last speaker.
    text = (
        "Harbour towns want the ferry back, said Lena Marsh, the mayor of Eastholm.\n\n"
        "\"We were promised a timetable,\" Marsh said.\n\n"
        "Tomas Brandt was blunter. Speaking to regional radio, he said that the ferry "
        "company had abandoned the islands.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "Speaking to regional radio") == "Tomas Brandt"
    assert _speaker_of(a, "\"We were promised") == "Lena Marsh"


def test_pronoun_after_a_possessive_keeps_the_speaker():
    # "Brandt's office" is not Brandt as a subject: "she" stays with Marsh.
    text = (
        "\"The harbour needs dredging,\" said Lena Marsh, the mayor of Eastholm. "
        "Tomas Brandt's office did not reply. "
        "\"We cannot wait another winter,\" she said.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "\"We cannot wait") == "Lena Marsh"


def test_pronoun_in_the_next_paragraph_follows_the_last_subject():
    text = (
        "\"Repairs start in May,\" Lena Marsh said. Tomas Brandt disagreed.\n\n"
        "He said that no contractor had been hired.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "He said that") == "Tomas Brandt"


def test_a_subject_after_a_lead_in_clause_or_a_role_in_commas_is_what_he_or_she_refers_to():
    text = (
        "\"The quay is safe,\" said Vera Lund, who runs the boatyard. \"We checked it twice,\" she said.\n\n"
        "The harbour master of Elmport, Jonas Bree, was more cautious. Speaking to reporters on Friday, "
        "he said the quay would not reopen before May.\n\n"
        "Asked whether costs could rise again, Karin Holt was blunt. \"Nobody knows,\" she said.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "Speaking to reporters") == "Jonas Bree"  # not Vera Lund, the last speaker
    assert _speaker_of(a, "\"Nobody knows") == "Karin Holt"


def test_a_name_after_a_lead_in_and_a_role_in_commas_is_the_speaker():
    text = (
        "Karl Ost said the plan was late. He said the council had known since March.\n\n"
        "Speaking on radio on Monday, the party's health spokeswoman, Mira Sandell, said the plan had been ignored. "
        "She said her party had asked for a reserve.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "Speaking on radio") == "Mira Sandell"
    assert _speaker_of(a, "She said her party") == "Mira Sandell"


def test_she_is_never_a_man_the_text_called_he():
    # Nobody the text introduced fits "she": the sentence stays unattributed
    # rather than being given to Karl Ost.
    text = (
        "Karl Ost said the plan was late. He said the council had known since March.\n\n"
        "She said the reserve would take years.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "She said the reserve") is None


def test_a_pronoun_reaches_back_one_paragraph_at_most():
    text = (
        "Karl Ost said the plan was late.\n\nThe council met on Monday.\n\nThe vote was close.\n\n"
        "He said the council had known since March.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "He said the council") is None


def test_the_title_alone_is_the_one_person_who_holds_it():
    text = (
        "Mayor Celia Amberly presented the budget on Monday. It includes no money for the pool, "
        "which the Mayor said would be considered next year.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "It includes no money") == "Celia Amberly"


def test_an_organisation_is_not_a_person_named_by_its_head_noun():
    text = (
        "Norra Pharma said the line would restart in December.\n\n"
        "The Harbour Post is published by Quay Media Cooperative.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "Norra Pharma said") == "Norra Pharma"  # an organisation speaks without "the"
    assert "Media Cooperative" not in a.people and "Quay Media Cooperative" not in a.people


def test_a_spokesman_speaks_for_an_organisation_named_just_before_only():
    text = (
        "Norra Pharma said the line would restart in December.\n\nDoctors are worried.\n\n"
        "Parents drove to the border.\n\nThe opposition blamed the government.\n\n"
        "A spokesman said a reserve would take years.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "A spokesman said") is None


def test_transcript_turns_belong_to_their_labelled_speaker():
    text = (
        "Presenter Mira Holt spoke to Jonas Werner, who runs the ferry cooperative.\n\n"
        "HOLT: How many crossings did you cancel this winter?\n\n"
        "WERNER: Forty-one. The engines are older than I am. My deputy, Ada Brill, put it best. "
        "She said, \"We are repairing a museum, not a fleet.\"\n\n"
        "Note: this interview has been edited for length.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "HOLT: How many") == "Mira Holt"
    assert _speaker_of(a, "WERNER: Forty-one.") == "Jonas Werner"
    assert _speaker_of(a, "The engines are older") == "Jonas Werner"
    # a quotation inside a turn belongs to the person it quotes
    assert _speaker_of(a, "She said, \"We are repairing") == "Ada Brill"
    # a label that names nobody is not a turn; a role word is not part of a name
    assert _speaker_of(a, "Note: this interview") is None
    assert "Mira Holt" in a.people and "Presenter Mira Holt" not in a.people


def test_a_place_named_like_a_person_is_not_a_speaker():
    text = (
        "The council will close Orchard Lane Library in June. Residents protested outside the library.\n\n"
        "\"Nobody asked us,\" said Dana Pike, who chairs the friends group.\n"
    )
    a = _attribute(text)
    assert "Orchard Lane Library" not in a.people and "Dana Pike" in a.people


def test_a_name_after_a_job_title_and_a_subject_in_apposition():
    text = (
        "Finance Director Nadia Ferro said the fund would last a year. "
        "\"We cannot do this twice,\" she said.\n\n"
        "Ferro's colleague was less sure. Our treasurer, Piet Umber, put it differently. "
        "He said, \"The fund is already half spent.\"\n"
    )
    a = _attribute(text)
    assert "Nadia Ferro" in a.people and not any("Director" in n for n in a.people)
    assert _speaker_of(a, "\"We cannot do this twice") == "Nadia Ferro"
    assert _speaker_of(a, "He said, \"The fund") == "Piet Umber"


def test_a_lowercase_role_in_commas_does_not_hide_the_speaker():
    """'NAME, deputy editor of X, said …' and 'NAME, of the Y party, said …' are NAME's words."""
    attribution = _attribute(
        "Nadia Voss, deputy editor of the Harbour Gazette, said the paper would print its last issue in May.\n\n"
        "Councillor Piet Amsel, of the Riverside Group, said the vote had come too late. "
        "\u201cWe warned them two years ago,\u201d he said.\n"
    )
    assert _speaker_of(attribution, "Nadia Voss, deputy") == "Nadia Voss"
    assert _speaker_of(attribution, "Councillor Piet Amsel") == "Piet Amsel"
    assert _speaker_of(attribution, "\u201cWe warned") == "Piet Amsel"
    assert "deputy editor of the Harbour Gazette" in attribution.people["Nadia Voss"]


def test_a_name_after_a_long_title_and_a_second_verb_share_the_subject():
    """'Regional Water Board Chair Tomas Lind approved it but said …': Lind speaks, and is a person."""
    attribution = _attribute(
        "Regional Water Board Chair Tomas Lind approved the plan but said bills would rise next year. "
        "\u201cNobody likes paying more for the same water,\u201d Lind said.\n"
    )
    assert "Tomas Lind" in attribution.people
    assert _speaker_of(attribution, "Regional Water") == "Tomas Lind"
    assert _speaker_of(attribution, "\u201cNobody likes") == "Tomas Lind"


def test_a_speech_verb_in_commas_stays_a_clause():
    """'"…," he said, adding …' keeps 'he said': the phrase in commas holds a verb of its own."""
    attribution = _attribute(
        "Mara Quell chairs the port authority. \u201cThe cranes are old,\u201d she said, adding that two had failed.\n"
    )
    assert _speaker_of(attribution, "\u201cThe cranes") == "Mara Quell"


def test_a_relative_clause_speaker_is_the_name_before_who():
    # "…was X, 64, who said …": the relative pronoun stands for the name before
    # it, so X is the speaker, and a later "she said" is X too, not the speaker
    # of the paragraph before.
    text = (
        "\"The timetable is a mess,\" said Tomas Brandt, who runs the island shop.\n\n"
        "Among the passengers on the first ferry was Ingrid Solheim, 64, who said she had waited "
        "two hours at the quay. \"Nobody told us anything,\" she said.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "\"The timetable") == "Tomas Brandt"
    assert _speaker_of(a, "Among the passengers") == "Ingrid Solheim"
    assert _speaker_of(a, "\"Nobody told us") == "Ingrid Solheim"


def test_a_name_in_commas_after_a_role_is_the_speaker():
    # "The ROLE for X, NAME, said …": the name in commas is the role's holder
    # and the speaker; the "he said" after it is theirs, not the previous speaker's.
    text = (
        "Writing in a newsletter, Ingrid Solheim argued that the quay was safe.\n\n"
        "The harbour engineer for the county, Tomas Brandt, said the piles had rotted. "
        "\"We can see daylight through them,\" he said.\n"
    )
    a = _attribute(text)
    assert _speaker_of(a, "The harbour engineer") == "Tomas Brandt"
    assert _speaker_of(a, "\"We can see daylight") == "Tomas Brandt"
    assert a.people["Tomas Brandt"] == ["harbour engineer for the county"]


def test_a_subject_after_a_prepositional_lead_in_is_who_she_means():
    """'On a wet morning, Ines Pohl walked …. "…," she said.' is Pohl's."""
    a = _attribute(
        "On a wet morning in May, Ines Pohl walked the dyke with a torch. "
        "\u201cThe water came through here,\u201d she said.\n"
    )
    assert _speaker_of(a, "\u201cThe water came") == "Ines Pohl"


def test_two_people_with_one_surname_are_two_speakers():
    """'Karl Pohl, Ines Pohl's brother, …. "…," he told X.' is Karl's, not Ines's."""
    a = _attribute(
        "Ines Pohl, an engineer, said the dyke would fail. \u201cIt is older than my house,\u201d she said.\n\n"
        "Karl Pohl, Ines Pohl's brother, farms behind the dyke. He was less worried. "
        "\u201cIt has held for ninety years,\u201d he told the Gazette.\n"
    )
    assert {"Ines Pohl", "Karl Pohl"} <= set(a.people)
    assert _speaker_of(a, "\u201cIt is older") == "Ines Pohl"
    assert _speaker_of(a, "\u201cIt has held") == "Karl Pohl"


def test_a_person_of_an_organisation_speaks_for_themself():
    """'Lena Brix of the Coastal Authority said …' is Brix's; 'Critics of the Authority said' nobody's."""
    a = _attribute(
        "Lena Brix of the Coastal Authority said the dyke needed new sluices. "
        "Critics of the Coastal Authority said the sluices were a waste of money.\n"
    )
    assert _speaker_of(a, "Lena Brix of") == "Lena Brix"
    assert _speaker_of(a, "Critics of") is None


def test_she_after_a_subject_the_rules_cannot_place_is_nobodys():
    """When someone is named after the last subject in a sentence whose
    subject was not found, "she" may mean either: unattributed, not guessed."""
    a = _attribute(
        "Lena Brix of the Coastal Authority said the dyke needed new sluices.\n\n"
        "Behind the sluice house, in a rusted shed on the far side of the dyke, Marta Quell kept the old logbooks. "
        "She said the logbooks showed three floods.\n"
    )
    # The lead-in is too long for the subject rule; "she" is not Brix.
    assert _speaker_of(a, "She said the logbooks") != "Lena Brix"


def test_names_with_letters_beyond_ascii_are_names():
    """Sørby, Müller, Núñez and Wójcik are people who speak, not lower-case noise."""
    a = _attribute(
        "Elin Sørby, a trustee, said the buses were late. \u201cParents wait in the dark,\u201d she said.\n\n"
        "Jürgen Müller of the Port Authority said the quay was safe. "
        "José Núñez disagreed. \u201cIt floods every spring,\u201d he said.\n\n"
        "\u201cWe will vote in May,\u201d said Łukasz Wójcik.\n"
    )
    assert {"Elin Sørby", "Jürgen Müller", "José Núñez", "Łukasz Wójcik"} <= set(a.people)
    assert _speaker_of(a, "\u201cParents wait") == "Elin Sørby"
    assert _speaker_of(a, "Jürgen Müller of") == "Jürgen Müller"
    assert _speaker_of(a, "\u201cIt floods") == "José Núñez"
    assert _speaker_of(a, "\u201cWe will vote") == "Łukasz Wójcik"


def test_a_role_subject_is_who_he_means_after_it():
    """'The Vice-Chair disagreed. He said …' is the Vice-Chair's, by the attendance list."""
    a = _attribute(
        "- Samuel Achterberg, Vice-Chair\n- Hanna Vik, Trustee\n\n"
        "Trustee Vik said the buses were late. The Vice-Chair disagreed. He said the savings would pay for a nurse.\n"
    )
    assert _speaker_of(a, "Trustee Vik said") == "Hanna Vik"
    assert _speaker_of(a, "He said the savings") == "Samuel Achterberg"


def test_a_pronoun_after_a_subject_the_text_does_not_name_is_nobodys():
    # "the Principal" is never named: her "she said" is not the parent's.
    text = ("A parent, Mona Ekdahl, asked when the gym would reopen.\n\n"
            "Asked whether the roof would be fixed by May, the Principal laughed. \"Ask the builders,\" she said.\n")
    attribution = _attribute(text)
    assert _speaker_of(attribution, "\"Ask the builders") is None
    # A subject that is a named person still is the one "she" stands for.
    text = text.replace("the Principal laughed", "Ekdahl laughed")
    assert _speaker_of(_attribute(text), "\"Ask the builders") == "Mona Ekdahl"
