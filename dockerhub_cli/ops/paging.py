"""One page of a result's rows, for results that arrive whole (an SBOM's packages, the
vulnerabilities of its packages): the service cuts them here, so the CLI (`--limit`/`--page`)
and the MCP tools (`limit`/`page`) page the same way and say the same thing.

The note names the next page as advice (`advice.param("page", ...)`), which each front-end
words itself: "--page 2" on the CLI, "page=2" for a model.
"""

from __future__ import annotations

from typing import TypeVar

from dockerhub_cli import advice
from dockerhub_cli.models.supply import SbomReport, VulnerabilityReport

T = TypeVar("T")


def page_of(
    items: list[T], *, page: int, limit: int | None, what: str, command: str
) -> tuple[list[T], str | None]:
    """Page `page` (from 1) of `limit` items and, when the list was cut, a note saying how to
    get the rest. `limit=None` is every item (no note)."""
    total = len(items)
    if limit is None or (page == 1 and total <= limit):
        return items, None
    start = (page - 1) * limit
    shown = items[start : start + limit]
    pages = max(1, -(-total // limit))
    again = advice.command(command)
    if not shown:
        return shown, (
            f"page {page} is past the end: {total} {what} in {pages} page(s) of {limit}; "
            f"call {again} with {advice.param('page', '1')}"
        )
    note = f"showing {what} {start + 1}-{start + len(shown)} of {total} (page {page} of {pages})"
    if start + len(shown) < total:
        note += f"; more exist: call {again} again with {advice.param('page', str(page + 1))}"
    return shown, note


def page_sbom(report: SbomReport, *, page: int = 1, limit: int | None = None) -> SbomReport:
    shown, note = page_of(report.packages, page=page, limit=limit, what="packages", command="sbom")
    if note is None:
        return report
    note += " (package_count and counts_by_type cover the whole SBOM)"
    return report.model_copy(update={"packages": shown, "notes": [*report.notes, note]})


def page_vulns(
    report: VulnerabilityReport, *, page: int = 1, limit: int | None = None
) -> VulnerabilityReport:
    shown, note = page_of(
        report.vulnerabilities,
        page=page,
        limit=limit,
        what="vulnerabilities (severest first)",
        command="vulns",
    )
    if note is None:
        return report
    note += " (summary counts all of them)"
    return report.model_copy(update={"vulnerabilities": shown, "notes": [*report.notes, note]})


__all__ = ["page_of", "page_sbom", "page_vulns"]
