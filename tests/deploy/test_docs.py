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


def test_the_sizing_numbers_say_where_they_come_from() -> None:
    text = DEPLOY.read_text()
    assert "from FACTS.md measurements; docs/benchmarks.md will replace them" in text
    for size in ("1M chunks", "10M chunks", "100M chunks"):
        assert f"| {size} " in text, size


def test_the_transcript_lists_exactly_the_stack_tests() -> None:
    listed = re.findall(
        r"^(?:tests/deploy/)?test_stack\.py::(\w+) PASSED", DEPLOY.read_text(), re.M
    )
    source = Path(__file__).with_name("test_stack.py").read_text()
    assert listed == re.findall(r"^def (test_\w+)\(", source, re.M)
