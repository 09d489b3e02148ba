"""The settings drawer in a real browser before a real gateway and RAG service: passages per
answer, the LLM model (from the provider's list) and the answer length, saved for the user,
still set after a reload and sent with the next question (the loopback LLM records the model and
the token limit; the answer cites as many passages as asked); reset to defaults; a phone opens
the drawer; and retrieval-only mode explains itself once, not at the top of every answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from support.browser import ask, upload
from support.llm_servers import OpenAIServer, Reply

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
ARTIFACTS = ROOT / "test-artifacts"

NOTES = {
    "pump.txt": "The feed pump overheats when its intake filter is clogged with sediment.\n",
    "valve.txt": "The relief valve of the pump opens at six bar to protect the pipes.\n",
    "motor.txt": "The pump motor needs new bearings every two thousand running hours.\n",
}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 860}

OpenUI = Callable[..., Page]


@pytest.fixture
def open_ui(
    browser: Browser,
    start_rag: Callable[..., AbstractContextManager[str]],
    start_gateway: Callable[..., AbstractContextManager[str]],
) -> Iterator[OpenUI]:
    """`open_ui(viewport=..., **rag_settings)`: the UI before a gateway and a RAG service with
    these settings; afterwards, no uncaught error in the page."""
    stack = ExitStack()
    errors: list[str] = []

    def factory(viewport: dict[str, int] = DESKTOP, **rag_settings: Any) -> Page:
        rag_url = stack.enter_context(start_rag(rewrite_followups=False, **rag_settings))
        url = stack.enter_context(start_gateway(rag_urls=[rag_url], static_dir=DIST))
        phone = viewport["width"] < 500
        context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
        stack.callback(context.close)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        return page

    with stack:
        yield factory
    assert errors == [], f"uncaught errors in the page: {errors}"


def upload_notes(page: Page, folder: Path) -> None:
    for name, text in NOTES.items():
        path = folder / name
        path.write_text(text)
        upload(page, path)


def open_settings(page: Page) -> Any:
    page.get_by_test_id("open-settings").click()
    drawer = page.get_by_test_id("settings-drawer")
    expect(drawer).to_be_visible()
    return drawer


def wait_for_answer(page: Page, count: int) -> Any:
    answers = page.get_by_test_id("message-assistant")
    expect(answers).to_have_count(count)
    answer = answers.nth(count - 1)
    expect(answer).to_have_attribute("aria-busy", "false", timeout=30_000)
    return answer


def test_settings_are_kept_after_a_reload_and_the_next_question_uses_them(
    open_ui: OpenUI, llm: OpenAIServer, tmp_path: Path
) -> None:
    llm.models = ["gpt-4o-mini", "gpt-4o", "o3-mini"]
    page = open_ui()
    upload_notes(page, tmp_path)

    drawer = open_settings(page)
    model = drawer.get_by_test_id("settings-model")
    expect(model.locator("option")).to_have_text(
        ["Default (gpt-4o-mini)", "gpt-4o", "gpt-4o-mini", "o3-mini"]
    )
    drawer.get_by_test_id("settings-top-k").fill("2")
    model.select_option("gpt-4o")
    drawer.get_by_test_id("settings-length-short").check()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "settings.png"))
    drawer.get_by_test_id("settings-save").click()
    expect(drawer).to_be_hidden()
    expect(page.get_by_test_id("open-settings")).to_be_focused()

    page.reload()
    drawer = open_settings(page)
    expect(drawer.get_by_test_id("settings-top-k")).to_have_value("2")
    expect(drawer.get_by_test_id("settings-model")).to_have_value("gpt-4o")
    expect(drawer.get_by_test_id("settings-length-short")).to_be_checked()
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()

    llm.script(Reply(tokens=["The filter clogs [1]."]))
    ask(page, "Why does the feed pump overheat?")
    answer = wait_for_answer(page, 1)
    request = llm.chat_requests[-1].json
    assert request["model"] == "gpt-4o"
    assert request["max_tokens"] == 300
    answer.get_by_test_id("sources-toggle").click()
    expect(page.get_by_test_id("sources-panel").get_by_test_id("source-item")).to_have_count(2)


def test_reset_to_defaults_and_cancel(open_ui: OpenUI, llm: OpenAIServer, tmp_path: Path) -> None:
    llm.models = ["gpt-4o-mini", "gpt-4o"]
    page = open_ui()
    drawer = open_settings(page)
    drawer.get_by_test_id("settings-top-k").fill("1")
    drawer.get_by_test_id("settings-model").select_option("gpt-4o")
    drawer.get_by_test_id("settings-save").click()
    expect(drawer).to_be_hidden()

    # Cancel leaves what was saved.
    drawer = open_settings(page)
    drawer.get_by_test_id("settings-top-k").fill("9")
    drawer.get_by_role("button", name="Cancel").click()
    saved = page.request.get(page.url + "api/preferences").json()
    assert (saved["top_k"], saved["model"]) == (1, "gpt-4o")

    drawer = open_settings(page)
    expect(drawer.get_by_test_id("settings-top-k")).to_have_value("1")
    drawer.get_by_test_id("settings-reset").click()
    expect(drawer).to_be_hidden()
    saved = page.request.get(page.url + "api/preferences").json()
    assert saved == {
        "top_k": None,
        "model": None,
        "answer_length": None,
        "retrieval_only_seen": False,
    }

    upload_notes(page, tmp_path)
    ask(page, "Why does the feed pump overheat?")
    wait_for_answer(page, 1)
    request = llm.chat_requests[-1].json
    assert request["model"] == "gpt-4o-mini"
    assert "max_tokens" not in request or request["max_tokens"] != 300


def test_a_number_out_of_range_is_refused_in_the_drawer(open_ui: OpenUI) -> None:
    page = open_ui()
    drawer = open_settings(page)
    top_k = drawer.get_by_test_id("settings-top-k")
    top_k.fill("51")
    expect(top_k).to_have_attribute("aria-invalid", "true")
    expect(drawer.get_by_test_id("settings-save")).to_be_disabled()
    top_k.fill("")
    expect(drawer.get_by_test_id("settings-save")).to_be_enabled()


def test_a_phone_opens_the_drawer_across_the_screen_and_closes_it(open_ui: OpenUI) -> None:
    page = open_ui(viewport=PHONE)
    button = page.get_by_test_id("open-settings")
    expect(button).to_be_visible()
    drawer = open_settings(page)
    box = drawer.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"] + 1
    for testid in ("settings-top-k", "settings-model", "settings-save", "settings-reset"):
        target = drawer.get_by_test_id(testid)
        target.scroll_into_view_if_needed()
        expect(target).to_be_in_viewport()
    page.screenshot(path=str(ARTIFACTS / "settings-phone.png"))
    drawer.get_by_test_id("close-settings").tap()
    expect(drawer).to_be_hidden()


def test_retrieval_only_mode_explains_itself_once(open_ui: OpenUI, tmp_path: Path) -> None:
    """Issue 18: without an LLM the notice was at the top of every answer; now the UI explains
    it once (saved as retrieval_only_seen) and only a conversation's first answer carries it."""
    page = open_ui(llm_provider="none")
    note = page.get_by_test_id("retrieval-only-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("No language model is connected")
    upload_notes(page, tmp_path)
    ask(page, "Why does the feed pump overheat?")
    first = wait_for_answer(page, 1)
    expect(first).to_contain_text("No language model is connected")
    ask(page, "And the relief valve?")
    second = wait_for_answer(page, 2)
    expect(second).to_contain_text("valve.txt")
    expect(second).not_to_contain_text("No language model is connected")

    drawer = open_settings(page)
    expect(drawer.get_by_test_id("settings-model")).to_be_disabled()
    expect(drawer).to_contain_text("No language model is configured")
    page.keyboard.press("Escape")

    page.get_by_test_id("dismiss-retrieval-only").click()
    expect(note).to_be_hidden()
    page.reload()
    expect(page.get_by_test_id("open-settings")).to_be_visible()
    expect(page.get_by_test_id("chat-input")).to_be_visible()
    expect(page.get_by_test_id("retrieval-only-note")).to_have_count(0)
    saved = page.request.get(re.sub(r"#.*$", "", page.url) + "api/preferences").json()
    assert saved["retrieval_only_seen"] is True
