"""Results of `cache info` and `cache clear`."""

from __future__ import annotations

from pydantic import Field

from dockerhub_cli.models.core import Model


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
        default_factory=list, description="Broken cache files moved aside (safe to delete)"
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
