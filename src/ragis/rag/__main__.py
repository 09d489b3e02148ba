"""`python -m ragis.rag`: run the RAG service with uvicorn on RAGIS_RAG_HOST:RAGIS_RAG_PORT."""

from __future__ import annotations

import sys

from fastapi import FastAPI

from ragis.rag.app import create_app
from ragis.rag.settings import load_rag_settings
from ragis.web.run import run_service


def build() -> tuple[FastAPI, str, int]:
    settings = load_rag_settings()
    return create_app(settings), settings.rag_host, settings.rag_port


if __name__ == "__main__":
    sys.exit(run_service("rag", build))
