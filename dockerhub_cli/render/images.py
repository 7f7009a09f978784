"""Renderers for image internals: inspect, layers, history, dockerfile, size, manifest."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from dockerhub_cli.render import (
    bar,
    human_count,
    human_size,
    kv_table,
    markup_text,
    plain_table,
    plural,
    relative_time,
    short_digest,
)
from dockerhub_cli.text import visible_line

LAYER_BAR_WIDTH = 16  # cells for the largest layer in `layers`

if TYPE_CHECKING:
    from rich.console import Console

    from dockerhub_cli.models.images import ImageInspection, PlatformInfo, RepositoryInfo
    from dockerhub_cli.models.layers import (
        DockerfileReport,
        HistoryReport,
        LayerReport,
        ManifestReport,
        PullSizeReport,
    )


def _platform(p: PlatformInfo | None) -> str:
    return "-" if p is None else str(p)


def _full_platform(p: PlatformInfo | None) -> str:
    """`os/arch[/variant]`, then os.version and os.features when the platform has them."""
    if p is None:
        return "-"
    text = str(p)
    if p.os_version:
        text += f" {p.os_version}"
    if p.os_features:
        text += f" ({', '.join(p.os_features)})"
    return text


def _platform_line(r: ImageInspection) -> str:
    """The platform, and where the selection read it; the other source when it differs."""
    text = _full_platform(r.platform)
    if r.platform_source == "index":
        other = r.config_platform
        if other is not None and _full_platform(other) != _full_platform(r.platform):
            return f"{text} (index entry; the config says {_full_platform(other)})"
        return f"{text} (index entry)"
    if r.platform_source == "config" and r.media_type.endswith(("index.v1+json", "list.v2+json")):
        return f"{text} (config; the index entry names no platform)"
    return text


def _one_line(text: str | None, limit: int = 90) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _step(created_by: str | None, comment: str | None = None) -> str:
    """A build step as a Dockerfile line (`RUN apt-get ...`), for people; JSON keeps the raw."""
    from dockerhub_cli.oci.history import step_line

    if not created_by:
        return "-"
    return _one_line(step_line(created_by, comment), 200)


def _share(share: float) -> str:
    return "<0.1%" if 0 < share < 0.001 else f"{share:.1%}"


def _words(values: list[str] | None) -> str:
    return json.dumps(values) if values is not None else "-"


def inspection(r: ImageInspection, console: Console) -> None:
    from dockerhub_cli.render.plain import Styled

    t = kv_table()
    t.add_row("Reference", r.reference)
    t.add_row("Digest", r.digest)
    t.add_row("Media type", r.media_type)
    if r.manifest_digest and r.manifest_digest != r.digest:
        t.add_row("Manifest", f"{r.manifest_digest} ({_platform(r.platform)})")
    t.add_row("Platform", _platform_line(r))
    if r.created:
        created = getattr(r.created, "text", None) or r.created.isoformat()
        t.add_row("Created", f"{created} ({relative_time(r.created)})")
    if r.size is not None:
        t.add_row(
            "Size", f"{human_size(r.size)} compressed in {plural(r.layer_count or 0, 'layer')}"
        )
    if r.tag_last_pushed or r.tag_last_pulled:
        t.add_row(
            "Tag pushed / pulled",
            f"{relative_time(r.tag_last_pushed)} / {relative_time(r.tag_last_pulled)}",
        )
    if r.base_image and (r.base_image.name or r.base_image.digest):
        t.add_row("Base image", r.base_image.name or r.base_image.digest or "-")
    c = r.config
    if c is not None:
        t.add_row("Entrypoint", _words(c.entrypoint))
        t.add_row("Cmd", _words(c.cmd))
        t.add_row("Working dir", visible_line(c.working_dir or "-"))
        t.add_row("User", visible_line(c.user or "- (root)"))
        t.add_row("Ports", visible_line(", ".join(c.exposed_ports) or "-"))
        t.add_row("Volumes", visible_line(", ".join(c.volumes) or "-"))
        if c.stop_signal:
            t.add_row("Stop signal", c.stop_signal)
        if c.healthcheck:
            t.add_row("Healthcheck", _words(c.healthcheck.get("Test")))
        if c.shell is not None:
            t.add_row("Shell", _words(c.shell))
        # One value a line: a newline inside a value is shown as \n, or it would read as
        # another value (a label "b\nVerified yes").
        t.add_row("Env", Styled("\n".join(map(visible_line, c.env)) or "-"))
        labels = (visible_line(f"{k}={v}") for k, v in c.labels.items())
        t.add_row("Labels", Styled("\n".join(labels) or "-"))
    console.print(t)
    if len(r.platforms) > 1 or r.media_type.endswith(("index.v1+json", "list.v2+json")):
        console.print()
        pt = plain_table(title=None, box=None, header_style="bold", pad_edge=False)
        pt.add_column("PLATFORM", no_wrap=True)
        pt.add_column("SIZE", justify="right", no_wrap=True)
        pt.add_column("DIGEST", overflow="fold")
        chosen = r.manifest_digest
        for p in r.platforms:
            mark = " *" if p.digest == chosen else ""
            label = p.platform + (f" {p.os_version}" if p.os_version else "")
            if p.os_features:
                label += f" ({', '.join(p.os_features)})"
            pt.add_row(label + mark, human_size(p.size), p.digest)
        for a in r.attestations:
            pt.add_row(
                Styled(f"attestation ({a.platform or '?'})", style="dim"),
                Styled(human_size(a.size), style="dim"),
                Styled(a.digest, style="dim"),
            )
        console.print(pt)
    if r.repository_info is not None:
        console.print()
        repository(r.repository_info, console)


def repository(info: RepositoryInfo, console: Console) -> None:
    from dockerhub_cli.render.plain import Styled

    t = kv_table()
    t.add_row("Repository", info.repository + (" (official)" if info.is_official else ""))
    t.add_row("Description", info.description or "-")
    t.add_row("Stars", human_count(info.star_count))
    t.add_row("Pulls", human_count(info.pull_count))
    t.add_row("Tags", human_count(info.tag_count))
    t.add_row("Last updated", relative_time(info.last_updated))
    if info.content_types:
        t.add_row("Content", Styled(", ".join(info.content_types)))
    if info.categories:
        t.add_row("Categories", Styled(", ".join(info.categories)))
    if info.storage_size is not None:
        t.add_row("Storage", human_size(info.storage_size))
    if info.immutable_tags is not None:
        rules = f" ({', '.join(info.immutable_tags_rules)})" if info.immutable_tags_rules else ""
        t.add_row("Immutable tags", ("yes" if info.immutable_tags else "no") + rules)
    if info.url:
        t.add_row("URL", info.url)
    console.print(t)


def layers(r: LayerReport, console: Console) -> None:
    from rich.table import Table

    console.print(f"[bold]{r.reference}[/bold] {_platform(r.platform)} {r.digest}", soft_wrap=True)
    t = Table(box=None, header_style="bold", pad_edge=False)
    t.add_column("#", justify="right")
    t.add_column("DIGEST", no_wrap=True)
    t.add_column("SIZE", justify="right")
    t.add_column("SHARE", justify="right")
    # The share as a bar, sized to the largest layer (so the biggest one is always full).
    t.add_column("", no_wrap=True, style="cyan")
    if r.insights.base_layers is not None:
        t.add_column("BASE", justify="center")
    t.add_column("CREATED BY", overflow="ellipsis", no_wrap=True)
    largest = max((x.size for x in r.layers), default=0)
    for x in r.layers:
        row = [
            str(x.index),
            short_digest(x.digest),
            human_size(x.size),
            _share(x.share),
            bar(x.size / largest if largest else 0.0, LAYER_BAR_WIDTH, console),
        ]
        if r.insights.base_layers is not None:
            row.append("yes" if x.in_base_image else "")
        row.append(_step(x.created_by, x.comment))
        t.add_row(*row)
    console.print(t)
    console.print(
        f"[bold]Total:[/bold] {human_size(r.total_size)} compressed in "
        f"{plural(len(r.layers), 'layer')}"
    )
    i = r.insights
    if r.layers:
        biggest = ", ".join(f"#{n} ({human_size(r.layers[n].size)})" for n in i.largest)
        console.print(f"Largest layers: {biggest}")
    if i.base_layers is not None and r.base_image:
        console.print(
            f"Base image {r.base_image.name or ''}: "
            f"{plural(i.base_layers, 'layer')} shared "
            f"({human_size(i.base_size)}); this image adds {human_size(i.own_size)}"
        )
    for note in i.notes:
        console.print(f"[dim]note: {note}[/dim]")


def history(r: HistoryReport, console: Console) -> None:
    from rich.table import Table

    console.print(f"[bold]{r.reference}[/bold] {_platform(r.platform)} {r.digest}", soft_wrap=True)
    t = Table(box=None, header_style="bold", pad_edge=False)
    t.add_column("#", justify="right")
    t.add_column("CREATED")
    t.add_column("LAYER", justify="right")
    t.add_column("SIZE", justify="right")
    t.add_column("CREATED BY", overflow="fold")
    for n, step in enumerate(r.history):
        t.add_row(
            str(n),
            relative_time(step.created),
            "-" if step.layer_index is None else str(step.layer_index),
            "0 B" if step.empty_layer else human_size(step.size),
            _step(step.created_by, step.comment),
        )
    console.print(t)


def dockerfile(r: DockerfileReport, console: Console) -> None:
    # Plain text: a reconstruction users may copy; no markup, no highlighting.
    console.print(markup_text(r.dockerfile.rstrip("\n")), soft_wrap=True)


def pull_size(r: PullSizeReport, console: Console) -> None:
    t = kv_table()
    t.add_row("Image", f"{r.reference} ({_platform(r.platform)})")
    t.add_row("Total", f"{human_size(r.total_size)} in {plural(r.layer_count, 'layer')}")
    if r.have:
        for h in r.have:
            t.add_row("Have", f"{h.reference} ({human_size(h.size)})")
        t.add_row(
            "Shared", f"{human_size(r.shared_size)} in {plural(len(r.shared_layers), 'layer')}"
        )
    t.add_row(
        "Download", f"{human_size(r.download_size)} in {plural(r.download_layer_count, 'layer')}"
    )
    console.print(t)
    console.print(markup_text(r.summary), soft_wrap=True)
    for note in r.notes:
        console.print(f"[dim]note: {note}[/dim]", soft_wrap=True)


def manifest(r: ManifestReport, console: Console) -> None:
    from rich.syntax import Syntax

    console.print(f"[dim]{r.media_type} {r.digest} ({r.size} bytes)[/dim]")
    console.print(Syntax(json.dumps(r.manifest, indent=2), "json", background_color="default"))
