"""Build small but real images in an OCI image layout, in pure Python: media types, blobs,
descriptors, tar layers, image specs (:class:`ImageSpec`) and the layout (:class:`OCILayout`).
Pure-Python images are deterministic: same spec, same digest.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import random
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------------
# Media types and annotation keys
# --------------------------------------------------------------------------------------------
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
IN_TOTO = "application/vnd.in-toto+json"
ACCEPT_ALL = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST])
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)

REF_NAME = "org.opencontainers.image.ref.name"
BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"
REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"
ATTESTATION_MANIFEST = "attestation-manifest"
PREDICATE_TYPE = "in-toto.io/predicate-type"
SPDX_PREDICATE = "https://spdx.dev/Document"
SLSA_V02_PREDICATE = "https://slsa.dev/provenance/v0.2"
IN_TOTO_STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"

# A fixed build time keeps pure-Python images reproducible.
DEFAULT_CREATED = "2024-05-01T12:00:00Z"
UNKNOWN_PLATFORM = {"architecture": "unknown", "os": "unknown"}

PUSH_TIMEOUT = 120.0


class ImageBuildError(RuntimeError):
    """A build or push step failed (the message includes the tool's output)."""


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------
def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def json_bytes(obj: Any) -> bytes:
    """Compact JSON, key order preserved (what BuildKit and umoci emit)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def random_bytes(n: int, seed: int | str) -> bytes:
    """Incompressible but reproducible content (so layer sizes are meaningful)."""
    return random.Random(str(seed)).randbytes(n)


def platform_string(platform: Mapping[str, Any] | None) -> str:
    """``{"os":"linux","architecture":"arm64","variant":"v8"}`` -> ``linux/arm64/v8``."""
    if not platform:
        return ""
    parts = [platform.get("os", ""), platform.get("architecture", "")]
    if platform.get("variant"):
        parts.append(platform["variant"])
    return "/".join(parts)


def parse_platform(text: str) -> dict[str, str]:
    """``linux/arm64/v8`` -> ``{"os": "linux", "architecture": "arm64", "variant": "v8"}``."""
    parts = text.split("/")
    if len(parts) not in (2, 3):
        raise ValueError(f"bad platform {text!r}; want os/arch[/variant]")
    out = {"os": parts[0], "architecture": parts[1]}
    if len(parts) == 3:
        out["variant"] = parts[2]
    return out


def _run(argv: Sequence[str], *, timeout: float = PUSH_TIMEOUT) -> str:
    """Run a helper tool; raise :class:`ImageBuildError` with its output on failure."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    try:
        proc = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise ImageBuildError(f"timed out after {timeout}s: {' '.join(argv)}") from exc
    if proc.returncode != 0:
        raise ImageBuildError(
            f"command failed ({proc.returncode}): {' '.join(argv)}\n{proc.stdout}{proc.stderr}"
        )
    return proc.stdout


# --------------------------------------------------------------------------------------------
# Descriptors and layers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] | None = None
    platform: Mapping[str, Any] | None = None
    artifact_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            d["artifactType"] = self.artifact_type
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        if self.platform:
            d["platform"] = dict(self.platform)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Descriptor:
        return cls(
            media_type=d["mediaType"],
            digest=d["digest"],
            size=int(d["size"]),
            annotations=d.get("annotations"),
            platform=d.get("platform"),
            artifact_type=d.get("artifactType"),
        )

    def replace(self, **changes: Any) -> Descriptor:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class File:
    """A regular file for :func:`make_layer` (plain ``bytes``/``str`` values mean mode 0644)."""

    data: bytes | str
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Symlink:
    target: str


FileValue = bytes | str | File | Symlink


def make_layer(files: Mapping[str, FileValue], *, mtime: int = 1714564800) -> tuple[bytes, str]:
    """A reproducible gzip'd tar of *files*; returns ``(compressed_bytes, diff_id)``.

    Paths are relative (``etc/motd``); parent directories are added automatically (0755).
    A path ending in ``/`` with an empty value is an empty directory. Use ``.wh.NAME`` entries
    for whiteouts. Entries are sorted, owned by root, and stamped with *mtime*.
    """
    entries: dict[str, FileValue | None] = {}
    for raw_path, value in files.items():
        path = raw_path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts)):
            entries.setdefault("/".join(parts[:i]) + "/", None)
        if raw_path.endswith("/"):
            entries[path + "/"] = None
        else:
            entries[path] = value
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(entries):
            entry = entries[path]
            info = tarfile.TarInfo(path.rstrip("/"))
            info.mtime = mtime
            info.uname = info.gname = "root"
            if entry is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif isinstance(entry, Symlink):
                info.type = tarfile.SYMTYPE
                info.linkname = entry.target
                info.mode = 0o777
                tar.addfile(info)
            else:
                f = entry if isinstance(entry, File) else File(entry)
                data = f.data.encode() if isinstance(f.data, str) else f.data
                info.size = len(data)
                info.mode = f.mode
                info.uid, info.gid = f.uid, f.gid
                tar.addfile(info, io.BytesIO(data))
    tar_bytes = buf.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=6) as g:
        g.write(tar_bytes)
    return gz.getvalue(), sha256_digest(tar_bytes)


# --------------------------------------------------------------------------------------------
# Image specs (pure-Python builder)
# --------------------------------------------------------------------------------------------
@dataclass
class Layer:
    """A Dockerfile step that creates a layer from *files*."""

    files: Mapping[str, FileValue]
    created_by: str = "COPY . / # buildkit"
    comment: str | None = "buildkit.dockerfile.v0"
    created: str | None = None


@dataclass
class Step:
    """A Dockerfile step that only changes the config (``empty_layer: true``), e.g. ``ENV X=1``."""

    created_by: str
    comment: str | None = "buildkit.dockerfile.v0"
    created: str | None = None


@dataclass
class ImageSpec:
    """Everything a single-platform image is made of.

    ``steps`` is the build history in order: :class:`Layer` entries make layers, :class:`Step`
    entries are config-only (empty-layer) history. Config fields map to the OCI image config.
    ``annotations`` go on the image manifest; ``index_annotations`` on its descriptor when the
    image is put into an index. ``docker`` builds Docker schema 2 media types directly.
    """

    steps: list[Layer | Step] = field(default_factory=list)
    env: Sequence[str] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
    labels: Mapping[str, str] = field(default_factory=dict)
    cmd: Sequence[str] | None = None
    entrypoint: Sequence[str] | None = None
    user: str | None = None
    workdir: str | None = None
    exposed_ports: Sequence[str] = ()
    volumes: Sequence[str] = ()
    stop_signal: str | None = None
    platform: str = "linux/amd64"
    created: str = DEFAULT_CREATED
    author: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    index_annotations: Mapping[str, str] = field(default_factory=dict)
    docker: bool = False

    def config_dict(self, diff_ids: Sequence[str]) -> dict[str, Any]:
        plat = parse_platform(self.platform)
        cfg: dict[str, Any] = {}
        if self.user is not None:
            cfg["User"] = self.user
        if self.exposed_ports:
            cfg["ExposedPorts"] = {p if "/" in p else f"{p}/tcp": {} for p in self.exposed_ports}
        if self.env:
            cfg["Env"] = list(self.env)
        if self.entrypoint is not None:
            cfg["Entrypoint"] = list(self.entrypoint)
        if self.cmd is not None:
            cfg["Cmd"] = list(self.cmd)
        if self.volumes:
            cfg["Volumes"] = {v: {} for v in self.volumes}
        if self.workdir is not None:
            cfg["WorkingDir"] = self.workdir
        if self.labels:
            cfg["Labels"] = dict(self.labels)
        if self.stop_signal is not None:
            cfg["StopSignal"] = self.stop_signal
        history = []
        for step in self.steps:
            h: dict[str, Any] = {
                "created": step.created or self.created,
                "created_by": step.created_by,
            }
            if step.comment:
                h["comment"] = step.comment
            if isinstance(step, Step):
                h["empty_layer"] = True
            history.append(h)
        out: dict[str, Any] = {"created": self.created}
        if self.author:
            out["author"] = self.author
        out["architecture"] = plat["architecture"]
        if "variant" in plat:
            out["variant"] = plat["variant"]
        out["os"] = plat["os"]
        out["config"] = cfg
        out["rootfs"] = {"type": "layers", "diff_ids": list(diff_ids)}
        out["history"] = history
        return out


@dataclass(frozen=True)
class BuiltImage:
    """Result of :meth:`OCILayout.add_image`: the manifest descriptor plus parsed documents."""

    descriptor: Descriptor
    manifest: dict[str, Any]
    config: dict[str, Any]

    @property
    def digest(self) -> str:
        return self.descriptor.digest


# --------------------------------------------------------------------------------------------
# OCI image layout
# --------------------------------------------------------------------------------------------
class OCILayout:
    """A directory in OCI image-layout format, writable from Python and by umoci/skopeo."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        blobs = self.path / "blobs" / "sha256"
        if not (self.path / "oci-layout").exists():
            blobs.mkdir(parents=True, exist_ok=True)
            (self.path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
            (self.path / "index.json").write_bytes(
                json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
            )
        blobs.mkdir(parents=True, exist_ok=True)

    # -- blobs -----------------------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        algo, _, hexd = digest.partition(":")
        return self.path / "blobs" / algo / hexd

    def add_blob(self, data: bytes, media_type: str, **desc: Any) -> Descriptor:
        digest = sha256_digest(data)
        p = self.blob_path(digest)
        if not p.exists():
            tmp = p.with_name(p.name + f".tmp{os.getpid()}")
            tmp.write_bytes(data)
            tmp.replace(p)
        return Descriptor(media_type, digest, len(data), **desc)

    def add_json(self, obj: Any, media_type: str, **desc: Any) -> Descriptor:
        return self.add_blob(json_bytes(obj), media_type, **desc)

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def read_json(self, digest: str) -> Any:
        return json.loads(self.read_blob(digest))

    # -- index.json / tags -----------------------------------------------------------------
    def _index(self) -> dict[str, Any]:
        return dict(json.loads((self.path / "index.json").read_bytes()))

    def tag(self, name: str, desc: Descriptor) -> str:
        """Point tag *name* at *desc* (replacing any previous one); returns ``oci:PATH:name``."""
        idx = self._index()
        idx["manifests"] = [
            m for m in idx["manifests"] if m.get("annotations", {}).get(REF_NAME) != name
        ]
        entry = desc.replace(annotations={REF_NAME: name}, platform=None).to_dict()
        idx["manifests"].append(entry)
        tmp = self.path / "index.json.tmp"
        tmp.write_bytes(json_bytes(idx))
        tmp.replace(self.path / "index.json")
        return self.ref(name)

    def resolve(self, name: str) -> Descriptor:
        for m in self._index()["manifests"]:
            if m.get("annotations", {}).get(REF_NAME) == name:
                return Descriptor.from_dict(m).replace(annotations=None)
        raise KeyError(f"tag {name!r} not in {self.path}")

    def tags(self) -> list[str]:
        return [
            m["annotations"][REF_NAME]
            for m in self._index()["manifests"]
            if REF_NAME in m.get("annotations", {})
        ]

    def ref(self, name: str) -> str:
        """skopeo transport reference for a tag of this layout."""
        return f"oci:{self.path}:{name}"

    # -- building --------------------------------------------------------------------------
    def add_layer(
        self, files: Mapping[str, FileValue], *, docker: bool = False
    ) -> tuple[Descriptor, str]:
        data, diff_id = make_layer(files)
        return self.add_blob(data, DOCKER_LAYER_GZIP if docker else OCI_LAYER_GZIP), diff_id

    def add_image(self, spec: ImageSpec, *, tag: str | None = None) -> BuiltImage:
        """Write layers, config and manifest for *spec*; optionally tag it."""
        layers: list[Descriptor] = []
        diff_ids: list[str] = []
        for step in spec.steps:
            if isinstance(step, Layer):
                d, diff_id = self.add_layer(step.files, docker=spec.docker)
                layers.append(d)
                diff_ids.append(diff_id)
        config = spec.config_dict(diff_ids)
        cfg_desc = self.add_json(config, DOCKER_CONFIG if spec.docker else OCI_CONFIG)
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST if spec.docker else OCI_MANIFEST,
            "config": cfg_desc.to_dict(),
            "layers": [d.to_dict() for d in layers],
        }
        if spec.annotations:
            if spec.docker:
                raise ValueError("Docker schema 2 manifests cannot carry annotations")
            manifest["annotations"] = dict(spec.annotations)
        desc = self.add_json(manifest, manifest["mediaType"])
        desc = desc.replace(
            platform=parse_platform(spec.platform),
            annotations=dict(spec.index_annotations) or None,
        )
        if tag:
            self.tag(tag, desc)
        return BuiltImage(desc, manifest, config)

    def add_manifest(self, manifest: Mapping[str, Any], **desc: Any) -> Descriptor:
        """Store an arbitrary manifest document (its ``mediaType`` decides the descriptor type)."""
        return self.add_json(dict(manifest), manifest.get("mediaType", OCI_MANIFEST), **desc)

    def add_index(
        self,
        manifests: Sequence[Descriptor | BuiltImage],
        *,
        annotations: Mapping[str, str] | None = None,
        docker: bool = False,
        tag: str | None = None,
    ) -> Descriptor:
        """An OCI index (or Docker manifest list) over *manifests*, in the given order."""
        entries = [m.descriptor if isinstance(m, BuiltImage) else m for m in manifests]
        index: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": DOCKER_LIST if docker else OCI_INDEX,
            "manifests": [e.to_dict() for e in entries],
        }
        if annotations:
            index["annotations"] = dict(annotations)
        desc = self.add_json(index, index["mediaType"])
        if tag:
            self.tag(tag, desc)
        return desc

    def derive_image(
        self,
        base: Descriptor,
        *,
        config_patch: Mapping[str, Any] | None = None,
        replace_layers: Mapping[int, tuple[Mapping[str, FileValue], str]] | None = None,
        annotations: Mapping[str, str] | None = None,
        platform: str | None = None,
        tag: str | None = None,
    ) -> Descriptor:
        """Copy an existing image manifest with changes (e.g. umoci output -> arm64/v8 variant).

        *config_patch* updates top-level config keys; *replace_layers* maps a layer index to
        ``(files, created_by)`` to swap that layer's content; *platform* sets arch/os/variant.
        """
        manifest = self.read_json(base.digest)
        config = self.read_json(manifest["config"]["digest"])
        docker = manifest.get("mediaType") == DOCKER_MANIFEST
        for i, (files, created_by) in (replace_layers or {}).items():
            d, diff_id = self.add_layer(files, docker=docker)
            manifest["layers"][i] = d.to_dict()
            config["rootfs"]["diff_ids"][i] = diff_id
            layer_hist = [h for h in config.get("history", []) if not h.get("empty_layer")]
            if i < len(layer_hist):
                layer_hist[i]["created_by"] = created_by
        if platform:
            plat = parse_platform(platform)
            config["architecture"] = plat["architecture"]
            config["os"] = plat["os"]
            config.pop("variant", None)
            if "variant" in plat:
                config["variant"] = plat["variant"]
        config.update(config_patch or {})
        cfg_desc = self.add_json(config, manifest["config"]["mediaType"])
        manifest["config"] = cfg_desc.to_dict()
        if annotations:
            manifest["annotations"] = {**manifest.get("annotations", {}), **annotations}
        desc = self.add_json(manifest, manifest.get("mediaType", OCI_MANIFEST))
        if platform:
            desc = desc.replace(platform=parse_platform(platform))
        if tag:
            self.tag(tag, desc)
        return desc

    # -- attestations ----------------------------------------------------------------------
    def add_attestation_manifest(
        self, subject: Descriptor, statements: Sequence[Mapping[str, Any]]
    ) -> Descriptor:
        """A BuildKit-style attestation manifest for *subject* holding in-toto *statements*.

        Returns the index descriptor: platform unknown/unknown, annotations
        ``vnd.docker.reference.type: attestation-manifest`` and
        ``vnd.docker.reference.digest: <subject digest>``.
        """
        layers = [
            self.add_json(st, IN_TOTO, annotations={PREDICATE_TYPE: st["predicateType"]})
            for st in statements
        ]
        config = {
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [d.digest for d in layers]},
        }
        cfg_desc = self.add_json(config, OCI_CONFIG)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": cfg_desc.to_dict(),
            "layers": [d.to_dict() for d in layers],
        }
        return self.add_json(
            manifest,
            OCI_MANIFEST,
            annotations={
                REFERENCE_DIGEST: subject.digest,
                REFERENCE_TYPE: ATTESTATION_MANIFEST,
            },
            platform=dict(UNKNOWN_PLATFORM),
        )

    def gc(self) -> None:
        """Drop blobs not reachable from index.json (keeps a layout small after umoci edits)."""
        keep: set[str] = set()

        def walk(digest: str, media_type: str) -> None:
            if digest in keep:
                return
            keep.add(digest)
            if media_type in INDEX_TYPES or media_type in (OCI_MANIFEST, DOCKER_MANIFEST):
                doc = self.read_json(digest)
                for m in doc.get("manifests", []):
                    walk(m["digest"], m["mediaType"])
                if "config" in doc:
                    keep.add(doc["config"]["digest"])
                    keep.update(lay["digest"] for lay in doc.get("layers", []))

        for m in self._index()["manifests"]:
            walk(m["digest"], m["mediaType"])
        for p in (self.path / "blobs" / "sha256").iterdir():
            if "sha256:" + p.name not in keep:
                p.unlink()
