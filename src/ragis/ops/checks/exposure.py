"""Who can reach ragis and with what: the gateway's bind address and sign-in (RAGIS_AUTH), TLS
in front of it (docs/security.md), the internal token, and secrets that are easy to guess."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from ragis.gateway.auth_mode import binds_loopback
from ragis.gateway.settings import GatewaySettings
from ragis.ops.checks.result import Check

__all__ = ["exposure_checks", "looks_weak"]

#: Passwords and tokens seen in examples and tutorials.
_KNOWN = {
    "admin", "administrator", "changeme", "change-me", "change_me", "password", "passw0rd",
    "secret", "ragis", "redis", "letmein", "123456", "12345678", "qwerty", "example",
}  # fmt: skip
#: A password shorter than this is weak (ragis itself accepts 8 and up).
STRONG_LENGTH = 12


def looks_weak(secret: str, *, length: int = STRONG_LENGTH) -> bool:
    """Shorter than `length`, a known placeholder (in any case, with digits appended), or made
    of a handful of distinct characters (`xxxx...`, `abab...`)."""
    plain = secret.strip().lower().rstrip("0123456789!")
    return len(secret) < length or plain in _KNOWN or len(set(secret)) < 6


def _auth_check(gateway: GatewaySettings) -> Check:
    name = "exposure"
    host = gateway.gateway_host
    where = f"the gateway listens on {host}:{gateway.gateway_port}"
    if binds_loopback(host):
        if gateway.auth_on:
            proxies = ", ".join(gateway.trusted_proxies)
            behind = f", behind the reverse proxies {proxies}" if proxies else ""
            return Check.ok(name, f"{where} (this machine only) with sign-in on{behind}")
        return Check.ok(
            name, f"{where} (this machine only), sign-in off: one user, on this machine"
        )
    if not gateway.auth_on:
        return Check.problem(
            name,
            f"{where} (beyond this machine) with RAGIS_AUTH=off: anyone who reaches it reads, "
            "changes and deletes every document",
            "set RAGIS_AUTH=on (or auto), or RAGIS_GATEWAY_HOST=127.0.0.1 behind a TLS reverse "
            "proxy (docs/security.md)",
        )
    if gateway.trusted_proxies:
        return Check.ok(
            name,
            f"{where} with sign-in on, behind the reverse proxies "
            f"{', '.join(gateway.trusted_proxies)}",
        )
    return Check.warn(
        name,
        f"{where} (beyond this machine) with sign-in on, over plain HTTP: passwords, session "
        "cookies and API keys cross the network readable",
        "put a TLS reverse proxy in front and keep the gateway on 127.0.0.1 with "
        "RAGIS_TRUSTED_PROXIES (docs/security.md, 'Behind a TLS reverse proxy'); ignore this "
        "inside a container whose port only such a proxy reaches",
    )


def _token_check(gateway: GatewaySettings) -> Check:
    name = "internal-token"
    token = gateway.internal_token
    if token is None:
        return Check.ok(
            name,
            "RAGIS_INTERNAL_TOKEN unset: `ragis up` makes a new one at each start (services "
            "started apart need it set, the same in both)",
        )
    if looks_weak(token.get_secret_value(), length=32):
        return Check.warn(
            name,
            "RAGIS_INTERNAL_TOKEN is set but easy to guess (few distinct characters, or a "
            "placeholder)",
            "make a new one: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    return Check.ok(name, "RAGIS_INTERNAL_TOKEN set, and not a guessable one")


def _secret_checks(gateway: GatewaySettings) -> list[Check]:
    checks: list[Check] = []
    admin = gateway.admin_password
    if admin is not None and looks_weak(admin.get_secret_value()):
        checks.append(
            Check.warn(
                "admin-password",
                "RAGIS_ADMIN_PASSWORD (the first admin's) is short or a well-known one",
                "sign in as that admin and change the password in the web UI, then remove "
                "RAGIS_ADMIN_PASSWORD from the environment",
            )
        )
    if gateway.redis_url and not gateway.redis_url.startswith("unix://"):
        url = urlsplit(gateway.redis_url)
        if not url.password:
            checks.append(
                Check.warn(
                    "redis-password",
                    f"REDIS_URL signs in with no password: any process that reaches "
                    f"{url.hostname}:{url.port or 6379} reads every document",
                    "give Redis a password (requirepass or an ACL user) and put it into "
                    "REDIS_URL or RAGIS_REDIS_PASSWORD_FILE",
                )
            )
        elif looks_weak(unquote(url.password), length=16):
            checks.append(
                Check.warn(
                    "redis-password",
                    "the Redis password in REDIS_URL is short or a well-known one",
                    "give Redis a random password of 16 characters or more",
                )
            )
    return checks


def exposure_checks(gateway: GatewaySettings) -> list[Check]:
    """Sign-in against the bind address, the internal token, and weak secrets."""
    return [_auth_check(gateway), _token_check(gateway), *_secret_checks(gateway)]
