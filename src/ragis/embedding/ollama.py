"""Embeddings from Ollama: `POST {host}/api/embed`.

RAGIS_EMBED_BASE_URL is the Ollama host (`http://localhost:11434`, no path). Request and
answer (Ollama 0.3.4 and later; the older `/api/embeddings` took one text at a time)::

    {"model": "nomic-embed-text", "input": ["text", ...]}
    {"model": "nomic-embed-text", "embeddings": [[...], ...]}

Ollama normalises its vectors already; ragis normalises again (`unit_rows`), which is harmless.
"""

from __future__ import annotations

from typing import Any

from ragis.embedding.remote import RemoteEmbedder

__all__ = ["OLLAMA_HOST", "OllamaEmbedder"]

OLLAMA_HOST = "http://localhost:11434"


class OllamaEmbedder(RemoteEmbedder):
    provider = "ollama"
    label = "The Ollama embedding server"

    def _url(self) -> str:
        return f"{self.base_url}/api/embed"

    def _body(self, texts: list[str]) -> dict[str, Any]:
        return {"model": self.model, "input": texts}

    def _rows(self, payload: Any) -> Any:
        rows = payload.get("embeddings") if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            raise self._error('answered without an "embeddings" list')
        return rows
