"""Result models of `layers`, `history`, `dockerfile`, `size` and `manifest` (see
models/images.py for `inspect` and the shared pieces). A public contract (JSON and MCP): add
fields, never rename them. Sizes are bytes; times are RFC 3339; unknown values are null, never
invented.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from dockerhub_cli.models.base import Model, empty_list
from dockerhub_cli.models.images import BaseImageInfo, ImageTime, PlatformInfo


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

    def quiet_text(self) -> str:
        """`history -q`: the step as a Dockerfile line, as the table shows it (JSON keeps
        the raw `created_by`)."""
        from dockerhub_cli.oci.history import step_line

        return step_line(self.created_by, self.comment)

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
    notes: list[str] = Field(
        default_factory=empty_list,
        description="What to know about the numbers: a local source, layers a --have image "
        "holds under another digest (they are downloaded anyway), foreign layers",
    )
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
