"""Embeddings from a server over HTTP: what the OpenAI-compatible and Ollama embedders share.

A `RemoteEmbedder` sends the texts in batches of RAGIS_EMBED_BATCH, one request at a time, and
gives each request RAGIS_EMBED_TIMEOUT seconds in all (connecting, waiting and reading: a
server that drips its answer byte by byte times out like a silent one). It retries, at most
RAGIS_EMBED_RETRIES times with a doubling pause, what another attempt may cure: a connection
refused or cut, 429 (after the server's Retry-After, at most `RETRY_AFTER_CAP` s) and 5xx; never
another 4xx (a wrong key or model stays wrong) nor a timeout (retrying multiplies the wait).

The server is not trusted: the body is read up to a cap (`max_response_bytes`), then the vectors
are checked (one per text, all of one dimension, numbers only, finite, not all zero) before they
are normalised with `unit_rows`. Anything else is an `EmbeddingUnavailable` whose sentence names
the URL (credentials redacted), the status and what to check.

The model id is `<provider>:<model>` (`openai:text-embedding-3-small`, `ollama:nomic-embed-text`):
that is the `model_name` a collection records. The dimension is learnt from one probe request
when the embedder is created (`await OpenAIEmbedder.create(...)`).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import time
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import httpx
import numpy as np

from ragis.embedding.base import Embedder, Matrix, unit_rows
from ragis.errors import EmbeddingUnavailable
from ragis.llm.base import redact_url, shorten

__all__ = ["RETRY_AFTER_CAP", "RemoteEmbedder"]

log = logging.getLogger("ragis.embedding")

#: The longest Retry-After ragis waits for before the next attempt (s).
RETRY_AFTER_CAP = 30.0
#: What one vector may take in a JSON answer: 8,192 dims of ~24 characters each.
BYTES_PER_VECTOR = 8192 * 24
#: A model's longest input is the server's business; this is only what `Embedder` reports.
REMOTE_MAX_TOKENS = 8192
PROBE_TEXT = "ragis checks the embedding server"


class _Retryable(Exception):
    """Internal: one attempt failed in a way another attempt may cure."""

    def __init__(self, error: EmbeddingUnavailable, *, wait: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.wait = wait


class RemoteEmbedder(Embedder):
    """An embedding server behind the `Embedder` interface; one HTTP client per embedder."""

    #: "openai" or "ollama": the prefix of the model id.
    provider: ClassVar[str]
    #: How the messages call the server ("The OpenAI-compatible server").
    label: ClassVar[str]

    def __init__(
        self,
        model: str,
        base_url: str,
        *,
        api_key: str | None = None,
        batch_size: int = 32,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_response_bytes: int | None = None,
    ) -> None:
        if not model:
            raise ValueError("a remote embedder needs a model name")
        self.model = model
        self.model_name = f"{self.provider}:{model}"
        self.dim = 0  # learnt by `probe()`
        self.max_tokens = REMOTE_MAX_TOKENS
        self.backend = "remote"
        self.base_url = base_url.rstrip("/")
        self.batch_size = max(1, batch_size)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_response_bytes = max_response_bytes
        self._url_shown = redact_url(self.base_url)
        self._where = f"{self.label} at {self._url_shown}"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
        )

    @classmethod
    async def create(
        cls,
        model: str,
        base_url: str,
        *,
        api_key: str | None = None,
        batch_size: int = 32,
        timeout: float = 60.0,  # noqa: ASYNC109 - per request, kept by the embedder
        retries: int = 3,
        backoff: float = 0.5,
        max_response_bytes: int | None = None,
    ) -> Self:
        """An embedder whose `dim` is known: one probe request (closed again if it fails)."""
        embedder = cls(
            model, base_url, api_key=api_key, batch_size=batch_size, timeout=timeout,
            retries=retries, backoff=backoff, max_response_bytes=max_response_bytes,
        )  # fmt: skip
        try:
            await embedder.probe()
        except BaseException:
            await embedder.aclose()
            raise
        return embedder

    async def probe(self) -> int:
        """Embed one text to learn the dimension (and that the server, key and model work)."""
        vectors = await self._batch([PROBE_TEXT])
        self.dim = int(vectors.shape[1])
        return self.dim

    def describe(self) -> str:
        return f"{self.model_name} ({self.dim} dims, {self.provider} server at {self._url_shown})"

    async def embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            await self._batch(list(texts[i : i + self.batch_size]))
            for i in range(0, len(texts), self.batch_size)
        ]
        return parts[0] if len(parts) == 1 else np.vstack(parts)

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- one batch -------------------------------------------------------------------------

    async def _batch(self, texts: list[str]) -> Matrix:
        attempt = 0
        while True:
            try:
                return await self._attempt(texts)
            except _Retryable as failed:
                if attempt >= self.retries:
                    raise failed.error from failed
                pause = min(self.backoff * 2**attempt, 8.0)
                if failed.wait is not None:
                    pause = max(pause, failed.wait)
                log.warning("%s; retrying in %.1f s", failed.error.message, pause)
                attempt += 1
                await asyncio.sleep(pause)

    async def _attempt(self, texts: list[str]) -> Matrix:
        url = self._url()
        cap = self.max_response_bytes or (len(texts) * BYTES_PER_VECTOR + (1 << 20))
        try:
            async with asyncio.timeout(self.timeout):
                request = self._client.build_request("POST", url, json=self._body(texts))
                response = await self._client.send(request, stream=True)
                try:
                    status = response.status_code
                    body = await _read_capped(response, cap)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise self._error(f"did not answer within {self.timeout:g} s") from exc
        except _TooLarge as exc:
            raise self._error(
                f"sent an answer of over {cap:,} bytes, too large for {len(texts)} vectors"
            ) from exc
        except httpx.HTTPError as exc:
            why = shorten(str(exc)) or type(exc).__name__
            raise _Retryable(self._error(f"could not be reached ({why})")) from exc
        if status != 200:
            raise self._status_error(status, body, response.headers.get("retry-after"))
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise self._error("answered something that is not JSON", status) from exc
        return self._checked(self._rows(payload), len(texts))

    def _status_error(
        self, status: int, body: bytes, retry_after: str | None
    ) -> EmbeddingUnavailable | _Retryable:
        said = _server_message(body)
        if status == 429:
            error = self._error("is rate-limiting requests", status, said)
            return _Retryable(error, wait=_retry_after(retry_after))
        if status >= 500:
            return _Retryable(self._error("failed", status, said))
        if status in (401, 403):
            return self._error("refused the key", status, said, "Check RAGIS_EMBED_API_KEY.")
        if status == 404:
            hint = "Check RAGIS_EMBED_MODEL and RAGIS_EMBED_BASE_URL."
            return self._error(
                f"does not know model {self.model!r} or the path", status, said, hint
            )
        return self._error("refused the request", status, said)

    def _error(
        self, what: str, status: int | None = None, said: str = "", hint: str = ""
    ) -> EmbeddingUnavailable:
        code = f" (HTTP {status})" if status is not None else ""
        quoted = f': "{said}"' if said else ""
        end = f" {hint}" if hint else ""
        return EmbeddingUnavailable(
            f"{self._where} {what}{code} while embedding with {self.model_name}{quoted}.{end}"
        )

    def _checked(self, rows: Any, count: int) -> Matrix:
        """The server's rows as unit float32 vectors, or an error saying what is wrong."""
        if not isinstance(rows, list) or len(rows) != count:
            got = len(rows) if isinstance(rows, list) else "no list of"
            raise self._error(f"answered {got} vectors for {count} texts")
        if not all(isinstance(row, list) and row for row in rows):
            raise self._error("answered something other than lists of numbers as vectors")
        dims = {len(row) for row in rows}
        if len(dims) != 1:
            raise self._error(f"answered vectors of different lengths ({sorted(dims)})")
        dim = dims.pop()
        if self.dim and dim != self.dim:
            raise self._error(
                f"answered {dim}-dimensional vectors where this model's have {self.dim}: did "
                "the model behind the URL change?"
            )
        if not all(type(x) is float or type(x) is int for row in rows for x in row):
            raise self._error("answered vectors holding something other than numbers")
        matrix = np.asarray(rows, dtype=np.float64)
        if not np.isfinite(matrix).all():
            raise self._error("answered vectors holding NaN or infinite values")
        if not np.any(matrix, axis=1).all():
            raise self._error("answered an all-zero vector")
        if not np.isfinite(np.linalg.norm(matrix, axis=1)).all():
            raise self._error("answered vectors too large to normalise")
        return unit_rows(matrix)

    # --- the dialect -----------------------------------------------------------------------

    @abstractmethod
    def _url(self) -> str:
        """Where the embeddings are asked for."""

    @abstractmethod
    def _body(self, texts: list[str]) -> dict[str, Any]:
        """The JSON request for `texts`."""

    @abstractmethod
    def _rows(self, payload: Any) -> Any:
        """The vectors of a JSON answer, in the texts' order (checked by the caller), or an
        `EmbeddingUnavailable` when the answer has not the dialect's shape."""

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(model={self.model!r}, base_url={redact_url(self.base_url)!r})"
        )


class _TooLarge(Exception):
    pass


async def _read_capped(response: httpx.Response, cap: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), at most the cap."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _server_message(body: bytes) -> str:
    """The error text of a server's error body (OpenAI's `error.message`, Ollama's `error`)."""
    try:
        payload = json.loads(body)
    except ValueError:
        text = body[:300].decode("utf-8", "replace")
        return shorten("".join(c for c in text if c.isprintable()), 200)
    if isinstance(payload, dict):
        error = payload.get("error", payload.get("message"))
        if isinstance(error, dict):
            error = error.get("message")
        if isinstance(error, str):
            return shorten("".join(c for c in error if c.isprintable()), 200)
    return ""
