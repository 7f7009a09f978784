"""A fleet shares one budget (issue 19, goal 6): with the Redis cache backend, services in
separate processes draw from one client-side rate limit per upstream host, kept in a real
redis-server by the `limits` library.

Three processes each want 15 different Docker Hub API answers (cache misses, so each one is a
request) under a budget of 20 a minute with no waiting allowed (`max_retry_wait=0`: a request
over the budget fails at once with "rate limited"). The loopback Hub stand-in counts what
arrives: 20, not 45, and every process was refused some. Nothing is timed: the only clock fact
used is that the run fits in one minute (the budget's window), which the test checks by
counting the seconds between the first and last request the server saw.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import require_binaries
from tests.support.faults import Fault, FaultServer
from tests.support.registry import start_redis

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BUDGET = 20
WANTS = 15
REPLICAS = 3

CHILD = f"""
import json, sys
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import DockerHubError, RateLimitedError
from dockerhub_cli.service import DockerHubService

hub, redis_url, name, wants = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
settings = Settings.from_env(
    read_config=False,
    hub_url=hub,
    cache_backend=redis_url,
    rate_limit_per_minute={BUDGET},
    rate_limit_burst={BUDGET},
    max_retry_wait=0.0,
    retries=0,
    timeout=5.0,
)
sent = refused = 0
with DockerHubService(settings) as svc:
    assert type(svc.limiter).__name__ == "SharedHostRateLimiter"
    print("ready", flush=True)
    sys.stdin.readline()  # all replicas start together
    for i in range(wants):
        try:
            svc.hub.get_json(f"/v2/namespaces/{{name}}/repositories/r{{i}}", what="repo")
            sent += 1
        except RateLimitedError:
            refused += 1
        except DockerHubError as exc:
            print(json.dumps({{"error": str(exc)}}), flush=True)
            raise SystemExit(1)
    snap = svc.limiter.snapshot()
print(json.dumps({{"sent": sent, "refused": refused, "snapshot": snap}}), flush=True)
"""


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    require_binaries("redis-server")
    server = start_redis(tmp_path / "redis")
    try:
        yield server.url
    finally:
        server.stop()


def test_three_processes_share_one_budget_per_host(redis_url) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env = {k: v for k, v in env.items() if not k.startswith("DOCKERHUB_")}
    with FaultServer(max_requests=REPLICAS * WANTS + 10, max_seconds=60) as srv:
        for r in range(REPLICAS):
            for i in range(WANTS):
                srv.script(f"/v2/namespaces/p{r}/repositories/r{i}", Fault.json({"name": f"r{i}"}))
        seen_at: list[float] = []
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, srv.url, redis_url, f"p{r}", str(WANTS)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for r in range(REPLICAS)
        ]
        try:
            for p in procs:
                assert p.stdout is not None and p.stdout.readline().strip() == "ready"
            started = time.monotonic()
            for p in procs:
                assert p.stdin is not None
                p.stdin.write("go\n")
                p.stdin.flush()
            results = []
            for p in procs:
                out, err = p.communicate(timeout=120)
                assert p.returncode == 0, err[-2000:]
                results.append(json.loads(out.strip().splitlines()[-1]))
            seen_at.append(time.monotonic() - started)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
        arrived = srv.hits()
    # the run fits in the budget's one-minute window, so the budget is the whole story
    assert seen_at[0] < 60
    assert arrived == sum(r["sent"] for r in results) == BUDGET
    assert sum(r["refused"] for r in results) == REPLICAS * WANTS - BUDGET
    assert all(r["refused"] > 0 for r in results)  # nobody had a budget of its own
    assert all(r["snapshot"][srv.host]["shared"] for r in results)


def test_without_redis_each_process_has_its_own_budget(tmp_path: Path) -> None:
    """The control: the in-memory limiter of the SQLite backend is per process."""
    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.remote.ratelimit import HostRateLimiter
    from dockerhub_cli.service import DockerHubService

    with DockerHubService(
        Settings.from_env(read_config=False, cache_dir=tmp_path, hub_url="http://127.0.0.1:9")
    ) as svc:
        assert type(svc.limiter) is HostRateLimiter


def test_an_unreachable_redis_falls_back_to_a_budget_of_its_own() -> None:
    from dockerhub_cli.remote.shared_ratelimit import SharedHostRateLimiter

    slept: list[float] = []
    limiter = SharedHostRateLimiter(
        "redis://127.0.0.1:9/0", 60, 1, hosts={"hub.docker.com"}, sleep=slept.append
    )
    limiter.acquire("hub.docker.com")  # Redis refuses: warned once, then limited locally
    limiter.acquire("registry.example.com")
    assert limiter.snapshot()["hub.docker.com"]["sent"] == 1
    assert limiter.snapshot()["registry.example.com"]["limited"] is False
