"""Renderers for `cache info`, `cache clear` and `cache warm`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerhub_cli.render import human_size, plural

if TYPE_CHECKING:
    from rich.console import Console

    from dockerhub_cli.models.cache import CacheClearResult, CacheInfo, WarmReport


def cache_info(info: CacheInfo, console: Console) -> None:
    from rich.table import Table

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


_WARM_STYLE = {"ok": "green", "partial": "yellow", "failed": "red"}


def warm_report(r: WarmReport, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    from dockerhub_cli.text import plural, visible

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("IMAGE", overflow="fold")  # a reference is copied: fold it, never cut it
    table.add_column("STATUS", no_wrap=True)
    table.add_column("PLATFORMS", no_wrap=True, justify="right")
    table.add_column("LAYERS", no_wrap=True, justify="right")
    table.add_column("REQUESTS", no_wrap=True, justify="right")
    table.add_column("DOWNLOADED", no_wrap=True, justify="right")
    table.add_column("CACHED", no_wrap=True, justify="right")
    for image in r.images:
        table.add_row(
            Text(visible(image.reference)),
            Text(image.status, style=_WARM_STYLE.get(image.status, "")),
            str(len(image.platforms)),
            str(image.layers) if r.layers else "-",
            str(image.requests),
            human_size(image.bytes),
            str(image.already_cached),
        )
    console.print(table)
    if r.failures:
        failed = Table(box=None, header_style="bold", pad_edge=False)
        failed.add_column("FAILED", overflow="fold")
        failed.add_column("WHAT", no_wrap=True)
        failed.add_column("REASON", overflow="fold")
        for f in r.failures:
            failed.add_row(Text(visible(f.target)), Text(visible(f.what)), Text(visible(f.reason)))
        console.print(failed)
    summary = (
        f"{plural(len(r.images), 'image')}, {plural(r.platforms, 'platform')}: "
        f"{plural(r.requests, 'request')}, {human_size(r.bytes)} downloaded, "
        f"{plural(r.already_cached, 'item')} already cached"
    )
    if r.failures:
        summary += f"; {len(r.failures)} failed"
    console.print(f"[dim]{summary}[/dim]")
