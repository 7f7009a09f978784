"""RegistryClient: the auth challenge, Basic auth, digest verification, cache economy."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3

import pytest
import responses
from responses import matchers

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import (
    AuthError,
    DigestMismatchError,
    NotFoundError,
    OfflineCacheMissError,
    UpstreamError,
)
from dockerhub_cli.oci.reference import parse_reference
from dockerhub_cli.service import DockerHubService

REG = "https://registry.example.com"
REALM = "https://auth.example.com/token"
CHALLENGE = (
    f'Bearer realm="{REALM}",service="registry.example.com",scope="repository:team/app:pull"'
)
MANIFEST = (
    b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
    b'"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":'
    b'"sha256:4607e093bec406eaadb6f3a340f63400c9d3a7038680744c406903766b938f0d","size":1069},'
    b'"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":'
    b'"sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4","size":32}]}'
)
MANIFEST_DIGEST = "sha256:4f10484d1c1bb13e3956b4de1cd42db8e0f14a75be1617b60f2de3cd59c803c6"
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def test_fixture_digest_is_real() -> None:
    assert "sha256:" + hashlib.sha256(MANIFEST).hexdigest() == MANIFEST_DIGEST


def _manifest_url(ref: str = "1.0") -> str:
    return f"{REG}/v2/team/app/manifests/{ref}"


def _add_bearer_flow(rsps: responses.RequestsMock, token: str = "tok-123") -> None:
    rsps.get(
        _manifest_url(),
        status=401,
        headers={"WWW-Authenticate": CHALLENGE},
        json={
            "errors": [
                {
                    "code": "UNAUTHORIZED",
                    "message": "authentication required",
                    "detail": [{"Type": "repository", "Name": "team/app", "Action": "pull"}],
                }
            ]
        },
        match=[matchers.header_matcher({}, strict_match=False)],
    )
    rsps.get(
        REALM,
        json={
            "token": token,
            "access_token": token,
            "expires_in": 300,
            "issued_at": "2026-11-24T00:00:00.123456789Z",
        },
    )


def test_bearer_challenge_then_token_then_manifest(rsps, service) -> None:
    _add_bearer_flow(rsps)
    rsps.get(
        _manifest_url(),
        body=MANIFEST,
        content_type=MANIFEST_TYPE,
        headers={"Docker-Content-Digest": MANIFEST_DIGEST},
        match=[matchers.header_matcher({"Authorization": "Bearer tok-123"})],
    )
    ref = parse_reference("registry.example.com/team/app:1.0")
    raw = service.registry.get_manifest(ref)
    assert raw.digest == MANIFEST_DIGEST and raw.media_type == MANIFEST_TYPE
    token_call = rsps.calls[1].request
    assert "scope=repository%3Ateam%2Fapp%3Apull" in token_call.url
    assert "Authorization" not in token_call.headers  # anonymous token
    # The same call again: answered by the cache, no token fetched, nothing sent.
    before = len(rsps.calls)
    assert service.registry.get_manifest(ref).body == MANIFEST
    assert len(rsps.calls) == before


def test_known_challenge_fetches_the_token_before_the_request(rsps, service) -> None:
    _add_bearer_flow(rsps)
    rsps.get(
        _manifest_url(),
        body=MANIFEST,
        content_type=MANIFEST_TYPE,
        headers={"Docker-Content-Digest": MANIFEST_DIGEST},
    )
    rsps.get(
        f"{REG}/v2/team/app/tags/list",
        json={"name": "team/app", "tags": ["1.0"]},
        match=[matchers.header_matcher({"Authorization": "Bearer tok-123"})],
    )
    service.registry.get_manifest(parse_reference("registry.example.com/team/app:1.0"))
    calls = len(rsps.calls)
    assert service.tags("registry.example.com/team/app").count == 1
    # The token for the same scope is reused: exactly one more request, no 401 round trip.
    assert len(rsps.calls) == calls + 1


def test_credentials_from_docker_config_are_used_for_the_token(rsps, isolated_env) -> None:
    config = isolated_env / "home" / ".docker" / "config.json"
    config.parent.mkdir(parents=True)
    auth = base64.b64encode(b"bob:s3cret-pass").decode()
    config.write_text(json.dumps({"auths": {"registry.example.com": {"auth": auth}}}))
    _add_bearer_flow(rsps)
    rsps.get(
        _manifest_url(),
        body=MANIFEST,
        content_type=MANIFEST_TYPE,
        headers={"Docker-Content-Digest": MANIFEST_DIGEST},
    )
    with DockerHubService(Settings.from_env()) as svc:
        svc.registry.get_manifest(parse_reference("registry.example.com/team/app:1.0"))
    token_request = rsps.calls[1].request
    assert token_request.headers["Authorization"] == "Basic " + auth
    assert "account=bob" in token_request.url


def test_bad_credentials_are_an_auth_error(rsps, isolated_env) -> None:
    config = isolated_env / "home" / ".docker" / "config.json"
    config.parent.mkdir(parents=True)
    auth = base64.b64encode(b"bob:wrong-pass").decode()
    config.write_text(json.dumps({"auths": {"registry.example.com": {"auth": auth}}}))
    rsps.get(_manifest_url(), status=401, headers={"WWW-Authenticate": CHALLENGE})
    rsps.get(REALM, status=401, json={"details": "incorrect username or password"})
    with DockerHubService(Settings.from_env()) as svc, pytest.raises(AuthError) as info:
        svc.registry.get_manifest(parse_reference("registry.example.com/team/app:1.0"))
    assert "incorrect username or password" in str(info.value)
    assert "wrong-pass" not in str(info.value)


def test_401_after_a_fresh_token_means_not_found_or_private(rsps, service) -> None:
    challenge = CHALLENGE + ',error="insufficient_scope"'
    rsps.get(_manifest_url(), status=401, headers={"WWW-Authenticate": challenge})
    rsps.get(REALM, json={"token": "tok", "expires_in": 300})
    with pytest.raises(NotFoundError, match="not found, or access denied"):
        service.registry.get_manifest(parse_reference("registry.example.com/team/app:1.0"))
    assert len(rsps.calls) == 3  # 401, token, 401: no loop


def test_basic_auth_registry(rsps, isolated_env) -> None:
    config = isolated_env / "home" / ".docker" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(
        '{"auths": {"https://registry.example.com": {"username": "u", "password": "p"}}}'
    )
    rsps.get(
        _manifest_url(), status=401, headers={"WWW-Authenticate": 'Basic realm="Registry Realm"'}
    )
    rsps.get(
        _manifest_url(),
        body=MANIFEST,
        content_type=MANIFEST_TYPE,
        headers={"Docker-Content-Digest": MANIFEST_DIGEST},
        match=[matchers.header_matcher({"Authorization": "Basic dTpw"})],
    )
    with DockerHubService(Settings.from_env()) as svc:
        assert (
            svc.registry.get_manifest(parse_reference("registry.example.com/team/app:1.0")).digest
            == MANIFEST_DIGEST
        )


def test_basic_auth_without_credentials(rsps, service) -> None:
    rsps.get(_manifest_url(), status=401, headers={"WWW-Authenticate": 'Basic realm="x"'})
    with pytest.raises(AuthError, match="requires a username and password"):
        service.registry.get_manifest(parse_reference("registry.example.com/team/app:1.0"))


def test_digest_mismatch_is_never_data(rsps, service) -> None:
    rsps.get(
        _manifest_url(),
        body=MANIFEST + b" ",
        content_type=MANIFEST_TYPE,
        headers={"Docker-Content-Digest": MANIFEST_DIGEST},
    )
    with pytest.raises(DigestMismatchError, match="does not match its digest"):
        service.registry.get_manifest(parse_reference("registry.example.com/team/app:1.0"))


def test_manifest_404_uses_the_registry_error_body(rsps, service) -> None:
    rsps.get(
        _manifest_url("nope"),
        status=404,
        json={
            "errors": [
                {
                    "code": "MANIFEST_UNKNOWN",
                    "message": "manifest unknown",
                    "detail": "unknown tag=nope",
                }
            ]
        },
    )
    with pytest.raises(NotFoundError, match="MANIFEST_UNKNOWN manifest unknown"):
        service.registry.get_manifest(parse_reference("registry.example.com/team/app:nope"))


def test_blob_redirect_to_cdn_drops_authorization(rsps, service) -> None:
    _add_bearer_flow(rsps)
    rsps.get(
        _manifest_url(),
        body=MANIFEST,
        content_type=MANIFEST_TYPE,
        headers={"Docker-Content-Digest": MANIFEST_DIGEST},
    )
    config = b'{"architecture":"amd64","os":"linux"}'
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    cdn = f"https://cdn.example.net/blobs/{digest}?X-Amz-Signature=abc"
    rsps.get(f"{REG}/v2/team/app/blobs/{digest}", status=307, headers={"Location": cdn})
    rsps.get(cdn.split("?")[0], body=config)
    ref = parse_reference("registry.example.com/team/app:1.0")
    service.registry.get_manifest(ref)
    assert service.registry.get_blob(ref, digest) == config
    cdn_request = rsps.calls[-1].request
    assert cdn_request.url.startswith("https://cdn.example.net/")
    assert "Authorization" not in cdn_request.headers
    # Blobs are content-addressed: cached forever, served again without any request.
    calls = len(rsps.calls)
    assert service.registry.get_blob(ref, digest) == config
    assert len(rsps.calls) == calls


def test_tokens_never_reach_the_cache_file(rsps, service, isolated_env) -> None:
    _add_bearer_flow(rsps, token="SECRET-TOKEN-XYZ")
    rsps.get(
        _manifest_url(),
        body=MANIFEST,
        content_type=MANIFEST_TYPE,
        headers={"Docker-Content-Digest": MANIFEST_DIGEST},
    )
    service.registry.get_manifest(parse_reference("registry.example.com/team/app:1.0"))
    service.close()
    path = service.settings.cache_path
    data = path.read_bytes()
    for extra in (path.with_name(path.name + "-wal"),):
        if extra.exists():
            data += extra.read_bytes()
    assert b"SECRET-TOKEN-XYZ" not in data
    with sqlite3.connect(path) as db:
        assert db.execute("select count(*) from responses").fetchone()[0] >= 1


def test_offline_miss_is_a_clear_error(rsps) -> None:
    with DockerHubService(Settings.from_env(offline=True)) as svc:
        with pytest.raises(OfflineCacheMissError, match="not in the cache"):
            svc.tags("registry.example.com/team/app")
    assert len(rsps.calls) == 0


def test_offline_answers_from_the_cache(rsps) -> None:
    rsps.get(f"{REG}/v2/team/app/tags/list", json={"name": "team/app", "tags": ["1.0"]})
    with DockerHubService(Settings.from_env()) as svc:
        svc.tags("registry.example.com/team/app")
    with DockerHubService(Settings.from_env(offline=True)) as svc:
        assert [t.name for t in svc.tags("registry.example.com/team/app").tags] == ["1.0"]
    assert len(rsps.calls) == 1


def test_no_cache_reads_nothing_but_refreshes_the_cache(rsps) -> None:
    """--no-cache never answers from the cache, and writes what it fetched, so that the next
    plain run (here: offline, cache only) sees the fresh answer, not an older one."""
    rsps.get(f"{REG}/v2/team/app/tags/list", json={"name": "team/app", "tags": ["1.0"]})
    with DockerHubService(Settings.from_env()) as svc:
        assert [t.name for t in svc.tags("registry.example.com/team/app").tags] == ["1.0"]
    rsps.replace(
        responses.GET, f"{REG}/v2/team/app/tags/list", json={"name": "team/app", "tags": ["2.0"]}
    )
    with DockerHubService(Settings.from_env(no_cache=True)) as svc:
        svc.tags("registry.example.com/team/app")
        svc.tags("registry.example.com/team/app")
    assert len(rsps.calls) == 3  # the two --no-cache calls both went to the registry
    with DockerHubService(Settings.from_env(offline=True)) as svc:
        assert [t.name for t in svc.tags("registry.example.com/team/app").tags] == ["2.0"]
    assert len(rsps.calls) == 3


def test_loopback_registries_use_plain_http(rsps, service) -> None:
    rsps.get("http://127.0.0.1:5000/v2/app/tags/list", json={"name": "app", "tags": ["x"]})
    rsps.get("http://localhost:5001/v2/app/tags/list", json={"name": "app", "tags": ["y"]})
    assert service.tags("127.0.0.1:5000/app").tags[0].name == "x"
    assert service.tags("localhost:5001/app").tags[0].name == "y"


def test_insecure_registry_falls_back_to_http(rsps, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERHUB_INSECURE_REGISTRIES", "registry.internal:5000")
    rsps.get(
        "https://registry.internal:5000/v2/app/tags/list",
        body=__import__("requests").exceptions.ConnectionError("tls failed"),
    )
    rsps.get("http://registry.internal:5000/v2/app/tags/list", json={"name": "app", "tags": ["z"]})
    with DockerHubService(Settings.from_env(retries=0)) as svc:
        assert svc.tags("registry.internal:5000/app").tags[0].name == "z"


@pytest.mark.parametrize("sort", ["name", "updated", "semver"])
def test_registry_tags_cut_off_at_the_page_cap_are_never_called_complete(
    service, monkeypatch, sort
) -> None:
    import itertools

    from dockerhub_cli.ops import tags as tags_module

    monkeypatch.setattr(tags_module, "MAX_REGISTRY_TAG_PAGES", 3)
    pages = ([f"t{n}"] for n in itertools.count())
    monkeypatch.setattr(service.registry, "iter_tag_pages", lambda ref, **kw: pages)
    result = service.tags("registry.example.com/team/app", all_tags=True, sort=sort)
    assert [t.name for t in result.tags] == ["t0", "t1", "t2"]
    assert result.count is None and result.complete is False
    assert any("stopped after 3 pages" in n for n in result.notes)


HTML_404 = (
    "<!DOCTYPE HTML>\n<html><head><title>Error response</title></head>\n"
    "<body><h1>404</h1></body></html>\n"
)


def test_a_web_server_that_is_not_a_registry_is_named_not_dumped(rsps, service) -> None:
    """A plain web server answering HTML 404s is an upstream problem (exit 6), not 'not found',
    and its markup never lands in the one-line error."""
    rsps.get(_manifest_url("1.0"), status=404, body=HTML_404, content_type="text/html")
    with pytest.raises(UpstreamError) as caught:
        service.registry.get_manifest(parse_reference("registry.example.com/team/app:1.0"))
    message = str(caught.value)
    assert "<" not in message and "DOCTYPE" not in message
    assert "HTML page" in message and "registry.example.com" in message
    assert "OCI registry" in (caught.value.hint or "")
