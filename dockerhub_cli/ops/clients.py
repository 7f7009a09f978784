"""The clients an operation works with, handed to it by `DockerHubService` (which owns them).

An operation takes a `Clients` and never the service: it reads the settings, talks to the
registry (or a local OCI layout/archive: `client_for`), Docker Hub and OSV through their
clients, and asks `now()` for the wall-clock time (tests inject a fixed clock). The transport
is here for what spans requests: staleness tracking, per-thread request accounting in parallel
fetches.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.oci.reference import ImageReference
    from dockerhub_cli.remote.hub import HubClient
    from dockerhub_cli.remote.keychain import CredentialStore
    from dockerhub_cli.remote.local_layout import LocalLayoutClient
    from dockerhub_cli.remote.osv import OsvClient
    from dockerhub_cli.remote.registry import RegistryClient
    from dockerhub_cli.remote.transport import Transport


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class Clients:
    settings: Settings
    transport: Transport
    credentials: CredentialStore
    registry: RegistryClient
    # The Docker Hub API client is built on first use (`hub`): a command on another registry
    # never imports it.
    hub_factory: Callable[[], HubClient]
    now: Callable[[], datetime] = field(default=utc_now)
    _hub: HubClient | None = field(default=None, init=False, repr=False)
    _hub_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _local: dict[tuple[Any, ...], LocalLayoutClient] = field(
        default_factory=dict, init=False, repr=False
    )
    _local_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def hub(self) -> HubClient:
        """The Docker Hub API client, built on first use (one per Clients, also when threads
        ask at once)."""
        hub = self._hub
        if hub is None:
            with self._hub_lock:
                hub = self._hub
                if hub is None:
                    hub = self._hub = self.hub_factory()
        return hub

    def client_for(self, ref: ImageReference) -> RegistryClient | LocalLayoutClient:
        """The client that reads `ref`: the registry, or the local layout/archive it names.

        A local client is reused while the file (for a directory, its index.json or
        manifest.json) keeps its size and mtime, so a long-running MCP server sees rebuilds."""
        if not ref.is_local:
            return self.registry
        from dockerhub_cli.remote.local_layout import LocalLayoutClient

        path = os.path.abspath(ref.path)
        key: tuple[Any, ...] = (ref.transport, path, *_stat_key(path))
        with self._local_lock:
            client = self._local.get(key)
            if client is None:
                for old in [k for k in self._local if k[:2] == key[:2]]:
                    self._local.pop(old).close()
                client = self._local[key] = LocalLayoutClient(ref.transport, ref.path)
            return client

    def close(self) -> None:
        """Close the local layout/archive clients (the session is the service's)."""
        with self._local_lock:
            for client in self._local.values():
                client.close()
            self._local.clear()

    @functools.cached_property
    def osv(self) -> OsvClient:
        """The OSV client, built on first use (only `vulns` needs it)."""
        from dockerhub_cli.remote.osv import OsvClient

        return OsvClient(self.settings, self.transport)


def _stat_key(path: str) -> tuple[int, int]:
    """(mtime_ns, size) of a local source: the file, or a layout directory's index."""
    for candidate in (os.path.join(path, "index.json"), os.path.join(path, "manifest.json"), path):
        try:
            info = os.stat(candidate)
        except OSError:
            continue
        return info.st_mtime_ns, info.st_size
    return 0, 0
