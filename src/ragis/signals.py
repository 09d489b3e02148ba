"""Stop requests for `ragis up`: SIGINT, SIGTERM and SIGHUP set a flag, acted on at safe points.

`ragis up` installs these handlers before it starts anything, so a stop signal at any phase
(Redis starting, the RAG service loading its model, the gateway starting, running) stops what
has started, in reverse order. SIGTERM is what `docker stop`, systemd and other supervisors
send; SIGHUP is a closed terminal; SIGINT is Ctrl-C.

The handler only records the signal. Raising from the handler (Python's default for SIGINT)
could land between `Popen` returning and the child being recorded as started, and that child
would then outlive ragis in its own session. Instead every wait of the start-up and of the
supervisor calls `check()` or `sleep()`, which raise `StopRequested` at a point where everything
started is known. Each such wait is short, so a signal is acted on within a fraction of a second.
"""

from __future__ import annotations

import signal
import time
from types import FrameType, TracebackType

__all__ = ["StopRequested", "StopSignals"]

# The longest a `sleep` goes without looking at the flag. A plain flag and short sleeps, not a
# threading.Event: setting an Event from a handler can deadlock on the Event's own lock.
_SLICE = 0.05


class StopRequested(BaseException):
    """A stop signal arrived: not an error (like KeyboardInterrupt), `except Exception` skips it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopSignals:
    """While installed, SIGINT, SIGTERM and SIGHUP request a stop instead of ending the process."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    def install(self) -> StopSignals:
        for sig in self.SIGNALS:
            # A signal ignored by whoever started us stays ignored: `nohup ragis up` must
            # survive the terminal's SIGHUP, and `ragis up &` in a script the shell's SIGINT.
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)  # type: ignore[arg-type]
        self._previous.clear()

    def ignore(self) -> None:
        """Ignore these signals from now on (once there is nothing left to stop)."""
        for sig in self.SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        self._previous.clear()

    def check(self) -> None:
        """Raise `StopRequested` if a stop signal has arrived."""
        if self.signum is not None:
            raise StopRequested(self.signum)

    def sleep(self, seconds: float) -> None:
        """Sleep, but raise `StopRequested` as soon as a stop signal arrives."""
        deadline = time.monotonic() + seconds
        while True:
            self.check()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, _SLICE))

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        # The first signal wins; more (a second Ctrl-C, docker's SIGTERM after ours) must not
        # abandon a stop that is already under way.
        if self.signum is None:
            self.signum = signum

    def __enter__(self) -> StopSignals:
        return self.install()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()
