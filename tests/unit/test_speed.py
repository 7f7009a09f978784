"""Scale (issue 19, goal 4): the client-side budget is Docker Hub's API only, an index's child
manifests are fetched a few at a time, and a long tag list goes into a pipe as plain rows."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.ops import images as ops_images
from dockerhub_cli.remote.ratelimit import HostRateLimiter, hub_api_hosts
from dockerhub_cli.service import DockerHubService
from tests.unit import registry_fixtures as fx

REG = "https://registry.example.com"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
runner = CliRunner()


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_the_budget_applies_to_the_hub_api_only() -> None:
    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = HostRateLimiter(
        per_minute=60,
        burst=1,
        clock=lambda: clock[0],
        sleep=sleep,
        hosts=hub_api_hosts("https://hub.docker.com"),
    )
    for _ in range(20):
        limiter.acquire("registry.example.com")
    assert slept == []
    assert limiter.snapshot()["registry.example.com"]["sent"] == 20
    assert limiter.snapshot()["registry.example.com"]["limited"] is False
    limiter.acquire("hub.docker.com")
    limiter.acquire("hub.docker.com")  # burst of 1: the second one waits
    assert limiter.state["hub.docker.com"].throttled == 1 and slept


def test_the_service_limits_its_configured_hub_host() -> None:
    settings = Settings.from_env(hub_url="http://127.0.0.1:5999")
    with DockerHubService(settings) as svc:
        assert svc.limiter.limits("127.0.0.1:5999")
        assert svc.limiter.limits("hub.docker.com")
        assert not svc.limiter.limits("registry-1.docker.io")
        assert not svc.limiter.limits("ghcr.io")


def _wide_index(rsps: responses.RequestsMock, n: int) -> tuple[fx.FakeRegistry, list[str]]:
    reg = fx.FakeRegistry(rsps, REG, "team/wide")
    entries, digests = [], []
    for i in range(n):
        arch = "amd64" if i == 0 else f"arch{i}"
        cfg = fx.config_bytes(arch=arch)
        cfg_digest = reg.blob(cfg)
        body = fx.compact(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": cfg_digest,
                    "size": len(cfg),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": "sha256:" + f"{i:064x}",
                        "size": 1000 + i,
                    }
                ],
            }
        )
        digest = reg.manifest(body, OCI_MANIFEST)
        digests.append(digest)
        entries.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest,
                "size": len(body),
                "platform": {"architecture": arch, "os": "linux"},
            }
        )
    index = fx.compact({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    reg.manifest(index, OCI_INDEX, tags=("1.0",))
    return reg, digests


def test_child_manifests_are_fetched_concurrently_once_each(rsps, monkeypatch) -> None:
    n = 12
    _, digests = _wide_index(rsps, n)
    in_flight = {"now": 0, "most": 0}
    lock = threading.Lock()
    real = ops_images.fetch_manifest

    def counting(*args: Any, **kwargs: Any) -> Any:
        with lock:
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                in_flight["now"] -= 1

    monkeypatch.setattr(ops_images, "fetch_manifest", counting)
    with DockerHubService(Settings.from_env(platform="linux/amd64")) as svc:
        result = svc.inspect("registry.example.com/team/wide:1.0")
    sizes = {p.digest: p.size for p in result.platforms}
    assert [p.digest for p in result.platforms] == digests  # index order kept
    assert all(sizes[d] is not None for d in digests)
    child_gets = [
        c.request.url
        for c in rsps.calls
        if c.request.method == "GET" and "/manifests/sha256:" in c.request.url
    ]
    assert len(child_gets) == len(set(child_gets)) == n  # every child once, none twice
    assert in_flight["most"] <= ops_images.CHILD_FETCH_JOBS


def _hub_tags(n: int, hostile: str = "") -> dict[str, Any]:
    return {
        "count": n,
        "next": None,
        "previous": None,
        "results": [
            {
                "name": (hostile if i == 0 else "") + f"1.{i}",
                "digest": "sha256:" + f"{i:064x}",
                "full_size": 1_000_000 + i,
                "last_updated": "2024-05-01T12:00:00.000000Z",
                "images": [
                    {"os": "linux", "architecture": "amd64", "digest": "sha256:" + f"{i:064x}"}
                ],
            }
            for i in range(n)
        ],
    }


def test_tags_into_a_pipe_are_plain_aligned_rows(rsps) -> None:
    rsps.get(
        "https://hub.docker.com/v2/namespaces/team/repositories/app/tags",
        json=_hub_tags(100, hostile="\x1b[31m"),
    )
    result = runner.invoke(app, ["tags", "team/app", "--limit", "100", "--sort", "name"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TAG", "DIGEST", "SIZE", "UPDATED", "PLATFORMS"]
    assert len(lines) == 1 + 100 + 1
    assert lines[-1].startswith("100 shown")
    assert "\x1b" not in result.stdout and "\\x1b[31m1.0" in result.stdout
    assert all(line == line.rstrip() for line in lines)
    # columns line up: every row's digest starts where the header's DIGEST does
    at = lines[0].index("DIGEST")
    assert {line[at : at + 7] for line in lines[1:-1]} == {"sha256:"}


def test_tags_json_is_unchanged_by_plain_rows(rsps) -> None:
    rsps.get("https://hub.docker.com/v2/namespaces/team/repositories/app/tags", json=_hub_tags(3))
    result = runner.invoke(app, ["tags", "team/app", "--json"])
    assert result.exit_code == 0
    assert [t["name"] for t in json.loads(result.stdout)["tags"]] == ["1.0", "1.1", "1.2"]
