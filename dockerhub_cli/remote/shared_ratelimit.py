"""One client-side budget for a fleet: the rate limit kept in Redis, shared by every process.

With `--cache-backend redis://...` several `serve-mcp` replicas (or one-shot commands on CI
runners) share one HTTP cache; they share the Docker Hub API budget too, through the `limits`
library's moving-window limiter on the same Redis server (no counting of our own). The budget
is the one `HostRateLimiter` keeps in memory: `per_minute` requests a minute and `burst` per
`60 * burst / per_minute` seconds, per host, for Docker Hub's API hosts only; other hosts are
counted and never delayed.

Same interface as `HostRateLimiter` (acquire / limits / snapshot / state), so the transport does
not know which one it has. A wait longer than `max_wait` raises `RateLimitException` (the
transport turns it into "rate limited, retry in N s"), so a server fails fast instead of making
its clients time out.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection
from typing import Any

from ratelimit import RateLimitException

from dockerhub_cli.remote.ratelimit import HostRateLimiter, HostState

NAMESPACE = "dockerhub-cli-ratelimit"
log = logging.getLogger("dockerhub_cli.ratelimit")


class SharedHostRateLimiter(HostRateLimiter):
    def __init__(
        self,
        storage_url: str,
        per_minute: int = 60,
        burst: int = 10,
        *,
        hosts: Collection[str] | None = None,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        storage: Any = None,
    ) -> None:
        from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        super().__init__(per_minute, burst, sleep=sleep, max_wait=max_wait, hosts=hosts)
        burst_seconds = max(1, math.ceil(60.0 * self.burst / self.per_minute))
        self._items = (
            RateLimitItemPerMinute(self.per_minute, 1, namespace=NAMESPACE),
            RateLimitItemPerSecond(self.burst, burst_seconds, namespace=NAMESPACE),
        )
        self._storage = storage or storage_from_string(
            storage_url, socket_timeout=5, socket_connect_timeout=5
        )
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._unreachable = False

    def _state(self, host: str) -> HostState:
        with self._lock:
            state = self.state.get(host)
            if state is None:
                state = self.state[host] = HostState(host)
            return state

    def acquire(self, host: str) -> None:
        if self.limits(host) and self._unreachable:
            super().acquire(host)  # Redis is down: this process keeps its own budget
            return
        state = self._state(host)
        if self.limits(host):
            while True:
                try:
                    wait = self._try(host.lower())
                except Exception as exc:  # noqa: BLE001 - any storage failure: go on locally
                    log.warning(
                        "the shared rate limit in Redis is unreachable (%s); "
                        "this process limits itself",
                        type(exc).__name__,
                    )
                    self._unreachable = True
                    super().acquire(host)
                    return
                if wait <= 0:
                    break
                if wait > self._max_wait:
                    raise RateLimitException("shared rate limit reached", wait)
                with self._lock:
                    state.throttled += 1
                    state.waited_seconds += wait
                self._sleep(wait)
        with self._lock:
            state.sent += 1

    def _try(self, host: str) -> float:
        """Take one request from every window, or the seconds until the fullest one has room.
        Each `hit` is atomic in Redis (a Lua script), so replicas never both get the last
        place; a request refused by the second window leaves its place in the first taken,
        which only makes the budget stricter."""
        for item in self._items:
            if not self._limiter.hit(item, host):
                reset = self._limiter.get_window_stats(item, host).reset_time
                return max(0.05, reset - time.time())
        return 0.0

    def snapshot(self) -> dict[str, dict[str, float | int | str]]:
        """The in-memory limiter's counters, marked as a budget shared through Redis."""
        return {host: {**state, "shared": True} for host, state in super().snapshot().items()}
