"""Result models of `pin`, `tags --same-as`, `upgrade` and `watch` (a public contract: add
fields, never rename them)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from dockerhub_cli.models.base import Model, empty_list

PinStatus = Literal["pinned", "updated", "ok", "unresolved", "skipped"]


class PinnedReference(Model):
    quiet_field: ClassVar[str] = "new"
    file: str
    line: int = Field(description="1-based line of the reference (an ARG default: its line)")
    kind: str = Field(description="dockerfile, compose, kubernetes or workflow")
    where: str = Field(description="Where in the file: FROM, services.web.image, ...")
    old: str = Field(description="The reference as written")
    new: str | None = Field(
        default=None, description="The pinned reference (null when unresolved or skipped)"
    )
    digest: str | None = Field(default=None, description="The digest the tag resolves to")
    platform: str | None = Field(
        default=None,
        description="The platform whose manifest was pinned (--platform); null: "
        "the index digest of a multi-platform image",
    )
    status: PinStatus = Field(
        description="pinned: a digest was added; updated: a stale digest was replaced; ok: "
        "already pinned to the current digest; unresolved: see reason; skipped: not an image "
        "(a stage name, scratch) or pinned by digest only"
    )
    reason: str | None = None
    lookup_failed: bool = Field(
        default=False,
        description="Unresolved because the registry lookup failed (tag not found, denied, "
        "network); false when the reference is written so that it cannot be pinned (a "
        "variable, an expression)",
    )


class PinReport(Model):
    rows_field: ClassVar[str] = "references"
    files: list[str]
    references: list[PinnedReference]
    changed_files: list[str] = Field(
        default_factory=empty_list,
        description="Files that were (with --dry-run/--check: would be) rewritten",
    )
    written: bool = Field(description="False with --dry-run or --check: nothing was written")
    diff: str = Field(default="", description="Unified diff of the changes")
    up_to_date: bool = Field(description="No pin is missing or stale")
    unresolved: int = Field(default=0, description="References that could not be resolved")
    lookup_failures: int = Field(
        default=0, description="Unresolved references whose registry lookup failed"
    )
    notes: list[str] = Field(default_factory=empty_list)


# -- tags --same-as ------------------------------------------------------------------------


class SameTag(Model):
    quiet_field: ClassVar[str] = "name"
    name: str
    digest: str | None = None
    matched_by: Literal["index", "manifests", "configs"] = Field(
        description="index: the same digest; manifests: a different index over the same "
        "platform manifests; configs: different manifests of the same image configs"
    )
    last_updated: datetime | None = None


class SameAsReport(Model):
    rows_field: ClassVar[str] = "tags"
    repository: str
    tag: str
    digest: str = Field(description="What the tag resolves to (index or manifest digest)")
    platform_digests: list[str] = Field(
        default_factory=empty_list, description="Runnable platform manifest digests of the tag"
    )
    tags: list[SameTag] = Field(description="Other tags that are the same image")
    checked: int = Field(description="How many tags were compared")
    complete: bool = Field(description="True when every tag of the repository was compared")
    source: str = Field(description="hub (Docker Hub tag listing) or registry (HEAD/GET)")
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = Field(default=False, description="Served from an expired cache entry")
    pattern: str | None = Field(
        default=None, description="The glob the compared tags had to match (tags --filter)"
    )


# -- upgrade ---------------------------------------------------------------------------------


class ConfigChange(Model):
    field: str = Field(description="entrypoint, cmd, user, exposed_ports, env, volumes, ...")
    change: str = Field(description="What changed, in words")
    breaking: bool = Field(description="Can break a deployment that worked with the old tag")


class VulnDelta(Model):
    checked: bool = Field(description="False when not looked up (see reason)")
    fixed: list[str] = Field(default_factory=empty_list, description="IDs in the old tag only")
    added: list[str] = Field(default_factory=empty_list, description="IDs in the new tag only")
    reason: str | None = None


class UpgradeCandidate(Model):
    quiet_field: ClassVar[str] = "tag"
    tag: str
    reference: str
    digest: str | None = Field(default=None, description="Platform manifest digest compared")
    download_size: int | None = Field(
        default=None, description="Bytes a pull downloads when the current image is present"
    )
    total_size: int | None = None
    created: datetime | None = None
    age_days: float | None = Field(default=None, description="Days since the image was built")
    base_before: str | None = Field(default=None, description="Recorded base of the current")
    base_after: str | None = Field(default=None, description="Recorded base of this tag")
    base_changed: bool | None = Field(default=None, description="Null when neither records one")
    config_changes: list[ConfigChange] = Field(default_factory=empty_list)
    breaking: bool = Field(default=False, description="Any config change marked breaking")
    vulnerabilities: VulnDelta
    error: str | None = Field(default=None, description="Why this tag could not be examined")


class UpgradeReport(Model):
    rows_field: ClassVar[str] = "candidates"
    reference: str
    tag: str | None
    digest: str
    platform: str | None
    family: str | None = Field(
        default=None, description="The tag family followed, e.g. '1.27.x-alpine' (N.N.N-alpine)"
    )
    candidates: list[UpgradeCandidate]
    newer_tags: list[str] = Field(description="Every newer tag of the family, newest first")
    tags_complete: bool = True
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = Field(default=False, description="Served from an expired cache entry")


# -- watch -----------------------------------------------------------------------------------


class WatchedReference(Model):
    quiet_field: ClassVar[str] = "reference"
    reference: str
    source: str = Field(description="The file (and line) it came from, or 'argument'")
    pinned: str | None = Field(default=None, description="The digest it is pinned to, if any")
    previous: str | None = Field(
        default=None, description="The digest seen last time (floating references)"
    )
    current: str | None = Field(default=None, description="The digest the tag resolves to now")
    moved: bool = Field(description="The tag now resolves to another digest")
    newer_tags: list[str] = Field(
        default_factory=empty_list, description="Newer tags of its family"
    )
    status: Literal["unchanged", "moved", "newer", "moved+newer", "new", "error"] = Field(
        description="new: first time seen (recorded, not a change)"
    )
    error: str | None = None


class WatchReport(Model):
    rows_field: ClassVar[str] = "references"
    checked_at: datetime
    references: list[WatchedReference]
    changed: bool = Field(description="Something moved or a newer tag appeared")
    state_file: str = Field(description="Where digests of floating references are kept")
    notes: list[str] = Field(default_factory=empty_list)
