"""requests-cache's rows written without cattrs: the same dict its pickle serializer builds.

requests-cache turns a `CachedResponse` into a dict of builtins with cattrs (its `CattrStage`,
a converter with `omit_if_default=True` and hooks for datetimes, timedeltas, cookie jars and
header dicts), then pickles that dict. Importing cattrs and building requests-cache's
pre-configured converters (`requests_cache.serializers`) was ~50M instructions of a cold
`inspect` (~13 ms here), for one dict per response.

`serializers_without_cattrs()`, around the first `import requests_cache`, makes its
`requests_cache.serializers.cattrs` a stand-in whose `CattrStage` builds nothing until used:

* `dumps` of a `CachedResponse` by a stage configured as requests-cache's base stage (no
  factory, no extra hooks, `decode_content=False`, the one every pickle row goes through) is
  `unstructure()` below, which writes the same dict cattrs writes, key for key: the fields in
  the order attrs declares them, each left out when equal to its default, datetimes as ISO
  strings, timedeltas as seconds, cookie jars and header dicts as plain dicts, the redirect
  history and the request nested the same way. It is used only while the installed classes
  declare exactly the fields it knows (`KNOWN_RESPONSE_FIELDS`, checked once); otherwise, and
  for any other stage or value, the real CattrStage does the work (cattrs imported then).
* `loads` of such a row (read back by the full path: a revalidation) is `structure()`, the
  CachedResponse cattrs builds from it, for rows whose every key holds the type `unstructure`
  writes; any other row is read by the real CattrStage.

So the rows stay requests-cache's own: readable by requests-cache and by the warm reader
(remote/warm_cache.py). tests/unit/test_cache_format.py checks the dicts are equal to cattrs'
for many responses (statuses, headers, bodies, redirect history, expiry, cookies, elapsed),
that the pickled rows are byte-for-byte the same, that requests-cache reads them back, and pins
the field lists (a requests-cache upgrade that changes them fails there, and falls back to
cattrs at run time).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

REAL_MODULE = "requests_cache.serializers.cattrs"
# The pre-configured cattrs converter requests-cache's JSON serializer is built on, at import.
_JSON_PRECONF = "cattr.preconf.json"

# (name, default) of each attrs field, in declaration order; `FACTORY` marks a default made by
# a factory (compared with a fresh one, as cattrs' omit_if_default does).
FACTORY = object()
KNOWN_RESPONSE_FIELDS: tuple[tuple[str, Any], ...] = (
    ("_content", None),
    ("_decoded_content", None),
    ("_next", None),
    ("cookies", FACTORY),
    ("created_at", None),
    ("elapsed", FACTORY),
    ("encoding", None),
    ("expires", None),
    ("headers", FACTORY),
    ("history", FACTORY),
    ("reason", None),
    ("request", FACTORY),
    ("status_code", 0),
    ("url", None),
)
KNOWN_REQUEST_FIELDS: tuple[tuple[str, Any], ...] = (
    ("body", b""),  # None through its converter (`encode`): cattrs >= 26.1 compares with that
    ("cookies", FACTORY),
    ("headers", FACTORY),
    ("method", None),
    ("url", None),
)


# cattrs' omit_if_default compares a field that has a converter with the converted default
# since 26.1 (before, a request's empty body was written as b""): the dicts below are those
# of cattrs >= 26.1, so an older cattrs writes its own rows.
MIN_CATTRS = (26, 1)


def declared_fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, default or FACTORY) of the attrs fields of `cls`, as KNOWN_* spell them: the
    value cattrs' omit_if_default compares a field with (a default through its converter)."""
    import attrs

    out = []
    for a in attrs.fields(cls):
        default: Any = a.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            # a factory of the instance, or one with a converter: never matches KNOWN_*
            plain = not default.takes_self and a.converter is None
            default = FACTORY if plain else (default, a.converter)
        elif a.converter is not None:
            default = a.converter(default)
        out.append((a.name, default))
    return tuple(out)


def _version(text: str | None) -> tuple[int, ...]:
    parts = []
    for part in (text or "").split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


_KNOWN: bool | None = None


def classes_known() -> bool:
    """Whether the installed CachedResponse/CachedRequest declare exactly the known fields and
    the installed cattrs is one whose output `unstructure` reproduces (checked once; cattrs'
    version is read from its metadata without importing it)."""
    global _KNOWN
    if _KNOWN is None:
        from requests_cache.models.request import CachedRequest
        from requests_cache.models.response import CachedResponse

        from dockerhub_cli.remote.warm_cache import _installed_version

        _KNOWN = (
            _version(_installed_version("cattrs")) >= MIN_CATTRS
            and declared_fields(CachedResponse) == KNOWN_RESPONSE_FIELDS
            and declared_fields(CachedRequest) == KNOWN_REQUEST_FIELDS
        )
    return _KNOWN


def _datetime(value: Any) -> Any:
    return value.isoformat() if value else None


def _timedelta(value: Any) -> Any:
    return value.total_seconds() if value else None


def _request(request: Any) -> dict[str, Any]:
    from requests.cookies import RequestsCookieJar
    from requests.structures import CaseInsensitiveDict

    out: dict[str, Any] = {}
    if request.body != b"":
        out["body"] = request.body
    if request.cookies != RequestsCookieJar():
        out["cookies"] = dict(request.cookies.items())
    if request.headers != CaseInsensitiveDict():
        out["headers"] = dict(request.headers)
    if request.method is not None:
        out["method"] = request.method
    if request.url is not None:
        out["url"] = request.url
    return out


def unstructure(response: Any) -> dict[str, Any]:
    """The dict requests-cache's base CattrStage makes of a CachedResponse (see the module
    docstring); the caller checked `classes_known()` and the types below."""
    from requests.cookies import RequestsCookieJar
    from requests.structures import CaseInsensitiveDict
    from requests_cache.models.request import CachedRequest

    out: dict[str, Any] = {}
    if response._content is not None:
        out["_content"] = response._content
    if response._decoded_content is not None:
        out["_decoded_content"] = response._decoded_content
    if response._next is not None:
        out["_next"] = _request(response._next)
    if response.cookies != RequestsCookieJar():
        out["cookies"] = dict(response.cookies.items())
    if response.created_at is not None:
        out["created_at"] = _datetime(response.created_at)
    if response.elapsed != timedelta():
        out["elapsed"] = _timedelta(response.elapsed)
    if response.encoding is not None:
        out["encoding"] = response.encoding
    if response.expires is not None:
        out["expires"] = _datetime(response.expires)
    if response.headers != CaseInsensitiveDict():
        out["headers"] = dict(response.headers)
    if response.history != []:
        out["history"] = [unstructure(item) for item in response.history]
    if response.reason is not None:
        out["reason"] = response.reason
    if response.request != CachedRequest():
        out["request"] = _request(response.request)
    if response.status_code != 0:
        out["status_code"] = response.status_code
    if response.url is not None:
        out["url"] = response.url
    return out


def writable(response: Any) -> bool:
    """Whether `unstructure` writes exactly what cattrs would for this value: a CachedResponse
    (and its history) whose every field holds the type the hooks above handle."""
    from requests.cookies import RequestsCookieJar
    from requests.structures import CaseInsensitiveDict
    from requests_cache.models.request import CachedRequest
    from requests_cache.models.response import CachedResponse

    def request_ok(request: Any) -> bool:
        return (
            type(request) is CachedRequest
            and isinstance(request.body, bytes | None)
            and type(request.cookies) is RequestsCookieJar
            and type(request.headers) is CaseInsensitiveDict
            and isinstance(request.method, str | None)
            and isinstance(request.url, str | None)
        )

    def ok(item: Any) -> bool:
        return (
            type(item) is CachedResponse
            and isinstance(item._content, bytes | None)
            and item._decoded_content is None
            and (item._next is None or request_ok(item._next))
            and type(item.cookies) is RequestsCookieJar
            and isinstance(item.created_at, datetime | None)
            and type(item.elapsed) is timedelta
            and isinstance(item.encoding, str | None)
            and isinstance(item.expires, datetime | None)
            and type(item.headers) is CaseInsensitiveDict
            and type(item.history) is list
            and isinstance(item.reason, str | None)
            and request_ok(item.request)
            and type(item.status_code) is int
            and isinstance(item.url, str | None)
            and all(ok(entry) for entry in item.history)
        )

    return classes_known() and ok(response)


def _structure_request(data: Any) -> Any:
    from requests.cookies import cookiejar_from_dict
    from requests.structures import CaseInsensitiveDict
    from requests_cache.models.request import CachedRequest

    if type(data) is not dict:
        raise _Unknown
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "body" and type(value) is bytes:
            kwargs["body"] = value
        elif key == "cookies" and _str_dict(value):
            kwargs["cookies"] = cookiejar_from_dict(value)  # type: ignore[no-untyped-call]
        elif key == "headers" and _str_dict(value):
            kwargs["headers"] = CaseInsensitiveDict(value)
        elif key in ("method", "url") and type(value) is str:
            kwargs[key] = value
        else:
            raise _Unknown
    return CachedRequest(**kwargs)


class _Unknown(Exception):
    """A row this module does not read exactly as cattrs would: cattrs reads it."""


def _str_dict(value: Any) -> bool:
    return type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items())


def structure(data: Any) -> Any:
    """The CachedResponse requests-cache's base CattrStage makes of a row's dict, for the
    rows `unstructure` writes (every key of a known type); raises _Unknown otherwise. As cattrs:
    a missing key takes the field's default, ISO strings become datetimes, seconds a
    timedelta, plain dicts a cookie jar and a CaseInsensitiveDict, nested dicts the request
    and the redirect history."""
    from requests.cookies import cookiejar_from_dict
    from requests.structures import CaseInsensitiveDict
    from requests_cache.models.response import CachedResponse

    if type(data) is not dict:
        raise _Unknown
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "_content" and type(value) is bytes:
            kwargs["content"] = value
        elif key == "_next":
            kwargs["next"] = None if value is None else _structure_request(value)
        elif key == "cookies" and _str_dict(value):
            kwargs["cookies"] = cookiejar_from_dict(value)  # type: ignore[no-untyped-call]
        elif key in ("created_at", "expires") and type(value) is str:
            kwargs[key] = datetime.fromisoformat(value)
        elif key == "expires" and value is None:
            kwargs[key] = None
        elif key == "elapsed" and type(value) in (int, float):
            kwargs[key] = timedelta(seconds=value)
        elif key in ("encoding", "reason", "url") and type(value) is str:
            kwargs[key] = value
        elif key == "headers" and _str_dict(value):
            kwargs[key] = CaseInsensitiveDict(value)
        elif key == "history" and type(value) is list:
            kwargs[key] = [structure(item) for item in value]
        elif key == "request":
            kwargs[key] = _structure_request(value)
        elif key == "status_code" and type(value) is int:
            kwargs[key] = value
        else:  # _decoded_content, a type cattrs would convert, a key it would ignore
            raise _Unknown
    return CachedResponse(**kwargs)


class _DeferredConverter:
    """What a deferred stage has as `converter` until a real one is needed: `register_*`
    calls (requests-cache's JSON stage adds base64 hooks at import) are kept and replayed
    on the real converter; any other attribute builds the real converter first."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self._real: Any = None

    def real(self) -> Any:
        if self._real is None:
            converter = self._build()
            for name, args, kwargs in self._calls:
                getattr(converter, name)(*args, **kwargs)
            self._real = converter
        return self._real

    @property
    def customized(self) -> bool:
        return bool(self._calls)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if name.startswith("register_") and self._real is None:

            def record(*args: Any, **kwargs: Any) -> None:
                self._calls.append((name, args, kwargs))

            return record
        return getattr(self.real(), name)


def _real_module() -> types.ModuleType:
    current = sys.modules.get(REAL_MODULE)
    if current is not None and not getattr(current, "_dockerhub_stand_in", False):
        return current
    sys.modules.pop(REAL_MODULE, None)
    import importlib

    module = importlib.import_module(REAL_MODULE)
    return module


class CattrStage:
    """requests-cache's CattrStage, deferred: the converter is built on first real use, and
    the base stage's `dumps` of a CachedResponse needs none (module docstring)."""

    def __init__(
        self,
        factory: Callable[..., Any] | None = None,
        decode_content: bool = False,
        **kwargs: Any,
    ) -> None:
        self.factory = factory
        self.kwargs = kwargs
        self.decode_content = decode_content
        self.converter: Any = _DeferredConverter(
            lambda: _real_module().init_converter(factory, **kwargs)
        )

    def _plain(self) -> bool:
        converter = self.converter
        return (
            self.factory is None
            and not self.kwargs
            and not self.decode_content
            and isinstance(converter, _DeferredConverter)
            and not converter.customized
            and converter._real is None
        )

    def _real_stage(self) -> Any:
        stage = _real_module().CattrStage.__new__(_real_module().CattrStage)
        converter = self.converter
        stage.converter = (
            converter.real() if isinstance(converter, _DeferredConverter) else converter
        )
        stage.decode_content = self.decode_content
        return stage

    def copy(self) -> CattrStage:
        stage = CattrStage.__new__(CattrStage)
        stage.factory = self.factory
        stage.kwargs = self.kwargs
        stage.decode_content = self.decode_content
        stage.converter = self.converter
        return stage

    def dumps(self, value: Any) -> Any:
        if self._plain() and writable(value):
            return unstructure(value)
        return self._real_stage().dumps(value)

    def loads(self, value: Any) -> Any:
        if self._plain() and type(value) is dict and classes_known():
            try:
                return structure(value)
            except (_Unknown, ValueError, TypeError):
                pass  # cattrs reads it (and reports what is wrong with it, if anything)
        return self._real_stage().loads(value)


def _forward(name: str) -> Callable[..., Any]:
    def forward(*args: Any, **kwargs: Any) -> Any:
        return getattr(_real_module(), name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    return forward


def _stand_in_module() -> types.ModuleType:
    module = types.ModuleType(REAL_MODULE, "Stand-in: see dockerhub_cli.remote.cache_format.")
    module.CattrStage = CattrStage  # type: ignore[attr-defined]
    module._convert_floats = _forward("_convert_floats")  # type: ignore[attr-defined]
    module.make_decimal_timedelta_converter = _forward("make_decimal_timedelta_converter")  # type: ignore[attr-defined]
    module.init_converter = _forward("init_converter")  # type: ignore[attr-defined]
    module._dockerhub_stand_in = True  # type: ignore[attr-defined]
    return module


def _json_preconf_module() -> types.ModuleType:
    """`cattr.preconf.json` as requests-cache's import uses it (`make_converter`, called when
    the JSON stage's converter is really built), without importing cattrs for it now."""
    module = types.ModuleType(_JSON_PRECONF, "Stand-in: see dockerhub_cli.remote.cache_format.")

    def make_converter(*args: Any, **kwargs: Any) -> Any:
        import importlib

        if sys.modules.get(_JSON_PRECONF) is module:
            del sys.modules[_JSON_PRECONF]

        return importlib.import_module(_JSON_PRECONF).make_converter(*args, **kwargs)

    module.make_converter = make_converter  # type: ignore[attr-defined]
    module._dockerhub_stand_in = True  # type: ignore[attr-defined]
    return module


@contextmanager
def serializers_without_cattrs() -> Iterator[None]:
    """Around the first `import requests_cache` (module docstring); afterwards the stand-ins
    leave sys.modules, so an explicit import of either module gets the real one."""
    if "requests_cache" in sys.modules or REAL_MODULE in sys.modules:
        yield
        return
    placed = {REAL_MODULE: _stand_in_module()}
    if _JSON_PRECONF not in sys.modules:
        placed[_JSON_PRECONF] = _json_preconf_module()
    sys.modules.update(placed)
    try:
        yield
    finally:
        for name, module in placed.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
