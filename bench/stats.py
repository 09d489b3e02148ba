"""Summaries of repeated measurements: median and spread, percentiles, paired ratios."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Summary", "paired_ratio", "percentile", "summarize"]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]."""
    data = sorted(values)
    if not data:
        return float("nan")
    pos = (len(data) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


@dataclass(frozen=True, slots=True)
class Summary:
    median: float
    low: float  # 10th percentile (min for fewer than 10 values)
    high: float  # 90th percentile (max for fewer than 10 values)
    n: int

    def fmt(self, digits: int = 1, unit: str = "") -> str:
        """`12.3 (10.1–14.0)`: the median and the spread over the repeats."""
        f = f"{{:.{digits}f}}"
        return f"{f.format(self.median)}{unit} ({f.format(self.low)}–{f.format(self.high)})"


def summarize(values: Sequence[float]) -> Summary:
    if not values:
        return Summary(float("nan"), float("nan"), float("nan"), 0)
    if len(values) < 10:
        return Summary(statistics.median(values), min(values), max(values), len(values))
    return Summary(
        statistics.median(values), percentile(values, 10), percentile(values, 90), len(values)
    )


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> Summary:
    """a[i] / b[i] for measurements taken in the same round: robust to the machine's load
    changing between rounds, which shifts both."""
    return summarize([x / y for x, y in zip(a, b, strict=True) if y])
