"""`repos`, `orgs` and `readme`: Docker Hub namespaces, repository listings and READMEs."""

from __future__ import annotations

from typing import Annotated

import typer

from dockerhub_cli.cli.app import command, get_service, warn_notes
from dockerhub_cli.cli.options import JsonOpt, LimitOpt, PageOpt


@command()
def repos(
    namespace: Annotated[
        str, typer.Argument(help="A Docker Hub user or organisation, e.g. bitnami or library.")
    ],
    limit: LimitOpt = 25,
    page: PageOpt = 1,
    all_repos: Annotated[
        bool, typer.Option("--all", help="List every repository (follows every page).")
    ] = False,
    pattern: Annotated[
        str | None,
        typer.Option("--filter", metavar="GLOB", help="Only names matching GLOB, e.g. 'redis*'."),
    ] = None,
    content_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="Only repositories holding this content: image, helm, wasm, plugin, model...",
        ),
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            help="updated (newest first, the default), pulls, stars (most first) or name (A-Z); "
            "the Hub sorts all but stars.",
        ),
    ] = "updated",
    json_output: JsonOpt = False,
) -> None:
    """List the repositories of a Docker Hub user or organisation.

    Example: dockerhub repos bitnami --sort pulls --limit 10
    """
    from dockerhub_cli.errors import InvalidInputError
    from dockerhub_cli.ops.hub_catalog import REPO_SORTS
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.catalog import repository_list

    if sort not in REPO_SORTS:
        raise InvalidInputError(f"--sort must be one of {', '.join(REPO_SORTS)} (got {sort!r})")
    with progress(f"Listing repositories of {namespace}"):
        result = get_service().repositories(
            namespace,
            limit=limit,
            page=page,
            all_repos=all_repos,
            pattern=pattern,
            content_type=content_type,
            sort=sort,  # type: ignore[arg-type]
        )
    emit(result, json_output=json_output, render=repository_list)
    if not json_output:
        warn_notes(result.notes)


@command()
def orgs(json_output: JsonOpt = False) -> None:
    """List the organisations of the signed-in Docker Hub account (exit 4 when anonymous).

    Example: dockerhub orgs --json
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.catalog import organisation_list

    with progress("Listing your organisations"):
        result = get_service().organisations()
    emit(result, json_output=json_output, render=organisation_list)
    if not json_output:
        warn_notes(result.notes)


@command()
def readme(
    repository: Annotated[str, typer.Argument(help="Docker Hub repository, e.g. nginx.")],
    raw: Annotated[
        bool, typer.Option("--raw", help="Print the Markdown itself instead of rendering it.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Show a Docker Hub repository's README (its full description), rendered as Markdown.

    Example: dockerhub readme nginx --raw
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.catalog import raw_readme, rendered_readme

    with progress(f"Fetching the README of {repository}"):
        result = get_service().readme(repository)
    emit(result, json_output=json_output, render=raw_readme if raw else rendered_readme)
    if not json_output:
        warn_notes(result.notes)
