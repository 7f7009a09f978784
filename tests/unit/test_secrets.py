"""Secrets never leak: not to stdout, stderr, --debug logs, exception messages or the cache DB;
Authorization never crosses a redirect to another host; TLS verification on by default."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import DockerHubError
from dockerhub_cli.oci.reference import parse_reference
from dockerhub_cli.service import DockerHubService

HUB = "https://hub.docker.com"
REG = "https://registry.example.com"
AUTH = "https://auth.example.com/token"
CDN = "https://cdn.example.net"

HUB_PAT = "dckr_pat_S3CR3T-hub-7f9a1c"
CONFIG_PW = "C0NF1G-pw-42-zz"
ISSUED_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.ISSUED-hub-jwt-55"
ISSUED_REG = "ISSUED-registry-token-66"
SECRETS = [
    HUB_PAT,
    CONFIG_PW,
    ISSUED_JWT,
    ISSUED_REG,
    base64.b64encode(f"bob:{CONFIG_PW}".encode()).decode(),
    base64.b64encode(f"alice:{HUB_PAT}".encode()).decode(),
]

CONFIG_BLOB = b'{"architecture":"amd64","os":"linux"}'


@pytest.fixture
def creds(monkeypatch, isolated_env: Path) -> Path:
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("DOCKERHUB_TOKEN", HUB_PAT)
    docker = isolated_env / "home" / ".docker"
    docker.mkdir()
    auth = base64.b64encode(f"bob:{CONFIG_PW}".encode()).decode()
    (docker / "config.json").write_text(
        json.dumps({"auths": {"registry.example.com": {"auth": auth}}})
    )
    return docker / "config.json"


def _hub_and_registry(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{HUB}/v2/auth/token", json={"access_token": ISSUED_JWT})
    bearer = responses.matchers.header_matcher({"Authorization": f"Bearer {ISSUED_JWT}"})
    rsps.get(
        f"{HUB}/v2/search/repositories/",
        match=[bearer],
        json={"count": 1, "results": [{"repo_name": "nginx"}]},
    )
    rsps.get(
        f"{HUB}/v2/namespaces/library/repositories/nginx/tags",
        match=[bearer],
        json={
            "count": 1,
            "next": None,
            "results": [{"name": "1.27", "digest": "sha256:" + "a" * 64}],
        },
    )
    challenge = f'Bearer realm="{AUTH}",service="registry.example.com"'
    tok = responses.matchers.header_matcher({"Authorization": f"Bearer {ISSUED_REG}"})
    rsps.get(f"{REG}/v2/org/app/tags/list", match=[tok], json={"name": "org/app", "tags": ["v1"]})
    rsps.get(
        f"{REG}/v2/org/app/tags/list",
        status=401,
        headers={"WWW-Authenticate": challenge},
        json={"errors": [{"code": "UNAUTHORIZED", "message": "auth required"}]},
    )
    rsps.get(AUTH, json={"token": ISSUED_REG, "expires_in": 300})


def _cache_bytes(settings: Settings) -> bytes:
    data = b""
    for p in settings.cache_dir.glob("http_cache.sqlite*"):
        data += p.read_bytes()
    return data


def test_no_secret_in_any_output_log_or_the_cache(creds):
    runner = CliRunner()
    outputs: list[str] = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _hub_and_registry(rsps)
        for args in (
            ["search", "nginx", "--debug"],
            ["search", "nginx", "--json", "--debug"],
            ["tags", "nginx", "--debug"],
            ["tags", "nginx", "--json", "--debug", "--no-cache"],
            ["tags", "registry.example.com/org/app", "--json", "--debug"],
            ["tags", "registry.example.com/org/app", "--debug"],
            ["cache", "info", "--json"],
            ["cache", "info"],
        ):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
            outputs += [result.stdout, result.stderr]
        sent = {c.request.url for c in rsps.calls}
    assert any("/v2/auth/token" in u for u in sent) and any(u.startswith(AUTH) for u in sent)
    assert any("debug:" in o for o in outputs)  # the debug log was really on
    settings = Settings.from_env()
    db = _cache_bytes(settings)
    assert b"org/app" in db and b"nginx" in db  # the cache really holds these answers
    for secret in SECRETS:
        for text in outputs:
            assert secret not in text
        assert secret.encode() not in db, secret


def test_refused_credentials_error_names_the_user_not_the_secret(creds):
    with responses.RequestsMock() as rsps:
        rsps.post(f"{HUB}/v2/auth/token", status=401, json={"detail": "incorrect password"})
        result = CliRunner().invoke(app, ["search", "nginx", "--debug"])
    assert result.exit_code == 4
    assert "alice" in result.stderr
    for secret in SECRETS:
        assert secret not in result.output


def test_exceptions_and_reprs_hold_no_secret(creds):
    with responses.RequestsMock() as rsps:
        rsps.post(f"{HUB}/v2/auth/token", status=401, json={"detail": "no"})
        with DockerHubService() as svc:
            with pytest.raises(DockerHubError) as err:
                svc.search("nginx")
            texts = [
                str(err.value),
                repr(err.value),
                repr(svc.settings),
                repr(svc.credentials.lookup("docker.io")),
                repr(svc.credentials.lookup("registry.example.com")),
                json.dumps(svc.health()),
            ]
    for secret in SECRETS:
        assert all(secret not in t for t in texts), secret


def test_authorization_not_sent_across_a_redirect_to_a_cdn(creds):
    digest = "sha256:" + __import__("hashlib").sha256(CONFIG_BLOB).hexdigest()
    challenge = f'Bearer realm="{AUTH}",service="registry.example.com"'
    with responses.RequestsMock() as rsps:
        rsps.get(
            f"{REG}/v2/org/app/blobs/{digest}", status=401, headers={"WWW-Authenticate": challenge}
        )
        rsps.get(AUTH, json={"token": ISSUED_REG})
        rsps.get(
            f"{REG}/v2/org/app/blobs/{digest}",
            status=307,
            headers={"Location": f"{CDN}/blob?X-Amz-Signature=abc"},
            match=[responses.matchers.header_matcher({"Authorization": f"Bearer {ISSUED_REG}"})],
        )
        rsps.get(f"{CDN}/blob", body=CONFIG_BLOB)
        with DockerHubService() as svc:
            body = svc.registry.get_blob(parse_reference("registry.example.com/org/app"), digest)
        assert body == CONFIG_BLOB
        cdn_calls = [c for c in rsps.calls if c.request.url.startswith(CDN)]
        assert len(cdn_calls) == 1
        assert "Authorization" not in cdn_calls[0].request.headers
        assert "Authorization" in rsps.calls[-2].request.headers  # it was sent to the registry


def _verify_flags(rsps: responses.RequestsMock) -> dict[str, object]:
    return {c.request.url.split("/v2/")[0]: c.request.req_kwargs.get("verify") for c in rsps.calls}


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        ({}, [], True),
        ({"DOCKERHUB_INSECURE_REGISTRIES": "other.example.com"}, [], True),
        ({"DOCKERHUB_INSECURE_REGISTRIES": "registry.example.com"}, [], False),
        ({}, ["--insecure"], False),
    ],
)
def test_tls_verification_on_unless_asked(env, args, expected, monkeypatch):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{REG}/v2/org/app/tags/list", json={"tags": ["v1"]})
        result = CliRunner().invoke(app, ["tags", "registry.example.com/org/app", *args])
        assert result.exit_code == 0, result.output
        verify = _verify_flags(rsps)[REG]
    assert (verify is not False) is expected


def test_settings_repr_hides_a_redis_password():
    settings = Settings(cache_backend="redis://:r3dis-S3CRET@127.0.0.1:6379/0")
    assert "r3dis-S3CRET" not in repr(settings)
