"""Registry authentication: the WWW-Authenticate challenge, Bearer tokens, Basic auth.

Tokens are kept in memory only (never on disk, never in the cache), per (realm, service, scope,
identity), until `issued_at + expires_in` minus a safety margin.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from dockerhub_cli.credentials import Credentials
from dockerhub_cli.errors import AuthError, UpstreamError
from dockerhub_cli.transport import error_message, raise_for_rate_limit, raise_for_server_error

if TYPE_CHECKING:
    import requests

    from dockerhub_cli.transport import Transport

_AUTH_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
TOKEN_SAFETY_MARGIN = 15.0
DEFAULT_TOKEN_LIFETIME = 60.0


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" or "basic" (lowercase)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")


def parse_challenge(header: str) -> Challenge | None:
    """Parse `Bearer realm="...",service="...",scope="a:b:pull,push"` (RFC 7235 auth-params)."""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)).replace(
            '\\"', '"'
        )
        for m in _AUTH_PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float


class RegistryAuth:
    """Answers registry challenges and remembers, per host, how to authenticate up front."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str, str], _Token] = {}
        # One fetch per token key at a time: threads needing the same token (compare fetches
        # two images in parallel) wait for the first fetch instead of asking the server twice.
        self._fetch_locks: dict[tuple[str, str, str, str], threading.Lock] = {}
        # host -> the last challenge it sent, so later requests can authenticate pre-emptively.
        self._challenges: dict[str, Challenge] = {}

    def known_challenge(self, host: str) -> Challenge | None:
        return self._challenges.get(host)

    def remember(self, host: str, challenge: Challenge) -> None:
        self._challenges[host] = challenge

    def authorization(
        self, host: str, scope: str, credentials: Credentials | None, *, fetch: bool = True
    ) -> str | None:
        """The Authorization header value for `scope` on `host`, or None if anonymous access
        is all we know to do. With `fetch=False`, only a cached token is returned."""
        challenge = self._challenges.get(host)
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            if credentials is None or credentials.is_identity_token:
                return None
            return _basic(credentials.username, credentials.secret)
        if challenge.scheme != "bearer" or not challenge.realm:
            return None
        token = self._cached_token(challenge, scope, credentials)
        if token is None and fetch:
            key = self._key(challenge, scope, credentials)
            with self._lock:
                fetch_lock = self._fetch_locks.setdefault(key, threading.Lock())
            with fetch_lock:
                token = self._cached_token(challenge, scope, credentials)
                if token is None:
                    token = self._fetch_token(challenge, scope, credentials)
        return f"Bearer {token}" if token else None

    def _key(
        self, challenge: Challenge, scope: str, credentials: Credentials | None
    ) -> tuple[str, str, str, str]:
        who = credentials.username if credentials else ""
        return (challenge.realm, challenge.params.get("service", ""), scope, who)

    def _cached_token(
        self, challenge: Challenge, scope: str, credentials: Credentials | None
    ) -> str | None:
        with self._lock:
            token = self._tokens.get(self._key(challenge, scope, credentials))
        if token and token.expires_at > time.monotonic():
            return token.value
        return None

    def _fetch_token(
        self, challenge: Challenge, scope: str, credentials: Credentials | None
    ) -> str:
        realm = challenge.realm
        realm_parts = urlsplit(realm)
        if realm_parts.scheme not in ("http", "https") or not realm_parts.netloc:
            raise UpstreamError(f"the registry sent an unusable token realm {realm!r}")
        params: list[tuple[str, str]] = []
        if challenge.params.get("service"):
            params.append(("service", challenge.params["service"]))
        if scope:
            params.append(("scope", scope))
        auth = None
        if credentials is not None:
            if credentials.is_identity_token:
                # An identity token is an OAuth2 refresh token: exchange it with a POST form.
                return self._fetch_token_with_refresh(challenge, scope, credentials)
            params.append(("account", credentials.username))
            auth = (credentials.username, credentials.secret)
        response = self.transport.request(
            "GET", realm, params=params, auth=auth, cacheable=False, what="a registry token"
        )
        return self._store(challenge, scope, credentials, response)

    def _fetch_token_with_refresh(
        self, challenge: Challenge, scope: str, credentials: Credentials
    ) -> str:
        data = {
            "grant_type": "refresh_token",
            "refresh_token": credentials.secret,
            "service": challenge.params.get("service", ""),
            "scope": scope,
            "client_id": "dockerhub-cli",
        }
        response = self.transport.request(
            "POST", challenge.realm, data=data, cacheable=False, what="a registry token"
        )
        return self._store(challenge, scope, credentials, response)

    def _store(
        self,
        challenge: Challenge,
        scope: str,
        credentials: Credentials | None,
        response: requests.Response,
    ) -> str:
        host = urlsplit(challenge.realm).netloc
        raise_for_rate_limit(response, "a registry token")
        raise_for_server_error(response, "a registry token")
        if response.status_code in (401, 403):
            who = (
                f"as {credentials.username!r} ({credentials.source})"
                if credentials
                else "anonymously"
            )
            raise AuthError(
                f"the token server {host} refused to authenticate {who}: {error_message(response)}",
                hint="check the username and token (dockerhub login), "
                "or unset them for anonymous access",
            )
        if response.status_code != 200:
            raise UpstreamError(
                f"the token server {host} answered HTTP {response.status_code}: "
                f"{error_message(response)}"
            )
        try:
            body = response.json()
        except ValueError:
            raise UpstreamError(f"the token server {host} sent a reply that is not JSON") from None
        token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise UpstreamError(f"the token server {host} sent no token")
        try:
            lifetime = float(body.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        except (TypeError, ValueError):
            lifetime = DEFAULT_TOKEN_LIFETIME
        lifetime = max(lifetime, DEFAULT_TOKEN_LIFETIME)
        expires = time.monotonic() + max(lifetime - TOKEN_SAFETY_MARGIN, 1.0)
        with self._lock:
            self._tokens[self._key(challenge, scope, credentials)] = _Token(token, expires)
        return token


def _basic(username: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode("ascii")
