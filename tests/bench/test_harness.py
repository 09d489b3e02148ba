"""The benchmark harness runs end to end (quick mode) and writes a report with every section.

No timing is asserted: this machine is shared. The numbers are for `python -m bench`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (
    "1. Embedding backends",
    "2. Ingestion end to end",
    "3. Retrieval stage at 10k and 100k chunks",
    "4. Chat overhead",
    "5. Peers: LangChain + Chroma, RedisVL",
    "6. Semantic cache: near misses and paraphrases",
    "7. Hostile uploads: the gateway's memory",
    "8. Memory of the RAG service",
)


def test_the_quick_benchmark_writes_every_section_and_its_plots(tmp_path: Path) -> None:
    out = tmp_path / "docs"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    report = (out / "benchmarks.md").read_text()
    for heading in ("# ragis benchmarks", "## Machine", "## Goals", *(f"## {s}" for s in SECTIONS)):
        assert f"\n{heading}\n" in f"\n{report}", heading
    assert "This section failed" not in report
    assert "RAG service RSS steady" in report
    assert "Quick mode" in report
    assert re.search(r"CPU: .+, \d+ cores", report)
    pdfs = re.search(r"documents \((\d+) of them PDFs\)", report)
    assert pdfs is not None
    assert int(pdfs.group(1)) >= 1
    for goal in ("default backend vs torch fp32", "ingestion vs raw embedding", "recall@10",
                 "gateway's share", "cache hit", "false hits on near misses"):  # fmt: skip
        assert goal in report, goal
    images = re.findall(r"!\[[^\]]*\]\((img/bench-[\w-]+\.png)\)", report)
    assert len(images) >= 5
    for image in images:
        assert (out / image).stat().st_size > 1000, image
