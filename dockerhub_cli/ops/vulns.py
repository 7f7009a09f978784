"""`vulns`: the image's SBOM checked against OSV, with VEX statements attached to the image
applied (not_affected / fixed findings are shown as suppressed, with their justification, never
dropped). The OSV client and the per-ecosystem matching rules live in `remote/osv.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dockerhub_cli import advice
from dockerhub_cli.models.supply import SEVERITY_LEVELS, Vulnerability, VulnerabilityReport
from dockerhub_cli.remote.osv import (
    OsvPackage,
    _dict,
    _match_affected,
    check_severity,
    fixed_versions,
    osv_package,
    parse_purl,
    pick_fixed,
    severity_of,
    summarise,
)

if TYPE_CHECKING:
    from dockerhub_cli.models.supply import SbomPackage
    from dockerhub_cli.ops.clients import Clients


def _summary_text(vuln: dict[str, Any]) -> str | None:
    summary = vuln.get("summary")
    if isinstance(summary, str) and summary.strip():
        return " ".join(summary.split())
    details = vuln.get("details")
    if isinstance(details, str) and details.strip():
        first = " ".join(details.strip().split("\n\n", 1)[0].split())
        return first if len(first) <= 200 else first[:199] + "…"
    return None


def _aliases(vuln: dict[str, Any]) -> list[str]:
    return [str(a) for a in vuln.get("aliases") or [] if isinstance(a, str)]


def vulnerability_report(
    clients: Clients,
    image: str,
    *,
    platform: str | None = None,
    severity: str | None = None,
) -> VulnerabilityReport:
    from dockerhub_cli.oci.timestamp import parse_timestamp
    from dockerhub_cli.ops.supply_chain import sbom_report

    threshold = check_severity(severity)
    sbom = sbom_report(
        clients,
        image,
        platform=platform,
        consequence="its packages cannot be checked for vulnerabilities (this is NOT a clean "
        "result)",
    )
    scanned_at = clients.now()
    notes: list[str] = []
    by_query: dict[str, list[tuple[SbomPackage, OsvPackage]]] = {}
    queries: dict[str, dict[str, Any]] = {}
    without_purl = 0
    unusable = 0
    release_unknown = 0
    for package in sbom.packages:
        if not package.purl:
            without_purl += 1
            continue
        target = osv_package(package.purl, sbom.distro)
        if target is None:
            unusable += 1
            continue
        if not target.release_known:
            release_unknown += 1
        by_query.setdefault(target.key, []).append((package, target))
        queries[target.key] = target.query
    client = clients.osv
    ids = client.query_packages(dict(sorted(queries.items())), notes) if queries else {}
    records: dict[str, dict[str, Any]] = {}
    for vid in sorted({v for found in ids.values() for v in found}):
        records[vid] = client.vulnerability(vid)
    vulns: list[Vulnerability] = []
    affected_packages: set[str] = set()
    for key, found in ids.items():
        for package, target in by_query[key]:
            for vid in found:
                record = records[vid]
                affected = _match_affected(record, package, target)
                level, score, vector, source = severity_of(record, affected)
                fixes = fixed_versions(affected)
                ecosystem = str(_dict((affected or {}).get("package")).get("ecosystem") or "")
                ecosystem = ecosystem or target.ecosystem or ""
                affected_packages.add(package.purl or package.name)
                vulns.append(
                    Vulnerability(
                        id=vid,
                        package=package.name,
                        version=package.version,
                        severity=level,  # type: ignore[arg-type]
                        fixed_version=pick_fixed(target.version, fixes, ecosystem or None),
                        summary=_summary_text(record),
                        purl=package.purl,
                        score=score,
                        cvss_vector=vector,
                        severity_source=source,  # type: ignore[arg-type]
                        ecosystem=ecosystem or None,
                        fixed_versions=fixes,
                        aliases=_aliases(record),
                        published=parse_timestamp(record.get("published")),
                        modified=parse_timestamp(record.get("modified")),
                        url=f"https://osv.dev/vulnerability/{vid}",
                    )
                )
    vex_digests, vex_notes = _apply_vex(clients, image, platform, sbom, vulns)
    notes.extend(vex_notes)
    rank = {level: n for n, level in enumerate(SEVERITY_LEVELS)}
    vulns.sort(
        key=lambda v: (v.suppressed, rank[v.severity], -(v.score or 0), v.package.lower(), v.id)
    )
    summary = summarise(v.severity for v in vulns)
    shown = vulns
    if threshold is not None:
        shown = [v for v in vulns if rank[v.severity] <= rank[threshold]]
        notes.append(
            f"{advice.param('severity', threshold)}: {len(shown)} of {len(vulns)} "
            "vulnerabilities shown; "
            "the summary counts all of them"
        )
    suppressed = sum(1 for v in vulns if v.suppressed)
    if suppressed:
        notes.append(
            f"{suppressed} findings are suppressed by VEX statements attached to the image "
            "(not_affected / fixed, with their justification); they are still listed"
        )
    limitations = [
        "only packages listed in the image's SBOM were checked; software the SBOM scanner did "
        "not see (static binaries, vendored code, files copied in) is not covered",
        "a package with no OSV match is not proof that it is safe: coverage differs per ecosystem",
    ]
    if release_unknown:
        limitations.insert(
            0,
            f"{release_unknown} distribution packages were matched against every release of "
            "their distribution: neither the purl nor the SBOM says which release the image has",
        )
    if without_purl:
        limitations.insert(
            0, f"{without_purl} of {len(sbom.packages)} packages have no purl and were not checked"
        )
    if unusable:
        limitations.insert(0, f"{unusable} packages have a malformed purl and were not checked")
    scanned = sum(len(p) for p in by_query.values())
    return VulnerabilityReport(
        reference=sbom.reference,
        digest=sbom.digest,
        index_digest=sbom.index_digest,
        platform=sbom.platform,
        sbom_digest=sbom.sbom_digest,
        osv_url=client.base_url,
        scanned_at=scanned_at,
        packages_total=len(sbom.packages),
        packages_scanned=scanned,
        packages_without_purl=without_purl,
        packages_affected=len(affected_packages),
        distro=sbom.distro,
        vex_documents=vex_digests,
        suppressed=suppressed,
        severity_filter=threshold,  # type: ignore[arg-type]
        vulnerabilities=shown,
        summary=summary,
        limitations=limitations,
        notes=notes,
    )


# -- VEX (OpenVEX documents attached to the image) --------------------------------------------

VEX_SUPPRESSING = frozenset({"not_affected", "fixed"})


def _apply_vex(
    clients: Clients,
    image: str,
    platform: str | None,
    sbom: Any,
    vulns: list[Vulnerability],
) -> tuple[list[str], list[str]]:
    """Mark the findings OpenVEX statements attached to the image speak about (in place).

    Returns the digests of the documents applied and notes. A registry error while looking
    for VEX is a note, not a failure: the findings are then shown unsuppressed."""
    from dockerhub_cli.errors import DockerHubError
    from dockerhub_cli.ops.supply_chain import _subjects, attached_documents, discovery_for

    try:
        found = discovery_for(clients, image, platform)
        documents, notes = attached_documents(clients, found, _subjects(found), {"openvex"})
    except DockerHubError as exc:
        return [], [f"VEX documents could not be looked up ({exc.message}): none applied"]
    image_digests = {sbom.digest, sbom.index_digest}
    statements: list[tuple[str, int, dict[str, Any], str]] = []
    for n, document in enumerate(documents):
        stamp = str(document.data.get("timestamp") or "")
        for statement in document.data.get("statements") or []:
            if isinstance(statement, dict):
                when = str(statement.get("timestamp") or stamp)
                statements.append((when, n, statement, document.layer_digest))
    statements.sort(key=lambda s: (s[0], s[1]))  # later statements override earlier ones
    for vuln in vulns:
        names = {vuln.id, *vuln.aliases}
        for _, _, statement, digest in statements:
            if not names & _vex_names(statement):
                continue
            if not _vex_applies(statement, vuln.purl, image_digests):
                continue
            status = str(statement.get("status") or "").strip().lower() or None
            vuln.vex_status = status
            vuln.vex_justification = _vex_reason(statement)
            vuln.vex_document = digest
            vuln.suppressed = status in VEX_SUPPRESSING
    return sorted({d.layer_digest for d in documents}), notes


def _vex_names(statement: dict[str, Any]) -> set[str]:
    raw = statement.get("vulnerability")
    names: set[str] = set()
    if isinstance(raw, str):
        names.add(raw)
    elif isinstance(raw, dict):
        for key in ("name", "@id"):
            if isinstance(raw.get(key), str):
                names.add(raw[key])
        names.update(a for a in raw.get("aliases") or [] if isinstance(a, str))
    return names


def _product_ids(raw: Any) -> list[tuple[str, list[str]]]:
    products: list[tuple[str, list[str]]] = []
    for item in raw or []:
        if isinstance(item, str):
            products.append((item, []))
        elif isinstance(item, dict):
            pid = item.get("@id")
            subs = [
                str(s.get("@id")) if isinstance(s, dict) else str(s)
                for s in item.get("subcomponents") or []
                if isinstance(s, dict | str)
            ]
            ids = _dict(item.get("identifiers"))
            pid = pid or ids.get("purl")
            if isinstance(pid, str):
                products.append((pid, subs))
    return products


def _same_package(vex_id: str, purl: str | None) -> bool:
    mine, theirs = parse_purl(purl or ""), parse_purl(vex_id)
    if mine is None or theirs is None:
        return False
    if (mine.type, (mine.namespace or "").lower(), mine.name.lower()) != (
        theirs.type,
        (theirs.namespace or "").lower(),
        theirs.name.lower(),
    ):
        return False
    return theirs.version is None or theirs.version == mine.version


def _is_image(vex_id: str, digests: set[str]) -> bool:
    from urllib.parse import unquote

    text = unquote(vex_id)
    return any(d and (d in text or d.split(":", 1)[-1] in text) for d in digests)


def _vex_applies(statement: dict[str, Any], purl: str | None, digests: set[str]) -> bool:
    products = _product_ids(statement.get("products"))
    subcomponents = [
        str(s.get("@id")) if isinstance(s, dict) else str(s)
        for s in statement.get("subcomponents") or []  # OpenVEX v0.0.1
    ]
    if not products:
        return not subcomponents or any(_same_package(s, purl) for s in subcomponents)
    for pid, subs in products:
        subs = subs or subcomponents
        if _same_package(pid, purl):
            return True
        if _is_image(pid, digests) and (not subs or any(_same_package(s, purl) for s in subs)):
            return True
    return False


def _vex_reason(statement: dict[str, Any]) -> str | None:
    parts = [
        str(statement[k])
        for k in ("justification", "impact_statement", "status_notes", "action_statement")
        if isinstance(statement.get(k), str) and statement[k].strip()
    ]
    return "; ".join(parts) or None


__all__ = ["vulnerability_report"]
