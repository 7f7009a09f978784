"""Images whose package lists differ: `demo/pkgs:1` and `demo/pkgs:2` (an SBOM attestation each,
BuildKit layout) for `diff`'s package changes; used by the demo registry (tests/support/demo.py,
docs/files.md) and tests/integration/test_files_packages_real.py."""

from __future__ import annotations

from tests.support.attestations import SbomPackage, spdx_statement
from tests.support.oci_build import ImageSpec, Layer, OCILayout
from tests.support.seeding import push

BASE_FILES: dict[str, str | bytes] = {
    "etc/os-release": "ID=debian\nVERSION_ID=12\n",
    "usr/bin/sh": b"\x7fELF" + bytes(64),
}


def dpkg_status(*packages: tuple[str, str, str]) -> str:
    """A dpkg status file of (name, version, status word) stanzas."""
    stanzas = []
    for name, version, status in packages:
        stanzas.append(
            f"Package: {name}\nStatus: install ok {status}\nPriority: optional\n"
            f"Architecture: amd64\nVersion: {version}\nDescription: {name}\n"
            " a long description line\n .\n another\n"
        )
    return "\n".join(stanzas)


def deb(name: str, version: str) -> SbomPackage:
    return SbomPackage(name, version, "MIT", f"pkg:deb/debian/{name}@{version}?arch=amd64")


def pypi(name: str, version: str) -> SbomPackage:
    return SbomPackage(name, version, "MIT", f"pkg:pypi/{name}@{version}")


def push_with_sbom(
    layout: OCILayout, dest: str, tag: str, files: dict[str, str | bytes], sbom: list[SbomPackage]
) -> None:
    """An image of BASE_FILES + *files* whose index carries an SPDX attestation of *sbom*."""
    built = layout.add_image(ImageSpec(steps=[Layer(BASE_FILES), Layer(files)]))
    statement = spdx_statement(f"pkg:docker/demo/pkgs@{tag}", built.digest, sbom)
    attestation = layout.add_attestation_manifest(built.descriptor, [statement])
    layout.add_index([built.descriptor, attestation], tag=tag)
    push(layout.ref(tag), dest, fmt="oci", all=True)


def push_pkgs(layout: OCILayout, a: str, b: str) -> None:
    """`pkgs:1` at *a*, `pkgs:2` at *b*: curl added, openssl and requests upgraded, tzdata
    downgraded. Their dpkg databases disagree with the SBOMs on purpose (the SBOMs win)."""
    status = dpkg_status(("ignored", "1.0", "installed"))
    push_with_sbom(
        layout,
        a,
        "1",
        {"var/lib/dpkg/status": status, "app/v": "1"},
        [
            deb("libc6", "2.36-9"),
            deb("openssl", "3.0.11-1~deb12u2"),
            deb("tzdata", "2024a-0+deb12u1"),
            deb("zlib1g", "1:1.2.13.dfsg-1"),
            pypi("requests", "2.31.0"),
        ],
    )
    push_with_sbom(
        layout,
        b,
        "2",
        {"var/lib/dpkg/status": status, "app/v": "2"},
        [
            deb("libc6", "2.36-9"),
            deb("openssl", "3.0.13-1~deb12u1"),
            deb("tzdata", "2023c-5+deb12u1"),
            deb("zlib1g", "1:1.2.13.dfsg-1"),
            deb("curl", "7.88.1-10+deb12u5"),
            pypi("requests", "2.32.3"),
        ],
    )
