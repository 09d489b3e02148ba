"""Fixtures of the client tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import Cli
from support.gateway_fixtures import GatewayFactory


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ragis or Redis variable of the machine reaches the CLI, nor the source tree's .env."""
    for name in list(os.environ):
        if name.startswith(("RAGIS_", "REDIS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def gateway_url(rag_url: str, start_gateway: GatewayFactory) -> Iterator[str]:
    """A real gateway in front of a real RAG service, for the commands to talk to."""
    with start_gateway(rag_urls=[rag_url]) as url:
        yield url


@pytest.fixture
def cli(
    clean_env: None,
    gateway_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """`ragis ...` run in this process against `gateway_url`."""
    return Cli(gateway_url, monkeypatch, capsys)
