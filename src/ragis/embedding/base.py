"""The embedder interface, and the wire form of vectors (base64 of little-endian float32)."""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["Embedder", "decode_vectors", "encode_vectors", "unit_rows"]

Matrix = npt.NDArray[np.float32]


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors, off the event loop."""

    #: The model's name as recorded per collection (vectors of two models never mix).
    model_name: str
    dim: int
    #: Longest input in tokens; longer texts are truncated by the model.
    max_tokens: int
    #: How the model runs (torch-fp32, onnx-int8, ...): the same vectors within cosine 0.99.
    backend: str = ""

    @abstractmethod
    async def embed(self, texts: Sequence[str]) -> Matrix:
        """An (n, dim) float32 matrix of unit vectors, one row per text, in order."""

    def describe(self) -> str:
        how = f", {self.backend}" if self.backend else ""
        return f"{self.model_name} ({self.dim} dims{how})"

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release threads or sessions; the default has none."""


def unit_rows(matrix: npt.ArrayLike) -> Matrix:
    """Each row scaled to unit length, in float32: cast first, then normalise.

    Every backend's vectors pass through here. A model that runs in bf16 (or any lower
    precision) and normalises in its own dtype gives rows whose float32 norms are off by up to
    ~4e-3 (bf16 keeps 8 bits of mantissa); cosine scores and the semantic cache's threshold
    assume exact unit vectors, so the norm is taken after the cast, never before.
    """
    rows = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return np.asarray(rows / np.maximum(norms, np.float32(1e-12)), dtype=np.float32)


def encode_vectors(matrix: Matrix) -> list[str]:
    """Each row as base64 of its little-endian float32 bytes."""
    data = np.ascontiguousarray(matrix, dtype="<f4")
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in data]


def decode_vectors(encoded: Sequence[str], dim: int) -> Matrix:
    rows = [np.frombuffer(base64.b64decode(item), dtype="<f4") for item in encoded]
    if any(row.shape != (dim,) for row in rows):
        raise ValueError(f"every vector must have {dim} float32 values")
    return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)
