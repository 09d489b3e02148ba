"""The rules `ragis doctor` judges by, on plain values: Redis versions, free disk space, secrets,
and the report's exit status."""

from __future__ import annotations

import pytest

from ragis.ops.checks.exposure import looks_weak
from ragis.ops.checks.host import disk_status
from ragis.ops.checks.redis import vector_set_upgrade
from ragis.ops.checks.result import Check, Status, human_bytes
from ragis.ops.doctor import Report, exit_code, render_text

GiB = 1 << 30
MiB = 1 << 20


@pytest.mark.parametrize(
    ("version", "upgrade"),
    [
        ("7.0.15", "8.6.3"),
        ("8.0.0", "8.6.3"),
        ("8.2.3", "8.6.3"),
        ("8.4.1", "8.6.3"),
        ("8.6.0", "8.6.3"),
        ("8.6.2", "8.6.3"),
        ("8.6.3", None),
        ("8.6.10", None),
        ("8.7.0", "8.8.2"),
        ("8.7.9", "8.8.2"),
        ("8.8.0", "8.8.2"),
        ("8.8.1", "8.8.2"),
        ("8.8.2", None),
        ("8.8.3", None),
        ("8.9.0", "8.10.1"),
        ("8.9.5", "8.10.1"),
        ("8.10.0", "8.10.1"),
        ("8.10.1", None),
        ("8.12.0", None),
        ("9.0.0", None),
        ("8.8", "8.8.2"),
        ("8.8.2-rc1", None),
        (" 8.2.3 ", "8.6.3"),
    ],
)
def test_a_version_without_the_vector_set_fixes_names_the_release_to_move_to(
    version: str, upgrade: str | None
) -> None:
    assert vector_set_upgrade(version) == upgrade


@pytest.mark.parametrize("version", ["", "unknown", "eight", "8", "8.x.1", "v8.8.2", "8.8.2 7"])
def test_a_version_that_is_not_one_is_refused(version: str) -> None:
    with pytest.raises(ValueError, match="not a Redis version"):
        vector_set_upgrade(version)


@pytest.mark.parametrize(
    ("free", "total", "status"),
    [
        (100 * GiB, 200 * GiB, Status.OK),
        (1 * GiB, 5 * GiB, Status.OK),
        (GiB - 1, 2 * GiB, Status.WARN),  # under 1 GiB
        (5 * GiB, 100 * GiB, Status.WARN),  # under 10 %
        (300 * MiB, 400 * MiB, Status.WARN),  # 75 % free but under 1 GiB
        (199 * MiB, 100 * GiB, Status.PROBLEM),
        (0, 0, Status.PROBLEM),
    ],
)
def test_free_disk_space_is_a_warning_under_1_gib_or_10_percent_and_a_problem_under_200_mib(
    free: int, total: int, status: Status
) -> None:
    assert disk_status(free, total) is status


@pytest.mark.parametrize(
    "secret",
    ["hunter2", "changeme", "Password", "password123!", "admin2024", "x" * 40, "abab" * 10],
)
def test_a_short_known_or_repetitive_secret_looks_weak(secret: str) -> None:
    assert looks_weak(secret)


@pytest.mark.parametrize("secret", ["correct horse battery", "Tr0ub4dor&3-rj8Q", "k3Q9-zP2w!mX"])
def test_a_long_varied_secret_does_not(secret: str) -> None:
    assert not looks_weak(secret)


def test_a_token_is_held_to_32_characters() -> None:
    assert looks_weak("k3Q9-zP2w!mX7v", length=32)


def test_sizes_read_as_people_say_them() -> None:
    assert [human_bytes(n) for n in (512, 12 * 1024, 320 * MiB, int(1.5 * GiB), 20 * GiB)] == [
        "512 B",
        "12 KiB",
        "320 MiB",
        "1.5 GiB",
        "20 GiB",
    ]


def test_warnings_alone_exit_0_and_a_problem_exits_1() -> None:
    ok = Check.ok("a", "fine")
    warn = Check.warn("b", "meh", "do this")
    problem = Check.problem("c", "broken", "do that")
    assert exit_code(Report([ok, warn])) == 0
    assert exit_code(Report([ok, warn, problem])) == 1
    lines = render_text(Report([ok, warn, problem]))
    assert lines[0].split() == ["ok", "a", "fine"]
    assert lines[1].split()[:2] == ["warn", "b"]
    assert lines[1].endswith("meh -> do this")
    assert lines[2].startswith("problem")
    assert lines[2].endswith("broken -> do that")
    assert "not ready (1 problem(s), 1 warning(s), 3 checks)" in lines[3]
