"""Run the gold questions through the assistant, score them, write reports.

Usage (``rag eval`` calls ``main``)::

    python -m eval.runner [--qa FILE ...] [--out DIR] [--baseline] [--limit N]
                          [--gate] [--thresholds FILE]
    python -m eval.runner --claims [--claims-split dev|test|all] [--gate]   (eval/claimcheck.py)
                          [--backend embedded|gguf|openai|none] [--model-path FILE]
                          [--base-url URL] [--model NAME] [--docs PATH ...] [--data-dir DIR]

The document and model options are those of every ``rag`` command
(``rag.add_settings_options``), applied by ``Settings.from_args``.

Routing: a question with ``follow_up_of`` is asked in the same
``assistant.chat()`` session as the question it follows (the session of the
chain's first question); a question without ``follow_up_of`` that some later
question follows opens a new session and is asked there; every other question
goes through ``assistant.ask``. A ``RagError`` (or any other exception) raised
by one question becomes an error row; the run goes on. ``assistant.warm_up()``
runs before the first question (its time is reported as ``warm_up_s``), so the
latency metrics measure answering, not model loading.

Files written to the output folder: ``results.jsonl`` (one row per question:
``Answer.to_json()`` + ``id``, ``qa_file``, gold fields, ``route``,
``error``, ``wall_s`` and ``scores``), ``metrics.json``, ``report.md``,
``report.html`` and, with ``--baseline``, ``baseline_results.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from eval import metrics as M
from eval.jsonl import read_jsonl
from rag import RagError, Settings, add_settings_options  # the public API (docs/API_CONTRACT.md)

ROOT = Path(__file__).resolve().parent.parent
QA_DIR = ROOT / "eval" / "qa"
OUT_DIR = ROOT / "eval" / "out"
THRESHOLDS = ROOT / "eval" / "thresholds.json"


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------


# dev: questions the pipeline may be calibrated on; test: held out, written
# before the changes they measure and never tuned on (eval/qa/README.md).
SPLITS = ("dev", "test")


def default_qa_files(split: str = "all") -> list[Path]:
    """The QA files of one split (``"dev"``, ``"test"``) or of both (``"all"``).

    Example: ``default_qa_files("test")`` -> ``[.../eval/qa/test/article.jsonl, ...]``
    """
    splits = SPLITS if split == "all" else (split,)
    return [p for s in splits for p in sorted((QA_DIR / s).glob("*.jsonl"))]


def split_of(path: Path) -> Optional[str]:
    """``"dev"``/``"test"`` for a file in ``eval/qa/dev|test/``, else None."""
    parent = Path(path).resolve().parent
    return parent.name if parent.name in SPLITS and parent.parent == QA_DIR.resolve() else None


def qa_label(path: Path) -> str:
    """A QA file's name as reports show it: ``dev/article.jsonl`` for the
    split folders (the dev and test splits both have an ``article.jsonl``)."""
    split = split_of(path)
    return f"{split}/{Path(path).name}" if split else Path(path).name


def load_qa(paths: Iterable[Path]) -> list[dict]:
    """The QA lines of ``paths`` in file order, each with ``qa_file`` (its
    ``qa_label``) and ``split`` (``"dev"``, ``"test"`` or None). A missing file
    or a line that is not a JSON object raises ``DataFileError`` (file, line, fix)."""
    rows = []
    for path in paths:
        path = Path(path)
        label, split = qa_label(path), split_of(path)
        for _n, obj in read_jsonl(path, "QA file"):
            obj["qa_file"] = label
            obj["split"] = split
            rows.append(obj)
    return rows


class SourceTexts:
    """``source -> raw text`` (cached), read from ``<root>/<source>``.

    The raw text is what citation offsets index: a .txt/.md file's bytes
    decoded as UTF-8 (a BOM dropped, line endings kept). For .html the
    offsets index the extracted text, which only the pipeline's extractor
    reproduces, so ``rag.ingest.html_to_text`` is used for those (the one
    place eval reaches below the public API). Unreadable -> None.
    """

    def __init__(self, root: Path = ROOT):
        self.root = Path(root)
        self._cache: dict[str, Optional[str]] = {}

    def path(self, source: str) -> Path:
        p = Path(source)
        return p if p.is_absolute() else self.root / p

    def __call__(self, source: Optional[str]) -> Optional[str]:
        if not source:
            return None
        if source not in self._cache:
            self._cache[source] = self._read(self.path(source))
        return self._cache[source]

    @staticmethod
    def _read(path: Path) -> Optional[str]:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None
        if path.suffix.lower() in (".html", ".htm"):
            try:
                from rag.ingest import html_to_text
            except ImportError:  # pragma: no cover
                return None
            text = html_to_text(text)
        return text


# ---------------------------------------------------------------------------
# asking
# ---------------------------------------------------------------------------

GOLD_FIELDS = ("must_include", "answerable", "category", "follow_up_of")


def result_row(qa: dict, answer: Any = None, error: Optional[BaseException] = None,
               route: str = "ask", wall_s: float = 0.0) -> dict:
    """One ``results.jsonl`` row (without scores): the answer's ``to_json()``
    (or an error row) plus the QA line's id and gold fields. ``answer`` is an
    ``Answer`` or a dict already in ``Answer.to_json()`` shape (the baseline's)."""
    if answer is not None:
        row = dict(answer if isinstance(answer, dict) else answer.to_json())
        err = None
    else:
        row = {
            "question": qa["question"], "answer": "", "mode": "error", "refused": False,
            "citations": [], "evidence": [], "timings": None, "settings_hash": None,
            "notice": None, "resolved_question": None,
        }
        err = f"{type(error).__name__}: {error}" if error is not None else "no answer"
    row.update(
        id=qa["id"],
        qa_file=qa.get("qa_file"),
        split=qa.get("split"),
        gold_answer=qa.get("answer"),
        gold_evidence=list(qa.get("evidence") or []),
        **{k: qa.get(k) for k in GOLD_FIELDS},
        route=route,
        error=err,
        wall_s=round(wall_s, 4),
    )
    return row


def _chain_roots(qa_rows: Sequence[dict]) -> set[tuple]:
    return {(qa.get("qa_file"), qa["follow_up_of"]) for qa in qa_rows if qa.get("follow_up_of")}


def ask_all(assistant, qa_rows: Sequence[dict], progress: Optional[Callable[[int, int, dict], None]] = None,
            ) -> list[dict]:
    """Ask every question (routing in the module docstring); one row each."""
    followed = _chain_roots(qa_rows)
    sessions: dict[tuple, Any] = {}  # (qa_file, id) -> the chat session the question was asked in
    roots: dict[tuple, str] = {}  # (qa_file, id) -> id of the chain's first question
    rows = []
    for i, qa in enumerate(qa_rows, start=1):
        key = (qa.get("qa_file"), qa["id"])
        parent = qa.get("follow_up_of")
        t0 = time.perf_counter()
        route = "ask"
        try:
            if parent is not None:
                pkey = (qa.get("qa_file"), parent)
                session = sessions.get(pkey)
                if session is None:  # the parent was not asked in this run: start its chain here
                    session = assistant.chat()
                    roots[pkey] = parent
                sessions[key] = session
                roots[key] = roots.get(pkey, parent)
                route = f"chat:{roots[key]}"
                answer = session.ask(qa["question"])
            elif key in followed:
                session = assistant.chat()
                sessions[key] = session
                roots[key] = qa["id"]
                route = f"chat:{qa['id']}"
                answer = session.ask(qa["question"])
            else:
                answer = assistant.ask(qa["question"])
            row = result_row(qa, answer=answer, route=route, wall_s=time.perf_counter() - t0)
        except RagError as exc:
            row = result_row(qa, error=exc, route=route, wall_s=time.perf_counter() - t0)
        except Exception as exc:  # a bug, not a user error: keep going but keep the traceback
            row = result_row(qa, error=exc, route=route, wall_s=time.perf_counter() - t0)
            row["traceback"] = traceback.format_exc(limit=8)
        rows.append(row)
        if progress:
            progress(i, len(qa_rows), row)
    return rows


def run_baseline(qa_rows: Sequence[dict], settings, progress: Optional[Callable[[int, int, dict], None]] = None,
                 engine=None) -> list[dict]:
    """Ask every QA question through the stock llama-index engine
    (``eval.baseline.BaselineEngine``); rows like ``ask_all`` (route
    ``"baseline"``; the engine has no conversation, so follow-ups are asked
    on their own). Raises ``RagError`` when the baseline cannot be built; a
    failing question becomes an error row."""
    if engine is None:
        from eval.baseline import BaselineEngine

        engine = BaselineEngine(settings)
    rows = []
    for i, qa in enumerate(qa_rows, start=1):
        t0 = time.perf_counter()
        try:
            row = result_row(qa, answer=engine.ask(qa["question"]), route="baseline", wall_s=time.perf_counter() - t0)
        except Exception as exc:  # the baseline's failures are data, not crashes
            row = result_row(qa, error=exc, route="baseline", wall_s=time.perf_counter() - t0)
            if not isinstance(exc, RagError):
                row["traceback"] = traceback.format_exc(limit=8)
        rows.append(row)
        if progress:
            progress(i, len(qa_rows), row)
    return rows


def score_rows(rows: list[dict], source_text: Callable[[str], Optional[str]]) -> list[dict]:
    for row in rows:
        row["scores"] = M.score_row(row, source_text)
    return rows


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _progress(label: str) -> Callable[[int, int, dict], None]:
    """Progress on stderr: a bar with the time left on a terminal (tqdm), else
    one line per question with the estimated time left, for logs."""
    started = time.perf_counter()
    bar = None

    def show(i: int, n: int, row: dict) -> None:
        nonlocal bar
        if sys.stderr.isatty():
            if bar is None:
                from tqdm import tqdm

                bar = tqdm(total=n, desc=label, unit="question", file=sys.stderr, dynamic_ncols=True)
            if row.get("error"):
                bar.write(f"[{label} {i}/{n}] {row['id']}: {row['error']}", file=sys.stderr)
            bar.set_postfix_str(f"{row['id']} {row['mode']}", refresh=False)
            bar.update(1)
            if i >= n:
                bar.close()
            return
        t = (row.get("timings") or {}).get("total_s")
        took = f"{t:.2f}s" if t is not None else f"{row.get('wall_s', 0):.2f}s wall"
        extra = f"  {row['error']}" if row.get("error") else ""
        left = (time.perf_counter() - started) / i * (n - i)
        print(f"[{label} {i}/{n}] {row['id']:<10} {row['mode']:<10} {took}  ~{_clock(left)} left{extra}",
              file=sys.stderr, flush=True)
    return show


# ---------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------


def _write_jsonl(path: Path, rows: Sequence[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _model_info(assistant, settings) -> dict:
    llm = settings.llm
    info = {
        "backend": llm.backend,
        "model": str(llm.model_path) if llm.model_path else (llm.model if llm.backend == "openai" else None),
        "base_url": llm.base_url,
        "embedding_model": str(settings.embedding.model_path) if settings.embedding.model_path else "all-MiniLM-L6-v2",
    }
    status = getattr(assistant, "llm_status", None)
    if callable(status):
        try:
            info["llm_status"] = status()
        except Exception as exc:  # reporting only
            info["llm_status"] = f"unknown ({type(exc).__name__}: {exc})"
    return info


def warm_up(assistant, quiet: bool = False) -> dict:
    """Load the models before the first question (``assistant.warm_up()``,
    when the assistant has it), so latencies measure answering, not loading.
    Returns ``{"warm_up_s": ...}`` plus ``warm_up_error`` when it failed (the
    run goes on: each question then reports its own error)."""
    fn = getattr(assistant, "warm_up", None)
    if not callable(fn):
        return {"warm_up_s": None}
    if not quiet:
        print("warming up (loading embedder, index and LLM)...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        fn()
    except Exception as exc:
        return {"warm_up_s": round(time.perf_counter() - t0, 3), "warm_up_error": f"{type(exc).__name__}: {exc}"}
    return {"warm_up_s": round(time.perf_counter() - t0, 3)}


def default_out_dir() -> Path:
    return OUT_DIR / datetime.now().strftime("%Y%m%d-%H%M%S")


def run_eval(
    qa_files: Optional[list[Path]],
    out_dir: Optional[Path] = None,
    assistant=None,
    settings=None,
    baseline: bool = False,
    limit: Optional[int] = None,
    *,
    root: Path = ROOT,
    quiet: bool = False,
) -> dict:
    """Ask, score, write the reports into ``out_dir``; return the metrics
    (the ``metrics.json`` object; with ``baseline`` it has a ``baseline`` key
    holding the baseline's metrics).

    ``qa_files`` None means both splits (``eval/qa/dev|test/*.jsonl``); the
    metrics then also hold ``splits`` (the same metrics per split) and
    ``split_findings`` (headline metrics where dev and test differ by more
    than 5 points: the dev figures flatter the pipeline). ``limit`` keeps the
    first N questions (follow-ups always come after their parent, so chains
    stay whole); ``assistant`` None builds ``rag.Assistant(settings=settings)``;
    ``settings`` None means ``assistant.settings`` (or ``Settings()``).
    """
    from eval import report

    qa_paths = [Path(p) for p in (qa_files or default_qa_files())]
    qa_rows = load_qa(qa_paths)
    if limit is not None:
        qa_rows = qa_rows[: max(0, limit)]
    out_dir = Path(out_dir) if out_dir is not None else default_out_dir()
    out_dir.mkdir(parents=True, exist_ok=True)

    if assistant is None:
        from rag import Assistant

        assistant = Assistant(settings=settings)
    settings = settings if settings is not None else assistant.settings
    source_text = SourceTexts(root)

    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    warm = warm_up(assistant, quiet)
    rows = score_rows(ask_all(assistant, qa_rows, None if quiet else _progress("ours")), source_text)
    _write_jsonl(out_dir / "results.jsonl", rows)
    metrics = M.aggregate(rows)
    answer_hashes = sorted({r["settings_hash"] for r in rows if r.get("settings_hash")})
    metrics.update(
        settings_hash=settings.hash(),
        answer_settings_hashes=answer_hashes,
        **_model_info(assistant, settings),
        timestamp=started.isoformat(timespec="seconds"),
        run_seconds=round(time.perf_counter() - t0, 2),
        **warm,
        qa_files=[str(p) for p in qa_paths],
        limit=limit,
    )
    metrics["counts"]["by_qa_file"] = {qa_label(p): sum(r["qa_file"] == qa_label(p) for r in rows) for p in qa_paths}
    metrics["splits"] = {s: M.aggregate([r for r in rows if r.get("split") == s])
                         for s in SPLITS if any(r.get("split") == s for r in rows)}
    metrics["split_findings"] = split_findings(metrics["splits"])

    baseline_rows = None
    if baseline:
        tb = time.perf_counter()
        try:
            baseline_rows = run_baseline(qa_rows, settings, progress=None if quiet else _progress("baseline"))
        except RagError as exc:
            metrics["baseline"] = {"skipped": str(exc)}
        else:
            score_rows(baseline_rows, source_text)
            _write_jsonl(out_dir / "baseline_results.jsonl", baseline_rows)
            bm = M.aggregate(baseline_rows)
            bm["run_seconds"] = round(time.perf_counter() - tb, 2)
            bm["engine"] = "llama-index CitationQueryEngine (default chunking, dense top-3)"
            metrics["baseline"] = bm

    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "report.md").write_text(report.markdown(metrics, rows, baseline_rows), encoding="utf-8")
    (out_dir / "report.html").write_text(report.html(metrics, rows, baseline_rows), encoding="utf-8")
    if not quiet:
        print(report.summary_table(metrics))
    return metrics


# Shares whose dev-test gap is a finding (``split_findings``): more than 5
# points apart means what was calibrated on dev does not carry over.
GAP_METRICS = ("evidence_hit_rate", "key_fact_accuracy", "citation_precision", "refusal_accuracy",
               "false_refusal_rate", "answer_support_with_speaker")
GAP_POINTS = 0.05


def split_findings(splits: dict) -> list[str]:
    """One line per headline metric whose dev and test values differ by more
    than 5 points, e.g. ``"key_fact_accuracy: dev 80.8% vs test 70.1% (10.7 points)"``."""
    dev, test = splits.get("dev"), splits.get("test")
    if not dev or not test:
        return []
    out = []
    for name in GAP_METRICS:
        a, b = dev.get(name), test.get(name)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) > GAP_POINTS:
            out.append(f"{name}: dev {a:.1%} vs test {b:.1%} ({abs(a - b) * 100:.1f} points)")
    return out


# ---------------------------------------------------------------------------
# the CI gate
# ---------------------------------------------------------------------------


def load_thresholds(path: Path = THRESHOLDS) -> dict:
    """``{"min": {metric: value}, "max": {metric: value}}`` from a JSON file
    (other top-level keys, e.g. ``"_comment"``, are ignored)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {"min": dict(data.get("min") or {}), "max": dict(data.get("max") or {})}


def _lookup(metrics: dict, name: str):
    value: Any = metrics
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def check_thresholds(metrics: dict, thresholds: dict) -> list[str]:
    """Failure messages, one per metric outside its bound; [] when all pass.

    ``thresholds`` = ``{"min": {name: minimum}, "max": {name: maximum}}``;
    a name may be dotted (``per_category.fact.accuracy``). A metric that is
    missing or None (nothing to measure it on) fails: the gate cannot vouch
    for it.
    """
    failures = []
    for bound, table in (("min", thresholds.get("min") or {}), ("max", thresholds.get("max") or {})):
        for name, limit in sorted(table.items()):
            value = _lookup(metrics, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                failures.append(f"{name}: not measured (value {value!r}); threshold {bound} {limit}")
            elif bound == "min" and value < limit:
                failures.append(f"{name}: {value:.4f} is below the minimum {limit}")
            elif bound == "max" and value > limit:
                failures.append(f"{name}: {value:.4f} is above the maximum {limit}")
    return failures


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag eval", description="Evaluate the assistant on the gold questions.")
    p.add_argument("--qa", metavar="FILE", nargs="+", action="extend", type=Path,
                   help="QA .jsonl file(s) (default: the files of --split)")
    p.add_argument("--split", choices=["dev", "test", "all"], default="all",
                   help="which gold split to run without --qa: dev (calibrated on), test (held out) or all "
                        "(default; dev and test are reported side by side)")
    p.add_argument("--out", metavar="DIR", type=Path, help="output folder (default: eval/out/<timestamp>)")
    p.add_argument("--baseline", action="store_true",
                   help="also run the stock llama-index CitationQueryEngine on the same models")
    p.add_argument("--limit", metavar="N", type=int, help="only the first N questions")
    p.add_argument("--gate", action="store_true", help="exit non-zero when a metric misses its threshold")
    p.add_argument("--thresholds", metavar="FILE", type=Path, default=THRESHOLDS,
                   help="thresholds for --gate (default: eval/thresholds.json)")
    p.add_argument("--claims", action="store_true",
                   help="instead of asking questions, measure the answer verifier on the labelled claims of "
                        "eval/claims/ (options: --claims-split dev|test|all, --claims-file FILE, --gate, --json)")
    add_settings_options(p)
    return p


def main(argv: Optional[list[str]] = None) -> int:
    """``rag eval``: returns the exit code (0 ok; 1 gate failed; 2 bad input)."""
    if argv is None:
        argv = sys.argv[1:]
    if "--claims" in argv:
        # The verifier as a classifier on labelled claims: no questions are asked.
        from eval.claimcheck import main as claims_main

        return claims_main(argv)
    args = build_parser().parse_args(argv)
    if args.limit is not None and args.limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return 2
    for path in args.qa or []:
        if not path.is_file():
            print(f"error: QA file {path} does not exist; pass an existing .jsonl file", file=sys.stderr)
            return 2
    try:
        settings = Settings.from_args(args)
        out_dir = args.out or default_out_dir()
        qa_files = args.qa or default_qa_files(args.split)
        metrics = run_eval(qa_files, out_dir, settings=settings, baseline=args.baseline, limit=args.limit)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {(Path(out_dir) / 'report.html').resolve()}")
    if args.gate:
        failures = check_thresholds(metrics, load_thresholds(args.thresholds))
        if failures:
            print("eval gate FAILED:", file=sys.stderr)
            for msg in failures:
                print(f"  {msg}", file=sys.stderr)
            return 1
        print("eval gate passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
