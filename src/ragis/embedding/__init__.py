"""Text embeddings: a small interface, the torch and ONNX backends behind it, and the choice
between them (ragis.embedding.select)."""

from ragis.embedding.base import Embedder, decode_vectors, encode_vectors
from ragis.embedding.select import AUTO, BACKENDS, load_embedder, select_embedder
from ragis.embedding.sentence import SentenceTransformerEmbedder, load_default_embedder

__all__ = [
    "AUTO",
    "BACKENDS",
    "Embedder",
    "SentenceTransformerEmbedder",
    "decode_vectors",
    "encode_vectors",
    "load_default_embedder",
    "load_embedder",
    "select_embedder",
]
