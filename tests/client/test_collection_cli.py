"""`ragis collection list` and `ragis collection set`, in-process, against a real gateway in front
of the real RAG service: the threshold set from the command line is the one a chat meets."""

from __future__ import annotations

import httpx
import pytest

from ragis.rag.grounding import NOT_FOUND
from support.cli import Cli
from support.llm_servers import OpenAIServer, Reply

NOTE = ("etna.txt", b"Mount Etna is an active stratovolcano on the east coast of Sicily, Italy.")


def upload(gateway_url: str, collection: str = "default") -> None:
    with httpx.Client(base_url=gateway_url, timeout=60) as client:
        answer = client.post(
            "/api/documents/upload", data={"collection": collection}, files={"file": NOTE}
        )
        assert answer.status_code == 200, answer.text


def test_set_shows_and_clears_a_collections_threshold(cli: Cli, gateway_url: str) -> None:
    upload(gateway_url, "geo")
    listed = cli("collection", "list")
    assert listed.code == 0, listed.err
    header, row = listed.out.splitlines()
    assert header.split() == [
        "NAME", "DOCUMENTS", "CHUNKS", "MIN", "SCORE", "KEYWORD", "INDEX", "EMBEDDING", "MODEL",
    ]  # fmt: skip
    model = "sentence-transformers/all-MiniLM-L6-v2"
    assert row.split() == ["geo", "1", "1", "0", "(default)", "ready", model, "(384", "dims)"]

    changed = cli("collection", "set", "geo", "--min-score", "0.75")
    assert changed.code == 0, changed.err
    assert "geo" in changed.out
    assert "0.75" in changed.out
    assert cli("collection", "list").out.splitlines()[1].split()[3:5] == ["0.75", "ready"]

    cleared = cli("collection", "set", "geo", "--min-score", "default")
    assert cleared.code == 0, cleared.err
    assert "service's threshold" in cleared.out
    assert "(default)" in cli("collection", "list").out


def test_a_threshold_set_by_the_cli_decides_the_answer(
    cli: Cli, gateway_url: str, llm: OpenAIServer
) -> None:
    upload(gateway_url)
    assert cli("collection", "set", "default", "--min-score", "0.99").code == 0
    refused = cli("ask", "Where is Mount Etna?")
    assert refused.code == 0, refused.err
    assert NOT_FOUND in refused.out
    assert llm.chat_requests == []

    assert cli("collection", "set", "default", "--min-score", "0").code == 0
    llm.script(Reply(tokens=["In Sicily [1]."]))
    answered = cli("ask", "Where is Mount Etna?")
    assert "In Sicily [1]." in answered.out
    assert NOT_FOUND not in answered.out


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan", "inf", "0.5x", "", "x" * 100_000])
def test_a_bad_min_score_is_one_sentence_and_nothing_is_sent(cli: Cli, value: str) -> None:
    # The gateway would create nothing either way; here the CLI refuses before a request.
    result = cli("collection", "set", "default", "--min-score", value)
    assert result.code == 1
    assert result.err.startswith("ragis: Invalid --min-score")
    assert "0 to 1" in result.err
    assert len(result.err) < 300


def test_an_unknown_or_malformed_collection_is_refused(cli: Cli) -> None:
    unknown = cli("collection", "set", "ghost", "--min-score", "0.5")
    assert unknown.code == 1
    assert "no collection 'ghost'" in unknown.err
    malformed = cli("collection", "set", "../x", "--min-score", "0.5")
    assert malformed.code == 1
    assert malformed.err.startswith("ragis: Invalid collection name")


def test_set_needs_a_min_score(cli: Cli) -> None:
    result = cli("collection", "set", "default")
    assert result.code == 2
    assert "--min-score" in result.err
