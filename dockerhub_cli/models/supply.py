"""Result models of the supply-chain commands: `sbom`, `provenance`, `vulns`.

A public contract (JSON and MCP structured output): add fields, never rename them. Everything
here comes from the image's BuildKit attestations (in-toto statements in the registry) and,
for `vulns`, from OSV; a value the attestation does not record is null, never invented.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from dockerhub_cli.models.core import Model
from dockerhub_cli.models.images import DockerfileSource as DockerfileSource  # re-export
from dockerhub_cli.models.images import PlatformInfo

Severity = Literal["critical", "high", "medium", "low", "unknown"]
SEVERITY_LEVELS: tuple[str, ...] = ("critical", "high", "medium", "low", "unknown")


class SbomPackage(Model):
    name: str
    version: str | None = None
    purl: str | None = Field(default=None, description="Package URL from the SPDX externalRefs")
    type: str = Field(description="purl type (apk, deb, pypi, npm, ...); 'unknown' without purl")
    license: str | None = Field(
        default=None,
        description="licenseConcluded, else licenseDeclared; null when both are NOASSERTION",
    )
    license_concluded: str | None = None
    license_declared: str | None = None
    spdx_id: str | None = None


class SbomReport(Model):
    rows_field: ClassVar[str] = "packages"
    quiet_field: ClassVar[str] = "purl"

    reference: str
    digest: str = Field(description="Digest of the platform image manifest the SBOM describes")
    index_digest: str = Field(description="Digest of the index that lists the attestation")
    platform: PlatformInfo
    attestation_digest: str = Field(description="Digest of the attestation manifest")
    sbom_digest: str = Field(description="Digest of the in-toto statement holding the SBOM")
    sbom_digests: list[str] = Field(
        default_factory=list, description="Every SPDX statement read (BuildKit may write several)"
    )
    spdx_version: str | None = None
    document_name: str | None = None
    created: datetime | None = None
    creators: list[str] = Field(default_factory=list)
    package_count: int
    packages_without_purl: int = 0
    counts_by_type: dict[str, int] = Field(description="purl type -> number of packages")
    packages: list[SbomPackage]
    notes: list[str] = Field(default_factory=list)
    stale: bool = Field(default=False, description="Served from an expired cache entry")


class BuildMaterial(Model):
    uri: str
    digest: str | None = Field(default=None, description="algorithm:hex (sha256 preferred)")
    image: str | None = Field(
        default=None, description="For pkg:docker materials: the image as name:tag or name@digest"
    )
    platform: str | None = None


class ProvenanceReport(Model):
    rows_field: ClassVar[str] = ""

    reference: str
    digest: str = Field(description="Digest of the platform image manifest it describes")
    index_digest: str
    platform: PlatformInfo
    attestation_digest: str
    provenance_digest: str = Field(description="Digest of the in-toto provenance statement")
    predicate_type: str
    slsa_version: Literal["v0.2", "v1"]
    builder: str | None = Field(default=None, description="builder.id")
    build_type: str | None = None
    build_started_on: datetime | None = None
    build_finished_on: datetime | None = None
    invocation_id: str | None = None
    frontend: str | None = None
    source_repository: str | None = None
    source_commit: str | None = None
    dockerfile: DockerfileSource | None = None
    build_args: dict[str, str] = Field(
        default_factory=dict, description="build-arg:NAME values, without the prefix"
    )
    base_images: list[BuildMaterial] = Field(
        default_factory=list, description="pkg:docker materials other than the frontend image"
    )
    materials: list[BuildMaterial] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    stale: bool = Field(default=False, description="Served from an expired cache entry")


class Vulnerability(Model):
    id: str
    package: str
    version: str | None = None
    severity: Severity
    fixed_version: str | None = Field(
        default=None, description="Earliest fixed version after the installed one, when known"
    )
    summary: str | None = None
    purl: str | None = None
    score: float | None = Field(default=None, description="CVSS base score, when computable")
    cvss_vector: str | None = None
    severity_source: Literal["cvss_v3", "database", "none"] = "none"
    fixed_versions: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    published: datetime | None = None
    modified: datetime | None = None
    url: str | None = None


class SeveritySummary(Model):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    unknown: int = 0


class VulnerabilityReport(Model):
    rows_field: ClassVar[str] = "vulnerabilities"
    quiet_field: ClassVar[str] = "id"

    reference: str
    digest: str = Field(description="Digest of the platform image manifest that was scanned")
    index_digest: str
    platform: PlatformInfo
    sbom_digest: str
    source: Literal["osv"] = "osv"
    osv_url: str
    scanned_at: datetime
    packages_total: int = Field(description="Packages in the SBOM")
    packages_scanned: int = Field(description="Packages with a purl, queried against OSV")
    packages_without_purl: int
    packages_affected: int
    severity_filter: Severity | None = None
    vulnerabilities: list[Vulnerability]
    summary: SeveritySummary = Field(description="Counts of every vulnerability found (unfiltered)")
    limitations: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    stale: bool = Field(default=False, description="Served from an expired cache entry")
