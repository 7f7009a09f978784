"""Result models: the `--json` output and the MCP structured output (a public contract).

Field names are stable: add fields, never rename or remove them. Values unknown for a source
(e.g. tag sizes from a plain registry) are null, never invented.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

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


# -- account: whoami, ratelimit, login, logout (issue 7) -------------------------------------


class Identity(Model):
    quiet_field: ClassVar[str] = "username"  # what --quiet prints
    registry: str = Field(description="Registry domain, e.g. docker.io or ghcr.io")
    username: str | None = Field(default=None, description="Null when anonymous")
    authenticated: bool = Field(description="True when credentials were found for the registry")
    source: str = Field(
        description="Where the credentials come from (env, config file, credential helper, "
        "config.json) or 'anonymous'"
    )
    verified: bool | None = Field(
        default=None, description="With --verify: whether the registry accepted them"
    )
    precedence: str = Field(
        default="DOCKERHUB_USERNAME/DOCKERHUB_TOKEN > config file [[registries]] > "
        "docker config.json (credHelpers, credsStore, auths)",
        description="The order in which credential sources are consulted",
    )


class PullRateLimit(Model):
    quiet_field: ClassVar[str] = "remaining"
    registry: str
    image: str = Field(description="The image whose manifest was HEAD-requested (costs no pull)")
    identity: str = Field(description="Username, or 'anonymous'")
    unlimited: bool = Field(description="True when the registry sent no rate-limit headers")
    limit: int | None = Field(default=None, description="Pulls allowed per window")
    remaining: int | None = None
    used: int | None = Field(default=None, description="limit - remaining")
    window_seconds: int | None = Field(default=None, description="Length of the window (w=)")
    source: str | None = Field(
        default=None, description="docker-ratelimit-source: your IP (anonymous) or account id"
    )


class LoginResult(Model):
    quiet_field: ClassVar[str] = "registry"
    registry: str
    username: str
    stored_in: str = Field(description="Credential helper or config.json path")
    validated: bool = Field(description="The registry accepted the credentials before storing")


class LogoutResult(Model):
    quiet_field: ClassVar[str] = "registry"
    registry: str
    removed_from: list[str] = Field(
        default_factory=list, description="Where credentials were erased; empty if none were stored"
    )


class ConfigValue(Model):
    key: str
    value: str = Field(description="Effective value as text; secrets are redacted")
    source: str = Field(description="flag, env NAME, config or default")


class ConfigReport(Model):
    config_file: str | None = Field(description="The config file read, or null when none exists")
    values: list[ConfigValue]
    registries: list[dict[str, str | bool | None]] = Field(default_factory=list)
