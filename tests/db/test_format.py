"""The data format number in Redis: read, written, and a newer one refused in a sentence."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from ragis.db.format import CURRENT_FORMAT, check_format, format_key, read_format, write_format
from ragis.errors import ConfigError, DataFormatTooNew
from ragis.settings import Settings
from support.fixtures import RagFactory


async def test_no_format_key_reads_as_none_and_a_written_one_reads_back(
    redis: Redis, prefix: str
) -> None:
    assert await read_format(redis, prefix) is None
    await write_format(redis, prefix)
    assert await redis.get(format_key(prefix)) == b"2"
    assert await read_format(redis, prefix) == CURRENT_FORMAT == 2


def test_formats_up_to_the_current_one_are_accepted() -> None:
    for found in (None, 1, 2):
        check_format(found, "redis://127.0.0.1:6379")


def test_a_newer_format_is_refused_with_a_sentence_naming_the_redis_without_its_password() -> None:
    with pytest.raises(DataFormatTooNew) as refused:
        check_format(3, "redis://ragis:hunter2@db.internal:6379/0")
    assert refused.value.message.startswith(
        "Redis at redis://ragis:***@db.internal:6379/0 holds ragis data of format 3; this ragis "
        "knows up to 2: upgrade ragis"
    )
    assert "hunter2" not in refused.value.message


async def test_a_format_key_that_is_no_number_is_a_config_error(redis: Redis, prefix: str) -> None:
    await redis.set(format_key(prefix), "banana")
    with pytest.raises(ConfigError, match="RAGIS_KEY_PREFIX"):
        await read_format(redis, prefix)


async def test_the_rag_service_refuses_to_start_on_data_of_a_newer_format(
    redis: Redis, settings: Settings, start_rag: RagFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    await redis.set(format_key(settings.key_prefix), "7")
    with pytest.raises(RuntimeError, match="did not start"), start_rag():
        pass
    # uvicorn logs the lifespan's refusal to stderr, its own handler's.
    logged = capfd.readouterr().err
    assert "holds ragis data of format 7; this ragis knows up to 2: upgrade ragis" in logged
    assert await redis.get(format_key(settings.key_prefix)) == b"7"
