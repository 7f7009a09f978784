"""Build small but real container images and push them to a real registry.

Two builders write into the same kind of OCI image layout (``oci-layout`` + ``index.json`` +
``blobs/sha256``):

* **umoci** (as in the shared recipe) builds the ``demo/app`` family: real rootfs layers
  made by ``umoci unpack``/``repack`` and config edits by ``umoci config``, each edit adding a
  history entry (``empty_layer: true`` for config-only steps).
* **pure Python** (:class:`OCILayout`, :class:`ImageSpec`) for everything umoci cannot do:
  platform variants, OCI indexes, BuildKit-style attestation manifests (in-toto SPDX SBOM and
  SLSA provenance), manifest annotations such as ``org.opencontainers.image.base.*``, and
  fully controlled history. Pure-Python images are deterministic: same spec, same digest.

``skopeo copy`` pushes a layout tag to a registry (:func:`push`), optionally converting to
Docker schema 2 (``fmt="v2s2"``). :class:`RegistryHTTP` is a tiny auth-aware client (http.client,
so ``responses`` mocks never intercept it) used to re-tag cheaply and to read back exactly what
the registry serves into :class:`SeededImages`.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import http.client
import io
import json
import os
import random
import shutil
import subprocess
import tarfile
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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


# --------------------------------------------------------------------------------------------
# In-toto statements (SPDX SBOM, SLSA provenance v0.2)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SbomPackage:
    name: str
    version: str
    license: str  # SPDX expression or NOASSERTION
    purl: str
    license_concluded: str | None = None  # defaults to `license`


def _subject(name: str, digest: str) -> list[dict[str, Any]]:
    return [{"name": name, "digest": {"sha256": digest.split(":", 1)[1]}}]


def spdx_statement(
    subject_name: str,
    subject_digest: str,
    packages: Sequence[SbomPackage],
    *,
    document_name: str = "sbom",
    created: str = DEFAULT_CREATED,
) -> dict[str, Any]:
    """An in-toto statement whose predicate is an SPDX 2.3 document (BuildKit/syft shape)."""
    pkgs = []
    rels = []
    for i, p in enumerate(packages):
        spdx_id = f"SPDXRef-Package-{i}-{p.name}"
        pkgs.append(
            {
                "name": p.name,
                "SPDXID": spdx_id,
                "versionInfo": p.version,
                "supplier": "NOASSERTION",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "licenseConcluded": p.license_concluded or p.license,
                "licenseDeclared": p.license,
                "copyrightText": "NOASSERTION",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": p.purl,
                    }
                ],
            }
        )
        rels.append(
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relatedSpdxElement": spdx_id,
                "relationshipType": "DESCRIBES",
            }
        )
    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": document_name,
        "documentNamespace": f"https://example.org/spdxdocs/{document_name}-"
        + hashlib.sha256(subject_digest.encode()).hexdigest()[:16],
        "creationInfo": {
            "licenseListVersion": "3.22",
            "creators": [
                "Organization: Anchore, Inc",
                "Tool: syft-v0.105.0",
                "Tool: buildkit-v0.13.2",
            ],
            "created": created,
        },
        "packages": pkgs,
        "relationships": rels,
    }
    return {
        "_type": IN_TOTO_STATEMENT_V01,
        "predicateType": SPDX_PREDICATE,
        "subject": _subject(subject_name, subject_digest),
        "predicate": doc,
    }


@dataclass(frozen=True)
class ProvenanceInfo:
    """The facts a SLSA v0.2 provenance statement records (kept for test assertions)."""

    builder_id: str
    build_type: str
    source_uri: str
    source_sha1: str
    entry_point: str
    build_args: Mapping[str, str]
    base_image_purl: str
    base_image_digest: str
    started_on: str
    finished_on: str
    platform: str


def provenance_statement(
    subject_name: str, subject_digest: str, info: ProvenanceInfo
) -> dict[str, Any]:
    """An in-toto statement with a SLSA provenance v0.2 predicate (BuildKit ``mode=max`` shape)."""
    args = {f"build-arg:{k}": v for k, v in info.build_args.items()}
    predicate = {
        "builder": {"id": info.builder_id},
        "buildType": info.build_type,
        "materials": [
            {
                "uri": info.base_image_purl,
                "digest": {"sha256": info.base_image_digest.split(":", 1)[1]},
            },
            {"uri": info.source_uri, "digest": {"sha1": info.source_sha1}},
        ],
        "invocation": {
            "configSource": {
                "uri": info.source_uri,
                "digest": {"sha1": info.source_sha1},
                "entryPoint": info.entry_point,
            },
            "parameters": {
                "frontend": "dockerfile.v0",
                "args": args,
                "locals": [{"name": "context"}, {"name": "dockerfile"}],
            },
            "environment": {"platform": info.platform},
        },
        "metadata": {
            "buildInvocationID": hashlib.sha256(subject_digest.encode()).hexdigest()[:26],
            "buildStartedOn": info.started_on,
            "buildFinishedOn": info.finished_on,
            "reproducible": False,
            "completeness": {"parameters": True, "environment": True, "materials": False},
            "https://mobyproject.org/buildkit@v1#metadata": {
                "vcs": {"revision": info.source_sha1, "source": info.source_uri.split("#")[0]}
            },
        },
    }
    return {
        "_type": IN_TOTO_STATEMENT_V01,
        "predicateType": SLSA_V02_PREDICATE,
        "subject": _subject(subject_name, subject_digest),
        "predicate": predicate,
    }


def provenance_statement_v1(
    subject_name: str, subject_digest: str, info: ProvenanceInfo
) -> dict[str, Any]:
    """The same facts as a SLSA provenance v1 predicate (BuildKit ``version=v1`` shape):
    ``buildDefinition`` (externalParameters.configSource/request, resolvedDependencies) and
    ``runDetails`` (builder, metadata with startedOn/finishedOn)."""
    args = {f"build-arg:{k}": v for k, v in info.build_args.items()}
    predicate = {
        "buildDefinition": {
            "buildType": "https://github.com/moby/buildkit/blob/master/docs/attestations/"
            "slsa-definitions.md",
            "externalParameters": {
                "configSource": {
                    "uri": info.source_uri,
                    "digest": {"sha1": info.source_sha1},
                    "path": info.entry_point,
                },
                "request": {"frontend": "dockerfile.v0", "args": args},
            },
            "internalParameters": {"builderPlatform": info.platform},
            "resolvedDependencies": [
                {
                    "uri": info.base_image_purl,
                    "digest": {"sha256": info.base_image_digest.split(":", 1)[1]},
                },
                {"uri": info.source_uri, "digest": {"sha1": info.source_sha1}},
            ],
        },
        "runDetails": {
            "builder": {"id": info.builder_id},
            "metadata": {
                "invocationID": hashlib.sha256(subject_digest.encode()).hexdigest()[:26],
                "startedOn": info.started_on,
                "finishedOn": info.finished_on,
                "https://mobyproject.org/buildkit@v1#metadata": {
                    "vcs": {"revision": info.source_sha1, "source": info.source_uri.split("#")[0]}
                },
            },
        },
    }
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://slsa.dev/provenance/v1",
        "subject": _subject(subject_name, subject_digest),
        "predicate": predicate,
    }


def alpine_packages(arch: str) -> list[SbomPackage]:
    """A few realistic Alpine + PyPI packages (purls and licenses) for an SBOM."""
    apk = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    q = f"?arch={apk}&distro=alpine-3.19.1"
    return [
        SbomPackage(
            "alpine-baselayout",
            "3.4.3-r2",
            "GPL-2.0-only",
            f"pkg:apk/alpine/alpine-baselayout@3.4.3-r2{q}",
        ),
        SbomPackage(
            "busybox", "1.36.1-r15", "GPL-2.0-only", f"pkg:apk/alpine/busybox@1.36.1-r15{q}"
        ),
        SbomPackage(
            "musl", "1.2.4_git20230717-r4", "MIT", f"pkg:apk/alpine/musl@1.2.4_git20230717-r4{q}"
        ),
        SbomPackage(
            "libssl3",
            "3.1.4-r5",
            "Apache-2.0",
            f"pkg:apk/alpine/libssl3@3.1.4-r5{q}",
            license_concluded="NOASSERTION",
        ),
        SbomPackage("zlib", "1.3.1-r0", "Zlib", f"pkg:apk/alpine/zlib@1.3.1-r0{q}"),
        SbomPackage("requests", "2.31.0", "Apache-2.0", "pkg:pypi/requests@2.31.0"),
        SbomPackage("urllib3", "2.1.0", "MIT", "pkg:pypi/urllib3@2.1.0"),
        SbomPackage("certifi", "2023.11.17", "MPL-2.0", "pkg:pypi/certifi@2023.11.17"),
    ]


# --------------------------------------------------------------------------------------------
# Pushing with skopeo
# --------------------------------------------------------------------------------------------
def push(
    layout_ref: str,
    dest: str,
    creds: str | tuple[str, str] | None = None,
    fmt: str | None = None,
    all: bool = False,  # noqa: A002 - mirrors skopeo's --all
    *,
    timeout: float = PUSH_TIMEOUT,
) -> None:
    """``skopeo copy`` *layout_ref* (``oci:PATH:TAG``) to *dest* (``HOST:PORT/repo:tag``).

    *creds* is ``"user:pass"`` or ``(user, pass)``; *fmt* is ``"oci"`` or ``"v2s2"`` (Docker
    schema 2; converts media types and so changes digests); *all* copies every platform of an
    index (``--all``). Plain HTTP, no TLS verification. OCI→OCI pushes keep digests unchanged.
    """
    argv = ["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false"]
    if creds:
        argv.append("--dest-creds=" + (creds if isinstance(creds, str) else ":".join(creds)))
    if fmt:
        argv += ["--format", fmt]
    if all:
        argv.append("--all")
    if "://" not in dest:
        dest = "docker://" + dest
    argv += [layout_ref, dest]
    _run(argv, timeout=timeout)


def skopeo_inspect_raw(ref: str, creds: str | tuple[str, str] | None = None) -> bytes:
    """``skopeo inspect --raw`` of ``HOST:PORT/repo:tag`` (exact manifest bytes)."""
    argv = ["skopeo", "--insecure-policy", "inspect", "--raw", "--tls-verify=false"]
    if creds:
        argv.append("--creds=" + (creds if isinstance(creds, str) else ":".join(creds)))
    argv.append(ref if "://" in ref else "docker://" + ref)
    return _run(argv).encode()


# --------------------------------------------------------------------------------------------
# Tiny registry client (seeding and read-back only; the package under test has its own)
# --------------------------------------------------------------------------------------------
def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="x",service="y",scope="a:b:pull,push"`` -> ``("bearer", {...})``."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    i = 0
    while i < len(rest):
        while i < len(rest) and rest[i] in " ,":
            i += 1
        eq = rest.find("=", i)
        if eq < 0:
            break
        key = rest[i:eq].strip().lower()
        i = eq + 1
        if i < len(rest) and rest[i] == '"':
            end = i + 1
            val = []
            while end < len(rest) and rest[end] != '"':
                if rest[end] == "\\" and end + 1 < len(rest):
                    end += 1
                val.append(rest[end])
                end += 1
            params[key] = "".join(val)
            i = end + 1
        else:
            end = rest.find(",", i)
            end = len(rest) if end < 0 else end
            params[key] = rest[i:end].strip()
            i = end
    return scheme.lower(), params


@dataclass
class HTTPResult:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


class RegistryHTTP:
    """Minimal Registry v2 client over http.client with Basic and Bearer (token) auth."""

    def __init__(self, host: str, creds: tuple[str, str] | None = None) -> None:
        self.host = host
        self.creds = creds
        self._tokens: dict[str, str] = {}  # scope -> bearer token
        self._basic = False

    def _raw(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> HTTPResult:
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port or 80, timeout=30)
        try:
            path = u.path + (f"?{u.query}" if u.query else "")
            conn.request(method, path, body=body, headers=dict(headers))
            resp = conn.getresponse()
            data = resp.read()
            return HTTPResult(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def _basic_header(self) -> str:
        assert self.creds is not None
        return "Basic " + base64.b64encode(":".join(self.creds).encode()).decode()

    def _token(self, params: Mapping[str, str]) -> str:
        scope = params.get("scope", "")
        if scope in self._tokens:
            return self._tokens[scope]
        q = {"service": params.get("service", "")}
        if scope:
            q["scope"] = scope
        url = params["realm"] + "?" + urllib.parse.urlencode(q)
        headers = {"Authorization": self._basic_header()} if self.creds else {}
        r = self._raw("GET", url, headers, None)
        if r.status != 200:
            raise ImageBuildError(f"token request {url} -> {r.status}: {r.body[:200]!r}")
        doc = json.loads(r.body)
        tok = str(doc.get("token") or doc.get("access_token"))
        self._tokens[scope] = tok
        return tok

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        scope: str | None = None,
    ) -> HTTPResult:
        """Send, answering one auth challenge if needed. *scope* pre-selects a cached token."""
        hdrs = dict(headers or {})
        url = f"http://{self.host}{path}"
        if self._basic and self.creds:
            hdrs["Authorization"] = self._basic_header()
        elif scope and scope in self._tokens:
            hdrs["Authorization"] = "Bearer " + self._tokens[scope]
        r = self._raw(method, url, hdrs, body)
        if r.status != 401 or "www-authenticate" not in r.headers:
            return r
        scheme, params = parse_challenge(r.headers["www-authenticate"])
        if scheme == "basic":
            if not self.creds:
                return r
            self._basic = True
            hdrs["Authorization"] = self._basic_header()
        elif scheme == "bearer":
            if scope and "scope" not in params:
                params["scope"] = scope
            self._tokens.pop(params.get("scope", ""), None)
            hdrs["Authorization"] = "Bearer " + self._token(params)
        else:
            return r
        return self._raw(method, url, hdrs, body)

    @staticmethod
    def _scope(repo: str, push: bool = False) -> str:
        return f"repository:{repo}:pull,push" if push else f"repository:{repo}:pull"

    def get_manifest(self, repo: str, ref: str) -> tuple[bytes, str, str]:
        """Return ``(raw bytes, media type, digest)``, checking Docker-Content-Digest."""
        r = self.request(
            "GET",
            f"/v2/{repo}/manifests/{ref}",
            headers={"Accept": ACCEPT_ALL},
            scope=self._scope(repo),
        )
        if r.status != 200:
            raise ImageBuildError(f"GET manifest {repo}:{ref} -> {r.status}: {r.body[:300]!r}")
        digest = sha256_digest(r.body)
        served = r.headers.get("docker-content-digest")
        if served and served != digest:
            raise ImageBuildError(f"{repo}:{ref}: served digest {served} != sha256 {digest}")
        media_type = r.headers.get("content-type", "").split(";")[0].strip()
        return r.body, media_type, digest

    def get_blob(self, repo: str, digest: str) -> bytes:
        r = self.request("GET", f"/v2/{repo}/blobs/{digest}", scope=self._scope(repo))
        if r.status != 200:
            raise ImageBuildError(f"GET blob {repo}@{digest} -> {r.status}")
        return r.body

    def put_manifest(self, repo: str, ref: str, raw: bytes, media_type: str) -> str:
        r = self.request(
            "PUT",
            f"/v2/{repo}/manifests/{ref}",
            headers={"Content-Type": media_type},
            body=raw,
            scope=self._scope(repo, push=True),
        )
        if r.status not in (200, 201):
            raise ImageBuildError(f"PUT manifest {repo}:{ref} -> {r.status}: {r.body[:300]!r}")
        return r.headers.get("docker-content-digest", sha256_digest(raw))

    def upload_blob(self, repo: str, data: bytes) -> str:
        """Monolithic upload (POST then PUT ?digest=) unless the blob is already there."""
        digest = sha256_digest(data)
        scope = self._scope(repo, push=True)
        if self.request("HEAD", f"/v2/{repo}/blobs/{digest}", scope=scope).status == 200:
            return digest
        r = self.request("POST", f"/v2/{repo}/blobs/uploads/", body=b"", scope=scope)
        if r.status != 202 or "location" not in r.headers:
            raise ImageBuildError(f"POST upload {repo} -> {r.status}: {r.body[:300]!r}")
        loc = urllib.parse.urlsplit(r.headers["location"])
        sep = "&" if loc.query else "?"
        path = f"{loc.path}?{loc.query}{sep}" if loc.query else f"{loc.path}{sep}"
        path += urllib.parse.urlencode({"digest": digest})
        r = self.request(
            "PUT",
            path,
            headers={"Content-Type": "application/octet-stream"},
            body=data,
            scope=scope,
        )
        if r.status != 201:
            raise ImageBuildError(f"PUT blob {repo}@{digest} -> {r.status}: {r.body[:300]!r}")
        return digest

    def tags(self, repo: str) -> list[str]:
        r = self.request("GET", f"/v2/{repo}/tags/list", scope=self._scope(repo))
        if r.status != 200:
            raise ImageBuildError(f"GET tags {repo} -> {r.status}")
        return list(json.loads(r.body).get("tags") or [])


# --------------------------------------------------------------------------------------------
# What was pushed (read back from the registry)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ManifestInfo:
    """A manifest exactly as the registry serves it, plus parsed helpers.

    For indexes, ``children`` holds every entry (images and attestation manifests) in index
    order, each with the ``platform``/``annotations`` of its index descriptor. For image
    manifests, ``config`` is the parsed config blob.
    """

    repo: str
    reference: str  # tag, or digest for children
    digest: str
    media_type: str
    raw: bytes
    platform: Mapping[str, Any] | None = None
    descriptor_annotations: Mapping[str, str] | None = None
    config: Mapping[str, Any] | None = None
    children: tuple[ManifestInfo, ...] = ()

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def manifest(self) -> dict[str, Any]:
        return dict(json.loads(self.raw))

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def config_digest(self) -> str | None:
        return None if self.is_index else str(self.manifest["config"]["digest"])

    @property
    def layers(self) -> list[dict[str, Any]]:
        return [] if self.is_index else list(self.manifest.get("layers", []))

    @property
    def layer_digests(self) -> list[str]:
        return [lay["digest"] for lay in self.layers]

    @property
    def compressed_size(self) -> int:
        """Sum of layer sizes (what ``docker`` and Hub call the compressed image size)."""
        return sum(int(lay["size"]) for lay in self.layers)

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.manifest.get("annotations", {}))

    @property
    def platform_str(self) -> str:
        return platform_string(self.platform)

    @property
    def is_attestation(self) -> bool:
        return (self.descriptor_annotations or {}).get(REFERENCE_TYPE) == ATTESTATION_MANIFEST

    @property
    def images(self) -> list[ManifestInfo]:
        """Runnable platform images of an index (attestation manifests excluded)."""
        return [c for c in self.children if not c.is_attestation]

    @property
    def attestations(self) -> list[ManifestInfo]:
        return [c for c in self.children if c.is_attestation]

    def child(self, platform: str) -> ManifestInfo:
        """The runnable child for ``os/arch[/variant]``."""
        for c in self.images:
            if c.platform_str == platform:
                return c
        raise KeyError(f"{self.repo}:{self.reference} has no platform {platform}")

    def attestation_for(self, image_digest: str) -> ManifestInfo:
        for c in self.attestations:
            if (c.descriptor_annotations or {}).get(REFERENCE_DIGEST) == image_digest:
                return c
        raise KeyError(f"no attestation for {image_digest}")


def http_push(
    client: RegistryHTTP, layout: OCILayout, desc: Descriptor, repo: str, ref: str
) -> str:
    """Push *desc* (image or index, recursively) from *layout* with plain HTTP, byte for byte.

    Unlike ``skopeo copy`` from an ``oci:`` layout this also handles Docker schema 2 manifests
    and lists, and never rewrites anything. Returns the manifest digest.
    """
    raw = layout.read_blob(desc.digest)
    doc = json.loads(raw)
    for child in doc.get("manifests", []):
        http_push(client, layout, Descriptor.from_dict(child), repo, child["digest"])
    if "config" in doc:
        for blob in [doc["config"], *doc.get("layers", [])]:
            client.upload_blob(repo, layout.read_blob(blob["digest"]))
    return client.put_manifest(repo, ref, raw, doc.get("mediaType", desc.media_type))


def read_back(
    client: RegistryHTTP,
    repo: str,
    ref: str,
    *,
    platform: Mapping[str, Any] | None = None,
    descriptor_annotations: Mapping[str, str] | None = None,
    known: tuple[bytes, str] | None = None,
) -> ManifestInfo:
    """Fetch *repo*:*ref* (and children/config) into a :class:`ManifestInfo`."""
    if known is not None:
        raw, media_type = known
        digest = sha256_digest(raw)
    else:
        raw, media_type, digest = client.get_manifest(repo, ref)
    doc = json.loads(raw)
    if not media_type:
        media_type = doc.get("mediaType") or (OCI_INDEX if "manifests" in doc else OCI_MANIFEST)
    children: list[ManifestInfo] = []
    config = None
    if "manifests" in doc:
        children = [
            read_back(
                client,
                repo,
                m["digest"],
                platform=m.get("platform"),
                descriptor_annotations=m.get("annotations"),
            )
            for m in doc["manifests"]
        ]
    elif "config" in doc:
        config = json.loads(client.get_blob(repo, doc["config"]["digest"]))
    return ManifestInfo(
        repo=repo,
        reference=ref,
        digest=digest,
        media_type=media_type,
        raw=raw,
        platform=platform,
        descriptor_annotations=descriptor_annotations,
        config=config,
        children=tuple(children),
    )


@dataclass
class SeededImages:
    """Everything pushed to one registry, keyed by ``"repo:tag"`` (e.g. ``"demo/app:1.0"``).

    ``seeded["demo/app:1.0"].digest`` / ``.size`` / ``.raw`` / ``.config`` are what the registry
    serves. Extra facts for assertions: ``statements[(repo_tag, platform)]`` holds the in-toto
    statements of attested images by predicate type; ``provenance[platform]`` the
    :class:`ProvenanceInfo`; ``sbom_packages[platform]`` the SBOM packages.
    """

    host: str
    images: dict[str, ManifestInfo] = field(default_factory=dict)
    statements: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    provenance: dict[str, ProvenanceInfo] = field(default_factory=dict)
    sbom_packages: dict[str, list[SbomPackage]] = field(default_factory=dict)
    seconds: float = 0.0  # how long seeding took

    def __getitem__(self, key: str) -> ManifestInfo:
        return self.images[key]

    def __contains__(self, key: object) -> bool:
        return key in self.images

    def __iter__(self) -> Iterator[str]:
        return iter(self.images)

    def ref(self, key: str) -> str:
        """``demo/app:1.0`` -> ``127.0.0.1:PORT/demo/app:1.0``."""
        return f"{self.host}/{key}"

    def digest(self, key: str) -> str:
        return self.images[key].digest

    def repos(self) -> list[str]:
        return sorted({k.rsplit(":", 1)[0] for k in self.images})

    def tags(self, repo: str) -> list[str]:
        """Tags pushed to *repo*, sorted as distribution lists them (lexically)."""
        return sorted(k.rsplit(":", 1)[1] for k in self.images if k.rsplit(":", 1)[0] == repo)


# --------------------------------------------------------------------------------------------
# The standard images
# --------------------------------------------------------------------------------------------
# demo/many: 1.0.0 .. 1.2.19 (60 tags), -alpine and -slim variants of 1.2.10 .. 1.2.19, and
# aliases (latest/1/1.2 = 1.2.19, alpine = 1.2.19-alpine, slim = 1.2.19-slim).
MANY_VERSIONS = [f"1.{minor}.{patch}" for minor in range(3) for patch in range(20)]
MANY_VARIANT_VERSIONS = [f"1.2.{patch}" for patch in range(10, 20)]
MANY_ALIASES = {
    "latest": "1.2.19",
    "1": "1.2.19",
    "1.2": "1.2.19",
    "alpine": "1.2.19-alpine",
    "slim": "1.2.19-slim",
}

ALPINE_BASE_DIGESTS = {
    # What the "builder" resolved alpine:3.19 to, per platform (recorded in provenance).
    "linux/amd64": sha256_digest(b"alpine:3.19 linux/amd64"),
    "linux/arm64/v8": sha256_digest(b"alpine:3.19 linux/arm64/v8"),
}


@dataclass
class StandardImages:
    """An OCI layout holding every host-independent standard image, tagged for pushing.

    Layout tags: ``app-1.0``, ``app-1.1``, ``app-2.0`` (umoci), ``multi-1.0`` (index),
    ``base-3.19``, ``attested-1.0`` (index with attestations), ``many-plain``,
    ``many-alpine``, ``many-slim``. ``demo/based`` is built per registry by
    :func:`seed_registry` because its base annotation names the registry host.
    """

    layout: OCILayout
    workdir: Path
    statements: dict[str, dict[str, dict[str, Any]]]  # platform -> predicateType -> statement
    provenance: dict[str, ProvenanceInfo]
    sbom_packages: dict[str, list[SbomPackage]]
    build_seconds: float = 0.0


def _umoci(*args: str) -> str:
    return _run(["umoci", *args])


def _build_app_with_umoci(layout: OCILayout, work: Path) -> None:
    """demo/app 1.0 / 1.1 / 2.0 built with umoci, following the shared recipe."""
    lay = str(layout.path)
    comment = "buildkit.dockerfile.v0"

    def config(tag: str, created_by: str, *opts: str, new_tag: str | None = None) -> None:
        argv = [
            "config",
            "--image",
            f"{lay}:{tag}",
            *opts,
            "--created",
            DEFAULT_CREATED,
            "--history.created",
            DEFAULT_CREATED,
            "--history.created_by",
            created_by,
            "--history.comment",
            comment,
        ]
        if new_tag:
            argv += ["--tag", new_tag]
        _umoci(*argv)

    _umoci("new", "--image", f"{lay}:app-1.0")
    # Layer 1: a tiny base rootfs (shared by 1.0, 1.1 and 2.0).
    bundle = work / "bundle-base"
    _umoci("unpack", "--rootless", "--image", f"{lay}:app-1.0", str(bundle))
    rootfs = bundle / "rootfs"
    (rootfs / "etc").mkdir(parents=True, exist_ok=True)
    (rootfs / "bin").mkdir(parents=True, exist_ok=True)
    (rootfs / "etc" / "os-release").write_text('NAME="Demo Linux"\nID=demo\nVERSION_ID=1.0\n')
    (rootfs / "etc" / "motd").write_text("hello\n")
    (rootfs / "bin" / "sh").write_bytes(random_bytes(60_000, "demo-sh"))
    _umoci(
        "repack",
        "--history.created",
        DEFAULT_CREATED,
        "--image",
        f"{lay}:app-1.0",
        "--history.created_by",
        "ADD rootfs.tar.gz / # buildkit",
        "--history.comment",
        comment,
        str(bundle),
    )
    config("app-1.0", "ENV PATH=/usr/bin", "--config.env", "PATH=/usr/bin")
    config("app-1.0", "ENV APP=1", "--config.env", "APP=1")
    config("app-1.0", "WORKDIR /app", "--config.workingdir", "/app")
    # Layer 2: the application.
    shutil.rmtree(bundle)
    bundle = work / "bundle-app"
    _umoci("unpack", "--rootless", "--image", f"{lay}:app-1.0", str(bundle))
    app = bundle / "rootfs" / "app"
    app.mkdir(parents=True, exist_ok=True)
    (app / "blob.bin").write_bytes(random_bytes(200_000, "demo-app-blob"))
    (app / "run").write_text("#!/bin/sh\necho running demo app\n")
    _umoci(
        "repack",
        "--history.created",
        DEFAULT_CREATED,
        "--image",
        f"{lay}:app-1.0",
        "--history.created_by",
        "COPY app/ /app/ # buildkit",
        "--history.comment",
        comment,
        str(bundle),
    )
    config(
        "app-1.0",
        "LABEL org.opencontainers.image.source=https://example.org/app",
        "--config.label",
        "org.opencontainers.image.source=https://example.org/app",
    )
    config("app-1.0", "EXPOSE map[8080/tcp:{}]", "--config.exposedports", "8080/tcp")
    config("app-1.0", "USER 1000", "--config.user", "1000")
    config(
        "app-1.0",
        'ENTRYPOINT ["/bin/sh"]',
        "--config.entrypoint",
        "/bin/sh",
        "--architecture",
        "amd64",
        "--os",
        "linux",
    )
    config("app-1.0", 'CMD ["/app/run"]', "--config.cmd", "/app/run")
    # 1.1 = 1.0 + one more layer.
    shutil.rmtree(bundle)
    bundle = work / "bundle-extra"
    _umoci("unpack", "--rootless", "--image", f"{lay}:app-1.0", str(bundle))
    (bundle / "rootfs" / "app" / "extra.bin").write_bytes(random_bytes(50_000, "demo-extra"))
    _umoci(
        "repack",
        "--history.created",
        DEFAULT_CREATED,
        "--image",
        f"{lay}:app-1.1",
        "--history.created_by",
        "RUN make extra # buildkit",
        "--history.comment",
        comment,
        str(bundle),
    )
    # repack stamps `created` with the wall clock; a fixed date keeps printed relative times
    # ("2 years ago") from changing between two runs of a test (see the result-cache tests).
    _umoci("config", "--image", f"{lay}:app-1.1", "--created", DEFAULT_CREATED, "--no-history")
    shutil.rmtree(bundle)
    # 2.0 = 1.1 with changed env and labels.
    config("app-1.1", "ENV APP=2", "--config.env", "APP=2", new_tag="app-2.0")
    config(
        "app-2.0",
        "LABEL version=2.0 org.opencontainers.image.version=2.0",
        "--config.label",
        "version=2.0",
        "--config.label",
        "org.opencontainers.image.version=2.0",
    )


def _alpine_layer(arch: str) -> dict[str, FileValue]:
    return {
        "etc/alpine-release": "3.19.1\n",
        "etc/os-release": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n',
        "bin/busybox": File(random_bytes(120_000, f"busybox-{arch}"), mode=0o755),
        "bin/sh": Symlink("/bin/busybox"),
        "lib/ld-musl.so.1": random_bytes(30_000, f"musl-{arch}"),
    }


def base_spec(arch: str = "amd64", *, revision: str = "1") -> ImageSpec:
    """The ``demo/base:3.19`` image (alpine-like). Change *revision* to get a new digest
    with the same first layer (e.g. to simulate a rebuilt base)."""
    steps: list[Layer | Step] = [
        Layer(
            _alpine_layer(arch),
            created_by="/bin/sh -c #(nop) ADD file:alpine-minirootfs-3.19.1.tar.gz in / ",
            comment=None,
        ),
        Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]', comment=None),
    ]
    if revision != "1":
        steps.append(Layer({"etc/revision": revision}, created_by=f"RUN echo {revision}"))
    return ImageSpec(
        steps=steps,
        cmd=["/bin/sh"],
        platform="linux/amd64" if arch == "amd64" else "linux/arm64/v8",
        labels={"org.opencontainers.image.version": "3.19.1"},
    )


def attested_spec(arch: str) -> ImageSpec:
    plat = "linux/amd64" if arch == "amd64" else "linux/arm64/v8"
    return ImageSpec(
        steps=[
            Layer(
                _alpine_layer(arch),
                created_by="/bin/sh -c #(nop) ADD file:alpine-minirootfs-3.19.1.tar.gz in / ",
                comment=None,
            ),
            Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]', comment=None),
            Step("ARG VERSION=1.0"),
            Step("ENV SERVICE_VERSION=1.0"),
            Layer(
                {"srv/service": File(random_bytes(40_000, f"service-{arch}"), mode=0o755)},
                created_by="COPY service /srv/service # buildkit",
            ),
            Step('ENTRYPOINT ["/srv/service"]'),
        ],
        env=[
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "SERVICE_VERSION=1.0",
        ],
        entrypoint=["/srv/service"],
        labels={"org.opencontainers.image.source": "https://github.com/example/attested"},
        platform=plat,
    )


def many_spec(variant: str) -> ImageSpec:
    """Tiny image for the many-tags repo; *variant* is "plain", "alpine" or "slim"."""
    return ImageSpec(
        steps=[
            Layer(
                {"etc/flavour": variant + "\n", "opt/tool": random_bytes(2_000, f"many-{variant}")},
                created_by="COPY . / # buildkit",
            ),
            Step('CMD ["/opt/tool"]'),
        ],
        cmd=["/opt/tool"],
    )


def build_standard_images(workdir: str | Path) -> StandardImages:
    """Build every host-independent standard image into ``workdir/oci`` (about a second)."""
    t0 = time.monotonic()
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    lay_path = work / "oci"
    if lay_path.exists():
        shutil.rmtree(lay_path)
    _umoci("init", "--layout", str(lay_path))
    layout = OCILayout(lay_path)
    _build_app_with_umoci(layout, work)

    # demo/multi:1.0 = app-1.0 (amd64) + an arm64/v8 sibling with its own app layer.
    amd64 = layout.resolve("app-1.0").replace(platform={"architecture": "amd64", "os": "linux"})
    arm64 = layout.derive_image(
        layout.resolve("app-1.0"),
        platform="linux/arm64/v8",
        replace_layers={
            1: (
                {
                    "app/blob.bin": random_bytes(180_000, "demo-app-blob-arm64"),
                    "app/run": "#!/bin/sh\necho running demo app on arm64\n",
                },
                "COPY app/ /app/ # buildkit",
            )
        },
    )
    layout.add_index([amd64, arm64], tag="multi-1.0")

    # demo/base:3.19 (its first layer is shared with demo/based:1.0).
    layout.add_image(base_spec("amd64"), tag="base-3.19")

    # demo/attested:1.0: index of amd64 + arm64/v8 + one attestation manifest per platform.
    statements: dict[str, dict[str, dict[str, Any]]] = {}
    provenance: dict[str, ProvenanceInfo] = {}
    sbom: dict[str, list[SbomPackage]] = {}
    images: list[Descriptor] = []
    attestations: list[Descriptor] = []
    for arch in ("amd64", "arm64"):
        built = layout.add_image(attested_spec(arch))
        plat = platform_string(built.descriptor.platform)
        subject = f"pkg:docker/demo/attested@1.0?platform={urllib.parse.quote(plat, safe='')}"
        info = ProvenanceInfo(
            builder_id="https://github.com/example/attested/actions/runs/1234567890",
            build_type="https://mobyproject.org/buildkit@v1",
            source_uri="https://github.com/example/attested.git#refs/heads/main",
            source_sha1="6a4c0cb4ac7e53bbbe473df71b61a5bf9f95252f",
            entry_point="Dockerfile",
            build_args={"VERSION": "1.0", "BUILDKIT_CONTEXT_KEEP_GIT_DIR": "1"},
            base_image_purl="pkg:docker/alpine@3.19?platform=" + urllib.parse.quote(plat, safe=""),
            base_image_digest=ALPINE_BASE_DIGESTS[plat],
            started_on="2024-05-01T11:58:01.123456789Z",
            finished_on="2024-05-01T11:59:12.987654321Z",
            platform=plat,
        )
        pkgs = alpine_packages(arch)
        sts = [
            spdx_statement(subject, built.digest, pkgs, document_name=f"attested-{arch}"),
            provenance_statement(subject, built.digest, info),
        ]
        images.append(built.descriptor)
        attestations.append(layout.add_attestation_manifest(built.descriptor, sts))
        statements[plat] = {st["predicateType"]: st for st in sts}
        provenance[plat] = info
        sbom[plat] = pkgs
    layout.add_index(images + attestations, tag="attested-1.0")

    # demo/many: three small images.
    for variant in ("plain", "alpine", "slim"):
        layout.add_image(many_spec(variant), tag=f"many-{variant}")

    layout.gc()
    return StandardImages(
        layout=layout,
        workdir=work,
        statements=statements,
        provenance=provenance,
        sbom_packages=sbom,
        build_seconds=time.monotonic() - t0,
    )


def based_spec(base_ref: str, base_digest: str, arch: str = "amd64") -> ImageSpec:
    """``demo/based:1.0``: the base image's layer + one app layer, with base annotations."""
    base = base_spec(arch)
    return ImageSpec(
        steps=[
            *base.steps,
            Step("WORKDIR /srv"),
            Layer(
                {
                    "srv/app.py": "print('based on base')\n",
                    "srv/data.bin": random_bytes(20_000, "based-data"),
                },
                created_by="COPY . /srv # buildkit",
            ),
            Step('CMD ["python3", "/srv/app.py"]'),
        ],
        workdir="/srv",
        cmd=["python3", "/srv/app.py"],
        platform=base.platform,
        annotations={
            BASE_NAME: base_ref,
            BASE_DIGEST: base_digest,
            "org.opencontainers.image.created": DEFAULT_CREATED,
            "org.opencontainers.image.version": "1.0",
        },
    )


def _with_annotation(raw: bytes, key: str, value: str) -> bytes:
    doc = json.loads(raw)
    doc.setdefault("annotations", {})[key] = value
    return json_bytes(doc)


def seed_registry(
    host: str,
    std: StandardImages,
    *,
    namespaces: Sequence[str] = ("demo",),
    creds: tuple[str, str] | None = None,
    workers: int = 4,
) -> SeededImages:
    """Push the standard images to *host* under each namespace (``demo/app:1.0``, ...).

    Returns a :class:`SeededImages` read back from the registry. Typical cost: about a second
    per namespace (skopeo pushes run *workers* at a time; the many-tag repo is filled with
    manifest PUTs).
    """
    t0 = time.monotonic()
    layout = std.layout
    client = RegistryHTTP(host, creds)
    seeded = SeededImages(host=host)
    # (layout tag, repo:tag, skopeo format, --all); ordered so shared layers upload once.
    copies_for: list[tuple[str, str, str | None, bool]] = []
    for ns in namespaces:
        copies_for += [
            ("app-1.0", f"{ns}/app:1.0", None, False),
            ("app-1.0", f"{ns}/app:1.0-v2s2", "v2s2", False),
            ("app-1.1", f"{ns}/app:1.1", None, False),
            ("app-2.0", f"{ns}/app:2.0", None, False),
            ("app-2.0", f"{ns}/app:latest", None, False),
            ("multi-1.0", f"{ns}/multi:1.0", "oci", True),
            ("multi-1.0", f"{ns}/multi:1.0-v2s2", "v2s2", True),
            ("attested-1.0", f"{ns}/attested:1.0", "oci", True),
            ("base-3.19", f"{ns}/base:3.19", None, False),
            ("many-plain", f"{ns}/many:{MANY_VERSIONS[0]}", None, False),
            ("many-alpine", f"{ns}/many:{MANY_VARIANT_VERSIONS[0]}-alpine", None, False),
            ("many-slim", f"{ns}/many:{MANY_VARIANT_VERSIONS[0]}-slim", None, False),
        ]

    # Distribution 2.8 is not safe against concurrent uploads of the same blob into the same
    # repository (seen here: "digest invalid" / "manifest blob unknown" on the manifest PUT).
    # So copies into one repository run in order; different repositories run in parallel.
    by_repo: dict[str, list[tuple[str, str, str | None, bool]]] = {}
    for item in copies_for:
        by_repo.setdefault(item[1].rpartition(":")[0], []).append(item)

    def copy_group(items: list[tuple[str, str, str | None, bool]]) -> None:
        for tag, dest, fmt, all_ in items:
            push(layout.ref(tag), f"{host}/{dest}", creds=creds, fmt=fmt, all=all_)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(copy_group, by_repo.values()))

    # demo/based:1.0 needs the pushed base digest and this registry's host name.
    # (OCI→OCI copies keep bytes, so the layout digest is the registry digest.)
    base_digest = layout.resolve("base-3.19").digest
    for ns in namespaces:
        spec = based_spec(f"{host}/{ns}/base:3.19", base_digest)
        tag = f"based-1.0-{ns.replace('/', '-')}-{host.replace(':', '-')}"
        layout.add_image(spec, tag=tag)
        push(layout.ref(tag), f"{host}/{ns}/based:1.0", creds=creds)

    # demo/many: one manifest per tag (the version annotation makes each digest unique).
    many_known: dict[str, tuple[bytes, str]] = {}
    for ns in namespaces:
        repo = f"{ns}/many"
        bases = {
            v: layout.read_blob(layout.resolve(f"many-{v}").digest)
            for v in ("plain", "alpine", "slim")
        }
        wanted: dict[str, bytes] = {}
        for v in MANY_VERSIONS:
            wanted[v] = _with_annotation(bases["plain"], "org.opencontainers.image.version", v)
        for v in MANY_VARIANT_VERSIONS:
            for flavour in ("alpine", "slim"):
                t = f"{v}-{flavour}"
                wanted[t] = _with_annotation(bases[flavour], "org.opencontainers.image.version", t)
        for alias, target in MANY_ALIASES.items():
            wanted[alias] = wanted[target]
        for t, raw in wanted.items():
            client.put_manifest(repo, t, raw, OCI_MANIFEST)
            many_known[f"{repo}:{t}"] = (raw, OCI_MANIFEST)

    # Read back what the registry now serves.
    keys = [dest for _, dest, _, _ in copies_for if "/many:" not in dest]
    keys += [f"{ns}/based:1.0" for ns in namespaces]
    many_configs: dict[str, Mapping[str, Any]] = {}
    for key in keys:
        repo, _, tag = key.rpartition(":")
        seeded.images[key] = read_back(client, repo, tag)
    for key, known in many_known.items():
        repo, _, tag = key.rpartition(":")
        cfg_digest = json.loads(known[0])["config"]["digest"]
        if cfg_digest not in many_configs:
            many_configs[cfg_digest] = json.loads(layout.read_blob(cfg_digest))
        seeded.images[key] = ManifestInfo(
            repo=repo,
            reference=tag,
            digest=sha256_digest(known[0]),
            media_type=known[1],
            raw=known[0],
            config=many_configs[cfg_digest],
        )
    for ns in namespaces:
        for plat, sts in std.statements.items():
            seeded.statements[(f"{ns}/attested:1.0", plat)] = sts
    seeded.provenance = dict(std.provenance)
    seeded.sbom_packages = dict(std.sbom_packages)
    seeded.seconds = time.monotonic() - t0
    return seeded


# --------------------------------------------------------------------------------------------
# Custom images for individual tests
# --------------------------------------------------------------------------------------------
class ImagePusher:
    """Build images from :class:`ImageSpec` and push them to a registry in one call.

    >>> pusher.push_image("t/x:1", ImageSpec(steps=[Layer({"a": "1"}), Step("ENV X=1")],
    ...                                      env=["X=1"]))
    ManifestInfo(...)
    >>> pusher.push_index("t/x:multi", [spec_amd64, spec_arm64], attest=True)
    """

    def __init__(
        self,
        workdir: str | Path,
        host: str,
        creds: tuple[str, str] | None = None,
        *,
        namespace: str = "custom",
    ) -> None:
        self.workdir = Path(workdir)
        self.layout = OCILayout(self.workdir / "oci")
        self.host = host
        self.creds = creds
        self.namespace = namespace
        self.client = RegistryHTTP(host, creds)
        self._n = 0

    def repo(self, name: str) -> str:
        """A repository name private to this pusher: ``<namespace>/<name>``."""
        return f"{self.namespace}/{name}"

    def ref(self, name: str) -> str:
        """``repo:tag`` -> ``HOST:PORT/repo:tag`` (for the CLI under test)."""
        return f"{self.host}/{name}"

    def _tag(self) -> str:
        self._n += 1
        return f"custom-{self._n}"

    def push_image(self, name: str, spec: ImageSpec, *, fmt: str | None = None) -> ManifestInfo:
        """Build *spec* and push it as ``name`` (``repo:tag``); returns what the registry serves.

        OCI specs go through ``skopeo copy`` (*fmt* ``"v2s2"`` converts); ``spec.docker``
        specs are pushed byte for byte over HTTP (skopeo's ``oci:`` transport ignores them).
        """
        tag = self._tag()
        built = self.layout.add_image(spec, tag=tag)
        repo, _, ref = name.rpartition(":")
        if spec.docker:
            http_push(self.client, self.layout, built.descriptor, repo, ref)
        else:
            push(self.layout.ref(tag), f"{self.host}/{name}", creds=self.creds, fmt=fmt)
        return read_back(self.client, repo, ref)

    def push_index(
        self,
        name: str,
        specs: Sequence[ImageSpec],
        *,
        attest: bool = False,
        annotations: Mapping[str, str] | None = None,
        fmt: str | None = None,
    ) -> ManifestInfo:
        """Build a multi-platform index (optionally with SBOM + provenance attestations).

        With ``docker=True`` specs this makes a Docker manifest list pushed over HTTP
        (attestations are an OCI-only feature, so *attest* is refused then).
        """
        docker = any(s.docker for s in specs)
        if docker and (attest or annotations or fmt):
            raise ValueError("Docker manifest lists take no attestations/annotations/fmt")
        built = [self.layout.add_image(s) for s in specs]
        entries: list[Descriptor] = [b.descriptor for b in built]
        if attest:
            for b in built:
                plat = platform_string(b.descriptor.platform)
                q = urllib.parse.quote(plat, safe="")
                subject = (
                    f"pkg:docker/{name.rpartition(':')[0]}@{name.rpartition(':')[2]}?platform={q}"
                )
                arch = str(b.descriptor.platform["architecture"]) if b.descriptor.platform else ""
                info = ProvenanceInfo(
                    builder_id="https://example.org/ci/run/1",
                    build_type="https://mobyproject.org/buildkit@v1",
                    source_uri="https://github.com/example/custom.git#refs/heads/main",
                    source_sha1="0" * 40,
                    entry_point="Dockerfile",
                    build_args={},
                    base_image_purl=f"pkg:docker/alpine@3.19?platform={q}",
                    base_image_digest=ALPINE_BASE_DIGESTS.get(plat, sha256_digest(plat.encode())),
                    started_on=DEFAULT_CREATED,
                    finished_on=DEFAULT_CREATED,
                    platform=plat,
                )
                sts = [
                    spdx_statement(subject, b.digest, alpine_packages(arch)),
                    provenance_statement(subject, b.digest, info),
                ]
                entries.append(self.layout.add_attestation_manifest(b.descriptor, sts))
        tag = self._tag()
        index = self.layout.add_index(entries, annotations=annotations, docker=docker, tag=tag)
        repo, _, ref = name.rpartition(":")
        if docker:
            http_push(self.client, self.layout, index, repo, ref)
        else:
            push(
                self.layout.ref(tag),
                f"{self.host}/{name}",
                creds=self.creds,
                fmt=fmt or "oci",
                all=True,
            )
        return read_back(self.client, repo, ref)

    def push_raw(self, name: str, raw: bytes, media_type: str) -> str:
        """PUT manifest bytes directly (blobs must already be in the repository)."""
        repo, _, ref = name.rpartition(":")
        return self.client.put_manifest(repo, ref, raw, media_type)

    def read(self, name: str) -> ManifestInfo:
        repo, _, ref = name.rpartition(":")
        return read_back(self.client, repo, ref)


def iter_blobs(info: ManifestInfo) -> Iterable[str]:
    """Every blob digest referenced by *info* (configs and layers, recursively)."""
    if info.is_index:
        for c in info.children:
            yield from iter_blobs(c)
    else:
        m = info.manifest
        yield m["config"]["digest"]
        for lay in m.get("layers", []):
            yield lay["digest"]
