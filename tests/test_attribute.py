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
