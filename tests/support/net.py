"""Loopback helpers for tests: free ports, waiting for a port."""

from __future__ import annotations

import socket
import time

from ragis.net import free_port

__all__ = ["free_port", "wait_for_port"]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")
