"""Backup and restore of 100k chunks: `ragis backup`'s time and file size, and `ragis restore`'s
time into an empty Redis and into a stopped data dir (the issue's goal: at most 60 s).

The data is built fast and shaped like ragis's (store/keys.py): a collection of 1,000 documents
of 100 chunks; per chunk a Q8 vector (384 dims, synthetic random unit vectors sent as FP32
blobs, with ragis's attributes), a chunk hash with ~900 characters of text, and its keyword-index
entries (a `lex:c` string and 12 postings in `lex:t` sorted sets over a vocabulary of 4,000
terms); per document a record, and the `docs`, `sha`, `meta` keys. No model is needed.

Run alone with `python -m bench.sections.backup [--quick] [--out docs]`: it starts its own
embedded Redis, then replaces this section in docs/benchmarks.md and leaves the rest as it is.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import redis

from bench.context import Context
from bench.report import Goal, Section, Table, replace_section
from ragis.db import EmbeddedRedis
from ragis.ops.backup import backup
from ragis.ops.restore import restore

__all__ = ["GOAL_SECONDS", "TITLE", "measure", "run"]

TITLE = "16. Backup and restore"  # as in TITLES
GOAL_SECONDS = 60.0
PREFIX = "ragis"
DIM = 384
PER_DOC = 100
TERMS_PER_CHUNK = 12
VOCABULARY = 4_000
BATCH = 1_000

log = logging.getLogger("bench")


def run(ctx: Context) -> Section:
    chunks = 2_000 if ctx.quick else 100_000
    result = measure(ctx.work / "backup", chunks)
    return _section(result)


def _fill(client: redis.Redis, chunks: int) -> float:
    """Write `chunks` chunks as ragis lays them out; returns the seconds it took."""
    started = time.perf_counter()
    base = f"{PREFIX}:w:default:{{c:default/default}}"
    rng = np.random.default_rng(7)
    words = [f"w{i:04d}" for i in range(VOCABULARY)]
    client.hset(
        f"{base}:meta",
        mapping={"model": "all-MiniLM-L6-v2", "dim": DIM, "quant": "Q8", "m": 16, "shards": 1,
                 "version": chunks // PER_DOC, "created": time.time(), "lexical": "english"},
    )  # fmt: skip
    client.set(f"{PREFIX}:format", "2")
    client.sadd(f"{PREFIX}:workspaces:data", "default")
    client.sadd(f"{PREFIX}:w:default:collections", "default")
    for start in range(0, chunks, BATCH):
        rows = range(start, min(start + BATCH, chunks))
        vectors = rng.standard_normal((len(rows), DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        terms = rng.integers(0, VOCABULARY, size=(len(rows), TERMS_PER_CHUNK))
        pipe = client.pipeline(transaction=False)
        for j, i in enumerate(rows):
            doc, pos = f"d{i // PER_DOC:05d}", i % PER_DOC
            chunk = f"{doc}:{pos}"
            attrs = json.dumps({"doc": doc, "src": f"{doc}.txt", "pos": pos, "tags": []})
            pipe.execute_command(
                "VADD", f"{base}:vectors", "FP32", vectors[j].astype("<f4").tobytes(), chunk,
                "Q8", "M", 16, "SETATTR", attrs,
            )  # fmt: skip
            text = " ".join(words[t] for t in rng.integers(0, VOCABULARY, size=180))
            pipe.hset(f"{base}:chunk:{chunk}", mapping={"text": text, "doc": doc, "pos": pos})
            own = [words[t] for t in terms[j]]
            pipe.set(f"{base}:lex:c:{chunk}", f"180 {' '.join(own)}")
            for term in own:
                pipe.zadd(f"{base}:lex:t:{term}", {chunk: 1.5})
            if pos == 0:
                pipe.hset(
                    f"{base}:doc:{doc}",
                    mapping={"id": doc, "filename": f"{doc}.txt", "status": "ready",
                             "chunk_count": PER_DOC, "sha256": f"sha-{doc}", "size": 100_000},
                )  # fmt: skip
                pipe.zadd(f"{base}:docs", {doc: i})
                pipe.hset(f"{base}:sha", f"sha-{doc}", doc)
        pipe.execute()
    client.hset(f"{base}:lex:stats", mapping={"n": chunks, "total": chunks * 180})
    return time.perf_counter() - started


def measure(work: Path, chunks: int) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    path = work / "ragis.backup"
    result: dict[str, Any] = {"chunks": chunks}
    with EmbeddedRedis(work / "source", port=0) as source:
        client = redis.Redis.from_url(source.url)
        result["fill_s"] = _fill(client, chunks)
        log.info("backup: %d chunks written in %.0f s", chunks, result["fill_s"])
        result["keys"] = client.dbsize()
        result["used_mb"] = client.info("memory")["used_memory"] / 1e6
        client.config_resetstat()
        summary = backup(source.url, PREFIX, path)
        # How long Redis answered nobody else: the collection's MULTI ... EXEC.
        stats = client.info("commandstats").get("cmdstat_exec", {})
        result["exec_s"] = stats.get("usec", 0) / 1e6
        client.close()
        result["backup_s"] = summary.seconds
        result["data_mb"] = summary.payload_bytes / 1e6
        result["file_mb"] = summary.file_bytes / 1e6
        log.info("backup: %s", summary.line())
    with EmbeddedRedis(work / "empty", port=0) as target:
        restored = restore(path, PREFIX, url=target.url)
        result["restore_url_s"] = restored.seconds
        log.info("backup: %s", restored.line())
        client = redis.Redis.from_url(target.url)
        vectors = f"{PREFIX}:w:default:{{c:default/default}}:vectors"
        result["restored_vectors"] = client.execute_command("VCARD", vectors)
        client.close()
    started = time.perf_counter()
    restore(path, PREFIX, data_dir=work / "restored")
    result["restore_dir_s"] = time.perf_counter() - started
    log.info("backup: restored into a data dir in %.1f s", result["restore_dir_s"])
    started = time.perf_counter()
    with EmbeddedRedis(work / "restored", port=0) as again:
        client = redis.Redis.from_url(again.url)
        result["reload_keys"] = client.dbsize()
        client.close()
    result["reload_s"] = time.perf_counter() - started
    return result


def _section(r: dict[str, Any]) -> Section:
    worst = max(r["restore_url_s"], r["restore_dir_s"])
    return Section(
        "backup",
        TITLE,
        intro=(
            f"{r['chunks']:,} chunks of 384-dim Q8 vectors with ragis's key layout (chunk hashes, "
            "keyword index, records: see bench/sections/backup.py), "
            f"{r['keys']:,} keys, {r['used_mb']:.0f} MB in Redis. `ragis backup` copies the "
            "collection in one WATCHed MULTI and streams a gzip'd file; `ragis restore` reads "
            "the file through once to check it, then RESTOREs in pipelined batches."
        ),
        tables=[
            Table(
                "Backup and restore",
                ["step", "seconds", "notes"],
                [
                    ["fill (VADD + HSET + ZADD, pipelined)", f"{r['fill_s']:.1f}", "to build it"],
                    [
                        "`ragis backup`",
                        f"{r['backup_s']:.1f}",
                        f"{r['data_mb']:.0f} MB of DUMP payloads, a {r['file_mb']:.0f} MB file",
                    ],
                    [
                        "of which Redis answered nobody else (the collection's EXEC)",
                        f"{r['exec_s']:.2f}",
                        "INFO commandstats: cmdstat_exec",
                    ],
                    [
                        "`ragis restore --redis-url` (empty Redis)",
                        f"{r['restore_url_s']:.1f}",
                        f"check + RESTORE; {r['restored_vectors']:,} vectors back",
                    ],
                    [
                        "`ragis restore --data-dir` (stopped dir)",
                        f"{r['restore_dir_s']:.1f}",
                        "start Redis, check + RESTORE, BGREWRITEAOF, SHUTDOWN",
                    ],
                    [
                        "next start over the restored dir",
                        f"{r['reload_s']:.1f}",
                        f"AOF loaded: {r['reload_keys']:,} keys",
                    ],
                ],
            )
        ],
        goals=[
            Goal(
                f"restore of {r['chunks']:,} chunks",
                f"<= {GOAL_SECONDS:.0f} s",
                f"{worst:.1f} s",
                worst <= GOAL_SECONDS,
            )
        ],
        notes=[
            "The collection's MULTI blocks Redis while it runs (every DUMP of the collection); "
            "a vector set is DUMPed with its HNSW graph, so RESTORE does not rebuild it.",
        ],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sections.backup")
    parser.add_argument("--quick", action="store_true", help="2,000 chunks instead of 100k")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="report folder (docs)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ragis-bench-backup-") as work:
        result = measure(Path(work), 2_000 if args.quick else 100_000)
    section = _section(result)
    section.seconds = time.perf_counter() - started
    print(replace_section(args.out / "benchmarks.md", section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
