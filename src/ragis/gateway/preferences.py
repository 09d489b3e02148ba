"""A user's preferences for the web UI, as the API carries them, and as they are read back.

    top_k                passages per answer (1-50); null: the service's RAGIS_TOP_K
    model                the LLM model; null: the provider's default
    answer_length        short | medium | long: the UI sends max_tokens 300 / 800 / 2000;
                         null: the service's RAGIS_MAX_ANSWER_TOKENS
    retrieval_only_seen  the UI has explained retrieval-only answers once

A saved `model` is not checked against the provider's list: the list changes (a model pulled
later, a provider down at the moment of saving), so the question that uses it is checked
instead (`unknown_model`), and the UI offers only what the provider lists. What was stored
by another version of ragis and no longer reads as these preferences counts as none saved.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError

from ragis.accounts.preferences import UserPreferences
from ragis.contract import ModelName, OptionalJsonInt, Strict

__all__ = ["ANSWER_TOKENS", "AnswerLength", "Preferences", "load", "save"]

AnswerLength = Literal["short", "medium", "long"]

#: The answer tokens (`max_tokens`) of each answer length.
ANSWER_TOKENS: dict[str, int] = {"short": 300, "medium": 800, "long": 2000}


class Preferences(Strict):
    top_k: OptionalJsonInt = Field(
        default=None, ge=1, le=50, description="Passages per answer; null: the service's."
    )
    model: ModelName | None = Field(
        default=None,
        description="The LLM model (not checked here: a question naming one the provider does "
        "not list is refused with `unknown_model`); null: the provider's default.",
    )
    answer_length: AnswerLength | None = Field(
        default=None,
        description="`short`, `medium`, `long`: the UI asks for max_tokens 300 / 800 / 2000; "
        "null: the service's RAGIS_MAX_ANSWER_TOKENS.",
    )
    retrieval_only_seen: bool = Field(
        default=False,
        description="The UI has explained once that answers quote passages (no LLM).",
        strict=True,
    )


async def load(store: UserPreferences, user: str) -> Preferences:
    stored = await store.get(user)
    if stored is None:
        return Preferences()
    try:
        return Preferences.model_validate_json(stored)
    except ValidationError:
        return Preferences()


async def save(store: UserPreferences, user: str, preferences: Preferences) -> Preferences:
    await store.put(user, preferences.model_dump_json())
    return preferences
