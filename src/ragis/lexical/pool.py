"""One `Tokenizer` per language and thread: a Snowball stemmer is not thread-safe, and building
one for every chunk would cost more than tokenizing it."""

from __future__ import annotations

import threading

from ragis.lexical.tokenize import Tokenizer

__all__ = ["index_terms_of", "tokenizer"]

_local = threading.local()


def tokenizer(language: str) -> Tokenizer:
    """This thread's tokenizer for `language` (an unknown language raises `ConfigError`)."""
    cache: dict[str, Tokenizer] | None = getattr(_local, "tokenizers", None)
    if cache is None:
        cache = _local.tokenizers = {}
    found = cache.get(language)
    if found is None:
        found = cache[language] = Tokenizer(language)
    return found


def index_terms_of(language: str, texts: list[str]) -> list[dict[str, int]]:
    """The index terms of each text (what a writer runs in a worker thread, off the loop)."""
    tok = tokenizer(language)
    return [tok.index_terms(text) for text in texts]
