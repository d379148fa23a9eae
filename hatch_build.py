"""Hatch build hook: a wheel or sdist of DocStream always carries the built web UI.

The UI is built by Vite (``cd webui && npm ci && npm run build``) into ``docstream/web/static``,
which is gitignored (build output is never committed) and therefore shipped as a hatch
*artifact* (see ``[tool.hatch.build.targets.*] artifacts`` in pyproject.toml). Without this hook a
wheel built before the UI would install a server that only shows "the web UI has not been built";
with it, the build stops with a message that says what to run. Editable installs
(``pip install -e .``) serve the UI from the source tree and are not checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

STATIC = Path("docstream") / "web" / "static"


class WebUIBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        index = root / STATIC / "index.html"
        assets = root / STATIC / "assets"
        if not index.is_file() or not assets.is_dir() or not any(assets.iterdir()):
            raise RuntimeError(
                f"DocStream's web UI is not built: {index} (and its assets/) is missing.\n"
                "Build it first, then build the package again:\n"
                "    cd webui && npm ci && npm run build\n"
                "(Node.js 20 or newer; the output goes to docstream/web/static/.)"
            )
        migrations = root / "migrations"
        packaged = root / "docstream" / "migrations"
        if not any(migrations.glob("*/*.sql")) and not any(packaged.glob("*/*.sql")):
            raise RuntimeError(f"DocStream's SQL migrations are missing from {migrations}")
