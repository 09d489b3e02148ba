"""What the sections share: the run's options, its directories, and what earlier sections made."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus import Document
from bench.machine import Machine
from ragis.embedding import Embedder

__all__ = ["Context"]


@dataclass(slots=True)
class Context:
    quick: bool
    out: Path  # the report's folder; plots go to out/img
    work: Path  # a temp dir for this run
    cache: Path  # the model cache (ONNX exports), shared by every section
    machine: Machine
    docs: list[Document]
    chunks: list[list[str]]  # per document, as the gateway chunks them
    embedder: Embedder | None = None  # the backend ragis picks by default on this machine
    backend: str = ""
    raw_vectors: dict[str, np.ndarray] = field(default_factory=dict)  # chunk text -> vector
    stack: Any = None  # bench.servers.Stack
    llm: Any = None  # bench.llm.LoopbackLLM
    options: dict[str, Any] = field(default_factory=dict)  # extra command-line switches
    timed: Any = None  # bench.sections.ingest.TimedEmbedder: the embedder the RAG service got

    @property
    def img(self) -> Path:
        path = self.out / "img"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def plot(self, name: str) -> tuple[Path, str]:
        """The file for plot `name`, and its path relative to the report."""
        return self.img / f"bench-{name}.png", f"img/bench-{name}.png"

    @property
    def flat_chunks(self) -> list[str]:
        return [c for doc in self.chunks for c in doc]
