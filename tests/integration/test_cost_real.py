"""Issue 19, goal 9 against a real CNCF distribution registry: the cost the transport counts
equals what the registry's own access log saw, and `--max-pulls` stops before the manifest GET
that would pass it (the registry standing in for Docker Hub's, via DOCKERHUB_REGISTRY_URL)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.exitcodes import ExitCode
from dockerhub_cli.service import DockerHubService

runner = CliRunner()


def _kinds(entries: list) -> Counter[str]:
    seen: Counter[str] = Counter()
    for e in entries:
        if "/manifests/" in e.route:
            seen["manifest_get" if e.method == "GET" else "manifest_head"] += 1
        elif "/blobs/" in e.route:
            seen["blob" if e.method == "GET" else "blob_head"] += 1
        elif e.route.startswith("/v2/namespaces/"):
            seen["hub_api"] += 1
        else:
            seen["other:" + e.route] += 1
    return seen


def test_the_counted_cost_is_what_the_registry_saw(registry) -> None:
    ref = registry.ref("demo/multi:1.0")
    mark = registry.log_mark()
    with DockerHubService(Settings.from_env()) as svc:
        svc.inspect(ref, platform="linux/arm64")
        svc.layers(ref, platform="linux/arm64")
        cost = svc.cost()
    seen = _kinds(registry.requests_since(mark))
    assert cost.by_kind == dict(seen) and cost.requests == sum(seen.values()) >= 3
    assert cost.docker_hub.pulls == 0  # not Docker Hub
    assert cost.cache.hits >= 1  # layers reused what inspect fetched
    mark = registry.log_mark()
    with DockerHubService(Settings.from_env()) as svc:
        svc.inspect(ref, platform="linux/arm64")
        warm = svc.cost()
    assert registry.requests_since(mark) == [] and warm.requests == 0
    assert warm.cache.hits == cost.by_kind["manifest_get"] + cost.by_kind["blob"]


@pytest.fixture
def hub_standin(registry, monkeypatch: pytest.MonkeyPatch):
    """The registry as Docker Hub's registry (and, answering 404, as its API)."""
    monkeypatch.setenv("DOCKERHUB_REGISTRY_URL", registry.url)
    monkeypatch.setenv("DOCKERHUB_HUB_URL", registry.url)
    return registry


def test_max_pulls_stops_before_passing_the_limit(hub_standin) -> None:
    registry = hub_standin
    for limit, gets in (("0", 0), ("1", 1)):  # --no-cache: every manifest is a GET
        mark = registry.log_mark()
        result = runner.invoke(
            app, ["--no-cache", "--max-pulls", limit, "inspect", "demo/multi:1.0"]
        )
        assert result.exit_code == ExitCode.RATE_LIMITED, result.output
        assert f"--max-pulls {limit} reached" in result.stderr
        sent = _kinds(registry.requests_since(mark))
        assert sent["manifest_get"] == gets  # never one more than allowed
    mark = registry.log_mark()
    full = runner.invoke(app, ["--stats", "inspect", "demo/multi:1.0", "--json"])
    assert full.exit_code == 0, full.output
    cost = json.loads(full.stdout)["cost"]
    sent = _kinds(registry.requests_since(mark))
    assert cost["docker_hub"]["pulls"] == sent["manifest_get"] >= 1
    assert cost["by_kind"] == dict(sent)
    mark = registry.log_mark()
    warm = runner.invoke(app, ["--max-pulls", "0", "--stats", "inspect", "demo/multi:1.0"])
    assert warm.exit_code == 0, warm.output
    assert _kinds(registry.requests_since(mark))["manifest_get"] == 0
    assert "Docker Hub: 0 pulls of at most 0" in warm.stderr
