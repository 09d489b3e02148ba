"""This machine: free disk space where ragis writes, and the model cache with the embedding
backend measured there (ragis.embedding.select keeps its choice in `embedding-choice.json`)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ragis.embedding.cpu import detect_cpu
from ragis.embedding.select import CHOICE_FILE
from ragis.ops.checks.result import Check, Status, human_bytes

__all__ = [
    "DISK_LOW",
    "DISK_LOW_SHARE",
    "DISK_TOO_LOW",
    "disk_checks",
    "disk_status",
    "model_cache_checks",
]

#: Free space under which a disk is a warning (either), or a problem.
DISK_LOW = 1 << 30
DISK_LOW_SHARE = 0.10
DISK_TOO_LOW = 200 << 20


def _existing(path: Path) -> Path:
    """`path`, or its nearest ancestor that exists (a data dir not made yet)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _disk_check(label: str, path: Path) -> Check:
    """Free space of the file system that holds `path` (`label`: what it is, for the line)."""
    name = "disk"
    try:
        usage = shutil.disk_usage(_existing(path))
    except OSError as exc:
        return Check.warn(
            name, f"cannot see the free space of {label} {path} ({exc.strerror})", "check the path"
        )
    free, total = usage.free, usage.total
    share = free / total if total else 0.0
    detail = f"{label} {path}: {human_bytes(free)} free ({100 * share:.0f} %)"
    status = disk_status(free, total)
    if status is Status.PROBLEM:
        return Check.problem(
            name,
            detail,
            "free disk space now: Redis refuses writes and uploads fail when the disk is full",
        )
    if status is Status.WARN:
        return Check.warn(
            name, detail, "free disk space (under 1 GiB or 10 % left; the AOF grows with uploads)"
        )
    return Check.ok(name, detail)


def disk_status(free: int, total: int) -> Status:
    """A problem under 200 MiB free; a warning under 1 GiB or 10 % of the disk."""
    if free < DISK_TOO_LOW:
        return Status.PROBLEM
    if free < DISK_LOW or (total > 0 and free < DISK_LOW_SHARE * total):
        return Status.WARN
    return Status.OK


def disk_checks(paths: dict[str, Path]) -> list[Check]:
    """One line per file system among `paths` (label: path), the labels of one joined."""
    by_device: dict[int, list[tuple[str, Path]]] = {}
    for label, path in paths.items():
        try:
            device = _existing(path).stat().st_dev
        except OSError:
            device = -len(by_device) - 1
        by_device.setdefault(device, []).append((label, path))
    checks = []
    for group in by_device.values():
        label = " and ".join(
            f"{what} {path}" if i < len(group) - 1 else what for i, (what, path) in enumerate(group)
        )
        checks.append(_disk_check(label, group[-1][1]))
    return checks


def _writable(path: Path) -> str | None:
    """None when ragis can create files in `path` (or create it); else why not."""
    where = _existing(path)
    if not where.is_dir():
        return f"{where} is not a folder"
    if not os.access(where, os.W_OK | os.X_OK):
        return f"{where} is not writable by this user"
    return None


def _recorded_choice(cache: Path) -> tuple[str, dict[str, Any] | None]:
    """What the cache says about the backend chosen on this CPU: a sentence and the entry."""
    path = cache / CHOICE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no backend measured yet: the RAG service measures them at its first start", None
    except (OSError, ValueError) as exc:
        return f"{path} is unreadable ({exc}): the RAG service measures again", None
    machines = data.get("machines") if isinstance(data, dict) else None
    if not isinstance(machines, dict):
        return f"{path} has no choices in it: the RAG service measures again", None
    cpu = detect_cpu()
    for entry in machines.values():
        key = entry.get("key") if isinstance(entry, dict) else None
        if isinstance(key, dict) and key.get("cpu") == cpu.model and key.get("cores") == cpu.cores:
            assert isinstance(entry, dict)
            return f"backend {entry.get('backend')}, measured {entry.get('created')}", entry
    return "no backend measured for this CPU yet: the RAG service measures at its first start", None


def model_cache_checks(cache: Path, backend: str) -> list[Check]:
    """The model cache (`RAGIS_MODEL_CACHE`) writable, and the backend (`RAGIS_EMBED_BACKEND`)."""
    name = "model-cache"
    why_not = _writable(cache)
    if why_not:
        return [
            Check.problem(
                name,
                f"the model cache {cache} cannot be written: {why_not}",
                "set RAGIS_MODEL_CACHE to a folder this user may write, or fix its owner",
            )
        ]
    state = "" if cache.exists() else " (made at the first start)"
    if backend != "auto":
        return [Check.ok(name, f"{cache}{state}; embedding backend {backend}, set explicitly")]
    said, _ = _recorded_choice(cache)
    return [Check.ok(name, f"{cache}{state}; {said}")]
