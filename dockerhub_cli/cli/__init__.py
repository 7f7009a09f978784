"""The `dockerhub` command line: the Typer app and its commands.

Each module below registers its commands on `app` when imported; they import the service and
renderers lazily, inside the command bodies, to keep start-up fast.
"""

from __future__ import annotations

from dockerhub_cli.cli import (  # noqa: F401  (importing registers the commands)
    account_commands,  # whoami, ratelimit, login, logout
    cache_commands,  # cache info, cache clear
    compare_commands,  # compare, updates
    config_commands,  # config show, config path
    hub_commands,  # search, tags
    image_commands,  # inspect, layers, history, dockerfile, size, manifest
    mcp_commands,  # serve-mcp
    supply_commands,  # sbom, provenance, vulns
)
from dockerhub_cli.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
