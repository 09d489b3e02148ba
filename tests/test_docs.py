"""docs/redis-layout.md must list every key the data layer writes."""

from __future__ import annotations

import re
import time
from pathlib import Path

from redis.asyncio import Redis

from ragis.store import Citation, Message, Store
from support.corpus import add_document
from support.vectors import unit

LAYOUT = Path(__file__).resolve().parents[1] / "docs" / "redis-layout.md"
PLACEHOLDERS = {"NAME": r"[A-Za-z0-9_.-]+", "DOC": r"[A-Za-z0-9_.-]+", "POS": r"\d+",
                "ENTRY": r"[0-9a-f]+", "ID": r"[A-Za-z0-9_.-]+",
                "WS": r"[A-Za-z0-9_.-]+", "TERM": r"\S+"}  # fmt: skip


def documented_patterns(prefix: str) -> list[re.Pattern[str]]:
    patterns = []
    for line in LAYOUT.read_text().splitlines():
        match = re.match(r"\| `(ragis:[^`]+)` \|", line)
        if not match:
            continue
        regex = re.escape(match.group(1))
        for name, part in PLACEHOLDERS.items():
            regex = regex.replace(name, part)
        patterns.append(re.compile("^" + regex.replace("ragis", re.escape(prefix), 1) + "$"))
    return patterns


async def test_every_key_the_data_layer_writes_is_documented(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "docs", "d1", [unit(1), unit(2)], pages=[1, 2])
    await add_document(store, "docs", "being-written", [unit(4)], ready=False)  # a lease
    await store.originals.put("docs", "d1", b"%PDF-1.4", "application/pdf")
    version = await store.collections.version("docs")
    await store.cache.store(
        "docs", unit(3), question="q", answer="a", citations=[], version=version,
        model="m", prompt_version="1", retrieval="r", terms="x",
    )  # fmt: skip
    cite = Citation(1, "d1", "doc.txt", 1, 0.9, "t")
    await store.sessions.append(
        "s1", [Message("user", "q", time.time(), (cite,))], collection="docs"
    )
    patterns = documented_patterns(prefix)
    assert len(patterns) >= 10
    written = [k.decode() async for k in redis.scan_iter(match=f"{prefix}:*")]
    assert len(written) >= 10
    undocumented = [k for k in written if not any(p.match(k) for p in patterns)]
    assert undocumented == []
