"""`python -m ragis.rag`: run the RAG service with uvicorn on RAGIS_RAG_HOST:RAGIS_RAG_PORT."""

from __future__ import annotations

import logging
import sys

import uvicorn

from ragis.errors import RagisError
from ragis.rag.app import create_app
from ragis.rag.settings import load_rag_settings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s rag %(levelname)s %(message)s")
    try:
        settings = load_rag_settings()
        app = create_app(settings)
        uvicorn.run(
            app,
            host=settings.rag_host,
            port=settings.rag_port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    except RagisError as exc:
        print(f"ragis rag service: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
