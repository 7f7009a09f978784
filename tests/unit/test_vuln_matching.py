"""Vulnerability matching done with each ecosystem's own rules, on real OSV record shapes.

OSV ecosystems with release (`Debian:12`, `Alpine:v3.20`, `Ubuntu:22.04:LTS`), versions ordered
by `univers` (dpkg epochs and `~`, apk `_p`/`-r`, PEP 440 pre-releases and epochs), CVSS v2, v3.x
and v4 scored by `cvss`, OpenVEX statements matched to findings.
"""

from __future__ import annotations

import pytest

from dockerhub_cli.models.supply import DistroInfo, SbomPackage
from dockerhub_cli.ops.vulns import _vex_applies, _vex_names
from dockerhub_cli.remote.osv import (
    _match_affected,
    osv_package,
    pick_fixed,
    release_ecosystem,
    severity_of,
    version_key,
)


def _fixed_at(version: str) -> list[dict]:
    return [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": version}]}]


# The shape of a real DEBIAN-CVE record (osv.dev /v1/vulns/DEBIAN-CVE-2023-5678): one affected
# entry per release, keyed by *source* package name.
DEBIAN_RECORD = {
    "id": "DEBIAN-CVE-2023-5678",
    "modified": "2024-09-18T03:22:31Z",
    "upstream": ["CVE-2023-5678"],
    "details": "Issue summary: Generating excessively long X9.42 DH keys ...",
    "affected": [
        {
            "package": {
                "name": "openssl",
                "ecosystem": "Debian:11",
                "purl": "pkg:deb/debian/openssl?arch=source",
            },
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u2"}],
                }
            ],
        },
        {
            "package": {
                "name": "openssl",
                "ecosystem": "Debian:12",
                "purl": "pkg:deb/debian/openssl?arch=source",
            },
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}],
                }
            ],
        },
    ],
}
# The shape of a real ALPINE-CVE record: ecosystem "Alpine:v3.20", source (origin) names.
ALPINE_RECORD = {
    "id": "ALPINE-CVE-2024-6119",
    "modified": "2024-09-04T06:33:09Z",
    "affected": [
        {
            "package": {"ecosystem": "Alpine:v3.19", "name": "openssl"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.7-r0"}]}
            ],
        },
        {
            "package": {"ecosystem": "Alpine:v3.20", "name": "openssl"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.3.2-r0"}]}
            ],
        },
    ],
}
# A GHSA record for PyPI: two ranges, CVSS v4 and v3 vectors.
PYPI_RECORD = {
    "id": "GHSA-34jh-p97f-mpxf",
    "aliases": ["CVE-2024-37891"],
    "severity": [
        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N"},
        {
            "type": "CVSS_V4",
            "score": "CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N",
        },
    ],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "urllib3", "purl": "pkg:pypi/urllib3"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "0"}, {"fixed": "1.26.19"}],
                },
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "2.0.0"}, {"fixed": "2.2.2"}],
                },
            ],
        }
    ],
}

SYFT_DEB = "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12"


@pytest.mark.parametrize(
    ("distro", "version", "ecosystem"),
    [
        ("debian", "12", "Debian:12"),
        ("debian", "12.5", "Debian:12"),
        ("debian", "bookworm", "Debian:12"),
        ("alpine", "3.20.1", "Alpine:v3.20"),
        ("alpine", "v3.19", "Alpine:v3.19"),
        ("ubuntu", "22.04", "Ubuntu:22.04:LTS"),
        ("ubuntu", "23.10", "Ubuntu:23.10"),
        ("rocky", "9.3", "Rocky Linux:9"),
        ("wolfi", None, "Wolfi"),
        ("debian", None, None),
        ("alpine", "3", None),
        ("plan9", "4", None),
    ],
)
def test_release_ecosystems(distro: str, version: str | None, ecosystem: str | None) -> None:
    assert release_ecosystem(distro, version) == ecosystem


def test_debian_package_is_asked_by_source_name_release_and_version() -> None:
    target = osv_package(SYFT_DEB)
    assert target is not None
    assert target.query == {
        "package": {"name": "openssl", "ecosystem": "Debian:12"},
        "version": "3.0.11-1~deb12u2",
    }
    assert target.release_known


def test_trivy_style_bare_distro_and_sbom_os_release() -> None:
    trivy = osv_package("pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=3.20.1")
    assert trivy is not None and trivy.ecosystem == "Alpine:v3.20"
    # No distro qualifier: the SBOM's operating-system facts give the release.
    bare = osv_package(
        "pkg:deb/ubuntu/libc6@2.35-0ubuntu3.6?arch=amd64",
        DistroInfo(id="ubuntu", version_id="22.04"),
    )
    assert bare is not None and bare.query["package"]["ecosystem"] == "Ubuntu:22.04:LTS"
    # Unknown release: every release of the distribution, and it says so.
    unknown = osv_package("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64")
    assert unknown is not None and unknown.ecosystem == "Debian" and not unknown.release_known
    # Language packages: by purl, qualifiers dropped.
    pypi = osv_package("pkg:pypi/urllib3@2.1.0?foo=bar")
    assert pypi is not None and pypi.query == {"package": {"purl": "pkg:pypi/urllib3@2.1.0"}}
    assert osv_package("not a purl") is None


def test_the_release_entry_is_matched_not_another_release() -> None:
    package = SbomPackage(name="libssl3", version="3.0.11-1~deb12u2", purl=SYFT_DEB, type="deb")
    target = osv_package(SYFT_DEB)
    affected = _match_affected(DEBIAN_RECORD, package, target)
    assert affected is not None and affected["package"]["ecosystem"] == "Debian:12"
    fixes = [e["fixed"] for e in affected["ranges"][0]["events"] if "fixed" in e]
    assert pick_fixed(target.version, fixes, "Debian:12") == "3.0.13-1~deb12u1"

    apk = "pkg:apk/alpine/libssl3@3.3.1-r3?arch=x86_64&upstream=openssl&distro=alpine-3.20.2"
    apk_package = SbomPackage(name="libssl3", version="3.3.1-r3", purl=apk, type="apk")
    entry = _match_affected(ALPINE_RECORD, apk_package, osv_package(apk))
    assert entry is not None and entry["package"]["ecosystem"] == "Alpine:v3.20"


@pytest.mark.parametrize(
    ("ecosystem", "installed", "fixes", "expected"),
    [
        # dpkg: an epoch beats any upstream version; numeric order would pick 2.0-1.
        ("Debian:12", "1:1.2-1", ["2.0-1", "1:1.3-1"], "1:1.3-1"),
        ("Debian:12", "1:1.2-1", ["2.0-1"], None),
        # dpkg: ~ sorts before the empty string (security uploads ~deb12uN).
        ("Debian:12", "3.0.11-1~deb12u1", ["3.0.11-1", "3.0.11-1~deb12u2"], "3.0.11-1~deb12u2"),
        ("Ubuntu:22.04:LTS", "2.35-0ubuntu3.6", ["2.35-0ubuntu3.10"], "2.35-0ubuntu3.10"),
        # apk: _p (patch) sorts after the plain version, -rN releases numerically.
        ("Alpine:v3.20", "9.7_p1-r3", ["9.7-r5", "9.7_p1-r4"], "9.7_p1-r4"),
        ("Alpine:v3.20", "1.36.1-r15", ["1.36.1-r2", "1.36.1-r16"], "1.36.1-r16"),
        # rpm: 1.10 > 1.9.
        ("Rocky Linux:9", "1.9-1.el9", ["1.10-1.el9"], "1.10-1.el9"),
        # PEP 440: a release candidate is before its release; epochs win.
        ("PyPI", "2.0.0rc1", ["1.26.19", "2.0.0"], "2.0.0"),
        ("PyPI", "1!1.0", ["2.0"], None),
        ("npm", "1.2.3-beta.1", ["1.2.3", "1.10.0"], "1.2.3"),
    ],
)
def test_fixed_version_per_ecosystem(
    ecosystem: str, installed: str, fixes: list[str], expected: str | None
) -> None:
    assert pick_fixed(installed, fixes, ecosystem) == expected


def test_version_keys_order_like_the_package_managers() -> None:
    assert version_key("Debian:12", "1:0.1") > version_key("Debian:12", "9.9")
    assert version_key("Debian:12", "1.0~rc1") < version_key("Debian:12", "1.0")
    assert version_key("Alpine:v3.20", "1.0_p1-r0") > version_key("Alpine:v3.20", "1.0-r9")
    assert version_key("NoSuchEcosystem", "1.0") is None


def test_cvss_v4_is_scored_and_preferred_then_v3_then_v2() -> None:
    level, score, vector, source = severity_of(PYPI_RECORD)
    assert source == "cvss_v4" and vector.startswith("CVSS:4.0/")
    assert (level, score) == ("medium", 5.9)  # as the `cvss` library computes it
    v4 = {
        "severity": [
            {
                "type": "CVSS_V4",
                "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            }
        ]
    }
    assert severity_of(v4)[:2] == ("critical", 9.3)
    v2 = {"severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}]}
    assert severity_of(v2) == ("high", 7.5, "AV:N/AC:L/Au:N/C:P/I:P/A:P", "cvss_v2")
    v3_only = {"severity": [PYPI_RECORD["severity"][0]]}
    assert severity_of(v3_only)[1:4:2] == (4.4, "cvss_v3")
    junk = {"severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N"}]}
    assert severity_of(junk)[0] == "unknown"


def test_openvex_statements_apply_to_the_right_findings() -> None:
    image = "sha256:" + "ab" * 32
    v02 = {
        "vulnerability": {"name": "CVE-2024-37891", "aliases": ["GHSA-34jh-p97f-mpxf"]},
        "products": [
            {
                "@id": f"pkg:oci/app@{image.replace(':', '%3A')}",
                "subcomponents": [{"@id": "pkg:pypi/urllib3@2.1.0"}],
            }
        ],
        "status": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
    }
    assert "GHSA-34jh-p97f-mpxf" in _vex_names(v02)
    assert _vex_applies(v02, "pkg:pypi/urllib3@2.1.0", {image})
    assert not _vex_applies(v02, "pkg:pypi/urllib3@2.2.0", {image})  # another version
    assert not _vex_applies(v02, "pkg:pypi/urllib3@2.1.0", {"sha256:" + "cd" * 32})
    v001 = {"vulnerability": "CVE-1", "products": ["pkg:pypi/requests"], "status": "fixed"}
    assert _vex_applies(v001, "pkg:pypi/requests@2.31.0", {image})
    assert _vex_names(v001) == {"CVE-1"}
