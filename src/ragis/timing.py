"""Stage timings reported to clients (`timings` in index, upload and chat answers)."""

from __future__ import annotations

import time

__all__ = ["elapsed_ms"]


def elapsed_ms(since: float) -> float:
    """Milliseconds since `since` (a `time.perf_counter()` reading), to the microsecond."""
    return round((time.perf_counter() - since) * 1000.0, 3)
