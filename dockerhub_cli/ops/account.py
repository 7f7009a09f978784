"""Identity, pull quota, login and logout: what `whoami`, `ratelimit`, `login`, `logout` do.

`DockerHubService` delegates here; these functions take the service's clients and return models.
Secrets are validated against the registry before they are stored, and never appear in output.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from dockerhub_cli import advice
from dockerhub_cli.errors import AuthError, InvalidInputError, UpstreamError
from dockerhub_cli.models.core import Identity, LoginResult, LogoutResult, PullRateLimit
from dockerhub_cli.oci.reference import DOCKER_HUB_DOMAIN, parse_reference
from dockerhub_cli.remote.auth import RegistryAuth, parse_challenge
from dockerhub_cli.remote.credential_policy import CredentialPolicy
from dockerhub_cli.remote.keychain import Credentials
from dockerhub_cli.remote.registry import is_loopback
from dockerhub_cli.remote.transport import (
    error_message,
    raise_for_rate_limit,
    raise_for_server_error,
)

if TYPE_CHECKING:
    import requests

    from dockerhub_cli.ops.clients import Clients

# Docker's documented probe image: a HEAD on its manifest reports the quota and costs no pull.
RATELIMIT_PROBE_IMAGE = "ratelimitpreview/test:latest"
_HUB_NAMES = frozenset(
    {
        "",
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
        "registry.hub.docker.com",
        "hub.docker.com",
    }
)
_HOST_RE = re.compile(
    r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$|^\[[0-9a-f:]+\](:[0-9]{1,5})?$"
)


def normalize_registry(clients: Clients, registry: str | None) -> str:
    """`None`, `docker.io`, `https://index.docker.io/v1/` -> `docker.io`; `ghcr` (a config-file
    registry name) -> its host; `https://ghcr.io/` -> `ghcr.io`."""
    text = (registry or "").strip()
    for entry in clients.settings.registries:
        if text == entry.name:
            text = entry.url
            break
    text = text.lower().split("://", 1)[-1].split("/", 1)[0]
    if text in _HUB_NAMES:
        return DOCKER_HUB_DOMAIN
    if not _HOST_RE.match(text):
        raise InvalidInputError(
            f"{registry!r} is not a registry host", hint="e.g. ghcr.io or localhost:5000"
        )
    return text


def whoami(clients: Clients, registry: str | None, *, verify: bool) -> Identity:
    domain = normalize_registry(clients, registry)
    creds = clients.credentials.lookup(domain)
    verified = anonymous = None
    if verify:
        if creds is None:
            verified = False  # nothing to verify; say whether the registry serves anyone
            anonymous = anonymous_access(clients, domain)
        else:
            validate(clients, domain, creds)
            verified = True
    return Identity(
        registry=domain,
        username=creds.username if creds else None,
        authenticated=creds is not None,
        source=creds.source if creds else "anonymous",
        verified=verified,
        anonymous_access=anonymous,
    )


def anonymous_access(clients: Clients, domain: str) -> bool:
    """Whether the registry serves requests without credentials: its API answers, or its
    token server issues an anonymous token (public repositories can be pulled)."""
    transport = clients.transport
    base = _registry_base(clients, domain)
    verify_tls = not (clients.settings.insecure or domain in clients.settings.insecure_registries)
    what = f"the registry API of {domain}"
    probe = transport.request("GET", f"{base}/v2/", cacheable=False, what=what, verify=verify_tls)
    raise_for_rate_limit(probe, what)
    raise_for_server_error(probe, what)
    if probe.status_code == 200:
        return True
    challenge = parse_challenge(probe.headers.get("WWW-Authenticate", ""))
    if probe.status_code != 401 or challenge is None or challenge.scheme != "bearer":
        return False
    auth = RegistryAuth(transport, policy=CredentialPolicy.from_settings(clients.settings))
    auth.remember(domain, challenge)
    try:
        token = auth.authorization(
            domain, "", None, fetch=True, origin=base, docker_hub=domain == DOCKER_HUB_DOMAIN
        )
    except AuthError:
        return False
    return token is not None


# -- login / logout -------------------------------------------------------------------------


def _registry_base(clients: Clients, domain: str) -> str:
    if domain == DOCKER_HUB_DOMAIN:
        return clients.settings.registry_url.rstrip("/")
    plain = is_loopback(domain) or domain in clients.settings.insecure_registries
    return f"{'http' if plain else 'https'}://{domain}"


def validate(clients: Clients, domain: str, creds: Credentials) -> None:
    """Raise AuthError unless the registry accepts `creds` (no caching, nothing stored)."""
    if domain == DOCKER_HUB_DOMAIN and not creds.is_identity_token:
        # Docker Hub: the Hub API login exchanges a password/PAT for a JWT, or refuses it.
        clients.hub._login(creds.username, creds.secret, creds.source)
        return
    transport = clients.transport
    base = _registry_base(clients, domain)
    verify_tls = not (clients.settings.insecure or domain in clients.settings.insecure_registries)
    what = f"the registry API of {domain}"
    probe = transport.request("GET", f"{base}/v2/", cacheable=False, what=what, verify=verify_tls)
    raise_for_rate_limit(probe, what)
    raise_for_server_error(probe, what)
    if probe.status_code == 200:
        return  # the registry needs no login; docker accepts this too
    if probe.status_code != 401:
        raise UpstreamError(
            f"{domain} answered HTTP {probe.status_code} to {base}/v2/: {error_message(probe)}",
            hint="is this an OCI registry?",
        )
    challenge = parse_challenge(probe.headers.get("WWW-Authenticate", ""))
    if challenge is None or challenge.scheme not in ("bearer", "basic"):
        raise UpstreamError(f"{domain} asked for authentication it does not describe")
    if challenge.scheme == "bearer":
        auth = RegistryAuth(transport, policy=CredentialPolicy.from_settings(clients.settings))
        auth.remember(domain, challenge)
        # The token server answers 401 for bad credentials; RegistryAuth raises AuthError.
        auth.authorization(
            domain, "", creds, fetch=True, origin=base, docker_hub=domain == DOCKER_HUB_DOMAIN
        )
        return
    response = transport.request(
        "GET",
        f"{base}/v2/",
        auth=(creds.username, creds.secret),
        cacheable=False,
        what=what,
        verify=verify_tls,
    )
    if response.status_code in (401, 403):
        raise AuthError(f"{domain} rejected the username or password for {creds.username!r}")
    raise_for_server_error(response, what)


def login(clients: Clients, registry: str | None, username: str, secret: str) -> LoginResult:
    domain = normalize_registry(clients, registry)
    username = username.strip()
    if not username:
        raise InvalidInputError(
            "the username is empty", hint=f"pass {advice.param('username', 'NAME')}"
        )
    if not secret.strip():
        raise InvalidInputError(
            "the password/token is empty", hint=f"pipe it with {advice.param('password_stdin')}"
        )
    creds = Credentials(username, secret.strip(), source="dockerhub login")
    validate(clients, domain, creds)
    where = clients.credentials.store(domain, username, secret.strip())
    return LoginResult(registry=domain, username=username, stored_in=where, validated=True)


def logout(clients: Clients, registry: str | None) -> LogoutResult:
    domain = normalize_registry(clients, registry)
    return LogoutResult(registry=domain, removed_from=clients.credentials.erase(domain))


# -- pull rate limit -------------------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return headers.get(name) or headers.get(f"x-{name}")


def parse_quota(value: str | None) -> tuple[int | None, int | None]:
    """`100;w=21600` -> (100, 21600). Liberal: other `;` params ignored; junk -> (None, None)."""
    if not value:
        return None, None
    parts = [p.strip() for p in value.split(";")]
    try:
        count = int(parts[0])
    except ValueError:
        return None, None
    window = None
    for part in parts[1:]:
        key, _, raw = part.partition("=")
        if key.strip().lower() == "w":
            try:
                window = int(raw.strip())
            except ValueError:
                window = None
    return count, window


def pull_rate_limit(clients: Clients, image: str | None) -> PullRateLimit:
    """HEAD the manifest of `image` (default: Docker's probe image) and read the quota headers.

    HEAD is a version check, which Docker Hub does not count as a pull. The request bypasses the
    cache, since the answer changes with every pull.
    """
    ref = parse_reference(image or RATELIMIT_PROBE_IMAGE)

    def quota_answer(response: requests.Response) -> bool:
        # 429 with quota headers means "0 left": that is the answer, not an error.
        limit, _ = parse_quota(_header(response.headers, "ratelimit-limit"))
        return response.status_code == 429 and limit is not None

    head = clients.registry.head_manifest(ref, cacheable=False, accept=quota_answer)
    limit, window = parse_quota(_header(head.headers, "ratelimit-limit"))
    remaining, remaining_window = parse_quota(_header(head.headers, "ratelimit-remaining"))
    creds = clients.credentials.lookup(ref.domain)
    if head.status == 429 and remaining is None:
        remaining = 0
    used = limit - remaining if limit is not None and remaining is not None else None
    return PullRateLimit(
        registry=ref.domain,
        image=str(ref),
        identity=creds.username if creds else "anonymous",
        unlimited=limit is None,
        limit=limit,
        remaining=remaining,
        used=max(used, 0) if used is not None else None,
        window_seconds=window or remaining_window,
        source=_header(head.headers, "docker-ratelimit-source"),
    )
