"""Settings of the command-line client: where the gateway is."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

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
