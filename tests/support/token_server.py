#!/usr/bin/env python3
"""A minimal Docker-style token server for a distribution registry configured with ``auth: token``.

Protocol (https://distribution.github.io/distribution/spec/auth/token/):

* ``GET /token?service=S&scope=repository:NAME:pull[,push][&scope=...]`` answers
  ``{"token", "access_token", "expires_in", "issued_at"}`` -- the same shape as auth.docker.io.
* ``POST /token`` with an OAuth2 form (``grant_type=password`` with ``username``/``password``,
  or ``grant_type=refresh_token``) answers ``{"access_token", "expires_in", ...}``.
* Tokens are ES256 JWTs carrying an ``x5c`` header with the self-signed certificate that the
  registry trusts via ``auth.token.rootcertbundle``.

Access policy (the same as the shared recipe):

* anonymous requests get ``pull`` on repositories under ``public/`` and nothing else;
* Basic-auth requests with a known user (default ``alice:wonderland``) get everything they ask for;
* bad credentials get ``401`` with ``{"details":"incorrect username or password"}``
  (Docker Hub's body).

Every request is appended to a JSON-lines log *before* the response is sent, so as soon as a
client holds the answer the line is on disk and tests can count token requests exactly.

Usable in two ways:

* imported: ``TokenServer(workdir).start()`` runs it on a free loopback port in a daemon thread;
* as a script (the shared recipe's interface)::

      token_server.py certs DIR               write DIR/key.pem and DIR/cert.pem
      token_server.py serve DIR PORT ISSUER   serve on 127.0.0.1:PORT
                                              (request log: DIR/token-requests.jsonl)
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEFAULT_USERS: Mapping[str, str] = {"alice": "wonderland"}
DEFAULT_ISSUER = "test-issuer"
DEFAULT_SERVICE = "test-registry"
BAD_CREDENTIALS_BODY = b'{"details":"incorrect username or password"}'
# Fixed refresh token handed out for ``offline_token=true`` (tests may assert on it).
REFRESH_TOKEN_PREFIX = "refresh-"


# --------------------------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------------------------
def generate_certs(directory: str | Path) -> tuple[Path, Path]:
    """Write ``key.pem`` (EC P-256, PKCS8) and a self-signed ``cert.pem`` into *directory*.

    Returns ``(key_path, cert_path)``. The registry trusts ``cert.pem`` (``rootcertbundle``).
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-token-issuer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = d / "key.pem", d / "cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


# --------------------------------------------------------------------------------------------
# Request log
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenRequest:
    """One request seen by the token server (one line of its JSON-lines log)."""

    method: str
    path: str  # path without query string, e.g. "/token"
    authorization: bool  # an Authorization header was present
    auth_scheme: str | None  # "Basic", "Bearer", ... or None
    user: str | None  # authenticated user, None for anonymous or rejected
    status: int
    service: str | None
    scopes: tuple[str, ...]  # requested scopes, as sent
    granted: tuple[dict[str, Any], ...]  # the token's "access" claim
    query: dict[str, list[str]] = field(default_factory=dict)
    time: float = 0.0

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> TokenRequest:
        return cls(
            method=obj["method"],
            path=obj["path"],
            authorization=obj["authorization"],
            auth_scheme=obj.get("auth_scheme"),
            user=obj.get("user"),
            status=obj["status"],
            service=obj.get("service"),
            scopes=tuple(obj.get("scopes", ())),
            granted=tuple(obj.get("granted", ())),
            query=dict(obj.get("query", {})),
            time=obj.get("time", 0.0),
        )


def read_request_log(log_path: str | Path, since: int = 0) -> list[TokenRequest]:
    """Parse the JSON-lines request log from byte offset *since* (see ``TokenServer.mark``)."""
    p = Path(log_path)
    if not p.exists():
        return []
    with p.open("rb") as fh:
        fh.seek(since)
        data = fh.read()
    return [TokenRequest.from_json(json.loads(line)) for line in data.splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    # Set by make_server().
    signing_key: bytes
    x5c: list[str]
    issuer: str
    users: Mapping[str, str]
    log_path: Path | None
    log_lock: threading.Lock
    expires_in: int

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-response is not our business; never let a traceback escape
        # into pytest (filterwarnings=error turns thread exceptions into failures).
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # -- helpers ---------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _log(self, record: dict[str, Any]) -> None:
        if self.server.log_path is None:
            return
        line = json.dumps(record, sort_keys=True) + "\n"
        with self.server.log_lock, self.server.log_path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()

    def _authenticate(self) -> tuple[bool, str | None, str | None]:
        """Return ``(ok, user, scheme)`` from the Authorization header (Basic only)."""
        auth = self.headers.get("Authorization", "")
        if not auth:
            return True, None, None
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "basic":
            # Bearer or other schemes are not credentials for the token endpoint: anonymous.
            return True, None, scheme
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False, None, "Basic"
        if self.server.users.get(user) != password:
            return False, None, "Basic"
        return True, user, "Basic"

    def _grant(self, scopes: Sequence[str], user: str | None) -> list[dict[str, Any]]:
        """Compute the ``access`` claim: intersection of requested and allowed actions."""
        access: list[dict[str, Any]] = []
        for scope in scopes:
            # Scopes are space-separated in POST forms and may be repeated in GET queries.
            for one in scope.split(" "):
                if one.count(":") < 2:
                    continue
                # Split from the ends: the resource name may contain "host:port".
                typ, rest = one.split(":", 1)
                name, _, actions = rest.rpartition(":")
                requested = [a for a in actions.split(",") if a]
                if user is not None:
                    granted = requested
                elif typ == "repository" and name.startswith("public/"):
                    granted = [a for a in requested if a == "pull"]
                else:
                    granted = []
                access.append({"type": typ, "name": name, "actions": granted})
        return access

    def _issue(self, user: str | None, service: str, access: list[dict[str, Any]]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.server.issuer,
            "sub": user or "",
            "aud": service,
            "exp": now + self.server.expires_in,
            "nbf": now - 5,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        return jwt.encode(
            claims, self.server.signing_key, algorithm="ES256", headers={"x5c": self.server.x5c}
        )

    # -- handlers --------------------------------------------------------------------------
    def _handle(self, form: dict[str, list[str]] | None) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        params = dict(query)
        if form:
            params.update(form)
        ok, user, scheme = self._authenticate()
        # OAuth2 password grant carries the credentials in the form instead of a header.
        grant_type = (params.get("grant_type") or [""])[0]
        if ok and grant_type == "password":
            u = (params.get("username") or [""])[0]
            pw = (params.get("password") or [""])[0]
            ok, user = (True, u) if self.server.users.get(u) == pw else (False, None)
        elif ok and grant_type == "refresh_token":
            rt = (params.get("refresh_token") or [""])[0]
            u = rt[len(REFRESH_TOKEN_PREFIX) :] if rt.startswith(REFRESH_TOKEN_PREFIX) else ""
            ok, user = (True, u) if u in self.server.users else (False, None)

        service = (params.get("service") or [""])[0]
        scopes = params.get("scope", [])
        record: dict[str, Any] = {
            "time": time.time(),
            "method": self.command,
            "path": url.path,
            "query": query,
            "authorization": "Authorization" in self.headers,
            "auth_scheme": scheme,
            "user": user,
            "service": service or None,
            "scopes": scopes,
            "granted": [],
        }
        if url.path != "/token":
            record["status"] = 404
            self._log(record)
            self._send(404, b'{"details":"not found"}')
            return
        if not ok:
            record["status"] = 401
            self._log(record)
            self._send(401, BAD_CREDENTIALS_BODY)
            return

        access = self._grant(scopes, user)
        token = self._issue(user, service, access)
        body: dict[str, Any] = {
            "expires_in": self.server.expires_in,
            "issued_at": datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z"),
        }
        if self.command == "POST":
            body["access_token"] = token
        else:
            body["token"] = token
            body["access_token"] = token
        offline = (params.get("offline_token") or ["false"])[0] == "true"
        if user is not None and (offline or grant_type in ("password", "refresh_token")):
            body["refresh_token"] = REFRESH_TOKEN_PREFIX + user
        record["status"] = 200
        record["granted"] = access
        self._log(record)
        self._send(200, json.dumps(body).encode())

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle(None)

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        self._handle(parse_qs(raw))


def make_server(
    directory: str | Path,
    port: int = 0,
    issuer: str = DEFAULT_ISSUER,
    *,
    users: Mapping[str, str] | None = None,
    log_path: str | Path | None = None,
    expires_in: int = 300,
) -> _Server:
    """Create (not start) a server on ``127.0.0.1:port`` signing with DIR/key.pem + cert.pem."""
    d = Path(directory)
    cert = x509.load_pem_x509_certificate((d / "cert.pem").read_bytes())
    server = _Server(("127.0.0.1", int(port)), _Handler)
    server.signing_key = (d / "key.pem").read_bytes()
    server.x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    server.issuer = issuer
    server.users = dict(DEFAULT_USERS if users is None else users)
    server.log_path = Path(log_path) if log_path is not None else None
    server.log_lock = threading.Lock()
    server.expires_in = expires_in
    return server


class TokenServer:
    """A token server running in a daemon thread of the current process.

    >>> ts = TokenServer(tmpdir).start()
    >>> ts.realm            # "http://127.0.0.1:PORT/token"
    >>> m = ts.mark(); ...; ts.requests_since(m)   # list[TokenRequest]
    >>> ts.stop()
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        issuer: str = DEFAULT_ISSUER,
        service: str = DEFAULT_SERVICE,
        users: Mapping[str, str] | None = None,
        expires_in: int = 300,
    ) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.issuer = issuer
        self.service = service
        self.users: dict[str, str] = dict(DEFAULT_USERS if users is None else users)
        self.expires_in = expires_in
        self.key_path, self.cert_path = generate_certs(self.dir)
        self.log_path = self.dir / "token-requests.jsonl"
        self.log_path.touch()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> TokenServer:
        self._server = make_server(
            self.dir,
            0,
            self.issuer,
            users=self.users,
            log_path=self.log_path,
            expires_in=self.expires_in,
        )
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"token-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        # Bounded readiness check: the socket is already listening, but be explicit.
        with socket.create_connection(("127.0.0.1", self.port), timeout=5):
            pass
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def realm(self) -> str:
        return f"{self.url}/token"

    # -- request log -----------------------------------------------------------------------
    def mark(self) -> int:
        """Current end of the request log; pass it to :meth:`requests_since`."""
        return self.log_path.stat().st_size

    def requests_since(self, mark: int = 0) -> list[TokenRequest]:
        return read_request_log(self.log_path, mark)

    def requests(self) -> list[TokenRequest]:
        return read_request_log(self.log_path, 0)

    # -- direct minting (for tests that need odd tokens, e.g. expired ones) ----------------
    def mint(
        self,
        access: Sequence[Mapping[str, Any]],
        *,
        user: str = "",
        expires_in: int | None = None,
        audience: str | None = None,
    ) -> str:
        """Sign a token with arbitrary claims without going through HTTP (not logged)."""
        now = int(time.time())
        exp = now + (self.expires_in if expires_in is None else expires_in)
        claims = {
            "iss": self.issuer,
            "sub": user,
            "aud": self.service if audience is None else audience,
            "exp": exp,
            "nbf": min(now, exp) - 5,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": [dict(a) for a in access],
        }
        cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        return jwt.encode(
            claims, self.key_path.read_bytes(), algorithm="ES256", headers={"x5c": x5c}
        )


# --------------------------------------------------------------------------------------------
# Script entry point (same interface as the shared recipe)
# --------------------------------------------------------------------------------------------
def _main(argv: Sequence[str]) -> int:
    if len(argv) >= 2 and argv[0] == "certs":
        generate_certs(argv[1])
        return 0
    if len(argv) >= 3 and argv[0] == "serve":
        directory, port = argv[1], int(argv[2])
        issuer = argv[3] if len(argv) > 3 else DEFAULT_ISSUER
        server = make_server(
            directory, port, issuer, log_path=Path(directory) / "token-requests.jsonl"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
