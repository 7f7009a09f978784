"""Client-side rate limiting per host, on top of the `ratelimit` package.

`ratelimit` keeps one fixed-window counter per decorated function, process-wide. We build the
decorated callables per host and per limiter instance, so every service (and every test) gets
fresh state, and we combine two windows: `burst` calls per short window and `per_minute` calls
per minute. Only real network sends pass through here (the adapter sits below the cache).

The budget is Docker Hub's API (`hub.docker.com`, or `DOCKERHUB_HUB_URL`), which documents a
per-minute limit: the service passes those hosts as `hosts`. Every other host (a registry,
OSV) is only counted, never delayed: registries answer 429 with Retry-After when they want
less, and the transport honours that for every host. Limiting them here made a 50-platform
index take 51 s on a loopback registry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass


@dataclass
class HostState:
    host: str
    sent: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0


class HostRateLimiter:
    """Blocks (sleeps) until a request to `host` may be sent.

    `max_wait` bounds a single sleep: a long-lived server prefers failing fast with a retry hint
    over making an MCP client time out. When the wait would be longer, `acquire` raises
    `RateLimitException` with the seconds remaining.
    """

    def __init__(
        self,
        per_minute: int = 60,
        burst: int = 10,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 60.0,
        hosts: Collection[str] | None = None,
    ) -> None:
        self.per_minute = max(1, per_minute)
        self.burst = max(1, min(burst, self.per_minute))
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        # None: every host is limited (a limiter built by hand); else only these hosts.
        self.hosts = None if hosts is None else frozenset(h.lower() for h in hosts)
        self._lock = threading.Lock()
        self._gates: dict[str, Callable[[], None]] = {}
        self.state: dict[str, HostState] = {}

    def _gate_for(self, host: str) -> Callable[[], None]:
        with self._lock:
            existing = self._gates.get(host)
            if existing is None:
                # burst calls per (burst / rate) minutes, and per_minute calls per minute
                burst_period = 60.0 * self.burst / self.per_minute

                def noop() -> None:
                    return None

                # Imported here: a warm run answered from the cache sends nothing to limit.
                from ratelimit import limits

                by_minute = limits(calls=self.per_minute, period=60, clock=self._clock)
                by_burst = limits(calls=self.burst, period=burst_period, clock=self._clock)
                existing = by_minute(by_burst(noop))
                self._gates[host] = existing
                self.state.setdefault(host, HostState(host))
            return existing

    def limits(self, host: str) -> bool:
        """Whether requests to `host` wait for the budget (the others are only counted)."""
        return self.hosts is None or host.lower() in self.hosts

    def acquire(self, host: str) -> None:
        if not self.limits(host):
            with self._lock:
                state = self.state.get(host)
                if state is None:
                    state = self.state[host] = HostState(host)
                state.sent += 1
            return
        from ratelimit import RateLimitException

        gate = self._gate_for(host)
        state = self.state[host]
        while True:
            try:
                gate()
            except RateLimitException as exc:
                wait = float(exc.period_remaining)
                if wait > self._max_wait:
                    raise
                with self._lock:  # counters are shared by the MCP server's worker threads
                    state.throttled += 1
                    state.waited_seconds += wait
                self._sleep(max(wait, 0.001))
                continue
            with self._lock:
                state.sent += 1
            return

    def snapshot(self) -> dict[str, dict[str, float | int | str]]:
        """Per-host counters for `health` and `cache info` reports (safe while other threads
        send: a new host would otherwise change the dict during iteration)."""
        with self._lock:
            states = [
                HostState(s.host, s.sent, s.throttled, s.waited_seconds)
                for s in self.state.values()
            ]
        return {
            s.host: {
                "sent": s.sent,
                "throttled": s.throttled,
                "waited_seconds": round(s.waited_seconds, 3),
                "limit_per_minute": self.per_minute,
                "burst": self.burst,
                "limited": self.limits(s.host),
            }
            for s in states
        }


def hub_api_hosts(hub_url: str) -> frozenset[str]:
    """The hosts whose requests the client-side budget applies to: Docker Hub's API (the
    configured `hub_url`, and hub.docker.com itself)."""
    from urllib.parse import urlsplit

    host = urlsplit(hub_url).netloc.lower()
    return frozenset({"hub.docker.com", *([host] if host else [])})
