"""Renderers for `cache info` and `cache clear`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from dockerhub_cli.render import human_size, plural

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
    """`removed 3 expired entries and 14 expired saved outputs from PATH; 6 entries left`:
    what was removed, then what remains (never a count that reads as either)."""
    expired = "expired " if result.expired_only else ""
    text = f"removed {result.removed:,} {expired}{'entry' if result.removed == 1 else 'entries'}"
    if result.results_removed:
        saved = "saved output" if result.results_removed == 1 else "saved outputs"
        text += f" and {result.results_removed:,} {expired}{saved}"
    left = "entry" if result.remaining == 1 else "entries"
    text += f" from {result.location}; {result.remaining:,} {left} left"
    if result.corrupt_files_removed:
        text += f"; deleted {plural(result.corrupt_files_removed, 'corrupt cache file')}"
    console.print(text, soft_wrap=True)
