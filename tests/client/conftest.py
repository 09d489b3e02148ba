"""Fixtures of the client tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ragis or Redis variable of the machine reaches the CLI, nor the source tree's .env."""
    for name in list(os.environ):
        if name.startswith(("RAGIS_", "REDIS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
