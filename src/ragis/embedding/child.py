"""The parent's side of the embedding child process (ragis.embedding.calibrate): start it with
a request, wait, and read its result.

Measuring the backends loads torch, sentence-transformers and every candidate model; exporting
to ONNX loads torch, transformers and onnx. None of it is given back when the work is done: a RAG
service that did it itself stayed at ~1.4 GB RSS next to the ~150 MB ONNX session it went on to
use. So `select_embedder` has that work done by `python -m ragis.embedding.calibrate`, then loads
only the chosen backend: with an ONNX one, the service never imports torch.

    task        the child                                               result
    calibrate   exports what is offered, measures, decides, writes     backend, reason,
                `embedding-choice.json` (the parent holds the lock)    exports, measurements
    export      exports one ONNX backend's files                       exports

The request (a JSON file) carries the task, the cache folder, batch size, threads, the CPU
description (an injected one too) and the calibration plan; the child writes its result to
another JSON file and exits. Its log lines go to the service's stderr, in the service's format,
as they happen. A child that fails, or ends without a result, becomes one `ConfigError`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragis.embedding.cpu import CpuInfo
from ragis.errors import ConfigError

if TYPE_CHECKING:
    from ragis.embedding.select import CalibrationPlan

__all__ = ["TASKS", "ChildResult", "read_result", "run_child"]

log = logging.getLogger("ragis.embedding")

TASKS = ("calibrate", "export")


@dataclass(slots=True)
class ChildResult:
    backend: str = ""
    reason: str = ""
    exported: list[str] = field(default_factory=list)
    measurements: list[dict[str, Any]] = field(default_factory=list)


def run_child(
    task: str,
    *,
    backend: str,
    cache_dir: Path,
    batch_size: int,
    threads: int | None,
    cpu: CpuInfo,
    plan: CalibrationPlan,
) -> ChildResult:
    """Run `task` in a fresh interpreter and wait for it; its result, or a `ConfigError`."""
    request = {
        "task": task,
        "backend": backend,
        "cache_dir": str(cache_dir),
        "batch_size": batch_size,
        "threads": threads or 0,
        "cpu": {"model": cpu.model, "arch": cpu.arch, "cores": cpu.cores,
                "flags": sorted(cpu.flags)},
        "plan": asdict(plan),
        "log": _log_setup(),
        "parent": os.getpid(),
    }  # fmt: skip
    what = (
        "Measuring the embedding backends"
        if task == "calibrate"
        else f"Exporting the embedding backend {backend} to ONNX"
    )
    with tempfile.TemporaryDirectory(prefix="ragis-calibrate-") as tmp:
        request_file, result_file = Path(tmp) / "request.json", Path(tmp) / "result.json"
        request_file.write_text(json.dumps(request))
        started = time.perf_counter()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ragis.embedding.calibrate",
                str(request_file),
                str(result_file),
            ],
            stdin=subprocess.DEVNULL,
        )
        try:
            code = process.wait()
        finally:
            # Interrupted (Ctrl-C, a cancelled start-up): the child must not outlive the wait.
            if process.poll() is None:
                process.kill()
                process.wait()
        log.info("%s: child process done in %.0f s", what.lower(), time.perf_counter() - started)
        return read_result(result_file, what=what, exit_code=code)


def read_result(path: Path, *, what: str, exit_code: int) -> ChildResult:
    """The child's result file, checked field by field (it crosses a process boundary)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        how = f"killed by signal {-exit_code}" if exit_code < 0 else f"exit code {exit_code}"
        raise ConfigError(
            f"{what} failed: its child process ended ({how}) without a result; its log above "
            "says why (out of memory is the usual cause)."
        )
    if data.get("ok") is not True:
        error = data.get("error")
        detail = error if isinstance(error, str) and error else "no reason given"
        raise ConfigError(f"{what} failed in its child process: {detail}")
    result = ChildResult(
        backend=data.get("backend", ""),
        reason=data.get("reason", ""),
        exported=data.get("exported", []),
        measurements=data.get("measurements", []),
    )
    if (
        not isinstance(result.backend, str)
        or not isinstance(result.reason, str)
        or not isinstance(result.exported, list)
        or not all(isinstance(x, str) for x in result.exported)
        or not isinstance(result.measurements, list)
        or not all(isinstance(m, dict) for m in result.measurements)
    ):
        raise ConfigError(f"{what} failed: its child process wrote a malformed result.")
    return result


def _log_setup() -> dict[str, Any]:
    """How the child should log: at our level, in our root handler's format (the same lines
    in the terminal of `ragis up` whichever process wrote them)."""
    fmt = next((h.formatter._fmt for h in logging.root.handlers if h.formatter), None)
    return {"level": log.getEffectiveLevel(), "format": fmt}
