"""What the conversation browser tests do in the web UI: open the Chats tab, wait for an answer to
finish, pick or create a collection, and tell whether an element is in view inside the chat's
scrolling log (not hidden under the composer)."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from support.browser import ask, open_documents


def open_chats(page: Page) -> Locator:
    """The sidebar on its Chats tab (by the toggle's state, as `open_documents`); its list."""
    toggle = page.get_by_test_id("toggle-chats")
    expect(toggle).to_have_attribute("aria-expanded", re.compile("true|false"))
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    expect(page.locator("#chats-panel")).to_be_visible()
    return page.get_by_test_id("conversation")


def finished(page: Page) -> None:
    """The answer being streamed is complete (no Stop button any more)."""
    expect(page.get_by_test_id("stop")).to_have_count(0, timeout=30_000)


def ask_and_wait(page: Page, question: str, expected: str) -> None:
    ask(page, question)
    expect(page.get_by_test_id("message-assistant").last).to_contain_text(expected, timeout=30_000)
    finished(page)


def create_collection(page: Page, name: str) -> None:
    open_documents(page)
    page.get_by_test_id("new-collection").click()
    page.get_by_test_id("new-collection-name").fill(name)
    page.get_by_test_id("create-collection").click()
    expect(page.get_by_test_id("chat-collection")).to_have_text(name)


def pick_collection(page: Page, name: str) -> None:
    open_documents(page)
    page.get_by_test_id("collection-select").select_option(name)
    expect(page.get_by_test_id("chat-collection")).to_have_text(name)


# True when the element's box lies wholly inside the visible part of the chat's log.
_IN_LOG_VIEW = """(el) => {
  const log = el.closest('[role=log]');
  if (!log) return false;
  const a = el.getBoundingClientRect(), b = log.getBoundingClientRect();
  return a.height > 0 && a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;
}"""


def wait_in_log_view(page: Page, target: Locator, timeout: float = 5_000) -> None:
    """Wait until `target` is scrolled into the log's view (fails when it stays hidden)."""
    handle = target.element_handle(timeout=timeout)
    assert handle is not None
    page.wait_for_function(_IN_LOG_VIEW, arg=handle, timeout=timeout)
