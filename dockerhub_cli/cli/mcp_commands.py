"""`serve-mcp`: every command as an MCP tool for AI assistants (Claude Desktop, Cursor, Cline).

The `mcp` SDK is imported only here, inside the command body: it costs about 0.45 s, which no
other command should pay.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from dockerhub_cli.cli.app import command, get_service, run_options


class McpTransport(StrEnum):
    stdio = "stdio"
    http = "http"


@command("serve-mcp", output=False)
def serve_mcp(
    transport: Annotated[
        McpTransport,
        typer.Option(
            "--transport",
            help="stdio (for desktop assistants, the default) or http (streamable HTTP at /mcp).",
        ),
    ] = McpTransport.stdio,
    host: Annotated[
        str, typer.Option("--host", help="HTTP only: address to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="HTTP only: port to listen on.")
    ] = 8000,
    auth_token_file: Annotated[
        str | None,
        typer.Option(
            "--auth-token-file",
            metavar="FILE",
            help="HTTP only: require 'Authorization: Bearer TOKEN' with the token on the "
            "file's first line (else env DOCKERHUB_MCP_AUTH_TOKEN). Required beyond loopback.",
            show_default=False,
        ),
    ] = None,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth",
            help="HTTP only: serve beyond loopback without a token (anyone who can reach the "
            "port uses your registry credentials).",
        ),
    ] = False,
) -> None:
    """Serve every command as a read-only MCP tool (stdout carries only the protocol).

    Example: dockerhub serve-mcp  |  dockerhub serve-mcp --transport http --port 8765
    """
    from dockerhub_cli.mcp.server import load_auth_token, serve

    token = load_auth_token(auth_token_file) if transport == McpTransport.http else None
    run_options().long_lived = True  # circuit breaker on (DOCKERHUB_CIRCUIT_BREAKER=0: off)
    try:
        serve(
            get_service(),
            transport=transport.value,
            host=host,
            port=port,
            debug=run_options().debug,
            auth_token=token,
            no_auth=no_auth,
        )
    except KeyboardInterrupt:
        pass  # Ctrl-C is how an interactive server is stopped: not an error
