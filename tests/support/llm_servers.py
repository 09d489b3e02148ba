"""Scripted LLM servers on loopback: real HTTP on 127.0.0.1, the exact wire protocols.

`OpenAIServer` speaks OpenAI's `/v1/chat/completions` (SSE chunks, then `data: [DONE]`) and
`/v1/models`; `OllamaServer` speaks Ollama's `/api/chat` (NDJSON), `/api/tags` and `/api/version`.
Each runs in a background thread, so sync tests, async tests and subprocesses can all use it::

    with OpenAIServer() as server:                 # or OllamaServer(); also .start() / .stop()
        server.script(Reply(tokens=["Hel", "lo"]))  # the next chat request gets exactly this
        server.script(Reply.http_error(500), Reply(tokens=["ok"]))  # queue: one per request
        client_base_url = server.base_url          # OpenAI: url + "/v1"; Ollama: server.url
        ...
        server.chat_requests[-1].json["messages"]  # every request is recorded (path, headers, JSON)
        assert server.wait_for_chat_requests(count=1)  # a chat request has arrived
        assert server.wait_for_disconnect(timeout=2)  # a client hung up mid-stream
        # async tests: assert await server.wait_for_disconnect_async(within=2)

A chat request with nothing scripted gets `server.default_reply`; unless replaced, that is a
deterministic answer that cites "[1]" and echoes the start of the last user message.

`Reply` fields (all optional):

- `tokens`: the deltas to stream (non-stream requests get them joined);
- `first_token_delay` / `token_delay`: seconds before the first delta / between two deltas
  (headers are sent at once; the delays are where a client's read timeout bites);
- `status` + `error`: answer with this HTTP status and an error body in the server's dialect
  (`Reply.http_error(401)`; the default message imitates the real server's for 401/404/429/500);
- `drop_after=N`: send N deltas, then cut the TCP connection (no end of stream);
- `error_after=N`: send N deltas, then an in-stream error event (`error` is its message);
- `hang=True`: never answer; the handler waits until the client gives up or the server stops;
- `gate=Gate()`: each delta waits for one `gate.open()` from the test (after its delay, if any),
  so that a test, not a delay, decides when the next delta exists.

Recorded: `requests` / `chat_requests` (`RecordedRequest`), `disconnects` (clients that closed
the connection before a stream's scripted end, detected within ~20 ms even while the server is
waiting), `completed` (streams that reached their scripted end; counted before the client can see
it). `reset()` waits for requests in progress, then clears script and records: call it between
tests that share a server.

Listing the models (`GET /v1/models`, `GET /api/tags`) answers `server.models` in the real
server's shape, or, while `server.models_status` is set, that HTTP error in the server's dialect.

`unused_port()` gives a loopback port where nothing answers.

Also: `OpenAIServer(api_key="sk-x")` answers 401 to any other bearer token; `OllamaServer` answers
404 `model "x" not found` for a model not in `server.models` (like real Ollama; `llama3.2`
matches `llama3.2:latest`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

from support.llm_scripted import (
    Gate,
    RecordedRequest,
    Reply,
    ScriptedLLMServer,
    _Context,
    _Exchange,
    unused_port,
)

__all__ = [
    "Gate",
    "OllamaServer",
    "OpenAIServer",
    "RecordedRequest",
    "Reply",
    "ScriptedLLMServer",
    "unused_port",
]


class OpenAIServer(ScriptedLLMServer):
    """OpenAI's chat-completions API; point the client at `base_url` (`url` + "/v1")."""

    chat_path = "/v1/chat/completions"
    stream_content_type = "text/event-stream; charset=utf-8"
    stream_by_default = False

    def __init__(
        self, *, models: Sequence[str] = ("gpt-4o-mini",), api_key: str | None = None
    ) -> None:
        super().__init__(models=models)
        self.api_key = api_key

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def _route(self, ex: _Exchange, request: RecordedRequest) -> None:
        if self.api_key is not None and request.headers.get("authorization") != (
            f"Bearer {self.api_key}"
        ):
            ex.send_json(401, self._error_body(401, None, {}))
        elif request.method == "GET" and request.path == "/v1/models" and self.models_status:
            ex.send_json(self.models_status, self._error_body(self.models_status, None, {}))
        elif request.method == "GET" and request.path == "/v1/models":
            models = [
                {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "ragis-tests"}
                for m in self.models
            ]
            ex.send_json(200, {"object": "list", "data": models})
        elif request.method == "POST" and request.path == self.chat_path:
            if not isinstance(request.json, dict):
                ex.send_json(400, _openai_error("We could not parse the JSON body.", "invalid"))
            else:
                self._chat(ex, request.json)
        else:
            message = f"Invalid URL ({request.method} {request.path})"
            ex.send_json(404, _openai_error(message, "invalid_request_error"))

    def _error_body(self, status: int, error: str | None, body: dict[str, Any]) -> object:
        if status == 401:
            message = (
                "Incorrect API key provided: sk-test*****1234. You can find your API key at "
                "https://platform.openai.com/account/api-keys."
            )
            kind, code = "invalid_request_error", "invalid_api_key"
        elif status == 404:
            model = body.get("model", "")
            message = f"The model `{model}` does not exist or you do not have access to it."
            kind, code = "invalid_request_error", "model_not_found"
        elif status == 429:
            message = "Rate limit reached for requests."
            kind, code = "requests", "rate_limit_exceeded"
        else:
            message = "The server had an error while processing your request. Sorry about that!"
            kind, code = "server_error", "server_error"
        return _openai_error(error or message, kind, code)

    def _chunk(self, ctx: _Context, delta: dict[str, str], finish: str | None) -> bytes:
        chunk = {
            "id": f"chatcmpl-ragis{ctx.number}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": ctx.model,
            "system_fingerprint": "fp_ragis_tests",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    def _stream_head(self, ctx: _Context) -> Iterator[bytes]:
        yield self._chunk(ctx, {"role": "assistant", "content": ""}, None)

    def _stream_token(self, ctx: _Context, token: str) -> bytes:
        return self._chunk(ctx, {"content": token}, None)

    def _stream_tail(self, ctx: _Context) -> Iterator[bytes]:
        yield self._chunk(ctx, {}, "stop")
        yield b"data: [DONE]\n\n"

    def _stream_error(self, message: str) -> bytes:
        error = _openai_error(message, "server_error")
        return b"data: " + json.dumps(error).encode() + b"\n\n"

    def _complete_body(self, ctx: _Context, text: str) -> object:
        return {
            "id": f"chatcmpl-ragis{ctx.number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": ctx.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }


class OllamaServer(ScriptedLLMServer):
    """Ollama's native API; point the client at `url`."""

    chat_path = "/api/chat"
    stream_content_type = "application/x-ndjson"
    stream_by_default = True  # like Ollama: `"stream"` absent means streaming

    def __init__(self, *, models: Sequence[str] = ("llama3.2:latest",)) -> None:
        super().__init__(models=models)

    def _route(self, ex: _Exchange, request: RecordedRequest) -> None:
        if request.method == "GET" and request.path == "/api/tags" and self.models_status:
            ex.send_json(self.models_status, self._error_body(self.models_status, None, {}))
        elif request.method == "GET" and request.path == "/api/tags":
            ex.send_json(200, {"models": [_ollama_model(m) for m in self.models]})
        elif request.method == "GET" and request.path == "/api/version":
            ex.send_json(200, {"version": "0.6.5"})
        elif request.method == "POST" and request.path == self.chat_path:
            body = request.json
            if not isinstance(body, dict):
                ex.send_json(400, {"error": "invalid request body"})
            elif not self._knows(str(body.get("model", ""))):
                ex.send_json(404, self._error_body(404, None, body))
            else:
                self._chat(ex, body)
        else:
            ex.send_bytes(404, b"404 page not found", "text/plain")

    def _knows(self, model: str) -> bool:
        return model in self.models or f"{model}:latest" in self.models

    def _error_body(self, status: int, error: str | None, body: dict[str, Any]) -> object:
        defaults = {
            401: "unauthorized",
            404: f'model "{body.get("model", "")}" not found, try pulling it first',
            429: "server busy, please try again.  maximum pending requests exceeded",
        }
        return {"error": error or defaults.get(status, "llama runner process has terminated")}

    def _line(self, payload: dict[str, Any]) -> bytes:
        return json.dumps(payload).encode() + b"\n"

    def _stream_token(self, ctx: _Context, token: str) -> bytes:
        return self._line(
            {
                "model": ctx.model,
                "created_at": _now(),
                "message": {"role": "assistant", "content": token},
                "done": False,
            }
        )

    def _stream_tail(self, ctx: _Context) -> Iterator[bytes]:
        yield self._line(self._complete_body(ctx, ""))

    def _stream_error(self, message: str) -> bytes:
        return self._line({"error": message})

    def _complete_body(self, ctx: _Context, text: str) -> dict[str, Any]:
        return {
            "model": ctx.model,
            "created_at": _now(),
            "message": {"role": "assistant", "content": text},
            "done_reason": "stop",
            "done": True,
            "total_duration": 1_000_000,
            "load_duration": 100_000,
            "prompt_eval_count": 10,
            "prompt_eval_duration": 200_000,
            "eval_count": 5,
            "eval_duration": 700_000,
        }


def _openai_error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _ollama_model(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": "2026-01-01T00:00:00Z",
        "size": 2_019_393_189,
        "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": "llama",
            "families": ["llama"],
            "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M",
        },
    }


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
