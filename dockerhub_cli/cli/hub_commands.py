"""`search` and `tags`: Docker Hub listings (tags work on any registry)."""

from __future__ import annotations

from typing import Annotated

import typer

from dockerhub_cli.cli.app import command, get_service, warn_notes
from dockerhub_cli.cli.options import JsonOpt, LimitOpt, PageOpt


@command()
def search(
    query: Annotated[
        str, typer.Argument(help="What to look for, e.g. nginx (max 100 characters).")
    ],
    limit: LimitOpt = 25,
    page: PageOpt = 1,
    offset: Annotated[
        int | None,
        typer.Option(
            "--offset", min=0, max=10_000, help="Start at this result (0-based; overrides --page)."
        ),
    ] = None,
    official: Annotated[
        bool, typer.Option("--official", help="Only Docker Official Images (= --badge official).")
    ] = False,
    automated: Annotated[
        bool,
        typer.Option("--automated", help="Only automated builds (the classic search only)."),
    ] = False,
    badge: Annotated[
        list[str] | None,
        typer.Option(
            "--badge",
            metavar="official|verified|open-source",
            help="Only trusted content with this badge (repeatable: any of them).",
        ),
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            metavar="SLUG",
            help="Only this category, e.g. databases or web-servers (repeatable).",
        ),
    ] = None,
    arch: Annotated[
        list[str] | None,
        typer.Option(
            "--arch", metavar="ARCH", help="Only images for this CPU, e.g. arm64 (repeatable)."
        ),
    ] = None,
    os_name: Annotated[
        list[str] | None,
        typer.Option(
            "--os", metavar="OS", help="Only images for this OS, e.g. windows (repeatable)."
        ),
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option("--sort", help="pulls or updated (default: best match)."),
    ] = None,
    order: Annotated[
        str | None,
        typer.Option("--order", help="desc (default with --sort) or asc."),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Search Docker Hub like its web site: badges, categories, architectures, sort.

    When the site's search API is unavailable the classic search answers, and a warning names
    every filter it could not apply.

    Example: dockerhub search postgres --badge official --arch arm64 --sort pulls
    """
    from dockerhub_cli.errors import InvalidInputError
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.hub import search_results

    if sort is not None and sort not in ("pulls", "updated"):
        raise InvalidInputError(f"--sort must be pulls or updated (got {sort!r})")
    if order is not None and order not in ("asc", "desc"):
        raise InvalidInputError(f"--order must be asc or desc (got {order!r})")
    with progress(f"Searching Docker Hub for {query!r}"):
        result = get_service().search(
            query,
            limit=limit,
            page=page,
            offset=offset,
            official=official,
            automated=automated,
            badges=badge,
            categories=category,
            architectures=arch,
            operating_systems=os_name,
            sort=sort,  # type: ignore[arg-type]
            order=order,  # type: ignore[arg-type]
        )
    emit(result, json_output=json_output, render=search_results)
    if not json_output:
        warn_notes(result.notes)


@command()
def tags(
    repository: Annotated[
        str,
        typer.Argument(
            help="Repository: nginx, bitnami/redis, ghcr.io/org/app, localhost:5000/app."
        ),
    ],
    limit: LimitOpt = 25,
    page: PageOpt = 1,
    all_tags: Annotated[
        bool, typer.Option("--all", help="List every tag (follows every page).")
    ] = False,
    pattern: Annotated[
        str | None,
        typer.Option(
            "--filter", metavar="GLOB", help="Only tags matching GLOB, e.g. '1.2*-alpine'."
        ),
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option(
            "--sort",
            help="updated (newest first; the default on Docker Hub), name (A-Z; the default on "
            "other registries) or semver (newest version first).",
        ),
    ] = None,
    same_as: Annotated[
        str | None,
        typer.Option(
            "--same-as",
            metavar="TAG",
            help="Only the tags that are the same image as TAG (by index digest, platform "
            "manifest digests or config digests), e.g. --same-as latest.",
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """List the tags of a repository (Docker Hub: with digest, size, platforms).

    Example: dockerhub tags nginx --filter '1.27*' --sort semver
    """
    from dockerhub_cli.errors import InvalidInputError
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.hub import tag_list

    if same_as is not None:
        from dockerhub_cli.render.pinning import same_as_report

        with progress(f"Finding the tags of {repository} that are {same_as}"):
            same = get_service().same_as(repository, same_as)
        emit(same, json_output=json_output, render=same_as_report)
        if not json_output:
            warn_notes(same.notes)
        return

    if sort is not None and sort not in ("updated", "name", "semver"):
        raise InvalidInputError(f"--sort must be updated, name or semver (got {sort!r})")
    with progress(f"Listing tags of {repository}"):
        result = get_service().tags(
            repository,
            limit=limit,
            page=page,
            all_tags=all_tags,
            pattern=pattern,
            sort=sort,  # type: ignore[arg-type]
        )
    emit(result, json_output=json_output, render=tag_list)
    if not json_output:
        warn_notes(result.notes)
