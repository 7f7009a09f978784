"""Bad input, property-based: only clear usage errors (exit 2), never a traceback, never a
request to an unintended host or path."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.errors import InvalidInputError, InvalidReferenceError
from dockerhub_cli.oci.reference import parse_reference, parse_repository
from dockerhub_cli.service import DockerHubService

HUB_HOST = "hub.docker.com"
REGISTRY_HOST = "registry-1.docker.io"
# Characters that attack URLs and paths, mixed with ordinary reference characters.
NASTY = st.sampled_from(
    list("abcz09-_./:@?#%&=+\\ \t\n~")
    + [
        "..",
        "%2F",
        "%2e%2e",
        "/../",
        "sha256:",
        "\x00",
        "é",
        "ＡＢ",
        "localhost:5000/",
        "a.b/",
        "//",
    ]
)
nasty_text = st.lists(NASTY, max_size=30).map("".join)
any_text = st.one_of(nasty_text, st.text(max_size=60))
HYPO = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_PATH_OK = re.compile(r"^/v2/[a-z0-9._/\-:]*$")


def _assert_safe_url(url: str, allowed_hosts: set[str]) -> None:
    parts = urlsplit(url)
    assert parts.netloc in allowed_hosts, url
    assert parts.fragment == "", url
    assert ".." not in parts.path.split("/"), url
    assert "%" not in parts.path and "//" not in parts.path, url
    assert _PATH_OK.match(parts.path) or parts.path == "/api/search/v4", url


def _catch_all(rsps: responses.RequestsMock) -> None:
    def reply(request):  # type: ignore[no-untyped-def]
        if "/tags/list" in request.url:
            return 200, {"Content-Type": "application/json"}, json.dumps({"tags": ["1"]})
        body = {"count": 0, "next": None, "results": []}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    for method in ("GET", "HEAD"):
        rsps.add_callback(method, re.compile(r".*"), callback=reply)


def _run(args: list[str]):  # type: ignore[no-untyped-def]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _catch_all(rsps)
        result = CliRunner().invoke(app, args)
        urls = [c.request.url for c in rsps.calls]
    assert result.exit_code in (0, 2), (args, result.exit_code, result.output)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.stderr.strip(), args  # a message, not silence
    return result, urls


# -- the parser ---------------------------------------------------------------------------------


@given(any_text)
@HYPO
def test_parse_reference_accepts_or_names_the_rule(text):
    try:
        ref = parse_reference(text)
    except InvalidReferenceError as exc:
        assert exc.exit_code == 2 and str(exc)
        return
    assert re.fullmatch(
        r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*",
        ref.path,
    )
    assert not any(c in ref.repository for c in "?#%\\ ")
    assert ref.tag or ref.digest
    assert parse_reference(str(ref)) == ref  # canonical form round-trips


@pytest.mark.parametrize("name", ["oci", "oci-archive", "docker-archive"])
def test_a_hub_image_named_like_a_local_source_round_trips(name):
    # Found by the property test above: `docker-archive` is a valid Docker Hub name, but its
    # familiar form with a tag (`docker-archive:latest`) reads back as a local source.
    ref = parse_reference(name)
    assert str(ref) == f"docker.io/library/{name}:latest"
    assert parse_reference(str(ref)) == ref
    assert str(parse_reference(f"{name}@sha256:{'a' * 64}")) == f"{name}@sha256:{'a' * 64}"


@given(any_text)
@HYPO
def test_parse_repository_accepts_or_names_the_rule(text):
    try:
        ref = parse_repository(text)
    except InvalidReferenceError as exc:
        assert str(exc)
        return
    assert ref.tag is None and ref.digest is None
    assert ".." not in ref.path


# -- every command input ------------------------------------------------------------------------


@given(
    query=any_text,
    limit=st.one_of(st.integers(-5, 200), any_text),
    page=st.one_of(st.integers(-3, 5), any_text),
)
@HYPO
def test_search_inputs(query, limit, page):
    if query.startswith("-"):
        query = "x" + query  # else it is an option, which Typer rightly rejects
    result, urls = _run(
        ["search", query, "--limit", str(limit), "--page", str(page), "--no-cache", "--json"]
    )
    for url in urls:
        _assert_safe_url(url, {HUB_HOST})
        params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        assert set(params) == {"custom_boosted_results", "query", "from", "size"}, url
        assert params["query"] == query.strip()
        assert urlsplit(url).path == "/api/search/v4"
    if result.exit_code == 0:
        assert len(urls) == 1


@given(
    namespace=any_text,
    pattern=st.one_of(st.none(), any_text),
    sort=st.sampled_from(["updated", "pulls", "stars", "name", "bogus"]),
    kind=st.one_of(st.none(), any_text),
)
@HYPO
def test_repos_inputs(namespace, pattern, sort, kind):
    if namespace.startswith("-"):
        namespace = "x" + namespace
    args = ["repos", namespace, "--sort", sort, "--no-cache", "--json"]
    if pattern is not None:
        args += ["--filter", pattern]
    if kind is not None:
        args += ["--type", kind]
    result, urls = _run(args)
    for url in urls:
        _assert_safe_url(url, {HUB_HOST})
        assert re.fullmatch(r"/v2/namespaces/[a-z0-9._-]+/repositories", urlsplit(url).path), url


@given(
    repository=any_text,
    pattern=st.one_of(st.none(), any_text),
    sort=st.sampled_from(["updated", "name", "semver", "bogus", "../x"]),
)
@HYPO
def test_tags_inputs(repository, pattern, sort):
    if repository.startswith("-"):
        repository = "x" + repository
    args = ["tags", repository, "--sort", sort, "--no-cache", "--json"]
    if pattern is not None and not pattern.startswith("-"):
        args += ["--filter", pattern]
    result, urls = _run(args)
    if not urls:
        return
    ref = parse_repository(repository)  # a request was made, so it parsed
    for url in urls:
        _assert_safe_url(url, {HUB_HOST, REGISTRY_HOST, ref.domain})
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if parts.netloc == HUB_HOST:
            ns, name = ref.hub_namespace_and_name  # type: ignore[misc]
            assert parts.path == f"/v2/namespaces/{ns}/repositories/{name}/tags"
            assert set(params) <= {"page", "page_size", "ordering", "name"}
        else:
            assert parts.path == f"/v2/{ref.path}/tags/list"
            assert set(params) <= {"n"}


# -- oversized values name the bound ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["search", "x" * 101], "at most 100 characters (got 101)"),
        (
            ["search", "nginx", "--limit", "101"],
            "'--limit' / '-n': Input should be less than or equal to 100",
        ),
        (
            ["search", "nginx", "--limit", "0"],
            "'--limit' / '-n': Input should be greater than or equal to 1",
        ),
        (
            ["search", "nginx", "--page", "0"],
            "'--page': Input should be greater than or equal to 1",
        ),
        (["tags", "nginx", "--limit", "1000"], "less than or equal to 100"),
        (["tags", "nginx", "--page", "-1"], "greater than or equal to 1"),
        (["tags", "nginx", "--filter", "x" * 129], "at most 128 characters"),
        (["tags", "a" * 300], "not be more than 255 characters"),
        (["tags", "nginx:1.27"], "expected a repository"),
    ],
)
def test_oversized_values_name_the_bound(args, needle):
    result, urls = _run(args)
    assert result.exit_code == 2 and urls == []
    assert needle in " ".join(result.stderr.replace("│", " ").split())


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda s: s.search("x" * 101), "at most 100 characters"),
        (lambda s: s.search("nginx", limit=0), "limit must be between 1 and 100 (got 0)"),
        (lambda s: s.search("nginx", limit=101), "limit must be between 1 and 100 (got 101)"),
        (lambda s: s.search("nginx", page=0), "page must be at least 1 (got 0)"),
        (lambda s: s.tags("nginx", page=0), "page must be at least 1 (got 0)"),
        (lambda s: s.tags("nginx", limit=500), "limit must be between 1 and 100 (got 500)"),
        (lambda s: s.tags("../../etc"), "invalid reference format"),
        (lambda s: s.tags("nginx/%2e%2e"), "invalid reference format"),
        (lambda s: s.tags("nginx?x=1"), "not allowed"),
    ],
)
def test_service_rejects_with_the_bound(call, needle):
    with responses.RequestsMock() as rsps, DockerHubService() as svc:
        with pytest.raises(InvalidInputError) as err:
            call(svc)
        assert not rsps.calls
    assert needle in str(err.value)
