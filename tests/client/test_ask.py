"""`ragis ask` against a real gateway and RAG service: the retrieval mode, one document, and how
the sources are printed (which legs found them; the closest passages of a refusal)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from support.cli import Cli
from support.gateway_fixtures import GatewayFactory
from support.llm_servers import OpenAIServer, Reply

DOCS = {
    "saturn.txt": "Saturn's rings are made mostly of water ice, from tiny grains to boulders.\n",
    "manual.txt": "Error E44-4471: the feed pump overheated. Check the coolant valve V-12.\n",
}


@pytest.fixture
def rag_url(start_rag: Callable[..., AbstractContextManager[str]]) -> Iterator[str]:
    with start_rag(min_score=0.6) as url:
        yield url


@pytest.fixture
def ids(rag_url: str, start_gateway: GatewayFactory) -> Iterator[tuple[str, dict[str, str]]]:
    with start_gateway(rag_urls=[rag_url]) as url, httpx.Client(base_url=url, timeout=60) as c:
        found = {}
        for name, text in DOCS.items():
            response = c.post("/api/documents/upload", files=[("file", (name, text.encode()))])
            assert response.status_code == 200, response.text
            found[name] = response.json()["results"][0]["document_id"]
        yield url, found


@pytest.fixture
def cli(
    clean_env: None,
    ids: tuple[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    return Cli(ids[0], monkeypatch, capsys)


def test_ask_with_a_mode_prints_the_legs_of_each_source(cli: Cli, llm: OpenAIServer) -> None:
    llm.script(Reply(tokens=["It overheated [1]."]))
    result = cli("ask", "--retrieval", "lexical", "What does error E44-4471 mean?")
    assert result.code == 0, result.err
    assert "It overheated [1]." in result.out
    assert "[1] manual.txt  (score " in result.out
    assert ", lexical)" in result.out


def test_ask_about_one_document_keeps_to_it(
    cli: Cli, llm: OpenAIServer, ids: tuple[str, dict[str, str]]
) -> None:
    llm.script(Reply(tokens=["Ice [1]."]))
    saturn = ids[1]["saturn.txt"]
    result = cli("ask", "-d", saturn, "What are Saturn's rings made of?")
    assert result.code == 0, result.err
    assert "saturn.txt" in result.out
    assert "manual.txt" not in result.out


def test_a_refusal_lists_the_closest_passages_as_such(cli: Cli, llm: OpenAIServer) -> None:
    result = cli("ask", "What does error E44-4472 mean?")
    assert result.code == 0, result.err
    assert "I could not find `e44-4472` in your documents" in result.out
    assert "Closest passages (none answers it):" in result.out
    assert llm.chat_requests == []


def test_a_bad_mode_or_document_is_refused(cli: Cli) -> None:
    bad_mode = cli("ask", "--retrieval", "bm25", "anything?")
    assert bad_mode.code == 2
    assert "invalid choice" in bad_mode.err
    bad_doc = cli("ask", "-d", "../" + "x" * 5000, "anything?")
    assert bad_doc.code == 1
    assert bad_doc.err.startswith("ragis: ")
    assert len(bad_doc.err) < 400


def test_a_source_with_a_locator_is_named_by_it_not_by_its_page(
    cli: Cli, ids: tuple[str, dict[str, str]], llm: OpenAIServer
) -> None:
    book = Workbook()
    book.active.title = "Pumps"
    for row in [["model", "pressure"], ["otter-3", "4 bar"], ["lynx-7", "9 bar"]]:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    with httpx.Client(base_url=ids[0], timeout=60) as client:
        response = client.post(
            "/api/documents/upload", files=[("file", ("pumps.xlsx", data.getvalue()))]
        )
        assert response.status_code == 200, response.text
    llm.script(Reply(tokens=["9 bar [1]."]))
    result = cli("ask", "What pressure has the lynx-7 pump?")
    assert result.code == 0, result.err
    assert "[1] pumps.xlsx, Pumps, rows " in result.out
