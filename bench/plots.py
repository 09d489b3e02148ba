"""Small matplotlib helpers (Agg backend, PNG files)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["bar_chart", "line_chart", "stacked_bars"]


@contextlib.contextmanager
def _figure(path: Path, *, title: str, ylabel: str) -> Iterator[Any]:
    """One 7×3.6 in chart: yields its axes, then titles, lays out, saves `path` and closes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    try:
        yield ax
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def bar_chart(
    path: Path,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    low: Sequence[float] | None = None,
    high: Sequence[float] | None = None,
    ylabel: str,
    title: str,
    hline: float | None = None,
    hline_label: str = "",
) -> None:
    err = None
    if low is not None and high is not None:
        err = [
            [max(v - lo, 0) for v, lo in zip(values, low, strict=True)],
            [max(hi - v, 0) for v, hi in zip(values, high, strict=True)],
        ]
    with _figure(path, title=title, ylabel=ylabel) as ax:
        bars = ax.bar(labels, values, yerr=err, capsize=4, color="#4c78a8")
        ax.bar_label(bars, fmt="%.1f", padding=2, fontsize=8)
        if hline is not None:
            ax.axhline(hline, color="#e45756", linestyle="--", linewidth=1, label=hline_label)
            ax.legend(fontsize=8)
        ax.tick_params(axis="x", labelsize=8)


def stacked_bars(
    path: Path,
    labels: Sequence[str],
    stacks: dict[str, Sequence[float]],
    *,
    ylabel: str,
    title: str,
) -> None:
    bottom = [0.0] * len(labels)
    with _figure(path, title=title, ylabel=ylabel) as ax:
        for name, values in stacks.items():
            ax.bar(labels, values, bottom=bottom, label=name)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.legend(fontsize=8)


def line_chart(
    path: Path,
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    hline: float | None = None,
    logx: bool = False,
) -> None:
    with _figure(path, title=title, ylabel=ylabel) as ax:
        for name, (xs, ys) in series.items():
            ax.plot(xs, ys, marker="o", label=name)
        if hline is not None:
            ax.axhline(hline, color="#e45756", linestyle="--", linewidth=1)
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.legend(fontsize=8)
