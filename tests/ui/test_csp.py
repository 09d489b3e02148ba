"""The web UI works under the gateway's Content-Security-Policy in a real Chromium: it loads,
uploads (with its progress bar), streams an answer with Markdown and citations, and opens the
sources panel without one CSP violation; and the policy is really enforced (an inline script is
refused)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from support.documents import pdf_bytes
from support.llm_servers import OpenAIServer, Reply

# Records every violation the page reports; added by the browser before any script of the page,
# so the policy does not apply to it.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


def test_the_ui_works_under_the_csp_without_a_violation(
    browser: Browser, stack_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(stack_url)
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]

    pdf = tmp_path / "lighthouse.pdf"
    pdf.write_bytes(pdf_bytes(["The Fresnel lens of the lighthouse was installed in 1872."]))
    if page.get_by_test_id("toggle-documents").get_attribute("aria-expanded") != "true":
        page.get_by_test_id("toggle-documents").click()
    page.get_by_test_id("upload-input").set_input_files(str(pdf))
    # This file's own result: an earlier upload's "ok" is in the list too.
    expect(
        page.locator("li").filter(has_text=pdf.name).get_by_test_id("upload-result")
    ).to_have_attribute("data-status", "ok", timeout=60_000)

    llm.script(Reply(tokens=["The **Fresnel** lens ", "was installed ", "in `1872` [1]."]))
    page.get_by_test_id("chat-input").fill("When was the Fresnel lens installed?")
    page.get_by_test_id("chat-input").press("Enter")
    answer = page.get_by_test_id("message-assistant").last
    expect(answer).to_contain_text("in 1872", timeout=20_000)
    expect(answer.locator("strong")).to_have_text("Fresnel")
    page.get_by_test_id("citation-link").first.click()
    expect(page.get_by_test_id("sources-panel")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("in 1872")

    assert page.evaluate("window.__csp") == []
    assert [line for line in console if "Content Security Policy" in line] == []
    assert errors == []

    # The control: the policy is enforced, so an inline script is refused (and reported).
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = 1'; document.body.append(s); }"
    )
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in page.evaluate("window.__csp"))
    context.close()


def test_pdfjs_draws_a_kept_pdf_under_the_same_policy(
    browser: Browser, stack_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    """The viewer's pdf.js (issue 18) needs nothing the policy does not already allow: its worker
    is a module of the app's own assets (no blob:, no eval, no wasm), so the page is drawn with
    not one violation and the policy stays as narrow as before."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    workers: list[str] = []
    page.on("worker", lambda worker: workers.append(worker.url))
    response = page.goto(stack_url)
    assert response is not None
    policy = response.headers["content-security-policy"]
    for broader in ("blob:", "unsafe-eval", "wasm-unsafe-eval", "unsafe-inline", "worker-src"):
        assert broader not in policy, broader

    pdf = tmp_path / "lighthouse.pdf"
    pdf.write_bytes(pdf_bytes(["Keeper's log.", "The Fresnel lens was installed in 1872."]))
    if page.get_by_test_id("toggle-documents").get_attribute("aria-expanded") != "true":
        page.get_by_test_id("toggle-documents").click()
    page.get_by_test_id("upload-input").set_input_files(str(pdf))
    expect(
        page.locator("li").filter(has_text=pdf.name).get_by_test_id("upload-result")
    ).to_have_attribute("data-status", "ok", timeout=60_000)
    llm.script(Reply(tokens=["In 1872 [1]."]))
    page.get_by_test_id("chat-input").fill("When was the Fresnel lens installed?")
    page.get_by_test_id("chat-input").press("Enter")
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("In 1872")
    page.get_by_test_id("citation-link").first.click()
    page.get_by_test_id("source-open").first.click()
    drawn = page.get_by_test_id("viewer-page")
    expect(drawn).to_have_attribute("data-rendered", "true", timeout=30_000)
    assert workers, "pdf.js ran without its worker"
    assert all(url.startswith(stack_url) for url in workers), workers
    assert page.evaluate("window.__csp") == []
    context.close()
