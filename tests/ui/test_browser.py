"""End to end in a real browser: upload, ask, watch the answer stream, citations, stop, reload,
delete; and content the UI did not write never runs."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from support.browser import ask, open_documents, upload
from support.documents import pdf_bytes
from support.llm_servers import Gate, OpenAIServer, Reply

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

PDF_PAGES = [
    "The lighthouse keeper logs the weather every morning at six.",
    "The Fresnel lens of the lighthouse was installed in 1872 and weighs four tonnes.",
    "Visitors may climb the 217 steps on Sundays between ten and four.",
]


def test_upload_ask_stream_cite_reload_and_delete(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    pdf = tmp_path / "lighthouse.pdf"
    pdf.write_bytes(pdf_bytes(PDF_PAGES))
    upload(page, pdf)
    expect(page.get_by_test_id("document-row")).to_have_count(1)
    expect(page.get_by_test_id("document-row")).to_contain_text("lighthouse.pdf")

    tokens = ["The Fresnel lens ", "was installed ", "in 1872 ", "[1]."]
    gate = Gate()  # the LLM sends a token only when the test opens the gate
    llm.script(Reply(tokens=tokens, gate=gate))
    gate.open()
    ask(page, "When was the Fresnel lens installed?")
    answer = page.get_by_test_id("message-assistant").last
    # The answer streams in: its first words show while the rest is still held back.
    expect(answer).to_contain_text("The Fresnel lens", timeout=20_000)
    assert "in 1872" not in answer.inner_text()
    for _ in tokens[1:]:
        gate.open()
    expect(answer).to_contain_text("in 1872", timeout=20_000)
    expect(page.get_by_test_id("stop")).to_have_count(0, timeout=20_000)

    page.get_by_test_id("citation-link").first.click()
    panel = page.get_by_test_id("sources-panel")
    expect(panel).to_be_visible()
    first = panel.get_by_test_id("source-item").first
    expect(first).to_contain_text("lighthouse.pdf")
    expect(first).to_contain_text("Fresnel lens")
    expect(first).to_contain_text("2")  # the page the passage comes from
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)

    page.reload()
    expect(page.get_by_test_id("message-user")).to_contain_text(
        "When was the Fresnel lens installed?"
    )
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("in 1872")

    open_documents(page)
    page.get_by_test_id("delete-document").first.click()
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id("document-row")).to_have_count(0)


def test_stop_aborts_the_answer_and_the_server_cancels_the_llm(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    doc = tmp_path / "notes.md"
    doc.write_text("# Notes\n\nThe harbour opens at dawn and closes at dusk.\n")
    upload(page, doc)
    # Two tokens go out; the LLM holds the rest until the client leaves.
    gate = Gate()
    llm.script(Reply(tokens=[f"word{i} " for i in range(60)], gate=gate))
    gate.open()
    gate.open()
    ask(page, "When does the harbour open?")
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("word1", timeout=20_000)
    page.get_by_test_id("stop").click()
    assert llm.wait_for_disconnect(timeout=30)
    assert llm.completed == 0
    expect(page.get_by_test_id("stopped-badge")).to_be_visible()
    text = page.get_by_test_id("message-assistant").last.inner_text()
    assert "word59" not in text
    # Esc stops too. The stopped answer is kept in the conversation, so the next question is a
    # follow-up: its standalone rewrite is one LLM call of its own, answered in full first.
    again = Gate()
    llm.script(
        Reply(tokens=["When does the harbour close?"]),
        Reply(tokens=[f"more{i} " for i in range(60)], gate=again),
    )
    again.open()
    again.open()
    ask(page, "And when does it close?")
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("more1", timeout=20_000)
    page.get_by_test_id("chat-input").press("Escape")
    assert llm.wait_for_disconnect(timeout=30, count=2)
    assert llm.completed == 1  # the rewrite; the answer itself was cut off


XSS = (
    'Harbour rules: <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> '
    '[click me](javascript:window.__xss=3) <a href="javascript:window.__xss=4">link</a> '
    "<svg onload=window.__xss=5></svg> the harbour master decides."
)


def test_document_and_answer_html_render_as_text_and_never_run(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    doc = tmp_path / "rules.txt"
    doc.write_text(XSS)
    upload(page, doc)
    llm.script(Reply(tokens=["Answer: ", XSS, " [1]"]))
    ask(page, "Who decides in the harbour?")
    answer = page.get_by_test_id("message-assistant").last
    expect(answer).to_contain_text("the harbour master decides", timeout=20_000)
    page.get_by_test_id("citation-link").first.click()
    source = page.get_by_test_id("source-item").first
    expect(source).to_contain_text("<img src=x")
    expect(source).to_contain_text("<script>")
    for link in answer.locator("a").all():
        href = link.get_attribute("href") or ""
        assert not href.lower().startswith("javascript:")
    assert answer.locator("script, img[onerror], svg[onload]").count() == 0
    for link in answer.locator("a").all():
        if link.is_visible():
            link.click(modifiers=["Shift"], no_wait_after=True, timeout=2_000)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    assert dialogs == []


def test_picking_another_collection_starts_a_new_chat(
    page: Page, llm: OpenAIServer, tmp_path: Path
) -> None:
    # A session is bound to its collection (the server answers 409 for another one): the UI must
    # not carry the conversation over when the collection changes.
    note = tmp_path / "vault.txt"
    note.write_text("The vault code is 4711.\n")
    upload(page, note)
    llm.script(Reply(tokens=["The code is 4711 [1]."]))
    ask(page, "What is the vault code?")
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("4711", timeout=20_000)

    open_documents(page)
    page.get_by_test_id("new-collection").click()
    page.get_by_test_id("new-collection-name").fill("tea")
    page.get_by_test_id("create-collection").click()
    expect(page.get_by_test_id("chat-collection")).to_have_text("tea")
    expect(page.get_by_test_id("message-user")).to_have_count(0)  # a new chat
    tea = tmp_path / "tea.txt"
    tea.write_text("Green tea steeps for two minutes.\n")
    upload(page, tea)
    llm.script(Reply(tokens=["Two minutes [1]."]))
    ask(page, "How long does green tea steep?")
    expect(page.get_by_test_id("message-assistant").last).to_contain_text(
        "Two minutes", timeout=20_000
    )
    expect(page.get_by_test_id("error-message")).to_have_count(0)
    assert "4711" not in str(llm.chat_requests[-1].json["messages"])
