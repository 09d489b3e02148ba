"""One line of `ragis doctor`: what was checked, ok / warn / problem, and what to do about it.

A `problem` makes the doctor exit 1 (ragis will lose data, refuse to start, or serve what it
should not); a `warn` is worth acting on but ragis works; `ok` says what was found.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

__all__ = ["Check", "Status", "human_bytes"]


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    PROBLEM = "problem"


@dataclass(frozen=True, slots=True)
class Check:
    """`name` of the check, its `status`, what was found (`detail`) and, unless ok, `fix`: what
    to do."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    @classmethod
    def ok(cls, name: str, detail: str) -> Check:
        return cls(name, Status.OK, detail)

    @classmethod
    def warn(cls, name: str, detail: str, fix: str) -> Check:
        return cls(name, Status.WARN, detail, fix)

    @classmethod
    def problem(cls, name: str, detail: str, fix: str) -> Check:
        return cls(name, Status.PROBLEM, detail, fix)

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "status": self.status.value}


def human_bytes(count: float) -> str:
    """`count` bytes as 1.5 GiB, 320 MiB, 12 KiB or 512 B."""
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            value = count / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{count:.0f} B"
