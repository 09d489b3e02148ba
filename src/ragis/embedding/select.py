"""Choosing the embedding backend: the fastest one on this CPU whose vectors stay within cosine
0.99 of torch fp32, measured once per machine and remembered.

    backend       what runs                                  offered when
    torch-fp32    sentence-transformers, float32             always (the reference)
    torch-bf16    sentence-transformers, bfloat16            the CPU has native bf16
    onnx-fp32     onnxruntime, fused fp32 graph              onnxruntime is installed
    onnx-int8     onnxruntime, dynamic int8 for this CPU     onnxruntime + AVX2/AVX-512/Arm

All four are the same model (one `model_name`): their vectors are interchangeable in a
collection. `load_embedder("auto", cache_dir=...)` (blocking: call it off the event loop) reads
`<cache>/embedding-choice.json`; if it holds a decision for this CPU, core count, batch size and
library versions, that backend is loaded at once. Otherwise every offered backend is loaded (ONNX
files exported into the cache, once), each encodes the same calibration chunks in interleaved
rounds, and the fastest with mean cosine >= 0.99 to torch fp32 wins. The log says why each
backend was picked or rejected; the file keeps the measurements. An explicit backend name skips
all that. The calibration takes ~15-60 s on 2 cores; the exports ~10 s, once.

The calibration and the exports load torch, which no process gives back: they run in a child
process (ragis.embedding.child), and this one then loads only the chosen backend, so a
service on an ONNX backend never imports torch (~200 MB RSS instead of ~1.4 GB).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ragis.embedding.base import Embedder, Matrix
from ragis.embedding.child import run_child
from ragis.embedding.cpu import CpuInfo, detect_cpu
from ragis.embedding.lock import exclusive
from ragis.embedding.onnx import (
    RECIPE_VERSION,
    OnnxEmbedder,
    export_fp32,
    export_int8,
    exports_ready,
    offline_hub,
    onnx_available,
)
from ragis.embedding.sentence import (
    DEFAULT_MODEL_NAME,
    SentenceTransformerEmbedder,
    default_model_path,
)
from ragis.errors import ConfigError

__all__ = [
    "AUTO",
    "BACKENDS",
    "CHOICE_FILE",
    "COSINE_FLOOR",
    "CalibrationPlan",
    "Measurement",
    "Selection",
    "available_backends",
    "calibrate_here",
    "calibration_chunks",
    "decide",
    "encode_blocking",
    "export_backend",
    "load_backend",
    "load_embedder",
    "select_embedder",
]

log = logging.getLogger("ragis.embedding")

AUTO = "auto"
BACKENDS = ("torch-fp32", "torch-bf16", "onnx-fp32", "onnx-int8")
REFERENCE = "torch-fp32"
COSINE_FLOOR = 0.99
CHOICE_FILE = "embedding-choice.json"


@dataclass(frozen=True, slots=True)
class CalibrationPlan:
    """How much to measure: `rounds` batches of `batch` chunks per backend, interleaved."""

    chunks: int = 64
    batch: int = 32
    rounds: int = 4
    warmup: int = 4


@dataclass(frozen=True, slots=True)
class Measurement:
    backend: str
    chunks_per_s: float  # median over the rounds
    rounds: tuple[float, ...]
    speedup: float  # median of per-round ratios to torch fp32 (same chunks, same moment)
    cosine_mean: float
    cosine_min: float
    load_s: float
    verdict: str = ""


@dataclass(slots=True)
class Selection:
    embedder: Embedder
    backend: str
    reason: str
    calibrated: bool
    exported: list[str] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)


def available_backends(cpu: CpuInfo) -> dict[str, str | None]:
    """Each backend with None if it is offered on `cpu`, else the sentence saying why not."""
    has_onnx = onnx_available()
    no_onnx = f"onnxruntime is not installed ({'pip install onnxruntime onnx'})"
    return {
        "torch-fp32": None,
        "torch-bf16": None
        if cpu.native_bf16
        else "this CPU has no native bf16 (avx512_bf16/amx_bf16, or Arm BF16): torch would "
        "emulate it, several times slower than fp32",
        "onnx-fp32": None if has_onnx else no_onnx,
        "onnx-int8": (None if cpu.int8_target else "this CPU has no AVX2, AVX-512 or Arm SIMD")
        if has_onnx
        else no_onnx,
    }


def load_embedder(
    backend: str = AUTO,
    *,
    cache_dir: Path,
    batch_size: int = 32,
    threads: int | None = None,
) -> Embedder:
    """The embedder to use (see the module docstring). Blocking: run it in a worker thread."""
    selection = select_embedder(
        backend, cache_dir=cache_dir, batch_size=batch_size, threads=threads
    )
    return selection.embedder


def select_embedder(
    backend: str = AUTO,
    *,
    cache_dir: Path,
    batch_size: int = 32,
    threads: int | None = None,
    cpu: CpuInfo | None = None,
    plan: CalibrationPlan = CalibrationPlan(),
) -> Selection:
    """`load_embedder` plus how the choice was made (for logs, tests and the benchmark)."""
    name = backend.strip().lower()
    if name != AUTO and name not in BACKENDS:
        raise ConfigError(
            f"RAGIS_EMBED_BACKEND: {backend!r} is not an embedding backend; use auto, "
            f"{', '.join(BACKENDS)}."
        )
    cpu = cpu or detect_cpu()
    cache_dir.mkdir(parents=True, exist_ok=True)
    if name != AUTO:
        made = _exports_in_child(name, cache_dir, batch_size, threads, cpu)
        embedder = load_backend(name, cache_dir, batch_size, threads, cpu)[0]
        return Selection(embedder, name, "set explicitly", calibrated=False, exported=made)
    with exclusive(cache_dir / ".embedding.lock"):
        key = _choice_key(cpu, batch_size, threads)
        remembered = _read_choice(cache_dir, key)
        if remembered is not None and available_backends(cpu).get(remembered["backend"]) is None:
            chosen = str(remembered["backend"])
            made = _exports_in_child(chosen, cache_dir, batch_size, threads, cpu)
            embedder = load_backend(chosen, cache_dir, batch_size, threads, cpu)[0]
            reason = f"measured on this machine on {remembered['created']}: {remembered['reason']}"
            log.info("embedding backend %s (%s)", chosen, reason)
            return Selection(embedder, chosen, reason, calibrated=False, exported=made)
        # Measured in a child, which also writes the choice (under our lock); we load the winner.
        result = run_child(
            "calibrate", backend=AUTO, cache_dir=cache_dir, batch_size=batch_size,
            threads=threads, cpu=cpu, plan=plan,
        )  # fmt: skip
        if available_backends(cpu).get(result.backend) is not None:
            raise ConfigError(
                f"Measuring the embedding backends chose {result.backend!r}, which this CPU "
                "does not offer; delete the model cache (RAGIS_MODEL_CACHE) and start again."
            )
        try:
            measurements = [
                Measurement(**{**m, "rounds": tuple(m["rounds"])}) for m in result.measurements
            ]
        except (TypeError, KeyError) as exc:
            raise ConfigError(
                "Measuring the embedding backends failed: its child process wrote a malformed "
                f"measurement ({exc})."
            ) from exc
        embedder = load_backend(result.backend, cache_dir, batch_size, threads, cpu)[0]
        return Selection(
            embedder, result.backend, result.reason, True, result.exported, measurements
        )


def _exports_in_child(
    name: str, cache_dir: Path, batch_size: int, threads: int | None, cpu: CpuInfo
) -> list[str]:
    """Make an ONNX backend's missing files in a child process (the export imports torch);
    nothing to do for a torch backend or files already exported."""
    if not name.startswith("onnx-") or available_backends(cpu).get(name) is not None:
        return []  # a torch backend, or one load_backend refuses with its sentence
    int8_target = cpu.int8_target if name == "onnx-int8" else None
    if exports_ready(default_model_path(), cache_dir, DEFAULT_MODEL_NAME, int8_target):
        return []
    result = run_child(
        "export", backend=name, cache_dir=cache_dir, batch_size=batch_size, threads=threads,
        cpu=cpu, plan=CalibrationPlan(),
    )  # fmt: skip
    return result.exported


def export_backend(name: str, cache_dir: Path, cpu: CpuInfo) -> tuple[Path, list[str]]:
    """The ONNX file of backend `name`, exported in this process if missing, and the names of
    the files made now. Exporting imports torch: the service leaves it to its child."""
    model_path = default_model_path()
    made = [export_fp32(model_path, cache_dir, DEFAULT_MODEL_NAME)]
    if name == "onnx-int8":
        assert cpu.int8_target is not None
        made.append(export_int8(model_path, cache_dir, DEFAULT_MODEL_NAME, cpu.int8_target))
    return made[-1][0], [path.name for path, now in made if now]


def load_backend(
    name: str, cache_dir: Path, batch_size: int, threads: int | None, cpu: CpuInfo
) -> tuple[Embedder, list[str], float]:
    """Load one backend in this process (exporting its ONNX file if missing, which imports
    torch: `select_embedder` has its child do that first): (embedder, exported, seconds)."""
    why_not = available_backends(cpu).get(name, "unknown backend")
    if why_not is not None:
        raise ConfigError(f"The embedding backend {name} is not available: {why_not}.")
    started = time.perf_counter()
    model_path = default_model_path()
    exported: list[str] = []
    embedder: Embedder
    if name.startswith("torch-"):
        embedder = _load_torch(
            model_path, bf16=name == "torch-bf16", batch=batch_size, threads=threads
        )
    else:
        onnx_file, exported = export_backend(name, cache_dir, cpu)
        embedder = OnnxEmbedder.load(
            onnx_file,
            model_path,
            model_name=DEFAULT_MODEL_NAME,
            backend=name,
            batch_size=batch_size,
            threads=threads,
        )
    return embedder, exported, time.perf_counter() - started


def _load_torch(model_path: Path, *, bf16: bool, batch: int, threads: int | None) -> Embedder:
    if not bf16:
        return SentenceTransformerEmbedder.load(model_path, batch_size=batch, threads=threads)
    offline_hub()
    import torch
    from sentence_transformers import SentenceTransformer

    if threads:
        torch.set_num_threads(threads)
    model = SentenceTransformer(
        str(model_path), device="cpu", model_kwargs={"torch_dtype": torch.bfloat16}
    )
    model.eval()
    return SentenceTransformerEmbedder(
        model, model_name=DEFAULT_MODEL_NAME, batch_size=batch, backend="torch-bf16"
    )


# --- calibration -----------------------------------------------------------------------------


def _calibrate(
    cpu: CpuInfo, cache_dir: Path, batch_size: int, threads: int | None, plan: CalibrationPlan
) -> Selection:
    started = time.perf_counter()
    log.info("measuring the embedding backends on %s (once per machine) ...", cpu.describe())
    loaded: dict[str, Embedder] = {}
    load_s: dict[str, float] = {}
    exported: list[str] = []
    rejected: dict[str, str] = {}
    for name, why_not in available_backends(cpu).items():
        if why_not is not None:
            rejected[name] = f"not offered: {why_not}"
            continue
        try:
            loaded[name], made, load_s[name] = load_backend(
                name, cache_dir, batch_size, threads, cpu
            )
        except Exception as exc:  # a backend that cannot load is reported, not fatal
            if name == REFERENCE:
                raise
            rejected[name] = f"failed to load: {exc}"
            continue
        exported += made
    measurements = measure(loaded, calibration_chunks(plan.chunks), plan)
    measurements = [
        Measurement(**{**asdict(m), "load_s": round(load_s[m.backend], 2)}) for m in measurements
    ]
    chosen, verdicts = decide(measurements)
    measurements = [
        Measurement(**{**asdict(m), "verdict": verdicts[m.backend]}) for m in measurements
    ]
    for m in measurements:
        log.info(
            "embedding backend %s: %.1f chunks/s (%.2fx torch-fp32), cosine to fp32 mean %.4f "
            "min %.4f -> %s",
            m.backend, m.chunks_per_s, m.speedup, m.cosine_mean, m.cosine_min, m.verdict,
        )  # fmt: skip
    for name, why in rejected.items():
        log.info("embedding backend %s -> rejected: %s", name, why)
    for name, embedder in loaded.items():
        if name != chosen:
            _close(embedder)
    reason = verdicts[chosen]
    log.info("embedding backend %s chosen in %.0f s", chosen, time.perf_counter() - started)
    return Selection(loaded[chosen], chosen, reason, True, exported, measurements)


def calibrate_here(
    cpu: CpuInfo, cache_dir: Path, batch_size: int, threads: int | None, plan: CalibrationPlan
) -> Selection:
    """Measure in this process and remember the choice in the cache: the child's task (it
    imports torch). The caller holds the cache's lock."""
    selection = _calibrate(cpu, cache_dir, batch_size, threads, plan)
    _write_choice(cache_dir, _choice_key(cpu, batch_size, threads), selection)
    return selection


def measure(
    embedders: dict[str, Embedder], texts: Sequence[str], plan: CalibrationPlan
) -> list[Measurement]:
    """Speed and cosine to the first embedder (the reference), in interleaved rounds: every
    round, each embedder encodes the same `plan.batch` chunks (in a rotated order), so the
    per-round ratios compare like with like even when the machine's load changes."""
    names = list(embedders)
    for name in names:
        encode_blocking(embedders[name], texts[: plan.warmup])
    speed: dict[str, list[float]] = {name: [] for name in names}
    vectors: dict[str, dict[int, Matrix]] = {name: {} for name in names}
    for r in range(plan.rounds):
        start = (r * plan.batch) % max(len(texts), 1)
        batch = list(texts[start : start + plan.batch]) or list(texts[: plan.batch])
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t = time.perf_counter()
            vecs = encode_blocking(embedders[name], batch)
            speed[name].append(len(batch) / (time.perf_counter() - t))
            vectors[name].setdefault(start, vecs)
    reference = names[0]
    results = []
    for name in names:
        cosines = np.concatenate(
            [(vectors[name][s] * vectors[reference][s]).sum(axis=1) for s in vectors[reference]]
        )
        ratios = [a / b for a, b in zip(speed[name], speed[reference], strict=True)]
        results.append(
            Measurement(
                backend=name,
                chunks_per_s=round(statistics.median(speed[name]), 2),
                rounds=tuple(round(x, 2) for x in speed[name]),
                speedup=round(statistics.median(ratios), 3),
                cosine_mean=round(float(cosines.mean()), 5),
                cosine_min=round(float(cosines.min()), 5),
                load_s=0.0,
            )
        )
    return results


def decide(measurements: Sequence[Measurement]) -> tuple[str, dict[str, str]]:
    """The backend to use and a verdict for each measured one."""
    eligible = [m for m in measurements if m.cosine_mean >= COSINE_FLOOR]
    # By the paired ratio: it compares backends measured in the same moments.
    best = max(eligible, key=lambda m: (m.speedup, m.chunks_per_s))
    verdicts = {}
    for m in measurements:
        if m is best:
            verdicts[m.backend] = (
                f"picked: fastest with mean cosine >= {COSINE_FLOOR} "
                f"({m.chunks_per_s:.1f} chunks/s, {m.speedup:.2f}x torch-fp32)"
            )
        elif m.cosine_mean < COSINE_FLOOR:
            verdicts[m.backend] = f"rejected: mean cosine {m.cosine_mean:.4f} < {COSINE_FLOOR}"
        else:
            verdicts[m.backend] = f"rejected: slower than {best.backend}"
    return best.backend, verdicts


def encode_blocking(embedder: Embedder, texts: Sequence[str]) -> Matrix:
    """Encode without an event loop (calibration, benchmarks): any backend."""
    if isinstance(embedder, OnnxEmbedder):
        return embedder.encode(texts)
    return asyncio.run(embedder.embed(texts))


def _close(embedder: Embedder) -> None:
    asyncio.run(embedder.aclose())


# --- the remembered choice -------------------------------------------------------------------


def _versions() -> dict[str, str]:
    found = {"recipe": RECIPE_VERSION}
    for dist in ("torch", "onnxruntime", "sentence-transformers", "transformers", "ragis"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[dist] = importlib.metadata.version(dist)
    return found


def _choice_key(cpu: CpuInfo, batch_size: int, threads: int | None) -> dict[str, Any]:
    return {
        "cpu": cpu.model,
        "arch": cpu.arch,
        "cores": cpu.cores,
        "flags": cpu.relevant_flags,
        "threads": threads or 0,
        "batch_size": batch_size,
        "model": DEFAULT_MODEL_NAME,
        "versions": _versions(),
    }


def _key_id(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def _load_file(cache_dir: Path) -> dict[str, Any]:
    path = cache_dir / CHOICE_FILE
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and isinstance(data.get("machines"), dict):
            return data
    return {"machines": {}}


def _read_choice(cache_dir: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    entry = _load_file(cache_dir)["machines"].get(_key_id(key))
    if (
        not isinstance(entry, dict)
        or entry.get("key") != key
        or entry.get("backend") not in BACKENDS
    ):
        return None
    return entry


def _write_choice(cache_dir: Path, key: dict[str, Any], selection: Selection) -> None:
    data = _load_file(cache_dir)
    data["machines"][_key_id(key)] = {
        "key": key,
        "backend": selection.backend,
        "reason": selection.reason,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cosine_floor": COSINE_FLOOR,
        "measurements": [asdict(m) for m in selection.measurements],
    }
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".tmp-", suffix=".json")
    os.chmod(tmp, 0o644)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1)
        handle.write("\n")
    os.replace(tmp, cache_dir / CHOICE_FILE)


# --- calibration text ------------------------------------------------------------------------

_TOPICS = (
    "The Danube rises in the Black Forest and flows for about 2,850 kilometres through ten "
    "countries before it reaches the Black Sea. | Barges carry grain, ore and fertiliser along "
    "the river, although low water in late summer often forces them to sail half empty. | "
    "Vienna, Bratislava, Budapest and Belgrade all grew on its banks, and each city built its "
    "old town on the higher ground above the floods. | The Iron Gates gorge, where the river cuts "
    "through the Carpathians, was once so dangerous that ships were towed upstream by "
    "locomotives. | Two large dams now hold back the water there, producing electricity for "
    "Romania and Serbia and drowning the old island of Ada Kaleh. | In the delta, reed beds and "
    "shallow lakes shelter pelicans, herons and more than three hundred other species of birds. "
    "| Fishermen in the delta villages still travel by boat, because many settlements have no "
    "road connection to the mainland.",
    "A sourdough starter is a mixture of flour and water in which wild yeasts and lactic acid "
    "bacteria live together. | The bacteria produce lactic and acetic acids that give the bread "
    "its sour taste, while the yeasts produce the gas that makes it rise. | Bakers feed the "
    "starter every day with fresh flour, and a healthy one doubles in volume within six to eight "
    "hours at room temperature. | Long, cool fermentation in the refrigerator develops more "
    "flavour and makes the crust blister and darken in the oven. | Most home bakers shape the "
    "dough into a round loaf, let it rest in a floured basket, and bake it in a covered cast "
    "iron pot. | The lid traps steam during the first twenty minutes, which keeps the surface "
    "soft so the loaf can expand before the crust sets. | A loaf is done when it sounds hollow "
    "when tapped underneath and its inside has reached about ninety-six degrees Celsius.",
    "The invoice must show the supplier's tax number, the date of supply and the net amount for "
    "each rate of value added tax. | Customers who pay within fourteen days receive a discount "
    "of two percent, unless the contract sets out different terms. | Late payments are charged "
    "interest at eight percentage points above the base rate of the central bank, from the day "
    "after the due date. | If goods arrive damaged, the buyer has to report the defect in "
    "writing within five working days and keep the packaging for inspection. | Credit notes are "
    "issued only against the original invoice number, and refunds are paid to the account from "
    "which the payment was made. | The finance team closes the books on the third working day "
    "of each month, so invoices received later are booked in the following period. | Auditors "
    "review a random sample of transactions every quarter and compare them with purchase orders "
    "and delivery notes.",
    "Hypertension rarely causes symptoms, which is why many people learn that their blood "
    "pressure is too high only during a routine check. | Doctors usually measure it several "
    "times on different days before they make a diagnosis, because stress and caffeine can "
    "raise a single reading. | Reducing salt, losing weight, drinking less alcohol and "
    "exercising regularly can lower the systolic pressure by five to ten points. | When "
    "lifestyle changes are not enough, the first medicines are usually diuretics, ACE "
    "inhibitors or calcium channel blockers. | Patients are asked to take their tablets at the "
    "same time every day and to keep a diary of readings from a home monitor. | Untreated high "
    "blood pressure damages the arteries over the years and raises the risk of stroke, heart "
    "failure and kidney disease. | A follow-up visit after four to six weeks shows whether the "
    "dose works or whether a second medicine should be added.",
    "The server keeps every key in memory and writes an append-only file to disk, so that it "
    "can rebuild the data set after a restart. | With fsync once per second, a crash can lose at "
    "most about one second of acknowledged writes, which most applications accept. | Replicas "
    "connect to the primary, receive a snapshot, and then apply the stream of commands that "
    "follows it to stay in sync. | When the primary fails, a sentinel or the cluster itself "
    "promotes a replica and tells the clients where to send their writes. | Large values slow "
    "down replication and increase latency for everyone, so it is better to split them into "
    "several smaller keys. | Operators watch the memory usage, the number of connected clients "
    "and the slow log, and set an eviction policy before memory runs out. | Commands that scan "
    "the whole key space block the server while they run and should never be used on a busy "
    "production instance.",
    "The tenant may not sublet the flat or any part of it without the written consent of the "
    "landlord, which shall not be refused without reason. | Rent is due on the first working "
    "day of each month and is to be paid by bank transfer to the account named in this "
    "agreement. | The deposit of three months' rent is held in a separate account and returned "
    "with interest within six weeks after the tenancy ends. | Minor repairs up to one hundred "
    "euros per case are paid by the tenant, while the landlord remains responsible for the "
    "structure and the heating. | Either party may end the agreement with three months' notice "
    "to the end of a calendar month, given in writing. | Pets other than small animals kept in "
    "cages require the landlord's permission, which may be withdrawn if neighbours are "
    "disturbed. | At the end of the tenancy the flat must be handed back clean, with all keys, "
    "and with any holes in the walls filled.",
    "The Antikythera mechanism, found in a Roman-era shipwreck in 1901, is a bronze device with "
    "at least thirty interlocking gears. | X-ray tomography revealed inscriptions on its plates "
    "that describe the motions of the Sun, the Moon and probably the five known planets. | By "
    "turning a hand crank, its user could predict eclipses years in advance and follow the "
    "four-year cycle of the Olympic Games. | Historians were surprised, because no other "
    "machine of comparable complexity is known from the next thousand years. | The wreck itself "
    "was discovered by sponge divers who had sheltered from a storm near the small island "
    "between Crete and the mainland. | Later expeditions recovered statues, glassware, coins and "
    "even human bones, which may one day allow a study of the crew's DNA. | Researchers still "
    "argue about who built the mechanism, with Rhodes and Corinth among the workshops named.",
    "To replace the chain, shift to the smallest sprocket, open the quick link with pliers and "
    "pull the old chain off the bicycle. | A worn chain stretches over time, and a chain checker "
    "shows when it has grown by more than half a percent and should be changed. | Route the new "
    "chain through the rear derailleur exactly as the old one ran, making sure it passes inside "
    "both guide tabs. | The right length is usually the length that wraps the largest chainring "
    "and the largest sprocket plus two links, without the derailleur. | After closing the quick "
    "link, press down on the pedal to snap it into place and check that it moves freely over "
    "every gear. | A few drops of lubricant on each roller, wiped off after a minute, keep the "
    "drivetrain quiet and stop it from collecting dirt. | Riders who change their chain "
    "regularly can often keep the same cassette and chainrings for three or four chains.",
)


def calibration_chunks(n: int = 64, *, seed: int = 7) -> list[str]:
    """`n` prose chunks of ~150-230 model tokens (mean ~190), the same on every machine:
    sentences of one topic, shuffled, with a few from another topic mixed in."""
    topics = [[s.strip() for s in text.split(" | ")] for text in _TOPICS]
    rng = random.Random(seed)
    chunks = []
    for i in range(n):
        own, other = topics[i % len(topics)], topics[(i * 3 + 1) % len(topics)]
        pool = own + other[: 2 + i % 3]
        rng.shuffle(pool)
        chunks.append(" ".join(pool[: 6 + i % 3]))
    return chunks
