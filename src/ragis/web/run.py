"""Running a ragis service under uvicorn: `python -m ragis.rag` and `python -m ragis.gateway`,
and `serve_in_thread` for the tests and the benchmark, which run apps in their own process.

An app that must be served with particular uvicorn options (the gateway's guards against slow
clients: `ragis.web.guards.server_options`) carries them in `app.state.server_options`, so that
both ways of serving it use them and a test serves exactly what production does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI

from ragis.errors import RagisError
from ragis.net import free_port
from ragis.obs.logs import configure_logging

__all__ = ["run_service", "serve_in_thread"]


def run_service(name: str, build: Callable[[], tuple[FastAPI, str, int]]) -> int:
    """Build the app (settings errors print one sentence), then serve it until SIGTERM."""
    configure_logging(name)
    # httpx and httpcore log every request at INFO: one line per chat turn and per upload in the
    # terminal of `ragis up`, and a write to stderr on the request path.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        app, host, port = build()
        # Now that the settings are read: RAGIS_LOG_FORMAT (ragis.obs.state puts it on the app).
        configure_logging(name, getattr(app.state, "log_format", "text"))
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
            **_server_options(app),
        )
    except RagisError as exc:
        label = "rag service" if name == "rag" else name
        print(f"ragis {label}: {exc.message}", file=sys.stderr)
        return 1
    return 0


@contextlib.contextmanager
def serve_in_thread(app: Any, *, startup_timeout: float = 120.0) -> Iterator[str]:
    """Run `app` on 127.0.0.1:<free port> in a background thread until the block ends; yields
    the base URL. A failure at start-up is raised here, in the caller's thread."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=2, **_server_options(app),
    )  # fmt: skip
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve())
        except BaseException as exc:  # surfaced below, in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError(f"the app did not start: {failure[0] if failure else 'exited'}")
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not start in time")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _server_options(app: Any) -> dict[str, Any]:
    state = getattr(app, "state", None)
    options: dict[str, Any] = dict(getattr(state, "server_options", None) or {})
    return options
