"""The `ragis` command line. Each command has `--help`; errors print one sentence, no traceback."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from ragis import __version__
from ragis.errors import RagisError

if TYPE_CHECKING:
    from ragis.client.api import GatewayClient
    from ragis.signals import StopSignals

__all__ = ["main"]


def _cmd_up(args: argparse.Namespace) -> int:
    from ragis.signals import StopSignals

    # First of all: from here on SIGTERM, SIGINT and SIGHUP stop what has started, in reverse
    # order, instead of ending ragis at once and leaving its children (each in its own
    # session) running.
    signals = StopSignals().install()
    try:
        return _run_up(signals)
    finally:
        # Everything is stopped: a late signal (docker's SIGTERM after ours, a second Ctrl-C)
        # has nothing left to stop, and must not kill the interpreter as it shuts down (which
        # puts the default handlers back) and turn a clean exit into "killed by SIGINT".
        signals.ignore()


def _run_up(signals: StopSignals) -> int:
    from ragis.gateway.settings import load_gateway_settings
    from ragis.rag.settings import load_rag_settings
    from ragis.settings import load_up_settings
    from ragis.signals import StopRequested
    from ragis.stack import Stack

    def echo(line: str) -> None:
        print(line, flush=True)

    echo(f"ragis {__version__}: starting ...")
    try:
        stack = Stack(
            load_rag_settings(),
            load_gateway_settings(),
            load_up_settings(),
            echo=echo,
            signals=signals,
        )
        stack.start()  # on a failure or a stop signal it stops what it started, then raises
        try:
            echo("ragis is up:")
            for line in stack.describe():
                echo(line)
            echo(f"Open {stack.gateway_url} in a browser. Press Ctrl-C to stop.")
            stack.supervise()  # returns only by raising: a stop signal or ServiceCrashed
        finally:
            stack.stop()
    except StopRequested:
        return 0
    return 0  # pragma: no cover - supervise() never returns


def _cmd_doctor(args: argparse.Namespace) -> int:
    from ragis.ops.doctor import run_doctor

    return run_doctor(as_json=args.json)


def _client(workspace: str | None = None) -> GatewayClient:
    """A client of the gateway the settings name, with their API key; `workspace` (the
    command's --workspace) before RAGIS_WORKSPACE."""
    from ragis.client.api import GatewayClient
    from ragis.client.settings import load_client_settings

    settings = load_client_settings()
    key = settings.api_key.get_secret_value() if settings.api_key else None
    return GatewayClient(
        settings.gateway_url,
        timeout=settings.timeout,
        api_key=key,
        workspace=workspace or settings.workspace,
    )


def _cmd_ingest(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from ragis.client.ingest import find_files, ingest, split_urls

    urls, paths = split_urls(args.paths)
    files, missing = find_files(Path(p) for p in paths)
    for path in missing:
        print(f"ragis: no such file or folder: {path}", file=sys.stderr)
    if not files and not urls:
        print("ragis: nothing to ingest (supported: .txt .md .html .pdf .docx)", file=sys.stderr)
        return 1

    async def run() -> int:
        async with _client(args.workspace) as client:
            await client.health()
            summary = await ingest(client, files, urls=urls, collection=args.collection)
        for line in summary.lines():
            print(line)
        return 1 if summary.failures or missing else 0

    return asyncio.run(run())


def _cmd_sync(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from ragis.client.sync.run import sync_folder
    from ragis.client.sync.watch import watch_folder

    root = Path(args.folder)
    if not root.is_dir():
        print(f"ragis: not a folder: {args.folder}", file=sys.stderr)
        return 2

    async def run() -> int:
        async with _client(args.workspace) as client:
            await client.health()
            if args.watch:
                summary = await watch_folder(
                    client, root, collection=args.collection, keep_deleted=args.keep_deleted
                )
                return 1 if summary.failed else 0
            summary = await sync_folder(
                client,
                root,
                collection=args.collection,
                keep_deleted=args.keep_deleted,
                dry_run=args.dry_run,
            )
        if not args.dry_run:
            for line in summary.lines():
                print(line)
        return 1 if summary.failed else 0

    return asyncio.run(run())


def _cmd_ask(args: argparse.Namespace) -> int:
    import asyncio

    from ragis.client.ask import ask

    async def run() -> int:
        async with _client(args.workspace) as client:
            return await ask(
                client,
                " ".join(args.question),
                collection=args.collection,
                session_id=args.session,
                top_k=args.top_k,
                retrieval=args.retrieval,
                document=args.document,
            )

    return asyncio.run(run())


def _cmd_mcp(args: argparse.Namespace) -> int:
    import asyncio

    from ragis.mcp.stdio import serve_stdio

    asyncio.run(serve_stdio(_client(args.workspace)))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from ragis.client.eval import DEFAULT_MODE, evaluate, parse_modes

    modes = [DEFAULT_MODE] if args.retrieval is None else parse_modes(args.retrieval)

    async def run() -> int:
        async with _client(args.workspace) as client:
            return await evaluate(
                client,
                Path(args.questions),
                collection=args.collection,
                top_k=args.top_k,
                modes=modes,
                calibrate_threshold=args.calibrate,
                as_json=args.json,
            )

    return asyncio.run(run())


def _cmd_collection(args: argparse.Namespace) -> int:
    import asyncio

    from ragis.client import collections

    min_score = None
    if args.action == "set":
        collections.check_collection(args.name)
        min_score = collections.parse_min_score(args.min_score)

    async def run() -> int:
        async with _client(args.workspace) as client:
            if args.action == "list":
                return await collections.collection_list(client)
            return await collections.collection_set(client, args.name, min_score)

    return asyncio.run(run())


def _cmd_tag(args: argparse.Namespace) -> int:
    import asyncio

    from ragis.client import tags
    from ragis.client.collections import check_collection

    check_collection(args.collection)
    wanted = tags.parse_tags(args.tags)

    async def run() -> int:
        async with _client(args.workspace) as client:
            return await tags.tag_document(client, args.doc_id, args.collection, wanted)

    return asyncio.run(run())


def _cmd_reindex(args: argparse.Namespace) -> int:
    import asyncio

    from ragis.client.collections import check_collection
    from ragis.client.reindex import reindex, summary

    check_collection(args.collection)

    async def run() -> int:
        async with _client(args.workspace) as client:
            result = await reindex(
                client, args.collection, args.model, restart=args.restart, force=args.force
            )
        print(summary(result))
        return 0

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        print(
            "\nragis: reindex interrupted; questions still use the old vectors. Run the same "
            "command again to resume where it stopped.",
            file=sys.stderr,
        )
        return 130


def _cmd_admin_create(args: argparse.Namespace) -> int:
    import asyncio

    from ragis.client.accounts import check_username
    from ragis.client.admin import create_admin, redis_of
    from ragis.client.password import read_new_password
    from ragis.settings import RedisSettings, load_up_settings

    name = check_username(args.name)  # before asking for a password it would not use
    given = load_up_settings().redis_password
    settings = redis_of(RedisSettings.load(), given.get_secret_value() if given else None)
    password = read_new_password(from_stdin=args.password_stdin)
    asyncio.run(create_admin(settings, name, password))
    print(
        f"Admin {name} created: sign in to the web UI as {name}, and make an API key there "
        "(user menu > API keys) for `ragis` commands."
    )
    return 0


def _cmd_user(args: argparse.Namespace) -> int:
    import asyncio

    from ragis.client import accounts
    from ragis.contract import Role

    password = None
    if args.action == "add":
        accounts.check_username(args.name)
        from ragis.client.password import read_new_password

        password = read_new_password(from_stdin=args.password_stdin)

    async def run() -> int:
        async with _client() as client:
            if args.action == "add":
                assert password is not None
                return await accounts.user_add(client, args.name, password, Role(args.role))
            if args.action == "list":
                return await accounts.user_list(client)
            return await accounts.user_remove(client, args.name)

    return asyncio.run(run())


def _cmd_key(args: argparse.Namespace) -> int:
    import asyncio

    from ragis.client import accounts

    async def run() -> int:
        async with _client() as client:
            if args.action == "create":
                return await accounts.key_create(client, args.name, workspace=args.workspace)
            if args.action == "list":
                return await accounts.key_list(client)
            return await accounts.key_revoke(client, args.id)

    return asyncio.run(run())


def _cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ragis.ops.backup import backup_command

    return backup_command(Path(args.file))


def _cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ragis.ops.restore import restore_command

    data_dir = Path(args.data_dir) if args.data_dir else None
    return restore_command(Path(args.file), args.redis_url, data_dir)


def _workspace(value: str) -> str:
    """A --workspace value, checked before anything is sent (argparse: exit 2)."""
    from ragis.contract import WORKSPACE_PATTERN

    if not re.fullmatch(WORKSPACE_PATTERN, value):
        raise argparse.ArgumentTypeError(
            f"{value[:40]!r} is not a workspace name (1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit)"
        )
    return value


_AUTH_HELP = (
    "With the gateway's RAGIS_AUTH on, set RAGIS_API_KEY to an API key (web UI: user menu > "
    "API keys, or `ragis key create`)."
)
_PASSWORD_HELP = (
    "The password is asked twice on a terminal; otherwise (or with --password-stdin) it is "
    "the first line of standard input. It is never an argument, where `ps` and the shell's "
    "history would show it."
)


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error does not repeat what it refused: an unexpected
    argument may be a password typed where none belongs (`--password hunter2`), and stderr ends
    up in logs; and a megabyte-long argument is no message. Abbreviated options are off:
    `--password X` must not pass for `--password-stdin` and a stray argument."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        head, sep, rest = message.partition(": ")
        if head == "unrecognized arguments" and sep:
            options = [word[:40] for word in rest.split() if word.startswith("-")]
            message = f"{head}: {' '.join([*options, '(values not shown)'])}"
        if len(message) > 300:
            message = message[:297] + "..."
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ragis",
        description="Self-hosted RAG in which Redis 8 does every storage job.",
    )
    parser.add_argument("--version", action="version", version=f"ragis {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    up = commands.add_parser(
        "up",
        help="start the whole stack in the foreground",
        description=(
            "Start the stack in the foreground: the embedded Redis 8 (unless REDIS_URL is set), "
            "the RAG service and the gateway with the web UI; print where each part listens and "
            "which LLM answers; restart a service that exits (with backoff; after "
            "RAGIS_RESTART_LIMIT crashes stop everything and exit 1); stop everything cleanly "
            "on Ctrl-C, SIGTERM or SIGHUP. "
            "Settings come from the environment and .env (RAGIS_DATA_DIR, RAGIS_REDIS_PORT, ...)."
        ),
    )
    up.set_defaults(handler=_cmd_up)

    doctor = commands.add_parser(
        "doctor",
        help="check that this ragis is ready for real use",
        description=(
            "Check, with the settings the services read: Redis (reachable, Vector Sets, a "
            "release with the vector-set fixes, persistence, memory and the eviction policy, the "
            "data format), free disk space, the model cache and embedding backend, a remote "
            "embedding server, the LLM, the gateway and the RAG service if they run, and who can "
            "reach the gateway. One line a check: ok, warn or problem, and what to do. Exits 1 "
            "when any line is a problem. REDIS_URL, else the embedded Redis of the `ragis up` "
            "running over RAGIS_DATA_DIR."
        ),
    )
    doctor.add_argument("--json", action="store_true", help="print one JSON object")
    doctor.set_defaults(handler=_cmd_doctor)

    ingest = commands.add_parser(
        "ingest",
        help="upload files and folders through the gateway",
        description=(
            "Upload files and folders (recursively; .txt .md .html .pdf .docx) to a running "
            "ragis through its gateway (RAGIS_GATEWAY_URL, default http://127.0.0.1:8080), with "
            "a progress bar and a summary; an http:// or https:// URL is fetched by the gateway "
            "and ingested with the URL as its source. Exits 1 if any file failed. " + _AUTH_HELP
        ),
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH|URL", help="files, folders or web pages")
    ingest.add_argument("-c", "--collection", default="default", help="target collection")
    ingest.add_argument("-w", "--workspace", type=_workspace, help=_WORKSPACE_FLAG)
    ingest.set_defaults(handler=_cmd_ingest)

    sync = commands.add_parser(
        "sync",
        help="make a collection equal to a folder (and keep it so with --watch)",
        description=(
            "Make a collection equal to a folder, through the gateway: each file is known by its "
            "path relative to FOLDER (the document's source). A new file is added; a changed "
            "file (another sha256) replaces its old version atomically; a file moved or renamed "
            "(same sha256, old path gone) is renamed without re-embedding; a file gone is "
            "deleted (unless --keep-deleted). Dot files, dot folders, empty files, symbolic "
            "links and unsupported types are skipped and counted; documents without a source "
            "(uploaded by hand) are left alone. Re-running a sync that was cut short converges. "
            "Exits 0 when every file is in step, 1 if any failed, 2 on a usage error. " + _AUTH_HELP
        ),
    )
    sync.add_argument("folder", metavar="FOLDER", help="the folder to mirror")
    sync.add_argument("-c", "--collection", default="default", help="target collection")
    sync.add_argument(
        "--watch", action="store_true", help="keep watching and re-sync on change until Ctrl-C"
    )
    sync.add_argument(
        "--dry-run", action="store_true", help="print what would be done and change nothing"
    )
    sync.add_argument(
        "--keep-deleted", action="store_true", help="keep documents whose file is gone"
    )
    sync.add_argument("-w", "--workspace", type=_workspace, help=_WORKSPACE_FLAG)
    sync.set_defaults(handler=_cmd_sync)

    ask = commands.add_parser(
        "ask",
        help="ask a question and stream the answer",
        description=(
            "Ask a running ragis a question: the answer streams into the terminal as it comes, "
            "then its numbered sources. Pass --session to continue a conversation. " + _AUTH_HELP
        ),
    )
    ask.add_argument("question", nargs="+", help="the question (quote it)")
    ask.add_argument("-c", "--collection", default=None, help="collection to search")
    ask.add_argument("-s", "--session", default=None, help="session id to continue")
    ask.add_argument("-k", "--top-k", type=int, default=None, help="passages to retrieve (1-50)")
    ask.add_argument(
        "-r", "--retrieval", choices=("hybrid", "vector", "lexical"), default=None,
        help="how to find the passages: by meaning and words (hybrid), meaning (vector) or "
        "words (lexical); default: the service's RAGIS_RETRIEVAL",
    )  # fmt: skip
    ask.add_argument(
        "-d", "--document", default=None, metavar="DOC_ID",
        help="only this document's passages; a summary question then reads the whole document",
    )  # fmt: skip
    ask.add_argument("-w", "--workspace", type=_workspace, help=_WORKSPACE_FLAG)
    ask.set_defaults(handler=_cmd_ask)

    evaluate = commands.add_parser(
        "eval",
        help="measure retrieval quality with a question file",
        description=(
            "Ask a running ragis, through its gateway, every question of a JSONL file (one "
            'object a line: "question", and "doc", "page", "keywords", "answerable", "kind") and '
            "print, per kind and overall: hit@1/3/5 by document and by page, MRR, passage "
            "recall, answer-keyword accuracy (with an LLM), the share of unanswerable questions "
            "refused and of answerable ones wrongly refused, and latency p50/p95. Progress on "
            "stderr. " + _AUTH_HELP
        ),
    )
    evaluate.add_argument("questions", metavar="QUESTIONS.jsonl", help="the question file")
    evaluate.add_argument("-c", "--collection", default=None, help="collection to search")
    evaluate.add_argument("-k", "--top-k", type=int, default=None,
                          help="passages to retrieve (1-50; default: the service's)")  # fmt: skip
    evaluate.add_argument("-w", "--workspace", type=_workspace, help=_WORKSPACE_FLAG)
    evaluate.add_argument(
        "--retrieval",
        metavar="MODES",
        default=None,
        help="comma list of hybrid, vector, lexical: one run each, side by side "
        "(default: one run in the service's mode, shown as 'default')",
    )
    evaluate.add_argument(
        "--calibrate",
        action="store_true",
        help="also print the grounded threshold (RAGIS_MIN_SCORE) that best separates "
        "answerable from unanswerable questions, and the rule that chose it",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(handler=_cmd_eval)

    mcp = commands.add_parser(
        "mcp",
        help="serve ragis to an MCP host (Claude Desktop, ...) over stdio",
        description=(
            "Run an MCP server (Model Context Protocol) on standard input and output, for an "
            "MCP host to start as a command: tools to search, ask, list and read documents and "
            "ingest new ones, and the documents as resources, all through the gateway "
            "(RAGIS_GATEWAY_URL) with RAGIS_API_KEY. Logs go to standard error. See docs/mcp.md. "
            + _AUTH_HELP
        ),
    )
    mcp.add_argument("-w", "--workspace", type=_workspace, help=_WORKSPACE_FLAG)
    mcp.set_defaults(handler=_cmd_mcp)
    _add_collection_commands(commands)
    _add_account_commands(commands)
    _add_backup_commands(commands)
    return parser


_WORKSPACE_FLAG = (
    "workspace to work in (default: RAGIS_WORKSPACE, else the API key's, else your personal one)"
)


def _add_collection_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    collection = commands.add_parser(
        "collection",
        help="list collections and set their grounded threshold",
        description="A workspace's collections, through the gateway (RAGIS_GATEWAY_URL). "
        + _AUTH_HELP,
    )
    actions = collection.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list",
        help="list the collections",
        description="List the collections with their documents, chunks, the grounded "
        "threshold that applies (`(default)`: the service's RAGIS_MIN_SCORE) and whether their "
        "keyword index is ready.",
    )
    listing.add_argument("-w", "--workspace", type=_workspace, help=_WORKSPACE_FLAG)
    change = actions.add_parser(
        "set",
        help="set a collection's grounded threshold",
        description="Set the collection NAME's own threshold for a grounded answer: when no "
        "passage scores at least this similarity to the question (0 to 1), ragis answers that "
        "the documents do not hold the answer instead of asking the LLM. A higher value refuses "
        "more; 0 lets any passage through. `ragis eval --calibrate` suggests one. Needs "
        "editor rights; a change drops the collection's cached answers.",
    )
    change.add_argument("name", metavar="NAME", help="the collection")
    change.add_argument(
        "--min-score",
        metavar="X",
        required=True,
        help="a number from 0 to 1, or 'default' to use the service's RAGIS_MIN_SCORE again",
    )
    change.add_argument("-w", "--workspace", type=_workspace, help=_WORKSPACE_FLAG)
    collection.set_defaults(handler=_cmd_collection)

    tag = commands.add_parser(
        "tag",
        help="give a document a new list of tags",
        description="Give the document DOC_ID of a collection the comma-separated TAGS (they "
        "replace its tags; '' removes them all), without re-embedding it: a question or search "
        "filtered by a tag finds it by the new tags at once. Needs editor rights. " + _AUTH_HELP,
    )
    tag.add_argument("doc_id", metavar="DOC_ID", help="the document's id (`ragis ingest` and "
                     "the web UI show it)")  # fmt: skip
    tag.add_argument("tags", metavar="TAGS", help="comma-separated, e.g. manuals,2024")
    tag.add_argument("-c", "--collection", default="default", help="its collection (default)")
    tag.add_argument("-w", "--workspace", type=_workspace, help=_WORKSPACE_FLAG)
    tag.set_defaults(handler=_cmd_tag)

    reindex = commands.add_parser(
        "reindex",
        help="move a collection to another embedding model",
        description="Re-embed every chunk of a collection from its stored text with MODEL (the "
        "built-in model's name, openai:<model> or ollama:<model>; left out: the RAG service's "
        "default, RAGIS_EMBED_PROVIDER/RAGIS_EMBED_MODEL) into a new vector set beside the old "
        "one, then swap them in one step; no re-upload. Questions keep being answered from the "
        "old vectors meanwhile. Ctrl-C stops it; the same command resumes where it stopped. "
        "Needs owner rights in the workspace. " + _AUTH_HELP,
    )
    reindex.add_argument("-c", "--collection", required=True, help="the collection")
    reindex.add_argument("-m", "--model", default=None, help="the embedding model to move to")
    reindex.add_argument(
        "--restart", action="store_true",
        help="drop a reindex to another model that stopped midway, and begin this one",
    )  # fmt: skip
    reindex.add_argument(
        "--force", action="store_true", help="re-embed even if the collection has this model"
    )
    reindex.add_argument("-w", "--workspace", type=_workspace, help=_WORKSPACE_FLAG)
    reindex.set_defaults(handler=_cmd_reindex)


def _add_account_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    admin = commands.add_parser(
        "admin",
        help="create an admin, straight in Redis",
        description="Manage admins without the gateway (none exists yet to sign in as).",
    )
    admin_actions = admin.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = admin_actions.add_parser(
        "create",
        help="create an admin user",
        description=(
            "Create the admin NAME (with a personal workspace of the same name), writing to "
            "Redis directly: REDIS_URL when set; else the embedded Redis of the `ragis up` "
            "running over RAGIS_DATA_DIR (default ./data; its port and password are read from "
            "that folder, so run this as the same user, next to it). " + _PASSWORD_HELP
        ),
    )
    create.add_argument("name", metavar="NAME", help="username: 1-32 of a-z 0-9 _ . -")
    create.add_argument("--password-stdin", action="store_true", help="read the password "
                        "from the first line of standard input")  # fmt: skip
    create.set_defaults(handler=_cmd_admin_create)

    user = commands.add_parser(
        "user",
        help="add, list and remove users (admins only)",
        description="Manage users through the gateway (RAGIS_GATEWAY_URL); an admin's API key "
        "in RAGIS_API_KEY.",
    )
    user_actions = user.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = user_actions.add_parser(
        "add",
        help="add a user",
        description="Add the user NAME, with a personal workspace of the same name. "
        + _PASSWORD_HELP,
    )
    add.add_argument("name", metavar="NAME", help="username: 1-32 of a-z 0-9 _ . -")
    add.add_argument("--role", choices=("member", "admin"), default="member",
                     help="admin: may manage users (default: member)")  # fmt: skip
    add.add_argument("--password-stdin", action="store_true", help="read the password "
                     "from the first line of standard input")  # fmt: skip
    user_actions.add_parser("list", help="list the users", description="List the users.")
    remove = user_actions.add_parser(
        "remove",
        help="remove a user",
        description="Remove the user NAME with their API keys, sign-ins, memberships and "
        "personal workspace (its documents are deleted). Not the last admin, nor yourself.",
    )
    remove.add_argument("name", metavar="NAME")
    user.set_defaults(handler=_cmd_user)

    key = commands.add_parser(
        "key",
        help="create, list and revoke your API keys",
        description="Manage your API keys through the gateway (RAGIS_GATEWAY_URL), "
        "authenticated with one of them in RAGIS_API_KEY (make the first in the web UI: user "
        "menu > API keys).",
    )
    key_actions = key.add_subparsers(dest="action", metavar="ACTION", required=True)
    key_create = key_actions.add_parser(
        "create",
        help="create an API key (shown once)",
        description="Create an API key that acts as you; it is printed once, alone on stdout "
        "(the hint goes to stderr), and stored by ragis only as a hash.",
    )
    key_create.add_argument("name", metavar="NAME", help="what it is for (1-64 characters)")
    key_create.add_argument("-w", "--workspace", type=_workspace,
                            help="make it work only in this workspace")  # fmt: skip
    key_actions.add_parser("list", help="list your API keys", description="List your API keys.")
    revoke = key_actions.add_parser(
        "revoke",
        help="revoke an API key",
        description="Revoke the key ID (see `ragis key list`): refused from its next request on.",
    )
    revoke.add_argument("id", metavar="ID")
    key.set_defaults(handler=_cmd_key)


def _add_backup_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    backup = commands.add_parser(
        "backup",
        help="write a consistent snapshot of everything ragis keeps in Redis",
        description=(
            "Write every key under RAGIS_KEY_PREFIX (collections, documents, vectors, sessions, "
            "accounts, the data format) with its expiry to FILE, while ragis runs; each "
            "collection is copied in one transaction. Reads REDIS_URL, else the embedded Redis "
            "of the `ragis up` running over RAGIS_DATA_DIR. See docs/deploy.md."
        ),
    )
    backup.add_argument("file", metavar="FILE", help="the backup file to write")
    backup.set_defaults(handler=_cmd_backup)
    restore = commands.add_parser(
        "restore",
        help="bring a backup back into an empty Redis or a stopped data dir",
        description=(
            "Check FILE whole (checksum, backup format, data format not newer than this "
            "ragis's), then restore its keys with their expiry into an empty Redis (--redis-url, "
            "else REDIS_URL) or a data dir no ragis runs on (--data-dir, else RAGIS_DATA_DIR); "
            "refused when the target already holds keys under RAGIS_KEY_PREFIX."
        ),
    )
    restore.add_argument("file", metavar="FILE", help="a file written by `ragis backup`")
    target = restore.add_mutually_exclusive_group()
    target.add_argument("--redis-url", metavar="URL", help="restore into this (empty) Redis")
    target.add_argument("--data-dir", metavar="DIR", help="restore into this stopped data dir")
    restore.set_defaults(handler=_cmd_restore)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except RagisError as exc:
        print(f"ragis: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
