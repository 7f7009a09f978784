"""In-toto statements as BuildKit writes them: SPDX SBOMs and SLSA provenance (v0.2, v1)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.support.oci_build import (
    DEFAULT_CREATED,
    IN_TOTO_STATEMENT_V01,
    SLSA_V02_PREDICATE,
    SPDX_PREDICATE,
)


# --------------------------------------------------------------------------------------------
# In-toto statements (SPDX SBOM, SLSA provenance v0.2)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SbomPackage:
    name: str
    version: str
    license: str  # SPDX expression or NOASSERTION
    purl: str
    license_concluded: str | None = None  # defaults to `license`


def _subject(name: str, digest: str) -> list[dict[str, Any]]:
    return [{"name": name, "digest": {"sha256": digest.split(":", 1)[1]}}]


def spdx_statement(
    subject_name: str,
    subject_digest: str,
    packages: Sequence[SbomPackage],
    *,
    document_name: str = "sbom",
    created: str = DEFAULT_CREATED,
) -> dict[str, Any]:
    """An in-toto statement whose predicate is an SPDX 2.3 document (BuildKit/syft shape)."""
    pkgs = []
    rels = []
    for i, p in enumerate(packages):
        spdx_id = f"SPDXRef-Package-{i}-{p.name}"
        pkgs.append(
            {
                "name": p.name,
                "SPDXID": spdx_id,
                "versionInfo": p.version,
                "supplier": "NOASSERTION",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "licenseConcluded": p.license_concluded or p.license,
                "licenseDeclared": p.license,
                "copyrightText": "NOASSERTION",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": p.purl,
                    }
                ],
            }
        )
        rels.append(
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relatedSpdxElement": spdx_id,
                "relationshipType": "DESCRIBES",
            }
        )
    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": document_name,
        "documentNamespace": f"https://example.org/spdxdocs/{document_name}-"
        + hashlib.sha256(subject_digest.encode()).hexdigest()[:16],
        "creationInfo": {
            "licenseListVersion": "3.22",
            "creators": [
                "Organization: Anchore, Inc",
                "Tool: syft-v0.105.0",
                "Tool: buildkit-v0.13.2",
            ],
            "created": created,
        },
        "packages": pkgs,
        "relationships": rels,
    }
    return {
        "_type": IN_TOTO_STATEMENT_V01,
        "predicateType": SPDX_PREDICATE,
        "subject": _subject(subject_name, subject_digest),
        "predicate": doc,
    }


@dataclass(frozen=True)
class ProvenanceInfo:
    """The facts a SLSA v0.2 provenance statement records (kept for test assertions)."""

    builder_id: str
    build_type: str
    source_uri: str
    source_sha1: str
    entry_point: str
    build_args: Mapping[str, str]
    base_image_purl: str
    base_image_digest: str
    started_on: str
    finished_on: str
    platform: str


def provenance_statement(
    subject_name: str, subject_digest: str, info: ProvenanceInfo
) -> dict[str, Any]:
    """An in-toto statement with a SLSA provenance v0.2 predicate (BuildKit ``mode=max`` shape)."""
    args = {f"build-arg:{k}": v for k, v in info.build_args.items()}
    predicate = {
        "builder": {"id": info.builder_id},
        "buildType": info.build_type,
        "materials": [
            {
                "uri": info.base_image_purl,
                "digest": {"sha256": info.base_image_digest.split(":", 1)[1]},
            },
            {"uri": info.source_uri, "digest": {"sha1": info.source_sha1}},
        ],
        "invocation": {
            "configSource": {
                "uri": info.source_uri,
                "digest": {"sha1": info.source_sha1},
                "entryPoint": info.entry_point,
            },
            "parameters": {
                "frontend": "dockerfile.v0",
                "args": args,
                "locals": [{"name": "context"}, {"name": "dockerfile"}],
            },
            "environment": {"platform": info.platform},
        },
        "metadata": {
            "buildInvocationID": hashlib.sha256(subject_digest.encode()).hexdigest()[:26],
            "buildStartedOn": info.started_on,
            "buildFinishedOn": info.finished_on,
            "reproducible": False,
            "completeness": {"parameters": True, "environment": True, "materials": False},
            "https://mobyproject.org/buildkit@v1#metadata": {
                "vcs": {"revision": info.source_sha1, "source": info.source_uri.split("#")[0]}
            },
        },
    }
    return {
        "_type": IN_TOTO_STATEMENT_V01,
        "predicateType": SLSA_V02_PREDICATE,
        "subject": _subject(subject_name, subject_digest),
        "predicate": predicate,
    }


def provenance_statement_v1(
    subject_name: str, subject_digest: str, info: ProvenanceInfo
) -> dict[str, Any]:
    """The same facts as a SLSA provenance v1 predicate (BuildKit ``version=v1`` shape):
    ``buildDefinition`` (externalParameters.configSource/request, resolvedDependencies) and
    ``runDetails`` (builder, metadata with startedOn/finishedOn)."""
    args = {f"build-arg:{k}": v for k, v in info.build_args.items()}
    predicate = {
        "buildDefinition": {
            "buildType": "https://github.com/moby/buildkit/blob/master/docs/attestations/"
            "slsa-definitions.md",
            "externalParameters": {
                "configSource": {
                    "uri": info.source_uri,
                    "digest": {"sha1": info.source_sha1},
                    "path": info.entry_point,
                },
                "request": {"frontend": "dockerfile.v0", "args": args},
            },
            "internalParameters": {"builderPlatform": info.platform},
            "resolvedDependencies": [
                {
                    "uri": info.base_image_purl,
                    "digest": {"sha256": info.base_image_digest.split(":", 1)[1]},
                },
                {"uri": info.source_uri, "digest": {"sha1": info.source_sha1}},
            ],
        },
        "runDetails": {
            "builder": {"id": info.builder_id},
            "metadata": {
                "invocationID": hashlib.sha256(subject_digest.encode()).hexdigest()[:26],
                "startedOn": info.started_on,
                "finishedOn": info.finished_on,
                "https://mobyproject.org/buildkit@v1#metadata": {
                    "vcs": {"revision": info.source_sha1, "source": info.source_uri.split("#")[0]}
                },
            },
        },
    }
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://slsa.dev/provenance/v1",
        "subject": _subject(subject_name, subject_digest),
        "predicate": predicate,
    }


def alpine_packages(arch: str) -> list[SbomPackage]:
    """A few realistic Alpine + PyPI packages (purls and licenses) for an SBOM."""
    apk = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    q = f"?arch={apk}&distro=alpine-3.19.1"
    return [
        SbomPackage(
            "alpine-baselayout",
            "3.4.3-r2",
            "GPL-2.0-only",
            f"pkg:apk/alpine/alpine-baselayout@3.4.3-r2{q}",
        ),
        SbomPackage(
            "busybox", "1.36.1-r15", "GPL-2.0-only", f"pkg:apk/alpine/busybox@1.36.1-r15{q}"
        ),
        SbomPackage(
            "musl", "1.2.4_git20230717-r4", "MIT", f"pkg:apk/alpine/musl@1.2.4_git20230717-r4{q}"
        ),
        SbomPackage(
            "libssl3",
            "3.1.4-r5",
            "Apache-2.0",
            f"pkg:apk/alpine/libssl3@3.1.4-r5{q}",
            license_concluded="NOASSERTION",
        ),
        SbomPackage("zlib", "1.3.1-r0", "Zlib", f"pkg:apk/alpine/zlib@1.3.1-r0{q}"),
        SbomPackage("requests", "2.31.0", "Apache-2.0", "pkg:pypi/requests@2.31.0"),
        SbomPackage("urllib3", "2.1.0", "MIT", "pkg:pypi/urllib3@2.1.0"),
        SbomPackage("certifi", "2023.11.17", "MPL-2.0", "pkg:pypi/certifi@2023.11.17"),
    ]
