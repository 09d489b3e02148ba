"""The backup file of `ragis backup`: a gzip stream of framed records, checked end to end.

    MAGIC (12 bytes "ragis-backup")  u32 header length  header (JSON)
    record*   b"K"  u32 key length  key  i64 expiry (unix ms, -1: none)  u64 length  DUMP payload
    trailer   b"E"  u32 length  {"keys": n, "bytes": payload bytes, "sha256": hex}

The sha256 covers every byte before the trailer (magic, header, records), so a truncated file
(no trailer), a flipped byte (gzip's CRC, or the digest) or records spliced from another backup
are all refused. The header says what the snapshot is: the backup file format (`VERSION`), the
ragis version and data format that wrote it, the Redis version, when, the key prefix, and each
collection's embedding model and dimension. A record's payload is Redis's own `DUMP`
serialization (any type: vector sets, hashes, sets, sorted sets, lists, strings, streams), which
`RESTORE` takes back on a Redis of the same or a newer version.

Nothing is held whole in memory: the writer streams, the reader yields one record at a time, and
a restore reads the file twice (`verify` first, then the records) so that nothing is written
from a file that turns out to be damaged at its end.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragis.errors import RagisError

__all__ = [
    "MAGIC",
    "MAX_HEADER",
    "VERSION",
    "BadSnapshot",
    "Record",
    "SnapshotReader",
    "SnapshotWriter",
    "Trailer",
]

MAGIC = b"ragis-backup"
#: The backup file format this ragis writes and reads.
VERSION = 1
#: A header is a few KB per thousand collections; a length field above this is a forged file.
MAX_HEADER = 16 * 1024 * 1024
#: A key of ragis is under 1 KB (names are at most 128 characters); a term key at most ~600 B.
MAX_KEY = 64 * 1024
#: Redis's own limit on a string is 512 MB; a DUMP of a large vector set may exceed it a little.
MAX_PAYLOAD = 4 * 1024 * 1024 * 1024

_U32 = struct.Struct(">I")
_RECORD = struct.Struct(">qQ")


class BadSnapshot(RagisError):
    """The file is not a ragis backup this ragis can read: damaged, truncated, forged or newer."""


@dataclass(frozen=True, slots=True)
class Record:
    key: bytes
    #: Absolute expiry in unix milliseconds, or -1 when the key does not expire.
    expire_at_ms: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class Trailer:
    keys: int
    payload_bytes: int
    sha256: str


class SnapshotWriter:
    """Writes a snapshot into `path` (the caller renames it into place once `close()` is done)."""

    def __init__(self, path: Path, header: dict[str, Any], *, level: int = 1) -> None:
        # Every document and every account's password hash is in it: its owner's only.
        self._raw = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=level, mtime=0)
        self._sha = hashlib.sha256()
        self.keys = 0
        self.payload_bytes = 0
        body = json.dumps({**header, "magic": MAGIC.decode(), "version": VERSION}).encode()
        self._write(MAGIC + _U32.pack(len(body)) + body)

    def _write(self, data: bytes) -> None:
        self._sha.update(data)
        self._gz.write(data)

    def add(self, key: bytes, expire_at_ms: int, payload: bytes) -> None:
        self._write(b"K" + _U32.pack(len(key)) + key + _RECORD.pack(expire_at_ms, len(payload)))
        self._write(payload)
        self.keys += 1
        self.payload_bytes += len(payload)

    def close(self) -> Trailer:
        """Write the trailer, flush and fsync; returns what the trailer says."""
        trailer = Trailer(self.keys, self.payload_bytes, self._sha.hexdigest())
        body = json.dumps(
            {"keys": trailer.keys, "bytes": trailer.payload_bytes, "sha256": trailer.sha256}
        ).encode()
        self._gz.write(b"E" + _U32.pack(len(body)) + body)
        self._gz.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        return trailer

    def abort(self) -> None:
        self._gz.close()
        self._raw.close()


class SnapshotReader:
    """Reads a snapshot: `header` at once, then `records()` (which checks the trailer at the
    end), or `verify()` to read it all through and check it without keeping anything."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._gz = gzip.GzipFile(path, "rb")  # closed by close()
        except OSError as exc:
            raise BadSnapshot(f"Cannot open the backup {path}: {exc.strerror or exc}.") from None
        self._sha = hashlib.sha256()
        try:
            self.header = self._read_header()
        except BaseException:
            self._gz.close()
            raise

    def close(self) -> None:
        self._gz.close()

    def __enter__(self) -> SnapshotReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _exact(self, size: int) -> bytes:
        try:
            data = self._gz.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadSnapshot(
                f"The backup {self.path} is damaged or truncated ({exc}): it cannot be restored."
            ) from None
        if len(data) != size:
            raise BadSnapshot(
                f"The backup {self.path} ends early (truncated): it cannot be restored."
            )
        return data

    def _hashed(self, size: int) -> bytes:
        data = self._exact(size)
        self._sha.update(data)
        return data

    def _read_header(self) -> dict[str, Any]:
        try:
            magic = self._gz.read(len(MAGIC))
        except (OSError, EOFError, zlib.error):
            magic = b""
        if magic != MAGIC:
            raise BadSnapshot(f"{self.path} is not a ragis backup (made by `ragis backup`).")
        self._sha.update(magic)
        (size,) = _U32.unpack(self._hashed(_U32.size))
        if size > MAX_HEADER:
            raise BadSnapshot(
                f"The backup {self.path} announces a {size}-byte header, more than any ragis "
                "writes: the file is damaged or forged."
            )
        try:
            header = json.loads(self._hashed(size))
        except ValueError:
            header = None
        if not isinstance(header, dict):
            raise BadSnapshot(f"The backup {self.path} has a damaged header.")
        version = header.get("version")
        if version != VERSION:
            raise BadSnapshot(
                f"The backup {self.path} is in backup file format {version!r}; this ragis reads "
                f"format {VERSION}: restore it with the ragis that wrote it "
                f"({header.get('ragis_version', 'unknown')}) or a newer one."
            )
        return header

    def records(self) -> Iterator[Record]:
        """Every record in order; raises BadSnapshot at a damaged record or trailer."""
        while True:
            kind = self._exact(1)
            if kind == b"E":
                self._check_trailer()
                return
            if kind != b"K":
                raise BadSnapshot(f"The backup {self.path} is damaged (unknown record type).")
            self._sha.update(kind)
            (key_size,) = _U32.unpack(self._hashed(_U32.size))
            if not 0 < key_size <= MAX_KEY:
                raise BadSnapshot(f"The backup {self.path} is damaged (a key of {key_size} bytes).")
            key = self._hashed(key_size)
            expire_at_ms, size = _RECORD.unpack(self._hashed(_RECORD.size))
            if size > MAX_PAYLOAD:
                raise BadSnapshot(f"The backup {self.path} is damaged (a {size}-byte value).")
            yield Record(key, expire_at_ms, self._hashed(size))

    def _check_trailer(self) -> None:
        digest = self._sha.hexdigest()
        # The type byte "E" is not part of the digest: the writer hashes only what precedes it.
        (size,) = _U32.unpack(self._exact(_U32.size))
        if size > 4096:
            raise BadSnapshot(f"The backup {self.path} has a damaged trailer.")
        try:
            trailer = json.loads(self._exact(size))
        except ValueError:
            trailer = None
        if not isinstance(trailer, dict) or trailer.get("sha256") != digest:
            raise BadSnapshot(
                f"The backup {self.path} fails its checksum: it is damaged and cannot be restored."
            )
        if self._exact_end():
            raise BadSnapshot(f"The backup {self.path} has data after its end: it is damaged.")
        self.trailer = Trailer(int(trailer["keys"]), int(trailer["bytes"]), digest)

    def _exact_end(self) -> bool:
        try:
            return bool(self._gz.read(1))
        except (OSError, EOFError, zlib.error):
            return True

    def verify(self) -> Trailer:
        """Read every record and check the checksum; returns the trailer."""
        count = 0
        for _ in self.records():
            count += 1
        if count != self.trailer.keys:
            raise BadSnapshot(f"The backup {self.path} lacks records its trailer counts.")
        return self.trailer
