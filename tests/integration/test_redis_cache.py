"""Shared cache on a real redis-server (Debian package) started on a free loopback port.

Skipped with a reason when redis-server is missing; a failure instead when CI=true.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.service import DockerHubService
from tests.integration.conftest import require_binaries
from tests.support.faults import Fault, FaultServer
from tests.support.registry import start_redis
from tests.unit.test_faults import expire_everything, fast

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SEARCH = "/api/search/v4"  # the site search, which `search` asks first
BODY = {"total": 1, "results": [{"name": "library/nginx"}]}


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private redis-server per test (one test shuts it down), from the shared harness."""
    require_binaries("redis-server")
    server = start_redis(tmp_path / "redis")
    try:
        yield server.url
    finally:
        server.stop()


def test_two_services_share_one_redis_cache(redis_url):
    with FaultServer(max_requests=20, max_seconds=20) as srv:
        srv.script(SEARCH, Fault.json(BODY))
        with (
            DockerHubService(fast(srv.url, cache_backend=redis_url)) as one,
            DockerHubService(fast(srv.url, cache_backend=redis_url)) as two,
        ):
            assert one.search("nginx").results
            assert two.search("nginx").results  # served from the shared cache
            assert two.transport.network_requests == 0 and two.transport.cache_hits == 1
            assert one.health()["cache"]["backend"] == "redis"
        # and a separate CLI process, configured only by the environment
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DOCKERHUB_HUB_URL": srv.url,
            "DOCKERHUB_CACHE_BACKEND": redis_url,
        }
        done = subprocess.run(
            [sys.executable, "-m", "dockerhub_cli", "search", "nginx", "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["results"][0]["name"] == "nginx"
        assert srv.hits(SEARCH) == 1


def test_cache_info_and_clear_on_redis(redis_url):
    with FaultServer(max_requests=20, max_seconds=20) as srv:
        srv.script(SEARCH, Fault.json(BODY))
        with DockerHubService(fast(srv.url, cache_backend=redis_url)) as svc:
            svc.search("a")
            svc.search("b")
            expire_everything(svc)
            svc.search("c")
    runner = CliRunner()
    info = runner.invoke(app, ["--cache-backend", redis_url, "cache", "info", "--json"])
    assert info.exit_code == 0, info.output
    data = json.loads(info.stdout)
    assert (data["backend"], data["location"], data["entries"], data["expired"]) == (
        "redis",
        redis_url,
        3,
        2,
    )
    cleared = runner.invoke(
        app, ["cache", "clear", "--expired", "--json", "--cache-backend", redis_url]
    )
    assert json.loads(cleared.stdout)["removed"] == 2
    cleared = runner.invoke(app, ["cache", "clear", "--json", "--cache-backend", redis_url])
    assert json.loads(cleared.stdout)["remaining"] == 0


def test_stale_answer_from_redis_when_the_hub_fails(redis_url):
    with FaultServer(max_requests=20, max_seconds=20) as srv:
        srv.script(SEARCH, Fault.json(BODY), Fault.status_only(503))
        with DockerHubService(fast(srv.url, cache_backend=redis_url, retries=0)) as svc:
            svc.search("nginx")
            expire_everything(svc)
            assert svc.search("nginx").stale is True


def test_redis_going_down_degrades_to_the_network(redis_url, caplog):
    import redis

    with FaultServer(max_requests=20, max_seconds=20) as srv:
        srv.script(SEARCH, Fault.json(BODY))
        with DockerHubService(fast(srv.url, cache_backend=redis_url)) as svc:
            assert svc.search("one").results
            redis.Redis.from_url(redis_url).shutdown(nosave=True)
            with caplog.at_level("WARNING", logger="dockerhub_cli"):
                assert svc.search("two").results
                assert svc.search("three").results
    assert caplog.text.count("going to the network directly") == 1
    assert srv.hits(SEARCH) == 3
