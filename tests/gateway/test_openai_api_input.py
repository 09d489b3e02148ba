"""Hostile and malformed requests to `/v1`: each is a 4xx in OpenAI's error shape, never a 500.

They are all refused before the RAG service would be asked, so the gateway stands in front of
an address where nothing answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.gateway_fixtures import GatewayFactory
from support.signin import nowhere

PATH = "/v1/chat/completions"
ASK = [{"role": "user", "content": "What are Saturn's rings made of?"}]


@pytest.fixture
def v1(start_gateway: GatewayFactory) -> Iterator[httpx.Client]:
    with start_gateway(rag_urls=[nowhere()]) as url, httpx.Client(base_url=url, timeout=60) as c:
        yield c


def openai_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The error of `response`, checked: `status`, and exactly OpenAI's four fields."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"]
    error: dict[str, Any] = body["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["param"] is None
    return error


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "ragis", "messages": ASK, **fields}


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        ({"messages": ASK}, "model"),
        ({"model": "ragis"}, "messages"),
        (body(messages="What are Saturn's rings made of?"), "messages"),
        (body(model=5), "model"),
        (body(model="r" * 300), "model"),
        (body(stream="yes"), "stream"),
        (body(stream=1), "stream"),
        (body(stream_options={"include_usage": "yes"}), "include_usage"),
        (body(temperature="0.5"), "temperature"),
        (body(temperature=3), "temperature"),
        (body(max_tokens=True), "max_tokens"),
        (body(max_tokens=0), "max_tokens"),
        (body(max_completion_tokens="64"), "max_completion_tokens"),
        (body(n="2"), "n"),
        (body(n=2), "one answer per request"),
        (body(tool_choice={"type": "function", "function": {"name": "f"}}), "calls no tools"),
        (body(messages=[{"role": "wizard", "content": "hi"}]), "role"),
        (body(messages=[{"content": "hi"}]), "role"),
        (body(messages=[{"role": "user", "content": 5}]), "must be a string or a list"),
        (body(messages=[{"role": "user", "content": {"text": "hi"}}]), "must be a string"),
        (body(messages=[{"role": "user", "content": ["hi"]}]), "part 0 must be an object"),
        (body(messages=[{"role": "user", "content": [{"type": "text"}]}]), "text"),
        (body(messages=[{"role": "user", "content": [{"type": "text", "text": 5}]}]), "text"),
        (
            body(
                messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]
            ),
            "ragis reads text only",
        ),
        (body(messages=[{"role": "user", "content": [[[[["deep"]]]]]}]), "part 0 must be an obj"),
        (body(messages=[ASK[0], 5]), "messages.1"),
        (body(messages=[{"role": "user", "content": "hi"}] * 1001), "messages"),
    ],
)
def test_a_malformed_request_is_a_400_that_names_the_field(
    v1: httpx.Client, payload: dict[str, Any], said: str
) -> None:
    error = openai_error(v1.post(PATH, json=payload), 400)
    assert error["type"] == "invalid_request_error"
    assert said in error["message"]


def test_unknown_fields_are_ignored_and_a_forged_ragis_field_changes_nothing(
    v1: httpx.Client,
) -> None:
    # Accepted, then refused for the model only: every field OpenAI's clients send passes.
    forged = body(
        model="gpt-4o",
        top_p=0.1, seed=7, user="u", logprobs=True, stop=["\n"], metadata={"a": "b"},
        response_format={"type": "text"}, tools=[], parallel_tool_calls=False,
        ragis={"collection": "someone-elses", "citations": [{"n": 1}]},
    )  # fmt: skip
    error = openai_error(v1.post(PATH, json=forged), 404)
    assert error["code"] == "model_not_found"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"model": "ragis", "messages": [',
        b"\xff\xfe{}",
        b"[]",
        b'"a string"',
        b"null",
        # Nested far deeper than Python's JSON parser recurses (a RecursionError inside it).
        b'{"model": "ragis", "messages": ' + b"[" * 200_000 + b"]" * 200_000 + b"}",
        b'{"model": "ragis", "messages": [{"role": "user", "content": "hi", "x": '
        + b'{"a": ' * 100_000
        + b"1"
        + b"}" * 100_000
        + b"}]}",
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(v1: httpx.Client, raw: bytes) -> None:
    response = v1.post(PATH, content=raw, headers={"Content-Type": "application/json"})
    openai_error(response, 400)


@pytest.mark.parametrize(
    "where",
    [
        '{"model": "ragis", "messages": [{"role": "user", "content": "rings \\ud800"}]}',
        '{"model": "ragis\\udfff", "messages": [{"role": "user", "content": "rings"}]}',
        '{"model": "ragis", "messages": [{"role": "user", "content": [{"type": "text", '
        '"text": "\\ud83d"}]}]}',
        '{"model": "ragis", "messages": [{"role": "assistant", "content": "x\\udc00"}, '
        '{"role": "user", "content": "rings"}]}',
    ],
)
def test_a_lone_surrogate_is_a_400(v1: httpx.Client, where: str) -> None:
    response = v1.post(PATH, content=where, headers={"Content-Type": "application/json"})
    error = openai_error(response, 400)
    assert "surrogate" in error["message"]


def test_a_body_over_a_mib_is_refused_before_it_is_read(v1: httpx.Client) -> None:
    huge = body(messages=[{"role": "user", "content": "x" * (1024 * 1024)}])
    response = v1.post(PATH, json=huge)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: cut off while it is read
        yield json.dumps(huge).encode()

    streamed = v1.post(PATH, content=chunks(), headers={"Content-Type": "application/json"})
    openai_error(streamed, 413)


def test_other_paths_and_methods_answer_in_openais_shape(v1: httpx.Client) -> None:
    error = openai_error(v1.get(PATH), 405)
    assert error["code"] == "method_not_allowed"
    assert v1.get(PATH).headers["allow"] == "POST"
    assert openai_error(v1.post("/v1/models"), 405)["code"] == "method_not_allowed"
    for method, path in (("POST", "/v1/embeddings"), ("GET", "/v1/assistants"), ("GET", "/v1")):
        error = openai_error(v1.request(method, path), 404)
        assert error["code"] == "not_found"
        assert "POST /v1/chat/completions" in error["message"]


def test_a_malformed_workspace_header_is_a_400(v1: httpx.Client) -> None:
    response = v1.post(PATH, json=body(), headers={"X-Ragis-Workspace": "../../etc"})
    error = openai_error(response, 400)
    assert "X-Ragis-Workspace" in error["message"]


def test_the_rag_service_down_is_a_503_for_models_and_completions(v1: httpx.Client) -> None:
    for response in (v1.get("/v1/models"), v1.post(PATH, json=body())):
        error = openai_error(response, 503)
        assert error["type"] == "api_error"
        assert error["code"] == "upstream_error"
