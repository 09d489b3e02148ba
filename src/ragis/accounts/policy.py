"""How sign-in behaves: how long a session lasts, and when failures slow down and lock out."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LoginPolicy"]


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    #: Seconds a sign-in session lasts (RAGIS_LOGIN_TTL).
    ttl: int = 7 * 24 * 3600
    #: Failures after which each further failed attempt is answered slowly (RAGIS_LOGIN_SLOW_AFTER).
    slow_after: int = 3
    #: Failures after which sign-in is refused with 429 (RAGIS_LOGIN_MAX_FAILURES).
    max_failures: int = 10
    #: Seconds the failures are remembered after the last one, and a lockout lasts
    #: (RAGIS_LOGIN_LOCKOUT).
    lockout: int = 900
    #: The longest a failed attempt is held back, seconds.
    max_delay: float = 4.0

    def delay(self, failures: int) -> float:
        """Seconds to hold back the answer to the `failures`-th failure in a row: none up to
        `slow_after`, then doubling from a quarter second up to `max_delay`."""
        beyond = failures - self.slow_after
        if beyond <= 0:
            return 0.0
        return float(min(self.max_delay, 0.25 * 2 ** min(beyond - 1, 16)))
