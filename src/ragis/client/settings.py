"""Settings of the command-line client: where the gateway is."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ragis.errors import ConfigError
from ragis.settings import _env, describe_validation_error

__all__ = ["ClientSettings", "load_client_settings"]


class ClientSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    gateway_port: Annotated[int, Field(ge=0, le=65535)] = Field(
        default=8080, validation_alias=_env("RAGIS_GATEWAY_PORT")
    )
    gateway_url: str = Field(
        default="",
        validation_alias=_env("RAGIS_GATEWAY_URL"),
        description="Default: http://127.0.0.1:$RAGIS_GATEWAY_PORT.",
    )
    timeout: Annotated[float, Field(gt=0)] = Field(
        default=600.0, validation_alias=_env("RAGIS_CLIENT_TIMEOUT")
    )

    @model_validator(mode="after")
    def _default_url(self) -> ClientSettings:
        if not self.gateway_url.strip():
            if not self.gateway_port:
                raise ValueError(
                    "RAGIS_GATEWAY_PORT is 0 (any free port): set RAGIS_GATEWAY_URL to the "
                    "address `ragis up` printed"
                )
            self.gateway_url = f"http://127.0.0.1:{self.gateway_port}"
        self.gateway_url = self.gateway_url.rstrip("/")
        if not self.gateway_url.startswith(("http://", "https://")):
            raise ValueError("RAGIS_GATEWAY_URL must start with http:// or https://")
        return self


def load_client_settings(**overrides: object) -> ClientSettings:
    try:
        return ClientSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
