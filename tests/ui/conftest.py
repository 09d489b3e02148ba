"""The whole stack for browser tests: Redis 8, RAG service, gateway serving the built UI,
a loopback LLM, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("RAGIS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]  # fmt: skip


def _require(condition: bool, why: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    _require(shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists(),
             f"Chromium is missing at {CHROMIUM}; scripts/check installs it")  # fmt: skip
    _require((DIST / "index.html").exists(), "the UI is not built; scripts/check builds it")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    browser = playwright_session.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def stack_url(
    start_rag: Callable[..., AbstractContextManager[str]],
    start_gateway: Callable[..., AbstractContextManager[str]],
) -> Iterator[str]:
    """The gateway's URL, serving the built UI, in front of a real RAG service."""
    with start_rag() as rag_url, start_gateway(rag_urls=[rag_url], static_dir=DIST) as url:
        yield url


@pytest.fixture
def page(browser: Browser, stack_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(stack_url)
    yield page
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"
