"""`ragis admin create`: an admin written straight into a real Redis, the password never on argv."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ragis.accounts import Action, open_accounts
from ragis.cli import main
from ragis.contract import DEFAULT_WORKSPACE, Role, WorkspaceRole
from ragis.db import EmbeddedRedis
from ragis.settings import RedisSettings

PASSWORD = "correct horse battery"


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_server: EmbeddedRedis, prefix: str
) -> dict[str, str]:
    """The environment of a ragis command: the test's Redis and prefix, no stray settings."""
    for name in list(os.environ):
        if name.startswith(("RAGIS_", "REDIS_")):
            monkeypatch.delenv(name)
    env = {"REDIS_URL": redis_server.url, "RAGIS_KEY_PREFIX": prefix,
           "RAGIS_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env of the source tree
    return env


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> io.StringIO:
    handle = io.StringIO(text)
    monkeypatch.setattr(sys, "stdin", handle)
    return handle


async def account(url: str, prefix: str, name: str) -> tuple[object, bool, object, list[str]]:
    """The user's role, whether PASSWORD is theirs, their role in `default`, the audit's
    actions."""
    settings = RedisSettings.load(_env_file=None, redis_url=url, key_prefix=prefix)
    async with open_accounts(settings) as accounts:
        user = await accounts.users.get(name)
        stored = await accounts.users.password_hash(name)
        verified = await accounts.passwords.verify(stored, PASSWORD)
        default_role = await accounts.workspaces.role_of(name, DEFAULT_WORKSPACE)
        events = [e.action for e in await accounts.audit.recent()]
    return (user.role if user else None), verified, default_role, [str(a) for a in events]


def test_admin_create_reads_the_password_from_stdin_and_makes_the_first_admin_owner_of_default(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    assert main(["admin", "create", "alice", "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert "Admin alice created" in out
    assert PASSWORD not in out
    role, verified, default_role, actions = asyncio.run(
        account(cli_env["REDIS_URL"], cli_env["RAGIS_KEY_PREFIX"], "alice")
    )
    assert role is Role.ADMIN
    assert verified
    assert default_role is WorkspaceRole.OWNER
    assert actions == [Action.USER_CREATED.value]


def test_a_taken_name_is_one_sentence_and_exit_1(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    assert main(["admin", "create", "alice"]) == 0  # not a terminal: stdin without the flag
    stdin(monkeypatch, "another password\n")
    assert main(["admin", "create", "alice"]) == 1
    err = capsys.readouterr().err
    assert err == "ragis: There is already a user 'alice'.\n"
    _, verified, _, _ = asyncio.run(
        account(cli_env["REDIS_URL"], cli_env["RAGIS_KEY_PREFIX"], "alice")
    )
    assert verified  # the first password stands


def test_a_password_on_the_command_line_is_refused_and_nothing_is_made(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, "")
    with pytest.raises(SystemExit) as exited:
        main(["admin", "create", "alice", "--password", PASSWORD])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --password (values not shown)" in err
    assert PASSWORD not in err  # stderr ends up in logs
    role, *_ = asyncio.run(account(cli_env["REDIS_URL"], cli_env["RAGIS_KEY_PREFIX"], "alice"))
    assert role is None


def test_an_abbreviated_option_is_no_option(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--password X` must not pass for `--password-stdin` followed by a stray X."""
    stdin(monkeypatch, PASSWORD + "\n")
    with pytest.raises(SystemExit) as exited:
        main(["admin", "create", "alice", "--password-std"])
    assert exited.value.code == 2


@pytest.mark.parametrize(
    ("name", "needle"),
    [("a" * 100_000, "Invalid username 'aaaa"), ("Alice", "lower-case"), ("../x", "Invalid")],
)
def test_a_bad_or_huge_name_is_refused_before_the_password_is_read(
    cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    needle: str,
) -> None:
    handle = stdin(monkeypatch, PASSWORD + "\n")
    assert main(["admin", "create", name]) == 1
    err = capsys.readouterr().err
    assert needle in err
    assert len(err) < 300
    assert handle.tell() == 0


@pytest.mark.parametrize("password", ["", "short\n", "x" * 2000 + "\n"])
def test_a_missing_short_or_huge_password_makes_nothing(
    cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    password: str,
) -> None:
    stdin(monkeypatch, password)
    assert main(["admin", "create", "alice", "--password-stdin"]) == 1
    err = capsys.readouterr().err
    assert "password" in err.lower()
    assert "x" * 50 not in err
    role, *_ = asyncio.run(account(cli_env["REDIS_URL"], cli_env["RAGIS_KEY_PREFIX"], "alice"))
    assert role is None


def test_without_redis_url_it_writes_to_the_embedded_redis_of_the_data_dir(
    cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("REDIS_URL")
    data = tmp_path / "up-data"
    monkeypatch.setenv("RAGIS_DATA_DIR", str(data))
    # What `ragis up` starts when REDIS_URL is unset: its port in the lock file, its password
    # generated into the data dir.
    with EmbeddedRedis(data, port=0) as server:
        stdin(monkeypatch, PASSWORD + "\n")
        assert main(["admin", "create", "bob"]) == 0, capsys.readouterr().err
        role, verified, _, _ = asyncio.run(account(server.url, cli_env["RAGIS_KEY_PREFIX"], "bob"))
    assert role is Role.ADMIN
    assert verified


def test_without_redis_url_or_a_running_ragis_it_says_what_to_do(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REDIS_URL")
    handle = stdin(monkeypatch, PASSWORD + "\n")
    assert main(["admin", "create", "bob"]) == 1
    err = capsys.readouterr().err
    assert "no `ragis up` runs over the data dir" in err
    assert "Start `ragis up` first, or set REDIS_URL." in err
    assert handle.tell() == 0  # not asked for a password it could not use


def test_admin_create_as_a_process_with_the_password_piped_in(cli_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ragis", "admin", "create", "carol"],
        input=PASSWORD + "\n", env={**os.environ, **cli_env}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    role, verified, _, _ = asyncio.run(
        account(cli_env["REDIS_URL"], cli_env["RAGIS_KEY_PREFIX"], "carol")
    )
    assert role is Role.ADMIN
    assert verified


def test_admin_create_help_says_where_the_redis_and_the_password_come_from() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ragis", "admin", "create", "--help"], capture_output=True,
        text=True, check=True,
    ).stdout  # fmt: skip
    text = " ".join(out.split())
    assert "REDIS_URL" in text
    assert "RAGIS_DATA_DIR" in text
    assert "--password-stdin" in text
    assert "never an argument" in text
