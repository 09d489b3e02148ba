"""Choosing the backend: names, CPU support, calibration once per machine, the cache reused."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from ragis.embedding import Embedder
from ragis.embedding.cpu import CpuInfo
from ragis.embedding.onnx import model_dir
from ragis.embedding.select import (
    BACKENDS,
    CHOICE_FILE,
    CalibrationPlan,
    Measurement,
    available_backends,
    calibration_chunks,
    decide,
    select_embedder,
)
from ragis.embedding.sentence import DEFAULT_MODEL_NAME, default_model_path
from ragis.errors import ConfigError
from support.cpus import CPU_KINDS, cpu_kind

TINY = CalibrationPlan(chunks=8, batch=4, rounds=2, warmup=1)


def test_an_unknown_backend_name_is_refused_with_the_valid_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        select_embedder("onnx-fp8", cache_dir=tmp_path)
    assert "'onnx-fp8' is not an embedding backend" in caught.value.message
    for name in ("auto", *BACKENDS):
        assert name in caught.value.message


def test_bf16_is_not_offered_without_native_bf16(cpu: CpuInfo, tmp_path: Path) -> None:
    plain = replace(cpu, flags=cpu.flags - {"avx512_bf16", "amx_bf16", "bf16"})
    assert available_backends(plain)["torch-bf16"] is not None
    with pytest.raises(ConfigError, match="no native bf16"):
        select_embedder("torch-bf16", cache_dir=tmp_path, cpu=plain)


def test_bf16_is_offered_where_the_cpu_has_it(cpu: CpuInfo) -> None:
    flags = {"bf16"} if cpu.is_arm else {"avx512_bf16"}
    assert available_backends(replace(cpu, flags=cpu.flags | flags))["torch-bf16"] is None


def test_the_calibration_text_is_fixed_prose_of_about_200_tokens() -> None:
    chunks = calibration_chunks(64)
    assert chunks == calibration_chunks(64)
    assert len(set(chunks)) == 64
    tokenizer = Tokenizer.from_file(str(default_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    counts = [len(tokenizer.encode(c).ids) for c in chunks]
    assert 170 <= sum(counts) / len(counts) <= 230
    assert max(counts) <= 256


def test_auto_calibrates_once_then_reuses_the_choice_and_the_exports(
    cpu: CpuInfo, model_cache: Path, backends: dict[str, Embedder]
) -> None:
    # `backends` has exported every ONNX file this CPU offers into model_cache.
    files = sorted(model_dir(model_cache, DEFAULT_MODEL_NAME).glob("*.onnx"))
    assert files
    before = {f: f.stat().st_mtime_ns for f in files}

    first = select_embedder("auto", cache_dir=model_cache, cpu=cpu, plan=TINY)
    assert first.calibrated
    assert first.exported == []
    offered = [n for n, why in available_backends(cpu).items() if why is None]
    assert sorted(m.backend for m in first.measurements) == sorted(offered)
    picked = [m for m in first.measurements if m.verdict.startswith("picked")]
    assert [m.backend for m in picked] == [first.backend]
    assert picked[0].cosine_mean >= 0.99
    choice = model_cache / CHOICE_FILE
    recorded = json.loads(choice.read_text())
    (entry,) = recorded["machines"].values()
    assert entry["backend"] == first.backend
    assert entry["key"]["cpu"] == cpu.model
    assert "onnxruntime" in entry["key"]["versions"]
    written = choice.stat().st_mtime_ns

    second = select_embedder("auto", cache_dir=model_cache, cpu=cpu, plan=TINY)
    assert not second.calibrated
    assert second.exported == []
    assert second.backend == first.backend
    assert second.embedder.describe() == first.embedder.describe()
    assert choice.stat().st_mtime_ns == written
    assert {f: f.stat().st_mtime_ns for f in files} == before


def test_a_choice_made_for_another_batch_size_is_not_reused(
    cpu: CpuInfo, model_cache: Path, backends: dict[str, Embedder]
) -> None:
    select_embedder("auto", cache_dir=model_cache, cpu=cpu, plan=TINY)
    other = select_embedder("auto", cache_dir=model_cache, cpu=cpu, plan=TINY, batch_size=8)
    assert other.calibrated
    assert len(json.loads((model_cache / CHOICE_FILE).read_text())["machines"]) >= 2


def test_an_explicit_backend_skips_calibration(cpu: CpuInfo, model_cache: Path) -> None:
    selection = select_embedder("torch-fp32", cache_dir=model_cache, cpu=cpu)
    assert not selection.calibrated
    assert selection.reason == "set explicitly"


OFFERED = {
    "avx2": {"torch-fp32", "onnx-fp32", "onnx-int8"},
    "avx512": {"torch-fp32", "onnx-fp32", "onnx-int8"},
    "avx512_vnni": {"torch-fp32", "onnx-fp32", "onnx-int8"},
    "avx512_bf16": {"torch-fp32", "torch-bf16", "onnx-fp32", "onnx-int8"},
    "amx": {"torch-fp32", "torch-bf16", "onnx-fp32", "onnx-int8"},
    "arm": {"torch-fp32", "torch-bf16", "onnx-fp32", "onnx-int8"},
}
INT8_RECIPE = {
    "avx2": "avx2",
    "avx512": "avx512",
    "avx512_vnni": "avx512_vnni",
    "avx512_bf16": "avx512_vnni",
    "amx": "avx512_vnni",
    "arm": "arm64",
}


def test_every_cpu_kind_has_its_expected_backends_and_int8_recipe() -> None:
    assert set(OFFERED) == set(CPU_KINDS)
    for kind in CPU_KINDS:
        cpu = cpu_kind(kind)
        offered = {name for name, why in available_backends(cpu).items() if why is None}
        assert offered == OFFERED[kind], kind
        assert cpu.int8_target == INT8_RECIPE[kind], kind


@pytest.mark.parametrize("kind", CPU_KINDS)
def test_auto_on_each_cpu_kind_measures_what_it_offers_and_picks_the_fastest_close_one(
    kind: str, model_cache: Path, backends: dict[str, Embedder], tmp_path: Path
) -> None:
    # The CPU description is injected; the backends really run here (bf16 emulated where this
    # CPU has none), so the choice is made by the same code path as on that machine.
    cpu = cpu_kind(kind)
    cache = tmp_path / "models"
    shutil.copytree(model_cache, cache, ignore=shutil.ignore_patterns(CHOICE_FILE, ".*"))
    first = select_embedder("auto", cache_dir=cache, cpu=cpu, plan=TINY)
    assert first.calibrated
    assert first.exported == [], "every recipe's int8 file was exported by `backends`"
    assert {m.backend for m in first.measurements} == OFFERED[kind]
    assert first.backend in OFFERED[kind]
    eligible = [m for m in first.measurements if m.cosine_mean >= 0.99]
    assert {m.backend for m in eligible} == OFFERED[kind], first.measurements
    best = max(eligible, key=lambda m: (m.speedup, m.chunks_per_s))
    assert first.backend == best.backend
    (entry,) = json.loads((cache / CHOICE_FILE).read_text())["machines"].values()
    assert entry["key"]["cpu"] == cpu.model
    assert entry["key"]["flags"] == cpu.relevant_flags

    again = select_embedder("auto", cache_dir=cache, cpu=cpu, plan=TINY)
    assert not again.calibrated
    assert again.backend == first.backend


def _measured(backend: str, speedup: float, cosine: float) -> Measurement:
    return Measurement(backend, 35 * speedup, (), speedup, cosine, cosine - 0.005, 1.0)


def test_decide_picks_the_fastest_backend_that_stays_within_cosine_0_99() -> None:
    # The figures of an AVX-512 VNNI + bf16 machine (FACTS): int8 3.9x, bf16 2.9x.
    measured = [
        _measured("torch-fp32", 1.0, 1.0),
        _measured("torch-bf16", 2.9, 0.999),
        _measured("onnx-fp32", 1.8, 1.0),
        _measured("onnx-int8", 3.9, 0.993),
    ]
    chosen, verdicts = decide(measured)
    assert chosen == "onnx-int8"
    assert verdicts["onnx-int8"].startswith("picked")
    assert verdicts["torch-bf16"] == "rejected: slower than onnx-int8"

    drifted = [*measured[:3], _measured("onnx-int8", 3.9, 0.985)]
    chosen, verdicts = decide(drifted)
    assert chosen == "torch-bf16"
    assert verdicts["onnx-int8"] == "rejected: mean cosine 0.9850 < 0.99"
