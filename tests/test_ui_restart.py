"""The UI process restarted while a browser is connected: the open page recovers.

The app (a fake assistant, no models) runs in a subprocess on a free loopback
port; the test asks a question in headless Chromium, SIGKILLs the server,
starts it again on the same port, and asks again: in the same page first
(which Gradio 6 does not recover: the answer never comes, so the test only
reports it), then after reloading the page, which must work.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_ui import free_port  # noqa: E402
from test_ui_browser import ask, expect, last_bot, open_page  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SERVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from test_ui import FakeAssistant
    from ui.app import build_app, launch_app
    fake = FakeAssistant(delay=0.01)
    launch_app(build_app(fake), fake, host="127.0.0.1", port={port}, quiet=True)
""")


def start(port: int) -> subprocess.Popen:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    code = SERVER.format(tests=str(Path(__file__).resolve().parent), port=port)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("the UI process exited")
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the UI did not come up")


@pytest.mark.slow
def test_page_recovers_after_the_ui_process_restarts(browser):
    port = free_port()
    server = start(port)
    try:
        page = open_page(browser, f"http://127.0.0.1:{port}/")
        ask(page, "What did Suslov say about New START?")
        expect(last_bot(page).locator(".badge-generated")).to_be_visible()

        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        server = start(port)

        # The same page, not reloaded, does not get its answer: the new process
        # has none of the old sessions (measured: nothing within 20 s). Reloading
        # the page is the recovery, and it works at once.
        same_page = True
        try:
            ask(page, 'Who said "We had a great call"?', timeout=20_000)
        except AssertionError:
            same_page = False
        print(f"answered in the same page after the restart: {same_page}")
        page.reload(wait_until="load")
        expect(page.locator("#question textarea")).to_be_visible(timeout=60_000)
        ask(page, 'Who said "We had a great call"?', timeout=60_000)
        expect(last_bot(page).locator(".badge-extractive")).to_be_visible()
        expect(page.locator("#src-1 mark")).to_be_visible()
        page.close()
    finally:
        server.kill()
        server.wait()
