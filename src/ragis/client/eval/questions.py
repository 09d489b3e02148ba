"""The question file of `ragis eval`: JSON Lines, one question per line, each line validated.

A line: `{"question": str, "doc"?: filename, "page"?: int, "keywords"?: [str], "answerable"?:
bool, "kind"?: "natural" | "exact" | "unanswerable"}`. Blank lines are skipped. A bad line is an
`InvalidInput` naming its line number; the file is read within fixed bounds (size, line length,
count, nesting) so that a hostile file costs little before it is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from ragis.errors import InvalidInput

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_LINE_CHARS",
    "MAX_QUESTIONS",
    "Kind",
    "Question",
    "load_questions",
]

#: Bounds of a question file: far above any real set, low enough to refuse a hostile one fast.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_LINE_CHARS = 64 * 1024
MAX_QUESTIONS = 10_000

Kind = Literal["natural", "exact", "unanswerable"]
_Keyword = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Question(BaseModel):
    # Strict: `"page": "3"` or `"answerable": "no"` is a mistake in the file, not a value.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    question: str = Field(min_length=1, max_length=4000)
    doc: str | None = Field(default=None, min_length=1, max_length=512)
    page: int | None = Field(default=None, ge=1, le=1_000_000)
    keywords: list[_Keyword] = Field(default_factory=list, max_length=32)
    answerable: bool = True
    kind: Kind | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if (
            self.kind == "unanswerable"
            and "answerable" in self.model_fields_set
            and self.answerable
        ):
            raise ValueError('kind "unanswerable" with "answerable": true')
        if not self.answerable and self.kind not in (None, "unanswerable"):
            raise ValueError(f'"answerable": false with kind {self.kind!r}')
        if self.page is not None and self.doc is None:
            raise ValueError('"page" without "doc"')
        if self.is_answerable and self.doc is None and not self.keywords:
            raise ValueError('an answerable question needs "doc" or "keywords" to be scored')
        return self

    @property
    def is_answerable(self) -> bool:
        return self.answerable and self.kind != "unanswerable"

    @property
    def group(self) -> Kind:
        """The kind it is reported under: its own, else what `answerable` implies."""
        if self.kind is not None:
            return self.kind
        return "natural" if self.answerable else "unanswerable"


def load_questions(path: Path) -> list[Question]:
    """The questions of a JSONL file; `InvalidInput` (one sentence) for the first bad line."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidInput(
                f"{path} is {size} bytes; a question file may have at most {MAX_FILE_BYTES}."
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"Cannot read the question file {path}: {exc.strerror or exc}."
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text.") from None
    questions: list[Question] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(questions) >= MAX_QUESTIONS:
            raise InvalidInput(f"{path} has more than {MAX_QUESTIONS} questions.")
        questions.append(_parse(line, number, path))
    if not questions:
        raise InvalidInput(f"{path} holds no questions (one JSON object per line).")
    return questions


def _parse(line: str, number: int, path: Path) -> Question:
    where = f"{path}, line {number}"
    if len(line) > MAX_LINE_CHARS:
        raise InvalidInput(f"{where}: the line is longer than {MAX_LINE_CHARS} characters.")
    try:
        data = json.loads(line)
    except RecursionError:
        raise InvalidInput(f"{where}: the JSON is nested too deeply.") from None
    except ValueError as exc:
        raise InvalidInput(f"{where}: not JSON ({str(exc)[:80]}).") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: expected a JSON object, got {type(data).__name__}.")
    try:
        return Question.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        # pydantic's message only, never the offending value: it may be huge or hostile.
        what = f"{field}: {first['msg'][:160]}" if field else first["msg"][:160]
        raise InvalidInput(f"{where}: {what}.") from None
