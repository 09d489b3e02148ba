"""The torch work (measuring the backends, the ONNX exports) runs in a child process, so a service
on an ONNX backend never holds torch: after `select_embedder` in a fresh interpreter, `torch` is
not in `sys.modules` (the RAG service stayed at ~1.4 GB RSS after a first start that measured
in-process, ~150 MB without torch). The child's request and result cross a process boundary:
both are checked, and a failing child is one `ConfigError` with a sentence."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ragis.embedding import Embedder
from ragis.embedding.calibrate import main as child_main
from ragis.embedding.child import read_result
from ragis.embedding.cpu import CpuInfo
from ragis.embedding.onnx import model_dir
from ragis.embedding.select import CHOICE_FILE, select_embedder
from ragis.embedding.sentence import DEFAULT_MODEL_NAME
from ragis.errors import ConfigError

HEAVY = ("torch", "sentence_transformers", "transformers", "onnx")

# Run in a fresh interpreter: what a RAG service process holds after choosing its backend.
SELECT = """
import asyncio, json, sys
from pathlib import Path
from ragis.embedding.select import CalibrationPlan, select_embedder
plan = CalibrationPlan(chunks=8, batch=4, rounds=2, warmup=1)
selection = select_embedder(sys.argv[1], cache_dir=Path(sys.argv[2]), plan=plan)
vectors = asyncio.run(selection.embedder.embed(["Which volcano is on Sicily?"]))
print(json.dumps({
    "backend": selection.backend, "calibrated": selection.calibrated,
    "exported": selection.exported, "dim": int(vectors.shape[1]),
    "loaded": [name for name in HEAVY if name in sys.modules],
}))
""".replace("HEAVY", repr(HEAVY))


def _select_in_fresh_process(backend: str, cache: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SELECT, backend, str(cache)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_an_explicit_onnx_backend_on_a_fresh_cache_is_served_without_torch(
    cpu: CpuInfo, tmp_path: Path
) -> None:
    # The first start exports the ONNX files (torch) in the child; this process only loads them.
    backend = "onnx-int8" if cpu.int8_target else "onnx-fp32"
    first = _select_in_fresh_process(backend, tmp_path / "models")
    assert first["backend"] == backend
    assert "model.onnx" in first["exported"]
    assert first["dim"] == 384
    assert first["loaded"] == [], f"the serving process imported {first['loaded']}"

    second = _select_in_fresh_process(backend, tmp_path / "models")
    assert second["exported"] == []
    assert second["loaded"] == []


def test_auto_measures_in_a_child_and_keeps_only_the_winner_in_this_process(
    model_cache: Path, backends: dict[str, Embedder], tmp_path: Path
) -> None:
    # The session's exports, no choice yet: what the calibration loads (every backend, torch
    # among them) stays in the child; this process holds the winner alone.
    cache = tmp_path / "models"
    shutil.copytree(model_cache, cache, ignore=shutil.ignore_patterns(CHOICE_FILE, ".*"))
    first = _select_in_fresh_process("auto", cache)
    assert first["calibrated"]
    (entry,) = json.loads((cache / CHOICE_FILE).read_text())["machines"].values()
    assert entry["backend"] == first["backend"], "the child wrote the choice it returned"
    torch_backend = first["backend"].startswith("torch-")
    assert ("torch" in first["loaded"]) is torch_backend, first
    assert "onnx" not in first["loaded"]

    again = _select_in_fresh_process("auto", cache)
    assert not again["calibrated"], "the remembered choice is reused"
    assert again["backend"] == first["backend"]
    assert ("torch" in again["loaded"]) is torch_backend, again


def test_importing_the_services_imports_no_model_library() -> None:
    code = (
        "import sys, ragis.rag.app, ragis.gateway.app, ragis.embedding, ragis.cli\n"
        f"print([name for name in {HEAVY!r} if name in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_failing_export_child_is_one_config_error_with_a_sentence(
    cpu: CpuInfo, tmp_path: Path
) -> None:
    # A file where the export folder should be: the child's export fails, whoever runs it.
    cache = tmp_path / "models"
    model_dir(cache, DEFAULT_MODEL_NAME).parent.parent.mkdir(parents=True)
    model_dir(cache, DEFAULT_MODEL_NAME).parent.write_text("not a folder")
    with pytest.raises(ConfigError) as caught:
        select_embedder("onnx-fp32", cache_dir=cache, cpu=cpu)
    message = caught.value.message
    assert message.startswith(
        "Exporting the embedding backend onnx-fp32 to ONNX failed in its child process: "
    ), message
    assert "Error" in message
    assert str(cache) in message
    assert message.endswith(".")
    assert "\n" not in message
    assert "Traceback" not in message


def test_a_failing_calibration_child_is_one_config_error_and_loads_nothing(
    cpu: CpuInfo, model_cache: Path, backends: dict[str, Embedder], tmp_path: Path
) -> None:
    # The child measures, then cannot write its choice (a folder in the file's place).
    cache = tmp_path / "models"
    shutil.copytree(model_cache, cache, ignore=shutil.ignore_patterns(CHOICE_FILE, ".*"))
    (cache / CHOICE_FILE).mkdir()
    from ragis.embedding.select import CalibrationPlan

    with pytest.raises(ConfigError) as caught:
        select_embedder(
            "auto", cache_dir=cache, cpu=cpu, plan=CalibrationPlan(chunks=4, batch=2, rounds=1)
        )
    message = caught.value.message
    assert message.startswith("Measuring the embedding backends failed in its child process: ")
    assert CHOICE_FILE in message
    assert message.endswith(".")


REFUSED: dict[str, Any] = {
    "not JSON": "{not json",
    "a list": [],
    "an unknown task": {"task": "rm -rf /"},
    "an export of a torch backend": {"backend": "torch-fp32", "task": "export"},
    "int8 on a CPU without int8 kernels": {
        "backend": "onnx-int8",
        "task": "export",
        "cpu": {"model": "x", "arch": "x86_64", "cores": 2, "flags": []},
    },
    "a string batch size": {"batch_size": "32"},
    "a boolean batch size": {"batch_size": True},
    "a negative thread count": {"threads": -1},
    "a huge core count": {"cpu": {"model": "x", "arch": "x86_64", "cores": 10**12, "flags": []}},
    "flags that are not strings": {"cpu": {"model": "x", "arch": "x", "cores": 2, "flags": [1]}},
    "a plan with an extra field": {
        "plan": {"chunks": 8, "batch": 4, "rounds": 1, "warmup": 0, "__class__": "x"}
    },
    "a plan of zero rounds": {"plan": {"chunks": 8, "batch": 4, "rounds": 0, "warmup": 0}},
    "a NUL in the cache path": {"cache_dir": "/tmp/a\0b"},
    "a log format that is not text": {"log": {"level": 20, "format": 42}},
    "no parent": {"parent": None},
}


def _request(**changes: Any) -> dict[str, Any]:
    return {
        "task": "export", "backend": "onnx-fp32", "cache_dir": "/nonexistent/models",
        "batch_size": 32, "threads": 0,
        "cpu": {"model": "x", "arch": "x86_64", "cores": 2, "flags": ["avx2"]},
        "plan": {"chunks": 8, "batch": 4, "rounds": 1, "warmup": 0},
        "log": {"level": 20, "format": None},
        "parent": os.getpid(),
        **changes,
    }  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_child_refuses_a_hostile_request_with_a_sentence_and_does_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = REFUSED[case]
    request = tmp_path / "request.json"
    if isinstance(payload, str):
        request.write_text(payload)
    else:
        request.write_text(
            json.dumps(_request(**payload) if isinstance(payload, dict) else payload)
        )
    result = tmp_path / "result.json"
    assert child_main([str(request), str(result)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ragis calibration: "), err
    assert err.count("\n") == 1, err
    assert not result.exists()


def test_the_child_entry_point_refuses_a_bad_command_line_without_a_traceback(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ragis.embedding.calibrate", str(tmp_path / "missing.json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("usage: python -m ragis.embedding.calibrate")
    assert "Traceback" not in done.stderr
    assert "Warning" not in done.stderr


@pytest.mark.parametrize(
    ("content", "exit_code", "expected"),
    [
        (None, -9, "ended (killed by signal 9) without a result"),
        ("", 1, "ended (exit code 1) without a result"),
        ("[1, 2]", 0, "ended (exit code 0) without a result"),
        ('{"ok": false, "error": 5}', 1, "failed in its child process: no reason given"),
        ('{"ok": "yes"}', 0, "failed in its child process: no reason given"),
        ('{"ok": true, "exported": "model.onnx"}', 0, "wrote a malformed result"),
        ('{"ok": true, "exported": [1]}', 0, "wrote a malformed result"),
        ('{"ok": true, "backend": ["onnx-int8"]}', 0, "wrote a malformed result"),
        ('{"ok": true, "measurements": ["fast"]}', 0, "wrote a malformed result"),
    ],
)
def test_a_missing_or_hostile_result_is_a_config_error(
    content: str | None, exit_code: int, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "result.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        read_result(path, what="Measuring the embedding backends", exit_code=exit_code)
    assert expected in caught.value.message
    assert caught.value.message.startswith("Measuring the embedding backends ")


def test_the_child_exits_when_the_service_that_started_it_is_killed(
    model_cache: Path, backends: dict[str, Embedder], tmp_path: Path
) -> None:
    # kill -9 of a RAG service mid-calibration must not leave the child measuring for nobody.
    cache = tmp_path / "models"
    shutil.copytree(model_cache, cache, ignore=shutil.ignore_patterns(CHOICE_FILE, ".*"))
    code = (
        "import sys; from pathlib import Path; from ragis.embedding.select import "
        "CalibrationPlan, select_embedder; select_embedder('auto', cache_dir=Path(sys.argv[1]), "
        "plan=CalibrationPlan(chunks=10_000, batch=32, rounds=10_000))"
    )
    parent = subprocess.Popen([sys.executable, "-c", code, str(cache)])
    children = Path(f"/proc/{parent.pid}/task/{parent.pid}/children")
    child = 0
    while not child:
        assert parent.poll() is None, "the service process ended before starting its child"
        child = int((children.read_text().split() or ["0"])[0])
        time.sleep(0.05)
    parent.kill()
    parent.wait()
    # The child notices that its parent is gone and exits (reaped by init, not by us). The
    # deadline only stops a hang; the child checks every half second.
    deadline = time.monotonic() + 120
    while _state(child) not in ("Z", "X"):
        if time.monotonic() > deadline:
            os.kill(child, 9)
            pytest.fail("the child went on measuring after its parent was killed")
        time.sleep(0.1)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"
