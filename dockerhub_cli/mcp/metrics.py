"""`/metrics` of `serve-mcp --transport http`: the Prometheus text format, by prometheus-client.

What is counted, and where (names and labels are documented in docs/observability.md):

* upstream requests by host, kind and status, and their latency: the transport's meter
  (`remote/cost.py`) calls `on_request` for every request that went to the network;
* HTTP cache hits, misses and stale answers by kind: the meter's `on_cache`;
* Docker Hub pulls and free HEADs: the meter's totals, read at scrape time;
* tool calls by tool and outcome, and their latency: `tool_call`, called by the MCP guard;
* rate-limit waits and circuit-breaker state: the limiter's and the breaker's snapshots, read
  at scrape time.

Each server has its own `CollectorRegistry` (never the process-global one), so two servers in
one process (tests) do not collide. Only `serve-mcp --transport http` imports this module:
no other command pays for prometheus-client.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from dockerhub_cli import __version__

# No `*_created` series: a scrape of a server with many label sets would be twice as long, and
# Prometheus does not need them (this module is imported only by the http server process).
disable_created_metrics()  # type: ignore[no-untyped-call]

PREFIX = "dockerhub"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Hosts come from the callers' arguments (any registry): past this many distinct ones, the
# others share the label "other" so a client cannot grow the series without bound.
MAX_HOSTS = 64
OTHER_HOST = "other"
# Seconds: loopback cache hits are milliseconds, a slow registry tens of seconds.
UPSTREAM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
TOOL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0)
CIRCUIT_STATES = ("closed", "half-open", "open")
# Tool call outcomes (the `outcome` label).
OUTCOMES = (
    "ok",
    "invalid_arguments",
    "not_found",
    "auth",
    "rate_limited",
    "network",
    "timeout",
    "error",
    "internal",
)


class ServerMetrics:
    """The metrics of one `serve-mcp` server and its service."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        r = self.registry
        self.upstream = Counter(
            f"{PREFIX}_upstream_requests",
            "Requests sent to registries, Docker Hub's API, token servers and OSV (cache hits "
            "never are), by host, kind and HTTP status ('error': no answer).",
            ["host", "kind", "status"],
            registry=r,
        )
        self.upstream_seconds = Histogram(
            f"{PREFIX}_upstream_request_duration_seconds",
            "Time from sending a request to having read its body, by host and kind.",
            ["host", "kind"],
            buckets=UPSTREAM_BUCKETS,
            registry=r,
        )
        self.cache = Counter(
            f"{PREFIX}_cache_requests",
            "Lookups of the HTTP cache by kind of request and result (hit, miss, stale).",
            ["cache", "kind", "result"],
            registry=r,
        )
        self.tool_calls = Counter(
            f"{PREFIX}_tool_calls",
            "MCP tool calls by tool and outcome.",
            ["tool", "outcome"],
            registry=r,
        )
        self.tool_seconds = Histogram(
            f"{PREFIX}_tool_call_duration_seconds",
            "Time to answer an MCP tool call (arguments checked to result built), by tool.",
            ["tool"],
            buckets=TOOL_BUCKETS,
            registry=r,
        )
        self._hosts: set[str] = set()
        self._lock = threading.Lock()
        r.register(_Snapshots(service))
        meter = getattr(getattr(service, "transport", None), "meter", None)
        if meter is not None:
            meter.listeners.append(self)

    # -- fed by the meter (remote/cost.py) and the MCP guard ----------------------------------

    def _host(self, host: str) -> str:
        with self._lock:
            if host in self._hosts:
                return host
            if len(self._hosts) < MAX_HOSTS:
                self._hosts.add(host)
                return host
        return OTHER_HOST

    def on_request(self, host: str, kind: str, status: str, seconds: float) -> None:
        host = self._host(host)
        self.upstream.labels(host, kind, status).inc()
        self.upstream_seconds.labels(host, kind).observe(seconds)

    def on_cache(self, kind: str, result: str) -> None:
        self.cache.labels("http", kind, result).inc()

    def tool_call(self, tool: str, outcome: str, seconds: float) -> None:
        self.tool_calls.labels(tool, outcome).inc()
        self.tool_seconds.labels(tool).observe(seconds)

    def result_cache(self, tool: str, hit: bool) -> None:
        """For an in-process result store answering tool calls: a hit or a miss."""
        self.cache.labels("result", tool, "hit" if hit else "miss").inc()

    # -- the scrape ---------------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return bytes(generate_latest(self.registry))


class _Snapshots(Collector):
    """Metrics read at scrape time from the service's own counters: Docker Hub pulls, the
    rate limiter's waits, the circuit breakers."""

    def __init__(self, service: Any) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            f"{PREFIX}_server_info", "The hubscope version serving.", labels=["version"]
        )
        info.add_metric([__version__], 1)
        yield info
        yield from self._pulls()
        yield from self._rate_limits()
        yield from self._circuits()

    def _pulls(self) -> Iterator[Metric]:
        meter = getattr(getattr(self.service, "transport", None), "meter", None)
        if meter is None:
            return
        totals = meter.totals
        pulls = CounterMetricFamily(
            f"{PREFIX}_docker_hub_pulls",
            "Manifest GETs Docker Hub's registry answered: each counts against its pull limit.",
        )
        pulls.add_metric([], totals.pulls)
        yield pulls
        heads = CounterMetricFamily(
            f"{PREFIX}_docker_hub_free_heads",
            "Manifest HEADs sent to Docker Hub's registry (they cost no pull).",
        )
        heads.add_metric([], totals.free_heads)
        yield heads
        received = CounterMetricFamily(
            f"{PREFIX}_upstream_received_bytes", "Body bytes read from the network."
        )
        received.add_metric([], totals.bytes_received)
        yield received

    def _rate_limits(self) -> Iterator[Metric]:
        limiter = getattr(self.service, "limiter", None)
        snapshot = limiter.snapshot() if limiter is not None else {}
        waits = CounterMetricFamily(
            f"{PREFIX}_rate_limit_waits",
            "Requests that waited for the client-side rate limit, by host.",
            labels=["host"],
        )
        waited = CounterMetricFamily(
            f"{PREFIX}_rate_limit_wait_seconds",
            "Seconds spent waiting for the client-side rate limit, by host.",
            labels=["host"],
        )
        for host, state in sorted(snapshot.items())[:MAX_HOSTS]:
            waits.add_metric([host], float(state.get("throttled", 0)))
            waited.add_metric([host], float(state.get("waited_seconds", 0.0)))
        yield waits
        yield waited

    def _circuits(self) -> Iterator[Metric]:
        breaker = getattr(self.service, "breaker", None)
        snapshot = breaker.snapshot() if breaker is not None else {}
        state = GaugeMetricFamily(
            f"{PREFIX}_circuit_breaker_state",
            "1 for the state each host's circuit breaker is in (closed, half-open, open).",
            labels=["host", "state"],
        )
        opened = CounterMetricFamily(
            f"{PREFIX}_circuit_breaker_opened",
            "Times each host's circuit breaker opened.",
            labels=["host"],
        )
        for host, circuit in sorted(snapshot.items())[:MAX_HOSTS]:
            for name in CIRCUIT_STATES:
                state.add_metric([host, name], 1.0 if circuit.get("state") == name else 0.0)
            opened.add_metric([host], float(circuit.get("times_opened", 0)))  # type: ignore[arg-type]
        yield state
        yield opened
