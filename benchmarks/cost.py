#!/usr/bin/env python
"""Benchmark: what counting the cost (issue 19, goal 9) and serving /metrics (goal 7) cost.

    python benchmarks/cost.py            # a few seconds

Prints medians of several rounds (and the load average, since the numbers are noisy on a busy
machine):

1. the meter per request: `Meter.start` + `finish` (a network request), `cached` (a cache hit),
   `request_kind`;
2. per MCP tool call: a tracking block and the `cost` object as JSON data (`to_dict`), against
   building it through the pydantic model;
3. one `/metrics` scrape (`ServerMetrics.exposition`) with a busy server's series;
4. importing prometheus_client in a fresh interpreter, beside `python -c pass` (why only
   `serve-mcp --transport http` imports it), and on top of that server's own imports.

It asserts nothing and makes no network request.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

ROUNDS = 7


def per_call_us(fn: Callable[[], object], number: int) -> float:
    """Median over ROUNDS of the microseconds one call of `fn` takes."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(samples)


def spawn_ms(code: str) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    os.environ.setdefault("DOCKERHUB_CACHE_DIR", tempfile.mkdtemp(prefix="cost-bench-"))
    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.remote.cost import CostCounter, Meter, request_kind

    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    meter = Meter(Settings.from_env())
    url = "https://registry-1.docker.io/v2/library/nginx/manifests/1.27"

    def network() -> None:
        meter.finish(meter.start("GET", url, "manifest_get"), 200, 1000)

    rows = [
        ("meter: one network request (start + finish)", per_call_us(network, 20_000)),
        ("meter: one cache hit (cached)", per_call_us(lambda: meter.cached("blob"), 20_000)),
        ("request_kind (classify a URL)", per_call_us(lambda: request_kind("GET", url), 20_000)),
    ]
    counter = CostCounter(network={"manifest_get": 2, "blob": 1}, cache={"hub_api": 3})
    rows += [
        ("MCP call: cost as JSON data (to_dict)", per_call_us(counter.to_dict, 20_000)),
        (
            "  (the same through pydantic: to_model().model_dump())",
            per_call_us(lambda: counter.to_model().model_dump(mode="json"), 5_000),
        ),
    ]

    from dockerhub_cli.service import DockerHubService

    with DockerHubService(Settings.from_env()) as service:
        transport = service.transport

        def tracked() -> None:
            with transport.tracking() as call:
                pass
            call.cost.to_dict()

        rows.append(("MCP call: tracking block + cost", per_call_us(tracked, 20_000)))
        from dockerhub_cli.mcp.metrics import ServerMetrics

        metrics = ServerMetrics(service)
        kinds = ("manifest_get", "manifest_head", "blob", "token", "hub_api")
        for h in range(10):
            for kind in kinds:
                for status in ("200", "404", "error"):
                    metrics.on_request(f"registry{h}.example.com", kind, status, 0.02)
                metrics.on_cache(kind, "hit")
                metrics.on_cache(kind, "miss")
        for t in range(30):
            for outcome in ("ok", "not_found", "invalid_arguments"):
                metrics.tool_call(f"docker_tool_{t}", outcome, 0.004)
        size = len(metrics.exposition())
        rows.append(
            (
                f"/metrics scrape: 150 upstream series, 90 tool series ({size:,} bytes)",
                per_call_us(metrics.exposition, 50),
            )
        )
    width = max(len(name) for name, _ in rows)
    for name, us in rows:
        print(f"{name:<{width}}  {us:10.1f} us")
    bare = spawn_ms("pass")
    prom = spawn_ms("import prometheus_client")
    server = spawn_ms("import uvicorn, mcp.server")
    both = spawn_ms("import uvicorn, mcp.server, prometheus_client")
    for label, ms, base in (
        ("python -c pass", bare, None),
        ('python -c "import prometheus_client"', prom, bare),
        ("import uvicorn, mcp.server (serve-mcp --transport http)", server, None),
        ("  the same + prometheus_client", both, server),
    ):
        extra = f" (+{ms - base:.1f} ms)" if base is not None else ""
        print(f"{label:<{width}}  {ms:10.1f} ms{extra}")


if __name__ == "__main__":
    main()
