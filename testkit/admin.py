"""Administrators for tests: made with the real ``docstream admin create-user --admin`` against a
running server's database (a server shared by many tests has some other first account), then
signed in over REST."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from testkit.accounts import PASSWORD, Account, unique_email
from testkit.processes import ServerProcess


def create_admin(server: ServerProcess, name: str = "Admin", *database: str) -> Account:
    """An administrator of ``server`` (SQLite in its data dir, or ``--database-url ...`` given in
    ``database``), signed in."""
    email = unique_email("admin")
    storage = list(database) or ["--data-dir", str(server.data_dir)]
    command = ["admin", "create-user", email, "--name", name, "--admin", "--password-stdin"]
    made = subprocess.run(
        [sys.executable, "-m", "docstream", *command, *storage],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=os.environ.copy(),
    )
    assert made.returncode == 0, made.stderr
    response = httpx.post(
        f"{server.url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    data = response.json()
    return Account(
        id=data["user"]["id"],
        email=email,
        password=PASSWORD,
        name=name,
        access_token=data["access_token"],
        refresh_token=data["refresh_token"],
    )
