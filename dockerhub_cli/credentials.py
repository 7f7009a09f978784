"""Where credentials come from, like Docker's own tools.

Order: DOCKERHUB_USERNAME/DOCKERHUB_TOKEN (Docker Hub only) > ~/.docker/config.json
(`credHelpers` for the host, then `credsStore`, then `auths` with base64 `auth` or
`identitytoken`). Secrets live only in memory and never reach logs, errors or the cache.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from dockerhub_cli.reference import DOCKER_HUB_DOMAIN

# The key `docker login` uses for Docker Hub in config.json.
HUB_CONFIG_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = (HUB_CONFIG_KEY, "index.docker.io", "docker.io", "registry-1.docker.io",
                "https://registry-1.docker.io", "https://index.docker.io/v1")


@dataclass(frozen=True)
class Credentials:
    username: str
    secret: str = field(repr=False)
    # Where they came from, for `whoami` and messages (never the secret itself).
    source: str = "unknown"
    # An OAuth2 refresh token (config.json `identitytoken`) rather than a password.
    is_identity_token: bool = False

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, source={self.source!r}, secret=<redacted>)"


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base).expanduser() / "config.json" if base else Path.home() / ".docker/config.json"


def _config_keys_for(domain: str) -> tuple[str, ...]:
    if domain == DOCKER_HUB_DOMAIN:
        return _HUB_ALIASES
    return (domain, f"https://{domain}", f"http://{domain}", f"https://{domain}/v1/",
            f"https://{domain}/v2/")


def _run_helper(helper: str, server: str, timeout: float = 10.0) -> Credentials | None:
    program = shutil.which(f"docker-credential-{helper}")
    if not program:
        return None
    try:
        done = subprocess.run(
            [program, "get"], input=server, capture_output=True, text=True, timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    try:
        data = json.loads(done.stdout)
    except ValueError:
        return None
    username, secret = data.get("Username") or "", data.get("Secret") or ""
    if not secret:
        return None
    identity = username == "<token>"
    return Credentials(
        username=username, secret=secret, source=f"credential helper docker-credential-{helper}",
        is_identity_token=identity,
    )


class CredentialStore:
    """Looks up credentials per registry domain; results are memoised per process."""

    def __init__(
        self,
        *,
        hub_username: str | None = None,
        hub_token: str | None = None,
        config_path: Path | None = None,
    ) -> None:
        self._hub_env = (
            Credentials(hub_username, hub_token, source="environment (DOCKERHUB_USERNAME/TOKEN)")
            if hub_username and hub_token
            else None
        )
        self.config_path = config_path or docker_config_path()
        self._memo: dict[str, Credentials | None] = {}

    def lookup(self, domain: str) -> Credentials | None:
        if domain not in self._memo:
            self._memo[domain] = self._lookup(domain)
        return self._memo[domain]

    def _lookup(self, domain: str) -> Credentials | None:
        if domain == DOCKER_HUB_DOMAIN and self._hub_env:
            return self._hub_env
        config = self._read_config()
        keys = _config_keys_for(domain)
        helpers = config.get("credHelpers") or {}
        for key in keys:
            if isinstance(helpers, dict) and key in helpers:
                found = _run_helper(str(helpers[key]), key)
                if found:
                    return found
        store = config.get("credsStore")
        if isinstance(store, str) and store:
            for key in keys:
                found = _run_helper(store, key)
                if found:
                    return found
        auths = config.get("auths") or {}
        if isinstance(auths, dict):
            for key in keys:
                entry = auths.get(key)
                if isinstance(entry, dict):
                    found = _from_auth_entry(entry, str(self.config_path))
                    if found:
                        return found
        return None

    def _read_config(self) -> dict[str, object]:
        try:
            data = json.loads(self.config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


def _from_auth_entry(entry: dict[str, object], source: str) -> Credentials | None:
    token = entry.get("identitytoken")
    username, secret = "", ""
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            username, _, secret = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            username, secret = "", ""
    if not secret:
        username = str(entry.get("username") or username)
        secret = str(entry.get("password") or "")
    if isinstance(token, str) and token:
        return Credentials(username or "<token>", token, source=source, is_identity_token=True)
    if username and secret:
        return Credentials(username, secret, source=source)
    return None
