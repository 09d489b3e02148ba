"""What the browser tests do in the web UI, as a user would: open the documents panel, upload a
file and wait for its own result, ask a question."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect


def open_documents(page: Page) -> None:
    # By the toggle's state, not by the panel's content: the panel is in the page (hidden) even
    # when closed, and before the app has mounted nothing is, so a check of the content could
    # close an open panel.
    toggle = page.get_by_test_id("toggle-documents")
    expect(toggle).to_have_attribute("aria-expanded", re.compile("true|false"))
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    expect(page.locator("#documents-panel")).to_be_visible()


def upload(page: Page, path: Path) -> None:
    """Upload `path` and wait for its own result: an earlier upload's "ok" is in the list too."""
    open_documents(page)
    page.get_by_test_id("upload-input").set_input_files(str(path))
    expect(
        page.locator("li").filter(has_text=path.name).get_by_test_id("upload-result")
    ).to_have_attribute("data-status", "ok", timeout=60_000)


def ask(page: Page, question: str) -> None:
    page.get_by_test_id("chat-input").fill(question)
    page.get_by_test_id("chat-input").press("Enter")
