"""Aligned plain-text tables for `ragis user list` and `ragis key list`."""

from __future__ import annotations

import time
from collections.abc import Sequence

__all__ = ["clean", "format_table", "format_time"]


def clean(value: object, limit: int = 64) -> str:
    """A cell as one printable line: what a server or another user wrote (a key's name) must not
    move the cursor or recolour the terminal, nor stretch the table without end."""
    text = "-" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_time(value: object) -> str:
    """A Unix time as local `YYYY-MM-DD HH:MM`; `never` for none."""
    if value is None:
        return "never"
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(float(str(value))))
    except (ValueError, OverflowError, OSError):
        return clean(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """The header and the rows, each column as wide as its widest cell."""
    cells = [[clean(h) for h in headers], *([clean(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
