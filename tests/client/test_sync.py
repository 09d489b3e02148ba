"""`ragis sync DIR` through the real gateway and RAG service, on a temporary folder.

After every step the collection equals the folder: one ready document per file (source =
its relative path, sha256 = its content), and in Redis (counted under the test's prefix) as many
document records, chunk hashes and vectors as the listing says; and no passage retrieved for an
old version's words comes from a document that is no longer listed or holds those words.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from redis.asyncio import Redis

from ragis.client.api import GatewayClient
from support.cli import Cli
from support.documents import docx_bytes

COLLECTION = "sync"


def words(topic: str, n: int = 3) -> str:
    """A small document about `topic` whose words no other test file shares."""
    return "\n\n".join(
        f"The {topic} note, part {i}: {topic} facts for the {topic} section {i}." for i in range(n)
    )


async def documents(base: str) -> list[dict[str, object]]:
    async with GatewayClient(base) as client:
        return await client.documents(COLLECTION)


def folder_files(folder: Path) -> dict[str, str]:
    """What a sync of `folder` should hold: relative path -> sha256 (the tests' own reading)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and p.stat().st_size
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and p.suffix in {".md", ".txt"}
    }  # fmt: skip


def spawn_sync(gateway_url: str, folder: Path, *flags: str) -> subprocess.Popen[str]:
    """A real `ragis sync` process (stdout and stderr piped)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAGIS_", "REDIS_"))}
    env["RAGIS_GATEWAY_URL"] = gateway_url
    return subprocess.Popen(
        [sys.executable, "-m", "ragis", "sync", str(folder), "-c", COLLECTION, *flags],
        env=env, cwd=folder.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def kill_after_first_upload(proc: subprocess.Popen[str]) -> str:
    """SIGKILL `proc` once its first upload is done; that progress line."""
    try:
        assert proc.stderr is not None
        return proc.stderr.readline()
    finally:
        proc.kill()  # no clean-up of any kind
        proc.communicate(timeout=30)


def wait_for_watching(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("watching"):
            return
    raise AssertionError("ragis sync --watch ended before watching")


def interrupt(proc: subprocess.Popen[str]) -> int:
    """Ctrl-C (SIGINT) and its exit status; killed if still running after 30 s."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    return proc.returncode


async def assert_in_step(base: str, redis: Redis, prefix: str, folder: Path) -> None:
    """The collection equals the folder, in the API and in Redis."""
    files = folder_files(folder)
    docs = await documents(base)
    assert {str(d["source"]): str(d["sha256"]) for d in docs} == files
    assert len(docs) == len(files)  # no duplicate
    assert all(d["status"] == "ready" for d in docs)
    chunks = sum(int(str(d["chunks"])) for d in docs)
    keys = [k.decode() async for k in redis.scan_iter(match=f"{prefix}:*{COLLECTION}*")]
    records = [k for k in keys if re.search(r":doc:[^:]+$", k)]
    chunk_keys = [k for k in keys if re.search(r":chunk:[^:]+:\d+$", k)]
    vector_sets = [k for k in keys if k.endswith(":vectors")]
    assert len(records) == len(files)
    assert len(chunk_keys) == chunks
    vectors = sum([int(await redis.execute_command("VCARD", k)) for k in vector_sets])
    assert vectors == chunks


async def assert_not_cited(base: str, query: str, gone: str) -> None:
    """No passage found for `query` comes from an unlisted document or holds `gone`."""
    async with GatewayClient(base) as client:
        listed = {d["id"] for d in await client.documents(COLLECTION)}
        found = await client.search(query, collection=COLLECTION, top_k=20)
    for passage in found["passages"]:
        assert passage["doc_id"] in listed
        assert gone not in passage["text"]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


async def test_add_change_rename_delete_each_leaves_the_collection_equal_to_the_folder(
    cli: Cli, gateway_url: str, redis: Redis, prefix: str, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    write(folder, "kelp.md", words("kelp"))
    write(folder, "manuals/pump.txt", words("pump"))
    write(folder, ".hidden.md", words("hidden"))
    write(folder, ".git/config.md", words("gitconfig"))
    write(folder, "photo.png", "not really a picture")

    first = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert first.code == 0, first.err
    assert "2 added, 0 replaced, 0 renamed, 0 deleted, 0 unchanged" in first.out
    assert "3 skipped" in first.out  # the dot file, the dot folder, the .png
    await assert_in_step(gateway_url, redis, prefix, folder)
    (old_kelp,) = [d for d in await documents(gateway_url) if d["source"] == "kelp.md"]

    again = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert "0 added, 0 replaced, 0 renamed, 0 deleted, 2 unchanged" in again.out

    # Changed: the new version replaces the old one; the old words are answered no more.
    write(folder, "kelp.md", words("seagrass"))
    changed = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert "0 added, 1 replaced" in changed.out, changed.out + changed.err
    await assert_in_step(gateway_url, redis, prefix, folder)
    assert old_kelp["id"] not in {d["id"] for d in await documents(gateway_url)}
    await assert_not_cited(gateway_url, "kelp facts", "kelp")

    # Renamed: same id, new source, nothing re-embedded.
    (pump,) = [d for d in await documents(gateway_url) if d["source"] == "manuals/pump.txt"]
    (folder / "manuals/pump.txt").rename(folder / "pump-manual.txt")
    renamed = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert "0 added, 0 replaced, 1 renamed, 0 deleted, 1 unchanged" in renamed.out
    await assert_in_step(gateway_url, redis, prefix, folder)
    (moved,) = [d for d in await documents(gateway_url) if d["source"] == "pump-manual.txt"]
    assert moved["id"] == pump["id"]

    # Deleted, first kept with --keep-deleted, then gone.
    (folder / "pump-manual.txt").unlink()
    kept = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION, "--keep-deleted")
    assert "0 deleted" in kept.out
    assert "1 gone from the folder, kept" in kept.out
    assert len(await documents(gateway_url)) == 2
    deleted = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert "1 deleted" in deleted.out
    await assert_in_step(gateway_url, redis, prefix, folder)
    await assert_not_cited(gateway_url, "pump facts", "pump")


async def test_a_dry_run_prints_the_plan_and_changes_nothing(
    cli: Cli, gateway_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    write(folder, "kelp.md", words("kelp"))
    assert (await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)).code == 0
    before = await documents(gateway_url)
    write(folder, "kelp.md", words("seagrass"))
    write(folder, "tide.md", words("tide"))
    dry = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION, "--dry-run")
    assert dry.code == 0, dry.err
    assert "replace kelp.md" in dry.out
    assert "upload  tide.md" in dry.out
    assert "nothing changed" in dry.out
    assert await documents(gateway_url) == before


async def test_an_interrupted_sync_converges_when_run_again(
    cli: Cli, gateway_url: str, redis: Redis, prefix: str, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    for i in range(12):
        write(folder, f"part{i:02}.md", words(f"topic{i}x"))
    proc = spawn_sync(gateway_url, folder)
    line = kill_after_first_upload(proc)
    assert "1/12" in line, line
    assert proc.returncode == -signal.SIGKILL
    assert 1 <= len(await documents(gateway_url)) < 12

    rerun = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert rerun.code == 0, rerun.err
    await assert_in_step(gateway_url, redis, prefix, folder)
    final = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert "0 added, 0 replaced, 0 renamed, 0 deleted, 12 unchanged" in final.out


async def test_watch_picks_up_a_new_file_and_ends_cleanly_on_ctrl_c(
    gateway_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    write(folder, "kelp.md", words("kelp"))
    proc = spawn_sync(gateway_url, folder, "--watch")
    try:
        wait_for_watching(proc)
        write(folder, "tide.md", words("tide"))
        deadline = time.monotonic() + 60
        sources: set[object] = set()
        while time.monotonic() < deadline and "tide.md" not in sources:
            sources = {d["source"] for d in await documents(gateway_url)}
            await asyncio.sleep(0.2)
        assert sources == {"kelp.md", "tide.md"}
    finally:
        code = interrupt(proc)
    assert code == 0


async def test_hostile_folders_links_names_and_files(
    cli: Cli, gateway_url: str, redis: Redis, prefix: str, tmp_path: Path
) -> None:
    outside = write(tmp_path / "outside", "secret.md", words("secret"))
    folder = tmp_path / "docs"
    write(folder, "kelp.md", words("kelp"))
    odd = "new\nline – ünïcode 文書.md"
    write(folder, odd, words("oddname"))
    write(folder, "empty.md", "")
    (folder / "loop").symlink_to(folder, target_is_directory=True)  # a link loop
    (folder / "away").symlink_to(outside.parent, target_is_directory=True)
    (folder / "secret-link.md").symlink_to(outside)
    os.mkfifo(folder / "pipe.md")  # reading it would block forever

    result = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert result.code == 0, result.err
    sources = {d["source"] for d in await documents(gateway_url)}
    assert sources == {"kelp.md", odd}
    assert "5 skipped" in result.out  # empty, 3 links, the FIFO... and nothing outside
    await assert_in_step(gateway_url, redis, prefix, folder)
    await assert_not_cited(gateway_url, "secret facts", "secret")


async def test_an_unreadable_file_is_a_failure_and_its_document_is_kept(
    cli: Cli, gateway_url: str, tmp_path: Path
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads a file whatever its mode")
    folder = tmp_path / "docs"
    locked = write(folder, "locked.md", words("locked"))
    assert (await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)).code == 0
    locked.chmod(0)
    try:
        result = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    finally:
        locked.chmod(0o644)
    assert result.code == 1
    assert "1 failed" in result.out
    assert "locked.md" in result.out
    assert {d["source"] for d in await documents(gateway_url)} == {"locked.md"}


def test_a_missing_folder_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    assert cli("sync", str(tmp_path / "nope")).code == 2


async def test_the_same_content_at_two_paths_is_one_document_and_stays_in_step(
    cli: Cli, gateway_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    write(folder, "a.md", words("twin"))
    write(folder, "copy/a.md", words("twin"))
    first = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert first.code == 0, first.err
    assert [d["source"] for d in await documents(gateway_url)] == ["a.md"]
    again = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert "0 added, 0 replaced, 0 renamed, 0 deleted, 2 unchanged" in again.out


async def test_an_emails_attachments_follow_the_mail_through_syncs(
    cli: Cli, gateway_url: str, tmp_path: Path
) -> None:
    message = EmailMessage()
    message["Subject"] = "Winter berths"
    message.set_content("The plan is attached.\n")
    message.add_attachment(
        docx_bytes([("p", "The ketch Albatross takes winter berth B-17.")]),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename="berths.docx",
    )
    folder = tmp_path / "docs"
    write(folder, "mail.eml", message.as_string())

    async def sources() -> list[object]:
        return sorted(str(d["source"]) for d in await documents(gateway_url))

    first = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert first.code == 0, first.err
    assert await sources() == ["mail.eml", "mail.eml#berths.docx"]
    again = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert "0 added, 0 replaced, 0 renamed, 0 deleted, 1 unchanged" in again.out
    assert await sources() == ["mail.eml", "mail.eml#berths.docx"]
    (folder / "mail.eml").rename(folder / "kept.eml")
    moved = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert moved.code == 0, moved.err
    assert await sources() == ["kept.eml", "kept.eml#berths.docx"]
    (folder / "kept.eml").unlink()
    gone = await asyncio.to_thread(cli, "sync", str(folder), "-c", COLLECTION)
    assert gone.code == 0, gone.err
    assert await sources() == []
