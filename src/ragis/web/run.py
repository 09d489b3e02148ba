"""Running a ragis service under uvicorn: `python -m ragis.rag` and `python -m ragis.gateway`."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from ragis.errors import RagisError

__all__ = ["run_service"]


def run_service(name: str, build: Callable[[], tuple[FastAPI, str, int]]) -> int:
    """Build the app (settings errors print one sentence), then serve it until SIGTERM."""
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {name} %(levelname)s %(message)s")
    # httpx and httpcore log every request at INFO: one line per chat turn and per upload in the
    # terminal of `ragis up`, and a write to stderr on the request path.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        app, host, port = build()
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    except RagisError as exc:
        label = "rag service" if name == "rag" else name
        print(f"ragis {label}: {exc.message}", file=sys.stderr)
        return 1
    return 0
