"""Running `ragis ...` in this process (`ragis.cli.main`) against a gateway, as client tests do."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass

import pytest

from ragis.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Cli:
    """Runs `ragis ...` with RAGIS_GATEWAY_URL and, if given, RAGIS_API_KEY and standard input."""

    gateway: str
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *argv: str, key: str | None = None, stdin: str = "") -> Result:
        self.monkeypatch.setenv("RAGIS_GATEWAY_URL", self.gateway)
        if key is None:
            self.monkeypatch.delenv("RAGIS_API_KEY", raising=False)
        else:
            self.monkeypatch.setenv("RAGIS_API_KEY", key)
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        self.capsys.readouterr()
        try:
            code = main(list(argv))
        except SystemExit as exited:  # argparse's usage errors
            code = int(exited.code or 0)
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)
