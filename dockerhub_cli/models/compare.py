"""Result models of `compare` and `updates`. A public contract (JSON and MCP): add fields, never
rename them. Sizes are compressed bytes; unknown values are null (with the reason in `reason`
or `notes`), never guessed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from dockerhub_cli.models.base import Model, empty_list

# -- compare ---------------------------------------------------------------------------------


class ImageSide(Model):
    """One side of a comparison: the platform image actually compared."""

    reference: str = Field(description="The reference as given, normalised (e.g. nginx:1.27)")
    digest: str = Field(description="Digest of the compared image manifest (one platform)")
    index_digest: str | None = Field(
        default=None, description="Digest of the index the reference resolved to, if any"
    )
    media_type: str = Field(description="Media type of what the reference resolved to")
    platform: str | None = Field(default=None, description="os/arch[/variant] compared")
    platforms: list[str] = Field(
        default_factory=empty_list, description="Runnable platforms of the index (empty: no index)"
    )
    created: datetime | None = None
    size: int = Field(description="Compressed size: sum of the layers")
    layer_count: int


class LayerRow(Model):
    """One position of the layer table: the two sides' layers at the same index."""

    position: int
    left_digest: str | None = None
    left_size: int | None = None
    left_step: str | None = Field(default=None, description="History step that made it")
    right_digest: str | None = None
    right_size: int | None = None
    right_step: str | None = None
    status: Literal["base", "shared", "different", "only_left", "only_right"] = Field(
        description="base: same layer in the common prefix; shared: the same layer exists on "
        "both sides at other positions; different; only_left/only_right: one side is shorter"
    )


class MappingChange(Model):
    left: str
    right: str


class MappingDiff(Model):
    """Env variables or labels by name."""

    added: dict[str, str] = Field(default_factory=dict, description="Only on the right")
    removed: dict[str, str] = Field(default_factory=dict, description="Only on the left")
    changed: dict[str, MappingChange] = Field(default_factory=dict)


class ValueDiff(Model):
    left: Any = None
    right: Any = None
    changed: bool = False


class SetDiff(Model):
    added: list[str] = Field(default_factory=empty_list, description="Only on the right")
    removed: list[str] = Field(default_factory=empty_list, description="Only on the left")


class ConfigDiff(Model):
    env: MappingDiff
    labels: MappingDiff
    entrypoint: ValueDiff
    cmd: ValueDiff
    user: ValueDiff
    working_dir: ValueDiff
    exposed_ports: SetDiff
    volumes: SetDiff
    platform: ValueDiff = Field(description="The compared platforms (os/arch[/variant])")
    platforms: PlatformSets | None = Field(
        default=None, description="Platform sets of both sides; null when neither is an index"
    )


class PlatformSets(Model):
    left: list[str]
    right: list[str]
    common: list[str]
    only_left: list[str]
    only_right: list[str]


class HistoryStepRef(Model):
    index: int = Field(description="Position in that side's history")
    created_by: str
    empty_layer: bool = False
    layer_digest: str | None = None


class HistoryDiff(Model):
    common_prefix: int = Field(description="Leading build steps identical on both sides")
    only_left: list[HistoryStepRef] = Field(default_factory=empty_list)
    only_right: list[HistoryStepRef] = Field(default_factory=empty_list)


class Comparison(Model):
    rows_field: ClassVar[str] = ""  # --format/--quiet act on the comparison itself
    quiet_field: ClassVar[str] = "size_delta"

    left: ImageSide = Field(description="IMAGE1, the first argument (`image1`)")
    right: ImageSide = Field(description="IMAGE2, the second argument (`image2`)")
    image1: str = Field(
        default="", description="IMAGE1 as given, normalised: the left side (= left.reference)"
    )
    image2: str = Field(
        default="", description="IMAGE2 as given, normalised: the right side (= right.reference)"
    )
    digest1: str = Field(default="", description="The compared manifest of IMAGE1 (= left.digest)")
    digest2: str = Field(default="", description="The compared manifest of IMAGE2 (= right.digest)")
    shared_layers: list[str] = Field(description="Layer digests on both sides, in left order")
    only_left: list[str]
    only_right: list[str]
    common_prefix_layers: int = Field(description="Leading layers identical on both sides")
    common_prefix_size: int = Field(description="Bytes of those leading layers (shared base)")
    shared_size: int = Field(description="Bytes of all layers on both sides")
    pull_adds: int = Field(
        description="Bytes a pull of the right image downloads when the left one is present"
    )
    size_delta: int = Field(description="Right size minus left size, bytes")
    size_delta_percent: float | None = Field(
        default=None, description="size_delta relative to the left size; null if left is 0"
    )
    config_diff: ConfigDiff
    history_diff: HistoryDiff
    layers: list[LayerRow] = Field(description="The two layer lists side by side")
    summary: str
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = Field(default=False, description="Served from an expired cache entry")

    @model_validator(mode="after")
    def _name_sides(self) -> Comparison:
        """image1/image2 (the names of the arguments and of `diff`) are the left/right sides:
        filled from them, so the two namings can never disagree."""
        self.image1, self.image2 = self.left.reference, self.right.reference
        self.digest1, self.digest2 = self.left.digest, self.right.digest
        return self


# -- updates ---------------------------------------------------------------------------------


class BaseStatus(Model):
    reference: str = Field(description="The base image tag followed, e.g. debian:bookworm-slim")
    source: Literal["annotation", "label", "user"] = Field(
        description="Where the base came from: OCI annotation, label, or --base"
    )
    digest_at_build: str | None = Field(
        default=None, description="org.opencontainers.image.base.digest, if recorded"
    )
    current_digest: str | None = Field(
        default=None, description="What the base tag resolves to now (index or manifest)"
    )
    current_manifest_digest: str | None = Field(
        default=None, description="The base's image manifest for the image's platform, now"
    )
    platform: str | None = None


class BaseEvidence(Model):
    """The base's current layers against the image's leading layers (same platform)."""

    base_layer_count: int
    base_size: int
    image_layer_count: int
    shared_prefix_layers: int = Field(description="Leading layers equal in both")
    shared_prefix_size: int
    base_is_prefix: bool = Field(
        description="Every current base layer is one of the image's leading layers, in order"
    )


class UpdateReport(Model):
    rows_field: ClassVar[str] = ""
    quiet_field: ClassVar[str] = "base_outdated"

    reference: str
    digest: str = Field(description="Digest of the image manifest examined (one platform)")
    platform: str | None = None
    base: BaseStatus | None = Field(default=None, description="Null when no base is known")
    base_outdated: bool | None = Field(
        description="True: the base tag moved since the build; false: still current; "
        "null: cannot be known (see reason)"
    )
    reason: str = Field(description="Why base_outdated is what it is")
    evidence: BaseEvidence | None = None
    verdict: str = Field(description="One line for people")
    tag: str | None = Field(default=None, description="The image's tag, if it has one")
    newer_tags: list[str] = Field(
        default_factory=empty_list, description="Newer tags of the same family, newest first"
    )
    newer_tags_total: int = Field(default=0, description="How many there are (list is bounded)")
    tags_complete: bool = Field(
        default=True, description="False when the tag listing was cut short"
    )
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = Field(default=False, description="Served from an expired cache entry")


ConfigDiff.model_rebuild()
