"""The `rag` command as a user runs it."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ARTICLE, ROOT


def run(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.mark.parametrize("question, message", [("   ", "The question is empty"), ("x" * 3000, "limit is 2,000")])
def test_bad_question_is_one_clear_line_and_exit_2(question, message):
    result = run("ask", question, "--backend", "none")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr


def test_empty_folder_is_a_clear_error(tmp_path):
    result = run("index", str(tmp_path), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2 and "No readable .txt, .md, .html, .pdf or .docx documents" in result.stderr


@pytest.mark.slow
def test_index_then_ask_json(tmp_path):
    # The article alone: seeds/ holds other documents too, whose passage count would change this test.
    env = {"RAG_INDEX__DATA_DIR": str(tmp_path)}
    first = run("index", str(ARTICLE), env=env)
    assert first.returncode == 0, first.stderr
    assert "passages: 85" in first.stdout and "model load:" in first.stdout
    again = run("index", str(ARTICLE), env=env)
    assert "reopened without re-embedding" in again.stdout
    result = run("ask", "--json", "What did Suslov say about New START?", "--backend", "none",
                 "--docs", str(ARTICLE), env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # exactly one JSON object on stdout
    text = ARTICLE.read_text(encoding="utf-8")
    assert data["mode"] == "extractive" and not data["refused"]
    assert data["citations"] and all(c["speaker"] == "Dmitry Suslov" for c in data["citations"])
    for c in data["citations"]:
        assert c["source"] == "seeds/" + ARTICLE.name
        assert text[c["start"] : c["end"]] == c["quote"]
    assert "outdated" in data["answer"]


def test_index_progress_bars_go_to_the_given_stream_only_when_asked():
    import argparse
    import io

    from rag.cli import _Bars, _show_progress
    from rag.settings import Settings

    out = io.StringIO()
    bars = _Bars(out)
    for stage, done, total in [("reading", 1, 2), ("reading", 2, 2), ("analysing", 2, 2),
                               ("embedding", 64, 130), ("embedding", 130, 130)]:
        bars(stage, done, total)
    bars.close()
    text = out.getvalue()
    assert "reading" in text and "2/2" in text and "analysing" in text and "130/130" in text
    settings = Settings()
    # stderr is not a terminal under pytest: no bars unless asked, and --no-progress wins
    assert _show_progress(argparse.Namespace(progress=None), settings) is False
    assert _show_progress(argparse.Namespace(progress=True), settings) is True
    assert _show_progress(argparse.Namespace(progress=False), settings) is False
