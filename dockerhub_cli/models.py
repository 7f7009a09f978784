"""Result models: the `--json` output and the MCP structured output (a public contract).

Field names are stable: add fields, never rename or remove them. Values unknown for a source
(e.g. tag sizes from a plain registry) are null, never invented.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


class SearchResult(Model):
    name: str = Field(description="Repository name as Docker Hub reports it (official: bare name)")
    description: str = ""
    star_count: int = 0
    pull_count: int = 0
    is_official: bool = False
    is_automated: bool = False


class SearchResults(Model):
    query: str
    page: int
    count: int = Field(description="Total matches Docker Hub reports for the query")
    results: list[SearchResult]
    filtered: bool = Field(
        default=False,
        description="True when --official/--automated removed results from this page",
    )
    stale: bool = Field(default=False, description="Served from an expired cache entry")


class Tag(Model):
    name: str
    digest: str | None = None
    last_updated: datetime | None = None
    size: int | None = Field(default=None, description="Compressed size in bytes (one platform)")
    platforms: list[str] | None = Field(
        default=None, description="os/arch[/variant] of each image; attestations excluded"
    )
    media_type: str | None = None


class TagList(Model):
    repository: str
    count: int | None = Field(
        default=None, description="Total tags in the repository (matching --filter) when known"
    )
    page: int | None = None
    tags: list[Tag]
    source: str = Field(description="'hub' (Docker Hub API) or 'registry' (/v2/<name>/tags/list)")
    complete: bool = Field(default=False, description="True when every matching tag is listed")
    notes: list[str] = Field(default_factory=list, description="Caveats about this answer")
    stale: bool = Field(default=False, description="Served from an expired cache entry")
