"""The settings of ragis: one typed class per service, all read the same way.

Each class reads the environment, then `.env` in the current directory, then the default, and
keeps the environment variable names that scripts and docs rely on (`REDIS_URL`,
`RAGIS_DATA_DIR`, ...). Nothing else in ragis reads `os.environ`.

    SettingsBase                how every class reads, and its one loader: `load()` turns a bad
    |                           value into a `ConfigError` sentence naming the variable
    +-- RedisSettings           where Redis is, the data dir, the key prefix
    |   +-- ServiceSettings     + the internal token between the gateway and the RAG service
    |       +-- Settings        + the store and the LLM
    |       |   +-- RagSettings the RAG service (ragis.rag.settings): + embedding, indexing, chat
    |       +-- GatewaySettings the gateway (ragis.gateway.settings): listening, the RAG service,
    |                           uploads, accounts and sign-in
    +-- UpSettings              `ragis up` (here, read by ragis.stack): the embedded Redis's port
    |                           and password, its start timeout, restarting a crashed service
    +-- ClientSettings          `ragis ingest`, `ask`, `user`, `key` (ragis.client.settings): the
                                gateway's URL and the API key

No field is read by every service, so the base holds none: the gateway's process, say, has no
store or LLM setting at all.

Secrets may come from files (Docker and Compose secrets, mounted under /run/secrets):
`RAGIS_INTERNAL_TOKEN_FILE` holds the internal token, `RAGIS_REDIS_PASSWORD_FILE` the password of
`REDIS_URL`'s user, which is then put into the URL. Giving a secret both ways is refused.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from ragis.errors import ConfigError
from ragis.lexical import tokenizer

__all__ = [
    "LLMProviderName",
    "Port",
    "Quantization",
    "RedisSettings",
    "ServiceSettings",
    "Settings",
    "SettingsBase",
    "UpSettings",
    "describe_validation_error",
    "env",
    "load_settings",
    "load_up_settings",
    "read_secret_file",
]

#: A TCP port; 0 picks a free one where the setting says so.
Port = Annotated[int, Field(ge=0, le=65535)]


def env(name: str) -> AliasChoices:
    """The environment variable of a field (upper case, as documented, or lower case)."""
    return AliasChoices(name, name.lower())


def describe_validation_error(exc: ValidationError) -> str:
    """Pydantic's report as one sentence naming the environment variables."""
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        problems.append(f"{field}: {err['msg']}")
    return "Invalid ragis settings — " + "; ".join(problems)


def read_secret_file(path: Path, variable: str) -> str:
    """The secret in a file (a Compose secret), without its final line break."""
    try:
        secret = path.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{variable}: cannot read {path} ({exc})") from None
    if not secret:
        raise ValueError(f"{variable}: {path} is empty")
    return secret


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and value.strip() == "" else value


class SettingsBase(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    @classmethod
    def load(cls, **overrides: object) -> Self:
        """Build the settings, turning pydantic's report into one readable `ConfigError`."""
        try:
            return cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc)) from None


class LLMProviderName(StrEnum):
    AUTO = "auto"
    OPENAI = "openai"
    OLLAMA = "ollama"
    NONE = "none"


class Quantization(StrEnum):
    """How a vector set stores its vectors; fixed when the set is created (see docs)."""

    Q8 = "Q8"
    NOQUANT = "NOQUANT"
    BIN = "BIN"


class RedisSettings(SettingsBase):
    """Where Redis is and the namespace of ragis's keys: what every service that speaks Redis
    reads (the RAG service for the data, the gateway for accounts, `ragis admin`)."""

    redis_url: str | None = Field(
        default=None,
        validation_alias=env("REDIS_URL"),
        description="An external Redis 8 (redis:// or rediss://). Unset: ragis starts its own.",
    )
    data_dir: Path = Field(default=Path("./data"), validation_alias=env("RAGIS_DATA_DIR"))
    key_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")] = Field(
        default="ragis", validation_alias=env("RAGIS_KEY_PREFIX")
    )
    redis_password_file: Path | None = Field(
        default=None,
        validation_alias=env("RAGIS_REDIS_PASSWORD_FILE"),
        description="A file holding the password of REDIS_URL's user (a Compose secret); it is "
        "put into REDIS_URL, which then carries none itself.",
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_url_scheme(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    _blank_password_file = field_validator("redis_password_file", mode="before")(_blank_is_none)

    @model_validator(mode="after")
    def _password_from_file(self) -> Self:
        if self.redis_password_file is None:
            return self
        variable = "RAGIS_REDIS_PASSWORD_FILE"
        if self.redis_url is None or not self.redis_url.startswith(("redis://", "rediss://")):
            raise ValueError(
                f"{variable} is the password of REDIS_URL's user, so it needs a redis:// or "
                "rediss:// REDIS_URL (the embedded Redis of `ragis up` takes RAGIS_REDIS_PASSWORD)"
            )
        url = urlsplit(self.redis_url)
        if url.password is not None:
            raise ValueError(f"REDIS_URL has a password and {variable} too: give only one")
        password = quote(read_secret_file(self.redis_password_file, variable), safe="")
        user = quote(url.username or "", safe="")
        host = url.netloc.rpartition("@")[2]
        self.redis_url = urlunsplit(url._replace(netloc=f"{user}:{password}@{host}"))
        return self


class ServiceSettings(RedisSettings):
    """What both services read: Redis, and the token the gateway proves itself with to the RAG
    service."""

    internal_token: SecretStr | None = Field(
        default=None,
        validation_alias=env("RAGIS_INTERNAL_TOKEN"),
        description="The shared secret between the gateway and the RAG service (Bearer token). "
        "Unset under `ragis up`: it makes a new one at each start.",
    )

    internal_token_file: Path | None = Field(
        default=None,
        validation_alias=env("RAGIS_INTERNAL_TOKEN_FILE"),
        description="A file holding the internal token (a Compose secret), instead of "
        "RAGIS_INTERNAL_TOKEN.",
    )

    _blank_token_is_unset = field_validator("internal_token", "internal_token_file", mode="before")(
        _blank_is_none
    )

    # --- Observability (ragis.obs; docs/operations.md) ---------------------------------------
    log_format: Literal["text", "json"] = Field(
        default="text",
        validation_alias=env("RAGIS_LOG_FORMAT"),
        description="`json`: one JSON object per log line (time, level, logger, message, "
        "service, request_id, trace_id, span_id, exc), for log shippers.",
    )
    metrics: bool = Field(
        default=True,
        validation_alias=env("RAGIS_METRICS"),
        description="Serve Prometheus metrics at /metrics and record them.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        validation_alias=env("RAGIS_METRICS_TOKEN"),
        description="The gateway's /metrics admits `Authorization: Bearer <this>` (a scraper) "
        "while sign-in is on; unset, only an admin may read it then.",
    )
    metrics_token_file: Path | None = Field(
        default=None,
        validation_alias=env("RAGIS_METRICS_TOKEN_FILE"),
        description="A file holding the metrics token (a Compose secret).",
    )
    otel_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "RAGIS_OTEL_ENDPOINT", "ragis_otel_endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
        description="OTLP/HTTP collector base URL (http://host:4318): traces on. Unset: off.",
    )
    otel_service_name: str | None = Field(
        default=None,
        validation_alias=env("RAGIS_OTEL_SERVICE_NAME"),
        description="The traces' service.name (default ragis-gateway / ragis-rag).",
    )

    _blank_observability_is_unset = field_validator(
        "metrics_token", "metrics_token_file", "otel_endpoint", "otel_service_name", mode="before"
    )(_blank_is_none)

    @field_validator("otel_endpoint")
    @classmethod
    def _otel_endpoint_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL (OTLP over HTTP)")
        return value

    @model_validator(mode="after")
    def _metrics_token_from_file(self) -> Self:
        if self.metrics_token_file is None:
            return self
        variable = "RAGIS_METRICS_TOKEN_FILE"
        if self.metrics_token is not None:
            raise ValueError(f"RAGIS_METRICS_TOKEN and {variable} are both set: give only one")
        self.metrics_token = SecretStr(read_secret_file(self.metrics_token_file, variable))
        return self

    @field_validator("internal_token")
    @classmethod
    def _token_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _check_token_length(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _token_from_file(self) -> Self:
        if self.internal_token_file is None:
            return self
        variable = "RAGIS_INTERNAL_TOKEN_FILE"
        if self.internal_token is not None:
            raise ValueError(f"RAGIS_INTERNAL_TOKEN and {variable} are both set: give only one")
        token = read_secret_file(self.internal_token_file, variable)
        _check_token_length(token, f"{variable}: the token in {self.internal_token_file} ")
        self.internal_token = SecretStr(token)
        return self


def _check_token_length(token: str, what: str = "") -> None:
    if len(token) < 32:
        raise ValueError(
            f"{what}must be at least 32 characters (e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`)"
        )


class Settings(ServiceSettings):
    """Redis and the store, and the LLM."""

    # --- Vector index ------------------------------------------------------------------------
    quantization: Quantization = Field(
        default=Quantization.Q8, validation_alias=env("RAGIS_VECTOR_QUANT")
    )
    hnsw_m: Annotated[int, Field(ge=4, le=512)] = Field(
        default=16, validation_alias=env("RAGIS_VECTOR_M")
    )
    search_ef: Annotated[int, Field(ge=0, le=100_000)] = Field(
        # 300, not the server's default (which behaves as EF 100): at 100k chunks recall@10 goes
        # from 0.955-0.970 to 0.981-0.984 for a millisecond or two (docs/benchmarks.md, sect. 3).
        default=300,
        validation_alias=env("RAGIS_VECTOR_EF"),
        description="Exploration factor of VSIM; 0 keeps the server's default.",
    )
    shards: Annotated[int, Field(ge=1, le=256)] = Field(
        default=1,
        validation_alias=env("RAGIS_SHARDS"),
        description="Vector-set shards of new collections (Redis Cluster scale-out).",
    )
    vadd_batch: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=256, validation_alias=env("RAGIS_VADD_BATCH")
    )
    lexical_language: Annotated[str, Field(pattern=r"^[a-z_]{2,20}$")] = Field(
        default="english",
        validation_alias=env("RAGIS_LEXICAL_LANGUAGE"),
        description="Stemmer and stopwords of the keyword index of new collections (a Snowball "
        "language: english, german, french, ...).",
    )

    @field_validator("lexical_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        # Checked at start, not at the first upload: a typo is a sentence before anything runs.
        tokenizer(value)
        return value

    # --- Sessions and cache ------------------------------------------------------------------
    session_ttl: Annotated[int, Field(ge=60)] = Field(
        default=24 * 3600, validation_alias=env("RAGIS_SESSION_TTL")
    )
    session_max_messages: Annotated[int, Field(ge=2, le=10_000)] = Field(
        default=200, validation_alias=env("RAGIS_SESSION_MAX_MESSAGES")
    )
    cache_enabled: bool = Field(default=True, validation_alias=env("RAGIS_CACHE_ENABLED"))
    cache_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        # 0.92: 0 false hits on the benchmark's near misses and ~80% hits on its paraphrases,
        # where 0.95 gave ~55% (docs/benchmarks.md, section 6); the exact terms of the question
        # (ragis.rag.question_terms), not the threshold, keep "2023" from answering "2024".
        default=0.92,
        validation_alias=env("RAGIS_CACHE_THRESHOLD"),
        description="Least cosine similarity between two questions for a cache hit (their exact "
        "terms must also agree).",
    )
    cache_ttl: Annotated[int, Field(ge=1)] = Field(
        default=7 * 24 * 3600, validation_alias=env("RAGIS_CACHE_TTL")
    )

    # --- LLM -------------------------------------------------------------------------------
    llm_provider: LLMProviderName = Field(
        default=LLMProviderName.AUTO, validation_alias=env("RAGIS_LLM_PROVIDER")
    )
    llm_model: str | None = Field(
        default=None,
        validation_alias=env("RAGIS_LLM_MODEL"),
        description="Unset: gpt-4o-mini for OpenAI, llama3.2 for Ollama.",
    )
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=env("OPENAI_BASE_URL"))
    ollama_base_url: str = Field(
        default="http://localhost:11434", validation_alias=env("OLLAMA_BASE_URL")
    )
    llm_timeout: Annotated[float, Field(gt=0)] = Field(
        default=120.0,
        validation_alias=env("RAGIS_LLM_TIMEOUT"),
        description="Seconds to wait for the first token and between two tokens.",
    )
    llm_connect_timeout: Annotated[float, Field(gt=0)] = Field(
        default=5.0, validation_alias=env("RAGIS_LLM_CONNECT_TIMEOUT")
    )
    llm_max_retries: Annotated[int, Field(ge=0, le=10)] = Field(
        default=2,
        validation_alias=env("RAGIS_LLM_MAX_RETRIES"),
        description="Retries of a failed request, only before the first token.",
    )
    llm_temperature: Annotated[float, Field(ge=0, le=2)] = Field(
        default=0.1, validation_alias=env("RAGIS_LLM_TEMPERATURE")
    )

    @field_validator("openai_api_key", "openai_base_url", "llm_model", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip() == "" else value


load_settings = Settings.load


class UpSettings(SettingsBase):
    """What `ragis up` itself reads: the embedded Redis it starts, and its restarts."""

    # --- The embedded Redis ------------------------------------------------------------------
    redis_port: Port = Field(
        default=6379,
        validation_alias=env("RAGIS_REDIS_PORT"),
        description="Port of the embedded Redis; 0 picks a free one.",
    )
    redis_start_timeout: float = Field(
        default=15.0, gt=0, validation_alias=env("RAGIS_REDIS_START_TIMEOUT")
    )
    redis_password: SecretStr | None = Field(
        default=None,
        validation_alias=env("RAGIS_REDIS_PASSWORD"),
        description="The password the embedded Redis requires. Unset: one generated at the "
        "first start and kept in the data dir (redis-password, mode 0600).",
    )

    _blank_password_is_unset = field_validator("redis_password", mode="before")(_blank_is_none)

    # --- Restarting a crashed service --------------------------------------------------------
    restart_limit: Annotated[int, Field(ge=1, le=100)] = Field(
        default=5,
        validation_alias=env("RAGIS_RESTART_LIMIT"),
        description="Crashes of one service within RAGIS_RESTART_WINDOW after which `ragis up` "
        "stops everything instead of restarting it again.",
    )
    restart_window: Annotated[float, Field(gt=0, le=86_400)] = Field(
        default=300.0, validation_alias=env("RAGIS_RESTART_WINDOW")
    )


load_up_settings = UpSettings.load
