"""Issue 19, goal 3: Docker Hub's 404s ("not on Docker Hub", "no such tag") are negative facts
kept in the HTTP cache for `[cache.ttls] not_found` seconds, per identity, so that a warm run of
a docker.io image the Hub API does not know sends nothing (remote/hub.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import responses
from responses import matchers

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import NotFoundError, OfflineCacheMissError
from dockerhub_cli.remote.hub import NOT_FOUND_FOR
from dockerhub_cli.service import DockerHubService
from tests.support.cache import age_cache
from tests.unit import registry_fixtures as fx

HUB = "https://hub.docker.com"
REPO = f"{HUB}/v2/namespaces/acme/repositories/tool"
TAG = f"{REPO}/tags/1.0"
# API.md section A.2: the bodies the Hub sends for a missing repository and a missing tag.
REPO_404 = {"message": "object not found", "errinfo": {}}
TAG_404 = {
    "message": "httperror 404: tag '1.0' not found",
    "errinfo": {"namespace": "acme", "repository": "tool", "tag": "1.0"},
}
JWT = "header.eyJleHAiOjQxMDI0NDQ4MDB9.sig"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _hub_gets(rsps: responses.RequestsMock) -> list[str]:
    return [c.request.url or "" for c in rsps.calls if (c.request.url or "").startswith(HUB)]


def _only_on_the_registry(rsps: responses.RequestsMock) -> None:
    """docker.io/acme/tool:1.0 is served by the registry; the Hub API knows neither the
    repository nor the tag (a 404 for both, as for a name the Hub has no page for)."""
    reg = fx.FakeRegistry(rsps, "https://registry-1.docker.io", "acme/tool")
    reg.gitea("1.0")
    rsps.get(REPO, status=404, json=REPO_404)
    rsps.get(TAG, status=404, json=TAG_404)


def _inspect_notes(**settings: object) -> list[str]:
    with DockerHubService(Settings.from_env(backoff_factor=0.0, **settings)) as svc:
        return svc.inspect("acme/tool:1.0").notes


def test_a_warm_inspect_of_an_image_not_on_the_hub_asks_the_hub_nothing(rsps) -> None:
    _only_on_the_registry(rsps)
    first = _inspect_notes()
    hub_requests = len(_hub_gets(rsps))
    assert hub_requests == 2  # the repository, the tag (read twice, sent once)
    assert any("repository facts unavailable" in n and "not found" in n for n in first)

    # A new process on the same cache: the same notes, and not one request anywhere.
    before = len(rsps.calls)
    again = _inspect_notes()
    assert again == first
    assert len(rsps.calls) == before


def test_a_not_found_fact_expires_and_is_asked_again(rsps) -> None:
    rsps.get(REPO, status=404, json=REPO_404)
    with DockerHubService(Settings.from_env()) as svc:
        with pytest.raises(NotFoundError, match="repository acme/tool not found"):
            svc.clients.hub.repository("acme", "tool")
        key, cached = svc.transport.peek("GET", REPO, {"Accept": "application/json"}) or ("", None)
        assert cached is not None and cached.status_code == 404
        # The documented lifetime: `not_found`, 5 minutes by default.
        left = cached.expires.replace(tzinfo=UTC) - datetime.now(UTC)
        assert 240 < left.total_seconds() <= 300
        assert age_cache(svc) >= 1
        rsps.replace("GET", REPO, json={"name": "tool", "namespace": "acme", "pull_count": 3})
        assert svc.clients.hub.repository("acme", "tool")["pull_count"] == 3
    assert len(_hub_gets(rsps)) == 2


def test_the_not_found_ttl_is_configurable_and_zero_keeps_none(rsps, tmp_path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[cache.ttls]\nnot_found = 0\n")
    monkeypatch.setenv("DOCKERHUB_CONFIG", str(config))
    rsps.get(REPO, status=404, json=REPO_404)
    for _ in range(2):
        with DockerHubService(Settings.from_env()) as svc, pytest.raises(NotFoundError):
            svc.clients.hub.repository("acme", "tool")
    assert len(_hub_gets(rsps)) == 2


def test_no_cache_asks_again_and_refreshes_the_fact(rsps) -> None:
    rsps.get(REPO, status=404, json=REPO_404)
    with DockerHubService(Settings.from_env()) as svc, pytest.raises(NotFoundError):
        svc.clients.hub.repository("acme", "tool")
    # --no-cache reads nothing from the cache: the repository has been created meanwhile.
    rsps.replace("GET", REPO, json={"name": "tool", "namespace": "acme", "pull_count": 1})
    with DockerHubService(Settings.from_env(no_cache=True)) as svc:
        assert svc.clients.hub.repository("acme", "tool")["pull_count"] == 1
    # The next plain run sees that answer (a 200 now cached), not the old 404.
    with DockerHubService(Settings.from_env()) as svc:
        assert svc.clients.hub.repository("acme", "tool")["pull_count"] == 1
    assert len(_hub_gets(rsps)) == 2


def test_offline_answers_not_found_from_the_fact(rsps) -> None:
    rsps.get(REPO, status=404, json=REPO_404)
    with DockerHubService(Settings.from_env()) as svc, pytest.raises(NotFoundError):
        svc.clients.hub.repository("acme", "tool")
    with DockerHubService(Settings.from_env(offline=True)) as svc:
        with pytest.raises(NotFoundError, match="repository acme/tool not found"):
            svc.clients.hub.repository("acme", "tool")
        # A name never asked about is a cache miss, as before.
        with pytest.raises(OfflineCacheMissError):
            svc.clients.hub.repository("acme", "other")
    assert len(_hub_gets(rsps)) == 1


def test_an_anonymous_not_found_is_not_believed_by_a_signed_in_user(rsps, monkeypatch) -> None:
    """A private repository is a 404 to anonymous callers: once signed in, the Hub is asked
    again; the signed-in answer (a 200 here) is what later runs of that user see."""
    rsps.get(REPO, status=404, json=REPO_404)
    with DockerHubService(Settings.from_env()) as svc, pytest.raises(NotFoundError):
        svc.clients.hub.repository("acme", "tool")
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_SECRET")
    rsps.post(f"{HUB}/v2/auth/token", json={"access_token": JWT})
    rsps.replace(
        "GET",
        REPO,
        json={"name": "tool", "namespace": "acme", "is_private": True},
        match=[matchers.header_matcher({"Authorization": f"Bearer {JWT}"})],
    )
    with DockerHubService(Settings.from_env()) as svc:
        assert svc.clients.hub.repository("acme", "tool")["is_private"] is True
    gets = [c for c in rsps.calls if c.request.method == "GET"]
    assert len(gets) == 2


def test_a_signed_in_not_found_is_kept_for_that_user_only(rsps, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_SECRET")
    rsps.post(f"{HUB}/v2/auth/token", json={"access_token": JWT})
    rsps.get(REPO, status=404, json=REPO_404)
    for _ in range(2):
        with DockerHubService(Settings.from_env()) as svc, pytest.raises(NotFoundError):
            svc.clients.hub.repository("acme", "tool")
        # The cached entry names whose answer it is, never the user name or a secret.
        _, cached = svc.transport.peek("GET", REPO, {"Accept": "application/json"}) or ("", None)
        marker = cached.headers[NOT_FOUND_FOR]
        assert marker.startswith("user:") and "alice" not in marker
        assert "Authorization" not in cached.request.headers
    assert len([c for c in rsps.calls if c.request.method == "GET"]) == 1
    monkeypatch.setenv("DOCKERHUB_USERNAME", "bob")
    with DockerHubService(Settings.from_env()) as svc, pytest.raises(NotFoundError):
        svc.clients.hub.repository("acme", "tool")
    assert len([c for c in rsps.calls if c.request.method == "GET"]) == 2


def test_a_saved_result_built_on_a_not_found_lasts_no_longer_than_the_fact(rsps) -> None:
    _only_on_the_registry(rsps)
    with DockerHubService(Settings.from_env(backoff_factor=0.0)) as svc:
        with svc.transport.tracking() as stats:
            svc.inspect("acme/tool:1.0")
        _, cached = svc.transport.peek("GET", REPO, {"Accept": "application/json"}) or ("", None)
        fact_expires = cached.expires.replace(tzinfo=UTC).timestamp()
    assert stats.reusable and stats.reuse_until is not None
    assert stats.reuse_until <= fact_expires + 1
