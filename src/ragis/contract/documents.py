"""Documents and collections on the wire: what the gateway sends to `/index`, and what the RAG
service answers about collections and documents (which the gateway passes through unfiltered)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from ragis.contract.fields import (
    JsonInt,
    LongId,
    Name,
    OptionalJsonInt,
    OptionalJsonNumber,
    Sha256,
    Strict,
    Tag,
    Text,
)

#: The longest `source` (a path relative to a synced folder, or a URL).
MAX_SOURCE_CHARS = 1024
#: The longest chunk `locator` ("slide 4", "Sheet1, rows 2-41", a chapter title).
MAX_LOCATOR_CHARS = 200
#: The most tags a document carries.
MAX_TAGS = 32
#: A kept original's content type: a media type with an optional charset, as ragis names a
#: file's type (no other parameter, nothing that could split a header when it is served back).
ORIGINAL_TYPE_PATTERN = (
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
    r"(; ?charset=[A-Za-z0-9_.:-]{1,40})?$"
)
#: The RAG service's answer header naming a kept original's file (percent-encoded UTF-8).
ORIGINAL_FILENAME_HEADER = "X-Ragis-Filename"

__all__ = [
    "MAX_LOCATOR_CHARS",
    "MAX_SOURCE_CHARS",
    "MAX_TAGS",
    "MAX_TAG_CHARS",
    "ORIGINAL_FILENAME_HEADER",
    "ORIGINAL_TYPE_PATTERN",
    "TAG_PATTERN",
    "ChunkIn",
    "CollectionDeleted",
    "CollectionPublic",
    "CollectionUpdate",
    "CollectionsPublic",
    "DocumentDeleted",
    "DocumentIn",
    "DocumentPublic",
    "DocumentSourceUpdate",
    "DocumentUpdate",
    "DocumentsPublic",
    "IndexRequest",
    "IndexResponse",
    "IndexTimings",
    "comma_tags",
    "tag_problem",
]


# --- Indexing a document (gateway -> RAG service) ----------------------------------------------


class DocumentIn(Strict):
    id: LongId
    filename: Text = Field(min_length=1, max_length=255)
    content_type: Text = Field(min_length=1, max_length=200)
    sha256: Sha256
    size: JsonInt = Field(ge=0)
    pages: OptionalJsonInt = Field(default=None, ge=0)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    source: Text | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SOURCE_CHARS,
        description="Where the document came from: its path relative to a synced folder "
        "(`/`-separated) or its URL.",
    )


class ChunkIn(Strict):
    text: Text = Field(min_length=1)
    position: JsonInt = Field(ge=0)
    page: OptionalJsonInt = Field(default=None, ge=1)
    locator: Text | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LOCATOR_CHARS,
        description="Where the chunk is, for a reader, finer than a page: `slide 4`, "
        "`Sheet1, rows 2-41`, a chapter's title.",
    )


class IndexRequest(Strict):
    collection: Name = "default"
    document: DocumentIn
    chunks: list[ChunkIn] = Field(min_length=1)
    replaces: LongId | None = Field(
        default=None,
        description="A ready document of the collection that this one replaces: it is answered "
        "until this one is ready, then retired in the same step (never both, never neither) "
        "and removed.",
    )


class IndexTimings(BaseModel):
    embed_ms: float
    write_ms: float
    total_ms: float


class IndexResponse(BaseModel):
    collection: str
    document_id: str
    chunks: int
    duplicate: bool = Field(description="The same bytes were already ready in this collection.")
    replaced: bool = Field(description="A document with this id existed and was replaced.")
    retired: str | None = Field(
        default=None,
        description="The document `replaces` named, now removed (null: none was ready).",
    )
    version: int = Field(description="The collection version after this request.")
    timings: IndexTimings


# --- Collections and their documents ---------------------------------------------------------


class CollectionPublic(BaseModel):
    name: str
    model: str = Field(description="The embedding model of its vectors.")
    dim: int
    quantization: str
    documents: int
    chunks: int
    version: int = Field(
        description="Grows with every change of the collection's documents or threshold."
    )
    created: float = Field(description="Unix seconds.")
    shards: int
    min_score: float | None = Field(
        description="The collection's own threshold for a grounded answer (0 to 1); null: "
        "the service's (RAGIS_MIN_SCORE)."
    )
    effective_min_score: float = Field(
        description="The threshold that applies: min_score, else the service's."
    )
    keyword_index: Literal["ready", "building"] = Field(
        description="Whether its keyword index (the lexical leg of hybrid search) is built; "
        "a collection from before it is `building` until the backfill is done."
    )


class CollectionUpdate(Strict):
    min_score: OptionalJsonNumber = Field(
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="The collection's own threshold for a grounded answer, from 0 (any "
        "passage will do) to 1 (a perfect match only); null: the service's (RAGIS_MIN_SCORE). "
        "A change invalidates the collection's cached answers.",
    )


class CollectionsPublic(BaseModel):
    collections: list[CollectionPublic]


class CollectionDeleted(BaseModel):
    deleted: Literal[True]
    name: str
    keys_removed: int


class DocumentPublic(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    chunks: int
    pages: int | None
    created: float = Field(description="Unix seconds.")
    status: str
    tags: list[str]
    error: str | None = None
    source: str | None = Field(
        default=None, description="Where it came from: a synced folder's relative path, or a URL."
    )
    original: bool = Field(
        description="Whether its uploaded file is kept (RAGIS_KEEP_ORIGINALS_MB): "
        "`GET .../documents/{id}/original` serves it.",
    )


class DocumentSourceUpdate(Strict):
    """A document's new `source` (a synced file renamed or moved: no re-embedding)."""

    source: Text = Field(min_length=1, max_length=MAX_SOURCE_CHARS)


#: A tag of an edit: no control character nor backslash (Redis' FILTER cannot spell one:
#: store/filters.py), and at least one visible character.
TAG_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\\]*[^\s\x00-\x1f\x7f-\x9f\\][^\x00-\x1f\x7f-\x9f\\]*$"
_TAG = re.compile(TAG_PATTERN)
# The pattern also said in the JSON schema: after `Text`'s validator pydantic leaves it out.
EditTag = Annotated[
    Text,
    Field(
        min_length=1, max_length=64, pattern=TAG_PATTERN, json_schema_extra={"pattern": TAG_PATTERN}
    ),
]


def tag_problem(tag: str) -> str | None:
    """Why `tag` cannot be a tag, or None (`TAG_PATTERN`, said in words). A search filters by
    tags with Redis' FILTER expressions, which cannot spell a backslash (store/filters.py): such
    a tag would never be found, so it is refused where tags come in."""
    if _TAG.match(tag):
        return None
    if any(unicodedata.category(c) == "Cc" for c in tag):
        return f"the tag {tag[:20]!r} holds a control character"
    if "\\" in tag:
        return f"the tag {tag[:20]!r} holds a backslash, which a filter cannot match"
    return "a tag is empty (or only spaces)"


#: A tag's longest form.
MAX_TAG_CHARS = 64


def comma_tags(value: str) -> list[str]:
    """`a, b,,a` -> `["a", "b"]` (an upload's `tags` field, `ragis tag`'s argument); raises
    `ValueError` with a sentence for what no document may carry: too many, too long, a tag no
    filter could find."""
    tags = list(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))
    if len(tags) > MAX_TAGS:
        raise ValueError(f"{len(tags)} tags; a document may carry at most {MAX_TAGS}.")
    for tag in tags:
        if len(tag) > MAX_TAG_CHARS:
            raise ValueError(f"The tag {tag[:20]!r}… is over {MAX_TAG_CHARS} characters.")
        problem = tag_problem(tag)
        if problem:
            raise ValueError(problem[0].upper() + problem[1:] + ".")
    return tags


class DocumentUpdate(Strict):
    """What `PATCH` changes of a ready document, without re-embedding: its `source` (a synced
    file renamed or moved) and/or its `tags` (the whole new list). At least one of the two."""

    # Either may be left out, never sent as null (which would say nothing to change).
    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["source"]}, {"required": ["tags"]}]}
    )

    source: (
        Annotated[Text, StringConstraints(min_length=1, max_length=MAX_SOURCE_CHARS)]
        | SkipJsonSchema[None]
    ) = None
    tags: Annotated[list[EditTag], Field(max_length=MAX_TAGS)] | SkipJsonSchema[None] = Field(
        default=None,
        description=f"The document's tags from now on (at most {MAX_TAGS}, each 1 to 64 "
        "characters, no control character nor backslash; spaces around a tag are dropped, and "
        "so is a repeat): a search's `filter.tags` finds it by them at once. `[]` removes them "
        "all.",
    )

    @field_validator("source", "tags", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the field out instead of sending null")
        return value

    @field_validator("tags")
    @classmethod
    def _clean_tags(cls, tags: list[str] | None) -> list[str] | None:
        if tags is None:
            return None
        return list(dict.fromkeys(tag.strip() for tag in tags))

    @model_validator(mode="after")
    def _something(self) -> DocumentUpdate:
        if self.source is None and self.tags is None:
            raise ValueError("send `source`, `tags` or both: there is nothing to change")
        return self


class DocumentsPublic(BaseModel):
    collection: str
    documents: list[DocumentPublic]


class DocumentDeleted(BaseModel):
    deleted: Literal[True]
    collection: str
    document_id: str
    version: int = Field(description="The collection's version after the deletion.")
