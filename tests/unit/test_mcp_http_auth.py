"""Issue 12, expectation 11: `serve-mcp --transport http` beyond loopback needs a bearer token;
a caller without it gets a bare 401; /health shows no secrets and is open only to loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import InvalidInputError
from dockerhub_cli.mcp.server import (
    BearerAuth,
    build_server,
    check_http_exposure,
    http_app,
    is_loopback,
    load_auth_token,
)
from dockerhub_cli.service import DockerHubService
from tests.unit.clihelp import run

TOKEN = "t0k3n-for-tests-0123456789abcdef"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.fixture
def service() -> Any:
    with DockerHubService(Settings.from_env()) as svc:
        yield svc


def _client(service: DockerHubService, token: str | None, client_host: str) -> TestClient:
    app = http_app(build_server(service), service, host="127.0.0.1", token=token)
    return TestClient(app, client=(client_host, 50000), base_url="http://127.0.0.1:8000")


def test_loopback_with_a_token_requires_it_on_every_request(service: DockerHubService) -> None:
    with _client(service, TOKEN, "192.0.2.7") as client:
        for headers in (
            {},
            {"authorization": "Bearer wrong-token-0123456789"},
            {"authorization": f"Basic {TOKEN}"},
            {"authorization": TOKEN},
        ):
            for path in ("/mcp", "/health", "/anything"):
                response = client.post(path, json=INIT, headers={**MCP_HEADERS, **headers})
                assert response.status_code == 401, (path, headers)
                assert response.content == b""  # nothing else: no body, no server details
                assert response.headers["www-authenticate"].startswith("Bearer")
        ok = client.post(
            "/mcp", json=INIT, headers={**MCP_HEADERS, "authorization": f"Bearer {TOKEN}"}
        )
        assert ok.status_code == 200, ok.text
        assert "dockerhub" in ok.text
        health = client.get("/health", headers={"authorization": f"bearer {TOKEN}"})
        assert health.status_code == 200 and TOKEN not in health.text


def test_health_stays_open_to_loopback_callers_and_shows_no_secret(
    service: DockerHubService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKERHUB_MCP_AUTH_TOKEN", TOKEN)
    with _client(service, TOKEN, "127.0.0.1") as client:
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert TOKEN not in health.text
        assert client.post("/mcp", json=INIT, headers=MCP_HEADERS).status_code == 401


def test_without_a_token_on_loopback_the_server_is_open(service: DockerHubService) -> None:
    with _client(service, None, "127.0.0.1") as client:
        assert client.get("/health").status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.com"])
def test_beyond_loopback_without_a_token_refuses_to_start(host: str) -> None:
    with pytest.raises(InvalidInputError, match="without a bearer token"):
        check_http_exposure(host, None, no_auth=False)
    check_http_exposure(host, TOKEN, no_auth=False)
    check_http_exposure(host, None, no_auth=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_needs_no_token(host: str) -> None:
    assert is_loopback(host)
    check_http_exposure(host, None, no_auth=False)


def test_cli_refuses_0000_without_a_token() -> None:
    result = run("serve-mcp", "--transport", "http", "--host", "0.0.0.0", "--port", "1")
    assert result.exit_code == 2
    assert "without a bearer token" in result.stderr and "--auth-token-file" in result.stderr


@pytest.mark.parametrize(
    "options",
    [["--port", "8080"], ["--host", "0.0.0.0"], ["--no-auth"], ["--auth-token-file", "t"]],
)
def test_http_options_without_transport_http_are_a_usage_error(options: list[str]) -> None:
    """`serve-mcp --port 8080` (forgot --transport http) must not start a stdio server that
    silently waits on the terminal: the HTTP-only option is named, and what to add."""
    result = run("serve-mcp", *options)
    assert result.exit_code == 2, result.stderr
    assert options[0] in result.stderr and "--transport http" in result.stderr


def test_token_from_file_or_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "token"
    path.write_text(f"{TOKEN}\nignored\n")
    assert load_auth_token(str(path)) == TOKEN
    assert load_auth_token(None) is None
    monkeypatch.setenv("DOCKERHUB_MCP_AUTH_TOKEN", "  " + TOKEN + " ")
    assert load_auth_token(None) == TOKEN
    monkeypatch.setenv("DOCKERHUB_MCP_AUTH_TOKEN", "short")
    with pytest.raises(InvalidInputError, match="at least 16"):
        load_auth_token(None)
    result = run("serve-mcp", "--transport", "http", "--auth-token-file", str(tmp_path / "nope"))
    assert result.exit_code == 9 and "cannot read the auth token file" in result.stderr


def test_bearer_auth_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    auth = BearerAuth(app=None, token=TOKEN)
    assert auth._allowed(
        {"path": "/mcp", "headers": [(b"authorization", f"Bearer {TOKEN}".encode())]}
    )
    assert calls == [(TOKEN.encode(), TOKEN.encode())]
