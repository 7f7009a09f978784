"""The `dockerhub` command line: the Typer app and its commands.

Each module below registers its commands on `app` when imported; they import the service and
renderers lazily, inside the command bodies, to keep start-up fast.
"""

from __future__ import annotations

from dockerhub_cli.cli import hub_commands  # noqa: F401  (registers search, tags)
from dockerhub_cli.cli import image_commands  # noqa: F401  (inspect, layers, history, ...)
from dockerhub_cli.cli import mcp_commands  # noqa: F401  (serve-mcp)
from dockerhub_cli.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
