"""Renderers for Docker Hub namespaces: repository lists, organisations and READMEs.

Every string here comes from the Hub and its publishers: it is shown as plain text (never as
Rich markup) after `visible()` made control characters visible.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from dockerhub_cli.render import human_count, markup_text, relative_time
from dockerhub_cli.text import visible

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from dockerhub_cli.models.core import OrganisationList, Readme, RepositoryList


def plain(value: str | None) -> Text:
    """Publisher text for a table cell: visible, and never parsed as Rich markup."""
    return markup_text(visible(value or ""))


def repository_list(result: RepositoryList, console: Console) -> None:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("NAME", no_wrap=True)
    table.add_column("DESCRIPTION", overflow="ellipsis", max_width=50)
    table.add_column("STARS", justify="right")
    table.add_column("PULLS", justify="right")
    table.add_column("UPDATED")
    table.add_column("VISIBILITY")
    table.add_column("TYPE")
    for r in result.repositories:
        kinds = [t for t in r.content_types if t != "unrecognized"] or r.content_types
        visibility = r.visibility or "-"
        if r.archived:
            visibility += " (archived)"
        table.add_row(
            plain(r.repository),
            plain(r.description),
            human_count(r.star_count),
            human_count(r.pull_count),
            relative_time(r.last_updated),
            visibility,
            plain(", ".join(kinds) or "-"),
        )
    console.print(table)
    total = f"{result.count:,}" if result.count is not None else "unknown"
    page = f", page {result.page}" if result.page else ""
    console.print(
        markup_text(
            f"{len(result.repositories)} shown{page}, {total} in {result.namespace} "
            f"(sorted by {result.sort})",
            style="dim",
        )
    )


def organisation_list(result: OrganisationList, console: Console) -> None:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("ORGANISATION", no_wrap=True)
    table.add_column("FULL NAME")
    table.add_column("ROLE")
    table.add_column("TEAMS")
    for org in result.organisations:
        table.add_row(
            plain(org.name),
            plain(org.full_name or "-"),
            plain(org.role or "-"),
            plain(", ".join(org.groups) or "-"),
        )
    console.print(table)
    console.print(
        markup_text(f"{len(result.organisations)} organisations of {result.username}", style="dim")
    )


def rendered_readme(result: Readme, console: Console) -> None:
    """The README through Rich's Markdown: links written out as text (no terminal
    hyperlinks), control characters visible, publisher HTML not interpreted."""
    from rich.markdown import Markdown
    from rich.rule import Rule

    console.print(Rule(markup_text(f"README of {result.repository} (written by its publisher)")))
    if result.markdown.strip():
        # markup_text().plain: the display copy's markup escapes undone (Markdown is no markup)
        console.print(Markdown(markup_text(result.markdown).plain, hyperlinks=False))
    if result.url:
        console.print(markup_text(result.url, style="dim"))


def raw_readme(result: Readme, console: Console) -> None:
    """`--raw`: the Markdown itself (control characters made visible, nothing else changed)."""
    text = markup_text(result.markdown).plain  # display copy: visible, escapes undone
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    sys.stdout.flush()
