"""Effective settings: flags > environment (DOCKERHUB_*) > config file > defaults.

A plain dataclass so that importing it costs nothing; the CLI, the MCP server and library users
all build one with `Settings.from_env(**overrides)`, which also reads the optional TOML config
file (see `config/file.py`); `Settings.sources` says where each value came from.
"""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockerhub_cli.config.file import RegistryEntry

DEFAULT_HUB_URL = "https://hub.docker.com"
DEFAULT_REGISTRY_URL = "https://registry-1.docker.io"
DEFAULT_PLATFORM = "linux/amd64"
DEFAULT_OSV_URL = "https://api.osv.dev"
APP_NAME = "dockerhub-cli"

# Cache lifetimes in seconds, per operation (see http.py for the URL patterns).
DEFAULT_TTLS: dict[str, int] = {
    "search": 5 * 60,
    "repository": 10 * 60,
    "tags": 30 * 60,
    "manifest_by_tag": 60 * 60,
    # A 404 from Docker Hub's API (a repository or tag it does not know): remote/hub.py.
    "not_found": 5 * 60,
    # OSV: which vulnerabilities affect a package changes as advisories are published, so the
    # query answer is kept for an hour; an advisory's details (severity, fixes) for a day.
    "osv_query": 60 * 60,
    "osv_vuln": 24 * 60 * 60,
}

ENV_VARS: dict[str, str] = {
    "DOCKERHUB_CONFIG": "path of the TOML config file (default: config.toml in the user "
    "config dir)",
    "DOCKERHUB_CACHE_DIR": "directory of the HTTP cache (default: the user cache dir)",
    "DOCKERHUB_HUB_URL": f"Docker Hub API base URL (default {DEFAULT_HUB_URL})",
    "DOCKERHUB_REGISTRY_URL": f"registry for docker.io references (default {DEFAULT_REGISTRY_URL})",
    "DOCKERHUB_RATE_LIMIT_PER_MINUTE": "client-side limit of requests to Docker Hub's API per "
    "minute (default 60)",
    "DOCKERHUB_RATE_LIMIT_BURST": "requests to Docker Hub's API allowed in a burst (default 10)",
    "DOCKERHUB_TIMEOUT": "wall-clock seconds one request may take, start to end (default 30)",
    "DOCKERHUB_PLATFORM": f"default platform os/arch[/variant] (default {DEFAULT_PLATFORM})",
    "DOCKERHUB_INSECURE_REGISTRIES": "comma-separated hosts that may use plain HTTP / bad TLS",
    "DOCKERHUB_USERNAME": "Docker Hub username (with DOCKERHUB_TOKEN)",
    "DOCKERHUB_TOKEN": "Docker Hub personal access token or password",
    "DOCKERHUB_PASSWORD": "read when DOCKERHUB_TOKEN is not set",
    "DOCKERHUB_NO_CACHE": "set to 1 to bypass the cache (like --no-cache)",
    "DOCKERHUB_OFFLINE": "set to 1 to answer only from the cache (like --offline)",
    "DOCKER_CONFIG": "directory of Docker's config.json (default ~/.docker)",
    "NO_COLOR": "set to anything to disable colour in tables and messages",
    "DOCKERHUB_CACHE_BACKEND": "sqlite (default) or redis://host:port/db for a shared cache",
    "DOCKERHUB_CIRCUIT_BREAKER": "1/0: fail fast for a while after repeated host failures "
    "(default: on in serve-mcp, off otherwise)",
    "DOCKERHUB_OSV_URL": f"OSV vulnerability API base URL for `vulns` (default {DEFAULT_OSV_URL})",
    "DOCKERHUB_OSV_BATCH_SIZE": "package URLs per OSV querybatch request (1-1000, default 1000)",
    "DOCKERHUB_MCP_AUTH_TOKEN": "serve-mcp --transport http: bearer token every request must "
    "carry (required beyond loopback)",
    "DOCKERHUB_MCP_TOOL_TIMEOUT": "serve-mcp: seconds one tool call may take (default 60)",
    "DOCKERHUB_MCP_MAX_RESULT_BYTES": "serve-mcp: size bound of each channel of a tool result "
    "(4096-60000, default 32768)",
    "DOCKERHUB_DEBUG_FASTPATH": "set to 1 to report on stderr what the result cache did "
    "(fast path: hit, miss, saved ...)",
}


def _env_bool(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    from dockerhub_cli.errors import InvalidInputError

    try:
        value = int(raw)
    except ValueError:
        raise InvalidInputError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise InvalidInputError(f"{name}={value} must be at least {minimum}")
    return value


def _env_seconds(name: str, default: float) -> float:
    """A number of seconds, decimals allowed (`2.5`), above zero and finite."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    from dockerhub_cli.errors import InvalidInputError

    try:
        value = float(raw)
    except ValueError:
        raise InvalidInputError(f"{name}={raw!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise InvalidInputError(f"{name}={raw} must be a number of seconds above 0")
    return value


def default_cache_dir() -> Path:
    env = os.environ.get("DOCKERHUB_CACHE_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    from dockerhub_cli.paths import user_dir

    return Path(user_dir("cache"))


@dataclass(frozen=True)
class Settings:
    cache_dir: Path = field(default_factory=default_cache_dir)
    hub_url: str = DEFAULT_HUB_URL
    registry_url: str = DEFAULT_REGISTRY_URL
    rate_limit_per_minute: int = 60
    rate_limit_burst: int = 10
    timeout: float = 30.0
    connect_timeout: float = 10.0
    platform: str = DEFAULT_PLATFORM
    insecure_registries: frozenset[str] = frozenset()
    insecure: bool = False
    no_cache: bool = False
    offline: bool = False
    # Retries for connection errors, timeouts, 429 and 5xx; `max_retry_wait` caps how long one
    # Retry-After is honoured before we give up and report the wait to the user instead.
    retries: int = 3
    backoff_factor: float = 0.5
    max_retry_wait: float = 10.0
    ttls: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TTLS))
    username: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    docker_config: Path | None = None
    # From the config file: registries with credentials by env-var reference, output defaults.
    registries: tuple[RegistryEntry, ...] = ()
    output_json: bool = False
    config_file: Path | None = None
    # Settings field -> "flag" | "env NAME" | "config" | "default" (for `dockerhub config show`).
    sources: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # "sqlite" (the file under cache_dir) or "redis://host:port/db" (shared by many processes).
    # Out of the repr: a Redis URL may carry a password (cache.describe_backend() redacts it).
    cache_backend: str = field(default="sqlite", repr=False)
    cache_busy_timeout_ms: int = 30_000
    # On a network failure or 5xx/429, answer from an expired cache entry (with a warning).
    stale_if_error: bool = True
    # Per-host circuit breaker (remote/circuit.py): on in `serve-mcp` (the long-lived process it is
    # meant for), off in one-shot commands; DOCKERHUB_CIRCUIT_BREAKER=1/0 forces it either way.
    circuit_breaker: bool = False
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    # OSV (the `vulns` command): base URL and package URLs per querybatch request (max 1000).
    osv_url: str = DEFAULT_OSV_URL
    osv_batch_size: int = 1000

    @classmethod
    def from_env(cls, *, read_config: bool = True, **overrides: object) -> Settings:
        """Defaults, then the config file, then DOCKERHUB_* variables, then explicit (non-None)
        overrides. `read_config=False` skips the config file (tests, embedding)."""
        insecure = frozenset(
            h.strip()
            for h in os.environ.get("DOCKERHUB_INSECURE_REGISTRIES", "").split(",")
            if h.strip()
        )
        values: dict[str, object] = {
            "cache_dir": default_cache_dir(),
            "hub_url": os.environ.get("DOCKERHUB_HUB_URL", "").strip().rstrip("/")
            or DEFAULT_HUB_URL,
            "registry_url": os.environ.get("DOCKERHUB_REGISTRY_URL", "").strip().rstrip("/")
            or DEFAULT_REGISTRY_URL,
            "osv_url": os.environ.get("DOCKERHUB_OSV_URL", "").strip().rstrip("/")
            or DEFAULT_OSV_URL,
            "osv_batch_size": min(_env_int("DOCKERHUB_OSV_BATCH_SIZE", 1000), 1000),
            "rate_limit_per_minute": _env_int("DOCKERHUB_RATE_LIMIT_PER_MINUTE", 60),
            "rate_limit_burst": _env_int("DOCKERHUB_RATE_LIMIT_BURST", 10),
            "timeout": _env_seconds("DOCKERHUB_TIMEOUT", 30.0),
            "platform": os.environ.get("DOCKERHUB_PLATFORM", "").strip() or DEFAULT_PLATFORM,
            "insecure_registries": insecure,
            "no_cache": _env_bool("DOCKERHUB_NO_CACHE"),
            "offline": _env_bool("DOCKERHUB_OFFLINE"),
            "cache_backend": os.environ.get("DOCKERHUB_CACHE_BACKEND", "").strip() or "sqlite",
            "circuit_breaker": _env_bool("DOCKERHUB_CIRCUIT_BREAKER"),
            "username": os.environ.get("DOCKERHUB_USERNAME") or None,
            "token": os.environ.get("DOCKERHUB_TOKEN")
            or os.environ.get("DOCKERHUB_PASSWORD")
            or None,
        }
        from dockerhub_cli.config import file as config_file

        config = (
            config_file.load(default_ttls=DEFAULT_TTLS)
            if read_config
            else config_file.ConfigFile(path=None)
        )
        values, sources = config_file.layer(values, overrides, config)
        registries = config.registries
        insecure_hosts = {r.host for r in registries if r.insecure}
        if insecure_hosts:
            configured = typing.cast("frozenset[str]", values["insecure_registries"])
            values["insecure_registries"] = frozenset(configured) | insecure_hosts
        values.update(registries=registries, config_file=config.path, sources=sources)
        _check_default_platform(str(values["platform"]), sources.get("platform", "default"))
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def cache_path(self) -> Path:
        return self.cache_dir / "http_cache.sqlite"


def _check_default_platform(platform: str, source: str) -> None:
    """Reject a bad default platform where it is set, naming where it came from."""
    from dockerhub_cli.errors import InvalidInputError
    from dockerhub_cli.oci.platform import parse_platform

    try:
        parse_platform(platform)
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"the default platform {platform!r} (from {source}) is invalid: {exc.message}",
            hint="use os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8",
        ) from None
