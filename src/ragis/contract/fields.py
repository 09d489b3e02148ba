"""The values a request may carry, and how each is checked at the edge of both services.

Names and ids end up inside Redis keys: the store re-checks them with the same patterns
(`ragis.store.keys.check_name`), the HTTP edges validate with them, and the web UI's types carry
the collection-name pattern (generated from the gateway's OpenAPI schema).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

__all__ = [
    "ID_PATTERN",
    "NAME_PATTERN",
    "JsonInt",
    "LongId",
    "Name",
    "OptionalJsonInt",
    "OptionalJsonNumber",
    "Sha256",
    "Strict",
    "Tag",
    "Text",
]

#: Collection names; document and session ids.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
LongId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


def _whole_characters(value: object) -> object:
    # JSON may carry a lone UTF-16 surrogate ("\ud800"): Python decodes it into a str that
    # cannot be encoded (tokenizer, Redis, the LLM's JSON), so it is refused here, with a 422.
    # Checked before pydantic's own checks, whose message for it says nothing useful.
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"the text holds a lone surrogate ({value[exc.start]!r} at character "
                f"{exc.start}), which is not a character: send valid Unicode"
            ) from None
    return value


def _json_integer(value: object) -> object:
    # Pydantic's lax mode turns "5" and true into 5. A JSON integer is a number without a
    # fraction (5 and 5.0 alike, as JSON Schema has it): strings and booleans are refused.
    if isinstance(value, bool | str | bytes):
        raise ValueError(f"must be a JSON integer such as 5, not {type(value).__name__}")
    return value


def _json_number(value: object) -> object:
    # Lax mode would also turn "0.5" and true into numbers: a JSON number is refused otherwise.
    if isinstance(value, bool | str | bytes):
        raise ValueError(f"must be a JSON number such as 0.5, not {type(value).__name__}")
    return value


# Free text from a caller: any Unicode, but whole characters only.
Text = Annotated[str, BeforeValidator(_whole_characters)]
# A count or position from a caller: a JSON integer, never a string or a boolean.
JsonInt = Annotated[int, BeforeValidator(_json_integer)]
OptionalJsonInt = Annotated[int | None, BeforeValidator(_json_integer)]
# A number from a caller: a JSON number (or null), never a string or a boolean. Its field says
# `allow_inf_nan=False` too: Python's JSON reads NaN and Infinity.
OptionalJsonNumber = Annotated[float | None, BeforeValidator(_json_number)]
Tag = Annotated[Text, StringConstraints(min_length=1, max_length=64)]


class Strict(BaseModel):
    """A request body: unknown fields refused; its integers are `JsonInt` (no `"5"` nor
    `true`), its texts `Text` (no lone surrogate)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
