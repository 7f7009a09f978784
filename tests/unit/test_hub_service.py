"""DockerHubService.search / .tags against `responses` mocks of the Hub and registry APIs."""

from __future__ import annotations

import pytest
from responses import matchers

from dockerhub_cli import advice
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import (
    AuthError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    UpstreamError,
)
from dockerhub_cli.service import DockerHubService
from tests.unit.hub_fixtures import HUB, REGISTRY, load

TAGS_URL = f"{HUB}/v2/namespaces/portainer/repositories/agent/tags"
SITE_SEARCH = f"{HUB}/api/search/v4"


def site_search_down(rsps) -> None:
    """The site's search API answers 404: `search` falls back to the classic search."""
    rsps.get(SITE_SEARCH, status=404, json={"message": "not found", "errinfo": {}})


def test_search_maps_fields_and_reports_hub_total(rsps, service) -> None:
    site_search_down(rsps)
    rsps.get(
        f"{HUB}/v2/search/repositories/",
        json=load("search_nginx.json"),
        match=[matchers.query_param_matcher({"query": "nginx", "page": "1", "page_size": "3"})],
    )
    result = service.search("nginx", limit=3)
    assert result.count == 291220
    assert [r.name for r in result.results] == ["nginx", "nginx/nginx-ingress", "bitnami/nginx"]
    assert result.results[0].is_official and result.results[0].star_count == 21357
    assert result.results[2].description == "Bitnami container image for NGINX"
    assert result.source == "v2" and "site search is unavailable" in result.notes[0]


def test_search_second_call_is_served_from_cache(rsps, service) -> None:
    rsps.get(SITE_SEARCH, json=load("search_v4_postgres.json"))
    first = service.search("nginx", limit=3)
    network_after_first = service.transport.network_requests
    second = service.search("nginx", limit=3)
    assert first == second
    assert len(rsps.calls) == 1
    assert service.transport.network_requests == network_after_first == 1
    assert service.transport.cache_hits == 1


def test_second_process_reads_the_same_sqlite_cache(rsps) -> None:
    rsps.get(SITE_SEARCH, json=load("search_v4_postgres.json"))
    with DockerHubService(Settings.from_env()) as one:
        one.search("nginx")
    with DockerHubService(Settings.from_env()) as two:
        two.search("nginx")
        assert two.transport.network_requests == 0
    assert len(rsps.calls) == 1


def test_search_official_filter(rsps, service) -> None:
    site_search_down(rsps)
    rsps.get(f"{HUB}/v2/search/repositories/", json=load("search_nginx.json"))
    result = service.search("nginx", limit=3, official=True)
    assert [r.name for r in result.results] == ["nginx"]
    assert result.filtered and result.count == 291220


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"query": "x" * 101}, "at most 100 characters"),
        ({"query": "  "}, "empty"),
        ({"query": "nginx", "limit": 0}, "between 1 and 100"),
        ({"query": "nginx", "limit": 101}, "between 1 and 100"),
        ({"query": "nginx", "page": 0}, "at least 1"),
    ],
)
def test_search_rejects_bad_input_before_any_request(rsps, service, kwargs, words) -> None:
    query = kwargs.pop("query")
    with pytest.raises(InvalidInputError, match=words):
        service.search(query, **kwargs)
    assert len(rsps.calls) == 0


def test_hub_429_reports_the_wait(rsps, service) -> None:
    rsps.get(
        SITE_SEARCH,
        status=429,
        json={"detail": "Rate limit exceeded", "error": False},
        headers={"Retry-After": "42", "X-RateLimit-Limit": "180", "X-RateLimit-Remaining": "0"},
    )
    with pytest.raises(RateLimitedError) as info:
        service.search("nginx")
    assert info.value.retry_after == 42
    assert "retry in 42 s" in str(info.value)
    assert len(rsps.calls) == 1  # a wait longer than max_retry_wait is not retried


def test_hub_503_then_success_is_retried(rsps, service) -> None:
    rsps.get(SITE_SEARCH, status=503, body="unavailable")
    rsps.get(SITE_SEARCH, json=load("search_v4_postgres.json"))
    assert service.search("nginx").count == 10142
    assert len(rsps.calls) == 2


def test_hub_non_json_is_an_upstream_error(rsps, service) -> None:
    rsps.get(SITE_SEARCH, body="<html>oops</html>")  # -> the classic search, which also fails
    rsps.get(f"{HUB}/v2/search/repositories/", body="<html>oops</html>")
    with pytest.raises(UpstreamError, match="not JSON"):
        service.search("nginx")


def test_tags_page_from_hub(rsps, service) -> None:
    rsps.get(
        TAGS_URL,
        json=load("tags_portainer_agent_page1.json"),
        match=[
            matchers.query_param_matcher(
                {"page": "1", "page_size": "2", "ordering": "last_updated"}
            )
        ],
    )
    result = service.tags("portainer/agent", limit=2)
    assert result.source == "hub" and result.count == 3 and not result.complete
    first, second = result.tags
    assert first.name == "alpine-sts"
    assert first.last_pushed is not None and first.last_pushed.isoformat().startswith("2026-07-30")
    assert first.last_pulled is not None and first.last_pulled.isoformat().startswith("2026-08-07")
    assert first.platforms == ["linux/amd64", "linux/arm64", "linux/arm/v7"]  # no unknown/unknown
    assert first.size == 42927662
    assert first.digest == "sha256:d57c3d57774d524f9738d07e743a2e8d3d65ea74bc2a39bc17b20ac0fd768e75"
    assert first.last_updated is not None and first.last_updated.year == 2026
    assert second.platforms == ["linux/amd64"]


def test_tags_all_follows_next_verbatim(rsps, service) -> None:
    rsps.get(
        TAGS_URL,
        json=load("tags_portainer_agent_page1.json"),
        match=[
            matchers.query_param_matcher(
                {"page": "1", "page_size": "100", "ordering": "last_updated"}
            )
        ],
    )
    rsps.get(
        TAGS_URL,
        json=load("tags_portainer_agent_page2.json"),
        match=[
            matchers.query_param_matcher(
                {"page": "2", "page_size": "2", "ordering": "last_updated"}
            )
        ],
    )
    result = service.tags("portainer/agent", all_tags=True)
    assert [t.name for t in result.tags] == ["alpine-sts", "2.21.0", "2.20.3-alpine"]
    assert result.complete and result.count == 3 and result.page is None
    assert result.tags[2].platforms == ["linux/arm64/v8"]


def test_tags_filter_and_semver_sort(rsps, service) -> None:
    rsps.get(
        TAGS_URL,
        json=load("tags_portainer_agent_page1.json"),
        match=[matchers.query_param_matcher({"page": "1", "page_size": "100", "name": "2."})],
    )
    rsps.get(TAGS_URL, json=load("tags_portainer_agent_page2.json"))
    result = service.tags("portainer/agent", pattern="2.*", sort="semver")
    assert [t.name for t in result.tags] == ["2.21.0", "2.20.3-alpine"]
    assert result.count == 2 and result.complete


def test_tags_anonymous_deep_pagination_falls_back_to_registry(rsps, service) -> None:
    rsps.get(
        TAGS_URL,
        json=load("tags_portainer_agent_page1.json"),
        match=[
            matchers.query_param_matcher(
                {"page": "1", "page_size": "100", "ordering": "last_updated"}
            )
        ],
    )
    rsps.get(
        TAGS_URL,
        status=403,
        json={
            "message": "pagination offset too large for anonymous requests; sign in to page further",  # noqa: E501
            "errinfo": {},
        },
    )
    rsps.get(f"{REGISTRY}/v2/", status=401)  # never called: the challenge comes on the real path
    rsps.get(
        f"{REGISTRY}/v2/portainer/agent/tags/list",
        status=401,
        headers={
            "WWW-Authenticate": 'Bearer realm="https://auth.docker.io/token",'
            'service="registry.docker.io",scope="repository:portainer/agent:pull"'
        },
        json={"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
    )
    rsps.get(
        "https://auth.docker.io/token",
        json={"token": "T0K3N", "expires_in": 300},
        match=[
            matchers.query_param_matcher(
                {"service": "registry.docker.io", "scope": "repository:portainer/agent:pull"}
            )
        ],
    )
    rsps.get(
        f"{REGISTRY}/v2/portainer/agent/tags/list",
        json={"name": "portainer/agent", "tags": ["2.20.3-alpine", "2.21.0", "alpine-sts", "old"]},
        match=[matchers.header_matcher({"Authorization": "Bearer T0K3N"})],
    )
    result = service.tags("portainer/agent", all_tags=True)
    names = [t.name for t in result.tags]
    assert names[:2] == ["alpine-sts", "2.21.0"] and set(names[2:]) == {"2.20.3-alpine", "old"}
    assert result.complete and "refused deep pages" in result.notes[0]
    assert result.tags[-1].digest is None


def test_tags_unknown_repository(rsps, service) -> None:
    rsps.get(
        f"{HUB}/v2/namespaces/library/repositories/nope/tags",
        status=404,
        json={"message": "object not found", "errinfo": {}},
    )
    with pytest.raises(NotFoundError, match="tags of nope not found"):
        service.tags("nope")


def test_tags_private_repository_needs_login(rsps, service) -> None:
    rsps.get(
        f"{HUB}/v2/namespaces/acme/repositories/secret/tags",
        status=401,
        json={"message": "unauthorized", "errinfo": {}},
    )
    with pytest.raises(AuthError, match="DOCKERHUB_USERNAME"):
        service.tags("acme/secret")


def test_tags_from_a_registry_with_relative_link_pagination(rsps, service) -> None:
    base = "https://registry.example.com/v2/team/app/tags/list"
    rsps.get(
        base,
        json={"name": "team/app", "tags": ["1.0", "1.10", "1.2"]},
        headers={"Link": '</v2/team/app/tags/list?last=1.2&n=3>; rel="next"'},
        match=[matchers.query_param_matcher({"n": "1000"})],
    )
    rsps.get(
        base,
        json={"name": "team/app", "tags": ["latest", "v2.0.0"]},
        match=[matchers.query_param_matcher({"last": "1.2", "n": "3"})],
    )
    result = service.tags("registry.example.com/team/app", sort="semver", limit=10)
    assert [t.name for t in result.tags] == ["v2.0.0", "1.10", "1.2", "1.0", "latest"]
    assert result.source == "registry" and result.count == 5 and result.complete
    assert all(t.digest is None and t.size is None and t.platforms is None for t in result.tags)


def test_a_page_past_the_end_names_the_last_page(rsps, service) -> None:
    """`--page 999` answered "0 shown" and nothing else."""
    rsps.get(
        "https://registry.example.com/v2/team/app/tags/list",
        json={"name": "team/app", "tags": [f"1.{i}" for i in range(25)]},
    )
    result = service.tags("registry.example.com/team/app", limit=10, page=7)
    assert result.tags == [] and result.count == 25
    (note,) = result.notes
    assert note.startswith("page 7 is past the end: 25 tags make 3 page(s) of 10; the last is ")
    assert advice.param("page", "3") in note
    assert service.tags("registry.example.com/team/app", limit=10, page=3).notes == []


def test_registry_link_to_another_host_is_not_followed(rsps, service) -> None:
    base = "https://registry.example.com/v2/team/app/tags/list"
    rsps.get(
        base,
        json={"name": "team/app", "tags": ["1.0"]},
        headers={"Link": '<https://evil.example.net/v2/x/tags/list?n=1>; rel="next"'},
    )
    result = service.tags("registry.example.com/team/app")
    assert [t.name for t in result.tags] == ["1.0"]
    assert len(rsps.calls) == 1


def test_hub_credentials_are_exchanged_for_a_jwt(rsps, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_SECRET")
    rsps.post(
        f"{HUB}/v2/auth/token",
        json={"access_token": "header.eyJleHAiOjQxMDI0NDQ4MDB9.sig"},
        match=[matchers.json_params_matcher({"identifier": "alice", "secret": "dckr_pat_SECRET"})],
    )
    rsps.get(
        SITE_SEARCH,
        json=load("search_v4_postgres.json"),
        match=[
            matchers.header_matcher({"Authorization": "Bearer header.eyJleHAiOjQxMDI0NDQ4MDB9.sig"})
        ],
    )
    with DockerHubService(Settings.from_env()) as svc:
        assert svc.search("postgres").count == 10142
        assert svc.search("postgres").count == 10142
    assert [c.request.method for c in rsps.calls] == ["POST", "GET"]


def test_hub_login_refused(rsps, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_WRONG")
    rsps.post(
        f"{HUB}/v2/auth/token", status=401, json={"detail": "Incorrect authentication credentials"}
    )
    with DockerHubService(Settings.from_env()) as svc, pytest.raises(AuthError) as info:
        svc.search("nginx")
    assert "dckr_pat_WRONG" not in str(info.value)
    assert "alice" in str(info.value)


def test_tags_all_stops_when_hub_next_links_never_end(rsps, service, monkeypatch) -> None:
    """A `next` that always points at another page (or the same one, answered from the cache)
    must not walk forever: --all and the semver sort stop at a page cap, with a note."""
    import json
    from urllib.parse import parse_qs, urlsplit

    from dockerhub_cli.ops import tags as tags_module

    monkeypatch.setattr(tags_module, "MAX_HUB_TAG_PAGES", 4)

    def endless(request):  # every page names a new next page
        n = int(parse_qs(urlsplit(request.url).query).get("page", ["1"])[0])
        body = {"count": 10**6, "next": f"{TAGS_URL}?page={n + 1}&page_size=100", "results": []}
        return 200, {}, json.dumps(body)

    rsps.add_callback("GET", TAGS_URL, callback=endless)
    for sort in ("updated", "semver"):
        result = service.tags("portainer/agent", all_tags=True, sort=sort)  # type: ignore[arg-type]
        assert not result.complete and result.count is None
        assert "stopped after scanning 400 tags" in result.notes


def test_tags_all_stops_when_hub_next_links_back_to_a_page_already_read(rsps, service) -> None:
    """The same `next` again and again is a paging loop: the walk ends, incomplete, noted."""
    page = {"count": 10**6, "next": f"{TAGS_URL}?page=2&page_size=100", "results": []}
    rsps.get(TAGS_URL, json=page)
    result = service.tags("portainer/agent", all_tags=True)
    assert not result.complete and result.count is None
    assert any("paging loop" in n for n in result.notes)


def test_tags_registry_fallback_after_deep_pagination_is_capped(rsps, service, monkeypatch) -> None:
    import itertools

    from dockerhub_cli.ops import tags as tags_module
    from dockerhub_cli.remote.hub import PaginationLimitError

    monkeypatch.setattr(tags_module, "MAX_REGISTRY_TAG_PAGES", 3)

    def refuse(*args, **kwargs):
        raise PaginationLimitError("deep pages refused")

    monkeypatch.setattr(service.hub, "tags_page", refuse)
    pages = ([f"t{n}"] for n in itertools.count())
    monkeypatch.setattr(service.registry, "iter_tag_pages", lambda ref, **kw: pages)
    result = service.tags("portainer/agent", all_tags=True)
    assert [t.name for t in result.tags] == ["t0", "t1", "t2"]
    assert not result.complete and result.count is None
    assert any("stopped after 3 pages" in n for n in result.notes)


@pytest.mark.parametrize(
    "body",
    [
        {"count": 1, "results": 5},
        {"count": 1, "results": [{"name": "x", "images": 5}]},
        {"count": 1, "results": "not a list"},
    ],
)
def test_hub_lists_of_the_wrong_type_are_read_as_empty_not_a_crash(rsps, service, body) -> None:
    rsps.get(f"{HUB}/v2/search/repositories/", json=body)
    rsps.get(TAGS_URL, json=body)
    assert all(r.name in ("", "x") for r in service.search("nginx").results)
    assert all(t.platforms == [] for t in service.tags("portainer/agent").tags)


def test_repository_info_with_lists_of_the_wrong_type(rsps, service) -> None:
    rsps.get(
        f"{HUB}/v2/namespaces/portainer/repositories/agent",
        json={"name": "agent", "categories": 3, "media_types": 7},
    )
    rsps.get(TAGS_URL, json={"count": 2, "results": []})
    info = service.repository_info("portainer/agent")
    assert info.categories == [] and info.media_types == [] and info.tag_count == 2


def test_config_history_of_the_wrong_type_is_no_history() -> None:
    from dockerhub_cli.oci.manifest import parse_config

    assert parse_config(b'{"architecture": "amd64", "os": "linux", "history": 5}').history == []
