"""Only the store, the accounts and db/ speak Redis, and Redis failures leave the store as ragis
errors."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis import exceptions as rx
from redis.asyncio import Redis

import ragis
from ragis.errors import NotFound, RedisUnavailable
from ragis.settings import Settings
from ragis.store import Store
from support.llm_servers import unused_port

PACKAGE = Path(ragis.__file__).parent
# The data layer, and the operator's commands that copy or inspect Redis as a whole (backup,
# restore, doctor: ragis.ops), which work below the store on purpose.
REDIS_SPEAKERS = ("store", "db", "accounts", "ops")


def redis_imports(path: Path) -> list[str]:
    """The `redis` modules a source file imports (at any depth of the file)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name == "redis" or name.startswith("redis.")]
    return found


def test_no_module_outside_the_data_layer_and_ops_imports_redis() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): imported
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in REDIS_SPEAKERS
        and (imported := redis_imports(path))
    }
    assert offenders == {}


def test_the_import_walk_sees_every_form_of_import(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "import redis\nimport os, redis.asyncio as r\nfrom redis.exceptions import RedisError\n"
        "def f():\n    from redis import Redis\nfrom . import redis_like\nimport redisvl\n"
    )
    assert redis_imports(source) == ["redis", "redis.asyncio", "redis.exceptions", "redis"]


@pytest.fixture
async def gone(settings: Settings) -> AsyncIterator[Store]:
    """A store whose Redis is not there: nothing listens on its port."""
    client = Redis.from_url(f"redis://127.0.0.1:{unused_port()}", socket_connect_timeout=1)
    yield Store.create(client, settings)
    await client.aclose()


async def test_a_redis_that_does_not_answer_is_redis_unavailable(gone: Store) -> None:
    with pytest.raises(RedisUnavailable) as caught:
        await gone.sessions.history("s1")
    assert caught.value.code == "redis_unavailable"
    assert caught.value.message == "Redis did not answer; try again shortly."
    assert isinstance(caught.value.__cause__, rx.ConnectionError)
    with pytest.raises(RedisUnavailable):
        await gone.collections.require("docs")


async def test_a_command_redis_refuses_is_redis_unavailable_with_its_cause(
    store: Store, redis: Redis
) -> None:
    await redis.set(store.keys.session("s1"), "not a list")
    with pytest.raises(RedisUnavailable, match="Redis failed a command") as caught:
        await store.sessions.history("s1")
    assert isinstance(caught.value.__cause__, rx.ResponseError)
    assert "WRONGTYPE" in str(caught.value.__cause__)


async def test_ragis_errors_leave_the_store_unchanged(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.collections.require("nope")


async def test_ping_returns_when_redis_answers_and_says_why_when_not(
    store: Store, gone: Store
) -> None:
    await store.ping()
    with pytest.raises(RedisUnavailable, match=r"^Redis does not answer: ") as caught:
        await gone.ping()
    assert isinstance(caught.value.__cause__, rx.ConnectionError)
