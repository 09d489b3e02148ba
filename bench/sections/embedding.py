"""Embedding backends: chunks/s and cosine to torch fp32, what ragis picks, and the settings
(batch size, threads, spinning) of the picked backend."""

from __future__ import annotations

import time

import numpy as np

from bench.context import Context
from bench.plots import bar_chart
from bench.report import Goal, Section, Table, fmt_ratio
from bench.stats import paired_ratio, summarize
from ragis.embedding import Embedder
from ragis.embedding.onnx import OnnxEmbedder, model_dir
from ragis.embedding.select import (
    CHOICE_FILE,
    CalibrationPlan,
    available_backends,
    encode_blocking,
    load_backend,
    select_embedder,
)
from ragis.embedding.sentence import (
    DEFAULT_MODEL_NAME,
    SentenceTransformerEmbedder,
    default_model_path,
)

__all__ = ["run"]

GOAL = 2.5


def _interleaved(
    embedders: dict[str, Embedder], texts: list[str], *, batch: int, rounds: int
) -> tuple[dict[str, list[float]], dict[str, np.ndarray]]:
    """Per round, every embedder encodes the same `batch` chunks (order rotated each round)."""
    names = list(embedders)
    for name in names:
        encode_blocking(embedders[name], texts[:4])
    speed: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        start = (r * batch) % len(texts)
        part = texts[start : start + batch] or texts[:batch]
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t = time.perf_counter()
            encode_blocking(embedders[name], part)
            speed[name].append(len(part) / (time.perf_counter() - t))
    vectors = {n: encode_blocking(embedders[n], texts) for n in names}
    return speed, vectors


def run(ctx: Context) -> Section:
    section = Section(
        "embedding",
        "1. Embedding backends",
        "The same model (all-MiniLM-L6-v2) through each backend this CPU offers, on real chunks "
        "of the benchmark corpus (~210 model tokens each), batch 32. Each round, every backend "
        "encodes the same chunks in turn (order rotated), so the ratio to torch fp32 is taken "
        "per round and its median reported: that holds up when the machine's load shifts.",
    )
    cpu = ctx.machine.cpu
    texts = ctx.flat_chunks[: 16 if ctx.quick else 96]
    rounds = 2 if ctx.quick else 6

    # What ragis picks by default, as on a first start: no choice file yet. A fresh cache also
    # has no exports, which the first start makes (and which the calibration time includes);
    # a cache given with --cache keeps its exports but gets a fresh choice file.
    auto_dir = ctx.cache
    exports = model_dir(ctx.cache, DEFAULT_MODEL_NAME)
    if (ctx.cache / CHOICE_FILE).exists():
        auto_dir = ctx.work / "auto-choice"
        target = model_dir(auto_dir, DEFAULT_MODEL_NAME)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(exports.resolve(), target_is_directory=True)
    fresh_exports = not exports.exists()
    plan = (
        CalibrationPlan(chunks=8, batch=4, rounds=1, warmup=1) if ctx.quick else CalibrationPlan()
    )
    t = time.perf_counter()
    selection = select_embedder("auto", cache_dir=auto_dir, cpu=cpu, plan=plan)
    calibration_s = time.perf_counter() - t
    ctx.embedder, ctx.backend = selection.embedder, selection.backend

    embedders: dict[str, Embedder] = {}
    offered = available_backends(cpu)
    for name, why_not in offered.items():
        if why_not is None:
            embedders[name] = (
                selection.embedder
                if name == selection.backend
                else load_backend(name, ctx.cache, 32, None, cpu)[0]
            )
    # torch as ragis shipped it (batch 32), and with the ONNX backends' micro-batch, for fairness.
    embedders = {
        "torch-fp32": embedders.pop("torch-fp32"),
        "torch-fp32 (batch 8)": SentenceTransformerEmbedder.load(batch_size=8),
        **embedders,
    }
    speed, vectors = _interleaved(embedders, texts, batch=32 if not ctx.quick else 8, rounds=rounds)
    reference = vectors["torch-fp32"]
    rows = []
    for name in embedders:
        s = summarize(speed[name])
        ratio = paired_ratio(speed[name], speed["torch-fp32"])
        cos = (vectors[name] * reference).sum(axis=1)
        rows.append(
            [
                name + (" (default)" if name == selection.backend else ""),
                s.fmt(1),
                ratio.fmt(2, "×"),
                f"{cos.mean():.4f}",
                f"{cos.min():.4f}",
            ]
        )
    for name, why in offered.items():
        if why is not None:
            rows.append([name, "not offered", "", "", why])
    section.tables.append(
        Table(
            "Throughput (chunks/s) and cosine to torch fp32",
            ["backend", "chunks/s", "× torch-fp32 (paired)", "cosine mean", "cosine min"],
            rows,
        )
    )
    path, rel = ctx.plot("embedding")
    names = list(embedders)
    sums = [summarize(speed[n]) for n in names]
    bar_chart(
        path, names, [s.median for s in sums], low=[s.low for s in sums],
        high=[s.high for s in sums], ylabel="chunks/s (batch 32)",
        title=f"Embedding throughput on {cpu.model} ({cpu.cores} cores)",
        hline=GOAL * sums[0].median, hline_label=f"goal: {GOAL}× torch-fp32",
    )  # fmt: skip
    section.plots.append((rel, "embedding throughput per backend"))

    calib_rows = [
        [m.backend, f"{m.chunks_per_s:.1f}", f"{m.speedup:.2f}×", f"{m.cosine_mean:.4f}",
         f"{m.cosine_min:.4f}", m.verdict]
        for m in selection.measurements
    ]  # fmt: skip
    section.tables.append(
        Table(
            f"What ragis picks on this machine (`RAGIS_EMBED_BACKEND=auto`): the first start's "
            f"calibration took {calibration_s:.0f} s"
            + (" including the ONNX exports" if fresh_exports else " (exports already cached)"),
            ["backend", "chunks/s", "× torch-fp32", "cosine mean", "cosine min", "verdict"],
            calib_rows,
        )
    )
    default_ratio = paired_ratio(speed[selection.backend], speed["torch-fp32"])
    section.goals.append(
        Goal(
            "default backend vs torch fp32",
            f"≥ {GOAL}×",
            f"{selection.backend}: {fmt_ratio(default_ratio.median)}",
            default_ratio.median >= GOAL,
        )
    )
    section.goals.append(
        Goal(
            "calibration time (first start)",
            "≤ 60 s",
            f"{calibration_s:.0f} s",
            calibration_s <= 60,
        )
    )
    if isinstance(selection.embedder, OnnxEmbedder):
        section.tables.append(_settings_sweep(ctx, selection.embedder, texts, rounds))
    for name, embedder in embedders.items():
        if embedder is not selection.embedder and name != "torch-fp32":
            import asyncio

            asyncio.run(embedder.aclose())
    return section


def _settings_sweep(ctx: Context, default: OnnxEmbedder, texts: list[str], rounds: int) -> Table:
    """The picked ONNX backend under other batch sizes, thread counts and spinning."""
    cpu = ctx.machine.cpu
    onnx_file = model_dir(ctx.cache, DEFAULT_MODEL_NAME) / (
        "model.onnx" if default.backend == "onnx-fp32" else f"model_qint8_{cpu.int8_target}.onnx"
    )
    configs: dict[str, dict[str, object]] = {
        "default (micro-batch 8, threads: all cores, no spinning)": {}
    }
    for batch in (16, 32, 64):
        configs[f"micro-batch {batch}"] = {"micro_batch": batch}
    configs["1 thread"] = {"threads": 1}
    configs["spinning on"] = {"spinning": True}
    embedders: dict[str, Embedder] = {}
    for label, options in configs.items():
        embedders[label] = OnnxEmbedder.load(
            onnx_file, default_model_path(), model_name=DEFAULT_MODEL_NAME,
            backend=default.backend, batch_size=64, **options,  # type: ignore[arg-type]
        )  # fmt: skip
    speed, _ = _interleaved(
        embedders,
        texts[: 64 if not ctx.quick else 8],
        batch=64 if not ctx.quick else 8,
        rounds=max(rounds // 2, 1),
    )
    base = next(iter(configs))
    rows = [
        [label, summarize(speed[label]).fmt(1), paired_ratio(speed[label], speed[base]).fmt(2, "×")]
        for label in configs
    ]
    return Table(
        f"Settings of {default.backend}: each round one call of 64 chunks, cut into micro-batches "
        "(texts per model run) of similar length",
        ["setting", "chunks/s", "× default (paired)"],
        rows,
    )
