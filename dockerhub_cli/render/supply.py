"""Renderers for the supply-chain commands: sbom, provenance, vulns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerhub_cli.render import kv_table, relative_time, short_digest

if TYPE_CHECKING:
    from rich.console import Console

    from dockerhub_cli.models.supply import ProvenanceReport, SbomReport, VulnerabilityReport

SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "unknown": "dim",
}


def sbom(r: SbomReport, console: Console) -> None:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("NAME", overflow="fold")
    table.add_column("VERSION", overflow="fold")
    table.add_column("TYPE", no_wrap=True)
    table.add_column("LICENSE", overflow="fold")
    table.add_column("PURL", overflow="fold")
    for p in r.packages:
        table.add_row(
            p.name,
            p.version or "-",
            p.type,
            p.license or "-",
            p.purl or "-",
        )
    console.print(table)
    counts = ", ".join(f"{kind} {n}" for kind, n in r.counts_by_type.items())
    console.print(
        f"\n{r.package_count} packages ({counts}) in the SBOM of {r.reference} "
        f"({r.platform}, {short_digest(r.digest)})",
        highlight=False,
    )
    for note in r.notes:
        console.print(f"[dim]note: {note}[/dim]", highlight=False)


def provenance(r: ProvenanceReport, console: Console) -> None:
    t = kv_table()
    t.add_row("Reference", r.reference)
    t.add_row("Image", f"{r.digest} ({r.platform})")
    t.add_row("Provenance", f"SLSA {r.slsa_version} ({short_digest(r.provenance_digest)})")
    t.add_row("Builder", r.builder or "-")
    t.add_row("Build type", r.build_type or "-")
    if r.build_started_on or r.build_finished_on:
        started = r.build_started_on.isoformat() if r.build_started_on else "?"
        finished = r.build_finished_on.isoformat() if r.build_finished_on else "?"
        took = ""
        if r.build_started_on and r.build_finished_on:
            seconds = (r.build_finished_on - r.build_started_on).total_seconds()
            took = f" ({seconds:.0f} s)"
        t.add_row(
            "Built",
            f"{started} → {finished}{took}, {relative_time(r.build_finished_on)}",
        )
    t.add_row("Source", r.source_repository or "-")
    t.add_row("Commit", r.source_commit or "-")
    d = r.dockerfile
    if d is not None:
        where = d.path or "-"
        if d.context:
            where += f" (context {d.context})"
        t.add_row("Dockerfile", where)
        if d.url:
            t.add_row("", d.url)
    if r.frontend:
        t.add_row("Frontend", r.frontend)
    if r.build_args:
        t.add_row("Build args", "\n".join(f"{k}={v}" for k, v in r.build_args.items()))
    if r.base_images:
        t.add_row(
            "Base images",
            (
                "\n".join(
                    f"{m.image}"
                    + (f"@{m.digest}" if m.digest and "@" not in (m.image or "") else "")
                    for m in r.base_images
                )
            ),
        )
    others = [m for m in r.materials if m not in r.base_images]
    if others:
        t.add_row("Materials", "\n".join(m.uri for m in others))
    console.print(t)
    for note in r.notes:
        console.print(f"[dim]note: {note}[/dim]", highlight=False)


def vulns(r: VulnerabilityReport, console: Console) -> None:
    from rich.table import Table

    if r.vulnerabilities:
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("SEVERITY", no_wrap=True)
        table.add_column("ID", no_wrap=True)
        table.add_column("PACKAGE", overflow="fold")
        table.add_column("VERSION", overflow="fold")
        table.add_column("FIXED IN", overflow="fold")
        table.add_column("SUMMARY", overflow="ellipsis", no_wrap=True, max_width=60)
        for v in r.vulnerabilities:
            level = v.severity + (f" {v.score:.1f}" if v.score is not None else "")
            shown = f"[{SEVERITY_STYLE[v.severity]}]{level}[/]"
            if v.suppressed:
                shown = f"[dim]{level} VEX {v.vex_status or ''}[/]"
            table.add_row(
                shown,
                v.id,
                v.package,
                v.version or "-",
                v.fixed_version or "-",
                v.summary or "",
            )
        console.print(table)
        console.print()
    s = r.summary
    total = s.critical + s.high + s.medium + s.low + s.unknown
    counts = ", ".join(
        f"[{SEVERITY_STYLE[level]}]{getattr(s, level)} {level}[/]"
        for level in ("critical", "high", "medium", "low", "unknown")
    )
    console.print(
        f"{total} known vulnerabilities ({counts}) in {r.packages_affected} of "
        f"{r.packages_scanned} packages checked against OSV; {r.reference} "
        f"({r.platform}, {short_digest(r.digest)})",
        highlight=False,
    )
    notes = list(r.notes)
    notes.extend(
        f"{v.id} in {v.package}: {v.vex_status} per VEX"
        + (f" ({v.vex_justification})" if v.vex_justification else "")
        for v in r.vulnerabilities
        if v.suppressed
    )
    if r.packages_without_purl:
        notes.append(f"{r.packages_without_purl} packages have no purl and were not checked")
    notes.append("no OSV match is not proof of safety; see `limitations` in --json")
    for note in notes:
        console.print(f"[dim]note: {note}[/dim]", highlight=False)
