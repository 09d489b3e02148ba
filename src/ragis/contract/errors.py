"""The error body of both services: `{"error": {"code", "message"}}` with a 4xx/5xx status."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ErrorBody", "ErrorPublic"]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable name, e.g. `not_found`.")
    message: str = Field(description="A sentence for the user.")


class ErrorPublic(BaseModel):
    error: ErrorBody
