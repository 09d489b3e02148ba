"""Knowing when a served app is done with a request, without sleeping.

`FinishedRequests.watch(app)` wraps a real app (the RAG service, the gateway) in an ASGI
middleware that records the path of every HTTP request once the app has returned from it. For a
streamed answer that is the moment its producer has ended, or has been cancelled and closed
after the client left: nothing of that request runs any more. A test waits on that event::

    finished = FinishedRequests()
    with serve(finished.watch(create_app(settings, embedder=embedder))) as url:
        ...  # a client leaves a chat stream
        assert await finished.wait_for_async("/chat/stream")
        ...  # what the turn left behind is now final

The app runs in the server's thread and the test in its own: the records sit behind a
`threading.Condition`, and the async wait waits in a worker thread, not on the test's loop.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TypeVar

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["FinishedRequests"]

App = TypeVar("App", bound=Starlette)


class FinishedRequests:
    """The paths of the HTTP requests an app has finished, in the order it finished them."""

    def __init__(self) -> None:
        self._paths: list[str] = []
        self._changed = threading.Condition()

    def watch(self, app: App) -> App:
        """`app`, recording into this object from its next request on (before it is served)."""
        app.add_middleware(_Record, finished=self)
        return app

    @property
    def paths(self) -> list[str]:
        with self._changed:
            return list(self._paths)

    def wait_for(self, path: str, count: int = 1, timeout: float = 30.0) -> bool:
        """Block until `count` requests to `path` are finished; False after `timeout` s (a
        bound against a hang, not a speed to meet)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._paths.count(path) >= count, timeout)

    async def wait_for_async(self, path: str, count: int = 1, within: float = 30.0) -> bool:
        """`wait_for` for async tests: waits in a thread, not on the event loop."""
        return await asyncio.to_thread(self.wait_for, path, count, within)

    def _record(self, path: str) -> None:
        with self._changed:
            self._paths.append(path)
            self._changed.notify_all()


class _Record:
    def __init__(self, app: ASGIApp, finished: FinishedRequests) -> None:
        self._app = app
        self._finished = finished

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        try:
            await self._app(scope, receive, send)
        finally:
            self._finished._record(scope["path"])
