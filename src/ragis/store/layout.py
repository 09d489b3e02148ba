"""How a chunk is laid out in a vector set: its element id and the attributes FILTER tests.

Each chunk of a document is one element `<doc_id>:<position>` of its collection's vector set,
with the JSON attributes `{"doc", "src", "pos", "tags"}` (the document id, its filename, the
chunk's position and the document's tags). The names are defined here only: the store writes
them (`DocumentRegistry.write_chunks`) and reads them (filters, search); nothing above the store
spells them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ragis.store.models import DocumentRecord

__all__ = [
    "DOC",
    "POSITION",
    "SOURCE",
    "TAGS",
    "attributes",
    "attributes_json",
    "chunk_id",
    "document_of",
    "document_of_chunk",
]

DOC = "doc"
SOURCE = "src"
POSITION = "pos"
TAGS = "tags"


def chunk_id(doc_id: str, position: int) -> str:
    """The id of a chunk, which is also its vector-set element: `<doc_id>:<position>`.

    Document ids cannot contain `:`, so the id is unambiguous and a document's chunk ids follow
    from its chunk count (no extra index key to keep in step).
    """
    return f"{doc_id}:{position}"


def attributes(document: DocumentRecord, position: int) -> dict[str, Any]:
    """The attributes of the element of `document`'s chunk at `position`."""
    return {DOC: document.id, SOURCE: document.filename, POSITION: position, TAGS: document.tags}


def attributes_json(attrs: Mapping[str, Any]) -> str:
    """Attributes as `SETATTR` takes them: UTF-8 JSON, never `\\u` escapes, which FILTER does
    not decode (a tag `Qualität` stored as `Qualit\\u00e4t` is never found by its name)."""
    return json.dumps(attrs, ensure_ascii=False, separators=(",", ":"))


def document_of(element: str, attrs: Mapping[str, Any]) -> str:
    """The document id of an element: its `doc` attribute, else the part of its id before `:`."""
    return str(attrs.get(DOC, document_of_chunk(element)))


def document_of_chunk(chunk: str) -> str:
    """The document id a chunk id (`chunk_id`'s output) was built from."""
    return chunk.rsplit(":", 1)[0]
