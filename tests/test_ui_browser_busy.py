"""A full queue, seen by a person in a real (headless, Debian) Chromium.

The app serves the canned ``FakeAssistant`` with a queue bound of 1
(``ui.queue_max_size``). The test holds the fake's model lock, so the one
request that reaches the model slot waits there; one more request fills the
queue. A question typed into the page is then the one too many: the person
must see at once that the server is busy and should try again (not a
spinner that never ends, not a raw error), keep the question they typed, and
get it answered when they ask again after the model is free.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_ui import FakeAssistant, serve  # noqa: E402
from test_ui_browser import ARTIFACTS, ask, bots, expect, last_bot, open_page  # noqa: E402

from rag import Settings  # noqa: E402

QUESTION = "What did Suslov say about New START?"


def test_a_full_queue_tells_the_person_to_try_again(browser):
    from gradio_client import Client
    from gradio_client.utils import Status

    assistant = FakeAssistant(delay=0.01)
    assistant.settings = Settings().with_updates(ui={"queue_max_size": 1})
    with serve(assistant) as url:
        page = open_page(browser, url)  # before the queue is full: the page's own load events pass
        ask(page, "What did the U.S. ambassador to Russia say about sanctions?")  # a conversation to keep
        held = assistant.model_lock.acquire(timeout=10)
        assert held
        try:
            # One request takes the model slot (and waits for the lock), one more fills the queue.
            def wait_for(job, code):
                deadline = time.time() + 30
                while job.status().code != code and time.time() < deadline:
                    time.sleep(0.05)
                assert job.status().code == code, job.status()

            running = Client(url, verbose=False).submit(QUESTION, api_name="/chat")
            wait_for(running, Status.PROCESSING)
            queued = Client(url, verbose=False).submit(QUESTION, api_name="/chat")
            wait_for(queued, Status.IN_QUEUE)

            before = bots(page).count()
            box = page.locator("#question textarea")
            box.fill(QUESTION)
            t = time.perf_counter()
            box.press("Enter")
            busy = page.get_by_text("This application is currently busy. Please try again.")
            expect(busy.first).to_be_visible(timeout=15_000)
            shown_after = time.perf_counter() - t
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "ui-busy.png"))
            # Told at once, not after the queue drains; no answer half-drawn, nothing raw.
            assert shown_after < 15
            expect(bots(page)).to_have_count(before)
            body = page.locator("body").inner_text()
            for raw in ("Traceback", "QueueError", "Queue is full"):
                assert raw not in body, raw
            # The conversation so far stays readable: nothing covers the earlier answer
            # (Gradio's bare "Error" overlay used to hide the whole chat).
            earlier = last_bot(page)
            expect(earlier).to_contain_text("Sullivan")
            assert earlier.evaluate("""e => { const r = e.getBoundingClientRect();
                const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                return e.contains(hit); }"""), "something covers the conversation"
            expect(page.locator('#chat > [data-testid="status-tracker"] .error')).to_be_hidden()
            # The question is not lost, and the Ask button is usable.
            expect(box).to_have_value(QUESTION)
            expect(page.locator("#ask")).to_be_enabled()
        finally:
            assistant.model_lock.release()

        # The model moves on: the waiting requests are answered, and asking again works.
        for job in (running, queued):
            answer = job.result(timeout=60)
            answer = answer[0] if isinstance(answer, (list, tuple)) else answer
            assert answer["mode"] in ("generated", "extractive") and answer["citations"]
        ask(page, QUESTION)
        expect(last_bot(page).locator(".badge")).to_be_visible()
        expect(page.locator("#src-1 mark")).to_be_visible()
        page.close()
