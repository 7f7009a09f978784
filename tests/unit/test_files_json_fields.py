"""The file commands name the platform image they read, as `files`, `layers` and `sbom` do."""

from __future__ import annotations

from pathlib import Path

import responses

from dockerhub_cli.service import DockerHubService

EXAMPLE = f"oci:{Path(__file__).resolve().parents[2] / 'examples' / 'hello-oci'}:1.0"


def test_cat_extract_and_diff_say_which_platform(
    service: DockerHubService, tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    listing = service.files(EXAMPLE, platform="linux/arm64")
    meta, spool = service.read_file(EXAMPLE, "/etc/hello-arch", platform="linux/arm64")
    spool.close()
    assert meta.digest == listing.digest
    assert meta.platform is not None and meta.platform.architecture == "arm64"
    out = service.extract(EXAMPLE, ["/app"], tmp_path / "out", platform="linux/arm64")
    assert out.platform == listing.platform
    diff = service.diff_files(EXAMPLE, EXAMPLE, platform="linux/arm64")
    assert diff.platform1 == diff.platform2 == listing.platform
    assert len(rsps.calls) == 0
