"""A section run by itself takes its place in the report by its number (bench/report.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# `bench` here is tests/bench (this package): load the harness's report module by its path.
_SPEC = importlib.util.spec_from_file_location(
    "ragis_bench_report", Path(__file__).resolve().parents[2] / "bench" / "report.py"
)
assert _SPEC is not None
assert _SPEC.loader is not None
report_module = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = report_module  # dataclasses look their module up while building
_SPEC.loader.exec_module(report_module)
Goal, Section, replace_section = (
    report_module.Goal,
    report_module.Section,
    report_module.replace_section,
)

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


def section(title: str) -> report_module.Section:
    return Section(key="k", title=title, goals=[Goal("g", "t", "m", True)])


def test_sections_and_goal_rows_go_by_number_not_by_text(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    report.write_text(REPORT)
    replace_section(report, section("11. Eleven"))
    replace_section(report, section("10. Ten"))
    replace_section(report, section("3. Three"))
    text = report.read_text()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Goals", "## 2. Two", "## 3. Three", "## 9. Nine", "## 10. Ten", "## 11. Eleven",
        "## Profiles, changes",
    ]  # fmt: skip
    rows = [line.split(" | ")[0] for line in text.splitlines() if line.startswith("| ")][1:]
    assert rows == ["| 2. Two", "| 3. Three", "| 9. Nine", "| 10. Ten", "| 11. Eleven"]
    # Run again: replaced in place, nothing doubled.
    replace_section(report, section("10. Ten"))
    assert report.read_text().count("## 10. Ten") == 1
    assert report.read_text().count("| 10. Ten |") == 1
