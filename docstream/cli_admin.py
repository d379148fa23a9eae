"""``docstream admin ...``: administer accounts from the server's own machine.

It works on the database directly (the same storage flags and environment as ``serve``), so it
needs no running server and no administrator account: it is how the first administrator of a
closed server is made, and how one gets back in. What a command changes goes into the audit log
like an administrator's action on the admin page, with no actor, no address and ``via: command
line`` (whoever can run it can read the database anyway). Each command is a ``Command`` in
``COMMANDS``: adding one is a function that declares its arguments, a coroutine that runs it, and
a line.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from docstream.datadir import secure
from docstream.errors import ConflictError, InvalidInputError, NotFoundError
from docstream.services.identity import default_name, normalize_email, validate_name
from docstream.settings import Settings
from docstream.storage.base import DocumentStore, NewAuditEntry, User

if TYPE_CHECKING:  # the services load when a command runs: `docstream serve` forks its workers
    # from this process, and they must import the metrics after it set their folder
    from docstream.services.auth import AuthService


@dataclass(frozen=True, slots=True)
class AdminContext:
    """What a command works with: the migrated store and the account rules."""

    settings: Settings
    store: DocumentStore
    auth: AuthService

    async def registered(self, email: str) -> User:
        user = await self.store.get_user_by_email(normalize_email(email))
        if user is None or user.pending:
            raise NotFoundError(f"no account has the address {email}")
        return user

    async def audit(self, action: str, subject: User, **detail: str) -> None:
        """Record a change made from the command line (written before the command reports it)."""
        entry = NewAuditEntry(
            action, subject_id=subject.id, detail={"via": "command line", **detail}
        )
        await self.store.append_audit(entry)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[AdminContext, argparse.Namespace], Awaitable[int]]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``admin`` command and its sub-commands, with the storage flags of ``serve``."""
    admin = sub.add_parser("admin", help="administer accounts (works on the database directly)")
    commands = admin.add_subparsers(dest="admin_command", required=True)
    for command in COMMANDS:
        parser = commands.add_parser(command.name, help=command.help)
        parser.add_argument("--data-dir", type=Path, help="where SQLite and local state live")
        parser.add_argument(
            "--database-url", help="postgresql://... (default: SQLite in the data dir)"
        )
        parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
        command.arguments(parser)


@asynccontextmanager
async def _context(settings: Settings) -> AsyncIterator[AdminContext]:
    from docstream.bootstrap import make_store
    from docstream.services.auth import AuthService

    async with make_store(settings) as store:
        await store.migrate()
        # No token is made here: a throwaway secret keeps the data dir's one untouched.
        yield AdminContext(settings, store, AuthService(store, settings, secrets.token_hex(32)))


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``docstream admin <command>``; DocStream errors reach the caller (exit status 1)."""
    command = next(c for c in COMMANDS if c.name == args.admin_command)
    secure(settings)

    async def main() -> int:
        async with _context(settings) as ctx:
            return await command.run(ctx, args)

    return asyncio.run(main())


# --- create-user -------------------------------------------------------------------------------


def _create_user_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email", help="the new account's e-mail address")
    parser.add_argument("--name", help="display name (default: a generated one)")
    parser.add_argument("--admin", action="store_true", help="make it an administrator")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (for scripts)",
    )


def read_password(from_stdin: bool) -> str:
    """The new password: a line of standard input, or typed twice at a terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInputError(
            "no terminal to type the password at: pass --password-stdin and pipe it in"
        )
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != first:
        raise InvalidInputError("the two passwords differ")
    return first


async def _create_user(ctx: AdminContext, args: argparse.Namespace) -> int:
    email = normalize_email(args.email)
    name = validate_name(args.name) if args.name else default_name()
    existing = await ctx.store.get_user_by_email(email)
    if existing is not None and not existing.pending:
        raise ConflictError(f"an account with the address {email} already exists")
    password = read_password(args.password_stdin)
    user = await ctx.auth.create_account(email, name, password, admin=args.admin)
    role = "administrator" if user.is_admin else "user"
    await ctx.audit("admin.user_created", user, email=user.email, role=role)
    print(f"docstream: created {user.email} ({role}), id {user.id}")
    return 0


# --- set-admin ---------------------------------------------------------------------------------


def _set_admin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email", help="the account's e-mail address")
    parser.add_argument("--revoke", action="store_true", help="remove the administrator role")


async def _set_admin(ctx: AdminContext, args: argparse.Namespace) -> int:
    user = await ctx.registered(args.email)
    if args.revoke and user.is_admin and not user.disabled and await ctx.store.count_admins() <= 1:
        raise ConflictError(f"{user.email} is the last administrator; make someone else one first")
    await ctx.store.set_admin(user.id, not args.revoke)
    await ctx.audit("admin.user_demoted" if args.revoke else "admin.user_promoted", user)
    state = "no longer an administrator" if args.revoke else "an administrator"
    print(f"docstream: {user.email} is {state}")
    return 0


# --- list-users --------------------------------------------------------------------------------


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    return None


async def _list_users(ctx: AdminContext, args: argparse.Namespace) -> int:
    rows: list[tuple[str, ...]] = [("EMAIL", "NAME", "ROLE", "STATE", "DOCUMENTS", "CREATED")]
    offset = 0
    while True:
        page, total = await ctx.store.list_users("", 500, offset)
        for s in page:
            rows.append(
                (
                    s.user.email,
                    s.user.name,
                    "admin" if s.user.is_admin else "user",
                    "disabled" if s.user.disabled else "enabled",
                    str(s.documents),
                    s.user.created_at.strftime("%Y-%m-%d"),
                )
            )
        offset += len(page)
        if not page or offset >= total:
            break
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _reset_password_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email", help="the account's e-mail address")


async def _reset_password(ctx: AdminContext, args: argparse.Namespace) -> int:
    from docstream.collab.extensions import Extensions
    from docstream.services.mail import Mailer
    from docstream.services.resets import PasswordResets

    resets = PasswordResets(ctx.store, ctx.auth, ctx.settings, Mailer(ctx.settings), Extensions())
    user, url, expires = await resets.issue_link_for_email(args.email)
    await ctx.audit("admin.password_reset_link", user)
    print(url)
    print(
        f"docstream: the link works once, until {expires.isoformat(timespec='seconds')}",
        file=sys.stderr,
    )
    return 0


COMMANDS: list[Command] = [
    Command("create-user", "create an account", _create_user_arguments, _create_user),
    Command(
        "set-admin", "make an account an administrator (or not)", _set_admin_arguments, _set_admin
    ),
    Command("list-users", "list the accounts", _no_arguments, _list_users),
    Command(
        "reset-password",
        "print a one-time password reset link for an account",
        _reset_password_arguments,
        _reset_password,
    ),
]
