"""Result models: the `--json` output and the MCP structured output (a public contract).

Field names are stable: add fields, never rename or remove them. Values unknown for a source
(e.g. tag sizes from a plain registry) are null, never invented.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from dockerhub_cli.models.base import Model as Model
from dockerhub_cli.models.base import empty_list
from dockerhub_cli.models.tags import Tag as Tag  # tags.py: `tags` imports only those
from dockerhub_cli.models.tags import TagList as TagList


class SearchResult(Model):
    name: str = Field(description="Repository name as Docker Hub reports it (official: bare name)")
    description: str = ""
    star_count: int = 0
    pull_count: int = Field(
        default=0,
        description="Pulls; from the site search a lower bound of the bucket it reports "
        "(pull_count_label, e.g. 1B+)",
    )
    is_official: bool = False
    is_automated: bool = False
    # From the search API of Docker Hub's site (source 'v4'); null/empty from the classic one.
    pull_count_label: str | None = Field(
        default=None, description="Pulls as the site search words them, e.g. '1B+'"
    )
    badge: str | None = Field(
        default=None,
        description="official, verified_publisher, open_source, or null (community)",
    )
    publisher: str | None = None
    categories: list[str] = Field(default_factory=empty_list, description="Category slugs")
    architectures: list[str] = Field(default_factory=empty_list)
    operating_systems: list[str] = Field(default_factory=empty_list)
    archived: bool | None = Field(default=None, description="The publisher archived it")
    content_type: str | None = Field(default=None, description="image, plugin or extension")
    last_updated: datetime | None = None


class SearchResults(Model):
    query: str
    page: int
    count: int = Field(description="Total matches Docker Hub reports for the query")
    results: list[SearchResult]
    filtered: bool = Field(
        default=False,
        description="True when --official/--automated removed results from this page",
    )
    offset: int | None = Field(default=None, description="Index of the first result shown")
    source: str = Field(
        default="v2",
        description="'v4' (the search API of Docker Hub's site) or 'v2' (the classic "
        "/v2/search/repositories, also the fallback when the site search is unavailable)",
    )
    filters: dict[str, str | list[str]] = Field(
        default_factory=dict, description="The filters and sort asked for"
    )
    notes: list[str] = Field(
        default_factory=empty_list, description="Caveats, e.g. filters the fallback could not apply"
    )
    stale: bool = Field(default=False, description="Served from an expired cache entry")


# -- namespaces, repository listings, READMEs (issue 20) -------------------------------------


class RepositorySummary(Model):
    """One entry of a namespace's repository list (the Hub's `repository_list_entry`)."""

    quiet_field: ClassVar[str] = "repository"

    repository: str = Field(description="Familiar name, e.g. nginx or bitnami/redis")
    namespace: str
    name: str
    description: str | None = None
    star_count: int | None = None
    pull_count: int | None = None
    last_updated: datetime | None = None
    date_registered: datetime | None = None
    is_private: bool | None = None
    visibility: str | None = Field(default=None, description="'public' or 'private'")
    repository_type: str | None = None
    content_types: list[str] = Field(
        default_factory=empty_list,
        description="image, helm, wasm, plugin, model, unrecognized, ...",
    )
    media_types: list[str] = Field(default_factory=empty_list)
    categories: list[str] = Field(default_factory=empty_list)
    storage_size: int | None = Field(default=None, description="Bytes stored (all tags)")
    status: str | None = None
    archived: bool | None = Field(
        default=None, description="Archived (read-only), when the Hub says so; null otherwise"
    )


class RepositoryList(Model):
    namespace: str
    count: int | None = Field(default=None, description="Total repositories the Hub reports")
    page: int | None = None
    sort: str
    repositories: list[RepositorySummary]
    complete: bool = Field(
        default=False, description="True when every matching repository is listed"
    )
    notes: list[str] = Field(default_factory=empty_list, description="Caveats about this answer")
    stale: bool = Field(default=False, description="Served from an expired cache entry")


class Organisation(Model):
    quiet_field: ClassVar[str] = "name"

    name: str = Field(description="The organisation's namespace (orgname)")
    full_name: str | None = None
    company: str | None = None
    location: str | None = None
    type: str | None = None
    badge: str | None = None
    role: str | None = Field(default=None, description="Your role in it (user_role)")
    groups: list[str] = Field(default_factory=empty_list, description="Your teams in it")
    plan: str | None = None
    date_joined: datetime | None = None
    profile_url: str | None = None


class OrganisationList(Model):
    username: str = Field(description="The signed-in account")
    count: int | None = None
    organisations: list[Organisation]
    complete: bool = True
    notes: list[str] = Field(
        default_factory=empty_list, description="e.g. that your personal namespace is not an org"
    )


class Readme(Model):
    rows_field: ClassVar[str] = ""
    quiet_field: ClassVar[str] = "repository"

    repository: str
    url: str | None = None
    markdown: str = Field(description="The repository's full description (Markdown), as written")
    length: int = Field(description="Characters in the whole README")
    offset: int = Field(default=0, description="Index of the first character of `markdown`")
    truncated: bool = Field(default=False, description="True when `markdown` is only a part")
    publisher_text: bool = Field(
        default=True,
        description="Always true: written by the repository's publisher, not by this tool",
    )
    notes: list[str] = Field(default_factory=empty_list)
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
        default=None,
        description="With --verify: whether the registry accepted them (false when there "
        "are none: see anonymous_access)",
    )
    anonymous_access: bool | None = Field(
        default=None,
        description="With --verify and no credentials: whether the registry serves anonymous "
        "requests (its API answers, or its token server issues anonymous tokens)",
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
        default_factory=empty_list,
        description="Where credentials were erased; empty if none were stored",
    )


class ConfigValue(Model):
    key: str
    value: str = Field(description="Effective value as text; secrets are redacted")
    source: str = Field(description="flag, env NAME, config or default")


class ConfigReport(Model):
    config_file: str | None = Field(description="The config file read, or null when none exists")
    values: list[ConfigValue]
    registries: list[dict[str, str | bool | None]] = Field(default_factory=empty_list)
