"""Schemathesis (`st run`) against a running service's OpenAPI schema, with a bounded run.

Every phase runs (examples, coverage, fuzzing, stateful) with every default check: no 5xx, and
each answer's status, content type, headers and body as the schema documents them (SSE events
one by one), `Allow` on a 405, bad data refused, good data accepted. The run is bounded and
repeatable: a fixed seed, a few examples per operation, one worker, and no state kept between
runs (it works in a temporary folder). A check can be turned off for one operation, with the
reason, when the schema cannot say what the service checks (e.g. the content of a file).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["run_schemathesis"]

ST = Path(sys.executable).with_name("st")


def run_schemathesis(
    schema_url: str,
    workdir: Path,
    *,
    max_examples: int = 10,
    seed: int = 20261203,
    off: dict[str, list[str]] | None = None,
    timeout: float = 240,
    headers: dict[str, str] | None = None,
) -> None:
    """Fail with schemathesis's report unless every check passes; `off` maps a path to the
    checks not run on it; `headers` go with every request (the RAG service's token)."""
    config = [
        f"seed = {seed}",
        "workers = 1",
        "request-timeout = 30",
        "[cache]",
        "enabled = false",
        "[generation]",
        f"max-examples = {max_examples}",
        'database = "none"',
    ]
    for path, checks in (off or {}).items():
        config += ["[[operations]]", f'include-path = "{path}"']
        config += [f"checks.{check}.enabled = false" for check in checks]
    toml = workdir / "schemathesis.toml"
    toml.write_text("\n".join(config) + "\n")
    extra = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    result = subprocess.run(
        [str(ST), "--config-file", str(toml), "--no-color", "run", *extra, schema_url],
        cwd=workdir, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    report = result.stdout[-15000:] + result.stderr[-3000:]
    assert result.returncode == 0, report
