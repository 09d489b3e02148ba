"""`ragis ingest PATH|URL...`: upload files and folders through the gateway, with progress.

Folders are walked recursively and only files of a supported type (by extension) are taken;
files named explicitly are always sent, and the gateway judges them by content. An argument that
starts with http:// or https:// is a web page: the gateway fetches and ingests it (behind its
SSRF guard), with the URL as the document's source. Two uploads run at once, so one file is
parsed while the previous one is embedded.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ragis.client.api import GatewayClient

__all__ = ["IngestSummary", "find_files", "ingest", "is_url", "split_urls"]

# The files a folder walk sends (`ragis ingest DIR`, `ragis sync`): what ragis.ingest.detect
# reads, by name (tests/client/test_ingest.py keeps the two in step; importing the detector here
# would load the chunker's tokenizer into every CLI command).
SUPPORTED_SUFFIXES = frozenset(
    {".txt", ".text", ".md", ".markdown", ".mdown", ".mkd", ".html", ".htm", ".xhtml", ".pdf"}
    | {".docx", ".docm", ".pptx", ".xlsx", ".xlsm", ".odt", ".epub", ".csv", ".tsv", ".tab"}
    | {".eml"}
)


def is_url(argument: str) -> bool:
    return argument[:8].lower().startswith(("http://", "https://"))


def split_urls(arguments: Iterable[str]) -> tuple[list[str], list[str]]:
    """The web pages among the arguments (each once), and the rest: paths."""
    urls: list[str] = []
    paths: list[str] = []
    for argument in arguments:
        (urls if is_url(argument) else paths).append(argument)
    return list(dict.fromkeys(urls)), paths


def find_files(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """The files to upload, and the paths that do not exist."""
    files: list[Path] = []
    missing: list[str] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in SUPPORTED_SUFFIXES
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(str(path))
    return list(dict.fromkeys(files)), missing


@dataclass(slots=True)
class IngestSummary:
    documents: int = 0
    chunks: int = 0
    duplicates: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"{self.documents} document(s) ingested, {self.chunks} chunk(s), "
            f"{self.duplicates} duplicate(s) skipped, {len(self.failures)} failure(s) "
            f"in {self.seconds:.1f} s"
        ]
        out += [f"  failed: {name}: {reason}" for name, reason in self.failures]
        return out


class Progress:
    """One status line on a terminal (redrawn in place), one line per file otherwise."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.done = 0
        self.stream = stream
        self.tty = stream.isatty()

    def update(self, name: str, outcome: str) -> None:
        self.done += 1
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        line = f"[{bar}] {self.done}/{self.total} {name}: {outcome}"
        if self.tty:
            self.stream.write("\r\033[2K" + line[:150])
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


async def ingest(
    client: GatewayClient,
    files: Sequence[Path],
    *,
    collection: str,
    urls: Sequence[str] = (),
    concurrency: int = 2,
    stream: TextIO | None = None,
) -> IngestSummary:
    summary = IngestSummary()
    progress = Progress(len(files) + len(urls), stream or sys.stderr)
    started = time.monotonic()
    gate = asyncio.Semaphore(concurrency)

    async def one(name: str, label: str, send: Awaitable[dict[str, Any]]) -> None:
        async with gate:  # the request starts only once awaited: here
            result = await send
        if result.get("ok"):
            if result.get("duplicate"):
                summary.duplicates += 1
                outcome = "duplicate (already ingested)"
            else:
                summary.documents += 1
                summary.chunks += int(result.get("chunks", 0))
                pages = result.get("pages")
                outcome = f"{result.get('chunks', 0)} chunks" + (
                    f", {pages} pages" if pages else ""
                )
        else:
            reason = str(result.get("error", {}).get("message", "failed"))
            summary.failures.append((name, reason))
            outcome = "FAILED"
        progress.update(label, outcome)

    await asyncio.gather(
        *(one(str(p), p.name, client.upload(p, collection=collection)) for p in files),
        *(one(url, url, client.ingest_url(url, collection=collection)) for url in urls),
    )
    summary.seconds = time.monotonic() - started
    return summary
