"""`dockerhub_cli/mcp/sdk.py`: the SDK's server modules without `mcp/__init__.py`.

Each case runs in a fresh interpreter (what is imported is the point). The first test is the
pin: it fails when an SDK update changes the layout the deferred load relies on (the server
modules then import the client or `MCPServer`, or the load falls back to the ordinary import).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest


def _run(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_server_module_loads_without_the_sdk_client_or_mcpserver() -> None:
    out = _run(
        """
        import json, sys
        import dockerhub_cli.mcp.server
        from dockerhub_cli.mcp import sdk
        import mcp
        print(json.dumps({
            "state": sdk.state,
            "loaded": sorted(n for n in ("mcp.client", "mcp.server.mcpserver")
                             if n in sys.modules),
            "init_ran": "Client" in vars(mcp) or "MCPServer" in vars(mcp.server),
        }))
        """
    )
    assert out == {"state": "deferred", "loaded": [], "init_ran": False}, (
        "the MCP SDK's layout changed: see dockerhub_cli/mcp/sdk.py"
    )


def test_the_server_module_imports_no_sdk_and_no_pydantic_until_a_server_is_built() -> None:
    """What `serve-mcp` imports before its stdio front answers (`mcp/front.py`)."""
    out = _run(
        """
        import json, sys
        import dockerhub_cli.mcp.server, dockerhub_cli.mcp.front
        print(json.dumps(sorted(n for n in ("mcp", "mcp_types", "pydantic", "anyio")
                                if n in sys.modules)))
        """
    )
    assert out == []  # type: ignore[comparison-overlap]


def test_the_package_is_whole_for_anyone_who_asks_afterwards() -> None:
    out = _run(
        """
        import json, types
        import dockerhub_cli.mcp.sdk
        import mcp
        from mcp import Client, ClientSession, stdio_client
        from mcp.server import MCPServer, Server
        import mcp.server
        missing = [n for n in mcp.__all__ if not hasattr(mcp, n)]  # __all__ completes it
        missing += [n for n in mcp.server.__all__ if not hasattr(mcp.server, n)]
        print(json.dumps({
            "missing": missing,
            "plain": type(mcp) is types.ModuleType and type(mcp.server) is types.ModuleType,
            "same": Server is dockerhub_cli.mcp.sdk.Server,
        }))
        """
    )
    assert out == {"missing": [], "plain": True, "same": True}


def test_an_sdk_imported_first_is_used_as_it_is() -> None:
    out = _run(
        """
        import json
        import mcp
        import dockerhub_cli.mcp.server
        from dockerhub_cli.mcp import sdk
        print(json.dumps({"state": sdk.state}))
        """
    )
    assert out == {"state": "ordinary"}


def test_a_layout_that_does_not_fit_falls_back_to_the_ordinary_import() -> None:
    out = _run(
        """
        import json, sys, types
        from dockerhub_cli.mcp import sdk
        for name in [n for n in sys.modules if n == "mcp" or n.startswith("mcp.")]:
            del sys.modules[name]
        sdk.state = ""
        state = sdk.load(needs=(("mcp.server.lowlevel", ("NoSuchServer",)),))
        import mcp
        from mcp import ClientSession
        print(json.dumps({"state": state, "plain": type(mcp) is types.ModuleType}))
        """
    )
    assert out == {"state": "ordinary", "plain": True}


def test_a_missing_module_is_loud() -> None:
    with pytest.raises(AssertionError, match="ModuleNotFoundError"):
        _run(
            """
            import sys
            from dockerhub_cli.mcp import sdk
            for name in [n for n in sys.modules if n == "mcp" or n.startswith("mcp.")]:
                del sys.modules[name]
            sdk.state = ""
            sdk.load(needs=(("mcp.server.no_such_module", ()),))
            """
        )


def test_a_star_import_completes_the_package() -> None:
    out = _run(
        """
        import json
        import dockerhub_cli.mcp.server
        names = {}
        exec("from mcp import *", names)
        print(json.dumps({"client": "ClientSession" in names and "Client" in names}))
        """
    )
    assert out == {"client": True}
