"""Deterministic unit vectors for data-layer tests (the services' tests use the real model)."""

from __future__ import annotations

import numpy as np

from ragis.store import Vector

DIM = 8


def unit(seed: int, dim: int = DIM) -> Vector:
    vec = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return (vec / np.linalg.norm(vec)).astype(np.float32)


def near(vec: Vector, seed: int, noise: float = 0.01) -> Vector:
    """A vector very close to `vec` (cosine > 0.99 for small noise)."""
    out = vec + noise * unit(seed, vec.shape[0])
    return (out / np.linalg.norm(out)).astype(np.float32)
