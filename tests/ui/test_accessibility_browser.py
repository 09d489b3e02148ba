"""Accessibility of the main screens with axe-core in Chromium (no serious or critical violation):
the empty chat, an answer with its citation preview and sources, the documents panel, the cited
document's viewer, the settings drawer, the sign-in page, the phone layout and the dark theme.
And the README's screenshots (desktop, phone, dark), written to test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from support.axe import report, severe_violations
from support.browser import open_documents, upload
from support.documents import pdf_bytes
from support.llm_servers import OpenAIServer
from support.polish import answered, new_page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DIST = ROOT / "frontend" / "dist"

Factory = Callable[..., AbstractContextManager[str]]
Screens = dict[str, list[dict[str, Any]]]

PAGES = [
    "Harbour lighthouse: daily routine. The keeper logs the weather every morning at six and "
    "reports fog to the harbour master by radio.",
    "The lens. The Fresnel lens of the lighthouse was installed in 1872 and weighs four tonnes. "
    "It turns on a bath of mercury and is cleaned every Monday.",
    "Visits. Visitors may climb the 217 steps on Sundays between ten and four. Children under "
    "eight must be accompanied, and the gallery closes in strong wind.",
]
QUESTION = "When was the lens installed, and can visitors see it?"
# Its [n] follow the order the passages are found for QUESTION: the lens, the visits, the routine.
ANSWER = [
    "The Fresnel lens was installed in **1872** and weighs four tonnes [1]. ",
    "Visitors can see it up close:\n\n",
    "- climb the 217 steps on Sundays, between ten and four [2];\n",
    "- children under eight must be accompanied [2].\n\n",
    "The keeper logs the weather every morning at six [3]; to read the last entry:\n\n",
    '```python\nlog = open("weather.log").read()\nprint(log.splitlines()[-1])\n```\n',
]


@pytest.fixture
def uncached_url(start_rag: Factory, start_gateway: Factory) -> Iterator[str]:
    """A stack without the semantic cache: the same question in a second page is answered
    again (by the reply the test scripts), not served from the cache."""
    with (
        start_rag(cache_enabled=False) as rag_url,
        start_gateway(rag_urls=[rag_url], static_dir=DIST) as url,
    ):
        yield url


def lighthouse_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "lighthouse-handbook.pdf"
    path.write_bytes(pdf_bytes(PAGES, title="Lighthouse handbook"))
    return path


def check(screens: Screens, name: str, page: Page) -> None:
    screens[name] = severe_violations(page)


def open_sources(page: Page) -> None:
    page.get_by_test_id("message-assistant").last.get_by_test_id("sources-toggle").click()
    expect(page.get_by_test_id("sources-panel")).to_be_visible()


def settings_button(page: Page) -> Any:
    return page.get_by_role("button", name=re.compile(r"^settings", re.IGNORECASE))


def test_the_main_screens_have_no_serious_accessibility_violation(
    browser: Browser, stack_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    screens: Screens = {}
    with new_page(browser, stack_url, bypass_csp=True) as page:
        expect(page.get_by_test_id("empty-upload-hint")).to_be_visible()
        check(screens, "empty chat", page)

        upload(page, lighthouse_pdf(tmp_path))
        check(screens, "documents panel", page)

        answered(page, llm, QUESTION, ANSWER)
        expect(page.locator(".hljs-keyword, .hljs-built_in").first).to_be_visible()
        page.get_by_test_id("citation-link").first.hover()
        expect(page.get_by_test_id("citation-preview")).to_be_visible()
        check(screens, "answer with a citation preview", page)
        page.mouse.move(2, 600)

        open_sources(page)
        check(screens, "sources panel", page)

        page.get_by_test_id("source-open").first.click()
        viewer = page.get_by_test_id("document-viewer")
        expect(viewer).to_be_visible()
        expect(viewer).to_contain_text("Fresnel")
        check(screens, "document viewer", page)
        page.keyboard.press("Escape")
        expect(viewer).to_have_count(0)
    assert report(screens) == ""


def test_the_settings_drawer_has_no_serious_accessibility_violation(
    browser: Browser, stack_url: str
) -> None:
    screens: Screens = {}
    for options in ({}, {"color_scheme": "dark"}, {"phone": True}):
        with new_page(browser, stack_url, bypass_csp=True, **options) as page:
            settings_button(page).click()
            expect(page.get_by_role("dialog")).to_be_visible()
            check(screens, f"settings drawer {options}", page)
    assert report(screens) == ""


def test_the_phone_layout_and_the_dark_theme_have_no_serious_accessibility_violation(
    browser: Browser, uncached_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    stack_url = uncached_url
    screens: Screens = {}
    with new_page(browser, stack_url, phone=True, bypass_csp=True) as page:
        expect(page.get_by_test_id("empty-upload-hint")).to_be_visible()
        check(screens, "phone: empty chat", page)
        upload(page, lighthouse_pdf(tmp_path))
        check(screens, "phone: documents drawer", page)
        page.get_by_test_id("toggle-documents").click()
        answered(page, llm, QUESTION, ANSWER)
        check(screens, "phone: answer", page)
        page.get_by_test_id("llm-status").locator("summary").click()
        check(screens, "phone: status popover", page)

    with new_page(browser, stack_url, color_scheme="dark", bypass_csp=True) as page:
        expect(page.get_by_test_id("empty-ready")).to_be_visible()
        check(screens, "dark: empty chat", page)
        answered(page, llm, QUESTION, ANSWER)
        open_sources(page)
        check(screens, "dark: answer and sources", page)
    assert report(screens) == ""


def test_the_sign_in_page_has_no_serious_accessibility_violation(
    browser: Browser, start_rag: Factory, start_gateway: Factory
) -> None:
    screens: Screens = {}
    with (
        start_rag() as rag_url,
        start_gateway(
            rag_urls=[rag_url], static_dir=DIST, auth="on", admin_user="admin",
            admin_password="lighthouse-keeper-2026",
        ) as url,
    ):  # fmt: skip
        for scheme in ("light", "dark"):
            with new_page(browser, url, color_scheme=scheme, bypass_csp=True) as page:
                expect(page.get_by_test_id("signin-form")).to_be_visible()
                check(screens, f"sign-in ({scheme})", page)
                page.get_by_label("Username").fill("admin")
                page.get_by_label("Password").fill("wrong-password-here")
                page.get_by_test_id("signin-submit").click()
                expect(page.get_by_test_id("signin-error")).to_be_visible()
                check(screens, f"sign-in refused ({scheme})", page)
    assert report(screens) == ""


def test_the_readme_screenshots(
    browser: Browser, uncached_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    """The README's pictures: a cited answer with its sources on a desktop, in the dark theme,
    and on a phone. Written to test-artifacts/readme-*.png (docs/img/ holds the kept ones)."""
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = lighthouse_pdf(tmp_path)
    stack_url = uncached_url
    with new_page(browser, stack_url) as page:
        upload(page, pdf)
        answered(page, llm, QUESTION, ANSWER)
        open_sources(page)
        page.get_by_test_id("tab-chats").click()  # the conversation, listed
        expect(page.locator(".hljs-keyword, .hljs-built_in").first).to_be_visible()
        page.get_by_test_id("chat-input").blur()
        page.screenshot(path=str(ARTIFACTS / "readme-chat.png"))

    with new_page(browser, stack_url, color_scheme="dark") as page:
        open_documents(page)
        answered(page, llm, QUESTION, ANSWER)
        open_sources(page)
        expect(page.locator(".hljs-keyword, .hljs-built_in").first).to_be_visible()
        page.get_by_test_id("chat-input").blur()
        page.screenshot(path=str(ARTIFACTS / "readme-chat-dark.png"))

    with new_page(browser, stack_url, phone=True) as page:
        answered(page, llm, QUESTION, ANSWER)
        page.get_by_test_id("chat-input").blur()
        page.screenshot(path=str(ARTIFACTS / "readme-chat-phone.png"))
