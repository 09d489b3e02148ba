"""The documents panel and the ask bar in a real browser before a real gateway and RAG service:
uploads listed per collection (bug 5), files dropped anywhere in the window, on a desktop and on a
phone with the drawer closed (bug 6), folder upload, the upload's progress from the gateway's
events and its Cancel, tags set on upload and edited, and questions asked of picked documents
and tags (the filter reaches the RAG service: the loopback LLM's prompt holds only their
passages)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from ragis.client.ingest import SUPPORTED_SUFFIXES
from support.axe import report, severe_violations
from support.browser import ask, open_documents, upload
from support.llm_servers import OpenAIServer, Reply

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
ARTIFACTS = ROOT / "test-artifacts"
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1366, "height": 860}}

GARDEN = "The garden gate is painted green and opens onto the orchard of apple trees.\n"
LIGHTHOUSE = "The lighthouse keeper logs the weather every morning at six o'clock.\n"
BAKERY = "The bakery on the harbour sells rye bread baked in a wood-fired oven.\n"


class Stack:
    """A gateway serving the built UI before a RAG service, and pages opened on it."""

    def __init__(self, browser: Browser, url: str, stack: ExitStack, errors: list[str]) -> None:
        self.browser = browser
        self.url = url
        self._stack = stack
        self._errors = errors

    def open(self, **context: Any) -> Page:
        ctx = self.browser.new_context(**(context or DESKTOP))
        self._stack.callback(ctx.close)
        page = ctx.new_page()
        page.on("pageerror", lambda exc: self._errors.append(str(exc)))
        page.goto(self.url)
        expect(page.get_by_test_id("toggle-documents")).to_be_visible()
        return page

    def documents(self, collection: str = "default") -> list[dict[str, Any]]:
        """The collection's documents as the gateway lists them."""
        answer = httpx.get(f"{self.url}/api/documents", params={"collection": collection})
        answer.raise_for_status()
        return list(answer.json()["documents"])


OpenStack = Callable[..., Stack]


@pytest.fixture
def open_stack(
    browser: Browser,
    start_rag: Callable[..., AbstractContextManager[str]],
    start_gateway: Callable[..., AbstractContextManager[str]],
) -> Iterator[OpenStack]:
    """`open_stack(rag={...}, gateway={...})`: a stack with these settings; afterwards, no
    uncaught error in its pages."""
    stack = ExitStack()
    errors: list[str] = []

    def factory(
        *, rag: dict[str, Any] | None = None, gateway: dict[str, Any] | None = None
    ) -> Stack:
        rag_url = stack.enter_context(start_rag(rewrite_followups=False, **(rag or {})))
        url = stack.enter_context(
            start_gateway(rag_urls=[rag_url], static_dir=DIST, **(gateway or {}))
        )
        return Stack(browser, url, stack, errors)

    with stack:
        yield factory
    assert errors == [], f"uncaught errors in the page: {errors}"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def row(page: Page, name: str) -> Locator:
    return page.get_by_test_id("document-row").filter(has_text=name)


def upload_item(page: Page, name: str) -> Locator:
    return page.get_by_test_id("upload-item").filter(has_text=name)


class Drag:
    """Files dragged from outside the browser, as the OS does it: Chromium's own drag events
    (DevTools' Input.dispatchDragEvent), trusted like a user's, so an unhandled drop really makes
    the browser open the file."""

    def __init__(self, page: Page, paths: Sequence[Path]) -> None:
        self._cdp = page.context.new_cdp_session(page)
        self._data = {"items": [], "files": [str(p) for p in paths], "dragOperationsMask": 1}
        self._at = (0.0, 0.0)

    def over(self, target: Locator) -> Drag:
        box = target.bounding_box()
        assert box is not None, "the drop target is not on screen"
        self._at = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for kind in ("dragEnter", "dragOver"):
            self._send(kind)
        return self

    def drop(self) -> None:
        self._send("drop")
        self._cdp.detach()

    def leave(self) -> None:
        """Out of the window, and let go there."""
        self._at = (-20.0, -20.0)
        self._send("dragOver")
        self._send("dragCancel")
        self._cdp.detach()

    def _send(self, kind: str) -> None:
        x, y = self._at
        self._cdp.send(
            "Input.dispatchDragEvent", {"type": kind, "x": x, "y": y, "data": self._data}
        )


def drop_files(page: Page, paths: Sequence[Path], target: Locator) -> None:
    Drag(page, paths).over(target).drop()


def watch_drops(page: Page) -> None:
    """Record, after the page's own handlers, whether each drag event was taken by the page
    (`defaultPrevented`): a file drop the page does not take is the browser's, which opens the
    file in place of the app. (Headless Chromium does not open it: whether the page took the
    events is what a test can see.)"""
    page.evaluate(
        """() => {
          window.__drops = [];
          for (const type of ['dragover', 'drop']) {
            window.addEventListener(type, (e) => window.__drops.push([type, e.defaultPrevented]));
          }
        }"""
    )


def drops_taken(page: Page) -> dict[str, bool]:
    """For dragover and drop: whether every one of them was taken by the page."""
    seen: list[tuple[str, bool]] = page.evaluate("window.__drops")
    return {kind: all(taken for k, taken in seen if k == kind) and any(k == kind for k, _ in seen)
            for kind in ("dragover", "drop")}  # fmt: skip


def prompt_of(llm: OpenAIServer) -> str:
    """The last question's prompt as the LLM received it (sources and question)."""
    return str(llm.chat_requests[-1].json["messages"][-1]["content"])


def answered(page: Page) -> Locator:
    answer = page.get_by_test_id("message-assistant").last
    expect(page.get_by_test_id("stop")).to_have_count(0, timeout=30_000)
    return answer


def new_collection(page: Page, name: str) -> None:
    open_documents(page)
    page.get_by_test_id("new-collection").click()
    page.get_by_test_id("new-collection-name").fill(name)
    page.get_by_test_id("create-collection").click()
    expect(page.get_by_test_id("chat-collection")).to_have_text(name)


# --- The suffixes the UI sends are the CLI's -------------------------------------------------


def test_the_ui_sends_the_same_types_as_ragis_ingest() -> None:
    source = (ROOT / "frontend" / "src" / "documents" / "files.ts").read_text()
    block = source.split("SUPPORTED_SUFFIXES: readonly string[] = [", 1)[1].split("];", 1)[0]
    assert set(re.findall(r"'(\.[a-z0-9]+)'", block)) == set(SUPPORTED_SUFFIXES)


# --- Bug 5: the upload list is per collection -------------------------------------------------


def test_uploads_are_listed_in_their_own_collection_only(
    open_stack: OpenStack, tmp_path: Path
) -> None:
    """Bug 5: files uploaded in `manuals` showed as "Added" in `default` too."""
    page = open_stack().open()
    results = page.get_by_test_id("upload-result")
    upload(page, write(tmp_path, "garden.txt", GARDEN))
    expect(results).to_have_count(1)

    new_collection(page, "manuals")
    expect(results).to_have_count(0)  # default's upload is not listed here
    upload(page, write(tmp_path, "lighthouse.txt", LIGHTHOUSE))
    expect(results).to_have_count(1)
    expect(results).to_contain_text(["Added"])

    page.get_by_test_id("collection-select").select_option("default")
    expect(page.get_by_test_id("chat-collection")).to_have_text("default")
    expect(results).to_have_count(1)
    expect(
        page.locator("li").filter(has_text="garden.txt").get_by_test_id("upload-result")
    ).to_contain_text("Added")
    expect(page.locator("li").filter(has_text="lighthouse.txt")).to_have_count(0)
    expect(page.get_by_test_id("document-row")).to_have_count(1)


# --- Bug 6: a drop anywhere in the window ---------------------------------------------------


def test_a_file_dropped_on_the_chat_is_uploaded_and_the_page_stays(
    open_stack: OpenStack, tmp_path: Path
) -> None:
    """Bug 6: a file dropped outside the small drop zone made the browser open it and leave
    the app."""
    stack = open_stack()
    page = stack.open()
    app = page.url
    doc = write(tmp_path, "owls.md", "# Owls\n\nBarn owls hunt at night over open fields.\n")
    chat = page.get_by_role("log", name="Conversation")
    watch_drops(page)

    drop_files(page, [doc], chat)
    assert drops_taken(page) == {"dragover": True, "drop": True}  # not the browser's to open
    assert page.url == app
    expect(page.get_by_test_id("chat-input")).to_be_visible()

    # While files are dragged over the window, an overlay says where they go.
    drag = Drag(page, [doc]).over(chat)
    overlay = page.get_by_test_id("drop-overlay")
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text("Drop to add to default")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "documents-drop.png"))
    drag.leave()
    expect(overlay).to_have_count(0)

    open_documents(page)
    expect(row(page, "owls.md")).to_have_count(1, timeout=60_000)
    expect(upload_item(page, "owls.md").get_by_test_id("upload-result")).to_have_attribute(
        "data-status", "ok"
    )
    assert [d["filename"] for d in stack.documents()] == ["owls.md"]


def test_on_a_phone_a_file_dropped_with_the_drawer_closed_is_uploaded(
    open_stack: OpenStack, tmp_path: Path
) -> None:
    """Bug 6, on a phone: the drop zone is hidden in the closed drawer; a drop anywhere must
    upload without opening it, and say how it went."""
    stack = open_stack()
    page = stack.open(**PHONE)
    app = page.url
    expect(page.get_by_test_id("toggle-documents")).to_have_attribute("aria-expanded", "false")
    doc = write(tmp_path, "tides.txt", "High tide at the harbour comes twice a day.\n")
    watch_drops(page)

    drop_files(page, [doc], page.get_by_test_id("chat-input"))
    status = page.get_by_test_id("drop-status")
    assert drops_taken(page) == {"dragover": True, "drop": True}
    expect(status).to_contain_text("1 added to default", timeout=60_000)
    assert page.url == app
    expect(page.get_by_test_id("toggle-documents")).to_have_attribute("aria-expanded", "false")
    page.screenshot(path=str(ARTIFACTS / "documents-drop-phone.png"))
    assert [d["filename"] for d in stack.documents()] == ["tides.txt"]

    open_documents(page)
    expect(row(page, "tides.txt")).to_have_count(1)


def test_a_dropped_folder_sends_the_files_ragis_reads(
    open_stack: OpenStack, tmp_path: Path
) -> None:
    stack = open_stack()
    page = stack.open()
    folder = tmp_path / "notes"
    write(folder, "a.md", "# A\n\nThe first note is about kites.\n")
    write(folder, "deeper/b.txt", "The second note is about sails.\n")
    write(folder, "c.png", "not an image either")
    write(folder, ".hidden/d.txt", "A hidden note.\n")
    open_documents(page)
    drop_files(page, [folder], page.get_by_role("log", name="Conversation"))
    expect(page.get_by_test_id("upload-notice")).to_contain_text("2 files skipped")
    expect(page.get_by_test_id("document-row")).to_have_count(2, timeout=60_000)
    assert sorted(d["filename"] for d in stack.documents()) == ["a.md", "b.txt"]


# --- Folder upload ----------------------------------------------------------------------------


def test_upload_folder_sends_only_the_types_ragis_reads(
    open_stack: OpenStack, tmp_path: Path
) -> None:
    stack = open_stack()
    page = stack.open()
    folder = tmp_path / "handbook"
    write(folder, "intro.md", "# Intro\n\nThe handbook starts with the fire drill.\n")
    write(folder, "chapters/one.txt", "Chapter one: the fire drill happens every March.\n")
    write(folder, "chapters/two.html", "<p>Chapter two: the assembly point is the car park.</p>")
    write(folder, "logo.svg", "<svg/>")
    write(folder, "build.exe", "MZ")
    write(folder, ".git/config", "[core]")
    open_documents(page)
    page.get_by_test_id("upload-folder-input").set_input_files(str(folder))

    expect(page.get_by_test_id("upload-notice")).to_contain_text("3 files added to the queue")
    expect(page.get_by_test_id("upload-notice")).to_contain_text("3 files skipped")
    results = page.get_by_test_id("upload-result")
    expect(results).to_have_count(3, timeout=60_000)
    for result in results.all():
        expect(result).to_have_attribute("data-status", "ok")
    expect(page.get_by_test_id("document-row")).to_have_count(3)
    assert sorted(d["filename"] for d in stack.documents()) == ["intro.md", "one.txt", "two.html"]


# --- Progress and Cancel ----------------------------------------------------------------------

#: Small chunks in small batches: a file of a few hundred sentences is embedded in many steps.
SLOW_INGEST: dict[str, Any] = {
    "rag": {"embed_batch_size": 4},
    "gateway": {"chunk_tokens": 16, "chunk_overlap": 0},
}


def long_text(topic: str, sentences: int) -> str:
    return "\n\n".join(
        f"Note {i} on {topic}: the {topic} inspection number {i} found item {i * 7 % 101} in order."
        for i in range(sentences)
    )


def test_the_upload_shows_the_servers_progress_and_cancel_stores_nothing(
    open_stack: OpenStack, tmp_path: Path
) -> None:
    stack = open_stack(**SLOW_INGEST)
    page = stack.open()
    open_documents(page)
    big = write(tmp_path, "inspections.txt", long_text("boiler", 600))
    page.get_by_test_id("upload-input").set_input_files(str(big))
    state = upload_item(page, "inspections.txt").get_by_test_id("upload-state")
    # The stages as the gateway streams them, then chunks embedded of all, with an estimate.
    expect(state).to_have_text(re.compile(r"^embedding \d+ / \d+ chunks"), timeout=60_000)
    bar = upload_item(page, "inspections.txt").get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuetext", re.compile(r"embedding \d+ / \d+ chunks"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "documents-progress.png"))
    result = upload_item(page, "inspections.txt").get_by_test_id("upload-result")
    expect(result).to_have_attribute("data-status", "ok", timeout=120_000)
    expect(result).to_contain_text(re.compile(r"Added · \d+ chunks"))
    expect(row(page, "inspections.txt")).to_have_count(1)

    # Cancel while the server embeds: the row says so and the collection keeps nothing of it.
    other = write(tmp_path, "audits.txt", long_text("chimney", 600))
    page.get_by_test_id("upload-input").set_input_files(str(other))
    state = upload_item(page, "audits.txt").get_by_test_id("upload-state")
    expect(state).to_have_text(re.compile(r"^embedding \d+ / \d+ chunks"), timeout=60_000)
    upload_item(page, "audits.txt").get_by_test_id("upload-cancel").click()
    result = upload_item(page, "audits.txt").get_by_test_id("upload-result")
    expect(result).to_have_attribute("data-status", "cancelled")
    expect(result).to_have_text("Cancelled")
    expect(row(page, "audits.txt")).to_have_count(0, timeout=30_000)
    expect(page.get_by_test_id("document-row")).to_have_count(1)
    assert [d["filename"] for d in stack.documents()] == ["inspections.txt"]


def test_a_queued_upload_cancelled_is_never_sent(open_stack: OpenStack, tmp_path: Path) -> None:
    stack = open_stack(**SLOW_INGEST)
    page = stack.open()
    open_documents(page)
    # Two run at a time: the third waits, and its Cancel keeps it from being sent at all.
    files = [write(tmp_path, f"{n}.txt", long_text(n, 200)) for n in ("north", "south", "east")]
    page.get_by_test_id("upload-input").set_input_files([str(f) for f in files])
    east = upload_item(page, "east.txt")
    expect(east.get_by_test_id("upload-state")).to_have_text("waiting")
    east.get_by_test_id("upload-cancel").click()
    expect(east.get_by_test_id("upload-result")).to_have_attribute("data-status", "cancelled")
    results = page.get_by_test_id("upload-result")
    expect(results.and_(page.locator("[data-status=ok]"))).to_have_count(2, timeout=120_000)
    assert sorted(d["filename"] for d in stack.documents()) == ["north.txt", "south.txt"]


# --- Tags --------------------------------------------------------------------------------------


def test_tags_set_on_upload_are_shown_and_edited(
    open_stack: OpenStack, llm: OpenAIServer, tmp_path: Path
) -> None:
    stack = open_stack(rag={"min_score": 0.0})
    page = stack.open(bypass_csp=True, **DESKTOP)  # axe is injected below
    open_documents(page)
    field = page.get_by_test_id("upload-tags")
    field.fill(", ".join(f"t{i}" for i in range(33)))
    expect(page.get_by_test_id("upload-tags-hint")).to_contain_text("33 tags")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill("garden, green")
    upload(page, write(tmp_path, "garden.txt", GARDEN))
    field.fill("")
    upload(page, write(tmp_path, "bakery.txt", BAKERY))
    garden = row(page, "garden.txt")
    expect(garden.get_by_test_id("document-tag")).to_have_text(["garden", "green"])
    expect(row(page, "bakery.txt").get_by_test_id("document-tag")).to_have_count(0)

    # Escape leaves them as they were, and the focus goes back to the button.
    garden.get_by_test_id("edit-tags").click()
    editor = garden.get_by_test_id("tag-input")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("garden, green")
    editor.fill("nothing")
    editor.press("Escape")
    expect(garden.get_by_test_id("tag-editor")).to_have_count(0)
    expect(garden.get_by_test_id("edit-tags")).to_be_focused()
    expect(garden.get_by_test_id("document-tag")).to_have_text(["garden", "green"])

    # Enter saves: the server has them (a reload shows them) and asks by them at once.
    garden.get_by_test_id("edit-tags").click()
    editor.fill("x" * 65)
    expect(garden.get_by_test_id("tag-save")).to_be_disabled()
    expect(garden.get_by_test_id("tag-editor")).to_contain_text("over 64 characters")
    editor.fill("orchard,  apples ,orchard")
    assert severe_violations(page) == [], report({"tag editor": severe_violations(page)})
    editor.press("Enter")
    expect(garden.get_by_test_id("tag-editor")).to_have_count(0)
    expect(garden.get_by_test_id("document-tag")).to_have_text(["orchard", "apples"])
    assert [d["tags"] for d in stack.documents() if d["filename"] == "garden.txt"] == [
        ["orchard", "apples"]
    ]
    page.screenshot(path=str(ARTIFACTS / "documents-tags.png"))
    page.reload()
    open_documents(page)
    expect(row(page, "garden.txt").get_by_test_id("document-tag")).to_have_text(
        ["orchard", "apples"]
    )

    page.get_by_test_id("ask-picker").click()
    panel = page.get_by_test_id("ask-picker-panel")
    expect(panel.get_by_test_id("pick-tag")).to_have_count(2)  # "garden" and "green" are gone
    panel.get_by_role("checkbox", name=re.compile("^orchard")).check()
    page.keyboard.press("Escape")
    llm.script(Reply(tokens=["Green [1]."]))
    ask(page, "What is sold at the harbour, and what colour is the gate?")
    expect(answered(page)).to_contain_text("Green")
    prompt = prompt_of(llm)
    assert 'file="garden.txt"' in prompt
    assert "bakery.txt" not in prompt

    # Empty: no tags at all.
    garden = row(page, "garden.txt")
    garden.get_by_test_id("edit-tags").click()
    garden.get_by_test_id("tag-input").fill("")
    garden.get_by_test_id("tag-save").click()
    expect(garden.get_by_test_id("document-tag")).to_have_count(0)


# --- Asking only some documents ---------------------------------------------------------------


def upload_tagged(page: Page, path: Path, tags: str) -> None:
    open_documents(page)
    page.get_by_test_id("upload-tags").fill(tags)
    upload(page, path)
    page.get_by_test_id("upload-tags").fill("")


def test_ask_only_a_picked_document_then_also_a_picked_tag(
    open_stack: OpenStack, llm: OpenAIServer, tmp_path: Path
) -> None:
    page = open_stack(rag={"min_score": 0.0}).open()
    upload_tagged(page, write(tmp_path, "garden.txt", GARDEN), "outdoors")
    upload_tagged(page, write(tmp_path, "lighthouse.txt", LIGHTHOUSE), "")
    upload_tagged(page, write(tmp_path, "bakery.txt", BAKERY), "town")
    expect(row(page, "garden.txt").get_by_test_id("document-tag")).to_have_text(["outdoors"])

    picker = page.get_by_test_id("ask-picker")
    expect(picker).to_have_text(re.compile("All documents"))
    picker.click()
    panel = page.get_by_test_id("ask-picker-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("pick-document")).to_have_count(3)
    expect(panel.get_by_test_id("pick-tag")).to_have_count(2)
    panel.get_by_role("checkbox", name="lighthouse.txt").check()
    expect(page.get_by_test_id("document-scope")).to_contain_text("Only: lighthouse.txt")
    page.keyboard.press("Escape")
    expect(panel).to_have_count(0)
    expect(picker).to_be_focused()

    llm.script(Reply(tokens=["At six [1]."]))
    ask(page, "What happens every morning, and what colour is the gate?")
    expect(answered(page)).to_contain_text("At six")
    prompt = prompt_of(llm)
    assert 'file="lighthouse.txt"' in prompt
    assert "garden.txt" not in prompt
    assert "bakery.txt" not in prompt

    # The lighthouse and anything tagged "outdoors": the garden too, never the bakery.
    picker.click()
    panel.get_by_role("checkbox", name=re.compile("^outdoors")).check()
    scope = page.get_by_test_id("document-scope")
    expect(scope.get_by_test_id("scope-document")).to_have_text(["lighthouse.txt"])
    expect(scope.get_by_test_id("scope-tag")).to_contain_text(["outdoors"])
    expect(picker).to_contain_text("2 picked")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ask-picker.png"))
    page.keyboard.press("Escape")

    page.get_by_test_id("new-chat").click()
    llm.script(Reply(tokens=["Green, and at six [1][2]."]))
    ask(page, "What colour is the gate and when is the weather logged?")
    expect(answered(page)).to_contain_text("Green")
    prompt = prompt_of(llm)
    assert 'file="lighthouse.txt"' in prompt
    assert 'file="garden.txt"' in prompt
    assert "bakery.txt" not in prompt

    # A tag alone: the server's tag filter.
    scope.get_by_test_id("scope-remove").first.click()  # not the lighthouse any more
    expect(scope.get_by_test_id("scope-document")).to_have_count(0)
    page.get_by_test_id("new-chat").click()
    llm.script(Reply(tokens=["Green [1]."]))
    ask(page, "What is written about bread, lighthouses and gates?")
    expect(answered(page)).to_contain_text("Green")
    prompt = prompt_of(llm)
    assert 'file="garden.txt"' in prompt
    assert "lighthouse.txt" not in prompt
    assert "bakery.txt" not in prompt

    scope.get_by_test_id("clear-document-scope").click()
    expect(scope).to_have_count(0)
    expect(picker).to_have_text(re.compile("All documents"))

    # Not modal: tabbing out of the panel closes it.
    picker.click()
    page.get_by_test_id("ask-picker-done").focus()
    page.keyboard.press("Tab")
    expect(panel).to_have_count(0)

    # The dark theme.
    page.emulate_media(color_scheme="dark")
    picker.click()
    panel.get_by_role("checkbox", name="garden.txt").check()
    page.screenshot(path=str(ARTIFACTS / "ask-picker-dark.png"))


def test_the_picker_on_a_phone_with_the_keyboard(
    open_stack: OpenStack, llm: OpenAIServer, tmp_path: Path
) -> None:
    page = open_stack(rag={"min_score": 0.0}).open(bypass_csp=True, **PHONE)  # axe is injected
    upload_tagged(page, write(tmp_path, "garden.txt", GARDEN), "outdoors")
    upload_tagged(page, write(tmp_path, "bakery.txt", BAKERY), "town")
    assert severe_violations(page) == [], report({"documents": severe_violations(page)})
    page.get_by_test_id("toggle-documents").click()  # close the drawer
    expect(page.get_by_test_id("toggle-documents")).to_have_attribute("aria-expanded", "false")

    picker = page.get_by_test_id("ask-picker")
    picker.focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Ask only some documents")
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("ask-picker-filter")).to_be_focused()
    page.keyboard.type("bak")
    expect(panel.get_by_test_id("pick-document")).to_have_count(1)
    page.keyboard.press("Tab")  # the one document left: bakery.txt
    expect(panel.get_by_role("checkbox", name="bakery.txt")).to_be_focused()
    page.keyboard.press("Space")
    expect(panel.get_by_role("checkbox", name="bakery.txt")).to_be_checked()
    box = panel.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert severe_violations(page) == [], report({"picker": severe_violations(page)})
    page.screenshot(path=str(ARTIFACTS / "ask-picker-phone.png"))
    page.keyboard.press("Escape")
    expect(picker).to_be_focused()
    expect(page.get_by_test_id("document-scope")).to_contain_text("Only: bakery.txt")

    llm.script(Reply(tokens=["Rye bread [1]."]))
    ask(page, "What is sold, and what colour is the gate?")
    expect(answered(page)).to_contain_text("Rye bread")
    prompt = prompt_of(llm)
    assert 'file="bakery.txt"' in prompt
    assert "garden.txt" not in prompt
