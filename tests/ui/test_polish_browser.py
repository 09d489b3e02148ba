"""The chat's finish, in Chromium on a real stack: the preview of a citation chip, code blocks
coloured and copied, and bugs 1, 7, 8 and 9 of issue 18 (each test says which it pins)."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Locator, Page, Request, expect

from support.browser import open_documents, upload
from support.llm_servers import OpenAIServer
from support.polish import answered, new_page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DIST = ROOT / "frontend" / "dist"

Factory = Callable[..., AbstractContextManager[str]]

LENS = (
    "The Fresnel lens of the lighthouse was installed in 1872 and weighs four tonnes. "
    "It is cleaned every Monday by the keeper, who also winds the clockwork."
)
CODE = 'def beam(hours):\n    return "on" if hours > 12 else None'


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, "not rendered"
    return {"x": found["x"], "y": found["y"], "width": found["width"], "height": found["height"]}


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def assert_inside(area: dict[str, float], viewport: dict[str, int]) -> None:
    assert area["x"] >= 0, area
    assert area["y"] >= 0, area
    assert area["x"] + area["width"] <= viewport["width"], (area, viewport)
    assert area["y"] + area["height"] <= viewport["height"], (area, viewport)


def lens_document(tmp_path: Path) -> Path:
    path = tmp_path / "lighthouse-notes.txt"
    path.write_text(LENS + "\n")
    return path


def chat_posts(page: Page) -> list[str]:
    posted: list[str] = []

    def record(request: Request) -> None:
        if request.method == "POST" and "/api/chat" in request.url:
            posted.append(request.url)

    page.on("request", record)
    return posted


# --- Bug 1 ---------------------------------------------------------------------------------------


def test_the_status_popover_stays_on_a_phone_screen(browser: Browser, stack_url: str) -> None:
    """Bug 1: on a 390×844 phone the status popover ran off the left edge of the screen."""
    with new_page(browser, stack_url, phone=True) as page:
        status = page.get_by_test_id("llm-status")
        expect(status).to_contain_text("gpt-4o-mini")
        status.locator("summary").click()
        popover = page.get_by_role("region", name="Service status")
        expect(popover).to_be_visible()
        expect(popover).to_contain_text("Check again")
        assert_inside(box(popover), {"width": 390, "height": 844})
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "status-phone.png"))


# --- Bug 7 ---------------------------------------------------------------------------------------


def test_a_question_over_the_limit_is_refused_before_sending_and_kept(page: Page) -> None:
    """Bug 7: a question over the server's limit (4,000 characters by default) was cleared from the
    box, posted as a giant bubble, then refused. The box shows the count and the limit, refuses
    to send, and keeps the text; nothing is posted."""
    posted = chat_posts(page)
    box_ = page.get_by_test_id("chat-input")
    question = "Why " + "x" * 3997  # 4,001 characters
    box_.fill(question)
    expect(page.get_by_test_id("char-count")).to_have_text("4,001 / 4,000")
    expect(page.get_by_test_id("too-long")).to_contain_text("the limit is 4,000")
    expect(box_).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("send")).to_be_disabled()
    box_.press("Enter")
    page.get_by_test_id("chat-input").evaluate("el => el.form.requestSubmit()")
    expect(box_).to_have_value(question)
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    assert posted == []

    box_.press("End")
    box_.press("Backspace")  # now exactly at the limit: allowed
    expect(page.get_by_test_id("char-count")).to_have_text("4,000 / 4,000")
    expect(page.get_by_test_id("too-long")).to_have_count(0)
    expect(page.get_by_test_id("send")).to_be_enabled()
    ARTIFACTS.mkdir(exist_ok=True)
    box_.press("Backspace")
    box_.press("x")
    box_.press("x")
    page.screenshot(path=str(ARTIFACTS / "composer-limit.png"))


def test_the_composer_takes_its_limit_from_the_server(
    browser: Browser, start_rag: Factory, start_gateway: Factory
) -> None:
    """Bug 7: the limit shown and enforced is the one the server reports, not a constant."""
    with (
        start_rag(max_message_chars=120) as rag_url,
        start_gateway(rag_urls=[rag_url], static_dir=DIST) as url,
        new_page(browser, url) as page,
    ):
        posted = chat_posts(page)
        box_ = page.get_by_test_id("chat-input")
        box_.fill("y" * 121)
        expect(page.get_by_test_id("char-count")).to_have_text("121 / 120")
        box_.press("Enter")
        expect(box_).to_have_value("y" * 121)
        box_.fill("y" * 60)  # far below: no count to distract
        expect(page.get_by_test_id("char-count")).to_have_count(0)
        box_.fill("  " + "y" * 100 + "  ")  # counted as the server counts: trimmed
        expect(page.get_by_test_id("char-count")).to_have_text("100 / 120")
        box_.fill("\U0001f600" * 121)  # and in characters, not UTF-16 units (242 here)
        expect(page.get_by_test_id("char-count")).to_have_text("121 / 120")
        box_.fill("\U0001f600" * 120)
        expect(page.get_by_test_id("char-count")).to_have_text("120 / 120")
        expect(page.get_by_test_id("send")).to_be_enabled()
        box_.fill("z" * 200_000)  # a huge paste: counted, refused, kept
        expect(page.get_by_test_id("char-count")).to_have_text("200,000 / 120")
        box_.press("Enter")
        expect(page.get_by_test_id("message-user")).to_have_count(0)
        assert len(box_.input_value()) == 200_000
        assert posted == []


# --- Bug 8 ---------------------------------------------------------------------------------------


def test_the_empty_chat_without_documents_says_how_to_upload(page: Page, tmp_path: Path) -> None:
    """Bug 8: with no documents, the empty screen offered questions that could only be answered
    "Upload a document first". Now it says how to upload and offers no questions; once a
    document is added (no reload), it offers them; deleting it brings the upload hint back."""
    empty = page.get_by_test_id("empty-chat")
    expect(empty.get_by_test_id("empty-upload-hint")).to_contain_text("no documents yet")
    expect(empty.get_by_test_id("empty-upload-hint")).to_contain_text("Documents")
    expect(empty.get_by_test_id("suggestions")).to_have_count(0)
    expect(empty.get_by_role("button")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "empty-no-documents.png"))

    upload(page, lens_document(tmp_path))
    expect(empty.get_by_test_id("suggestions")).to_be_visible()
    expect(empty.get_by_test_id("empty-upload-hint")).to_have_count(0)

    open_documents(page)
    page.get_by_test_id("delete-document").first.click()
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("document-row")).to_have_count(0)
    expect(empty.get_by_test_id("empty-upload-hint")).to_be_visible()
    expect(empty.get_by_test_id("suggestions")).to_have_count(0)


def test_the_empty_chat_with_documents_suggests_questions(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    """Bug 8: with documents, the empty screen still said "Upload files in the Documents panel".
    Now it names what is there and its suggestions ask."""
    upload(page, lens_document(tmp_path))
    page.reload()
    empty = page.get_by_test_id("empty-chat")
    expect(empty.get_by_test_id("empty-ready")).to_contain_text("One document in default")
    expect(empty).not_to_contain_text("Upload files")
    expect(empty.get_by_test_id("empty-upload-hint")).to_have_count(0)
    suggestions = empty.get_by_test_id("suggestions").get_by_role("button")
    expect(suggestions).to_have_count(3)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "empty-with-documents.png"))

    llm.script()
    suggestions.first.click()
    answer = page.get_by_test_id("message-assistant").last
    expect(answer).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("error-message")).to_have_count(0)
    expect(answer).not_to_contain_text("Upload a document first")


# --- Bug 9 ---------------------------------------------------------------------------------------


def test_the_status_pill_names_no_provider_once_the_gateway_is_down(
    browser: Browser, start_rag: Factory, start_gateway: Factory
) -> None:
    """Bug 9: with the gateway down, the pill read "OpenAI · Gateway unreachable", naming a
    provider nobody could confirm any more."""
    with start_rag() as rag_url, ExitStack() as gateway:
        url = gateway.enter_context(start_gateway(rag_urls=[rag_url], static_dir=DIST))
        with new_page(browser, url) as page:
            pill = page.get_by_test_id("llm-status").locator("summary")
            expect(pill).to_contain_text("OpenAI")
            expect(pill).to_contain_text("gpt-4o-mini")
            gateway.close()  # the gateway stops
            pill.click()
            page.get_by_role("region", name="Service status").get_by_role(
                "button", name="Check again"
            ).click()
            expect(pill).to_contain_text("Gateway unreachable")
            expect(pill).not_to_contain_text("OpenAI")
            expect(pill).not_to_contain_text("gpt-4o-mini")


# --- Citation preview -----------------------------------------------------------------------------


def test_a_citation_chip_previews_its_passage_on_hover_and_on_focus(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    upload(page, lens_document(tmp_path))
    answered(page, llm, "How heavy is the lens?", ["The lens weighs ", "four tonnes [1]."])
    chip = page.get_by_test_id("citation-link").first
    preview = page.get_by_test_id("citation-preview")
    expect(preview).to_have_count(0)

    chip.hover()
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("role", "tooltip")
    expect(preview.get_by_test_id("citation-preview-file")).to_have_text("lighthouse-notes.txt")
    expect(preview.get_by_test_id("citation-preview-text")).to_contain_text("Fresnel lens")
    expect(chip).to_have_attribute("aria-describedby", str(preview.get_attribute("id")))
    assert not overlaps(box(preview), box(chip))
    assert_inside(box(preview), {"width": 1280, "height": 860})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "citation-preview.png"))

    preview.hover()  # the pointer may move onto the preview to read it
    expect(preview).to_be_visible()
    page.mouse.move(5, 500)
    expect(preview).to_have_count(0)
    expect(chip).not_to_have_attribute("aria-describedby", re.compile(".+"))

    chip.focus()  # the keyboard gets the same preview
    expect(preview).to_be_visible()
    page.keyboard.press("Escape")
    expect(preview).to_have_count(0)
    chip.press("Enter")  # and the chip still opens the sources
    expect(page.get_by_test_id("sources-panel")).to_be_visible()


def test_a_citation_preview_stays_inside_a_narrow_window(
    browser: Browser, stack_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    viewport = {"width": 420, "height": 700}
    with new_page(browser, stack_url, viewport=viewport) as page:
        upload(page, lens_document(tmp_path))
        page.get_by_test_id("toggle-documents").click()  # the drawer covers the chat here
        answered(page, llm, "How heavy is the lens?", ["[1] says ", "four tonnes."])
        chip = page.get_by_test_id("citation-link").first
        chip.hover()
        preview = page.get_by_test_id("citation-preview")
        expect(preview).to_be_visible()
        assert box(chip)["x"] < 80  # at the left edge of the answer, near the window's
        assert_inside(box(preview), viewport)
        assert not overlaps(box(preview), box(chip))


# --- Code blocks ----------------------------------------------------------------------------------


def test_code_blocks_are_coloured_lazily_and_copied(
    browser: Browser, stack_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    options: dict[str, Any] = {"permissions": ["clipboard-read", "clipboard-write"]}
    with new_page(browser, stack_url, **options) as page:
        scripts: list[str] = []
        page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
        upload(page, lens_document(tmp_path))
        # No code yet: the highlighter is not loaded with the app.
        assert [url for url in scripts if "/common-" in url] == []

        tokens = ["Like this [1]:\n\n```python\n", CODE, "\n```\n"]
        answered(page, llm, "Show it as code", tokens)
        answer = page.get_by_test_id("message-assistant").last
        code = answer.locator(".code-block pre > code")
        expect(code).to_have_count(1)
        expect(answer.locator(".code-lang")).to_have_text("python")
        expect(code.locator(".hljs-keyword").first).to_have_text("def")
        expect(code.locator(".hljs-string").first).to_have_text('"on"')
        assert code.inner_text() == CODE
        assert len([url for url in scripts if "/common-" in url]) == 1

        copy = answer.get_by_test_id("copy-code")
        expect(copy).to_have_accessible_name("Copy the code")
        copy.click()
        expect(copy).to_have_text("Copied")
        expect(copy).to_have_accessible_name("Copied the code")
        assert page.evaluate("navigator.clipboard.readText()") == CODE
        ARTIFACTS.mkdir(exist_ok=True)
        answer.screenshot(path=str(ARTIFACTS / "code-block.png"))
