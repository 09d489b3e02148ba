"""A client that goes away in the middle of an upload costs one line of log, at INFO.

The gateway runs as its own process (`python -m ragis.gateway`, logging as `ragis up` has it),
so that everything it writes is seen: its own logging and uvicorn's.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.fixtures import INTERNAL_TOKEN
from support.llm_servers import unused_port
from support.net import free_port

BOUNDARY = "ragisboundary"


@pytest.fixture
def gateway_process(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    port = free_port()
    log = tmp_path / "gateway.log"
    env = {
        **os.environ,
        "RAGIS_GATEWAY_PORT": str(port),
        "RAGIS_RAG_URL": f"http://127.0.0.1:{unused_port()}",
        "RAGIS_STATIC_DIR": str(tmp_path / "no-ui"),
        "RAGIS_INTERNAL_TOKEN": INTERNAL_TOKEN,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ragis.gateway"], cwd=tmp_path, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                httpx.get(f"{url}/api/health", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url, log, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


def abort_an_upload(url: str) -> None:
    """Send the head and a third of a multipart body, then close the connection."""
    part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode() + b"x" * 20_000
    port = int(url.rsplit(":", 1)[1])
    head = (
        f"POST /api/documents/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(part) * 3}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head + part)


def test_an_aborted_upload_logs_one_info_line(
    gateway_process: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    url, log, proc = gateway_process
    before = len(log.read_text().splitlines())
    abort_an_upload(url)
    # Wait for the gateway to notice; then stop it, so that all it wrote is in the file.
    deadline = time.monotonic() + 30
    while "went away" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    new = log.read_text().splitlines()[before:]
    text = "\n".join(new)
    assert "Traceback" not in text, text
    assert "ClientDisconnect" not in text, text
    about_it = [line for line in new if "/api/documents/upload" in line]
    assert len(about_it) == 1, text
    assert " INFO " in about_it[0]
    assert "went away" in about_it[0]
