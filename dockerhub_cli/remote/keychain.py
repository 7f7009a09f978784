"""Where credentials come from, like Docker's own tools.

Order: DOCKERHUB_USERNAME/DOCKERHUB_TOKEN (Docker Hub only) > a `[[registries]]` entry of our
config file (credentials by env-var reference) > ~/.docker/config.json (`credHelpers` for the
host, then `credsStore`, then `auths` with base64 `auth` or `identitytoken`). An explicit
environment variable is the most specific instruction, so it wins. Secrets live only in memory
and never reach logs, errors or the cache.

`store()` and `erase()` write the way `docker login`/`docker logout` do: through the credential
helper when one is configured for the server, otherwise base64 `auth` in config.json (mode 0600).
A write is serialised and atomic: the whole read-modify-write runs under an exclusive `fcntl`
lock on `.config.json.lock` beside config.json, the new content goes to a
randomly named temporary file created exclusively (`mkstemp`: O_EXCL, mode 0600, never through
a planted symlink), is fsynced, then renamed over the file, so parallel logins and logouts keep
every entry. A file problem (unreadable, read-only, directory not writable, a configured
helper missing) is a `LocalFileError` (exit 9).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dockerhub_cli import lazylog
from dockerhub_cli.oci import jsonlimits
from dockerhub_cli.oci.reference import DOCKER_HUB_DOMAIN

log = lazylog.getLogger("dockerhub_cli.credentials")  # imports logging when needed

if TYPE_CHECKING:
    import subprocess

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
    # subprocess and shutil are imported here: only a configured credential helper needs them.
    import shutil
    import subprocess

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


# Helpers already reported missing in this process: one warning each, not one per lookup.
_MISSING_HELPERS: set[str] = set()


def helper_installed(helper: str) -> bool:
    import shutil

    return shutil.which(f"docker-credential-{helper}") is not None


def _warn_missing_helper(helper: str, config_path: Path) -> None:
    if helper in _MISSING_HELPERS:
        return
    _MISSING_HELPERS.add(helper)
    log.warning(
        "%s names the credential helper %r but docker-credential-%s is not on PATH; "
        "continuing without its credentials (anonymous)",
        config_path,
        helper,
        helper,
    )


def _run_helper(helper: str, server: str, timeout: float = 10.0) -> Credentials | None:
    done = _call_helper(helper, "get", server, timeout)
    if done is None or done.returncode != 0:
        return None
    try:  # the bounded loader: a broken helper's output cannot exhaust the stack
        data = jsonlimits.loads(done.stdout)
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
                if not helper_installed(str(helpers[key])):
                    _warn_missing_helper(str(helpers[key]), self.config_path)
                    continue
                found = _run_helper(str(helpers[key]), key)
                if found:
                    return found
        store = config.get("credsStore")
        if isinstance(store, str) and store and not helper_installed(store):
            _warn_missing_helper(store, self.config_path)
        elif isinstance(store, str) and store:
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
        with self._locked():
            return self._store(domain, username, secret)

    def _store(self, domain: str, username: str, secret: str) -> str:
        from dockerhub_cli.errors import LocalFileError

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
                raise LocalFileError(
                    f"credential helper docker-credential-{helper} is configured in "
                    f"{self.config_path} but is not on PATH",
                    hint=f"install docker-credential-{helper} or remove it from the file",
                )
            if done.returncode != 0:
                reason = (done.stdout or done.stderr).strip().splitlines()[:1]
                raise LocalFileError(
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
        with self._locked():
            return self._erase(domain)

    def _erase(self, domain: str) -> list[str]:
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

    def _target(self) -> Path:
        """The file a write changes: config.json, or the target of a symlinked config.json."""
        path = self.config_path
        return path.resolve() if path.is_symlink() else path

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold an exclusive lock on `.config.json.lock` beside config.json (beside the link,
        when it is one, so a dotfiles directory gets no extra file) for a whole
        read-modify-write; released when the descriptor closes, also if the process dies."""
        from dockerhub_cli.errors import LocalFileError

        path = self.config_path
        lock_path = path.parent / f".{path.name}.lock"
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise LocalFileError(
                f"cannot write {path}: cannot create the lock file {lock_path}: "
                f"{exc.strerror or exc}",
                hint="check that the directory is writable (or set DOCKER_CONFIG)",
            ) from None
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read_config_strict(self) -> dict[str, object]:
        from dockerhub_cli.errors import LocalFileError

        try:
            text = self.config_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise LocalFileError(f"cannot read {self.config_path}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise LocalFileError(
                f"{self.config_path} is not valid JSON: {exc}",
                hint="fix or remove the file; nothing was changed",
            ) from None
        if not isinstance(data, dict):
            raise LocalFileError(f"{self.config_path} is not a JSON object")
        return data

    def _write_config(self, config: dict[str, object]) -> None:
        """Atomic write, mode 0600, keeping every other key of the file as it was.

        Like docker, a symlinked config.json (dotfile managers) is written through the link:
        the link stays and its target gets the new content. The temporary file is created
        exclusively (mode 0600 from the start) and removed if anything fails.
        """
        from dockerhub_cli.errors import LocalFileError

        target = self._target()
        try:
            read_only = target.exists() and not target.stat().st_mode & 0o222
        except OSError:
            read_only = False
        if read_only:  # a file the user made read-only is not replaced behind their back
            raise LocalFileError(
                f"cannot write {self.config_path}: the file is read-only",
                hint=f"make it writable (chmod u+w {target}) or set DOCKER_CONFIG",
            )
        try:
            self._replace_config(config)
        except OSError as exc:
            raise LocalFileError(
                f"cannot write {self.config_path}: {exc.strerror or exc}",
                hint="check that its directory exists and is writable (or set DOCKER_CONFIG)",
            ) from None

    def _replace_config(self, config: dict[str, object]) -> None:
        from dockerhub_cli.atomic import replace_file

        self.config_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._target()
        replace_file(path, json.dumps(config, indent="\t") + "\n", durable=True)
        try:  # the rename itself survives a crash once the directory is on disk
            dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)


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
