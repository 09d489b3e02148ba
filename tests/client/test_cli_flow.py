"""The CLI against a real `ragis up`: ingest a folder, ask, stop cleanly, data kept."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from ragis.db import EmbeddedRedis
from ragis.store.keys import Keys
from support.documents import html_page, pdf_bytes, png_bytes
from support.llm_servers import OpenAIServer, Reply
from support.signals import default_stop_signals


@dataclass
class Running:
    proc: subprocess.Popen[str]
    env: dict[str, str]
    gateway: str
    redis: str
    rag: str
    output: list[str]


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAGIS_", "REDIS_", "OPENAI"))}
    env.update(
        {
            "RAGIS_DATA_DIR": str(tmp_path / "data"),
            "RAGIS_REDIS_PORT": "0",
            "RAGIS_RAG_PORT": "0",
            "RAGIS_GATEWAY_PORT": "0",
            **extra,
        }
    )
    return env


@pytest.fixture
def stack(
    tmp_path: Path, openai_server: OpenAIServer, service_model_cache: Path
) -> Iterator[Running]:
    openai_server.reset()
    env = base_env(
        tmp_path, OPENAI_BASE_URL=openai_server.base_url, OPENAI_API_KEY="sk-test",
        RAGIS_LLM_MAX_RETRIES="0", RAGIS_MODEL_CACHE=str(service_model_cache),
    )  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "ragis", "up"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=default_stop_signals,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line.rstrip())
            if "Press Ctrl-C" in line:
                break
        text = "\n".join(lines)
        found = {
            name: re.search(rf"^\s+{name}\s+(\S+)", text, re.M)
            for name in ("redis", "rag", "gateway")
        }
        assert all(found.values()), text
        yield Running(
            proc, env, found["gateway"].group(1), found["redis"].group(1),  # type: ignore[union-attr]
            found["rag"].group(1), lines,  # type: ignore[union-attr]
        )  # fmt: skip
    finally:
        # Also when it failed to start: no ragis up (nor its Redis) outlives the test.
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def cli(running: Running, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**running.env, "RAGIS_GATEWAY_URL": running.gateway}
    return subprocess.run(
        [sys.executable, "-m", "ragis", *args], env=env, capture_output=True, text=True,
        timeout=300, input=stdin,
    )  # fmt: skip


def test_up_ingest_ask_and_a_clean_stop(
    stack: Running, tmp_path: Path, openai_server: OpenAIServer
) -> None:
    assert "gpt-4o-mini" in "\n".join(stack.output)
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "manual.pdf").write_bytes(
        pdf_bytes(
            [
                "Chapter one explains how to unpack the kayak.",
                "To inflate the kayak, use the foot pump until the gauge shows 0.2 bar.",
            ]
        )
    )
    (docs / "sub" / "faq.html").write_bytes(
        html_page("FAQ", "<p>Paddles are sold separately.</p><script>evil()</script>")
    )
    (docs / "sub" / "notes.md").write_text("# Notes\n\nStore the kayak dry and out of the sun.\n")
    (docs / "photo.png").write_bytes(png_bytes())  # not a supported extension: skipped
    (docs / ".hidden.md").write_text("hidden")  # dot files are skipped
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nnot really a pdf")

    result = cli(stack, "ingest", str(docs), str(broken))
    assert result.returncode == 1, result.stderr
    assert "3 document(s) ingested" in result.stdout
    assert "1 failure(s)" in result.stdout
    assert "broken.pdf" in result.stdout
    assert "[" in result.stderr  # the progress bar

    again = cli(stack, "ingest", str(docs))
    assert again.returncode == 0
    assert "3 duplicate(s) skipped" in again.stdout

    openai_server.script(Reply(tokens=["Pump it to ", "0.2 bar [1]."]))
    answer = cli(stack, "ask", "How much should I inflate the kayak?")
    assert answer.returncode == 0, answer.stderr
    assert "Pump it to 0.2 bar [1]." in answer.stdout
    assert "Sources:" in answer.stdout
    assert re.search(r"\[1\] manual\.pdf, page 2", answer.stdout), answer.stdout
    session = re.search(r"--session (\w+)", answer.stderr)
    assert session
    history = httpx.get(f"{stack.gateway}/api/sessions/{session.group(1)}").json()
    assert len(history["messages"]) == 2

    stack.proc.send_signal(signal.SIGINT)
    out, _ = stack.proc.communicate(timeout=60)
    assert stack.proc.returncode == 0
    assert "stopped." in out
    for url in (stack.gateway + "/api/health", stack.rag + "/health"):
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)
    client = redis.Redis.from_url(stack.redis, socket_connect_timeout=1)
    with pytest.raises(redis.ConnectionError):
        client.ping()
    client.close()
    # The data is kept: the documents are still there at the next start.
    with EmbeddedRedis(tmp_path / "data", port=0) as server:
        client = redis.Redis.from_url(server.url)
        # On loopback sign-in is off: everything went to the local user's workspace `default`.
        assert client.zcard(Keys("ragis", "default").collection("default").docs) == 3
        client.close()


def test_admin_create_writes_to_the_embedded_redis_of_a_running_up(stack: Running) -> None:
    """No REDIS_URL: the port comes from the data dir's lock file, the password from the file
    `ragis up` generated there; the password itself comes on stdin."""
    assert "REDIS_URL" not in stack.env
    made = cli(stack, "admin", "create", "alice", stdin="alice's password\n")
    assert made.returncode == 0, made.stderr
    assert "Admin alice created" in made.stdout
    again = cli(stack, "admin", "create", "alice", stdin="another password\n")
    assert again.returncode == 1
    assert again.stderr == "ragis: There is already a user 'alice'.\n"


def test_ask_without_a_running_gateway_says_how_to_start_it(tmp_path: Path) -> None:
    env = base_env(tmp_path, RAGIS_GATEWAY_URL="http://127.0.0.1:9")
    result = subprocess.run(
        [sys.executable, "-m", "ragis", "ask", "hello?"], env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "does not answer" in result.stderr
    assert "./scripts/up" in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_of_nothing_is_a_clear_error(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "ragis", "ingest", str(tmp_path / "missing")], env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "no such file or folder" in result.stderr


@pytest.mark.parametrize("command", ["ingest", "ask", "up"])
def test_every_command_has_help(command: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ragis", command, "--help"], capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    assert f"usage: ragis {command}" in out
