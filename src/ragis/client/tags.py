"""`ragis tag DOC_ID TAGS --collection C`: give a document a new list of tags, no re-embedding.

A search or chat filtered by a tag finds the document by its new tags at once (the gateway's
`PATCH /api/documents/{id}`). The command prints what the document carries afterwards.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ragis.client.api import GatewayClient
from ragis.client.table import clean
from ragis.contract.documents import MAX_TAGS, tag_problem
from ragis.errors import InvalidInput

__all__ = ["parse_tags", "tag_document"]

#: A tag's longest form, as an upload's.
MAX_TAG_CHARS = 64


def parse_tags(value: str) -> list[str]:
    """`a, b,,a` -> `["a", "b"]`; an empty value clears the tags. Refused here, with a
    sentence, what the gateway would refuse: too many, too long, unfilterable."""
    tags = list(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"{len(tags)} tags; a document may carry at most {MAX_TAGS}.")
    for tag in tags:
        if len(tag) > MAX_TAG_CHARS:
            raise InvalidInput(f"The tag {clean(tag, 20)!r}… is over {MAX_TAG_CHARS} characters.")
        problem = tag_problem(tag)
        if problem:
            raise InvalidInput(problem[0].upper() + problem[1:] + ".")
    return tags


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
