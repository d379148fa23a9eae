"""A real OpenID Connect provider for the single sign-on tests: ``oidc-provider-mock`` in its own
process, with PKCE enforced.

    with run_oidc_provider() as provider:
        provider.set_user("alice", {"email": "alice@example.com", "email_verified": True})
        ... DocStream with oidc_issuer=provider.issuer ...

The provider (a Flask app built on Authlib's authorization server) issues real codes and RS256 ID
tokens with the nonce of the authorization request, refuses a code used twice, and serves an
authorization page where the test (or a browser) types the subject to sign in as. It does not
check PKCE itself, so this module wraps it in a WSGI layer that does, as a provider that requires
PKCE would: an authorization request without an S256 ``code_challenge`` is refused, and the token
request must carry the matching ``code_verifier``. ``token_requests()`` tells what the token
endpoint received (parameter names and whether the verifier matched), so a test can see that
DocStream sends it.

Run as a program (``python -m testkit.oidc --port N``) it serves until killed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from testkit.ports import free_port, wait_port

ROOT = Path(__file__).resolve().parents[1]
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class PkceEnforcer:
    """WSGI middleware: PKCE (S256) required at the authorization and token endpoints."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.challenges: dict[str, str] = {}  # code -> code_challenge
        self.token_requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_test/token-requests":
            with self.lock:
                body = json.dumps(self.token_requests).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if path == "/oauth2/authorize":
            return self._authorize(environ, start_response)
        if path == "/oauth2/token" and environ.get("REQUEST_METHOD") == "POST":
            return self._token(environ, start_response)
        return self.app(environ, start_response)

    def _authorize(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        challenge = query.get("code_challenge", [""])[0]
        if not challenge or query.get("code_challenge_method", [""])[0] != "S256":
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"this provider requires PKCE with S256"]

        def capture(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            for name, value in headers:
                if name.lower() == "location":
                    code = urllib.parse.parse_qs(urllib.parse.urlsplit(value).query).get("code")
                    if code:
                        with self.lock:
                            self.challenges[code[0]] = challenge
            return start_response(status, headers, *args)

        return self.app(environ, capture)

    def _token(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        if form.get("grant_type") == "authorization_code":
            with self.lock:
                challenge = self.challenges.get(form.get("code", ""))
            verifier = form.get("code_verifier")
            matched = bool(challenge and verifier and s256(verifier) == challenge)
            with self.lock:
                self.token_requests.append({"params": sorted(form), "pkce_matched": matched})
            if not matched:
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [
                    json.dumps(
                        {"error": "invalid_grant", "error_description": "PKCE verification failed"}
                    ).encode()
                ]
        return self.app(environ, start_response)


class OidcProvider:
    """The running provider process."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc = proc
        self.port = port

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        """The claims the provider gives ``sub`` from now on (besides ``sub``)."""
        request = urllib.request.Request(
            f"{self.issuer}/users/{urllib.parse.quote(sub)}",
            data=json.dumps(claims).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204

    def token_requests(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.issuer}/_test/token-requests", timeout=10) as r:
            result: list[dict[str, Any]] = json.loads(r.read())
            return result


@contextlib.contextmanager
def run_oidc_provider(*, pkce: bool = True) -> Iterator[OidcProvider]:
    """Start the provider on a free port of 127.0.0.1; stop it on the way out. A provider that
    does not start fails the test (with its output). ``pkce=False``: a provider that does not
    check PKCE (many do not, for confidential clients)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: nobody reads it while it runs
        proc = subprocess.Popen(
            [sys.executable, "-m", "testkit.oidc", "--port", str(port)]
            + ([] if pkce else ["--no-pkce"]),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            if not wait_port(port, 30, proc):
                proc.kill()
                proc.wait()
                log.seek(0)
                out = log.read().decode(errors="replace")
                raise AssertionError(f"the OpenID Connect provider did not start:\n{out[-4000:]}")
            yield OidcProvider(proc, port)
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-pkce", action="store_true", help="do not check PKCE")
    args = parser.parse_args()
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain http on loopback, for tests
    import oidc_provider_mock
    import werkzeug.serving

    provider = oidc_provider_mock.app(require_nonce=True)
    app: WsgiApp = provider if args.no_pkce else PkceEnforcer(provider)
    server = werkzeug.serving.make_server("127.0.0.1", args.port, app, threaded=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
