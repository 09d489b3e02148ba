"""`ragis doctor`: is this ragis ready to be trusted with a team's documents? One line per check.

It reads the settings the services read (the RAG service's, the gateway's, `ragis up`'s, the
command-line client's), finds Redis as `ragis admin create` does (REDIS_URL, else the embedded
Redis of the `ragis up` running over RAGIS_DATA_DIR), and checks, each in ragis.ops.checks:

    settings        every settings class loads (a bad value is a sentence, not a traceback)
    redis           reachable, Vector Sets, a release with the vector-set fixes, persistence
                    (AOF, last write and rewrite, RDB), memory and the eviction policy, and the
                    data format against this ragis's
    disk            free space of the data dir and of the model cache
    model-cache     writable, and the embedding backend recorded there
    embedding       a remote embedding server embeds one word (RAGIS_EMBED_PROVIDER)
    llm             the LLM lists its models, the configured one among them
    gateway, rag    their health, when they run
    exposure        the gateway's address against its sign-in, the internal token, weak secrets

Each line is `ok`, `warn` or `problem`, and a line that is not ok says what to do. The exit
status is 1 when any line is a problem (warnings alone exit 0), so a deployment script can run
`ragis doctor` before going live. `--json` prints the same as one JSON object.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from pydantic_settings import SettingsError

from ragis import __version__
from ragis.errors import ConfigError
from ragis.ops.checks.result import Check, Status
from ragis.settings import RedisSettings, SettingsBase

if TYPE_CHECKING:
    from ragis.gateway.settings import GatewaySettings
    from ragis.rag.settings import RagSettings

__all__ = ["Report", "diagnose", "exit_code", "render_json", "render_text", "run_doctor"]

S = TypeVar("S", bound=SettingsBase)


@dataclass(frozen=True, slots=True)
class Report:
    checks: list[Check]

    @property
    def problems(self) -> int:
        return sum(c.status is Status.PROBLEM for c in self.checks)

    @property
    def warnings(self) -> int:
        return sum(c.status is Status.WARN for c in self.checks)


def _load(
    what: str, loader: Callable[[], S], checks: list[Check], *, service: bool = True
) -> S | None:
    """The settings `loader` reads, or None with a line saying what is wrong: a problem for a
    service's settings (it would refuse to start), a warning for the command-line client's."""
    try:
        return loader()
    except (ConfigError, SettingsError) as exc:
        message = exc.message if isinstance(exc, ConfigError) else str(exc)
        detail = f"the {what} settings do not load: {message[:600]}"
        if service:
            fix = "fix that variable in the environment or .env; the service would refuse to start"
            checks.append(Check.problem("settings", detail, fix))
        else:
            fix = "fix that variable: `ragis ingest`, `ask` ... refuse to run (no service reads it)"
            checks.append(Check.warn("settings", detail, fix))
        return None


async def _redis_checks(redis: RedisSettings | None, up_password: str | None) -> list[Check]:
    """The Redis lines; none when no settings that name Redis loaded (`settings` says why)."""
    from ragis.client.admin import redis_of
    from ragis.ops.checks.redis import check_redis

    if redis is None:
        return []
    try:
        found = redis_of(redis, up_password)
    except ConfigError as exc:
        if not exc.message.startswith("No Redis"):  # the running one's files are unreadable
            fix = "run `ragis doctor` as the user that runs `ragis up`, or set REDIS_URL"
            return [Check.problem("redis", exc.message, fix)]
        return [
            Check.problem(
                "redis",
                "REDIS_URL is unset and no `ragis up` runs over the data dir "
                f"{redis.data_dir.resolve()} (RAGIS_DATA_DIR): no Redis to check",
                "start `ragis up` (and run the doctor with its RAGIS_DATA_DIR), or set REDIS_URL "
                "to the Redis 8 ragis uses",
            )
        ]
    assert found.redis_url is not None
    return await check_redis(found.redis_url, found.key_prefix)


def _rag_url(rag: RagSettings | None, gateway: GatewaySettings) -> str:
    """Where the RAG service listens: RAGIS_RAG_URL (the gateway's first) when set, else the
    RAG service's own host and port (what `ragis up` starts it on)."""
    if "rag_urls" in gateway.model_fields_set or rag is None:
        return gateway.rag_urls[0]
    host = "127.0.0.1" if rag.rag_host in ("0.0.0.0", "::", "") else rag.rag_host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{rag.rag_port}"


async def _skipped() -> None:
    """In place of a check whose settings did not load."""


async def diagnose() -> Report:
    """Every check, with the settings of the environment and `.env`."""
    from ragis.client.settings import load_client_settings
    from ragis.gateway.settings import load_gateway_settings
    from ragis.ops.checks.exposure import exposure_checks
    from ragis.ops.checks.host import disk_checks, model_cache_checks
    from ragis.ops.checks.servers import embedding_server_check, llm_check, service_check
    from ragis.rag.settings import load_rag_settings
    from ragis.settings import load_up_settings

    checks: list[Check] = []
    rag = _load("RAG service's", load_rag_settings, checks)
    gateway = _load("gateway's", load_gateway_settings, checks)
    up = _load("`ragis up`", load_up_settings, checks)
    client = _load("command-line client's", load_client_settings, checks, service=False)
    if not checks:
        checks.append(Check.ok("settings", "the settings of every part load"))

    password = up.redis_password if up is not None else None
    token = gateway.internal_token if gateway is not None else None
    jobs: list[Awaitable[Check | list[Check] | None]] = [
        _redis_checks(rag or gateway, password.get_secret_value() if password else None),
        embedding_server_check(rag) if rag is not None else _skipped(),
        llm_check(rag) if rag is not None else _skipped(),
        service_check("gateway", "gateway", client.gateway_url, "/api/health")
        if client is not None
        else _skipped(),
        service_check(
            "rag",
            "RAG service",
            _rag_url(rag, gateway),
            "/health",
            token.get_secret_value() if token else None,
        )
        if gateway is not None
        else _skipped(),
    ]
    redis_lines, embedding, llm, gateway_line, rag_line = await asyncio.gather(*jobs)

    def add(found: Check | list[Check] | None) -> None:
        if isinstance(found, Check):
            checks.append(found)
        elif found:
            checks.extend(found)

    add(redis_lines)
    if rag is not None:
        cache = rag.model_cache_dir
        add(disk_checks({"the data dir": rag.data_dir, "the model cache": cache}))
        add(model_cache_checks(cache, rag.embed_backend))
    add(embedding)
    add(llm)
    add(gateway_line)
    add(rag_line)
    if gateway is not None:
        add(exposure_checks(gateway))
    return Report(checks)


def exit_code(report: Report) -> int:
    return 1 if report.problems else 0


def _one_line(text: str) -> str:
    """`text` with what a terminal would not show as it is (a line break, a control character,
    an undecodable byte of a path) escaped: one check stays one printable line."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def render_text(report: Report) -> list[str]:
    """One line a check (`status  name  detail -> what to do`), then a summary line."""
    width = max((len(c.name) for c in report.checks), default=0)
    lines = []
    for check in report.checks:
        text = check.detail + (f" -> {check.fix}" if check.fix else "")
        lines.append(f"{check.status.value:<7}  {check.name:<{width}}  {_one_line(text)}")
    verdict = "not ready" if report.problems else "ready"
    lines.append(
        f"ragis {__version__}: {verdict} ({report.problems} problem(s), "
        f"{report.warnings} warning(s), {len(report.checks)} checks)"
    )
    return lines


def render_json(report: Report) -> str:
    return json.dumps(
        {
            "ragis": __version__,
            "ok": not report.problems,
            "problems": report.problems,
            "warnings": report.warnings,
            "checks": [c.as_dict() for c in report.checks],
        },
        indent=1,
    )


def run_doctor(*, as_json: bool = False, echo: Callable[[str], None] = print) -> int:
    """Run every check, print the report, and return the exit status (1 on a problem)."""
    report = asyncio.run(diagnose())
    if as_json:
        echo(render_json(report))
    else:
        for line in render_text(report):
            echo(line)
    return exit_code(report)
