"""A busy server, seen by a person in a real (headless, Debian) Chromium.

The app serves the canned ``FakeAssistant`` with a queue bound of 1
(``ui.queue_max_size``). The test holds the fake's model lock, so the one
request that reaches the model slot waits there; one more request fills the
queue. A question typed into the page is then the one too many: the person
must see at once that the server is busy and should try again (not a
spinner that never ends, not a raw error), keep the question they typed, and
get it answered when they ask again after the model is free. A question
that does get into the queue shows its place in it while it waits.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_ui import FakeAssistant, serve  # noqa: E402
from test_ui_browser import ARTIFACTS, ask, bots, expect, last_bot, open_page  # noqa: E402

from rag import Settings  # noqa: E402

QUESTION = "What did Suslov say about New START?"


def wait_for(job, code):
    deadline = time.time() + 30
    while job.status().code != code and time.time() < deadline:
        time.sleep(0.05)
    assert job.status().code == code, job.status()


def shown_opacity(locator, settle_s: float = 3.0) -> float:
    """The opacity a person sees: the product over the element and its
    ancestors, once a fade-in has had ``settle_s`` to finish (a CI run under
    full load once sampled 0.499 halfway through the fade). Returns the first
    reading above 0.5, or the last one."""
    import time

    deadline = time.monotonic() + settle_s
    while True:
        o = locator.evaluate("""e => { let o = 1;
            for (let n = e; n; n = n.parentElement) o *= Number(getComputedStyle(n).opacity);
            return o; }""")
        if o > 0.5 or time.monotonic() > deadline:
            return o
        time.sleep(0.1)


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


def test_a_queued_question_shows_its_place_in_the_queue(browser):
    """With a slow model and many users a question waits minutes for the model
    slot (the load benchmark with SmolLM2 measured a median of 3 min): the page
    must show that it is waiting, and where, not nothing (it showed nothing:
    the progress was hidden)."""
    from gradio_client import Client
    from gradio_client.utils import Status

    assistant = FakeAssistant(delay=0.01)
    with serve(assistant) as url:
        page = open_page(browser, url)
        assert assistant.model_lock.acquire(timeout=10)
        try:
            running = Client(url, verbose=False).submit(QUESTION, api_name="/chat")
            wait_for(running, Status.PROCESSING)
            box = page.locator("#question textarea")
            box.fill(QUESTION)
            box.press("Enter")
            place = page.locator("#chat").get_by_text(re.compile(r"queue: 1/1"))
            expect(place).to_be_visible(timeout=15_000)
            assert shown_opacity(place) > 0.5, "the queue position is there but transparent"
        finally:
            assistant.model_lock.release()
        expect(last_bot(page).locator(".badge")).to_be_visible(timeout=30_000)
        expect(page.locator("#src-1 mark")).to_be_visible()
        assert running.result(timeout=60)
        page.close()
