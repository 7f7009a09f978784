"""Import requests-cache without the backends and serializers this program does not use.

`requests_cache/__init__.py` imports every storage backend whose driver happens to be
installed (with `redis` installed that alone is ~110 ms and the OpenTelemetry metrics it pulls
in) and every serializer whose library is installed (PyYAML, bson, ujson, orjson). A run uses
one backend (SQLite, or Redis when `cache.backend` says so) and the pickle serializer.

`without_unused_backends()` marks those modules absent (`sys.modules[name] = None`, which
makes their import raise ImportError, which requests-cache expects and replaces with a
placeholder) for the length of the import, then removes the marks: a later explicit import
(`from requests_cache.backends.redis import RedisCache` in cache_store.py) loads the real
module as usual.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

# Imported by requests_cache's package __init__ when installed, and not needed to open the
# SQLite cache or to pickle responses. Redis is opened explicitly (cache_store.py).
UNUSED = (
    "requests_cache.backends.dynamodb",
    "requests_cache.backends.gridfs",
    "requests_cache.backends.mongodb",
    "requests_cache.backends.redis",
    "requests_cache.backends.filesystem",
    "cattrs.preconf.pyyaml",
    "cattrs.preconf.bson",
    "cattrs.preconf.ujson",
    "cattrs.preconf.orjson",
    "cattrs.preconf.tomlkit",
    "cattrs.preconf.msgpack",
    "cattr.preconf.pyyaml",
    "cattr.preconf.bson",
    "cattr.preconf.ujson",
    "cattr.preconf.orjson",
    "cattr.preconf.tomlkit",
    "cattr.preconf.msgpack",
    "yaml",
    "bson",
    "ujson",
    "orjson",
)


@contextmanager
def without_unused_backends() -> Iterator[None]:
    """Within: the UNUSED modules that are not loaded yet cannot be imported."""
    if "requests_cache" in sys.modules:  # already imported (its cost is paid)
        yield
        return
    marked = [name for name in UNUSED if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in marked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
