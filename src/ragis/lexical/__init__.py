"""The lexical leg of retrieval: text to terms (tokenize.py); the index of those terms lives in
Redis, in the data layer (store/lexical.py)."""

from __future__ import annotations

from ragis.lexical.pool import index_terms_of, tokenizer
from ragis.lexical.stopwords import ENGLISH
from ragis.lexical.tokenize import Tokenizer

__all__ = ["ENGLISH", "Tokenizer", "index_terms_of", "tokenizer"]
