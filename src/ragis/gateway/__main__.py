"""`python -m ragis.gateway`: run the gateway with uvicorn on RAGIS_GATEWAY_HOST:PORT."""

from __future__ import annotations

import sys

from fastapi import FastAPI

from ragis.gateway.app import create_app
from ragis.gateway.settings import load_gateway_settings
from ragis.web.run import run_service


def build() -> tuple[FastAPI, str, int]:
    settings = load_gateway_settings()
    return create_app(settings), settings.gateway_host, settings.gateway_port


if __name__ == "__main__":
    sys.exit(run_service("gateway", build))
