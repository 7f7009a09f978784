"""`cache warm` (ops/warm.py) on `responses` fixtures shaped like Docker Hub and a registry:
what it fetches (and what not), what later --offline runs then answer, its summary, its
arguments and its exit codes. The end-to-end proof on a real registry is
tests/integration/test_warm_real.py."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import InvalidInputError, InvalidReferenceError
from dockerhub_cli.models.cache import WarmFailure, WarmReport
from dockerhub_cli.ops.warm import exit_code
from dockerhub_cli.service import DockerHubService
from tests.unit import registry_fixtures as fx
from tests.unit.hub_fixtures import load

HUB = "https://hub.docker.com"
DOCKER_REG = "https://registry-1.docker.io"
REG = "https://registry.example.com"
runner = CliRunner()


def _hub_nginx(rsps: responses.RequestsMock) -> fx.FakeRegistry:
    reg = fx.FakeRegistry(rsps, DOCKER_REG, "library/nginx")
    reg.nginx("1.27.2")
    rsps.get(f"{HUB}/v2/namespaces/library/repositories/nginx", json=load("repository_nginx.json"))
    rsps.get(f"{HUB}/v2/namespaces/library/repositories/nginx/tags", json=load("tags_nginx.json"))
    rsps.get(
        f"{HUB}/v2/namespaces/library/repositories/nginx/tags/1.27.2",
        json={
            "name": "1.27.2",
            "tag_last_pushed": "2026-07-30T04:44:13.965904Z",
            "tag_last_pulled": "2026-08-07T11:31:46.163535986Z",
            "images": [
                {
                    "architecture": "amd64",
                    "os": "linux",
                    "digest": fx.sha256(fx.NGINX_MANIFEST),
                    "size": fx.NGINX_TOTAL,
                },
                {
                    "architecture": "arm64",
                    "os": "linux",
                    "variant": "v8",
                    "digest": fx.sha256(fx.ARM64_MANIFEST),
                    "size": 29_000_001,
                },
            ],
        },
    )
    return reg


def _invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def _urls(rsps: responses.RequestsMock) -> list[str]:
    return [str(call.request.url) for call in rsps.calls]


def test_warm_a_hub_image_then_inspect_and_tags_offline(rsps: responses.RequestsMock) -> None:
    _hub_nginx(rsps)
    result = _invoke("cache", "warm", "nginx:1.27.2", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    (image,) = report["images"]
    assert image["reference"] == "nginx:1.27.2"
    assert image["sources"] == ["argument"]
    assert image["digest"] == fx.sha256(fx.NGINX_INDEX)
    assert image["platforms"] == ["linux/amd64", "linux/arm64/v8"]
    assert image["manifests"] == 3 and image["configs"] == 2 and image["layers"] == 0
    assert image["status"] == "ok" and image["reason"] is None
    assert report["failures"] == []
    # The index names a base image (debian, not served here): a note, not a failure.
    (note,) = report["notes"]
    assert note.startswith("nginx:1.27.2: base image debian:bookworm-slim not compared")
    answered = [c for c in rsps.calls if not isinstance(c.response, Exception)]
    assert report["requests"] == len(answered) == image["requests"]
    expected_bytes = (
        len(fx.NGINX_INDEX)
        + len(fx.NGINX_MANIFEST)
        + len(fx.ARM64_MANIFEST)
        + len(fx.NGINX_CONFIG)
        + len(fx.ARM64_CONFIG)
    )
    assert report["bytes"] == image["bytes"] == expected_bytes
    assert report["already_cached"] == 0 and report["jobs"] == 4
    # The attestation manifest is no platform: not fetched.
    assert not any(fx.sha256(fx.ATTESTATION_MANIFEST) in url for url in _urls(rsps))

    calls = len(rsps.calls)
    inspected = _invoke("--offline", "inspect", "nginx:1.27.2", "--json")
    assert inspected.exit_code == 0, inspected.stderr
    body = json.loads(inspected.stdout)
    assert body["repository_info"]["name"] == "nginx"  # Hub facts were warmed
    assert body["tag_last_pushed"] is not None and body["notes"] == []
    tags = _invoke("--offline", "tags", "nginx", "--json")
    assert tags.exit_code == 0, tags.stderr
    arm = _invoke("--offline", "layers", "nginx:1.27.2", "--platform", "linux/arm64", "--json")
    assert arm.exit_code == 0, arm.stderr
    assert len(rsps.calls) == calls  # offline: nothing asked

    again = json.loads(_invoke("cache", "warm", "nginx:1.27.2", "--json").stdout)
    # Only what failed (the base image) is asked again; everything else is cached and fresh.
    assert {c.request.url.split("/v2/")[1].split("/manifests")[0] for c in rsps.calls[calls:]} == {
        "library/debian"
    }
    assert again["bytes"] == 0 and again["fetched"] == 0
    assert again["already_cached"] == report["fetched"] + report["already_cached"]


def test_one_platform_only(rsps: responses.RequestsMock) -> None:
    _hub_nginx(rsps)
    with DockerHubService(Settings.from_env()) as svc:
        report = svc.warm(["nginx:1.27.2"], platform="linux/arm64")
    assert report.images[0].platforms == ["linux/arm64/v8"] and report.platforms == 1
    assert not any(fx.sha256(fx.NGINX_MANIFEST) in url for url in _urls(rsps))


def test_a_platform_the_index_lacks_is_a_failure(rsps: responses.RequestsMock) -> None:
    _hub_nginx(rsps)
    result = _invoke("cache", "warm", "nginx:1.27.2", "--platform", "linux/s390x", "--json")
    assert result.exit_code == 3
    (failure,) = json.loads(result.stdout)["failures"]
    assert failure["what"] == "image" and "no image for platform linux/s390x" in failure["reason"]


def test_files_are_read_like_pin_and_bad_entries_are_reported(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    reg = fx.FakeRegistry(rsps, REG, "team/app")
    reg.gitea("1.0")
    reg.missing("gone")
    rsps.get(reg.url("tags/list"), json={"name": "team/app", "tags": ["1.0"]})
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG BASE=registry.example.com/team/app:1.0\n"
        "FROM ${BASE} AS build\n"
        "FROM build\n"
        "FROM scratch\n"
        "FROM registry.example.com/team/app:gone\n"
        "FROM Bad//Ref\n"
    )
    result = _invoke("cache", "warm", str(dockerfile), "--json")
    report = json.loads(result.stdout)
    assert [i["reference"] for i in report["images"]] == [
        "registry.example.com/team/app:1.0",
        "registry.example.com/team/app:gone",
    ]
    assert report["images"][0]["sources"] == [f"{dockerfile}:1"]  # the ARG default
    assert report["images"][0]["status"] == "ok"
    assert report["images"][1]["status"] == "failed"
    by_what = {(f["target"], f["what"]): f for f in report["failures"]}
    assert by_what[(f"{dockerfile}:6", "reference")]["exit_code"] == 2
    missing = by_what[("registry.example.com/team/app:gone", "image")]
    assert missing["exit_code"] == 3 and "not found" in missing["reason"]
    assert result.exit_code == 2  # the first failure listed: the invalid reference
    table = _invoke("cache", "warm", str(dockerfile))
    assert "2 images, 1 platform:" in table.stdout and "2 failed" in table.stdout


def test_arguments_are_checked_before_anything_is_fetched(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    offline = _invoke("--offline", "cache", "warm", "nginx")
    assert offline.exit_code == 2 and "cannot run with --offline" in offline.stderr
    missing = _invoke("cache", "warm", str(tmp_path / "compose.yaml"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    bad = _invoke("cache", "warm", "Bad//Ref")
    assert bad.exit_code == 2
    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello\n")
    assert _invoke("cache", "warm", str(unknown)).exit_code == 2
    assert len(rsps.calls) == 0
    with DockerHubService(Settings.from_env()) as svc:
        with pytest.raises(InvalidInputError, match="jobs must be between 1 and 16"):
            svc.warm(["nginx"], jobs=0)
        with pytest.raises(InvalidReferenceError):
            svc.warm(["nginx", "UPPER//case"])
        local = svc.warm([f"oci:{tmp_path}"])
    assert local.images == [] and local.notes == [
        f"oci:{tmp_path}: a local source; nothing to fetch"
    ]


def test_progress_is_reported_and_fetches_run_on_a_bounded_pool(
    rsps: responses.RequestsMock,
) -> None:
    reg = fx.FakeRegistry(rsps, REG, "team/app")
    reg.nginx("1.27.2")
    threads: set[str] = set()
    lock = threading.Lock()

    def seen(request: Any) -> tuple[int, dict[str, str], str]:
        with lock:
            threads.add(threading.current_thread().name)
        return 200, {}, json.dumps({"name": "team/app", "tags": ["1.27.2"]})

    rsps.add_callback(responses.GET, re.compile(re.escape(reg.url("tags/list")) + ".*"), seen)
    updates: list[tuple[int, int, int, str]] = []
    with DockerHubService(Settings.from_env()) as svc:
        report = svc.warm(
            ["registry.example.com/team/app:1.27.2"], jobs=2, progress=lambda *a: updates.append(a)
        )
    assert report.failures == [] and report.jobs == 2
    assert updates and all(done <= total for done, total, _, _ in updates)
    done, total, size, _ = updates[-1]
    assert done == total and size == report.bytes
    assert len(threads) == 1  # one tags request; every fetch is on the caller or the pool
    assert all(name.startswith(("dockerhub-warm", "MainThread")) for name in threads)


def test_exit_code_is_the_first_failure_listed() -> None:
    def failure(code: int) -> WarmFailure:
        return WarmFailure(target="x", what="image", reason="r", exit_code=code)

    assert exit_code(WarmReport(targets=["x"])) == 0
    assert exit_code(WarmReport(targets=["x"], failures=[failure(6), failure(3)])) == 6


def test_warm_is_cli_only_and_never_a_saved_result() -> None:
    from dockerhub_cli import commands

    command = commands.get("cache warm")
    assert command.mcp is None  # see docs/caching.md: why no MCP tool
    assert "cache warm" not in commands.result_cache_reads()
