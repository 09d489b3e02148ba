"""`python -m ragis.gateway`: run the gateway with uvicorn on RAGIS_GATEWAY_HOST:PORT."""

from __future__ import annotations

import logging
import sys

import uvicorn

from ragis.errors import RagisError
from ragis.gateway.app import create_app
from ragis.gateway.settings import load_gateway_settings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gateway %(levelname)s %(message)s")
    try:
        settings = load_gateway_settings()
        app = create_app(settings)
        uvicorn.run(
            app,
            host=settings.gateway_host,
            port=settings.gateway_port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    except RagisError as exc:
        print(f"ragis gateway: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
