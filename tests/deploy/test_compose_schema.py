"""docker-compose.yml against the Compose Specification's JSON schema (see README.md here)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

SCHEMA = Path(__file__).with_name("compose-spec.schema.json")
SCHEMA_SHA256 = "46b7d35f19dd93a05f8fea530291bf84d881c1791ec167ecf0e6fb94e639d496"


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def errors(validator: Draft7Validator, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_the_vendored_schema_is_the_recorded_copy() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert json.loads(SCHEMA.read_text())["$id"] == "compose_spec.json"


def test_the_compose_file_as_written_is_valid(
    validator: Draft7Validator, compose: dict[str, Any]
) -> None:
    assert errors(validator, compose) == []


def test_the_compose_file_interpolated_with_the_example_env_is_valid(
    validator: Draft7Validator, resolved: dict[str, Any]
) -> None:
    assert errors(validator, resolved) == []


def test_the_schema_catches_a_misspelt_key(
    validator: Draft7Validator, compose: dict[str, Any]
) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["rag"]["healthchek"] = broken["services"]["rag"].pop("healthcheck")
    assert any("healthchek" in e for e in errors(validator, broken))
