from __future__ import annotations

import contextlib
import os
import signal
import socket
from pathlib import Path

import numpy as np
import pytest
import redis

from ragis.db import EmbeddedRedis
from ragis.db.client import redact
from ragis.db.embedded import PASSWORD_NAME
from ragis.errors import DataDirInUse, RedisUnavailable


def test_starts_on_a_free_port_bound_to_loopback_with_aof(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path, port=0) as server:
        assert server.port > 0
        assert server.url == f"redis://:{server.password}@127.0.0.1:{server.port}"
        client = redis.Redis.from_url(server.url)
        config = client.config_get("*")
        assert config["bind"].split()[0] == "127.0.0.1"
        assert config["appendonly"] == "yes"
        assert config["appendfsync"] == "everysec"
        assert config["aof-use-rdb-preamble"] == "yes"
        assert Path(config["dir"]) == tmp_path.resolve()
        assert client.info("server")["redis_version"].startswith("8.")
        client.close()
    assert not server.running


def test_data_survives_a_stop_and_restart(tmp_path: Path) -> None:
    vec = np.arange(1, 5, dtype="<f4")
    with EmbeddedRedis(tmp_path, port=0) as server:
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")
        client.execute_command("VADD", "vs", "FP32", vec.tobytes(), "e1", "SETATTR", '{"doc":"d"}')
        client.close()
    with EmbeddedRedis(tmp_path, port=0) as server:
        client = redis.Redis.from_url(server.url)
        assert client.get("k") == b"v"
        assert client.execute_command("VCARD", "vs") == 1
        assert client.execute_command("VGETATTR", "vs", "e1") == b'{"doc":"d"}'
        client.close()


def test_a_second_server_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path, port=0) as first:
        with pytest.raises(DataDirInUse, match="already uses the data dir"):
            EmbeddedRedis(tmp_path, port=0).start()
        assert first.running
    # Once the first has stopped, the dir is free again.
    with EmbeddedRedis(tmp_path, port=0) as again:
        assert again.running


def test_a_redis_left_running_by_a_dead_ragis_is_detected(tmp_path: Path) -> None:
    orphan = EmbeddedRedis(tmp_path, port=0).start()
    # Simulate the owning ragis dying without stopping its Redis: the lock is released
    # but the server still writes to the dir.
    assert orphan._lock_file is not None
    lock_info = (tmp_path / "ragis-redis.lock").read_text()
    orphan._release_lock()
    (tmp_path / "ragis-redis.lock").write_text(lock_info)
    try:
        with pytest.raises(DataDirInUse, match=rf"pid {orphan.pid}"):
            EmbeddedRedis(tmp_path, port=0).start()
    finally:
        orphan.stop()


def test_a_busy_port_gives_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        with pytest.raises(RedisUnavailable, match=f"Port {port}.*RAGIS_REDIS_PORT"):
            EmbeddedRedis(tmp_path, port=port).start()
    # The failed start released the data dir.
    with EmbeddedRedis(tmp_path, port=0):
        pass


def test_a_server_that_dies_at_start_reports_its_log(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path, port=0, extra_args=["--no-such-option", "1"])
    with pytest.raises(RedisUnavailable, match="exited at start"):
        server.start()


def test_stop_falls_back_to_sigterm_when_shutdown_is_impossible(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path, port=0).start()
    pid = server.pid
    assert pid is not None
    # Pause the server: SHUTDOWN cannot be answered, so stop() must escalate.
    os.kill(pid, signal.SIGSTOP)
    try:
        server.stop(timeout=0.5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert not server.running


def test_a_client_without_the_password_is_refused_and_one_with_it_is_served(
    tmp_path: Path,
) -> None:
    with EmbeddedRedis(tmp_path, port=0) as server:
        anonymous = redis.Redis(port=server.port)
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        anonymous.close()
        wrong = redis.Redis(port=server.port, password="not-" + server.password)
        with pytest.raises(redis.AuthenticationError):
            wrong.ping()
        wrong.close()
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.close()
    # stop() shut it down with the password: nothing is left listening.
    assert not server.running


def test_the_generated_password_is_private_kept_and_reused_at_the_next_start(
    tmp_path: Path,
) -> None:
    with EmbeddedRedis(tmp_path, port=0) as server:
        first = server.password
    stored = tmp_path / PASSWORD_NAME
    assert stored.stat().st_mode & 0o777 == 0o600
    assert stored.read_text().strip() == first
    assert len(first) >= 40  # 32 random bytes, url-safe base 64
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    with EmbeddedRedis(tmp_path, port=0) as again, redis.Redis.from_url(again.url) as client:
        assert again.password == first
        assert client.ping()
    # Another data dir, another password.
    with EmbeddedRedis(tmp_path / "other", port=0) as other:
        assert other.password != first


def test_a_given_password_wins_over_the_stored_one_and_is_not_written(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path, port=0):
        pass
    stored = (tmp_path / PASSWORD_NAME).read_text()
    given = 'my "own" pass word with spaces, é and \\'
    with EmbeddedRedis(tmp_path, port=0, password=given) as server:
        assert server.password == given
        with redis.Redis(port=server.port, password=given) as client:
            assert client.ping()
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()  # the password is quoted into the URL
        with (
            redis.Redis(port=server.port, password=stored.strip()) as client,
            pytest.raises(redis.AuthenticationError),
        ):
            client.ping()
    assert (tmp_path / PASSWORD_NAME).read_text() == stored


def test_the_password_is_on_no_command_line_and_in_no_log(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path, port=0) as server:
        assert server.pid is not None
        assert server.password not in " ".join(server.command_line())
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert server.password.encode() not in cmdline
        assert server.password not in redact(server.url)
    log = (tmp_path / "redis.log").read_text()
    assert "Ready to accept connections" in log
    assert server.password not in log
