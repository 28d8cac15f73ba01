"""eval.runner / eval.report / eval.baseline with a FAKE assistant (no models).

The fake implements only what docs/API_CONTRACT.md promises and the runner
uses: ``ask``, ``chat()`` (a session with ``ask``) and ``settings``.
"""

import json
import re
from pathlib import Path

import pytest

from eval import baseline as B
from eval import metrics as M
from eval import runner
from rag import Answer, Citation, Evidence, QuestionError, Settings
from rag.types import Timings

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "seeds/rferl-2020-04-26-us-russia-reset.txt"
ARTICLE = (ROOT / SOURCE).read_text(encoding="utf-8")

SUSLOV_1 = "\"We completely agree with the Trump administration, that arms control as it exists today is outdated,\" Suslov told RFE/RL."
SUSLOV_2 = "That's wishful thinking, Suslov told RFE/RL: Ukraine is too important for the Kremlin now"
TRUMP = "\"We had a great call,\" Trump later told reporters."
FIRST_CALL = "On March 30, Russian leader Vladimir Putin and U.S. President Donald Trump spoke by telephone"


def span(s):
    i = ARTICLE.find(s)
    assert i >= 0, s
    return i, i + len(s)


def cite(marker, s):
    start, end = span(s)
    return Citation(marker=marker, source=SOURCE, start=start, end=end, quote=ARTICLE[start:end])


def evid(s, score):
    start, end = span(s)
    return Evidence(source=SOURCE, start=start, end=end, text=ARTICLE[start:end], section=None, paragraph=1,
                    speaker=None, score=score)


def answer(question, text, cites=(), evidence=(), mode="generated", total=1.0, first=0.3):
    return Answer(question=question, text=text, citations=tuple(cites), evidence=tuple(evidence), mode=mode,
                  timings=Timings(retrieve_s=0.05, first_token_s=first if mode == "generated" else None,
                                  total_s=total),
                  settings_hash=Settings().hash(), resolved_question=question)


# question -> Answer (or an exception to raise)
SCRIPT = {
    "What did Suslov say about New START?": lambda q: answer(
        q, "Suslov said arms control as it exists today is outdated [1].", [cite(1, SUSLOV_1)],
        [evid(SUSLOV_1, 0.9)]),
    "And what did he say about Ukraine?": lambda q: answer(
        q, "Suslov called it wishful thinking [1].", [cite(1, SUSLOV_2)], [evid(SUSLOV_2, 0.8)], total=2.0),
    "Why?": lambda q: answer(
        q, "Ukraine is too important for the Kremlin [1].", [cite(1, SUSLOV_2)], [evid(SUSLOV_2, 0.8)], total=2.5),
    "Who said \"We had a great call\"?": lambda q: answer(
        q, "Trump later told reporters [1].", [cite(1, TRUMP)], [evid(TRUMP, 0.7)], mode="extractive", total=0.5),
    "When was the first call?": lambda q: answer(  # wrong: the key fact is missing
        q, "Putin and Trump spoke by telephone [1].", [cite(1, FIRST_CALL)], [evid(FIRST_CALL, 0.6)], total=3.0),
    "What did Merkel say?": lambda q: answer(q, "I can't find that in the documents.", mode="refused", total=0.2),
    "What did Biden say?": lambda q: answer(  # not refused: a wrong answer to an unanswerable question
        q, "Trump later told reporters [1].", [cite(1, TRUMP)], [evid(TRUMP, 0.3)], total=1.5),
    "x" * 50: QuestionError("The question is too long (50 characters); shorten it."),
    "Who wrote it?": lambda q: answer(q, "I can't find that in the documents.", mode="refused", total=0.1),
    "Crash?": RuntimeError("boom"),
}

QA = [
    {"id": "w1", "question": "What did Suslov say about New START?", "answer": "Outdated.",
     "must_include": [["outdated"]], "evidence": [SUSLOV_1], "answerable": True, "category": "who_said_what",
     "follow_up_of": None},
    {"id": "f1", "question": "And what did he say about Ukraine?", "answer": "Wishful thinking.",
     "must_include": [["wishful thinking"]], "evidence": [SUSLOV_2], "answerable": True, "category": "follow_up",
     "follow_up_of": "w1"},
    {"id": "w2", "question": "Who said \"We had a great call\"?", "answer": "Trump.", "must_include": [["Trump"]],
     "evidence": [TRUMP], "answerable": True, "category": "who_said_what", "follow_up_of": None},
    {"id": "f2", "question": "Why?", "answer": "Ukraine is too important.", "must_include": [["too important"]],
     "evidence": [SUSLOV_2], "answerable": True, "category": "follow_up", "follow_up_of": "f1"},
    {"id": "c1", "question": "When was the first call?", "answer": "March 30.", "must_include": [["March 30"]],
     "evidence": [FIRST_CALL], "answerable": True, "category": "fact", "follow_up_of": None},
    {"id": "u1", "question": "What did Merkel say?", "answer": "Not said.", "must_include": [], "evidence": [],
     "answerable": False, "category": "unanswerable", "follow_up_of": None},
    {"id": "u2", "question": "What did Biden say?", "answer": "Not said.", "must_include": [], "evidence": [],
     "answerable": False, "category": "unanswerable", "follow_up_of": None},
    {"id": "e1", "question": "x" * 50, "answer": "n/a", "must_include": [["n/a"]], "evidence": [TRUMP],
     "answerable": True, "category": "fact", "follow_up_of": None},
    {"id": "r1", "question": "Who wrote it?", "answer": "Mike Eckel.", "must_include": [["Eckel"]],
     "evidence": ["By Mike Eckel"], "answerable": True, "category": "fact", "follow_up_of": None},
    {"id": "e2", "question": "Crash?", "answer": "n/a", "must_include": [["n/a"]], "evidence": [TRUMP],
     "answerable": True, "category": "fact", "follow_up_of": None},
]


class FakeSession:
    def __init__(self, owner):
        self.owner = owner
        self.history = []
        self.asked = []

    def ask(self, question):
        self.asked.append(question)
        a = self.owner.answer_for(question)
        self.history.append(a)
        return a

    def reset(self):
        self.history = []


class FakeAssistant:
    def __init__(self, script=SCRIPT):
        self.settings = Settings()
        self.script = script
        self.sessions = []
        self.asked = []

    def answer_for(self, question):
        what = self.script[question]
        if isinstance(what, Exception):
            raise what
        return what(question)

    def ask(self, question):
        self.asked.append(question)
        return self.answer_for(question)

    def chat(self):
        session = FakeSession(self)
        self.sessions.append(session)
        return session


@pytest.fixture
def qa_file(tmp_path):
    path = tmp_path / "mini.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QA), encoding="utf-8")
    return path


@pytest.fixture
def run(tmp_path, qa_file):
    fake = FakeAssistant()
    out = tmp_path / "out"
    metrics = runner.run_eval([qa_file], out, assistant=fake, quiet=True)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    return fake, out, metrics, rows


def test_files_written(run):
    _, out, metrics, rows = run
    for name in ("results.jsonl", "metrics.json", "report.md", "report.html"):
        assert (out / name).is_file(), name
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert [r["id"] for r in rows] == [q["id"] for q in QA]
    r = rows[0]
    for key in ("question", "answer", "mode", "refused", "citations", "evidence", "timings", "settings_hash",
                "notice", "resolved_question", "id", "gold_answer", "must_include", "gold_evidence", "answerable",
                "category", "follow_up_of", "scores", "error"):
        assert key in r, key
    assert r["gold_evidence"] == [SUSLOV_1] and r["gold_answer"] == "Outdated."
    assert metrics["settings_hash"] == Settings().hash()
    assert metrics["backend"] == Settings().llm.backend
    assert metrics["timestamp"] and metrics["counts"]["questions"] == len(QA)
    assert metrics["counts"]["by_qa_file"] == {"mini.jsonl": len(QA)}


def test_follow_ups_share_one_session(run):
    fake, _, _, rows = run
    assert len(fake.sessions) == 1, "one chain (w1 -> f1 -> f2) means one chat session"
    assert fake.sessions[0].asked == [QA[0]["question"], QA[1]["question"], QA[3]["question"]]
    assert QA[0]["question"] not in fake.asked and "Why?" not in fake.asked
    assert QA[2]["question"] in fake.asked
    routes = {r["id"]: r["route"] for r in rows}
    assert routes["w1"] == routes["f1"] == routes["f2"] == "chat:w1"
    assert routes["w2"] == routes["c1"] == "ask"


def test_error_rows(run):
    _, _, metrics, rows = run
    by_id = {r["id"]: r for r in rows}
    e1, e2 = by_id["e1"], by_id["e2"]
    assert e1["mode"] == "error" and e1["error"].startswith("QuestionError: The question is too long")
    assert e1["citations"] == [] and e1["timings"] is None and e1["scores"]["error"]
    assert e2["error"] == "RuntimeError: boom" and "Traceback" in e2["traceback"]
    assert metrics["counts"]["errors"] == 2
    assert metrics["error_rate"] == pytest.approx(2 / len(QA))
    assert metrics["mode_mix"] == {"error": 2, "extractive": 1, "generated": 5, "refused": 2}


def test_metrics_of_the_fake_run(run):
    _, _, m, rows = run
    # answerable: w1 ok, f1 ok, w2 ok, f2 ok, c1 wrong, e1 err, r1 refused, e2 err -> 4/8
    assert m["key_fact_accuracy"] == pytest.approx(4 / 8)
    assert m["citation_validity"] == 1.0
    assert m["citation_precision"] == 1.0                 # every citation of an answerable question is gold
    assert m["evidence_hit_rate"] == pytest.approx(5 / 8) and m["mrr"] == pytest.approx(5 / 8)
    assert m["refusal_accuracy"] == 0.5                     # u1 refused, u2 answered
    assert m["false_refusal_rate"] == pytest.approx(1 / 8)
    assert m["per_category"]["follow_up"]["accuracy"] == 1.0
    assert m["per_category"]["fact"]["accuracy"] == 0.0
    assert m["latency_first_token_p50_s"] == 0.3
    assert m["latency_total_p50_s"] == pytest.approx(1.25)  # .1 .2 .5 1 | 1.5 2 2.5 3 (errors left out)
    by_id = {r["id"]: r for r in rows}
    assert by_id["w1"]["scores"]["sentences_supported"] == 1
    assert by_id["w2"]["scores"]["sentences_supported"] == 1


def test_html_is_self_contained(run):
    _, out, _, _ = run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "http" not in page.lower()
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert page.count("<svg") >= 2 and "<style>" in page
    # failures listed with question, answer, mode and cited quotes
    assert "When was the first call?" in page and "Putin and Trump spoke by telephone" in page
    assert "What did Biden say?" in page and "QuestionError" in page
    assert "&#34;We had a great call,&#34; Trump later told reporters." in page  # a cited quote, escaped


def test_html_report_shows_markup_as_text(run):
    from eval import report

    _, _, metrics, rows = run
    hostile = {**rows[4], "id": "x<1>", "question": "<script>alert(1)</script> & more?",
               "answer": '<img src=x onerror="alert(2)">', "gold_answer": "<b>bold</b>",
               "must_include": [["<i>", "a&b"]], "citations": [{**rows[4]["citations"][0], "quote": "</blockquote><script>"}]}
    page = report.html(metrics, [hostile, *rows])
    assert "<script" not in page.lower() and "<img" not in page and "<b>" not in page and "<i>" not in page
    assert "Q: &lt;script&gt;alert(1)&lt;/script&gt; &amp; more?" in page
    assert "answer: &lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in page
    assert 'id="q-x&lt;1&gt;"' in page and "(&lt;i&gt; | a&amp;b)" in page
    assert "<blockquote>&lt;/blockquote&gt;&lt;script&gt;</blockquote>" in page


def test_markdown_and_summary(run, capsys):
    _, out, metrics, _ = run
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| key-fact accuracy | 50.0% |" in md and "### c1" in md
    from eval import report

    table = report.summary_table(metrics)
    assert "key-fact accuracy" in table and "50.0%" in table and len(table.splitlines()) < 40


def test_warm_up_runs_first_and_its_failure_is_reported(tmp_path, qa_file):
    calls = []

    class Warm(FakeAssistant):
        def warm_up(self):
            calls.append(len(self.asked))

    m = runner.run_eval([qa_file], tmp_path / "w", assistant=Warm(), limit=1, quiet=True)
    assert calls == [0] and m["warm_up_s"] is not None and "warm_up_error" not in m

    class Cold(FakeAssistant):
        def warm_up(self):
            raise QuestionError("model file missing")

    m = runner.run_eval([qa_file], tmp_path / "c", assistant=Cold(), limit=1, quiet=True)
    assert m["warm_up_error"] == "QuestionError: model file missing" and m["counts"]["questions"] == 1


def test_limit_keeps_the_first_questions(tmp_path, qa_file):
    fake = FakeAssistant()
    m = runner.run_eval([qa_file], tmp_path / "o", assistant=fake, limit=2, quiet=True)
    assert m["counts"]["questions"] == 2 and len(fake.sessions) == 1


def test_follow_up_of_a_parent_outside_the_run_gets_its_own_session(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(QA[1]) + "\n", encoding="utf-8")
    fake = FakeAssistant()
    runner.run_eval([path], tmp_path / "o", assistant=fake, quiet=True)
    assert len(fake.sessions) == 1 and fake.sessions[0].asked == [QA[1]["question"]]


def test_check_thresholds():
    metrics = {"citation_validity": 0.9, "key_fact_accuracy": 0.8, "false_refusal_rate": 0.4, "mrr": None,
               "per_category": {"fact": {"accuracy": 0.1}}}
    msgs = runner.check_thresholds(metrics, {
        "min": {"citation_validity": 1.0, "key_fact_accuracy": 0.5, "mrr": 0.2, "missing": 0.1,
                "per_category.fact.accuracy": 0.5},
        "max": {"false_refusal_rate": 0.2}})
    assert len(msgs) == 5
    joined = "\n".join(msgs)
    assert "citation_validity: 0.9000 is below the minimum 1.0" in joined
    assert "false_refusal_rate: 0.4000 is above the maximum 0.2" in joined
    assert "mrr: not measured" in joined and "missing: not measured" in joined
    assert "per_category.fact.accuracy: 0.1000 is below the minimum 0.5" in joined
    assert runner.check_thresholds(metrics, {"min": {"key_fact_accuracy": 0.5}, "max": {"false_refusal_rate": 0.5}}) == []


def test_thresholds_file_is_valid():
    t = runner.load_thresholds()
    # the gate measures the held-out test split
    assert t["min"]["splits.test.citation_validity"] == 1.0
    assert "splits.test.false_refusal_rate" in t["max"]
    assert all(name.startswith("splits.test.") for table in t.values() for name in table)
    assert all(isinstance(v, (int, float)) for table in t.values() for v in table.values())


def test_main_gate(tmp_path, qa_file, monkeypatch, capsys):
    fake = FakeAssistant()
    real = runner.run_eval
    monkeypatch.setattr(runner, "run_eval", lambda *a, **k: real(*a, **{**k, "assistant": fake, "quiet": True}))
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps({"min": {"key_fact_accuracy": 0.9}, "max": {"error_rate": 0.0}}))
    code = runner.main(["--qa", str(qa_file), "--out", str(tmp_path / "g"), "--gate", "--thresholds", str(strict)])
    err = capsys.readouterr()
    assert code == 1
    assert "key_fact_accuracy: 0.5000 is below the minimum 0.9" in err.err and "error_rate" in err.err
    assert "report.html" in err.out
    loose = tmp_path / "loose.json"
    loose.write_text(json.dumps({"min": {"citation_validity": 1.0}, "max": {}}))
    assert runner.main(["--qa", str(qa_file), "--out", str(tmp_path / "h"), "--gate", "--thresholds", str(loose)]) == 0
    assert runner.main(["--qa", str(tmp_path / "nope.jsonl")]) == 2


def test_cli_settings():
    args = runner.build_parser().parse_args(
        ["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--limit", "3", "--qa", "a.jsonl", "b.jsonl"])
    s = Settings.from_args(args)
    assert s.llm.backend == "openai" and s.llm.base_url == "http://127.0.0.1:9/v1"
    assert args.limit == 3 and args.qa == [Path("a.jsonl"), Path("b.jsonl")]
    s = Settings.from_args(runner.build_parser().parse_args(["--backend", "gguf", "--model-path", "/m.gguf"]))
    assert s.llm.backend == "gguf" and s.llm.model_path == Path("/m.gguf")
    assert Settings.from_args(runner.build_parser().parse_args([])).hash() == Settings().hash()


def _settings_rag_eval_runs_with(monkeypatch, tmp_path, *argv):
    """The settings ``rag eval ARGV`` hands to ``run_eval`` (nothing is asked)."""
    from rag import cli

    seen = {}

    def fake_run_eval(qa_files, out_dir, settings=None, **kw):
        seen["settings"] = settings
        return {}

    monkeypatch.setattr(runner, "run_eval", fake_run_eval)
    assert cli.main(["eval", "--out", str(tmp_path), *argv]) == 0
    return seen["settings"]


def test_rag_eval_model_path_alone_means_the_gguf_backend(monkeypatch, tmp_path):
    s = _settings_rag_eval_runs_with(monkeypatch, tmp_path, "--model-path", "X.gguf")
    assert s.llm.backend == "gguf" and s.llm.model_path == Path("X.gguf")


def test_rag_eval_takes_docs_and_data_dir(monkeypatch, tmp_path):
    s = _settings_rag_eval_runs_with(monkeypatch, tmp_path, "--docs", "seeds", "--docs", "notes.md",
                                     "--data-dir", str(tmp_path / "d"), "--base-url", "http://127.0.0.1:9/v1")
    assert s.docs == (Path("seeds"), Path("notes.md")) and s.index.data_dir == tmp_path / "d"
    assert s.llm.backend == "openai"


def test_gold_data_scores_perfectly_with_an_oracle(tmp_path):
    """An assistant answering with the gold answer and citing the gold
    evidence must score 100% on the retrieval/citation/key-fact metrics: this
    checks the metric plumbing against the real QA file and seed article."""
    gold = {q["question"]: q for q in runner.load_qa(runner.default_qa_files())}
    texts = runner.SourceTexts(ROOT)
    sources = [f"seeds/{p.name}" for p in sorted((ROOT / "seeds").iterdir())]

    def where(s):  # every gold evidence string is in one seed document (tests/test_qa_files.py)
        source = next(src for src in sources if s in (texts(src) or ""))
        start = texts(source).find(s)
        return source, start, start + len(s)

    def oracle(question):
        q = gold[question]
        if not q["answerable"]:
            return answer(question, "I can't find that in the documents.", mode="refused")
        spans = [where(e) for e in q["evidence"]]
        cites = [Citation(marker=i, source=src, start=a, end=b, quote=texts(src)[a:b])
                 for i, (src, a, b) in enumerate(spans, start=1)]
        ev = [Evidence(source=src, start=a, end=b, text=texts(src)[a:b], section=None, paragraph=1,
                       speaker=None, score=1.0) for src, a, b in spans]
        markers = "".join(f"[{c.marker}]" for c in cites)
        return answer(question, f"{q['answer']} {markers}", cites, ev)

    fake = FakeAssistant(script={q: oracle for q in gold})
    m = runner.run_eval(None, tmp_path / "oracle", assistant=fake, quiet=True)
    for name in ("evidence_hit_rate", "mrr", "key_fact_accuracy", "citation_validity", "citation_precision",
                 "refusal_accuracy"):
        assert m[name] == 1.0, name
    assert m["false_refusal_rate"] == 0.0 and m["error_rate"] == 0.0
    ids = {q["id"]: q for q in gold.values()}
    roots = {q["follow_up_of"] for q in gold.values() if q["follow_up_of"]}
    assert len(fake.sessions) == len({r for r in roots if ids[r]["follow_up_of"] is None})


# ---------------------------------------------------------------- baseline (no models)


def test_baseline_locate_and_node_span():
    from llama_index.core.schema import TextNode

    s, e = B.locate(TRUMP, ARTICLE)
    assert ARTICLE[s:e] == TRUMP
    squeezed = TRUMP.replace(" ", "\n ")  # whitespace differs -> located by words
    s2, e2 = B.locate(squeezed, ARTICLE)
    assert (s2, e2) == (s, e)
    assert B.locate("not in the article at all", ARTICLE) == (None, None)
    node = TextNode(text=f"Source 2:\n{TRUMP}\n")
    assert B.node_span(node, ARTICLE) == (s, e, TRUMP)


def test_baseline_rows_with_a_fake_engine(tmp_path):
    class Engine:
        def ask(self, question):
            if question == "Crash?":
                raise RuntimeError("llm died")
            s, e = span(TRUMP)
            text = "The sources do not mention it." if "Merkel" in question else "Trump said it [1]."
            return {"question": question, "answer": text, "mode": "refused" if "Merkel" in question else "generated",
                    "refused": "Merkel" in question,
                    "citations": [] if "Merkel" in question else [
                        {"marker": 1, "source": SOURCE, "start": s, "end": e, "quote": TRUMP, "speaker": None}],
                    "evidence": [{"source": SOURCE, "start": s, "end": e, "score": 0.5}],
                    "timings": {"retrieve_s": 0.01, "first_token_s": None, "total_s": 0.5},
                    "settings_hash": "h", "notice": None, "resolved_question": None}

    rows = runner.run_baseline([QA[2], QA[5], QA[9]], Settings(), engine=Engine())
    assert [r["route"] for r in rows] == ["baseline"] * 3
    assert rows[2]["mode"] == "error" and "llm died" in rows[2]["error"]
    runner.score_rows(rows, runner.SourceTexts())
    assert rows[0]["scores"]["correct"] and rows[1]["scores"]["correct"]


def test_run_eval_with_baseline_side_by_side(tmp_path, qa_file, monkeypatch):
    def fake_baseline(qa_rows, settings, progress=None):
        return [runner.result_row(q, answer={
            "question": q["question"], "answer": "No information.", "mode": "refused", "refused": True,
            "citations": [], "evidence": [], "timings": {"retrieve_s": 0.1, "first_token_s": None, "total_s": 4.0},
            "settings_hash": "h", "notice": None, "resolved_question": None}, route="baseline") for q in qa_rows]

    monkeypatch.setattr(runner, "run_baseline", fake_baseline)
    out = tmp_path / "b"
    m = runner.run_eval([qa_file], out, assistant=FakeAssistant(), baseline=True, quiet=True)
    assert m["baseline"]["refusal_accuracy"] == 1.0 and m["baseline"]["key_fact_accuracy"] == 0.0
    assert (out / "baseline_results.jsonl").is_file()
    from eval import report

    assert "baseline" in report.summary_table(m).splitlines()[3]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Baseline failures" in page and "http" not in page.lower()


def test_baseline_engine_builds_with_mock_models(tmp_path):
    """The real CitationQueryEngine wiring, with llama-index's mock LLM and
    embedder instead of our models: spans of its chunks are located exactly."""
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.llms import MockLLM

    settings = Settings().with_updates(docs=(ROOT / SOURCE,))  # the article alone; seeds/ has other documents
    engine = B.BaselineEngine(settings, llm=MockLLM(max_tokens=8), embed_model=MockEmbedding(embed_dim=8))
    out = engine.ask("What did Suslov say about New START?")
    assert out["evidence"] and out["mode"] in ("generated", "refused")
    for e in out["evidence"]:
        assert e["source"] == SOURCE and e["start"] is not None and 0 <= e["start"] < e["end"] <= len(ARTICLE)
    assert out["timings"]["total_s"] >= out["timings"]["retrieve_s"] >= 0


def test_baseline_without_llm_is_unavailable():
    with pytest.raises(B.BaselineUnavailable, match="needs an LLM"):
        B.BaselineEngine(Settings().with_updates(llm={"backend": "none"}))


def test_splits_are_labelled_and_reported_side_by_side(tmp_path):
    from eval import runner as R

    dev, test = R.default_qa_files("dev"), R.default_qa_files("test")
    assert dev and test and not set(dev) & set(test)
    assert R.default_qa_files("all") == dev + test
    rows = R.load_qa(dev[:1] + test[:1])
    assert {r["split"] for r in rows} == {"dev", "test"}
    assert all(r["qa_file"].startswith(r["split"] + "/") for r in rows)
    # a file outside the split folders keeps its plain name and no split
    other = tmp_path / "mine.jsonl"
    other.write_text(json.dumps({"id": "x", "question": "q?"}) + "\n")
    assert R.load_qa([other])[0]["qa_file"] == "mine.jsonl" and R.load_qa([other])[0]["split"] is None


def test_a_dev_test_gap_over_five_points_is_a_finding():
    from eval.runner import split_findings

    found = split_findings({"dev": {"key_fact_accuracy": 0.808, "refusal_accuracy": 0.9},
                            "test": {"key_fact_accuracy": 0.70, "refusal_accuracy": 0.88}})
    assert found == ["key_fact_accuracy: dev 80.8% vs test 70.0% (10.8 points)"]
    assert split_findings({"test": {"key_fact_accuracy": 0.1}}) == []


def test_progress_lines_carry_the_time_left_and_a_terminal_gets_a_bar(capsys, monkeypatch):
    import sys

    from eval.runner import _progress

    show = _progress("ours")
    rows = [{"id": f"q{i}", "mode": "generated", "timings": {"total_s": 0.1}} for i in range(3)]
    for i, row in enumerate(rows, 1):
        show(i, 3, row)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("[ours 1/3] q0") and "left" in lines[0]
    assert lines[-1].endswith("~0s left")

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    show = _progress("ours")
    for i, row in enumerate(rows, 1):
        show(i, 3, row)
    err = capsys.readouterr().err
    assert "ours" in err and "3/3" in err and "question" in err and "<" in err  # tqdm: elapsed<remaining
