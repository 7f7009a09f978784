"""Result models of `inspect` and Docker Hub repository facts, and the pieces the other image
commands share (platform, base image, image times). A public contract (JSON and MCP): add
fields, never rename them. Sizes are bytes; times are RFC 3339; unknown values are null, never
invented.

The results of `layers`, `history`, `dockerfile`, `size` and `manifest` are in
`models/layers.py` (a command creates only the model classes it returns: about a millisecond
each).
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
