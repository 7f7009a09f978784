"""`login`'s body: prompts for what was not given (the rest of `login` is its spec entry)."""

from __future__ import annotations

import sys

import typer


def login(registry: str | None, username: str | None, password_stdin: bool) -> None:
    """Check credentials with the registry, then store them like `docker login`."""
    from dockerhub_cli import advice
    from dockerhub_cli.cli.run import get_service
    from dockerhub_cli.errors import InvalidInputError
    from dockerhub_cli.render import emit
    from dockerhub_cli.render.account import login_result

    interactive = sys.stdin.isatty()
    if not username:
        if not interactive or password_stdin:
            raise InvalidInputError("no username", hint=f"pass {advice.param('username', 'NAME')}")
        username = typer.prompt("Username", err=True)
    if password_stdin:
        secret = sys.stdin.read().rstrip("\r\n")
    elif interactive:
        secret = typer.prompt("Password or access token", hide_input=True, err=True)
    else:
        raise InvalidInputError(
            "stdin is not a terminal: cannot prompt for the password",
            hint=f"pipe it with {advice.param('password_stdin')}",
        )
    emit(get_service().login(registry, username, secret), json_output=False, render=login_result)
