"""Text to index terms and query terms, one pipeline for both so they always meet.

    text ─ bound ─ clean ─ NFKC ─ split into tokens ─┬─ word:        casefold, stopword?, stem
                                                     └─ identifier:  kept whole (casefolded)
                                                                     + each part as a word

An **identifier** is a token that joins parts with `-`, `.`, `/` or `_`, starts with `§`, mixes
letters and digits, or is camelCase: `E44-4471`, `snake_case`, `dotted.names`, `v2.3.1`,
`RFC-9110`, `0x1F`, `§12.3`, `getUserName`. It is indexed whole, never stemmed nor dropped, so
a question naming it matches exactly that code; and its parts (`e44`, `4471`; `snake`, `case`;
`get`, `user`, `name`) are indexed as words too, so "error E44" still finds it. A **word** is
casefolded, dropped if it is a stopword (stopwords.py) or a single letter, and stemmed with
Snowball (PyStemmer, in C), so "overheating" meets "overheated".

Hostile text cannot make the index large or slow: the input is cut at `max_chars`, control and
format characters (NUL, bidi overrides, zero-width marks) and lone surrogates are removed before
normalising, a token longer than `max_term_chars` (base64, a 1 MB run of letters) is dropped
rather than cut (a cut would forge matches), and at most `max_tokens` tokens are read.

Limits: scripts written without spaces (Chinese, Japanese, Thai) come out as one long token per
run, usually dropped for its length: they need a segmenter this module does not have.
A `Tokenizer` holds a Snowball stemmer, which is not thread-safe: one per thread or task loop.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ragis.errors import ConfigError
from ragis.lexical.stopwords import for_language

__all__ = ["Tokenizer"]

# A token: a run of word characters, optionally `§`-led, whose runs may be joined by `-`, `.`
# or `/` (a joiner must sit between two runs: "E44-4471:" ends before the colon, "v2.3.1."
# before the full stop).
_TOKEN = re.compile(r"§?\w+(?:[-./]\w+)*")
# What separates an identifier's parts (`_` is a word character, so it is listed here).
_JOINERS = re.compile(r"[-./_§]+")
# camelCase and HTTPServer boundaries inside one part.
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")
# Line breaks and tabs separate words; the other controls, lone surrogates and invisible format
# characters (soft hyphen, zero-width marks, bidi marks and overrides, BOM) are removed before
# normalising, since they could hide inside a token to make it look like another.
_SPACES = re.compile("[\t\n\v\f\r\x1c-\x1f\x85]")
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff]"
)


class Tokenizer:
    """Terms of a chunk (`index_terms`) and of a question (`query_terms`), for one language."""

    def __init__(
        self,
        language: str = "english",
        *,
        stopwords: frozenset[str] | None = None,
        max_chars: int = 1_000_000,
        max_tokens: int = 100_000,
        max_term_chars: int = 64,
        max_query_terms: int = 64,
    ) -> None:
        self.language = language
        self._stopwords = for_language(language) if stopwords is None else stopwords
        self._stemmer = _stemmer(language)
        self._max_chars = max_chars
        self._max_tokens = max_tokens
        self._max_term = max_term_chars
        self._max_query_terms = max_query_terms

    def index_terms(self, text: str) -> dict[str, int]:
        """Each term of `text` with its frequency; their sum is the chunk's length for BM25."""
        return dict(Counter(self._terms(text)))

    def query_terms(self, text: str) -> list[str]:
        """The distinct terms of a question, in order of appearance, at most `max_query_terms`."""
        seen: dict[str, None] = {}
        for term in self._terms(text):
            seen.setdefault(term, None)
            if len(seen) >= self._max_query_terms:
                break
        return list(seen)

    def codes(self, text: str) -> list[str]:
        """The distinct **codes** of a question: identifiers with a digit or an underscore, and
        clauses (`E44-4471`, `v2.3.1`, `RFC-9110`, `0x1F`, `snake_case`, `§12.3`), casefolded
        as `index_terms` keeps them whole. Not hyphenated, dotted or camelCase words
        (`well-known`, `e.g`, `PostgreSQL`) nor bare numbers: a question may word those
        differently from its document, while a code it names is in a passage or not
        (rag/grounding.py)."""
        found: dict[str, None] = {}
        bounded = _SPACES.sub(" ", text[: self._max_chars])
        clean = unicodedata.normalize("NFKC", _UNSAFE.sub("", bounded))
        for count, match in enumerate(_TOKEN.finditer(clean)):
            token = match.group()
            if count >= self._max_tokens or len(found) >= self._max_query_terms:
                break
            if len(token) <= self._max_term and _is_code(token):
                found.setdefault(token.casefold(), None)
        return list(found)

    def _terms(self, text: str) -> Iterator[str]:
        bounded = _SPACES.sub(" ", text[: self._max_chars])
        clean = unicodedata.normalize("NFKC", _UNSAFE.sub("", bounded))
        for count, match in enumerate(_TOKEN.finditer(clean)):
            if count >= self._max_tokens:
                return
            token = match.group()
            if len(token) > self._max_term:
                continue
            terms = self._identifier(token) if _is_identifier(token) else [self._word(token)]
            for term in terms:
                # Again after casefolding, which can triple a token ("ΐ" is three code points):
                # a term is a key suffix, at most 4 x max_term_chars bytes.
                if term and len(term) <= self._max_term:
                    yield term

    def _identifier(self, token: str) -> Iterator[str | None]:
        whole = token.casefold()
        yield whole
        for piece in _JOINERS.split(token):
            if not piece:
                continue
            parts = _CAMEL.findall(piece) if _is_camel(piece) else [piece]
            for part in parts:
                term = part.casefold() if _has_digit(part) else self._word(part)
                if term and term != whole:
                    yield term

    def _word(self, token: str) -> str | None:
        word = token.casefold()
        if word.isdigit():
            return word
        if len(word) < 2 or word in self._stopwords:
            return None
        stem: str = self._stemmer.stemWord(word)
        return stem


def _is_code(token: str) -> bool:
    if token.startswith("§"):  # a clause: §12.3
        return True
    if not _is_identifier(token):
        return False
    # A version or a part number has a digit, a name in code an underscore; a bare number
    # (3.14, 1.000) is not a code.
    return "_" in token or (_has_digit(token) and not token.replace(".", "").isdigit())


def _has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token)


def _is_camel(token: str) -> bool:
    # Letters only, with a capital after the first letter and a small letter somewhere:
    # getUserName, HTTPServer, iPhone; not Pump, HTTP, 0x1F.
    return token.isalpha() and any(c.isupper() for c in token[1:]) and not token.isupper()


def _is_identifier(token: str) -> bool:
    if _JOINERS.search(token):
        return True
    if _has_digit(token) and not token.isdigit():
        return True
    return _is_camel(token)


def _stemmer(language: str) -> Any:
    # Imported here, not at module import: a service that never tokenizes does not pay for it,
    # and a missing wheel is a sentence instead of an ImportError.
    try:
        import Stemmer  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise ConfigError(
            "The lexical index needs PyStemmer: install ragis with its locked requirements "
            "(`pip install -r requirements/run.txt`), or `pip install PyStemmer`."
        ) from exc
    try:
        return Stemmer.Stemmer(language)
    except KeyError as exc:
        known = ", ".join(sorted(Stemmer.algorithms()))
        raise ConfigError(
            f"No stemmer for language {language!r}; PyStemmer knows: {known}."
        ) from exc
