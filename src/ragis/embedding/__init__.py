"""Text embeddings: a small interface and the SentenceTransformer backend behind it."""

from ragis.embedding.base import Embedder, decode_vectors, encode_vectors
from ragis.embedding.sentence import SentenceTransformerEmbedder, load_default_embedder

__all__ = [
    "Embedder",
    "SentenceTransformerEmbedder",
    "decode_vectors",
    "encode_vectors",
    "load_default_embedder",
]
