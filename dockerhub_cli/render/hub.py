"""Renderers for Docker Hub listings: search results and tags."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from dockerhub_cli.render import human_count, human_size, raw_model, relative_time, short_digest
from dockerhub_cli.text import visible, visible_line

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from dockerhub_cli.models.core import SearchResult, SearchResults
    from dockerhub_cli.models.tags import TagList


_BADGE_WORDS = {
    "official": "official",
    "verified_publisher": "verified",
    "open_source": "open source",
}


def search_results(result: SearchResults, console: Console) -> None:
    from rich.table import Table

    from dockerhub_cli.render.catalog import plain

    rows: list[tuple[SearchResult, str, str]] = []
    for r in result.results:
        badge = _BADGE_WORDS.get(r.badge or "", r.badge or "")
        if not badge and r.is_official:
            badge = "official"
        if r.archived:
            badge = f"{badge} (archived)".strip()
        rows.append((r, badge, r.pull_count_label or human_count(r.pull_count)))
    show_arch = bool(result.filters.get("architectures"))  # shown when asked about

    def fixed(header: str, values: list[str]) -> int:
        return max([len(header), *(len(v) for v in values)])

    # Names, counts and badges keep their width; the description (then ARCH) gives way.
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("NAME", no_wrap=True, min_width=fixed("NAME", [r.name for r, _, _ in rows]))
    table.add_column("DESCRIPTION", overflow="fold", max_width=50)
    table.add_column(
        "STARS",
        justify="right",
        min_width=fixed("STARS", [human_count(r.star_count) for r, _, _ in rows]),
    )
    table.add_column("PULLS", justify="right", min_width=fixed("PULLS", [p for _, _, p in rows]))
    table.add_column("BADGE", min_width=fixed("BADGE", [b for _, b, _ in rows]))
    if show_arch:
        table.add_column("ARCH", overflow="ellipsis", max_width=30, no_wrap=True)
    for r, badge, pulls in rows:
        row: list[Text | str] = [
            plain(r.name),
            plain(r.description),
            human_count(r.star_count),
            plain(pulls),
            badge,
        ]
        if show_arch:
            row.append(plain(", ".join(r.architectures) or "-"))
        table.add_row(*row)
    console.print(table)
    shown = len(result.results)
    where = f"page {result.page}" + (f" (from result {result.offset})" if result.offset else "")
    console.print(
        f"[dim]{shown} shown, {where}, {result.count:,} matches on Docker Hub"
        + (" (filtered)" if result.filtered else "")
        + ("" if result.source == "v4" else " (classic search)")
        + "[/dim]"
    )


@raw_model  # every cell and the footer go through visible(); cells are Text, not markup
def tag_list(result: TagList, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    has_meta = any(t.digest or t.size or t.last_updated for t in result.tags)
    rows = (
        [
            t.name,
            short_digest(t.digest),
            human_size(t.size),
            relative_time(t.last_updated),
            ", ".join(t.platforms or []) or "-",
        ]
        if has_meta
        else [t.name]
        for t in result.tags
    )
    headers = ["TAG", "DIGEST", "SIZE", "UPDATED", "PLATFORMS"] if has_meta else ["TAG"]
    total = f"{result.count:,}" if result.count is not None else "unknown"
    page = f", page {result.page}" if result.page else ""
    footer = visible(
        f"{len(result.tags)} shown{page}, {total} in {result.repository} (source: {result.source})"
    )
    if not console.is_terminal:
        # Into a pipe or a file: the same columns as plain text, written in chunks, in time
        # linear in the number of tags (a Rich table of 50,000 rows took seconds to lay out).
        _plain_rows(headers, rows, right={2} if has_meta else set())
        sys.stdout.write(footer + "\n")
        sys.stdout.flush()
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("TAG", no_wrap=True)
    if has_meta:
        table.add_column("DIGEST", no_wrap=True)
        table.add_column("SIZE", justify="right")
        table.add_column("UPDATED")
        table.add_column("PLATFORMS")
    for row in rows:
        table.add_row(*(Text(visible_line(cell)) for cell in row))
    console.print(table)
    console.print(Text(footer, style="dim"))


def _plain_rows(headers: list[str], rows: Iterable[list[str]], right: set[int]) -> None:
    """Aligned columns two spaces apart (like the table), control characters made visible.
    One column (a registry's names) is streamed as it comes; more need their widths first."""
    write = sys.stdout.write
    chunk: list[str] = []

    def flush_if_full() -> None:
        if len(chunk) >= 1000:
            write("".join(chunk))
            chunk.clear()

    if len(headers) == 1:
        write(headers[0] + "\n")
        for row in rows:
            chunk.append(visible_line(row[0]).rstrip() + "\n")
            flush_if_full()
        write("".join(chunk))
        return
    cells = [[visible_line(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    last = len(headers) - 1

    def line(row: list[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if i in right else cell if i == last else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(parts).rstrip() + "\n"

    write(line(headers))
    for row in cells:
        chunk.append(line(row))
        flush_if_full()
    write("".join(chunk))
