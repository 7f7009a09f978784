"""`referrers`, `verify` and the attached-document fallback of `sbom` on local sources.

A signature copied into a layout (`skopeo copy docker://reg/app:sha256-<hex>.sig
oci:dir:sha256-<hex>.sig`) lives under its cosign tag name, as in a registry. Every test runs
with `rsps` active: a request to any registry (e.g. Docker Hub) fails it.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import responses

from dockerhub_cli.errors import NotFoundError
from dockerhub_cli.service import DockerHubService
from tests.support.images import OCI_MANIFEST, OCILayout, json_bytes
from tests.support.local_sources import spec
from tests.support.signing import (
    COSIGN_SIGNATURE,
    COSIGN_SIMPLESIGNING,
    OCI_CONFIG,
    Signer,
    cosign_payload,
    fallback_tag,
)


def _sign(layout: OCILayout, digest: str, signer: Signer, payload: bytes) -> str:
    config = layout.add_blob(json_bytes({"architecture": "", "os": "", "config": {}}), OCI_CONFIG)
    layer = layout.add_blob(payload, COSIGN_SIMPLESIGNING)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.to_dict(),
        "layers": [
            {
                **layer.to_dict(),
                "annotations": {COSIGN_SIGNATURE: base64.b64encode(signer.sign(payload)).decode()},
            }
        ],
    }
    sig = layout.add_json(manifest, OCI_MANIFEST)
    layout.tag(fallback_tag(digest, ".sig"), sig)
    return sig.digest


@pytest.fixture
def signed(tmp_path: Path) -> tuple[OCILayout, str, Signer]:
    layout = OCILayout(tmp_path / "layout")
    image = layout.add_image(spec("linux/amd64"), tag="1.0")
    signer = Signer.generate("ecdsa")
    _sign(layout, image.digest, signer, cosign_payload("registry.example/app", image.digest))
    return layout, image.digest, signer


def test_referrers_lists_a_signature_in_a_layout(
    service: DockerHubService, signed: tuple[OCILayout, str, Signer], rsps: responses.RequestsMock
) -> None:
    layout, digest, _ = signed
    report = service.referrers(f"oci:{layout.path}:1.0")
    assert report.digest == digest
    assert [(r.kind, r.sources) for r in report.referrers] == [("signature", ["cosign_tag"])]
    assert report.referrers_api == "unsupported"
    assert any("local source" in n for n in report.notes)
    assert not any("the registry" in n for n in report.notes)
    assert len(rsps.calls) == 0


def test_verify_in_a_layout_right_and_wrong_key(
    service: DockerHubService,
    signed: tuple[OCILayout, str, Signer],
    tmp_path: Path,
    rsps: responses.RequestsMock,
) -> None:
    layout, digest, signer = signed
    right, wrong = tmp_path / "right.pub", tmp_path / "wrong.pub"
    right.write_bytes(signer.public_pem)
    wrong.write_bytes(Signer.generate("ecdsa").public_pem)
    ok = service.verify(f"oci:{layout.path}:1.0", key=str(right))
    assert ok.status == "verified", ok.reason
    assert "registry.example/app" in (ok.signatures[0].reason or "")
    bad = service.verify(f"oci:{layout.path}:1.0", key=str(wrong))
    assert bad.status == "invalid"
    assert len(rsps.calls) == 0


def test_verify_in_a_layout_other_digest_is_invalid(
    service: DockerHubService, tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    layout = OCILayout(tmp_path / "layout")
    image = layout.add_image(spec("linux/amd64"), tag="1.0")
    signer = Signer.generate("ed25519")
    other = "sha256:" + "b" * 64
    _sign(layout, image.digest, signer, cosign_payload("registry.example/app", other))
    key = tmp_path / "k.pub"
    key.write_bytes(signer.public_pem)
    report = service.verify(f"oci:{layout.path}:1.0", key=str(key))
    assert report.status == "invalid"
    assert "another digest" in (report.reason or "")
    unsigned = OCILayout(tmp_path / "plain")
    unsigned.add_image(spec("linux/amd64"), tag="1.0")
    assert service.verify(f"oci:{unsigned.path}:1.0", key=str(key)).status == "unsigned"
    assert len(rsps.calls) == 0


def test_sbom_of_a_single_image_layout_is_not_found_without_the_network(
    service: DockerHubService, tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    # It used to look for attached SBOMs on Docker Hub ("docker.io/library/oci:...").
    layout = OCILayout(tmp_path / "layout")
    layout.add_image(spec("linux/amd64"), tag="1.0")
    with pytest.raises(NotFoundError, match="no SBOM"):
        service.sbom(f"oci:{layout.path}:1.0")
    assert len(rsps.calls) == 0
