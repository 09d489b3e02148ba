"""The hash-pinned locks in requirements/ (scripts/lock) and the venv installed from them."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
LOCKS = REPO / "requirements"
SETS = ("run", "dev", "bench")
LOCKFILE = REPO / "scripts" / "lib" / "lockfile.py"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?:\s*;\s*[^\\]+?)?\s*\\$", re.MULTILINE)


def pinned(name: str) -> dict[str, str]:
    text = (LOCKS / f"{name}.txt").read_text()
    return {canonicalize_name(n): v for n, v in PIN.findall(text)}


def test_every_lock_pins_each_distribution_exactly_with_its_hashes() -> None:
    for name in SETS:
        text = (LOCKS / f"{name}.txt").read_text()
        assert "by the following command:\n#\n#    scripts/lock\n" in text, name
        # Machine-independent: the index and find-links of the machine that locked stay out.
        assert not re.search(r"^--(extra-)?index-url|^--find-links", text, re.MULTILINE), name
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        entries = re.split(r"\n(?=[A-Za-z0-9])", body.strip())
        assert len(entries) == len(pinned(name)) > 10, name
        for entry in entries:
            assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), f"{name}: {entry[:60]}"


def test_the_locks_agree_and_the_run_set_is_in_each_extra() -> None:
    run, dev, bench = (pinned(name) for name in SETS)
    for extra_name, extra in (("dev", dev), ("bench", bench)):
        missing = {n: v for n, v in run.items() if extra.get(n) != v}
        assert not missing, f"{extra_name}.txt differs from run.txt on {missing}"
    shared = set(dev) & set(bench)
    assert {n: dev[n] for n in shared} == {n: bench[n] for n in shared}
    assert {"pytest", "mypy", "ruff", "pip-tools"} <= set(dev) - set(run)
    assert {"matplotlib", "chromadb"} <= set(bench) - set(run)


def test_every_locked_version_is_allowed_by_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    groups = {"run": project["dependencies"], **project["optional-dependencies"]}
    for name, requirements in groups.items():
        lock = pinned(name) | pinned("run")
        for line in requirements:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate():
                continue
            version = lock.get(canonicalize_name(requirement.name))
            assert version is not None, f"{name}.txt does not pin {requirement.name}"
            # torch 2.13.0+cpu meets `torch==2.13.0`: a local version label (PEP 440).
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{name}.txt pins {requirement.name}=={version}, pyproject wants {requirement}"
            )


def test_the_locked_torch_is_the_cpu_build() -> None:
    assert pinned("run")["torch"].endswith("+cpu")


def run_lockfile(command: str, *locks: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LOCKFILE), command, *map(str, locks)],
        capture_output=True,
        text=True,
        check=False,
    )


def installed_sets() -> list[Path]:
    """The locks the scripts installed this venv from (scripts/lib/bootstrap.sh's stamp file)."""
    stamp = Path(sys.prefix) / ".ragis-installed"
    if not stamp.exists():
        pytest.skip("this venv was not installed by scripts/check from the locks")
    extras = stamp.read_text().split(" ", 1)[1].strip()
    return [LOCKS / "run.txt", *(LOCKS / f"{e}.txt" for e in extras.split(",") if e)]


def test_this_venv_holds_exactly_the_locked_versions() -> None:
    result = run_lockfile("verify", *installed_sets())
    assert result.returncode == 0, result.stderr


def test_a_version_that_differs_from_the_lock_is_named(tmp_path: Path) -> None:
    locks = installed_sets()
    text = "".join(lock.read_text() for lock in locks)
    version = pinned("dev")["pytest"]
    changed = tmp_path / "lock.txt"
    changed.write_text(text.replace(f"\npytest=={version} ", "\npytest==0.0.1 "))
    result = run_lockfile("verify", changed)
    assert result.returncode == 1
    assert f"pytest {version} is installed, the lock pins 0.0.1" in result.stderr


def test_what_no_lock_pins_is_listed_for_removal(tmp_path: Path) -> None:
    text = "".join(lock.read_text() for lock in installed_sets())
    without = tmp_path / "lock.txt"
    without.write_text(re.sub(r"\npyyaml==\S+ \\\n(\s+--hash=\S+( \\)?\n)+", "\n", text))
    assert "pyyaml==" not in without.read_text()
    assert run_lockfile("extra", without).stdout.split() == ["pyyaml"]
    result = run_lockfile("verify", without)
    assert result.returncode == 1
    assert "pyyaml" in result.stderr
    assert "no lock pins it" in result.stderr
