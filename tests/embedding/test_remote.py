"""What both remote embedders share (ragis.embedding.remote): batching, retries, the timeout,
clear errors, and answers from a hostile server. Against the loopback OpenAI server."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest

from ragis.embedding import Embedder
from ragis.embedding.openai_compat import OpenAIEmbedder
from ragis.embedding.remote import RETRY_AFTER_CAP, _retry_after
from ragis.errors import EmbeddingUnavailable
from support.embed_servers import EmbedReply, OpenAIEmbedServer
from support.llm_servers import unused_port

KEY = "sk-embed-secret-1234"


@pytest.fixture(scope="module")
def module_server(embedder: Embedder) -> Iterator[OpenAIEmbedServer]:
    with OpenAIEmbedServer(embedder, api_key=KEY) as server:
        yield server


@pytest.fixture
def server(module_server: OpenAIEmbedServer) -> Iterator[OpenAIEmbedServer]:
    module_server.reset()
    yield module_server
    module_server.reset()


@pytest.fixture
async def remote(server: OpenAIEmbedServer) -> AsyncIterator[OpenAIEmbedder]:
    embedder = await OpenAIEmbedder.create(
        server.model, server.base_url, api_key=KEY, batch_size=32, timeout=120, retries=2,
        backoff=0.01,
    )  # fmt: skip
    server.reset()  # forget the probe
    yield embedder
    await embedder.aclose()


async def test_texts_go_in_batches_of_the_batch_size_and_come_back_in_order(
    remote: OpenAIEmbedder, server: OpenAIEmbedServer, embedder: Embedder
) -> None:
    texts = [f"Passage number {i} is about the volcano Etna on Sicily." for i in range(70)]
    vectors = await remote.embed(texts)
    assert server.batch_sizes == [32, 32, 6]
    expected = server.space().transform(await embedder.embed(texts))
    assert vectors.shape == (70, 512)
    assert vectors.dtype == np.float32
    assert np.allclose(np.einsum("ij,ij->i", vectors, expected), 1.0, atol=1e-5)


async def test_a_5xx_is_retried_and_then_succeeds(
    remote: OpenAIEmbedder, server: OpenAIEmbedServer
) -> None:
    server.script(EmbedReply.http_error(503), EmbedReply.http_error(500))
    vectors = await remote.embed(["Where is Etna?"])
    assert vectors.shape == (1, 512)
    assert server.batch_sizes == [1, 1, 1]


async def test_a_429_waits_for_retry_after_then_retries(
    remote: OpenAIEmbedder, server: OpenAIEmbedServer
) -> None:
    server.script(EmbedReply.http_error(429, retry_after="0"))
    vectors = await remote.embed(["Where is Etna?"])
    assert vectors.shape == (1, 512)
    assert len(server.requests) == 2


async def test_after_the_last_retry_the_error_names_the_url_and_the_status(
    remote: OpenAIEmbedder, server: OpenAIEmbedServer
) -> None:
    server.script(*[EmbedReply.http_error(503, "GPU on fire")] * 3)
    with pytest.raises(EmbeddingUnavailable) as caught:
        await remote.embed(["Where is Etna?"])
    message = caught.value.message
    assert server.base_url in message
    assert "HTTP 503" in message
    assert "GPU on fire" in message
    assert "openai:text-embedding-3-small" in message
    assert len(server.requests) == 3


async def test_a_refused_key_fails_at_once_without_retry_and_without_the_key(
    server: OpenAIEmbedServer,
) -> None:
    with pytest.raises(EmbeddingUnavailable) as caught:
        await OpenAIEmbedder.create(
            server.model, server.base_url, api_key="sk-wrong-key", retries=3, backoff=0.01
        )
    message = caught.value.message
    assert "HTTP 401" in message
    assert "RAGIS_EMBED_API_KEY" in message
    assert "sk-wrong-key" not in message
    assert len(server.requests) == 1


async def test_an_unknown_model_is_a_404_that_names_the_setting(
    server: OpenAIEmbedServer,
) -> None:
    with pytest.raises(EmbeddingUnavailable) as caught:
        await OpenAIEmbedder.create("no-such-model", server.base_url, api_key=KEY, backoff=0.01)
    assert "HTTP 404" in caught.value.message
    assert "RAGIS_EMBED_MODEL" in caught.value.message
    assert len(server.requests) == 1


async def test_credentials_in_the_url_are_redacted_from_errors(
    server: OpenAIEmbedServer,
) -> None:
    url = server.base_url.replace("http://", "http://user:hunter2@")
    with pytest.raises(EmbeddingUnavailable) as caught:
        await OpenAIEmbedder.create(server.model, url, retries=0)
    assert "hunter2" not in caught.value.message
    assert "***@127.0.0.1" in caught.value.message


async def test_nothing_listening_is_retried_then_reported() -> None:
    url = f"http://127.0.0.1:{unused_port()}/v1"
    with pytest.raises(EmbeddingUnavailable) as caught:
        await OpenAIEmbedder.create("m", url, retries=2, backoff=0.01)
    assert "could not be reached" in caught.value.message
    assert url in caught.value.message


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(EmbedReply(delay=float("inf")), id="silent"),
        pytest.param(EmbedReply(drip=0.05), id="slow-drip"),
    ],
)
async def test_a_server_slower_than_the_timeout_fails_without_hanging(
    server: OpenAIEmbedServer, reply: EmbedReply
) -> None:
    remote = await OpenAIEmbedder.create(server.model, server.base_url, api_key=KEY, retries=2)
    remote.timeout = 0.5  # after the probe, which a busy machine may take longer to answer
    server.reset()
    server.script(reply)
    try:
        with pytest.raises(EmbeddingUnavailable, match=r"did not answer within 0\.5 s"):
            await remote.embed(["Where is Etna?"])
        assert len(server.requests) == 1  # a timeout is not retried: it would multiply the wait
    finally:
        await remote.aclose()


def _data(*embeddings: object) -> dict[str, object]:
    return {"data": [{"index": i, "embedding": e} for i, e in enumerate(embeddings)]}


HOSTILE = {
    "huge-body": EmbedReply(payload=_data([0.5] * 512), pad_bytes=3 << 20),
    "huge-chunked-body": EmbedReply(payload=_data([0.5] * 512), pad_bytes=64 << 20, chunked=True),
    "not-json": EmbedReply(body=b"<html>502 Bad Gateway</html>"),
    "json-not-an-object": EmbedReply(payload=[1, 2, 3]),
    "no-data": EmbedReply(payload={"object": "list"}),
    "too-few": EmbedReply(payload=_data([0.5] * 512)),
    "too-many": EmbedReply(payload=_data(*[[0.5] * 512] * 3)),
    "nan": EmbedReply(body=b'{"data": [{"index": 0, "embedding": [NaN, 1.0]}, '
                      b'{"index": 1, "embedding": [1.0, 1.0]}]}'),
    "infinity": EmbedReply(body=b'{"data": [{"index": 0, "embedding": [1e999, 1.0]}, '
                           b'{"index": 1, "embedding": [1.0, 1.0]}]}'),
    "strings": EmbedReply(payload=_data(["0.5"] * 512, ["0.5"] * 512)),
    "booleans": EmbedReply(payload=_data([True] * 512, [True] * 512)),
    "nested-junk": EmbedReply(payload=_data([[0.5, [0.1]]] * 512, [{"x": 1}] * 512)),
    "empty-vectors": EmbedReply(payload=_data([], [])),
    "ragged": EmbedReply(payload=_data([0.5] * 512, [0.5] * 511)),
    "other-dimension": EmbedReply(payload=_data([0.5] * 768, [0.5] * 768)),
    "all-zero": EmbedReply(payload=_data([0.0] * 512, [0.5] * 512)),
    "duplicate-index": EmbedReply(
        payload={"data": [{"index": 0, "embedding": [0.5] * 512}] * 2}
    ),
    "index-a-string": EmbedReply(
        payload={"data": [{"index": "0", "embedding": [0.5] * 512}] * 2}
    ),
}  # fmt: skip


@pytest.mark.parametrize("reply", list(HOSTILE.values()), ids=list(HOSTILE))
async def test_a_hostile_answer_is_a_clear_error_never_a_crash(
    remote: OpenAIEmbedder, server: OpenAIEmbedServer, reply: EmbedReply
) -> None:
    server.script(reply)
    with pytest.raises(EmbeddingUnavailable) as caught:
        await remote.embed(["Where is Etna?", "What is Vesuvius?"])
    assert server.base_url in caught.value.message
    if reply.pad_bytes:
        assert "bytes, too large for 2 vectors" in caught.value.message
    assert len(server.requests) == 1  # a bad answer is not retried
    # ... and the embedder still works afterwards.
    assert (await remote.embed(["Where is Etna?"])).shape == (1, 512)


def test_retry_after_is_honoured_up_to_a_cap() -> None:
    assert _retry_after("2") == 2.0
    assert _retry_after("3600") == RETRY_AFTER_CAP
    assert _retry_after("-5") == 0.0
    soon = email.utils.formatdate(time.time() + 3600, usegmt=True)
    assert _retry_after(soon) == RETRY_AFTER_CAP
    assert _retry_after("nan") is None
    assert _retry_after("soon") is None
    assert _retry_after(None) is None
