"""`ragis up` after start-up: notice a child that exits, restart it with backoff, or give up.

Every `POLL` seconds the supervisor asks each started part whether its process has exited; that
`poll()` also reaps it, so a dead child never lingers as `<defunct>`. A part that exited is
restarted on the same port (its neighbours keep their addresses) after 1 s, then 2 s, 4 s, ...
(at most 30 s), with one line per event. After `limit` crashes of one part within `window`
seconds it is not a passing fault: the supervisor raises `ServiceCrashed`, and `ragis up` stops
everything and exits 1. A stop signal ends the watch at any point, backoff waits included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ragis.errors import RagisError, ServiceCrashed
from ragis.signals import StopSignals

__all__ = ["RestartPolicy", "Supervised", "Supervisor"]

POLL = 0.2


@dataclass(slots=True)
class RestartPolicy:
    """How long to wait before a restart, or None once a part crashed too often."""

    limit: int = 5
    window: float = 300.0
    first_delay: float = 1.0
    max_delay: float = 30.0
    crashes: list[float] = field(default_factory=list)

    def record(self, now: float) -> float | None:
        """Count a crash at `now` (monotonic seconds); the delay before restarting, or None."""
        self.crashes = [t for t in self.crashes if now - t < self.window]
        self.crashes.append(now)
        if len(self.crashes) >= self.limit:
            return None
        return float(min(self.first_delay * 2 ** (len(self.crashes) - 1), self.max_delay))

    @property
    def count(self) -> int:
        return len(self.crashes)


@dataclass(slots=True)
class Supervised:
    """One restartable part: its name in messages, how to see it exited, how to restart it."""

    label: str
    exit_code: Callable[[], int | None]
    restart: Callable[[], str]  # starts it again and waits for it; returns where it answers


class Supervisor:
    def __init__(
        self,
        parts: Sequence[Supervised],
        signals: StopSignals,
        *,
        echo: Callable[[str], None] = print,
        limit: int = 5,
        window: float = 300.0,
    ) -> None:
        self.parts = list(parts)
        self.signals = signals
        self.echo = echo
        self.policies = {p.label: RestartPolicy(limit=limit, window=window) for p in self.parts}

    def run(self) -> None:
        """Watch until a stop signal (raises `StopRequested`) or a part crashes too often."""
        while True:
            self.signals.sleep(POLL)
            for part in self.parts:
                code = part.exit_code()
                if code is not None:
                    self._recover(part, code)

    def _recover(self, part: Supervised, code: int) -> None:
        policy = self.policies[part.label]
        what = f"exited with code {code}"
        while True:
            delay = policy.record(time.monotonic())
            if delay is None:
                self.echo(
                    f"the {part.label} {what}; it failed {policy.count} times within "
                    f"{policy.window:g} s, so ragis stops."
                )
                raise ServiceCrashed(
                    f"The {part.label} failed {policy.count} times within {policy.window:g} s "
                    f"(it {what} last), so ragis stopped; its messages are above."
                )
            self.echo(
                f"the {part.label} {what}; restarting in {delay:g} s "
                f"(crash {policy.count} of {policy.limit})"
            )
            self.signals.sleep(delay)
            try:
                address = part.restart()
            except (RagisError, OSError) as exc:
                # It failed again before answering (or could not even be spawned): one more
                # crash of the same part.
                reason = exc.message if isinstance(exc, RagisError) else str(exc)
                what = f"did not come back ({reason})"
                continue
            self.echo(f"the {part.label} is back at {address}")
            return
