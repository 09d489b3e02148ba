"""`ragis tag DOC_ID TAGS --collection C`, in-process, against a real gateway in front of the real
RAG service: the tags set from the command line are the ones a filtered search finds."""

from __future__ import annotations

import httpx

from support.cli import Cli

NOTE = ("memo.txt", b"The orchard memo: the pear trees are pruned in February.")


def upload(gateway_url: str) -> str:
    with httpx.Client(base_url=gateway_url, timeout=60) as client:
        answer = client.post(
            "/api/documents/upload", data={"collection": "notes", "tags": "draft"},
            files={"file": NOTE},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        return str(answer.json()["results"][0]["document_id"])


def found(gateway_url: str, tag: str) -> list[str]:
    with httpx.Client(base_url=gateway_url, timeout=60) as client:
        answer = client.post(
            "/api/search",
            json={"collection": "notes", "query": "orchard", "filter": {"tags": [tag]}},
        )
        return [p["doc_id"] for p in answer.json()["passages"]]


def test_tag_replaces_a_documents_tags_and_a_search_finds_the_new_ones(
    cli: Cli, gateway_url: str
) -> None:
    doc = upload(gateway_url)
    tagged = cli("tag", doc, "--collection", "notes", "final, orchard,final")
    assert tagged.code == 0, tagged.err
    assert tagged.out == f"memo.txt ({doc}) in notes: final, orchard.\n"
    assert found(gateway_url, "orchard") == [doc]
    assert found(gateway_url, "draft") == []
    cleared = cli("tag", doc, "-c", "notes", "")
    assert cleared.code == 0, cleared.err
    assert "no tags" in cleared.out
    assert found(gateway_url, "orchard") == []


def test_refusals_are_one_sentence(cli: Cli, gateway_url: str) -> None:
    doc = upload(gateway_url)
    for argv, says in (
        ((doc, ",".join(f"t{i}" for i in range(33))), "at most 32"),
        ((doc, "x" * 65), "over 64"),
        ((doc, "back\\slash"), "backslash"),
        ((doc, "a", "--collection", "no/such"), "collection name"),
        (("0" * 32, "a", "--collection", "notes"), "no document"),
    ):
        result = cli("tag", *argv, *(() if "--collection" in argv else ("-c", "notes")))
        assert result.code == 1, (argv, result.out)
        assert says in result.err, (argv, result.err)
        assert "Traceback" not in result.err
