"""rpm's SQLite database (`rpmdb.sqlite`): header blobs built per rpm's lib/header.c layout
(tests/support/rpmdb.py), hostile variants, and SQLite files that try to do more than hold
rows. The same parser is checked against `rpm -qa` on a real database in
tests/integration/test_files_packages_real.py."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockerhub_cli.oci import pkgdb
from dockerhub_cli.oci.pkgdb import InstalledPackage, PackageDbError, parse_rpm_header
from tests.support.rpmdb import (
    ARCH,
    EPOCH,
    NAME,
    RELEASE,
    STRING,
    VERSION,
    header_blob,
    rpm_header,
    rpmdb_sqlite,
)


def test_a_header_gives_name_epoch_version_release_arch_and_source() -> None:
    blob = rpm_header(
        "openssl-libs", "3.0.7", "27.el9", epoch=1, sourcerpm="openssl-3.0.7-27.el9.src.rpm"
    )
    assert parse_rpm_header(blob) == InstalledPackage(
        "openssl-libs", "1:3.0.7-27.el9", "x86_64", "openssl"
    )
    # epoch 0 / none is not written (rpm prints it only when set)
    assert parse_rpm_header(rpm_header("bash", "5.1.8", "9.el9", epoch=0)).version == "5.1.8-9.el9"


def _entries(name: bytes = b"bash\0") -> list[tuple[int, int, bytes, int]]:
    return [
        (NAME, STRING, name, 1),
        (VERSION, STRING, b"5.1\0", 1),
        (RELEASE, STRING, b"1\0", 1),
        (ARCH, STRING, b"x86_64\0", 1),
    ]


def test_hostile_headers_are_refused_or_cleaned_never_read_out_of_bounds() -> None:
    good = header_blob(_entries())
    assert parse_rpm_header(good) is not None
    assert parse_rpm_header(good[:-1]) is None  # dl says more than there is
    assert parse_rpm_header(b"") is None and parse_rpm_header(good[:7]) is None
    assert parse_rpm_header(struct.pack(">II", 0, 0)) is None  # no entries
    assert parse_rpm_header(struct.pack(">II", 0x10000, 0) + bytes(16)) is None  # > rpm's max
    assert parse_rpm_header(struct.pack(">II", 0xFFFFFFFF, 0xFFFFFFFF)) is None
    # a name whose offset points past the data store, or a string without its NUL
    il, dl = struct.unpack_from(">II", good)
    bad = bytearray(good)
    struct.pack_into(">i", bad, 8 + 8, dl + 100)  # entry 0 (NAME): offset
    assert parse_rpm_header(bytes(bad)) is None
    struct.pack_into(">i", bad, 8 + 8, -5)
    assert parse_rpm_header(bytes(bad)) is None
    unterminated = header_blob([*_entries()[1:], (NAME, STRING, b"bash", 1)])
    assert parse_rpm_header(unterminated) is None
    # an epoch of the wrong type, or misaligned, is ignored, not misread
    odd = header_blob([*_entries(), (EPOCH, STRING, b"7\0", 1)])
    assert parse_rpm_header(odd).version == "5.1-1"  # type: ignore[union-attr]
    # terminal escapes in a name are made visible, long values cut
    evil = parse_rpm_header(header_blob(_entries(b"x\x1b]0;pwned\x07" + b"y" * 999 + b"\0")))
    assert evil is not None and "\x1b" not in evil.name and evil.name.startswith("x\\x1b]0;")
    assert len(evil.name) <= pkgdb.MAX_FIELD


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(1, 12))
def test_random_bytes_after_a_plausible_preamble_never_raise(data: bytes, il: int) -> None:
    blob = struct.pack(">II", il, max(0, len(data) - 16 * il)) + data
    result = parse_rpm_header(blob)
    assert result is None or isinstance(result, InstalledPackage)


def test_a_database_lists_its_packages_without_signing_keys(tmp_path: Path) -> None:
    data = rpmdb_sqlite(
        tmp_path / "rpmdb.sqlite",
        [
            rpm_header("bash", "5.2.26", "3.fc40"),
            rpm_header("gpg-pubkey", "a15b79cc", "63d04c2c", arch="(none)"),
            b"junk",
            rpm_header("tzdata", "2024a", "5.fc40", arch="noarch"),
        ],
        wal=True,  # rpm keeps its database in WAL mode: the file says so in its header
    )
    assert data[18:20] == b"\x02\x02"
    assert pkgdb.parse_rpm_sqlite(data) == [
        InstalledPackage("bash", "5.2.26-3.fc40", "x86_64", None),
        InstalledPackage("tzdata", "2024a-5.fc40", "noarch", None),
    ]


def test_files_that_are_not_rpm_databases_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PackageDbError, match="not a SQLite database"):
        pkgdb.parse_rpm_sqlite(b"\0" * 4096)
    data = rpmdb_sqlite(tmp_path / "a.sqlite", [rpm_header("bash", "5", "1")])
    with pytest.raises(PackageDbError, match="not a readable rpm database"):
        pkgdb.parse_rpm_sqlite(data[:100] + b"\xff" * (len(data) - 100))
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE Names (x)")
    with pytest.raises(PackageDbError, match="no Packages table"):
        pkgdb.parse_rpm_sqlite(other.read_bytes())


def test_a_view_named_packages_is_not_run(tmp_path: Path) -> None:
    """A hostile layer's `Packages` could be a view computing anything (an endless recursive
    CTE): it must be a table."""
    path = tmp_path / "evil.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE VIEW Packages AS WITH RECURSIVE c(hnum) AS "
            "(SELECT 1 UNION ALL SELECT hnum + 1 FROM c) SELECT hnum, x'00' AS blob FROM c"
        )
    with pytest.raises(PackageDbError, match="no Packages table"):
        pkgdb.parse_rpm_sqlite(path.read_bytes())


def test_the_work_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = rpmdb_sqlite(
        tmp_path / "big.sqlite", [rpm_header(f"p{i}", "1", "1") for i in range(2000)]
    )
    assert len(pkgdb.parse_rpm_sqlite(data)) == 2000
    monkeypatch.setattr(pkgdb, "MAX_SQLITE_STEPS", 5_000)
    with pytest.raises(PackageDbError, match="too much work"):
        pkgdb.parse_rpm_sqlite(data)
    monkeypatch.undo()
    monkeypatch.setattr(pkgdb, "MAX_PACKAGES", 10)
    assert len(pkgdb.parse_rpm_sqlite(data)) == 10


def test_rpm_versions_are_ordered_by_rpms_scheme() -> None:
    from dockerhub_cli.ops.files_packages import Inventory, Package, compare

    a = Inventory("package-db", "rpm database", [
        Package("rpm", "bash", "5.2.9-1.fc40", "x86_64"),
        Package("rpm", "tzdata", "2:2024a-1", "noarch"),
        Package("rpm", "curl", "8.6.0-10.fc40", "x86_64"),
    ])  # fmt: skip
    b = Inventory("package-db", "rpm database", [
        Package("rpm", "bash", "5.2.10-1.fc40", "x86_64"),  # 10 > 9 (not text order)
        Package("rpm", "tzdata", "1:2025a-1", "noarch"),  # a lower epoch: older
        Package("rpm", "curl", "8.6.0-10.fc40~1", "x86_64"),
    ])  # fmt: skip
    changes = {c.name: c.change for c in compare(a, b).changes}
    assert changes == {"bash": "upgraded", "tzdata": "downgraded", "curl": "downgraded"}


def _fs(*entries):
    from dockerhub_cli.oci import layer as L

    index = L.LayerIndex(digest="sha256:" + "0" * 64, media_type="", compression="tar")
    index.entries.extend(entries)
    return L.merge([index])


def test_which_rpm_database_is_read_and_what_the_notes_say() -> None:
    from types import SimpleNamespace

    from dockerhub_cli.oci import layer as L
    from dockerhub_cli.ops.files_packages import _db_paths, is_db_path

    sysimage = "usr/lib/sysimage/rpm/rpmdb.sqlite"
    fedora = _fs(  # var/lib/rpm -> ../../usr/lib/sysimage/rpm (Fedora 36+)
        L.Entry("usr/lib/sysimage/rpm", L.DIR),
        L.Entry(sysimage, L.FILE, size=4096),
        L.Entry(sysimage + "-wal", L.FILE, size=8192),
        L.Entry("var/lib", L.DIR),
        L.Entry("var/lib/rpm", L.SYMLINK, link="../../usr/lib/sysimage/rpm"),
    )
    kind, paths, notes = _db_paths(SimpleNamespace(fs=fedora))  # type: ignore[arg-type]
    # a non-empty write-ahead log is read with its database, as one group
    wal = "var/lib/rpm/rpmdb.sqlite-wal"
    assert (kind, paths, notes) == ("rpm", [["var/lib/rpm/rpmdb.sqlite", wal]], [])
    empty_wal = _fs(L.Entry("var/lib/rpm", L.DIR), L.Entry("var/lib/rpm/rpmdb.sqlite", L.FILE),
                    L.Entry(wal, L.FILE, size=0))  # fmt: skip
    assert _db_paths(SimpleNamespace(fs=empty_wal))[1] == [["var/lib/rpm/rpmdb.sqlite"]]  # type: ignore[arg-type]
    for name in ("Packages", "Packages.db"):
        other = _fs(L.Entry("var/lib/rpm", L.DIR), L.Entry(f"var/lib/rpm/{name}", L.FILE, size=9))
        kind, paths, notes = _db_paths(SimpleNamespace(fs=other))  # type: ignore[arg-type]
        assert (kind, paths, notes) == ("rpm", [[f"var/lib/rpm/{name}"]], [])
    # SQLite (what rpm migrated to) wins over a Berkeley DB left behind
    both = _fs(L.Entry("var/lib/rpm", L.DIR), L.Entry("var/lib/rpm/Packages", L.FILE),
               L.Entry("var/lib/rpm/rpmdb.sqlite", L.FILE))  # fmt: skip
    assert _db_paths(SimpleNamespace(fs=both))[1] == [["var/lib/rpm/rpmdb.sqlite"]]  # type: ignore[arg-type]
    assert is_db_path("var/lib/rpm/rpmdb.sqlite") and is_db_path(sysimage)
    assert is_db_path("var/lib/rpm/Packages") and is_db_path(sysimage + "-wal")
    assert is_db_path("usr/lib/sysimage/rpm/Packages.db")
    assert not is_db_path("var/lib/rpm/Basenames") and not is_db_path("var/lib/rpm/Packages-wal")


# -- ndb (SUSE's Packages.db) and Berkeley DB: what needs no libdb -----------------------------


def _ndb_records() -> list[tuple[int, bytes]]:
    return [
        (3, rpm_header("glibc", "2.31", "9.3.2", sourcerpm="glibc-2.31-9.3.2.src.rpm")),
        (1, rpm_header("filesystem", "15.0", "11.3.2")),
        (7, rpm_header("gpg-pubkey", "39db7c82", "5f68629b")),  # a key, not a package
        (5, rpm_header("bash", "4.4", "19.6.1", epoch=1) + bytes(5000)),  # a long blob
    ]


def test_ndb_packages_in_package_number_order() -> None:
    from tests.support.rpmdb import ndb_file

    got = pkgdb.parse_rpm_ndb(ndb_file(_ndb_records()))
    assert [(p.name, p.version) for p in got] == [
        ("filesystem", "15.0-11.3.2"), ("glibc", "2.31-9.3.2"), ("bash", "1:4.4-19.6.1"),
    ]  # fmt: skip
    assert got[1].source == "glibc"
    assert pkgdb.parse_rpm_ndb(ndb_file([])) == []
    assert len(pkgdb.parse_rpm_ndb(ndb_file(_ndb_records(), slot_pages=3))) == 3


def test_damaged_ndb_is_refused_never_read_out_of_bounds() -> None:
    from tests.support.rpmdb import ndb_file

    data = ndb_file(_ndb_records())
    first = 4096  # the first blob, right after the one slot page
    slot = 32  # the first slot: (3, offset, count)

    def refused(bad: bytes | bytearray, why: str) -> None:
        with pytest.raises(PackageDbError, match=why):
            pkgdb.parse_rpm_ndb(bytes(bad))

    refused(b"", "not an rpm ndb")
    refused(b"RpmX" + data[4:], "not an rpm ndb")
    refused(data[:-1], "whole number of blocks")
    refused(data[:4000], "slot pages")  # truncated inside the slot page
    refused(data[: first + 32], "outside the file")  # blobs cut off
    for pages in (0, 2, 0xFFFFFFFF):
        bad = bytearray(data)
        struct.pack_into("<I", bad, 12, pages)
        refused(bad, "slot pages|slot at byte|outside")
    bad = bytearray(data)
    bad[slot : slot + 4] = b"Tols"
    refused(bad, "slot at byte 32")
    for field, value, why in (
        (8, 0xFFFFFFF0, "outside the file"),  # block offset past the end
        (8, 3, "outside the file"),  # inside the slot pages
        (12, 0xFFFFFFFF, "outside the file"),  # block count past the end
        (12, 1000, "outside the file|does not match"),
        (4, 0, "outside the file"),  # package number 0
        (4, 9, "does not match"),  # the blob names another package
    ):
        bad = bytearray(data)
        struct.pack_into("<I", bad, slot + field, value)
        refused(bad, why)
    # two slots naming the same blocks: overlapping, refused (bounds the work by the size)
    bad = bytearray(data)
    bad[slot + 16 + 4 : slot + 16 + 16] = bad[slot + 4 : slot + 16]
    refused(bad, "overlaps")
    bad = bytearray(data)
    struct.pack_into("<I", bad, first + 12, 0xFFFFFFF0)  # the blob's length lies
    refused(bad, "does not match")
    bad = bytearray(data)
    bad[first : first + 4] = b"XlbS"
    refused(bad, "does not match")
    bad = bytearray(data)
    count = struct.unpack_from("<I", data, slot + 12)[0]
    bad[first + 16 * count - 4 : first + 16 * count] = b"BlbX"
    refused(bad, "damaged tail")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9000), st.integers(0, 255)), min_size=1, max_size=8))
def test_ndb_with_random_bytes_changed_is_read_or_refused(changes: list[tuple[int, int]]) -> None:
    from tests.support.rpmdb import ndb_file

    bad = bytearray(ndb_file(_ndb_records()))
    for at, value in changes:
        bad[at % len(bad)] = value
    try:
        assert len(pkgdb.parse_rpm_ndb(bytes(bad))) <= 4
    except PackageDbError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    st.binary(min_size=0, max_size=2048),
    st.sampled_from([b"\x61\x15\x06\x00", b"\x62\x31\x05\x00"]),
)
def test_random_berkeley_db_bytes_are_refused_never_crash(data: bytes, magic: bytes) -> None:
    meta = bytearray(data.ljust(512, b"\0"))
    meta[12:16] = magic
    struct.pack_into("<II", meta, 16, 9, 512)  # a plausible version and page size
    try:
        pkgdb.parse_rpm_bdb(bytes(meta) + data)
    except PackageDbError:
        pass
    with pytest.raises(PackageDbError, match="not a Berkeley DB"):
        pkgdb.parse_rpm_bdb(data[:511])
