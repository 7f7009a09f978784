"""OSV (https://osv.dev) client and the `vulns` report built from an image's SBOM.

Protocol: `POST {osv_url}/v1/querybatch` with `{"queries": [{"package": {"purl": ...}}]}` in
batches (at most 1000 queries each; `settings.osv_batch_size`). Each result lists vulnerability
ids and may carry `next_page_token`: that query is then sent again with `page_token` until no
token comes back. Details (summary, severity, affected ranges) come from
`GET {osv_url}/v1/vulns/{id}`.

Caching (same session as everything else, `transport.expiry_patterns`): details for 24 h;
querybatch answers for 1 h, keyed by the request body (requests-cache hashes POST bodies), so
asking about the same set of package URLs again within the hour costs no request, and new
advisories still show up within an hour. POSTs are not retried by the session's urllib3 Retry
(it only retries GET/HEAD), so querybatch retries 429/5xx itself, honouring a short Retry-After.

Severity: the CVSS v3.x base score computed from the vector (the official formula below);
for CVSS v4 only, or when a vector is not computable, `database_specific.severity` (GHSA,
distribution trackers); else "unknown".
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dockerhub_cli.errors import RateLimitedError, UpstreamError
from dockerhub_cli.models.supply import (
    SEVERITY_LEVELS,
    SeveritySummary,
    Vulnerability,
    VulnerabilityReport,
)
from dockerhub_cli.remote.transport import (
    error_message,
    raise_for_server_error,
    retry_after_seconds,
)

if TYPE_CHECKING:
    import requests

    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.models.supply import SbomPackage
    from dockerhub_cli.remote.transport import Transport
    from dockerhub_cli.service import DockerHubService

MAX_BATCH = 1000
MAX_PAGES_PER_QUERY = 50  # a runaway next_page_token loop stops here (with a note)


# -- CVSS v3.x --------------------------------------------------------------------------------

_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}
_BASE_METRICS = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")


def _roundup_v31(value: float) -> float:
    """CVSS v3.1 Roundup: the smallest number with one decimal >= value (float-safe)."""
    whole = round(value * 100_000)
    if whole % 10_000 == 0:
        return whole / 100_000.0
    return (math.floor(whole / 10_000) + 1) / 10.0


def _roundup_v30(value: float) -> float:
    return math.ceil(value * 10) / 10


def cvss3_base_score(vector: str) -> float | None:
    """The base score of a `CVSS:3.0/...` or `CVSS:3.1/...` vector; None if not computable.

    Temporal and environmental metrics in the vector are ignored (OSV reports base vectors).
    """
    parts = (vector or "").strip().split("/")
    if not parts or parts[0] not in ("CVSS:3.0", "CVSS:3.1"):
        return None
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        key, _, value = part.partition(":")
        if not key or not value or key in metrics:
            return None
        metrics[key] = value
    if any(m not in metrics for m in _BASE_METRICS):
        return None
    try:
        scope_changed = {"U": False, "C": True}[metrics["S"]]
        av, ac, ui = _AV[metrics["AV"]], _AC[metrics["AC"]], _UI[metrics["UI"]]
        pr = (_PR_CHANGED if scope_changed else _PR_UNCHANGED)[metrics["PR"]]
        c, i, a = _CIA[metrics["C"]], _CIA[metrics["I"]], _CIA[metrics["A"]]
    except KeyError:
        return None
    roundup = _roundup_v31 if parts[0] == "CVSS:3.1" else _roundup_v30
    iss = 1 - (1 - c) * (1 - i) * (1 - a)
    if scope_changed:
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    else:
        impact = 6.42 * iss
    exploitability = 8.22 * av * ac * pr * ui
    if impact <= 0:
        return 0.0
    if scope_changed:
        return roundup(min(1.08 * (impact + exploitability), 10))
    return roundup(min(impact + exploitability, 10))


def rating(score: float) -> str:
    """CVSS v3 qualitative rating; 0.0 ("none") is reported as low."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


_DATABASE_SEVERITY = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "negligible": "low",
}


def severity_of(
    vuln: dict[str, Any], affected: dict[str, Any] | None = None
) -> tuple[str, float | None, str | None, str]:
    """(severity, score, vector, source) for an OSV record (and its matching `affected`)."""
    entries = [*((affected or {}).get("severity") or []), *(vuln.get("severity") or [])]
    best: tuple[float, str] | None = None
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") != "CVSS_V3":
            continue
        vector = str(entry.get("score") or "")
        score = cvss3_base_score(vector)
        if score is not None and (best is None or score > best[0]):
            best = (score, vector)
    if best is not None:
        return rating(best[0]), best[0], best[1], "cvss_v3"
    any_vector: str | None = next(
        (str(e.get("score")) for e in entries if isinstance(e, dict) and e.get("score")), None
    )
    for source in (
        _dict((affected or {}).get("database_specific")),
        _dict((affected or {}).get("ecosystem_specific")),
        _dict(vuln.get("database_specific")),
    ):
        level = _DATABASE_SEVERITY.get(str(source.get("severity") or "").strip().lower())
        if level:
            return level, None, any_vector, "database"
    return "unknown", None, any_vector, "none"


# -- affected packages and fixed versions -----------------------------------------------------

_ECOSYSTEMS = {
    "pypi": "pypi",
    "npm": "npm",
    "golang": "go",
    "maven": "maven",
    "cargo": "crates.io",
    "gem": "rubygems",
    "nuget": "nuget",
    "composer": "packagist",
    "hex": "hex",
    "pub": "pub",
    "swift": "swifturl",
    "apk": "alpine",
    "deb": "debian",
    "rpm": "red hat",
}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _norm_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _match_affected(vuln: dict[str, Any], package: SbomPackage) -> dict[str, Any] | None:
    """The `affected` entry of `vuln` that is about `package` (best guess when ambiguous)."""
    from dockerhub_cli.ops.supply_chain import parse_purl

    purl = parse_purl(package.purl or "")
    entries = [a for a in vuln.get("affected") or [] if isinstance(a, dict)]
    if purl is None or not entries:
        return entries[0] if len(entries) == 1 else None
    distro = purl.qualifiers.get("distro", "")
    release = re.search(r"(\d+\.\d+)", distro)
    scored: list[tuple[int, int, dict[str, Any]]] = []
    for n, entry in enumerate(entries):
        pkg = _dict(entry.get("package"))
        other = parse_purl(str(pkg.get("purl") or ""))
        score = 0
        if other is not None and other.base.lower() == purl.base.lower():
            score = 3
        elif _norm_name(str(pkg.get("name") or "")) == _norm_name(purl.name):
            ecosystem = str(pkg.get("ecosystem") or "").lower()
            if ecosystem.startswith(_ECOSYSTEMS.get(purl.type, purl.type)):
                score = 2
        if score and release and release.group(1) in str(pkg.get("ecosystem") or ""):
            score += 1
        if score:
            scored.append((score, -n, entry))
    if not scored:
        return entries[0] if len(entries) == 1 else None
    return max(scored, key=lambda s: (s[0], s[1]))[2]


def _version_key(version: str) -> tuple[Any, ...]:
    """A generic ordering: numbers as numbers, other runs as text (`1.2.10` > `1.2.9`)."""
    return tuple(
        (0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.findall(r"\d+|[A-Za-z]+", version)
    )


def fixed_versions(affected: dict[str, Any] | None) -> list[str]:
    found: list[str] = []
    for rng in (affected or {}).get("ranges") or []:
        for event in _dict(rng).get("events") or []:
            fixed = _dict(event).get("fixed")
            if isinstance(fixed, str) and fixed and fixed not in found:
                found.append(fixed)
    return found


def pick_fixed(installed: str | None, fixes: list[str]) -> str | None:
    """The earliest fixed version after `installed` (generic ordering), else the only one."""
    if not fixes:
        return None
    if len(fixes) == 1 or not installed:
        return sorted(fixes, key=_version_key)[0]
    after = [f for f in fixes if _version_key(f) > _version_key(installed)]
    return sorted(after or fixes, key=_version_key)[0]


# -- the client -------------------------------------------------------------------------------


class OsvClient:
    def __init__(
        self,
        settings: Settings,
        transport: Transport,
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self._sleep = sleep

    def sleep(self, seconds: float) -> None:
        (self._sleep or time.sleep)(seconds)

    @property
    def base_url(self) -> str:
        return self.settings.osv_url.rstrip("/")

    def _json(self, response: requests.Response, what: str) -> Any:
        if response.status_code == 429:
            wait = retry_after_seconds(response)
            when = f"retry in {wait:.0f} s" if wait is not None else "retry later"
            raise RateLimitedError(
                f"rate limited by OSV while fetching {what}: "
                f"{error_message(response) or '429'}; {when}",
                retry_after=wait,
                hint="wait a little; answers already fetched are cached",
            )
        raise_for_server_error(response, what)
        if response.status_code != 200:
            raise UpstreamError(
                f"OSV answered HTTP {response.status_code} for {what}: "
                f"{error_message(response) or response.reason}",
                hint=f"check DOCKERHUB_OSV_URL ({self.base_url})",
            )
        try:
            return response.json()
        except ValueError:
            self.transport.forget(response)
            raise UpstreamError(f"OSV sent {what} that is not JSON") from None

    def _post_batch(self, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        url = f"{self.base_url}/v1/querybatch"
        what = f"a querybatch of {len(queries)} packages"
        attempts = max(1, self.settings.retries + 1)
        for attempt in range(1, attempts + 1):
            response = self.transport.request("POST", url, json={"queries": queries}, what=what)
            retryable = response.status_code == 429 or response.status_code >= 500
            if retryable and attempt < attempts:
                wait = retry_after_seconds(response)
                if wait is None:
                    wait = self.settings.backoff_factor * 2 ** (attempt - 1)
                if wait <= self.settings.max_retry_wait:
                    self.sleep(wait)
                    continue
            body = self._json(response, what)
            break
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != len(queries):
            raise UpstreamError(
                f"OSV sent a malformed querybatch answer ({what}: expected {len(queries)} results)"
            )
        return [r if isinstance(r, dict) else {} for r in results]

    def query(self, purls: list[str], notes: list[str] | None = None) -> dict[str, list[str]]:
        """purl -> vulnerability ids (every page), in batches of `osv_batch_size`."""
        size = max(1, min(self.settings.osv_batch_size, MAX_BATCH))
        found: dict[str, list[str]] = {p: [] for p in purls}
        pending: list[tuple[str, str | None]] = [(p, None) for p in purls]
        pages: dict[str, int] = {}
        while pending:
            batch, pending = pending[:size], pending[size:]
            queries: list[dict[str, Any]] = []
            for purl, token in batch:
                query: dict[str, Any] = {"package": {"purl": purl}}
                if token:
                    query["page_token"] = token
                queries.append(query)
            for (purl, _), result in zip(batch, self._post_batch(queries), strict=True):
                for vuln in result.get("vulns") or []:
                    vid = _dict(vuln).get("id")
                    if isinstance(vid, str) and vid and vid not in found[purl]:
                        found[purl].append(vid)
                token = result.get("next_page_token")
                if isinstance(token, str) and token:
                    pages[purl] = pages.get(purl, 1) + 1
                    if pages[purl] > MAX_PAGES_PER_QUERY:
                        if notes is not None:
                            notes.append(
                                f"stopped paging OSV results for {purl} after "
                                f"{MAX_PAGES_PER_QUERY} pages"
                            )
                        continue
                    pending.append((purl, token))
        return found

    def vulnerability(self, vuln_id: str) -> dict[str, Any]:
        from urllib.parse import quote

        what = f"vulnerability {vuln_id}"
        url = f"{self.base_url}/v1/vulns/{quote(vuln_id, safe='')}"
        response = self.transport.request("GET", url, what=what)
        body = self._json(response, what)
        if not isinstance(body, dict) or body.get("id") != vuln_id:
            self.transport.forget(response)
            raise UpstreamError(f"OSV sent a malformed record for {what}")
        return body


# -- the report -------------------------------------------------------------------------------


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


def check_severity(level: str | None) -> str | None:
    from dockerhub_cli.errors import InvalidInputError

    if level is None:
        return None
    value = level.strip().lower()
    if value == "moderate":
        value = "medium"
    if value not in SEVERITY_LEVELS:
        raise InvalidInputError(
            f"severity must be one of {', '.join(SEVERITY_LEVELS)} (got {level!r})",
            hint="--severity high shows high and critical",
        )
    return value


def vulnerability_report(
    service: DockerHubService,
    image: str,
    *,
    platform: str | None = None,
    severity: str | None = None,
) -> VulnerabilityReport:
    from dockerhub_cli.ops.supply_chain import query_purl
    from dockerhub_cli.service import parse_timestamp

    threshold = check_severity(severity)
    from dockerhub_cli.ops.supply_chain import sbom_report

    sbom = sbom_report(
        service,
        image,
        platform=platform,
        consequence="its packages cannot be checked for vulnerabilities (this is NOT a clean "
        "result)",
    )
    scanned_at = datetime.now(UTC)
    notes: list[str] = []
    by_query: dict[str, list[SbomPackage]] = {}
    without_purl = 0
    unusable = 0
    for package in sbom.packages:
        if not package.purl:
            without_purl += 1
            continue
        purl = query_purl(package.purl)
        if purl is None:
            unusable += 1
            continue
        by_query.setdefault(purl, []).append(package)
    client = service.osv
    ids = client.query(sorted(by_query), notes) if by_query else {}
    records: dict[str, dict[str, Any]] = {}
    for vid in sorted({v for found in ids.values() for v in found}):
        records[vid] = client.vulnerability(vid)
    vulns: list[Vulnerability] = []
    affected_packages: set[str] = set()
    for purl, found in ids.items():
        for package in by_query[purl]:
            for vid in found:
                record = records[vid]
                affected = _match_affected(record, package)
                level, score, vector, source = severity_of(record, affected)
                fixes = fixed_versions(affected)
                affected_packages.add(package.purl or package.name)
                vulns.append(
                    Vulnerability(
                        id=vid,
                        package=package.name,
                        version=package.version,
                        severity=level,  # type: ignore[arg-type]
                        fixed_version=pick_fixed(package.version, fixes),
                        summary=_summary_text(record),
                        purl=package.purl,
                        score=score,
                        cvss_vector=vector,
                        severity_source=source,  # type: ignore[arg-type]
                        fixed_versions=fixes,
                        aliases=_aliases(record),
                        published=parse_timestamp(record.get("published")),
                        modified=parse_timestamp(record.get("modified")),
                        url=f"https://osv.dev/vulnerability/{vid}",
                    )
                )
    rank = {level: n for n, level in enumerate(SEVERITY_LEVELS)}
    vulns.sort(key=lambda v: (rank[v.severity], -(v.score or 0), v.package.lower(), v.id))
    summary = summarise(v.severity for v in vulns)
    shown = vulns
    if threshold is not None:
        shown = [v for v in vulns if rank[v.severity] <= rank[threshold]]
        notes.append(
            f"--severity {threshold}: {len(shown)} of {len(vulns)} vulnerabilities shown; "
            "the summary counts all of them"
        )
    limitations = [
        "only packages listed in the image's SBOM attestation were checked; software the SBOM "
        "scanner did not see (static binaries, vendored code, files copied in) is not covered",
        "a package with no OSV match is not proof that it is safe: coverage differs per "
        "ecosystem, and distribution packages are matched without their distro release",
        "purl qualifiers (arch, distro) were dropped from the OSV queries",
    ]
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
        severity_filter=threshold,  # type: ignore[arg-type]
        vulnerabilities=shown,
        summary=summary,
        limitations=limitations,
        notes=notes,
    )


def summarise(levels: Iterable[str]) -> SeveritySummary:
    counts = dict.fromkeys(SEVERITY_LEVELS, 0)
    for level in levels:
        counts[level] = counts.get(level, 0) + 1
    return SeveritySummary(**counts)


__all__ = [
    "OsvClient",
    "cvss3_base_score",
    "rating",
    "severity_of",
    "fixed_versions",
    "pick_fixed",
    "check_severity",
    "vulnerability_report",
]
