"""Renderers for `pin`, `tags --same-as`, `upgrade` and `watch`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerhub_cli.render import human_size, relative_time, short_digest
from dockerhub_cli.text import plural, visible

if TYPE_CHECKING:
    from rich.console import Console

    from dockerhub_cli.models.pinning import PinReport, SameAsReport, UpgradeReport, WatchReport

_PIN_STYLE = {
    "pinned": "green",
    "updated": "yellow",
    "ok": "dim",
    "unresolved": "red",
    "skipped": "dim",
}


def pin_report(r: PinReport, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("FILE:LINE", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("REFERENCE", overflow="fold")
    for ref in r.references:
        shown = ref.new if ref.new and ref.new != ref.old else ref.old
        detail = f"{ref.old} -> {shown}" if shown != ref.old else ref.old
        if ref.reason:
            detail += f"  ({ref.reason})"
        table.add_row(
            Text(visible(f"{ref.file}:{ref.line}")),
            Text(ref.status, style=_PIN_STYLE[ref.status]),
            Text(visible(detail)),
        )
    console.print(table)
    changed = len(r.changed_files)
    verb = "rewritten" if r.written else "to rewrite"
    console.print(
        f"[dim]{plural(len(r.references), 'reference')} in {plural(len(r.files), 'file')}; "
        f"{plural(changed, 'file')} {verb}; {r.unresolved} unresolved[/dim]"
    )


def diff_text(r: PinReport) -> str:
    return visible(r.diff)


def same_as_report(r: SameAsReport, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    console.print(Text(visible(f"{r.repository}:{r.tag} is {r.digest}")))
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("TAG", no_wrap=True)
    table.add_column("MATCHED BY", no_wrap=True)
    table.add_column("DIGEST", no_wrap=True)
    table.add_column("UPDATED")
    for t in r.tags:
        table.add_row(
            Text(visible(t.name)),
            t.matched_by,
            short_digest(t.digest),
            relative_time(t.last_updated),
        )
    console.print(table)
    scope = "all" if r.complete else "some"
    matching = f" matching {r.pattern}" if r.pattern else ""
    console.print(  # the display copy's strings are markup-safe already
        f"[dim]{plural(len(r.tags), 'same-image tag')}; {plural(r.checked, 'tag')} compared "
        f"({scope} of them{matching}, source: {r.source})[/dim]",
        highlight=False,
    )


def upgrade_report(r: UpgradeReport, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    family = f" (family {r.family})" if r.family else ""
    console.print(Text(visible(f"{r.reference}{family}: {len(r.newer_tags)} newer tags")))
    if not r.candidates and not r.newer_tags:
        return  # no header row over nothing; the notes (stderr) say why when there is a why
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("TAG", no_wrap=True)
    table.add_column("DOWNLOAD", justify="right", no_wrap=True)
    table.add_column("AGE", no_wrap=True)
    table.add_column("BASE", overflow="fold")
    table.add_column("CONFIG CHANGES", overflow="fold")
    table.add_column("VULNS", overflow="fold")
    for c in r.candidates:
        if c.error:
            table.add_row(Text(visible(c.tag)), "-", "-", "-", Text(visible(c.error)), "-")
            continue
        base = "changed" if c.base_changed else "same" if c.base_changed is False else "-"
        if c.base_changed and c.base_after:
            base = f"-> {c.base_after}"
        changes = (
            "; ".join(("! " if ch.breaking else "") + ch.change for ch in c.config_changes)
            or "none"
        )
        v = c.vulnerabilities
        vulns = f"-{len(v.fixed)} +{len(v.added)}" if v.checked else (v.reason or "not checked")
        age = f"{c.age_days:.0f} days" if c.age_days is not None else "-"
        table.add_row(
            Text(visible(c.tag)),
            human_size(c.download_size),
            age,
            Text(visible(base)),
            Text(visible(changes)),
            Text(visible(vulns)),
        )
    console.print(table)
    rest = len(r.newer_tags) - len(r.candidates)
    if rest > 0:
        console.print(Text(visible(f"also newer: {', '.join(r.newer_tags[len(r.candidates) :])}")))


_WATCH_STYLE = {
    "unchanged": "dim",
    "moved": "yellow",
    "newer": "cyan",
    "moved+newer": "yellow",
    "new": "green",
    "error": "red",
}


def watch_report(r: WatchReport, console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("REFERENCE", overflow="fold")
    table.add_column("STATUS", no_wrap=True)
    table.add_column("DETAIL", overflow="fold")
    for w in r.references:
        if w.status == "error":
            detail = w.error or ""
        else:
            was = w.pinned or w.previous
            detail = (
                f"{short_digest(was)} -> {short_digest(w.current)}"
                if w.moved
                else short_digest(w.current)
            )
            if w.newer_tags:
                detail += f"; newer: {', '.join(w.newer_tags[:5])}"
        table.add_row(
            Text(visible(w.reference)),
            Text(w.status, style=_WATCH_STYLE[w.status]),
            Text(visible(detail)),
        )
    console.print(table)
    console.print("[dim]changes found[/dim]" if r.changed else "[dim]nothing changed[/dim]")
