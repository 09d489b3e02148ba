"""ragis as an MCP server (Model Context Protocol): agents search, read, ask and ingest.

    backend.py  the tools' calls, as a client of the gateway's public API
    joining.py  a document's text rebuilt from its overlapping passages
    models.py   the tools' typed results
    server.py   the server: tools, resources (`build_server`)
    stdio.py    `ragis mcp`: the server over stdio, against RAGIS_GATEWAY_URL

The gateway serves the same server over Streamable HTTP at `/mcp`
(`ragis.gateway.mcp_endpoint`). Either way it is a client of the gateway's API with the caller's
own key, so sign-in, workspace scope, limits and audit are those of the API.
"""

from ragis.mcp.server import Connect, build_server

__all__ = ["Connect", "build_server"]
