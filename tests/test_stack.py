"""`ragis up` as a real process: a stop signal at any start-up phase leaves no process behind, and a
child that dies is reaped, restarted with backoff, or stops everything after too many crashes.

The stack's processes are found by their data dir (in /proc/PID/cmdline or /proc/PID/environ),
not by process group: every child runs in its own session. Phases are recognised by the lines
`ragis up` prints as it goes.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import redis

from ragis.db import EmbeddedRedis
from ragis.db.embedded import PASSWORD_NAME
from support.signals import default_stop_signals

# Generous: the machine is shared, and the RAG service loads a model at each start.
WAIT = 240.0


class Up:
    """A real `ragis up` whose output is read by a thread, so a test can wait for a line."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.data_dir = str(tmp_path / "data")
        full_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("RAGIS_", "REDIS_", "OPENAI"))
        }
        full_env.update(
            {
                "RAGIS_DATA_DIR": self.data_dir,
                "RAGIS_REDIS_PORT": "0",
                "RAGIS_RAG_PORT": "0",
                "RAGIS_GATEWAY_PORT": "0",
                "RAGIS_LLM_PROVIDER": "none",
                **env,
            }
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ragis", "up"],
            cwd=tmp_path,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # As from a terminal: whatever runs the tests may ignore SIGHUP or SIGINT (nohup, a
            # background job), and ragis up keeps a signal ignored that it was started with.
            preexec_fn=default_stop_signals,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = WAIT) -> str:
        """The next line containing `text`; fails with the output if ragis ends or is too slow."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r}:\n" + self.output) from None
            if line is None:
                raise AssertionError(f"ragis up ended before {text!r}:\n" + self.output)
            self.lines.append(line)
            if text in line:
                return line

    def finish(self, timeout: float = 120.0) -> str:
        """Wait for ragis up to exit; all of its output."""
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        self._drain()
        if self._reader.is_alive():
            # Its output is still open: processes it started outlived it and hold it.
            left = kill_stack(self.data_dir)
            raise AssertionError(f"ragis up exited but left {left}:\n" + self.output)
        self.close()
        return self.output

    def _drain(self) -> None:
        while not self._queue.empty():
            line = self._queue.get_nowait()
            if line is not None:
                self.lines.append(line)

    def close(self) -> None:
        """Close its output once nothing holds it open any more (else closing would block)."""
        self._reader.join(timeout=10)
        if self.proc.stdout is not None and not self._reader.is_alive():
            self.proc.stdout.close()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def processes(self) -> dict[int, str]:
        return stack_processes(self.data_dir)

    def child(self, module: str, timeout: float = WAIT) -> int:
        """The pid of the child running `python -m module`, once it exists."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid, cmdline in self.processes().items():
                if pid != self.proc.pid and f"-m {module}" in cmdline:
                    return pid
            time.sleep(0.05)
        raise AssertionError(f"no {module} process:\n" + self.output)


def stack_processes(data_dir: str) -> dict[int, str]:
    """Every live process of a stack on this data dir: one whose environment names it (ragis up
    and its Python children), or whose working directory or an open file is in it (Redis, which
    overwrites its command line and environment with its title, and chdirs to its data dir)."""
    in_env = f"RAGIS_DATA_DIR={data_dir}".encode()
    root = Path(data_dir).resolve()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
            places = [os.readlink(entry / "cwd")]
            places += [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if in_env in environ.split(b"\0") or any(_inside(place, root) for place in places):
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def _inside(place: str, root: Path) -> bool:
    return place == str(root) or place.startswith(f"{root}/")


def kill_stack(data_dir: str) -> dict[int, str]:
    """Kill whatever a failed run left on this data dir; what that was."""
    left = stack_processes(data_dir)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


def is_zombie(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False  # reaped
    return bool(re.search(r"^State:\s+Z", status, re.M))


@pytest.fixture
def up_factory(tmp_path: Path, service_model_cache: Path) -> Iterator[list[Up]]:
    started: list[Up] = []
    yield started
    for up in started:
        if up.proc.poll() is None:
            up.proc.send_signal(signal.SIGTERM)
            try:
                up.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                up.proc.kill()
                up.proc.wait()
        # Whatever a failed test left: stop it, so it does not outlive the test run.
        kill_stack(up.data_dir)
        up.close()


def start_up(started: list[Up], tmp_path: Path, cache: Path, **env: str) -> Up:
    up = Up(tmp_path, RAGIS_MODEL_CACHE=str(cache), **env)
    started.append(up)
    return up


def assert_nothing_left_and_data_dir_free(up: Up, tmp_path: Path) -> None:
    assert up.processes() == {}, up.output
    # The data dir is free again: no Redis left on it, no lock held.
    with EmbeddedRedis(tmp_path / "data", port=0) as server:
        assert server.running


# The line after which the signal is sent, and what must have been stopped.
PHASES = [
    pytest.param("starting the embedded Redis 8", [], id="while-redis-starts"),
    pytest.param("starting the RAG service", ["rag", "redis"], id="while-rag-loads-the-model"),
    pytest.param("rag ready at", ["rag", "redis"], id="while-the-gateway-starts"),
    pytest.param("gateway ready at", ["gateway", "rag", "redis"], id="after-health-before-up"),
]


@pytest.mark.parametrize(("phase", "stopped"), PHASES)
def test_sigterm_at_each_start_up_phase_stops_what_started_and_leaves_no_process(
    tmp_path: Path,
    service_model_cache: Path,
    up_factory: list[Up],
    phase: str,
    stopped: list[str],
) -> None:
    up = start_up(up_factory, tmp_path, service_model_cache)
    up.wait_for(phase)
    if "RAG service" in phase:
        up.child("ragis.rag")  # its process exists: it is loading the model
    up.proc.send_signal(signal.SIGTERM)
    out = up.finish()
    assert up.proc.returncode == 0, out
    assert "SIGTERM received." in out
    for name in stopped:
        assert f"stopping {name} ..." in out
    assert out.rstrip().endswith("stopped."), out
    assert "Traceback" not in out
    assert_nothing_left_and_data_dir_free(up, tmp_path)


def test_sighup_while_the_rag_service_loads_is_a_clean_stop_too(
    tmp_path: Path, service_model_cache: Path, up_factory: list[Up]
) -> None:
    up = start_up(up_factory, tmp_path, service_model_cache)
    up.wait_for("starting the RAG service")
    up.child("ragis.rag")
    up.proc.send_signal(signal.SIGHUP)
    out = up.finish()
    assert up.proc.returncode == 0, out
    assert "SIGHUP received." in out
    assert "stopping redis ..." in out
    assert_nothing_left_and_data_dir_free(up, tmp_path)


def test_a_storm_of_signals_does_not_abandon_the_stop_half_way(
    tmp_path: Path, service_model_cache: Path, up_factory: list[Up]
) -> None:
    up = start_up(up_factory, tmp_path, service_model_cache)
    up.wait_for("Press Ctrl-C")
    storm = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    sent = 0
    # Keep signalling until it has exited: every stop step must still run to its end.
    while up.proc.poll() is None and sent < 5000:
        up.proc.send_signal(storm[sent % len(storm)])
        sent += 1
        time.sleep(0.005)
    out = up.finish()
    assert up.proc.returncode == 0, out
    assert "SIGTERM received." in out
    for name in ("gateway", "rag", "redis"):
        assert f"stopping {name} ..." in out
    assert out.rstrip().endswith("stopped."), out
    assert "Traceback" not in out
    assert_nothing_left_and_data_dir_free(up, tmp_path)


def umask_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [row for row in status.splitlines() if row.startswith("Umask:")]
    return int(line.split()[1], 8)


def test_a_killed_rag_service_is_reaped_restarted_and_too_many_crashes_stop_everything(
    tmp_path: Path, service_model_cache: Path, up_factory: list[Up]
) -> None:
    up = start_up(up_factory, tmp_path, service_model_cache, RAGIS_RESTART_LIMIT="2")
    up.wait_for("Press Ctrl-C")
    gateway = re.search(r"^\s+gateway\s+(\S+)", up.output, re.M)
    assert gateway, up.output

    first = up.child("ragis.rag")
    # What the children write (the model cache on a first start) is private to the user.
    assert umask_of(first) & 0o077 == 0o077
    os.kill(first, signal.SIGKILL)
    line = up.wait_for("the RAG service exited")
    assert line == "the RAG service exited with code -9; restarting in 1 s (crash 1 of 2)"
    assert not is_zombie(first), "the killed RAG service was left <defunct>"
    up.wait_for("the RAG service is back at")
    health = httpx.get(gateway.group(1) + "/api/health", timeout=30).json()
    assert health["rag"]["ok"] is True, health
    assert health["redis"]["ok"] is True, health
    assert health["embedder"]["ok"] is True, health

    second = up.child("ragis.rag")
    assert second != first
    os.kill(second, signal.SIGKILL)
    out = up.finish()
    assert up.proc.returncode == 1, out
    assert (
        "the RAG service exited with code -9; it failed 2 times within 300 s, so ragis stops."
        in out
    )
    assert "ragis: The RAG service failed 2 times within 300 s" in out
    for name in ("gateway", "rag", "redis"):
        assert f"stopping {name} ..." in out
    assert "Traceback" not in out
    assert not is_zombie(second)
    assert_nothing_left_and_data_dir_free(up, tmp_path)


def test_ragis_up_killed_with_sigkill_takes_its_children_with_it(
    up_factory: list[Up], tmp_path: Path, service_model_cache: Path
) -> None:
    # SIGKILL gives ragis up no chance to stop anything: each child must learn of its parent's
    # death from the kernel (PR_SET_PDEATHSIG) and stop itself, releasing ports and the data dir.
    up = start_up(up_factory, tmp_path, service_model_cache)
    up.wait_for("gateway ready at")
    children = {pid: cmd for pid, cmd in up.processes().items() if pid != up.proc.pid}
    assert any("-m ragis.rag" in cmd for cmd in children.values()), children
    assert any("-m ragis.gateway" in cmd for cmd in children.values()), children
    assert any("redis" in cmd for cmd in children.values()), children
    up.proc.kill()
    up.proc.wait()
    deadline = time.monotonic() + WAIT
    while up.processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    up.close()
    assert_nothing_left_and_data_dir_free(up, tmp_path)


def test_a_killed_embedded_redis_comes_back_on_its_port_with_its_data(
    tmp_path: Path, service_model_cache: Path, up_factory: list[Up]
) -> None:
    up = start_up(up_factory, tmp_path, service_model_cache)
    up.wait_for("Press Ctrl-C")
    found = {
        name: re.search(rf"^\s+{name}\s+(\S+)", up.output, re.M) for name in ("redis", "gateway")
    }
    assert all(found.values()), up.output
    redis_url, gateway = (m.group(1) for m in found.values() if m)
    # Printed without its password, which is the data dir's.
    assert redis_url.startswith("redis://***@127.0.0.1:"), redis_url
    password = (Path(up.data_dir) / PASSWORD_NAME).read_text().strip()
    client = redis.Redis(port=urlsplit(redis_url).port, password=password)
    client.set("kept", "yes")
    client.execute_command("WAITAOF", 1, 0, 0)  # on disk before the kill
    server = next(pid for pid, cmd in up.processes().items() if "redis-server" in cmd)
    os.kill(server, signal.SIGKILL)
    line = up.wait_for("the embedded Redis exited")
    assert line == "the embedded Redis exited with code -9; restarting in 1 s (crash 1 of 5)"
    assert up.wait_for("the embedded Redis is back at") == (
        f"the embedded Redis is back at {redis_url}"
    )
    assert not is_zombie(server)
    assert client.get("kept") == b"yes"
    client.close()
    # The RAG service reconnects by itself: its health says so once its pool has noticed.
    deadline = time.monotonic() + 60
    health = httpx.get(gateway + "/api/health", timeout=30).json()
    while not health["redis"]["ok"] and time.monotonic() < deadline:
        time.sleep(0.2)
        health = httpx.get(gateway + "/api/health", timeout=30).json()
    assert health["redis"]["ok"] is True, health
    up.proc.send_signal(signal.SIGTERM)
    out = up.finish()
    assert up.proc.returncode == 0, out
    assert_nothing_left_and_data_dir_free(up, tmp_path)


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_the_children_share_the_secrets_and_nothing_printed_holds_one(
    tmp_path: Path, service_model_cache: Path, up_factory: list[Up]
) -> None:
    up = start_up(up_factory, tmp_path, service_model_cache)
    up.wait_for("Press Ctrl-C")
    password = (Path(up.data_dir) / PASSWORD_NAME).read_text().strip()
    rag, gateway = (environment_of(up.child(m)) for m in ("ragis.rag", "ragis.gateway"))
    token = rag["RAGIS_INTERNAL_TOKEN"]
    # A fresh token of 32 random bytes, the same for both; Redis's URL with the password.
    assert len(token) >= 43
    assert gateway["RAGIS_INTERNAL_TOKEN"] == token
    for env in (rag, gateway):
        assert env["REDIS_URL"].startswith(f"redis://:{password}@127.0.0.1:")
        with redis.Redis.from_url(env["REDIS_URL"]) as client:
            assert client.ping()
    rag_url = re.search(r"^\s+rag\s+(\S+)", up.output, re.M)
    assert rag_url, up.output
    health = httpx.get(
        rag_url.group(1) + "/health", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert health.status_code == 200, health.text
    up.proc.send_signal(signal.SIGTERM)
    out = up.finish()
    assert up.proc.returncode == 0, out
    assert "redis://***@127.0.0.1:" in out
    assert password not in out
    assert token not in out

    # Given secrets win: RAGIS_REDIS_PASSWORD over the stored one, RAGIS_INTERNAL_TOKEN over a
    # new one; they are not printed either.
    given_password, given_token = "given-" + "p" * 30, "given-" + "t" * 40
    again = start_up(
        up_factory,
        tmp_path,
        service_model_cache,
        RAGIS_REDIS_PASSWORD=given_password,
        RAGIS_INTERNAL_TOKEN=given_token,
    )
    again.wait_for("Press Ctrl-C")
    rag = environment_of(again.child("ragis.rag"))
    assert rag["RAGIS_INTERNAL_TOKEN"] == given_token
    assert rag["REDIS_URL"].startswith(f"redis://:{given_password}@127.0.0.1:")
    port = urlsplit(rag["REDIS_URL"]).port
    with (
        redis.Redis(port=port, password=password) as client,
        pytest.raises(redis.AuthenticationError),
    ):
        client.ping()
    again.proc.send_signal(signal.SIGTERM)
    out = again.finish()
    assert again.proc.returncode == 0, out
    assert given_password not in out
    assert given_token not in out
    assert (Path(again.data_dir) / PASSWORD_NAME).read_text().strip() == password
