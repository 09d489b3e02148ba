"""Small conversions between Python values and what Redis stores (bytes in, bytes out)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ragis.errors import InvalidVector
from ragis.store.models import Vector

__all__ = ["as_vector", "text_of", "to_blob"]


def text_of(value: Any) -> str:
    """A Redis reply (bytes or str) as str."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def as_vector(value: Any, dim: int) -> Vector:
    """A 1-D float32 vector of `dim` finite values, or `InvalidVector` before Redis sees it."""
    try:
        vec = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidVector(f"Not a vector of numbers: {exc}.") from None
    if vec.ndim != 1 or vec.shape[0] != dim:
        raise InvalidVector(
            f"Wrong vector dimension: got {vec.shape[0] if vec.ndim == 1 else vec.shape}, "
            f"this collection holds {dim}-dimensional vectors."
        )
    if not bool(np.isfinite(vec).all()):
        raise InvalidVector("The vector contains NaN or infinite values.")
    if not math.isfinite(float(np.linalg.norm(vec))) or not vec.any():
        raise InvalidVector("The vector is all zeros or overflows; it has no direction.")
    return vec


def to_blob(vec: Vector) -> bytes:
    """The little-endian FP32 blob `VADD`/`VSIM ... FP32` expect (far faster than VALUES)."""
    return vec.astype("<f4", copy=False).tobytes()
