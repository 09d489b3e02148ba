"""The `ragis` command line. Each command has `--help`; errors print one sentence, no traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ragis import __version__
from ragis.errors import RagisError

if TYPE_CHECKING:
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


def _cmd_ingest(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from ragis.client.api import GatewayClient
    from ragis.client.ingest import find_files, ingest
    from ragis.client.settings import load_client_settings

    files, missing = find_files(Path(p) for p in args.paths)
    for path in missing:
        print(f"ragis: no such file or folder: {path}", file=sys.stderr)
    if not files:
        print("ragis: nothing to ingest (supported: .txt .md .html .pdf .docx)", file=sys.stderr)
        return 1
    settings = load_client_settings()

    async def run() -> int:
        async with GatewayClient(settings.gateway_url, timeout=settings.timeout) as client:
            await client.health()
            summary = await ingest(client, files, collection=args.collection)
        for line in summary.lines():
            print(line)
        return 1 if summary.failures or missing else 0

    return asyncio.run(run())


def _cmd_ask(args: argparse.Namespace) -> int:
    import asyncio

    from ragis.client.api import GatewayClient
    from ragis.client.ask import ask
    from ragis.client.settings import load_client_settings

    settings = load_client_settings()

    async def run() -> int:
        async with GatewayClient(settings.gateway_url, timeout=settings.timeout) as client:
            return await ask(
                client,
                " ".join(args.question),
                collection=args.collection,
                session_id=args.session,
                top_k=args.top_k,
            )

    return asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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

    ingest = commands.add_parser(
        "ingest",
        help="upload files and folders through the gateway",
        description=(
            "Upload files and folders (recursively; .txt .md .html .pdf .docx) to a running "
            "ragis through its gateway (RAGIS_GATEWAY_URL, default http://127.0.0.1:8080), with "
            "a progress bar and a summary. Exits 1 if any file failed."
        ),
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    ingest.add_argument("-c", "--collection", default="default", help="target collection")
    ingest.set_defaults(handler=_cmd_ingest)

    ask = commands.add_parser(
        "ask",
        help="ask a question and stream the answer",
        description=(
            "Ask a running ragis a question: the answer streams into the terminal as it comes, "
            "then its numbered sources. Pass --session to continue a conversation."
        ),
    )
    ask.add_argument("question", nargs="+", help="the question (quote it)")
    ask.add_argument("-c", "--collection", default=None, help="collection to search")
    ask.add_argument("-s", "--session", default=None, help="session id to continue")
    ask.add_argument("-k", "--top-k", type=int, default=None, help="passages to retrieve (1-50)")
    ask.set_defaults(handler=_cmd_ask)
    return parser


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
