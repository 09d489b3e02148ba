"""docs/deploy.md names every variable and service it documents, and its transcript is real."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from deploy.composefile import REPO

DEPLOY = REPO / "docs" / "deploy.md"


def test_every_variable_of_the_env_example_is_documented(env_example: dict[str, str]) -> None:
    text = DEPLOY.read_text()
    names = set(
        re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", (REPO / ".env.example").read_text(), re.M)
    )
    assert set(env_example) <= names
    assert [name for name in sorted(names) if f"`{name}`" not in text] == []


def test_every_service_and_profile_is_documented(compose: dict[str, Any]) -> None:
    text = DEPLOY.read_text()
    for name, service in compose["services"].items():
        assert f"| `{name}`" in text, name
        for profile in service.get("profiles", []):
            assert f"--profile {profile}" in text, profile


def test_the_sizing_numbers_are_those_of_the_benchmark_report() -> None:
    """Every measured number of the sizing table (in bold) is in docs/benchmarks.md: when a new
    run changes them, this fails until the table is updated."""
    text = DEPLOY.read_text()
    sizing = text[text.index("## Sizing") : text.index("### At 1M, 10M and 100M chunks")]
    assert "docs/benchmarks.md" in sizing
    report = (REPO / "docs" / "benchmarks.md").read_text()
    numbers = re.findall(r"\*\*([0-9][0-9,.]*)\*\*", sizing)
    assert len(numbers) >= 6
    cells = set(re.findall(r"[ (]([0-9][0-9,.]*[0-9])[ |)]", report))
    assert [n for n in numbers if n not in cells] == []
    for size in ("1M chunks", "10M chunks", "100M chunks"):
        assert f"| {size} " in text, size


def test_the_transcript_lists_exactly_the_stack_tests() -> None:
    listed = re.findall(
        r"^(?:tests/deploy/)?test_stack\.py::(\w+) PASSED", DEPLOY.read_text(), re.M
    )
    source = Path(__file__).with_name("test_stack.py").read_text()
    assert listed == re.findall(r"^def (test_\w+)\(", source, re.M)
