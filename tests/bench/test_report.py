"""A section run by itself takes its place in the report by its number (bench/report.py).

In the test suite `bench` is this package (tests/bench), so the harness's report module runs in
a child Python from the project root, as `python -m bench.sections.X` runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

REPORT = """# ragis benchmarks

## Goals

| section | goal | target | measured | verdict |
|---|---|---|---|---|
| 2. Two | b | t | m | met |
| 9. Nine | b | t | m | met |

## 2. Two

two

## 9. Nine

nine

## Profiles, changes

hand-written
"""

SCRIPT = """
import sys
from pathlib import Path
from bench.report import Goal, Section, replace_section

report = Path(sys.argv[1])
for title in sys.argv[2:]:
    replace_section(report, Section(key="k", title=title, goals=[Goal("g", "t", "m", True)]))
"""


def replace(report: Path, *titles: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(report), *titles],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return report.read_text()


def test_sections_and_goal_rows_go_by_number_not_by_text(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    report.write_text(REPORT)
    text = replace(report, "11. Eleven", "10. Ten", "3. Three")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Goals", "## 2. Two", "## 3. Three", "## 9. Nine", "## 10. Ten", "## 11. Eleven",
        "## Profiles, changes",
    ]  # fmt: skip
    rows = [line.split(" | ")[0] for line in text.splitlines() if line.startswith("| ")][1:]
    assert rows == ["| 2. Two", "| 3. Three", "| 9. Nine", "| 10. Ten", "| 11. Eleven"]
    # Run again: replaced in place, nothing doubled.
    again = replace(report, "10. Ten")
    assert again.count("## 10. Ten") == 1
    assert again.count("| 10. Ten |") == 1
