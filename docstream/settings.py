"""One frozen ``Settings`` object, built once at the edge from CLI flags and the environment.

Nothing in DocStream reads the environment at import time: ``Settings.from_env(os.environ)`` is
called by the CLI (or a test) and the resulting value is passed down. Every tunable number of the
seed project is a field here with the seed's default.

Environment variables: ``DOCSTREAM_<FIELD>`` for every field (e.g. ``DOCSTREAM_PORT=9000``), plus
the
seed's names ``DATABASE_URL``, ``REDIS_URL``, ``ALLOWED_ORIGIN`` and ``JWT_SECRET``. A
``DOCSTREAM_``
variable wins over a seed name. Tuples are comma-separated; booleans accept 1/0/true/false/yes/no.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import re
import types
import typing
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from docstream.crdt.ids import MAX_COUNTER
from docstream.errors import ConfigurationError

#: Seed environment variable names honoured as aliases of fields.
SEED_ALIASES: dict[str, str] = {
    "DATABASE_URL": "database_url",
    "REDIS_URL": "redis_url",
    "ALLOWED_ORIGIN": "allowed_origins",
    "JWT_SECRET": "jwt_secret",
}


#: How far beyond a document's clock (the largest counter it holds) a new insert may start. A
#: Lamport clock moves to max(seen) + 1; a client whose refused messages moved its clock on may be
#: somewhat ahead, never by this much. With the cap on log entries per document no client can
#: exhaust the id space: ``validated`` checks that entries x (this + longest insert) stays below
#: the largest counter.
MAX_COUNTER_JUMP = 1 << 20


def default_data_dir() -> Path:
    """The per-user data directory (``~/.local/share/docstream`` on Linux)."""
    return Path(platformdirs.user_data_dir("docstream", appauthor=False))


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of a DocStream process. Build with :meth:`from_env` or the constructor."""

    # --- serving ---------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    #: Seconds granian waits for a worker to finish in-flight work on shutdown.
    shutdown_timeout: int = 10
    log_level: str = "info"
    #: ``text`` (for people) or ``json`` (one object per line, for a log collector).
    log_format: str = "text"
    #: ``GET /metrics`` answers requests from this host; with a token set, anyone who presents it
    #: as ``Authorization: Bearer <token>`` (a Prometheus on another machine), and only them.
    metrics_token: str | None = None

    # --- storage -----------------------------------------------------------------------------
    data_dir: Path = field(default_factory=default_data_dir)
    #: ``postgresql://...`` selects PostgreSQL; ``None`` (default) is SQLite in ``data_dir``.
    database_url: str | None = None
    db_pool_min: int = 1
    db_pool_max: int = 10

    # --- fan-out -----------------------------------------------------------------------------
    redis_url: str | None = None
    redis_channel_prefix: str = "doc:"

    # --- auth --------------------------------------------------------------------------------
    jwt_secret: str | None = None
    jwt_issuer: str = "docstream"
    jwt_audience: str = "docstream"
    access_token_ttl: int = 15 * 60
    refresh_token_ttl: int = 7 * 24 * 3600
    #: argon2id parameters (OWASP minimum: m=19 MiB, t=2, p=1).
    argon2_memory_kib: int = 19 * 1024
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    max_concurrent_hashes: int = 4
    #: Seconds a node may trust its memory that a session is still signed in (revocation check).
    session_cache_seconds: float = 1.0
    #: Seconds between two re-checks of the sessions and document roles of open sockets.
    revocation_check_interval: float = 5.0

    # --- invitations and e-mail --------------------------------------------------------------
    #: Lifetime of an invitation link, seconds (7 days).
    invitation_ttl: int = 7 * 24 * 3600
    #: Most pending (unexpired, unredeemed) invitations one user may have sent.
    max_pending_invitations: int = 100
    #: Public base URL of the UI (``https://docs.example.com``): links in e-mails. Required with
    #: ``smtp_host``; without it the share reply's link uses the request's own origin.
    public_url: str | None = None
    #: SMTP server for invitation e-mails; unset: nothing is sent (the inviter copies the link).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_from: str | None = None
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_timeout: float = 10.0

    # --- HTTP middleware ---------------------------------------------------------------------
    #: Allowed browser origins (CORS, WebSocket ``Origin``) besides the serving origin itself,
    #: which always is. None by default: the web UI is served by the server (and the Vite dev
    #: server proxies the API, so the browser sees one origin there too). ``*`` is refused.
    allowed_origins: tuple[str, ...] = ()
    #: Host names the server answers to (the ``Host`` header), against DNS rebinding. Empty
    #: (default): a request from a loopback address, or to a server bound to loopback, must name
    #: a loopback host (``localhost``, ``*.localhost``, ``127.0.0.1``, ``[::1]``); others are not
    #: checked. Entries: ``docs.example.com``, ``.example.com`` (and subdomains), or ``*`` (any).
    allowed_hosts: tuple[str, ...] = ()
    rate_limit_per_minute: int = 100
    #: Sign-in and sign-up attempts per minute per client address...
    auth_rate_limit_per_minute: int = 30
    #: ...and per account (e-mail address), whatever address they come from.
    auth_rate_limit_per_account: int = 10
    #: WebSocket handshakes per minute per client address.
    ws_handshakes_per_minute: int = 120
    #: Typeahead requests per minute per signed-in user (per address for guests).
    typeahead_rate_limit_per_minute: int = 1200
    #: Open WebSockets per user, and per client address (each worker process counts its own).
    ws_max_sockets_per_user: int = 32
    ws_max_sockets_per_address: int = 128
    #: Open ``GET /events`` streams per user (each worker process counts its own)...
    events_max_streams_per_user: int = 8
    #: ...and the list changes queued for one stream before it is dropped as too slow.
    events_queue_size: int = 64
    #: Seconds between two keep-alive comments on an idle ``GET /events`` stream.
    events_keepalive: float = 25.0
    #: Peers whose ``X-Forwarded-For`` is trusted (IP addresses or CIDR networks).
    trusted_proxies: tuple[str, ...] = ()
    #: Forwarding headers from an untrusted peer are logged once per peer per this many seconds.
    forwarded_warning_interval: float = 600.0
    max_body_bytes: int = 1024 * 1024

    # --- collaboration -----------------------------------------------------------------------
    snapshot_every: int = 100
    #: ...but at most one snapshot per this many seconds (the rest waits for a quiet moment).
    snapshot_min_interval: float = 1.0
    max_frame_bytes: int = 1024 * 1024
    max_ops_per_message: int = 10_000
    max_insert_length: int = 65_536
    hello_timeout: float = 10.0
    ws_messages_per_second: float = 200.0
    ws_message_burst: int = 400
    send_queue_size: int = 1024
    #: Caps per document, so that one document cannot stall or exhaust a server: visible
    #: characters (code points), stored runs (pieces of text and of deleted text, what a document
    #: costs in memory) and log entries. Edits beyond them are refused with ``too_large``.
    max_document_chars: int = 5_000_000
    max_document_runs: int = 2_000_000
    max_document_log_entries: int = 100_000_000
    #: ...and the bytes (memory) those frames may hold together.
    send_queue_bytes: int = 16 * 1024 * 1024
    #: What one client may send, in bytes per second (token bucket) and burst.
    ws_bytes_per_second: int = 1024 * 1024
    ws_byte_burst: int = 4 * 1024 * 1024
    #: Documents one user may own.
    max_documents_per_user: int = 10_000
    #: Replica ids that never wrote to the log are forgotten after this many days unseen...
    replica_retention_days: float = 7.0
    #: ...checked this often (seconds).
    replica_prune_interval: float = 3600.0
    #: An automatic restore point is taken after a burst of editing goes quiet for this long.
    version_idle_seconds: float = 30.0
    max_auto_versions: int = 50
    max_named_versions: int = 200

    # --- typeahead ---------------------------------------------------------------------------
    titles_max_words: int = 150_000
    #: Title-index entries (one per word of a title) one owner may hold: the newest titles are kept.
    titles_max_per_owner: int = 6_000
    titles_snapshot_writes: int = 100
    titles_snapshot_interval: float = 300.0
    mentions_max_words: int = 1_000
    mentions_snapshot_writes: int = 20
    mentions_snapshot_interval: float = 120.0
    mentions_janitor_interval: float = 600.0
    mentions_idle_timeout: float = 1800.0
    words_max_words: int = 10_000

    # --- desktop (``docstream desktop``) -------------------------------------------------------
    #: pywebview backend: ``qt`` (Qt WebEngine, the Linux default), ``gtk`` (WebKitGTK), or empty
    #: for the platform's native web view (macOS, Windows).
    desktop_gui: str | None = None
    #: Seconds a closing window waits for edits the server has not acknowledged yet.
    desktop_flush_timeout: float = 5.0

    # --- single sign-on (OpenID Connect) -----------------------------------------------------
    #: The provider's issuer URL (``https://id.example.com/realms/team``): its discovery document
    #: is ``<issuer>/.well-known/openid-configuration``. Unset: no single sign-on.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    #: Unset: a public client (PKCE only, no client authentication at the token endpoint).
    oidc_client_secret: str | None = None
    #: The provider's name on the button ("Sign in with <name>").
    oidc_name: str = "single sign-on"
    oidc_scopes: tuple[str, ...] = ("openid", "email", "profile")
    #: Accounts sign in with single sign-on only: password sign-in, registration and password
    #: changes are refused (403) and hidden in the web UI.
    sso_only: bool = False
    #: Take the provider's e-mail addresses as verified even without ``email_verified: true``
    #: (for providers that do not send the claim but manage every address, such as Entra ID).
    oidc_trust_email: bool = False

    # --- audit log -----------------------------------------------------------------------------
    #: Audit entries older than this many days are deleted (0: keep them forever)...
    audit_retention_days: float = 365.0
    #: ...checked this often (seconds).
    audit_purge_interval: float = 3600.0
    # --- notifications -------------------------------------------------------------------------
    #: How often (seconds) each node looks for e-mail digests that are due (with ``smtp_host``).
    notification_digest_interval: float = 300.0
    # --- password reset and API tokens ---------------------------------------------------------
    #: Lifetime of a password reset link sent by e-mail ("Forgot password?"), seconds (1 hour)...
    password_reset_ttl: int = 3600
    #: ...and of one an administrator issues (``docstream admin reset-password``), seconds (24 h).
    admin_reset_ttl: int = 24 * 3600
    #: Most personal API tokens one user may hold at once.
    max_api_tokens: int = 50
    # --- data tools ------------------------------------------------------------------------------
    #: The largest file ``POST /documents/import`` accepts, in bytes (the request carries it in
    #: base64, a third more). The command line has no such limit; both refuse a text longer than
    #: ``max_document_chars``.
    import_max_bytes: int = 4 * 1024 * 1024
    # --- trash -----------------------------------------------------------------------------------
    #: A document moved to the trash is deleted for good this many days later (days may be
    #: fractional)...
    trash_retention_days: float = 30.0
    #: ...by a task that looks for expired trash this often (seconds).
    trash_purge_interval: float = 3600.0
    # --- search ----------------------------------------------------------------------------------
    #: A document is re-indexed for search this long (seconds) after its last change...
    search_index_delay: float = 1.0
    #: ...and every node looks for documents whose index is behind their log this often (seconds;
    #: covers other nodes' edits and a crash before the delay ran out).
    search_catchup_interval: float = 30.0
    # --- administration -------------------------------------------------------------------------
    #: Who may create an account: ``open`` (anyone who reaches the server), ``invite-only`` (an
    #: address holding an invitation: to the server, from an administrator, or to a document), or
    #: ``closed`` (administrators create accounts with ``docstream admin create-user``). Unset:
    #: ``open`` when the server listens on loopback only (and in the desktop app), ``invite-only``
    #: otherwise. A policy chosen on the admin page wins over this setting until it is reset
    #: there. The very first account (no administrator yet) may always be created.
    signup_policy: str | None = None

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url) and str(self.database_url).startswith(
            ("postgres://", "postgresql://")
        )

    @property
    def sqlite_path(self) -> Path:
        if self.database_url and self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return self.data_dir / "docstream.sqlite3"

    @property
    def default_signup_policy(self) -> str:
        """``signup_policy``, or what it is when unset (see the field)."""
        if self.signup_policy:
            return self.signup_policy
        return "open" if self.host in LOOPBACK_HOSTS else "invite-only"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Build settings from environment variables, then apply explicit ``overrides``.

        ``overrides`` whose value is ``None`` are ignored, so CLI flags that were not given do not
        mask the environment.
        """
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for env_name, name in SEED_ALIASES.items():
            if environ.get(env_name):
                values[name] = _convert(name, hints[name], environ[env_name])
        for f in dataclasses.fields(cls):
            raw = environ.get(f"DOCSTREAM_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, hints[f.name], raw)
        for name, value in overrides.items():
            if value is not None:
                values[name] = value
        try:
            return cls(**values).validated()
        except TypeError as exc:
            raise ConfigurationError(str(exc)) from exc

    def validated(self) -> Settings:
        """Return ``self`` after checking that the settings can work together."""
        if not 0 < self.port < 65536:
            raise ConfigurationError(f"port must be between 1 and 65535, got {self.port}")
        if self.workers < 1:
            raise ConfigurationError("workers must be at least 1")
        if self.workers > 1 and not self.redis_url:
            raise ConfigurationError(
                "running more than one worker needs Redis for fan-out between them: "
                "set --redis-url / REDIS_URL, or use --workers 1"
            )
        if self.database_url and not (
            self.uses_postgres or self.database_url.startswith("sqlite:///")
        ):
            raise ConfigurationError(
                "database URL must start with postgresql:// or sqlite:///, "
                f"got {self.database_url.split(':', 1)[0]}://..."
            )
        if self.uses_postgres and (not self.jwt_secret or len(self.jwt_secret.encode()) < 32):
            raise ConfigurationError(
                "with PostgreSQL, set JWT_SECRET (or DOCSTREAM_JWT_SECRET) to a secret of at "
                "least 32 bytes, shared by every node"
            )
        if self.jwt_secret is not None and len(self.jwt_secret.encode()) < 32:
            raise ConfigurationError("JWT_SECRET must be at least 32 bytes long")
        _check_origins(self.allowed_origins)
        _check_hosts(self.allowed_hosts)
        if self.smtp_host and not self.public_url:
            raise ConfigurationError(
                "smtp_host needs public_url (the address in the links of invitation e-mails)"
            )
        if self.smtp_host and not self.smtp_from:
            raise ConfigurationError("smtp_host needs smtp_from (the sender of invitation e-mails)")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ConfigurationError("public_url must start with http:// or https://")
        if self.revocation_check_interval <= 0 or self.session_cache_seconds < 0:
            raise ConfigurationError(
                "revocation_check_interval must be > 0 and session_cache_seconds >= 0"
            )
        for name in (
            "invitation_ttl",
            "max_pending_invitations",
            "rate_limit_per_minute",
            "snapshot_every",
            "max_frame_bytes",
            "max_ops_per_message",
            "max_insert_length",
            "send_queue_size",
            "max_body_bytes",
            "max_concurrent_hashes",
            "max_document_chars",
            "max_document_runs",
            "max_document_log_entries",
            "auth_rate_limit_per_minute",
            "auth_rate_limit_per_account",
            "ws_handshakes_per_minute",
            "typeahead_rate_limit_per_minute",
            "ws_max_sockets_per_user",
            "ws_max_sockets_per_address",
            "events_max_streams_per_user",
            "events_queue_size",
            "send_queue_bytes",
            "ws_bytes_per_second",
            "max_documents_per_user",
            "titles_max_per_owner",
        ):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be at least 1")
        if self.max_document_log_entries * (MAX_COUNTER_JUMP + self.max_insert_length) >= (
            MAX_COUNTER
        ):
            raise ConfigurationError(
                "max_document_log_entries x max_insert_length is too large: a document could "
                "run out of character ids"
            )
        if self.ws_byte_burst < self.max_frame_bytes:
            raise ConfigurationError(
                "ws_byte_burst must be at least max_frame_bytes (a largest frame must fit)"
            )
        for name in ("password_reset_ttl", "admin_reset_ttl", "max_api_tokens"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be at least 1")
        if self.replica_retention_days <= 0 or self.replica_prune_interval <= 0:
            raise ConfigurationError(
                "replica_retention_days and replica_prune_interval must be > 0"
            )
        _check_oidc(self)

        if self.audit_retention_days < 0 or self.audit_purge_interval <= 0:
            raise ConfigurationError(
                "audit_retention_days must be >= 0 (0: forever) and audit_purge_interval > 0"
            )
        if self.trash_retention_days <= 0 or self.trash_purge_interval <= 0:  # --- trash ---
            raise ConfigurationError("trash_retention_days and trash_purge_interval must be > 0")
        if self.log_format not in ("text", "json"):
            raise ConfigurationError(f"log_format must be text or json, got {self.log_format!r}")
        if self.search_index_delay < 0 or self.search_catchup_interval <= 0:  # --- search ---
            raise ConfigurationError(
                "search_index_delay must be >= 0 and search_catchup_interval > 0"
            )
        if self.signup_policy and self.signup_policy not in SIGNUP_POLICIES:
            raise ConfigurationError(
                f"signup_policy must be one of {', '.join(SIGNUP_POLICIES)}, "
                f"got {self.signup_policy!r}"
            )
        return self


#: The sign-up policies (``Settings.signup_policy``).
SIGNUP_POLICIES = ("open", "invite-only", "closed")
#: Hosts that listen on this machine only: sign-up is open there unless set otherwise.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "[::1]", "localhost"})

_ORIGIN = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")
_HOST = re.compile(r"^(\*|(\*?\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])$")


def _check_origins(origins: tuple[str, ...]) -> None:
    """Every allowed origin is one exact ``scheme://host[:port]``: never ``*`` or ``null``."""
    for origin in origins:
        if origin == "*":
            raise ConfigurationError(
                "allowed_origins: '*' is refused: the API answers with credentials (the sign-in "
                "cookie), so '*' would let every web site act as your signed-in users. List the "
                "origins of your web front ends instead (e.g. https://docs.example.com)"
            )
        if not _ORIGIN.match(origin):
            raise ConfigurationError(
                f"allowed_origins: {origin!r} is not an origin; write scheme://host[:port] "
                "with no path or trailing slash (e.g. https://docs.example.com)"
            )


def _check_hosts(hosts: tuple[str, ...]) -> None:
    for host in hosts:
        if not _HOST.match(host):
            raise ConfigurationError(
                f"allowed_hosts: {host!r} is not a host name; write names without scheme or "
                "port: docs.example.com, .example.com (with subdomains), [::1], or *"
            )


def _convert(name: str, hint: Any, raw: str) -> Any:
    """Convert an environment string to the field's declared type."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):  # Optional[X]
        inner = [a for a in args if a is not type(None)]
        return _convert(name, inner[0], raw)
    try:
        if hint is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if hint is int:
            return int(raw)
        if hint is float:
            return float(raw)
        if hint is Path:
            return Path(raw).expanduser()
        if origin is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return raw
    except ValueError:
        raise ConfigurationError(
            f"setting {name}: cannot read {raw!r} as {getattr(hint, '__name__', hint)}"
        ) from None


def _check_oidc(settings: Settings) -> None:
    """Single sign-on: an https issuer (http only on loopback, for tests) and a client id."""
    issuer = settings.oidc_issuer
    if not issuer:
        if settings.sso_only:
            raise ConfigurationError("sso_only needs oidc_issuer (nobody could sign in)")
        return
    parts = urllib.parse.urlsplit(issuer)
    host = (parts.hostname or "").lower()
    loopback = host == "localhost" or host.endswith(".localhost")
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if not host or parts.query or parts.fragment or parts.username is not None:
        raise ConfigurationError(f"oidc_issuer must be a plain URL, got {issuer!r}")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ConfigurationError(
            "oidc_issuer must start with https:// (http:// only for a provider on this machine)"
        )
    if not settings.oidc_client_id:
        raise ConfigurationError("oidc_issuer needs oidc_client_id (the client registered there)")
    if "openid" not in settings.oidc_scopes:
        raise ConfigurationError("oidc_scopes must include openid")
