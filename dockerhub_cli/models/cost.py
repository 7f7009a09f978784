"""What a command or a tool call cost: requests by kind, Docker Hub pulls, cache use.

The `cost` object of `--json --stats` output and of every MCP tool result (see
docs/observability.md). A public contract like every result model: fields are added, never
renamed. Counted in one place, the transport (`dockerhub_cli.remote.cost`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from dockerhub_cli.limits import REQUEST_KINDS

__all__ = ["REQUEST_KINDS", "CacheUse", "Cost", "DockerHubPulls"]


class DockerHubPulls(BaseModel):
    """Manifest requests answered by Docker Hub's registry: a GET counts against the pull
    limit, a HEAD is free."""

    pulls: int = Field(
        default=0, description="manifest GETs Docker Hub answered (each counts as a pull)"
    )
    free_heads: int = Field(default=0, description="manifest HEADs sent to Docker Hub (free)")
    max_pulls: int | None = Field(
        default=None, description="the --max-pulls limit in force, if any"
    )


class CacheUse(BaseModel):
    """What was answered without a request."""

    hits: int = Field(default=0, description="answers read from the HTTP cache (no request sent)")
    by_kind: dict[str, int] = Field(default_factory=dict, description="cache hits by kind")
    stale: int = Field(default=0, description="of those, expired entries served (network failure)")
    saved_result: bool = Field(
        default=False,
        description="the whole answer was replayed from a saved result: no request and no "
        "HTTP cache read at all",
    )


class Cost(BaseModel):
    """The cost of one command (CLI) or one tool call (MCP)."""

    requests: int = Field(
        default=0, description="requests sent on the network (a redirect hop counts)"
    )
    by_kind: dict[str, int] = Field(
        default_factory=dict, description="network requests by kind (see REQUEST_KINDS)"
    )
    bytes_received: int = Field(default=0, description="body bytes read from the network")
    docker_hub: DockerHubPulls = Field(default_factory=lambda: DockerHubPulls())
    cache: CacheUse = Field(default_factory=lambda: CacheUse())
