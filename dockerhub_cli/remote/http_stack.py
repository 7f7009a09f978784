"""The HTTP stack under the transport: requests-cache's CachedSession, the adapter that
rate-limits, meters and deadlines every request that goes to the network, urllib3 retries.

Layering (top to bottom):
    CachedSession (requests-cache: per-URL expiry, Authorization redacted and not in the key)
      -> ThrottledAdapter.send (only cache misses get here: rate limit per host, default timeout)
        -> urllib3 Retry (connection errors, timeouts, 429/5xx with backoff + jitter, Retry-After)

Imported only when a request really goes to the network, or a lookup the warm reader
(remote/warm_cache.py) cannot answer falls back to the CachedSession: `Transport` builds the
session through the factory it is given (`DockerHubService`), and a warm run whose every lookup
is a fresh cache hit never imports this module, requests, urllib3 or requests-cache.
`Transport.request` (remote/transport.py) is the only place that turns `requests` exceptions
into our error tree.
"""

from __future__ import annotations

import heapq
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.util.retry import Retry

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import UpstreamError
from dockerhub_cli.lean_imports import without_unused_backends
from dockerhub_cli.remote.cache_format import serializers_without_cattrs
from dockerhub_cli.remote.cost import Meter
from dockerhub_cli.remote.ratelimit import HostRateLimiter
from dockerhub_cli.remote.transport import (
    _DEADLINE_GRACE,
    _READ_CHUNK,
    DO_NOT_CACHE,
    MAX_ERROR_BODY_BYTES,
    MAX_RESPONSE_BYTES,
    RETRY_STATUSES,
    STREAM_MIN_BYTES,
    USER_AGENT,
    Budget,
    DeadlineExceededError,
    ResolveTimeout,
    _deadline_error,
    _redact_url,
    _short_reason,
    current_budget,
    expiry_patterns,
    retry_connect_failure,
)

with without_unused_backends(), serializers_without_cattrs():
    from requests_cache import CachedSession

if TYPE_CHECKING:
    from dockerhub_cli.remote.circuit import CircuitBreaker

log = logging.getLogger("dockerhub_cli.http")


def _signatures_computed_once() -> bool:
    """requests-cache filters keyword arguments through `inspect.signature` of the same
    constructors on every request (`requests_cache._utils.split_kwargs`, twice per cache hit:
    a quarter of a warm lookup). A function's signature does not change, so it is computed
    once per function. True when in place (a test fails if a requests-cache upgrade moves it)."""
    import functools
    import inspect

    from requests_cache import _utils

    current = getattr(_utils, "signature", None)
    if current is inspect.signature:
        _utils.signature = functools.lru_cache(maxsize=256)(inspect.signature)  # type: ignore[attr-defined]
        return True
    return getattr(current, "__wrapped__", None) is inspect.signature


_signatures_computed_once()


class CappedRetry(Retry):
    """urllib3 Retry that honours Retry-After only up to `max_wait` seconds.

    A server asking for a longer wait is not retried: the 429 goes up to the caller, which
    reports "rate limited, retry in N s" instead of sleeping silently for minutes. Nor is one
    whose wait would reach the request's deadline: the retry could only time out.
    """

    max_wait: float = 10.0

    def new(self, **kw: Any) -> CappedRetry:
        retry = super().new(**kw)
        retry.max_wait = self.max_wait
        return retry  # type: ignore[return-value]

    def get_retry_after(self, response: Any) -> float | None:
        """The server's wait, or None when it named none a client can use: RFC 9110 says a
        Retry-After that is neither seconds nor a date is ignored (urllib3 raises instead, and
        a 429 answered "Retry-After: -1" would surface as a failed request, not a 429)."""
        from urllib3.exceptions import InvalidHeader

        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        budget = current_budget()
        if budget is not None and budget.remaining() <= 0:
            # Out of time: no more attempts (the caller reports the real elapsed time).
            raise MaxRetryError(_pool, url, error or ResponseError("deadline passed"))
        if error is not None and not retry_connect_failure(error, self.history):
            raise MaxRetryError(_pool, url, error) from error
        if response is not None and response.status in self.status_forcelist:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_wait:
                raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {wait:.0f}s too long"))
            if wait is not None and budget is not None and wait >= budget.remaining():
                # Sleeping would spend the rest of the deadline and the retry would time out:
                # the caller reports "rate limited, retry in N s" now, as it is.
                raise MaxRetryError(_pool, url, ResponseError("Retry-After past the deadline"))
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: Any = None) -> None:
        """Back off, but never past the request's deadline."""
        budget = current_budget()
        if budget is None:
            super().sleep(response)
            return
        if self.respect_retry_after_header and response is not None:
            wait = self.get_retry_after(response)
            if wait is not None:
                time.sleep(max(0.0, min(wait, budget.remaining())))
                return
        time.sleep(max(0.0, min(self.get_backoff_time(), budget.remaining())))


def build_retry(settings: Settings) -> Retry:
    retry = CappedRetry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        other=0,
        redirect=5,
        backoff_factor=settings.backoff_factor,
        backoff_jitter=0.25,
        backoff_max=settings.max_retry_wait,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.max_wait = settings.max_retry_wait
    return retry


MAX_INTERIM = 20  # 1xx answers skipped before the real one; more is a server in a loop


def _deadline_pools() -> dict[str, type]:
    """urllib3 connection pools whose connections enforce the request deadline while waiting
    for the status line and headers too: a server that drips its headers a byte at a time never
    trips a per-read timeout, so a timer shuts the socket down when the deadline passes."""
    import http.client

    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class FinalResponse(http.client.HTTPResponse):
        """http.client skips only `100 Continue` before the answer, and took any other interim
        answer (`103 Early Hints` from a CDN, `102 Processing`) for the answer itself, with no
        body. Every 1xx but `101 Switching Protocols` is skipped here, at most MAX_INTERIM of
        them (and all within the deadline the watchdog keeps)."""

        def _read_status(self) -> tuple[str, int, str]:
            for _ in range(MAX_INTERIM):
                version, status, reason = super()._read_status()  # type: ignore[misc]
                if not 100 <= status < 200 or status == 101:
                    return version, status, reason
                http.client.parse_headers(self.fp)  # an interim answer's headers: dropped
            raise http.client.HTTPException(
                f"more than {MAX_INTERIM} interim (1xx) answers before the answer"
            )

    def getresponse(self: Any, base: Any) -> Any:
        budget = current_budget()
        if budget is None:
            return base.getresponse(self)
        # Shut down at the deadline itself: the grace a body gets (`read_capped`) is for bytes
        # already on their way, and a status line not yet complete at the deadline is not.
        watch = _WATCHDOG.watch(budget.remaining(), self)
        try:
            return base.getresponse(self)
        finally:
            watch[3] = None  # cancelled: the watchdog drops it when its time comes

    class DeadlineHTTPConnection(HTTPConnection):
        response_class = FinalResponse

        def getresponse(self) -> Any:  # type: ignore[override]
            return getresponse(self, HTTPConnection)

        def _new_conn(self) -> socket.socket:
            return _connect_within_deadline(self, HTTPConnection)

    class DeadlineHTTPSConnection(HTTPSConnection):
        response_class = FinalResponse

        def getresponse(self) -> Any:  # type: ignore[override]
            return getresponse(self, HTTPSConnection)

        def _new_conn(self) -> socket.socket:
            return _connect_within_deadline(self, HTTPSConnection)

    class DeadlineHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = DeadlineHTTPConnection

    class DeadlineHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = DeadlineHTTPSConnection

    return {"http": DeadlineHTTPConnectionPool, "https": DeadlineHTTPSConnectionPool}


class _Watchdog:
    """One daemon thread that shuts down the connections whose deadline passed while they
    waited for a status line (`_deadline_pools`). It replaced a `threading.Timer` per
    request: starting a thread cost more than a loopback request, 50 of them per 50-page
    listing. Entries are `[when, seq, _, connection]`; a cancelled one has no connection.
    The thread sleeps until the nearest deadline (`_due`), on `clock` (tests inject one)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._cond = threading.Condition()
        self._heap: list[list[Any]] = []
        self._seq = 0
        self._thread: threading.Thread | None = None

    def watch(self, delay: float, connection: Any) -> list[Any]:
        with self._cond:
            self._seq += 1
            entry = [self.clock() + max(0.0, delay), self._seq, None, connection]
            heapq.heappush(self._heap, entry)
            if self._thread is None or not self._thread.is_alive():  # first use, or forked
                self._thread = threading.Thread(
                    target=self._run, name="dockerhub-deadlines", daemon=True
                )
                self._thread.start()
            elif self._heap[0] is entry:
                self._cond.notify()  # sooner than what the thread sleeps for
            return entry

    def _due(self) -> tuple[list[Any], float | None]:
        """(the connections whose deadline has come, seconds until the next live deadline or
        None when there is none); cancelled entries are dropped. Call it holding `_cond`."""
        heap, now, due = self._heap, self.clock(), []
        while heap and (heap[0][3] is None or heap[0][0] <= now):
            connection = heapq.heappop(heap)[3]
            if connection is not None:
                due.append(connection)
        return due, (heap[0][0] - now if heap else None)

    def _run(self) -> None:
        with self._cond:
            while True:
                due, wait = self._due()
                for connection in due:
                    _abort(connection)
                if not due:
                    self._cond.wait(wait)


_WATCHDOG = _Watchdog()


class ResolveTimeoutError(ResolveTimeout, ConnectTimeoutError):
    """The host name did not resolve before the request's deadline."""

    def __init__(self, connection: Any, message: str) -> None:
        super().__init__(connection, message)
        self.message = message


# How a host name is resolved (tests put a slow or failing resolver here).
getaddrinfo: Callable[..., list[Any]] = socket.getaddrinfo


def _connect_within_deadline(connection: Any, base: Any) -> socket.socket:
    """Open the connection's socket, resolving its host name within the request's deadline:
    `getaddrinfo` has no timeout of its own (a resolver that gets no answer waits for the
    system's timeouts, seconds per attempt), so it runs on a daemon thread the request stops
    waiting for when its time is up. The addresses it names are then tried in order, as
    urllib3 does; an address given as an IP literal is not resolved at all."""
    import ipaddress

    from urllib3.util.connection import allowed_gai_family

    budget = current_budget()
    host = connection._dns_host
    try:
        ipaddress.ip_address(host.strip("[]"))
        literal = True
    except ValueError:
        literal = False
    if budget is None or literal:
        return base._new_conn(connection)  # type: ignore[no-any-return]
    found: list[Any] = []
    failed: list[BaseException] = []
    done = threading.Event()

    def resolve() -> None:
        try:
            found.extend(
                getaddrinfo(host, connection.port, allowed_gai_family(), socket.SOCK_STREAM)
            )
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            failed.append(exc)
        finally:
            done.set()

    threading.Thread(target=resolve, name=f"resolve {host}", daemon=True).start()
    if not done.wait(max(0.0, budget.remaining())):
        raise ResolveTimeoutError(
            connection, f"its name did not resolve within {budget.deadline - budget.started:g} s"
        )
    if failed:
        if isinstance(failed[0], socket.gaierror):
            raise NameResolutionError(connection.host, connection, failed[0]) from failed[0]
        raise failed[0]
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise NameResolutionError(
            connection.host, connection, socket.gaierror("no address for the host name")
        )
    last: BaseException | None = None
    try:
        for address in addresses:  # each as a literal: base._new_conn resolves nothing more
            connection._dns_host = address
            try:
                return base._new_conn(connection)  # type: ignore[no-any-return]
            except ConnectTimeoutError as exc:  # NewConnectionError too: the next address
                last = exc
    finally:
        connection._dns_host = host
    assert last is not None
    raise last


def _abort(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class ThrottledAdapter(HTTPAdapter):
    """Rate-limits and times out every request that actually goes to the network."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _deadline_pools()

    def __init__(
        self,
        limiter: HostRateLimiter,
        timeout: tuple[float, float],
        breaker: CircuitBreaker | None = None,
        **kw: Any,
    ) -> None:
        self.limiter = limiter
        self.default_timeout = timeout
        self.breaker = breaker
        super().__init__(**kw)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        host = urlsplit(request.url or "").netloc
        budget = current_budget()
        if budget is None:  # a request sent outside Transport.request: default limits
            now = time.monotonic()
            budget = Budget(now, now + self.default_timeout[1], MAX_RESPONSE_BYTES)
        remaining = budget.remaining()
        if remaining <= 0:
            raise _deadline_error(host, budget, budget.deadline - budget.started)
        connect, read = self.default_timeout
        kwargs["timeout"] = (min(connect, remaining), min(read, remaining))
        kwargs["stream"] = True  # the body is read below, capped and against the deadline
        breaker = self.breaker
        if breaker is not None:
            breaker.before_request(host)  # raises CircuitOpenError while the host cools down
        try:
            self.limiter.acquire(host)
            log.debug("%s %s", request.method, _redact_url(request.url or ""))
            response = super().send(request, **kwargs)
        except (requests.exceptions.SSLError, requests.exceptions.InvalidURL) as exc:
            if breaker is not None:  # our configuration, not the host's health
                breaker.release(host)
            raise exc
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.RetryError,
        ) as exc:
            if breaker is not None:
                breaker.record_failure(host, _short_reason(exc))
            raise
        except BaseException:
            if breaker is not None:
                breaker.release(host)
            raise
        if breaker is not None:
            if response.status_code >= 500:
                breaker.record_failure(host, f"HTTP {response.status_code}")
            else:
                breaker.record_success(host)
        if budget.stream and 200 <= response.status_code < 300:
            # A blob the caller streams (layers): never read here, never buffered; the caller
            # reads it through a StreamedBody (capped, progress-deadlined), then closes it. A
            # 200 answering a Range request is the whole blob (Range ignored): the caller sees
            # the status and closes it unread, so its length is no reason to refuse it.
            if request.method != "HEAD" and not (
                response.status_code == 200 and "Range" in request.headers
            ):
                _refuse_oversized(response, host, budget)
            response.raw = StreamedBody(response.raw, host, budget, self.default_timeout[1])
            return response
        if budget.stream:  # a redirect or an error answering a streamed request: read, capped
            budget = replace(budget, max_bytes=MAX_ERROR_BODY_BYTES)
        if request.method != "HEAD":  # a HEAD announces the size of a body it never sends
            _refuse_oversized(response, host, budget)
        read_capped(response, host, budget, read)  # (a HEAD's is empty: the connection is kept)
        return response
        return response


class MeteredAdapter(ThrottledAdapter):
    """The adapter of the session: every request that goes to the network passes here (cache
    hits never do) and is counted by the meter (`remote/cost.py`): kind, host, status, latency,
    bytes; a manifest GET past `--max-pulls` is refused before it is sent (before the rate
    limiter and the circuit breaker see it)."""

    meter: Meter | None = None  # set by the Transport

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        meter = self.meter
        if meter is None:
            return super().send(request, **kwargs)
        budget = current_budget()
        ticket = meter.start(
            request.method or "GET",
            request.url or "",
            budget.kind if budget is not None else "",
            budget.what if budget is not None else "",
        )
        try:
            response = super().send(request, **kwargs)
        except BaseException:
            meter.finish(ticket, None)
            raise
        if isinstance(response.raw, StreamedBody):  # a layer: its bytes count as they are read
            response.raw.counted = lambda n: meter.add_bytes(ticket, n)
            meter.finish(ticket, response.status_code)
        else:
            meter.finish(ticket, response.status_code, len(response._content or b""))
        return response


def _refuse_oversized(response: requests.Response, host: str, budget: Budget) -> None:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > budget.max_bytes:
        response.close()
        raise UpstreamError(
            f"{host} announced a {int(length):,}-byte reply"
            f"{' for ' + budget.what if budget.what else ''}, more than this tool reads "
            f"for it ({budget.max_bytes:,} bytes); refusing it",
            hint="check the registry URL",
        )


def read_capped(
    response: requests.Response, host: str, budget: Budget, read_timeout: float
) -> None:
    """Read the body into `response` in chunks, stopping at the byte cap or the deadline.

    `read1` returns as soon as some bytes arrived (one chunk of a chunked body), so a server
    dripping a byte a second is caught by the deadline check between reads; before each read
    the socket timeout is lowered to the time left.
    """
    from urllib3.exceptions import DecodeError, ProtocolError, SSLError

    raw = response.raw
    chunks: list[bytes] = []
    total = 0
    limit = budget.deadline - budget.started
    try:
        while True:
            remaining = budget.remaining()
            if remaining < -_DEADLINE_GRACE:
                raise _deadline_error(host, budget, limit)
            # Past the deadline, only bytes already on their way are taken (a short wait).
            _set_socket_timeout(raw, min(read_timeout, max(remaining, _DEADLINE_GRACE / 20)))
            try:
                chunk = raw.read1(_READ_CHUNK, decode_content=True)
            except ReadTimeoutError:
                raise _deadline_error(host, budget, limit) from None
            except (ProtocolError, SSLError) as exc:
                raise requests.exceptions.ChunkedEncodingError(exc) from None
            except DecodeError as exc:
                raise requests.exceptions.ContentDecodingError(exc) from None
            if not chunk:
                break
            total += len(chunk)
            if total > budget.max_bytes:
                raise UpstreamError(
                    f"{host} sent more than {budget.max_bytes:,} bytes"
                    f"{' for ' + budget.what if budget.what else ''}; stopped reading",
                    hint="a registry or API never sends this much for it; check the URL",
                )
            chunks.append(chunk)
    except BaseException:
        response.close()
        raise
    response._content = b"".join(chunks)
    response._content_consumed = True  # type: ignore[attr-defined]
    raw.release_conn()


class StreamedBody:
    """The body of a streamed response (`Transport.request(stream=True)`), in `response.raw`.

    `read(n)` returns up to `n` bytes as soon as some arrived (b"" at the end), never buffers
    more, and raises our errors: UpstreamError past `max_bytes` (the caller's cap: the blob's
    size) or when the body breaks off, DeadlineExceededError when a window of `window` seconds
    (DOCKERHUB_TIMEOUT, wall clock) brought less than STREAM_MIN_BYTES. Nothing of it is cached.
    """

    def __init__(self, raw: Any, host: str, budget: Budget, read_timeout: float) -> None:
        self._raw = raw
        self.host = host
        self.what = budget.what
        self.max_bytes = budget.max_bytes
        self.clock = budget.clock
        self.window = max(budget.deadline - budget.started, 0.001)
        self.read_timeout = read_timeout
        self.count = 0
        self.started = self.clock()
        self._window_start = self.started
        self._window_bytes = 0
        self.counted: Callable[[int], None] | None = None  # told the size of each chunk read

    def read(self, n: int | None = -1, /, decode_content: bool | None = None) -> bytes:
        from urllib3.exceptions import DecodeError, ProtocolError, SSLError

        amount = n if n is not None and n > 0 else _READ_CHUNK
        while True:
            elapsed = self.clock() - self._window_start
            if elapsed >= self.window:
                self._next_window()
                elapsed = 0.0
            _set_socket_timeout(self._raw, min(self.read_timeout, self.window - elapsed))
            try:
                chunk: bytes = self._raw.read1(amount, decode_content=decode_content)
            except (ReadTimeoutError, TimeoutError):
                self._next_window()  # the window is over: raises if it brought too little
                continue
            except (ProtocolError, SSLError, DecodeError, OSError) as exc:
                self.close()
                raise UpstreamError(
                    f"the download of {self.what or 'a blob'} from {self.host} was cut off "
                    f"({_short_reason(exc)})",
                    hint="the connection broke mid-transfer; try again",
                ) from None
            self.count += len(chunk)
            self._window_bytes += len(chunk)
            if self.counted is not None:
                self.counted(len(chunk))
            if self.count > self.max_bytes:
                self.close()
                raise UpstreamError(
                    f"{self.host} sent more than {self.max_bytes:,} bytes"
                    f"{' for ' + self.what if self.what else ''}; stopped reading",
                    hint="the registry served more than the manifest announced",
                )
            return chunk

    read1 = read

    def _next_window(self) -> None:
        if self._window_bytes < STREAM_MIN_BYTES:
            got, self._window_bytes = self._window_bytes, 0
            self.close()
            raise DeadlineExceededError(
                f"{self.host} did not keep sending{' ' + self.what if self.what else ''}: "
                f"{got:,} bytes in the last {self.window:g} s, fewer than the "
                f"{STREAM_MIN_BYTES:,} a streamed blob must bring within every "
                f"{self.window:g} s (gave up after {self.clock() - self.started:.1f} s, "
                f"{self.count:,} bytes read)",
                hint="try again, or raise DOCKERHUB_TIMEOUT",
            )
        self._window_start = self.clock()
        self._window_bytes = 0

    def close(self) -> None:
        self._raw.close()

    def release_conn(self) -> None:
        self._raw.release_conn()

    @property
    def closed(self) -> bool:
        return bool(self._raw.closed)

    def __getattr__(self, name: str) -> Any:  # headers, status, ... of the urllib3 response
        return getattr(self._raw, name)


def _set_socket_timeout(raw: Any, seconds: float) -> None:
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is not None:
        try:
            sock.settimeout(max(seconds, 0.001))
        except OSError:
            pass


# What requests' `merge_environment_settings` reads for an http(s) URL: the proxy variables
# (lowercase first, as urllib does), CGI's REQUEST_METHOD (which disables HTTP_PROXY) and the
# CA bundle variables.
_ENVIRONMENT_NAMES = (
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)
_MEMO_SIZE = 4096


class _KeyMemo:
    """requests-cache's `create_key` (its public `key_fn` hook), remembered for bodiless
    requests: normalising the URL (url-normalize) and hashing was a sixth of a warm cache
    lookup, and a process asks for the same few URLs again and again. The memo's key holds
    everything `create_key` reads of such a request (method, URL, `verify`, the matched
    headers' values) and of the settings; anything else (a body, `match_headers=True`, an
    unprepared Request) is keyed afresh. Checked against `create_key` itself in the tests."""

    def __init__(self) -> None:
        self._memo: dict[tuple[Any, ...], str] = {}

    def __call__(
        self,
        request: Any,
        ignored_parameters: Any = None,
        match_headers: Any = False,
        serializer: Any = None,
        content_root_key: str | None = None,
        **request_kwargs: Any,
    ) -> str:
        from requests_cache.cache_keys import create_key

        def compute() -> str:
            return create_key(
                request,
                ignored_parameters=ignored_parameters,
                match_headers=match_headers,
                serializer=serializer,
                content_root_key=content_root_key,
                **request_kwargs,
            )

        if (
            request.body
            or match_headers is True
            or not isinstance(request, requests.PreparedRequest)
        ):
            return compute()
        headers = request.headers
        try:
            memo_key = (
                request.method,
                request.url,
                bool(request_kwargs.get("verify", True)),
                tuple(headers.get(name) for name in match_headers or ()),
                tuple(ignored_parameters or ()),
                id(serializer),
                content_root_key,
            )
            found = self._memo.get(memo_key)
        except TypeError:  # something unhashable: no memo
            return compute()
        if found is None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            found = self._memo[memo_key] = compute()
        return found


class _KeychainOnly(requests.auth.AuthBase):
    """The session's own auth, which adds nothing: with it set, requests no longer looks up
    ~/.netrc for every request without `auth=` (a file read per cache hit) and never puts
    credentials from it on the wire: they come only from the keychain (remote/keychain.py)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


class _Session(CachedSession):
    """The CachedSession whose redirects follow the credential policy (remote/auth.py)."""

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        """requests' own, remembered per host while the variables it reads are unchanged: it
        scanned the whole environment twice for proxies on every request, cache hits
        included (a quarter of a warm lookup)."""
        if proxies or not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        import os

        parts = urlsplit(url)
        environ = os.environ
        try:
            key = (
                parts.scheme,
                parts.netloc,
                stream,
                verify,
                cert,
                tuple(map(environ.get, _ENVIRONMENT_NAMES)),
                tuple(self.proxies.items()),
                self.stream,
                self.verify,
                self.cert,
            )
            memo: dict[Any, Any] = self.__dict__.setdefault("_environment_memo", {})
            found = memo.get(key)
        except TypeError:  # an unhashable setting: no memo
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        if found is None:
            found = super().merge_environment_settings(url, {}, stream, verify, cert)
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[key] = found
        return {**found, "proxies": dict(found["proxies"])}

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: Any) -> None:
        """On a redirect, keep Authorization only where `CredentialPolicy.keeps_on_redirect`
        allows (a layer sent on to a CDN goes there without it); no ~/.netrc credentials are
        added for the new host either: credentials come only from the keychain."""
        from dockerhub_cli.remote.credential_policy import CredentialPolicy

        headers = prepared_request.headers
        if "Authorization" in headers and not CredentialPolicy.keeps_on_redirect(
            response.request.url or "", prepared_request.url or ""
        ):
            del headers["Authorization"]


def build_session(
    settings: Settings,
    limiter: HostRateLimiter,
    backend: Any = None,
    breaker: CircuitBreaker | None = None,
) -> CachedSession:
    """The single CachedSession every request of a process goes through."""
    if backend is None:
        from dockerhub_cli.remote.cache_store import open_backend

        backend = open_backend(settings)
    session = _Session(
        backend=backend,
        expire_after=DO_NOT_CACHE,
        urls_expire_after=expiry_patterns(settings),  # type: ignore[arg-type]
        # POST only for OSV querybatch (the one POST with a URL pattern above); every other POST
        # (tokens, logins) is sent with cacheable=False and never touches the cache.
        allowable_methods=("GET", "HEAD", "POST"),
        allowable_codes=(200,),
        match_headers=["Accept"],
        stale_if_error=False,
        key_fn=_KeyMemo(),
    )
    session.headers["User-Agent"] = USER_AGENT
    session.auth = _KeychainOnly()
    # --no-cache reads nothing from the cache but still writes what it fetched (each request
    # is sent with force_refresh, see Transport.request): the next plain run sees that answer.
    adapter = MeteredAdapter(
        limiter,
        (settings.connect_timeout, settings.timeout),
        breaker,
        max_retries=build_retry(settings),
        pool_connections=8,
        pool_maxsize=16,
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def open_sqlite_backend(settings: Settings) -> Any:
    """The SQLite cache file (a corrupt one is moved aside and rebuilt): see `cache_store.py`."""
    from dockerhub_cli.remote.cache_store import open_sqlite_backend as _open

    return _open(settings)
