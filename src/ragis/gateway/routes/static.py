"""The web UI: the built single-page app from `static_dir`, or a page saying how to build it.

With a built UI (`static_dir/index.html` exists; looked up on every request, so building it while
the gateway runs is enough): a file that exists is served (`assets/` are Vite's content-hashed
names: cached for a year; everything else is revalidated); a missing file under `assets/` is a
404; any other path gets `index.html`, so the app's own routes work on reload. `/api/...` that no
route matched is a JSON 404 whatever the method. Registered last: it catches what is left.
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from ragis.errors import NotFound
from ragis.gateway.deps import SettingsDep
from ragis.gateway.security import inline_hash, policy
from ragis.web.errors import allowed_methods

router = APIRouter(include_in_schema=False)

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

NOT_BUILT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>ragis</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;
line-height:1.5}}code,pre{{background:#f3f3f3;padding:.1rem .3rem}}pre{{padding:.6rem}}</style>
</head>
<body>
<h1>ragis is running, but the web UI is not built</h1>
<p>{where}Build it once, then reload this page:</p>
<pre>cd frontend &amp;&amp; npm install &amp;&amp; npm run build</pre>
<p>or set <code>RAGIS_STATIC_DIR</code> to a folder holding a built UI
(its <code>index.html</code>).</p>
<p>The API works without it: <a href="/api/health">/api/health</a>, interactive docs at
<a href="/api/docs">/api/docs</a>.</p>
</body>
</html>
"""

# The page's one inline <style>, allowed by its hash (the app's policy allows no inline style).
_NOT_BUILT_STYLE = NOT_BUILT.format(where="").split("<style>")[1].split("</style>")[0]
NOT_BUILT_POLICY = policy(style_src=f"'self' {inline_hash(_NOT_BUILT_STYLE)}")

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]


@router.api_route("/api/{rest:path}", methods=METHODS)
async def unknown_api(request: Request, rest: str) -> Response:
    if allowed_methods(request):
        # The path exists, but not with this method: a 405 with `Allow`, not a 404.
        raise HTTPException(405)
    raise NotFound(f"There is no endpoint {request.method} {request.url.path}.")


@router.api_route("/{path:path}", methods=["GET", "HEAD"])
async def web_ui(request: Request, path: str, settings: SettingsDep) -> Response:
    if path == "api":
        raise NotFound(f"There is no endpoint {request.method} {request.url.path}.")
    root = settings.static_dir
    if root is None or not (root / "index.html").is_file():
        where = (
            f"No <code>index.html</code> in <code>{html.escape(str(root))}</code>. "
            if root is not None
            else ""
        )
        return HTMLResponse(
            NOT_BUILT.format(where=where),
            status_code=200 if path in ("", "index.html") else 404,
            headers={"Cache-Control": REVALIDATE, "Content-Security-Policy": NOT_BUILT_POLICY},
        )
    files = StaticFiles(directory=root, check_dir=False)
    parts = [part for part in path.split("/") if part not in ("", ".")]
    relative = "/".join(parts)
    if relative not in ("", "index.html") and ".." not in parts:
        try:
            response = await files.get_response(relative, request.scope)
        except HTTPException as exc:
            if exc.status_code != 404 or relative.startswith("assets/"):
                raise
        else:
            immutable = relative.startswith("assets/")
            response.headers["Cache-Control"] = IMMUTABLE if immutable else REVALIDATE
            return response
    index = await files.get_response("index.html", request.scope)
    index.headers["Cache-Control"] = REVALIDATE
    return index
