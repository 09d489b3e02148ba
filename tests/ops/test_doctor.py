"""`ragis doctor` against real servers: the embedded Redis 8 (its own, so that a test may change
its configuration), Debian's Redis 7, the loopback OpenAI server, and a real RAG service and
gateway; run as the command, in this process, with the settings in the environment."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as sync_redis

from ragis.cli import main
from ragis.db import EmbeddedRedis
from ragis.db.format import format_key
from ragis.embedding import Embedder
from ragis.embedding.cpu import CpuInfo
from ragis.embedding.select import CHOICE_FILE
from support.cluster import LocalCluster
from support.embed_servers import OllamaEmbedServer, OpenAIEmbedServer
from support.fixtures import INTERNAL_TOKEN
from support.llm_servers import OpenAIServer
from support.net import free_port

#: What the doctor reads: a variable of the machine that runs the tests must not leak in.
_PREFIXES = ("RAGIS_", "REDIS_", "OPENAI_", "OLLAMA_")


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> dict[str, list[str]]:
        """The check lines by check name (`status  name  detail`)."""
        found: dict[str, list[str]] = {}
        for line in self.out.splitlines()[:-1]:
            _status, name, _ = line.split(maxsplit=2)
            found.setdefault(name, []).append(line)
        return found

    def status(self, name: str) -> list[str]:
        return [line.split()[0] for line in self.lines[name]]


Doctor = Callable[..., Run]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """An embedded Redis 8 of this test alone (a test changes its configuration)."""
    with EmbeddedRedis(tmp_path / "redis", port=0) as server:
        yield server


@pytest.fixture
def doctor(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    own_redis: EmbeddedRedis,
    openai_server: OpenAIServer,
) -> Doctor:
    """`doctor(*args, VAR=value, ...)` runs `ragis doctor` with a healthy set-up's environment
    (its own Redis 8, the loopback LLM, no gateway or RAG service running), `VAR`s over it
    (`VAR=None`: unset)."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env
    healthy = {
        "REDIS_URL": own_redis.url,
        "RAGIS_DATA_DIR": str(tmp_path / "data"),
        "RAGIS_LLM_PROVIDER": "openai",
        "OPENAI_BASE_URL": openai_server.base_url,
        "OPENAI_API_KEY": "sk-test",
        "RAGIS_GATEWAY_URL": f"http://127.0.0.1:{free_port()}",
        "RAGIS_RAG_URL": f"http://127.0.0.1:{free_port()}",
    }

    def run(*args: str, **variables: str | None) -> Run:
        for name, value in {**healthy, **variables}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main(["doctor", *args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def _config(server: EmbeddedRedis, **settings: str) -> None:
    client = sync_redis.Redis.from_url(server.url)
    for name, value in settings.items():
        client.config_set(name.replace("_", "-"), value)
    client.close()


def test_a_healthy_setup_exits_0_with_every_line_ok_or_a_warning(doctor: Doctor) -> None:
    run = doctor()
    assert run.code == 0, run.out
    assert run.err == ""
    assert {line.split()[0] for line in run.out.splitlines()[:-1]} <= {"ok", "warn"}
    for name in ("settings", "redis", "persistence", "memory", "eviction", "data-format", "disk",
                 "model-cache", "llm", "exposure", "internal-token"):  # fmt: skip
        assert run.status(name) == ["ok"], run.lines[name]
    assert "AOF on" in run.lines["persistence"][0]
    assert "offers gpt-4o-mini" in run.lines["llm"][0]
    # The embedded binary is 8.2.3: the version rule itself is tested on strings.
    (version,) = run.lines["redis-version"]
    assert version.startswith("warn")
    assert "8.6.3" in version
    assert "redis:8.8.2" in version
    assert "fine for one user on loopback" in version
    assert run.status("gateway") == ["warn"]
    assert "not running" in run.lines["gateway"][0]
    assert run.status("rag") == ["warn"]
    assert "not running" in run.lines["rag"][0]
    assert run.out.splitlines()[-1].startswith("ragis ")
    assert ": ready (0 problem(s)" in run.out


def test_a_running_rag_service_and_gateway_are_ok(
    doctor: Doctor,
    start_rag: Callable[..., AbstractContextManager[str]],
    start_gateway: Callable[..., AbstractContextManager[str]],
    prefix: str,
) -> None:
    with start_rag() as rag, start_gateway(rag_urls=[rag]) as gateway:
        # One request each first: FastAPI builds a route's validators at its first request, and
        # two first requests at once (the doctor asks both services side by side, the gateway
        # asks the RAG service) can meet pydantic's UnsupportedFieldAttributeWarning, an error
        # under pytest, in one of the services: a 500 that is no doctor's doing.
        auth = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
        assert httpx.get(f"{rag}/health", headers=auth, timeout=30).status_code == 200
        assert httpx.get(f"{gateway}/api/health", timeout=30).status_code == 200
        run = doctor(
            RAGIS_RAG_URL=rag,
            RAGIS_GATEWAY_URL=gateway,
            RAGIS_INTERNAL_TOKEN=INTERNAL_TOKEN,
            RAGIS_KEY_PREFIX=prefix,
        )
    assert run.status("gateway") == ["ok"], run.lines["gateway"]
    assert run.status("rag") == ["ok"], run.lines["rag"]
    assert f"answers at {rag}" in run.lines["rag"][0]
    assert run.code == 0, run.out


def test_without_ragis_rag_url_the_rag_service_is_looked_for_on_its_own_port(
    doctor: Doctor,
) -> None:
    port = free_port()
    run = doctor(RAGIS_RAG_URL=None, RAGIS_RAG_PORT=str(port))
    (line,) = run.lines["rag"]
    assert f"not running at http://127.0.0.1:{port}" in line


def test_an_evicting_policy_is_a_warning_that_names_noeviction(
    doctor: Doctor, own_redis: EmbeddedRedis
) -> None:
    _config(own_redis, maxmemory_policy="allkeys-lru")
    run = doctor()
    assert run.code == 0
    (line,) = run.lines["eviction"]
    assert line.startswith("warn")
    assert "allkeys-lru" in line
    assert "CONFIG SET maxmemory-policy noeviction" in line


def test_memory_over_80_percent_of_maxmemory_is_a_warning(
    doctor: Doctor, own_redis: EmbeddedRedis
) -> None:
    used = sync_redis.Redis.from_url(own_redis.url).info("memory")["used_memory"]
    _config(own_redis, maxmemory=str(int(used / 0.9)))
    run = doctor()
    (line,) = run.lines["memory"]
    assert line.startswith("warn")
    assert "maxmemory" in line
    assert "%" in line


def test_a_redis_that_persists_nothing_is_a_problem(
    doctor: Doctor, own_redis: EmbeddedRedis
) -> None:
    _config(own_redis, appendonly="no", save="")
    run = doctor()
    assert run.code == 1
    (line,) = run.lines["persistence"]
    assert line.startswith("problem")
    assert "lost when it restarts" in line
    assert "appendonly yes" in line


def test_rdb_snapshots_alone_are_a_warning(doctor: Doctor, own_redis: EmbeddedRedis) -> None:
    _config(own_redis, appendonly="no", save="3600 1")
    run = doctor()
    assert run.code == 0
    (line,) = run.lines["persistence"]
    assert line.startswith("warn")
    assert "save 3600 1" in line


def test_a_user_without_config_gets_could_not_check_as_a_warning(
    doctor: Doctor, own_redis: EmbeddedRedis
) -> None:
    """The compose file's ACL user may not run CONFIG: INFO answers what it can."""
    admin = sync_redis.Redis.from_url(own_redis.url)
    admin.config_set("appendonly", "no")
    admin.acl_setuser("ops", enabled=True, passwords=["+" + "p" * 8 + "Q7-z!k2"],
                      keys=["*"], commands=["+@all", "-config"])  # fmt: skip
    admin.close()
    run = doctor(REDIS_URL=f"redis://ops:{'p' * 8}Q7-z!k2@127.0.0.1:{own_redis.port}")
    assert run.code == 0, run.out
    (line,) = run.lines["persistence"]
    assert line.startswith("warn")
    assert "could not be checked" in line
    assert run.status("redis") == ["ok"]


def test_redis_unreachable_is_one_sentence_and_exit_1(doctor: Doctor) -> None:
    run = doctor(REDIS_URL=f"redis://127.0.0.1:{free_port()}")
    assert run.code == 1
    assert run.err == ""
    assert "Traceback" not in run.out
    (line,) = run.lines["redis"]
    assert line.startswith("problem")
    assert "Cannot reach Redis" in line
    assert "persistence" not in run.lines  # nothing more is asked of a Redis that is not there


def test_no_redis_url_and_no_ragis_up_says_to_start_it(doctor: Doctor) -> None:
    run = doctor(REDIS_URL="")
    assert run.code == 1
    (line,) = run.lines["redis"]
    assert "no `ragis up` runs over the data dir" in line
    assert "start `ragis up`" in line


def test_the_embedded_redis_of_ragis_up_is_found_in_the_data_dir(
    doctor: Doctor, tmp_path: Path
) -> None:
    data = tmp_path / "up-data"
    with EmbeddedRedis(data, port=0) as server:  # what `ragis up` starts, lock file and all
        run = doctor(REDIS_URL="", RAGIS_DATA_DIR=str(data))
    (line,) = run.lines["redis"]
    assert line.startswith("ok")
    assert f"127.0.0.1:{server.port}" in line
    assert server.password not in run.out


def test_redis_7_without_vector_sets_is_a_problem(doctor: Doctor, redis7: str) -> None:
    run = doctor(REDIS_URL=redis7)
    assert run.code == 1
    (line,) = run.lines["redis"]
    assert line.startswith("problem")
    assert "no Vector Sets" in line


def test_data_of_a_newer_format_is_a_problem_and_an_older_one_is_migrated(
    doctor: Doctor, own_redis: EmbeddedRedis
) -> None:
    client = sync_redis.Redis.from_url(own_redis.url)
    client.set(format_key("ragis"), "99")
    run = doctor()
    assert run.code == 1
    (line,) = run.lines["data-format"]
    assert line.startswith("problem")
    assert "format 99" in line
    assert "upgrade ragis" in line
    client.set(format_key("ragis"), "1")
    run = doctor()
    (line,) = run.lines["data-format"]
    assert line.startswith("ok")
    assert "will be migrated at start" in line
    client.close()


def test_a_redis_cluster_is_checked_through_the_node_redis_url_names(
    doctor: Doctor, redis_cluster: LocalCluster
) -> None:
    run = doctor(REDIS_URL=redis_cluster.url)
    assert run.code == 0, run.out
    (line,) = run.lines["redis"]
    assert "a Redis Cluster" in line
    assert run.status("data-format") == ["ok"]  # the key's slot may be on another node


def test_the_backend_measured_for_this_cpu_is_named_and_a_junk_choice_file_is_no_crash(
    doctor: Doctor, tmp_path: Path, cpu: CpuInfo
) -> None:
    cache = tmp_path / "models"
    cache.mkdir()
    entry = {"key": {"cpu": cpu.model, "cores": cpu.cores}, "backend": "onnx-int8",
             "created": "2026-12-01 10:00:00"}  # fmt: skip
    (cache / CHOICE_FILE).write_text(json.dumps({"machines": {"k": entry}}))
    run = doctor(RAGIS_MODEL_CACHE=str(cache))
    (line,) = run.lines["model-cache"]
    assert "backend onnx-int8, measured 2026-12-01 10:00:00" in line
    for junk in ("{not json", '{"machines": [1, 2]}', '{"machines": {"k": "x"}}', "\x00" * 9):
        (cache / CHOICE_FILE).write_text(junk)
        run = doctor(RAGIS_MODEL_CACHE=str(cache))
        assert run.err == ""
        (line,) = run.lines["model-cache"]
        assert line.startswith("ok")
        assert "measure" in line


def test_an_llm_server_that_is_down_is_a_problem(doctor: Doctor) -> None:
    run = doctor(OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1")
    assert run.code == 1
    (line,) = run.lines["llm"]
    assert line.startswith("problem")
    assert "does not answer" in line


def test_a_model_the_llm_server_does_not_offer_is_a_problem(doctor: Doctor) -> None:
    run = doctor(RAGIS_LLM_MODEL="no-such-model")
    assert run.code == 1
    (line,) = run.lines["llm"]
    assert "does not offer the model no-such-model" in line
    assert "gpt-4o-mini" in line


def test_no_llm_is_retrieval_only_mode(doctor: Doctor) -> None:
    run = doctor(RAGIS_LLM_PROVIDER="none")
    (line,) = run.lines["llm"]
    assert line.startswith("ok")
    assert "retrieval-only mode" in line


def test_a_remote_embedding_server_that_embeds_is_ok(doctor: Doctor, embedder: Embedder) -> None:
    asyncio.run(embedder.embed(["warm"]))  # the model's first call is slow on a busy machine
    with OllamaEmbedServer(embedder, models=["nomic-embed-text"]) as server:
        run = doctor(
            RAGIS_EMBED_PROVIDER="ollama",
            RAGIS_EMBED_MODEL="nomic-embed-text",
            RAGIS_EMBED_BASE_URL=server.base_url,
        )
        assert len(server.requests) == 1  # one text embedded
    assert run.code == 0, run.out
    (line,) = run.lines["embedding"]
    assert line.startswith("ok")
    assert "ollama:nomic-embed-text (512 dims" in line


def test_an_embedding_server_that_is_down_or_lacks_the_model_is_a_problem(
    doctor: Doctor, embedder: Embedder
) -> None:
    remote = {"RAGIS_EMBED_PROVIDER": "openai", "RAGIS_EMBED_MODEL": "text-embedding-3-small"}
    run = doctor(**remote, RAGIS_EMBED_BASE_URL=f"http://127.0.0.1:{free_port()}/v1")
    assert run.code == 1
    (line,) = run.lines["embedding"]
    assert line.startswith("problem")
    assert "RAGIS_EMBED_BASE_URL" in line
    with OpenAIEmbedServer(embedder, models=["bge-m3"]) as server:
        run = doctor(**remote, RAGIS_EMBED_BASE_URL=server.base_url)
    assert run.code == 1
    (line,) = run.lines["embedding"]
    assert line.startswith("problem")
    assert "404" in line


def test_a_gateway_on_every_address_with_auth_off_is_a_problem(doctor: Doctor) -> None:
    run = doctor(RAGIS_GATEWAY_HOST="0.0.0.0", RAGIS_AUTH="off")
    assert run.code == 1
    (line,) = run.lines["exposure"]
    assert line.startswith("problem")
    assert "RAGIS_AUTH=off" in line
    assert "RAGIS_AUTH=on" in line


def test_a_gateway_on_every_address_with_auth_and_no_tls_proxy_is_a_warning(
    doctor: Doctor,
) -> None:
    run = doctor(RAGIS_GATEWAY_HOST="0.0.0.0")  # auto: sign-in on
    (line,) = run.lines["exposure"]
    assert line.startswith("warn")
    assert "TLS reverse proxy" in line
    run = doctor(RAGIS_GATEWAY_HOST="127.0.0.1", RAGIS_AUTH="on", RAGIS_TRUSTED_PROXIES="127.0.0.1")
    (line,) = run.lines["exposure"]
    assert line.startswith("ok")
    assert "reverse proxies 127.0.0.1" in line


def test_weak_secrets_are_warnings(doctor: Doctor, own_redis: EmbeddedRedis) -> None:
    run = doctor(RAGIS_ADMIN_USER="boss", RAGIS_ADMIN_PASSWORD="changeme1")
    (line,) = run.lines["admin-password"]
    assert line.startswith("warn")
    assert "changeme1" not in run.out
    run = doctor(RAGIS_INTERNAL_TOKEN="x" * 40)
    (line,) = run.lines["internal-token"]
    assert line.startswith("warn")
    assert "secrets.token_urlsafe(32)" in line
    run = doctor(REDIS_URL=f"redis://127.0.0.1:{own_redis.port}")  # no password: refused
    assert run.status("redis-password") == ["warn"]


def test_json_output_parses_and_matches_the_exit_status(doctor: Doctor) -> None:
    run = doctor("--json", RAGIS_GATEWAY_HOST="0.0.0.0", RAGIS_AUTH="off")
    report: dict[str, Any] = json.loads(run.out)
    assert run.code == 1
    assert report["ok"] is False
    assert report["problems"] >= 1
    assert {c["status"] for c in report["checks"]} <= {"ok", "warn", "problem"}
    assert all(set(c) == {"name", "status", "detail", "fix"} for c in report["checks"])
    assert all(c["fix"] for c in report["checks"] if c["status"] != "ok")
    exposure = next(c for c in report["checks"] if c["name"] == "exposure")
    assert exposure["status"] == "problem"


@pytest.mark.parametrize(
    "variables",
    [
        {"RAGIS_GATEWAY_PORT": "eighty"},
        {"REDIS_URL": "http://not-redis"},
        {"RAGIS_EMBED_BACKEND": "gpu-please"},
        {"RAGIS_INTERNAL_TOKEN": "short"},
        {"RAGIS_INTERNAL_TOKEN_FILE": "/nonexistent/token"},
        {"RAGIS_RAG_URL": "ftp://x"},
        {"RAGIS_AUTH": "maybe\x7f\u202e"},
        {"RAGIS_REDIS_PORT": "-1"},
        {"RAGIS_KEY_PREFIX": "a b*" * 20},
        {"RAGIS_DATA_DIR": "/etc/hostname"},  # a file
        {"RAGIS_MODEL_CACHE": "/proc/self/cannot-write-here"},
        {"OPENAI_BASE_URL": "not a url at all"},
    ],
)
def test_junk_settings_give_a_sentence_not_a_traceback(
    doctor: Doctor, variables: dict[str, str]
) -> None:
    run = doctor(**variables)
    assert run.code == 1, run.out
    assert run.err == ""
    assert "Traceback" not in run.out
    assert run.out.splitlines()[-1].startswith("ragis ")
    problems = [line for line in run.out.splitlines() if line.startswith("problem")]
    assert problems
    assert all(" -> " in line for line in problems)


def test_a_path_that_is_no_text_is_shown_escaped_on_its_line(doctor: Doctor) -> None:
    run = doctor(RAGIS_DATA_DIR="data-\udcff\nnext")
    assert run.err == ""
    assert "Traceback" not in run.out
    (line,) = [line for line in run.out.splitlines() if line.startswith(("ok", "warn")) and
               " disk " in line]  # fmt: skip
    assert "data-\\udcff\\nnext" in line


def test_junk_client_settings_are_a_warning_the_services_do_not_read_them(doctor: Doctor) -> None:
    run = doctor(RAGIS_GATEWAY_URL="javascript:alert(1)")
    assert run.code == 0, run.out
    (line,) = run.lines["settings"]
    assert line.startswith("warn")
    assert "RAGIS_GATEWAY_URL must start with http://" in line
    assert "gateway" not in run.lines  # no URL to ask
