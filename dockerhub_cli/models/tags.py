"""Result models of `tags` (and of the tag listings other commands read). A public contract
(JSON and MCP): add fields, never rename them. Their own module so that `tags` creates only
these model classes (see models/base.py); `models.core` re-exports them.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from dockerhub_cli.models.base import Model, empty_list


class Tag(Model):
    name: str
    digest: str | None = None
    last_updated: datetime | None = None
    size: int | None = Field(default=None, description="Compressed size in bytes (one platform)")
    platforms: list[str] | None = Field(
        default=None, description="os/arch[/variant] of each image; attestations excluded"
    )
    media_type: str | None = None
    last_pushed: datetime | None = Field(default=None, description="Docker Hub: last push")
    last_pulled: datetime | None = Field(default=None, description="Docker Hub: last pull")


class TagList(Model):
    repository: str
    count: int | None = Field(
        default=None, description="Total tags in the repository (matching --filter) when known"
    )
    page: int | None = None
    tags: list[Tag]
    source: str = Field(description="'hub' (Docker Hub API) or 'registry' (/v2/<name>/tags/list)")
    complete: bool = Field(default=False, description="True when every matching tag is listed")
    notes: list[str] = Field(default_factory=empty_list, description="Caveats about this answer")
    stale: bool = Field(default=False, description="Served from an expired cache entry")
