"""Renderers for `referrers` (a tree, like `oras discover` / `cosign tree`) and `verify`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerhub_cli.render import human_size, short_digest

if TYPE_CHECKING:
    from rich.console import Console
    from rich.tree import Tree

    from dockerhub_cli.models.supply import Referrer, ReferrersReport, VerifyReport

SOURCE_LABEL = {
    "referrers_api": "referrers API",
    "tag_fallback": "tag fallback",
    "cosign_tag": "cosign tag",
    "in_index": "in index",
}
STATUS_STYLE = {
    "verified": "bold green",
    "invalid": "bold red",
    "unsigned": "yellow",
    "unverifiable": "yellow",
}


def _referrer_label(r: Referrer) -> str:
    sources = ", ".join(SOURCE_LABEL[s] for s in r.sources)
    what = r.artifact_type or r.media_type
    size = f", {human_size(r.size)}" if r.size is not None else ""
    kind = "+".join(r.kinds) if len(r.kinds) > 1 else r.kind
    return f"[bold]{kind}[/bold] {what} {short_digest(r.digest)}{size} [dim]({sources})[/dim]"


def _count(rows: list[Referrer]) -> int:
    return sum(1 + _count(x.referrers) for x in rows)


def _add_referrer(node: Tree, ref: Referrer) -> None:
    """One artifact under its subject, then what is attached to it, one level further in."""
    label = _referrer_label(ref)
    if ref.already_shown:
        label += " [dim](already shown in this tree)[/dim]"
    branch = node.add(label)
    for key in ("org.opencontainers.image.created", "vnd.docker.reference.type"):
        if key in ref.annotations:
            branch.add(f"[dim]{key}: {ref.annotations[key]}[/dim]")
    for predicate in ref.predicate_types:
        branch.add(f"predicate {predicate}")
    for layer in ref.layers[:20]:
        if ref.predicate_types and layer.media_type.endswith("in-toto+json"):
            continue
        branch.add(
            f"[dim]{layer.media_type} {short_digest(layer.digest)} {human_size(layer.size)}[/dim]"
        )
    for child in ref.referrers:
        _add_referrer(branch, child)


def referrers(r: ReferrersReport, console: Console) -> None:
    from rich.tree import Tree

    root = Tree(f"{r.reference} [dim]{r.digest}[/dim]", guide_style="dim")
    for subject in r.subjects:
        attached = [x for x in r.referrers if x.subject == subject.digest]
        if subject.platform is None:
            node = root
        else:
            if not attached:
                continue
            node = root.add(f"{subject.platform} [dim]{subject.digest}[/dim]")
        for ref in attached:
            _add_referrer(node, ref)
    console.print(root)
    total = len(r.referrers)
    nested = sum(_count(x.referrers) for x in r.referrers)
    console.print(
        f"\n{total} attached artifact{'s' if total != 1 else ''}"
        + (f" (+{nested} attached to those)" if nested else "")
        + f"; referrers API: {r.referrers_api}"
        + (" (remembered)" if r.referrers_api_remembered else ""),
        highlight=False,
    )
    for note in r.notes:
        console.print(f"[dim]note: {note}[/dim]", highlight=False)


def verification(r: VerifyReport, console: Console) -> None:
    style = STATUS_STYLE[r.status]
    console.print(f"[{style}]{r.status.upper()}[/]: {r.reason}", highlight=False)
    console.print(f"image   {r.reference} {r.digest}", highlight=False)
    if r.key:
        console.print(f"key     {r.key} ({r.key_type}, {r.key_fingerprint})", highlight=False)
    for check in r.signatures:
        console.print(
            f"  [{STATUS_STYLE[check.status]}]{check.status}[/] {check.kind} "
            f"{short_digest(check.layer_digest or check.artifact_digest)}: {check.reason}",
            highlight=False,
        )
    for note in r.notes:
        console.print(f"[dim]note: {note}[/dim]", highlight=False)
