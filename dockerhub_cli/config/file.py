"""The optional TOML config file, and the layering flag > env > config file > default.

Location: `$DOCKERHUB_CONFIG`, else `<user config dir>/dockerhub-cli/config.toml`
(`~/.config/dockerhub-cli/config.toml` on Linux). Every key is optional:

    platform = "linux/arm64"
    timeout = 30
    hub_url = "https://hub.docker.com"
    registry_url = "https://registry-1.docker.io"
    osv_url = "https://api.osv.dev"   # vulnerability database for `vulns`
    insecure_registries = ["registry.lan:5000"]

    [cache]
    dir = "~/.cache/dockerhub-cli"
    [cache.ttls]          # seconds, per operation
    search = 300
    tags = 1800

    [rate_limit]
    per_minute = 60
    burst = 10

    [output]
    json = false          # make --json the default

    [[registries]]        # credentials by environment-variable reference, never plaintext
    name = "ghcr"
    url = "ghcr.io"
    username = "octocat"  # or username_env = "GHCR_USER"
    password_env = "GHCR_TOKEN"

A malformed file is a usage error (exit 2) naming the file, the key and the problem.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockerhub_cli.config.location import CONFIG_ENV as CONFIG_ENV
from dockerhub_cli.config.location import config_path as config_path

# Settings field -> the environment variable that sets it (for precedence and `config show`).
FIELD_ENV: dict[str, str] = {
    "cache_dir": "DOCKERHUB_CACHE_DIR",
    "hub_url": "DOCKERHUB_HUB_URL",
    "registry_url": "DOCKERHUB_REGISTRY_URL",
    "osv_url": "DOCKERHUB_OSV_URL",
    "osv_batch_size": "DOCKERHUB_OSV_BATCH_SIZE",
    "rate_limit_per_minute": "DOCKERHUB_RATE_LIMIT_PER_MINUTE",
    "rate_limit_burst": "DOCKERHUB_RATE_LIMIT_BURST",
    "timeout": "DOCKERHUB_TIMEOUT",
    "platform": "DOCKERHUB_PLATFORM",
    "insecure_registries": "DOCKERHUB_INSECURE_REGISTRIES",
    "no_cache": "DOCKERHUB_NO_CACHE",
    "offline": "DOCKERHUB_OFFLINE",
    "username": "DOCKERHUB_USERNAME",
    "token": "DOCKERHUB_TOKEN",
    "cache_backend": "DOCKERHUB_CACHE_BACKEND",
    "circuit_breaker": "DOCKERHUB_CIRCUIT_BREAKER",
}

# Keys whose values are secrets: `config show` prints them redacted.
SECRET_FIELDS = frozenset({"token"})
# Keys whose values are URLs that may carry a password (redis://:pw@host): shown without it.
URL_FIELDS = frozenset({"cache_backend"})


@dataclass(frozen=True)
class RegistryEntry:
    """A `[[registries]]` table: where a registry is and which env vars hold its login."""

    name: str
    url: str
    username: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    insecure: bool = False

    @property
    def host(self) -> str:
        """`ghcr.io`, `registry.lan:5000` (scheme and path dropped)."""
        text = self.url.split("://", 1)[-1]
        return text.split("/", 1)[0].lower()

    def resolved_username(self) -> str | None:
        if self.username_env:
            return os.environ.get(self.username_env) or None
        return self.username

    def resolved_secret(self) -> str | None:
        return os.environ.get(self.password_env) or None if self.password_env else None


@dataclass(frozen=True)
class ConfigFile:
    """What the file says, already validated and mapped onto Settings field names."""

    path: Path | None
    values: dict[str, Any] = field(default_factory=dict)
    registries: tuple[RegistryEntry, ...] = ()


class ConfigError(Exception):
    """Raised by the validators; turned into InvalidInputError with the file name."""


def _error(path: Path, key: str, problem: str) -> Exception:
    from dockerhub_cli.errors import InvalidInputError

    return InvalidInputError(f"config file {path}: key '{key}': {problem}")


def _int(key: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"expected a whole number, got {value!r}")
    if value < minimum:
        raise ConfigError(f"must be at least {minimum} (got {value})")
    return value


def _seconds(key: str, value: Any) -> float:
    """A number of seconds, decimals allowed (`timeout = 2.5`), above zero and finite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"expected a number of seconds, got {value!r}")
    if not 0 < value < float("inf"):
        raise ConfigError(f"must be a number of seconds above 0 (got {value})")
    return float(value)


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"expected a non-empty string, got {value!r}")
    return value.strip()


def _url(key: str, value: Any) -> str:
    text = _str(key, value).rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"expected an http:// or https:// URL, got {text!r}")
    return text


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"expected true or false, got {value!r}")
    return value


def _platform(key: str, value: Any) -> str:
    text = _str(key, value)
    if not 2 <= len(text.split("/")) <= 3 or not all(text.split("/")):
        raise ConfigError(f"expected os/arch[/variant] such as linux/arm64, got {text!r}")
    return text


def _hosts(key: str, value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"expected a list of host names, got {value!r}")
    return frozenset(v.strip() for v in value)


# top-level key -> (Settings field, validator)
_TOP: dict[str, tuple[str, Any]] = {
    "platform": ("platform", _platform),
    "timeout": ("timeout", _seconds),
    "hub_url": ("hub_url", _url),
    "registry_url": ("registry_url", _url),
    "osv_url": ("osv_url", _url),
    "insecure_registries": ("insecure_registries", _hosts),
}
_TABLES: dict[str, dict[str, tuple[str, Any]]] = {
    "cache": {"dir": ("cache_dir", lambda k, v: Path(_str(k, v)).expanduser())},
    "rate_limit": {
        "per_minute": ("rate_limit_per_minute", _int),
        "burst": ("rate_limit_burst", _int),
    },
    "output": {"json": ("output_json", _bool)},
}
_REGISTRY_KEYS = ("name", "url", "username", "username_env", "password_env", "insecure")
_PLAINTEXT_SECRETS = ("password", "token", "secret", "auth")


def _known(keys: Any) -> str:
    return ", ".join(sorted(keys))


def parse(text: str, path: Path, default_ttls: Mapping[str, int]) -> ConfigFile:
    """Validate the TOML text of a config file; raise InvalidInputError on the first problem."""
    import tomllib  # only when a config file exists: it costs ~15 ms to import

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        from dockerhub_cli.errors import InvalidInputError

        raise InvalidInputError(f"config file {path}: not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    registries: list[RegistryEntry] = []
    for key, raw in data.items():
        if key in _TOP:
            name, check = _TOP[key]
            values[name] = _checked(path, key, raw, check)
        elif key in _TABLES:
            if not isinstance(raw, dict):
                raise _error(path, key, f"expected a table [{key}]")
            for sub, sub_raw in raw.items():
                full = f"{key}.{sub}"
                if key == "cache" and sub == "ttls":
                    values["ttls"] = _ttls(path, full, sub_raw, default_ttls)
                elif sub in _TABLES[key]:
                    name, check = _TABLES[key][sub]
                    values[name] = _checked(path, full, sub_raw, check)
                else:
                    valid = list(_TABLES[key]) + (["ttls"] if key == "cache" else [])
                    raise _error(path, full, f"unknown key (valid: {_known(valid)})")
        elif key == "registries":
            if not isinstance(raw, list):
                raise _error(path, key, "expected an array of tables [[registries]]")
            registries.extend(_registry(path, i, entry) for i, entry in enumerate(raw))
        else:
            valid = [*_TOP, *_TABLES, "registries"]
            raise _error(path, key, f"unknown key (valid: {_known(valid)})")
    names = [r.name for r in registries]
    for name in names:
        if names.count(name) > 1:
            raise _error(path, "registries", f"the name {name!r} is used twice")
    return ConfigFile(path=path, values=values, registries=tuple(registries))


def _checked(path: Path, key: str, raw: Any, check: Any) -> Any:
    try:
        return check(key, raw)
    except ConfigError as exc:
        raise _error(path, key, str(exc)) from None


def _ttls(path: Path, key: str, raw: Any, default_ttls: Mapping[str, int]) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise _error(path, key, "expected a table [cache.ttls]")
    ttls = dict(default_ttls)
    for name, seconds in raw.items():
        if name not in default_ttls:
            raise _error(path, f"{key}.{name}", f"unknown cache (valid: {_known(default_ttls)})")
        ttls[name] = _checked(path, f"{key}.{name}", seconds, lambda k, v: _int(k, v, 0))
    return ttls


def _registry(path: Path, index: int, raw: Any) -> RegistryEntry:
    where = f"registries[{index}]"
    if not isinstance(raw, dict):
        raise _error(path, where, "expected a table")
    for key in raw:
        full = f"{where}.{key}"
        if key in _PLAINTEXT_SECRETS:
            raise _error(
                path,
                full,
                "plaintext secrets are not allowed; name an environment variable "
                'with password_env (e.g. password_env = "GHCR_TOKEN")',
            )
        if key not in _REGISTRY_KEYS:
            raise _error(path, full, f"unknown key (valid: {_known(_REGISTRY_KEYS)})")
    for required in ("name", "url"):
        if required not in raw:
            raise _error(path, f"{where}.{required}", "missing")
    name = _checked(path, f"{where}.name", raw["name"], _str)
    url = _checked(path, f"{where}.url", raw["url"], _str)
    optional = {
        k: _checked(path, f"{where}.{k}", raw[k], _str)
        for k in ("username", "username_env", "password_env")
        if k in raw
    }
    insecure = _checked(path, f"{where}.insecure", raw.get("insecure", False), _bool)
    return RegistryEntry(name=name, url=url, insecure=insecure, **optional)


def load(path: Path | None = None, *, default_ttls: Mapping[str, int]) -> ConfigFile:
    """Read the config file if it exists. An explicit $DOCKERHUB_CONFIG must exist."""
    explicit = path is not None or bool(os.environ.get(CONFIG_ENV, "").strip())
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            from dockerhub_cli.errors import InvalidInputError

            raise InvalidInputError(
                f"config file {path} does not exist",
                hint=f"create it, or unset {CONFIG_ENV}",
            ) from None
        return ConfigFile(path=None)
    except (OSError, UnicodeDecodeError) as exc:
        from dockerhub_cli.errors import InvalidInputError

        raise InvalidInputError(f"config file {path}: cannot be read: {exc}") from None
    return parse(text, path, default_ttls)


def layer(
    env_values: dict[str, Any],
    overrides: Mapping[str, Any],
    config: ConfigFile,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Merge flag > env > config file > default; return the values and each one's source.

    `env_values` holds what the environment produced for every field (already falling back to
    the default when the variable is unset); a field counts as set by the environment only when
    its variable in FIELD_ENV is non-empty, so the config file fills in only the rest.
    """
    values = dict(env_values)
    sources: dict[str, str] = {}
    for name in (
        set(values) | set(config.values) | {k for k, v in overrides.items() if v is not None}
    ):
        env_var = FIELD_ENV.get(name)
        if name in overrides and overrides[name] is not None:
            values[name] = overrides[name]
            sources[name] = "flag"
        elif env_var and os.environ.get(env_var, "").strip():
            sources[name] = f"env {env_var}"
        elif name in config.values:
            values[name] = config.values[name]
            sources[name] = "config"
        else:
            sources[name] = "default"
    if sources.get("token") == "default" and os.environ.get("DOCKERHUB_PASSWORD"):
        sources["token"] = "env DOCKERHUB_PASSWORD"
    return values, sources


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (set, frozenset, list, tuple)):
        return ",".join(sorted(str(v) for v in value)) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def report(settings: Any) -> Any:
    """The effective settings with their sources, secrets redacted (for `config show`)."""
    import dataclasses

    from dockerhub_cli.models.core import ConfigReport, ConfigValue
    from dockerhub_cli.text import redact_url

    hidden = {"sources", "registries", "config_file"}
    values = []
    for f in dataclasses.fields(settings):
        if f.name in hidden:
            continue
        value = getattr(settings, f.name)
        if f.name in SECRET_FIELDS:
            text = "<redacted>" if value else "-"
        elif f.name in URL_FIELDS:
            text = redact_url(_text(value))
        else:
            text = _text(value)
        values.append(
            ConfigValue(key=f.name, value=text, source=settings.sources.get(f.name, "default"))
        )
    registries: list[dict[str, str | bool | None]] = [
        {
            "name": r.name,
            "url": r.url,
            "username": r.resolved_username(),
            "password_env": r.password_env,
            "password_set": bool(r.resolved_secret()),
            "insecure": r.insecure,
        }
        for r in settings.registries
    ]
    path = settings.config_file
    return ConfigReport(
        config_file=str(path) if path else None, values=values, registries=registries
    )
