"""Age the HTTP cache instead of sleeping past a TTL (tests never wait on the wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.service import DockerHubService


def age_cache(target: DockerHubService | Settings, *, everything: bool = False) -> int:
    """Move the expiry of cached responses a day into the past, as if their lifetime had run
    out; returns how many were aged. By default only entries that have a lifetime (tag lookups,
    listings) age: content addressed by digest never expires and stays fresh, as it would.
    `everything=True` ages those too."""
    cache: Any
    owned = not isinstance(target, DockerHubService)
    if isinstance(target, DockerHubService):
        cache = target.session.cache
    else:
        from dockerhub_cli.remote.cache_store import open_backend

        cache = open_backend(target)
    past = datetime.now(UTC) - timedelta(days=1)
    aged = 0
    try:
        for key in list(cache.responses.keys()):
            response = cache.responses[key]
            if response.expires is None and not everything:
                continue
            response.expires = past
            cache.responses[key] = response
            aged += 1
    finally:
        if owned:
            cache.close()
    return aged
