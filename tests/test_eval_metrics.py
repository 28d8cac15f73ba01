"""Unit tests of eval.metrics on hand-made tiny cases (no models, no files)."""

import pytest

from eval import metrics as M

TEXT = "Alpha said one thing. Beta said 13,200 things. Gamma said nothing at all."
# spans:  "Alpha said one thing." = [0, 21); "Beta said 13,200 things." = [22, 46)
GOLD = ["Beta said 13,200 things."]


def texts(mapping):
    return lambda source: mapping.get(source)


SRC = texts({"a.txt": TEXT, "b.txt": "Beta said 13,200 things. Beta said 13,200 things."})


def cit(marker, start, end, source="a.txt", text=TEXT, quote=None):
    return {"marker": marker, "source": source, "start": start, "end": end,
            "quote": text[start:end] if quote is None else quote, "speaker": None}


def ev(start, end, score, source="a.txt"):
    return {"source": source, "start": start, "end": end, "score": score}


def row(answer="", mode="generated", citations=(), evidence=(), answerable=True, must_include=(("13,200",),),
        gold=GOLD, category="fact", error=None, timings=None):
    return {
        "id": "x", "question": "q?", "answer": answer, "mode": mode, "refused": mode == "refused",
        "citations": list(citations), "evidence": list(evidence),
        "timings": timings if timings is not None else {"retrieve_s": 0.1, "first_token_s": None, "total_s": 1.0},
        "gold_answer": "g", "must_include": [list(g) for g in must_include] if answerable else [],
        "gold_evidence": list(gold) if answerable else [], "answerable": answerable, "category": category,
        "follow_up_of": None, "error": error,
    }


# ---------------------------------------------------------------- spans


@pytest.mark.parametrize("a,b,expected", [
    ((0, 5), (4, 9), True),     # one shared character
    ((0, 5), (5, 9), False),    # touching: half-open spans share nothing
    ((5, 9), (0, 5), False),
    ((0, 10), (3, 4), True),    # containment
    ((3, 4), (0, 10), True),
    ((0, 0), (0, 10), False),   # empty span
    ((2, 2), (2, 2), False),
    ((0, 5), (6, 9), False),
])
def test_overlaps(a, b, expected):
    assert M.overlaps(*a, *b) is expected


def test_find_all_every_occurrence_including_overlapping():
    assert M.find_all("aaa", "aa") == [(0, 2), (1, 3)]
    assert M.find_all("abc", "x") == []
    assert M.find_all("abc", "") == []


def test_gold_spans_every_occurrence_of_every_string():
    text = "x Beta said 13,200 things. y Beta said 13,200 things."
    spans = M.gold_spans(GOLD + ["y"], text)
    assert spans == [(2, 26), (27, 28), (29, 53)]
    assert M.gold_spans(GOLD, None) == []
    assert M.gold_spans([], TEXT) == []


def test_gold_index_per_source():
    g = M.GoldIndex(GOLD, SRC)
    assert g.spans("a.txt") == [(22, 46)]
    assert len(g.spans("b.txt")) == 2
    assert g.spans("missing.txt") == []
    assert g.hits("a.txt", 45, 50)          # overlaps the last character
    assert not g.hits("a.txt", 46, 50)       # touches the end only
    assert not g.hits("a.txt", 0, 22)        # ends where gold starts
    assert g.hits("a.txt", 21, 23)
    assert not g.hits("missing.txt", 0, 100)
    assert not g.hits("a.txt", None, None)


# ---------------------------------------------------------------- retrieval


def test_reciprocal_rank_uses_score_order():
    g = M.GoldIndex(GOLD, SRC)
    # list order: gold first but with the lowest score -> rank 3 after sorting
    evidence = [ev(22, 46, 0.1), ev(0, 21, 0.9), ev(47, 73, 0.5)]
    assert M.reciprocal_rank(evidence, g) == pytest.approx(1 / 3)
    assert M.evidence_hit(evidence, g)


def test_reciprocal_rank_ties_keep_list_order_and_misses_are_zero():
    g = M.GoldIndex(GOLD, SRC)
    assert M.reciprocal_rank([ev(0, 21, 0.5), ev(22, 46, 0.5)], g) == 0.5
    assert M.reciprocal_rank([ev(0, 21, 0.5)], g) == 0.0
    assert M.reciprocal_rank([], g) == 0.0
    assert not M.evidence_hit([], g)
    # same offsets, other source without the gold text there -> miss
    assert M.reciprocal_rank([ev(22, 46, 1.0, source="c.txt")], g) == 0.0


# ---------------------------------------------------------------- key facts


def test_key_fact_match():
    assert M.key_fact_match("They had five calls [1] over five weeks.", [["five calls", "5 calls"], ["five weeks"]])
    assert not M.key_fact_match("They had five calls.", [["five calls"], ["five weeks"]])
    assert M.key_fact_match("SUSLOV said so.", [["Suslov"]])                      # case-insensitive
    assert M.key_fact_match("It ended on April 1 [1].", [["April 1"]])
    assert M.key_fact_match("five [1] calls", [["five calls"]])                   # marker removed
    assert M.key_fact_match("Menon said \u201cI don\u2019t know\u201d.", [["don't know"]])  # curly quotes
    assert not M.key_fact_match("Suslov said so.", [["Suslov"]], refused=True)     # refusal scores 0
    assert M.key_fact_match("anything", [])
    assert not M.key_fact_match("", [["x"]])


# ---------------------------------------------------------------- citations


def test_citation_validity():
    assert M.citation_is_valid(cit(1, 22, 46), TEXT)
    assert not M.citation_is_valid(cit(1, 22, 46, quote="Beta said 13,200 things"), TEXT)  # one char short
    assert not M.citation_is_valid(cit(1, 22, 46), None)                                  # unreadable source
    assert not M.citation_is_valid(cit(1, 5, 5, quote=""), TEXT)                          # empty span
    assert not M.citation_is_valid(cit(1, 70, 90, quote=TEXT[70:90]), TEXT)               # past the end
    assert not M.citation_is_valid({"marker": 1, "source": "a.txt", "start": None, "end": None, "quote": "x"}, TEXT)


# ---------------------------------------------------------------- answer support


def test_split_sentences_keeps_markers_with_their_sentence():
    assert M.split_sentences("U.S. aid came. [1] It was late [2].") == ["U.S. aid came. [1]", "It was late [2]."]
    assert M.split_sentences("He met Mr. Smith in Washington, D.C. on May 1 [1].") == [
        "He met Mr. Smith in Washington, D.C. on May 1 [1]."]
    assert M.split_sentences("One.\nTwo [1]\n[2]") == ["One.", "Two [1] [2]"]
    assert M.split_sentences("It cost 1.5 million [1]. Done!") == ["It cost 1.5 million [1].", "Done!"]
    assert M.split_sentences("") == []
    # a quoted passage of several sentences is one claim, cited after the closing quote
    assert M.split_sentences('Peskov: "They agree. They act." [1] Then he left.') == [
        'Peskov: "They agree. They act." [1]', "Then he left."]


def test_markers_and_strip():
    assert M.markers_in("a [2] b [1, 2] c [3].") == [2, 1, 3]
    assert M.strip_markers("Five calls [1] [2].") == "Five calls."


def test_claim_tokens():
    assert M.claim_tokens("The Kremlin's 5 calls [1].") == (["5"], ["Kremlin"])
    assert M.claim_tokens("Suslov said 13,200 [2].") == (["13200"], ["Suslov"])
    nums, words = M.claim_tokens("In Washington, U.S. officials met.")
    assert nums == [] and words == ["Washington", "U.S"]


def test_sentence_supported():
    quotes = {1: "Beta said 13,200 things.", 2: "Alpha said one thing."}
    assert M.sentence_supported("Beta said 13,200 things [1].", quotes)
    assert M.sentence_supported("The count was 13200, said Beta [1].", quotes)  # separators ignored, starter exempt
    assert not M.sentence_supported("Beta said 13,200 things.", quotes)          # no marker
    assert not M.sentence_supported("Beta said 13,200 things [3].", quotes)      # marker without a citation
    assert not M.sentence_supported("Gamma said 13,200 things [1].", quotes)     # name not in the quote
    assert not M.sentence_supported("Beta said 13,201 things [1].", quotes)      # number not in the quote
    assert not M.sentence_supported("Beta said 1 thing [1].", quotes)            # "1" is not "13,200"
    assert M.sentence_supported("Alpha and Beta spoke [1][2].", quotes)          # quotes of all its markers
    assert not M.sentence_supported("Alpha and Beta spoke [2].", quotes)


def test_answer_support_with_speaker():
    c = [dict(cit(1, 22, 46), speaker="Dmitry Beta")]
    text = 'Dmitry Beta: "Beta said 13,200 things." [1]'
    assert M.answer_support(text, c) == (0, 1)                      # "Dmitry" is not in the quote
    assert M.answer_support(text, c, with_speaker=True) == (1, 1)
    s = M.score_row(row(answer=text, citations=c), SRC)
    assert (s["sentences_supported"], s["sentences_supported_with_speaker"]) == (0, 1)


def test_answer_support_counts_sentences():
    c = [cit(1, 22, 46)]
    assert M.answer_support("Beta said 13,200 things [1]. Gamma agreed.", c) == (1, 2)
    assert M.answer_support("", c) == (0, 0)


# ---------------------------------------------------------------- refusal text


@pytest.mark.parametrize("text,refused", [
    ("The sources do not mention Angela Merkel.", True),
    ("There is no information about the cost in the provided sources.", True),
    ("The price is not mentioned in the article.", True),
    ("I cannot answer that from the sources.", True),
    ("Empty Response", True),
    ("", True),
    ('Rajan Menon said "I don\'t know the answer to that" [1].', False),  # a quotation, not a refusal
    ("U.S. sanctions do not inhibit humanitarian assistance [1].", False),
    ("The exporter did not appear to fall under U.S. sanctions [2].", False),
    ("Suslov said it [1]. The article does not say when.", False),        # only the first sentence counts
])
def test_is_refusal_text(text, refused):
    assert M.is_refusal_text(text) is refused


# ---------------------------------------------------------------- statistics


def test_percentile_and_ratio():
    assert M.percentile([1, 2, 3, 4], 50) == 2.5
    assert M.percentile([4, 1, 3, 2], 0) == 1
    assert M.percentile([1, 2, 3, 4], 100) == 4
    assert M.percentile([10], 95) == 10
    assert M.percentile([None, 2.0, None], 50) == 2.0
    assert M.percentile([], 50) is None
    assert M.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], 95) == 20
    assert M.ratio(1, 4) == 0.25
    assert M.ratio(0, 0) is None
    assert M.mean([]) is None


def test_percentile_is_numpys_default_and_skips_missing_values():
    import numpy as np

    xs = [0.93, 0.12, 1.7, 0.4, 2.05, 0.66, 0.66]
    for q in (0, 5, 50, 90, 95, 99, 100):
        assert M.percentile([*xs, None, float("nan")], q) == np.percentile(xs, q)


# ---------------------------------------------------------------- per question / aggregate


def test_score_row_answerable_correct():
    r = row(answer="Beta said 13,200 things [1].", citations=[cit(1, 22, 46)],
            evidence=[ev(0, 21, 0.9), ev(22, 46, 0.8)])
    s = M.score_row(r, SRC)
    assert s["key_fact"] and s["correct"] and s["evidence_hit"]
    assert s["reciprocal_rank"] == 0.5
    assert (s["citations"], s["citations_valid"], s["citations_on_gold"]) == (1, 1, 1)
    assert (s["sentences_supported"], s["sentences"]) == (1, 1)
    assert s["invalid_citations"] == [] and not s["refused"] and not s["error"]


def test_score_row_refused_answerable_scores_zero():
    r = row(answer="I can't find 13,200 in the documents.", mode="refused", evidence=[ev(22, 46, 0.2)])
    s = M.score_row(r, SRC)
    assert s["refused"] and not s["key_fact"] and not s["correct"]
    assert s["evidence_hit"]                      # retrieval is scored independently of the answer
    assert (s["sentences"], s["sentences_supported"]) == (0, 0)


def test_score_row_unanswerable_and_error():
    refused = M.score_row(row(answer="Not in the documents.", mode="refused", answerable=False), SRC)
    assert refused["correct"] and refused["key_fact"] is None and refused["evidence_hit"] is None
    assert refused["citations_on_gold"] is None
    hallucinated = M.score_row(row(answer="Alpha said one thing [1].", answerable=False,
                                   citations=[cit(1, 0, 21)]), SRC)
    assert not hallucinated["correct"] and hallucinated["sentences_supported"] == 1
    err = M.score_row(row(mode="error", error="QuestionError: too long", timings={}), SRC)
    assert err["error"] and not err["refused"] and not err["correct"] and err["reciprocal_rank"] == 0.0


def test_score_row_invalid_citation_is_reported():
    r = row(answer="Beta said 13,200 things [1].", citations=[cit(1, 22, 46, quote="Beta said")])
    s = M.score_row(r, SRC)
    assert s["citations_valid"] == 0 and s["invalid_citations"] == [1]


def _scored(rows):
    for r in rows:
        r["scores"] = M.score_row(r, SRC)
    return rows


def test_aggregate():
    rows = _scored([
        # answerable, correct, cites gold and a non-gold span; retrieval rank 1
        row(answer="Beta said 13,200 things [1]. Alpha said one thing [2].", citations=[cit(1, 22, 46), cit(2, 0, 21)],
            evidence=[ev(22, 46, 0.9)], category="fact",
            timings={"retrieve_s": 0.1, "first_token_s": 0.5, "total_s": 1.0}),
        # answerable, wrong answer, retrieval miss
        row(answer="Alpha said one thing [1].", citations=[cit(1, 0, 21)], evidence=[ev(0, 21, 0.9)],
            category="who_said_what", timings={"retrieve_s": 0.3, "first_token_s": None, "total_s": 3.0}),
        # answerable, falsely refused
        row(answer="Not found.", mode="refused", category="fact",
            timings={"retrieve_s": 0.2, "first_token_s": None, "total_s": 2.0}),
        # unanswerable, refused
        row(answer="Not found.", mode="refused", answerable=False, category="unanswerable",
            timings={"retrieve_s": 0.2, "first_token_s": None, "total_s": 5.0}),
        # unanswerable, error
        row(mode="error", answerable=False, category="unanswerable", error="RagError: boom", timings={}),
    ])
    m = M.aggregate(rows)
    assert m["key_fact_accuracy"] == pytest.approx(1 / 3)
    assert m["evidence_hit_rate"] == pytest.approx(1 / 3)
    assert m["mrr"] == pytest.approx(1 / 3)
    assert m["citation_validity"] == 1.0
    assert m["citation_precision"] == pytest.approx(1 / 3)        # 1 of 3 citations of answerable questions
    assert m["answer_support"] == 1.0                               # 3 sentences, all supported
    assert m["refusal_accuracy"] == 0.5                             # the error is not a refusal
    assert m["false_refusal_rate"] == pytest.approx(1 / 3)
    assert m["error_rate"] == pytest.approx(1 / 5)
    assert m["mode_mix"] == {"error": 1, "generated": 2, "refused": 2}
    assert m["latency_total_p50_s"] == 2.5                          # error row excluded: 1,2,3,5
    assert m["latency_first_token_p50_s"] == 0.5                    # non-null only
    assert m["latency_retrieve_p95_s"] == pytest.approx(0.285)
    assert m["per_category"]["fact"] == {"n": 2, "accuracy": 0.5, "measure": "key_fact"}
    assert m["per_category"]["unanswerable"] == {"n": 2, "accuracy": 0.5, "measure": "refusal"}
    assert m["key_fact_accuracy_by_category"] == {"fact": 0.5, "who_said_what": 0.0}
    assert m["counts"]["questions"] == 5 and m["counts"]["errors"] == 1 and m["counts"]["citations"] == 3


def test_aggregate_empty_denominators_are_none():
    m = M.aggregate(_scored([row(answer="Not found.", mode="refused", answerable=False, category="unanswerable")]))
    assert m["key_fact_accuracy"] is None and m["evidence_hit_rate"] is None and m["mrr"] is None
    assert m["citation_validity"] is None and m["citation_precision"] is None and m["answer_support"] is None
    assert m["false_refusal_rate"] is None and m["refusal_accuracy"] == 1.0
    assert m["latency_first_token_p50_s"] is None
    assert M.aggregate([])["error_rate"] is None


def test_format_value():
    assert M.format_value(None, "share") == "n/a"
    assert M.format_value(0.5, "share") == "50.0%"
    assert M.format_value(1.234, "seconds") == "1.23s"
