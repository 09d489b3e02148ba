"""Walk a folder for sync: the files it would send, hashed, and what it skipped and why.

Dot files and dot folders are skipped, and so are files of a type ragis does not read (the
suffixes come from the ingest code, so a new format is synced as soon as it is read), empty
files (nothing to index), FIFOs, sockets and devices (a read could block forever), and symbolic
links: never followed, so a link loop cannot trap the walk and a link cannot pull in a file
from outside the folder. A file that cannot be read is a
failure, not a skip. Files are hashed in a pool of threads (hashing is I/O and C code).
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ragis.client.sync.plan import LocalFile
from ragis.contract.documents import MAX_SOURCE_CHARS

__all__ = ["Scan", "scan_folder", "supported_suffixes"]

_HASH_THREADS = 8
_BLOCK = 1 << 20


def supported_suffixes() -> frozenset[str]:
    """The suffixes (".pdf") of the files a folder sync sends: the ingest code's own list."""
    from ragis.client.ingest import SUPPORTED_SUFFIXES

    return SUPPORTED_SUFFIXES


@dataclass(slots=True)
class Scan:
    root: Path
    files: list[LocalFile] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)  # source -> file on disk
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, why)
    failed: list[tuple[str, str]] = field(default_factory=list)


def scan_folder(root: Path, *, suffixes: frozenset[str] | None = None) -> Scan:
    wanted = supported_suffixes() if suffixes is None else suffixes
    scan = Scan(root)
    found: list[tuple[str, Path]] = []

    def skip(path: Path, why: str) -> None:
        scan.skipped.append((path.relative_to(root).as_posix(), why))

    def failed(path: Path, why: str) -> None:
        scan.failed.append((path.relative_to(root).as_posix(), why))

    for top, dirs, names in os.walk(root, onerror=lambda e: _walk_error(scan, root, e)):
        here = Path(top)
        for name in list(dirs):
            path = here / name
            if name.startswith("."):
                skip(path, "dot folder")
            elif path.is_symlink():
                skip(path, "symbolic link (not followed)")
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (here / d).is_symlink())
        for name in sorted(names):
            path = here / name
            if name.startswith("."):
                skip(path, "dot file")
            elif path.is_symlink():
                skip(path, "symbolic link (not followed)")
            elif not path.is_file():  # a FIFO would block the read; a device never ends
                skip(path, "not a regular file")
            elif path.suffix.lower() not in wanted:
                skip(path, "type not supported")
            elif len(source := path.relative_to(root).as_posix()) > MAX_SOURCE_CHARS:
                failed(path, f"path longer than {MAX_SOURCE_CHARS} characters")
            else:
                found.append((source, path))

    with ThreadPoolExecutor(max_workers=_HASH_THREADS) as pool:
        hashed = list(pool.map(lambda item: _hash(item[1]), found))
    for (source, path), result in zip(found, hashed, strict=True):
        if isinstance(result, str):
            scan.failed.append((source, result))
        elif result[1] == 0:
            scan.skipped.append((source, "empty file"))
        else:
            scan.files.append(LocalFile(source, result[0], result[1]))
            scan.paths[source] = path
    return scan


def _hash(path: Path) -> tuple[str, int] | str:
    """(sha256, size), or why the file cannot be read."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            while block := handle.read(_BLOCK):
                digest.update(block)
                size += len(block)
    except OSError as exc:
        return f"cannot read it: {exc.strerror or type(exc).__name__}"
    return digest.hexdigest(), size


def _walk_error(scan: Scan, root: Path, exc: OSError) -> None:
    where = Path(exc.filename) if exc.filename else root
    source = where.relative_to(root).as_posix() if where != root else "."
    scan.failed.append((source, f"cannot list it: {exc.strerror or type(exc).__name__}"))
