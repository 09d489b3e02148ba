"""`ragis collection list` and `ragis collection set`: a workspace's collections, and the
threshold below which a chat in one of them answers "not found in your documents".

Each function prints what the command shows and returns its exit code; a refusal raises a
`RagisError` whose sentence the CLI prints.
"""

from __future__ import annotations

import math
import re
import sys
from typing import Any, TextIO

from ragis.client.api import GatewayClient
from ragis.client.table import clean, format_table
from ragis.contract import NAME_PATTERN
from ragis.errors import InvalidInput

__all__ = ["DEFAULT", "check_collection", "collection_list", "collection_set", "parse_min_score"]

#: What `--min-score` takes to clear a collection's own threshold.
DEFAULT = "default"
_NAME = re.compile(NAME_PATTERN)


def check_collection(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"Invalid collection name {clean(name, 40)!r}: use 1-64 letters, digits, '_', '.' "
            "or '-', starting with a letter or digit."
        )
    return name


def parse_min_score(value: str) -> float | None:
    """A `--min-score` value: a number from 0 to 1, or `default` (None: the service's)."""
    if value.strip().lower() == DEFAULT:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise InvalidInput(
            f"Invalid --min-score {clean(value, 40)!r}: give a number from 0 to 1 (like 0.7), "
            f"or {DEFAULT!r} for the service's threshold (RAGIS_MIN_SCORE)."
        )
    return number


def _threshold(collection: dict[str, Any]) -> str:
    own = collection.get("min_score")
    applies = collection.get("effective_min_score")
    return f"{applies:g}" if own is not None else f"{applies:g} (default)"


async def collection_list(client: GatewayClient, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    collections = await client.collections()
    rows = [
        (
            c.get("name"),
            c.get("documents"),
            c.get("chunks"),
            _threshold(c),
            c.get("keyword_index"),
            # Which model embeds its questions (`ragis reindex` moves a collection to another).
            f"{c.get('model')} ({c.get('dim')} dims)",
        )
        for c in collections
    ]
    headers = ("NAME", "DOCUMENTS", "CHUNKS", "MIN SCORE", "KEYWORD INDEX", "EMBEDDING MODEL")
    for line in format_table(headers, rows):
        out.write(line + "\n")
    return 0


async def collection_set(
    client: GatewayClient, name: str, min_score: float | None, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    updated = await client.update_collection(check_collection(name), min_score=min_score)
    where = clean(updated.get("name", name))
    if updated.get("min_score") is None:
        out.write(
            f"Collection {where} now uses the service's threshold "
            f"({_threshold(updated).removesuffix(' (default)')}, RAGIS_MIN_SCORE).\n"
        )
    else:
        out.write(
            f"Collection {where}: answers need a passage scoring at least "
            f"{_threshold(updated)}; below it, ragis says the documents do not hold the answer.\n"
        )
    return 0
