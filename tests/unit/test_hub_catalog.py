"""`repos`, `orgs`, the site search with its fallback, and `readme` (issue 20), against
`responses` mocks shaped as Docker Hub sends them; tests/fixtures/hub/SOURCES.md says where each
fixture's shape comes from (Docker's Hub API reference, docker/hub-mcp's source)."""

from __future__ import annotations

import pytest
from responses import matchers

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import AuthError, InvalidInputError, NotFoundError
from dockerhub_cli.exitcodes import ExitCode
from dockerhub_cli.ops.hub_catalog import pull_bucket
from dockerhub_cli.service import DockerHubService
from tests.unit.hub_fixtures import HUB, load

REPOS = f"{HUB}/v2/namespaces/bitnami/repositories"
PAGE2 = f"{REPOS}?ordering=last_updated&page=2&page_size=2"
SITE_SEARCH = f"{HUB}/api/search/v4"
CLASSIC_SEARCH = f"{HUB}/v2/search/repositories/"
PAGINATION_403 = {
    "message": "pagination offset too large for anonymous requests; sign in to page further",
    "errinfo": {},
}
JWT = "header.eyJleHAiOjQxMDI0NDQ4MDB9.sig"


def _query(call) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(call.request.url).query))


# -- repos ------------------------------------------------------------------------------------


def test_repos_one_page_sorted_by_the_hub(rsps, service) -> None:
    rsps.get(
        REPOS,
        json=load("repos_bitnami_page1.json"),
        match=[
            matchers.query_param_matcher({"page": "1", "page_size": "2", "ordering": "pull_count"})
        ],
    )
    result = service.repositories("bitnami", limit=2, sort="pulls")
    assert result.count == 3 and result.page == 1 and not result.complete
    redis, chart = result.repositories
    assert (redis.repository, redis.pull_count, redis.star_count) == (
        "bitnami/redis",
        1024356789,
        310,
    )
    assert redis.visibility == "public" and redis.content_types == ["image"]
    assert redis.categories == ["Databases & storage"] and redis.storage_size == 288723114800
    assert redis.last_updated is not None and redis.last_updated.year == 2026
    # A Helm chart repository: its content type says so; repository_type is null.
    assert chart.content_types == ["helm"] and chart.repository_type is None
    assert "application/vnd.cncf.helm.config.v1+json" in chart.media_types
    assert chart.archived is None  # the list entry has no archived field: unknown, not false
    assert len(rsps.calls) == 1


def test_repos_all_follows_next_and_is_complete(rsps, service) -> None:
    rsps.get(
        REPOS,
        json=load("repos_bitnami_page1.json"),
        match=[
            matchers.query_param_matcher({"page": "1", "page_size": "100", "ordering": "-name"})
        ],
    )
    rsps.get(PAGE2, json=load("repos_bitnami_page2.json"))
    result = service.repositories("bitnami", all_repos=True, sort="name")
    assert [r.name for r in result.repositories] == ["charts-redis", "postgresql", "redis"]
    assert result.complete and result.count == 3 and result.page is None
    assert result.repositories[1].content_types == ["image", "unrecognized"]


def test_repos_anonymous_paging_cap_is_partial_and_says_so(rsps, service) -> None:
    rsps.get(
        REPOS,
        json=load("repos_bitnami_page1.json"),
        match=[matchers.query_param_matcher({"page": "1"}, strict_match=False)],
    )
    rsps.get(PAGE2, status=403, json=PAGINATION_403)
    result = service.repositories("bitnami", all_repos=True)
    assert [r.name for r in result.repositories] == ["redis", "charts-redis"]
    assert not result.complete and result.count is None
    assert "refuses deep pages to anonymous callers" in result.notes[0]


def test_repos_type_filter_is_sent_and_checked(rsps, service) -> None:
    rsps.get(
        REPOS,
        json=load("repos_bitnami_page1.json"),
        match=[matchers.query_param_matcher({"page": "1"}, strict_match=False)],
    )
    rsps.get(PAGE2, json=load("repos_bitnami_page2.json"))
    result = service.repositories("bitnami", content_type="Helm-Chart")
    assert _query(rsps.calls[0])["content_types"] == "helm"
    # The Hub may ignore the parameter: only helm repositories are kept either way.
    assert [r.name for r in result.repositories] == ["charts-redis"] and result.complete


def test_repos_glob_filter_sends_its_literal_part(rsps, service) -> None:
    rsps.get(
        REPOS,
        json=load("repos_bitnami_page1.json"),
        match=[matchers.query_param_matcher({"page": "1"}, strict_match=False)],
    )
    rsps.get(PAGE2, json=load("repos_bitnami_page2.json"))
    result = service.repositories("bitnami", pattern="redis*")
    assert _query(rsps.calls[0])["name"] == "redis"
    assert [r.name for r in result.repositories] == ["redis"]


def test_repos_sorted_by_stars_reads_every_page(rsps, service) -> None:
    rsps.get(
        REPOS,
        json=load("repos_bitnami_page1.json"),
        match=[matchers.query_param_matcher({"page": "1"}, strict_match=False)],
    )
    rsps.get(PAGE2, json=load("repos_bitnami_page2.json"))
    result = service.repositories("bitnami", sort="stars", limit=2)
    assert "ordering" not in _query(rsps.calls[0])  # the Hub cannot sort by stars
    assert [r.name for r in result.repositories] == ["postgresql", "redis"]
    assert result.count == 3 and not result.complete  # page 1 of 2


def test_repos_unknown_namespace_and_past_the_end(rsps, service) -> None:
    rsps.get(REPOS, status=404, json={"message": "object not found", "errinfo": {}})
    with pytest.raises(NotFoundError, match="namespace bitnami not found"):
        service.repositories("bitnami")
    result = service.repositories("bitnami", page=9)
    assert result.repositories == [] and "past the last page" in result.notes[0]


@pytest.mark.parametrize("namespace", ["", "Bitnami", "../etc", "a/b", "x" * 256, "bit nami"])
def test_repos_rejects_bad_namespaces_before_any_request(rsps, service, namespace) -> None:
    with pytest.raises(InvalidInputError):
        service.repositories(namespace)
    assert len(rsps.calls) == 0


# -- orgs -------------------------------------------------------------------------------------


def test_orgs_anonymous_is_an_auth_error_not_an_empty_list(rsps, service) -> None:
    with pytest.raises(AuthError, match="signed-in Docker Hub account") as info:
        service.organisations()
    assert info.value.exit_code == ExitCode.AUTH
    assert "dockerhub login" in str(info.value)  # the hint names the command (as data)
    assert len(rsps.calls) == 0


def test_orgs_of_the_signed_in_account(rsps, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_SECRET")
    rsps.post(f"{HUB}/v2/auth/token", json={"access_token": JWT})
    rsps.get(
        f"{HUB}/v2/user/orgs",
        json=load("orgs_page1.json"),
        match=[
            matchers.header_matcher({"Authorization": f"Bearer {JWT}"}),
            matchers.query_param_matcher({"page": "1", "page_size": "100"}),
        ],
    )
    with DockerHubService(Settings.from_env()) as svc:
        result = svc.organisations()
    assert result.username == "alice" and result.count == 2 and result.complete
    acme, labs = result.organisations
    assert (acme.name, acme.full_name, acme.role, acme.plan) == (
        "acme",
        "ACME Corp",
        "owner",
        "team",
    )
    assert labs.groups == ["developers", "ci"] and labs.full_name is None
    assert "personal namespace alice" in result.notes[0]


# -- search -----------------------------------------------------------------------------------


def test_site_search_sends_the_filters_and_maps_the_reply(rsps, service) -> None:
    rsps.get(SITE_SEARCH, json=load("search_v4_postgres.json"))
    result = service.search(
        "postgres",
        limit=3,
        page=2,
        badges=["official", "verified", "open-source"],
        architectures=["ARM64"],
        operating_systems=["linux"],
        categories=["databases-and-storage"],
        sort="pulls",
    )
    assert _query(rsps.calls[0]) == {
        "custom_boosted_results": "true",
        "query": "postgres",
        "from": "3",
        "size": "3",
        "badges": "official,verified_publisher,open_source",
        "architectures": "arm64",
        "operating_systems": "linux",
        "categories": "databases-and-storage",
        "sort": "pull_count",
        "order": "desc",
    }
    assert result.source == "v4" and result.count == 10142 and result.offset == 3
    assert result.page == 2
    postgres, bitnami = result.results  # the third (badge none) did not match the badges
    assert postgres.name == "postgres" and postgres.is_official and postgres.badge == "official"
    assert postgres.pull_count == 10**9 and postgres.pull_count_label == "1B+"
    assert postgres.publisher == "Docker" and "ppc64le" in postgres.architectures
    assert postgres.categories == ["databases-and-storage"] and postgres.archived is False
    assert bitnami.badge == "verified_publisher" and not bitnami.is_official
    assert result.filtered and "did not match the filters" in result.notes[0]


def test_site_search_archived_community_repository(rsps, service) -> None:
    rsps.get(SITE_SEARCH, json=load("search_v4_postgres.json"))
    result = service.search("postgres", offset=0)
    circleci = result.results[2]
    assert circleci.archived is True and circleci.badge is None  # "none" means community
    assert circleci.pull_count == 100 * 10**6 and not result.notes


def test_site_search_outage_falls_back_and_names_what_was_not_applied(rsps, service) -> None:
    rsps.get(SITE_SEARCH, status=503, body="upstream connect error")
    rsps.get(CLASSIC_SEARCH, json=load("search_nginx.json"))
    result = service.search(
        "nginx", limit=3, badges=["official", "verified"], architectures=["arm64"], sort="updated"
    )
    assert result.source == "v2"
    assert [r.name for r in result.results] == ["nginx"]  # official: applied on the page
    assert result.filtered
    assert "site search is unavailable" in result.notes[0]
    assert result.notes[1] == (
        "filters NOT applied (the classic search has none): badge verified_publisher, "
        "architecture arm64, sort updated (desc)"
    )
    site_calls = [c for c in rsps.calls if "/api/search/v4" in c.request.url]
    # A second search in the same process does not wait on the failed API again.
    service.search("redis", limit=3)
    assert [c for c in rsps.calls if "/api/search/v4" in c.request.url] == site_calls


def test_site_search_network_failure_falls_back(rsps, service) -> None:
    from requests.exceptions import ConnectionError as RequestsConnectionError

    rsps.get(SITE_SEARCH, body=RequestsConnectionError("connection refused"))
    rsps.get(CLASSIC_SEARCH, json=load("search_nginx.json"))
    result = service.search("nginx", limit=3, offset=4)
    assert result.source == "v2" and result.offset == 3
    assert _query(rsps.calls[-1])["page"] == "2"
    assert any("results start at 3" in n for n in result.notes)


def test_site_search_refusing_a_filter_is_an_input_error(rsps, service) -> None:
    rsps.get(SITE_SEARCH, status=400, json={"message": "invalid categories"})
    with pytest.raises(InvalidInputError, match="refused"):
        service.search("nginx", categories=["no-such-category"])
    assert all("/api/search/v4" in c.request.url for c in rsps.calls)


def test_automated_uses_the_classic_search(rsps, service) -> None:
    rsps.get(CLASSIC_SEARCH, json=load("search_nginx.json"))
    result = service.search("nginx", automated=True)
    assert result.source == "v2" and result.results == [] and result.filtered
    assert all("/v2/search" in c.request.url for c in rsps.calls)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"badges": ["gold"]}, "unknown badge"),
        ({"order": "asc"}, "needs a sort"),
        ({"sort": "stars"}, "pulls or updated"),
        ({"architectures": ["a,b"]}, "not a valid architecture"),
        ({"offset": -1}, "offset must be"),
    ],
)
def test_search_filters_are_checked_before_any_request(rsps, service, kwargs, words) -> None:
    with pytest.raises(InvalidInputError, match=words):
        service.search("nginx", **kwargs)
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1B+", 10**9),
        ("500M+", 5 * 10**8),
        ("10K+", 10_000),
        ("1.5M+", 1_500_000),
        (42, 42),
        ("?", 0),
    ],
)
def test_pull_buckets(value, expected) -> None:
    assert pull_bucket(value) == expected


# -- readme -------------------------------------------------------------------------------------


def test_readme_is_the_full_description_with_lf_line_ends(rsps, service) -> None:
    rsps.get(f"{HUB}/v2/namespaces/library/repositories/nginx", json=load("repository_nginx.json"))
    result = service.readme("nginx:1.27")
    assert result.markdown.startswith("# Quick reference\n\n-\t**Maintained by**")
    assert "\r" not in result.markdown and result.length == len(result.markdown)
    assert result.url == "https://hub.docker.com/_/nginx" and result.publisher_text


def test_readme_elsewhere_is_refused(rsps, service) -> None:
    with pytest.raises(InvalidInputError, match="only for Docker Hub"):
        service.readme("ghcr.io/org/app")
    assert len(rsps.calls) == 0


def test_site_search_is_asked_again_after_the_retry_window(rsps, service) -> None:
    now = [1000.0]
    service.hub.clock = lambda: now[0]
    rsps.get(SITE_SEARCH, status=404, json={"message": "not found", "errinfo": {}})
    rsps.get(CLASSIC_SEARCH, json=load("search_nginx.json"))
    assert service.search("nginx").source == "v2"
    now[0] += 299
    assert "not asked again yet" in service.search("redis").notes[0]
    rsps.replace("GET", SITE_SEARCH, json=load("search_v4_postgres.json"))
    now[0] += 2
    assert service.search("postgres").source == "v4"
