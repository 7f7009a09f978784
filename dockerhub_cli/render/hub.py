"""Renderers for Docker Hub listings: search results and tags."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from dockerhub_cli.render import human_count, human_size, relative_time, short_digest

if TYPE_CHECKING:
    from rich.console import Console

    from dockerhub_cli.models.core import SearchResults, TagList


def search_results(result: SearchResults, console: Console) -> None:
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("NAME", no_wrap=True)
    table.add_column("DESCRIPTION", overflow="ellipsis", max_width=60)
    table.add_column("STARS", justify="right")
    table.add_column("PULLS", justify="right")
    table.add_column("OFFICIAL", justify="center")
    for r in result.results:
        table.add_row(
            r.name,
            r.description,
            human_count(r.star_count),
            human_count(r.pull_count),
            "[OK]" if r.is_official else "",
        )
    console.print(table)
    shown = len(result.results)
    console.print(
        f"[dim]{shown} shown, page {result.page}, {result.count:,} matches on Docker Hub"
        + (" (filtered)" if result.filtered else "")
        + "[/dim]"
    )


def tag_list(result: TagList, console: Console) -> None:
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("TAG", no_wrap=True)
    has_meta = any(t.digest or t.size or t.last_updated for t in result.tags)
    if has_meta:
        table.add_column("DIGEST", no_wrap=True)
        table.add_column("SIZE", justify="right")
        table.add_column("UPDATED")
        table.add_column("PLATFORMS")
    for t in result.tags:
        if has_meta:
            table.add_row(
                t.name,
                short_digest(t.digest),
                human_size(t.size),
                relative_time(t.last_updated),
                ", ".join(t.platforms or []) or "-",
            )
        else:
            table.add_row(t.name)
    console.print(table)
    total = f"{result.count:,}" if result.count is not None else "unknown"
    page = f", page {result.page}" if result.page else ""
    console.print(
        f"[dim]{len(result.tags)} shown{page}, {total} in {result.repository} "
        f"(source: {result.source})[/dim]"
    )
