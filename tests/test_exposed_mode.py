"""`rag ui` never opens the chat to other machines without a login.

A non-loopback ``--host`` or ``--share`` refuses to start unless ``ui.auth``
(``RAG_UI__AUTH='user:password'``) or ``ui.auth_file`` is set; a started
server with a login answers nothing without credentials.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from rag import ConfigError, Settings

gr = pytest.importorskip("gradio")
httpx = pytest.importorskip("httpx")

from test_ui import FakeAssistant, free_port  # noqa: E402
from ui.app import build_app, is_loopback, launch_app, login_config, main  # noqa: E402

PASSWORD = "correct-horse-7391"


def settings(**ui) -> Settings:
    return Settings().with_updates(ui=ui) if ui else Settings()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.4.5", "localhost", "::1", "[::1]"])
def test_loopback_hosts(host):
    assert is_loopback(host)
    assert login_config(settings(), host, share=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "my-laptop.lan", ""])
def test_exposed_host_without_login_is_refused(host):
    with pytest.raises(ConfigError) as info:
        login_config(settings(), host, share=False)
    assert "Refusing to start" in str(info.value) and "RAG_UI__AUTH" in str(info.value)


def test_share_without_login_is_refused_even_on_loopback():
    with pytest.raises(ConfigError) as info:
        login_config(settings(), "127.0.0.1", share=True)
    assert "--share" in str(info.value)


def test_login_from_setting_and_file(tmp_path):
    assert login_config(settings(auth=f"alice:{PASSWORD}"), "0.0.0.0", share=True) == [("alice", PASSWORD)]
    assert login_config(settings(auth="a:x:y, b:z"), "0.0.0.0", False) == [("a", "x:y"), ("b", "z")]
    f = tmp_path / "logins"
    f.write_text(f"# who may log in\nalice:{PASSWORD}\n\nbob:other\n", encoding="utf-8")
    assert login_config(settings(auth_file=f), "0.0.0.0", False) == [("alice", PASSWORD), ("bob", "other")]


@pytest.mark.parametrize("bad", ["alice", "alice:", ":pw", "   "])
def test_malformed_login_is_refused_without_echoing_it(bad, tmp_path):
    s = settings(auth=bad + PASSWORD if bad == ":pw" else bad)
    if not bad.strip():
        with pytest.raises(ConfigError):
            login_config(s, "0.0.0.0", False)  # nothing usable: same as no login
        return
    with pytest.raises(ConfigError) as info:
        login_config(s, "0.0.0.0", False)
    assert PASSWORD not in str(info.value) and "user:password" in str(info.value)


def test_unreadable_or_empty_auth_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        login_config(settings(auth_file=tmp_path / "missing"), "127.0.0.1", False)
    empty = tmp_path / "empty"
    empty.write_text("# nobody\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no 'user:password' line"):
        login_config(settings(auth_file=empty), "127.0.0.1", False)


def test_the_password_never_appears_in_settings_output(monkeypatch):
    monkeypatch.setenv("RAG_UI__AUTH", f"alice:{PASSWORD}")
    s = Settings()
    assert PASSWORD not in repr(s) and PASSWORD not in str(s.model_dump(mode="json"))
    assert s.ui.auth.get_secret_value() == f"alice:{PASSWORD}"


def test_launch_app_itself_refuses_an_exposed_address_without_login():
    fake = FakeAssistant()
    demo = build_app(fake)
    with pytest.raises(ConfigError):
        launch_app(demo, fake, host="0.0.0.0", port=free_port(), prevent_thread_lock=True, quiet=True)
    with pytest.raises(ConfigError):
        launch_app(demo, fake, host="127.0.0.1", port=free_port(), share=True, prevent_thread_lock=True)


@pytest.mark.parametrize("argv", [["--host", "0.0.0.0"], ["--share"], ["--host", "::", "--port", "0"]])
def test_rag_ui_main_refuses_before_loading_anything(argv, monkeypatch, capsys):
    monkeypatch.delenv("RAG_UI__AUTH", raising=False)
    monkeypatch.delenv("RAG_UI__AUTH_FILE", raising=False)
    import ui.app

    def must_not_load(*a, **k):  # the refusal comes before any model or index loads
        raise AssertionError("make_assistant was called")

    monkeypatch.setattr(ui.app, "make_assistant", must_not_load)
    assert main(argv + ["--backend", "none"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Refusing to start") and "RAG_UI__AUTH" in err


def test_rag_ui_command_refuses_an_exposed_host(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_UI__")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ui", "--host", "0.0.0.0", "--backend", "none"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Refusing to start" in done.stderr and "--host 0.0.0.0" in done.stderr
    assert "Running on" not in done.stdout
    assert time.monotonic() - started < 120


@pytest.fixture(scope="module")
def authed_url():
    fake = FakeAssistant()
    demo = build_app(fake)
    launch_app(demo, fake, host="127.0.0.1", port=free_port(), auth=[("alice", PASSWORD)],
               prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


def test_authenticated_server_answers_nothing_without_credentials(authed_url):
    base = authed_url.rstrip("/")
    for path in ("/config", "/gradio_api/info", "/gradio_api/queue/status"):
        r = httpx.get(base + path, timeout=10)
        assert r.status_code == 401, (path, r.status_code)
    page = httpx.get(base + "/", timeout=10)
    assert page.status_code == 200 and "Log in to ask the documents." in page.text  # the login form
    assert "What did Suslov say" not in page.text  # no content before logging in
    bad = httpx.post(base + "/login", data={"username": "alice", "password": "wrong"}, timeout=10)
    assert bad.status_code == 400


def test_authenticated_server_works_with_credentials(authed_url):
    from gradio_client import Client

    with pytest.raises(Exception):
        Client(authed_url, verbose=False)
    with pytest.raises(Exception):
        Client(authed_url, auth=("alice", "wrong"), verbose=False)
    c = Client(authed_url, auth=("alice", PASSWORD), verbose=False)
    assert c.predict("What did Suslov say about New START?", api_name="/ask")["mode"] == "generated"
