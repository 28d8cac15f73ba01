"""Settings from the environment and from command-line options (no models)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from rag import cli
from rag.errors import ConfigError
from rag.settings import Settings


@pytest.mark.parametrize("value, expected", [
    ("seeds", ("seeds",)),
    ("seeds,notes.md", ("seeds", "notes.md")),
    (" seeds , notes.md ,", ("seeds", "notes.md")),
    ('["seeds", "my,notes.md"]', ("seeds", "my,notes.md")),  # JSON keeps a comma inside a name
])
def test_rag_docs_comma_and_json_forms(monkeypatch, value, expected):
    monkeypatch.setenv("RAG_DOCS", value)
    assert Settings().docs == tuple(Path(p) for p in expected)


@pytest.mark.parametrize("var, value, says", [
    ("RAG_LLM__BACKEND", "foo", "'embedded', 'gguf', 'openai' or 'none'"),
    ("RAG_RETRIEVAL__DENSE_TOP_K", "abc", "valid integer"),
    ("RAG_RETRIEVAL__DENSE_TOP_K", "0", "greater than 0"),
    ("RAG_DOCS", "", "comma-separated"),
    ("RAG_DOCS", "[seeds", "JSON list"),
    ("RAG_LLM__STOP", "foo", "JSON list"),  # a list pydantic-settings JSON-decodes itself
    ("RAG_LLM__NO_SUCH_THING", "1", "not a setting"),
])
def test_a_bad_variable_is_one_line_naming_it_and_the_format(monkeypatch, var, value, says):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        Settings()
    message = str(info.value)
    assert var in message and says in message and "\n" not in message


def test_the_undecodable_list_is_named_not_a_plain_neighbour(monkeypatch):
    monkeypatch.setenv("RAG_LLM__MODEL", "qwen")  # not JSON either, but a plain string setting
    monkeypatch.setenv("RAG_LLM__STOP", "###")
    with pytest.raises(ConfigError, match=r"^RAG_LLM__STOP='###' is not a JSON list"):
        Settings()


def test_a_bad_variable_is_an_error_line_and_exit_2_from_the_cli(monkeypatch, capsys):
    monkeypatch.setenv("RAG_RETRIEVAL__DENSE_TOP_K", "abc")
    assert cli.main(["ask", "--backend", "none", "What did Suslov say?"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: RAG_RETRIEVAL__DENSE_TOP_K='abc'") and err.count("\n") == 1


def test_a_bad_variable_in_a_real_process_has_no_traceback():
    result = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "x"], capture_output=True, text=True,
                            cwd=ROOT, env={**os.environ, "RAG_LLM__BACKEND": "foo"}, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: RAG_LLM__BACKEND='foo'") and "Traceback" not in result.stderr


def test_options_imply_the_backend_unless_it_is_given():
    assert Settings.from_options(model_path="m.gguf").llm.backend == "gguf"
    assert Settings.from_options(base_url="http://127.0.0.1:9/v1").llm.backend == "openai"
    assert Settings.from_options(backend="gguf", base_url="http://x/v1").llm.backend == "gguf"
    with pytest.raises(ConfigError, match="--backend gguf or --backend openai"):
        Settings.from_options(model_path="m.gguf", base_url="http://127.0.0.1:9/v1")
    assert Settings.from_options().hash() == Settings().hash()


class _Captured(Exception):
    pass


@pytest.fixture
def assistant_settings(monkeypatch):
    """The settings the next ``rag`` command builds its Assistant with (nothing is answered)."""
    import rag.assistant

    seen = {}

    class Recorder:
        def __init__(self, settings=None, **kw):
            seen["settings"] = settings
            raise _Captured

    monkeypatch.setattr(rag.assistant, "Assistant", Recorder)
    return seen


@pytest.mark.parametrize("command", [["ask", "q"], ["chat"]])
def test_ask_and_chat_with_a_base_url_use_the_openai_backend(assistant_settings, command):
    with pytest.raises(_Captured):
        cli.main([*command, "--base-url", "http://127.0.0.1:9/v1", "--docs", "a.txt", "--docs", "b"])
    s = assistant_settings["settings"]
    assert s.llm.backend == "openai" and s.llm.base_url == "http://127.0.0.1:9/v1"
    assert s.docs == (Path("a.txt"), Path("b"))


def test_ui_takes_the_same_options(monkeypatch):
    pytest.importorskip("gradio")
    from ui import app

    seen = {}

    def fake_make_assistant(settings=None):
        seen["settings"] = settings
        raise _Captured

    monkeypatch.setattr(app, "make_assistant", fake_make_assistant)
    with pytest.raises(_Captured):
        cli.main(["ui", "--model-path", "X.gguf", "--docs", "a.txt", "--data-dir", "/tmp/d"])
    s = seen["settings"]
    assert s.llm.backend == "gguf" and s.llm.model_path == Path("X.gguf")
    assert s.docs == (Path("a.txt"),) and s.index.data_dir == Path("/tmp/d")
