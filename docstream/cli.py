"""The ``docstream`` command: ``serve``, ``migrate`` and ``desktop``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from docstream import __version__
from docstream.datadir import private_dir, secure
from docstream.errors import ConfigurationError, DocStreamError
from docstream.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="docstream", description=__doc__)
    parser.add_argument("--version", action="version", version=f"docstream {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the DocStream server")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (more than 1 needs Redis)")
    serve.add_argument("--data-dir", type=Path, help="where SQLite and local state live")
    serve.add_argument("--database-url", help="postgresql://... (default: SQLite in the data dir)")
    serve.add_argument("--redis-url", help="redis://... for fan-out between processes")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])

    migrate = sub.add_parser("migrate", help="apply the database migrations and exit")
    migrate.add_argument("--data-dir", type=Path, help="where SQLite and local state live")
    migrate.add_argument(
        "--database-url", help="postgresql://... (default: SQLite in the data dir)"
    )
    migrate.add_argument("--log-level", choices=["debug", "info", "warning", "error"])

    desktop = sub.add_parser("desktop", help="open the desktop editor (a window, server inside)")
    desktop.add_argument("--data-dir", type=Path, help="where SQLite and local state live")
    desktop.add_argument("--server", help="open a remote DocStream (https://...) instead")
    desktop.add_argument(
        "--gui",
        choices=["qt", "gtk", "cocoa", "edgechromium"],
        help=("web view toolkit (default: qt on Linux, the native one on macOS and Windows)"),
    )
    desktop.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    return parser


def _settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        os.environ,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        workers=getattr(args, "workers", None),
        data_dir=getattr(args, "data_dir", None),
        database_url=getattr(args, "database_url", None),
        redis_url=getattr(args, "redis_url", None),
        log_level=getattr(args, "log_level", None),
        desktop_gui=getattr(args, "gui", None),
    )


def _serve(settings: Settings) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    private_dir(settings.data_dir)
    # Workers are separate processes: hand them the effective settings through the environment.
    os.environ.update(
        {
            "DOCSTREAM_HOST": settings.host,
            "DOCSTREAM_PORT": str(settings.port),
            "DOCSTREAM_WORKERS": str(settings.workers),
            "DOCSTREAM_DATA_DIR": str(settings.data_dir),
        }
    )
    for name in ("database_url", "redis_url", "log_level"):
        value = getattr(settings, name)
        if value:
            os.environ[f"DOCSTREAM_{name.upper()}"] = str(value)
    print(f"DocStream {__version__} on http://{settings.host}:{settings.port}/", flush=True)
    Granian(
        "docstream.web.asgi:app",
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        workers_kill_timeout=settings.shutdown_timeout,
        log_level=settings.log_level,  # type: ignore[arg-type]
    ).serve()
    return 0


def _migrate(settings: Settings) -> int:
    import asyncio

    from docstream.bootstrap import make_store

    async def apply() -> list[str]:
        async with make_store(settings) as store:
            return await store.migrate()

    secure(settings)
    applied = asyncio.run(apply())
    where = "PostgreSQL" if settings.uses_postgres else f"SQLite {settings.sqlite_path}"
    if applied:
        print(f"docstream: applied {', '.join(applied)} to {where}")
    else:
        print(f"docstream: {where} is up to date")
    return 0


def _desktop(settings: Settings, server: str | None) -> int:
    from docstream.desktop.shell import run

    return run(settings, server)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings_from(args)
    except ConfigurationError as exc:
        print(f"docstream: {exc.detail}", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            return _serve(settings)
        if args.command == "migrate":
            return _migrate(settings)
        if args.command == "desktop":
            return _desktop(settings, args.server)
    except DocStreamError as exc:
        print(f"docstream: {exc.detail}", file=sys.stderr)
        return 1
    raise AssertionError(f"unhandled command {args.command}")
