"""Scanning a folder for sync: what is sent, what is skipped and why, on hostile folders."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ragis.client.ingest import SUPPORTED_SUFFIXES
from ragis.client.sync.scan import scan_folder, supported_suffixes


def write(root: Path, name: str, data: bytes = b"some words\n") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_files_are_sent_by_relative_path_with_their_sha256(tmp_path: Path) -> None:
    write(tmp_path, "a.md", b"alpha")
    write(tmp_path, "sub/deeper/b.TXT", b"beta")
    scan = scan_folder(tmp_path)
    assert [(f.source, f.sha256, f.size) for f in scan.files] == [
        ("a.md", hashlib.sha256(b"alpha").hexdigest(), 5),
        ("sub/deeper/b.TXT", hashlib.sha256(b"beta").hexdigest(), 4),
    ]
    assert scan.paths["sub/deeper/b.TXT"] == tmp_path / "sub/deeper/b.TXT"
    assert scan.skipped == []
    assert scan.failed == []


def test_dot_files_dot_folders_empty_files_and_unknown_types_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, ".secret.md")
    write(tmp_path, ".git/notes.md")
    write(tmp_path, "empty.md", b"")
    write(tmp_path, "photo.png")
    write(tmp_path, "noext")
    scan = scan_folder(tmp_path)
    assert scan.files == []
    assert sorted(scan.skipped) == [
        (".git", "dot folder"),
        (".secret.md", "dot file"),
        ("empty.md", "empty file"),
        ("noext", "type not supported"),
        ("photo.png", "type not supported"),
    ]


def test_symbolic_links_are_never_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", "secret.md", b"outside words")
    root = tmp_path / "root"
    write(root, "kept.md")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "away").symlink_to(outside.parent, target_is_directory=True)
    (root / "secret.md").symlink_to(outside)
    (root / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    scan = scan_folder(root)
    assert [f.source for f in scan.files] == ["kept.md"]
    assert sorted(s for s, _ in scan.skipped) == ["away", "dangling.md", "loop", "secret.md"]
    assert {why for _, why in scan.skipped} == {"symbolic link (not followed)"}


def test_a_fifo_is_skipped_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")  # opening it to read would block the scan forever
    scan = scan_folder(tmp_path)
    assert scan.skipped == [("pipe.md", "not a regular file")]


def test_names_with_newlines_and_unicode_keep_their_exact_source(tmp_path: Path) -> None:
    name = "new\nline – ünïcode 文書.md"
    write(tmp_path, f"dír/{name}", b"words")
    scan = scan_folder(tmp_path)
    assert [f.source for f in scan.files] == [f"dír/{name}"]


def test_a_path_longer_than_a_source_may_be_is_a_failure(tmp_path: Path) -> None:
    deep = "/".join(["d" * 250] * 5)
    write(tmp_path, f"{deep}/x.md")
    scan = scan_folder(tmp_path)
    assert scan.files == []
    assert len(scan.failed) == 1
    assert "longer than 1024" in scan.failed[0][1]


def test_an_unreadable_file_is_a_failure_not_a_skip() -> None:
    # Root reads a file whatever its mode: the scan runs as nobody then, in a folder nobody may
    # list, so the file's mode (0) is what refuses it.
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        root.chmod(0o755)
        write(root, "ok.md").chmod(0o644)
        write(root, "locked.md").chmod(0)
        code = (
            "import json, sys; from pathlib import Path; "
            "from ragis.client.sync.scan import scan_folder; "
            "s = scan_folder(Path(sys.argv[1])); "
            "print(json.dumps([s.failed, [f.source for f in s.files]]))"
        )
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        run = subprocess.run(
            [*(nobody if os.geteuid() == 0 else []), sys.executable, "-c", code, str(root)],
            capture_output=True, text=True, timeout=60, cwd=root, check=True,
        )  # fmt: skip
    failed, files = json.loads(run.stdout)
    assert files == ["ok.md"]
    assert failed == [["locked.md", "cannot read it: Permission denied"]]


def test_the_suffixes_are_the_ingest_codes_own() -> None:
    assert supported_suffixes() >= SUPPORTED_SUFFIXES
    assert all(s.startswith(".") and s == s.lower() for s in supported_suffixes())
