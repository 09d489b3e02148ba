"""The LLM models a turn may ask for: their names, and the list the RAG service answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

__all__ = ["MODEL_PATTERN", "ModelName", "ModelsPublic"]

#: An LLM model's name as providers spell them (`gpt-4o-mini`, `llama3.2:latest`,
#: `org/model@rev`): no space, no control character, nothing a URL or a log would mangle.
MODEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$"

ModelName = Annotated[str, StringConstraints(pattern=MODEL_PATTERN, max_length=200)]


class ModelsPublic(BaseModel):
    provider: str = Field(description="`openai`, `ollama` or `none` (retrieval-only).")
    default: str | None = Field(
        description="The model a question gets when it names none (RAGIS_LLM_MODEL)."
    )
    models: list[str] = Field(
        description="What the provider lists (OpenAI-compatible `GET /v1/models`, Ollama "
        "`GET /api/tags`), kept for 30 s; just the default while it does not answer."
    )
    error: str | None = Field(
        description="Why the provider listed nothing (it does not answer, refused the key...)."
    )
