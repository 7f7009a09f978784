"""What requests cost, counted in one place: the transport (`remote/transport.py`).

Two hooks feed one `Meter` per process (per `Transport`):

* the adapter (`MeteredAdapter.send`), which only requests that really go to the network
  reach (cache hits never do), calls `start()` before sending and `finish()` after: kinds,
  hosts, statuses, latency, bytes; Docker Hub's pulls (manifest GETs on its registry) and free
  HEADs; and `--max-pulls`, checked *before* a manifest GET is sent, so a limit is never passed;
* `Transport.request` calls `cached()` for every answer read from the HTTP cache, and `missed()`
  for a cacheable request that had to go to the network.

Every count lands in the process's totals and in each open tracking block of the thread
(`Transport.tracking`: one per service call, one per MCP tool call), so the CLI reports the
command's cost and the MCP server each call's. Listeners (the `/metrics` endpoint of
`serve-mcp --transport http`) get every event; nothing here imports prometheus-client.

Standard library only at import time (the pydantic model is built in `to_model`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from dockerhub_cli import advice
from dockerhub_cli.errors import PullLimitError
from dockerhub_cli.limits import REQUEST_KINDS

if TYPE_CHECKING:
    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.models.cost import Cost

# Docker Hub's registry under its other names (the configured DOCKERHUB_REGISTRY_URL is added).
DOCKER_HUB_REGISTRY_HOSTS = frozenset(
    {"registry-1.docker.io", "index.docker.io", "registry.hub.docker.com"}
)
_REGISTRY_PATHS = (
    (re.compile(r"^/v2/.+/manifests/[^/]+$"), "manifest"),
    (re.compile(r"^/v2/.+/blobs/[^/]+$"), "blob"),
    (re.compile(r"^/v2/.+/tags/list$"), "tag_list"),
    (re.compile(r"^/v2/.+/referrers/[^/]+$"), "referrers"),
)
# Paths of Docker Hub's own API (checked first on its hosts: a repository may be called
# "manifests"), and those of them that log in.
_HUB_PREFIXES = ("/v2/namespaces/", "/v2/repositories/", "/v2/search/", "/v2/orgs/", "/api/")
_HUB_LOGIN = frozenset({"/v2/auth/token", "/v2/users/login"})
# The order kinds are shown in (one list, in the bottom layer: counting imports no pydantic).
KINDS = REQUEST_KINDS
_RANK = {kind: i for i, kind in enumerate(KINDS)}


def request_kind(
    method: str,
    url: str,
    *,
    hub_hosts: Iterable[str] = ("hub.docker.com",),
    osv_hosts: Iterable[str] = ("api.osv.dev",),
) -> str:
    """The kind of a request (one of `models.cost.REQUEST_KINDS`), from its method and URL."""
    parts = urlsplit(url)
    host, path = parts.netloc.lower(), parts.path or "/"
    head = method.upper() == "HEAD"
    on_hub = host in hub_hosts
    if on_hub and path.rstrip("/") in _HUB_LOGIN:
        return "token"
    if on_hub and path.startswith(_HUB_PREFIXES):
        return "hub_api"
    for pattern, kind in _REGISTRY_PATHS:
        if pattern.match(path):
            if kind in ("manifest", "blob"):
                return f"{kind}_head" if head else ("manifest_get" if kind == "manifest" else kind)
            return kind
    if path.rstrip("/") == "/v2":
        return "ping"
    if on_hub:
        return "hub_api"
    if host in osv_hosts:
        return "osv"
    if path.rstrip("/").endswith(("/token", "/oauth2/token", "/v2/auth")):
        return "token"
    return "other"


@dataclass
class CostCounter:
    """Counts for one scope (the process, a service call, a tool call)."""

    network: dict[str, int] = field(default_factory=dict)
    cache: dict[str, int] = field(default_factory=dict)
    stale: int = 0
    pulls: int = 0
    free_heads: int = 0
    bytes_received: int = 0
    # --max-pulls for this scope (None: no limit), and pulls sent but not answered yet.
    max_pulls: int | None = None
    pulls_in_flight: int = 0

    @property
    def requests(self) -> int:
        return sum(self.network.values())

    @property
    def cache_hits(self) -> int:
        return sum(self.cache.values())

    def to_dict(self) -> dict[str, Any]:
        """The `cost` object as JSON data (the shape of `models.cost.Cost`), built without
        pydantic: an MCP tool call adds it to every answer."""
        return {
            "requests": self.requests,
            "by_kind": _ordered(self.network),
            "bytes_received": self.bytes_received,
            "docker_hub": {
                "pulls": self.pulls,
                "free_heads": self.free_heads,
                "max_pulls": self.max_pulls,
            },
            "cache": {
                "hits": self.cache_hits,
                "by_kind": _ordered(self.cache),
                "stale": self.stale,
                "saved_result": False,
            },
        }

    def to_model(self) -> Cost:
        from dockerhub_cli.models.cost import Cost

        return Cost.model_validate(self.to_dict())


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    """Counts in the order of `REQUEST_KINDS` (unknown kinds last, by name)."""
    rank = _RANK
    return dict(sorted(counts.items(), key=lambda kv: (rank.get(kv[0], 99), kv[0])))


class Listener(Protocol):
    """Receives every event (the `/metrics` endpoint); called outside the meter's lock."""

    def on_request(self, host: str, kind: str, status: str, seconds: float) -> None: ...

    def on_cache(self, kind: str, result: str) -> None: ...


@dataclass
class Ticket:
    """One network request between `Meter.start` and `Meter.finish`."""

    host: str
    kind: str
    scopes: list[CostCounter]
    started: float
    pull: bool = False
    done: bool = False


class Meter:
    """The counters of one transport; thread-safe (the MCP server and parallel fetches)."""

    def __init__(
        self,
        settings: Settings | None = None,
        scopes: Callable[[], list[CostCounter]] | None = None,
    ) -> None:
        self.totals = CostCounter()
        self._scopes = scopes or list
        self._lock = threading.Lock()
        self.listeners: list[Listener] = []
        registry_hosts = set(DOCKER_HUB_REGISTRY_HOSTS)
        hub_hosts = {"hub.docker.com"}
        osv_hosts = {"api.osv.dev"}
        if settings is not None:
            for url, hosts in (
                (settings.registry_url, registry_hosts),
                (settings.hub_url, hub_hosts),
                (settings.osv_url, osv_hosts),
            ):
                netloc = urlsplit(url).netloc.lower()
                if netloc:
                    hosts.add(netloc)
        self.registry_hosts = frozenset(registry_hosts)
        self.hub_hosts = frozenset(hub_hosts)
        self.osv_hosts = frozenset(osv_hosts)

    @property
    def max_pulls(self) -> int | None:
        return self.totals.max_pulls

    @max_pulls.setter
    def max_pulls(self, value: int | None) -> None:
        self.totals.max_pulls = value

    def kind(self, method: str, url: str) -> str:
        return request_kind(method, url, hub_hosts=self.hub_hosts, osv_hosts=self.osv_hosts)

    def _all(self) -> list[CostCounter]:
        return [self.totals, *self._scopes()]

    # -- the network (the adapter) ------------------------------------------------------------

    def start(self, method: str, url: str, kind: str = "", what: str = "") -> Ticket:
        """A request is about to be sent. A manifest GET on Docker Hub's registry that would
        pass a `--max-pulls` limit raises PullLimitError instead (nothing is sent)."""
        host = urlsplit(url).netloc.lower()
        kind = kind or self.kind(method, url)
        scopes = self._all()
        ticket = Ticket(host, kind, scopes, time.monotonic())
        on_hub = host in self.registry_hosts
        if on_hub and method.upper() == "GET" and kind == "manifest_get":
            with self._lock:
                for scope in scopes:
                    limit = scope.max_pulls
                    if limit is not None and scope.pulls + scope.pulls_in_flight >= limit:
                        raise _limit_error(limit, scope.pulls, host, what)
                for scope in scopes:
                    scope.pulls_in_flight += 1
            ticket.pull = True
        return ticket

    def finish(self, ticket: Ticket, status: int | None, nbytes: int = 0) -> None:
        """The request ended: `status` of the answer, None when none came (a network error)."""
        if ticket.done:
            return
        ticket.done = True
        answered = status is not None
        with self._lock:
            for scope in ticket.scopes:
                scope.network[ticket.kind] = scope.network.get(ticket.kind, 0) + 1
                scope.bytes_received += nbytes
                if ticket.pull:
                    scope.pulls_in_flight -= 1
                    if answered and 200 <= status < 300:  # type: ignore[operator]
                        scope.pulls += 1
                if ticket.kind == "manifest_head" and ticket.host in self.registry_hosts:
                    scope.free_heads += 1
        seconds = time.monotonic() - ticket.started
        label = str(status) if answered else "error"
        for listener in list(self.listeners):
            listener.on_request(ticket.host, ticket.kind, label, seconds)

    def add_bytes(self, ticket: Ticket, nbytes: int) -> None:
        """Body bytes read after `finish` (a streamed blob)."""
        if nbytes <= 0:
            return
        with self._lock:
            for scope in ticket.scopes:
                scope.bytes_received += nbytes

    # -- the cache (Transport.request) --------------------------------------------------------

    def cached(self, kind: str) -> None:
        """An answer read from the HTTP cache."""
        with self._lock:
            for scope in self._all():
                scope.cache[kind] = scope.cache.get(kind, 0) + 1
        for listener in list(self.listeners):
            listener.on_cache(kind, "hit")

    def stale(self, kind: str) -> None:
        """The cached answer was an expired entry (served because the network failed, or
        `--offline`)."""
        with self._lock:
            for scope in self._all():
                scope.stale += 1
        for listener in list(self.listeners):
            listener.on_cache(kind, "stale")

    def missed(self, kind: str) -> None:
        """A cacheable request that was not in the cache (or was refreshed): it went out."""
        for listener in list(self.listeners):
            listener.on_cache(kind, "miss")


def _limit_error(limit: int, spent: int, host: str, what: str) -> PullLimitError:
    flag = advice.param("max_pulls", str(limit))
    return PullLimitError(
        f"{flag} reached: {spent} Docker Hub pull{'s' if spent != 1 else ''} spent, and "
        f"{what or 'the next manifest'} needs one more (a manifest GET on {host}); stopped "
        "before sending it",
        limit=limit,
        spent=spent,
        hint=f"raise {advice.param('max_pulls')} if the quota allows; answers already in the "
        "cache, and HEADs, cost no pull",
    )
