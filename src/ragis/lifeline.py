"""Children that do not outlive `ragis up`, even when it is killed with SIGKILL.

`ragis up` stops its children in order on a stop signal, but SIGKILL (the OOM killer, `kill -9`,
a container runtime's last resort) gives it no chance to: the embedded Redis, the RAG service
and the gateway would run on as orphans, holding the ports and the data dir's lock, and the next
`ragis up` would fail to start. On Linux a child can ask the kernel for a signal when its parent
dies (`prctl(PR_SET_PDEATHSIG)`): each child gets SIGTERM then, and stops as cleanly as on
Ctrl-C (Redis writes its AOF, uvicorn closes its connections).

The signal comes when the *thread* that forked the child ends, not only the process: children
must be started from a thread that lives as long as `ragis up` (its main thread, which starts
and restarts them all). That is why this is opt-in (`die_with_parent=True`) and used only by
`ragis up`: a test that starts a Redis from a worker thread must not lose it with the thread.
Elsewhere than Linux it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

__all__ = ["parent_death_signal"]

_PR_SET_PDEATHSIG = 1


def parent_death_signal(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child receive `sig` when its parent dies; None where the
    platform has no such thing (then children are stopped only by an orderly stop)."""
    if not sys.platform.startswith("linux"):
        return None
    # Loaded here, in the parent: after fork only the call itself runs (no import, no dlopen).
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    prctl = libc.prctl
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        # The parent may have died between fork and prctl: then no signal would ever come.
        if os.getppid() != parent:
            os.kill(os.getpid(), sig)

    return arm
