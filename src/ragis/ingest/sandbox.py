"""`ParseSandbox`: every uploaded file is parsed in a child process that may cost only so much.

A parser is handed bytes that anybody may have built, and a few KB can be built to cost gigabytes
or minutes in pypdf, defusedxml or html.parser (issue 12). The parsers refuse what they can
recognise cheaply; whatever gets past them runs here, where it can only hurt a child:

    gateway (asyncio)                              child (one per file, forked from a forkserver)
      wait for one of `workers` slots                set RLIMIT_AS (memory), RLIMIT_CPU, no core
      fork a child, send it the bytes  ---pipe-->    parse_document(bytes, name, limits)
      wait at most `timeout` seconds   <--pipe---    the ParsedDocument, or the FileRejected reason
      on overrun, crash or timeout: kill it, raise CorruptFile (422) with a sentence

A fresh child per file means nothing one file did (memory it fragmented, a CPU budget it used)
can touch the next, and a kill always frees everything. The children fork from a forkserver that
has imported the parsers once, so a child starts in milliseconds, not the ~1 s of a new Python;
the gateway itself never imports pypdf or defusedxml and never holds more than the upload and
the text that comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from ragis.errors import CorruptFile, EmptyFile, FileRejected, FileTooLarge, UnsupportedFile
from ragis.ingest.limits import IngestLimits
from ragis.ingest.parsers import ParsedDocument, parse_document

__all__ = ["ParseSandbox", "SandboxLimits"]

_MiB = 1024 * 1024
# The parser modules the forkserver imports once, so that each child has them already.
_PRELOAD = [
    "ragis.ingest.parsers.csv",
    "ragis.ingest.parsers.docx",
    "ragis.ingest.parsers.eml",
    "ragis.ingest.parsers.epub",
    "ragis.ingest.parsers.html",
    "ragis.ingest.parsers.odt",
    "ragis.ingest.parsers.pdf",
    "ragis.ingest.parsers.pptx",
    "ragis.ingest.parsers.text",
    "ragis.ingest.parsers.xlsx",
    "pptx",
    "openpyxl",
]
_REJECTIONS: dict[str, type[FileRejected]] = {
    cls.__name__: cls for cls in (CorruptFile, EmptyFile, FileTooLarge, UnsupportedFile)
}
_EXIT_OUT_OF_MEMORY = 3  # the child ran out of memory and could not even say so over the pipe


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """What one parse may cost, beyond the `IngestLimits` the parsers check themselves."""

    workers: int = 2
    """Files parsed at once; more uploads wait for a free slot."""
    memory_mb: int = 1024
    """Address space of a child (RLIMIT_AS), in MiB."""
    cpu_seconds: int = 60
    """CPU time of a child (RLIMIT_CPU)."""
    timeout: float = 120.0
    """Wall-clock seconds from fork to answer; a child still running then is killed."""

    def __post_init__(self) -> None:
        for name in ("workers", "memory_mb", "cpu_seconds", "timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SandboxLimits.{name} must be positive")


class ParseSandbox:
    """Parses uploads in bounded, resource-limited child processes. Create one per service."""

    def __init__(self, limits: IngestLimits, sandbox: SandboxLimits) -> None:
        self._limits = limits
        self._sandbox = sandbox
        self._slots = asyncio.Semaphore(sandbox.workers)
        # Threads of their own that wait on the children, one a slot: waiting never takes the
        # default pool's threads from the chunker, however many workers are configured.
        self._waiters = ThreadPoolExecutor(sandbox.workers, thread_name_prefix="ragis-parse")
        self._running: set[_Child] = set()
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(_PRELOAD)

    def start(self) -> None:
        """Start the forkserver now (it imports the parsers: about a second), not on the first
        upload. Blocking: call it off the event loop."""
        from multiprocessing import forkserver

        forkserver.ensure_running()

    async def aclose(self) -> None:
        """Kill the children still running and let the waiting threads go (at shutdown)."""
        for child in list(self._running):
            child.stop()
        self._waiters.shutdown(wait=False, cancel_futures=True)

    async def parse(self, data: bytes, name: str) -> ParsedDocument:
        """`parse_document` in a child; raises its `FileRejected` errors, and `CorruptFile` for
        a child that overran a limit or crashed. `name` is the sanitised display name."""
        async with self._slots:
            child = _Child(self._context, self._limits, self._sandbox, name)
            loop = asyncio.get_running_loop()
            self._running.add(child)
            try:
                return await loop.run_in_executor(self._waiters, child.run, data)
            except asyncio.CancelledError:
                child.stop()  # the client left: end the child now, its thread then returns
                raise
            finally:
                self._running.discard(child)


class _Child:
    """One child process and its pipe; `run` blocks (it is called in a worker thread)."""

    def __init__(self, context: Any, limits: IngestLimits, sandbox: SandboxLimits, name: str):
        self._name = name
        self._sandbox = sandbox
        self._conn, self._child_conn = context.Pipe(duplex=True)
        self._process = context.Process(
            target=_child_main,
            args=(self._child_conn, name, limits, sandbox.memory_mb * _MiB, sandbox.cpu_seconds),
            name="ragis-parse",
            daemon=True,
        )
        self._pid: int | None = None
        self._timed_out = False
        self._stopped = False

    def run(self, data: bytes) -> ParsedDocument:
        self._process.start()
        self._pid = self._process.pid
        self._child_conn.close()
        if self._stopped:  # cancelled while it was being started
            self.stop()
        # The wall clock runs from the start, the sending of the bytes included.
        timer = threading.Timer(self._sandbox.timeout, self._time_out)
        timer.start()
        try:
            answer = self._exchange(data)
        finally:
            timer.cancel()
            timer.join()
            self.stop()  # it has answered (or never will): do not wait for it to exit by itself
            self._process.join()
            self._pid = None
            self._conn.close()
        if answer is None:
            raise self._failure()
        if answer[0] == "ok":
            document: ParsedDocument = answer[1]
            return document
        if answer[0] == "rejected":
            raise _REJECTIONS.get(answer[1], CorruptFile)(self._name, answer[2])
        raise self._failure(answer[0])

    def stop(self) -> None:
        """Kill the child if it runs; safe to call from another thread, does not wait."""
        self._stopped = True
        pid = self._pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _time_out(self) -> None:
        self._timed_out = True
        self.stop()

    def _exchange(self, data: bytes) -> tuple[Any, ...] | None:
        """Send the bytes, wait for the one answer; None if the child died before it answered
        (a limit, a crash, or `stop`)."""
        try:
            # send_bytes writes the upload straight from its buffer: no pickled copy of it.
            self._conn.send_bytes(data)
            answer: tuple[Any, ...] = self._conn.recv()
            return answer
        except (EOFError, OSError):
            return None

    def _failure(self, reason: str = "") -> CorruptFile:
        code = self._process.exitcode
        limits = self._sandbox
        if reason == "memory" or code == _EXIT_OUT_OF_MEMORY:
            why = (
                f"reading it needs more than {limits.memory_mb} MiB of memory "
                "(the limit is RAGIS_PARSE_MEMORY_MB)"
            )
        elif code == -signal.SIGXCPU:
            why = (
                f"reading it takes more than {limits.cpu_seconds} s of CPU time "
                "(the limit is RAGIS_PARSE_CPU_SECONDS)"
            )
        elif self._timed_out:
            why = (
                f"reading it takes more than {limits.timeout:g} s "
                "(the limit is RAGIS_PARSE_TIMEOUT)"
            )
        else:
            why = "its parser crashed on it"
        return CorruptFile(self._name, f"the file cannot be read: {why}")


def _child_main(
    conn: Connection, name: str, limits: IngestLimits, memory_bytes: int, cpu_seconds: int
) -> None:
    """The child: limit itself, read the bytes, parse, answer with one message, exit."""
    _set_limit(resource.RLIMIT_CORE, 0)  # a killed child must not write a core of its memory
    _set_limit(resource.RLIMIT_AS, memory_bytes)
    # SIGXCPU at the soft limit ends the child; the hard limit a second later is SIGKILL.
    _set_limit(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)
    answer: tuple[Any, ...]
    try:
        data = conn.recv_bytes()
        answer = ("ok", parse_document(data, name, limits))
    except FileRejected as exc:
        answer = ("rejected", type(exc).__name__, exc.reason)
    except MemoryError:
        answer = ("memory",)
    except Exception:  # RecursionError, a parser's own bug: a 422, never the gateway's 500
        answer = ("crash",)
    try:
        conn.send(answer)
    except MemoryError:
        os._exit(_EXIT_OUT_OF_MEMORY)
    except OSError:
        pass  # the gateway gave up on us (timeout or cancelled): nobody to tell


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    with contextlib.suppress(ValueError, OSError):  # some systems (macOS) refuse RLIMIT_AS
        resource.setrlimit(which, (soft, soft if hard is None else hard))
