"""The `ragis` command line. Each command has `--help`; errors print one sentence, no traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ragis import __version__
from ragis.errors import RagisError

__all__ = ["main"]


def _cmd_up(args: argparse.Namespace) -> int:
    from ragis.rag.settings import load_rag_settings
    from ragis.stack import Stack, wait_for_stop_signal

    settings = load_rag_settings()
    stack = Stack(settings, echo=lambda line: print(line, flush=True))
    print(f"ragis {__version__}: starting ...", flush=True)
    stack.start()
    try:
        print("ragis is up:", flush=True)
        for line in stack.describe():
            print(line, flush=True)
        print(f"  {stack.llm_line}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        wait_for_stop_signal()
    finally:
        stack.stop()
    return 0


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
            "Start the stack in the foreground: the embedded Redis 8 (unless REDIS_URL is set) "
            "and the RAG service; print where each part listens and which LLM answers; stop "
            "everything cleanly on Ctrl-C or SIGTERM. "
            "Settings come from the environment and .env (RAGIS_DATA_DIR, RAGIS_REDIS_PORT, ...)."
        ),
    )
    up.set_defaults(handler=_cmd_up)
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
