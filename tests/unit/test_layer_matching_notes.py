"""Notes on layers that hold the same files under another digest (a docker-archive keeps its
layers uncompressed, a registry compressed: a digest match never pairs them), on local
sources and on foreign layers: `size` and `compare`, service, CLI and MCP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.oci.manifest import (
    ImageManifest,
    parse_config,
    parse_manifest,
    same_content_other_digest,
    stored_uncompressed,
)
from dockerhub_cli.service import DockerHubService
from dockerhub_cli.text import human_size
from tests.support.local_sources import docker_save_legacy, legacy_image
from tests.unit import registry_fixtures as fx

REG = "https://registry.example.com"
runner = CliRunner()


@pytest.fixture
def reg(rsps) -> fx.FakeRegistry:
    return fx.FakeRegistry(rsps, REG, "team/app")


def _ref(tag: str) -> str:
    return f"registry.example.com/team/app:{tag}"


def _pushed(reg: fx.FakeRegistry, diff_ids: list[str], tag: str = "1.0") -> list[str]:
    """The registry image of the same layers, gzip-compressed: other digests, same diff_ids;
    plus one layer of its own. Returns its layer digests."""
    layers = [(fx.sha256(f"gz {d}".encode()), 40 + n) for n, d in enumerate(diff_ids)]
    extra = (fx.sha256(b"gz extra"), 7)
    config = fx.config_bytes(diff_ids=[*diff_ids, fx.sha256(b"extra")])
    reg.manifest(fx.image_manifest(config, [*layers, extra]), fx.OCI_MANIFEST, tags=(tag,))
    reg.blob(config)
    return [d for d, _ in [*layers, extra]]


def _archive(tmp_path: Path) -> tuple[str, list[str]]:
    image = legacy_image("linux/amd64", {"etc/a": "1\n", "etc/b": "2\n"}, tags=["app:1"])
    source = docker_save_legacy(tmp_path / "save.tar", [image])
    return f"{source}:app:1", json.loads(image.config)["rootfs"]["diff_ids"]


def test_size_have_docker_archive_says_its_layers_never_match(
    reg: fx.FakeRegistry, service: DockerHubService, tmp_path: Path
) -> None:
    archive, diff_ids = _archive(tmp_path)
    _pushed(reg, diff_ids)
    r = service.pull_size(_ref("1.0"), have=[archive])
    assert r.shared_layers == [] and r.download_layer_count == 3  # nothing matches by digest
    [note] = r.notes
    assert note.startswith(f"2 layers (81 B) of {_ref('1.0')} hold the same files as layers of")
    assert f"{archive} ({archive} keeps its layers uncompressed, as docker save does)" in note
    assert note.endswith("they count as not shared (a pull downloads them anyway)")


def test_size_of_a_docker_archive_is_a_local_note(
    reg: fx.FakeRegistry, service: DockerHubService, tmp_path: Path
) -> None:
    archive, diff_ids = _archive(tmp_path)
    _pushed(reg, diff_ids)
    r = service.pull_size(archive, have=[_ref("1.0")])
    local, same = r.notes
    assert local == (
        f"{archive} is a local image: nothing is downloaded to read it; the sizes are those of "
        "its layers as stored there (uncompressed, as docker save does: a registry would store "
        "them compressed, smaller)"
    )
    size = human_size(r.total_size)
    assert same.startswith(f"2 layers ({size}) of {archive} hold the same files as layers of")
    assert f"{_ref('1.0')} ({archive} keeps its layers uncompressed" in same


def test_size_notes_nothing_when_layers_match_by_digest(
    reg: fx.FakeRegistry, service: DockerHubService
) -> None:
    digests = _pushed(reg, ["sha256:" + "aa" * 32, "sha256:" + "bb" * 32])
    # the same compressed layers under another tag: shared by digest, nothing to say
    config = fx.config_bytes(diff_ids=["sha256:" + "aa" * 32])
    reg.manifest(fx.image_manifest(config, [(digests[0], 40)]), fx.OCI_MANIFEST, tags=("base",))
    reg.blob(config)
    r = service.pull_size(_ref("1.0"), have=[_ref("base")])
    assert r.shared_layers == [digests[0]] and r.notes == []


def test_size_notes_foreign_layers(reg: fx.FakeRegistry, service: DockerHubService) -> None:
    config = fx.config_bytes(os_name="windows", diff_ids=["sha256:" + "aa" * 32])
    doc: dict[str, Any] = json.loads(fx.image_manifest(config, [("sha256:" + "cc" * 32, 900)]))
    doc["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
    doc["layers"][0]["urls"] = ["https://mcr.microsoft.com/v2/windows/blobs/x"]
    reg.manifest(json.dumps(doc).encode(), fx.OCI_MANIFEST, tags=("win",))
    reg.blob(config)
    r = service.pull_size(_ref("win"), platform="windows/amd64")
    assert r.notes == [
        "1 layer (900 B) are foreign (non-distributable): a pull fetches them from the URLs the "
        "manifest names, not from the registry; they are counted in the download size"
    ]


def test_compare_docker_archive_with_its_pushed_image(
    reg: fx.FakeRegistry, service: DockerHubService, tmp_path: Path
) -> None:
    archive, diff_ids = _archive(tmp_path)
    _pushed(reg, diff_ids)
    r = service.compare(archive, _ref("1.0"))
    assert r.shared_layers == []
    assert (
        "2 layers hold the same files on both sides (the same diff_id) under other digests "
        "(the left side keeps its layers uncompressed, as docker save does): they count as "
        "different here, and a pull downloads them anyway"
    ) in r.notes


def test_cli_and_mcp_show_the_notes(reg: fx.FakeRegistry, tmp_path: Path) -> None:
    archive, diff_ids = _archive(tmp_path)
    _pushed(reg, diff_ids)
    table = runner.invoke(app, ["size", _ref("1.0"), "--have", archive])
    assert table.exit_code == 0, table.stderr
    assert "note: 2 layers (81 B) of" in table.stdout and "downloads them anyway" in table.stdout
    data = json.loads(runner.invoke(app, ["size", _ref("1.0"), "--have", archive, "--json"]).stdout)
    assert len(data["notes"]) == 1 and "the same diff_id" in data["notes"][0]


def test_stored_uncompressed_and_same_content() -> None:
    plain = ["sha256:" + "11" * 32, "sha256:" + "22" * 32]
    gz = [("sha256:" + "33" * 32, 5), ("sha256:" + "44" * 32, 6)]
    a_config = parse_config(fx.config_bytes(diff_ids=plain))
    a = _manifest(fx.image_manifest(fx.config_bytes(diff_ids=plain), [(d, 9) for d in plain]))
    b = _manifest(fx.image_manifest(fx.config_bytes(diff_ids=plain), gz))
    assert stored_uncompressed(a, a_config) and not stored_uncompressed(b, a_config)
    assert [d.digest for d in same_content_other_digest(b, a_config, a, a_config)] == [
        d for d, _ in gz
    ]
    assert same_content_other_digest(a, a_config, a, a_config) == []  # same digests: a match
    short = parse_config(fx.config_bytes(diff_ids=plain[:1]))
    assert same_content_other_digest(b, short, a, a_config) == []  # diff_ids do not pair


def _manifest(body: bytes) -> ImageManifest:
    parsed = parse_manifest(body, fx.OCI_MANIFEST)
    assert isinstance(parsed, ImageManifest)
    return parsed


@pytest.mark.anyio
async def test_mcp_estimate_pull_size_has_the_notes(reg: fx.FakeRegistry, tmp_path: Path) -> None:
    from mcp import Client

    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.mcp.server import build_server

    archive, diff_ids = _archive(tmp_path)
    _pushed(reg, diff_ids)
    with DockerHubService(Settings.from_env(backoff_factor=0.0)) as service:
        async with Client(build_server(service), raise_exceptions=True) as client:
            result = await client.call_tool(
                "docker_estimate_pull_size",
                {"repository": "registry.example.com/team/app", "tag": "1.0", "have": [archive]},
            )
    assert result.is_error is False, result.content
    notes = (result.structured_content or {})["notes"]
    assert len(notes) == 1 and "keeps its layers uncompressed" in notes[0]
