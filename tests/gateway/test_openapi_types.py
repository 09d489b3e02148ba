"""The gateway's OpenAPI schema, from which the web UI's types are generated.

`frontend/openapi.json` must be what `python -m ragis.gateway.openapi` prints (the UI's types are
generated from that file, and `npm run types:check` proves the generated file matches it), and
what the schema says of the answers the gateway passes through from the RAG service must be what
a real gateway in front of a real RAG service answers, field for field.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, TypeAdapter

from ragis.gateway import schemas
from ragis.gateway.openapi import REGENERATE, dump, gateway_schema, main
from ragis.rag import schemas as rag_schemas
from ragis.rag.routes import collections as rag_collections
from support.http import collect_events
from support.llm_servers import OpenAIServer, Reply

COMMITTED = Path(__file__).resolve().parents[2] / "frontend" / "openapi.json"
NOTE = ("saturn.txt", b"Saturn's rings are made mostly of water ice, from grains to boulders.\n")


def exactly(model: Any, data: Any) -> None:
    """`data` is valid for `model` and has no field the model does not describe."""
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    parsed = adapter.validate_python(data)
    assert adapter.dump_python(parsed, mode="json", exclude_unset=True) == data, model


def test_the_committed_schema_is_the_gateways() -> None:
    live = dump(gateway_schema())
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if committed != live:
        diff = difflib.unified_diff(
            committed.splitlines(), live.splitlines(), "frontend/openapi.json", "live", lineterm=""
        )
        shown = "\n".join(list(diff)[:60])
        pytest.fail(
            f"frontend/openapi.json is not the gateway's schema; run: {REGENERATE}\n{shown}",
            pytrace=False,
        )


def test_the_schema_depends_on_neither_the_environment_nor_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    expected = dump(gateway_schema())
    # Values a real start would refuse must not matter either: no settings are read.
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("RAGIS_GATEWAY_PORT=http://evil\n")
    monkeypatch.setenv("RAGIS_MAX_UPLOAD_MB", "-1")
    monkeypatch.setenv("RAGIS_STATIC_DIR", "/nonexistent")
    assert dump(gateway_schema()) == expected
    assert json.loads(expected)["info"]["title"] == "ragis"


def test_the_entry_point_prints_or_writes_the_sorted_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([]) == 0
    printed = capsys.readouterr().out
    assert json.dumps(json.loads(printed), indent=2, sort_keys=True, ensure_ascii=False) + "\n" == (
        printed
    )
    out = tmp_path / "openapi.json"
    assert main(["--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == printed
    assert [p.name for p in tmp_path.iterdir()] == ["openapi.json"]


def test_a_failed_write_leaves_no_file_behind(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        main(["--output", str(tmp_path / "missing" / "openapi.json")])
    target = tmp_path / "openapi.json"
    target.mkdir()  # a directory where the file should go: os.replace refuses
    with pytest.raises(IsADirectoryError):
        main(["--output", str(target)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["openapi.json"]
    assert target.is_dir()
    assert not any(target.iterdir())


def test_every_answer_the_ui_reads_is_described_by_a_named_schema() -> None:
    components = gateway_schema()["components"]["schemas"]
    for name in (
        "ChatEvent",
        "ChatRequest",
        "CollectionCreate",
        "CollectionPublic",
        "CollectionsPublic",
        "DocumentPublic",
        "DocumentsPublic",
        "ErrorPublic",
        "FileFailed",
        "FileIndexed",
        "HealthPublic",
        "SessionPublic",
    ):
        assert name in components, (
            f"the schema names no {name}: the web UI's types need it. The chat events are "
            'registered by `responses[200]["model"]` of gateway/routes/chat.py.'
        )
    assert components["CollectionCreate"]["properties"]["name"]["pattern"]


@pytest.mark.parametrize(
    ("described", "answered"),
    [
        (schemas.CollectionPublic, rag_collections.CollectionPublic),
        (schemas.CollectionsPublic, rag_collections.CollectionsPublic),
        (schemas.DocumentPublic, rag_collections.DocumentPublic),
        (schemas.DocumentsPublic, rag_collections.DocumentsPublic),
        (schemas.SessionPublic, rag_schemas.SessionPublic),
        (schemas.ErrorPublic, rag_schemas.ErrorPublic),
    ],
)
def test_passed_through_answers_are_described_by_the_models_the_rag_service_answers_with(
    described: type[BaseModel], answered: type[BaseModel]
) -> None:
    # One wire contract: the very same class, not a copy kept equal.
    assert described is answered
    assert described.__module__.startswith("ragis.contract.")


async def test_a_real_gateway_answers_exactly_what_its_schema_describes(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    upload = await gateway.post(
        "/api/documents/upload", data={"collection": "described"}, files=[("file", NOTE)]
    )
    assert upload.status_code == 200, upload.text
    exactly(schemas.UploadPublic, upload.json())
    doc_id = upload.json()["results"][0]["document_id"]

    created = await gateway.post("/api/collections", json={"name": "other"})
    exactly(schemas.CollectionPublic, created.json())
    exactly(schemas.CollectionsPublic, (await gateway.get("/api/collections")).json())
    listed = await gateway.get("/api/documents", params={"collection": "described"})
    exactly(schemas.DocumentsPublic, listed.json())
    assert listed.json()["documents"][0]["id"] == doc_id
    one = await gateway.get(f"/api/documents/{doc_id}", params={"collection": "described"})
    exactly(schemas.DocumentPublic, one.json())
    exactly(schemas.HealthPublic, (await gateway.get("/api/health")).json())

    llm.script(Reply(tokens=["Water ", "ice ", "[1]."]))
    events = await collect_events(
        gateway, "/api/chat/stream", {"message": "Rings?", "collection": "described"}
    )
    assert [e.type for e in events] == ["meta", "citations", "token", "token", "token", "done"]
    for event in events:
        assert event.data["type"] == event.type
        exactly(schemas.ChatEvent, event.data)
    session_id = events[0].data["session_id"]
    exactly(schemas.SessionPublic, (await gateway.get(f"/api/sessions/{session_id}")).json())

    llm.script(Reply(tokens=["Water ", "ice"], error_after=1))
    broken = await collect_events(
        gateway, "/api/chat/stream", {"message": "Ice?", "collection": "described"}
    )
    assert broken[-1].type == "error"
    for event in broken:
        exactly(schemas.ChatEvent, event.data)

    deleted = await gateway.delete(f"/api/documents/{doc_id}", params={"collection": "described"})
    exactly(schemas.DocumentDeleted, deleted.json())
    exactly(schemas.SessionDeleted, (await gateway.delete(f"/api/sessions/{session_id}")).json())
    exactly(schemas.CollectionDeleted, (await gateway.delete("/api/collections/other")).json())
    missing = await gateway.delete("/api/collections/other")
    assert missing.status_code == 404
    exactly(schemas.ErrorPublic, missing.json())
