from __future__ import annotations

import shutil

import pytest

from ragis.db import EmbeddedRedis, connect
from ragis.db.client import redact
from ragis.errors import RedisUnavailable, VectorSetsMissing
from support.net import free_port


async def test_connect_accepts_redis_8(redis_server: EmbeddedRedis) -> None:
    client = await connect(redis_server.url)
    assert await client.ping()
    await client.aclose()


async def test_redis_7_is_refused_with_one_sentence_that_says_how_to_fix_it(redis7: str) -> None:
    with pytest.raises(VectorSetsMissing) as caught:
        await connect(redis7)
    message = caught.value.message
    assert "version 7." in message
    assert "no Vector Sets" in message
    assert "REDIS_URL" in message
    assert "\n" not in message


async def test_an_unreachable_server_is_reported_without_its_password() -> None:
    url = f"redis://user:s3cret@127.0.0.1:{free_port()}"
    with pytest.raises(RedisUnavailable) as caught:
        await connect(url)
    assert "s3cret" not in caught.value.message
    assert "Cannot reach Redis" in caught.value.message


def test_redact_hides_passwords() -> None:
    assert redact("redis://:pw@host:1") == "redis://***@host:1"
    assert redact("redis://u:pw@host:1/0") == "redis://u:***@host:1/0"
    assert redact("redis://host:1") == "redis://host:1"
    # The embedded Redis's URL: a quoted password, no user.
    assert redact("redis://:a%40b%3Ac@127.0.0.1:6379") == "redis://***@127.0.0.1:6379"


def test_the_embedded_redis_url_is_printed_without_its_password(
    redis_server: EmbeddedRedis,
) -> None:
    assert redis_server.password in redis_server.url
    assert redact(redis_server.url) == f"redis://***@127.0.0.1:{redis_server.port}"


def test_debian_redis_is_not_on_the_embedded_path() -> None:
    # ragis must never pick Debian's Redis 7 up from PATH.
    from ragis.db.embedded import redis_server_binary

    assert redis_server_binary() != shutil.which("redis-server")
