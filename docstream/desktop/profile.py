"""The local profile: the one account of a desktop install, created on first start.

A desktop user never sees a sign-up form. On first start the shell registers an account with a
random email under the reserved ``.localhost`` domain and a random 256-bit password, and keeps both
in ``<data dir>/desktop-profile.json``, created with mode 0600 (the same protection as the embedded
JWT secret beside it). Every later start signs in with it. The password never leaves this process
except in the request body of ``POST /auth/login`` to ``127.0.0.1``; the tokens that come back are
handed to the page through the window's bridge, never through a URL or a log line.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import stat
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docstream.datadir import private_dir
from docstream.errors import DesktopError

PROFILE_FILE = "desktop-profile.json"
PROFILE_VERSION = 1


@dataclass(frozen=True, slots=True)
class LocalProfile:
    email: str
    password: str
    name: str

    @classmethod
    def new(cls) -> LocalProfile:
        try:
            name = getpass.getuser()[:100] or "Me"
        except (KeyError, OSError):  # no user name (containers without a passwd entry)
            name = "Me"
        if "@" in name or not name.strip():  # the server refuses names that look like addresses
            name = "Me"
        return cls(
            email=f"me-{secrets.token_hex(6)}@desktop.localhost",
            password=secrets.token_urlsafe(32),
            name=name,
        )


def _read(path: Path) -> LocalProfile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != PROFILE_VERSION:
            raise DesktopError(
                f"{path} has profile version {data.get('version')!r}; "
                f"this DocStream reads version {PROFILE_VERSION}"
            )
        return LocalProfile(email=data["email"], password=data["password"], name=data["name"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DesktopError(f"cannot read the local profile {path}: {exc!r}") from exc


def _write(path: Path, profile: LocalProfile) -> None:
    body = {"version": PROFILE_VERSION, "email": profile.email, "password": profile.password}
    body["name"] = profile.name
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(body, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _post(base_url: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1:<port>
        f"{base_url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
            return reply.status, json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            payload = json.loads(exc.read() or b"{}")
        except ValueError:
            payload = {}
        return exc.code, payload


def sign_in(base_url: str, data_dir: Path) -> dict[str, Any]:
    """Sign the local profile in on the server at ``base_url``, creating it on first start.

    The profile file is written before the account is registered, so a crash in between leaves a
    profile whose account does not exist yet: a refused login is followed by a registration with
    the same credentials (which also recreates the account in a database that was replaced).

    Returns:
        The ``/auth/login`` (or ``/auth/register``) reply: ``access_token``, ``refresh_token``,
        ``expires_in`` and ``user``.

    Raises:
        DesktopError: the profile cannot be read or the server refused it.
    """
    path = data_dir / PROFILE_FILE
    login = {"status": 0, "reply": {}}
    if path.exists():
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)
        profile = _read(path)
        status, reply = _post(
            base_url, "/auth/login", {"email": profile.email, "password": profile.password}
        )
        if status == 200:
            return reply
        login = {"status": status, "reply": reply}
    else:
        profile = LocalProfile.new()
        private_dir(data_dir)
        _write(path, profile)
    status, reply = _post(
        base_url,
        "/auth/register",
        {"email": profile.email, "password": profile.password, "name": profile.name},
    )
    if status == 201:
        return reply
    detail = reply.get("error", {}).get("message", "no details")
    if login["status"]:
        raise DesktopError(
            f"the local server refused the local profile in {path} (login: {login['status']}, "
            f"register: {status}: {detail}); move that file away to create a new profile"
        )
    raise DesktopError(f"the local server refused to create the local profile ({status}: {detail})")
