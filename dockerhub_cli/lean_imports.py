"""Import the libraries this program uses without the parts of them a run does not use.

A cold one-shot run is mostly start-up, and part of start-up is libraries importing modules
for features this program never touches. Three ways of trimming that, each undone as soon as
the library's own import is over, so that a later explicit import gets the real module:

* `absent(names)`: the modules are marked absent (`sys.modules[name] = None`, which makes their
  import raise ImportError) for the length of a library's import, where the library expects
  them to be missing and puts a placeholder in their place. `requests_cache/__init__.py`
  imports every storage backend whose driver is installed (with `redis` installed that alone
  is ~110 ms and the OpenTelemetry metrics it pulls in) and every serializer whose library is
  installed (PyYAML, bson, ujson, orjson); a run uses one backend (SQLite, or Redis when
  `cache.backend` says so, imported explicitly by cache_store.py) and the pickle serializer.
* `standing_in(module, names)`: while a library imports `from module import name`, `module` is
  a stand-in whose `name`s call the real module's, imported on the first call (any other
  attribute imports the real module at once, so nothing is lost when a library starts using
  more of it). urllib3 imports `importlib.metadata.version` only to check an h2 install for
  HTTP/2, which this program does not enable; pydantic imports `importlib.metadata` for its
  plugin scan, which `__main__` turns off (PYDANTIC_DISABLE_PLUGINS); requests-cache imports
  `platformdirs.user_cache_dir` for `use_cache_dir=True`, which this program does not pass.
* requests' character-set guessing (`charset_normalizer`, ~10% of importing requests) is used
  only by `Response.text` and `.apparent_encoding` for a body whose Content-Type names no
  charset; requests is imported without it and given a stand-in whose `detect()` imports it
  on first use (`requests_without_eager_charset_detection`).

`trim_on_first_import()` (called by `dockerhub_cli.remote`) arranges the requests part for
whoever imports requests first. tests/unit/test_lean_imports.py checks, in a fresh process,
that none of these modules is loaded by the network stack and that each stand-in still
reaches the real function: an upgrade of a library that defeats a trim fails that test, while
the program itself keeps working (only slower).
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import sys
import types
import typing
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

# Imported by requests_cache's package __init__ when installed, and not needed to open the
# SQLite cache or to pickle responses. Redis is opened explicitly (cache_store.py).
UNUSED_CACHE_MODULES = (
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
UNUSED = UNUSED_CACHE_MODULES  # the name this module had in remote/lean_imports.py

# The character-detection libraries requests looks for (it prefers chardet when installed).
CHARSET_DETECTORS = ("chardet", "charset_normalizer")
# module -> the names libraries of the network stack import from it (see the module docstring).
METADATA_NAMES = ("version", "entry_points")
PLATFORMDIRS_NAMES = ("user_cache_dir",)


@contextmanager
def absent(names: Iterable[str]) -> Iterator[None]:
    """Within: the named modules that are not loaded yet cannot be imported."""
    marked = [name for name in names if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in marked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def real_module(name: str) -> types.ModuleType:
    """The real module `name`, imported now if only a stand-in was there."""
    current = sys.modules.get(name)
    if isinstance(current, StandIn):
        del sys.modules[name]
    return importlib.import_module(name)


def _forwarder(module: str, attr: str) -> Callable[..., Any]:
    def forward(*args: Any, **kwargs: Any) -> Any:
        return getattr(real_module(module), attr)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = attr
    forward.__doc__ = f"Calls {module}.{attr}, importing {module} on the first call."
    return forward


class StandIn(types.ModuleType):
    """A module object for `name` whose listed functions forward to the real module's, and
    whose every other (non-dunder) attribute is looked up on the real module."""

    def __init__(self, name: str, functions: Iterable[str]) -> None:
        super().__init__(name, f"Stand-in for {name}: imports it on first use.")
        for attr in functions:
            setattr(self, attr, _forwarder(name, attr))
        # A package's submodules stay importable meanwhile (found, not executed, here).
        spec = _spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            self.__path__ = list(spec.submodule_search_locations)

    def __getattr__(self, attr: str) -> Any:
        # Dunders stay unanswered: the import system asks for `__path__` and `__spec__`, and
        # answering those would import the real module for nothing.
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return getattr(real_module(self.__name__), attr)


@contextmanager
def standing_in(name: str, functions: Iterable[str]) -> Iterator[None]:
    """Within: importing `name` (not loaded yet) gives a StandIn with `functions`; after it
    the stand-in leaves sys.modules (holders of its functions keep them)."""
    if name in sys.modules:
        yield
        return
    stand_in = StandIn(name, functions)
    sys.modules[name] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        if any(other.startswith(f"{name}.") for other in list(sys.modules)):
            # A submodule was imported meanwhile: the package is in use after all.
            _bind_submodules(real_module(name))


def _bind_submodules(package: types.ModuleType) -> None:
    """Set the loaded direct submodules of `package` as its attributes, as an import of
    them would have (they were imported while a stand-in held its name)."""
    prefix = f"{package.__name__}."
    for other, module in list(sys.modules.items()):
        child = other[len(prefix) :]
        if other.startswith(prefix) and "." not in child and module is not None:
            if not hasattr(package, child):
                setattr(package, child, module)


@contextmanager
def without_unused_backends() -> Iterator[None]:
    """Around `import requests_cache`: none of the UNUSED_CACHE_MODULES, platformdirs only
    when `user_cache_dir` is called."""
    if "requests_cache" in sys.modules:  # already imported (its cost is paid)
        yield
        return
    with (
        absent(UNUSED_CACHE_MODULES),
        standing_in("platformdirs", PLATFORMDIRS_NAMES),
        standing_in("importlib.metadata", METADATA_NAMES),
    ):
        yield


class _CharsetDetection:
    """What requests keeps as `chardet`: `detect()` imports the library requests would have
    picked (chardet if installed, else charset_normalizer) on the first call."""

    def __init__(self, name: str) -> None:
        self.name = name

    def detect(self, data: bytes) -> Any:
        return real_module(self.name).detect(data)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return getattr(real_module(self.name), attr)


@contextmanager
def requests_without_eager_charset_detection() -> Iterator[None]:
    """Around `import requests`: no character-detection library, no importlib.metadata for
    urllib3; afterwards requests gets a `_CharsetDetection` for the library it would have
    used (or None if neither is installed, as requests itself would have). For the
    import of requests itself (`trim_on_first_import`), or of what imports it first."""
    installed = [n for n in CHARSET_DETECTORS if n in sys.modules or _findable(n)]
    with ExitStack() as stack:
        stack.enter_context(absent(CHARSET_DETECTORS))
        stack.enter_context(standing_in("importlib.metadata", METADATA_NAMES))
        stack.enter_context(warnings.catch_warnings())
        # requests warns when it finds no detector; the detector comes back just below.
        warnings.filterwarnings("ignore", message=".*character detection dependency")
        yield
    requests_mod = sys.modules.get("requests")
    if requests_mod is None or not installed:
        return
    detection = _CharsetDetection(installed[0])
    for module in ("requests.compat", "requests.models"):
        loaded = sys.modules.get(module)
        if loaded is not None and getattr(loaded, "chardet", True) is None:
            loaded.chardet = detection  # type: ignore[attr-defined]


def _spec(name: str) -> Any:
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def _findable(name: str) -> bool:
    return _spec(name) is not None


# The finder and the loader below are plain classes, not `importlib.abc`'s: importing that
# module imports importlib.resources and tempfile with it (~5 ms of a run without requests).


class _TrimmingLoader:
    """Executes the real loader's module inside `trim()`; the module keeps the real loader."""

    def __init__(self, loader: Any, trim: Callable[[], AbstractContextManager[None]]) -> None:
        self.loader = loader
        self.trim = trim

    def create_module(self, spec: Any) -> types.ModuleType | None:
        created: types.ModuleType | None = self.loader.create_module(spec)
        return created

    def exec_module(self, module: types.ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        with self.trim():
            self.loader.exec_module(module)


class _FirstImport:
    """On the first import of `name`, runs its module inside `trim()`, then steps aside."""

    def __init__(self, name: str, trim: Callable[[], AbstractContextManager[None]]) -> None:
        self.name = name
        self.trim = trim

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)  # the other finders' answer
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = typing.cast(Any, _TrimmingLoader(spec.loader, self.trim))
        return spec


def trim_on_first_import(
    name: str = "requests",
    trim: Callable[[], AbstractContextManager[None]] = requests_without_eager_charset_detection,
) -> None:
    """Whoever imports `name` first in this process imports it trimmed (idempotent)."""
    if name in sys.modules or any(
        isinstance(f, _FirstImport) and f.name == name for f in sys.meta_path
    ):
        return
    sys.meta_path.insert(0, _FirstImport(name, trim))


def _compile_on_use(source: Any, filename: Any, mode: Any, *args: Any, **kwargs: Any) -> Any:
    if mode == "eval" and filename == "<string>" and type(source) is str and not (args or kwargs):
        return source  # `eval()` takes the text as well as its code, and compiles it then
    return builtins.compile(source, filename, mode, *args, **kwargs)


@contextmanager
def forward_references_compiled_on_use() -> Iterator[None]:
    """While this lasts, a `typing.ForwardRef` keeps its expression as text, compiled when the
    reference is evaluated, instead of compiling it when it is made: `typing` looks `compile`
    up in its own globals first. pydantic-core's schema module declares ~150 TypedDicts with
    ~730 string annotations that this program never evaluates, and compiling them was ~3% of
    a run (cachegrind: 31M of 1,220M instructions). Evaluating such a reference gives what it
    always did; only an expression that is not valid Python fails at evaluation instead of at
    creation (the libraries imported meanwhile have none). tests/unit/test_lean_imports.py
    checks that `typing` compiles nowhere else and that every such annotation evaluates to
    the same types as in a process that compiled them."""
    import typing

    if "compile" in vars(typing):  # someone else's (or ours, re-entered): leave it alone
        yield
        return
    typing.compile = _compile_on_use  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del typing.compile  # type: ignore[attr-defined]


def import_pydantic_plugin_loader() -> None:
    """Import pydantic's plugin loader (which pydantic imports on the first schema build)
    with importlib.metadata standing in: with plugins turned off it is never called."""
    if "pydantic.plugin._loader" in sys.modules:
        return
    with standing_in("importlib.metadata", METADATA_NAMES):
        try:
            importlib.import_module("pydantic.plugin._loader")
        except ImportError:  # a pydantic without it: nothing to trim
            pass
