"""Conversations in a real browser: the Chats list (newest first, titled from the first question,
rename, delete, search, opening an old one from another collection), retry and edit, and issue
18's bugs 2 (the end of an answer scrolls into view), 3 (stopped, failed and detailed answers
survive a reload) and 4 (one transcript never mixes two collections)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from support.axe import report, severe_violations
from support.browser import ask, open_documents, upload
from support.conversations import (
    ask_and_wait,
    create_collection,
    finished,
    open_chats,
    pick_collection,
    wait_in_log_view,
)
from support.llm_servers import Gate, OpenAIServer, Reply

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PUMPS = "# Pumps\n\nThe P-100 pump is serviced every 500 hours. Its seal is replaced yearly.\n"
TEA = "# Tea\n\nGreen tea steeps for two minutes at 80 degrees.\n"


@pytest.fixture
def stack_url(
    start_rag: Callable[..., AbstractContextManager[str]],
    start_gateway: Callable[..., AbstractContextManager[str]],
) -> Iterator[str]:
    """As conftest's, but follow-ups are not rewritten: each question is one LLM request, so the
    scripted replies go to the answers."""
    with (
        start_rag(rewrite_followups=False) as rag_url,
        start_gateway(rag_urls=[rag_url], static_dir=ROOT / "frontend" / "dist") as url,
    ):
        yield url


def _doc(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _user_messages(llm: OpenAIServer) -> list[str]:
    """The user-side contents of the last request the LLM got (history and the question)."""
    return [
        str(m["content"]) for m in llm.chat_requests[-1].json["messages"] if m["role"] == "user"
    ]


# --- the list ---------------------------------------------------------------------------------


def test_the_list_keeps_every_chat_newest_first_and_renames_searches_and_deletes(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    upload(page, _doc(tmp_path, "pumps.md", PUMPS))
    llm.script(Reply(tokens=["Every 500 hours [1]."]))
    ask_and_wait(page, "How often is the   P-100 pump serviced?", "500 hours")
    page.get_by_test_id("new-chat").click()
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    llm.script(Reply(tokens=["Yearly [1]."]))
    ask_and_wait(page, "When is the seal replaced?", "Yearly")

    items = open_chats(page)
    # "New chat" kept the first one; the newest is on top, titled from its first question.
    expect(items).to_have_count(2)
    expect(items.get_by_test_id("conversation-title")).to_have_text(
        ["When is the seal replaced?", "How often is the P-100 pump serviced?"]
    )
    expect(items.first.get_by_test_id("conversation-collection")).to_have_text("default")
    current = page.locator("[data-testid=conversation-open][aria-current=true]")
    expect(current).to_have_count(1)
    expect(current).to_contain_text("When is the seal replaced?")

    # Rename: Enter saves, Escape cancels.
    older = items.nth(1)
    older.get_by_test_id("conversation-rename").click()
    title = older.get_by_test_id("conversation-title-input")
    expect(title).to_be_focused()
    title.fill("Pump service")
    title.press("Enter")
    expect(older.get_by_test_id("conversation-title")).to_have_text("Pump service")
    older.get_by_test_id("conversation-rename").click()
    older.get_by_test_id("conversation-title-input").fill("not this")
    older.get_by_test_id("conversation-title-input").press("Escape")
    expect(older.get_by_test_id("conversation-title")).to_have_text("Pump service")
    expect(older.get_by_test_id("conversation-rename")).to_be_focused()

    # Search: by title, any case; nothing found says so.
    search = page.get_by_test_id("conversation-search")
    search.fill("PUMP")
    expect(items.get_by_test_id("conversation-title")).to_have_text(["Pump service"])
    search.fill("zebra")
    expect(items).to_have_count(0)
    expect(page.get_by_test_id("conversations-empty")).to_contain_text("zebra")
    search.fill("")
    expect(items).to_have_count(2)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "conversations.png"), full_page=True)

    # The names stay after a reload.
    page.reload()
    items = open_chats(page)
    expect(items.get_by_test_id("conversation-title")).to_have_text(
        ["When is the seal replaced?", "Pump service"]
    )

    # Delete the shown one, after a confirmation: it leaves the list and the chat.
    items.first.get_by_test_id("conversation-delete").click()
    page.get_by_test_id("confirm-no").click()
    expect(items).to_have_count(2)
    items.first.get_by_test_id("conversation-delete").click()
    page.get_by_test_id("confirm-yes").click()
    expect(items.get_by_test_id("conversation-title")).to_have_text(["Pump service"])
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    page.reload()
    expect(open_chats(page).get_by_test_id("conversation-title")).to_have_text(["Pump service"])
    expect(page.get_by_test_id("message-user")).to_have_count(0)


def test_opening_a_chat_of_another_collection_switches_to_it_and_never_mixes_them(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    """Bug 4: switching collection starts a new chat there; the old one stays in the list, and
    opening it switches back to its collection with its own history only."""
    upload(page, _doc(tmp_path, "pumps.md", PUMPS))
    llm.script(Reply(tokens=["Every 500 hours [1]."]))
    ask_and_wait(page, "How often is the pump serviced?", "500 hours")

    create_collection(page, "tea")
    expect(page.get_by_test_id("message-user")).to_have_count(0)  # a new chat, in tea
    upload(page, _doc(tmp_path, "tea.md", TEA))
    llm.script(Reply(tokens=["Two minutes [1]."]))
    ask_and_wait(page, "How long does green tea steep?", "Two minutes")
    assert _user_messages(llm)[-1].endswith("How long does green tea steep?")
    assert "pump" not in str(llm.chat_requests[-1].json["messages"]).lower()

    items = open_chats(page)
    expect(items.get_by_test_id("conversation-collection")).to_have_text(["tea", "default"])
    items.nth(1).get_by_test_id("conversation-open").click()
    expect(page.get_by_test_id("chat-collection")).to_have_text("default")
    expect(page.get_by_test_id("message-user")).to_have_text(["How often is the pump serviced?"])
    expect(page.get_by_test_id("message-assistant")).to_contain_text(["500 hours"])
    expect(page.locator("[data-testid=conversation-open][aria-current=true]")).to_contain_text(
        "pump"
    )
    open_documents(page)
    expect(page.get_by_test_id("collection-select")).to_have_value("default")

    # A follow-up continues that conversation: its history, not tea's.
    llm.script(Reply(tokens=["Its seal yearly [1]."]))
    ask_and_wait(page, "And what else is replaced?", "seal yearly")
    sent = str(llm.chat_requests[-1].json["messages"])
    assert "500 hours" in sent or "pump" in sent.lower()
    assert "tea" not in sent.lower()
    expect(page.get_by_test_id("error-message")).to_have_count(0)

    # Picking tea in the documents panel starts a new chat there; the tea chat is still listed.
    pick_collection(page, "tea")
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    expect(open_chats(page)).to_have_count(2)


def test_a_chat_deleted_with_its_collection_leaves_the_list_and_the_screen(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    """Bug 4: after its collection is deleted, a conversation's answers are no longer shown."""
    create_collection(page, "tea")
    upload(page, _doc(tmp_path, "tea.md", TEA))
    llm.script(Reply(tokens=["Two minutes [1]."]))
    ask_and_wait(page, "How long does green tea steep?", "Two minutes")
    expect(open_chats(page)).to_have_count(1)

    open_documents(page)
    page.get_by_test_id("delete-collection").click()
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    expect(open_chats(page)).to_have_count(0)
    page.reload()
    expect(open_chats(page)).to_have_count(0)
    expect(page.get_by_test_id("message-assistant")).to_have_count(0)


def test_a_chat_whose_only_collection_is_deleted_is_no_longer_shown(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    """Bug 4: deleting the collection the chat asks, when no other is left (the picker stays on
    its name), clears the chat and its entry instead of showing answers citing nothing."""
    upload(page, _doc(tmp_path, "pumps.md", PUMPS))
    llm.script(Reply(tokens=["Every 500 hours [1]."]))
    ask_and_wait(page, "How often is the pump serviced?", "500 hours")
    open_documents(page)
    page.get_by_test_id("delete-collection").click()
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("message-assistant")).to_have_count(0)
    expect(open_chats(page)).to_have_count(0)


# --- retry and edit ---------------------------------------------------------------------------


def test_retry_asks_the_last_question_again_in_place_of_its_answer(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    upload(page, _doc(tmp_path, "pumps.md", PUMPS))
    llm.script(Reply(tokens=["Every 500 hours [1]."]))
    ask_and_wait(page, "How often is the pump serviced?", "500 hours")
    expect(page.get_by_test_id("retry-answer")).to_have_count(1)  # the last answer only
    llm.script(Reply(tokens=["First try [1]."]))
    ask_and_wait(page, "And its seal?", "First try")
    expect(page.get_by_test_id("retry-answer")).to_have_count(1)
    llm.script(Reply(tokens=["Second try: yearly [1]."]))
    page.get_by_test_id("retry-answer").click()
    expect(page.get_by_test_id("message-assistant").last).to_contain_text(
        "Second try", timeout=30_000
    )
    finished(page)
    expect(page.get_by_test_id("message-user")).to_have_text(
        ["How often is the pump serviced?", "And its seal?"]
    )
    expect(page.get_by_test_id("message-assistant")).to_have_count(2)
    # The question went again, with the history before it and without the answer it replaces.
    sent = str(llm.chat_requests[-1].json["messages"])
    assert _user_messages(llm)[-1].endswith("And its seal?")
    assert "500 hours" in sent
    assert "First try" not in sent
    page.reload()
    expect(page.get_by_test_id("message-assistant")).to_have_count(2)
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("Second try")
    expect(page.get_by_test_id("message-assistant").last).not_to_contain_text("First try")


def test_retry_of_a_first_answer_gets_a_new_one_not_the_cached_one(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    upload(page, _doc(tmp_path, "pumps.md", PUMPS))
    llm.script(Reply(tokens=["First try [1]."]))
    ask_and_wait(page, "How often is the pump serviced?", "First try")
    llm.script(Reply(tokens=["Second try: every 500 hours [1]."]))
    page.get_by_test_id("retry-answer").click()
    expect(page.get_by_test_id("message-assistant").last).to_contain_text(
        "Second try", timeout=10_000
    )


def test_edit_a_question_and_ask_it_again(page: Page, llm: OpenAIServer, tmp_path: Path) -> None:
    upload(page, _doc(tmp_path, "pumps.md", PUMPS))
    llm.script(Reply(tokens=["Every 500 hours [1]."]))
    ask_and_wait(page, "How often is the pump serviced?", "500 hours")
    llm.script(Reply(tokens=["Yearly [1]."]))
    ask_and_wait(page, "And the seal?", "Yearly")

    first = page.get_by_test_id("message-user").first
    # Escape cancels the edit, nothing is asked.
    first.hover()
    first.get_by_test_id("edit-question").click()
    editor = first.get_by_test_id("edit-input")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("How often is the pump serviced?")
    editor.fill("never mind")
    editor.press("Escape")
    expect(first).to_have_text(re.compile("How often is the pump serviced"))
    requests = len(llm.chat_requests)

    first.hover()
    first.get_by_test_id("edit-question").click()
    llm.script(Reply(tokens=["The P-100 pump: 500 hours [1]."]))
    first.get_by_test_id("edit-input").fill("How often is the P-100 pump serviced?")
    first.get_by_test_id("edit-input").press("Enter")
    expect(page.get_by_test_id("message-assistant").last).to_contain_text(
        "The P-100", timeout=30_000
    )
    finished(page)
    assert len(llm.chat_requests) == requests + 1
    expect(page.get_by_test_id("message-user")).to_have_text(
        ["How often is the P-100 pump serviced?"]
    )
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)
    assert "And the seal?" not in str(llm.chat_requests[-1].json["messages"])
    page.reload()
    expect(page.get_by_test_id("message-user")).to_have_text(
        ["How often is the P-100 pump serviced?"]
    )
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)

    # The Save button asks too.
    first = page.get_by_test_id("message-user").first
    first.hover()
    first.get_by_test_id("edit-question").click()
    llm.script(Reply(tokens=["Saved [1]."]))
    first.get_by_test_id("edit-input").fill("How often, again?")
    first.get_by_test_id("edit-save").click()
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("Saved", timeout=30_000)
    finished(page)
    expect(page.get_by_test_id("message-user")).to_have_text(["How often, again?"])


# --- bug 2: the end of an answer scrolls into view ---------------------------------------------


def test_a_finished_answers_row_and_an_error_note_scroll_into_view(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    """Bug 2: when an answer finishes, its sources · details · copy row is scrolled into view
    (not left under the composer); so is the error note of a failed question."""
    upload(page, _doc(tmp_path, "pumps.md", PUMPS))
    long_answer = [f"Line {i} of a long answer about the pump.\n\n" for i in range(60)] + ["[1]"]
    llm.script(Reply(tokens=long_answer))
    ask_and_wait(page, "Tell me everything about the pump.", "Line 59")
    last = page.get_by_test_id("message-assistant").last
    wait_in_log_view(page, last.get_by_test_id("copy-answer"))

    llm.script(Reply(tokens=long_answer[:30], error_after=30, error="The model crashed."))
    ask(page, "And once more?")
    expect(
        page.get_by_test_id("message-assistant").last.get_by_test_id("error-message")
    ).to_be_visible(timeout=30_000)
    wait_in_log_view(
        page, page.get_by_test_id("message-assistant").last.get_by_test_id("error-message")
    )


# --- bug 3: what an answer was survives a reload -----------------------------------------------


def test_stopped_answers_survive_a_reload_with_their_badge(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    """Bug 3: two questions, both stopped, then a reload: both are still there, marked stopped."""
    upload(page, _doc(tmp_path, "pumps.md", PUMPS))
    for n, question in enumerate(["How often is the pump serviced?", "And its seal?"], start=1):
        gate = Gate()
        llm.script(Reply(tokens=[f"part{n} ", *[f"more{i} " for i in range(40)]], gate=gate))
        gate.open()
        ask(page, question)
        expect(page.get_by_test_id("message-assistant").last).to_contain_text(
            f"part{n}", timeout=30_000
        )
        page.get_by_test_id("stop").click()
        assert llm.wait_for_disconnect(timeout=30, count=n)
        finished(page)
    expect(page.get_by_test_id("stopped-badge")).to_have_count(2)

    page.reload()
    expect(page.get_by_test_id("message-user")).to_have_text(
        ["How often is the pump serviced?", "And its seal?"]
    )
    answers = page.get_by_test_id("message-assistant")
    expect(answers).to_have_count(2)
    expect(answers.nth(0)).to_contain_text("part1")
    expect(answers.nth(1)).to_contain_text("part2")
    expect(page.get_by_test_id("stopped-badge")).to_have_count(2)


def test_an_answers_details_survive_a_reload(page: Page, llm: OpenAIServer, tmp_path: Path) -> None:
    """Bug 3: "details" (the answer's timings) are still there after a reload."""
    upload(page, _doc(tmp_path, "pumps.md", PUMPS))
    llm.script(Reply(tokens=["Every 500 hours [1]."]))
    ask_and_wait(page, "How often is the pump serviced?", "500 hours")
    page.reload()
    expect(page.get_by_test_id("message-assistant")).to_contain_text(["500 hours"])
    page.get_by_test_id("timings-toggle").click()
    timings = page.get_by_test_id("timings")
    expect(timings).to_contain_text("Total")
    expect(timings).to_contain_text("Search")
    expect(timings.get_by_test_id("retrieval-used")).to_be_visible()


def test_a_chat_whose_first_answer_broke_survives_a_reload_with_its_error(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    """Bug 3: the first answer of a chat fails; after a reload the chat is still there, with
    the error, and can be retried."""
    upload(page, _doc(tmp_path, "pumps.md", PUMPS))
    llm.script(Reply(tokens=["Every "], error_after=1, error="The model crashed."))
    ask(page, "How often is the pump serviced?")
    note = page.get_by_test_id("message-assistant").last.get_by_test_id("error-message")
    expect(note).to_be_visible(timeout=30_000)
    finished(page)

    page.reload()
    expect(page.get_by_test_id("message-user")).to_have_text(["How often is the pump serviced?"])
    expect(
        page.get_by_test_id("message-assistant").last.get_by_test_id("error-message")
    ).to_be_visible()
    expect(open_chats(page)).to_have_count(1)
    llm.script(Reply(tokens=["Every 500 hours [1]."]))
    page.get_by_test_id("retry-answer").click()
    expect(page.get_by_test_id("message-assistant").last).to_contain_text(
        "500 hours", timeout=30_000
    )
    expect(page.get_by_test_id("error-message")).to_have_count(0)


# --- a phone --------------------------------------------------------------------------------------


def test_on_a_phone_the_chats_are_a_drawer(
    browser: Browser, stack_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        page.goto(stack_url)
        expect(page.locator("#sidebar")).to_be_hidden()  # closed until asked for
        upload(page, _doc(tmp_path, "pumps.md", PUMPS))
        page.get_by_test_id("toggle-documents").click()
        expect(page.locator("#sidebar")).to_be_hidden()
        llm.script(Reply(tokens=["Every 500 hours [1]."]))
        ask_and_wait(page, "How often is the pump serviced?", "500 hours")
        page.get_by_test_id("new-chat").click()

        items = open_chats(page)
        expect(items).to_have_count(1)
        box = page.locator("#sidebar").bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
        # The actions are there without hovering (a touch screen has no hover).
        expect(items.first.get_by_test_id("conversation-rename")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "conversations-phone.png"))
        items.first.get_by_test_id("conversation-open").click()
        expect(page.locator("#sidebar")).to_be_hidden()  # the drawer gives way to the chat
        expect(page.get_by_test_id("message-assistant")).to_contain_text(["500 hours"])
    finally:
        context.close()


# --- accessibility --------------------------------------------------------------------------------


def test_the_chats_list_rename_and_edit_forms_have_no_serious_accessibility_violation(
    browser: Browser, stack_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    screens: dict[str, list[dict[str, object]]] = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(
            viewport={"width": 1366, "height": 860}, color_scheme=scheme, bypass_csp=True
        )
        try:
            page = context.new_page()
            page.goto(stack_url)
            if scheme == "light":
                upload(page, _doc(tmp_path, "pumps.md", PUMPS))
                llm.script(Reply(tokens=["Every 500 hours [1]."]))
                ask_and_wait(page, "How often is the pump serviced?", "500 hours")
            items = open_chats(page)
            expect(items).to_have_count(1)
            screens[f"{scheme}: chats"] = severe_violations(page)
            items.first.get_by_test_id("conversation-rename").click()
            screens[f"{scheme}: renaming a chat"] = severe_violations(page)
            items.first.get_by_test_id("conversation-title-input").press("Escape")
            items.first.get_by_test_id("conversation-open").click()  # a new context shows none
            question = page.get_by_test_id("message-user").first
            question.hover()
            question.get_by_test_id("edit-question").click()
            expect(question.get_by_test_id("edit-input")).to_be_focused()
            screens[f"{scheme}: editing a question"] = severe_violations(page)
            if scheme == "dark":
                page.screenshot(path=str(ARTIFACTS / "conversations-dark.png"))
        finally:
            context.close()
    assert report(screens) == ""
