"""`diff` package changes from SBOMs attached through referrers, on real registries.

The images carry no SBOM attestation in their index; an SPDX SBOM is attached to each as an
oras-style artifact manifest (`artifactType`, an empty config, `subject`), built by the test:

* on the Debian `docker-registry` (no referrers API), pushed over plain HTTP and listed in
  the `sha256-<hex>` tag fallback index (images pushed with skopeo);
* on the loopback :class:`ReferrersRegistry`, found through the OCI 1.1 referrers API.

Both images also hold a dpkg database whose versions differ from the SBOMs': the SBOMs win.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from tests.support.custom_images import ImagePusher
from tests.support.oci_build import ImageSpec, Layer, json_bytes
from tests.support.referrers_server import ReferrersRegistry
from tests.support.signing import (
    OCI_EMPTY,
    SPDX_JSON,
    Attacher,
    Package,
    document_bytes,
    spdx_document,
)

runner = CliRunner()
Q = "arch=amd64&distro=debian-12"


def _packages(versions: dict[str, str]) -> list[Package]:
    return [Package(n, v, f"pkg:deb/debian/{n}@{v}?{Q}") for n, v in sorted(versions.items())]


A = {"bash": "5.2.15-2+b2", "zlib1g": "1:1.2.13.dfsg-1", "gone": "1.0-1"}
B = {"bash": "5.2.15-2+b7", "zlib1g": "1:1.2.13.dfsg-1", "libssl3": "3.0.11-1~deb12u2"}
EXPECTED = {
    "bash": ("upgraded", "5.2.15-2+b2", "5.2.15-2+b7"),
    "gone": ("removed", "1.0-1", None),
    "libssl3": ("added", None, "3.0.11-1~deb12u2"),
}


def _status(name: str, version: str) -> str:
    return (
        f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\n"
        f"Version: {version}\n\n"
    )


def _changes(data: dict) -> dict[str, tuple[str, str | None, str | None]]:
    return {c["name"]: (c["change"], c["before"], c["after"]) for c in data["changes"]}


def test_diff_reads_sboms_attached_through_the_tag_fallback(image_pusher: ImagePusher) -> None:
    refs = []
    for tag, versions in (("1", A), ("2", B)):
        repo = image_pusher.repo("pkgs")
        # The dpkg database says something else: the SBOMs must be what is compared.
        info = image_pusher.push_image(
            f"{repo}:{tag}",
            ImageSpec(steps=[Layer({"var/lib/dpkg/status": _status("dpkg-only", tag + ".0")})]),
        )
        subject = {"mediaType": info.media_type, "digest": info.digest, "size": info.size}
        sbom = document_bytes(spdx_document(_packages(versions), name=f"pkgs-{tag}"))
        Attacher(image_pusher.client, repo).attach(subject, SPDX_JSON, [(sbom, SPDX_JSON)])
        refs.append(image_pusher.ref(f"{repo}:{tag}"))
    result = runner.invoke(app, ["diff", *refs, "--json"])
    assert result.exit_code == 0, result.output
    packages = json.loads(result.stdout)["packages"]
    assert packages["source"] == "sbom"
    assert "attached through its sha256- tag" in packages["source1"]
    assert "attached through its sha256- tag" in packages["source2"]
    assert _changes(packages) == EXPECTED
    assert (packages["packages1"], packages["packages2"]) == (3, 3)
    table = runner.invoke(app, ["diff", *refs])
    assert table.exit_code == 0, table.output
    assert "attached through its sha256- tag" in table.stdout


@pytest.fixture
def api_registry() -> Iterator[ReferrersRegistry]:
    with ReferrersRegistry(lifetime=120) as server:
        yield server


def _seed(server: ReferrersRegistry, tag: str, versions: dict[str, str]) -> str:
    repo = "demo/pkgs"
    config = json_bytes(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}, "tag": tag}
    )  # one image per tag (a config of its own)
    image = json_bytes(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": server.put_blob(config),
                "size": len(config),
            },
            "layers": [],
        }
    )
    digest = server.put_manifest(repo, image, "application/vnd.oci.image.manifest.v1+json", tag)
    sbom = document_bytes(spdx_document(_packages(versions), name=f"pkgs-{tag}"))
    artifact = json_bytes(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": SPDX_JSON,
            "config": {"mediaType": OCI_EMPTY, "digest": server.put_blob(b"{}"), "size": 2},
            "layers": [
                {"mediaType": SPDX_JSON, "digest": server.put_blob(sbom), "size": len(sbom)}
            ],
            "subject": {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest,
                "size": len(image),
            },
        }
    )
    server.put_manifest(repo, artifact, "application/vnd.oci.image.manifest.v1+json")
    return f"{server.host}/{repo}:{tag}"


def test_diff_reads_sboms_found_through_the_referrers_api(api_registry: ReferrersRegistry) -> None:
    a, b = _seed(api_registry, "1", A), _seed(api_registry, "2", B)
    result = runner.invoke(app, ["diff", a, b, "--json"])
    assert result.exit_code == 0, result.output
    packages = json.loads(result.stdout)["packages"]
    assert packages["source"] == "sbom"
    assert "attached through the referrers API" in packages["source1"]
    assert _changes(packages) == EXPECTED
    asked = [p for m, p in api_registry.requests if "/referrers/" in p]
    assert asked, api_registry.requests
