"""Shared fixtures: a real Redis 8 (the embedded binary) per session, a key prefix per test."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis as sync_redis
from redis.asyncio import Redis

from ragis.db import EmbeddedRedis
from ragis.settings import Settings, load_settings
from ragis.store import Store
from support.net import free_port

pytest_plugins = ["support.fixtures", "support.gateway_fixtures"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run last. Playwright's sync API keeps an event loop running in the
    main thread from the first browser test to the end of the session (its fixture is
    session-wide), and an async test run after that finds the loop and cannot start its own."""
    ui = Path(__file__).parent / "ui"
    items.sort(key=lambda item: item.path.is_relative_to(ui))  # stable: the order stays within


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(redis_server: EmbeddedRedis, prefix: str, tmp_path: Path) -> Settings:
    return load_settings(redis_url=redis_server.url, key_prefix=prefix, data_dir=tmp_path / "data")


@pytest.fixture
async def redis(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def store(redis: Redis, settings: Settings) -> Store:
    return Store.create(redis, settings)


# Debian's Redis 7 binary from the `redis-tools` package (no service comes with it). It runs
# as a server when called by a name ending in "redis-server".
DEBIAN_REDIS = "/usr/bin/redis-check-rdb"


@pytest.fixture
def redis7(tmp_path: Path) -> Iterator[str]:
    """A real Redis 7 (Debian's package; the README's test command installs it)."""
    if not os.path.exists(DEBIAN_REDIS):
        if os.environ.get("CI"):
            pytest.fail("Debian's redis-tools (Redis 7) is missing; scripts/check installs it.")
        pytest.skip("Debian's redis-tools is not installed")
    binary = tmp_path / "redis-server"
    binary.symlink_to(DEBIAN_REDIS)
    port = free_port()
    proc = subprocess.Popen(
        [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = sync_redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except sync_redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    client.close()
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)
