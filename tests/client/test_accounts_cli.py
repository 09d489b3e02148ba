"""The CLI with accounts, in-process (`ragis.cli.main`), against a real gateway with sign-in on
in front of the real RAG service: API keys for ingest and ask, --workspace, `ragis user` and
`ragis key`, and what a missing, revoked or misplaced key gets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ragis.cli import main
from support.cli import Cli
from support.gateway_fixtures import GatewayFactory
from support.llm_servers import OpenAIServer, Reply

ROOT = "root"
ROOT_PASSWORD = "root password 1234"
BOB_PASSWORD = "bob's password 5678"


@pytest.fixture
def auth_gateway(rag_url: str, start_gateway: GatewayFactory) -> Iterator[str]:
    """A gateway with sign-in on, whose first admin `root` it made at start."""
    with start_gateway(
        rag_urls=[rag_url], auth="on", admin_user=ROOT, admin_password=ROOT_PASSWORD
    ) as url:
        yield url


def key_of(gateway: str, username: str, password: str, **body: str) -> str:
    """An API key made the way a person makes the first one: signed in, in the web UI."""
    with httpx.Client(base_url=gateway, timeout=30) as client:
        signed_in = client.post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        assert signed_in.status_code == 200, signed_in.text
        made = client.post("/api/keys", json={"name": "from the web UI", **body})
        assert made.status_code == 201, made.text
        key: str = made.json()["key"]
    return key


@pytest.fixture
def cli(
    clean_env: None,
    auth_gateway: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    return Cli(auth_gateway, monkeypatch, capsys)


@pytest.fixture
def root_key(auth_gateway: str) -> str:
    return key_of(auth_gateway, ROOT, ROOT_PASSWORD)


def needs_a_key(gateway: str) -> str:
    return (
        f"ragis: The gateway at {gateway} needs an API key: create one in the web UI (user menu "
        "> API keys) or with `ragis key create NAME`, then set RAGIS_API_KEY.\n"
    )


def one_sentence(err: str) -> bool:
    """What the CLI prints for a refusal: one line, no traceback."""
    return err.startswith("ragis: ") and err.count("\n") == 1


# --- keys --------------------------------------------------------------------------------------


def test_without_a_key_each_command_says_how_to_get_one(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\nSomething.\n")
    for argv in (["key", "list"], ["user", "list"], ["ask", "anything?"],
                 ["ingest", str(tmp_path / "a.md")]):  # fmt: skip
        result = cli(*argv)
        assert result.code == 1, argv
        assert result.err.endswith(needs_a_key(cli.gateway)), (argv, result.err)
        assert "Traceback" not in result.err


def test_key_create_prints_the_key_once_then_list_and_revoke(cli: Cli, root_key: str) -> None:
    made = cli("key", "create", "laptop", key=root_key)
    assert made.code == 0, made.err
    new_key = made.out.strip()
    assert re.fullmatch(r"rgs_[A-Za-z0-9_-]{20,}", new_key), made.out  # stdout: the key alone
    assert f"export RAGIS_API_KEY={new_key}" in made.err
    assert "shown this once" in made.err

    listed = cli("key", "list", key=new_key)  # the new key works
    assert listed.code == 0, listed.err
    header, *rows = listed.out.splitlines()
    assert header.split() == ["ID", "NAME", "WORKSPACE", "PREFIX", "CREATED", "LAST", "USED"]
    assert len(rows) == 2
    laptop = next(row for row in rows if "laptop" in row)
    # Aligned: each column starts where its header does.
    assert laptop.index("laptop") == header.index("NAME")
    assert laptop[header.index("PREFIX") :].startswith(new_key[:8])
    assert new_key not in listed.out
    key_id = laptop.split()[0]

    revoked = cli("key", "revoke", key_id, key=root_key)
    assert revoked.code == 0, revoked.err
    assert f"API key {key_id} revoked" in revoked.out

    refused = cli("key", "list", key=new_key)
    assert refused.code == 1
    assert refused.err == (
        f"ragis: The gateway at {cli.gateway} does not accept the API key in RAGIS_API_KEY "
        "(revoked, or not one of its keys): create one in the web UI (user menu > API keys) or "
        "with `ragis key create NAME`, then set RAGIS_API_KEY.\n"
    )
    assert new_key not in refused.err


def test_revoking_an_unknown_or_malformed_id_is_one_sentence(cli: Cli, root_key: str) -> None:
    unknown = cli("key", "revoke", "0123456789abcdef", key=root_key)
    assert unknown.code == 1
    assert one_sentence(unknown.err), unknown.err
    malformed = cli("key", "revoke", "../../users/root", key=root_key)
    assert malformed.code == 1
    assert "Invalid key id" in malformed.err


def test_a_key_for_a_workspace_that_is_not_yours_is_refused(cli: Cli, root_key: str) -> None:
    result = cli("key", "create", "ci", "--workspace", "someone-else", key=root_key)
    assert result.code == 1
    assert "There is no workspace 'someone-else' that you are a member of" in result.err
    assert result.out == ""


def test_hostile_key_names_are_refused_before_anything_is_sent(cli: Cli, root_key: str) -> None:
    for name in ("n" * 100_000, "tab\there", "esc\x1b[2J"):
        result = cli("key", "create", name, key=root_key)
        assert result.code == 1, name[:20]
        assert "Invalid key name" in result.err
        assert len(result.err) < 300
    listed = cli("key", "list", key=root_key)
    assert len(listed.out.splitlines()) == 2  # the header and root's key from the web UI


def test_a_malformed_workspace_is_a_usage_error(cli: Cli, root_key: str) -> None:
    result = cli("ask", "-w", "../" + "x" * 10_000, "hello?", key=root_key)
    assert result.code == 2
    assert "is not a workspace name" in result.err
    assert len(result.err) < 1_000


# --- users -------------------------------------------------------------------------------------


def test_user_add_list_remove(cli: Cli, root_key: str) -> None:
    added = cli("user", "add", "bob", key=root_key, stdin=BOB_PASSWORD + "\n")
    assert added.code == 0, added.err
    assert "User bob created (member)" in added.out
    assert BOB_PASSWORD not in added.out + added.err
    # Bob signs in with the password given on stdin.
    bob_key = key_of(cli.gateway, "bob", BOB_PASSWORD)

    listed = cli("user", "list", key=root_key)
    assert listed.code == 0, listed.err
    header, *rows = listed.out.splitlines()
    assert header.split() == ["USERNAME", "ROLE", "CREATED"]
    assert sorted(row.split()[:2] for row in rows) == [["bob", "member"], ["root", "admin"]]
    assert all(row.index(row.split()[1]) == header.index("ROLE") for row in rows)

    forbidden = cli("user", "list", key=bob_key)  # a member is no admin
    assert forbidden.code == 1
    assert one_sentence(forbidden.err), forbidden.err

    taken = cli("user", "add", "bob", key=root_key, stdin="another password\n")
    assert taken.code == 1
    assert taken.err.count("\n") == 1

    removed = cli("user", "remove", "bob", key=root_key)
    assert removed.code == 0, removed.err
    assert "User bob removed" in removed.out
    assert "bob" not in cli("user", "list", key=root_key).out
    gone = cli("key", "list", key=bob_key)  # bob's keys went with him
    assert gone.code == 1
    assert "does not accept the API key" in gone.err


def test_user_add_as_admin_and_refusals_of_bad_input(cli: Cli, root_key: str) -> None:
    admin = cli("user", "add", "carol", "--role", "admin", key=root_key, stdin="carol pass 99\n")
    assert admin.code == 0, admin.err
    assert "User carol created (admin)" in admin.out
    huge = cli("user", "add", "u" * 100_000, key=root_key, stdin="password 1234\n")
    assert huge.code == 1
    assert "Invalid username" in huge.err
    assert len(huge.err) < 300
    short = cli("user", "add", "dave", key=root_key, stdin="short\n")
    assert short.code == 1
    assert "8 to 1024 characters" in short.err
    role = cli("user", "add", "erin", "--role", "owner", key=root_key, stdin="password 1234\n")
    assert role.code == 2
    argv_password = cli("user", "add", "frank", "--password", "hunter2hunter2", key=root_key)
    assert argv_password.code == 2
    assert "hunter2hunter2" not in argv_password.err
    assert sorted(r.split()[0] for r in cli("user", "list", key=root_key).out.splitlines()[1:]) == [
        "carol",
        "root",
    ]


def test_removing_yourself_is_refused_in_a_sentence(cli: Cli, root_key: str) -> None:
    result = cli("user", "remove", ROOT, key=root_key)
    assert result.code == 1
    assert one_sentence(result.err), result.err


# --- ingest and ask with a key and a workspace ---------------------------------------------------


def test_ingest_and_ask_with_a_key_stay_in_their_workspace(
    cli: Cli, root_key: str, tmp_path: Path, llm: OpenAIServer
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "secret.md").write_text("# Vault\n\nThe vault code is 4711 and opens the red door.\n")

    ingested = cli("ingest", str(docs), "-w", ROOT, key=root_key)
    assert ingested.code == 0, ingested.err
    assert "1 document(s) ingested" in ingested.out

    llm.script(Reply(tokens=["The code is ", "4711 [1]."]))
    answer = cli("ask", "What is the vault code?", "--workspace", ROOT, key=root_key)
    assert answer.code == 0, answer.err
    assert "4711 [1]." in answer.out
    assert "[1] secret.md" in answer.out

    # Workspace `default` (root owns it too) has no collection until something is ingested
    # there; then the same question finds only what is there.
    empty = cli("ask", "What is the vault code?", "-w", "default", key=root_key)
    assert empty.code == 1
    assert empty.err == "ragis: There is no collection 'default': upload a document to create it.\n"
    (tmp_path / "other.md").write_text("# Ferry\n\nThe ferry leaves at nine.\n")
    assert cli("ingest", str(tmp_path / "other.md"), "-w", "default", key=root_key).code == 0
    llm.script(Reply(tokens=["I do not know."]))
    elsewhere = cli("ask", "What is the vault code?", "-w", "default", key=root_key)
    assert elsewhere.code == 0, elsewhere.err
    assert "other.md" in elsewhere.out
    assert "secret.md" not in elsewhere.out

    # The same file in another workspace is not a duplicate there: workspaces share nothing.
    again = cli("ingest", str(docs), "-w", "default", key=root_key)
    assert "1 document(s) ingested" in again.out, again.out


def test_a_workspace_you_are_not_a_member_of_is_a_sentence(
    cli: Cli, root_key: str, tmp_path: Path
) -> None:
    cli("user", "add", "bob", key=root_key, stdin=BOB_PASSWORD + "\n")
    bob_key = key_of(cli.gateway, "bob", BOB_PASSWORD)
    (tmp_path / "a.md").write_text("# A\n\nSomething.\n")
    for argv in (["ask", "-w", ROOT, "anything?"], ["ingest", "-w", ROOT, str(tmp_path / "a.md")]):
        result = cli(*argv, key=bob_key)
        assert result.code == 1, argv
        assert "has no workspace 'root' that you are a member of" in result.err, (argv, result.err)


def test_a_viewer_may_ask_but_not_ingest_and_the_refusal_names_the_workspace(
    cli: Cli, root_key: str, tmp_path: Path
) -> None:
    cli("user", "add", "bob", key=root_key, stdin=BOB_PASSWORD + "\n")
    bob_key = key_of(cli.gateway, "bob", BOB_PASSWORD)
    admin = {"Authorization": f"Bearer {root_key}"}
    with httpx.Client(base_url=cli.gateway, headers=admin, timeout=30) as client:
        assert client.post("/api/workspaces", json={"name": "team"}).status_code == 201
        member = client.post(
            "/api/workspaces/team/members", json={"username": "bob", "role": "viewer"}
        )
        assert member.status_code == 200, member.text
    (tmp_path / "a.md").write_text("# A\n\nSomething.\n")
    refused = cli("ingest", "-w", "team", str(tmp_path / "a.md"), key=bob_key)
    assert refused.code == 1
    assert "workspace 'team'" in refused.err, refused.err
    assert one_sentence(refused.err), refused.err
    assert cli("ingest", "-w", "team", str(tmp_path / "a.md"), key=root_key).code == 0
    listed = cli("ask", "-w", "team", "What is there?", key=bob_key)
    assert "a.md" in listed.out, listed.err


def test_a_key_made_for_one_workspace_works_there_only(
    cli: Cli, root_key: str, tmp_path: Path, llm: OpenAIServer
) -> None:
    made = cli("key", "create", "ci", "--workspace", ROOT, key=root_key)
    assert made.code == 0, made.err
    assert "only for workspace root" in made.err
    ci_key = made.out.strip()
    (tmp_path / "a.md").write_text("# A\n\nThe ferry leaves at nine.\n")
    # No --workspace: the key's own.
    assert cli("ingest", str(tmp_path / "a.md"), key=ci_key).code == 0
    refused = cli("ask", "-w", "default", "When does the ferry leave?", key=ci_key)
    assert refused.code == 1
    assert "default" in refused.err
    listed = cli("key", "list", key=root_key).out
    ci_row = next(line for line in listed.splitlines() if " ci " in f" {line} ")
    assert " root " in ci_row


def test_a_revoked_key_fails_ingest_and_ask_on_its_next_request(
    cli: Cli, root_key: str, tmp_path: Path
) -> None:
    made = cli("key", "create", "short-lived", key=root_key)
    short_lived = made.out.strip()
    (tmp_path / "a.md").write_text("# A\n\nSomething.\n")
    assert cli("ingest", str(tmp_path / "a.md"), key=short_lived).code == 0
    key_id = next(
        line.split()[0]
        for line in cli("key", "list", key=root_key).out.splitlines()
        if "short-lived" in line
    )
    assert cli("key", "revoke", key_id, key=root_key).code == 0
    for argv in (["ask", "anything?"], ["ingest", str(tmp_path / "a.md")]):
        result = cli(*argv, key=short_lived)
        assert result.code == 1, argv
        assert "does not accept the API key in RAGIS_API_KEY" in result.err, result.err


# --- sign-in off ---------------------------------------------------------------------------------


def test_with_sign_in_off_user_and_key_commands_say_so_and_ingest_needs_no_key(
    clean_env: None,
    rag_url: str,
    start_gateway: GatewayFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    with start_gateway(rag_urls=[rag_url], auth="off") as url:
        cli = Cli(url, monkeypatch, capsys)
        for argv in (["user", "list"], ["key", "list"], ["key", "create", "x"]):
            result = cli(*argv)
            assert result.code == 1, argv
            assert one_sentence(result.err), result.err
        (tmp_path / "a.md").write_text("# A\n\nSomething.\n")
        assert cli("ingest", str(tmp_path / "a.md")).code == 0


@pytest.mark.parametrize(
    "argv",
    [["admin", "create"], ["user"], ["user", "add"], ["user", "list"], ["user", "remove"],
     ["key"], ["key", "create"], ["key", "list"], ["key", "revoke"]],
)  # fmt: skip
def test_every_accounts_command_has_help(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    assert f"usage: ragis {' '.join(argv)}" in capsys.readouterr().out


def test_a_group_without_its_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    for group in ("admin", "user", "key"):
        with pytest.raises(SystemExit) as exited:
            main([group])
        assert exited.value.code == 2
        assert "required: ACTION" in capsys.readouterr().err
