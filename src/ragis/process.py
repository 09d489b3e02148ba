"""A ragis service as a child process: start it, wait until its health answers, stop it.

`ragis up` runs the RAG service and the gateway as child processes (`python -m ragis.rag`,
`python -m ragis.gateway`): each has its own event loop and can crash or be restarted alone,
exactly as in the compose deployment. Their output goes to the same terminal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from ragis.errors import RagisError
from ragis.lifeline import parent_death_signal

__all__ = ["ServiceProcess", "child_environment"]


def child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """The environment for a child service: ours, plus the addresses `ragis up` decided.

    Passing our environment through is what lets every setting (.env included, since the child
    reads it from the same working directory) reach the child unchanged.
    """
    env = dict(os.environ)
    env.update(overrides)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


class ServiceProcess:
    def __init__(
        self,
        name: str,
        module: str,
        *,
        port: int,
        env: Mapping[str, str],
        token: str | None = None,
        die_with_parent: bool = False,
    ) -> None:
        self.name = name
        # `ragis up`'s children get SIGTERM if it is killed (ragis.lifeline).
        self._preexec = parent_death_signal() if die_with_parent else None
        self.module = module
        self.port = port
        self.env = dict(env)
        self.url = f"http://127.0.0.1:{port}"
        # The internal token, for a service that answers nobody without it (the RAG service,
        # /health included).
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        """The child's exit code once it has exited (negative: killed by that signal), else None.

        Asking also reaps an exited child, so it does not stay behind as `<defunct>`.
        """
        return self._process.poll() if self._process is not None else None

    def start(self) -> ServiceProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", self.module],
            env=self.env,
            stdin=subprocess.DEVNULL,
            # Its own process group: Ctrl-C reaches `ragis up` only, which then stops the
            # services in order (gateway, RAG service, Redis) instead of all dying at once.
            start_new_session=True,
            preexec_fn=self._preexec,
        )
        return self

    def wait_healthy(
        self, path: str, timeout: float, interrupt: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        """Poll `GET path` until it answers 200; return its JSON. Raise if the process dies.

        `interrupt` is called between polls: raising from it abandons the wait (a stop signal).
        """
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        with httpx.Client(timeout=2.0, headers=self._headers) as client:
            while True:
                if interrupt is not None:
                    interrupt()
                if self._process is None or self._process.poll() is not None:
                    code = self._process.returncode if self._process else None
                    raise RagisError(
                        f"The {self.name} exited at start (code {code}); its messages are above."
                    )
                try:
                    response = client.get(self.url + path)
                    if response.status_code == 200:
                        body: dict[str, Any] = response.json()
                        return body
                    last = f"HTTP {response.status_code}"
                except (httpx.HTTPError, ValueError) as exc:
                    last = type(exc).__name__
                if time.monotonic() > deadline:
                    raise RagisError(
                        f"The {self.name} did not become healthy at {self.url}{path} within "
                        f"{timeout:.0f} s ({last})."
                    )
                time.sleep(0.2)

    def stop(self, timeout: float = 10.0) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None
