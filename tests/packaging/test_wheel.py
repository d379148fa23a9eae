"""``pip install .`` / ``python -m build``: the wheel carries the built web UI and the migrations,
and a build without the UI stops with a message that says what to run."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from testkit.bundles import ROOT, STATIC
from testkit.prerequisites import unavailable

pytestmark = pytest.mark.packaging


def _wheel(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _copy_tree(dest: Path, *, with_ui: bool) -> Path:
    ignore = shutil.ignore_patterns(
        ".venv",
        ".git",
        "node_modules",
        "dist",
        "build",
        "test-artifacts",
        "__pycache__",
        ".*_cache",
        ".bench",
        "*.egg-info",
        *([] if with_ui else ["static"]),
    )
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def test_wheel_contains_the_web_ui_and_the_migrations(tmp_path: Path) -> None:
    if not (STATIC / "index.html").is_file():
        unavailable("the web UI is not built (cd webui && npm ci && npm run build)")
    source = _copy_tree(tmp_path / "src", with_ui=True)
    done = _wheel(source, tmp_path / "out")
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = (tmp_path / "out").glob("docstream-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "docstream/web/static/index.html" in names
    assert any(n.startswith("docstream/web/static/assets/") and n.endswith(".js") for n in names)
    for dialect in ("sqlite", "postgres"):
        assert f"docstream/migrations/{dialect}/0001_initial.sql" in names
    assert "docstream/desktop/shell.py" in names
    # The test and benchmark helpers are development tools, never shipped.
    assert not [n for n in names if n.split("/")[0] in {"testkit", "tests", "benchmarks"}]


def test_wheel_build_without_the_web_ui_fails_with_a_clear_message(tmp_path: Path) -> None:
    source = _copy_tree(tmp_path / "src", with_ui=False)
    assert not (source / "docstream" / "web" / "static").exists()
    done = _wheel(source, tmp_path / "out")
    assert done.returncode != 0
    assert "DocStream's web UI is not built" in done.stderr + done.stdout
    assert "cd webui && npm ci && npm run build" in done.stderr + done.stdout
