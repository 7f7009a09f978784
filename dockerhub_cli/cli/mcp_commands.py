"""`serve-mcp`'s body: every command with an MCP tool, served (the spec entry has the options).

The `mcp` SDK is imported only here, inside the body: it costs about 0.45 s, which no other
command should pay.
"""

from __future__ import annotations

from typing import Literal


def serve_mcp(
    transport: Literal["stdio", "http"],
    host: str,
    port: int,
    auth_token_file: str | None = None,
    no_auth: bool = False,
) -> None:
    """Serve every command as a read-only MCP tool (stdout carries only the protocol)."""
    from dockerhub_cli.cli.app import get_service, run_options, run_settings
    from dockerhub_cli.mcp.server import DeferredService, load_auth_token, serve

    if transport == "stdio":
        _refuse_http_options(
            {"host": host, "port": port, "auth_token_file": auth_token_file, "no_auth": no_auth}
        )
    token = load_auth_token(auth_token_file) if transport == "http" else None
    run_options().long_lived = True  # circuit breaker on (DOCKERHUB_CIRCUIT_BREAKER=0: off)
    settings = run_settings()
    if settings.no_cache and settings.offline:
        get_service()  # the usage error, now rather than at the first call
    try:
        serve(
            DeferredService(get_service, settings),  # type: ignore[arg-type]
            transport=transport,
            host=host,
            port=port,
            debug=run_options().debug,
            auth_token=token,
            no_auth=no_auth,
            max_pulls=run_options().max_pulls,
        )
    except KeyboardInterrupt:
        pass  # Ctrl-C is how an interactive server is stopped: not an error


HTTP_ONLY = {"host": "--host", "port": "--port", "auth_token_file": "--auth-token-file",
             "no_auth": "--no-auth"}  # fmt: skip


def _refuse_http_options(values: dict[str, object]) -> None:
    """`serve-mcp --port 8080` without `--transport http` would serve stdio, waiting silently
    on the terminal: an HTTP-only option set with stdio (a value other than its default) is a
    usage error naming it."""
    from dockerhub_cli import commands
    from dockerhub_cli.errors import InvalidInputError

    defaults = {p.name: p.default for p in commands.get("serve-mcp").cli_params()}
    given = [flag for name, flag in HTTP_ONLY.items() if values[name] != defaults.get(name)]
    if given:
        raise InvalidInputError(
            f"{', '.join(given)} only applies to the HTTP transport; without --transport http "
            "serve-mcp serves stdio (for an assistant that starts it)",
            hint=f"add --transport http to serve over HTTP, or drop {', '.join(given)}",
        )
