"""`ragis tag DOC_ID TAGS --collection C`: give a document a new list of tags, no re-embedding.

A search or chat filtered by a tag finds the document by its new tags at once (the gateway's
`PATCH /api/documents/{id}`). The command prints what the document carries afterwards.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ragis.client.api import GatewayClient
from ragis.client.table import clean
from ragis.contract.documents import comma_tags
from ragis.errors import InvalidInput

__all__ = ["parse_tags", "tag_document"]


def parse_tags(value: str) -> list[str]:
    """`a, b,,a` -> `["a", "b"]`; an empty value clears the tags. Refused here, with a
    sentence, what the gateway would refuse: too many, too long, unfilterable."""
    try:
        return comma_tags(value)
    except ValueError as exc:
        raise InvalidInput(clean(str(exc))) from None


async def tag_document(
    client: GatewayClient,
    doc_id: str,
    collection: str,
    tags: list[str],
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    document: dict[str, Any] = await client.set_tags(doc_id, collection, tags)
    name = clean(str(document.get("filename") or doc_id))
    now = [clean(str(t)) for t in document.get("tags") or []]
    carried = ", ".join(now) if now else "no tags"
    out.write(f"{name} ({clean(doc_id)}) in {clean(collection)}: {carried}.\n")
    return 0
