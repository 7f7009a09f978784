"""The result store of `serve-mcp`: a warm repeated tool call answered from memory.

The same rules as the CLI's saved results (`dockerhub_cli.result_cache`), applied per call:

* only the tools of commands whose output depends on registry / Hub data alone (the spec's
  `Command.reads`, which also makes a CLI command eligible) and never an argument naming a
  local image source (oci:, oci-archive:, docker-archive:);
* only an answer every response of which was a fresh HTTP cache entry (or a 404 the registry
  gave, for at most the `repository` TTL): the transport tracks it per call
  (`CallStats.reusable` / `reuse_until`); nothing from a failed call, a stale answer, or one
  built from a response the cache did not keep;
* kept until the earliest of those entries' expiry and the shortest TTL of what the command
  reads (settings.ttls);
* keyed by the tool, its arguments as given, and the credential identity in force (the
  DOCKERHUB_USERNAME/TOKEN pair, Docker's config.json, the config file's registry secrets):
  a new login is a different key;
* off when the cache is off (DOCKERHUB_NO_CACHE / settings.no_cache).

Bounded (entries and bytes, least recently used first out). Only the standard library.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from dockerhub_cli.result_cache import LOCAL_PREFIXES

__all__ = ["ResultStore", "credential_identity"]

DEFAULT_MAX_ENTRIES = 1024
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class ResultStore:
    """Answers (any object) by key until their expiry, in memory, bounded."""

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.clock = clock  # unix time: the HTTP cache's expiries are unix times too
        self._items: OrderedDict[str, tuple[float, int, Any]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.stored = 0

    def __len__(self) -> int:
        return len(self._items)

    @staticmethod
    def key(tool: str, arguments: Mapping[str, Any], identity: str) -> str | None:
        """The key of one call, or None when such a call is never stored (a local source)."""
        try:
            text = json.dumps(
                [tool, arguments, identity], sort_keys=True, separators=(",", ":"), default=str
            )
        except (TypeError, ValueError):
            return None
        if any(
            isinstance(v, str) and v.startswith(LOCAL_PREFIXES)
            for v in _strings(arguments.values())
        ):
            return None
        return text

    def get(self, key: str, *, count_miss: bool = True) -> Any | None:
        """The answer kept under `key` while it has not expired (`count_miss=False`: a look
        that another one follows when it finds nothing, so only that one counts the miss)."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += count_miss
                return None
            expires_at, size, value = item
            if expires_at <= self.clock():
                del self._items[key]
                self._bytes -= size
                self.misses += count_miss
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, value: Any, *, expires_at: float, size: int) -> bool:
        """Keep `value` until `expires_at` (False: not kept, it expires within a second or is
        bigger than the whole store)."""
        if expires_at - self.clock() < 1 or size > self.max_bytes:
            return False
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (expires_at, size, value)
            self._bytes += size
            self.stored += 1
            while self._items and (
                len(self._items) > self.max_entries or self._bytes > self.max_bytes
            ):
                _, (_, dropped, _) = self._items.popitem(last=False)
                self._bytes -= dropped
        return True

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "entries": len(self._items),
                "bytes": self._bytes,
                "hits": self.hits,
                "misses": self.misses,
                "stored": self.stored,
            }


def _strings(values: Any) -> list[str]:
    out: list[str] = []
    for value in values:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(v for v in value if isinstance(v, str))
    return out


def credential_identity(settings: Any, environ: Mapping[str, str] | None = None) -> str:
    """A fingerprint of the credentials this server would present (never the secrets
    themselves): Docker Hub's env pair, Docker's config.json (mtime and size, as the CLI's
    result key: `docker login` changes it) and the secrets the config file's registries name."""
    env = os.environ if environ is None else environ
    parts: list[Any] = [
        getattr(settings, "username", None),
        getattr(settings, "token", None),
    ]
    config = getattr(settings, "docker_config", None)
    path = os.fspath(config) if config is not None else _docker_config(env)
    try:
        st = os.stat(path)
        parts.append([path, st.st_mtime_ns, st.st_size])
    except OSError:
        parts.append([path, None])
    for entry in getattr(settings, "registries", ()) or ():
        names = [getattr(entry, "username_env", None), getattr(entry, "password_env", None)]
        parts.append(
            [getattr(entry, "host", None), getattr(entry, "username", None)]
            + [env.get(n) if n else None for n in names]
        )
    return _fingerprint(parts)


# The last identity's parts and fingerprint: a server asks once per call, and the parts (the
# config file's stat included) are read every time, but hashed only when they change.
_last: list[Any] = [None, ""]
_last_lock = threading.Lock()


def _fingerprint(parts: list[Any]) -> str:
    with _last_lock:
        if _last[0] == parts:
            return str(_last[1])
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]
    with _last_lock:
        _last[0], _last[1] = parts, digest
    return digest


def _docker_config(env: Mapping[str, str]) -> str:
    base = env.get("DOCKER_CONFIG")
    if base:
        return os.path.join(os.path.expanduser(base), "config.json")
    return os.path.join(os.path.expanduser("~"), ".docker", "config.json")
