"""The retrieval signature: what, besides the question, decided which sources an answer saw.

A cached answer may serve only a request whose retrieval would have found the same passages:
same collection version, model and prompt (compared by the cache on their own), and the same
filter, top_k and retrieval mode, hashed here into one fixed-size value. The filter is made
canonical first: the order of its doc ids and tags does not change what a search finds.
"""

from __future__ import annotations

import hashlib
import json

from ragis.store import SearchFilter

__all__ = ["RETRIEVAL_MODE", "retrieval_signature"]

#: How passages are found; a lexical or hybrid mode would find others, so it is signed too.
RETRIEVAL_MODE = "vector"


def retrieval_signature(flt: SearchFilter, top_k: int, mode: str = RETRIEVAL_MODE) -> str:
    spec = {
        "mode": mode,
        "top_k": int(top_k),
        "doc_ids": sorted(set(flt.doc_ids)),
        "tags": sorted(set(flt.tags)),
    }
    blob = json.dumps(spec, sort_keys=True, separators=(",", ":"))  # ASCII: any text hashes
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
