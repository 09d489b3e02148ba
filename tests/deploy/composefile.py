"""docker-compose.yml and .env.example as Docker Compose reads them, without Docker.

- `read_env_file(path)`: a `.env` file (`NAME=value` lines; `#` comments; optional quotes);
- `interpolate(value, env)`: Compose's `${...}` rules on every string of a loaded file
  (`$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`,
  `${NAME:+alt}`, `${NAME+alt}`, and `$$` for a literal `$`);
- `variables(text)`: the names a file interpolates;
- `healthcheck_command(test)` / `port_targets(service)` / `duration(text)`: the parts of a
  service that tests/deploy runs;
- `secret_variables(compose)` / `write_secrets(compose, env, folder)`: the top-level secrets
  taken from the environment, and their files as a container finds them in /run/secrets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "REPO",
    "InterpolationError",
    "duration",
    "healthcheck_command",
    "interpolate",
    "load_compose",
    "port_targets",
    "read_env_file",
    "secret_variables",
    "variables",
    "write_secrets",
]

SECRETS_DIR = "/run/secrets"

REPO = Path(__file__).resolve().parents[2]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_TOKEN = re.compile(
    rf"\$(?:(?P<escaped>\$)|(?P<bare>{_NAME})|\{{(?P<braced>{_NAME})(?:(?P<op>:?[-?+])(?P<arg>[^}}]*))?\}})"
)


class InterpolationError(ValueError):
    """A `${NAME:?message}` whose variable is missing, or a `$` Compose would refuse."""


def load_compose(path: Path = REPO / "docker-compose.yml") -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


def read_env_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not re.fullmatch(_NAME, name.strip()):
            raise ValueError(f"{path}:{number}: not a NAME=value line: {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[name.strip()] = value
    return env


def variables(text: str) -> set[str]:
    """Every variable name a text interpolates (`$$` is not one)."""
    return {m["bare"] or m["braced"] for m in _TOKEN.finditer(text) if not m["escaped"]}


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """`value` (a loaded Compose file or any part of it) with every string interpolated."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, str):
        return _interpolate_text(value, env)
    return value


def _interpolate_text(text: str, env: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["bare"] or match["braced"]
        op, arg = match["op"], match["arg"] or ""
        value = env.get(name)
        present = value is not None and (value != "" or not (op or "").startswith(":"))
        if op in (":-", "-"):
            return value if present and value is not None else arg
        if op in (":?", "?"):
            if not present or value is None:
                raise InterpolationError(f"required variable {name} is missing a value: {arg}")
            return value
        if op in (":+", "+"):
            return arg if present else ""
        return value or ""

    if "${" in _TOKEN.sub("", text):
        raise InterpolationError(f"invalid interpolation format in {text!r}")
    return _TOKEN.sub(replace, text)


def healthcheck_command(test: str | list[str]) -> list[str]:
    """A health check's `test` as the argv Docker runs (`CMD-SHELL` runs `/bin/sh -c`)."""
    if isinstance(test, str):
        return ["/bin/sh", "-c", test]
    kind, *args = test
    if kind == "CMD":
        return list(args)
    if kind == "CMD-SHELL":
        (script,) = args
        return ["/bin/sh", "-c", script]
    raise ValueError(f"not a health check command: {test!r}")


def port_targets(service: dict[str, Any]) -> list[int]:
    """The container ports a service listens on: its `expose` and its `ports` targets."""
    ports = [int(str(item).split("/")[0]) for item in service.get("expose", [])]
    for item in service.get("ports", []):
        target = item["target"] if isinstance(item, dict) else str(item).rsplit(":", 1)[-1]
        ports.append(int(str(target).split("/")[0]))
    return sorted(set(ports))


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 0.000001}


def duration(text: str) -> float:
    """A Compose/Dockerfile duration (`10s`, `1m30s`, `500ms`) in seconds."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(number) * _UNIT[unit] for number, unit in parts)


def secret_variables(compose: dict[str, Any]) -> dict[str, str]:
    """Each top-level secret read from an environment variable: {secret: variable}."""
    return {
        name: spec["environment"]
        for name, spec in compose.get("secrets", {}).items()
        if "environment" in spec
    }


def write_secrets(compose: dict[str, Any], env: dict[str, str], folder: Path) -> Path:
    """The secret files a container finds in /run/secrets, in `folder`: each secret's value from
    its variable, as Compose writes it (the value alone, 0444 by default; 0400 here)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, variable in secret_variables(compose).items():
        if variable not in env:
            raise InterpolationError(f"secret {name}: environment variable {variable} is not set")
        path = folder / name
        path.write_text(env[variable])
        path.chmod(0o400)
    return folder
