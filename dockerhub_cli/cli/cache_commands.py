"""`cache info` and `cache clear`: look at and empty the HTTP cache (SQLite file or Redis)."""

from __future__ import annotations

from typing import Annotated

import typer

from dockerhub_cli.cli.app import app, command, run_settings
from dockerhub_cli.cli.options import JsonOpt

cache_app = typer.Typer(
    name="cache",
    help="Inspect or empty the HTTP cache.",
    no_args_is_help=True,
)
app.add_typer(cache_app)


@command("info", group=cache_app)
def info(json_output: JsonOpt = False) -> None:
    """Show where the cache is, its size, and how many entries (and expired ones) it holds.

    Example: dockerhub cache info --json
    """
    from dockerhub_cli.remote.cache_store import cache_info
    from dockerhub_cli.render import emit
    from dockerhub_cli.render.cache import cache_info as render_info

    emit(cache_info(run_settings()), json_output=json_output, render=render_info)


@command("clear", group=cache_app)
def clear(
    expired: Annotated[
        bool, typer.Option("--expired", help="Only drop expired entries (keep fresh ones).")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Empty the cache (or, with --expired, drop only expired entries).

    Example: dockerhub cache clear --expired
    """
    from dockerhub_cli.remote.cache_store import clear_cache
    from dockerhub_cli.render import emit
    from dockerhub_cli.render.cache import cache_cleared

    emit(
        clear_cache(run_settings(), expired_only=expired),
        json_output=json_output,
        render=cache_cleared,
    )
