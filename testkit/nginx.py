"""A real nginx running the repository's ``packaging/nginx.conf`` in front of test nodes.

The load balancer configuration that ``docker compose up`` uses is the one under test: this module
reads ``packaging/nginx.conf`` and changes only what a test machine needs changed (the upstream
addresses, the port it listens on, where it writes its log and temporary files), then runs the
Debian package's nginx in the foreground. Everything else (the WebSocket upgrade, the forwarded
headers, the timeouts, the failover rules) is exactly what ships.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from testkit.ports import free_port, wait_port
from testkit.prerequisites import unavailable

REPO = Path(__file__).resolve().parent.parent
CONF = REPO / "packaging" / "nginx.conf"
_UPSTREAM_SERVER = re.compile(r"^(\s*)server node(\d+):8000( [^;]*)?;$", re.M)


def nginx_binary() -> str | None:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def site_config(upstreams: Sequence[tuple[str, int]], port: int, workdir: Path) -> str:
    """``packaging/nginx.conf`` with node N at ``upstreams[N - 1]``, listening on ``port``."""
    text = CONF.read_text(encoding="utf-8")
    nodes = {int(m.group(2)) for m in _UPSTREAM_SERVER.finditer(text)}
    assert nodes == set(range(1, len(upstreams) + 1)), (
        f"packaging/nginx.conf lists nodes {sorted(nodes)}; the test gives {len(upstreams)}"
    )

    def server(match: re.Match[str]) -> str:
        host, node_port = upstreams[int(match.group(2)) - 1]
        return f"{match.group(1)}server {host}:{node_port}{match.group(3) or ''};"

    text = _UPSTREAM_SERVER.sub(server, text)
    assert "listen 8080;" in text, "packaging/nginx.conf no longer listens on 8080"
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    text = text.replace("/var/log/nginx/access.log", str(workdir / "access.log"))
    # A second log of where each request went (upstream address, its status), for the tests.
    text = text.replace(
        "    server_tokens off;",
        f"    server_tokens off;\n    access_log {workdir / 'upstream.log'} docstream_upstream;",
    )
    return (
        "log_format docstream_upstream '$msec|$status|$upstream_addr|$upstream_status|"
        "$request_time|$uri';\n" + text
    )


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        parts = []
        for name in ("error.log", "upstream.log"):
            with contextlib.suppress(OSError):
                parts.append((self.workdir / name).read_text(errors="replace"))
        return "\n".join(parts)

    def routed(self) -> list[tuple[str, str]]:
        """(upstream address, upstream status) of every finished request so far, in order (a
        request retried on another node lists both, comma-separated)."""
        try:
            lines = (self.workdir / "upstream.log").read_text(errors="replace").splitlines()
        except OSError:
            return []
        return [(fields[2], fields[3]) for fields in (line.split("|") for line in lines)]


@contextlib.contextmanager
def balancer(upstreams: Sequence[tuple[str, int]]) -> Iterator[Nginx]:
    """Run nginx with the repository's configuration in front of ``upstreams``; stop it after."""
    binary = nginx_binary()
    if binary is None:
        unavailable("nginx is not installed (Debian package nginx)")
    workdir = Path(tempfile.mkdtemp(prefix="docstream-nginx-"))
    port = free_port()
    (workdir / "site.conf").write_text(site_config(upstreams, port, workdir))
    temp = workdir / "temp"
    temp.mkdir()
    # As root nginx's workers would switch to an unprivileged user that cannot write here.
    user = "user root;" if os.geteuid() == 0 else ""
    temps = " ".join(
        f"{kind}_temp_path {temp / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (workdir / "nginx.conf").write_text(
        f"{user}\nworker_processes 1;\ndaemon off;\npid {workdir / 'nginx.pid'};\n"
        f"error_log {workdir / 'error.log'} warn;\nevents {{ worker_connections 4096; }}\n"
        f"http {{\n  {temps}\n  include {workdir / 'site.conf'};\n}}\n"
    )
    check = subprocess.run(
        [
            binary,
            "-t",
            "-p",
            str(workdir),
            "-c",
            str(workdir / "nginx.conf"),
            "-e",
            str(workdir / "error.log"),
        ],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert check.returncode == 0, check.stderr.decode(errors="replace")
    process = subprocess.Popen(
        [
            binary,
            "-p",
            str(workdir),
            "-c",
            str(workdir / "nginx.conf"),
            "-e",
            str(workdir / "error.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Nginx(process, port, workdir)
    try:
        if not wait_port(port, 15):
            raise RuntimeError(f"nginx did not start:\n{server.log()}")
        yield server
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)
