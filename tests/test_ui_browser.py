"""The chat in a real (headless, Debian) Chromium via Playwright.

Never downloads a browser: the ``browser`` fixture of tests/conftest.py skips
when ``chromium`` is not on PATH (``make install-test`` installs Debian's). A screenshot of the answered page
is saved to tests/artifacts/ui.png (and ui-real.png for the slow test).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_ui import (  # noqa: E402
    GREAT_CALL,
    SOURCE as TEXT_SOURCE,
    SUSLOV_QUOTE,
    TEXT,
    FakeAssistant,
    serve,
)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# The `browser` fixture (tests/conftest.py) launches Debian's chromium, or skips.


@pytest.fixture(scope="module")
def fake_url():
    with serve(FakeAssistant(delay=0.02)) as url:
        yield url


def open_page(browser, url, width=1360, height=1000):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url, wait_until="load")  # a Gradio page never reaches network idle
    expect(page.locator("#question textarea")).to_be_visible(timeout=30_000)
    return page


def bots(page):
    return page.locator('#chat [data-testid="bot"]')


def ask(page, question: str, timeout: float = 30_000):
    """Ask and wait until the answer is final (its badge row replaces the drafting one)."""
    before = bots(page).count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(bots(page)).to_have_count(before + 1, timeout=timeout)
    expect(bots(page).last.locator(".answer-meta .badge")).to_be_visible(timeout=timeout)
    expect(page.locator("#ask")).to_be_enabled(timeout=timeout)


def last_bot(page):
    return page.locator('#chat [data-testid="bot"]').last


def test_answer_markers_sources_and_scroll(browser, fake_url):
    page = open_page(browser, fake_url)
    try:
        # first load: the example questions are offered
        examples = page.locator("#chat button.example")
        expect(examples).to_have_count(4)
        expect(examples.first).to_contain_text("What did Suslov say about New START?")
        expect(page.locator("#status-banner")).to_contain_text("fake: canned answers")

        ask(page, "What did Suslov say about New START?")
        marker = page.locator("#chat a.cite", has_text="[1]")
        expect(marker).to_be_visible(timeout=30_000)
        expect(last_bot(page)).to_contain_text("[1]")
        expect(last_bot(page).locator(".badge-generated")).to_have_text("generated")
        expect(page.locator("#question textarea")).to_have_value("")

        # the sources panel: a card per citation, cited sentence highlighted in its paragraph
        card1 = page.locator("#src-1")
        expect(card1).to_contain_text("Dmitry Suslov")
        expect(card1).to_contain_text("seeds/rferl-2020-04-26-us-russia-reset.txt")
        expect(card1.locator("mark")).to_have_text(SUSLOV_QUOTE)
        expect(card1.locator(".src-text")).to_contain_text("But it is impossible to do it now.")
        expect(page.locator("#src-2 mark")).to_be_visible()

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui.png"), full_page=True)

        # on a narrow screen the sources sit below the chat: clicking [2] brings its card into view
        page.set_viewport_size({"width": 700, "height": 700})
        marker2 = page.locator("#chat a.cite", has_text="[2]")
        marker2.scroll_into_view_if_needed()
        card2 = page.locator("#src-2")
        expect(card2).not_to_be_in_viewport()
        marker2.click()
        expect(card2).to_be_in_viewport(timeout=5_000)
        expect(card2).to_have_class(re.compile(r"\bflash\b"))
        assert page.url.rstrip("/") == fake_url.rstrip("/")  # handled in-page, no navigation
    finally:
        page.close()


def test_examples_follow_up_escaping_warning_and_clear(browser, fake_url):
    page = open_page(browser, fake_url)
    try:
        # an example question is asked with one click
        page.locator("#chat button.example", has_text="great call").click()
        expect(last_bot(page).locator(".badge-extractive")).to_have_text(
            "extractive (quoted from the text)", timeout=30_000
        )
        expect(last_bot(page).locator(".notice")).to_contain_text("canned answer")
        expect(page.locator("#src-1 mark")).to_have_text(GREAT_CALL)

        # follow-up in the same session
        ask(page, "What did Suslov say about New START?")
        expect(page.locator("#src-2")).to_be_visible(timeout=30_000)
        ask(page, "And what did he say about Ukraine?")
        expect(last_bot(page)).to_contain_text("understood as", timeout=30_000)
        expect(page.locator("#src-1")).to_contain_text("Ukraine")
        expect(page.locator("#src-2")).to_have_count(0)

        # markup in an answer is shown as text, never run
        ask(page, "Show me the markup")
        expect(last_bot(page)).to_contain_text('<img src=x onerror="window.__pwned=1">', timeout=30_000)
        assert page.locator("#chat img").count() == 0
        assert page.evaluate("window.__pwned === undefined")

        # a refusal says so (and an apostrophe is an apostrophe)
        ask(page, "What did Angela Merkel say about the reset?")
        expect(last_bot(page).locator(".badge-refused")).to_have_text("not in the documents", timeout=30_000)
        expect(last_bot(page)).to_contain_text("The documents don't say.")
        expect(page.locator("#sources-panel")).to_contain_text("nothing is cited")

        # an empty question: a friendly warning, the conversation is intact
        bots_before = bots(page).count()
        page.locator("#question textarea").fill("   ")
        page.locator("#question textarea").press("Enter")
        expect(page.get_by_text("The question is empty", exact=False).first).to_be_visible(timeout=10_000)
        expect(bots(page)).to_have_count(bots_before)
        expect(page.locator("#question textarea")).to_have_value("   ")

        # clear: chat and sources reset, examples are back
        page.locator("#clear").click()
        expect(bots(page)).to_have_count(0)
        expect(page.locator("#sources-panel")).to_contain_text("Every answer cites")
        expect(page.locator("#chat button.example")).to_have_count(4)
    finally:
        page.close()


def test_status_banner_when_llm_unreachable(browser):
    broken = FakeAssistant(llm_status="openai server http://127.0.0.1:9: unreachable (connection refused)")
    with serve(broken, startup_error="LLM server http://127.0.0.1:9 is unreachable") as url:
        page = open_page(browser, url)
        try:
            banner = page.locator("#status-banner .status-warn")
            expect(banner).to_contain_text("Running without the language model")
            expect(banner).to_contain_text("unreachable")
            ask(page, 'Who said "We had a great call"?')
            expect(page.locator("#src-1 mark")).to_have_text(GREAT_CALL, timeout=30_000)
        finally:
            page.close()


@pytest.mark.slow
def test_real_assistant_in_browser(browser):
    rag = pytest.importorskip("rag")
    if not hasattr(rag, "Assistant"):
        pytest.skip("rag.Assistant is not available yet")
    from ui.app import make_assistant

    assistant, startup_error = make_assistant()
    with serve(assistant, startup_error=startup_error) as url:
        page = open_page(browser, url)
        try:
            ask(page, "What did Suslov say about New START?", timeout=600_000)
            expect(page.locator("#chat a.cite", has_text="[1]")).to_be_visible()
            marks = page.locator("#sources-panel mark")
            expect(marks.first).to_be_visible()
            quotes = marks.all_inner_texts()
            assert quotes and all(q in TEXT for q in quotes), quotes
            assert any("Suslov" in c for c in page.locator(".src-card").all_inner_texts())
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "ui-real.png"), full_page=True)
        finally:
            page.close()


def test_speakers_tab_filter_highlight_and_ask(browser, fake_url):
    page = open_page(browser, fake_url)
    try:
        page.get_by_role("tab", name="Speakers").click()
        listing = page.locator("#speakers-list")
        suslov = listing.locator(".speaker-card", has=page.locator("button.ask-speaker", has_text="Dmitry Suslov"))
        expect(suslov).to_have_count(1, timeout=30_000)
        expect(suslov.locator(".speaker-roles")).to_contain_text("Higher School of Economics")
        # each statement shows its span highlighted in its paragraph, with where it is
        first = suslov.locator("li.statement").first
        expect(first.locator("mark")).to_be_visible()
        expect(first.locator(".src-meta")).to_contain_text(TEXT_SOURCE)
        expect(first.locator(".src-meta")).to_contain_text("characters ")
        expect(listing.locator(".sources-title")).to_contain_text("speakers")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-speakers.png"))

        # filter by document: the one document, then back to all
        page.locator("#speakers-doc input").click()
        page.get_by_role("option", name=TEXT_SOURCE).click()
        expect(listing.locator(".speaker-card")).not_to_have_count(0, timeout=30_000)
        expect(listing.locator("li.statement .src-doc").first).to_have_text(TEXT_SOURCE)

        # a click on the name opens the chat with the question begun
        suslov.locator("button.ask-speaker").click()
        box = page.locator("#question textarea")
        expect(box).to_be_visible(timeout=10_000)
        expect(box).to_have_value("What did Dmitry Suslov say about ")
        box.press_sequentially("New START?")
        box.press("Enter")
        expect(last_bot(page).locator(".badge-generated")).to_be_visible(timeout=30_000)
        expect(page.locator("#src-1")).to_contain_text("Dmitry Suslov")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-speakers-asked.png"), full_page=True)
    finally:
        page.close()


def test_export_downloads_markdown_and_json(browser, fake_url, tmp_path):
    import json

    page = open_page(browser, fake_url)
    try:
        md_button = page.locator("#export-md")
        expect(md_button).to_be_disabled()
        ask(page, "What did Suslov say about New START?")
        ask(page, "What did the U.S. ambassador to Russia say about sanctions?")
        expect(md_button).to_be_enabled(timeout=30_000)

        def download(button):
            with page.expect_download(timeout=30_000) as info:
                button.click()
            path = tmp_path / info.value.suggested_filename
            info.value.save_as(path)
            return path

        # The files are rewritten just after each answer: wait for the one holding both.
        for _ in range(20):
            path = download(md_button)
            md = path.read_text(encoding="utf-8")
            if "## 2." in md:
                break
            page.wait_for_timeout(250)
        assert path.suffix == ".md"
        assert "## 1. What did Suslov say about New START?" in md and "## 2. What did the U.S." in md
        assert "[^1]: “" in md and "[^3]: “" in md and "— Dmitry Suslov." in md and "— John Sullivan." in md

        path = download(page.locator("#export-json"))
        assert path.suffix == ".json"
        data = json.loads(path.read_text(encoding="utf-8"))
        assert [d["question"] for d in data] == ["What did Suslov say about New START?",
                                                 "What did the U.S. ambassador to Russia say about sanctions?"]
        assert data[0]["citations"][0]["speaker"] == "Dmitry Suslov" and "page" in data[0]["citations"][0]
    finally:
        page.close()
