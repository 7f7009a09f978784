"""`diff A B`: package changes, on a real registry with images the test builds.

From the SBOM attestations when both images carry one (BuildKit layout: an attestation
manifest in the index), else from the dpkg / apk databases read from the layers, bounded,
verified against the layer index, and cached by content hash (a warm diff makes no request).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.oci.pkgdb import parse_dpkg_status
from tests.integration.conftest import require_binaries
from tests.support.oci_build import ImageSpec, Layer, OCILayout
from tests.support.package_images import BASE_FILES, push_pkgs
from tests.support.package_images import dpkg_status as _dpkg
from tests.support.seeding import push

runner = CliRunner()


def _apk(*packages: tuple[str, str]) -> str:
    return "".join(f"C:Q1abc=\nP:{n}\nV:{v}\nA:x86_64\no:{n}\nT:{n}\n\n" for n, v in packages)


def _push_plain(layout: OCILayout, dest: str, tag: str, files: dict[str, str | bytes]) -> None:
    layout.add_image(ImageSpec(steps=[Layer(BASE_FILES), Layer(files)]), tag=tag)
    push(layout.ref(tag), dest, fmt="oci")


def _diff(a: str, b: str, *extra: str) -> dict:
    result = runner.invoke(app, ["diff", a, b, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _changes(data: dict) -> dict[str, tuple[str, str | None, str | None]]:
    return {c["name"]: (c["change"], c["before"], c["after"]) for c in data["packages"]["changes"]}


def test_package_changes_come_from_the_sboms_when_both_have_one(
    registry_factory, tmp_path: Path
) -> None:
    reg = registry_factory(seed=False)
    layout = OCILayout(tmp_path / "layout")
    a, b = reg.ref("demo/pkgs:1"), reg.ref("demo/pkgs:2")
    push_pkgs(layout, a, b)  # the dpkg databases disagree with the SBOMs: the SBOMs win
    data = _diff(a, b)
    packages = data["packages"]
    assert packages["source"] == "sbom"
    assert packages["source1"].startswith("SBOM attestation sha256:")
    assert _changes(data) == {
        "curl": ("added", None, "7.88.1-10+deb12u5"),
        "openssl": ("upgraded", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1"),
        "tzdata": ("downgraded", "2024a-0+deb12u1", "2023c-5+deb12u1"),
        "requests": ("upgraded", "2.31.0", "2.32.3"),
    }
    assert (packages["added"], packages["upgraded"], packages["downgraded"]) == (1, 2, 1)
    assert (packages["packages1"], packages["packages2"]) == (5, 6)
    table = runner.invoke(app, ["diff", a, b])
    assert table.exit_code == 0, table.output
    assert "packages (SBOM attestations): 1 added, 0 removed, 2 upgraded" in table.stdout
    assert "3.0.11-1~deb12u2" in table.stdout and "3.0.13-1~deb12u1" in table.stdout


def test_without_sboms_the_dpkg_databases_are_read_once_and_cached(
    registry_factory, tmp_path: Path
) -> None:
    reg = registry_factory(seed=False)
    layout = OCILayout(tmp_path / "layout")
    a, b = reg.ref("demo/dpkg:1"), reg.ref("demo/dpkg:2")
    _push_plain(
        layout,
        a,
        "1",
        {
            "var/lib/dpkg/status": _dpkg(
                ("base-files", "12.4+deb12u5", "installed"),
                ("gcc-12-base", "12.2.0-14", "installed"),
                ("libgone", "1.0-1", "installed"),
                ("oldconf", "2.0", "config-files"),  # removed, config kept: not installed
                ("zstd", "1.5.4+dfsg2-5", "installed"),
            ),
        },
    )
    _push_plain(
        layout,
        b,
        "2",
        {
            "var/lib/dpkg/status": _dpkg(
                ("base-files", "12.4+deb12u6", "installed"),
                ("gcc-12-base", "12.2.0-14", "installed"),
                ("libnew", "0.9~rc1-1", "installed"),
                ("oldconf", "2.1", "config-files"),
                ("zstd", "1:1.5.4-1", "installed"),  # an epoch outranks any upstream version
            ),
        },
    )
    cold = _diff(a, b)
    packages = cold["packages"]
    assert packages["source"] == "package-db"
    assert packages["source1"] == "dpkg database (var/lib/dpkg/status)"
    assert _changes(cold) == {
        "base-files": ("upgraded", "12.4+deb12u5", "12.4+deb12u6"),
        "libgone": ("removed", "1.0-1", None),
        "libnew": ("added", None, "0.9~rc1-1"),
        "zstd": ("upgraded", "1.5.4+dfsg2-5", "1:1.5.4-1"),
    }
    assert any("neither image has an SBOM" in n for n in packages["notes"])
    # Cold: every layer streamed once (the base is shared), the databases taken on the way.
    assert cold["download"]["layers_read"] == 3
    # Warm: no request at all, and the same answer.
    mark = reg.log_mark()
    warm = _diff(a, b)
    assert reg.requests_since(mark) == []
    assert warm["packages"] == packages and warm["download"]["bytes_downloaded"] == 0
    # Layer indexes warm but the parsed databases gone: only the layers holding them are read.
    shutil.rmtree(Path(os.environ["DOCKERHUB_CACHE_DIR"]) / "packages")
    mark = reg.log_mark()
    again = _diff(a, b)
    blobs = [e for e in reg.requests_since(mark) if "/blobs/" in e.path]
    assert again["packages"] == packages
    assert len(blobs) == 2 and again["download"]["layers_read"] == 2
    # With a PATH only files are compared.
    under = _diff(a, b, "/etc")
    assert under["packages"] is None


def test_apk_databases_and_images_without_any(registry_factory, tmp_path: Path) -> None:
    reg = registry_factory(seed=False)
    layout = OCILayout(tmp_path / "layout")
    a, b, bare = reg.ref("demo/apk:1"), reg.ref("demo/apk:2"), reg.ref("demo/apk:bare")
    _push_plain(
        layout,
        a,
        "1",
        {"lib/apk/db/installed": _apk(("musl", "1.2.4-r2"), ("busybox", "1.36.1-r15"))},
    )
    _push_plain(
        layout,
        b,
        "2",
        {"lib/apk/db/installed": _apk(("musl", "1.2.5-r0"), ("busybox", "1.36.1-r2"))},
    )
    _push_plain(layout, bare, "bare", {"app/v": "1"})
    data = _diff(a, b)
    assert data["packages"]["source"] == "package-db"
    assert data["packages"]["source2"] == "apk database (lib/apk/db/installed)"
    # apk orders -r2 below -r15 (a number, not text)
    assert _changes(data) == {
        "musl": ("upgraded", "1.2.4-r2", "1.2.5-r0"),
        "busybox": ("downgraded", "1.36.1-r15", "1.36.1-r2"),
    }
    none = _diff(a, bare)
    assert none["packages"] is None
    assert any("B has no dpkg, apk or rpm database" in n for n in none["notes"])


def test_a_real_dpkg_database_parses_as_dpkg_query_reads_it() -> None:
    """The oracle: this Debian machine's own dpkg database (hundreds of packages, multi-arch
    fields, conffiles, long descriptions) against `dpkg-query`."""
    require_binaries("dpkg-query")
    status = Path("/var/lib/dpkg/status")
    listed = subprocess.run(
        [
            "dpkg-query",
            "-W",
            "-f",
            "${Package}\t${Version}\t${Architecture}\t${db:Status-Status}\n",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    theirs = sorted(
        (name, version, arch)
        for name, version, arch, state in (line.split("\t") for line in listed.splitlines())
        if state == "installed"
    )
    ours = sorted((p.name, p.version, p.arch) for p in parse_dpkg_status(status.read_bytes()))
    assert len(ours) > 10 and ours == theirs


def test_rpm_databases_made_by_rpm_itself(registry_factory, tmp_path: Path) -> None:
    """Fedora-like images: `rpmdb.sqlite` made by Debian's real `rpm` (rpmbuild of tiny
    packages, `rpm --initdb`, `rpm -i --justdb`), pushed with skopeo. The parser agrees with
    `rpm -qa`, and diff orders the versions by rpm's scheme (epochs, 10 > 9, `~`)."""
    require_binaries("rpm", "rpmbuild")
    from dockerhub_cli.oci.pkgdb import parse_rpm_sqlite
    from tests.support.rpmdb import RpmPackage, real_rpmdb, rpm_query

    one = [
        RpmPackage("bash", "5.2.9", "1.fc40"),
        RpmPackage("tzdata", "2024a", "1.fc40", epoch=2),
        RpmPackage("gone", "1.0", "1.fc40"),
    ]
    two = [
        RpmPackage("bash", "5.2.10", "1.fc40"),
        RpmPackage("tzdata", "2025a", "1.fc40", epoch=1),
        RpmPackage("curl", "8.6.0", "1.fc40"),
    ]
    dbs = [real_rpmdb(tmp_path / f"rpm{n}", pkgs) for n, pkgs in ((1, one), (2, two))]
    for db in dbs:  # the oracle: rpm's own listing of the same file
        ours = sorted(f"{p.name} {p.version} {p.arch}" for p in parse_rpm_sqlite(db.read_bytes()))
        assert ours == rpm_query(db)
    reg = registry_factory(seed=False)
    layout = OCILayout(tmp_path / "layout")
    a, b = reg.ref("demo/fedora:1"), reg.ref("demo/fedora:2")
    for ref, tag, db in ((a, "1", dbs[0]), (b, "2", dbs[1])):
        files: dict[str, str | bytes] = {
            "var/lib/rpm/rpmdb.sqlite": db.read_bytes(),
            "var/lib/rpm/rpmdb.sqlite-shm": (db.parent / "rpmdb.sqlite-shm").read_bytes(),
            "var/lib/rpm/rpmdb.sqlite-wal": b"",
        }
        _push_plain(layout, ref, tag, files)
    data = _diff(a, b)
    assert data["packages"]["source"] == "package-db"
    assert data["packages"]["source1"] == "rpm database (var/lib/rpm/rpmdb.sqlite)"
    assert _changes(data) == {
        "bash": ("upgraded", "5.2.9-1.fc40", "5.2.10-1.fc40"),
        "tzdata": ("downgraded", "2:2024a-1.fc40", "1:2025a-1.fc40"),
        "gone": ("removed", "1.0-1.fc40", None),
        "curl": ("added", None, "8.6.0-1.fc40"),
    }
    assert [c["type"] for c in data["packages"]["changes"]] == ["rpm"] * 4
    # warm: the parse is cached by content sha256, the layers' indexes by digest
    again = _diff(a, b)
    assert again["download"]["bytes_downloaded"] == 0 and _changes(again) == _changes(data)


def test_rpm_berkeley_db_ndb_and_a_write_ahead_log_in_images(
    registry_factory, tmp_path: Path
) -> None:
    """CentOS-7-like (Berkeley DB `Packages` written by libdb from real rpm headers),
    SUSE-like (ndb `Packages.db`) and Fedora-like images whose newest packages are only in
    `rpmdb.sqlite-wal` (a copy taken mid-transaction): diff reads all three."""
    require_binaries("rpm", "rpmbuild", "db5.3_load")
    from tests.support.rpmdb import (
        RpmPackage,
        ndb_file,
        real_bdb,
        real_rpmdb,
        sqlite_blobs,
        wal_only,
    )

    old = [RpmPackage("bash", "4.4.20", "4.el8"), RpmPackage("zlib", "1.2.11", "25.el8")]
    new = [RpmPackage("curl", "7.61.1", "34.el8"), RpmPackage("bash", "4.4.20", "5.el8")]
    base, newer = real_rpmdb(tmp_path / "old", old), real_rpmdb(tmp_path / "new", new)
    bdb = real_bdb(tmp_path / "bdb" / "Packages", sqlite_blobs(base))
    walled = wal_only(base, [b for _, b in sqlite_blobs(newer)], tmp_path / "walled")
    ndb = ndb_file(sqlite_blobs(newer))
    reg = registry_factory(seed=False)
    layout = OCILayout(tmp_path / "layout")
    refs = {name: reg.ref(f"demo/rpm-{name}:1") for name in ("bdb", "wal", "ndb")}
    _push_plain(layout, refs["bdb"], "bdb", {"var/lib/rpm/Packages": bdb.read_bytes()})
    _push_plain(layout, refs["ndb"], "ndb", {"usr/lib/sysimage/rpm/Packages.db": ndb})
    wal = walled.parent / "rpmdb.sqlite-wal"
    files = {
        "var/lib/rpm/rpmdb.sqlite": walled.read_bytes(),
        "var/lib/rpm/rpmdb.sqlite-wal": wal.read_bytes(),
    }
    _push_plain(layout, refs["wal"], "wal", files)

    data = _diff(refs["bdb"], refs["wal"])
    assert data["packages"]["source1"] == "rpm database (var/lib/rpm/Packages)"
    assert data["packages"]["source2"] == (
        "rpm database (var/lib/rpm/rpmdb.sqlite + its write-ahead log)"
    )
    # the log's rows: curl, and a second bash (both releases installed, as mid-upgrade)
    assert _changes(data) == {
        "curl": ("added", None, "7.61.1-34.el8"),
        "bash": ("added", None, "4.4.20-5.el8"),
    }
    assert (data["packages"]["packages1"], data["packages"]["packages2"]) == (2, 4)
    data = _diff(refs["bdb"], refs["ndb"])
    assert data["packages"]["source2"] == "rpm database (usr/lib/sysimage/rpm/Packages.db)"
    assert _changes(data) == {
        "bash": ("upgraded", "4.4.20-4.el8", "4.4.20-5.el8"),
        "zlib": ("removed", "1.2.11-25.el8", None),
        "curl": ("added", None, "7.61.1-34.el8"),
    }
    again = _diff(refs["bdb"], refs["wal"])  # warm: the parses are cached by content
    assert again["download"]["bytes_downloaded"] == 0
    # a damaged database: a note, no packages compared, no crash
    broken = bytearray(bdb.read_bytes())
    broken[4096 + 16 : 4096 + 20] = (1).to_bytes(4, "little")  # bucket page 1 -> itself
    bad = reg.ref("demo/rpm-broken:1")
    _push_plain(layout, bad, "broken", {"var/lib/rpm/Packages": bytes(broken)})
    data = _diff(refs["bdb"], bad)
    assert data["packages"] is None
    assert any("var/lib/rpm/Packages could not be read" in n for n in data["notes"]), data["notes"]
