"""Real-world manifests read the way Docker and containerd do (issue 14, part 2).

The shapes are written into OCI layouts by tests/support/local_sources.py and read through
`oci:` (no HTTP at all: `rsps` fails any request); the same shapes are read from a real
registry, with skopeo as the oracle, in tests/integration/test_local_sources_real.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.errors import (
    NotAnImageError,
    PlatformNotFoundError,
    UnsupportedMediaTypeError,
    UpstreamError,
)
from dockerhub_cli.exitcodes import ExitCode
from dockerhub_cli.oci.platform import Platform, parse_platform, select_platform
from dockerhub_cli.service import DockerHubService
from tests.support.local_sources import (
    DOCKER_SCHEMA1,
    arm_variants_index,
    artifact,
    docker_list,
    nested_index,
    no_platform_index,
    octet_stream_config_image,
    raw_manifest,
    spec,
    windows_index,
)
from tests.support.oci_build import OCI_MANIFEST, OCILayout

runner = CliRunner()


@pytest.fixture
def layout(tmp_path: Path, rsps: responses.RequestsMock) -> OCILayout:
    return OCILayout(tmp_path / "shapes")


def src(layout: OCILayout, tag: str) -> str:
    return f"oci:{layout.path}:{tag}"


# -- the written platform rules ----------------------------------------------------------------


def _pick(wanted: str, candidates: list[str]) -> str | None:
    plats = [(parse_platform(c), c) for c in candidates]
    raw = [(Platform(p.os, p.architecture, (c.split("/") + [None])[2]), c) for p, c in plats]
    chosen = select_platform(parse_platform(wanted), raw)
    return chosen[1] if chosen else None


@pytest.mark.parametrize(
    ("wanted", "candidates", "expected"),
    [
        ("linux/arm64", ["linux/arm64/v8"], "linux/arm64/v8"),  # arm64 == arm64/v8
        ("linux/arm64/v8", ["linux/arm64"], "linux/arm64"),
        ("linux/arm/v7", ["linux/arm/v6", "linux/arm"], "linux/arm"),  # bare arm == arm/v7
        ("linux/arm", ["linux/arm/v6", "linux/arm/v7"], "linux/arm/v7"),
        ("linux/arm/v6", ["linux/arm/v6", "linux/arm"], "linux/arm/v6"),
        ("linux/arm/v5", ["linux/arm/v6", "linux/arm"], None),  # skopeo: the bare arm
        ("linux/arm/v7", ["linux/arm/v6"], "linux/arm/v6"),  # a v7 CPU runs v6
        ("linux/arm64", ["linux/arm/v7", "linux/arm/v6"], "linux/arm/v7"),
        ("linux/amd64/v3", ["linux/amd64/v2", "linux/amd64"], "linux/amd64/v2"),
        ("linux/amd64", ["linux/amd64/v2"], None),  # a v1 CPU cannot run v2
        ("linux/amd64", ["linux/386"], "linux/386"),
        ("x86_64", ["linux/amd64"], "linux/amd64"),
        ("linux/aarch64", ["linux/arm64/v8"], "linux/arm64/v8"),
    ],
)
def test_platform_rules(wanted: str, candidates: list[str], expected: str | None) -> None:
    assert _pick(wanted, candidates) == expected


def test_windows_os_version_syntax_and_preference() -> None:
    assert parse_platform("windows/amd64:10.0.17763") == Platform(
        "windows", "amd64", None, "10.0.17763"
    )
    assert parse_platform("windows(10.0.17763)/amd64").os_version == "10.0.17763"
    builds = [
        (Platform("windows", "amd64", None, "10.0.20348.2227"), "2022"),
        (Platform("windows", "amd64", None, "10.0.17763.5458"), "2019"),
    ]
    assert select_platform(parse_platform("windows/amd64:10.0.17763"), builds)[1] == "2019"  # type: ignore[index]
    assert select_platform(parse_platform("windows/amd64:10.0.17763.5458"), builds)[1] == "2019"  # type: ignore[index]
    assert select_platform(parse_platform("windows/amd64"), builds)[1] == "2022"  # type: ignore[index]
    assert select_platform(parse_platform("windows/amd64:10.0.1776"), builds) is None
    assert select_platform(parse_platform("windows/amd64:6.3"), builds) is None


# -- the shapes --------------------------------------------------------------------------------


def test_arm_v7_on_v6_plus_bare_arm(service: DockerHubService, layout: OCILayout) -> None:
    entries = arm_variants_index(layout, "arm")
    assert (
        service.inspect(src(layout, "arm"), platform="linux/arm/v7").manifest_digest
        == entries["bare"].digest
    )
    assert (
        service.inspect(src(layout, "arm"), platform="linux/arm/v6").manifest_digest
        == entries["v6"].digest
    )
    with pytest.raises(PlatformNotFoundError):
        service.inspect(src(layout, "arm"), platform="linux/arm/v5")


def test_octet_stream_config_is_read_by_content(
    service: DockerHubService, layout: OCILayout
) -> None:
    desc = octet_stream_config_image(layout, "octet")
    result = service.inspect(src(layout, "octet"))
    assert result.manifest_digest == desc.digest and result.config is not None
    assert result.config.cmd == ["sh"]


def test_artifacts_have_their_own_exit_code_and_manifest_still_works(
    service: DockerHubService, layout: OCILayout
) -> None:
    desc = artifact(layout, "chart")
    with pytest.raises(NotAnImageError, match="not a container image") as err:
        service.inspect(src(layout, "chart"))
    assert err.value.exit_code == ExitCode.NOT_AN_IMAGE == 7
    assert service.manifest(src(layout, "chart")).digest == desc.digest
    result = runner.invoke(app, ["inspect", src(layout, "chart")])
    assert result.exit_code == 7, result.output


def test_nested_index_is_resolved(service: DockerHubService, layout: OCILayout) -> None:
    top, images = nested_index(layout, "nested")
    result = service.inspect(src(layout, "nested"), platform="linux/arm/v7")
    assert result.digest == top.digest
    assert result.manifest_digest == images[2].digest
    assert [p.digest for p in result.platforms] == [d.digest for d in images]
    assert [p.platform for p in result.platforms] == ["linux/amd64", "linux/arm64", "linux/arm/v7"]
    assert service.layers(src(layout, "nested"), platform="linux/arm64").digest == images[1].digest


def test_nested_docker_lists_are_resolved(service: DockerHubService, layout: OCILayout) -> None:
    _, images = nested_index(layout, "nested-docker", docker=True)
    assert service.inspect(src(layout, "nested-docker")).manifest_digest == images[0].digest


def test_nesting_is_bounded(service: DockerHubService, layout: OCILayout) -> None:
    image = layout.add_image(spec())
    desc = layout.add_index([image])
    for _ in range(6):
        desc = layout.add_index([desc])
    layout.tag("deep", desc)
    with pytest.raises(UpstreamError, match="nested more than"):
        service.inspect(src(layout, "deep"))


def test_entries_without_platform_are_listed_and_chosen_by_config(
    service: DockerHubService, layout: OCILayout
) -> None:
    _, images = no_platform_index(layout, "noplat")
    result = service.inspect(src(layout, "noplat"), platform="linux/arm64")
    assert [p.platform for p in result.platforms] == ["no platform", "no platform"]
    assert result.manifest_digest == images[1].digest
    assert result.platform_source == "config" and result.index_platform is None
    with pytest.raises(PlatformNotFoundError) as err:
        service.inspect(src(layout, "noplat"), platform="linux/s390x")
    assert "no platform (" in str(err.value) and "--platform" not in str(err.value)
    out = runner.invoke(app, ["inspect", src(layout, "noplat"), "--platform", "linux/s390x"])
    assert "listed" not in out.output and out.exit_code == 3


def test_index_and_config_platforms_are_both_kept(
    service: DockerHubService, layout: OCILayout
) -> None:
    docker_list(layout, "list")
    result = service.inspect(src(layout, "list"), platform="linux/arm64")
    assert result.platform is not None and result.platform.variant == "v8"
    assert result.platform_source == "index"
    assert result.index_platform is not None and result.index_platform.variant == "v8"
    assert result.config_platform is not None and result.config_platform.variant is None
    row = next(p for p in result.platforms if p.digest == result.manifest_digest)
    assert row.platform == str(result.platform) == "linux/arm64/v8"
    out = runner.invoke(app, ["inspect", src(layout, "list"), "--platform", "linux/arm64"])
    assert "linux/arm64/v8 (index entry; the config says linux/arm64)" in out.output


def test_windows_images(service: DockerHubService, layout: OCILayout) -> None:
    builds = windows_index(layout, "win")
    result = service.inspect(src(layout, "win"), platform="windows/amd64:10.0.17763")
    assert result.manifest_digest == builds["10.0.17763.5458"].digest
    assert result.platform is not None
    assert result.platform.os_version == "10.0.17763.5458"
    assert result.platform.os_features == ["win32k"]
    assert [p.os_version for p in result.platforms] == list(builds)
    assert all(p.os_features == ["win32k"] for p in result.platforms)
    out = runner.invoke(
        app, ["inspect", src(layout, "win"), "--platform", "windows(10.0.20348)/amd64"]
    )
    assert out.exit_code == 0, out.output
    assert "windows/amd64 10.0.20348.2227 (win32k) *" in out.output
    with pytest.raises(PlatformNotFoundError, match=r"windows/amd64:10\.0\.14393"):
        service.inspect(src(layout, "win"), platform="windows/amd64:10.0.14393")


def test_created_keeps_nanoseconds_and_shell_is_shown(
    service: DockerHubService, layout: OCILayout
) -> None:
    layout.add_image(spec(created="2024-05-01T12:00:00.123456789Z"), tag="ns")
    data = json.loads(runner.invoke(app, ["inspect", src(layout, "ns"), "--json"]).output)
    assert data["created"] == "2024-05-01T12:00:00.123456789Z"
    history = json.loads(runner.invoke(app, ["history", src(layout, "ns"), "--json"]).output)
    assert history["created"] == "2024-05-01T12:00:00.123456789Z"
    manifest = layout.read_json(layout.resolve("ns").digest)
    config = layout.read_json(manifest["config"]["digest"])
    config["config"]["Shell"] = ["powershell", "-Command"]
    cfg = layout.add_json(config, manifest["config"]["mediaType"])
    manifest["config"] = cfg.to_dict()
    layout.tag("shell", layout.add_json(manifest, OCI_MANIFEST))
    out = runner.invoke(app, ["inspect", src(layout, "shell")]).output
    assert 'Shell        ["powershell", "-Command"]' in out


def test_unsupported_schema_version(service: DockerHubService, layout: OCILayout) -> None:
    raw_manifest(
        layout,
        "v3",
        {"schemaVersion": 3, "mediaType": OCI_MANIFEST, "config": {}, "layers": []},
        OCI_MANIFEST,
    )
    with pytest.raises(UnsupportedMediaTypeError, match="unsupported schema version 3"):
        service.inspect(src(layout, "v3"))


def test_manifest_shows_schema1_raw_with_a_warning(
    service: DockerHubService, layout: OCILayout
) -> None:
    doc = {
        "schemaVersion": 1,
        "name": "old/app",
        "tag": "1",
        "architecture": "amd64",
        "fsLayers": [{"blobSum": "sha256:" + "0" * 64}],
        "history": [{"v1Compatibility": "{}"}],
    }
    desc = raw_manifest(layout, "old", doc, DOCKER_SCHEMA1)
    with pytest.raises(UnsupportedMediaTypeError, match="schema 1"):
        service.inspect(src(layout, "old"))
    report = service.manifest(src(layout, "old"))
    assert report.digest == desc.digest and report.manifest == doc
    assert report.notes and "schema 1" in report.notes[0]
    out = runner.invoke(app, ["manifest", src(layout, "old"), "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["manifest"] == doc
    assert "schema 1" in out.stderr


def test_an_index_that_contains_itself_is_refused(
    service: DockerHubService, layout: OCILayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verified content cannot form a cycle, but a client that lies could: refuse it."""
    from dockerhub_cli.ops import images

    top, _ = nested_index(layout, "cycle")
    real = images.fetch_manifest

    def lying(svc: DockerHubService, ref: object, reference: str | None = None) -> object:
        fetched = real(svc, ref, reference)  # type: ignore[arg-type]
        if reference != top.digest and isinstance(fetched.parsed, images.ImageIndex):
            return real(svc, ref, top.digest)  # type: ignore[arg-type]
        return fetched

    monkeypatch.setattr(images, "fetch_manifest", lying)
    with pytest.raises(UpstreamError, match="contains itself"):
        service.inspect(src(layout, "cycle"))


def test_nested_entries_without_platform_take_the_parent_entry_platform(
    service: DockerHubService, layout: OCILayout
) -> None:
    amd = layout.add_image(spec("linux/amd64", "inherit")).descriptor.replace(platform=None)
    arm = layout.add_image(spec("linux/arm64", "inherit")).descriptor.replace(platform=None)
    inner_amd = layout.add_index([amd]).replace(platform={"os": "linux", "architecture": "amd64"})
    inner_arm = layout.add_index([arm]).replace(platform={"os": "linux", "architecture": "arm64"})
    layout.add_index([inner_amd, inner_arm], tag="inherit")
    result = service.inspect(src(layout, "inherit"), platform="linux/arm64")
    assert result.manifest_digest == arm.digest and result.platform_source == "index"
    assert [p.platform for p in result.platforms] == ["linux/amd64", "linux/arm64"]
