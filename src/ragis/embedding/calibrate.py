"""`python -m ragis.embedding.calibrate REQUEST.json RESULT.json`: the embedding work that
imports torch (measuring the backends, exporting to ONNX), run by the RAG service in this child
process so that the service itself never holds torch. ragis.embedding.child starts it and says
why; this is the child: it checks the request, does the task, writes the result, and exits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ragis.embedding.child import TASKS, ChildResult
from ragis.embedding.cpu import CpuInfo
from ragis.embedding.select import CalibrationPlan, calibrate_here, export_backend
from ragis.errors import ConfigError

__all__ = ["main"]

log = logging.getLogger("ragis.embedding")

#: The exit code of a refused request (the parent's bug, not the user's).
BAD_REQUEST = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print(
            "usage: python -m ragis.embedding.calibrate REQUEST.json RESULT.json "
            "(run by the RAG service at its first start, not by hand)",
            file=sys.stderr,
        )
        return BAD_REQUEST
    result_file = Path(args[1])
    try:
        request = _parse_request(Path(args[0]))
    except ConfigError as exc:
        print(f"ragis calibration: {exc.message}", file=sys.stderr)
        return BAD_REQUEST
    _exit_with_parent(request["parent"])
    _configure_logging(request["log"])
    try:
        result = _run(request)
        outcome: dict[str, Any] = {"ok": True, **asdict(result)}
    except Exception as exc:  # reported to the parent as a sentence; the traceback is ours
        log.debug("embedding child process failed", exc_info=True)
        message = exc.message if isinstance(exc, ConfigError) else f"{type(exc).__name__}: {exc}"
        outcome = {"ok": False, "error": _sentence(message)}
    tmp = result_file.with_name(result_file.name + ".tmp")
    tmp.write_text(json.dumps(outcome))
    os.replace(tmp, result_file)
    return 0 if outcome["ok"] else 1


def _run(request: dict[str, Any]) -> ChildResult:
    cache_dir = Path(request["cache_dir"])
    cpu: CpuInfo = request["cpu"]
    threads = request["threads"] or None
    if request["task"] == "export":
        return ChildResult(
            backend=request["backend"],
            exported=export_backend(request["backend"], cache_dir, cpu)[1],
        )
    plan = CalibrationPlan(**request["plan"])
    selection = calibrate_here(cpu, cache_dir, request["batch_size"], threads, plan)
    asyncio.run(selection.embedder.aclose())
    return ChildResult(
        backend=selection.backend,
        reason=selection.reason,
        exported=selection.exported,
        measurements=[asdict(m) for m in selection.measurements],
    )


_PLAN_FIELDS = ("chunks", "batch", "rounds", "warmup")
EXPORTABLE = ("onnx-fp32", "onnx-int8")


def _parse_request(path: Path) -> dict[str, Any]:
    """The request, with every field checked: only the parent writes it, but a file is a file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the request {path}: {exc}.") from exc
    if not isinstance(data, dict):
        raise ConfigError("the request is not a JSON object.")

    def number(value: Any, name: str, low: int, high: int) -> int:
        if type(value) is not int or not low <= value <= high:
            raise ConfigError(f"{name} must be an integer from {low} to {high}.")
        return value

    task, backend, cpu, plan = (data.get(k) for k in ("task", "backend", "cpu", "plan"))
    if task not in TASKS:
        raise ConfigError(f"task must be one of {', '.join(TASKS)}.")
    if task == "export" and backend not in EXPORTABLE:
        raise ConfigError(f"an export names one of {', '.join(EXPORTABLE)}.")
    cache = data.get("cache_dir")
    if not isinstance(cache, str) or not cache or "\0" in cache:
        raise ConfigError("cache_dir must be a path.")
    if not isinstance(cpu, dict) or not (
        isinstance(cpu.get("model"), str)
        and isinstance(cpu.get("arch"), str)
        and isinstance(cpu.get("flags"), list)
        and all(isinstance(f, str) for f in cpu["flags"])
    ):
        raise ConfigError("cpu must have a model, an arch and a list of flags.")
    if not isinstance(plan, dict) or set(plan) != set(_PLAN_FIELDS):
        raise ConfigError(f"plan must have exactly {', '.join(_PLAN_FIELDS)}.")
    logging_setup = data.get("log")
    if not isinstance(logging_setup, dict) or not isinstance(
        logging_setup.get("format"), str | None
    ):
        raise ConfigError("log must have a format.")
    cores = number(cpu.get("cores"), "cpu cores", 1, 65536)
    described = CpuInfo(cpu["model"], cpu["arch"], cores, frozenset(cpu["flags"]))
    if backend == "onnx-int8" and described.int8_target is None:
        raise ConfigError("onnx-int8 needs a CPU with int8 kernels.")
    return {
        "parent": number(data.get("parent"), "parent", 1, 2**31),
        "task": task,
        "backend": backend,
        "cache_dir": cache,
        "batch_size": number(data.get("batch_size"), "batch_size", 1, 4096),
        "threads": number(data.get("threads"), "threads", 0, 4096),
        "cpu": described,
        "plan": {
            k: number(plan[k], f"plan {k}", int(k != "warmup"), 100_000) for k in _PLAN_FIELDS
        },
        "log": {
            "level": number(logging_setup.get("level"), "log level", 0, 50),
            "format": logging_setup["format"],
        },
    }


def _configure_logging(setup: dict[str, Any]) -> None:
    logging.basicConfig(
        level=logging.WARNING, format=setup["format"] or "%(levelname)s %(name)s %(message)s"
    )
    log.setLevel(setup["level"])


def _exit_with_parent(parent: int) -> None:
    """Exit once the service that started us is gone (kill -9 included): an orphaned
    calibration would hold a core and a gigabyte for a minute, for nobody. The pid comes from
    the request, so a parent that died while we were starting up is noticed too."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="ragis-parent-watch", daemon=True).start()


def _sentence(message: str) -> str:
    message = " ".join(message.split()) or "no reason given"
    return message if message.endswith((".", "!", "?")) else message + "."


if __name__ == "__main__":
    sys.exit(main())
