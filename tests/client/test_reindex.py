"""`ragis reindex --collection C [--model M] [--force]`, in-process, against a real gateway in front
of the real RAG service: a progress bar on stderr and one summary line; nothing to do for the
model the collection has; refusals (unknown collection, unavailable model, a bad name or model
id) exit 1 with the service's sentence, never a traceback."""

from __future__ import annotations

import httpx

from support.cli import Cli

NOTE = ("memo.txt", b"The orchard memo: the pear trees are pruned in February.")


def test_reindex_shows_progress_then_a_summary_and_refuses_clearly(
    cli: Cli, gateway_url: str
) -> None:
    with httpx.Client(base_url=gateway_url, timeout=60) as client:
        answer = client.post(
            "/api/documents/upload", data={"collection": "notes"}, files={"file": NOTE}
        )
        assert answer.status_code == 200, answer.text
    same = cli("reindex", "--collection", "notes")
    assert same.code == 0, same.err
    assert "already uses" in same.out
    assert "nothing to do" in same.out
    forced = cli("reindex", "--collection", "notes", "--force")
    assert forced.code == 0, forced.err
    assert "1/1 chunks re-embedded" in forced.err
    assert "Collection notes moved from" in forced.out
    assert "1 chunks of 1 documents, 1 embedded" in forced.out
    for argv, said in (
        (["--collection", "nothing"], "no collection 'nothing'"),
        (["--collection", "notes", "--model", "ollama:nomic"], "cannot embed"),
        (["--collection", "notes", "--model", "openai:"], ""),
        (["--collection", "../x"], "Invalid collection name"),
    ):
        refused = cli("reindex", *argv)
        assert refused.code == 1, (argv, refused.out, refused.err)
        assert "Traceback" not in refused.err
        assert said in refused.err
