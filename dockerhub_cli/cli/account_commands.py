"""`whoami`, `ratelimit`, `login`, `logout`: identities and Docker Hub's pull quota."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dockerhub_cli.cli.app import command, get_service

RegistryArg = Annotated[
    str | None,
    typer.Argument(
        help="Registry host (ghcr.io, localhost:5000) or a config-file registry name; "
        "default Docker Hub."
    ),
]


@command()
def whoami(
    registry: RegistryArg = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Also check the credentials with the registry.")
    ] = False,
) -> None:
    """Show which identity is used for a registry and where its credentials come from.

    Sources, first match wins: DOCKERHUB_USERNAME/DOCKERHUB_TOKEN (Docker Hub only), a
    [[registries]] entry of the config file, then Docker's config.json (credHelpers,
    credsStore, auths).

    Example: dockerhub whoami ghcr.io --verify
    """
    from dockerhub_cli.render import emit
    from dockerhub_cli.render.account import identity

    emit(get_service().whoami(registry, verify=verify), json_output=False, render=identity)


@command()
def ratelimit(
    image: Annotated[
        str | None,
        typer.Argument(help="Image to check (default ratelimitpreview/test, Docker's probe)."),
    ] = None,
) -> None:
    """Show Docker Hub's pull quota for your identity or IP: used/limit and window.

    Reads the ratelimit-limit, ratelimit-remaining and docker-ratelimit-source headers of a
    HEAD request on a manifest, which does not count as a pull. No headers means unlimited.

    Example: dockerhub ratelimit --json
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.account import rate_limit

    with progress("Asking Docker Hub for the pull quota"):
        result = get_service().pull_rate_limit(image)
    emit(result, json_output=False, render=rate_limit)


@command()
def login(
    registry: RegistryArg = None,
    username: Annotated[
        str | None,
        typer.Option(
            "--username",
            "-u",
            envvar="DOCKERHUB_USERNAME",
            help="Account name (prompted if absent).",
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password or access token from stdin."),
    ] = False,
) -> None:
    """Check credentials with the registry, then store them like `docker login`.

    They go to the credential helper configured in ~/.docker/config.json (credHelpers or
    credsStore), otherwise into config.json itself (base64, mode 0600). The secret is never
    printed.

    Example: echo "$TOKEN" | dockerhub login -u octocat --password-stdin ghcr.io
    """
    from dockerhub_cli.errors import InvalidInputError
    from dockerhub_cli.render import emit
    from dockerhub_cli.render.account import login_result

    interactive = sys.stdin.isatty()
    if not username:
        if not interactive or password_stdin:
            raise InvalidInputError("no username", hint="pass --username NAME")
        username = typer.prompt("Username", err=True)
    if password_stdin:
        secret = sys.stdin.read().rstrip("\r\n")
    elif interactive:
        secret = typer.prompt("Password or access token", hide_input=True, err=True)
    else:
        raise InvalidInputError(
            "stdin is not a terminal: cannot prompt for the password",
            hint="pipe it with --password-stdin",
        )
    emit(get_service().login(registry, username, secret), json_output=False, render=login_result)


@command()
def logout(registry: RegistryArg = None) -> None:
    """Remove stored credentials for a registry, like `docker logout`.

    Environment variables and config-file references are not touched.

    Example: dockerhub logout ghcr.io
    """
    from dockerhub_cli.render import emit
    from dockerhub_cli.render.account import logout_result

    emit(get_service().logout(registry), json_output=False, render=logout_result)
