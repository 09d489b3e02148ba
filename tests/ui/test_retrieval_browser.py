"""Retrieval as a user of the chat sees it, in a real browser before a real gateway and RAG
service: which legs found each source, the search mode picked near the composer (kept across a
reload, sent with each question), an answer the documents do not hold ("Not found in your
documents", its sources shown as the closest passages, the same after a reload), and questions
restricted to one document picked in the list (a removable chip, "Summarize", cleared by another
collection); an editor's relevance threshold for a collection, and a keyword index still being
built."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from redis import Redis

from ragis.contract import DEFAULT_WORKSPACE
from ragis.db import EmbeddedRedis
from ragis.store import Keys
from support.browser import ask, open_documents, upload
from support.llm_servers import OpenAIServer, Reply

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
ARTIFACTS = ROOT / "test-artifacts"

MANUAL = (
    "Error E44-4471: the feed pump overheated. Let the pump cool for ten minutes, then clean "
    "the intake filter before restarting it.\n"
)
LIGHTHOUSE = "The lighthouse keeper logs the weather every morning at six o'clock.\n"
GARDEN = "The garden gate is painted green and opens onto the orchard of apple trees.\n"

OpenUI = Callable[..., Page]


@pytest.fixture
def open_ui(
    browser: Browser,
    start_rag: Callable[..., AbstractContextManager[str]],
    start_gateway: Callable[..., AbstractContextManager[str]],
) -> Iterator[OpenUI]:
    """`open_ui(**rag_settings)`: the UI before a gateway and a RAG service with these settings
    (follow-ups are not rewritten, so each question is one LLM request); afterwards, no uncaught
    error in the page."""
    stack = ExitStack()
    errors: list[str] = []

    def factory(**rag_settings: Any) -> Page:
        rag_url = stack.enter_context(start_rag(rewrite_followups=False, **rag_settings))
        url = stack.enter_context(start_gateway(rag_urls=[rag_url], static_dir=DIST))
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        stack.callback(context.close)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        return page

    with stack:
        yield factory
    assert errors == [], f"uncaught errors in the page: {errors}"


def add(page: Page, tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    upload(page, path)


def answer_of(page: Page) -> Any:
    answer = page.get_by_test_id("message-assistant").last
    expect(page.get_by_test_id("stop")).to_have_count(0, timeout=30_000)
    return answer


def prompt_of(llm: OpenAIServer) -> str:
    """The last question's prompt as the LLM received it (sources and question)."""
    return str(llm.chat_requests[-1].json["messages"][-1]["content"])


def test_each_source_says_which_legs_found_it_and_the_mode_is_kept_and_sent(
    open_ui: OpenUI, llm: OpenAIServer, tmp_path: Path
) -> None:
    page = open_ui()
    add(page, tmp_path, "manual.txt", MANUAL)
    mode = page.get_by_test_id("retrieval-mode")
    expect(mode).to_have_value("")  # no choice: the server's RAGIS_RETRIEVAL applies
    assert "meaning" in (mode.get_attribute("title") or "").lower()

    mode.select_option("lexical")
    llm.script(Reply(tokens=["Let it cool, then clean the filter [1]."]))
    ask(page, "What does error E44-4471 mean?")
    answer = answer_of(page)
    expect(answer).to_contain_text("clean the filter")
    answer.get_by_test_id("sources-toggle").click()
    legs = page.get_by_test_id("sources-panel").get_by_test_id("source-legs").first
    expect(legs).to_have_attribute("data-legs", "lexical")
    expect(legs).to_contain_text("words")
    expect(legs).to_contain_text("Found by words.")  # for screen readers
    assert "words" in (legs.locator("[title]").first.get_attribute("title") or "")
    page.get_by_test_id("close-sources").click()
    # The mode the server used, in the answer's details.
    answer.get_by_test_id("timings-toggle").click()
    expect(answer.get_by_test_id("retrieval-used")).to_contain_text("Words")
    expect(answer.get_by_test_id("best-score")).to_contain_text("0.")
    assert "E44-4471" in prompt_of(llm)

    # The choice survives a reload, and the next question is sent with it.
    page.reload()
    expect(page.get_by_test_id("retrieval-mode")).to_have_value("lexical")
    page.get_by_test_id("retrieval-mode").select_option("hybrid")
    page.get_by_test_id("new-chat").click()
    llm.script(Reply(tokens=["Clean the intake filter [1]."]))
    ask(page, "How do I fix the overheated feed pump of error E44-4471?")
    answer = answer_of(page)
    answer.get_by_test_id("sources-toggle").click()
    legs = page.get_by_test_id("sources-panel").get_by_test_id("source-legs").first
    expect(legs).to_have_attribute("data-legs", "lexical vector")
    expect(legs).to_contain_text("Found by words and meaning.")
    answer.get_by_test_id("timings-toggle").click()
    expect(answer.get_by_test_id("retrieval-used")).to_contain_text("Hybrid")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "retrieval-legs.png"), full_page=True)

    # "Meaning" alone: the passage is found by meaning only.
    page.get_by_test_id("close-sources").click()
    page.get_by_test_id("retrieval-mode").select_option("vector")
    page.get_by_test_id("new-chat").click()
    llm.script(Reply(tokens=["Let the pump cool down [1]."]))
    ask(page, "What should I do when the feed pump overheats?")
    answer = answer_of(page)
    answer.get_by_test_id("sources-toggle").click()
    expect(page.get_by_test_id("source-legs").first).to_have_attribute("data-legs", "vector")


def test_an_answer_the_documents_do_not_hold_says_so_before_and_after_a_reload(
    open_ui: OpenUI, llm: OpenAIServer, tmp_path: Path
) -> None:
    page = open_ui(min_score=0.99)  # no passage is ever close enough
    add(page, tmp_path, "lighthouse.txt", LIGHTHOUSE)
    ask(page, "What is the capital of Australia?")
    answer = answer_of(page)
    notice = answer.get_by_test_id("not-found")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Not found in your documents")
    assert llm.chat_requests == []  # the model was not asked to answer from memory
    # Its citations are the closest passages, not the answer's sources.
    toggle = answer.get_by_test_id("sources-toggle")
    expect(toggle).to_contain_text("1 closest passage")
    toggle.click()
    expect(page.get_by_test_id("sources-title")).to_have_text("Closest passages")
    expect(page.get_by_test_id("closest-note")).to_contain_text("not sources of the answer")
    expect(page.get_by_test_id("source-item").first).to_contain_text("lighthouse.txt")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "not-found.png"), full_page=True)
    page.get_by_test_id("close-sources").click()
    answer.get_by_test_id("timings-toggle").click()
    score = answer.get_by_test_id("best-score")
    expect(score).to_contain_text("Best match")
    assert 0 <= float(score.locator("dd").inner_text()) < 0.99

    page.reload()
    answer = page.get_by_test_id("message-assistant").last
    expect(answer.get_by_test_id("not-found")).to_be_visible()
    answer.get_by_test_id("sources-toggle").click()
    expect(page.get_by_test_id("sources-title")).to_have_text("Closest passages")


def test_a_grounded_answer_shows_no_notice_and_titles_its_sources_as_sources(
    open_ui: OpenUI, llm: OpenAIServer, tmp_path: Path
) -> None:
    page = open_ui(min_score=0.0)
    add(page, tmp_path, "lighthouse.txt", LIGHTHOUSE)
    llm.script(Reply(tokens=["At six o'clock [1]."]))
    ask(page, "When does the lighthouse keeper log the weather?")
    answer = answer_of(page)
    expect(answer).to_contain_text("At six o'clock")
    expect(answer.get_by_test_id("not-found")).to_have_count(0)
    expect(answer.get_by_test_id("sources-toggle")).to_contain_text("1 source")
    answer.get_by_test_id("sources-toggle").click()
    expect(page.get_by_test_id("sources-title")).to_have_text("Sources")
    expect(page.get_by_test_id("closest-note")).to_have_count(0)


def test_questions_about_one_picked_document_reach_only_its_passages(
    open_ui: OpenUI, llm: OpenAIServer, tmp_path: Path
) -> None:
    page = open_ui(min_score=0.0)
    add(page, tmp_path, "lighthouse.txt", LIGHTHOUSE)
    add(page, tmp_path, "garden.txt", GARDEN)
    expect(page.get_by_test_id("document-row")).to_have_count(2)
    garden = page.get_by_test_id("document-row").filter(has_text="garden.txt")
    garden.get_by_test_id("ask-document").click()
    chip = page.get_by_test_id("document-scope")
    expect(chip).to_contain_text("Only: garden.txt")
    expect(garden.get_by_test_id("ask-document")).to_have_attribute("aria-pressed", "true")

    llm.script(Reply(tokens=["It is about a garden [1]."]))
    ask(page, "What is written here about the weather and the lighthouse?")
    expect(answer_of(page)).to_contain_text("about a garden")
    prompt = prompt_of(llm)
    assert 'file="garden.txt"' in prompt
    assert "lighthouse.txt" not in prompt  # the filter reached the RAG service

    # The chip removed, every document is asked again.
    chip.get_by_test_id("clear-document-scope").click()
    expect(chip).to_have_count(0)
    page.get_by_test_id("new-chat").click()
    llm.script(Reply(tokens=["At six [1]."]))
    ask(page, "When does the lighthouse keeper log the weather?")
    expect(answer_of(page)).to_contain_text("At six")
    assert 'file="lighthouse.txt"' in prompt_of(llm)

    # "Summarize": the question is asked at once, about that document only.
    page.get_by_test_id("new-chat").click()
    lighthouse = page.get_by_test_id("document-row").filter(has_text="lighthouse.txt")
    llm.default_reply = Reply(tokens=["A keeper logs the weather [1]."])
    try:
        lighthouse.get_by_test_id("summarize-document").click()
        expect(page.get_by_test_id("message-user").last).to_have_text("Summarize this document.")
        answer = answer_of(page)
        expect(answer).to_contain_text("A keeper logs the weather")
    finally:
        llm.default_reply = None
    expect(page.get_by_test_id("document-scope")).to_contain_text("Only: lighthouse.txt")
    prompts = [str(r.json["messages"][-1]["content"]) for r in llm.chat_requests[-1:]]
    assert all("garden.txt" not in p for p in prompts)
    expect(answer.get_by_test_id("scope-document")).to_have_text("Read the whole document")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "document-scope.png"), full_page=True)

    # Another collection: the chip goes (its document is not there).
    open_documents(page)
    page.get_by_test_id("new-collection").click()
    page.get_by_test_id("new-collection-name").fill("other")
    page.get_by_test_id("create-collection").click()
    expect(page.get_by_test_id("chat-collection")).to_have_text("other")
    expect(page.get_by_test_id("document-scope")).to_have_count(0)


def test_deleting_the_picked_document_removes_the_chip(open_ui: OpenUI, tmp_path: Path) -> None:
    page = open_ui()
    add(page, tmp_path, "garden.txt", GARDEN)
    page.get_by_test_id("ask-document").click()
    expect(page.get_by_test_id("document-scope")).to_be_visible()
    page.get_by_test_id("delete-document").click()
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("document-row")).to_have_count(0)
    expect(page.get_by_test_id("document-scope")).to_have_count(0)


def test_an_editor_sets_the_collections_relevance_threshold(
    open_ui: OpenUI, llm: OpenAIServer, tmp_path: Path
) -> None:
    page = open_ui(min_score=0.0)  # the service's default lets every question through
    add(page, tmp_path, "lighthouse.txt", LIGHTHOUSE)
    field = page.get_by_test_id("min-score-input")
    expect(field).to_have_value("")
    expect(field).to_have_attribute("placeholder", "0.00")
    expect(page.get_by_test_id("min-score-hint")).to_contain_text("default: 0.00")

    field.fill("0.99")
    page.get_by_test_id("min-score-save").click()
    expect(page.get_by_test_id("min-score-hint")).to_contain_text("own; now 0.99")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "collection-threshold.png"), full_page=True)
    ask(page, "When does the lighthouse keeper log the weather?")
    expect(answer_of(page).get_by_test_id("not-found")).to_be_visible()
    assert llm.chat_requests == []

    # Kept by the server: after a reload the field shows it; "Default" clears it.
    page.reload()
    open_documents(page)
    expect(page.get_by_test_id("min-score-input")).to_have_value("0.99")
    page.get_by_test_id("min-score-reset").click()
    expect(page.get_by_test_id("min-score-input")).to_have_value("")
    expect(page.get_by_test_id("min-score-hint")).to_contain_text("default: 0.00")
    page.get_by_test_id("new-chat").click()
    llm.script(Reply(tokens=["At six o'clock [1]."]))
    ask(page, "When does the lighthouse keeper log the weather?")
    answer = answer_of(page)
    expect(answer).to_contain_text("At six o'clock")
    expect(answer.get_by_test_id("not-found")).to_have_count(0)

    # A value out of range is not sent.
    page.get_by_test_id("min-score-input").fill("1.5")
    expect(page.get_by_test_id("min-score-save")).to_be_disabled()
    expect(page.get_by_test_id("min-score-hint")).to_contain_text("A number from 0 to 1")


def test_a_collection_whose_keyword_index_is_being_built_says_so(
    open_ui: OpenUI, llm: OpenAIServer, redis_server: EmbeddedRedis, prefix: str, tmp_path: Path
) -> None:
    page = open_ui(min_score=0.0)
    add(page, tmp_path, "manual.txt", MANUAL)
    expect(page.get_by_test_id("keyword-index")).to_have_count(0)
    # As a collection from before the keyword index: no `lexical` in its meta (the service
    # backfills it at start; this one is already running).
    with Redis.from_url(redis_server.url) as redis:
        redis.hdel(Keys(prefix, DEFAULT_WORKSPACE).collection("default").meta, "lexical")
    page.reload()
    open_documents(page)
    expect(page.get_by_test_id("keyword-index")).to_have_text("keyword index: building")
    page.get_by_test_id("retrieval-mode").select_option("hybrid")
    llm.script(Reply(tokens=["Clean the filter [1]."]))
    ask(page, "What does error E44-4471 mean?")
    answer = answer_of(page)
    answer.get_by_test_id("timings-toggle").click()
    expect(answer.get_by_test_id("retrieval-used")).to_contain_text("Meaning")
