"""`python -m ragis.gateway.openapi [--output FILE]`: the gateway's OpenAPI schema as JSON.

The web UI's wire types are generated from it (`cd frontend && npm run types` writes
`frontend/openapi.json` with this, then `src/lib/api-schema.ts` with openapi-typescript), and
tests/gateway/test_openapi_types.py fails when the committed file differs from what this prints.

The schema is the one `/api/openapi.json` serves, built without a server, Redis or the RAG
service: `create_app` does its work in the lifespan, which never runs here. It is built from
the settings' defaults, not the environment, so that every machine prints the same bytes.
Keys are sorted, so that a change of the API shows as a small diff.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ragis.gateway.app import create_app
from ragis.gateway.settings import GatewaySettings

__all__ = ["REGENERATE", "dump", "gateway_schema", "main"]

REGENERATE = "cd frontend && npm run types"


def gateway_schema() -> dict[str, Any]:
    # model_construct: the defaults as they are, neither the environment nor .env.
    return create_app(GatewaySettings.model_construct()).openapi()


def dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _write(path: Path, text: str) -> None:
    # Through a temporary file: a failed run never leaves a half-written schema behind.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ragis.gateway.openapi",
        description="Print the gateway's OpenAPI schema (sorted JSON), or write it to a file.",
    )
    parser.add_argument("--output", "-o", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    text = dump(gateway_schema())
    if args.output is None:
        sys.stdout.write(text)
    else:
        _write(args.output, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
