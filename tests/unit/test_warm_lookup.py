"""Issue 19, goal 3: the cost of a warm HTTP-cache lookup (remote/transport.py). The session
remembers requests-cache's cache keys, requests' environment settings per host, and the
signatures requests-cache inspects on every request; each is checked here against the library
it stands in for, so that an upgrade that changes their results fails a test instead of
serving the wrong entry."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import requests
from requests_cache import _utils
from requests_cache.cache_keys import create_key

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.remote import http_stack
from dockerhub_cli.service import DockerHubService
from tests.support.hostile import HostileServer, answer

ACCEPT = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"


def _prepared(method: str, url: str, **kwargs: object) -> requests.PreparedRequest:
    return requests.Session().prepare_request(requests.Request(method, url, **kwargs))  # type: ignore[arg-type]


REQUESTS = [
    _prepared("GET", "https://registry.example/v2/team/app/manifests/1.0"),
    _prepared(
        "GET", "https://registry.example/v2/team/app/manifests/1.0", headers={"Accept": ACCEPT}
    ),
    _prepared(
        "GET", "https://registry.example/v2/team/app/manifests/1.0", headers={"Accept": "x/y"}
    ),
    _prepared("HEAD", "https://registry.example/v2/team/app/manifests/1.0"),
    _prepared("GET", "https://HUB.example:443/v2/search/repositories/", params={"query": "a b"}),
    _prepared(
        "GET", "https://hub.example/v2/search/repositories/", params={"page": 2, "query": "x"}
    ),
    _prepared("GET", "https://hub.example/v2/x?access_token=secret&page=1"),
    _prepared("POST", "https://osv.example/v1/querybatch", json={"queries": [{"package": "a"}]}),
    _prepared("POST", "https://osv.example/v1/querybatch", json={"queries": [{"package": "b"}]}),
]


def test_the_remembered_cache_keys_are_requests_caches_own() -> None:
    memo = http_stack._KeyMemo()
    settings = {
        "ignored_parameters": ["Authorization", "access_token"],
        "match_headers": ["Accept"],
    }
    for verify in (True, False):
        for request in REQUESTS:
            for _ in range(2):  # computed, then remembered
                assert memo(request, **settings, verify=verify) == create_key(
                    request, **settings, verify=verify
                )
    # requests-cache is handed every keyword argument of `send`; the memo keys on `verify`
    # alone, so if create_key ever reads another one, this fails.
    for request in REQUESTS:
        for extra in (
            {"timeout": 5, "stream": True, "cert": None, "proxies": {}},
            {"timeout": (1, 2), "stream": False, "cert": "/tmp/c.pem", "proxies": {"https": "p"}},
        ):
            assert memo(request, **settings, **extra) == create_key(request, **settings, **extra)
    # Different requests stay different keys (the memo key holds what create_key reads).
    keys = {memo(r, **settings) for r in REQUESTS}
    assert len(keys) == len(REQUESTS)
    assert memo._memo  # bodiless requests were remembered; the POSTs never are
    assert all(key[0] != "POST" for key in memo._memo)


def test_the_session_keys_through_the_memo_and_finds_the_same_entries(tmp_path: Path) -> None:
    with DockerHubService(Settings.from_env()) as svc:
        cache = svc.session.cache
        assert isinstance(cache._settings.key_fn, http_stack._KeyMemo)
        request = svc.session.prepare_request(
            requests.Request("GET", REQUESTS[1].url, headers={"Accept": ACCEPT})
        )
        assert cache.create_key(request) == create_key(
            request,
            ignored_parameters=cache._settings.ignored_parameters,
            match_headers=["Accept"],
            serializer=cache.responses.serializer,
        )


def test_environment_settings_are_requests_own_and_follow_the_proxy_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in http_stack._ENVIRONMENT_NAMES:
        monkeypatch.delenv(name, raising=False)
    with DockerHubService(Settings.from_env()) as svc:
        session = svc.session
        plain = requests.Session()
        url = "https://registry.example/v2/"

        def both() -> tuple[dict[str, object], dict[str, object]]:
            ours = session.merge_environment_settings(url, {}, None, None, None)
            theirs = plain.merge_environment_settings(url, {}, None, None, None)
            return ours, theirs

        ours, theirs = both()
        assert ours == theirs and ours["proxies"] == {}
        monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
        ours, theirs = both()
        assert ours == theirs and ours["proxies"] == {"https": "http://proxy.example:3128"}
        monkeypatch.setenv("NO_PROXY", "registry.example")
        ours, theirs = both()
        assert ours == theirs and ours["proxies"] == {}
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
        ours, theirs = both()
        assert ours == theirs and ours["verify"] == "/etc/ssl/bundle.pem"
        # A caller may change what it got without changing what is remembered.
        ours["proxies"]["https"] = "changed"  # type: ignore[index]
        assert both()[0] == theirs


def test_the_remembered_environment_covers_every_variable_requests_reads() -> None:
    """If a requests release reads another variable in merge_environment_settings, this fails
    (the memo would not see it change)."""
    import re

    source = inspect.getsource(requests.Session.merge_environment_settings)
    names = set(re.findall(r"""environ\.get\(\s*["']([A-Za-z_]+)["']""", source))
    assert names and names <= set(http_stack._ENVIRONMENT_NAMES)


def test_requests_cache_signatures_are_computed_once() -> None:
    """If a requests-cache release moves `_utils.signature`, this fails: look again at where
    a warm lookup spends its time (docs/performance.md)."""
    assert http_stack._signatures_computed_once()
    assert _utils.signature is not inspect.signature
    assert _utils.signature(requests.Session.request) == inspect.signature(requests.Session.request)
    kwargs = {"max_age": 5, "nonsense": 1, "no_store": None}
    assert _utils.get_valid_kwargs(http_stack.CachedSession.__init__, {"backend": "x"}) == {
        "backend": "x"
    }
    from requests_cache.policy.directives import CacheDirectives

    assert _utils.get_valid_kwargs(CacheDirectives.__init__, kwargs) == {"max_age": 5}


def test_netrc_credentials_never_reach_the_wire(tmp_path: Path, monkeypatch) -> None:
    """requests adds ~/.netrc credentials to a request without `auth=` (and used to look the
    file up on every request, cache hits included); credentials come only from the keychain."""
    with HostileServer() as srv:
        srv.route("/v2/*", answer({}, status=200))
        netrc = tmp_path / "netrc"
        host = srv.host.split(":")[0]
        netrc.write_text(f"machine {host} login alice password hunter2\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc))
        with DockerHubService(Settings.from_env()) as svc:
            response = svc.transport.request("GET", f"http://{srv.host}/v2/", cacheable=False)
            assert response.status_code == 200
            basic = svc.transport.request(
                "GET", f"http://{srv.host}/v2/x", cacheable=False, auth=("bob", "pw")
            )
            assert basic.status_code == 200
        seen = [s.headers for s in srv.seen]
    assert "Authorization" not in seen[0] and "authorization" not in {k.lower() for k in seen[0]}
    assert any(k.lower() == "authorization" for k in seen[1])  # an explicit auth= still goes
