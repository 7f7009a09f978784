"""Results of `cache info` and `cache clear`."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from dockerhub_cli.models.base import Model, empty_list


class CacheInfo(Model):
    backend: str = Field(description="'sqlite' or 'redis'")
    location: str = Field(description="File path, or the Redis URL without its password")
    size_bytes: int | None = Field(
        default=None, description="Size on disk (database + WAL); null for Redis"
    )
    entries: int = Field(description="Cached responses, fresh and expired")
    expired: int = Field(
        description="Cached responses past their lifetime (kept for stale-if-error)"
    )
    redirects: int = 0
    corrupt_files: list[str] = Field(
        default_factory=empty_list, description="Broken cache files moved aside (safe to delete)"
    )
    results: int = Field(
        default=0, description="Saved command outputs (the result cache), fresh and expired"
    )


class CacheClearResult(Model):
    backend: str
    location: str
    removed: int = Field(description="Responses removed")
    remaining: int
    expired_only: bool = False
    corrupt_files_removed: int = 0
    results_removed: int = Field(default=0, description="Saved command outputs removed")


class WarmedImage(Model):
    """One image `cache warm` fetched (or found cached), with what that took."""

    reference: str = Field(description="The image reference, as resolved (registry/repo:tag)")
    sources: list[str] = Field(
        default_factory=empty_list,
        description="Where it was named: 'argument', or FILE:LINE of a Dockerfile, Compose, "
        "Kubernetes or workflow file",
    )
    digest: str | None = Field(default=None, description="Digest the reference resolved to")
    media_type: str | None = None
    platforms: list[str] = Field(
        default_factory=empty_list, description="Platforms whose manifest and config are cached"
    )
    manifests: int = Field(default=0, description="Manifests cached (index, platforms, base)")
    configs: int = Field(default=0, description="Image configs cached")
    layers: int = Field(default=0, description="Layer file indexes cached (with --layers)")
    requests: int = Field(default=0, description="Network requests made for this image")
    bytes: int = Field(
        default=0, description="Bytes of manifests, configs and layers downloaded for it"
    )
    already_cached: int = Field(
        default=0, description="Items that were already cached and fresh (no request)"
    )
    status: str = Field(default="ok", description="'ok', 'partial' (some of it failed) or 'failed'")
    reason: str | None = Field(default=None, description="Why it failed, when it did")


class WarmFailure(Model):
    target: str = Field(description="The image reference, or FILE:LINE for a file's entry")
    what: str = Field(
        description="What could not be fetched: 'image', 'platform OS/ARCH', 'layer N "
        "(platform)', or 'reference' (a file entry that is not a valid reference)"
    )
    reason: str
    exit_code: int = Field(description="The exit code this failure alone would give")


class WarmReport(Model):
    """`cache warm`: what was fetched so that later runs can answer with --offline."""

    rows_field: ClassVar[str] = "images"

    targets: list[str] = Field(description="The arguments: images and files")
    images: list[WarmedImage] = Field(default_factory=empty_list)
    failures: list[WarmFailure] = Field(default_factory=empty_list)
    platforms: int = Field(default=0, description="Platform images cached, over every image")
    requests: int = Field(default=0, description="Network requests made in all")
    bytes: int = Field(default=0, description="Bytes of manifests, configs and layers downloaded")
    already_cached: int = Field(default=0, description="Items already cached (no request)")
    fetched: int = Field(default=0, description="Items fetched from the network")
    layers: bool = Field(default=False, description="Whether layer file indexes were warmed")
    jobs: int = Field(default=4, description="Fetches run at the same time")
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = False
