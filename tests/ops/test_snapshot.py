"""The backup file format: what it writes reads back, and every damaged or forged file is refused
before a single record is trusted."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import pytest

from ragis.ops.snapshot import MAGIC, VERSION, BadSnapshot, SnapshotReader, SnapshotWriter

RECORDS = [
    (b"p:format", -1, b"\x00dump-of-2"),
    (b"p:w:default:{c:default/default}:meta", -1, b"\x04meta" * 50),
    (b"p:w:default:session:s1", 1_900_000_000_000, bytes(range(256)) * 40),
]


def write(path: Path, header: dict[str, object] | None = None) -> Path:
    writer = SnapshotWriter(path, header or {"key_prefix": "p", "data_format": 2})
    for key, expiry, payload in RECORDS:
        writer.add(key, expiry, payload)
    writer.close()
    return path


def raw(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


def rewrite(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data))
    return path


def read_all(path: Path) -> list[tuple[bytes, int, bytes]]:
    with SnapshotReader(path) as reader:
        return [(r.key, r.expire_at_ms, r.payload) for r in reader.records()]


def test_what_is_written_reads_back_with_its_header_and_trailer(tmp_path: Path) -> None:
    path = write(tmp_path / "b")
    with SnapshotReader(path) as reader:
        assert reader.header["magic"] == "ragis-backup"
        assert reader.header["version"] == VERSION
        assert reader.header["key_prefix"] == "p"
        trailer = reader.verify()
    assert trailer.keys == 3
    assert trailer.payload_bytes == sum(len(p) for _, _, p in RECORDS)
    assert read_all(path) == RECORDS


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "b")
    data = raw(path)
    for cut in (len(data) - 1, len(data) - 60, len(data) // 2, 20):
        rewrite(path, data[:cut])
        with pytest.raises(BadSnapshot, match=r"truncated|ends early|damaged"):
            read_all(path)


def test_a_truncated_gzip_stream_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "b")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadSnapshot):
        read_all(path)


def test_a_flipped_byte_is_refused_wherever_it_is(tmp_path: Path) -> None:
    path = write(tmp_path / "b")
    data = raw(path)
    # In the payloads, in a key, in an expiry: the checksum catches what the framing cannot.
    for at in (len(data) // 2, len(data) - 200, data.index(b"session") + 2):
        flipped = bytearray(data)
        flipped[at] ^= 0x01
        rewrite(path, bytes(flipped))
        with pytest.raises(BadSnapshot):
            read_all(path)


def test_a_flipped_byte_in_the_compressed_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "b")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(BadSnapshot):
        read_all(path)


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    for content in (b"", b"hello world", gzip.compress(b"ragis-backuX" + b"\0" * 40)):
        path = tmp_path / "other"
        path.write_bytes(content)
        with pytest.raises(BadSnapshot, match="not a ragis backup"):
            SnapshotReader(path)


def test_a_huge_header_length_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = rewrite(tmp_path / "b", MAGIC + struct.pack(">I", 0xFFFFFFF0) + b"{}")
    with pytest.raises(BadSnapshot, match="header"):
        SnapshotReader(path)


def test_a_huge_key_length_is_refused(tmp_path: Path) -> None:
    header = json.dumps({"version": VERSION}).encode()
    body = MAGIC + struct.pack(">I", len(header)) + header + b"K" + struct.pack(">I", 1 << 30)
    path = rewrite(tmp_path / "b", body)
    with pytest.raises(BadSnapshot, match="key of"):
        read_all(path)


def test_an_unknown_backup_format_version_is_refused(tmp_path: Path) -> None:
    header = json.dumps({"version": VERSION + 1, "ragis_version": "9.9"}).encode()
    path = rewrite(tmp_path / "b", MAGIC + struct.pack(">I", len(header)) + header)
    with pytest.raises(BadSnapshot, match="backup file format 2"):
        SnapshotReader(path)


def test_a_header_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = rewrite(tmp_path / "b", MAGIC + struct.pack(">I", 4) + b"\xff\xfe[]")
    with pytest.raises(BadSnapshot, match="damaged header"):
        SnapshotReader(path)


def test_records_spliced_from_another_backup_fail_the_checksum(tmp_path: Path) -> None:
    one = raw(write(tmp_path / "one"))
    two = raw(write(tmp_path / "two", {"key_prefix": "p", "data_format": 1}))
    # The header of `two`, then the records and trailer of `one`.
    cut_one, cut_two = one.index(b"}K") + 1, two.index(b"}K") + 1
    path = rewrite(tmp_path / "spliced", two[:cut_two] + one[cut_one:])
    with pytest.raises(BadSnapshot, match="checksum"):
        read_all(path)


def test_data_after_the_trailer_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "b")
    rewrite(path, raw(path) + b"K")
    with pytest.raises(BadSnapshot, match="after its end"):
        read_all(path)
