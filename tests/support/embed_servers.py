"""Embedding servers on loopback: real HTTP on 127.0.0.1, the exact wire protocols.

`OpenAIEmbedServer` speaks OpenAI's `POST /v1/embeddings` (what vLLM, TEI and llama.cpp speak
too); `OllamaEmbedServer` speaks Ollama's `POST /api/embed`. Each runs in a background thread,
so sync tests, async tests and the services under test can all use it::

    with OpenAIEmbedServer(embedder) as server:        # or OllamaEmbedServer(embedder)
        settings = {"embed_provider": "openai", "embed_model": server.model,
                    "embed_base_url": server.base_url}  # OpenAI: url + "/v1"; Ollama: url
        server.script(EmbedReply.http_error(503), EmbedReply())  # queue: one per request
        ...
        server.batch_sizes                  # texts per embeddings request, in arrival order
        server.requests[-1].headers["authorization"]  # every request is recorded
        server.space("text-embedding-3-small").transform(vectors)  # what the server answers

The vectors are REAL: the `embedder` passed in (the session's SentenceTransformer model) embeds
the texts, and each model name gets its own space: the 384-dim vectors padded with zeros to
`dim` (512 by default) and turned by a fixed random orthogonal matrix seeded from the model
name. Cosines, hence neighbours, are exactly the built-in model's, but the vectors are not
interchangeable: a query embedded with another model (or the built-in one) finds garbage, so a
test can prove which model embedded what. Two model names on one server are two spaces.

The models the server knows are `server.models` (the first is `server.model`); OpenAI answers
404 `model_not_found`, Ollama 404 `model "x" not found, try pulling it first` for another.
`OpenAIEmbedServer(api_key="sk-x")` answers 401 to any other bearer token.

`EmbedReply` fields (all optional; a request with nothing scripted gets `EmbedReply()`):

- `status` (+ `error`): answer with this HTTP status and an error body in the server's dialect
  (`EmbedReply.http_error(503)`); `retry_after="2"` adds that `Retry-After` header;
- `delay`: seconds before the answer (`float("inf")`: never; the handler gives up when the
  client hangs up or the server stops);
- `payload`: answer this JSON value instead of the embeddings (a wrong count, NaN as `NaN`
  literal via `body`, strings, nested junk ...); `body`: answer these raw bytes;
- `drip`: send the body one byte every `drip` seconds (a slow server that never stalls long);
- `pad_bytes`: append that many spaces to the JSON (a huge body; still valid JSON);
- `chunked`: send the body chunked, without a Content-Length (a client cannot refuse it early).

`reset()` forgets script and records (call it between tests sharing a server).
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ragis.embedding import Embedder
from support.loopback_http import Handler, LoopbackHTTPServer, peer_closed

__all__ = [
    "EmbedReply",
    "EmbedRequest",
    "EmbedServer",
    "OllamaEmbedServer",
    "OpenAIEmbedServer",
    "Space",
]

DIM = 512


@dataclass(frozen=True)
class Space:
    """A model's vector space on the servers: the built-in vectors padded to `dim`, rotated."""

    dim: int
    rotation: npt.NDArray[np.float64] = field(repr=False)

    @classmethod
    def of(cls, model: str, dim: int = DIM) -> Space:
        return _space(model, dim)

    def transform(self, vectors: npt.ArrayLike) -> npt.NDArray[np.float32]:
        rows = np.asarray(vectors, dtype=np.float64)
        padded = np.zeros((rows.shape[0], self.dim))
        padded[:, : rows.shape[1]] = rows
        return np.asarray(padded @ self.rotation.T, dtype=np.float32)


@cache
def _space(model: str, dim: int) -> Space:
    rng = np.random.default_rng(19_000 + zlib.crc32(model.encode()))
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return Space(dim, q * np.sign(np.diag(r)))


@dataclass(frozen=True)
class EmbedReply:
    """What the server does with one embeddings request (see the module docstring)."""

    status: int = 200
    error: str | None = None
    retry_after: str | None = None
    delay: float = 0.0
    payload: Any = None
    body: bytes | None = None
    drip: float = 0.0
    pad_bytes: int = 0
    chunked: bool = False

    @classmethod
    def http_error(
        cls, status: int, error: str | None = None, *, retry_after: str | None = None
    ) -> EmbedReply:
        return cls(status=status, error=error, retry_after=retry_after)


@dataclass(frozen=True)
class EmbedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    json: Any  # the parsed body, or None

    @property
    def texts(self) -> list[str]:
        data = self.json.get("input") if isinstance(self.json, dict) else None
        return [data] if isinstance(data, str) else list(data or [])


class _Gone(Exception):
    """The client hung up, or the server is stopping."""


class EmbedServer(LoopbackHTTPServer):
    """The shared machinery; use `OpenAIEmbedServer` or `OllamaEmbedServer`."""

    path: ClassVar[str]

    def __init__(self, embedder: Embedder, *, models: Sequence[str], dim: int = DIM) -> None:
        super().__init__()
        self.embedder = embedder
        self.models = list(models)
        self.dim = dim
        self._script: deque[EmbedReply] = deque()
        self._requests: list[EmbedRequest] = []

    @property
    def base_url(self) -> str:
        """What RAGIS_EMBED_BASE_URL is set to for this server."""
        return self.url

    @property
    def model(self) -> str:
        return self.models[0]

    def space(self, model: str | None = None) -> Space:
        return Space.of(model or self.model, self.dim)

    # --- scripting and records -------------------------------------------------------------

    def script(self, *replies: EmbedReply) -> None:
        """Queue replies; each embeddings request takes the next one, then `EmbedReply()`."""
        with self._changed:
            self._script.extend(replies)

    def reset(self) -> None:
        with self._changed:
            self._script.clear()
            self._requests.clear()

    @property
    def requests(self) -> list[EmbedRequest]:
        with self._changed:
            return list(self._requests)

    @property
    def batch_sizes(self) -> list[int]:
        return [len(r.texts) for r in self.requests if r.path == self.path]

    # --- request handling ------------------------------------------------------------------

    def _handle(self, handler: Handler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        request = EmbedRequest(
            method,
            handler.path.split("?", 1)[0],
            {k.lower(): v for k, v in handler.headers.items()},
            parsed,
        )
        with self._changed:
            self._requests.append(request)
            reply = self._script.popleft() if self._script else EmbedReply()
        try:
            self._answer(handler, request, reply)
        except _Gone:
            handler.close_connection = True

    def _answer(self, handler: Handler, request: EmbedRequest, reply: EmbedReply) -> None:
        self._wait(handler, reply.delay)
        refusal = self._refusal(request)
        if refusal is not None:
            self._send(handler, refusal[0], json.dumps(refusal[1]).encode(), reply)
        elif reply.status != 200:
            body = json.dumps(self._error_body(reply.status, reply.error)).encode()
            self._send(handler, reply.status, body, reply)
        elif reply.body is not None:
            self._send(handler, 200, reply.body, reply)
        elif reply.payload is not None:
            self._send(handler, 200, json.dumps(reply.payload).encode(), reply)
        else:
            texts = request.texts
            model = request.json["model"]
            vectors = asyncio.run(self.embedder.embed(texts)) if texts else np.zeros((0, 384))
            rows = self.space(str(model).removesuffix(":latest")).transform(vectors).tolist()
            self._send(
                handler, 200, json.dumps(self._answer_body(model, rows, texts)).encode(), reply
            )

    def _send(self, handler: Handler, status: int, data: bytes, reply: EmbedReply) -> None:
        data += b" " * reply.pad_bytes
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        if reply.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Content-Length", str(len(data)))
        if reply.retry_after is not None:
            handler.send_header("Retry-After", reply.retry_after)
        handler.end_headers()
        try:
            if reply.chunked:
                for start in range(0, len(data), 65536):
                    piece = data[start : start + 65536]
                    handler.wfile.write(b"%X\r\n%s\r\n" % (len(piece), piece))
                    if self._stopping.is_set() or peer_closed(handler.connection):
                        raise _Gone
                handler.wfile.write(b"0\r\n\r\n")
                return
            if reply.drip <= 0:
                handler.wfile.write(data)
                return
            for i in range(len(data)):
                handler.wfile.write(data[i : i + 1])
                handler.wfile.flush()
                self._wait(handler, reply.drip)
        except OSError as exc:
            raise _Gone from exc

    def _wait(self, handler: Handler, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            if self._stopping.is_set() or peer_closed(handler.connection):
                raise _Gone
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.02))

    def _refusal(self, request: EmbedRequest) -> tuple[int, object] | None:
        """A request the real server refuses (bad path, body, model or key), or None."""
        raise NotImplementedError

    def _error_body(self, status: int, error: str | None) -> object:
        raise NotImplementedError

    def _answer_body(self, model: str, rows: list[list[float]], texts: list[str]) -> object:
        raise NotImplementedError


class OpenAIEmbedServer(EmbedServer):
    """OpenAI's embeddings API; point the client at `base_url` (`url` + "/v1")."""

    path = "/v1/embeddings"

    def __init__(
        self,
        embedder: Embedder,
        *,
        models: Sequence[str] = ("text-embedding-3-small",),
        api_key: str | None = None,
        dim: int = DIM,
    ) -> None:
        super().__init__(embedder, models=models, dim=dim)
        self.api_key = api_key

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def _refusal(self, request: EmbedRequest) -> tuple[int, object] | None:
        if self.api_key is not None and request.headers.get("authorization") != (
            f"Bearer {self.api_key}"
        ):
            return 401, self._error_body(401, None)
        if request.method != "POST" or request.path != self.path:
            message = f"Invalid URL ({request.method} {request.path})"
            return 404, _openai_error(message, "invalid_request_error")
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("input"), (str, list)):
            return 400, _openai_error("'input' is a required property", "invalid_request_error")
        if body.get("model") not in self.models:
            message = (
                f"The model `{body.get('model')}` does not exist or you do not have access to it."
            )
            return 404, _openai_error(message, "invalid_request_error", "model_not_found")
        return None

    def _error_body(self, status: int, error: str | None) -> object:
        if status == 401:
            message = "Incorrect API key provided: sk-test*****1234."
            kind, code = "invalid_request_error", "invalid_api_key"
        elif status == 429:
            message, kind, code = (
                "Rate limit reached for requests.",
                "requests",
                "rate_limit_exceeded",
            )
        else:
            message = "The server had an error while processing your request. Sorry about that!"
            kind, code = "server_error", "server_error"
        return _openai_error(error or message, kind, code)

    def _answer_body(self, model: str, rows: list[list[float]], texts: list[str]) -> object:
        tokens = sum(len(t.split()) for t in texts)
        return {
            "object": "list",
            # Real servers keep the order; `index` is what a client must trust, so the tests'
            # server answers them reversed.
            "data": [
                {"object": "embedding", "index": i, "embedding": row}
                for i, row in reversed(list(enumerate(rows)))
            ],
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


class OllamaEmbedServer(EmbedServer):
    """Ollama's `/api/embed`; point the client at `base_url` (= `url`, the Ollama host)."""

    path = "/api/embed"

    def __init__(
        self,
        embedder: Embedder,
        *,
        models: Sequence[str] = ("nomic-embed-text",),
        dim: int = DIM,
    ) -> None:
        super().__init__(embedder, models=models, dim=dim)

    def _refusal(self, request: EmbedRequest) -> tuple[int, object] | None:
        if request.method != "POST" or request.path != self.path:
            return 404, "404 page not found"
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("input"), (str, list)):
            return 400, {"error": "invalid input type"}
        model = str(body.get("model"))
        if model not in self.models and model.removesuffix(":latest") not in self.models:
            return 404, {"error": f'model "{model}" not found, try pulling it first'}
        return None

    def _error_body(self, status: int, error: str | None) -> object:
        return {"error": error or f"server error {status}"}

    def _answer_body(self, model: str, rows: list[list[float]], texts: list[str]) -> object:
        return {
            "model": model,
            "embeddings": rows,
            "total_duration": 1_000_000,
            "load_duration": 1_000,
            "prompt_eval_count": sum(len(t.split()) for t in texts),
        }


def _openai_error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
