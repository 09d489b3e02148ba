"""Retrieval quality on the evaluation sets: vector, lexical and hybrid side by side, the fusion
settings, and the threshold of the grounded gate.

Both sets of bench/eval/ (see its README): the *Debian Reference* (15 HTML chapters nobody here
wrote, 70 questions; downloaded by bench/eval/fetch.sh) and the generated service manual of error
codes (12 documents of near-identical entries, 50 questions). Each set's files go through ragis's
own parser and chunker (ragis.ingest, as the gateway runs them) and its indexing service (embed in
batches; chunk texts, keyword postings and vectors written together) into an embedded Redis 8,
with the default embedder.

Each question is embedded once, as a chat turn embeds it; then the same store is searched with
every setting, interleaved question by question: `vector`, `lexical`, `hybrid` with the convex
fusion at alpha 0.3, 0.5 and 0.7 (ragis's default is `ALPHA` of store/retrieval.py), and `hybrid`
with reciprocal rank fusion; top 5. The passages are scored by `ragis eval`'s own metrics
(ragis.client.eval: hit@k by document, MRR, passage@1, passage recall), per kind of question.

The grounded threshold: the best similarity among the five passages of the default hybrid
setting, answerable against unanswerable questions of both sets together, by the rule of
`ragis eval --calibrate` (ragis.client.eval.calibrate). Then a RAG service and a gateway start
over the same Redis with RAGIS_MIN_SCORE at that threshold, and the real `ragis eval` command
runs the Debian set through the gateway in the three modes: its table is the section's last.
The tables, goals and notes are written by bench/sections/quality_report.py.

Run alone with `python -m bench.sections.quality [--quick] [--out docs]`: it replaces this section
in docs/benchmarks.md and leaves the rest of the report as it is. `--quick` uses the error-code
set only (generated, no download). Downloads and generated sets are kept in /tmp/bench-eval.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.context import Context
from bench.report import Section, replace_section
from bench.servers import gateway_process
from ragis.client.eval import (
    Cited,
    Outcome,
    Question,
    calibrate,
    load_questions,
)
from ragis.client.eval.calibrate import Calibration
from ragis.db import EmbeddedRedis
from ragis.db.client import connect
from ragis.embedding import Embedder
from ragis.gateway.settings import GatewaySettings
from ragis.ingest import Chunker, parse_document, sanitize_filename
from ragis.rag.grounding import ground
from ragis.rag.indexing import IndexService
from ragis.rag.settings import RagSettings
from ragis.settings import load_settings
from ragis.store import CollectionInfo, DocumentRecord, RetrievedChunk, Retriever, Store
from ragis.store.migrations import migrate
from ragis.store.retrieval import ALPHA

__all__ = [
    "DEFAULT",
    "SETS",
    "SETTINGS",
    "TITLE",
    "EvalSet",
    "Measured",
    "SetResult",
    "Setting",
    "measure",
    "run",
]

TITLE = "11. Retrieval quality: hybrid search and the grounded gate"  # as in bench.__main__.TITLES
EVAL = Path(__file__).resolve().parents[1] / "eval"
EVAL_DIR = Path(tempfile.gettempdir()) / "bench-eval"
KEY_PREFIX = "quality"
TOP_K = 5
EXACT_GOAL = 0.95
SUFFIXES = (".html", ".md", ".txt")


@dataclass(frozen=True)
class EvalSet:
    collection: str
    label: str
    questions: Path
    folder: str  # under the eval cache
    make: tuple[str, ...]  # the command that writes the folder (given as last argument)

    def prepare(self, root: Path) -> Path:
        """The set's documents, fetched or generated once into `root`, checked against its
        questions (every keyword in its expected document)."""
        folder = root / self.folder
        if not _documents(folder):
            _command([*self.make, str(folder)])
        _command([sys.executable, str(EVAL / "check.py"), str(self.questions), str(folder)])
        return folder


def _command(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        name = Path(args[1] if args[0] == sys.executable else args[0]).name
        raise RuntimeError(f"{name} failed ({done.returncode}): {done.stderr[-600:]}")


SETS = {
    "debian": EvalSet(
        "debian", "Debian Reference", EVAL / "debian-reference.jsonl", "debian-reference",
        (str(EVAL / "fetch.sh"),),
    ),
    "errorcodes": EvalSet(
        "errorcodes", "error-code manual", EVAL / "errorcodes.jsonl", "errorcodes",
        (sys.executable, str(EVAL / "errorcodes.py")),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Setting:
    label: str
    mode: str
    fusion: Literal["adaptive", "convex", "rrf"] = "convex"
    alpha: float = ALPHA

    @property
    def is_default(self) -> bool:
        return self.mode == "hybrid" and self.fusion == "adaptive"


def _settings() -> tuple[Setting, ...]:
    convex = [Setting(f"hybrid α={a:g}", "hybrid", alpha=a) for a in sorted({0.3, 0.5, 0.7, 0.95})]
    return (
        Setting("vector", "vector"),
        Setting("lexical", "lexical"),
        Setting("hybrid adaptive (default)", "hybrid", fusion="adaptive"),
        *convex,
        Setting("hybrid RRF", "hybrid", fusion="rrf"),
    )


SETTINGS = _settings()
DEFAULT = next(s for s in SETTINGS if s.is_default)


@dataclass(frozen=True)
class Asked:
    """One question searched in one setting: the passages found, and the time it took."""

    question: Question
    setting: Setting
    found: tuple[RetrievedChunk, ...]
    ms: float


@dataclass
class SetResult:
    eval_set: EvalSet
    documents: int
    chunks: int
    ingest_s: float
    info: CollectionInfo
    asked: list[Asked]
    threshold: float | None = None  # the gate's, once calibrated: then outcomes say `grounded`

    def of(self, setting: Setting | None = None) -> list[Outcome]:
        """`ragis eval`'s outcomes of `setting` (of every one if None)."""
        return [
            _outcome(a, self.info, self.threshold)
            for a in self.asked
            if setting in (None, a.setting)
        ]


@dataclass
class Measured:
    sets: list[SetResult]
    calibration: Calibration  # both sets together, default hybrid
    per_set: dict[str, Calibration]
    cli: dict[str, Any] = field(default_factory=dict)  # `ragis eval --json` through the gateway
    cli_set: str = ""
    cli_command: str = ""


def _documents(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def measure(embedder: Embedder, work: Path, eval_dir: Path, *, quick: bool) -> Measured:
    """Ingest the sets, search them with every setting, calibrate, then `ragis eval` through a
    gateway (the Debian set; the error-code set when quick)."""
    chosen = [SETS["errorcodes"]] if quick else [SETS["debian"], SETS["errorcodes"]]
    folders = {s.collection: s.prepare(eval_dir) for s in chosen}
    with EmbeddedRedis(work / "redis", port=0) as redis:
        results = asyncio.run(_search_all(redis.url, embedder, chosen, folders))
        pooled = [o for r in results for o in r.of(DEFAULT)]
        calibration = calibrate(pooled)[0]
        per_set = {r.eval_set.collection: calibrate(r.of(DEFAULT))[0] for r in results}
        for result in results:
            result.threshold = calibration.threshold
        measured = Measured(results, calibration, per_set)
        cli_set = chosen[0]
        args = [
            "eval", str(cli_set.questions.relative_to(EVAL.parents[1])), "-c",
            cli_set.collection, "--retrieval", "hybrid,vector,lexical", "--calibrate",
        ]  # fmt: skip
        with _services(redis.url, embedder, round(calibration.threshold, 4)) as gateway:
            measured.cli = _ragis_eval(gateway, args)
        measured.cli_set = cli_set.collection
        measured.cli_command = (
            f"RAGIS_MIN_SCORE={calibration.threshold:.4f} ragis eval {' '.join(args[1:])}"
        )
    return measured


async def _search_all(
    redis_url: str, embedder: Embedder, chosen: Sequence[EvalSet], folders: dict[str, Path]
) -> list[SetResult]:
    redis = await connect(redis_url)
    try:
        await migrate(redis, KEY_PREFIX, url=redis_url)  # as the RAG service does first
        store = Store.create(redis, load_settings(_env_file=None, key_prefix=KEY_PREFIX))
        results = []
        for eval_set in chosen:
            started = time.perf_counter()
            documents, chunks = await _ingest(store, embedder, eval_set.collection, folders)
            ingest_s = time.perf_counter() - started
            info = await store.collections.require(eval_set.collection)
            asked = await _ask(store, embedder, eval_set, info)
            results.append(SetResult(eval_set, documents, chunks, ingest_s, info, asked))
        return results
    finally:
        await redis.aclose()


async def _ingest(
    store: Store, embedder: Embedder, collection: str, folders: dict[str, Path]
) -> tuple[int, int]:
    """Every document of the set as an upload through the gateway would index it: parsed and
    chunked by ragis.ingest with the gateway's defaults, then the RAG service's IndexService."""
    defaults = GatewaySettings.model_fields
    chunker = Chunker(defaults["chunk_tokens"].default, defaults["chunk_overlap"].default)
    batch = RagSettings.model_fields["embed_batch_size"].default
    indexer = IndexService(store, embedder, batch_size=batch)
    paths = _documents(folders[collection])
    chunks = 0
    for path in paths:
        data = path.read_bytes()
        parsed = await asyncio.to_thread(parse_document, data, path.name)
        pieces = await asyncio.to_thread(chunker.chunk, parsed)
        record = DocumentRecord(
            id=uuid.uuid4().hex, filename=sanitize_filename(path.name),
            content_type=parsed.content_type, size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), pages=parsed.page_count,
        )  # fmt: skip
        chunks += (await indexer.index(collection, record, pieces)).chunks
    return len(paths), chunks


async def _ask(
    store: Store, embedder: Embedder, eval_set: EvalSet, info: CollectionInfo
) -> list[Asked]:
    """Every question in every setting, settings interleaved per question (the machine's load
    shifts them alike); each question embedded once, alone, as a chat turn embeds it."""
    questions = load_questions(eval_set.questions)
    retrievers = {
        s.label: Retriever(
            store.redis, store.keys, store.collections, store.vectors, store.chunks,
            store.lexical, language=store.settings.lexical_language, alpha=s.alpha,
            fusion=s.fusion,
        )
        for s in SETTINGS
    }  # fmt: skip
    asked = []
    for question in questions:
        vector = (await embedder.embed([question.question]))[0]
        for setting in SETTINGS:
            started = time.perf_counter()
            found = await retrievers[setting.label].retrieve(
                info, vector, k=TOP_K, mode=setting.mode, query=question.question
            )
            ms = (time.perf_counter() - started) * 1000
            if found.mode != setting.mode:
                raise RuntimeError(f"{setting.label}: the store searched in mode {found.mode}")
            asked.append(Asked(question, setting, tuple(found.chunks), ms))
    return asked


def _outcome(asked: Asked, info: CollectionInfo, threshold: float | None) -> Outcome:
    """What `ragis eval` would have read from the answer; `grounded` by the RAG service's own
    gate (rag/grounding.py: the score, and the codes the question names) at `threshold`."""
    found, question = asked.found, asked.question.question
    return Outcome(
        question=asked.question,
        mode=asked.setting.label,
        cited=tuple(Cited(r.filename, r.chunk.page, r.chunk.text) for r in found),
        ms_to_citations=asked.ms,
        ms_total=asked.ms,
        grounded=None
        if threshold is None
        else ground(found, info, threshold, question=question).grounded,
        best_score=max((r.score for r in found), default=None),
        retrieval=asked.setting.mode,
    )


@contextlib.contextmanager
def _services(redis_url: str, embedder: Embedder, min_score: float) -> Iterator[str]:
    """The RAG service (in a thread, no LLM, the gate at `min_score`) and a gateway process over
    the Redis the sets were indexed into; yields the gateway's URL."""
    from ragis.rag.app import create_app
    from ragis.rag.settings import load_rag_settings
    from ragis.web.run import serve_in_thread

    token = secrets.token_urlsafe(32)
    settings = load_rag_settings(
        _env_file=None, redis_url=redis_url, key_prefix=KEY_PREFIX, llm_provider="none",
        internal_token=token, min_score=min_score,
    )  # fmt: skip
    with (
        serve_in_thread(create_app(settings, embedder=embedder), startup_timeout=180) as rag_url,
        gateway_process(
            rag_url=rag_url, redis_url=redis_url, key_prefix=KEY_PREFIX, internal_token=token
        ) as gateway_url,
    ):
        yield gateway_url


def _ragis_eval(gateway_url: str, args: list[str]) -> dict[str, Any]:
    """The `ragis eval` command itself, as a user runs it, with --json."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAGIS_", "REDIS_"))}
    done = subprocess.run(
        [sys.executable, "-m", "ragis", *args, "--json"],
        cwd=EVAL.parents[1],
        env={**env, "RAGIS_GATEWAY_URL": gateway_url},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ragis eval failed ({done.returncode}): {done.stderr[-600:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _machine(embedder: Embedder) -> str:
    from ragis.embedding.cpu import detect_cpu

    cpu = detect_cpu()
    return f"{cpu.model} ({cpu.cores} cores), embedder {embedder.describe()}"


def run(ctx: Context) -> Section:
    from bench.sections.quality_report import section  # it imports this module

    assert ctx.embedder is not None, "the quality section needs the default embedder"
    work = ctx.work / "quality"
    work.mkdir(parents=True, exist_ok=True)
    return section(measure(ctx.embedder, work, EVAL_DIR, quick=ctx.quick), _machine(ctx.embedder))


def main(argv: Sequence[str] | None = None) -> int:
    from bench.sections.quality_report import section as report
    from ragis.embedding.select import load_embedder

    parser = argparse.ArgumentParser(prog="python -m bench.sections.quality")
    parser.add_argument("--quick", action="store_true", help="the error-code set only")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="report folder (docs)")
    parser.add_argument(
        "--eval-dir", type=Path, default=EVAL_DIR, help=f"where the sets are kept ({EVAL_DIR})"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    # The product's choice of backend for this machine, remembered in the eval cache.
    embedder = load_embedder("auto", cache_dir=args.eval_dir / "models")
    with tempfile.TemporaryDirectory(prefix="ragis-bench-quality-") as work:
        measured = measure(embedder, Path(work), args.eval_dir, quick=args.quick)
    section = report(measured, _machine(embedder))
    section.seconds = time.perf_counter() - started
    print(replace_section(args.out / "benchmarks.md", section))
    return 0


if __name__ == "__main__":
    # As the package's module, not as __main__: the report module imports
    # bench.sections.quality, whose classes must be the ones measured with.
    from bench.sections.quality import main as package_main

    raise SystemExit(package_main())
