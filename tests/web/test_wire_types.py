"""The web UI's TypeScript wire types match the server's msgspec Structs, field by field.

``PAIRS`` says which TypeScript declaration is which server type. Every Struct of the protocol
and REST schema modules is paired or listed in ``NOT_IN_THE_UI`` (with the reason), so a new
frame or body cannot be left out silently. The checker itself is tested on drifted copies of
both sides: an added, removed, renamed or retyped field on either side is caught.
"""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any, Literal

import msgspec
import pytest

from docstream.crdt import ops as crdt_ops
from docstream.protocol import messages as frames
from docstream.services import list_events
from docstream.services.notifications import messages as notification_messages
from docstream.services.search import query as search_query
from docstream.services.typeahead.title_entries import TitleSuggestion
from docstream.storage.records import DigestFrequency, NotificationKind, TokenScope
from docstream.web import schemas
from docstream.web.routes import (
    account,
    admin,
    audit,
    handover,
    imports,
    notifications,
    resets,
    signup,
    suggest,
    tokens,
    trash,
    versions,
)
from docstream.web.routes import oidc as oidc_routes
from tests.web.wire_types import compare, parse_typescript, unpaired_structs

WEBUI = Path(__file__).resolve().parents[2] / "webui" / "src"
#: The files that declare the wire types.
TS_FILES = ("engine/ops.ts", "protocol/messages.ts", "protocol/rest.ts")

PAIRS: list[tuple[str, Any]] = [
    # CRDT ops (docs/protocol.md §6)
    ("InsertOp", crdt_ops.Insert),
    ("DeleteOp", crdt_ops.Delete),
    ("Op", crdt_ops.Op),
    # WebSocket frames (docs/protocol.md §5)
    ("Peer", frames.Peer),
    ("UserInfo", frames.UserInfo),
    ("SeqOps", frames.SeqOps),
    ("Hello", frames.Hello),
    ("SubmitOps", frames.SubmitOps),
    ("SetCursor", frames.SetCursor),
    ("ClientFrame", frames.ClientFrame),
    ("CommentInfo", frames.CommentInfo),
    ("AddComment", frames.AddComment),
    ("ReplyComment", frames.ReplyComment),
    ("EditComment", frames.EditComment),
    ("DeleteComment", frames.DeleteComment),
    ("ResolveComment", frames.ResolveComment),
    ("CommentFrame", frames.CommentFrame),
    ("CommentUpsert", frames.CommentUpsert),
    ("CommentsRemoved", frames.CommentsRemoved),
    ("CommentList", frames.CommentList),
    ("Welcome", frames.Welcome),
    ("RemoteOps", frames.RemoteOps),
    ("Ack", frames.Ack),
    ("Batch", frames.Batch),
    ("SingleFrame", frames.SingleFrame),
    ("Presence", frames.Presence),
    ("PeerCursor", frames.PeerCursor),
    ("RoleChanged", frames.RoleChanged),
    ("ErrorFrame", frames.ErrorFrame),
    ("ServerFrame", frames.ServerFrame),
    ("Role", frames.RoleName),
    # REST bodies and replies (docs/protocol.md §4)
    ("RegisterBody", schemas.RegisterBody),
    ("LoginBody", schemas.LoginBody),
    ("RefreshBody", schemas.RefreshBody),
    ("LogoutBody", schemas.LogoutBody),
    ("PasswordBody", schemas.PasswordBody),
    ("TitleBody", schemas.TitleBody),
    ("ImportBody", imports.ImportBody),
    ("ShareBody", schemas.ShareBody),
    ("Person", schemas.PersonOut),
    ("PublicSharingBody", schemas.PublicSharingBody),
    ("NameBody", schemas.NameBody),
    ("User", schemas.UserOut),
    ("AuthReply", schemas.AuthOut),
    ("Tokens", schemas.TokensOut),
    ("DocumentInfo", schemas.DocumentOut),
    ("DocumentListItem", schemas.DocumentListItemOut),
    ("ListChange", list_events.ListChange),
    ("DocumentDetail", schemas.DocumentDetailOut),
    ("Collaborator", schemas.CollaboratorOut),
    ("PublicSharing", schemas.PublicSharingOut),
    ("InvitationInfo", schemas.InvitationOut),
    ("Accepted", schemas.AcceptedOut),
    ("Version", versions.VersionOut),
    ("VersionText", versions.VersionTextOut),
    ("LabelBody", versions.LabelBody),
    ("Restored", versions.RestoreOut),
    ("HistoryEntry", versions.HistoryEntryOut),
    ("WordSuggestion", suggest.WordOut),
    # password reset and API tokens
    ("ResetRequestBody", resets.ResetRequestBody),
    ("ResetRequested", resets.ResetRequestedOut),
    ("ResetConfirmBody", resets.ResetConfirmBody),
    ("ResetLink", resets.ResetLinkOut),
    ("TokenBody", tokens.TokenBody),
    ("ApiTokenInfo", tokens.TokenOut),
    ("NewApiToken", tokens.NewTokenOut),
    ("TokenScope", TokenScope),
    ("SelectBody", suggest.SelectBody),
    ("TitleSuggestion", TitleSuggestion),
    # single sign-on
    ("OidcProvider", oidc_routes.OidcProviderOut),
    ("Providers", oidc_routes.ProvidersOut),
    ("AuditEntry", audit.AuditEntryOut),
    ("AuditPage", audit.AuditPageOut),
    # trash, transfer, leave, duplicate
    ("TrashItem", trash.TrashItemOut),
    ("TrashEmptied", trash.TrashEmptiedOut),
    ("TransferBody", handover.TransferBody),
    # administration
    ("SignupInfo", signup.SignupOut),
    ("SignupInvitation", signup.SignupInvitationOut),
    ("DeleteAccountBody", account.DeleteAccountBody),
    ("AdminUser", admin.AdminUserOut),
    ("UsersPage", admin.UsersPageOut),
    ("UserChangeBody", admin.UserChangeBody),
    ("DeleteUserBody", admin.DeleteUserBody),
    ("ServerInvitationBody", admin.ServerInvitationBody),
    ("ServerInvitation", admin.ServerInvitationOut),
    ("SignupPolicy", admin.SignupPolicyOut),
    ("SignupPolicyBody", admin.SignupPolicyBody),
    ("AdminOverview", admin.OverviewOut),
    # notifications
    ("NotificationKind", NotificationKind),
    ("DigestFrequency", DigestFrequency),
    ("NotificationItem", notification_messages.NotificationOut),
    ("NotificationsPage", notifications.NotificationsPage),
    ("NotificationEvent", notification_messages.NotificationEvent),
    ("NotificationReadBody", notifications.ReadBody),
    ("NotificationsRead", notifications.ReadOut),
    ("DigestBody", notifications.DigestBody),
    ("NotificationSettings", notifications.SettingsOut),
    # history
    ("EditSession", versions.SessionOut),
    ("SessionsPage", versions.SessionsOut),
    ("TextAt", versions.TextAtOut),
    ("ReplicaAuthor", versions.ReplicaAuthorOut),
    # full-text search
    ("SearchResult", search_query.SearchResult),
    ("SearchPage", search_query.SearchPage),
]

NOT_IN_THE_UI = {
    # The server's pre-encoded twins of Welcome, RemoteOps and SeqOps: the same JSON (tested in
    # tests/collab), ops kept as raw bytes so that a broadcast is encoded once.
    "SeqOpsRaw": "pre-encoded twin of SeqOps",
    "WelcomeRaw": "pre-encoded twin of Welcome",
    "RemoteOpsRaw": "pre-encoded twin of RemoteOps",
    "HealthOut": "read by load balancers and operators, not by the UI",
    # The engine's visible change (what a UI replays); never on the wire. The TS engine has its own.
    "Change": "the engine's visible change, not a wire type",
    "DocumentChange": "a peer message between nodes, never sent to clients",
    "NotificationPeer": "a peer message between nodes, never sent to clients",
    "Pushed": "another feature's event queued on a list stream, sent as its own SSE event",
}


def ts_sources(root: Path = WEBUI) -> list[str]:
    return [(root / name).read_text(encoding="utf-8") for name in TS_FILES]


def test_the_typescript_wire_types_match_the_server() -> None:
    problems = compare(parse_typescript(ts_sources()), PAIRS)
    assert not problems, "the UI's wire types drifted from the server's:\n" + "\n".join(problems)


def test_every_struct_of_the_protocol_and_the_rest_schemas_is_paired_or_known_unused() -> None:
    modules = (
        frames,
        schemas,
        versions,
        suggest,
        crdt_ops,
        list_events,
        oidc_routes,
        audit,
        resets,
        tokens,
        imports,
        trash,
        handover,
        admin,
        signup,
        account,
        notifications,
        notification_messages,
    )
    assert unpaired_structs(modules, PAIRS, NOT_IN_THE_UI) == []


def test_every_typescript_wire_type_is_paired() -> None:
    """A TS-only declaration in these files is a UI type, not a wire type: listed here."""
    ui_only = {"Change", "Suggestion", "GrantRole", "ShareRole", "SignupPolicyName"}
    declared = set(parse_typescript(ts_sources()))
    assert declared - {ts for ts, _ in PAIRS} == ui_only


# --- the checker catches drift -------------------------------------------------------------------


def _drift_ts(pattern: str, replacement: str) -> list[str]:
    """Check the real Python side against the TS sources with one edit (which must apply)."""
    sources = ts_sources()
    edited = [re.sub(pattern, replacement, s, count=1) for s in sources]
    assert edited != sources, f"the edit {pattern!r} applies to no source"
    return compare(parse_typescript(edited), PAIRS)


@pytest.mark.parametrize(
    ("pattern", "replacement", "expected"),
    [
        # a field added in TypeScript only
        (r"(interface Peer \{)", r"\1\n  avatar: string;", "Peer.avatar: declared in TypeScript"),
        # a field removed
        (r"(interface Ack \{[^}]*?)\n  seq: number;", r"\1", "Ack.seq: sent by the server"),
        # renamed
        (r"(interface Hello \{[^}]*?)replica:", r"\1replicaId:", "Hello.replicaId"),
        # retyped
        (
            r"(interface RemoteOps \{[^}]*?)seq: number",
            r"\1seq: string",
            "RemoteOps.seq: TypeScript has string",
        ),
        # nullability lost
        (
            r"(interface Collaborator \{[^}]*?)user_id: string \| null",
            r"\1user_id: string",
            "Collaborator.user_id",
        ),
        # made optional
        (
            r"(interface DocumentInfo \{[^}]*?)title: string",
            r"\1title?: string",
            "DocumentInfo.title: should be required",
        ),
        # a literal union widened
        (
            r'export type Role = "owner" \| "editor" \| "commenter" \| "viewer"',
            "export type Role = string",
            "Role: TypeScript has string",
        ),
        # a frame left out of a union
        (r"\| RoleChanged", "", "ServerFrame: TypeScript has"),
        # a nested type replaced
        (
            r"(interface Welcome \{[^}]*?)user: UserInfo",
            r"\1user: Peer",
            "Welcome.user: TypeScript has ref:Peer",
        ),
        # a renamed JSON field of an op
        (r"(interface DeleteOp \{[^}]*?)len: number", r"\1length: number", "DeleteOp.len"),
    ],
)
def test_typescript_drift_is_caught(pattern: str, replacement: str, expected: str) -> None:
    problems = _drift_ts(pattern, replacement)
    assert any(expected in p for p in problems), problems


def _with(ts_name: str, struct: Any) -> list[tuple[str, Any]]:
    """PAIRS with the server's type for ``ts_name`` replaced by a drifted one."""
    assert any(ts == ts_name for ts, _ in PAIRS)
    return [(ts, struct if ts == ts_name else py) for ts, py in PAIRS]


# Drifted copies of server types (same names: the schema names them after the class).
def _peer_with_field_added() -> type[msgspec.Struct]:
    class Peer(msgspec.Struct, frozen=True):
        user_id: str
        name: str
        color: str
        replica: str
        avatar: str

    return Peer


def _ack_with_field_removed() -> type[msgspec.Struct]:
    class Ack(msgspec.Struct, tag="ack", tag_field="type", frozen=True):
        ref: int

    return Ack


def _hello_with_field_renamed() -> type[msgspec.Struct]:
    class Hello(msgspec.Struct, tag="hello", tag_field="type", frozen=True):
        replica_id: str
        since: int = 0

    return Hello


def _version_retyped() -> type[msgspec.Struct]:
    class VersionOut(msgspec.Struct, omit_defaults=True):
        version: str
        seq: int
        kind: Literal["auto", "named"]
        length: int
        created_at: str
        author: str | None = None
        label: str | None = None

    return VersionOut


def _share_with_a_new_role() -> type[msgspec.Struct]:
    class ShareBody(msgspec.Struct):
        email: str
        role: Literal["editor", "commenter", "viewer", "approver"]

    return ShareBody


def _title_body_with_a_default() -> type[msgspec.Struct]:
    class TitleBody(msgspec.Struct):
        title: str = "Untitled"

    return TitleBody


@pytest.mark.parametrize(
    ("ts_name", "make", "expected"),
    [
        ("Peer", _peer_with_field_added, "Peer.avatar: sent by the server"),
        ("Ack", _ack_with_field_removed, "Ack.seq: declared in TypeScript but not a field"),
        ("Hello", _hello_with_field_renamed, "Hello.replica_id: sent by the server"),
        (
            "Version",
            _version_retyped,
            "Version.version: TypeScript has number, VersionOut has string",
        ),
        ("ShareBody", _share_with_a_new_role, "ShareBody.role"),
        ("TitleBody", _title_body_with_a_default, "TitleBody.title: should be optional"),
    ],
)
def test_server_drift_is_caught(ts_name: str, make: Any, expected: str) -> None:
    problems = compare(parse_typescript(ts_sources()), _with(ts_name, make()))
    assert any(expected in p for p in problems), problems


def test_a_nested_struct_left_unpaired_is_caught() -> None:
    pairs = [(ts, py) for ts, py in PAIRS if ts != "UserInfo"]
    problems = compare(parse_typescript(ts_sources()), pairs)
    assert any(
        "UserInfo: used by a paired type but paired with no TypeScript type" in p for p in problems
    )


def test_a_new_struct_in_a_schema_module_must_be_paired() -> None:
    module = types.ModuleType("fake_schemas")

    class ExportOut(msgspec.Struct):
        format: str

    ExportOut.__module__ = module.__name__
    module.ExportOut = ExportOut  # type: ignore[attr-defined]
    assert unpaired_structs([module], PAIRS, NOT_IN_THE_UI) == ["fake_schemas.ExportOut"]
