"""The one HTTP session: requests-cache on SQLite, urllib3 retries, per-host rate limiting.

Layering (top to bottom):
    CachedSession (requests-cache: per-URL expiry, Authorization redacted and not in the key)
      -> ThrottledAdapter.send (only cache misses get here: rate limit per host, default timeout)
        -> urllib3 Retry (connection errors, timeouts, 429/5xx with backoff + jitter, Retry-After)

`Transport.request` is the only place that turns `requests` exceptions into our error tree.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests_cache import DO_NOT_CACHE, NEVER_EXPIRE, CachedSession
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from dockerhub_cli import __version__
from dockerhub_cli.errors import (
    DockerHubError,
    NetworkError,
    OfflineCacheMissError,
    RateLimitedError,
    UpstreamError,
)
from dockerhub_cli.ratelimiting import HostRateLimiter
from dockerhub_cli.settings import Settings

log = logging.getLogger("dockerhub_cli.http")

USER_AGENT = f"dockerhub-cli/{__version__} (+python-requests)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


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
        "*/v2/search/repositories*": ttl["search"],
        "*/v2/namespaces/*/repositories/*/tags*": ttl["tags"],
        "*/v2/repositories/*/tags*": ttl["tags"],
        "*/v2/namespaces/*/repositories/*": ttl["repository"],
        "*/v2/repositories/*": ttl["repository"],
    }


class CappedRetry(Retry):
    """urllib3 Retry that honours Retry-After only up to `max_wait` seconds.

    A server asking for a longer wait is not retried: the 429 goes up to the caller, which
    reports "rate limited, retry in N s" instead of sleeping silently for minutes.
    """

    max_wait: float = 10.0

    def new(self, **kw: Any) -> CappedRetry:
        retry = super().new(**kw)
        retry.max_wait = self.max_wait
        return retry  # type: ignore[return-value]

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        if response is not None and response.status in self.status_forcelist:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_wait:
                raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {wait:.0f}s too long"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


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


class ThrottledAdapter(HTTPAdapter):
    """Rate-limits and times out every request that actually goes to the network."""

    def __init__(self, limiter: HostRateLimiter, timeout: tuple[float, float], **kw: Any) -> None:
        self.limiter = limiter
        self.default_timeout = timeout
        super().__init__(**kw)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        host = urlsplit(request.url or "").netloc
        self.limiter.acquire(host)
        log.debug("%s %s", request.method, _redact_url(request.url or ""))
        return super().send(request, **kwargs)


def _redact_url(url: str) -> str:
    """Drop the query of URLs that may carry secrets (presigned CDN links, tokens)."""
    parts = urlsplit(url)
    if any(k in parts.query.lower() for k in ("signature", "token", "verify=", "x-amz")):
        return f"{parts.scheme}://{parts.netloc}{parts.path}?<redacted>"
    return url


def build_session(
    settings: Settings, limiter: HostRateLimiter, backend: Any = None
) -> CachedSession:
    """The single CachedSession every request of a process goes through."""
    if backend is None:
        backend = open_sqlite_backend(settings)
    session = CachedSession(
        backend=backend,
        expire_after=DO_NOT_CACHE,
        urls_expire_after=expiry_patterns(settings),  # type: ignore[arg-type]
        allowable_methods=("GET", "HEAD"),
        allowable_codes=(200,),
        match_headers=["Accept"],
        stale_if_error=False,
    )
    session.headers["User-Agent"] = USER_AGENT
    session.settings.disabled = settings.no_cache
    adapter = ThrottledAdapter(
        limiter,
        (settings.connect_timeout, settings.timeout),
        max_retries=build_retry(settings),
        pool_connections=8,
        pool_maxsize=16,
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def open_sqlite_backend(settings: Settings) -> Any:
    from requests_cache.backends.sqlite import SQLiteCache

    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    return SQLiteCache(settings.cache_path, wal=True, busy_timeout=30_000)


class Transport:
    """Sends requests through the shared session and maps every failure to our errors.

    Also implements `--offline` (answer only from the cache) and counts what it did, so that
    tests and `--debug` can prove a warm call made zero network requests.
    """

    def __init__(self, settings: Settings, session: CachedSession, limiter: HostRateLimiter):
        self.settings = settings
        self.session = session
        self.limiter = limiter
        self.network_requests = 0
        self.cache_hits = 0

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
        what: str = "",
    ) -> requests.Response:
        """Send one request. `what` names the thing asked for, for error messages.

        `cacheable=False` never reads or writes the cache (tokens, logins); `cache_only=True`
        answers from the cache or with a 504 response, never from the network.
        """
        kwargs: dict[str, Any] = {
            "headers": dict(headers or {}),
            "params": params,
            "json": json,
            "data": data,
            "auth": auth,
            "allow_redirects": allow_redirects,
        }
        if not verify:
            # The user asked for this host to be insecure: say so once, not on every request.
            import warnings

            from urllib3.exceptions import InsecureRequestWarning

            kwargs["verify"] = False
            warnings.simplefilter("ignore", InsecureRequestWarning)
        if not cacheable:
            kwargs["expire_after"] = DO_NOT_CACHE
        if self.settings.offline:
            if not cacheable:
                raise OfflineCacheMissError(
                    f"--offline: {what or url} needs the network (credentials or token exchange)",
                    hint="run once without --offline to fill the cache",
                )
            kwargs["only_if_cached"] = True
        elif cache_only:
            kwargs["only_if_cached"] = True
        host = urlsplit(url).netloc
        started = time.monotonic()
        try:
            response = self.session.request(method, url, **kwargs)
        except DockerHubError:
            raise
        except requests.exceptions.RetryError:
            raise UpstreamError(
                f"{host} kept failing after {self.settings.retries} retries", hint="try again later"
            ) from None
        except requests.exceptions.SSLError:
            raise NetworkError(
                f"TLS verification failed for {host}",
                hint=f"if you trust it, add {host} to DOCKERHUB_INSECURE_REGISTRIES "
                "or use --insecure",
            ) from None
        except requests.exceptions.ConnectTimeout:
            raise NetworkError(
                f"timed out connecting to {host}", hint="check the network or the registry URL"
            ) from None
        except requests.exceptions.Timeout:
            raise NetworkError(
                f"{host} did not answer within {self.settings.timeout:.0f} s",
                hint="try again, or raise DOCKERHUB_TIMEOUT",
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise NetworkError(
                f"cannot connect to {host}: {_short_reason(exc)}",
                hint="check the network, the registry host and port",
            ) from None
        except requests.exceptions.TooManyRedirects:
            raise NetworkError(f"too many redirects from {host}") from None
        except requests.exceptions.RequestException as exc:
            raise NetworkError(f"request to {host} failed: {_short_reason(exc)}") from None
        except (sqlite3.DatabaseError, OSError) as exc:
            raise NetworkError(
                f"the HTTP cache at {self.settings.cache_path} failed: {exc}",
                hint="run `dockerhub cache clear`, or use --no-cache",
            ) from None

        # requests-cache answers an `only_if_cached` miss with a synthetic 504 "Not Cached".
        cache_miss = response.status_code == 504 and response.reason == "Not Cached" and bool(
            kwargs.get("only_if_cached")
        )
        from_cache = bool(getattr(response, "from_cache", False)) and not cache_miss
        if from_cache:
            self.cache_hits += 1
        elif not cache_miss:
            self.network_requests += 1
        if self.settings.offline and cache_miss:
            raise OfflineCacheMissError(
                f"--offline: {what or url} is not in the cache",
                hint="run the same command once without --offline",
            )
        log.debug(
            "%s %s -> %s (%s, %.0f ms)",
            method,
            _redact_url(url),
            response.status_code,
            "cache" if from_cache else "network",
            (time.monotonic() - started) * 1000,
        )
        return response


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
    return text.split(": ", 1)[-1][:200] if "object at 0x" in text else text[:200]


def error_message(response: requests.Response) -> str:
    """The server's own words from any of the error bodies Docker Hub and registries send.

    Hub: {"message", "errinfo"} or {"detail"}; token servers: {"details"};
    registries: {"errors": [{"code", "message", "detail"}]} with `detail` of any JSON type.
    """
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip().replace("\n", " ")
        return text[:200]
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
            return max(0.0, float(value))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    for name in ("X-Retry-After", "X-RateLimit-Reset"):
        value = headers.get(name)
        if value:
            try:
                stamp = float(value)
            except ValueError:
                continue
            # Small numbers are already relative seconds; large ones are unix timestamps.
            return max(0.0, stamp - time.time()) if stamp > 10**9 else stamp
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
