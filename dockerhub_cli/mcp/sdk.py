"""Load the MCP SDK's server modules without the rest of the SDK.

`import mcp` runs `mcp/__init__.py`, which imports the client (`Client`, `ClientSession`,
`ClientSessionGroup`, `stdio_client`) and through it `mcp/server/__init__.py`, which imports
`MCPServer` (FastMCP, its resources and prompts): about a quarter of the SDK's import time,
none of which `serve-mcp` uses. Python runs a package's `__init__` before any of its
submodules, so `from mcp.server.lowlevel import Server` pays for all of it.

`load()` registers the packages `mcp` and `mcp.server` in `sys.modules` *without running
their `__init__`* (a module made from the package's own import spec: its `__path__`, so the
submodules are found as usual), then imports the submodules the server needs. The package
stays whole for anyone else: the first attribute a caller asks of it that is not there yet
(`from mcp import ClientSession`, `mcp.server.MCPServer`) runs the package's real `__init__`
once, in place (PEP 562 `__getattr__`), and from then on it is the ordinary package.

Bounded and loud: it does nothing when `mcp` is already imported (an ordinary package, or
partly), it touches only those two packages, and if the SDK's layout does not fit (a
submodule missing, a name moved) it undoes what it did and imports the SDK the ordinary way.
tests/unit/test_mcp_sdk_load.py fails when an SDK update changes what this relies on.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

# The packages whose __init__ is deferred, outermost first.
PACKAGES = ("mcp", "mcp.server")
# What serve-mcp imports from the SDK (module, names it needs there).
NEEDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mcp.server.lowlevel", ("Server",)),
    ("mcp.server.stdio", ("stdio_server",)),
    ("mcp.types", ("CallToolRequestParams", "CallToolResult", "ListToolsResult", "TextContent")),
)

_lock = threading.RLock()
# How the last load() went: "deferred" (the packages' __init__ not run), "ordinary", or "".
state = ""


class _DeferredPackage(types.ModuleType):
    """A package whose `__init__` runs on the first attribute asked for that is not there."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__") and name != "__all__":
            raise AttributeError(name)  # (`__all__`: `from mcp import *` completes it too)
        complete(self)
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None


def complete(module: types.ModuleType) -> None:
    """Run a deferred package's own `__init__` (once; its parent's first)."""
    with _lock:
        if not isinstance(module, _DeferredPackage):
            return
        parent = module.__name__.rpartition(".")[0]
        if parent:
            complete(sys.modules[parent])
        spec = module.__spec__
        assert spec is not None and spec.loader is not None
        # an ordinary module before running: the init may ask for its own names
        module.__class__ = types.ModuleType  # type: ignore[assignment]
        spec.loader.exec_module(module)


def _register(name: str) -> None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not a package")
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _DeferredPackage
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def load(needs: tuple[tuple[str, tuple[str, ...]], ...] = NEEDS) -> str:
    """Import the modules of `needs`; "deferred" when the packages' `__init__` did not run,
    "ordinary" when the SDK was imported the usual way (already imported, or it did not fit:
    then everything this function registered or imported under `mcp` is dropped first)."""
    global state
    with _lock:
        if state:
            return state
        if "mcp" not in sys.modules:
            try:
                for name in PACKAGES:
                    _register(name)
                _import(needs, check=True)
            except (ImportError, AttributeError):
                for name in [n for n in sys.modules if n == "mcp" or n.startswith("mcp.")]:
                    del sys.modules[name]
            else:
                state = "deferred"
                return state
        importlib.import_module("mcp")
        _import(needs, check=False)
        state = "ordinary"
        return state


def _import(needs: tuple[tuple[str, tuple[str, ...]], ...], *, check: bool) -> None:
    for module_name, names in needs:
        module = importlib.import_module(module_name)
        missing = [name for name in names if name not in vars(module)]
        if check and missing:
            raise AttributeError(f"{module_name} has no {', '.join(missing)}")


load()

# What the server uses of the SDK, imported here once the packages are set up (so `serve-mcp`
# never runs `mcp/__init__.py` itself).
from mcp.server.lowlevel import Server  # noqa: E402
from mcp.types import (  # noqa: E402
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    TextContent,
)

from dockerhub_cli.mcp.toolerror import ToolError  # noqa: E402

__all__ = [
    "CallToolRequestParams",
    "CallToolResult",
    "ListToolsResult",
    "Server",
    "TextContent",
    "ToolError",
    "complete",
    "load",
]
