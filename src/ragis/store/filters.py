"""Building `VSIM ... FILTER` expressions from typed filters, with every value JSON-quoted.

Values are user input: quoting them with `json.dumps` keeps them string literals, so a
document id or tag can never change the meaning of the expression.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ragis.store.layout import DOC, TAGS
from ragis.store.models import SearchFilter

__all__ = ["and_all", "filter_expression", "matches"]


def _array(values: Iterable[str]) -> str:
    return "[" + ",".join(json.dumps(str(v)) for v in values) + "]"


def filter_expression(flt: SearchFilter) -> str | None:
    """`.doc in [...]` and/or any of the tags in `.tags`; None for `NO_FILTER` (the empty one)."""
    if not flt:
        return None
    parts: list[str] = []
    if flt.doc_ids:
        parts.append(f".{DOC} in {_array(flt.doc_ids)}")
    if flt.tags:
        parts.append("(" + " or ".join(f"{json.dumps(t)} in .{TAGS}" for t in flt.tags) + ")")
    return and_all(parts)


def and_all(parts: Iterable[str | None]) -> str | None:
    kept = [p for p in parts if p]
    if not kept:
        return None
    return " and ".join(f"({p})" for p in kept)


def matches(flt: SearchFilter, doc_id: str, tags: Iterable[str]) -> bool:
    """What `filter_expression(flt)` tests, in Python: for hits of the keyword index, which
    VSIM's FILTER never saw."""
    if flt.doc_ids and doc_id not in flt.doc_ids:
        return False
    return not flt.tags or any(tag in flt.tags for tag in tags)
