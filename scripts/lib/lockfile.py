"""Compare a virtualenv with the hash-pinned locks in requirements/ (stdlib and packaging only).

    python scripts/lib/lockfile.py extra LOCK...   names installed here that no lock pins
    python scripts/lib/lockfile.py verify LOCK...  exit 1, naming each difference, unless every
                                                   pinned distribution is installed at exactly
                                                   its pinned version and nothing else is

scripts/lib/bootstrap.sh runs it with the venv's own Python after `pip install --require-hashes`:
pip installs what a lock pins but never removes what it no longer pins, so the bootstrap
uninstalls the extras and then proves the venv equals the lock.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

# Installed by venv/pip themselves, or ragis itself (installed editable, --no-deps, after the lock).
_NOT_LOCKED = {"pip", "ragis"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?\s*$")


def pins(paths: list[str]) -> dict[str, str]:
    """Every `name==version` a lock pins for this interpreter (markers evaluated)."""
    found: dict[str, str] = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            match = _PIN.match(line)
            if not match:
                continue
            name, version, marker = match.groups()
            if marker and not Marker(marker).evaluate():
                continue
            key = canonicalize_name(name)
            if found.setdefault(key, version) != version:
                sys.exit(f"{path}: {name}=={version}, another lock pins {found[key]}")
    return found


def installed() -> dict[str, str]:
    return {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in {"extra", "verify"}:
        print(__doc__, file=sys.stderr)
        return 2
    locked, here = pins(argv[1:]), installed()
    extra = sorted(set(here) - set(locked) - _NOT_LOCKED)
    if argv[0] == "extra":
        print("\n".join(extra))
        return 0
    problems = [f"{name} {here[name]} is installed but no lock pins it" for name in extra]
    if "ragis" not in here:
        problems.append("ragis itself is not installed (pip install --no-deps -e .)")
    for name, version in sorted(locked.items()):
        if name not in here:
            problems.append(f"{name}=={version} is pinned but not installed")
        elif here[name] != version:
            problems.append(f"{name} {here[name]} is installed, the lock pins {version}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
