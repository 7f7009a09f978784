"""Local sources and real-world manifest shapes, end to end, with skopeo as the oracle.

* Layouts and archives written by other tools: umoci (the standard `app` images), `skopeo copy`
  to `oci:`, `oci-archive:` and `docker-archive:`, and `docker save`-shaped tarballs from
  tests/support/local_sources.py; each read by us and by `skopeo inspect` and compared.
* The example layout pushed to a real registry: `compare` / `size --have` of the local build
  against the published image share every layer.
* The shapes of issue 14 (nested index, entries without platform, octet-stream config, Windows
  os.version, artifacts) pushed byte for byte to a real registry and read from it and from the
  layout: the same answers, with digests checked against `skopeo inspect --raw`.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import NotAnImageError
from dockerhub_cli.service import DockerHubService
from tests.support.custom_images import ImagePusher
from tests.support.local_sources import (
    artifact,
    docker_list,
    docker_save_legacy,
    legacy_image,
    nested_index,
    no_platform_index,
    octet_stream_config_image,
    windows_index,
)
from tests.support.seeding import http_push, skopeo_inspect_raw
from tests.support.standard_images import StandardImages

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hello-oci"
runner = CliRunner()


def _sha(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _skopeo(*args: str) -> bytes:
    argv = ["skopeo", "--insecure-policy", *args]
    return subprocess.run(argv, capture_output=True, check=True, timeout=120).stdout


def _service() -> DockerHubService:
    return DockerHubService(Settings.from_env())


def _json(args: list[str]) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- written by other tools, read by us and by skopeo ------------------------------------------


def test_umoci_layout_matches_skopeo(standard_images: StandardImages) -> None:
    layout = standard_images.layout
    source = f"oci:{layout.path}:app-1.0"
    raw = _skopeo("inspect", "--raw", source)
    skopeo = json.loads(_skopeo("inspect", source))
    ours = _json(["inspect", source])
    assert ours["digest"] == _sha(raw) == skopeo["Digest"]
    layers = _json(["layers", source])
    assert [x["digest"] for x in layers["layers"]] == skopeo["Layers"]
    config = json.loads(_skopeo("inspect", "--config", "--raw", source))
    assert ours["config"]["env"] == config["config"].get("Env", [])
    history = _json(["history", source])
    assert [h["created_by"] for h in history["history"]] == [
        h.get("created_by", "") for h in config["history"]
    ]


@pytest.mark.parametrize("transport", ["oci", "oci-archive"])
def test_skopeo_copies_of_the_example_keep_every_digest(tmp_path: Path, transport: str) -> None:
    target = tmp_path / ("copy" if transport == "oci" else "copy.tar")
    _skopeo("copy", "--all", "-q", f"oci:{EXAMPLE}:1.0", f"{transport}:{target}:1.0")
    source = f"{transport}:{target}:1.0"
    raw = _skopeo("inspect", "--raw", source)
    ours = _json(["inspect", source, "--platform", "linux/arm64"])
    original = _json(["inspect", f"oci:{EXAMPLE}:1.0", "--platform", "linux/arm64"])
    assert ours["digest"] == _sha(raw) == original["digest"]
    assert ours["manifest_digest"] == original["manifest_digest"]
    skopeo_arm = json.loads(_skopeo("inspect", "--override-arch=arm64", source))
    layers = _json(["layers", source, "--platform", "linux/arm64"])
    assert [x["digest"] for x in layers["layers"]] == skopeo_arm["Layers"]
    assert skopeo_arm["Created"] == ours["created"] == "2026-01-15T09:30:00.123456789Z"
    sbom = _json(["sbom", source, "--platform", "linux/arm64"])
    assert [p["name"] for p in sbom["packages"]] == ["busybox", "musl"]


def test_skopeo_docker_archive_matches_skopeo(tmp_path: Path) -> None:
    out = tmp_path / "saved.tar"
    _skopeo(
        "--override-arch=arm64",
        "copy",
        "-q",
        f"oci:{EXAMPLE}:1.0",
        f"docker-archive:{out}:hello-oci:1.0",
    )
    source = f"docker-archive:{out}"
    skopeo = json.loads(_skopeo("inspect", source))
    config_raw = _skopeo("inspect", "--config", "--raw", source)
    manifest = _json(["manifest", f"{source}:hello-oci:1.0", "--platform", "linux/arm64"])
    assert manifest["manifest"]["config"]["digest"] == _sha(config_raw)
    layers = _json(["layers", source])
    assert [x["digest"] for x in layers["layers"]] == skopeo["Layers"]
    ours = _json(["inspect", f"{source}:docker.io/library/hello-oci:1.0"])
    assert ours["platform"]["architecture"] == skopeo["Architecture"] == "arm64"
    assert ours["created"] == skopeo["Created"] == "2026-01-15T09:30:00.123456789Z"


def test_docker_save_shaped_tarball_matches_skopeo(tmp_path: Path) -> None:
    image = legacy_image("linux/amd64", {"etc/a": "1\n", "etc/b": "2\n"}, tags=["app:1"])
    source = docker_save_legacy(tmp_path / "save.tar", [image])
    skopeo = json.loads(_skopeo("inspect", source))
    layers = _json(["layers", f"{source}:app:1"])
    assert [x["digest"] for x in layers["layers"]] == skopeo["Layers"]
    assert _sha(_skopeo("inspect", "--config", "--raw", source)) == image.config_digest
    assert skopeo["Architecture"] == "amd64"
    assert _json(["inspect", source])["created"] == skopeo["Created"]


# -- the local build against the published image -----------------------------------------------


def test_compare_and_size_local_against_registry(image_pusher: ImagePusher) -> None:
    name = image_pusher.repo("hello") + ":1.0"
    _skopeo(
        "copy",
        "--all",
        "-q",
        "--dest-tls-verify=false",
        f"oci:{EXAMPLE}:1.0",
        f"docker://{image_pusher.ref(name)}",
    )
    published = image_pusher.ref(name)
    assert _sha(skopeo_inspect_raw(published)) == _json(["inspect", f"oci:{EXAMPLE}:1.0"])["digest"]
    comparison = _json(["compare", f"oci:{EXAMPLE}:1.0", published, "--platform", "linux/arm64"])
    assert comparison["only_left"] == [] and comparison["only_right"] == []
    assert len(comparison["shared_layers"]) == 2
    size = _json(["size", f"oci:{EXAMPLE}:1.0", "--have", published])
    assert size["download_size"] == 0 and size["shared_size"] == size["total_size"]
    local_sbom = _json(["sbom", f"oci:{EXAMPLE}:1.0"])
    remote_sbom = _json(["sbom", published])
    assert local_sbom["packages"] == remote_sbom["packages"]


# -- the real-world shapes, from a registry and from the layout --------------------------------


def _push(pusher: ImagePusher, tag: str, desc: Any, name: str) -> tuple[str, str]:
    repo = pusher.repo(name)
    http_push(pusher.client, pusher.layout, desc, repo, "1")
    return pusher.ref(f"{repo}:1"), f"oci:{pusher.layout.path}:{tag}"


def test_shapes_read_the_same_from_registry_and_layout(image_pusher: ImagePusher) -> None:
    lay = image_pusher.layout
    nested_top, nested_images = nested_index(lay, "nested")
    noplat_top, noplat_images = no_platform_index(lay, "noplat")
    octet = octet_stream_config_image(lay, "octet")
    windows = windows_index(lay, "win")
    listed = docker_list(lay, "list")
    cases = {
        "nested": (nested_top, "linux/arm/v7", nested_images[2].digest),
        "noplat": (noplat_top, "linux/arm64", noplat_images[1].digest),
        "octet": (octet, "linux/amd64", octet.digest),
        "win": (lay.resolve("win"), "windows/amd64:10.0.20348", windows["10.0.20348.2227"].digest),
        "list": (listed, "linux/arm64", None),
    }
    for tag, (desc, platform, expected) in cases.items():
        remote, local = _push(image_pusher, tag, desc, f"shape-{tag}")
        raw = skopeo_inspect_raw(remote)
        assert _sha(raw) == desc.digest, tag  # pushed byte for byte
        from_registry = _json(["inspect", remote, "--platform", platform])
        from_layout = _json(["inspect", local, "--platform", platform])
        for key in (
            "digest",
            "manifest_digest",
            "platform",
            "platforms",
            "platform_source",
            "index_platform",
            "config_platform",
            "size",
        ):
            assert from_registry[key] == from_layout[key], (tag, key)
        if expected:
            assert from_registry["manifest_digest"] == expected, tag
        if tag == "list":
            assert from_registry["platform"]["variant"] == "v8"
            assert from_registry["config_platform"]["variant"] is None
            arm = json.loads(
                _skopeo(
                    "inspect", "--tls-verify=false", "--override-arch=arm64", f"docker://{remote}"
                )
            )
            layers = _json(["layers", remote, "--platform", "linux/arm64"])
            assert [x["digest"] for x in layers["layers"]] == arm["Layers"]
        if tag == "win":
            assert from_registry["platform"]["os_version"] == "10.0.20348.2227"
            assert from_registry["platform"]["os_features"] == ["win32k"]


def test_artifact_exit_code_on_the_registry(image_pusher: ImagePusher) -> None:
    desc = artifact(image_pusher.layout, "chart")
    remote, _ = _push(image_pusher, "chart", desc, "chart")
    result = runner.invoke(app, ["inspect", remote])
    assert result.exit_code == 7, result.output
    manifest = _json(["manifest", remote])
    assert manifest["digest"] == desc.digest == _sha(skopeo_inspect_raw(remote))
    with _service() as svc, pytest.raises(NotAnImageError):
        svc.layers(remote)


def test_arm_variant_choice_against_skopeo(tmp_path: Path) -> None:
    """Where the written rules (containerd's, which Docker uses) and skopeo agree (arm/v6) and
    where they differ on purpose: skopeo treats a variant-less `arm` as "any variant, last
    resort", so it answers arm/v7 with the arm/v6 image and arm/v5 with the variant-less one;
    by containerd's normalisation the variant-less `arm` *is* arm/v7."""
    from tests.support.local_sources import arm_variants_index
    from tests.support.oci_build import OCILayout

    layout = OCILayout(tmp_path / "arm")
    entries = arm_variants_index(layout, "arm")
    source = f"oci:{layout.path}:arm"

    def skopeo_layers(variant: str) -> list[str]:
        out = _skopeo("--override-arch=arm", f"--override-variant={variant}", "inspect", source)
        return list(json.loads(out)["Layers"])

    def layers_of(desc: Any) -> list[str]:
        return [x["digest"] for x in layout.read_json(desc.digest)["layers"]]

    v6 = _json(["layers", source, "--platform", "linux/arm/v6"])
    assert v6["digest"] == entries["v6"].digest
    assert [x["digest"] for x in v6["layers"]] == skopeo_layers("v6")
    v7 = _json(["layers", source, "--platform", "linux/arm/v7"])
    assert v7["digest"] == entries["bare"].digest
    assert skopeo_layers("v7") == layers_of(entries["v6"])  # skopeo: the v6 image
    assert skopeo_layers("v5") == layers_of(entries["bare"])  # skopeo: the v7 image on a v5
    assert runner.invoke(app, ["layers", source, "--platform", "linux/arm/v5"]).exit_code == 3
