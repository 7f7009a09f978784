#!/usr/bin/env python3
"""Generate dockerhub_cli/mcp/tools.json, the `tools/list` of `dockerhub serve-mcp`, and
dockerhub_cli/mcp/front.json, the SDK's answers that the stdio front gives before the SDK loads.

The entries are what `dockerhub_cli.mcp.server.Tool.listing()` builds from the command spec
(compact input and output schemas, see dockerhub_cli/mcp/schema.py); the server reads this
file at start-up instead of generating 27 pairs of pydantic schemas, and builds any entry the
file lacks (or all of them, when the file is from another version). front.json is what the SDK
server built from the same spec answers to `initialize`, `ping`, `tools/list` and
`server/discover` in every protocol version the installed SDK speaks (`mcp/front.py`, `derive`).

    python scripts/gen_mcp_tools.py              # write dockerhub_cli/mcp/tools.json
    python scripts/gen_mcp_tools.py --check      # exit 1 if the committed file is stale
    python scripts/gen_mcp_tools.py --output DIR # write DIR/tools.json and DIR/front.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def render() -> str:
    from dockerhub_cli import __version__
    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.mcp.server import Tool, available_tools
    from dockerhub_cli.service import DockerHubService

    with DockerHubService(Settings(no_cache=True)) as service:
        tools = [Tool(c, service).listing() for c in available_tools()]
    body = json.dumps({"version": __version__, "tools": tools}, ensure_ascii=False, indent=1)
    return body + "\n"


def render_front() -> str:
    from dockerhub_cli import __version__
    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.mcp.front import derive
    from dockerhub_cli.mcp.server import (
        INSTRUCTIONS,
        SERVER_NAME,
        SERVER_TITLE,
        available_tools,
        build_server,
    )
    from dockerhub_cli.service import DockerHubService

    # the source the server fingerprints at start-up: the tools.json this run writes
    source = json.dumps([SERVER_NAME, SERVER_TITLE, __version__, INSTRUCTIONS, render()])
    with DockerHubService(Settings(no_cache=True)) as service:
        table = derive(lambda: build_server(service, specs=available_tools()), source)
    return json.dumps(table, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--output", type=Path)
    opts = parser.parse_args(argv)
    folder = opts.output or ROOT / "dockerhub_cli" / "mcp"
    from scripts._generated import write_or_check

    return write_or_check(
        {folder / "tools.json": render(), folder / "front.json": render_front()}, check=opts.check
    )


if __name__ == "__main__":
    raise SystemExit(main())
