"""Who may read the gateway's /metrics.

- Sign-in off (RAGIS_AUTH off or auto on loopback): anyone who reaches the gateway, like every
  other route.
- Sign-in on: a scraper sending `Authorization: Bearer <RAGIS_METRICS_TOKEN>` (compared in
  constant time), or a signed-in admin (session or API key). Anyone else: 401 without valid
  credentials, 403 for a member. Without a metrics token set, only admins: the numbers (routes,
  error rates, load) are the operator's, not every member's.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from ragis.errors import Forbidden
from ragis.gateway.deps import services_of
from ragis.gateway.identity import resolve

__all__ = ["metrics_access"]


async def metrics_access(request: Request) -> None:
    """A FastAPI dependency: returns when the caller may read /metrics, else raises."""
    settings = services_of(request).settings
    token = settings.metrics_token
    given = request.headers.get("authorization")
    if token is not None and given is not None:
        scheme, _, secret = given.strip().partition(" ")
        # Compared whatever the scheme: one code path, one timing.
        matches = hmac.compare_digest(
            secret.strip().encode("utf-8"), token.get_secret_value().encode("utf-8")
        )
        if matches and scheme.lower() == "bearer":
            return
    if not settings.auth_on:
        return
    identity = (await resolve(request)).identity  # no or bad credentials: 401
    if not identity.is_admin:
        raise Forbidden(
            "Only an admin, or a scraper sending RAGIS_METRICS_TOKEN, may read /metrics."
        )
