"""`ragis up` as a real process: it starts Redis 8, prints where, and stops cleanly on a signal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from ragis.db import EmbeddedRedis
from support.signals import default_stop_signals


def run_up(tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("RAGIS_", "REDIS_"))}
    full_env.update(
        {
            "RAGIS_DATA_DIR": str(tmp_path / "data"),
            "RAGIS_REDIS_PORT": "0",
            "RAGIS_RAG_PORT": "0",
            "RAGIS_GATEWAY_PORT": "0",
            "RAGIS_LLM_PROVIDER": "none",
            **env,
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "ragis", "up"],
        cwd=tmp_path,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_stop_signals,
    )


def read_until_up(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line.rstrip())
        if "Press Ctrl-C" in line:
            return lines
    raise AssertionError("ragis up ended early:\n" + "\n".join(lines))


@pytest.fixture
def up(tmp_path: Path, service_model_cache: Path) -> Iterator[subprocess.Popen[str]]:
    proc = run_up(tmp_path, RAGIS_MODEL_CACHE=str(service_model_cache))
    yield proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)


def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
    finally:
        client.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_up_prints_redis_address_and_stops_cleanly_on_a_signal(
    tmp_path: Path, sig: signal.Signals, service_model_cache: Path
) -> None:
    token = "up-test-token-" + "t" * 32
    proc = run_up(tmp_path, RAGIS_MODEL_CACHE=str(service_model_cache), RAGIS_INTERNAL_TOKEN=token)
    try:
        lines = read_until_up(proc)
        # Printed without its password, which is the data dir's.
        match = re.search(r"redis\s+redis://\*\*\*@(127\.0\.0\.1:\d+)", "\n".join(lines))
        assert match, lines
        password = (tmp_path / "data" / "redis-password").read_text().strip()
        assert password not in "\n".join(lines)
        client = redis.Redis.from_url(f"redis://:{password}@{match.group(1)}")
        assert client.execute_command("VCARD", "nothing") == 0
        client.set("kept", "yes")
        client.close()
        rag = re.search(r"rag\s+(http://127\.0\.0\.1:\d+)", "\n".join(lines))
        assert rag, lines
        bearer = {"Authorization": f"Bearer {token}"}
        health = httpx.get(rag.group(1) + "/health", headers=bearer, timeout=10).json()
        assert health["redis"]["ok"] is True
        assert health["provider"] == "none"
        assert "retrieval-only" in "\n".join(lines)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()  # reaps it and closes its pipe (no ResourceWarning later)
    assert proc.returncode == 0, out
    assert "stopped." in out
    assert not redis_answers(f"redis://:{password}@{match.group(1)}"), "Redis outlived ragis up"
    with pytest.raises(httpx.ConnectError):
        httpx.get(rag.group(1) + "/health", timeout=2)
    # The data written before the stop is still there at the next start.
    with EmbeddedRedis(tmp_path / "data", port=0) as server:
        client = redis.Redis.from_url(server.url)
        assert client.get("kept") == b"yes"
        client.close()


def test_a_second_up_on_the_same_data_dir_refuses_with_one_sentence(
    tmp_path: Path, up: subprocess.Popen[str]
) -> None:
    read_until_up(up)
    second = run_up(tmp_path)
    out, _ = second.communicate(timeout=30)
    assert second.returncode == 1
    assert "Another ragis Redis already uses the data dir" in out
    assert "Traceback" not in out


def test_up_refuses_a_redis_without_vector_sets(tmp_path: Path, redis7: str) -> None:
    proc = run_up(tmp_path, REDIS_URL=redis7)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "has no Vector Sets" in out
    assert "Traceback" not in out


def test_up_reports_an_unreachable_redis(tmp_path: Path) -> None:
    proc = run_up(tmp_path, REDIS_URL="redis://127.0.0.1:1")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "Cannot reach Redis at redis://127.0.0.1:1" in out
    assert "Traceback" not in out


def test_a_bad_setting_is_one_readable_sentence(tmp_path: Path) -> None:
    proc = run_up(tmp_path, RAGIS_REDIS_PORT="not-a-port")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "Invalid ragis settings" in out
    assert "RAGIS_REDIS_PORT" in out or "redis_port" in out
    assert "Traceback" not in out


def test_every_command_has_help() -> None:
    for argv in (["--help"], ["up", "--help"]):
        out = subprocess.run(
            [sys.executable, "-m", "ragis", *argv], capture_output=True, text=True, check=True
        ).stdout
        assert "usage: ragis" in out


def test_a_service_that_cannot_start_stops_the_whole_stack(
    tmp_path: Path, service_model_cache: Path
) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        proc = run_up(
            tmp_path,
            RAGIS_RAG_PORT=str(busy.getsockname()[1]),
            RAGIS_MODEL_CACHE=str(service_model_cache),
        )
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "The RAG service exited at start" in out
    assert "stopping redis" in out
    started = re.search(r"redis ready at (redis://\S+)", out)
    assert started, out
    assert not redis_answers(started.group(1))
