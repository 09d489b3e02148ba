"""The embedded Redis's data dir is private to its user: 0700 folders, 0600 files, whatever
the umask of ragis and whatever was there before (the documents' text lives in the AOF)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ragis.db import EmbeddedRedis


@pytest.fixture
def open_umask() -> Iterator[None]:
    # The usual umask of a login shell: without care, files come out 0644 in 0755 folders.
    old = os.umask(0o022)
    yield
    os.umask(old)


def modes(root: Path) -> dict[str, str]:
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


def assert_private(root: Path) -> None:
    for name, mode in modes(root).items():
        path = root / name
        assert int(mode, 8) & 0o077 == 0, f"{name} is {mode}"
        assert int(mode, 8) == (0o700 if path.is_dir() else 0o600), f"{name} is {mode}"


def write_and_rewrite(server: EmbeddedRedis) -> None:
    client = redis.Redis.from_url(server.url)
    client.set("secret", "the text of a document")
    client.bgrewriteaof()  # new AOF base and increment files, written by the server
    client.save()  # and an RDB
    client.close()


def test_a_new_data_dir_and_the_servers_files_are_private(tmp_path: Path, open_umask: None) -> None:
    data = tmp_path / "data"
    with EmbeddedRedis(data, port=0) as server:
        write_and_rewrite(server)
        assert_private(data)
        names = set(modes(data))
        assert {"redis.log", "ragis-redis.lock", "appendonlydir", "dump.rdb"} <= names
    assert_private(data)


def test_an_existing_world_readable_data_dir_is_made_private(
    tmp_path: Path, open_umask: None
) -> None:
    data = tmp_path / "data"
    with EmbeddedRedis(data, port=0) as server:
        write_and_rewrite(server)
    # As an earlier ragis left it: everything readable by everyone.
    for path in [data, *data.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (data / "models").mkdir(mode=0o755)
    (data / "models" / "model.onnx").write_bytes(b"weights")
    with EmbeddedRedis(data, port=0) as server:
        assert_private(data)
        client = redis.Redis.from_url(server.url)
        assert client.get("secret") == b"the text of a document"
        client.close()


def test_a_symlink_in_the_data_dir_is_not_followed(tmp_path: Path, open_umask: None) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not ragis's")
    outside.chmod(0o644)
    data = tmp_path / "data"
    data.mkdir()
    (data / "link").symlink_to(outside)
    with EmbeddedRedis(data, port=0):
        pass
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644
