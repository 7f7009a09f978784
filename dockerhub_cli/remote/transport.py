"""The transport every request goes through: the cache, deadlines, byte caps, accounting.

`Transport.request` answers a fresh cache hit through the warm reader (remote/warm_cache.py)
without importing requests, urllib3 or requests-cache; everything else goes through the one
CachedSession (remote/http_stack.py: requests-cache on SQLite, urllib3 retries, per-host rate
limiting), which is built on first use. `Transport.request` is the only place that turns
`requests` exceptions into our error tree.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from dockerhub_cli import __version__, advice, lazylog
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import (
    DockerHubError,
    NetworkError,
    OfflineCacheMissError,
    RateLimitedError,
    UpstreamError,
)
from dockerhub_cli.remote import warm_cache
from dockerhub_cli.remote.cost import CostCounter, Meter
from dockerhub_cli.remote.ratelimit import HostRateLimiter
from dockerhub_cli.remote.warm_cache import WarmReader

# requests-cache's expiration constants (policy/expiration.py), here so that the URL lifetimes
# (part of the warm reader's fingerprint, remote/warm_cache.py) need no import of it; a test
# checks they are still requests-cache's values.
NEVER_EXPIRE = -1
DO_NOT_CACHE = 0x0D0E0200020704


if TYPE_CHECKING:
    import requests
    from requests_cache import CachedSession

    from dockerhub_cli.remote.circuit import CircuitBreaker

log = lazylog.getLogger("dockerhub_cli.http")  # imports logging when needed
_T = TypeVar("_T")

USER_AGENT = f"hubscope/{__version__} (+python-requests)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Answers after which an expired cache entry is better than nothing (stale-if-error).
STALE_STATUSES = frozenset({429, 500, 502, 503, 504})
# A request Cache-Control directive: "an expired entry of any age will do if the network fails".
_STALE_DIRECTIVE = "stale-if-error=315360000"


def _body_errors() -> tuple[type[Exception], ...]:
    """The body broke off after the headers arrived (truncated Content-Length, reset
    mid-body). A function: requests is imported only once a request goes to the network."""
    import requests

    return (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


def expiry_patterns(settings: Settings) -> dict[str | Any, Any]:
    """URL globs (matched without the scheme, first match wins) -> cache lifetime.

    Content addressed by digest is immutable and kept forever; listings and tag lookups age out.
    Anything not listed (token endpoints, redirect targets, `/v2/` probes) is never cached.
    """
    ttl = settings.ttls
    return {
        "*/v2/*/manifests/sha256:*": NEVER_EXPIRE,
        "*/v2/*/manifests/sha512:*": NEVER_EXPIRE,
        "*/v2/*/blobs/sha256:*": NEVER_EXPIRE,
        "*/v2/*/blobs/sha512:*": NEVER_EXPIRE,
        "*/v2/*/manifests/*": ttl["manifest_by_tag"],
        "*/v2/*/tags/list*": ttl["tags"],
        # OCI 1.1 referrers: a listing that grows when something is attached (like tags).
        "*/v2/*/referrers/*": ttl["tags"],
        "*/v2/search/repositories*": ttl["search"],
        "*/v2/namespaces/*/repositories/*/tags*": ttl["tags"],
        "*/v2/repositories/*/tags*": ttl["tags"],
        "*/v2/namespaces/*/repositories/*": ttl["repository"],
        "*/v2/namespaces/*/repositories": ttl["repository"],  # a namespace's list (?page=...)
        "*/api/search/v4": ttl["search"],  # the site's search (`search` with filters)
        "*/v2/repositories/*": ttl["repository"],
        # OSV (`vulns`): advisory details by id, and the querybatch POST, whose cache key
        # includes the JSON body (the set of package URLs asked about).
        "*/v1/vulns/*": ttl.get("osv_vuln", 86_400),
        "*/v1/querybatch": ttl.get("osv_query", 3_600),
    }


# -- the per-request budget: a wall-clock deadline and a byte cap -----------------------------

# Caps per kind of body (the whole body, chunked or not, counted after decompression).
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # the distribution spec: manifests and indexes
MAX_CONFIG_BYTES = 8 * 1024 * 1024  # image configs (history, labels, env)
MAX_TOKEN_REPLY_BYTES = 1024 * 1024  # token server and login replies
MAX_TOKEN_CHARS = 64 * 1024  # the token itself, replayed as a header on every request
MAX_PAGE_BYTES = 8 * 1024 * 1024  # a tags/list page, a Hub API page, an OSV reply
# Nothing this tool reads (attestations and SBOMs are the largest) comes near this; a larger
# body is cut off while streaming, so a hostile server cannot exhaust memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_READ_CHUNK = 64 * 1024
# A body whose last bytes are already arriving when the deadline passes is still taken, for
# at most this long; a server that stalls or drips is cut off.
_DEADLINE_GRACE = 1.0
# A streamed body (a layer blob: gigabytes, `Transport.request(stream=True)`) has no
# whole-body deadline, since it may rightly take longer than DOCKERHUB_TIMEOUT; it must keep
# arriving instead: every window of DOCKERHUB_TIMEOUT seconds brings at least this much (or
# the rest of the body), else it is cut off at the end of that window. A stall or a drip ends
# within one window; a body trickling in just above the rate (35 kB/s at the default 30 s)
# is still read to its cap.
STREAM_MIN_BYTES = 1024 * 1024
# The body of a redirect or an error answering a streamed request (read, for the message).
MAX_ERROR_BODY_BYTES = 1024 * 1024


@dataclass
class Budget:
    """What one `Transport.request` may cost: it ends by `deadline` (wall clock, covering
    connect, every redirect and retry, and the body), and reads at most `max_bytes` of body."""

    started: float
    deadline: float
    max_bytes: int
    what: str = ""
    clock: Callable[[], float] = time.monotonic
    stream: bool = False  # the caller reads a 2xx body itself, through a StreamedBody
    kind: str = ""  # what is asked for (`remote/cost.py`: manifest_get, blob, token...)

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started


_budgets = threading.local()


def current_budget() -> Budget | None:
    """The budget of the request running on this thread (None outside `Transport.request`)."""
    return getattr(_budgets, "current", None)


class DeadlineExceededError(NetworkError):
    """A request ran past its wall-clock deadline (DOCKERHUB_TIMEOUT)."""


def _deadline_error(host: str, budget: Budget, limit: float) -> DeadlineExceededError:
    what = f" for {budget.what}" if budget.what else ""
    return DeadlineExceededError(
        f"{host} did not finish answering{what} within {limit:g} s "
        f"(gave up after {budget.elapsed():.1f} s)",
        hint="try again, or raise DOCKERHUB_TIMEOUT",
    )


def connect_failure(error: BaseException | None) -> str | None:
    """What kind of failure to connect `error` is: "dns" (the host name does not resolve),
    "refused" (nothing listens on the port), or None (any other error, or none)."""
    if error is None:
        return None
    import socket  # here: a run that connects nowhere never imports it (a failure has it loaded)

    from urllib3.exceptions import NameResolutionError, NewConnectionError

    if isinstance(error, NameResolutionError) or _caused_by(error, socket.gaierror):
        return "dns"
    if isinstance(error, NewConnectionError) and _caused_by(error, ConnectionRefusedError):
        return "refused"
    return None


# A refused connection is tried again this many times (a registry restarting), at once:
# urllib3 sleeps nothing before the first retry of a run of errors.
REFUSED_RETRIES = 1


def retry_connect_failure(error: BaseException, history: Sequence[Any]) -> bool:
    """Whether a failed connection is worth another attempt. A name that does not resolve
    will not resolve a second later (no DNS answer, or no such host): never. A refused
    connection: REFUSED_RETRIES times. Anything else (timeouts, resets, 429/5xx): the
    ordinary retry budget decides."""
    kind = connect_failure(error)
    if kind == "dns":
        return False
    if kind == "refused":
        earlier = sum(1 for h in history if connect_failure(getattr(h, "error", None)) == kind)
        return earlier < REFUSED_RETRIES
    return True


def _redact_url(url: str) -> str:
    """Drop the query of URLs that may carry secrets (presigned CDN links, tokens)."""
    parts = urlsplit(url)
    if any(k in parts.query.lower() for k in ("signature", "token", "verify=", "x-amz")):
        return f"{parts.scheme}://{parts.netloc}{parts.path}?<redacted>"
    return url


# A walk over pages (registry `Link` paging, Hub `next`) ends after this much wall-clock time
# as well as after its page bound; what it collected so far is returned with complete=false.
MAX_WALK_SECONDS = 120.0


@dataclass
class PageWalk:
    """The rules every page walk follows: a page URL seen before ends the walk (a loop), a
    next page on another host is not followed, and the walk has a time and a page bound.
    `stopped` says why a walk ended early (None: it reached the last page)."""

    what: str
    max_pages: int
    clock: Callable[[], float] = time.monotonic
    max_seconds: float = MAX_WALK_SECONDS
    started: float = field(default=-1.0)
    pages: int = 0
    stopped: str | None = None
    _seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def saw(self, url: str | None) -> None:
        """Record a page URL that was fetched (the first page's, as the server resolved it)."""
        self.pages += 1
        if url:
            self._seen.add(_canonical(url))

    def follow(self, next_url: str | None, current: str) -> bool:
        """Whether to fetch `next_url` (already resolved against `current`); when not, and it
        is not simply the end, `stopped` says why and a warning is logged."""
        if not next_url:
            return False
        here, there = urlsplit(current), urlsplit(next_url)
        if there.scheme not in ("http", "https") or there.netloc != here.netloc:
            return self._stop(
                f"the next page of {self.what} is on another host ({there.netloc or next_url!r});"
                " not followed, the listing is incomplete"
            )
        if here.scheme == "https" and there.scheme != "https":
            return self._stop(f"the next page of {self.what} is plain HTTP; not followed")
        if _canonical(next_url) in self._seen:
            return self._stop(
                f"the next page of {self.what} is a page already read (a paging loop);"
                " stopped, the listing may be incomplete"
            )
        if self.pages >= self.max_pages:
            return self._stop(f"stopped after {self.pages} pages of {self.what}", warn=False)
        if self.clock() - self.started > self.max_seconds:
            return self._stop(
                f"stopped after {self.max_seconds:g} s and {self.pages} pages of {self.what}"
            )
        return True

    def _stop(self, reason: str, *, warn: bool = True) -> bool:
        self.stopped = reason
        if warn:
            log.warning("%s", reason)
        return False


def _canonical(url: str) -> str:
    """A page URL for loop detection: the query parameters in a stable order."""
    from urllib.parse import parse_qsl, urlencode

    parts = urlsplit(url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path or '/'}?{query}"


@dataclass
class CallStats:
    """What the transport did during one service call (see `Transport.tracking`)."""

    network_requests: int = 0
    cache_hits: int = 0
    stale: int = 0
    stale_urls: list[str] = field(default_factory=list)
    # Requests by kind, pulls, bytes, cache hits (`remote/cost.py`; `cost.to_model()`).
    cost: CostCounter = field(default_factory=CostCounter)
    # As `Transport.reusable` / `reuse_until`, for this call only (the MCP result store).
    reusable: bool = True
    reuse_until: float | None = None


class Transport:
    """Sends requests through the shared session and maps every failure to our errors.

    Also implements `--offline` (answer only from the cache), stale-if-error (an expired cache
    entry, with a warning, when the network fails), recovery from a broken cache, and counts
    what it did, so that tests and `--debug` can prove a warm call made zero network requests.
    """

    def __init__(
        self,
        settings: Settings,
        session: CachedSession | None,
        limiter: HostRateLimiter,
        breaker: CircuitBreaker | None = None,
        *,
        session_factory: Callable[[], CachedSession] | None = None,
    ):
        """`session` is the CachedSession, or None with `session_factory`, which builds it
        on first use: a warm run answered from the cache by the warm reader
        (remote/warm_cache.py) never imports requests, urllib3 or requests-cache."""
        if session is None and session_factory is None:
            raise ValueError("a session or a session_factory is needed")
        self.settings = settings
        self._session = session
        self._session_factory = session_factory
        self._session_lock = threading.Lock()
        self.limiter = limiter
        self.breaker = breaker
        self.network_requests = 0
        self.cache_hits = 0
        self.stale_served = 0
        # For the result cache (result_cache.py): whether every response the caller used is a
        # fresh HTTP cache entry, and the earliest expiry among them (unix time; None: never).
        self.reusable = True
        self.reuse_until: float | None = None
        self._local = threading.local()
        self._cache_lock = threading.Lock()
        self._count_lock = threading.Lock()  # counters are bumped from worker threads too
        self._cache_bypass_warned = False
        # The clock of the per-request deadline (tests inject a fake one).
        self.clock: Callable[[], float] = time.monotonic
        # What requests cost (`remote/cost.py`), for the process and each tracking block.
        self.meter = Meter(settings, scopes=lambda: [s.cost for s in self._each_stats()])
        self._warm: WarmReader | None = None
        self._warm_ready = False
        if session is not None:
            self._attach(session)

    @property
    def session(self) -> CachedSession:
        """The CachedSession, built on first use when a factory was given."""
        session = self._session
        if session is None:
            with self._session_lock:
                session = self._session
                if session is None:
                    assert self._session_factory is not None
                    session = self._session_factory()
                    self._attach(session)
                    self._session = session
        return session

    @session.setter
    def session(self, session: CachedSession) -> None:
        self._session = session
        self._attach(session)

    @property
    def session_built(self) -> bool:
        """Whether the CachedSession exists yet (a warm run may never build it)."""
        return self._session is not None

    def _attach(self, session: CachedSession) -> None:
        for adapter in session.adapters.values():
            if hasattr(adapter, "meter"):  # http_stack.MeteredAdapter
                adapter.meter = self.meter

    def _cache_disabled(self) -> bool:
        """requests-cache's own switch (`session.settings.disabled`); a session not built yet
        is not disabled (this code never disables it at build)."""
        session = self._session
        return session is not None and bool(session.settings.disabled)

    # -- the warm reader (remote/warm_cache.py) ----------------------------------------------

    def _warm_reader(self) -> WarmReader | None:
        """The reader of this process's SQLite cache, or None when the warm path is off
        (another backend, --no-cache, a disabled cache)."""
        if not self._warm_ready:
            with self._session_lock:
                if not self._warm_ready:
                    self._warm = self._open_warm_reader()
                    self._warm_ready = True
        if self._cache_disabled():
            return None
        return self._warm

    def close_warm_reader(self) -> None:
        if self._warm is not None:
            self._warm.close()

    def _open_warm_reader(self) -> WarmReader | None:
        from dockerhub_cli.remote import cache_store

        settings = self.settings
        if settings.no_cache:
            return None
        try:
            if cache_store.backend_kind(settings) != "sqlite":
                return None
        except DockerHubError:
            return None
        # The same check of the cache directory as opening the backend (an unsafe one is
        # refused, exit 2), before anything in it is read.
        cache_store.ensure_private_dir(settings.cache_dir)
        fingerprint = warm_cache.fingerprint(expiry_patterns(settings), __version__)
        return warm_cache.WarmReader(settings.cache_path, fingerprint)

    def _warm_lookup(self, method: str, url: str, canonical: str | None) -> Any:
        reader = self._warm_reader() if canonical is not None else None
        if reader is None or canonical is None:
            return None
        return reader.lookup(method, url, canonical, warm_cache.utc_now())

    def _warm_record(self, canonical: str | None, response: Any, started: Any = None) -> None:
        """After the full path answered: remember requests-cache's key for `canonical`, when
        it read the entry from the cache, or wrote the answer during this request (`started`:
        the wall-clock time the request began)."""
        if canonical is None or response.status_code != 200:
            return
        key = getattr(response, "cache_key", None)
        reader = self._warm_reader()
        if not key or reader is None:
            return
        from_cache = bool(getattr(response, "from_cache", False))
        reader.record(str(key), canonical, written_since=None if from_cache else started)

    # -- per-call accounting ----------------------------------------------------------------

    @contextmanager
    def tracking(self, *, max_pulls: int | None = None) -> Iterator[CallStats]:
        """Count what happens on this thread inside the block (nested blocks all count).

        The service wraps each public call in one, and sets `stale=True` on its result when
        `stats.stale` is non-zero. `stats.cost` is what the block cost; `max_pulls` limits the
        Docker Hub pulls spent inside it (the MCP server's per-call `--max-pulls`).
        """
        stack: list[CallStats] = self._local.__dict__.setdefault("stack", [])
        stats = CallStats()
        stats.cost.max_pulls = max_pulls
        stack.append(stats)
        try:
            yield stats
        finally:
            stack.remove(stats)

    def _each_stats(self) -> list[CallStats]:
        return list(self._local.__dict__.get("stack", ()))

    def carry_tracking(self, fn: Callable[..., _T]) -> Callable[..., _T]:
        """Wrap `fn` so that, run on a worker thread (a thread pool inside a service call),
        its requests count in the tracking blocks open on *this* thread: a result fetched in
        parallel is still marked stale when one of its responses was."""
        parents = self._each_stats()

        def run(*args: Any, **kwargs: Any) -> _T:
            stack: list[CallStats] = self._local.__dict__.setdefault("stack", [])
            stack.extend(parents)
            try:
                return fn(*args, **kwargs)
            finally:
                for stats in parents:
                    stack.remove(stats)

        return run

    # -- the request ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        data: Any = None,
        auth: Any = None,
        cacheable: bool = True,
        cache_only: bool = False,
        verify: bool = True,
        allow_redirects: bool = True,
        stream: bool = False,
        what: str = "",
        max_bytes: int = MAX_RESPONSE_BYTES,
        kind: str = "",
        refresh: bool = False,
    ) -> requests.Response:
        """Send one request. `what` names the thing asked for, for error messages; `kind` is
        its kind for the cost counters (default: from the method and URL, `remote/cost.py`).

        `cacheable=False` never reads or writes the cache (tokens, logins); `cache_only=True`
        answers from the cache or with a 504 response, never from the network; `refresh=True`
        does not read the cache (as `--no-cache`) but stores the answer. The request
        (redirects and retries included) ends within DOCKERHUB_TIMEOUT seconds of wall-clock
        time, and reads at most `max_bytes` of body (the cap for its kind).

        `stream=True` (only with `cacheable=False`: layer blobs) leaves a 2xx body unread: the
        response's `raw` is a `StreamedBody` the caller reads (at most `max_bytes`, which the
        caller gives: the blob's size) and closes. The deadline then covers everything up to
        the headers; the body must keep arriving (see `StreamedBody`).
        """
        if stream and cacheable:
            raise ValueError("a streamed response is never cached: pass cacheable=False")
        now = self.clock()
        kind = kind or self.meter.kind(method, url)
        budget = Budget(
            now, now + self.settings.timeout, max_bytes, what, self.clock, stream=stream, kind=kind
        )
        outer = current_budget()
        _budgets.current = budget
        try:
            return self._request(
                method,
                url,
                headers=headers,
                params=params,
                json=json,
                data=data,
                auth=auth,
                cacheable=cacheable,
                cache_only=cache_only,
                verify=verify,
                allow_redirects=allow_redirects,
                stream=stream,
                what=what,
                refresh=refresh,
            )
        finally:
            _budgets.current = outer

    def _request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        params: Mapping[str, Any] | Sequence[tuple[str, str]] | None,
        json: Any,
        data: Any,
        auth: Any,
        cacheable: bool,
        cache_only: bool,
        verify: bool,
        allow_redirects: bool,
        stream: bool,
        what: str,
        refresh: bool = False,
    ) -> requests.Response:
        kwargs: dict[str, Any] = {
            "headers": dict(headers or {}),
            "params": params,
            "json": json,
            "data": data,
            "auth": auth,
            "allow_redirects": allow_redirects,
        }
        if stream:
            kwargs["stream"] = True
        if not verify:
            # The user asked for this host to be insecure: say so once, not on every request.
            import warnings

            from urllib3.exceptions import InsecureRequestWarning

            kwargs["verify"] = False
            warnings.simplefilter("ignore", InsecureRequestWarning)
        if not cacheable:
            _never_cache(kwargs)
        elif self.settings.no_cache or refresh:
            kwargs["force_refresh"] = True
        if self.settings.offline:
            if not cacheable:
                raise OfflineCacheMissError(
                    f"{advice.param('offline')}: {what or url} needs the network "
                    "(credentials or token exchange)",
                    hint=f"run once without {advice.param('offline')} to fill the cache",
                )
            kwargs["only_if_cached"] = True
            if self.settings.stale_if_error:
                kwargs["headers"]["Cache-Control"] = _STALE_DIRECTIVE
        elif cache_only:
            kwargs["only_if_cached"] = True
        host = urlsplit(url).netloc
        started = time.monotonic()
        idempotent = method.upper() in ("GET", "HEAD")
        attempts = 2 if idempotent else 1
        response: requests.Response | None = None
        canonical = (
            warm_cache.describe(method, url, params, headers, verify=verify)
            if cacheable
            and not (stream or refresh or json is not None or data is not None)
            and auth is None
            and allow_redirects
            and not kwargs.get("force_refresh")
            else None
        )
        warm = self._warm_lookup(method, url, canonical)
        if warm is not None:
            response = warm
            attempts = 0  # a fresh cache entry: nothing is sent
        wall_started = warm_cache.utc_now() if canonical is not None and warm is None else None
        for attempt in range(1, attempts + 1):
            try:
                response = self._send_recovering_cache(method, url, kwargs)
                break
            except _body_errors() as exc:
                if attempt < attempts:
                    log.debug(
                        "%s %s: body cut off (%s); trying once more",
                        method,
                        _redact_url(url),
                        _short_reason(exc),
                    )
                    continue
                error = UpstreamError(
                    f"the reply from {host} for {what or 'the request'} was cut off "
                    f"({_short_reason(exc)})",
                    hint="the connection broke mid-transfer; try again",
                )
                return self._stale_or_raise(method, url, kwargs, error)
            except (NetworkError, UpstreamError) as exc:
                if isinstance(exc, OfflineCacheMissError) or cache_only:
                    if not cache_only:
                        self._not_reusable()
                    raise
                return self._stale_or_raise(method, url, kwargs, exc)
        assert response is not None
        if warm is None:
            self._warm_record(canonical, response, wall_started)

        # requests-cache answers an `only_if_cached` miss with a synthetic 504 "Not Cached".
        cache_miss = _is_cache_miss(response, kwargs)
        from_cache = bool(getattr(response, "from_cache", False)) and not cache_miss
        kind = _current_kind(method, url, self.meter)
        if from_cache:
            self.meter.cached(kind)
        elif cacheable and not cache_miss:
            self.meter.missed(kind)
        with self._count_lock:
            if from_cache:
                self.cache_hits += 1
            elif not cache_miss:
                self.network_requests += 1
            for stats in self._each_stats():
                if from_cache:
                    stats.cache_hits += 1
                elif not cache_miss:
                    stats.network_requests += 1
        if cacheable and not cache_miss:
            self._note_reuse(response, from_cache, cache_only)
        if self.settings.offline and cache_miss:
            raise OfflineCacheMissError(
                f"{advice.param('offline')}: {what or url} is not in the cache",
                hint=f"run the same command once without {advice.param('offline')}",
            )
        if from_cache and self.settings.offline and getattr(response, "is_expired", False):
            self._note_stale(response, url, "--offline")
        elif (
            not from_cache
            and not cache_only
            and response.status_code in STALE_STATUSES
            and cacheable
        ):
            stale = self._stale(method, url, kwargs, f"HTTP {response.status_code}")
            if stale is not None:
                return stale
        log.debug(
            "%s %s -> %s (%s, %.0f ms)",
            method,
            _redact_url(url),
            response.status_code,
            "cache" if from_cache else "network",
            (time.monotonic() - started) * 1000,
        )
        return response

    def _note_reuse(self, response: requests.Response, from_cache: bool, cache_only: bool) -> None:
        """Track how long an answer built from the responses returned so far stays true.

        Requests that never touch the cache (`cacheable=False`: tokens, logins) carry no data
        of the answer. A cache-only lookup that found an expired entry is only a probe (the
        caller asks again). Anything else that is not a fresh cache entry (an expired one, or
        a network answer the cache did not store, such as a 404) makes the answer unsavable.
        """
        expired = bool(getattr(response, "is_expired", False))
        if cache_only and (expired or not from_cache):
            return
        stored = from_cache or getattr(response, "cache_key", None) is not None
        expires = getattr(response, "expires", None)
        if not from_cache and response.status_code == 404 and not self._cache_disabled():
            # "Not on Docker Hub", "no such tag": an answer too (often printed as a warning).
            # It is not in the HTTP cache (only 200s are), but a saved result built on it
            # may be replayed for as long as a repository's facts are trusted.
            # As long as the Hub's 404s are kept in the HTTP cache (remote/hub.py).
            ttl = max(1, int(self.settings.ttls.get("not_found", 300)))
            self._reuse_until(time.time() + ttl)
            return
        if expired or not stored or self._cache_disabled():
            self._not_reusable()
            return
        if expires is not None:
            self._reuse_until(expires.timestamp() if expires.tzinfo else _utc_stamp(expires))

    def _reuse_until(self, stamp: float) -> None:
        """An answer built from what was returned so far is true until `stamp` at most."""
        with self._count_lock:
            if self.reuse_until is None or stamp < self.reuse_until:
                self.reuse_until = stamp
            for stats in self._each_stats():
                if stats.reuse_until is None or stamp < stats.reuse_until:
                    stats.reuse_until = stamp

    def forget(self, response: requests.Response) -> None:
        """Drop a cached answer we found unusable (e.g. a 200 whose body is not JSON), so the
        next call asks the server again instead of failing on the same bytes until it expires."""
        key = getattr(response, "cache_key", None)
        if not key:
            return
        try:
            self.session.cache.delete(key)
        except Exception as exc:  # noqa: BLE001 - best effort
            log.debug("could not drop cache entry: %s", exc)

    # -- looking at and writing cache entries directly (request economy, see registry.py)

    def _key(self, method: str, url: str, headers: Mapping[str, str]) -> str:
        """The cache key `session.request(method, url, headers=headers)` would use (the
        request is prepared through the session, so the matched Accept header is the same)."""
        import requests

        prepared = self.session.prepare_request(
            requests.Request(method, url, headers=dict(headers))
        )
        return str(self.session.cache.create_key(prepared))

    def peek(self, method: str, url: str, headers: Mapping[str, str]) -> tuple[str, Any] | None:
        """(key, cached response) for this request, fresh or expired, without any network
        request; None when it is not cached or the cache is off or unreadable."""
        if self._cache_disabled() or self.settings.no_cache:
            return None
        # `_key` prepares without `verify`, which requests-cache then takes as True.
        canonical = warm_cache.describe(method, url, None, headers, verify=True)
        warm = self._warm_lookup(method, url, canonical)
        if warm is not None:
            return str(warm.cache_key), warm
        try:
            key = self._key(method, url, headers)
            cached = self.session.cache.get_response(key)
        except Exception as exc:  # noqa: BLE001 - a broken cache is a miss here
            log.debug("cache lookup failed: %s", exc)
            return None
        if cached is None:
            return None
        if canonical is not None and not getattr(cached, "is_expired", True):
            reader = self._warm_reader()
            if reader is not None:
                reader.record(key, canonical, written_since=None)
        return key, cached

    def store_as(
        self, response: requests.Response, method: str, url: str, headers: Mapping[str, str]
    ) -> None:
        """Also cache `response` as the answer to another request, for good (use it only
        for content addressed by digest, which never changes)."""
        if self.session.settings.disabled:
            return
        try:
            self.session.cache.save_response(response, cache_key=self._key(method, url, headers))
        except Exception as exc:  # noqa: BLE001 - best effort: the next call pays one request
            log.debug("could not store a copy in the cache: %s", exc)

    def remember(self, response: requests.Response, seconds: int) -> None:
        """Cache an answer the session does not store (only 200s are), such as a 404, under
        the key of the request that got it, for `seconds`; a fresh entry is then answered like
        any other (`--offline` included), an expired one asked again."""
        if seconds <= 0 or self.session.settings.disabled:
            return
        first = response.history[0] if response.history else response
        try:
            key = str(self.session.cache.create_key(first.request))
        except Exception as exc:  # noqa: BLE001 - best effort: the next call asks again
            log.debug("could not key a cache entry: %s", exc)
            return
        self.renew(key, response, seconds)

    def renew(self, key: str, cached: Any, seconds: int) -> None:
        """Give an expired entry a new lifetime after the server confirmed it is current."""
        if seconds <= 0:
            return
        from datetime import UTC, datetime, timedelta

        try:
            self.session.cache.save_response(
                cached, cache_key=key, expires=datetime.now(UTC) + timedelta(seconds=seconds)
            )
        except Exception as exc:  # noqa: BLE001 - best effort: the next call revalidates again
            log.debug("could not renew a cache entry: %s", exc)

    # -- stale-if-error ---------------------------------------------------------------------

    def _stale(
        self, method: str, url: str, kwargs: dict[str, Any], reason: str
    ) -> requests.Response | None:
        """An expired cache entry for this request, if stale-if-error allows one."""
        if (
            not self.settings.stale_if_error
            or self.session.settings.disabled
            or self.settings.no_cache
            or method.upper() not in ("GET", "HEAD")
            or kwargs.get("expire_after") == DO_NOT_CACHE
        ):
            return None
        lookup = dict(kwargs)
        lookup["headers"] = {**kwargs["headers"], "Cache-Control": _STALE_DIRECTIVE}
        lookup["only_if_cached"] = True
        try:
            cached = self.session.request(method, url, **lookup)
        except Exception as exc:  # noqa: BLE001 - the cache itself failing: no stale answer
            log.debug("stale lookup failed: %s", exc)
            return None
        if not getattr(cached, "from_cache", False) or _is_cache_miss(cached, lookup):
            return None
        self.meter.cached(_current_kind(method, url, self.meter))
        with self._count_lock:
            self.cache_hits += 1
        self._note_stale(cached, url, reason)
        return cached

    def _note_stale(self, response: requests.Response, url: str, reason: str) -> None:
        self.meter.stale(_current_kind("GET", url, self.meter))
        with self._count_lock:
            self.reusable = False  # an answer with out-of-date data is never replayed
            self.stale_served += 1
            for stats in self._each_stats():
                stats.stale += 1
                stats.stale_urls.append(_redact_url(url))
        expires = getattr(response, "expires", None)
        age = ""
        if expires is not None:
            from datetime import UTC, datetime

            seconds = datetime.now(UTC) - expires.replace(tzinfo=expires.tzinfo or UTC)
            age = f" (expired {_human_seconds(seconds.total_seconds())} ago)"
        host = urlsplit(url).netloc
        log.warning(
            "%s: %s; showing cached data that may be out of date%s",
            host,
            reason,
            age,
        )

    def _stale_or_raise(
        self, method: str, url: str, kwargs: dict[str, Any], error: DockerHubError
    ) -> requests.Response:
        stale = self._stale(method, url, kwargs, error.message)
        if stale is None:
            self._not_reusable()  # an answer that says "unavailable: <network error>"
            raise error
        return stale

    def _not_reusable(self) -> None:
        with self._count_lock:
            self.reusable = False
            for stats in self._each_stats():
                stats.reusable = False

    def note_not_reusable(self) -> None:
        """The answer says something a replay would misstate (e.g. `files` reporting the
        layers it just downloaded): the result cache must not save it."""
        self._not_reusable()

    # -- the cache can fail too -------------------------------------------------------------

    def _send_recovering_cache(
        self, method: str, url: str, kwargs: dict[str, Any]
    ) -> requests.Response:
        """Send; a corrupt SQLite file is moved aside and rebuilt, a busy or unreachable cache
        is bypassed for this request (with one warning), never a crash."""
        cache = self.session.cache
        try:
            return self._send(method, url, kwargs)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                return self._send_bypassing_cache(method, url, kwargs, f"SQLite: {exc}")
            self._rebuild_cache(exc, broken=cache)
            try:
                return self._send(method, url, kwargs)
            except sqlite3.DatabaseError as again:
                return self._send_bypassing_cache(method, url, kwargs, f"SQLite: {again}")
        except Exception as exc:
            if _is_cache_backend_error(exc):
                return self._send_bypassing_cache(method, url, kwargs, _short_reason(exc))
            raise

    def _send_bypassing_cache(
        self, method: str, url: str, kwargs: dict[str, Any], reason: str
    ) -> requests.Response:
        if kwargs.get("only_if_cached"):
            raise OfflineCacheMissError(
                f"the HTTP cache ({self.describe_cache()}) cannot be read: {reason}",
                hint=f"run {advice.command('cache info')}, or {advice.command('cache clear')}",
            )
        if not self._cache_bypass_warned:
            self._cache_bypass_warned = True
            log.warning(
                "the HTTP cache (%s) is not usable right now (%s); going to the network directly",
                self.describe_cache(),
                reason,
            )
        uncached = dict(kwargs)
        _never_cache(uncached)
        return self._send(method, url, uncached)

    def _rebuild_cache(self, exc: Exception, *, broken: Any) -> None:
        """Replace the `broken` cache backend with a fresh one, once: threads that failed on
        the same backend while another was rebuilding it use the new one as it is."""
        from dockerhub_cli.remote.cache_store import recover_sqlite_backend

        with self._cache_lock:
            old = self.session.cache
            if old is not broken:
                return
            try:
                old.close()  # type: ignore[no-untyped-call]
            except Exception:  # noqa: BLE001
                pass
            new = recover_sqlite_backend(self.settings, str(exc))
            new._settings = old._settings
            self.session.cache = new
            if self._warm is not None:
                self._warm.close()  # it reads the file that was moved aside

    def describe_cache(self) -> str:
        from dockerhub_cli.remote.cache_store import describe_backend

        return describe_backend(self.settings)

    def _timeout_error(self, host: str) -> NetworkError:
        budget = current_budget()
        if budget is None:
            return NetworkError(
                f"{host} did not answer within {self.settings.timeout:g} s",
                hint="try again, or raise DOCKERHUB_TIMEOUT",
            )
        return _deadline_error(host, budget, self.settings.timeout)

    def _send(self, method: str, url: str, kwargs: dict[str, Any]) -> requests.Response:
        """One `session.request`, with requests' exceptions mapped to ours."""
        session = self.session  # built here on first use: requests is imported by now
        import requests
        from ratelimit import RateLimitException
        from urllib3.exceptions import ReadTimeoutError

        host = urlsplit(url).netloc
        try:
            return session.request(method, url, **kwargs)
        except DockerHubError:
            raise
        except _body_errors():
            raise
        except requests.exceptions.RetryError:
            raise UpstreamError(
                f"{host} kept failing after {self.settings.retries} retries", hint="try again later"
            ) from None
        except requests.exceptions.SSLError:
            raise NetworkError(
                f"TLS verification failed for {host}",
                hint=f"if you trust it, add {host} to DOCKERHUB_INSECURE_REGISTRIES "
                f"or use {advice.param('insecure')}",
            ) from None
        except requests.exceptions.ConnectTimeout as exc:
            if _caused_by(exc, ResolveTimeout):
                raise NetworkError(
                    f"cannot connect to {host}: {_resolve_timeout(exc)}", hint=_DNS_HINT
                ) from None
            raise NetworkError(
                f"timed out connecting to {host}", hint="check the network or the registry URL"
            ) from None
        except requests.exceptions.Timeout:
            raise self._timeout_error(host) from None
        except requests.exceptions.ConnectionError as exc:
            budget = current_budget()
            reason = _short_reason(exc)
            if _caused_by(exc, ReadTimeoutError) or (
                # the deadline timer shut the socket down (headers dripped too slowly); a
                # refused connection retried until the deadline is still "cannot connect"
                budget is not None and budget.remaining() <= 0 and reason not in _CONNECT_REASONS
            ):
                # requests reports a read timeout that exhausted the retries as a
                # ConnectionError(MaxRetryError(ReadTimeoutError)): it is a timeout.
                raise self._timeout_error(host) from None
            kind = _connect_failure_in(exc)
            if kind == "dns":
                raise NetworkError(
                    f"cannot connect to {host}: host name not found", hint=_DNS_HINT
                ) from None
            if kind == "refused":
                raise NetworkError(
                    f"cannot connect to {host}: connection refused",
                    hint=f"nothing listens on {host}: start the registry, or check the host "
                    "and port",
                ) from None
            import http.client

            if _caused_by(exc, http.client.LineTooLong):  # urllib3 reads at most 64 KiB a line
                raise NetworkError(
                    f"{host} sent a header line longer than 64 KiB; the answer was not read",
                    hint="a registry never sends this; check the host (a proxy or a hostile "
                    "server answered)",
                ) from None
            bad = _find_cause(exc, http.client.BadStatusLine)
            if bad is not None and not isinstance(bad, http.client.RemoteDisconnected):
                raise NetworkError(
                    f"{host} did not answer with an HTTP status line (such as 'HTTP/1.1 200 "
                    f"OK'); it sent {_status_line_prefix(bad)}",
                    hint="check the host and port: something other than an HTTP registry "
                    "answers there",
                ) from None
            verb = "cannot connect to" if reason in _CONNECT_REASONS else "the connection to"
            raise NetworkError(
                f"{verb} {host}{'' if verb.startswith('cannot') else ' failed'}: {reason}",
                hint="check the network, the registry host and port",
            ) from None
        except requests.exceptions.TooManyRedirects:
            raise NetworkError(f"too many redirects from {host}") from None
        except requests.exceptions.RequestException as exc:
            raise NetworkError(f"request to {host} failed: {_short_reason(exc)}") from None
        except RateLimitException as exc:
            wait = float(getattr(exc, "period_remaining", 0) or 0)
            raise RateLimitedError(
                f"client-side rate limit for {host} reached; retry in {wait:.0f} s",
                retry_after=wait,
                hint="raise DOCKERHUB_RATE_LIMIT_PER_MINUTE if the server allows more",
            ) from None


def _current_kind(method: str, url: str, meter: Meter) -> str:
    """The kind of the request being sent on this thread (its budget's), else from the URL."""
    budget = current_budget()
    return budget.kind if budget is not None and budget.kind else meter.kind(method, url)


def _utc_stamp(naive: Any) -> float:
    """Unix time of a naive datetime in UTC (requests-cache's convention)."""
    from datetime import UTC

    return float(naive.replace(tzinfo=UTC).timestamp())


def _never_cache(kwargs: dict[str, Any]) -> None:
    """Neither read nor write the cache for this request.

    `expire_after=DO_NOT_CACHE` alone skips the read but not the write when a
    `urls_expire_after` pattern matches the URL (requests-cache takes the pattern's lifetime
    for the response), so `no-store` is added too.
    """
    kwargs["expire_after"] = DO_NOT_CACHE
    kwargs["headers"] = {**kwargs.get("headers", {}), "Cache-Control": "no-store"}


def _is_cache_miss(response: requests.Response, kwargs: Mapping[str, Any]) -> bool:
    return (
        response.status_code == 504
        and response.reason == "Not Cached"
        and bool(kwargs.get("only_if_cached"))
    )


def _is_cache_backend_error(exc: BaseException) -> bool:
    """Errors of the cache store itself (Redis down, disk I/O), as opposed to the network."""
    module = type(exc).__module__.split(".", 1)[0]
    return module == "redis" or isinstance(exc, sqlite3.Error)


def _human_seconds(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for unit, span in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= span:
            return f"{seconds / span:.0f} {unit}"
    return f"{seconds:.0f} s"


_CONNECT_REASONS = frozenset({"connection refused", "host name not found"})
_DNS_HINT = (
    "check the host name and the network; without a network, "
    f"{advice.param('offline')} answers from the cache"
)


def _connect_failure_in(exc: BaseException) -> str | None:
    """`connect_failure` of the error anywhere in a requests/urllib3 error chain."""
    import socket

    from urllib3.exceptions import NameResolutionError

    if _caused_by(exc, NameResolutionError) or _caused_by(exc, socket.gaierror):
        return "dns"
    if _caused_by(exc, ConnectionRefusedError):
        return "refused"
    return None


class ResolveTimeout(Exception):  # noqa: N818 - a mixin of http_stack.ResolveTimeoutError
    """What `http_stack.ResolveTimeoutError` (a urllib3 ConnectTimeoutError) is, for the error
    mapping here, which imports nothing of the HTTP stack: the host name did not resolve
    before the request's deadline."""

    message: str = "its name did not resolve"


def _resolve_timeout(exc: BaseException) -> str:
    found = _find_cause(exc, ResolveTimeout)
    return found.message if isinstance(found, ResolveTimeout) else "its name did not resolve"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether `kind` is anywhere in the args/reason/cause chain of `exc`."""
    return _find_cause(exc, kind) is not None


def _find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first `kind` in the args/reason/cause chain of `exc` (None: there is none)."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, kind):
            return item
        todo.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
        todo.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
    return None


STATUS_LINE_SHOWN = 60  # characters of a garbage status line quoted in the error


def _status_line_prefix(bad: BaseException) -> str:
    """The start of what a server sent instead of a status line, quoted, with its control
    characters made visible and cut to a short prefix: enough to recognise (`SSH-2.0-...`,
    TLS bytes, an HTML page), never a screenful of escapes."""
    from dockerhub_cli.text import visible_line

    line = str(getattr(bad, "line", "") or "").rstrip("\r\n")
    if not line:
        return "an empty line"
    shown: list[str] = []
    used = 0
    for char in line:
        piece = visible_line(char)
        if used + len(piece) > STATUS_LINE_SHOWN:
            return "'" + "".join(shown) + "…'"
        shown.append(piece)
        used += len(piece)
    return "'" + "".join(shown) + "'"


def _short_reason(exc: Exception) -> str:
    """The innermost, human part of a requests/urllib3 error, without object reprs."""
    reason: Any = exc
    for _ in range(5):
        inner = reason.args[0] if getattr(reason, "args", None) else None
        if isinstance(inner, Exception):
            reason = inner
            continue
        inner_reason = getattr(reason, "reason", None)
        if isinstance(inner_reason, Exception):
            reason = inner_reason
            continue
        break
    text = str(reason)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    if "Connection reset" in text:
        return "connection reset by peer"
    if "RemoteDisconnected" in text or "without response" in text:
        return "the server closed the connection without answering"
    if "IncompleteRead" in text:
        return "fewer bytes arrived than the server announced"
    return text.split(": ", 1)[-1][:200] if "object at 0x" in text else text[:200]


def json_body(response: requests.Response) -> Any:
    """The body as JSON, through the bounded loader (`oci/jsonlimits.py`): nesting and numbers
    are limited, so hostile JSON is a ValueError, never a RecursionError or OverflowError."""
    from dockerhub_cli.oci import jsonlimits

    return jsonlimits.loads(response.content or b"")


def json_refusal(exc: ValueError) -> str:
    """Why `json_body` refused a body: "not JSON", or the limit it broke."""
    from dockerhub_cli.oci import jsonlimits

    return jsonlimits.describe(exc).replace("not valid JSON", "not JSON")


_CHARSET = r"""charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})"""  # compiled on first use
MAX_ERROR_TEXT = 200  # characters of a plain-text error body quoted in a message


def body_text(response: requests.Response, limit: int | None = None) -> str:
    """A body as text: in the charset its Content-Type declares, else UTF-8, bytes that do
    not decode replaced. Not `response.text`: requests decodes any text/* without a charset
    as ISO-8859-1 (so UTF-8 error text came out as mojibake) and guesses the encoding of
    other types by statistics over the whole body. `limit` decodes only the first bytes
    (4 per character: enough for `limit` characters of any encoding)."""
    content = getattr(response, "content", b"") or b""
    if limit is not None:
        content = content[: limit * 4]
    import re

    declared = re.search(_CHARSET, response.headers.get("Content-Type", "") or "", re.IGNORECASE)
    if declared is not None:
        try:
            return content.decode(declared.group(1), errors="replace")
        except LookupError:  # an unknown name, or a codec that is not a text encoding
            pass
    return content.decode("utf-8", errors="replace")


def is_html(response: requests.Response) -> bool:
    """A web page (a plain web server, a proxy's error page), never a registry or API error.

    Only a body counts: a HEAD answer has none, whatever its Content-Type says."""
    text = body_text(response, 1024).lstrip()
    if not text:
        return False
    return "html" in response.headers.get("Content-Type", "").lower() or text[
        :15
    ].lower().startswith(("<!doctype html", "<html"))


def error_message(response: requests.Response) -> str:
    """The server's own words from any of the error bodies Docker Hub and registries send.

    Hub: {"message", "errinfo"} or {"detail"}; token servers: {"details"};
    registries: {"errors": [{"code", "message", "detail"}]} with `detail` of any JSON type.
    """
    try:
        body = json_body(response)
    except ValueError:
        if is_html(response):
            return "an HTML page, not an API error"
        from dockerhub_cli.text import visible_line

        text = body_text(response, MAX_ERROR_TEXT + 1).strip()
        text = text.replace("\r\n", " ").replace("\n", " ")
        if len(text) > MAX_ERROR_TEXT:
            text = text[: MAX_ERROR_TEXT - 1] + "…"
        return visible_line(text)
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            parts = [str(first.get("code") or ""), str(first.get("message") or "")]
            detail = first.get("detail")
            if isinstance(detail, str) and detail:
                parts.append(f"({detail})")
            return " ".join(p for p in parts if p).strip()[:300]
        for key in ("message", "detail", "details", "error", "text"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:300]
    return str(body)[:200]


def retry_after_seconds(response: requests.Response) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date), `X-Retry-After` (unix time),
    or `X-RateLimit-Reset` (unix time)."""
    headers = response.headers
    value = headers.get("Retry-After")
    if value:
        try:
            seconds = float(value)
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError, OverflowError):
                pass
        else:
            if math.isfinite(seconds):  # "nan", "inf", "1e400" name no wait: ignored
                return max(0.0, seconds)
    for name in ("X-Retry-After", "X-RateLimit-Reset"):
        value = headers.get(name)
        if value:
            try:
                stamp = float(value)
            except ValueError:
                continue
            if not math.isfinite(stamp):
                continue
            # Small numbers are already relative seconds; large ones are unix timestamps.
            return max(0.0, stamp - time.time()) if stamp > 10**9 else max(0.0, stamp)
    return None


def raise_for_rate_limit(response: requests.Response, what: str) -> None:
    if response.status_code != 429:
        return
    wait = retry_after_seconds(response)
    host = urlsplit(response.url or "").netloc
    when = f"retry in {wait:.0f} s" if wait is not None else "retry later"
    raise RateLimitedError(
        f"rate limited by {host} while fetching {what}: {error_message(response) or '429'}; {when}",
        retry_after=wait,
        hint="authenticate (DOCKERHUB_USERNAME/DOCKERHUB_TOKEN) for higher limits",
    )


def raise_for_server_error(response: requests.Response, what: str) -> None:
    if response.status_code >= 500:
        host = urlsplit(response.url or "").netloc
        raise UpstreamError(
            f"{host} answered HTTP {response.status_code} for {what}: "
            f"{error_message(response) or response.reason}",
            hint="the server is having trouble; try again later",
        )
