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
    """Console-script entry point.

    Runs the app in non-standalone mode so that usage errors (unknown option, missing
    argument, value out of range) come out as one `error:` line on stderr with exit code 2,
    like every other error, instead of a multi-line panel.
    """
    import sys

    import typer

    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `dockerhub`: show the help
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)
        ctx = getattr(exc, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        message = " ".join(exc.format_message().split())
        sys.stderr.write(f"error: {message}{where}\n")
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["app", "main"]
