"""Local image sources for the tests: OCI archives, `docker save`-shaped tarballs (legacy and
Docker 25+), hostile layouts, and the real-world manifest shapes of issue 14.

Built on :class:`tests.support.oci_build.OCILayout`.
Everything here is deterministic and pure Python; skopeo/umoci are used by the tests
themselves, as oracles and as independent writers.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.oci_build import (
    DOCKER_CONFIG,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    REF_NAME,
    Descriptor,
    ImageSpec,
    Layer,
    OCILayout,
    Step,
    json_bytes,
    make_layer,
    sha256_digest,
)

CONTAINERD_NAME = "io.containerd.image.name"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"
MTIME = 1714564800


def spec(platform: str = "linux/amd64", text: str = "hi", **kw: Any) -> ImageSpec:
    """A one-layer image whose content depends on `platform` and `text`."""
    return ImageSpec(
        steps=[Layer({"etc/what": f"{platform} {text}\n"}), Step('CMD ["sh"]')],
        platform=platform,
        cmd=["sh"],
        **kw,
    )


# -- tar writers ---------------------------------------------------------------------------


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), MTIME, 0o644
    tar.addfile(info, io.BytesIO(data))


def tar_directory(root: Path, out: Path, *, extra: Mapping[str, bytes] | None = None) -> Path:
    """`out`: a tar of every file under `root` (sorted, fixed metadata), plus `extra` files."""
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            _add(tar, path.relative_to(root).as_posix(), path.read_bytes())
        for name, data in (extra or {}).items():
            _add(tar, name, data)
    return out


def oci_archive(layout: OCILayout, out: Path) -> str:
    """An `oci-archive:` tarball of `layout`; returns the source string without REF."""
    tar_directory(layout.path, out)
    return f"oci-archive:{out}"


@dataclass(frozen=True)
class LegacyImage:
    """What `docker save` (before Docker 25) writes for one image."""

    config: bytes
    layers: Sequence[bytes]  # uncompressed layer tars
    repo_tags: Sequence[str]

    @property
    def config_digest(self) -> str:
        return sha256_digest(self.config)


def legacy_image(
    platform: str = "linux/amd64", files: Mapping[str, str] | None = None, tags: Sequence[str] = ()
) -> LegacyImage:
    """A docker-save image: uncompressed layer tars and a Docker config naming their diff_ids."""
    layers = []
    for name, text in (files or {"etc/hello": f"hello {platform}\n"}).items():
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, name, text.encode())
        layers.append(buf.getvalue())
    os_name, arch = platform.split("/")[:2]
    config = {
        "architecture": arch,
        "os": os_name,
        "created": "2024-05-01T12:00:00.123456789Z",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"], "Shell": ["/bin/bash", "-c"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(t) for t in layers]},
        "history": [
            {"created": "2024-05-01T12:00:00Z", "created_by": f"ADD {n} /"}
            for n in files or ["etc/hello"]
        ],
    }
    return LegacyImage(json_bytes(config), layers, list(tags))


def docker_save_legacy(
    out: Path, images: Sequence[LegacyImage], *, hostile: Mapping[str, Any] | None = None
) -> str:
    """A legacy `docker save` tarball: `<config hex>.json`, `<layer id>/layer.tar`,
    `manifest.json` and `repositories`. `hostile` overrides manifest.json entry 0 keys."""
    entries = []
    repositories: dict[str, dict[str, str]] = {}
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for image in images:
            config_name = image.config_digest[7:] + ".json"
            _add(tar, config_name, image.config)
            layer_names = []
            for layer in image.layers:
                layer_id = hashlib.sha256(b"id" + layer).hexdigest()
                name = f"{layer_id}/layer.tar"
                _add(tar, name, layer)
                layer_names.append(name)
            entries.append(
                {"Config": config_name, "RepoTags": list(image.repo_tags), "Layers": layer_names}
            )
            for tag in image.repo_tags:
                repo, _, t = tag.rpartition(":")
                repositories.setdefault(repo, {})[t] = layer_names[-1].split("/")[0]
        if hostile:
            entries[0].update(hostile)
        _add(tar, "manifest.json", json.dumps(entries).encode())
        _add(tar, "repositories", json.dumps(repositories).encode())
    return f"docker-archive:{out}"


def docker_save_oci(layout: OCILayout, out: Path, names: Mapping[str, str]) -> str:
    """A Docker 25+ `docker save` tarball: the OCI layout (index.json entries named with
    `io.containerd.image.name` and `org.opencontainers.image.ref.name`) plus `manifest.json`.
    `names` maps a full image name (`docker.io/library/app:1`) to a tag of `layout`."""
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    manifest_json = []
    for full, tag in names.items():
        desc = layout.resolve(tag)
        index["manifests"].append(
            desc.replace(
                annotations={CONTAINERD_NAME: full, REF_NAME: full.rpartition(":")[2]},
                platform=None,
            ).to_dict()
        )
        doc = layout.read_json(desc.digest)
        if "config" in doc:
            manifest_json.append(
                {
                    "Config": "blobs/sha256/" + doc["config"]["digest"][7:],
                    "RepoTags": [full.removeprefix("docker.io/library/")],
                    "Layers": ["blobs/sha256/" + x["digest"][7:] for x in doc["layers"]],
                }
            )
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        _add(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add(tar, "index.json", json_bytes(index))
        _add(tar, "manifest.json", json.dumps(manifest_json).encode())
        for path in sorted((layout.path / "blobs").rglob("*")):
            if path.is_file():
                _add(tar, path.relative_to(layout.path).as_posix(), path.read_bytes())
    return f"docker-archive:{out}"


def tar_with_member(
    out: Path, members: Sequence[tarfile.TarInfo], data: Mapping[str, bytes]
) -> Path:
    """A tar holding exactly `members` (links, devices...), file data from `data`."""
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for info in members:
            body = data.get(info.name)
            if body is not None:
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
            else:
                tar.addfile(info)
    return out


# -- layouts with the real-world shapes ----------------------------------------------------


def set_index(layout: OCILayout, entries: Sequence[Descriptor | dict[str, Any]]) -> None:
    """Replace index.json's entries verbatim (for hostile or odd index.json files)."""
    manifests = [e.to_dict() if isinstance(e, Descriptor) else dict(e) for e in entries]
    (layout.path / "index.json").write_bytes(
        json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})
    )


def octet_stream_config_image(layout: OCILayout, tag: str) -> Descriptor:
    """A Docker schema 2 image whose config descriptor says application/octet-stream."""
    data, diff_id = make_layer({"etc/x": "octet\n"})
    layer = layout.add_blob(data, "application/vnd.docker.image.rootfs.diff.tar.gzip")
    config = layout.add_json(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created_by": "ADD x /"}],
        },
        "application/octet-stream",
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": config.to_dict(),
        "layers": [layer.to_dict()],
    }
    desc = layout.add_json(manifest, DOCKER_MANIFEST)
    layout.tag(tag, desc)
    return desc


def artifact(layout: OCILayout, tag: str) -> Descriptor:
    """An OCI artifact (a Helm chart): not a container image."""
    chart = layout.add_blob(b"chart-bytes", "application/vnd.cncf.helm.chart.content.v1.tar+gzip")
    config = layout.add_json(
        {"name": "demo", "version": "1.0.0"}, "application/vnd.cncf.helm.config.v1+json"
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.to_dict(),
        "layers": [chart.to_dict()],
    }
    desc = layout.add_json(manifest, OCI_MANIFEST)
    layout.tag(tag, desc)
    return desc


def raw_manifest(
    layout: OCILayout, tag: str, doc: Mapping[str, Any], media_type: str
) -> Descriptor:
    """Any manifest document stored and tagged as it is (schema 1, schemaVersion 3, ...)."""
    desc = layout.add_json(dict(doc), media_type)
    layout.tag(tag, desc)
    return desc


def nested_index(
    layout: OCILayout, tag: str, *, docker: bool = False
) -> tuple[Descriptor, list[Descriptor]]:
    """index -> [index -> [amd64, arm64], index -> [arm/v7]]: returns (top, images)."""
    amd = layout.add_image(spec("linux/amd64", "nested"))
    arm = layout.add_image(spec("linux/arm64", "nested"))
    v7 = layout.add_image(spec("linux/arm/v7", "nested"))
    inner1 = layout.add_index([amd, arm], docker=docker)
    inner2 = layout.add_index([v7], docker=docker)
    top = layout.add_index([inner1, inner2], docker=docker, tag=tag)
    return top, [amd.descriptor, arm.descriptor, v7.descriptor]


def no_platform_index(layout: OCILayout, tag: str) -> tuple[Descriptor, list[Descriptor]]:
    """An index whose entries carry no `platform` (the configs say amd64 and arm64)."""
    amd = layout.add_image(spec("linux/amd64", "noplat")).descriptor.replace(platform=None)
    arm = layout.add_image(spec("linux/arm64", "noplat")).descriptor.replace(platform=None)
    top = layout.add_index([amd, arm], tag=tag)
    return top, [amd, arm]


def arm_variants_index(layout: OCILayout, tag: str) -> dict[str, Descriptor]:
    """An index with linux/arm/v6 first, then a variant-less linux/arm (= arm/v7 by rule)."""
    v6 = layout.add_image(spec("linux/arm/v6", "armv6")).descriptor
    bare = layout.add_image(spec("linux/arm", "arm")).descriptor
    layout.add_index([v6, bare], tag=tag)
    return {"v6": v6, "bare": bare}


def windows_index(layout: OCILayout, tag: str) -> dict[str, Descriptor]:
    """Windows images for two builds, with os.version and os.features in index and config."""
    out = {}
    for build in ("10.0.17763.5458", "10.0.20348.2227"):
        built = layout.add_image(spec("windows/amd64", build))
        manifest = layout.read_json(built.digest)
        config = layout.read_json(manifest["config"]["digest"])
        config["os.version"] = build
        config["os.features"] = ["win32k"]
        cfg = layout.add_json(config, OCI_CONFIG)
        manifest["config"] = cfg.to_dict()
        desc = layout.add_json(manifest, OCI_MANIFEST).replace(
            platform={
                "architecture": "amd64",
                "os": "windows",
                "os.version": build,
                "os.features": ["win32k"],
            }
        )
        out[build] = desc
    layout.add_index(list(out.values()), tag=tag)
    return out


def docker_list(layout: OCILayout, tag: str) -> Descriptor:
    """A Docker manifest list of two Docker schema 2 images (amd64, arm64/v8 in the list,
    arm64 without variant in its config: the lines must agree)."""
    images = []
    for platform in ("linux/amd64", "linux/arm64"):
        built = layout.add_image(spec(platform, "docker", docker=True))
        desc = built.descriptor
        if platform == "linux/arm64":
            desc = desc.replace(platform={"architecture": "arm64", "os": "linux", "variant": "v8"})
        images.append(desc)
    return layout.add_index(images, docker=True, tag=tag)


__all__ = [
    "DOCKER_CONFIG",
    "DOCKER_LIST",
    "DOCKER_SCHEMA1",
    "LegacyImage",
    "arm_variants_index",
    "artifact",
    "docker_list",
    "docker_save_legacy",
    "docker_save_oci",
    "legacy_image",
    "nested_index",
    "no_platform_index",
    "oci_archive",
    "octet_stream_config_image",
    "raw_manifest",
    "set_index",
    "spec",
    "tar_directory",
    "tar_with_member",
    "windows_index",
]
