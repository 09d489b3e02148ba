"""The gateway's process loads neither the RAG service, nor the store, nor torch.

What it shares with the RAG service is the wire contract (`ragis.contract`). It speaks Redis
only for the accounts (`ragis.accounts`, over `ragis.db`: redis-py is allowed). Each check runs
in a fresh interpreter, so that what the rest of the test session imported does not count.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FORBIDDEN = ("ragis.rag", "ragis.store", "torch")

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(sys.modules)))
"""


def _loaded(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules: list[str] = json.loads(done.stdout.splitlines()[-1])
    return [m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]


@pytest.mark.parametrize(
    "code",
    [
        "import ragis.gateway.app",
        # What `python -m ragis.gateway` runs before uvicorn serves: its settings and its app.
        "from ragis.gateway.__main__ import build; build()",
        "import ragis.gateway.openapi",
        "import ragis.contract",
    ],
)
def test_the_gateway_imports_neither_the_rag_service_nor_the_store_nor_torch(code: str) -> None:
    assert _loaded(code) == []
