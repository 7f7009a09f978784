"""Renderers for the file commands: files, extract, diff, waste (cat writes raw bytes)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from itertools import islice
from typing import TYPE_CHECKING

from dockerhub_cli.render import bar, display_copy, raw_model
from dockerhub_cli.text import human_size, plural, short_digest, visible, visible_line

if TYPE_CHECKING:
    from rich.console import Console

    from dockerhub_cli.models.files import (
        Download,
        ExtractResult,
        FileChange,
        FileDiff,
        FileInfo,
        FileListing,
        PackageDiff,
        WasteReport,
    )

WASTE_BAR_WIDTH = 12  # cells for the biggest offender in `waste`


def _name(f: FileInfo) -> str:
    """The PATH cell of a display copy's entry (its strings are markup-escaped already: a
    second escape() would show `[bold]x` as `\\[bold]x`)."""
    name = _line(f.path or "/")
    if f.type == "dir":
        return f"[bold blue]{name}/[/]"
    if f.link and f.type == "symlink":
        return f"[cyan]{name}[/] -> {_line(f.link)}"
    if f.link and f.type == "hardlink":
        return f"{name} => {_line(f.link)}"
    return name


def _line(name: str) -> str:
    """A file name or link target on one line: a newline in it (a tar may hold any byte but
    NUL and /) is written `\\n`, or `a\\n-rwsr-xr-x ... etc/shadow` would forge a row."""
    return visible_line(name)


def _entries(n: int) -> str:
    return f"{n:,} entr{'y' if n == 1 else 'ies'}"


def download_line(d: Download) -> str:
    local, remote = d.bytes_read_locally, d.bytes_downloaded - d.bytes_read_locally
    if local and remote:
        read = f"downloaded {human_size(remote)}, read {human_size(local)} from disk"
    elif local:
        read = f"read {human_size(local)} from disk"
    else:
        read = f"downloaded {human_size(d.bytes_downloaded)}"
    layers = f"{plural(d.layers_read, 'layer')} read, {d.layers_cached} from the index cache"
    bound = f" (--max-download {human_size(d.max_download)})" if d.max_download else ""
    return f"{read}{bound}; {layers}"


def _notes(notes: list[str], console: Console) -> None:
    """Notes of a display copy (visible and markup-escaped already)."""
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


_FILE_COLUMNS = ("MODE", "OWNER", "SIZE", "LAYER", "PATH")
PLAIN_SAMPLE = 1000  # rows read before the plain columns' widths are fixed


def files(result: FileListing, console: Console) -> None:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in _FILE_COLUMNS:
        table.add_column(column, justify="right" if column in ("SIZE", "LAYER") else "left")
    for f in result.files:
        size = human_size(f.size) if f.type in ("file", "hardlink") else ""
        table.add_row(f.mode, f"{f.uid}:{f.gid}", size, str(f.layer), _name(f))
    console.print(table)
    _files_footer(result, console)


def _plain_cells(f: FileInfo) -> tuple[str, str, str, str, str]:
    name = _line(f.path or "/")
    if f.type == "dir":
        name += "/"
    elif f.link and f.type == "symlink":
        name = f"{name} -> {_line(f.link)}"
    elif f.link and f.type == "hardlink":
        name = f"{name} => {_line(f.link)}"
    size = human_size(f.size) if f.type in ("file", "hardlink") else ""
    return (visible(f.mode), f"{f.uid}:{f.gid}", size, str(f.layer), name)


def files_plain(result: FileListing, rows: Iterable[FileInfo], console: Console) -> None:
    """`files` into a pipe or a file: the table's columns as plain text, written as the rows
    come (a 110k-entry layer is never held as rows, models or a Rich table). The widths are
    those of the first PLAIN_SAMPLE rows, widened to what a size and a layer number can be
    once there are more (a later, wider owner pushes its line only); paths are never wrapped."""
    write = sys.stdout.write
    it = iter(rows)
    sample = [_plain_cells(f) for f in islice(it, PLAIN_SAMPLE)]
    widths = [len(c) for c in _FILE_COLUMNS]
    for cells in sample:
        for i, cell in enumerate(cells):
            widths[i] = max(widths[i], len(cell))
    if len(sample) == PLAIN_SAMPLE:  # more may come: sizes are at most "999.9 MB" wide
        widths[2] = max(widths[2], len("999.9 MB"))
        widths[3] = max(widths[3], len(str(max(result.layers - 1, 0))))

    def line(cells: tuple[str, ...]) -> str:
        mode, owner, size, layer, name = cells
        return (
            f"{mode.ljust(widths[0])}  {owner.ljust(widths[1])}  {size.rjust(widths[2])}  "
            f"{layer.rjust(widths[3])}  {name}".rstrip()
            + "\n"
        )

    write(line(_FILE_COLUMNS))
    chunk = [line(cells) for cells in sample]
    del sample
    for f in it:
        chunk.append(line(_plain_cells(f)))
        if len(chunk) >= PLAIN_SAMPLE:
            write("".join(chunk))
            chunk.clear()
    write("".join(chunk))
    _files_footer(display_copy(result), console)


files.plain_rows = files_plain  # type: ignore[attr-defined]


def _files_footer(result: FileListing, console: Console) -> None:
    for path in result.deleted:
        console.print(f"[red]deleted[/]  {_line(path)}", highlight=False)
    for path in result.opaque:
        console.print(f"[red]opaque[/]   {_line(path)}/", highlight=False)
    where = f" in /{_line(result.path)}" if result.path else ""
    scope = f" of layer {result.layer}" if result.layer is not None else ""
    console.print(
        f"{_entries(result.total_files)}{where}{scope}, {human_size(result.total_size)} "
        f"of file content; {result.reference} ({short_digest(result.digest)}, "
        f"{plural(result.layers, 'layer')})",
        style="dim",
        highlight=False,
    )
    console.print(download_line(result.download), style="dim", highlight=False)
    _notes(result.notes, console)


def _shown(text: str, *, one_line: bool = True) -> str:
    """A string of a raw model as a display copy has it: visible (on one line: a file name),
    then markup-escaped."""
    from rich.markup import escape

    return escape(visible_line(text) if one_line else visible(text))


@raw_model  # a copy of every written entry (110k of a rootfs) took seconds: strings shown here
def extract(result: ExtractResult, console: Console) -> None:

    console.print(
        f"wrote {_entries(result.entries_written or len(result.written))} "
        f"({human_size(result.bytes_written)}) "
        f"to {_shown(result.directory)}",
        highlight=False,
    )
    for s in result.skipped:
        console.print(f"[yellow]skipped[/] {_shown(s.path)}: {_shown(s.reason)}", highlight=False)
    shown = 10  # a Debian /etc/alternatives holds dozens: the rest are in --json
    for r in result.links_rewritten[:shown]:
        console.print(
            f"[cyan]link[/] {_shown(r.path)} -> {_shown(r.written)} (in the image: "
            f"{_shown(r.link)})",
            highlight=False,
        )
    if len(result.links_rewritten) > shown:
        console.print(
            f"[cyan]link[/] ... {len(result.links_rewritten) - shown} more rewritten (--json "
            "lists them)",
            highlight=False,
        )
    console.print(download_line(result.download), style="dim", highlight=False)
    _notes([_shown(n, one_line=False) for n in result.notes], console)


extract.rows_unused = True  # type: ignore[attr-defined]  # the table shows counts, not rows


def _change_detail(c: FileChange) -> str:
    if c.change != "changed" or c.before is None or c.after is None:
        f = c.after or c.before
        return human_size(f.size) if f and f.type == "file" else (f.type if f else "")
    parts = []
    for field in c.fields:
        a, b = getattr(c.before, field), getattr(c.after, field)
        if field == "sha256":
            parts.append("content")
        elif field == "size":
            parts.append(f"size {human_size(a)} -> {human_size(b)}")
        elif field == "mode":
            parts.append(f"mode {c.before.mode} -> {c.after.mode}")
        else:
            parts.append(f"{field} {a} -> {b}")
    return ", ".join(parts)  # of a display copy: markup-escaped already


_MARK = {"added": "[green]+[/]", "removed": "[red]-[/]", "changed": "[yellow]~[/]"}


def diff(result: FileDiff, console: Console) -> None:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("")
    table.add_column("PATH", overflow="fold")
    table.add_column("WHAT", overflow="fold")
    for c in result.changes:
        table.add_row(_MARK[c.change], _line(c.path), _change_detail(c))
    if result.changes:
        console.print(table)
    t = result.totals
    console.print(
        f"{t.added} added ({human_size(t.bytes_added)}), {t.removed} removed "
        f"({human_size(t.bytes_removed)}), {t.changed} changed; content size "
        f"{'+' if t.size_delta >= 0 else '-'}{human_size(abs(t.size_delta))}"
        + (f" under /{_line(result.path)}" if result.path else ""),
        highlight=False,
    )
    if result.packages is not None:
        _packages(result.packages, console)
    console.print(download_line(result.download), style="dim", highlight=False)
    _notes(result.notes, console)


_PACKAGE_MARK = {
    "added": "[green]+[/]",
    "removed": "[red]-[/]",
    "upgraded": "[green]^[/]",
    "downgraded": "[red]v[/]",
    "changed": "[yellow]~[/]",
}


def _packages(p: PackageDiff, console: Console) -> None:
    from rich.table import Table

    source = "SBOM attestations" if p.source == "sbom" else "package databases"
    if p.changes:
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("")
        table.add_column("PACKAGE", overflow="fold")
        table.add_column("TYPE")
        table.add_column("BEFORE", overflow="fold")
        table.add_column("AFTER", overflow="fold")
        names = Counter(c.name for c in p.changes)
        for c in p.changes:
            # name:arch only where a name changes in several architectures (multi-arch dpkg)
            several = c.arch and names[c.name] > 1
            name = c.name + (f":{c.arch}" if several else "")
            table.add_row(
                _PACKAGE_MARK[c.change], name, c.type, c.before or "", c.after or "",
            )  # fmt: skip
        console.print(table)
    console.print(
        f"packages ({source}): {p.added} added, {p.removed} removed, {p.upgraded} upgraded, "
        f"{p.downgraded} downgraded, {p.changed} changed"
        + (f" ({p.packages1} -> {p.packages2})" if p.packages1 is not None else ""),
        highlight=False,
    )
    console.print(f"A: {p.source1}; B: {p.source2}", style="dim", highlight=False)
    _notes(p.notes, console)


def waste(result: WasteReport, console: Console) -> None:
    from rich.table import Table

    console.print(
        f"[bold]efficiency {result.efficiency:.1%}[/]: {human_size(result.wasted_bytes)} of "
        f"{human_size(result.total_bytes)} of file content is overwritten or deleted by later "
        f"layers ({result.reference}, {short_digest(result.digest)})",
        highlight=False,
    )
    if result.files:
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("WASTED", justify="right")
        table.add_column("", no_wrap=True, style="red")  # WASTED as a bar, to the biggest
        table.add_column("VERSIONS", justify="right")
        table.add_column("LAYERS")
        table.add_column("PATH", overflow="fold")
        biggest = max(item.wasted_bytes for item in result.files)
        for item in result.files:
            layers = ", ".join(
                f"{a}->{b}" for a, b in zip(item.layers, item.removed_by, strict=True)
            )
            table.add_row(
                human_size(item.wasted_bytes),
                bar(item.wasted_bytes / biggest if biggest else 0.0, WASTE_BAR_WIDTH, console),
                str(item.versions),
                layers,
                _line(item.path),
            )
        console.print(table)
    if result.passed is not None:
        bounds = []
        if result.max_wasted_bytes is not None:
            bounds.append(f"--max-wasted-bytes {result.max_wasted_bytes:,}")
        if result.min_efficiency is not None:
            bounds.append(f"--min-efficiency {result.min_efficiency:g}")
        verdict = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
        console.print(f"{verdict} ({', '.join(bounds)})", highlight=False)
    console.print(download_line(result.download), style="dim", highlight=False)
    _notes(result.notes, console)
