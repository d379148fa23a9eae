"""The ``docstream`` command: ``serve``, ``migrate``, ``desktop``, ``admin`` and the data tools
(``backup``, ``restore``, ``copy``, ``import``, ``export``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from docstream import __version__, cli_admin, logs
from docstream.datadir import private_dir, secure
from docstream.errors import ConfigurationError, DocStreamError
from docstream.fdlimit import raise_nofile_limit
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
    serve.add_argument("--log-format", choices=["text", "json"], help="json: one object per line")
    serve.add_argument(
        "--signup-policy",
        choices=["open", "invite-only", "closed"],
        help="who may create an account (default: open on loopback, invite-only otherwise)",
    )

    migrate = sub.add_parser("migrate", help="apply the database migrations and exit")
    migrate.add_argument("--data-dir", type=Path, help="where SQLite and local state live")
    migrate.add_argument(
        "--database-url", help="postgresql://... (default: SQLite in the data dir)"
    )
    migrate.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    migrate.add_argument("--log-format", choices=["text", "json"], help="json: one object per line")

    desktop = sub.add_parser("desktop", help="open the desktop editor (a window, server inside)")
    desktop.add_argument("--data-dir", type=Path, help="where SQLite and local state live")
    desktop.add_argument("--server", help="open a remote DocStream (https://...) instead")
    desktop.add_argument(
        "--gui",
        choices=["qt", "gtk", "cocoa", "edgechromium"],
        help=("web view toolkit (default: qt on Linux, the native one on macOS and Windows)"),
    )
    desktop.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    desktop.add_argument("--log-format", choices=["text", "json"], help="json: one object per line")

    cli_admin.add_parser(sub)
    _data_parsers(sub)
    return parser


def _storage_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="where SQLite and local state live")
    parser.add_argument("--database-url", help="postgresql://... (default: SQLite in the data dir)")


def _data_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The data tools (docs/backup.md)."""
    backup = sub.add_parser("backup", help="back up the store into a new SQLite file")
    backup.add_argument("file", type=Path, help="the backup file to write (must not exist)")
    _storage_flags(backup)
    restore = sub.add_parser("restore", help="restore a backup file into an empty store")
    restore.add_argument("file", type=Path, help="a file written by docstream backup")
    restore.add_argument("--replace", action="store_true", help="wipe a non-empty store first")
    _storage_flags(restore)
    copy = sub.add_parser("copy", help="copy every table from one store to another")
    copy.add_argument("--from", dest="source", required=True, help="data dir, SQLite file or URL")
    copy.add_argument("--to", dest="target", required=True, help="data dir, SQLite file or URL")
    copy.add_argument("--replace", action="store_true", help="wipe a non-empty target first")
    imp = sub.add_parser("import", help="import .txt and .md files as new documents")
    imp.add_argument("paths", nargs="+", type=Path, help="files or folders (recursively)")
    imp.add_argument("--owner", required=True, help="the e-mail of the documents' owner")
    _storage_flags(imp)
    export = sub.add_parser("export", help="write every document's text as Markdown files")
    export.add_argument("--all", dest="directory", required=True, type=Path, help="target folder")
    export.add_argument("--owner", help="only the documents this e-mail owns")
    export.add_argument(
        "--format",
        choices=("md", "txt", "html"),
        default="md",
        help="md or txt: the text as it is; html: rendered as a standalone sanitised page",
    )
    _storage_flags(export)


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
        log_format=getattr(args, "log_format", None),
        desktop_gui=getattr(args, "gui", None),
        signup_policy=getattr(args, "signup_policy", None),
    )


def _serve(settings: Settings) -> int:
    # One descriptor per client socket: raised before granian starts the workers (they inherit
    # it), and before granian is imported (its extension raises the limit too, silently).
    logs.configure(settings.log_level, settings.log_format)
    raise_nofile_limit()
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
    for name in ("database_url", "redis_url", "log_level", "log_format", "signup_policy"):
        value = getattr(settings, name)
        if value:
            os.environ[f"DOCSTREAM_{name.upper()}"] = str(value)
    # Everything this server writes is private (the data dir's rule), files made by libraries
    # included: the metrics files below, the typeahead's, SQLite's journals.
    os.umask(0o077)
    # Each worker counts in files here; GET /metrics adds them up (docstream.metrics).
    metrics_dir = private_dir(settings.data_dir / "metrics")
    for stale in metrics_dir.glob("*.db"):  # a previous run's workers
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    if settings.log_format == "text":  # JSON logs: granian's own start-up lines say it
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
        log_dictconfig=logs.server_config(settings.log_format),
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
    if not server:  # the window serves the documents itself (docstream.desktop.embedded)
        logs.configure(settings.log_level, settings.log_format)
        raise_nofile_limit()
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
        if args.command == "admin":
            return cli_admin.run(settings, args)
        return _data_command(args, settings)
    except KeyboardInterrupt:
        from docstream.datatools.commands import interrupted

        return interrupted()
    except DocStreamError as exc:
        print(f"docstream: {exc.detail}", file=sys.stderr)
        return 1


def _data_command(args: argparse.Namespace, settings: Settings) -> int:
    from docstream.bootstrap import make_store
    from docstream.datatools import commands

    if args.command == "copy":
        return commands.copy(args.source, args.target, args.replace)
    if not settings.uses_postgres:
        secure(settings)
    if args.command == "backup":
        return commands.backup(settings, args.file)
    if args.command == "restore":
        return commands.restore(settings, args.file, args.replace)
    if args.command == "import":
        return commands.import_files(make_store(settings), settings, args.paths, args.owner)
    if args.command == "export":
        return commands.export_all(
            make_store(settings), settings, args.directory, args.owner, args.format
        )
    raise AssertionError(f"unhandled command {args.command}")
