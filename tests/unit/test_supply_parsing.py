"""SPDX, SLSA (v0.2 and v1), purl and CVSS parsing: pure functions, no network."""

from __future__ import annotations

import base64
import json

import pytest

from dockerhub_cli.errors import UpstreamError
from dockerhub_cli.ops.supply_chain import (
    browse_url,
    parse_provenance,
    parse_purl,
    parse_statement,
    query_purl,
    spdx_packages,
)
from dockerhub_cli.remote.osv import (
    check_severity,
    cvss3_base_score,
    fixed_versions,
    pick_fixed,
    rating,
    severity_of,
)
from tests.support.attestations import (
    ProvenanceInfo,
    alpine_packages,
    provenance_statement,
    provenance_statement_v1,
    spdx_statement,
)

DIGEST = "sha256:" + "ab" * 32
INFO = ProvenanceInfo(
    builder_id="https://github.com/example/app/actions/runs/42",
    build_type="https://mobyproject.org/buildkit@v1",
    source_uri="https://github.com/example/app.git#refs/heads/main",
    source_sha1="6a4c0cb4ac7e53bbbe473df71b61a5bf9f95252f",
    entry_point="Dockerfile",
    build_args={"VERSION": "1.0"},
    base_image_purl="pkg:docker/alpine@3.19?platform=linux%2Famd64",
    base_image_digest="sha256:" + "cd" * 32,
    started_on="2024-05-01T11:58:01.123456789Z",
    finished_on="2024-05-01T11:59:12Z",
    platform="linux/amd64",
)


@pytest.mark.parametrize(
    ("vector", "score", "level"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4, "medium"),
        ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.8, "low"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "medium"),  # the classic XSS
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "high"),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "low"),
        # temporal metrics are ignored: the base score stays
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O", 9.8, "critical"),
    ],
)
def test_cvss3_base_scores(vector: str, score: float, level: str) -> None:
    assert cvss3_base_score(vector) == score
    assert rating(score) == level


@pytest.mark.parametrize(
    "vector",
    [
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",  # v4: not v3
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",  # CVSS v2: not v3
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # A missing
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "",
    ],
)
def test_uncomputable_vectors(vector: str) -> None:
    assert cvss3_base_score(vector) is None


def test_severity_prefers_cvss_then_database_then_unknown() -> None:
    v3 = {
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
    }
    assert severity_of(v3)[:2] == ("critical", 9.8)
    v4_with_db = {
        "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H"}],
        "database_specific": {"severity": "MODERATE"},
    }
    level, score, vector, source = severity_of(v4_with_db)
    assert (level, score, source) == ("medium", None, "database")
    assert vector.startswith("CVSS:4.0")
    assert severity_of({"id": "X"}) == ("unknown", None, None, "none")
    per_package = {"database_specific": {"severity": "LOW"}}
    assert severity_of({"database_specific": {"severity": "HIGH"}}, per_package)[0] == "low"


def test_fixed_version_is_the_first_fix_after_the_installed_version() -> None:
    affected = {
        "ranges": [
            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.10"}]},
            {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.0.3"}]},
        ]
    }
    fixes = fixed_versions(affected)
    assert fixes == ["1.2.10", "2.0.3"]
    assert pick_fixed("1.2.9", fixes, "PyPI") == "1.2.10"
    assert pick_fixed("2.0.1", fixes, "PyPI") == "2.0.3"
    assert pick_fixed(None, fixes, "PyPI") == "1.2.10"
    assert pick_fixed("1.0", [], "PyPI") is None
    # No known version order: only a single fix is an answer, never a guess.
    assert pick_fixed("1.2.9", fixes, "SomethingElse") is None
    assert pick_fixed("1.2.9", ["1.2.10"], None) == "1.2.10"


def test_check_severity() -> None:
    assert check_severity(None) is None
    assert check_severity("HIGH") == "high"
    assert check_severity("moderate") == "medium"
    with pytest.raises(Exception, match="severity must be one of"):
        check_severity("severe")


def test_purls() -> None:
    p = parse_purl("pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1")
    assert p is not None
    assert (p.type, p.namespace, p.name, p.version) == ("apk", "alpine", "busybox", "1.36.1-r15")
    assert p.qualifiers == {"arch": "x86_64", "distro": "alpine-3.19.1"}
    scoped = parse_purl("pkg:npm/%40angular/core@17.0.0")
    assert scoped is not None and scoped.namespace == "@angular" and scoped.name == "core"
    assert parse_purl("pkg:pypi/requests") is not None
    assert parse_purl("not-a-purl") is None and parse_purl("pkg:pypi") is None
    assert parse_purl("pkg:/nothing") is None
    assert (
        query_purl("pkg:deb/debian/curl@7.88.1-10?arch=amd64#sub")
        == "pkg:deb/debian/curl@7.88.1-10"
    )


def test_spdx_packages_from_a_buildkit_statement() -> None:
    expected = alpine_packages("amd64")
    statement = spdx_statement("pkg:docker/x@1", DIGEST, expected)
    doc = statement["predicate"]
    doc["packages"].append({"name": "no-purl-thing", "SPDXID": "SPDXRef-x", "versionInfo": ""})
    packages = spdx_packages(doc)
    assert [(p.name, p.version, p.purl, p.license) for p in packages[:-1]] == [
        (e.name, e.version, e.purl, e.license) for e in expected
    ]
    assert packages[-1].purl is None and packages[-1].type == "unknown"
    assert packages[-1].version is None
    libssl = next(p for p in packages if p.name == "libssl3")
    assert (libssl.license_concluded, libssl.license_declared) == ("NOASSERTION", "Apache-2.0")
    assert {p.type for p in packages[:-1]} == {"apk", "pypi"}


def test_statement_plain_and_in_a_dsse_envelope() -> None:
    statement = spdx_statement("pkg:docker/x@1", DIGEST, alpine_packages("arm64"))
    raw = json.dumps(statement).encode()
    assert parse_statement(raw)["predicateType"] == "https://spdx.dev/Document"
    envelope = json.dumps(
        {
            "payloadType": "application/vnd.in-toto+json",
            "payload": base64.b64encode(raw).decode(),
            "signatures": [],
        }
    ).encode()
    assert parse_statement(envelope) == statement
    with pytest.raises(UpstreamError):
        parse_statement(b"{not json")
    with pytest.raises(UpstreamError, match="not an in-toto statement"):
        parse_statement(b'{"_type": "x"}')


@pytest.mark.parametrize("make", [provenance_statement, provenance_statement_v1])
def test_slsa_v02_and_v1_map_to_the_same_fields(make) -> None:
    fields = parse_provenance(make("pkg:docker/x@1", DIGEST, INFO))
    assert fields["slsa_version"] == ("v1" if make is provenance_statement_v1 else "v0.2")
    assert fields["builder"] == INFO.builder_id
    assert fields["build_started_on"].isoformat() == "2024-05-01T11:58:01.123456+00:00"
    assert fields["build_finished_on"].isoformat() == "2024-05-01T11:59:12+00:00"
    assert fields["source_repository"] == "https://github.com/example/app.git"
    assert fields["source_commit"] == INFO.source_sha1
    assert fields["build_args"] == {"VERSION": "1.0"}
    assert fields["frontend"] == "dockerfile.v0"
    dockerfile = fields["dockerfile"]
    assert dockerfile.path == "Dockerfile" and dockerfile.ref == "refs/heads/main"
    assert dockerfile.url == f"https://github.com/example/app/blob/{INFO.source_sha1}/Dockerfile"
    [base] = fields["base_images"]
    assert (base.image, base.digest, base.platform) == (
        "alpine:3.19",
        INFO.base_image_digest,
        "linux/amd64",
    )
    assert len(fields["materials"]) == 2


def test_provenance_context_subdir_and_frontend_material() -> None:
    statement = provenance_statement("pkg:docker/x@1", DIGEST, INFO)
    invocation = statement["predicate"]["invocation"]
    invocation["configSource"]["uri"] = (
        "https://github.com/nginx/docker-nginx.git#ffe72978e08c5b0dacecd604e528f6d0741a9ae5:"
        "mainline/debian"
    )
    invocation["configSource"]["digest"] = {}
    invocation["parameters"] = {}
    statement["predicate"]["metadata"].pop("https://mobyproject.org/buildkit@v1#metadata")
    statement["predicate"]["materials"].insert(
        0, {"uri": "pkg:docker/docker/dockerfile@1", "digest": {"sha256": "ee" * 32}}
    )
    fields = parse_provenance(statement)
    d = fields["dockerfile"]
    assert d.commit == "ffe72978e08c5b0dacecd604e528f6d0741a9ae5"
    assert d.context == "mainline/debian"
    assert d.url == (
        "https://github.com/nginx/docker-nginx/blob/ffe72978e08c5b0dacecd604e528f6d0741a9ae5/"
        "mainline/debian/Dockerfile"
    )
    assert [m.image for m in fields["base_images"]] == ["alpine:3.19"]  # frontend left out
    assert fields["build_args"] == {}
    assert any("mode=min" in n for n in fields["notes"])


def test_browse_url_only_for_known_forges() -> None:
    assert browse_url("git@github.com:o/r.git", "abc", "Dockerfile") == (
        "https://github.com/o/r/blob/abc/Dockerfile"
    )
    assert browse_url("https://gitlab.com/g/p", "abc", "d/Dockerfile") == (
        "https://gitlab.com/g/p/-/blob/abc/d/Dockerfile"
    )
    assert browse_url("https://git.example.org/r.git", "abc", "Dockerfile") is None
    assert browse_url("https://github.com/o/r", None, "Dockerfile") is None
