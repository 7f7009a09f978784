"""The four manifest formats in use, parsed into typed objects; image configs likewise.

Docker schema 2 manifest, Docker manifest list, OCI image manifest, OCI image index. Legacy
schema 1 and anything else is refused with UnsupportedMediaTypeError. Parsing always starts from
the exact bytes the registry sent (already verified against their digest by `RegistryClient`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockerhub_cli.errors import UnsupportedMediaTypeError, UpstreamError
from dockerhub_cli.oci import jsonlimits
from dockerhub_cli.oci.mediatypes import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
)
from dockerhub_cli.oci.platform import Platform

DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
ATTESTATION_CONFIG = "application/vnd.docker.attestation.config.v1+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
IMAGE_MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
SCHEMA1_TYPES = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})
# Content-Types that say nothing: then the body's own `mediaType` (or its shape) decides.
GENERIC_TYPES = frozenset({"", "application/json", "application/octet-stream", "text/plain"})

REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"
ATTESTATION_MANIFEST = "attestation-manifest"
BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)
    artifact_type: str | None = None

    @property
    def is_attestation(self) -> bool:
        """A BuildKit attestation manifest (`unknown/unknown`, reference type annotation)."""
        return self.annotations.get(REFERENCE_TYPE) == ATTESTATION_MANIFEST

    @property
    def is_runnable(self) -> bool:
        """An entry that names a real platform (no reference-type annotation, not unknown)."""
        return (
            self.platform is not None
            and not self.platform.is_unknown
            and REFERENCE_TYPE not in self.annotations
        )

    @property
    def has_no_platform(self) -> bool:
        """An image entry that names no platform at all (listed as "no platform"; chosen only
        by its config's platform, as containerd does)."""
        return self.platform is None and REFERENCE_TYPE not in self.annotations

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def attests(self) -> str | None:
        """For an attestation: the digest of the image manifest it describes."""
        return self.annotations.get(REFERENCE_DIGEST) if self.is_attestation else None


@dataclass(frozen=True)
class ImageManifest:
    media_type: str
    config: Descriptor
    layers: list[Descriptor]
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: str | None = None
    subject: Descriptor | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def total_size(self) -> int:
        """Download size: the sum of the compressed layer sizes (config excluded)."""
        return sum(layer.size for layer in self.layers)


def stored_uncompressed(manifest: ImageManifest, config: ImageConfig) -> bool:
    """Every layer is kept as a plain tar: its digest is its diff_id (the digest of its
    uncompressed content). `docker save` archives store layers so; registries rarely do."""
    return (
        bool(manifest.layers)
        and len(config.diff_ids) == len(manifest.layers)
        and all(
            layer.digest == d for layer, d in zip(manifest.layers, config.diff_ids, strict=True)
        )
    )


def same_content_other_digest(
    manifest: ImageManifest,
    config: ImageConfig,
    other: ImageManifest,
    other_config: ImageConfig,
) -> list[Descriptor]:
    """The layers of `manifest` whose content (diff_id) is a layer of `other` too, but under
    another digest (stored with another compression, or none): a digest match misses them.
    Empty when either config's diff_ids do not pair with its layers."""
    if len(config.diff_ids) != len(manifest.layers):
        return []
    if len(other_config.diff_ids) != len(other.layers):
        return []
    their_digests = {layer.digest for layer in other.layers}
    their_content = set(other_config.diff_ids)
    out: dict[str, Descriptor] = {}
    for layer, diff_id in zip(manifest.layers, config.diff_ids, strict=True):
        if diff_id in their_content and layer.digest not in their_digests:
            out.setdefault(layer.digest, layer)
    return list(out.values())


@dataclass(frozen=True)
class ImageIndex:
    media_type: str
    manifests: list[Descriptor]
    annotations: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def runnable(self) -> list[Descriptor]:
        return [m for m in self.manifests if m.is_runnable]

    @property
    def without_platform(self) -> list[Descriptor]:
        """Image entries without a `platform` (not attestations, not nested indexes)."""
        return [m for m in self.manifests if m.has_no_platform and not m.is_index]

    @property
    def nested(self) -> list[Descriptor]:
        """Entries that are indexes themselves (the image-spec allows index -> index)."""
        return [m for m in self.manifests if m.is_index and REFERENCE_TYPE not in m.annotations]

    @property
    def attestations(self) -> list[Descriptor]:
        return [m for m in self.manifests if m.is_attestation]

    def attestation_for(self, manifest_digest: str) -> Descriptor | None:
        """The attestation manifest whose `vnd.docker.reference.digest` is `manifest_digest`."""
        return next((m for m in self.attestations if m.attests == manifest_digest), None)


Manifest = ImageManifest | ImageIndex


@dataclass(frozen=True)
class HistoryEntry:
    created: str | None
    created_by: str
    empty_layer: bool
    comment: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class ImageConfig:
    """An image config blob (Docker and OCI share the shape)."""

    os: str
    architecture: str
    variant: str | None
    os_version: str | None
    created: str | None
    author: str | None
    env: list[str]
    entrypoint: list[str] | None
    cmd: list[str] | None
    working_dir: str | None
    user: str | None
    exposed_ports: list[str]
    volumes: list[str]
    labels: dict[str, str]
    stop_signal: str | None
    healthcheck: dict[str, Any] | None
    shell: list[str] | None
    on_build: list[str] | None
    diff_ids: list[str]
    history: list[HistoryEntry]
    raw: dict[str, Any] = field(default_factory=dict)

    os_features: tuple[str, ...] = ()

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant, self.os_version, self.os_features)


# -- parsing ---------------------------------------------------------------------------------


def load_json(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = jsonlimits.loads(body)
    except ValueError as exc:  # UnicodeDecodeError and JSONLimitError are ValueErrors
        raise UpstreamError(
            f"{what} is {jsonlimits.describe(exc)}", hint="the registry sent garbage"
        ) from None
    if not isinstance(data, dict):
        raise UpstreamError(f"{what} is not a JSON object")
    return data


def detect_media_type(data: dict[str, Any], content_type: str) -> str:
    """The manifest's media type: Content-Type first, else `mediaType`, else its shape."""
    content_type = (content_type or "").split(";", 1)[0].strip().lower()
    declared = data.get("mediaType") if isinstance(data.get("mediaType"), str) else None
    if content_type not in GENERIC_TYPES:
        return content_type
    if declared:
        return str(declared).lower()
    if data.get("schemaVersion") == 1:
        return DOCKER_SCHEMA1
    if isinstance(data.get("manifests"), list):
        return OCI_INDEX
    if isinstance(data.get("config"), dict):
        return OCI_MANIFEST
    return content_type


def parse_manifest(body: bytes, content_type: str, *, what: str = "manifest") -> Manifest:
    """Parse verified manifest bytes into an ImageManifest or ImageIndex."""
    data = load_json(body, what)
    media_type = detect_media_type(data, content_type)
    if media_type in SCHEMA1_TYPES or data.get("schemaVersion") == 1:
        raise UnsupportedMediaTypeError(
            f"{what} is a legacy Docker schema 1 manifest ({media_type or 'schemaVersion 1'})",
            hint="schema 1 is deprecated and unsupported; ask the publisher to push it again",
        )
    schema = data.get("schemaVersion")
    if schema is not None and schema != 2:
        raise UnsupportedMediaTypeError(
            f"{what} has unsupported schema version {schema!r}",
            hint="Docker schema 2 and OCI manifests have schemaVersion 2",
        )
    if media_type not in INDEX_TYPES and media_type not in IMAGE_MANIFEST_TYPES:
        raise UnsupportedMediaTypeError(
            f"{what} has media type {media_type or 'unknown'!r}, which is not an image manifest "
            "or index",
            hint="supported: Docker schema 2 manifest and list, OCI image manifest and index",
        )
    declared = data.get("mediaType")
    if isinstance(declared, str) and declared and declared.lower() != media_type:
        raise UpstreamError(
            f"{what} says mediaType {declared!r} but was served as {media_type!r}",
            hint="the registry or a proxy mislabelled the content; it was not used",
        )
    annotations = _str_dict(data.get("annotations"))
    if media_type in INDEX_TYPES:
        entries = data.get("manifests")
        if not isinstance(entries, list):
            raise UpstreamError(f"{what} is an index without a `manifests` list")
        return ImageIndex(
            media_type=media_type,
            manifests=[_descriptor(e, what) for e in entries],
            annotations=annotations,
            raw=data,
        )
    config = data.get("config")
    layers = data.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise UpstreamError(f"{what} is an image manifest without `config` and `layers`")
    subject = data.get("subject")
    return ImageManifest(
        media_type=media_type,
        config=_descriptor(config, what),
        layers=[_descriptor(layer, what) for layer in layers],
        annotations=annotations,
        artifact_type=_str(data.get("artifactType")),
        subject=_descriptor(subject, what) if isinstance(subject, dict) else None,
        raw=data,
    )


def parse_config(body: bytes, *, what: str = "image config") -> ImageConfig:
    data = load_json(body, what)
    cfg: dict[str, Any] = data["config"] if isinstance(data.get("config"), dict) else {}
    rootfs: dict[str, Any] = data["rootfs"] if isinstance(data.get("rootfs"), dict) else {}
    raw_history = data.get("history")
    history = [
        HistoryEntry(
            created=_str(h.get("created")),
            created_by=str(h.get("created_by") or ""),
            empty_layer=bool(h.get("empty_layer")),
            comment=_str(h.get("comment")),
            author=_str(h.get("author")),
        )
        for h in (raw_history if isinstance(raw_history, list) else [])
        if isinstance(h, dict)
    ]
    health = cfg.get("Healthcheck")
    return ImageConfig(
        os=str(data.get("os") or ""),
        architecture=str(data.get("architecture") or ""),
        variant=_str(data.get("variant")),
        os_version=_str(data.get("os.version")),
        created=_str(data.get("created")),
        author=_str(data.get("author")),
        env=_str_list(cfg.get("Env")) or [],
        entrypoint=_str_list(cfg.get("Entrypoint")),
        cmd=_str_list(cfg.get("Cmd")),
        working_dir=_str(cfg.get("WorkingDir")),
        user=_str(cfg.get("User")),
        exposed_ports=sorted(_keys(cfg.get("ExposedPorts"))),
        volumes=sorted(_keys(cfg.get("Volumes"))),
        labels=_str_dict(cfg.get("Labels")),
        stop_signal=_str(cfg.get("StopSignal")),
        healthcheck=health if isinstance(health, dict) else None,
        shell=_str_list(cfg.get("Shell")),
        on_build=_str_list(cfg.get("OnBuild")),
        diff_ids=_str_list(rootfs.get("diff_ids")) or [],
        history=history,
        raw=data,
        os_features=tuple(_str_list(data.get("os.features")) or ()),
    )


def _descriptor(raw: Any, what: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise UpstreamError(f"{what} contains a descriptor that is not an object")
    digest, size = raw.get("digest"), raw.get("size")
    if not isinstance(digest, str) or ":" not in digest or not isinstance(size, int) or size < 0:
        raise UpstreamError(f"{what} contains a descriptor without a valid digest and size")
    platform = None
    p = raw.get("platform")
    if isinstance(p, dict):
        platform = Platform(
            os=str(p.get("os") or ""),
            architecture=str(p.get("architecture") or ""),
            variant=_str(p.get("variant")),
            os_version=_str(p.get("os.version")),
            os_features=tuple(_str_list(p.get("os.features")) or ()),
        )
    return Descriptor(
        media_type=str(raw.get("mediaType") or ""),
        digest=digest,
        size=size,
        platform=platform,
        annotations=_str_dict(raw.get("annotations")),
        urls=_str_list(raw.get("urls")) or [],
        artifact_type=_str(raw.get("artifactType")),
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _str_list(value: Any) -> list[str] | None:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):  # Docker tolerates `"Cmd": "string"` in hand-made configs
        return [value]
    return None


def _str_dict(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _keys(value: Any) -> list[str]:
    return [str(k) for k in value] if isinstance(value, dict) else []
