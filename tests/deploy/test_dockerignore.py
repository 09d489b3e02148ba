""".dockerignore: what the build context (the repository root) sends to Docker."""

from __future__ import annotations

import pytest

from deploy.composefile import REPO
from deploy.dockerfile import Dockerfile
from deploy.dockerignore import DockerIgnore

NEVER_SENT = [
    ".env",
    ".git/HEAD",
    ".venv/bin/python",
    "data/appendonlydir/appendonly.aof.1.incr.aof",
    "dump.rdb",
    "frontend/node_modules/vite/package.json",
    "frontend/dist/index.html",
    "src/ragis/__pycache__/cli.cpython-311.pyc",
    "src/ragis.egg-info/PKG-INFO",
    ".mypy_cache/3.11/cache.db",
    ".ruff_cache/CACHEDIR.TAG",
    ".pytest_cache/README.md",
    "test-artifacts/screenshot.png",
    "tests/conftest.py",
]


@pytest.fixture(scope="module")
def ignore() -> DockerIgnore:
    return DockerIgnore.parse(REPO / ".dockerignore")


@pytest.mark.parametrize("path", NEVER_SENT)
def test_secrets_environments_data_dependencies_builds_and_caches_stay_out(
    ignore: DockerIgnore, path: str
) -> None:
    assert ignore.excluded(path)


def test_every_file_the_dockerfile_copies_is_in_the_context(
    ignore: DockerIgnore, dockerfile: Dockerfile
) -> None:
    context = {p.as_posix() for p in ignore.context(REPO)}
    copies = [i for s in dockerfile.stages for i in s.all("COPY")]
    local = [i for i in copies if "from" not in i.flags()[0]]
    assert local, "the Dockerfile copies nothing from the context?"
    for instruction in local:
        *sources, _destination = instruction.flags()[1].split()
        for source in sources:
            source = source.rstrip("/")
            assert (REPO / source).exists(), f"line {instruction.line}: no {source}"
            assert source in context or any(p.startswith(source + "/") for p in context), (
                f"line {instruction.line}: {source} is left out by .dockerignore"
            )


def test_the_context_is_the_package_and_the_web_ui_sources_only(ignore: DockerIgnore) -> None:
    files = list(ignore.context(REPO))
    assert {p.parts[0] for p in files} == {
        "pyproject.toml",
        "README.md",
        "requirements",
        "src",
        "frontend",
    }
    size = sum((REPO / p).stat().st_size for p in files)
    assert size < 5_000_000, f"{len(files)} files, {size} bytes"
