"""Registry authentication: the WWW-Authenticate challenge, Bearer tokens, Basic auth.

Tokens are kept in memory only (never on disk, never in the cache), per (realm, service, scope,
identity), until `issued_at + expires_in` minus a safety margin.

What *is* kept on disk (`ChallengeMemory`, a small JSON file in the cache dir) is how each
registry host asks to be authenticated: the scheme, and for Bearer the realm and service, which
are public. A new process then fetches its token before the first request instead of collecting
a 401 first.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dockerhub_cli import advice, lazylog
from dockerhub_cli.errors import AuthError, UpstreamError
from dockerhub_cli.remote.credential_policy import CredentialPolicy
from dockerhub_cli.remote.keychain import Credentials
from dockerhub_cli.remote.transport import (
    MAX_TOKEN_CHARS,
    MAX_TOKEN_REPLY_BYTES,
    error_message,
    json_body,
    raise_for_rate_limit,
    raise_for_server_error,
)
from dockerhub_cli.remote.transport import json_refusal as _why

if TYPE_CHECKING:
    import requests

    from dockerhub_cli.remote.transport import Transport

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


_SCHEME_START = re.compile(r"(?:^|,)\s*(bearer|basic)\s+", re.IGNORECASE)
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def _preferred_challenge(header: str) -> str:
    """Of several challenges in one header (`Basic realm="x", Bearer realm="..."`, or two
    WWW-Authenticate headers, which requests joins with a comma), the Bearer one, as Docker
    takes it; else the first. Scheme names inside quoted values do not count."""
    quoted = [m.span() for m in _QUOTED.finditer(header)]
    starts = [
        m for m in _SCHEME_START.finditer(header) if not any(a <= m.start(1) < b for a, b in quoted)
    ]
    if len(starts) < 2:
        return header
    pieces = [
        header[m.start(1) : (starts[i + 1].start() if i + 1 < len(starts) else len(header))]
        for i, m in enumerate(starts)
    ]
    bearer = [p for p in pieces if p[:6].lower() == "bearer"]
    return (bearer or pieces)[0].strip().rstrip(",")


def parse_challenge(header: str) -> Challenge | None:
    """Parse `Bearer realm="...",service="...",scope="a:b:pull,push"` (RFC 7235 auth-params)."""
    header = _preferred_challenge(header.strip())
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


log = lazylog.getLogger("dockerhub_cli.auth")  # imports logging when needed


class ChallengeMemory:
    """host -> the challenge it sent (scheme, realm, service only), shared by processes through
    a JSON file. Never a token or a credential; every failure to read or write is ignored."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._loaded: dict[str, Challenge] | None = None
        self._lock = threading.Lock()

    def get(self, host: str) -> Challenge | None:
        with self._lock:
            return self._load().get(host)

    def put(self, host: str, challenge: Challenge) -> None:
        kept = _public_part(challenge)
        with self._lock:
            known = self._load()
            if kept is None or known.get(host) == kept:
                return
            known[host] = kept
            if self.path is None:
                return
            try:
                # Another process may have added hosts since we read the file: merge them.
                merged = {**self._read(), **{host: kept}}
                body = json.dumps({h: _as_json(c) for h, c in merged.items()})
                write_private_file(self.path, body.encode())
            except OSError as exc:
                log.debug("could not remember the challenge of %s: %s", host, exc)

    def _load(self) -> dict[str, Challenge]:
        if self._loaded is None:
            self._loaded = self._read()
        return self._loaded

    def _read(self) -> dict[str, Challenge]:
        if self.path is None:
            return {}
        try:
            data: Any = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        found: dict[str, Challenge] = {}
        for host, raw in data.items() if isinstance(data, dict) else ():
            if not isinstance(raw, dict) or not isinstance(host, str):
                continue
            params = {k: str(v) for k, v in raw.items() if k in ("realm", "service") and v}
            challenge = _public_part(Challenge(str(raw.get("scheme", "")), params))
            if challenge is not None:
                found[host] = challenge
        return found


def write_private_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically: a random temp name created exclusively (mkstemp:
    O_CREAT|O_EXCL, mode 0600, so a planted file or symlink is never followed), then renamed
    over `path` (a symlink at `path` is replaced, not written through)."""
    from dockerhub_cli.atomic import replace_file

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    replace_file(path, data)


def _public_part(challenge: Challenge) -> Challenge | None:
    """The part of a challenge worth remembering: Basic, or Bearer with an http(s) realm
    without user info. The scope and any other parameter are per request: left out."""
    if challenge.scheme == "basic":
        return Challenge("basic")
    realm = urlsplit(challenge.realm)
    if challenge.scheme != "bearer" or realm.scheme not in ("http", "https") or "@" in realm.netloc:
        return None
    params = {"realm": challenge.realm}
    if challenge.params.get("service"):
        params["service"] = challenge.params["service"]
    return Challenge("bearer", params)


def _as_json(challenge: Challenge) -> dict[str, str]:
    return {"scheme": challenge.scheme, **challenge.params}


def same_challenge(a: Challenge | None, b: Challenge | None) -> bool:
    """Whether two challenges ask for the same thing (the scope aside)."""
    if a is None or b is None:
        return a is b
    return _public_part(a) == _public_part(b)


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float


class RegistryAuth:
    """Answers registry challenges and remembers, per host, how to authenticate up front."""

    def __init__(
        self,
        transport: Transport,
        memory: ChallengeMemory | None = None,
        policy: CredentialPolicy | None = None,
    ) -> None:
        self.transport = transport
        self.policy = policy or CredentialPolicy()
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str, str], _Token] = {}
        # One fetch per token key at a time: threads needing the same token (compare fetches
        # two images in parallel) wait for the first fetch instead of asking the server twice.
        self._fetch_locks: dict[tuple[str, str, str, str], threading.Lock] = {}
        # host -> the last challenge it sent, so later requests can authenticate pre-emptively;
        # `memory` carries that knowledge over to the next process.
        self._challenges: dict[str, Challenge] = {}
        self.memory = memory or ChallengeMemory(None)

    def known_challenge(self, host: str) -> Challenge | None:
        challenge = self._challenges.get(host)
        if challenge is None:
            challenge = self.memory.get(host)
            if challenge is not None:
                self._challenges[host] = challenge
        return challenge

    def remember(self, host: str, challenge: Challenge) -> None:
        self._challenges[host] = challenge
        self.memory.put(host, challenge)

    def authorization(
        self,
        host: str,
        scope: str,
        credentials: Credentials | None,
        *,
        fetch: bool = True,
        origin: str = "",
        docker_hub: bool = False,
    ) -> str | None:
        """The Authorization header value for `scope` on `host`, or None if anonymous access
        is all we know to do. With `fetch=False`, only a cached token is returned.

        `origin` is the registry URL the request goes to (scheme and host; default
        `https://<host>`), `docker_hub` whether the credentials are Docker Hub's: together
        they decide, through `CredentialPolicy`, where the credentials may be sent."""
        origin = origin or f"https://{host}"
        challenge = self.known_challenge(host)
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
                    if credentials is not None:
                        self.policy.check(
                            origin, challenge.realm, docker_hub=docker_hub, what="a registry token"
                        )
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
            "GET",
            realm,
            params=params,
            auth=auth,
            cacheable=False,
            what="a registry token",
            max_bytes=MAX_TOKEN_REPLY_BYTES,
            kind="token",
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
            "POST",
            challenge.realm,
            data=data,
            cacheable=False,
            what="a registry token",
            max_bytes=MAX_TOKEN_REPLY_BYTES,
            kind="token",
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
                hint=f"check the username and token ({advice.command('login')}), "
                "or unset them for anonymous access",
            )
        if response.status_code != 200:
            raise UpstreamError(
                f"the token server {host} answered HTTP {response.status_code}: "
                f"{error_message(response)}"
            )
        try:
            body = json_body(response)
        except ValueError as exc:
            raise UpstreamError(
                f"the token server {host} sent a reply that is {_why(exc)}"
            ) from None
        token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise UpstreamError(f"the token server {host} sent no token")
        check_token(token, f"the token server {host}")
        try:
            lifetime = float(body.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        except (TypeError, ValueError):
            lifetime = DEFAULT_TOKEN_LIFETIME
        lifetime = max(lifetime, DEFAULT_TOKEN_LIFETIME)
        expires = time.monotonic() + max(lifetime - TOKEN_SAFETY_MARGIN, 1.0)
        with self._lock:
            self._tokens[self._key(challenge, scope, credentials)] = _Token(token, expires)
        return token


def check_token(token: str, source: str) -> None:
    """A token is replayed as a header on every request: refuse one that is absurdly long or
    could not be a header value (control characters, line breaks)."""
    if len(token) > MAX_TOKEN_CHARS:
        raise UpstreamError(
            f"{source} sent a {len(token):,}-character token (more than {MAX_TOKEN_CHARS:,});"
            " refusing it",
            hint="a real token is a few kilobytes; check the registry URL",
        )
    if any(ord(c) < 0x21 or ord(c) > 0x7E for c in token):
        raise UpstreamError(f"{source} sent a token that is not a valid header value")


def _basic(username: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode("ascii")
