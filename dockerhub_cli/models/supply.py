"""Result models of the supply-chain commands: `sbom`, `provenance`, `vulns`, `referrers`,
`verify`.

A public contract (JSON and MCP structured output): add fields, never rename them. Everything
here comes from what is attached to the image in the registry (BuildKit attestations in the
index, OCI 1.1 referrers, their tag fallback, cosign's tags) and, for `vulns`, from OSV; a
value the registry does not record is null, never invented.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from dockerhub_cli import limits
from dockerhub_cli.models.base import Model, empty_list
from dockerhub_cli.models.images import PlatformInfo
from dockerhub_cli.models.layers import DockerfileSource as DockerfileSource  # re-export

Severity = Literal["critical", "high", "medium", "low", "unknown"]
SEVERITY_LEVELS: tuple[str, ...] = limits.SEVERITY_LEVELS  # == get_args(Severity), tested


ReferrerSource = Literal["referrers_api", "tag_fallback", "cosign_tag", "in_index"]
ReferrerKind = Literal[
    "signature",
    "sigstore_bundle",
    "notation_signature",
    "sbom",
    "provenance",
    "vex",
    "attestation",
    "other",
]


class DistroInfo(Model):
    """The image's distribution release, from its SBOM (os-release facts or purl qualifiers)."""

    id: str = Field(description="os-release ID: debian, ubuntu, alpine, ...")
    version_id: str | None = Field(default=None, description="os-release VERSION_ID: 12, 3.20.1")
    ecosystem: str | None = Field(
        default=None, description="OSV ecosystem of this release: Debian:12, Alpine:v3.20"
    )


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
        default_factory=empty_list,
        description="Every SPDX statement read (BuildKit may write several)",
    )
    spdx_version: str | None = None
    sbom_format: Literal["spdx", "cyclonedx"] = "spdx"
    sbom_source: ReferrerSource = Field(
        default="in_index", description="Where the SBOM was found (see `referrers`)"
    )
    cyclonedx_version: str | None = None
    distro: DistroInfo | None = Field(
        default=None, description="The distribution release the SBOM records, when it does"
    )
    document_name: str | None = None
    created: datetime | None = None
    creators: list[str] = Field(default_factory=empty_list)
    package_count: int
    packages_without_purl: int = 0
    counts_by_type: dict[str, int] = Field(description="purl type -> number of packages")
    packages: list[SbomPackage]
    notes: list[str] = Field(default_factory=empty_list)
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
    provenance_source: ReferrerSource = Field(
        default="in_index", description="Where the provenance was found (see `referrers`)"
    )
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
        default_factory=empty_list, description="pkg:docker materials other than the frontend image"
    )
    materials: list[BuildMaterial] = Field(default_factory=empty_list)
    notes: list[str] = Field(default_factory=empty_list)
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
    severity_source: Literal["cvss_v4", "cvss_v3", "cvss_v2", "database", "none"] = "none"
    ecosystem: str | None = Field(
        default=None, description="OSV ecosystem asked (with release: Debian:12, Alpine:v3.20)"
    )
    fixed_versions: list[str] = Field(default_factory=empty_list)
    suppressed: bool = Field(
        default=False,
        description="A VEX statement attached to the image says not_affected or fixed",
    )
    vex_status: str | None = Field(
        default=None, description="OpenVEX status for this finding, when a statement covers it"
    )
    vex_justification: str | None = Field(
        default=None, description="The VEX justification or impact statement"
    )
    vex_document: str | None = Field(default=None, description="Digest of the VEX document")
    aliases: list[str] = Field(default_factory=empty_list)
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
    distro: DistroInfo | None = None
    vex_documents: list[str] = Field(
        default_factory=empty_list, description="Digests of the OpenVEX documents applied"
    )
    suppressed: int = Field(
        default=0, description="Findings a VEX statement marks not_affected or fixed (shown)"
    )
    severity_filter: Severity | None = None
    vulnerabilities: list[Vulnerability]
    summary: SeveritySummary = Field(
        description="Counts of every vulnerability found (unfiltered, suppressed ones included)"
    )
    limitations: list[str] = Field(default_factory=empty_list)
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = Field(default=False, description="Served from an expired cache entry")


# -- referrers ----------------------------------------------------------------------------------


class ReferrerLayer(Model):
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = Field(default_factory=dict)


class Referrer(Model):
    """One artifact attached to a subject manifest (signature, SBOM, attestation, ...)."""

    subject: str = Field(description="Digest of the manifest it is attached to")
    subject_platform: str | None = Field(
        default=None, description="Platform of that manifest (null for the index)"
    )
    digest: str = Field(description="Digest of the artifact manifest")
    media_type: str
    artifact_type: str | None = Field(
        default=None, description="artifactType, else the config media type"
    )
    size: int | None = None
    kind: ReferrerKind
    kinds: list[ReferrerKind] = Field(
        default_factory=empty_list,
        description="Every kind it holds, `kind` first (an attestation with provenance and an "
        "SBOM: provenance, sbom)",
    )
    annotations: dict[str, str] = Field(default_factory=dict)
    sources: list[ReferrerSource] = Field(description="Every source that listed it (merged)")
    tags: list[str] = Field(default_factory=empty_list, description="Tags it was found under")
    predicate_types: list[str] = Field(default_factory=empty_list)
    layers: list[ReferrerLayer] = Field(default_factory=empty_list)
    referrers: list[Referrer] = Field(
        default_factory=empty_list,
        description="Artifacts attached to this artifact (e.g. a signature of an SBOM), the "
        "same fields, nested to the report's depth",
    )
    already_shown: bool = Field(
        default=False,
        description="This artifact is listed elsewhere in the tree (reached again through a "
        "cycle, or attached to two subjects): its own referrers are listed there, not here",
    )


class ReferrerSubject(Model):
    digest: str
    media_type: str
    platform: str | None = None
    referrers: int = 0


class ReferrersReport(Model):
    rows_field: ClassVar[str] = "referrers"
    quiet_field: ClassVar[str] = "digest"

    reference: str
    digest: str = Field(description="Digest the reference resolves to (index or manifest)")
    media_type: str
    referrers_api: Literal["supported", "unsupported", "unknown"] = Field(
        description="Whether the registry implements GET /v2/<name>/referrers/<digest>"
    )
    referrers_api_remembered: bool = Field(
        default=False, description="The support answer came from an earlier probe (cached)"
    )
    artifact_type_filter: str | None = None
    subjects: list[ReferrerSubject]
    referrers: list[Referrer]
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = Field(default=False, description="Served from an expired cache entry")
    depth: int = Field(
        default=1, description="Levels of referrers looked up (1: only the image's own)"
    )


# -- signatures ---------------------------------------------------------------------------------

VerifyStatus = Literal["verified", "invalid", "unsigned", "unverifiable"]


class SignatureCheck(Model):
    kind: Literal["cosign", "sigstore_bundle", "notation"]
    status: Literal["verified", "invalid", "unverifiable"]
    reason: str
    artifact_digest: str = Field(description="Digest of the signature manifest")
    layer_digest: str | None = Field(default=None, description="Digest of the signed payload")
    sources: list[ReferrerSource] = Field(default_factory=empty_list)
    signed_digest: str | None = Field(
        default=None, description="critical.image.docker-manifest-digest of the payload"
    )
    docker_reference: str | None = Field(
        default=None, description="critical.identity.docker-reference of the payload"
    )


class VerifyReport(Model):
    rows_field: ClassVar[str] = "signatures"
    quiet_field: ClassVar[str] = "status"

    reference: str
    digest: str = Field(description="The image digest the signatures must cover")
    status: VerifyStatus
    reason: str
    key: str | None = Field(default=None, description="The public key file used")
    key_type: str | None = Field(default=None, description="ecdsa-p256, rsa-2048, ed25519, ...")
    key_fingerprint: str | None = Field(
        default=None, description="sha256 of the key's DER SubjectPublicKeyInfo"
    )
    trusted_root: str | None = None
    signatures: list[SignatureCheck]
    notes: list[str] = Field(default_factory=empty_list)
    stale: bool = Field(
        default=False,
        description="Served from an expired cache entry: the signatures are those of the "
        "last successful look, not necessarily the current ones",
    )
