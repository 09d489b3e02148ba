"""RAGIS_AUTH: whether the gateway asks who is calling.

`auto` (the default) turns sign-in on as soon as the gateway binds anything but loopback, so
that `RAGIS_GATEWAY_HOST=0.0.0.0` never serves an open API by accident. `off` on a non-loopback
address is honoured only when set explicitly, with a warning at start.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum

__all__ = ["AuthMode", "binds_loopback"]


class AuthMode(StrEnum):
    AUTO = "auto"
    ON = "on"
    OFF = "off"


def binds_loopback(host: str) -> bool:
    """Whether a bind address reaches only this machine (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
