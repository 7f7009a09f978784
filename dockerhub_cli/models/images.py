"""Result models of the image commands: `inspect`, `layers`, `history`, `dockerfile`, `size`,
`manifest`, and Docker Hub repository facts. A public contract (JSON and MCP): add fields, never
rename them. Sizes are bytes; times are RFC 3339; unknown values are null, never invented.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field, PlainSerializer

from dockerhub_cli.models.base import Model, empty_list
from dockerhub_cli.oci.platform import format_platform
from dockerhub_cli.oci.timestamp import timestamp_text

# A time as the image wrote it: a datetime in Python, its original RFC 3339 text (nanoseconds
# kept) in JSON and MCP output.
ImageTime = Annotated[datetime, PlainSerializer(timestamp_text, when_used="json")]


class PlatformInfo(Model):
    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: list[str] = Field(default_factory=empty_list)

    def __str__(self) -> str:
        return format_platform(self.os, self.architecture, self.variant)


class PlatformEntry(Model):
    """One runnable image of an index (attestations are listed separately)."""

    platform: str = Field(description="os/arch[/variant] as the index writes it")
    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: list[str] = Field(default_factory=empty_list)
    digest: str = Field(description="Digest of this platform's image manifest")
    media_type: str
    manifest_size: int = Field(description="Bytes of the platform's manifest JSON itself")
    size: int | None = Field(
        default=None,
        description="Compressed image size (sum of layers) when known without extra pulls",
    )


class AttestationEntry(Model):
    digest: str
    media_type: str
    size: int
    reference_digest: str | None = Field(
        default=None, description="Digest of the image manifest this attestation describes"
    )
    platform: str | None = Field(default=None, description="Platform of the described image")


class ImageConfigInfo(Model):
    env: list[str] = Field(default_factory=empty_list)
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    working_dir: str | None = None
    user: str | None = None
    exposed_ports: list[str] = Field(default_factory=empty_list)
    volumes: list[str] = Field(default_factory=empty_list)
    labels: dict[str, str] = Field(default_factory=dict)
    stop_signal: str | None = None
    healthcheck: dict[str, Any] | None = None
    shell: list[str] | None = None
    on_build: list[str] | None = None
    author: str | None = None


class RepositoryInfo(Model):
    """Docker Hub repository facts (the Hub API's `repository_info` plus the tag count)."""

    repository: str = Field(description="Familiar name, e.g. nginx or bitnami/redis")
    namespace: str
    name: str
    description: str | None = None
    full_description: str | None = Field(default=None, description="README (Markdown)")
    star_count: int | None = None
    pull_count: int | None = None
    last_updated: datetime | None = None
    date_registered: datetime | None = None
    tag_count: int | None = None
    is_private: bool | None = None
    is_official: bool = False
    status: str | None = None
    repository_type: str | None = None
    media_types: list[str] = Field(default_factory=empty_list)
    categories: list[str] = Field(default_factory=empty_list)
    storage_size: int | None = None
    url: str | None = None
    content_types: list[str] = Field(
        default_factory=empty_list,
        description="image, helm, wasm, plugin, model, ... (Hub's words)",
    )
    immutable_tags: bool | None = Field(
        default=None, description="Tags cannot be overwritten; null when the Hub does not say"
    )
    immutable_tags_rules: list[str] = Field(
        default_factory=empty_list, description="Tag patterns the immutability applies to"
    )
    stale: bool = Field(default=False, description="Served from an expired cache entry")


class BaseImageInfo(Model):
    name: str | None = None
    digest: str | None = None
    source: str = Field(description="Where this came from: 'annotation' or 'label'")


class ImageInspection(Model):
    rows_field: ClassVar[str] = ""  # --format/--quiet act on the inspection itself
    quiet_field: ClassVar[str] = "digest"

    reference: str = Field(description="The reference as resolved, e.g. nginx:1.27")
    registry: str = Field(description="Registry domain, e.g. docker.io or localhost:5000")
    repository: str = Field(description="Repository path, e.g. library/nginx")
    tag: str | None = None
    digest: str = Field(description="Digest the reference resolves to (index or manifest)")
    media_type: str = Field(description="Media type of that object")
    manifest_digest: str | None = Field(
        default=None, description="Digest of the chosen platform's image manifest"
    )
    manifest_media_type: str | None = None
    platform: PlatformInfo | None = Field(
        default=None,
        description="The platform detailed below, as the selection used it (the index entry's,"
        " completed from the config); null if the index lacks it",
    )
    platform_source: str | None = Field(
        default=None, description="Which platform the selection used: 'index' or 'config'"
    )
    index_platform: PlatformInfo | None = Field(
        default=None, description="The platform the index entry names (null: none, or no index)"
    )
    config_platform: PlatformInfo | None = Field(
        default=None, description="The platform the image config names"
    )
    platforms: list[PlatformEntry] = Field(default_factory=empty_list)
    attestations: list[AttestationEntry] = Field(default_factory=empty_list)
    created: ImageTime | None = None
    size: int | None = Field(
        default=None, description="Compressed size: sum of the chosen platform's layers"
    )
    layer_count: int | None = None
    config: ImageConfigInfo | None = None
    base_image: BaseImageInfo | None = None
    annotations: dict[str, str] = Field(default_factory=dict)
    repository_info: RepositoryInfo | None = Field(
        default=None, description="Docker Hub facts (description, stars, pulls, tag count)"
    )
    tag_last_pushed: datetime | None = Field(
        default=None, description="Docker Hub: when the tag was last pushed"
    )
    tag_last_pulled: datetime | None = Field(
        default=None, description="Docker Hub: when the tag was last pulled"
    )
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = Field(default=False, description="Served from an expired cache entry")


class LayerInfo(Model):
    index: int
    digest: str
    size: int = Field(description="Compressed bytes")
    share: float = Field(description="Fraction of the total compressed size (0..1)")
    media_type: str
    created: ImageTime | None = None
    created_by: str | None = Field(default=None, description="The build step that made it")
    comment: str | None = None
    diff_id: str | None = None
    in_base_image: bool | None = Field(
        default=None, description="True when the base image has the same layer (base known)"
    )


class HistoryStep(Model):
    quiet_field: ClassVar[str] = "created_by"

    created: ImageTime | None = None
    created_by: str
    empty_layer: bool
    layer_index: int | None = Field(default=None, description="Index in `layers`; null if empty")
    comment: str | None = None
    author: str | None = None
    layer_digest: str | None = None
    size: int | None = Field(default=None, description="Compressed size of its layer")


class LayerInsights(Model):
    largest: list[int] = Field(description="Layer indexes, largest first (at most 3)")
    empty_steps: int = Field(description="Build steps that produced no layer")
    base_layers: int | None = Field(default=None, description="Layers shared with the base image")
    base_size: int | None = None
    own_size: int | None = Field(default=None, description="Bytes this image adds on its base")
    notes: list[str] = Field(default_factory=empty_list)


class LayerReport(Model):
    reference: str
    digest: str = Field(description="Digest of the platform's image manifest")
    platform: PlatformInfo
    total_size: int
    layers: list[LayerInfo]
    history: list[HistoryStep]
    insights: LayerInsights
    base_image: BaseImageInfo | None = None
    stale: bool = Field(default=False, description="Served from an expired cache entry")


class HistoryReport(Model):
    reference: str
    digest: str
    platform: PlatformInfo
    created: ImageTime | None = None
    history: list[HistoryStep]
    stale: bool = Field(default=False, description="Served from an expired cache entry")


class DockerfileInstruction(Model):
    quiet_field: ClassVar[str] = "line"  # `dockerfile -q` prints just the instructions

    instruction: str = Field(description="FROM, RUN, COPY, ENV, ... or '#' for a comment")
    arguments: str
    line: str = Field(description="The reconstructed Dockerfile line")
    created: ImageTime | None = None
    empty_layer: bool
    layer_index: int | None = None
    builder: str = Field(description="'buildkit', 'classic' or 'unknown'")


class DockerfileSource(Model):
    """Where the Dockerfile that built the image lives, according to its provenance."""

    repository: str | None = Field(default=None, description="Source repository URL")
    ref: str | None = Field(default=None, description="Git ref of the build context, if named")
    commit: str | None = None
    context: str | None = Field(default=None, description="Sub-directory used as build context")
    path: str | None = Field(default=None, description="Dockerfile path as the build named it")
    url: str | None = Field(
        default=None, description="Browsable URL of the file (GitHub/GitLab, pinned to commit)"
    )
    source: str = "provenance"


class DockerfileReport(Model):
    reference: str
    digest: str
    platform: PlatformInfo
    reconstructed: bool = Field(
        default=True, description="Always true: rebuilt from history, not the original file"
    )
    base_image: BaseImageInfo | None = None
    instructions: list[DockerfileInstruction]
    dockerfile: str
    original: DockerfileSource | None = Field(
        default=None,
        description="Where the real Dockerfile lives, from the image's SLSA provenance",
    )
    stale: bool = Field(default=False, description="Served from an expired cache entry")


class HaveImage(Model):
    reference: str
    digest: str
    platform: PlatformInfo
    size: int


class PullSizeReport(Model):
    rows_field: ClassVar[str] = ""
    quiet_field: ClassVar[str] = "download_size"

    reference: str
    digest: str
    platform: PlatformInfo
    total_size: int = Field(description="Compressed bytes of all layers")
    layer_count: int
    download_size: int = Field(description="Bytes still to download given --have")
    download_layer_count: int
    shared_size: int = 0
    shared_layers: list[str] = Field(
        default_factory=empty_list, description="Digests already present"
    )
    have: list[HaveImage] = Field(default_factory=empty_list)
    summary: str
    stale: bool = Field(default=False, description="Served from an expired cache entry")


class ManifestReport(Model):
    rows_field: ClassVar[str] = ""
    quiet_field: ClassVar[str] = "digest"

    reference: str
    digest: str
    media_type: str
    size: int = Field(description="Bytes of the manifest JSON")
    platform: PlatformInfo | None = None
    index_digest: str | None = Field(
        default=None, description="The index this manifest was chosen from, if any"
    )
    manifest: dict[str, Any]
    notes: list[str] = Field(
        default_factory=empty_list,
        description="Warnings, e.g. a schema 1 or unknown manifest shown raw, not interpreted",
    )
    stale: bool = Field(default=False, description="Served from an expired cache entry")
