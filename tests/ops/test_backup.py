"""`ragis backup` and `ragis restore` against a real Redis 8: every key type under the prefix comes
back with its expiry, nothing outside it is taken, and a restore refuses a target that is not
empty, a forged key, a newer data format, before writing anything."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis as sync_redis

from ragis.cli import main
from ragis.db import EmbeddedRedis
from ragis.db.format import CURRENT_FORMAT
from ragis.errors import DataFormatTooNew
from ragis.ops.backup import backup, group_of
from ragis.ops.restore import RestoreRefused, restore
from ragis.ops.snapshot import BadSnapshot, SnapshotReader, SnapshotWriter


@pytest.fixture
def source(redis_server: EmbeddedRedis) -> Iterator[sync_redis.Redis]:
    client = sync_redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


@pytest.fixture
def empty_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(tmp_path / "target", port=0) as server:
        yield server


def fill(client: sync_redis.Redis, prefix: str) -> dict[str, object]:
    """One key of every type ragis uses (and a stream), a sharded collection's keys, the
    accounts; returns key -> its `contents`."""
    ws = f"{prefix}:w:default"
    coll = f"{ws}:{{c:default/docs}}"
    shard = f"{ws}:{{c:default/docs:s1.7}}"
    rng = np.random.default_rng(1)
    for i in range(50):
        vec = rng.standard_normal(16).astype(np.float32)
        blob = (vec / np.linalg.norm(vec)).astype("<f4").tobytes()
        client.execute_command(
            "VADD", f"{coll}:vectors", "FP32", blob, f"d{i % 5}:{i}", "Q8", "SETATTR",
            f'{{"doc":"d{i % 5}","pos":{i}}}',
        )  # fmt: skip
        client.hset(f"{coll}:chunk:d{i % 5}:{i}", mapping={"text": f"chunk {i}", "doc": "d"})
    client.execute_command("VADD", f"{shard}:vectors", "FP32", blob, "s:0", "Q8")
    client.hset(f"{coll}:meta", mapping={"model": "all-MiniLM-L6-v2", "dim": 16, "version": 3})
    client.zadd(f"{coll}:docs", {"d0": 1.0, "d1": 2.0})
    client.sadd(f"{ws}:collections", "docs")
    client.rpush(f"{ws}:session:s1", "one", "two")
    client.expire(f"{ws}:session:s1", 86_400)
    client.set(f"{coll}:cache:e1", "answer", ex=3_600)
    client.set(f"{prefix}:format", str(CURRENT_FORMAT))
    client.hset(f"{prefix}:{{auth}}:user:alice", mapping={"role": "admin"})
    client.xadd(f"{prefix}:{{auth}}:audit", {"action": "user_created"})
    client.set(f"{coll}:lex:tmp", "scratch")  # a search script's scratch: never copied
    keys = [k for k in client.scan_iter(match=f"{prefix}:*") if b":lex:tmp" not in k]
    return {k.decode(): contents(client, k) for k in keys}


def contents(client: sync_redis.Redis, key: bytes) -> object:
    """What a key holds: its DUMP, except for a vector set (whose graph is serialized anew
    when loaded): its elements with their vectors and attributes."""
    if client.type(key) != b"vectorset":
        return client.dump(key)
    elements = client.execute_command("VRANDMEMBER", key, 1_000_000) or []
    return sorted(
        (
            e,
            tuple(client.execute_command("VEMB", key, e)),
            client.execute_command("VGETATTR", key, e),
        )
        for e in set(elements)
    )


def dumps(client: sync_redis.Redis, prefix: str) -> dict[str, object]:
    return {k.decode(): contents(client, k) for k in client.scan_iter(match=f"{prefix}:*")}


def wipe(client: sync_redis.Redis, prefix: str) -> None:
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.unlink(key)


def test_keys_group_by_collection_with_shards_folded_in() -> None:
    assert group_of(b"r:w:a:{c:a/docs}:chunk:x:1") == "c:a/docs"
    assert group_of(b"r:w:a:{c:a/docs:s3.41}:vectors") == "c:a/docs"
    assert group_of(b"r:{auth}:user:bob") == "auth"
    assert group_of(b"r:w:a:session:s1") is None
    assert group_of(b"r:format") is None


def test_every_key_comes_back_with_its_expiry_and_nothing_outside_the_prefix(
    source: sync_redis.Redis, prefix: str, tmp_path: Path, empty_redis: EmbeddedRedis
) -> None:
    before = fill(source, prefix)
    source.set(f"other{prefix}:key", "not ragis's")
    ttl = source.pttl(f"{prefix}:w:default:session:s1")
    path = tmp_path / "ragis.backup"
    summary = backup(_url(source), prefix, path)
    assert summary.keys == len(before)
    assert summary.collections == 1
    assert not path.with_name("ragis.backup.tmp").exists()
    assert path.stat().st_mode & 0o777 == 0o600  # documents and password hashes: private
    with SnapshotReader(path) as reader:
        header = reader.header
    assert header["key_prefix"] == prefix
    assert header["data_format"] == CURRENT_FORMAT
    assert header["collections"] == [
        {"workspace": "default", "name": "docs", "model": "all-MiniLM-L6-v2", "dim": 16,
         "shards": 1}
    ]  # fmt: skip

    restored = restore(path, prefix, url=empty_redis.url)
    assert restored.keys == len(before)
    target = sync_redis.Redis.from_url(empty_redis.url)
    try:
        assert dumps(target, prefix) == before
        assert target.keys(f"other{prefix}:*") == []
        assert 0 < target.pttl(f"{prefix}:w:default:session:s1") <= ttl
        assert target.pttl(f"{prefix}:format") == -1
        # The vector set answers like the original.
        key = f"{prefix}:w:default:{{c:default/docs}}:vectors"
        assert target.execute_command("VCARD", key) == 50
        query = source.execute_command("VEMB", key, "d1:1")
        args = ["VSIM", key, "VALUES", len(query), *query, "COUNT", 5]
        assert target.execute_command(*args) == source.execute_command(*args)
    finally:
        target.close()
        source.delete(f"other{prefix}:key")


def _url(client: sync_redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://:{kwargs['password']}@{kwargs['host']}:{kwargs['port']}"


def test_backup_wipe_restore_into_the_same_redis(
    source: sync_redis.Redis, prefix: str, tmp_path: Path
) -> None:
    before = fill(source, prefix)
    path = tmp_path / "b"
    backup(_url(source), prefix, path)
    wipe(source, prefix)
    restore(path, prefix, url=_url(source))
    assert dumps(source, prefix) == before


def test_a_restore_into_a_data_dir_is_there_at_the_next_start(
    source: sync_redis.Redis, prefix: str, tmp_path: Path
) -> None:
    before = fill(source, prefix)
    path = tmp_path / "b"
    backup(_url(source), prefix, path)
    data = tmp_path / "data"
    summary = restore(path, prefix, data_dir=data)
    assert summary.keys == len(before)
    assert list(data.glob("appendonlydir/*.rdb")) or list(data.glob("appendonlydir/*base*"))
    with EmbeddedRedis(data, port=0) as server:
        target = sync_redis.Redis.from_url(server.url)
        assert dumps(target, prefix) == before
        target.close()
    # A second restore into it is refused: it is no longer empty.
    with pytest.raises(RestoreRefused, match=f"already holds {len(before)} keys"):
        restore(path, prefix, data_dir=data)


def test_a_non_empty_target_is_refused_and_left_as_it_was(
    source: sync_redis.Redis, prefix: str, tmp_path: Path, empty_redis: EmbeddedRedis
) -> None:
    fill(source, prefix)
    path = tmp_path / "b"
    backup(_url(source), prefix, path)
    with pytest.raises(RestoreRefused, match=r"already holds .* keys under the prefix"):
        restore(path, prefix, url=_url(source))
    target = sync_redis.Redis.from_url(empty_redis.url)
    target.set(f"{prefix}:format", "2")
    with pytest.raises(RestoreRefused, match="already holds 1 keys"):
        restore(path, prefix, url=empty_redis.url)
    assert target.keys("*") == [f"{prefix}:format".encode()]
    target.close()


def forged(
    path: Path, prefix: str, records: list[tuple[bytes, int, bytes]], **header: object
) -> Path:
    writer = SnapshotWriter(path, {"key_prefix": prefix, "data_format": CURRENT_FORMAT, **header})
    for key, expiry, payload in records:
        writer.add(key, expiry, payload)
    writer.close()
    return path


def test_a_forged_key_outside_the_prefix_writes_nothing(
    source: sync_redis.Redis, prefix: str, tmp_path: Path, empty_redis: EmbeddedRedis
) -> None:
    source.set(f"{prefix}:a", "1")
    payload = source.dump(f"{prefix}:a")
    for outside in (b"config:evil", prefix.encode() + b"x:a", prefix.encode()):
        # A good key first: the whole file is checked before the first one is written.
        records = [(f"{prefix}:a".encode(), -1, payload), (outside, -1, payload)]
        path = forged(tmp_path / f"forged-{len(outside)}", prefix, records)
        with pytest.raises(BadSnapshot, match="outside the prefix"):
            restore(path, prefix, url=empty_redis.url)
    target = sync_redis.Redis.from_url(empty_redis.url)
    assert target.dbsize() == 0
    target.close()


def test_a_snapshot_of_a_newer_data_format_is_refused(
    prefix: str, tmp_path: Path, empty_redis: EmbeddedRedis
) -> None:
    path = forged(tmp_path / "newer", prefix, [], data_format=CURRENT_FORMAT + 1)
    with pytest.raises(DataFormatTooNew, match=f"format {CURRENT_FORMAT + 1}"):
        restore(path, prefix, url=empty_redis.url)


def test_a_snapshot_under_another_prefix_is_refused_with_the_setting_to_use(
    source: sync_redis.Redis, prefix: str, tmp_path: Path, empty_redis: EmbeddedRedis
) -> None:
    source.set(f"{prefix}:format", "2")
    path = tmp_path / "b"
    backup(_url(source), prefix, path)
    with pytest.raises(RestoreRefused, match=f"RAGIS_KEY_PREFIX={prefix}"):
        restore(path, "other", url=empty_redis.url)


def test_a_damaged_file_writes_nothing(
    source: sync_redis.Redis, prefix: str, tmp_path: Path, empty_redis: EmbeddedRedis
) -> None:
    fill(source, prefix)
    path = tmp_path / "b"
    backup(_url(source), prefix, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])  # the trailer is lost, the records are there
    with pytest.raises(BadSnapshot):
        restore(path, prefix, url=empty_redis.url)
    target = sync_redis.Redis.from_url(empty_redis.url)
    assert target.dbsize() == 0
    target.close()


def test_an_expired_key_is_skipped_and_the_others_keep_their_expiry(
    source: sync_redis.Redis, prefix: str, tmp_path: Path, empty_redis: EmbeddedRedis
) -> None:
    source.set(f"{prefix}:x", "1")
    payload = source.dump(f"{prefix}:x")
    now = int(time.time() * 1000)
    records = [
        (f"{prefix}:gone".encode(), now - 1_000, payload),
        (f"{prefix}:later".encode(), now + 3_600_000, payload),
        (f"{prefix}:never".encode(), -1, payload),
    ]
    summary = restore(forged(tmp_path / "b", prefix, records), prefix, url=empty_redis.url)
    assert (summary.keys, summary.expired) == (2, 1)
    target = sync_redis.Redis.from_url(empty_redis.url)
    assert target.exists(f"{prefix}:gone") == 0
    assert 0 < target.pttl(f"{prefix}:later") <= 3_600_000
    assert target.pttl(f"{prefix}:never") == -1
    target.close()


def test_the_commands_back_up_and_restore_with_the_settings(
    source: sync_redis.Redis,
    prefix: str,
    tmp_path: Path,
    empty_redis: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = fill(source, prefix)
    monkeypatch.setenv("REDIS_URL", _url(source))
    monkeypatch.setenv("RAGIS_KEY_PREFIX", prefix)
    monkeypatch.setenv("RAGIS_DATA_DIR", str(tmp_path / "unused"))
    path = tmp_path / "cli.backup"
    assert main(["backup", str(path)]) == 0
    assert f"{len(before)} keys" in capsys.readouterr().out
    assert main(["restore", str(path)]) == 1  # REDIS_URL's Redis holds them: refused
    assert "already holds" in capsys.readouterr().err
    assert main(["restore", str(path), "--redis-url", empty_redis.url]) == 0
    assert "restored" in capsys.readouterr().out
    target = sync_redis.Redis.from_url(empty_redis.url)
    assert dumps(target, prefix) == before
    target.close()
    path.write_bytes(b"not a backup")
    assert main(["restore", str(path), "--redis-url", empty_redis.url]) == 1
    assert "not a ragis backup" in capsys.readouterr().err


def test_the_backup_command_finds_the_embedded_redis_of_a_running_ragis_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("RAGIS_REDIS_PASSWORD", raising=False)
    monkeypatch.setenv("RAGIS_KEY_PREFIX", "ragis")
    monkeypatch.setenv("RAGIS_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "up.backup"
    assert main(["backup", str(path)]) == 1  # nothing runs over the data dir yet
    assert "Nothing to back up from: REDIS_URL is unset" in capsys.readouterr().err
    # As `ragis up` runs it: over RAGIS_DATA_DIR, its port in the lock, its password kept there.
    with EmbeddedRedis(tmp_path / "data", port=0) as server:
        client = sync_redis.Redis.from_url(server.url)
        client.set("ragis:format", "2")
        client.close()
        assert main(["backup", str(path)]) == 0
    assert "1 keys" in capsys.readouterr().out
    # Stopped now: restored by default into RAGIS_DATA_DIR, which still holds that key.
    assert main(["restore", str(path)]) == 1
    assert "already holds 1 keys" in capsys.readouterr().err
    monkeypatch.setenv("RAGIS_DATA_DIR", str(tmp_path / "fresh"))
    assert main(["restore", str(path)]) == 0
    assert "into the data dir" in capsys.readouterr().out


def test_a_forged_value_is_refused_by_redis_and_said_so(
    prefix: str, tmp_path: Path, empty_redis: EmbeddedRedis
) -> None:
    # The framing and the checksum are right (anyone can compute a sha256); the value is not.
    records = [(f"{prefix}:x".encode(), -1, b"\x00\x03abc" + b"\xff" * 10)]
    path = forged(tmp_path / "b", prefix, records)
    with pytest.raises(BadSnapshot, match="Redis refused a value"):
        restore(path, prefix, url=empty_redis.url)
    with pytest.raises(BadSnapshot, match="Redis refused a value"):
        restore(path, prefix, data_dir=tmp_path / "data")


def test_a_redis_without_vector_sets_is_refused_before_anything_is_written(
    source: sync_redis.Redis, prefix: str, tmp_path: Path, redis7: str
) -> None:
    fill(source, prefix)
    path = tmp_path / "b"
    backup(_url(source), prefix, path)
    with pytest.raises(RestoreRefused, match="no Vector Sets"):
        restore(path, prefix, url=redis7)
    target = sync_redis.Redis.from_url(redis7)
    assert target.dbsize() == 0
    target.close()
