"""Settings of the command-line client: where the gateway is, and how to prove who we are."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator

from ragis.contract import WORKSPACE_PATTERN
from ragis.settings import Port, SettingsBase, env

__all__ = ["ClientSettings", "load_client_settings"]


class ClientSettings(SettingsBase):
    gateway_port: Port = Field(default=8080, validation_alias=env("RAGIS_GATEWAY_PORT"))
    gateway_url: str = Field(
        default="",
        validation_alias=env("RAGIS_GATEWAY_URL"),
        description="Default: http://127.0.0.1:$RAGIS_GATEWAY_PORT.",
    )
    timeout: Annotated[float, Field(gt=0)] = Field(
        default=600.0, validation_alias=env("RAGIS_CLIENT_TIMEOUT")
    )
    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=env("RAGIS_API_KEY"),
        description="An API key (rgs_...) sent as `Authorization: Bearer`; unneeded while the "
        "gateway's RAGIS_AUTH is off.",
    )
    workspace: Annotated[str, Field(pattern=WORKSPACE_PATTERN)] | None = Field(
        default=None,
        validation_alias=env("RAGIS_WORKSPACE"),
        description="The workspace to work in when a command has no --workspace; unset: the "
        "API key's, else the user's personal one.",
    )

    @field_validator("api_key", "workspace", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # An exported but empty variable (`RAGIS_API_KEY=`) means "none", not an empty key.
        return None if isinstance(value, str) and value.strip() == "" else value

    @field_validator("api_key")
    @classmethod
    def _key_is_one_header_value(cls, value: SecretStr | None) -> SecretStr | None:
        # A key pasted with its newline, or a quote, would make an invalid header: say so here,
        # and never echo the key itself.
        if value is not None:
            key = value.get_secret_value().strip()
            if not key.isascii() or not key.isprintable() or " " in key:
                raise ValueError("must be the key as `ragis key create` printed it (rgs_...)")
            return SecretStr(key)
        return value

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


load_client_settings = ClientSettings.load
