"""Request economy on `responses`: the remembered auth challenge (no 401 in a new process, no
secret on disk) and the by-tag cache entry renewed by a HEAD."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import responses

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.remote.auth import Challenge, ChallengeMemory, parse_challenge
from dockerhub_cli.service import DockerHubService
from tests.support.cache import age_cache
from tests.unit import registry_fixtures as fx

REG = "https://registry.example.com"
REALM = "https://auth.example.com/token"
CHALLENGE = (
    f'Bearer realm="{REALM}",service="registry.example.com",scope="repository:team/app:pull"'
)
REF = "registry.example.com/team/app:1.0"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _anonymous(request) -> tuple[bool, str]:
    return "Authorization" not in request.headers, "request carries Authorization"


def _service(**changes: object) -> DockerHubService:
    return DockerHubService(Settings.from_env(backoff_factor=0.0, **changes))


def _calls(rsps) -> list[str]:
    return [
        f"{c.request.method} "
        f"{'token' if '/token' in c.request.url else c.request.url.split('/v2/', 1)[-1]}"
        f"{' ' + str(c.response.status_code) if c.response.status_code >= 400 else ''}"
        for c in rsps.calls
    ]


def _token_registry(rsps) -> fx.FakeRegistry:
    rsps.get(
        f"{REG}/v2/team/app/manifests/1.0",
        status=401,
        headers={"WWW-Authenticate": CHALLENGE},
        match=[_anonymous],
    )
    rsps.get(REALM, json={"token": "SECRET-TOKEN", "expires_in": 300})
    reg = fx.FakeRegistry(rsps, REG, "team/app")
    reg.gitea("1.0")
    return reg


def test_a_new_process_fetches_the_token_up_front(rsps) -> None:
    _token_registry(rsps)
    with _service() as first:
        first.inspect(REF)
    assert _calls(rsps)[:2] == ["GET team/app/manifests/1.0 401", "GET token"]
    cold = len(rsps.calls)
    _token_registry(rsps)  # responses uses up a route when another one matches too
    with _service(no_cache=True) as uncached:  # --no-cache: neither the cache nor the memory
        uncached.inspect(REF)
    assert _calls(rsps)[cold] == "GET team/app/manifests/1.0 401"
    before = len(rsps.calls)
    with _service() as second:  # same cache dir, empty HTTP cache for this tag: cold again
        second.session.cache.clear()
        second.inspect(REF)
    # token first, then the manifest by tag and the config: no 401
    assert _calls(rsps)[before:] == [
        "GET token",
        "GET team/app/manifests/1.0",
        f"GET team/app/blobs/{fx.GITEA_CONFIG_DIGEST}",
    ]


def test_the_remembered_challenge_holds_no_secret(rsps) -> None:
    _token_registry(rsps)
    with _service() as svc:
        svc.inspect(REF)
        path = svc.settings.cache_dir / "auth-challenges.json"
    text = path.read_text()
    assert json.loads(text) == {
        "registry.example.com": {
            "scheme": "bearer",
            "realm": REALM,
            "service": "registry.example.com",
        }
    }
    assert "SECRET-TOKEN" not in text and "scope" not in text


def test_a_moved_realm_is_followed_once(rsps, tmp_path) -> None:
    old = Challenge("bearer", {"realm": "https://old-auth.example.com/token", "service": "x"})
    rsps.get("https://old-auth.example.com/token", json={"token": "OLD", "expires_in": 300})
    rsps.get(REALM, json={"token": "NEW", "expires_in": 300})

    def only_new(request) -> tuple[bool, str]:
        return request.headers.get("Authorization") != "Bearer NEW", "new token"

    rsps.get(
        f"{REG}/v2/team/app/manifests/1.0",
        status=401,
        headers={"WWW-Authenticate": CHALLENGE},
        match=[only_new],
    )
    reg = fx.FakeRegistry(rsps, REG, "team/app")
    reg.gitea("1.0")
    with _service() as svc:
        svc.registry.auth.memory.put("registry.example.com", old)
        svc.registry.auth._challenges.clear()
        r = svc.inspect(REF)
    assert r.digest == fx.GITEA_MANIFEST_DIGEST
    assert _calls(rsps)[:4] == [
        "GET token",  # the old realm, remembered
        "GET team/app/manifests/1.0 401",  # the registry moved its realm
        "GET token",
        "GET team/app/manifests/1.0",
    ]


def test_memory_ignores_junk_and_keeps_only_public_parts(tmp_path) -> None:
    path = tmp_path / "auth-challenges.json"
    path.write_text('{"a": 1, "b": {"scheme": "bearer", "realm": "ftp://x"}, "c": []}')
    memory = ChallengeMemory(path)
    assert memory.get("a") is None and memory.get("b") is None
    challenge = parse_challenge(
        'Bearer realm="https://auth.example.com/token",service="s",scope="repo:x:pull",error="x"'
    )
    assert challenge is not None
    memory.put("h", challenge)
    memory.put("u", parse_challenge('Bearer realm="https://user:pw@auth.example.com/t"'))  # type: ignore[arg-type]
    assert json.loads(path.read_text()) == {
        "h": {"scheme": "bearer", "realm": "https://auth.example.com/token", "service": "s"}
    }
    path.write_text("not json")
    assert ChallengeMemory(path).get("h") is None


def test_expired_tag_with_the_same_digest_is_renewed(rsps) -> None:
    reg = fx.FakeRegistry(rsps, REG, "team/app")
    reg.gitea("1.0")
    settings = Settings.from_env(backoff_factor=0.0)
    settings = settings.replace(ttls={**settings.ttls, "manifest_by_tag": 1})
    with DockerHubService(settings) as svc:
        svc.inspect(REF)
    assert [c.split()[0] for c in _calls(rsps)] == ["GET", "GET"]  # tag, config
    assert age_cache(settings) >= 1  # the tag's 1 s lifetime has run out
    with DockerHubService(settings) as svc:
        svc.inspect(REF)
        assert svc.transport.network_requests == 1
    assert _calls(rsps)[-1] == "HEAD team/app/manifests/1.0"
    with DockerHubService(settings) as svc:  # renewed for another lifetime
        svc.inspect(REF)
        assert svc.transport.network_requests == 0
