"""Pages of the browser tests that need their own context (a phone, clipboard rights, a stack of
their own), and an answer asked and waited for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Browser, Page, expect

from support.browser import ask
from support.llm_servers import OpenAIServer, Reply

DESKTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}


@contextmanager
def new_page(browser: Browser, url: str, *, phone: bool = False, **options: Any) -> Iterator[Page]:
    """A page on `url` in a context of its own; at the end, no uncaught error may have happened."""
    if phone:
        options = {"viewport": PHONE, "is_mobile": True, "has_touch": True, **options}
    context = browser.new_context(**{"viewport": DESKTOP, **options})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


def answered(page: Page, llm: OpenAIServer, question: str, tokens: list[str]) -> None:
    """Ask `question`, the LLM streaming `tokens`, and wait until the answer is complete."""
    before = page.get_by_test_id("message-assistant").count()
    llm.script(Reply(tokens=tokens))
    ask(page, question)
    answer = page.get_by_test_id("message-assistant").nth(before)
    # The copy button comes with the meta row, once the answer has ended.
    expect(answer.get_by_test_id("copy-answer")).to_be_visible(timeout=30_000)
