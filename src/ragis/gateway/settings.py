"""Settings of the gateway: where it listens, where the RAG service is, and upload limits.

Beside its own fields it reads Redis (accounts, sign-in sessions and API keys live there) and the
internal token (`ServiceSettings`); no store or LLM setting (those are `Settings`').
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from ragis.gateway.auth_mode import AuthMode, binds_loopback
from ragis.gateway.hosts import HostPattern
from ragis.settings import Port, ServiceSettings, env

__all__ = ["GatewaySettings", "default_static_dir", "load_gateway_settings"]

_MiB = 1024 * 1024


def default_static_dir() -> Path | None:
    """`frontend/dist` of the source tree, if the web UI has been built there."""
    candidate = Path(__file__).resolve().parents[3] / "frontend" / "dist"
    return candidate if candidate.is_dir() else None


class GatewaySettings(ServiceSettings):
    gateway_host: str = Field(default="127.0.0.1", validation_alias=env("RAGIS_GATEWAY_HOST"))
    gateway_port: Port = Field(default=8080, validation_alias=env("RAGIS_GATEWAY_PORT"))

    # --- Accounts and sign-in (ragis.accounts, ragis.gateway.identity) -----------------------
    auth: AuthMode = Field(
        default=AuthMode.AUTO,
        validation_alias=env("RAGIS_AUTH"),
        description="auto: off while the gateway binds only loopback, on otherwise; on; off.",
    )
    admin_user: str | None = Field(
        default=None,
        validation_alias=env("RAGIS_ADMIN_USER"),
        description="The first admin, made at a start with no user (with RAGIS_ADMIN_PASSWORD).",
    )
    admin_password: SecretStr | None = Field(
        default=None, validation_alias=env("RAGIS_ADMIN_PASSWORD")
    )
    login_ttl: Annotated[int, Field(ge=60, le=366 * 86_400)] = Field(
        default=7 * 86_400,
        validation_alias=env("RAGIS_LOGIN_TTL"),
        description="Seconds a sign-in lasts (the session cookie's Max-Age).",
    )
    login_slow_after: Annotated[int, Field(ge=0, le=10_000)] = Field(
        default=3,
        validation_alias=env("RAGIS_LOGIN_SLOW_AFTER"),
        description="Failed sign-ins (per username, per address) after which answers slow down.",
    )
    login_max_failures: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=10,
        validation_alias=env("RAGIS_LOGIN_MAX_FAILURES"),
        description="Failed sign-ins after which sign-in is refused (429) for RAGIS_LOGIN_LOCKOUT.",
    )
    login_lockout: Annotated[int, Field(ge=1, le=30 * 86_400)] = Field(
        default=900,
        validation_alias=env("RAGIS_LOGIN_LOCKOUT"),
        description="Seconds failures are remembered after the last one (and a lockout lasts).",
    )

    # --- The RAG service ---------------------------------------------------------------------
    rag_urls: Annotated[list[str], NoDecode] = Field(
        default=["http://127.0.0.1:8001"],
        validation_alias=env("RAGIS_RAG_URL"),
        description="One URL or a comma-separated list; requests go round-robin over them.",
    )
    rag_timeout: Annotated[float, Field(gt=0)] = Field(
        default=900.0,
        validation_alias=env("RAGIS_RAG_TIMEOUT"),
        description="Seconds to wait for the RAG service (for a stream: between two chunks).",
    )

    # --- Uploads -----------------------------------------------------------------------------
    max_upload_mb: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=50,
        validation_alias=env("RAGIS_MAX_UPLOAD_MB"),
        description="Most MiB one upload request may carry, all its files together.",
    )
    max_files_per_upload: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=20, validation_alias=env("RAGIS_MAX_FILES_PER_UPLOAD")
    )
    keep_originals_mb: Annotated[int, Field(ge=0, le=100_000)] = Field(
        default=25,
        validation_alias=env("RAGIS_KEEP_ORIGINALS_MB"),
        description="Largest uploaded file (MiB) whose bytes are kept in Redis for the viewer "
        "(a PDF's pages); 0 keeps none. Costs about the file's size in Redis memory.",
    )
    chunk_tokens: Annotated[int, Field(ge=8, le=254)] = Field(
        default=240,
        validation_alias=env("RAGIS_CHUNK_TOKENS"),
        description="Model tokens per chunk; all-MiniLM-L6-v2 reads 256 with [CLS] and [SEP].",
    )
    chunk_overlap: Annotated[int, Field(ge=0)] = Field(
        default=40, validation_alias=env("RAGIS_CHUNK_OVERLAP")
    )

    # --- Web pages to ingest (ragis.gateway.fetch) ------------------------------------------------
    url_allow_private: bool = Field(
        default=False,
        validation_alias=env("RAGIS_URL_ALLOW_PRIVATE"),
        description=(
            "Fetch pages on loopback and private addresses too (an intranet); link-local, "
            "metadata, multicast and reserved addresses stay refused."
        ),
    )
    url_timeout: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=20.0,
        validation_alias=env("RAGIS_URL_TIMEOUT"),
        description="Seconds one web page may take to fetch, redirects and DNS included.",
    )

    # --- Parsing untrusted files (ragis.ingest.sandbox) ----------------------------------------
    parse_workers: Annotated[int, Field(ge=1, le=256)] = Field(
        default=2,
        validation_alias=env("RAGIS_PARSE_WORKERS"),
        description="Files parsed at once, each in its own child process; the rest wait.",
    )
    parse_memory_mb: Annotated[int, Field(ge=256, le=1_000_000)] = Field(
        default=1024,
        validation_alias=env("RAGIS_PARSE_MEMORY_MB"),
        description="Address space of one parsing child (a child starts at about 150 MiB).",
    )
    parse_cpu_seconds: Annotated[int, Field(ge=1, le=86_400)] = Field(
        default=60,
        validation_alias=env("RAGIS_PARSE_CPU_SECONDS"),
        description="CPU seconds one file may take to parse.",
    )
    parse_timeout: Annotated[float, Field(gt=0, le=86_400)] = Field(
        default=120.0,
        validation_alias=env("RAGIS_PARSE_TIMEOUT"),
        description="Wall-clock seconds one file may take to parse, waiting for a slot excluded.",
    )

    # --- Scanned PDF pages (ragis.ingest.ocr), read in the parsing child -----------------------
    ocr: Literal["auto", "off"] = Field(
        default="auto",
        validation_alias=env("RAGIS_OCR"),
        description="auto: read PDF pages without a text layer with Tesseract when it is "
        "installed; off: never (such pages are reported in the upload's warnings).",
    )
    ocr_lang: str = Field(
        default="eng",
        pattern=r"^[A-Za-z0-9_]{1,32}(\+[A-Za-z0-9_]{1,32}){0,7}$",
        validation_alias=env("RAGIS_OCR_LANG"),
        description="Tesseract's languages, e.g. eng or deu+eng (each needs tesseract-ocr-LANG).",
    )
    ocr_command: str = Field(
        default="tesseract",
        min_length=1,
        validation_alias=env("RAGIS_OCR_COMMAND"),
        description="The Tesseract binary: a name looked up on PATH, or a path.",
    )
    ocr_max_pages: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=100,
        validation_alias=env("RAGIS_OCR_MAX_PAGES"),
        description="Scanned pages read in one file (about a second each); the rest are reported.",
    )
    ocr_page_timeout: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=30.0,
        validation_alias=env("RAGIS_OCR_PAGE_TIMEOUT"),
        description="Seconds Tesseract may take on one page.",
    )

    # --- Connections (ragis.web.guards) --------------------------------------------------------
    header_timeout: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=10.0,
        validation_alias=env("RAGIS_HEADER_TIMEOUT"),
        description="Seconds to send a request's headers, from connecting or from its first byte.",
    )
    body_timeout: Annotated[float, Field(gt=0, le=86_400)] = Field(
        default=300.0,
        validation_alias=env("RAGIS_BODY_TIMEOUT"),
        description="Seconds a client has to send a whole request body (408 after).",
    )
    max_connections: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=256,
        validation_alias=env("RAGIS_MAX_CONNECTIONS"),
        description="Open connections and requests at once; a request beyond them gets a 503.",
    )

    # --- Web UI and streams ------------------------------------------------------------------
    static_dir: Path | None = Field(
        default_factory=default_static_dir,
        validation_alias=env("RAGIS_STATIC_DIR"),
        description="The built web UI; unset: frontend/dist of the source tree if it exists.",
    )
    sse_heartbeat: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=10.0,
        validation_alias=env("RAGIS_SSE_HEARTBEAT"),
        description="Seconds of silence after which a chat stream or an upload's event stream gets "
        "a comment.",
    )

    # --- Who may talk to it (ragis.gateway.origin) ----------------------------------------------
    allowed_hosts: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        validation_alias=env("RAGIS_ALLOWED_HOSTS"),
        description=(
            "Host names (or IPs, optionally :port) the gateway answers to, comma-separated; `*`: "
            "any. Unset: the loopback names, and for a non-loopback bind its address and the "
            "machine's names."
        ),
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default=[],
        validation_alias=env("RAGIS_TRUSTED_PROXIES"),
        description=(
            "Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto the gateway believes, comma-separated; unset: none."
        ),
    )

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * _MiB

    @property
    def keep_originals_bytes(self) -> int:
        """The largest file kept (RAGIS_KEEP_ORIGINALS_MB), never more than an upload carries."""
        return min(self.keep_originals_mb * _MiB, self.max_upload_bytes)

    @property
    def auth_on(self) -> bool:
        """Whether requests must sign in: RAGIS_AUTH, where `auto` is off on loopback only."""
        if self.auth is AuthMode.AUTO:
            return not binds_loopback(self.gateway_host)
        return self.auth is AuthMode.ON

    @field_validator("admin_user", "admin_password", mode="before")
    @classmethod
    def _blank_admin_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip() == "" else value

    @model_validator(mode="after")
    def _admin_needs_both(self) -> GatewaySettings:
        if (self.admin_user is None) != (self.admin_password is None):
            raise ValueError(
                "RAGIS_ADMIN_USER and RAGIS_ADMIN_PASSWORD go together: set both (the first "
                "admin, made at a start with no user) or neither"
            )
        return self

    @field_validator("rag_urls", "allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """A comma-separated variable as its list; blanks and empty parts left out."""
        if isinstance(value, str):
            return [part for part in (p.strip() for p in value.split(",")) if part]
        return value

    @field_validator("rag_urls")
    @classmethod
    def _check_urls(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(
                "RAGIS_RAG_URL needs at least one URL of the RAG service, e.g. http://127.0.0.1:8001"
            )
        urls = []
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"RAGIS_RAG_URL: {url!r} must start with http:// or https://")
            urls.append(url.rstrip("/"))
        return urls

    @field_validator("allowed_hosts")
    @classmethod
    def _check_hosts(cls, value: list[str] | None) -> list[str] | None:
        if not value:
            return None  # blank: the default
        for host in value:
            try:
                HostPattern.parse(host)
            except ValueError:
                raise ValueError(
                    f"RAGIS_ALLOWED_HOSTS: {host!r} is not a host name, an IP address (IPv6 in "
                    "brackets when it has a port) or `*`, with an optional :port"
                ) from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for proxy in value:
            if proxy == "*":
                continue
            try:
                ipaddress.ip_network(proxy)
            except ValueError:
                raise ValueError(
                    f"RAGIS_TRUSTED_PROXIES: {proxy!r} is not an IP address or a network "
                    "(10.0.0.0/8), nor `*`"
                ) from None
        return value

    @field_validator("static_dir", mode="before")
    @classmethod
    def _blank_static_dir(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip() == "" else value

    @model_validator(mode="after")
    def _check_overlap(self) -> GatewaySettings:
        if self.chunk_overlap > self.chunk_tokens // 2:
            raise ValueError(
                f"RAGIS_CHUNK_OVERLAP ({self.chunk_overlap}) must be at most half of "
                f"RAGIS_CHUNK_TOKENS ({self.chunk_tokens})"
            )
        return self


load_gateway_settings = GatewaySettings.load
