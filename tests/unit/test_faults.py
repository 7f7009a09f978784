"""Faults injected by a real HTTP server on loopback, through the real transport.

Every scenario is bounded: small timeouts and backoff, a handful of requests per test.
"""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import NetworkError, RateLimitedError, UpstreamError
from dockerhub_cli.remote.circuit import CircuitOpenError
from dockerhub_cli.service import DockerHubService
from tests.support.cache import age_cache
from tests.support.faults import Fault, FaultServer, free_port

SEARCH = "/v2/search/repositories/"
HUB_BODY = {"count": 1, "next": None, "results": [{"repo_name": "nginx", "star_count": 3}]}
TAGS_BODY = {"name": "app", "tags": ["1.0", "2.0"]}


def fast(url: str, **overrides: object) -> Settings:
    base: dict[str, object] = {
        "hub_url": url,
        "registry_url": url,
        "retries": 2,
        "backoff_factor": 0.01,
        "max_retry_wait": 3.0,
        # Generous: a loaded 2-core CI machine can take over a second to answer on loopback, and
        # these scenarios are about faults, not time. The tests of time limits set their own.
        "timeout": 10.0,
        "connect_timeout": 5.0,
        "rate_limit_per_minute": 1000,
        "rate_limit_burst": 100,
    }
    base.update(overrides)
    return Settings.from_env(**base)


@pytest.fixture
def srv():
    with FaultServer(max_requests=60, max_seconds=20) as server:
        yield server


def expire_everything(service_or_settings: DockerHubService | Settings) -> int:
    """Age every cached response by a day (as if its TTL had passed)."""
    return age_cache(service_or_settings, everything=True)


FAST_CLI = {"retries": 2, "backoff_factor": 0.01, "connect_timeout": 5.0}


@pytest.fixture(autouse=True)
def fast_cli(monkeypatch):
    """The CLI builds its own Settings: give them small retries/backoff for these tests."""
    original = Settings.from_env.__func__  # type: ignore[attr-defined]

    def from_env(cls, **overrides):
        return original(
            cls, **{**FAST_CLI, **{k: v for k, v in overrides.items() if v is not None}}
        )

    monkeypatch.setattr(Settings, "from_env", classmethod(from_env))


def cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


# -- retries with backoff -------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_then_success_is_retried(srv, status):
    srv.script(SEARCH, Fault.status_only(status), Fault.status_only(status), Fault.json(HUB_BODY))
    with DockerHubService(fast(srv.url)) as svc:
        result = svc.search("nginx")
    assert [r.name for r in result.results] == ["nginx"]
    assert srv.hits(SEARCH) == 3
    assert result.stale is False


def test_persistent_5xx_is_a_clear_upstream_error(srv):
    srv.script(SEARCH, Fault.status_only(503))
    with DockerHubService(fast(srv.url)) as svc, pytest.raises(UpstreamError) as err:
        svc.search("nginx")
    assert "answered HTTP 503" in str(err.value)
    assert srv.hits(SEARCH) == 3  # 1 + 2 retries, then give up


def test_persistent_5xx_cli_exit_6_no_traceback(srv):
    srv.script(SEARCH, Fault.status_only(500))
    result = cli("search", "nginx", env={"DOCKERHUB_HUB_URL": srv.url})
    assert result.exit_code == 6
    assert "error:" in result.stderr and "HTTP 500" in result.stderr
    assert "Traceback" not in result.output


# -- 429 ------------------------------------------------------------------------------------


def test_429_retry_after_is_honoured_then_succeeds(srv):
    srv.script(SEARCH, Fault.status_only(429, **{"Retry-After": "1"}), Fault.json(HUB_BODY))
    started = time.monotonic()
    # The wall-clock deadline (DOCKERHUB_TIMEOUT) covers the wait: leave room for it.
    with DockerHubService(fast(srv.url, timeout=5.0)) as svc:
        result = svc.search("nginx")
    assert result.results and srv.hits(SEARCH) == 2
    assert time.monotonic() - started >= 0.9  # it did wait as told


def test_429_long_retry_after_is_not_slept_but_reported(srv):
    srv.script(SEARCH, Fault.status_only(429, **{"Retry-After": "120"}))
    started = time.monotonic()
    with DockerHubService(fast(srv.url)) as svc, pytest.raises(RateLimitedError) as err:
        svc.search("nginx")
    assert time.monotonic() - started < 2
    assert "rate limited" in str(err.value) and "retry in 120 s" in str(err.value)
    assert err.value.retry_after == pytest.approx(120, abs=1)
    assert srv.hits(SEARCH) == 1


def test_persistent_429_cli_exit_5(srv):
    srv.script(SEARCH, Fault.status_only(429, **{"Retry-After": "1"}))
    result = cli(
        "search",
        "nginx",
        # time enough for both waits: the limit met is the retry count, never the deadline
        env={"DOCKERHUB_HUB_URL": srv.url, "DOCKERHUB_TIMEOUT": "30"},
    )
    assert result.exit_code == 5, result.output
    assert "rate limited by 127.0.0.1" in result.stderr and "retry in 1 s" in result.stderr
    assert srv.hits(SEARCH) == 3  # honoured Retry-After twice (retries=2), then gave up


def test_a_retry_after_reaching_the_deadline_is_not_slept_into(srv):
    # Waiting 1 s inside a 1 s deadline could only end in a timeout (exit 6, "did not finish
    # answering"); the 429 is reported at once instead, with the server's wait.
    srv.script(SEARCH, Fault.status_only(429, **{"Retry-After": "1"}))
    result = cli("search", "nginx", env={"DOCKERHUB_HUB_URL": srv.url, "DOCKERHUB_TIMEOUT": "1"})
    assert result.exit_code == 5, result.output
    assert "rate limited by 127.0.0.1" in result.stderr and "retry in 1 s" in result.stderr
    assert srv.hits(SEARCH) == 1


# -- broken bodies --------------------------------------------------------------------------


def test_non_json_body_is_upstream_error_and_not_cached(srv):
    srv.script(SEARCH, Fault.text("<html>captive portal</html>"), Fault.json(HUB_BODY))
    with DockerHubService(fast(srv.url)) as svc:
        with pytest.raises(UpstreamError, match="not JSON"):
            svc.search("nginx")
        # the bad 200 was dropped from the cache: the next call asks again and succeeds
        assert svc.search("nginx").results
    assert srv.hits(SEARCH) == 2


def test_truncated_body_is_retried_once_then_clear_error(srv):
    srv.script(SEARCH, Fault.truncated(HUB_BODY))
    with DockerHubService(fast(srv.url)) as svc, pytest.raises(UpstreamError) as err:
        svc.search("nginx")
    assert "was cut off" in str(err.value)
    assert srv.hits(SEARCH) == 2


def test_truncated_body_then_good_body_succeeds(srv):
    srv.script(SEARCH, Fault.truncated(HUB_BODY), Fault.json(HUB_BODY))
    with DockerHubService(fast(srv.url)) as svc:
        assert svc.search("nginx").results


def test_reset_mid_body_is_clear_error(srv):
    srv.script(SEARCH, Fault.reset(HUB_BODY))
    result = cli("search", "nginx", env={"DOCKERHUB_HUB_URL": srv.url})
    assert result.exit_code == 6
    assert "error:" in result.stderr and "127.0.0.1" in result.stderr
    assert "Traceback" not in result.output


def test_closed_without_answer_is_retried_then_network_error(srv):
    srv.script(SEARCH, Fault.close())
    with DockerHubService(fast(srv.url)) as svc, pytest.raises(NetworkError) as err:
        svc.search("nginx")
    assert "127.0.0.1" in str(err.value)
    assert srv.hits(SEARCH) == 3


def test_close_then_success(srv):
    srv.script(SEARCH, Fault.close(), Fault.json(HUB_BODY))
    with DockerHubService(fast(srv.url)) as svc:
        assert svc.search("nginx").results


def test_read_timeout_is_network_error(srv):
    srv.script(SEARCH, Fault.slow(1.5, HUB_BODY))
    started = time.monotonic()
    with (
        DockerHubService(fast(srv.url, timeout=0.3, retries=1)) as svc,
        pytest.raises(NetworkError, match=r"within 0.3 s \(gave up after"),
    ):
        svc.search("nginx")
    assert time.monotonic() - started < 3


def test_connection_refused_cli(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = cli("search", "nginx", env={"DOCKERHUB_HUB_URL": url})
    assert result.exit_code == 6
    assert "cannot connect to 127.0.0.1" in result.stderr and "connection refused" in result.stderr


def test_registry_goes_away_and_comes_back():
    port = free_port()
    path = "/v2/app/tags/list"
    settings = fast("http://unused.invalid", no_cache=True, retries=1)
    with DockerHubService(settings) as svc:
        with FaultServer(max_seconds=10).start(port) as first:
            first.script(path, Fault.json(TAGS_BODY))
            assert [t.name for t in svc.tags(f"127.0.0.1:{port}/app").tags] == ["1.0", "2.0"]
        with pytest.raises(NetworkError, match="connection refused"):
            svc.tags(f"127.0.0.1:{port}/app")
        with FaultServer(max_seconds=10).start(port) as again:
            again.script(path, Fault.json({"name": "app", "tags": ["3.0"]}))
            assert [t.name for t in svc.tags(f"127.0.0.1:{port}/app").tags] == ["3.0"]


# -- stale-if-error -------------------------------------------------------------------------


def test_stale_entry_served_when_the_network_fails(srv, caplog):
    srv.script(SEARCH, Fault.json(HUB_BODY), Fault.status_only(503))
    with DockerHubService(fast(srv.url)) as svc:
        assert svc.search("nginx").stale is False
        assert expire_everything(svc) >= 1
        with caplog.at_level("WARNING", logger="dockerhub_cli"):
            result = svc.search("nginx")
        assert result.stale is True and [r.name for r in result.results] == ["nginx"]
        assert svc.health()["requests"]["stale_served"] == 1
    assert "showing cached data" in caplog.text and "HTTP 503" in caplog.text


def test_stale_cli_warns_on_stderr_and_marks_json(srv):
    env = {"DOCKERHUB_HUB_URL": srv.url}
    srv.script(SEARCH, Fault.json(HUB_BODY))
    assert cli("search", "nginx", "--json", env=env).exit_code == 0
    expire_everything(Settings.from_env())
    srv.stop()  # the host is gone
    result = cli("search", "nginx", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["stale"] is True
    assert "warning:" in result.stderr and "cannot connect" in result.stderr
    assert "out of date" in result.stderr


def test_stale_registry_tags_when_host_is_down():
    port = free_port()
    with DockerHubService(fast("http://unused.invalid", retries=0)) as svc:
        with FaultServer(max_seconds=10).start(port) as server:
            server.script("/v2/app/tags/list", Fault.json(TAGS_BODY))
            assert svc.tags(f"127.0.0.1:{port}/app").stale is False
        expire_everything(svc)
        result = svc.tags(f"127.0.0.1:{port}/app")
    assert result.stale is True and [t.name for t in result.tags] == ["1.0", "2.0"]


def test_no_stale_entry_means_a_clear_error(srv):
    srv.stop()
    with (
        DockerHubService(fast(srv.url, retries=0)) as svc,
        pytest.raises(NetworkError, match="cannot connect"),
    ):
        svc.search("nginx")


def test_fresh_cache_hit_makes_no_request_and_is_not_stale(srv):
    srv.script(SEARCH, Fault.json(HUB_BODY))
    with DockerHubService(fast(srv.url)) as svc:
        svc.search("nginx")
        again = svc.search("nginx")
    assert again.stale is False and srv.hits(SEARCH) == 1


def test_offline_serves_expired_entry_marked_stale(srv):
    srv.script(SEARCH, Fault.json(HUB_BODY))
    with DockerHubService(fast(srv.url)) as svc:
        svc.search("nginx")
        expire_everything(svc)
    with DockerHubService(fast(srv.url, offline=True)) as svc:
        result = svc.search("nginx")
    assert result.stale is True and srv.hits(SEARCH) == 1


# -- circuit breaker ------------------------------------------------------------------------


def test_circuit_breaker_opens_fails_fast_then_half_opens(srv):
    srv.script(SEARCH, Fault.status_only(503))
    settings = fast(
        srv.url,
        retries=0,
        no_cache=True,
        circuit_breaker=True,
        breaker_threshold=2,
        breaker_cooldown=0.5,
    )
    now = [1000.0]  # the breaker's clock: moved by hand, never slept on
    with DockerHubService(settings, clock=lambda: now[0]) as svc:
        for _ in range(2):
            with pytest.raises(UpstreamError):
                svc.search("nginx")
        assert srv.hits(SEARCH) == 2
        with pytest.raises(CircuitOpenError) as err:
            svc.search("nginx")
        assert f"circuit open for host {srv.host}" in str(err.value)
        assert "retrying in" in str(err.value)
        assert err.value.exit_code == 6
        assert srv.hits(SEARCH) == 2  # failed fast: the host was not contacted
        health = svc.health()
        assert health["ok"] is False
        assert health["circuit_breaker"]["hosts"][srv.host]["state"] == "open"
        now[0] += 0.4  # still cooling down: fails fast again
        with pytest.raises(CircuitOpenError):
            svc.search("nginx")
        assert srv.hits(SEARCH) == 2
        now[0] += 0.2  # past the 0.5 s cool-down
        srv.script(SEARCH, Fault.json(HUB_BODY))
        assert svc.search("nginx").results  # the half-open probe succeeds
        assert svc.health()["circuit_breaker"]["hosts"][srv.host]["state"] == "closed"


def test_circuit_open_serves_stale_cache(srv):
    srv.script(SEARCH, Fault.json(HUB_BODY), Fault.status_only(503))
    settings = fast(
        srv.url, retries=0, circuit_breaker=True, breaker_threshold=1, breaker_cooldown=30
    )
    with DockerHubService(settings) as svc:
        svc.search("nginx")
        expire_everything(svc)
        assert svc.search("nginx").stale is True  # 503 -> opens the circuit, stale answer
        assert svc.search("nginx").stale is True  # circuit open -> stale, no request
    assert srv.hits(SEARCH) == 2


def test_breaker_off_by_default_for_the_cli():
    assert Settings.from_env().circuit_breaker is False


def test_health_reports_cache_limiter_and_breaker(srv):
    srv.script("/api/search/v4", Fault.json({"total": 1, "results": [{"name": "library/nginx"}]}))
    with DockerHubService(fast(srv.url, circuit_breaker=True)) as svc:
        svc.search("nginx")
        health = svc.health()
    assert health["cache"]["backend"] == "sqlite"
    assert health["cache"]["location"].endswith("http_cache.sqlite")
    assert health["rate_limiter"][srv.host]["sent"] == 1
    assert health["circuit_breaker"]["enabled"] is True
    assert health["circuit_breaker"]["hosts"][srv.host]["state"] == "closed"
    json.dumps(health)  # serialisable for the MCP health route
