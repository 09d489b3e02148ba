"""Small documents on distinct topics, so that a question has one right source."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx

DOCS = {
    "volcano.md": [
        "Mount Etna is an active stratovolcano on the east coast of Sicily, Italy.",
        "Etna erupts frequently; its lava flows have reached the town of Catania in 1669.",
    ],
    "bread.txt": [
        "Sourdough bread rises with a starter of wild yeast and lactic acid bacteria.",
        "Bake the loaf in a preheated Dutch oven at 250 degrees Celsius for forty minutes.",
    ],
    "chess.txt": [
        "In chess, castling moves the king two squares toward a rook.",
        "The rook then jumps over the king to the square next to it.",
    ],
}


def index_body(
    filename: str,
    chunks: list[str] | None = None,
    *,
    collection: str = "default",
    doc_id: str | None = None,
    pages: list[int | None] | None = None,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    texts = chunks if chunks is not None else DOCS[filename]
    data = "\n".join(texts).encode()
    return {
        "collection": collection,
        "document": {
            "id": doc_id or uuid.uuid4().hex[:16],
            "filename": filename,
            "content_type": "text/plain",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "tags": tags or [],
        },
        "chunks": [
            {"text": t, "position": i, **({"page": pages[i]} if pages and pages[i] else {})}
            for i, t in enumerate(texts)
        ],
    }


async def index_all(client: httpx.AsyncClient, collection: str = "default") -> dict[str, str]:
    """Index every document of DOCS; returns filename -> document id."""
    ids = {}
    for filename in DOCS:
        response = await client.post("/index", json=index_body(filename, collection=collection))
        assert response.status_code == 200, response.text
        ids[filename] = response.json()["document_id"]
    return ids
