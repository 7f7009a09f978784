"""OSV (https://osv.dev) client and the `vulns` report built from an image's SBOM.

Protocol: `POST {osv_url}/v1/querybatch` with `{"queries": [...]}` in batches (at most 1000
queries each; `settings.osv_batch_size`). A distribution package is asked about by name,
ecosystem *with its release* and version (`{"package": {"name": "openssl", "ecosystem":
"Debian:12"}, "version": "3.0.11-1~deb12u2"}`), so a Debian 12 package is never matched
against another release's advisories; other packages by their purl (qualifiers dropped).
Each result lists vulnerability ids and may carry `next_page_token`: that query is then sent
again with `page_token` until no token comes back. Details (summary, severity, affected ranges)
come from `GET {osv_url}/v1/vulns/{id}`.

Caching (same session as everything else, `transport.expiry_patterns`): details for 24 h;
querybatch answers for 1 h, keyed by the request body (requests-cache hashes POST bodies), so
asking about the same set of package URLs again within the hour costs no request, and new
advisories still show up within an hour. POSTs are not retried by the session's urllib3 Retry
(it only retries GET/HEAD), so querybatch retries 429/5xx itself, honouring a short Retry-After.

Libraries, not hand-written rules: purls are parsed with `packageurl-python`, versions compared
with `univers` in each ecosystem's own order (dpkg epochs and `~`, apk `_p`/`-r`, rpm, semver,
PEP 440), CVSS v2, v3.x and v4 vectors scored with `cvss`.

Severity: the newest CVSS version the record carries (v4, else v3.x, else v2; the highest base
score within it); else `database_specific.severity` (GHSA, distribution trackers); else
"unknown".
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dockerhub_cli import advice
from dockerhub_cli.errors import RateLimitedError, UpstreamError
from dockerhub_cli.models.supply import (
    SEVERITY_LEVELS,
    DistroInfo,
    SeveritySummary,
)
from dockerhub_cli.remote.transport import (
    MAX_PAGE_BYTES as MAX_OSV_BYTES,
)
from dockerhub_cli.remote.transport import (
    error_message,
    json_body,
    raise_for_server_error,
    retry_after_seconds,
)
from dockerhub_cli.remote.transport import (
    json_refusal as _why,
)

if TYPE_CHECKING:
    import requests
    from packageurl import PackageURL
    from univers.versions import Version

    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.models.supply import SbomPackage
    from dockerhub_cli.remote.transport import Transport

MAX_BATCH = 1000
MAX_PAGES_PER_QUERY = 50  # a runaway next_page_token loop stops here (with a note)


# -- CVSS (the `cvss` library) ----------------------------------------------------------------


def cvss_base_score(vector: str) -> tuple[float, str, str] | None:
    """(base score, rating, "cvss_v2"/"cvss_v3"/"cvss_v4") of a CVSS vector; None when the
    vector is not a valid v2, v3.0, v3.1 or v4.0 base vector."""
    from cvss import CVSS2, CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    text = (vector or "").strip()
    try:
        if text.startswith("CVSS:4.0/"):
            v4 = CVSS4(text)
            return float(v4.base_score), _level(str(v4.severity)), "cvss_v4"
        if text.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            v3 = CVSS3(text)
            return float(v3.scores()[0]), _level(v3.severities()[0]), "cvss_v3"
        if text and not text.startswith("CVSS:"):
            v2 = CVSS2(text)
            return float(v2.scores()[0]), _level(v2.severities()[0]), "cvss_v2"
    except (CVSSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return None


def cvss3_base_score(vector: str) -> float | None:
    """The base score of a `CVSS:3.0/...` or `CVSS:3.1/...` vector; None if not computable."""
    scored = cvss_base_score(vector)
    return scored[0] if scored is not None and scored[2] == "cvss_v3" else None


def _level(name: str) -> str:
    """The library's qualitative rating as ours ("None" is reported as low)."""
    value = name.strip().lower()
    return value if value in ("critical", "high", "medium", "low") else "low"


def rating(score: float) -> str:
    """CVSS v3/v4 qualitative rating; 0.0 ("none") is reported as low."""
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
_CVSS_TYPES = {"CVSS_V4": 3, "CVSS_V3": 2, "CVSS_V2": 1}


def severity_of(
    vuln: dict[str, Any], affected: dict[str, Any] | None = None
) -> tuple[str, float | None, str | None, str]:
    """(severity, score, vector, source) for an OSV record (and its matching `affected`).

    The newest CVSS version present wins (v4 over v3.x over v2), then the highest score."""
    entries = [*((affected or {}).get("severity") or []), *(vuln.get("severity") or [])]
    best: tuple[int, float, str, str, str] | None = None
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") not in _CVSS_TYPES:
            continue
        vector = str(entry.get("score") or "")
        scored = cvss_base_score(vector)
        if scored is None:
            continue
        candidate = (_CVSS_TYPES[str(entry["type"])], scored[0], scored[1], vector, scored[2])
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is not None:
        return best[2], best[1], best[3], best[4]
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


# -- ecosystems and versions (`packageurl-python`, `univers`) ---------------------------------

# purl type -> OSV ecosystem, for language packages (no release in the ecosystem name).
_LANGUAGE_ECOSYSTEMS = {
    "pypi": "PyPI",
    "npm": "npm",
    "golang": "Go",
    "maven": "Maven",
    "cargo": "crates.io",
    "gem": "RubyGems",
    "nuget": "NuGet",
    "composer": "Packagist",
    "hex": "Hex",
    "pub": "Pub",
    "swift": "SwiftURL",
}
# os-release ID / purl namespace -> OSV ecosystem, for distribution packages.
_DISTRO_ECOSYSTEMS = {
    "debian": "Debian",
    "ubuntu": "Ubuntu",
    "alpine": "Alpine",
    "wolfi": "Wolfi",
    "chainguard": "Chainguard",
    "rocky": "Rocky Linux",
    "almalinux": "AlmaLinux",
    "mageia": "Mageia",
    "opensuse": "openSUSE",
    "photon": "Photon OS",
}
_DISTRO_PURL_TYPES = frozenset({"deb", "apk", "rpm", "alpm"})
# Rolling distributions: one ecosystem, no release.
_ROLLING = frozenset({"Wolfi", "Chainguard"})
_DEBIAN_CODENAMES = {
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
}


def parse_purl(text: str | None) -> PackageURL | None:
    """A package URL parsed by `packageurl-python`; None when it is not one."""
    from packageurl import PackageURL

    if not isinstance(text, str) or not text.startswith("pkg:"):
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def release_ecosystem(distro: str, version: str | None) -> str | None:
    """OSV's ecosystem name for a distribution release: ("debian", "12.5") -> "Debian:12",
    ("alpine", "3.20.1") -> "Alpine:v3.20", ("ubuntu", "22.04") -> "Ubuntu:22.04:LTS"."""
    name = _DISTRO_ECOSYSTEMS.get(distro.strip().lower())
    if name is None:
        return None
    if name in _ROLLING:
        return name
    release = (version or "").strip().lower()
    if not release:
        return None
    release = _DEBIAN_CODENAMES.get(release, release)
    numbers = re.match(r"v?(\d+)(?:\.(\d+))?", release)
    if numbers is None:
        return None
    major, minor = numbers.group(1), numbers.group(2)
    if name == "Debian":
        return f"Debian:{major}"
    if name == "Alpine":
        return f"Alpine:v{major}.{minor}" if minor is not None else None
    if name == "Ubuntu":
        if minor is None:
            return None
        lts = int(major) % 2 == 0 and minor == "04"
        return f"Ubuntu:{major}.{minor}" + (":LTS" if lts else "")
    return f"{name}:{major}"


def _distro_qualifier(purl: PackageURL) -> tuple[str, str] | None:
    """(distro id, version) from the purl's `distro` qualifier: "debian-12", "alpine-3.20.1",
    "ubuntu-22.04", or a bare "3.20.1" (Trivy) with the id taken from the namespace."""
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    value = str(qualifiers.get("distro") or "").strip()
    if not value:
        return None
    found = re.match(r"^([A-Za-z][A-Za-z0-9_.]*?)-(\S+)$", value)
    if found:
        return found.group(1).lower(), found.group(2)
    if purl.namespace:
        return purl.namespace.lower(), value
    return None


@dataclass(frozen=True)
class OsvPackage:
    """What OSV is asked about for one SBOM package, and how its versions are ordered."""

    query: dict[str, Any]  # the "package" (+ "version") part of a querybatch query
    ecosystem: str | None  # "Debian:12", "PyPI", ...; None when asked by purl only
    name: str
    version: str | None
    release_known: bool  # a distribution package whose release we know

    @property
    def key(self) -> str:
        return json.dumps(self.query, sort_keys=True)


def osv_package(purl_text: str, distro: DistroInfo | None = None) -> OsvPackage | None:
    """The OSV query for a package URL. Distribution packages (deb, apk, rpm) are asked about
    by source name (`upstream` qualifier), ecosystem with release (from the purl's `distro`
    qualifier, else the SBOM's os-release facts) and version; language packages by purl
    without qualifiers. None for a purl that cannot be queried."""
    purl = parse_purl(purl_text)
    if purl is None or not purl.type or not purl.name:
        return None
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    if purl.type in _DISTRO_PURL_TYPES:
        found = _distro_qualifier(purl)
        if found is None and distro is not None and distro.id:
            found = (distro.id, distro.version_id or "")
        if found is None and purl.namespace:
            found = (purl.namespace.lower(), "")
        ecosystem = release_ecosystem(*found) if found else None
        upstream = str(qualifiers.get("upstream") or "")
        name, _, upstream_version = upstream.partition("@")
        name = name.strip() or purl.name
        version = upstream_version.strip() or purl.version
        if ecosystem is not None and version:
            return OsvPackage(
                {"package": {"name": name, "ecosystem": ecosystem}, "version": version},
                ecosystem,
                name,
                version,
                True,
            )
        base = _DISTRO_ECOSYSTEMS.get((found or ("", ""))[0])
        if base is not None and version:
            # The release is unknown: ask about every release of the distribution.
            return OsvPackage(
                {"package": {"name": name, "ecosystem": base}, "version": version},
                base,
                name,
                version,
                False,
            )
    bare = purl.to_string().split("#", 1)[0].split("?", 1)[0]
    return OsvPackage(
        {"package": {"purl": bare}},
        _LANGUAGE_ECOSYSTEMS.get(purl.type),
        purl.name,
        purl.version,
        purl.type not in _DISTRO_PURL_TYPES,
    )


def query_purl(text: str) -> str | None:
    """The purl as sent to OSV: qualifiers (arch, distro) and subpath stripped, version kept."""
    purl = parse_purl(text)
    if purl is None:
        return None
    return str(purl.to_string()).split("#", 1)[0].split("?", 1)[0]


def _version_class(ecosystem: str | None) -> type[Version] | None:
    """The `univers` version class that orders `ecosystem`'s versions; None if unknown."""
    from univers import versions as v

    base = (ecosystem or "").split(":", 1)[0]
    classes: dict[str, type[Version]] = {
        "Debian": v.DebianVersion,
        "Ubuntu": v.DebianVersion,
        "Alpine": v.AlpineLinuxVersion,
        "Wolfi": v.AlpineLinuxVersion,
        "Chainguard": v.AlpineLinuxVersion,
        "Rocky Linux": v.RpmVersion,
        "AlmaLinux": v.RpmVersion,
        "Red Hat": v.RpmVersion,
        "openSUSE": v.RpmVersion,
        "SUSE": v.RpmVersion,
        "Mageia": v.RpmVersion,
        "Photon OS": v.RpmVersion,
        "PyPI": v.PypiVersion,
        "npm": v.SemverVersion,
        "crates.io": v.SemverVersion,
        "Hex": v.SemverVersion,
        "Pub": v.SemverVersion,
        "Go": v.GolangVersion,
        "Maven": v.MavenVersion,
        "NuGet": v.NugetVersion,
        "RubyGems": v.RubygemsVersion,
        "Packagist": v.ComposerVersion,
    }
    return classes.get(base)


# purl type -> the ecosystem whose version order it follows (for `purl_version_key`).
_TYPE_ORDER = {"deb": "Debian", "apk": "Alpine", "rpm": "Red Hat", **_LANGUAGE_ECOSYSTEMS}


def purl_version_key(purl_type: str, version: str) -> Version | None:
    """`version` ordered by the scheme of its purl type (deb: dpkg epochs and `~`, apk, rpm,
    pypi, npm, ...); None when the type has no known scheme or the version does not parse."""
    return version_key(_TYPE_ORDER.get(purl_type), version)


def version_key(ecosystem: str | None, version: str) -> Version | None:
    """`version` as an ordered `univers` object of its ecosystem; None if not parseable."""
    cls = _version_class(ecosystem)
    if cls is None:
        return None
    try:
        return cls(version)
    except Exception:  # noqa: BLE001 - univers raises many kinds for junk versions
        return None


# -- affected packages and fixed versions -----------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _norm_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _match_affected(
    vuln: dict[str, Any], package: SbomPackage, target: OsvPackage | None = None
) -> dict[str, Any] | None:
    """The `affected` entry of `vuln` that is about `package`: same ecosystem (with release)
    and name first, then the same purl, then the same name in the ecosystem family."""
    entries = [a for a in vuln.get("affected") or [] if isinstance(a, dict)]
    purl = parse_purl(package.purl or "")
    if target is None and package.purl:
        target = osv_package(package.purl)
    if target is None or not entries:
        return entries[0] if len(entries) == 1 else None
    scored: list[tuple[int, int, dict[str, Any]]] = []
    for n, entry in enumerate(entries):
        pkg = _dict(entry.get("package"))
        ecosystem = str(pkg.get("ecosystem") or "")
        same_name = _norm_name(str(pkg.get("name") or "")) in {
            _norm_name(target.name),
            _norm_name(purl.name if purl else target.name),
        }
        other = parse_purl(str(pkg.get("purl") or ""))
        score = 0
        if same_name and target.ecosystem and ecosystem == target.ecosystem:
            score = 4
        elif (
            other is not None
            and purl is not None
            and (other.type, other.namespace, other.name) == (purl.type, purl.namespace, purl.name)
        ):
            score = 3
        elif (
            same_name
            and target.ecosystem
            and ecosystem.split(":", 1)[0] == target.ecosystem.split(":", 1)[0]
        ):
            score = 2 if not target.release_known else 1
        if score:
            scored.append((score, -n, entry))
    if not scored:
        return entries[0] if len(entries) == 1 else None
    return max(scored, key=lambda s: (s[0], s[1]))[2]


def fixed_versions(affected: dict[str, Any] | None) -> list[str]:
    found: list[str] = []
    for rng in (affected or {}).get("ranges") or []:
        for event in _dict(rng).get("events") or []:
            fixed = _dict(event).get("fixed")
            if isinstance(fixed, str) and fixed and fixed not in found:
                found.append(fixed)
    return found


def pick_fixed(installed: str | None, fixes: list[str], ecosystem: str | None = None) -> str | None:
    """The earliest fixed version after `installed`, in `ecosystem`'s own version order.

    Without a known order (or an unparseable version) only a single fix is an answer: a guess
    by numbers alone would be wrong for epochs, `~`, `_p` and rpm releases."""
    if not fixes:
        return None
    keyed = [(version_key(ecosystem, f), f) for f in fixes]
    if any(k is None for k, _ in keyed):
        return fixes[0] if len(fixes) == 1 else None
    ordered = [f for _, f in sorted(keyed, key=lambda kf: kf[0])]  # type: ignore[arg-type,return-value]
    if not installed:
        return ordered[0]
    mine = version_key(ecosystem, installed)
    if mine is None:
        return ordered[0] if len(ordered) == 1 else None
    after = [f for k, f in keyed if k is not None and k > mine]
    if not after:
        return None  # every fix is at or before the installed version
    return min(after, key=lambda f: version_key(ecosystem, f))  # type: ignore[arg-type,return-value]


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
            return json_body(response)
        except ValueError as exc:
            self.transport.forget(response)
            raise UpstreamError(f"OSV sent {what} that is {_why(exc)}") from None

    def _post_batch(self, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        url = f"{self.base_url}/v1/querybatch"
        what = f"a querybatch of {len(queries)} packages"
        attempts = max(1, self.settings.retries + 1)
        for attempt in range(1, attempts + 1):
            response = self.transport.request(
                "POST", url, json={"queries": queries}, what=what, max_bytes=MAX_OSV_BYTES
            )
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
        found = self.query_packages({p: {"package": {"purl": p}} for p in purls}, notes)
        return {p: found[p] for p in purls}

    def query_packages(
        self, queries: dict[str, dict[str, Any]], notes: list[str] | None = None
    ) -> dict[str, list[str]]:
        """key -> vulnerability ids (every page) for each query (`{"package": {...}}` with an
        optional "version"), in batches of `osv_batch_size`."""
        size = max(1, min(self.settings.osv_batch_size, MAX_BATCH))
        found: dict[str, list[str]] = {k: [] for k in queries}
        pending: list[tuple[str, str | None]] = [(k, None) for k in queries]
        pages: dict[str, int] = {}
        while pending:
            batch, pending = pending[:size], pending[size:]
            sent: list[dict[str, Any]] = []
            for key, token in batch:
                query: dict[str, Any] = dict(queries[key])
                if token:
                    query["page_token"] = token
                sent.append(query)
            for (key, _), result in zip(batch, self._post_batch(sent), strict=True):
                for vuln in result.get("vulns") or []:
                    vid = _dict(vuln).get("id")
                    if isinstance(vid, str) and vid and vid not in found[key]:
                        found[key].append(vid)
                token = result.get("next_page_token")
                if isinstance(token, str) and token:
                    pages[key] = pages.get(key, 1) + 1
                    if pages[key] > MAX_PAGES_PER_QUERY:
                        if notes is not None:
                            notes.append(
                                f"stopped paging OSV results for {_label(queries[key])} after "
                                f"{MAX_PAGES_PER_QUERY} pages"
                            )
                        continue
                    pending.append((key, token))
        return found

    def vulnerability(self, vuln_id: str) -> dict[str, Any]:
        from urllib.parse import quote

        what = f"vulnerability {vuln_id}"
        url = f"{self.base_url}/v1/vulns/{quote(vuln_id, safe='')}"
        response = self.transport.request("GET", url, what=what, max_bytes=MAX_OSV_BYTES)
        body = self._json(response, what)
        if not isinstance(body, dict) or body.get("id") != vuln_id:
            self.transport.forget(response)
            raise UpstreamError(f"OSV sent a malformed record for {what}")
        return body


def _label(query: dict[str, Any]) -> str:
    package = _dict(query.get("package"))
    if package.get("purl"):
        return str(package["purl"])
    return f"{package.get('ecosystem')}/{package.get('name')}@{query.get('version')}"


# -- the report -------------------------------------------------------------------------------


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
            hint=f"{advice.param('severity', 'high')} shows high and critical",
        )
    return value


def summarise(levels: Iterable[str]) -> SeveritySummary:
    counts = dict.fromkeys(SEVERITY_LEVELS, 0)
    for level in levels:
        counts[level] = counts.get(level, 0) + 1
    return SeveritySummary(**counts)


__all__ = [
    "OsvClient",
    "OsvPackage",
    "cvss_base_score",
    "cvss3_base_score",
    "osv_package",
    "release_ecosystem",
    "version_key",
    "rating",
    "severity_of",
    "fixed_versions",
    "pick_fixed",
    "check_severity",
    "summarise",
]
