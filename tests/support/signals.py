"""Start `ragis up` in tests as a user's terminal would: with the stop signals at their defaults.

A job started in the background by a non-interactive shell (`cmd &`, as some CI runners and
`nohup` do) inherits SIGINT ignored, and `ragis up` rightly keeps a signal its starter ignored.
A test that sends SIGINT to stand for Ctrl-C must therefore reset it in the child first.
"""

from __future__ import annotations

import signal

__all__ = ["default_stop_signals"]


def default_stop_signals() -> None:
    """`preexec_fn` for a `ragis up` child: SIGINT, SIGTERM and SIGHUP at their defaults."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
