"""The HTTP layer: expiry per operation, rate limiting on cache misses only, retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from requests_cache import DO_NOT_CACHE, NEVER_EXPIRE
from requests_cache.policy.expiration import get_url_expiration

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.remote.ratelimit import HostRateLimiter
from dockerhub_cli.remote.transport import expiry_patterns, retry_after_seconds
from dockerhub_cli.service import DockerHubService
from tests.unit.hub_fixtures import HUB, load

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{HUB}/v2/search/repositories/?query=nginx", 300),
        (f"{HUB}/api/search/v4?custom_boosted_results=true&query=nginx&from=0&size=25", 300),
        (f"{HUB}/v2/namespaces/bitnami/repositories?page=1&page_size=25", 600),
        (f"{HUB}/v2/user/orgs?page=1&page_size=100", None),
        (f"{HUB}/v2/namespaces/library/repositories/nginx", 600),
        (f"{HUB}/v2/namespaces/library/repositories/nginx/tags?page=1", 1800),
        ("https://registry-1.docker.io/v2/library/nginx/tags/list?n=100", 1800),
        ("https://registry-1.docker.io/v2/library/nginx/manifests/latest", 3600),
        (f"https://registry-1.docker.io/v2/library/nginx/manifests/{D}", NEVER_EXPIRE),
        (f"http://127.0.0.1:5000/v2/a/b/c/blobs/{D}", NEVER_EXPIRE),
        ("https://auth.docker.io/token?service=registry.docker.io", None),
        ("https://registry-1.docker.io/v2/", None),
    ],
)
def test_expiry_per_operation(url: str, expected: object) -> None:
    patterns = expiry_patterns(Settings.from_env())
    assert get_url_expiration(url, patterns) == expected


def test_session_default_is_do_not_cache() -> None:
    with DockerHubService(Settings.from_env()) as svc:
        assert svc.session.settings.expire_after == DO_NOT_CACHE


def test_rate_limiter_counts_only_network_requests() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = HostRateLimiter(per_minute=60, burst=2, clock=lambda: clock[0], sleep=sleep)
    with (
        responses.RequestsMock() as rsps,
        DockerHubService(Settings.from_env(), limiter=limiter) as svc,
    ):
        rsps.get(f"{HUB}/api/search/v4", json=load("search_v4_postgres.json"))
        for _ in range(5):
            svc.search("nginx")  # one miss, four cache hits
        assert limiter.state["hub.docker.com"].sent == 1
        assert slept == []
        for query in ("a", "b", "c"):  # three misses: the third waits for the burst window
            svc.search(query)
        assert limiter.state["hub.docker.com"].sent == 4
        assert limiter.state["hub.docker.com"].throttled == 1
        assert slept and slept[0] == pytest.approx(2.0, abs=0.01)


def test_rate_limiter_per_host_is_independent() -> None:
    clock = [0.0]
    limiter = HostRateLimiter(per_minute=60, burst=1, clock=lambda: clock[0], sleep=lambda s: None)
    limiter.acquire("a.example")
    limiter.acquire("b.example")
    assert limiter.snapshot()["a.example"]["sent"] == 1
    assert limiter.snapshot()["b.example"]["throttled"] == 0


def test_retry_after_variants() -> None:
    import requests

    response = requests.Response()
    response.headers["Retry-After"] = "7"
    assert retry_after_seconds(response) == 7
    response = requests.Response()
    response.headers["X-Retry-After"] = "30"
    assert retry_after_seconds(response) == 30
    assert retry_after_seconds(requests.Response()) is None


def test_timedelta_ttls_are_seconds() -> None:
    ttl = Settings.from_env().ttls
    assert timedelta(seconds=ttl["search"]) == timedelta(minutes=5)
    assert timedelta(seconds=ttl["manifest_by_tag"]) == timedelta(hours=1)


def test_an_oversized_reply_is_refused_before_it_is_read(rsps, service) -> None:
    from dockerhub_cli.errors import UpstreamError
    from dockerhub_cli.remote.transport import MAX_RESPONSE_BYTES

    rsps.get(
        "https://registry.example.com/v2/team/app/tags/list",
        body=b'{"name": "team/app", "tags": []}',
        headers={"Content-Length": str(MAX_RESPONSE_BYTES + 1)},
        auto_calculate_content_length=False,
    )
    with pytest.raises(UpstreamError, match="more than this tool reads"):
        service.tags("registry.example.com/team/app")
