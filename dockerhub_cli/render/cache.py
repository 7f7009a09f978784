"""Renderers for `cache info` and `cache clear`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from dockerhub_cli.render import human_size

if TYPE_CHECKING:
    from rich.console import Console

    from dockerhub_cli.models.cache import CacheClearResult, CacheInfo


def cache_info(info: CacheInfo, console: Console) -> None:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")  # the location is copied: fold it, never cut it
    table.add_row("backend", info.backend)
    table.add_row("location", info.location)
    table.add_row("size", human_size(info.size_bytes) if info.size_bytes is not None else "-")
    table.add_row("entries", f"{info.entries:,}")
    table.add_row("expired", f"{info.expired:,}")
    table.add_row("redirects", f"{info.redirects:,}")
    table.add_row("saved results", f"{info.results:,}")
    if info.corrupt_files:
        table.add_row("moved aside", ", ".join(info.corrupt_files))
    console.print(table)


def cache_cleared(result: CacheClearResult, console: Console) -> None:
    what = "expired entries" if result.expired_only else "entries"
    text = f"removed {result.removed:,} {what} from {result.location}; {result.remaining:,} left"
    if result.corrupt_files_removed:
        text += f"; deleted {result.corrupt_files_removed} corrupt cache file(s)"
    if result.results_removed:
        text += f"; {result.results_removed:,} saved command output(s)"
    console.print(text)
