"""rpm's older databases and SQLite's write-ahead log, on files made by real software.

* Berkeley DB `Packages` (CentOS 7, RHEL 7/8, Amazon Linux 2): written by libdb itself
  (`db5.3_load`, Debian's db5.3-util) from the header blobs of a real rpmdb.sqlite (made by
  `rpmbuild` + `rpm -i --justdb`), in hash and btree, both byte orders, small and usual page
  sizes; rpm's own read-only BDB backend (`rpm -qa --define '_db_backend bdb_ro'`) is the
  oracle. Damaged copies (truncated, looping chains, pages out of range, lying sizes,
  random bytes) give `PackageDbError` or fewer packages, never another exception or a hang.
* rpmdb.sqlite whose newest packages are only in `rpmdb.sqlite-wal`: applied by SQLite on a
  private copy; `rpm -qa` on the same two files is the oracle.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from dockerhub_cli.oci.pkgdb import PackageDbError, parse_rpm_bdb, parse_rpm_sqlite
from tests.integration.conftest import require_binaries
from tests.support.rpmdb import (
    RpmPackage,
    real_bdb,
    real_rpmdb,
    rpm_query,
    sqlite_blobs,
    wal_only,
)

PACKAGES = [
    RpmPackage("bash", "4.4.20", "4.el8"),
    RpmPackage("tzdata", "2024a", "1.el8", epoch=2),
    RpmPackage("openssl-libs", "1.1.1k", "12.el8", epoch=1),
    RpmPackage("zlib", "1.2.11", "25.el8"),
]
NEWER = [RpmPackage("curl", "7.61.1", "34.el8"), RpmPackage("zstd", "1.4.4", "1.el8")]


@pytest.fixture(scope="module")
def real_dbs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a real rpmdb.sqlite of PACKAGES, one of NEWER), made by rpm once for the module."""
    require_binaries("rpm", "rpmbuild")
    work = tmp_path_factory.mktemp("rpmdbs")
    return real_rpmdb(work / "base", PACKAGES), real_rpmdb(work / "newer", NEWER)


def _ours(packages: list) -> list[str]:
    return sorted(f"{p.name} {p.version} {p.arch}" for p in packages)


@pytest.mark.parametrize("btree", [False, True], ids=["hash", "btree"])
@pytest.mark.parametrize("big_endian", [False, True], ids=["little", "big"])
@pytest.mark.parametrize("pagesize", [512, 4096])
def test_berkeley_db_written_by_libdb_reads_as_rpm_reads_it(
    real_dbs: tuple[Path, Path], tmp_path: Path, btree: bool, big_endian: bool, pagesize: int
) -> None:
    require_binaries("db5.3_load")
    records = sqlite_blobs(real_dbs[0])
    # many more records than fit a page: several hash buckets / btree levels, overflow chains
    records += [(100 + n, records[n % len(records)][1]) for n in range(150)]
    path = real_bdb(
        tmp_path / "db" / "Packages", records, btree=btree, big_endian=big_endian, pagesize=pagesize
    )
    ours = parse_rpm_bdb(path.read_bytes())
    assert len(ours) == len(records)
    assert _ours(ours) == rpm_query(path, backend="bdb_ro")
    # in package-number order, as rpm numbers them
    assert [p.name for p in ours[:4]] == [
        p.name for p in parse_rpm_sqlite(real_dbs[0].read_bytes())
    ]


def _bdb(real_dbs: tuple[Path, Path], tmp_path: Path, *, btree: bool = False) -> bytes:
    require_binaries("db5.3_load")
    records = sqlite_blobs(real_dbs[0])
    records += [(100 + n, records[n % len(records)][1]) for n in range(40)]
    path = real_bdb(tmp_path / "db" / "Packages", records, btree=btree, pagesize=512)
    return path.read_bytes()


def _read(data: bytes) -> int:
    """Packages read from possibly damaged bytes; -1 when refused as damaged."""
    try:
        return len(parse_rpm_bdb(data))
    except PackageDbError:
        return -1


@pytest.mark.parametrize("btree", [False, True], ids=["hash", "btree"])
def test_damaged_berkeley_db_is_refused_never_crashes_or_loops(
    real_dbs: tuple[Path, Path], tmp_path: Path, btree: bool
) -> None:
    data = _bdb(real_dbs, tmp_path, btree=btree)
    whole = _read(data)
    assert whole == 44
    pagesize = 512
    pages = len(data) // pagesize
    # truncated anywhere: refused or fewer packages (a missing page is out of range)
    for cut in sorted({*range(0, len(data), 997), len(data) - 1, 511, 512, 513}):
        assert _read(data[:cut]) < whole
    # a loop: every page's next pointer turned to itself, one at a time
    kinds = {data[n * pagesize + 25] for n in range(1, pages)}
    assert 7 in kinds  # overflow pages are there to loop
    looped = 0
    for n in range(1, pages):
        bad = bytearray(data)
        struct.pack_into("<I", bad, n * pagesize + 16, n)
        got = _read(bytes(bad))
        looped += got == -1
        assert got <= whole
    assert looped >= pages // 2
    # page numbers out of range, sizes that lie
    for n in range(1, pages):
        base = n * pagesize
        for offset, value in ((16, 0xFFFFFFF0), (8, n + 1), (20, 0xFFFF), (22, 0xFFFF)):
            bad = bytearray(data)
            struct.pack_into("<I" if offset in (8, 16) else "<H", bad, base + offset, value)
            assert _read(bytes(bad)) <= whole
    meta = bytearray(data)
    struct.pack_into("<I", meta, 32, 0xFFFFFFFF)  # last page far past the file: capped by it
    assert _read(bytes(meta)) == whole
    for offset in (12, 16, 20):  # magic, version, page size
        bad = bytearray(data)
        struct.pack_into("<I", bad, offset, 12345)
        assert _read(bytes(bad)) == -1
    # random bytes anywhere
    rng = random.Random(15)
    for _ in range(400):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            bad[rng.randrange(len(bad))] = rng.randrange(256)
        assert _read(bytes(bad)) <= whole + 1  # a flipped key byte can revive record 0's slot


def test_newest_packages_only_in_the_write_ahead_log_are_read(
    real_dbs: tuple[Path, Path], tmp_path: Path
) -> None:
    from dockerhub_cli.ops.files_packages import sqlite_with_wal

    base, newer = real_dbs
    db = wal_only(base, [blob for _, blob in sqlite_blobs(newer)], tmp_path / "copy")
    wal = db.parent / "rpmdb.sqlite-wal"
    assert wal.stat().st_size > 0
    before = sorted(wal.parent.iterdir())
    data, log = db.read_bytes(), wal.read_bytes()
    alone = _ours(parse_rpm_sqlite(data))
    assert len(alone) == len(PACKAGES)  # the main file alone misses the newest
    applied = _ours(parse_rpm_sqlite(sqlite_with_wal(data, log)))
    assert len(applied) == len(PACKAGES) + len(NEWER)
    assert sorted(wal.parent.iterdir()) == before and db.read_bytes() == data  # untouched
    assert applied == rpm_query(db)  # rpm itself, on the same two files (last: it writes)
    # a log that does not belong (another database's salts) or is garbage changes nothing
    assert _ours(parse_rpm_sqlite(sqlite_with_wal(data, b"\0" * 4096))) == alone
    # a log cut short: SQLite applies the whole transactions before the cut (none here)
    half = _ours(parse_rpm_sqlite(sqlite_with_wal(data, log[: len(log) // 2])))
    assert set(alone) <= set(half) <= set(applied)


def _wal_checksums(wal: bytearray) -> None:
    """Recompute a WAL's checksums (sqlite's wal.c: pairs of 32-bit words, cumulative from
    the header through every frame), so a changed frame still reads as valid."""
    order = "<" if wal[3] == 0x82 else ">"
    page = struct.unpack_from(">I", wal, 8)[0]

    def run(s0: int, s1: int, data: bytes) -> tuple[int, int]:
        for x0, x1 in struct.iter_unpack(order + "II", data):
            s0 = (s0 + x0 + s1) & 0xFFFFFFFF
            s1 = (s1 + x1 + s0) & 0xFFFFFFFF
        return s0, s1

    s0, s1 = run(0, 0, bytes(wal[:24]))
    struct.pack_into(">II", wal, 24, s0, s1)
    for at in range(32, len(wal) - 24 - page + 1, 24 + page):
        s0, s1 = run(s0, s1, bytes(wal[at : at + 8]) + bytes(wal[at + 24 : at + 24 + page]))
        struct.pack_into(">II", wal, at + 16, s0, s1)


def test_a_write_ahead_log_claiming_a_huge_database_is_refused(
    real_dbs: tuple[Path, Path], tmp_path: Path
) -> None:
    from dockerhub_cli.ops.files_packages import sqlite_with_wal

    base, newer = real_dbs
    db = wal_only(base, [blob for _, blob in sqlite_blobs(newer)], tmp_path / "copy")
    data, log = db.read_bytes(), bytearray((db.parent / "rpmdb.sqlite-wal").read_bytes())
    page = struct.unpack_from(">I", log, 8)[0]
    frames = range(32, len(log), 24 + page)
    commit = [at for at in frames if struct.unpack_from(">I", log, at + 4)[0]][-1]
    _wal_checksums(log)  # unchanged: still applies
    assert len(parse_rpm_sqlite(sqlite_with_wal(data, bytes(log)))) == len(PACKAGES) + len(NEWER)
    # "the database is now 400 MB": the commit frame and page 1's in-header size agree, so
    # SQLite believes it, and serialize() would allocate all of it
    struct.pack_into(">I", log, commit + 4, 100_000)
    for at in frames:  # page 1 in the log, if the transactions wrote it
        if struct.unpack_from(">I", log, at)[0] == 1:
            struct.pack_into(">I", log, at + 24 + 28, 100_000)
    _wal_checksums(log)
    lying = bytearray(data)
    struct.pack_into(">I", lying, 28, 100_000)
    with pytest.raises(PackageDbError, match="claims a database of 409,600,000 bytes"):
        sqlite_with_wal(bytes(lying), bytes(log))
