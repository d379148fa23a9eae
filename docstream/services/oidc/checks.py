"""Small checks of what comes from outside during a single sign-on: the ``next`` path, the
provider's endpoint URLs, the key id an ID token names. Pure functions, kept apart so that the
provider module is about the protocol."""

from __future__ import annotations

import base64
import ipaddress
import json
import urllib.parse

#: The longest ``next`` path accepted.
MAX_NEXT = 2000


def safe_next(path: str | None) -> str:
    """``path`` if it is a path on this server, else refuse (an open redirect otherwise)."""
    if not path:
        return "/"
    if (
        len(path) > MAX_NEXT
        or not path.startswith("/")
        or path.startswith("//")
        or "\\" in path
        or any(ord(c) < 0x21 or ord(c) == 0x7F for c in path)
    ):
        raise ValueError("next must be a path on this server (such as /d/abc)")
    return path


def allowed_url(url: object, *, loopback_http: bool) -> bool:
    """An https URL, or (``loopback_http``: a provider on this machine) http to a loopback host."""
    if not isinstance(url, str):
        return False
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not loopback_http or not parts.hostname:
        return False
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def kid_of(token: str) -> str | None:
    """The ``kid`` of a compact JWS's header, if it names one (nothing is trusted from it)."""
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".", 1)[0] + "==="))
    except (ValueError, TypeError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None
