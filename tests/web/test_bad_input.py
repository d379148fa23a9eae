"""Bad input on every REST route: each gets the documented 4xx envelope, never a 5xx or a trace.

The envelope is ``{"error": {"code", "message"}}`` (docs/protocol.md §7) and every response carries
``X-Request-Id`` (``assert_error`` checks both, and that no stack trace or SQL leaks).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from testkit.config import SettingsFactory
from tests.web.api import PASSWORD, Account, assert_error, create_document, register, unique_email

Client = AsyncTestClient[Litestar]
JSON = {"content-type": "application/json"}

#: Routes with a JSON body and a valid body for each. ``{id}`` is an existing document.
BODY_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/auth/register", {"email": "new@example.com", "password": PASSWORD, "name": "N"}),
    ("POST", "/auth/login", {"email": "new@example.com", "password": PASSWORD}),
    ("POST", "/auth/refresh", {"refresh_token": "x"}),
    ("POST", "/documents", {"title": "A title"}),
    ("PATCH", "/documents/{id}", {"title": "A title"}),
    ("POST", "/documents/{id}/share", {"email": "friend@example.com", "role": "viewer"}),
    ("POST", "/documents/{id}/share/public", {"enabled": True, "role": "viewer"}),
    ("POST", "/notifications/read", {"all": True}),
    ("PUT", "/notifications/settings", {"digest": "daily"}),
]
#: Every route of docs/protocol.md §4 that exists now, with an existing document's id in ``{id}``.
DOC_ROUTES = [
    ("GET", "/documents/{id}"),
    ("PATCH", "/documents/{id}"),
    ("DELETE", "/documents/{id}"),
    ("GET", "/documents/{id}/collaborators"),
    ("POST", "/documents/{id}/share"),
    ("POST", "/documents/{id}/share/public"),
    ("DELETE", "/documents/{id}/share/{user}"),
]
SQL_PAYLOADS = [
    "'; DROP TABLE users; --",
    "Robert'); DROP TABLE documents;--",
    '" OR "1"="1',
    "1' OR '1'='1' --",
    "%",
    "_",
    "\\",
    "$1",
    "'; SELECT pg_sleep(5); --",
    "/* comment */ UNION SELECT password_hash FROM users --",
]


async def _owner_and_doc(client: Client) -> tuple[Account, dict[str, Any]]:
    owner = await register(client, unique_email("owner"))
    return owner, await create_document(client, owner)


def _path(template: str, doc_id: str, user_id: str = "") -> str:
    return template.replace("{id}", doc_id).replace("{user}", user_id)


@pytest.mark.parametrize(
    "raw",
    [
        b"{bad json",
        b"",
        b"[]",
        b"null",
        b"123",
        b'"text"',
        b'{"a":',
        b"\xff\xfe\x00",
        b"[" * 50_000,
        b'{"title": "a", "title": }',
        b"{'single': 'quotes'}",
    ],
    ids=[
        "broken",
        "empty",
        "array",
        "null",
        "number",
        "string",
        "truncated",
        "binary",
        "deep",
        "dup-key",
        "single-quotes",
    ],
)
async def test_malformed_json_is_400(client: Client, raw: bytes) -> None:
    owner, doc = await _owner_and_doc(client)
    for method, template, _ in BODY_ROUTES:
        response = await client.request(
            method, _path(template, doc["id"]), content=raw, headers={**JSON, **owner.headers}
        )
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_a_missing_body_says_so(client: Client) -> None:
    owner, _ = await _owner_and_doc(client)
    for headers in (JSON, {}):
        response = await client.post(
            "/documents", content=b"", headers={**headers, **owner.headers}
        )
        error = assert_error(response, 400, "VALIDATION_ERROR")["error"]
        assert "body is required" in error["message"], error


async def test_wrong_types_are_400(client: Client) -> None:
    owner, doc = await _owner_and_doc(client)
    wrong_values: list[Any] = [123, 1.5, True, None, [], {}, ["a"], {"$gt": ""}]
    for method, template, valid in BODY_ROUTES:
        for field in valid:
            for wrong in wrong_values:
                if field == "name" and wrong is None:
                    continue  # name is optional
                if field in ("enabled", "all") and isinstance(wrong, bool):
                    continue
                body = {**valid, field: wrong}
                response = await client.request(
                    method, _path(template, doc["id"]), json=body, headers=owner.headers
                )
                assert response.status_code == 400, (template, field, wrong, response.text)
                error = assert_error(response, 400, "VALIDATION_ERROR")["error"]
                assert field in error["message"], error
        if "enabled" in valid:
            # Litestar converts leniently (msgspec strict=False): 1/0 and "true"/"false"/"1"/"0"
            # become booleans. Anything else is refused.
            for wrong in ("yes", "on", "", 2, -1):
                response = await client.request(
                    method,
                    _path(template, doc["id"]),
                    json={**valid, "enabled": wrong},
                    headers=owner.headers,
                )
                assert_error(response, 400, "VALIDATION_ERROR")


async def test_missing_fields_are_400(client: Client) -> None:
    owner, doc = await _owner_and_doc(client)
    optional = {"name", "role"}
    for method, template, valid in BODY_ROUTES:
        required = [f for f in valid if f not in optional or template.endswith("/share")]
        for field in required:
            body = {k: v for k, v in valid.items() if k != field}
            response = await client.request(
                method, _path(template, doc["id"]), json=body, headers=owner.headers
            )
            error = assert_error(response, 400, "VALIDATION_ERROR")["error"]
            assert field in error["message"], (template, field, error)
        response = await client.request(
            method, _path(template, doc["id"]), json={}, headers=owner.headers
        )
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_unknown_fields_are_ignored(client: Client) -> None:
    response = await client.post(
        "/auth/register",
        json={
            "email": unique_email(),
            "password": PASSWORD,
            "is_admin": True,
            "role": "owner",
            "id": "00000000-0000-4000-8000-000000000000",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["user"]["id"] != "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize("role", ["owner", "admin", "", "Viewer", "EDITOR", "viewer ", 1, None])
async def test_unknown_enum_values_are_400(client: Client, role: Any) -> None:
    owner, doc = await _owner_and_doc(client)
    share = await client.post(
        f"/documents/{doc['id']}/share",
        headers=owner.headers,
        json={"email": "x@example.com", "role": role},
    )
    assert_error(share, 400, "VALIDATION_ERROR")
    public = await client.post(
        f"/documents/{doc['id']}/share/public",
        headers=owner.headers,
        json={"enabled": True, "role": role},
    )
    assert_error(public, 400, "VALIDATION_ERROR")
    after = (await client.get(f"/documents/{doc['id']}", headers=owner.headers)).json()
    assert after["public_sharing_enabled"] is False


async def test_oversized_bodies_are_413(client: Client, make_settings: SettingsFactory) -> None:
    limit = make_settings().max_body_bytes
    assert limit == 1024 * 1024  # the default
    owner, doc = await _owner_and_doc(client)
    for method, template, valid in BODY_ROUTES:
        body = json.dumps({**valid, "padding": "x" * limit}).encode()
        response = await client.request(
            method, _path(template, doc["id"]), content=body, headers={**JSON, **owner.headers}
        )
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    # Exactly at the limit is still read (and then judged on its content).
    valid_body = json.dumps({"title": "Fits"}).encode()
    exact = valid_body[:-1] + b" " * (limit - len(valid_body)) + b"}"
    assert len(exact) == limit
    response = await client.post("/documents", content=exact, headers={**JSON, **owner.headers})
    assert response.status_code == 201, response.text
    over = exact[:-1] + b" }"
    response = await client.post("/documents", content=over, headers={**JSON, **owner.headers})
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_body_limit_follows_the_setting(make_settings: SettingsFactory) -> None:
    from docstream.web.app import create_app

    async with AsyncTestClient(create_app(make_settings(max_body_bytes=100))) as client:
        response = await client.post("/auth/login", json={"email": "a" * 100, "password": "x"})
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")
        response = await client.post("/auth/login", json={"email": "a@b.co", "password": "x"})
        assert_error(response, 401, "UNAUTHORIZED")


# --- SQL metacharacters and control characters ---------------------------------------------------


async def test_sql_metacharacters_in_every_string_field(client: Client) -> None:
    owner, doc = await _owner_and_doc(client)
    path = f"/documents/{doc['id']}"
    for i, payload in enumerate(SQL_PAYLOADS):
        compact = payload.replace(" ", "")
        email = f"{compact}{i}@example.com" if "@" not in compact else f"x{i}@example.com"
        # register: email, password, name are stored or hashed verbatim
        response = await client.post(
            "/auth/register",
            json={"email": email, "password": payload + "-pass1234", "name": payload},
        )
        if response.status_code == 400:  # not a valid address: refused cleanly, nothing stored
            assert_error(response, 400, "VALIDATION_ERROR")
            email = f"plain{i}@example.com"
            response = await client.post(
                "/auth/register",
                json={"email": email, "password": payload + "-pass1234", "name": payload},
            )
        assert response.status_code == 201, (payload, response.text)
        client.cookies.clear()
        assert response.json()["user"]["name"] == payload.strip()
        login = await client.post(
            "/auth/login", json={"email": email, "password": payload + "-pass1234"}
        )
        assert login.status_code == 200, (payload, login.text)
        client.cookies.clear()
        wrong = await client.post("/auth/login", json={"email": payload, "password": payload})
        assert_error(wrong, 401, "UNAUTHORIZED")
        assert_error(
            await client.post("/auth/refresh", json={"refresh_token": payload}), 401, "UNAUTHORIZED"
        )
        # titles round-trip verbatim
        created = await client.post("/documents", json={"title": payload}, headers=owner.headers)
        assert created.status_code == 201 and created.json()["title"] == payload.strip()
        renamed = await client.patch(path, json={"title": payload}, headers=owner.headers)
        assert renamed.status_code == 200 and renamed.json()["title"] == payload.strip()
        # share: an email that is a LIKE pattern or a quote must match nobody else
        shared = await client.post(
            f"{path}/share",
            headers=owner.headers,
            json={"email": f"{compact}@example.com", "role": "viewer"},
        )
        if shared.status_code == 200:
            assert shared.json()["email"] == f"{compact}@example.com".lower()
            assert shared.json()["pending"] is True
        else:
            assert_error(shared, 400, "VALIDATION_ERROR")
        # ids in paths
        for doc_route, user_route in (
            (f"/documents/{payload}", None),
            (None, f"{path}/share/{payload}"),
        ):
            target = doc_route or user_route
            assert target is not None
            method = "GET" if doc_route else "DELETE"
            response = await client.request(method, target, headers=owner.headers)
            assert response.status_code in (404, 405), (payload, response.text)
            assert_error(response, response.status_code)
    # Nothing was dropped or leaked: the owner still works and sees exactly their documents.
    listed = await client.get("/documents", headers=owner.headers)
    assert listed.status_code == 200
    assert len(listed.json()) == 1 + len(SQL_PAYLOADS)
    people = (await client.get(f"{path}/collaborators", headers=owner.headers)).json()
    assert all(p["pending"] for p in people if p["role"] == "viewer")
    assert (await client.get("/auth/me", headers=owner.headers)).status_code == 200


@pytest.mark.parametrize(
    "bad",
    ["\u0000", "\u0007", "\n", "\u001b[31m", "\u007f"],
    ids=["nul", "bell", "newline", "escape", "del"],
)
async def test_control_characters_in_stored_strings_are_400(client: Client, bad: str) -> None:
    """PostgreSQL cannot store NUL at all; both backends refuse control characters alike."""
    owner, doc = await _owner_and_doc(client)
    path = f"/documents/{doc['id']}"
    attempts = [
        ("POST", "/auth/register", {"email": f"a{bad}b@example.com", "password": PASSWORD}),
        (
            "POST",
            "/auth/register",
            {"email": unique_email(), "password": PASSWORD, "name": f"Ann{bad}Lee"},
        ),
        ("POST", "/documents", {"title": f"Ti{bad}tle"}),
        ("PATCH", path, {"title": f"Ti{bad}tle"}),
        ("POST", f"{path}/share", {"email": f"x{bad}y@example.com", "role": "viewer"}),
    ]
    for method, target, body in attempts:
        response = await client.request(method, target, json=body, headers=owner.headers)
        assert_error(response, 400, "VALIDATION_ERROR")
    # Logging in with such an email is an ordinary failed login.
    login = await client.post(
        "/auth/login", json={"email": f"a{bad}b@example.com", "password": PASSWORD}
    )
    assert_error(login, 401, "UNAUTHORIZED")
    # Passwords are hashed, never stored: any character is fine there.
    response = await client.post(
        "/auth/register", json={"email": unique_email(), "password": f"pass{bad}word"}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("escape", [rb"\ud800", rb"\udfff", rb"\ud800\u0041"])
async def test_lone_surrogates_are_400(client: Client, escape: bytes) -> None:
    owner, _ = await _owner_and_doc(client)
    bodies = [
        (b"/auth/register", b'{"email":"s' + escape + b'@example.com","password":"12345678"}'),
        (
            b"/auth/register",
            b'{"email":"s@example.com","password":"12345678","name":"' + escape + b'"}',
        ),
        (b"/documents", b'{"title":"' + escape + b'"}'),
    ]
    for target, raw in bodies:
        response = await client.post(
            target.decode(), content=raw, headers={**JSON, **owner.headers}
        )
        assert_error(response, 400, "VALIDATION_ERROR")


# --- paths and methods ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id",
    [
        "not-a-uuid",
        "1",
        "0",
        "-1",
        "null",
        "undefined",
        "' OR '1'='1",
        "%00",
        "%2e%2e",
        "00000000-0000-0000-0000-00000000000g",
        "00000000000000000000000000000000x",
        "{00000000-0000-4000-8000-000000000000}",
        "x" * 2000,
    ],
)
async def test_non_uuid_ids_in_paths(client: Client, bad_id: str) -> None:
    owner, doc = await _owner_and_doc(client)
    member = await register(client, unique_email("member"))
    await client.post(
        f"/documents/{doc['id']}/share",
        headers=owner.headers,
        json={"email": member.email, "role": "viewer"},
    )
    bodies = {
        "PATCH": {"title": "t"},
        "POST": {"email": "a@example.com", "role": "viewer", "enabled": True},
    }
    for method, template in DOC_ROUTES:
        kwargs: dict[str, Any] = {}
        if method in bodies:
            kwargs["json"] = bodies[method]
        if "{user}" in template:
            target = _path(template, doc["id"], bad_id)
        else:
            target = _path(template, bad_id, member.id)
        response = await client.request(method, target, headers=owner.headers, **kwargs)
        assert_error(response, 404, "NOT_FOUND")
        anonymous = await client.request(method, target, **kwargs)
        assert anonymous.status_code in (401, 404), anonymous.text
        assert_error(anonymous, anonymous.status_code)
    # The real document and grant are untouched.
    people = (
        await client.get(f"/documents/{doc['id']}/collaborators", headers=owner.headers)
    ).json()
    assert member.id in {p["user_id"] for p in people}


@pytest.mark.parametrize(
    "method, target",
    [
        ("GET", "/documents/x/y/z"),
        ("GET", "/documents/x/share/y/z"),
        ("POST", "/documents/x/y"),
        ("GET", "/auth/unknown"),
        ("POST", "/auth/unknown"),
        ("GET", "/suggest/nothing"),
        ("GET", "/documentsx"),
        ("GET", "/healthz"),
        ("DELETE", "/auth/register/x"),
    ],
)
async def test_unknown_api_routes_are_404(client: Client, method: str, target: str) -> None:
    response = await client.request(method, target)
    assert response.status_code in (404, 405), response.text
    assert_error(response, response.status_code)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("target", ["/nope", "/", "/some/page"])
async def test_other_methods_outside_the_api_get_the_envelope(
    client: Client, method: str, target: str
) -> None:
    response = await client.request(method, target)
    assert response.status_code in (404, 405), response.text
    assert_error(response, response.status_code)


@pytest.mark.parametrize(
    "target",
    [
        "/nope",
        "/some/page",
        "/.env",
        "/%ff",
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "/assets/../../../../etc/passwd",
        "/assets/%2e%2e/%2e%2e/%2e%2e/etc/hostname",
        "/static/../docstream/settings.py",
    ],
)
async def test_other_get_paths_get_the_ui_or_a_404_never_a_file_outside(
    client: Client, target: str
) -> None:
    """The web UI's single-page-app fallback owns every non-API GET path."""
    response = await client.get(target)
    assert response.headers.get("x-request-id")
    if response.status_code == 200:
        assert response.headers["content-type"].startswith("text/html"), response.headers
        assert b"<title>DocStream</title>" in response.content
    else:
        assert_error(response, 404, "NOT_FOUND")
    assert b"root:" not in response.content and b"import " not in response.content


@pytest.mark.parametrize(
    "method, target",
    [
        ("PUT", "/documents"),
        ("DELETE", "/documents"),
        ("PATCH", "/documents"),
        ("PUT", "/documents/{id}"),
        ("POST", "/documents/{id}"),
        ("GET", "/auth/register"),
        ("GET", "/auth/login"),
        ("PUT", "/auth/me"),
        ("POST", "/auth/me"),
        ("POST", "/admin/overview"),
        ("GET", "/documents/{id}/share"),
        ("PUT", "/documents/{id}/share/public"),
        ("POST", "/documents/{id}/collaborators"),
        ("POST", "/health"),
    ],
)
async def test_wrong_methods_are_405(client: Client, method: str, target: str) -> None:
    owner, doc = await _owner_and_doc(client)
    response = await client.request(method, _path(target, doc["id"]), headers=owner.headers)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")


# --- request ids ----------------------------------------------------------------------------------


async def test_request_id_is_echoed_or_generated(client: Client) -> None:
    owner, doc = await _owner_and_doc(client)
    targets = [
        ("GET", "/health"),
        ("GET", "/documents"),
        ("GET", f"/documents/{doc['id']}"),
        ("GET", "/auth/me"),
        ("GET", "/nope"),
        ("PUT", "/documents"),
        ("POST", "/documents"),
        ("GET", "/schema/openapi.json"),
    ]
    seen = set()
    for method, target in targets:
        for headers in ({}, owner.headers):
            echoed = await client.request(
                method, target, headers={**headers, "X-Request-Id": "trace-42.a:b_c"}
            )
            assert echoed.headers["x-request-id"] == "trace-42.a:b_c", (method, target)
            generated = await client.request(method, target, headers=headers)
            rid = generated.headers["x-request-id"]
            assert re.fullmatch(r"[0-9a-f]{32}", rid), rid
            seen.add(rid)
    assert len(seen) == 2 * len(targets)  # a fresh id per request


@pytest.mark.parametrize("given", ["has space", "x" * 129, "semi;colon", "new\tline", "é"])
async def test_unsafe_request_ids_are_replaced(client: Client, given: str) -> None:
    response = await client.get("/health", headers=[("X-Request-Id", given.encode())])
    rid = response.headers["x-request-id"]
    assert rid != given and re.fullmatch(r"[0-9a-f]{32}", rid)
    assert len(response.headers.get_list("x-request-id")) == 1
