"""Where credentials come from, like Docker's own tools.

Order: DOCKERHUB_USERNAME/DOCKERHUB_TOKEN (Docker Hub only) > a `[[registries]]` entry of our
config file (credentials by env-var reference) > ~/.docker/config.json (`credHelpers` for the
host, then `credsStore`, then `auths` with base64 `auth` or `identitytoken`). An explicit
environment variable is the most specific instruction, so it wins. Secrets live only in memory
and never reach logs, errors or the cache.

`store()` and `erase()` write the way `docker login`/`docker logout` do: through the credential
helper when one is configured for the server, otherwise base64 `auth` in config.json (mode 0600).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dockerhub_cli.oci.reference import DOCKER_HUB_DOMAIN

log = logging.getLogger("dockerhub_cli.credentials")

if TYPE_CHECKING:
    from dockerhub_cli.config.file import RegistryEntry

# The key `docker login` uses for Docker Hub in config.json.
HUB_CONFIG_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = (
    HUB_CONFIG_KEY,
    "index.docker.io",
    "docker.io",
    "registry-1.docker.io",
    "https://registry-1.docker.io",
    "https://index.docker.io/v1",
)


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
    return (
        domain,
        f"https://{domain}",
        f"http://{domain}",
        f"https://{domain}/v1/",
        f"https://{domain}/v2/",
    )


def server_key(domain: str) -> str:
    """The config.json / credential-helper key `docker login` uses for a registry domain."""
    return HUB_CONFIG_KEY if domain == DOCKER_HUB_DOMAIN else domain


def _call_helper(
    helper: str, action: str, stdin: str, timeout: float = 10.0
) -> subprocess.CompletedProcess[str] | None:
    program = shutil.which(f"docker-credential-{helper}")
    if not program:
        return None
    try:
        return subprocess.run(
            [program, action],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _run_helper(helper: str, server: str, timeout: float = 10.0) -> Credentials | None:
    done = _call_helper(helper, "get", server, timeout)
    if done is None or done.returncode != 0:
        return None
    try:
        data = json.loads(done.stdout)
    except ValueError:
        return None
    if not isinstance(data, dict):  # a broken helper: as good as no credentials
        return None
    username, secret = str(data.get("Username") or ""), data.get("Secret")
    if not isinstance(secret, str) or not secret:
        return None
    identity = username == "<token>"
    return Credentials(
        username=username,
        secret=secret,
        source=f"credential helper docker-credential-{helper}",
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
        registries: tuple[RegistryEntry, ...] = (),
    ) -> None:
        self._hub_env = (
            Credentials(hub_username, hub_token, source="environment (DOCKERHUB_USERNAME/TOKEN)")
            if hub_username and hub_token
            else None
        )
        self.config_path = config_path or docker_config_path()
        self.registries = registries
        self._memo: dict[str, Credentials | None] = {}

    def forget(self, domain: str | None = None) -> None:
        """Drop memoised lookups (after login/logout)."""
        if domain is None:
            self._memo.clear()
        else:
            self._memo.pop(domain, None)

    def lookup(self, domain: str) -> Credentials | None:
        if domain not in self._memo:
            self._memo[domain] = self._lookup(domain)
        return self._memo[domain]

    def _lookup(self, domain: str) -> Credentials | None:
        if domain == DOCKER_HUB_DOMAIN and self._hub_env:
            return self._hub_env
        from_file = self._from_registry_entries(domain)
        if from_file:
            return from_file
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

    def _from_registry_entries(self, domain: str) -> Credentials | None:
        for entry in self.registries:
            host = entry.host
            if host in ("docker.io", "index.docker.io", "registry-1.docker.io"):
                host = DOCKER_HUB_DOMAIN
            if host != domain or not entry.password_env:
                continue
            username, secret = entry.resolved_username(), entry.resolved_secret()
            if username and secret:
                return Credentials(
                    username,
                    secret,
                    source=f"config file registry {entry.name!r} (${entry.password_env})",
                )
        return None

    def _read_config(self) -> dict[str, object]:
        try:
            data = json.loads(self.config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # Like docker: say so, then carry on anonymously rather than fail every command.
            reason = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
            log.warning("ignoring %s: %s", self.config_path, reason)
            return {}
        if not isinstance(data, dict):
            log.warning("ignoring %s: not a JSON object", self.config_path)
            return {}
        return data

    # -- writing: `dockerhub login` / `dockerhub logout` ----------------------------------

    def helper_for(self, domain: str) -> str | None:
        """The credential helper `docker login` would use for `domain`, if any."""
        config = self._read_config()
        helpers = config.get("credHelpers") or {}
        if isinstance(helpers, dict):
            for key in _config_keys_for(domain):
                if key in helpers and helpers[key]:
                    return str(helpers[key])
        store = config.get("credsStore")
        return store if isinstance(store, str) and store else None

    def store(self, domain: str, username: str, secret: str) -> str:
        """Save credentials like `docker login`; return where they went (for the message)."""
        from dockerhub_cli.errors import DockerHubError

        key = server_key(domain)
        config = self._read_config_strict()
        helper = self.helper_for(domain)
        auths = config.get("auths")
        if not isinstance(auths, dict):
            auths = {}
        if helper:
            payload = json.dumps({"ServerURL": key, "Username": username, "Secret": secret})
            done = _call_helper(helper, "store", payload)
            if done is None:
                raise DockerHubError(
                    f"credential helper docker-credential-{helper} is configured in "
                    f"{self.config_path} but is not on PATH"
                )
            if done.returncode != 0:
                reason = (done.stdout or done.stderr).strip().splitlines()[:1]
                raise DockerHubError(
                    f"docker-credential-{helper} could not store the credentials"
                    + (f": {reason[0]}" if reason else "")
                )
            # docker keeps an empty entry so that `docker info`/tools see the login.
            auths[key] = {}
            where = f"credential helper docker-credential-{helper}"
        else:
            encoded = base64.b64encode(f"{username}:{secret}".encode()).decode("ascii")
            auths[key] = {"auth": encoded}
            where = f"{self.config_path} (unencrypted; configure a credential helper)"
        config["auths"] = auths
        self._write_config(config)
        self.forget(domain)
        return where

    def erase(self, domain: str) -> list[str]:
        """Remove stored credentials like `docker logout`; return where they were removed from."""
        removed: list[str] = []
        config = self._read_config_strict()
        helper = self.helper_for(domain)
        if helper:
            for key in dict.fromkeys((server_key(domain), *_config_keys_for(domain))):
                done = _call_helper(helper, "erase", key)
                if done is not None and done.returncode == 0 and not removed:
                    removed.append(f"credential helper docker-credential-{helper}")
        auths = config.get("auths")
        if isinstance(auths, dict):
            keys = [k for k in _config_keys_for(domain) if k in auths]
            for k in keys:
                entry = auths.pop(k)
                if isinstance(entry, dict) and entry and str(self.config_path) not in removed:
                    removed.append(str(self.config_path))
            if keys:
                self._write_config(config)
        self.forget(domain)
        return removed

    def _read_config_strict(self) -> dict[str, object]:
        from dockerhub_cli.errors import InvalidInputError

        try:
            text = self.config_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise InvalidInputError(f"cannot read {self.config_path}: {exc}") from None
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise InvalidInputError(f"{self.config_path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidInputError(f"{self.config_path} is not a JSON object")
        return data

    def _write_config(self, config: dict[str, object]) -> None:
        """Atomic write, mode 0600, keeping every other key of the file as it was.

        Like docker, a symlinked config.json (dotfile managers) is written through the link:
        the link stays and its target gets the new content. The temporary file is created
        exclusively (mode 0600 from the start) and removed if anything fails.
        """
        from dockerhub_cli.errors import DockerHubError

        try:
            self._replace_config(config)
        except OSError as exc:
            raise DockerHubError(
                f"cannot write {self.config_path}: {exc.strerror or exc}",
                hint="check that its directory exists and is writable (or set DOCKER_CONFIG)",
            ) from None

    def _replace_config(self, config: dict[str, object]) -> None:
        path = self.config_path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.is_symlink():
            path = path.resolve()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(config, handle, indent="\t")
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


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
