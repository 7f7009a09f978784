"""The HTTP cache store: open it (SQLite file or shared Redis), survive corruption, report on it.

* `open_backend(settings)` picks the backend from `settings.cache_backend`: `sqlite` (default,
  `<cache_dir>/http_cache.sqlite`, WAL + busy timeout so parallel processes never see
  "database is locked") or `redis://host:port/db` (requests-cache's RedisCache, so many
  `serve-mcp` instances share one cache). Anything else is a clear usage error.
* A corrupt or truncated SQLite file is moved aside to `http_cache.sqlite.corrupt-<time>` and a
  new one is started, with a warning on stderr; never a crash.
* `cache_info()` / `clear_cache()` back `dockerhub cache info|clear`.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field

from dockerhub_cli import advice
from dockerhub_cli.errors import InvalidInputError, LocalFileError, NetworkError
from dockerhub_cli.models.core import Model

if TYPE_CHECKING:
    from dockerhub_cli.config.settings import Settings

log = logging.getLogger("dockerhub_cli.cache")

REDIS_SCHEMES = ("redis", "rediss", "unix")
REDIS_NAMESPACE = "dockerhub-cli"
CORRUPT_MARKER = ".corrupt-"


# -- choosing and opening the backend ---------------------------------------------------------


def backend_kind(settings: Settings) -> str:
    """`sqlite` or `redis`; InvalidInputError for anything else."""
    spec = (settings.cache_backend or "sqlite").strip()
    scheme = spec.split("://", 1)[0].lower() if "://" in spec else spec.lower()
    if scheme in ("", "sqlite"):
        return "sqlite"
    if scheme in REDIS_SCHEMES:
        return "redis"
    raise InvalidInputError(
        f"unknown cache backend {redact_url(spec)!r}",
        hint="use sqlite (the default) or redis://host:port/db (DOCKERHUB_CACHE_BACKEND)",
    )


def redact_url(url: str) -> str:
    """`redis://user:secret@host:6379/0` -> `redis://user:***@host:6379/0`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable>"
    if parts.password is None and "@" not in parts.netloc:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{user}:***@{host}" if user or parts.password is not None else f"***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def describe_backend(settings: Settings) -> str:
    try:
        kind = backend_kind(settings)
    except InvalidInputError:
        return redact_url(settings.cache_backend)
    if kind == "redis":
        return redact_url(settings.cache_backend.strip())
    return str(settings.cache_path)


def open_backend(settings: Settings) -> Any:
    if backend_kind(settings) == "redis":
        return open_redis_backend(settings)
    return open_sqlite_backend(settings)


def open_redis_backend(settings: Settings) -> Any:
    url = settings.cache_backend.strip()
    try:
        import redis
    except ImportError:
        raise InvalidInputError(
            "the redis cache backend needs the `redis` package",
            hint="pip install 'dockerhub-cli[redis]'",
        ) from None
    from requests_cache.backends.redis import RedisCache

    try:
        connection = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    except ValueError as exc:
        raise InvalidInputError(
            f"invalid cache backend URL {redact_url(url)!r}: {exc}",
            hint="e.g. redis://127.0.0.1:6379/0",
        ) from None
    return RedisCache(namespace=REDIS_NAMESPACE, connection=connection)


def _sqlite(settings: Settings) -> Any:
    from requests_cache.backends.sqlite import SQLiteCache

    return SQLiteCache(
        settings.cache_path,
        wal=True,
        busy_timeout=settings.cache_busy_timeout_ms,
        timeout=settings.cache_busy_timeout_ms / 1000,
    )


def _probe(backend: Any) -> None:
    """Touch every table's b-tree: a truncated or overwritten file fails here, not later."""
    for storage in (backend.responses, backend.redirects):
        with storage.connection() as con:
            con.execute(f"SELECT count(*) FROM {storage.table_name}").fetchone()


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    # OperationalError covers "database is locked", "disk I/O error", "unable to open": not
    # corruption, and moving the file aside would not help.
    return not isinstance(exc, sqlite3.OperationalError)


def open_sqlite_backend(settings: Settings) -> Any:
    path = settings.cache_path
    try:
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalFileError(
            f"cannot create the cache directory {settings.cache_dir}: {exc.strerror or exc}",
            hint="set DOCKERHUB_CACHE_DIR to a writable directory",
        ) from None
    backend = None
    try:
        backend = _sqlite(settings)
        _probe(backend)
        return backend
    except sqlite3.DatabaseError as exc:
        if backend is not None:
            _close(backend)
        if not _is_corruption(exc):
            raise LocalFileError(
                f"the HTTP cache {path} cannot be opened: {exc}",
                hint="check the permissions and free space of DOCKERHUB_CACHE_DIR,"
                f" or use {advice.param('no_cache')}",
            ) from None
        return recover_sqlite_backend(settings, str(exc))


def recover_sqlite_backend(settings: Settings, reason: str) -> Any:
    """Move the broken cache file (and its -wal/-shm) aside, warn, and open a fresh one."""
    moved = quarantine(settings.cache_path)
    where = f"moved it to {moved.name}" if moved else "removed it"
    log.warning(
        "the HTTP cache %s was unreadable (%s); %s and started a new one",
        settings.cache_path,
        reason,
        where,
    )
    backend = _sqlite(settings)
    _probe(backend)
    return backend


def quarantine(path: Path) -> Path | None:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}{CORRUPT_MARKER}{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}{CORRUPT_MARKER}{stamp}-{n}")
    moved: Path | None = None
    try:
        path.rename(target)
        moved = target
    except FileNotFoundError:
        pass  # another process got there first
    except OSError:
        path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm", "-journal"):
        extra = path.with_name(path.name + suffix)
        try:
            if moved is not None:
                extra.rename(target.with_name(target.name + suffix))
            else:
                extra.unlink()
        except OSError:
            pass
    return moved


def _close(backend: Any) -> None:
    try:
        backend.close()
    except Exception:  # noqa: BLE001
        pass


# -- info and clear ---------------------------------------------------------------------------


class CacheInfo(Model):
    backend: str = Field(description="'sqlite' or 'redis'")
    location: str = Field(description="File path, or the Redis URL without its password")
    size_bytes: int | None = Field(
        default=None, description="Size on disk (database + WAL); null for Redis"
    )
    entries: int = Field(description="Cached responses, fresh and expired")
    expired: int = Field(
        description="Cached responses past their lifetime (kept for stale-if-error)"
    )
    redirects: int = 0
    corrupt_files: list[str] = Field(
        default_factory=list, description="Broken cache files moved aside (safe to delete)"
    )
    results: int = Field(
        default=0, description="Saved command outputs (the result cache), fresh and expired"
    )


class CacheClearResult(Model):
    backend: str
    location: str
    removed: int = Field(description="Responses removed")
    remaining: int
    expired_only: bool = False
    corrupt_files_removed: int = 0
    results_removed: int = Field(default=0, description="Saved command outputs removed")


def _sqlite_size(path: Path) -> int:
    total = 0
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            total += p.stat().st_size
        except OSError:
            pass
    return total


def _corrupt_files(path: Path) -> list[Path]:
    if not path.parent.is_dir():
        return []
    return sorted(
        p
        for p in path.parent.glob(f"{path.name}{CORRUPT_MARKER}*")
        if not p.name.endswith(("-wal", "-shm", "-journal"))
    )


def _counts(backend: Any) -> tuple[int, int, int]:
    """(all responses, expired responses, redirects)."""
    from requests_cache.backends.sqlite import SQLiteCache

    if isinstance(backend, SQLiteCache):
        total = backend.responses.count(expired=True)
        fresh = backend.responses.count(expired=False)
        return total, total - fresh, len(backend.redirects)
    total = expired = 0
    for response in backend.responses.values():
        if response is None:
            continue
        total += 1
        if response.is_expired:
            expired += 1
    return total, expired, len(backend.redirects)


def _backend_error(settings: Settings, exc: Exception) -> NetworkError:
    return NetworkError(
        f"the HTTP cache {describe_backend(settings)} is not reachable: {exc}",
        hint="check DOCKERHUB_CACHE_BACKEND",
    )


def cache_info(settings: Settings) -> CacheInfo:
    from dockerhub_cli import result_cache

    kind = backend_kind(settings)
    backend = open_backend(settings)
    try:
        total, expired, redirects = _counts(backend)
    except Exception as exc:
        if kind == "redis":
            raise _backend_error(settings, exc) from None
        raise
    finally:
        _close(backend)
    if kind == "sqlite":
        path = settings.cache_path
        return CacheInfo(
            backend="sqlite",
            location=str(path),
            size_bytes=_sqlite_size(path),
            entries=total,
            expired=expired,
            redirects=redirects,
            corrupt_files=[p.name for p in _corrupt_files(path)],
            results=result_cache.count(settings.cache_dir),
        )
    return CacheInfo(
        backend="redis",
        location=describe_backend(settings),
        entries=total,
        expired=expired,
        redirects=redirects,
        results=result_cache.count(settings.cache_dir),
    )


def clear_cache(settings: Settings, *, expired_only: bool = False) -> CacheClearResult:
    """Empty the HTTP cache and the saved command outputs built from it (result cache)."""
    from dockerhub_cli import result_cache

    kind = backend_kind(settings)
    backend = open_backend(settings)
    try:
        before, _, _ = _counts(backend)
        if expired_only:
            backend.delete(expired=True)
        else:
            backend.clear()
        after, _, _ = _counts(backend)
    except Exception as exc:
        if kind == "redis":
            raise _backend_error(settings, exc) from None
        raise
    finally:
        _close(backend)
    removed_corrupt = 0
    if kind == "sqlite" and not expired_only:
        for p in _corrupt_files(settings.cache_path):
            for f in (p, *(p.with_name(p.name + s) for s in ("-wal", "-shm", "-journal"))):
                f.unlink(missing_ok=True)
            removed_corrupt += 1
    results_removed = result_cache.clear(settings.cache_dir, expired_only=expired_only)
    return CacheClearResult(
        backend=kind,
        location=describe_backend(settings),
        removed=before - after,
        remaining=after,
        expired_only=expired_only,
        corrupt_files_removed=removed_corrupt,
        results_removed=results_removed,
    )
