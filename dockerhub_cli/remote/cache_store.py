"""The HTTP cache store: open it (SQLite file or shared Redis), survive corruption, report on it.

* `open_backend(settings)` picks the backend from `settings.cache_backend`: `sqlite` (default,
  `<cache_dir>/http_cache.sqlite`, WAL + busy timeout so parallel processes never see
  "database is locked") or `redis://host:port/db` (requests-cache's RedisCache, so many
  `serve-mcp` instances share one cache). Anything else is a clear usage error.
* A corrupt or truncated SQLite file is moved aside to `http_cache.sqlite.corrupt-<time>` and a
  new one is started, with a warning on stderr; never a crash.
* `cache_info()` / `clear_cache()` back `dockerhub cache info|clear`.

No secret is stored: before a response is written, `scrub_response` keeps only the harmless
request headers (Accept, User-Agent, ...) of it *and of every response in its redirect
history* (the pre-redirect request to the registry carried the Authorization header), and drops
cookies, request bodies and signed query strings. The cache directory is private (0700, files
0600), and one owned by another user or writable by group/others is refused, as ssh refuses a
loose `~/.ssh`.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from dockerhub_cli import advice, lazylog
from dockerhub_cli.errors import InvalidInputError, LocalFileError, NetworkError
from dockerhub_cli.text import redact_url

if TYPE_CHECKING:
    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.models.cache import CacheClearResult, CacheInfo

log = lazylog.getLogger("dockerhub_cli.cache")  # imports logging when needed

REDIS_SCHEMES = ("redis", "rediss", "unix")
REDIS_NAMESPACE = "dockerhub-cli"
CORRUPT_MARKER = ".corrupt-"


# -- keeping secrets out, and the directory private --------------------------------------------

# Request headers that may be stored with a cached response; everything else (Authorization,
# Cookie, Proxy-Authorization, any X-* token header) is dropped before the write.
KEPT_REQUEST_HEADERS = frozenset({"accept", "accept-encoding", "user-agent", "content-type"})
_DROPPED_RESPONSE_HEADERS = frozenset({"set-cookie", "set-cookie2", "authorization"})
_SECRET_QUERY_HINTS = ("signature", "x-amz-", "sig=", "token=", "verify=", "key=", "credential")


def _redact_query(url: str | None) -> str | None:
    """A URL without its query when the query looks like it carries a credential (presigned
    CDN links: X-Amz-Signature, token=, sig=...)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.query and any(h in parts.query.lower() for h in _SECRET_QUERY_HINTS):
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return url


def _scrub_one(response: Any) -> None:
    from requests.cookies import RequestsCookieJar
    from requests.structures import CaseInsensitiveDict

    request = getattr(response, "request", None)
    if request is not None:
        headers = request.headers or {}
        request.headers = CaseInsensitiveDict(
            {k: v for k, v in headers.items() if k.lower() in KEPT_REQUEST_HEADERS}
        )
        request.cookies = RequestsCookieJar()
        request.body = None
        request.url = _redact_query(request.url)
    response.headers = CaseInsensitiveDict(
        {k: v for k, v in response.headers.items() if k.lower() not in _DROPPED_RESPONSE_HEADERS}
    )
    if response.headers.get("Location"):  # a redirect to a presigned CDN URL
        response.headers["Location"] = _redact_query(response.headers["Location"]) or ""
    raw = getattr(response, "raw", None)
    raw_headers = getattr(raw, "headers", None)
    if raw_headers is not None:
        for name in list(raw_headers.keys()):
            if name.lower() in _DROPPED_RESPONSE_HEADERS:
                del raw_headers[name]
            elif name.lower() == "location":
                raw_headers[name] = _redact_query(raw_headers[name]) or ""
    if raw is not None and hasattr(raw, "request_url"):
        raw.request_url = _redact_query(raw.request_url)
    response.cookies = RequestsCookieJar()
    response.url = _redact_query(response.url)


def scrub_response(cached: Any) -> Any:
    """Remove everything secret from a CachedResponse and its redirect history, in place."""
    for item in (cached, *(getattr(cached, "history", None) or ())):
        _scrub_one(item)
    return cached


class _Scrubbing:
    """Mixin for a requests-cache backend: every saved response goes through `scrub_response`
    (requests-cache's own redaction covers the top-level request only, not the redirect
    history, and only a fixed list of header names)."""

    def save_response(
        self, response: Any, cache_key: str | None = None, expires: Any = None
    ) -> None:
        from requests_cache.cache_keys import redact_response
        from requests_cache.models.response import CachedResponse

        backend: Any = self
        cache_key = cache_key or backend.create_key(response.request)
        cached = CachedResponse.from_response(response, expires=expires)
        cached = redact_response(cached, backend._settings.ignored_parameters)
        backend.responses[cache_key] = scrub_response(cached)
        if response.history and not cached.revalidated:
            for r in response.history:
                backend.redirects[backend.create_key(r.request)] = cache_key


_SCRUBBING: dict[type, type] = {}


def scrubbing(backend_class: type) -> type:
    """`backend_class` with `_Scrubbing` mixed in (same name, so reports stay the same)."""
    if backend_class not in _SCRUBBING:
        _SCRUBBING[backend_class] = type(
            backend_class.__name__, (_Scrubbing, backend_class), {"__module__": __name__}
        )
    return _SCRUBBING[backend_class]


def _unsafe_dir_error(path: Path, why: str) -> InvalidInputError:
    return InvalidInputError(
        f"refusing to use the cache directory {path}: {why}",
        hint="use a directory only you can write (chmod 700), or set DOCKERHUB_CACHE_DIR",
    )


def ensure_private_dir(path: Path) -> None:
    """Create `path` 0700, or check an existing one: it must belong to this user and not be
    writable by group or others (then it is tightened to 0700). Raises InvalidInputError
    (exit 2) for an unsafe directory, LocalFileError (exit 9) when it cannot be created."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = path.stat()
    except OSError as exc:
        raise LocalFileError(
            f"cannot create the cache directory {path}: {exc.strerror or exc}",
            hint="set DOCKERHUB_CACHE_DIR to a writable directory",
        ) from None
    if not stat.S_ISDIR(info.st_mode):
        raise _unsafe_dir_error(path, "it is not a directory")
    if not hasattr(os, "geteuid"):  # Windows: no POSIX owners and modes
        return
    if info.st_uid != os.geteuid():
        raise _unsafe_dir_error(path, f"it belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o022:
        raise _unsafe_dir_error(
            path, f"it is writable by group or others (mode {stat.S_IMODE(info.st_mode):o})"
        )
    if info.st_mode & 0o077:
        try:
            path.chmod(0o700)
        except OSError:
            pass


def _private_file(path: Path) -> None:
    """Create the SQLite file (and tighten its -wal/-shm) as 0600 before SQLite opens it;
    SQLite gives its journal files the mode of the database file."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        os.close(fd)
    except OSError:
        return  # SQLite reports the real problem when it opens the file
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if stat.S_IMODE(p.lstat().st_mode) & 0o077:
                p.chmod(0o600)
        except OSError:
            pass


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
            hint="pip install 'hubscope[redis]'",
        ) from None
    from requests_cache.backends.redis import RedisCache

    try:
        connection = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    except ValueError as exc:
        raise InvalidInputError(
            f"invalid cache backend URL {redact_url(url)!r}: {exc}",
            hint="e.g. redis://127.0.0.1:6379/0",
        ) from None
    return scrubbing(RedisCache)(namespace=REDIS_NAMESPACE, connection=connection)


@contextmanager
def _bounded_write_lock(self: Any) -> Iterator[None]:
    """requests-cache's SQLiteDict._acquire_sqlite_lock (1.2, 1.3), but giving up: theirs
    retries BEGIN IMMEDIATE forever, each try waiting the busy timeout, so one `dockerhub`
    stopped mid-write (Ctrl-Z), or any process holding the write lock, hung every other one,
    `--no-cache` too. Here tries go on for the busy timeout, then the OperationalError goes up:
    at open the run goes on without the cache (`open_sqlite_backend`), later the transport
    sends that request past the cache."""
    with self._lock:
        deadline = time.monotonic() + (self.busy_timeout or 0) / 1000
        while True:
            try:
                self._connection.execute("BEGIN IMMEDIATE")
                self._active_transaction = True
                break
            except sqlite3.OperationalError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(1e-3)
        try:
            yield
            self._connection.commit()
        except sqlite3.OperationalError:
            self._connection.rollback()
        finally:
            self._active_transaction = False


def _bound_sqlite_write_locks() -> None:
    from requests_cache.backends.sqlite import SQLiteDict

    if "_acquire_sqlite_lock" not in vars(SQLiteDict):  # renamed: the lock test says so
        return
    SQLiteDict._acquire_sqlite_lock = _bounded_write_lock  # type: ignore[method-assign,assignment]


def _sqlite(settings: Settings) -> Any:
    from requests_cache.backends.sqlite import SQLiteCache

    _bound_sqlite_write_locks()
    _private_file(settings.cache_path)
    return scrubbing(SQLiteCache)(
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


def _is_locked(exc: sqlite3.DatabaseError) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _memory_sqlite() -> Any:
    from requests_cache.backends.sqlite import SQLiteCache

    return scrubbing(SQLiteCache)("http_cache", use_memory=True)


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    # OperationalError covers "database is locked", "disk I/O error", "unable to open": not
    # corruption, and moving the file aside would not help.
    return not isinstance(exc, sqlite3.OperationalError)


def open_sqlite_backend(settings: Settings) -> Any:
    path = settings.cache_path
    ensure_private_dir(settings.cache_dir)
    backend = None
    try:
        backend = _sqlite(settings)
        _probe(backend)
        return backend
    except sqlite3.DatabaseError as exc:
        if backend is not None:
            _close(backend)
        if _is_locked(exc):
            # Another process holds the write lock past the busy timeout (one stopped
            # mid-write): this run does without the cache rather than wait for it.
            log.warning(
                "the HTTP cache %s is locked by another process (waited %g s); this run "
                "does not use it",
                path,
                settings.cache_busy_timeout_ms / 1000,
            )
            return _memory_sqlite()
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
    from dockerhub_cli.models.cache import CacheInfo

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
    from dockerhub_cli.models.cache import CacheClearResult

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
