"""Secrets never leak over MCP (issue #6): not into a tool result (text or structured content),
not into an error, not into the server's stderr logs, even at DEBUG.

The real `DockerHubService` runs behind the in-memory MCP client with a recognisable Docker Hub
token (env) and a config.json password, against `responses` mocks of the Hub login and the
registry's Bearer token flow (the same mocks as tests/unit/test_secrets.py).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import responses
from mcp import Client

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.mcp.server import build_server
from dockerhub_cli.service import DockerHubService
from tests.unit.test_secrets import (  # noqa: F401  (creds is a fixture)
    AUTH,
    HUB,
    REG,
    SECRETS,
    _hub_and_registry,
    creds,
)

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("creds")]

CALLS: list[tuple[str, dict[str, Any], bool]] = [  # tool, arguments, expected is_error
    ("docker_search_images", {"query": "nginx"}, False),
    ("docker_list_tags", {"repository": "nginx"}, False),
    ("docker_list_tags", {"repository": "registry.example.com/org/app"}, False),
    ("docker_whoami", {}, False),
    ("docker_whoami", {"registry": "registry.example.com"}, False),
    # refused even with the issued token: an AuthError naming the repository
    ("docker_list_tags", {"repository": "registry.example.com/org/private"}, True),
    # not mocked: a network error naming the URL
    ("docker_get_manifest", {"repository": "registry.example.com/org/app", "tag": "v1"}, True),
    ("docker_get_stats", {"repository": "registry.example.com/org/app"}, True),
    ("docker_compare_images", {"image1": "registry.example.com/org/app:v1", "image2": "a"}, True),
    ("docker_get_vulnerabilities", {"repository": "registry.example.com/org/app"}, True),
]


async def test_no_secret_in_any_tool_result_error_or_log(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="dockerhub_cli")
    texts: list[str] = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _hub_and_registry(rsps)
        rsps.get(
            f"{REG}/v2/org/private/tags/list",
            status=401,
            headers={"WWW-Authenticate": f'Bearer realm="{AUTH}",service="registry.example.com"'},
            json={"errors": [{"code": "DENIED", "message": "requested access is denied"}]},
        )
        settings = Settings.from_env(backoff_factor=0.0, retries=0)
        with DockerHubService(settings) as service:
            async with Client(build_server(service, log_level="DEBUG")) as client:
                for tool, arguments, is_error in CALLS:
                    result = await client.call_tool(tool, arguments)
                    assert result.is_error is is_error, (tool, result.content[0].text)
                    texts += [c.text for c in result.content if hasattr(c, "text")]
                    texts.append(json.dumps(result.structured_content))
                    texts.append(json.dumps(result.meta))
                    if is_error:
                        assert "What to try" in result.content[0].text or "NOT a clean" in (
                            result.content[0].text
                        ), result.content[0].text
        sent = [c.request for c in rsps.calls]
    # The credentials really were used: the Hub login and the registry token flow both ran.
    assert any(r.url.startswith(f"{HUB}/v2/auth/token") for r in sent)
    assert any(r.url.startswith(AUTH) for r in sent)
    assert any(r.headers.get("Authorization", "").startswith("Basic ") for r in sent)
    whoami = next(t for t in texts if '"registry": "registry.example.com"' in t)
    assert '"username": "bob"' in whoami and '"authenticated": true' in whoami
    # The logs really were at DEBUG (so a leak would have had its chance).
    assert any(
        r.levelno == logging.DEBUG and r.name.startswith("dockerhub_cli") for r in caplog.records
    )
    captured = capfd.readouterr()
    logs = [caplog.text, captured.err, captured.out]
    logs += [r.getMessage() for r in caplog.records]
    for secret in SECRETS:
        for text in texts + logs:
            assert secret not in text, (secret, text[:300])
