"""Accounts in a real browser, with sign-in on (RAGIS_AUTH=on, a first admin from the settings):
the sign-in page and its refusal, upload and ask as the admin, sign out; a second user, made
through the API, signs in and sees none of the admin's documents; API keys from the user menu
(shown once, revoked after a confirmation); a new workspace from the switcher starts empty; the
admin page for users and members; and a locked-out name is told how long to wait."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from support.browser import open_documents
from support.llm_servers import OpenAIServer, Reply

DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"
ADMIN, ADMIN_PASSWORD = "admin", "lighthouse-keeper-2026"
BOB, BOB_PASSWORD = "bob", "harbour-master-2026"
SECRET = "The vault code of the lighthouse is 4-8-1-5."


@pytest.fixture
def auth_url(
    start_rag: Callable[..., AbstractContextManager[str]],
    start_gateway: Callable[..., AbstractContextManager[str]],
) -> Iterator[str]:
    """A gateway with sign-in on and a first admin, serving the built UI, before a real RAG
    service."""
    with (
        start_rag() as rag_url,
        start_gateway(
            rag_urls=[rag_url],
            static_dir=DIST,
            auth="on",
            admin_user=ADMIN,
            admin_password=ADMIN_PASSWORD,
        ) as url,
    ):
        yield url


# Records every Content-Security-Policy violation (added before any script of the page).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@pytest.fixture
def signin_page(browser: Browser, auth_url: str) -> Iterator[Page]:
    """The UI at its first visit; afterwards, no uncaught error and no CSP violation."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(auth_url)
    yield page
    violations = page.evaluate("window.__csp")
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"
    assert violations == [], f"CSP violations: {violations}"


def sign_in(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_test_id("signin-submit").click()


def sign_out(page: Page) -> None:
    page.get_by_test_id("user-menu").locator("summary").click()
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("signin-form")).to_be_visible()


def add_user(base_url: str, username: str, password: str) -> None:
    """As the admin, through the API (a script would do the same with a key)."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        me = client.post("/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        assert me.status_code == 200, me.text
        made = client.post(
            "/api/users", json={"username": username, "password": password, "role": "member"}
        )
        assert made.status_code == 201, made.text


def test_sign_in_upload_ask_sign_out_and_another_user_sees_nothing_of_it(
    signin_page: Page, auth_url: str, llm: OpenAIServer, tmp_path: Path
) -> None:
    page = signin_page
    expect(page.get_by_test_id("signin-form")).to_be_visible()
    expect(page.get_by_test_id("chat-input")).to_have_count(0)

    sign_in(page, ADMIN, "not-the-password")
    expect(page.get_by_test_id("signin-error")).to_contain_text("Wrong username or password")
    expect(page.get_by_test_id("chat-input")).to_have_count(0)

    sign_in(page, ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_test_id("chat-input")).to_be_visible()
    page.get_by_test_id("user-menu").locator("summary").click()
    expect(page.get_by_test_id("user-name")).to_have_text(ADMIN)
    expect(page.get_by_test_id("user-role")).to_have_text("admin")
    page.keyboard.press("Escape")

    doc = tmp_path / "vault.md"
    doc.write_text(f"# Vault\n\n{SECRET}\n")
    open_documents(page)
    page.get_by_test_id("upload-input").set_input_files(str(doc))
    # This file's own result: an earlier upload's "ok" is in the list too.
    expect(
        page.locator("li").filter(has_text=doc.name).get_by_test_id("upload-result")
    ).to_have_attribute("data-status", "ok", timeout=60_000)
    expect(page.get_by_test_id("document-row")).to_have_count(1)

    llm.script(Reply(tokens=["The vault code ", "is 4-8-1-5 ", "[1]."]))
    page.get_by_test_id("chat-input").fill("What is the vault code?")
    page.get_by_test_id("chat-input").press("Enter")
    answer = page.get_by_test_id("message-assistant").last
    expect(answer).to_contain_text("is 4-8-1-5", timeout=30_000)
    expect(page.get_by_test_id("citation-link").first).to_be_visible()

    sign_out(page)
    expect(page.get_by_test_id("chat-input")).to_have_count(0)
    # Signed out means signed out: the API refuses the browser's requests now.
    assert page.request.get(f"{auth_url}/api/documents?collection=default").status == 401

    add_user(auth_url, BOB, BOB_PASSWORD)
    sign_in(page, BOB, BOB_PASSWORD)
    expect(page.get_by_test_id("chat-input")).to_be_visible()
    # Bob works in his own workspace: the admin's is not even offered.
    options = page.get_by_test_id("workspace-select").locator("option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("value", BOB)
    open_documents(page)
    expect(page.get_by_test_id("document-row")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("vault.md")
    # The conversation restored after sign-in is not the admin's: a fresh chat.
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    page.get_by_test_id("chat-input").fill("What is the vault code?")
    page.get_by_test_id("chat-input").press("Enter")
    expect(page.get_by_test_id("error-message").last).to_contain_text("Upload a document first")
    expect(page.locator("body")).not_to_contain_text("4-8-1-5")


def test_api_keys_are_shown_once_and_revoked_and_a_new_workspace_starts_empty(
    signin_page: Page, auth_url: str, tmp_path: Path
) -> None:
    page = signin_page
    sign_in(page, ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_test_id("chat-input")).to_be_visible()

    page.get_by_test_id("user-menu").locator("summary").click()
    page.get_by_test_id("open-keys").click()
    dialog = page.get_by_test_id("keys-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("No keys yet.")
    dialog.get_by_test_id("new-key-name").fill("laptop CLI")
    dialog.get_by_test_id("create-key").click()
    key = dialog.get_by_test_id("new-key-value").input_value(timeout=10_000)
    assert key.startswith("rgs_")
    expect(dialog.get_by_test_id("new-key")).to_contain_text("you will not see it again")
    expect(dialog.get_by_test_id("key-row")).to_have_count(1)
    expect(dialog.get_by_test_id("key-row")).to_contain_text("laptop CLI")
    # The key works, as its user.
    me = httpx.get(f"{auth_url}/api/me", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert (me.status_code, me.json()["username"], me.json()["via"]) == (200, ADMIN, "key")

    dialog.get_by_test_id("dismiss-key").click()
    expect(dialog.get_by_test_id("new-key-value")).to_have_count(0)
    dialog.get_by_test_id("revoke-key").click()
    page.get_by_test_id("confirm-no").click()
    expect(dialog.get_by_test_id("key-row")).to_have_count(1)
    dialog.get_by_test_id("revoke-key").click()
    page.get_by_test_id("confirm-yes").click()
    expect(dialog.get_by_test_id("key-row")).to_have_count(0)
    revoked = httpx.get(
        f"{auth_url}/api/me", headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert revoked.status_code == 401
    dialog.get_by_test_id("close-keys").click()
    expect(dialog).to_have_count(0)

    doc = tmp_path / "notes.md"
    doc.write_text("# Notes\n\nThe harbour opens at dawn.\n")
    open_documents(page)
    page.get_by_test_id("upload-input").set_input_files(str(doc))
    # This file's own result: an earlier upload's "ok" is in the list too.
    expect(
        page.locator("li").filter(has_text=doc.name).get_by_test_id("upload-result")
    ).to_have_attribute("data-status", "ok", timeout=60_000)
    expect(page.get_by_test_id("document-row")).to_have_count(1)

    page.get_by_test_id("new-workspace").click()
    page.get_by_test_id("new-workspace-name").fill("team")
    page.get_by_test_id("create-workspace").click()
    expect(page.get_by_test_id("workspace-select")).to_have_value("team")
    open_documents(page)
    expect(page.get_by_test_id("document-row")).to_have_count(0)
    # Back in the personal workspace, its document is there again; a reload keeps the choice.
    page.get_by_test_id("workspace-select").select_option(ADMIN)
    open_documents(page)
    expect(page.get_by_test_id("document-row")).to_have_count(1)
    page.reload()
    expect(page.get_by_test_id("workspace-select")).to_have_value(ADMIN)


def test_the_admin_page_adds_and_removes_users_and_manages_members(
    signin_page: Page, auth_url: str
) -> None:
    page = signin_page
    sign_in(page, ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_test_id("chat-input")).to_be_visible()
    page.get_by_test_id("user-menu").locator("summary").click()
    page.get_by_test_id("open-admin").click()
    admin = page.get_by_test_id("admin-page")
    expect(admin).to_be_visible()
    expect(admin.get_by_test_id("user-row")).to_have_count(1)

    admin.get_by_test_id("new-user-name").fill(BOB)
    admin.get_by_test_id("new-user-password").fill("short")
    admin.get_by_test_id("add-user").click()  # the browser refuses it: under 8 characters
    expect(admin.get_by_test_id("user-row")).to_have_count(1)
    admin.get_by_test_id("new-user-password").fill(BOB_PASSWORD)
    admin.get_by_test_id("add-user").click()
    expect(admin.get_by_test_id("user-row")).to_have_count(2)
    # A name that is taken is refused by the gateway, in place.
    admin.get_by_test_id("new-user-name").fill(BOB)
    admin.get_by_test_id("new-user-password").fill(BOB_PASSWORD)
    admin.get_by_test_id("add-user").click()
    expect(admin.get_by_test_id("error-message")).to_be_visible()

    # Members of the current (personal) workspace: add bob, make him a viewer, remove him.
    members = admin.get_by_test_id("member-row")
    expect(members).to_have_count(1)
    admin.get_by_test_id("new-member-name").fill(BOB)
    admin.get_by_test_id("new-member-role").select_option("editor")
    admin.get_by_test_id("add-member").click()
    expect(members).to_have_count(2)
    bob = admin.locator(f'[data-testid="member-row"][data-username="{BOB}"]')
    expect(bob.get_by_test_id("member-role")).to_have_value("editor")
    bob.get_by_test_id("member-role").select_option("viewer")
    with httpx.Client(base_url=auth_url, timeout=30) as client:
        client.post("/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
        listed = client.get(f"/api/workspaces/{ADMIN}/members").json()["members"]
        assert {"username": BOB, "role": "viewer"} in listed
    bob.get_by_test_id("remove-member").click()
    page.get_by_test_id("confirm-yes").click()
    expect(members).to_have_count(1)

    bob_user = admin.locator(f'[data-testid="user-row"][data-username="{BOB}"]')
    bob_user.get_by_test_id("remove-user").click()
    page.get_by_test_id("confirm-no").click()
    expect(admin.get_by_test_id("user-row")).to_have_count(2)
    bob_user.get_by_test_id("remove-user").click()
    page.get_by_test_id("confirm-yes").click()
    expect(admin.get_by_test_id("user-row")).to_have_count(1)

    admin.get_by_test_id("close-admin").click()
    expect(page.get_by_test_id("chat-input")).to_be_visible()


def test_repeated_wrong_passwords_show_how_long_to_wait(
    browser: Browser,
    start_rag: Callable[..., AbstractContextManager[str]],
    start_gateway: Callable[..., AbstractContextManager[str]],
) -> None:
    strict = {"login_slow_after": 2, "login_max_failures": 2}
    with (
        start_rag() as rag_url,
        start_gateway(
            rag_urls=[rag_url],
            static_dir=DIST,
            auth="on",
            admin_user=ADMIN,
            admin_password=ADMIN_PASSWORD,
            **strict,
        ) as url,
    ):
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.goto(url)
        error = page.get_by_test_id("signin-error")
        for _ in range(2):
            sign_in(page, ADMIN, "not-the-password")
            expect(error).to_contain_text("Wrong username or password")
            expect(page.get_by_test_id("signin-submit")).to_be_enabled()
        sign_in(page, ADMIN, ADMIN_PASSWORD)
        expect(error).to_have_text(re.compile(r"Too many attempts, try again in \d+ s"))
        expect(page.get_by_test_id("chat-input")).to_have_count(0)
        context.close()
