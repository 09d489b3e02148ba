"""The pieces of `ragis up`'s supervision on their own: the restart policy, the stop signals, and
the settings that bound restarts (hostile values refused with a sentence)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from ragis.errors import ConfigError, ServiceCrashed
from ragis.settings import load_up_settings
from ragis.signals import StopRequested, StopSignals
from ragis.supervise import RestartPolicy, Supervised, Supervisor


def test_restarts_back_off_exponentially_and_the_limit_gives_up() -> None:
    policy = RestartPolicy(limit=5, window=300.0)
    assert [policy.record(t) for t in (0.0, 1.0, 3.0, 7.0)] == [1.0, 2.0, 4.0, 8.0]
    assert policy.record(15.0) is None
    assert policy.count == 5


def test_crashes_older_than_the_window_are_forgotten() -> None:
    policy = RestartPolicy(limit=3, window=60.0)
    assert policy.record(0.0) == 1.0
    assert policy.record(10.0) == 2.0
    # Both earlier crashes are more than a window ago: this one is a first crash again.
    assert policy.record(100.0) == 1.0
    assert policy.count == 1


def test_the_backoff_is_capped() -> None:
    policy = RestartPolicy(limit=100, window=1e9, max_delay=30.0)
    delays = [policy.record(float(t)) for t in range(10)]
    assert delays[-1] == 30.0
    assert max(d for d in delays if d is not None) == 30.0


def test_a_stop_signal_is_recorded_not_raised_and_ends_a_sleep() -> None:
    with StopSignals() as signals:
        os.kill(os.getpid(), signal.SIGTERM)
        # The handler ran (signals are handled in the main thread between bytecodes) and only
        # recorded it; the next check raises at a safe point.
        assert signals.requested
        assert signals.name == "SIGTERM"
        with pytest.raises(StopRequested):
            signals.sleep(3600)
        # A second, different signal does not replace the first.
        os.kill(os.getpid(), signal.SIGINT)
        assert signals.name == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_stop_requested_passes_through_except_exception() -> None:
    signals = StopSignals()
    signals.signum = signal.SIGHUP
    caught: BaseException | None = None
    try:
        try:
            signals.check()
        except Exception:  # what code between the checks may do must not swallow a stop
            pytest.fail("StopRequested was caught as an Exception")
    except StopRequested as exc:
        caught = exc
    assert isinstance(caught, StopRequested)
    assert caught.signum == signal.SIGHUP


def test_a_child_that_keeps_failing_to_come_back_is_given_up_on() -> None:
    # A real child process that exits at once, and a restart that fails like a service dying
    # at start: every failed restart is one more crash, until the limit.
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    child.wait()
    lines: list[str] = []
    restarts = 0

    def restart() -> str:
        nonlocal restarts
        restarts += 1
        raise ServiceCrashed("The RAG service exited at start (code 1); its messages are above.")

    signals = StopSignals()
    part = Supervised("RAG service", child.poll, restart)
    supervisor = Supervisor([part], signals, echo=lines.append, limit=2, window=300.0)
    # No backoff sleep to wait through: the first restart is due after 1 s of `signals.sleep`.
    with pytest.raises(ServiceCrashed, match="failed 2 times within 300 s"):
        supervisor.run()
    assert restarts == 1
    assert lines[0] == "the RAG service exited with code 3; restarting in 1 s (crash 1 of 2)"
    assert lines[1].startswith("the RAG service did not come back (The RAG service exited at")
    assert lines[1].endswith("it failed 2 times within 300 s, so ragis stops.")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RAGIS_RESTART_LIMIT", "0"),
        ("RAGIS_RESTART_LIMIT", "-1"),
        ("RAGIS_RESTART_LIMIT", "1000000"),
        ("RAGIS_RESTART_LIMIT", "five"),
        ("RAGIS_RESTART_LIMIT", "2.5"),
        ("RAGIS_RESTART_WINDOW", "0"),
        ("RAGIS_RESTART_WINDOW", "-5"),
        ("RAGIS_RESTART_WINDOW", "nan"),
        ("RAGIS_RESTART_WINDOW", "inf"),
        ("RAGIS_RESTART_WINDOW", "1e400"),
    ],
)
def test_hostile_restart_settings_are_refused_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_up_settings(_env_file=None)
    assert name in caught.value.message or name.lower().removeprefix("ragis_") in (
        caught.value.message
    )


def test_restart_settings_have_their_defaults() -> None:
    settings = load_up_settings(_env_file=None)
    assert (settings.restart_limit, settings.restart_window) == (5, 300.0)


def test_a_restart_that_cannot_even_spawn_counts_as_a_crash() -> None:
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    child.wait()
    lines: list[str] = []

    def restart() -> str:
        # A real spawn that fails: the program is gone (an uninstalled venv, a deleted binary).
        subprocess.Popen(["/nonexistent/ragis-service"])
        return "never"

    part = Supervised("gateway", child.poll, restart)
    supervisor = Supervisor([part], StopSignals(), echo=lines.append, limit=2, window=300.0)
    with pytest.raises(ServiceCrashed, match="The gateway failed 2 times"):
        supervisor.run()
    assert "did not come back" in lines[1]
    assert "/nonexistent/ragis-service" in lines[1]


def test_a_signal_ignored_by_whoever_started_ragis_stays_ignored() -> None:
    # `nohup ragis up` ignores SIGHUP: a closed terminal must not stop the stack.
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with StopSignals() as signals:
            os.kill(os.getpid(), signal.SIGHUP)
            assert not signals.requested
            os.kill(os.getpid(), signal.SIGTERM)
            assert signals.name == "SIGTERM"
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
