"""Local image sources (issue 14, part 1): parsing `oci:` / `oci-archive:` / `docker-archive:`,
reading layouts and archives through the registry client's API, and refusing hostile input.

Every test runs with `rsps` active: any HTTP request would fail the test, so these also prove
that local reads never touch the network (or its cache).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest
import responses

from dockerhub_cli.errors import (
    DigestMismatchError,
    InvalidInputError,
    InvalidReferenceError,
    NotFoundError,
)
from dockerhub_cli.oci.source import is_local_source, parse_source
from dockerhub_cli.remote.local_layout import LocalLayoutClient, LocalSourceError
from dockerhub_cli.service import DockerHubService
from tests.support.local_sources import (
    docker_save_legacy,
    docker_save_oci,
    legacy_image,
    oci_archive,
    set_index,
    spec,
    tar_with_member,
)
from tests.support.oci_build import OCILayout, sha256_digest

# -- parsing ---------------------------------------------------------------------------------

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "transport", "path", "tag", "digest"),
    [
        ("oci:examples/hello-oci:1.0", "oci", "examples/hello-oci", "1.0", None),
        ("oci:/abs/dir", "oci", "/abs/dir", None, None),
        (f"oci:dir:{DIGEST}", "oci", "dir", None, DIGEST),
        (f"oci:dir@{DIGEST}", "oci", "dir", None, DIGEST),
        (f"oci:dir:v1@{DIGEST}", "oci", "dir", "v1", DIGEST),
        ("oci-archive:img.tar", "oci-archive", "img.tar", None, None),
        ("oci-archive:img.tar:latest", "oci-archive", "img.tar", "latest", None),
        ("docker-archive:x.tar:nginx:1.27", "docker-archive", "x.tar", "nginx:1.27", None),
        (
            "docker-archive:x.tar:localhost:5000/app:dev",
            "docker-archive",
            "x.tar",
            "localhost:5000/app:dev",
            None,
        ),
    ],
)
def test_parse_local_sources(
    text: str, transport: str, path: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_source(text)
    assert (ref.transport, ref.path, ref.tag, ref.digest) == (transport, path, tag, digest)
    assert ref.is_local and not ref.is_docker_hub and ref.hub_namespace_and_name is None
    again = parse_source(str(ref))  # what we print reads back the same (a digest wins)
    assert (again.transport, again.path, again.digest) == (transport, path, digest)
    assert again.tag == (None if digest else tag)
    assert parse_source(str(ref.with_digest(DIGEST))).digest == DIGEST


def test_registry_references_are_unchanged() -> None:
    assert parse_source("nginx").transport == "docker"
    assert str(parse_source("nginx:1.27")) == "nginx:1.27"
    assert parse_source("docker://ghcr.io/o/r:1") == parse_source("ghcr.io/o/r:1")
    assert not is_local_source("nginx:oci") and is_local_source("oci:x")


@pytest.mark.parametrize(
    "text",
    ["oci:", "oci::tag", "oci:dir:bad tag", "oci:dir:v1@sha256:zz", "docker-archive:x.tar:UPPER:1"],
)
def test_bad_local_sources_are_usage_errors(text: str) -> None:
    with pytest.raises(InvalidReferenceError):
        parse_source(text)


# -- reading a layout ------------------------------------------------------------------------


@pytest.fixture
def layout(tmp_path: Path) -> OCILayout:
    lay = OCILayout(tmp_path / "layout")
    amd = lay.add_image(spec("linux/amd64"))
    arm = lay.add_image(spec("linux/arm64"))
    lay.add_index([amd, arm], tag="1.0")
    return lay


def test_inspect_layout_offline(
    service: DockerHubService, layout: OCILayout, rsps: responses.RequestsMock
) -> None:
    result = service.inspect(f"oci:{layout.path}:1.0", platform="linux/arm64")
    top = layout.resolve("1.0")
    assert result.digest == top.digest
    assert [p.platform for p in result.platforms] == ["linux/amd64", "linux/arm64"]
    assert result.platform is not None and result.platform.architecture == "arm64"
    assert result.repository_info is None and len(rsps.calls) == 0
    # one image in the layout: REF may be left out
    assert service.inspect(f"oci:{layout.path}").digest == top.digest
    # by digest, of the index and of a platform manifest
    assert service.manifest(f"oci:{layout.path}@{top.digest}").digest == top.digest
    child = result.manifest_digest
    assert service.layers(f"oci:{layout.path}:{child}").digest == child


def test_several_images_need_a_ref_and_the_error_lists_them(
    service: DockerHubService, layout: OCILayout
) -> None:
    layout.add_image(spec("linux/amd64", "other"), tag="2.0")
    with pytest.raises(InvalidInputError, match=r"holds 2 images: 1\.0, 2\.0"):
        service.inspect(f"oci:{layout.path}")
    with pytest.raises(NotFoundError, match=r"no image named 'nope'; it holds: 1\.0, 2\.0"):
        service.inspect(f"oci:{layout.path}:nope")
    assert service.inspect(f"oci:{layout.path}:2.0").platform is not None


def test_missing_and_wrong_kind_of_path(service: DockerHubService, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such directory"):
        service.inspect(f"oci:{tmp_path / 'absent'}")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInputError, match="not a directory"):
        service.inspect(f"oci:{tmp_path / 'file'}")
    with pytest.raises(InvalidInputError, match="not a tar archive") as raised:
        service.inspect(f"oci-archive:{tmp_path / 'file'}")
    assert "\n" not in str(raised.value)  # tarfile's message is one line per method it tried
    with pytest.raises(InvalidInputError, match="not a regular file") as raised:
        service.inspect(f"docker-archive:{tmp_path}")
    assert "oci:DIR" in str(raised.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="no index.json"):
        service.inspect(f"oci:{tmp_path / 'empty'}")


def test_oci_archive_reads_in_place(
    service: DockerHubService, layout: OCILayout, tmp_path: Path
) -> None:
    source = oci_archive(layout, tmp_path / "img.tar")
    from_dir = service.inspect(f"oci:{layout.path}:1.0")
    from_tar = service.inspect(f"{source}:1.0")
    assert from_tar.digest == from_dir.digest
    assert from_tar.manifest_digest == from_dir.manifest_digest
    assert not (tmp_path / "blobs").exists()  # nothing extracted


def test_compressed_oci_archive(
    service: DockerHubService, layout: OCILayout, tmp_path: Path
) -> None:
    import gzip

    plain = tmp_path / "img.tar"
    oci_archive(layout, plain)
    packed = tmp_path / "img.tar.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes(), mtime=0))
    result = service.layers(f"oci-archive:{packed}:1.0", platform="linux/arm64")
    assert result.digest == service.layers(f"oci:{layout.path}:1.0", platform="linux/arm64").digest
    client = LocalLayoutClient("oci-archive", str(packed))
    ref = parse_source(f"oci-archive:{packed}:1.0")
    digest = result.layers[0].digest
    with client.open_blob(ref, digest) as stream:
        assert sha256_digest(stream.read()) == digest
    client.close()


def test_docker_archive_legacy(service: DockerHubService, tmp_path: Path) -> None:
    one = legacy_image(
        "linux/amd64", {"etc/a": "1\n", "etc/b": "2\n"}, tags=["app:1", "app:latest"]
    )
    two = legacy_image("linux/arm64", tags=["localhost:5000/other:dev"])
    source = docker_save_legacy(tmp_path / "save.tar", [one, two])
    result = service.inspect(f"{source}:app:1")
    assert result.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert result.config is not None and result.config.shell == ["/bin/bash", "-c"]
    layers = service.layers(f"{source}:app")  # `app` is app:latest, as docker reads it
    assert [x.digest for x in layers.layers] == json.loads(one.config)["rootfs"]["diff_ids"]
    assert [x.size for x in layers.layers] == [len(t) for t in one.layers]
    other = service.inspect(f"{source}:localhost:5000/other:dev")
    assert other.platform is not None and other.platform.architecture == "arm64"
    with pytest.raises(InvalidInputError, match="holds 2 images"):
        service.inspect(source)
    with pytest.raises(NotFoundError, match="app:1, app:latest, localhost:5000/other:dev"):
        service.inspect(f"{source}:nginx")


def test_docker_archive_oci_form(
    service: DockerHubService, layout: OCILayout, tmp_path: Path
) -> None:
    source = docker_save_oci(layout, tmp_path / "save25.tar", {"docker.io/library/app:1.0": "1.0"})
    result = service.inspect(f"{source}:app:1.0", platform="linux/arm64")
    assert result.digest == layout.resolve("1.0").digest
    assert [p.platform for p in result.platforms] == ["linux/amd64", "linux/arm64"]
    assert service.inspect(source).digest == result.digest  # one image: REF optional


def test_open_blob_streams_and_verifies(layout: OCILayout) -> None:
    client = LocalLayoutClient("oci", str(layout.path))
    ref = parse_source(f"oci:{layout.path}:1.0")
    index = json.loads(client.get_tag_manifest(ref).body)
    manifest = json.loads(client.get_manifest(ref, index["manifests"][0]["digest"]).body)
    layer = manifest["layers"][0]
    with client.open_blob(ref, layer["digest"], size=layer["size"]) as stream:
        data = stream.read()
    assert sha256_digest(data) == layer["digest"]
    path = layout.blob_path(layer["digest"])
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, different bytes
    with pytest.raises(DigestMismatchError), client.open_blob(ref, layer["digest"]) as stream:
        stream.read()
    with pytest.raises(DigestMismatchError):
        client.open_blob(ref, layer["digest"], size=layer["size"] + 1)


def test_changed_content_is_refused(service: DockerHubService, layout: OCILayout) -> None:
    top = layout.resolve("1.0")
    index = layout.read_json(top.digest)
    child = index["manifests"][0]["digest"]
    layout.blob_path(child).write_bytes(layout.read_blob(child) + b" ")
    with pytest.raises(DigestMismatchError):
        service.inspect(f"oci:{layout.path}:1.0", platform="linux/amd64")


def test_a_rebuilt_layout_is_seen_by_a_long_lived_service(
    service: DockerHubService, layout: OCILayout
) -> None:
    first = service.inspect(f"oci:{layout.path}:1.0").digest
    layout.add_image(spec("linux/amd64", "new"), tag="1.0")
    stat = (layout.path / "index.json").stat()
    os.utime(layout.path / "index.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert service.inspect(f"oci:{layout.path}:1.0").digest != first


# -- hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "digest",
    ["sha256:../../../etc/passwd", "sha256:/etc/passwd", "../x", "sha256:" + "A" * 64, 42],
)
def test_hostile_index_json_digests(
    service: DockerHubService, layout: OCILayout, digest: Any
) -> None:
    set_index(
        layout,
        [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 1}],
    )
    with pytest.raises(LocalSourceError, match="invalid digest"):
        service.inspect(f"oci:{layout.path}")


def test_symlinked_blob_is_refused(
    service: DockerHubService, layout: OCILayout, tmp_path: Path
) -> None:
    top = layout.resolve("1.0")
    outside = tmp_path / "outside"
    outside.write_bytes(layout.read_blob(top.digest))
    blob = layout.blob_path(top.digest)
    blob.unlink()
    blob.symlink_to(outside)
    with pytest.raises(LocalSourceError, match="symbolic link"):
        service.inspect(f"oci:{layout.path}")


def test_symlinked_blobs_directory_is_refused(
    service: DockerHubService, layout: OCILayout, tmp_path: Path
) -> None:
    blobs = layout.path / "blobs"
    blobs.rename(tmp_path / "elsewhere")
    blobs.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(LocalSourceError, match="symbolic link"):
        service.inspect(f"oci:{layout.path}")


def test_symlinked_index_json_is_refused(
    service: DockerHubService, layout: OCILayout, tmp_path: Path
) -> None:
    index = layout.path / "index.json"
    index.rename(tmp_path / "index.json")
    index.symlink_to(tmp_path / "index.json")
    with pytest.raises(LocalSourceError, match="symbolic link"):
        service.inspect(f"oci:{layout.path}")


def test_a_fifo_blob_is_refused_without_blocking(
    service: DockerHubService, layout: OCILayout
) -> None:
    top = layout.resolve("1.0")
    blob = layout.blob_path(top.digest)
    blob.unlink()
    os.mkfifo(blob)
    with pytest.raises(LocalSourceError, match="not a regular file"):
        service.inspect(f"oci:{layout.path}")


def test_oversized_index_json_is_refused(service: DockerHubService, layout: OCILayout) -> None:
    with open(layout.path / "index.json", "wb") as fh:
        fh.truncate(4 * 1024 * 1024 + 1)
    with pytest.raises(LocalSourceError, match="more than"):
        service.inspect(f"oci:{layout.path}")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"Config": "../../etc/passwd"}, "leaves the layout"),
        ({"Config": "/etc/passwd"}, "absolute path"),
        ({"Layers": ["a/../../x"]}, "leaves the layout"),
        ({"Layers": ["/abs/layer.tar"]}, "absolute path"),
        ({"Config": ""}, "empty"),
        ({"Config": None}, "empty or invalid"),
    ],
)
def test_hostile_manifest_json_entries(
    service: DockerHubService, tmp_path: Path, override: dict[str, Any], message: str
) -> None:
    source = docker_save_legacy(
        tmp_path / "bad.tar", [legacy_image(tags=["a:1"])], hostile=override
    )
    with pytest.raises(LocalSourceError, match=message):
        service.inspect(source)


def _member(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (tarfile.SYMTYPE, "link in the archive"),
        (tarfile.LNKTYPE, "link in the archive"),
        (tarfile.CHRTYPE, "not a regular file"),
        (tarfile.FIFOTYPE, "not a regular file"),
    ],
)
def test_tar_links_and_devices_are_refused(
    service: DockerHubService, tmp_path: Path, kind: bytes, message: str
) -> None:
    out = tar_with_member(
        tmp_path / "evil.tar",
        [_member("oci-layout", tarfile.REGTYPE), _member("index.json", kind, "/etc/passwd")],
        {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}'},
    )
    with pytest.raises(LocalSourceError, match=message):
        service.inspect(f"oci-archive:{out}")


def test_tar_members_outside_the_layout_are_never_used(
    service: DockerHubService, layout: OCILayout, tmp_path: Path
) -> None:
    """A member named ../index.json or /index.json is not index.json."""
    out = tmp_path / "evil.tar"
    with tarfile.open(out, "w") as tar:
        for name in ("../index.json", "/index.json"):
            data = (layout.path / "index.json").read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(InvalidInputError, match="no index.json"):
        service.inspect(f"oci-archive:{out}")


# -- front-ends -----------------------------------------------------------------------------


def test_result_cache_never_serves_local_sources() -> None:
    from dockerhub_cli import result_cache

    env = {"HOME": "/nonexistent"}
    assert result_cache.plan(["inspect", "oci:examples/hello-oci:1.0"], env) is None
    assert result_cache.plan(["size", "nginx", "--have", "oci-archive:x.tar"], env) is None
    assert result_cache.plan(["size", "nginx", "--have=docker-archive:x.tar"], env) is None
    assert result_cache.plan(["inspect", "nginx"], env) is not None


def test_mcp_image_reference_for_local_sources() -> None:
    from dockerhub_cli.mcp.server import image_reference

    assert image_reference("oci:dir") == "oci:dir"
    assert image_reference("oci:dir", "1.0") == "oci:dir:1.0"
    assert image_reference("oci:dir", DIGEST) == f"oci:dir@{DIGEST}"
    assert image_reference("oci:dir:1.0") == "oci:dir:1.0"
    with pytest.raises(InvalidInputError):
        image_reference("oci:dir:1.0", "2.0")


def test_mcp_inspect_tool_reads_a_layout(layout: OCILayout) -> None:
    from dockerhub_cli import commands
    from dockerhub_cli.mcp.server import make_tool

    with DockerHubService() as svc:
        tool = make_tool(commands.by_tool("docker_get_image_details"), svc)
        result = tool(repository=f"oci:{layout.path}", tag="1.0")  # a bounded CallToolResult
    assert result.structured_content["digest"] == layout.resolve("1.0").digest


def test_layers_of_a_local_source_are_read_not_downloaded(layout: OCILayout) -> None:
    """The download facts (and the line people read) say "read from disk" for a local
    source's bytes; the index cache then answers without reading them again."""
    from typer.testing import CliRunner

    from dockerhub_cli.cli import app
    from dockerhub_cli.models.files import Download
    from dockerhub_cli.render.files import download_line

    with DockerHubService() as svc:
        listing = svc.files(f"oci:{layout.path}:1.0")
        again = svc.files(f"oci:{layout.path}:1.0")
    d = listing.download
    assert d.bytes_downloaded > 0 and d.bytes_read_locally == d.bytes_downloaded
    assert download_line(d).startswith(f"read {d.bytes_downloaded} B from disk; 1 layer read")
    assert again.download.bytes_read_locally == 0 and again.download.layers_cached == 1
    mixed = Download(bytes_downloaded=3000, bytes_read_locally=1000, layers_read=2)
    assert download_line(mixed).startswith("downloaded 2.0 kB, read 1.0 kB from disk;")
    assert download_line(Download(bytes_downloaded=5)).startswith("downloaded 5 B;")
    layout2 = OCILayout(layout.path.parent / "other")
    layout2.add_image(spec("linux/amd64", text="other"), tag="1.0")
    result = CliRunner().invoke(app, ["files", f"oci:{layout2.path}:1.0"])
    assert result.exit_code == 0, result.output
    assert "from disk" in result.output and "downloaded" not in result.output
