"""Renderers for `compare` and `updates`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dockerhub_cli.render import (
    bar_chars,
    human_size,
    kv_table,
    markup_text,
    plural,
    prose,
    short_digest,
    split_bar,
)
from dockerhub_cli.render.images import _step

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from dockerhub_cli.models.compare import Comparison, MappingDiff, UpdateReport

_STATUS_STYLE = {
    "base": "green",
    "shared": "cyan",
    "different": "yellow",
    "only_left": "red",
    "only_right": "red",
}
_STATUS_TEXT = {
    "base": "shared base",
    "shared": "shared",
    "different": "differs",
    "only_left": "left only",
    "only_right": "right only",
}


def _signed(size: int) -> str:
    return ("+" if size >= 0 else "-") + human_size(abs(size))


def _json(value: Any) -> str:
    return "-" if value is None else json.dumps(value)


def comparison(r: Comparison, console: Console) -> None:
    from rich.table import Table

    t = Table(box=None, header_style="bold", pad_edge=False)
    t.add_column("", style="bold", no_wrap=True)
    # The arguments (and `diff`, and the JSON's image1/image2) say IMAGE1/IMAGE2; the rest of
    # the output says left/right: the header names both.
    t.add_column("IMAGE1 (LEFT)", overflow="fold")
    t.add_column("IMAGE2 (RIGHT)", overflow="fold")
    left, right = r.left, r.right
    t.add_row("Reference", left.reference, right.reference)
    t.add_row("Digest", left.digest, right.digest)
    if left.index_digest or right.index_digest:
        t.add_row("Index", left.index_digest or "-", right.index_digest or "-")
    t.add_row("Platform", left.platform or "-", right.platform or "-")
    if left.platforms or right.platforms:
        t.add_row("Platforms", ", ".join(left.platforms) or "-", ", ".join(right.platforms) or "-")
    t.add_row(
        "Created",
        left.created.isoformat() if left.created else "-",
        right.created.isoformat() if right.created else "-",
    )
    pct = f" ({r.size_delta_percent:+.1f}%)" if r.size_delta_percent is not None else ""
    t.add_row(
        "Size",
        f"{human_size(left.size)} in {plural(left.layer_count, 'layer')}",
        f"{human_size(right.size)} in {plural(right.layer_count, 'layer')}"
        f"  ({_signed(r.size_delta)}{pct})",
    )
    console.print(t)
    console.print()
    _size_picture(r, console)
    console.print()
    prose(console, markup_text(r.summary))
    console.print()

    # A narrow terminal shrinks only the digest and step columns (rich collapses wrappable
    # columns first): digests fold, the step is cut with an ellipsis, and #, SIZE and STATUS
    # stay whole instead of all columns being cut evenly down to '…'.
    lt = Table(box=None, header_style="bold", pad_edge=False)
    lt.add_column("#", justify="right", no_wrap=True)
    lt.add_column("LEFT LAYER", overflow="fold")
    lt.add_column("SIZE", justify="right", no_wrap=True)
    lt.add_column("RIGHT LAYER", overflow="fold")
    lt.add_column("SIZE", justify="right", no_wrap=True)
    lt.add_column("STATUS", no_wrap=True)
    lt.add_column("STEP (right, else left)", overflow="ellipsis")
    for row in r.layers:
        style = _STATUS_STYLE[row.status]
        lt.add_row(
            str(row.position),
            short_digest(row.left_digest) if row.left_digest else "",
            human_size(row.left_size) if row.left_size is not None else "",
            short_digest(row.right_digest) if row.right_digest else "",
            human_size(row.right_size) if row.right_size is not None else "",
            markup_text(_STATUS_TEXT[row.status], style=style),
            markup_text(_step(row.right_step or row.left_step), no_wrap=True, overflow="ellipsis"),
        )
    console.print(lt)

    d = r.config_diff
    lines: list[Text] = []
    lines += _mapping_lines("env", d.env)
    lines += _mapping_lines("label", d.labels)
    for name, diff in (
        ("entrypoint", d.entrypoint),
        ("cmd", d.cmd),
        ("user", d.user),
        ("workdir", d.working_dir),
    ):
        if diff.changed:
            lines.append(
                markup_text(f"~ {name}: {_json(diff.left)} -> {_json(diff.right)}", "yellow")
            )
    for name, sd in (("port", d.exposed_ports), ("volume", d.volumes)):
        lines += [markup_text(f"+ {name} {x}", "green") for x in sd.added]
        lines += [markup_text(f"- {name} {x}", "red") for x in sd.removed]
    if d.platforms is not None and (d.platforms.only_left or d.platforms.only_right):
        lines += [markup_text(f"+ platform {p}", "green") for p in d.platforms.only_right]
        lines += [markup_text(f"- platform {p}", "red") for p in d.platforms.only_left]
    console.print()
    console.print(markup_text("Config differences", style="bold"))
    for line in lines or [markup_text("none", style="dim")]:
        console.print(markup_text("  ") + line)

    h = r.history_diff
    console.print()
    console.print(markup_text(f"Build steps (first {h.common_prefix} identical)", style="bold"))
    if not h.only_left and not h.only_right:
        console.print(markup_text("  no differences", style="dim"))
    for step in h.only_left:
        console.print(markup_text(f"  - {_step(step.created_by)}", style="red"))
    for step in h.only_right:
        console.print(markup_text(f"  + {_step(step.created_by)}", style="green"))


SIZE_BAR_WIDTH = 40  # cells for the bigger image in `compare`


def _size_picture(r: Comparison, console: Console) -> None:
    """Both sizes as bars on one scale: the bytes of layers the images share, then each one's
    own layers (what a pull of it adds on top of the other)."""
    from rich.table import Table

    biggest = max(r.left.size, r.right.size)
    if biggest <= 0:
        return
    width = max(10, min(SIZE_BAR_WIDTH, console.width - 24))
    shared_status = ("base", "shared")
    g = Table.grid(padding=(0, 2))
    g.add_column(style="bold", no_wrap=True)
    g.add_column(no_wrap=True)
    g.add_column(justify="right", no_wrap=True)
    for label, size, sizes in (
        ("LEFT", r.left.size, [x.left_size for x in r.layers if x.status in shared_status]),
        ("RIGHT", r.right.size, [x.right_size for x in r.layers if x.status in shared_status]),
    ):
        shared = min(sum(s or 0 for s in sizes), size)
        common, own = split_bar([shared / biggest, (size - shared) / biggest], width, console)
        picture = markup_text(common, style="green") + markup_text(own, style="yellow")
        g.add_row(label, picture, human_size(size))
    console.print(g)
    chars = bar_chars(console)
    common_char, own_char = chars[0], chars[1]
    console.print(
        markup_text(f"{common_char} layers both have   {own_char} layers of that image only", "dim")
    )


def _mapping_lines(name: str, diff: MappingDiff) -> list[Text]:
    lines = [markup_text(f"+ {name} {k}={v}", "green") for k, v in diff.added.items()]
    lines += [markup_text(f"- {name} {k}={v}", "red") for k, v in diff.removed.items()]
    lines += [
        markup_text(f"~ {name} {k}: {c.left} -> {c.right}", "yellow")
        for k, c in diff.changed.items()
    ]
    return lines


def updates(r: UpdateReport, console: Console) -> None:
    style = {True: "bold red", False: "bold green", None: "bold yellow"}[r.base_outdated]
    prose(console, markup_text(r.verdict, style=style))
    console.print()
    t = kv_table()
    t.add_row("Image", f"{r.reference}  ({r.platform or '-'})")
    t.add_row("Digest", r.digest)
    if r.base is not None:
        b = r.base
        t.add_row("Base", f"{b.reference}  (from {'--base' if b.source == 'user' else b.source})")
        t.add_row("Built on", b.digest_at_build or "- (not recorded)")
        current = b.current_digest or "-"
        if b.current_manifest_digest and b.current_manifest_digest != b.current_digest:
            current += f"\n{b.current_manifest_digest} ({b.platform or '-'})"
        t.add_row("Base now", current)
    e = r.evidence
    if e is not None:
        t.add_row(
            "Layers",
            f"{e.shared_prefix_layers} of the base's {e.base_layer_count} current layers "
            f"lead the image ({human_size(e.shared_prefix_size)} of {human_size(e.base_size)}); "
            f"the image has {e.image_layer_count}",
        )
    if r.base is not None:
        t.add_row("Why", markup_text(r.reason))
    if r.tag is not None:
        if r.newer_tags:
            more = (
                f" (+{r.newer_tags_total - len(r.newer_tags)} more)"
                if r.newer_tags_total > len(r.newer_tags)
                else ""
            )
            t.add_row("Newer tags", ", ".join(r.newer_tags) + more)
        else:
            t.add_row(
                "Newer tags", "none" + ("" if r.tags_complete else " found (listing incomplete)")
            )
    console.print(t)
