"""Building `VSIM ... FILTER` expressions from typed filters, every value a string literal.

Values are user input, so each is spelled as a string literal that cannot end early. FILTER's
lexer has no escapes to decode: between quotes it keeps every character as it is (a backslash
only stops the next character from ending the literal, and stays). So a value is quoted with `"`
if it holds none, else with `'` if it holds none; a value with a backslash or both quotes cannot
be spelled and matches nothing (`0`). Attributes are stored as UTF-8 JSON for the same reason:
FILTER compares them with the literal's raw characters, and does not decode `\\u00fc`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ragis.store.layout import DOC, TAGS
from ragis.store.models import SearchFilter

__all__ = ["and_all", "filter_expression", "literal", "matches"]

#: A FILTER expression that is false for every element.
_NOTHING = "0"


def literal(value: str) -> str | None:
    """`value` as a FILTER string literal, or None when FILTER cannot spell it."""
    if "\\" in value:
        return None
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return None


def _array(values: Iterable[str]) -> str:
    spelled = [s for s in (literal(str(v)) for v in values) if s is not None]
    return "[" + ",".join(spelled) + "]" if spelled else "[]"


def _any_tag(tags: Iterable[str]) -> str:
    spelled = [s for s in (literal(t) for t in tags) if s is not None]
    return "(" + " or ".join(f"{s} in .{TAGS}" for s in spelled) + ")" if spelled else _NOTHING


def filter_expression(flt: SearchFilter) -> str | None:
    """`.doc in [...]` and/or any of the tags in `.tags`; None for `NO_FILTER` (the empty one)."""
    if not flt:
        return None
    parts: list[str] = []
    if flt.doc_ids:
        parts.append(f".{DOC} in {_array(flt.doc_ids)}")
    if flt.tags:
        parts.append(_any_tag(flt.tags))
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
    # A tag FILTER cannot spell matches nothing there, so nothing here either.
    return not flt.tags or any(tag in flt.tags and literal(tag) is not None for tag in tags)
