"""A part of a health answer: ok or why not (the RAG service's and the gateway's `/health`)."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["HealthPart"]


class HealthPart(BaseModel):
    ok: bool
    detail: str
