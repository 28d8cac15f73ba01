"""Tuning constants are settings: they change the hash, and they change behaviour."""

import pytest

from rag.settings import Settings, VerifySettings
from rag.types import Evidence
from rag.verify import supports

HEADLINE = "What did Suslov say about New START?"
EVIDENCE = Evidence("a.txt", 0, 60, "arms control as it exists today is outdated, Suslov said.", None, 1,
                    "Dmitry Suslov", 1.0)
# Four of its five content words are in the evidence: 0.8 overlap.
PARAPHRASE = "Suslov said arms control today is obsolete."


@pytest.mark.parametrize(
    "section, field, value",
    [
        ("verify", "min_word_overlap", 0.9),
        ("verify", "detail_items", 3),
        ("answer", "close_second_ratio", 0.5),
        ("answer", "evidence_line_tokens", 10),
        ("retrieval", "min_standalone_chars", 40),
        ("retrieval", "min_role_words", 3),
        ("index", "max_role_words", 4),
    ],
)
def test_every_tuning_constant_changes_the_settings_hash(section, field, value):
    changed = Settings().with_updates(**{section: {field: value}})
    assert changed.hash() != Settings().hash()
    assert getattr(getattr(changed, section), field) == value


def test_every_setting_has_a_description():
    for name, section in Settings.model_fields.items():
        model = section.annotation
        if name in {"retrieval", "answer", "verify", "index"}:
            missing = [f for f, info in model.model_fields.items() if not info.description]
            assert missing == [], f"{name}: {missing}"


def test_a_stricter_word_overlap_rejects_what_the_default_accepts():
    assert supports(PARAPHRASE, [EVIDENCE])
    assert not supports(PARAPHRASE, [EVIDENCE], VerifySettings(min_word_overlap=0.9))


def test_the_answerer_uses_the_configured_verify_section(make_assistant, fake_llm):
    claim = "Suslov said arms control as it exists today is outdated and obsolete [1]."
    fake_llm.enqueue(claim)
    assert make_assistant(fake_llm).ask(HEADLINE).mode == "generated"
    fake_llm.enqueue(claim)
    strict = make_assistant(fake_llm, verify={"min_word_overlap": 1.0})
    answer = strict.ask(HEADLINE)
    assert answer.mode == "extractive" and "obsolete" not in answer.text
