"""Fresh HTTP cache hits answered without requests, urllib3, requests-cache, attrs or cattrs.

A warm run whose every lookup is a fresh cache hit needs none of the HTTP stack, whose imports
were a quarter of such a run (issue 19, goal 3). This module reads requests-cache's own SQLite
rows for those hits; everything else (a miss, an expired entry, a revalidation, a `Vary`
header, a redirect alias, a status other than 200, an unreadable row, anything odd) is a miss
here, and the transport then takes the full `CachedSession` path, importing it then.

requests-cache's key function and row format are private, so the key is never computed here.
When the full path stores or reads a response, the transport records, in a side table of the
same SQLite file (`dockerhub_warm_keys`, as private as the cache: the same file), OUR canonical
description of the request -> the key requests-cache used. The description holds the method,
the URL and its query parameters, the request headers (only `Accept` is allowed: it selects
the answer), `verify`, and the credential identity, which is always "anonymous": a request
that carries credentials (an `Authorization` header, `auth=`) is never answered here nor
recorded, so no credential, and no hash of one, is ever written. Each row also holds a
fingerprint of what else decides requests-cache's key and freshness (its version, ours, the
URL lifetimes): rows written under another fingerprint are misses.

The reader then reads requests-cache's row by that key (its `responses` table; the pickle
serializer stores plain builtins after cattrs' unstructuring, unpickled here by an unpickler
that refuses every class, so a format change is a miss, never a wrong object), checks that the
row answers this request (method, URL path, Accept), and that it is fresh exactly as
requests-cache decides (`expires` absent, or later than now). The conformance tests
(tests/unit/test_warm_cache.py) store many requests through the real `CachedSession` and fail
if this reader ever returns anything but what `CachedSession` returns, or an expired entry.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TABLE = "dockerhub_warm_keys"
# Bump when the canonical description below changes: older rows then miss.
FORMAT = 1
# requests' default `Accept` (requests.utils.default_headers), which the session sends when the
# caller names none; it is part of requests-cache's key (match_headers=["Accept"]).
DEFAULT_ACCEPT = "*/*"
# The only request header a warm lookup may carry (anything else: the full path).
_ALLOWED_HEADERS = frozenset({"accept"})
_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " canonical TEXT PRIMARY KEY, key TEXT NOT NULL, fingerprint TEXT NOT NULL)"
)


def describe(
    method: str,
    url: str,
    params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None,
    headers: Mapping[str, str] | None,
    *,
    verify: bool = True,
) -> str | None:
    """Our canonical description of a request, or None when the warm path never answers it
    (not a GET/HEAD, credentials or any header but Accept, parameters of an odd shape)."""
    verb = method.upper()
    if verb not in ("GET", "HEAD"):
        return None
    accept = DEFAULT_ACCEPT
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or name.lower() not in _ALLOWED_HEADERS:
            return None
        if not isinstance(value, str):
            return None
        accept = value
    pairs: list[list[str]] = []
    if params:
        items = params.items() if isinstance(params, Mapping) else params
        for item in items:
            try:
                key, value = item
            except (TypeError, ValueError):
                return None
            if not isinstance(key, str) or not isinstance(value, str | int):
                return None
            pairs.append([key, str(value)])
    return json.dumps(
        [FORMAT, verb, url, pairs, accept, bool(verify), "anonymous"], separators=(",", ":")
    )


def fingerprint(patterns: Mapping[Any, Any], own_version: str) -> str | None:
    """What else decides requests-cache's key and freshness for a description: its version
    (from its installed metadata, without importing it), ours, and the URL lifetimes. None
    when requests-cache's version cannot be found (the warm path is then off)."""
    version = _installed_version("requests_cache")
    if version is None:
        return None
    text = json.dumps(
        [FORMAT, version, own_version, [[str(k), repr(v)] for k, v in patterns.items()]]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _installed_version(package: str) -> str | None:
    """The version in the `*.dist-info` directory beside an installed package, found without
    importing it (importlib.metadata would import `email`)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    site = Path(spec.origin).parent.parent
    prefix = package.lower() + "-"
    try:
        names = os.listdir(site)
    except OSError:
        return None
    found = [
        n[len(prefix) : -len(".dist-info")]
        for n in names
        if n.lower().startswith(prefix) and n.endswith(".dist-info")
    ]
    return found[0] if len(found) == 1 else None


class _BuiltinsOnly(pickle.Unpickler):
    """requests-cache's pickle rows hold plain builtins; any class in one is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"a class in a cache row: {module}.{name}")


def _unpickle(blob: bytes) -> Any:
    return _BuiltinsOnly(io.BytesIO(blob)).load()


class Headers(Mapping[str, str]):
    """Response headers, looked up without regard to case (as `requests`' CaseInsensitiveDict),
    iterated in their original spelling and order."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str]) -> None:
        self._items = {k.lower(): (k, v) for k, v in items.items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __setitem__(self, name: str, value: str) -> None:
        self._items[name.lower()] = (name, value)

    def __delitem__(self, name: str) -> None:
        del self._items[name.lower()]

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class WarmReply:
    """What our code reads of a cached response (remote/ and ops/: status_code, headers,
    content, text, url, from_cache, is_expired, expires, cache_key, history, reason, close)."""

    from_cache = True
    is_expired = False

    def __init__(
        self,
        *,
        status_code: int,
        reason: str | None,
        headers: Headers,
        content: bytes,
        url: str,
        expires: datetime | None,
        cache_key: str | None,
        encoding: str | None = None,
        history: Sequence[WarmReply] = (),
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.headers = headers
        self.content = content
        self.url = url
        self.expires = expires
        self.cache_key = cache_key
        self.encoding = encoding
        self.history = list(history)

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    @property
    def text(self) -> str:
        # Only 200s are answered here; a body that is not the declared (or UTF-8) text is
        # decoded with replacement, never an exception.
        return self.content.decode(self.encoding or "utf-8", errors="replace")

    def json(self) -> Any:
        from dockerhub_cli.oci import jsonlimits

        return jsonlimits.loads(self.content)

    def close(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<WarmReply [{self.status_code}] {self.url}>"


def _reply(data: Mapping[str, Any], key: str | None) -> WarmReply | None:
    """A WarmReply from an unpickled row (or one of its history entries); None for a shape
    this reader does not know."""
    content = data.get("_content")
    if content is None:
        content = b""
    headers = data.get("headers") or {}
    if not isinstance(content, bytes) or not isinstance(headers, dict):
        return None
    if data.get("_decoded_content") is not None:
        return None
    status = data.get("status_code", 0)
    url = data.get("url")
    if not isinstance(status, int) or not isinstance(url, str):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        return None
    history: list[WarmReply] = []
    for entry in data.get("history") or ():
        item = _reply(entry, None) if isinstance(entry, dict) else None
        if item is None:
            return None
        history.append(item)
    encoding = data.get("encoding")
    return WarmReply(
        status_code=status,
        reason=data.get("reason") if isinstance(data.get("reason"), str) else None,
        headers=Headers(headers),
        content=content,
        url=url,
        expires=_expires(data.get("expires")),
        cache_key=key,
        encoding=encoding if isinstance(encoding, str) else None,
        history=history,
    )


_BAD: Any = datetime.min.replace(tzinfo=UTC)  # an unreadable expiry: always expired


def _expires(value: Any) -> Any:
    """requests-cache's `expires` (an ISO string after cattrs; naive means UTC, as its
    `add_tzinfo`), or None (never expires); _BAD for anything else."""
    if value is None:
        return None
    if not isinstance(value, str):
        return _BAD
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return _BAD
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _request_matches(data: Mapping[str, Any], method: str, url: str, accept: str) -> bool:
    """Whether the row is the answer to this request: the first request of its chain (before
    redirects) has our method and URL path, and its Accept is ours."""
    history = data.get("history") or []
    first = history[0] if history and isinstance(history[0], dict) else data
    request = first.get("request") if isinstance(first, dict) else None
    last = data.get("request")
    if not isinstance(request, dict) or not isinstance(last, dict):
        return False
    if str(request.get("method", "")).upper() != method:
        return False
    stored_url = request.get("url")
    if not isinstance(stored_url, str):
        return False
    if stored_url.partition("?")[0] != url.partition("?")[0]:  # else: the same, spelled alike
        here, there = urlsplit(url), urlsplit(stored_url)
        if (here.scheme, here.netloc.lower(), here.path) != (
            there.scheme,
            there.netloc.lower(),
            there.path,
        ):
            return False
    for candidate in (request, last):
        stored = candidate.get("headers") or {}
        if not isinstance(stored, dict):
            return False
        value = next((v for k, v in stored.items() if str(k).lower() == "accept"), None)
        if value != accept:
            return False
    return True


class WarmReader:
    """Reads fresh entries of one SQLite cache file through the side table; writes the side
    table for the full path (`record`). Every failure is a miss (the full path then opens the
    cache as usual, quarantining a corrupt file)."""

    def __init__(self, path: Path, fingerprint: str | None) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._broken = fingerprint is None
        self._table_ready = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        if self._connection is None:
            if not self.path.is_file():
                return None
            connection = sqlite3.connect(
                self.path, timeout=1.0, isolation_level=None, check_same_thread=False
            )
            # As requests-cache's own connections in WAL mode: a commit (each `record`)
            # does not wait for the disk; a crash loses at most the last rows, never the file.
            connection.execute("PRAGMA synchronous=NORMAL")
            self._connection = connection
        return self._connection

    def lookup(self, method: str, url: str, canonical: str, now: datetime) -> WarmReply | None:
        """The fresh 200 cached for `canonical`, or None (a miss: ask the full path)."""
        try:
            with self._lock:
                con = self._connect()
                if con is None:
                    return None
                row = con.execute(
                    f"SELECT key, fingerprint FROM {TABLE} WHERE canonical = ?", (canonical,)
                ).fetchone()
                if row is None or row[1] != self.fingerprint:
                    return None
                key = row[0]
                found = con.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
            if found is None or not isinstance(found[0], bytes):
                return None
            data = _unpickle(found[0])
        except (sqlite3.Error, pickle.UnpicklingError, EOFError, ValueError, TypeError):
            return None
        except Exception:  # noqa: BLE001 - an odd row is a miss, never a crash
            return None
        if not isinstance(data, dict):
            return None
        accept = json.loads(canonical)[4]
        if not _request_matches(data, method.upper(), url, accept):
            return None
        reply = _reply(data, key)
        if reply is None or reply.status_code != 200:
            return None
        if "vary" in reply.headers:
            return None
        if reply.expires is not None and not now < reply.expires:
            return None
        return reply

    def record(self, key: str, canonical: str, *, written_since: datetime | None) -> None:
        """Remember that the full path keyed `canonical` as `key` (best effort). The full
        path either read that entry from the cache (`written_since` None), or answered from
        the network, and then only an entry written since `written_since` (by that very
        request) is recorded: requests-cache skipped the write when it would not read such
        an entry back either (a URL it never caches, a `no-store` request)."""
        if self.fingerprint is None:
            return
        try:
            with self._lock:
                con = self._connect()
                if con is None:
                    return
                if written_since is not None and not self._written_since(con, key, written_since):
                    return
                if not self._table_ready:
                    con.execute(_CREATE)
                    self._table_ready = True
                row = con.execute(
                    f"SELECT key, fingerprint FROM {TABLE} WHERE canonical = ?", (canonical,)
                ).fetchone()
                if row is not None and tuple(row) == (key, self.fingerprint):
                    return
                con.execute(
                    f"INSERT OR REPLACE INTO {TABLE} (canonical, key, fingerprint)"
                    " VALUES (?, ?, ?)",
                    (canonical, key, self.fingerprint),
                )
        except sqlite3.Error:
            return

    @staticmethod
    def _written_since(con: sqlite3.Connection, key: str, since: datetime) -> bool:
        found = con.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        if found is None or not isinstance(found[0], bytes):
            return False
        try:
            data = _unpickle(found[0])
        except Exception:  # noqa: BLE001 - an unreadable row is never recorded
            return False
        created = _expires(data.get("created_at")) if isinstance(data, dict) else None
        return created is not None and created is not _BAD and created >= since

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self._table_ready = False


def utc_now() -> datetime:
    return datetime.now(UTC)
