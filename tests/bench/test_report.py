"""A section run by itself takes its place in the report by its number (bench/report.py)."""

from __future__ import annotations

from pathlib import Path

from bench.report import Goal, Section, replace_section

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


def section(title: str) -> Section:
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
