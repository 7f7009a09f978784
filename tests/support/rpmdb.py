"""rpm databases for the tests.

* `header_blob` / `rpm_header`: an rpm header blob as rpmdb's `Packages` table stores it,
  written per rpm's lib/header.c (`headerExport` without the lead magic): big-endian `il`,
  `dl`, `il` index entries of (tag, type, offset, count), then the data store. Used by the
  unit tests (no rpm binary needed) to build hostile variants.
* `rpmdb_sqlite`: a SQLite file with rpm's schema holding such blobs.
* `real_rpmdb`: a real `rpmdb.sqlite` made by Debian's `rpm` (`rpmbuild` of tiny packages,
  `rpm --initdb`, `rpm -i --justdb`), for the integration tests.
* `real_bdb`: a real Berkeley DB `Packages` (hash or btree, either byte order, any page size)
  written by libdb itself (`db5.3_load`, Debian's db5.3-util) holding the header blobs of a
  real rpmdb.sqlite, keyed as rpm keys them; rpm's own `bdb_ro` backend reads it back
  (`rpm_query(..., backend="bdb_ro")`), the oracle for the BDB reader.
* `ndb_file`: an ndb `Packages.db` laid out per rpm's lib/backend/ndb/rpmpkg.c (Debian's rpm
  is built without ndb, so no real software here writes one; the reader was also checked by
  hand against a real SUSE file, see docs/files.md).
"""

from __future__ import annotations

import sqlite3
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

INT32, STRING, STRING_ARRAY, I18NSTRING = 4, 6, 8, 9
NAME, VERSION, RELEASE, EPOCH, ARCH, SOURCERPM = 1000, 1001, 1002, 1003, 1022, 1044
SCHEMA = "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)"


def header_blob(entries: list[tuple[int, int, bytes, int]]) -> bytes:
    """(tag, type, data, count) entries -> a header blob (INT32 data aligned to 4)."""
    index = b""
    store = b""
    for tag, kind, data, count in entries:
        if kind == INT32:
            store += b"\0" * (-len(store) % 4)
        index += struct.pack(">iIiI", tag, kind, len(store), count)
        store += data
    return struct.pack(">II", len(entries), len(store)) + index + store


def rpm_header(
    name: str,
    version: str,
    release: str,
    *,
    epoch: int | None = None,
    arch: str = "x86_64",
    sourcerpm: str | None = None,
) -> bytes:
    entries = [
        (NAME, STRING, name.encode() + b"\0", 1),
        (VERSION, STRING, version.encode() + b"\0", 1),
        (RELEASE, STRING, release.encode() + b"\0", 1),
        (ARCH, STRING, arch.encode() + b"\0", 1),
    ]
    if epoch is not None:
        entries.append((EPOCH, INT32, struct.pack(">i", epoch), 1))
    if sourcerpm:
        entries.append((SOURCERPM, STRING, sourcerpm.encode() + b"\0", 1))
    return header_blob(entries)


def rpmdb_sqlite(path: Path, blobs: list[bytes], *, wal: bool = False) -> bytes:
    """A SQLite file with rpm's `Packages` table holding `blobs`; its bytes."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        if wal:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(SCHEMA)
        conn.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
        conn.commit()
    finally:
        conn.close()
    return path.read_bytes()


@dataclass(frozen=True)
class RpmPackage:
    name: str
    version: str
    release: str
    epoch: int | None = None
    arch: str = "noarch"

    @property
    def evr(self) -> str:
        vr = f"{self.version}-{self.release}"
        return f"{self.epoch}:{vr}" if self.epoch else vr


def real_rpmdb(work: Path, packages: list[RpmPackage]) -> Path:
    """A real rpmdb.sqlite holding `packages` (built with rpmbuild, installed with --justdb)."""
    work.mkdir(parents=True, exist_ok=True)
    top = work / "top"
    rpms = []
    for p in packages:
        spec = work / f"{p.name}-{p.version}.spec"
        spec.write_text(
            f"Name: {p.name}\nVersion: {p.version}\nRelease: {p.release}\n"
            + (f"Epoch: {p.epoch}\n" if p.epoch else "")
            + f"Summary: {p.name}\nLicense: MIT\nBuildArch: {p.arch}\n\n"
            f"%description\n{p.name}.\n\n%install\nmkdir -p %{{buildroot}}/usr/share/{p.name}\n"
            f"echo {p.version} > %{{buildroot}}/usr/share/{p.name}/v\n\n"
            f"%files\n/usr/share/{p.name}/v\n"
        )
        subprocess.run(
            ["rpmbuild", "--define", f"_topdir {top}", "-bb", str(spec)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        rpms.append(top / "RPMS" / p.arch / f"{p.name}-{p.version}-{p.release}.{p.arch}.rpm")
    db = work / "db"
    db.mkdir(exist_ok=True)
    subprocess.run(
        ["rpm", "--initdb", "--dbpath", str(db)], check=True, capture_output=True, timeout=60
    )
    subprocess.run(
        ["rpm", "-i", "--justdb", "--nodeps", "--dbpath", str(db), *map(str, rpms)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return db / "rpmdb.sqlite"


def rpm_query(db: Path, *, backend: str | None = None) -> list[str]:
    """What rpm itself lists: `name epoch:version-release arch` per package (the oracle)."""
    out = subprocess.run(
        [
            "rpm", "-qa", "--dbpath", str(db.parent), "--queryformat",
            "%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{ARCH}\\n",
            *(["--define", f"_db_backend {backend}"] if backend else []),
        ],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    return sorted(filter(None, out.splitlines()))


def sqlite_blobs(db: Path) -> list[tuple[int, bytes]]:
    """(hnum, header blob) of every package in a real rpmdb.sqlite."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [(int(n), bytes(b)) for n, b in conn.execute("SELECT hnum, blob FROM Packages")]
    finally:
        conn.close()


def real_bdb(
    path: Path,
    records: list[tuple[int, bytes]],
    *,
    btree: bool = False,
    big_endian: bool = False,
    pagesize: int = 4096,
) -> Path:
    """A Berkeley DB `Packages` written by libdb (`db5.3_load`) holding `records` keyed as
    rpm keys them (the package number, 4 bytes in the writer's byte order; record 0 holds
    the next number). Long headers go to overflow pages, as in a real rpmdb."""
    order = "big" if big_endian else "little"
    lines = ["VERSION=3", "format=bytevalue", f"type={'btree' if btree else 'hash'}"]
    lines += [f"db_pagesize={pagesize}", f"db_lorder={4321 if big_endian else 1234}"]
    lines.append("HEADER=END")
    top = max((n for n, _ in records), default=0) + 1
    for number, blob in [(0, top.to_bytes(4, order)), *records]:
        lines += [" " + number.to_bytes(4, order).hex(), " " + blob.hex()]
    lines.append("DATA=END")
    path.parent.mkdir(parents=True, exist_ok=True)
    dump = path.with_suffix(".dump")
    dump.write_text("\n".join(lines) + "\n")
    path.unlink(missing_ok=True)
    subprocess.run(
        ["db5.3_load", "-f", str(dump), str(path)], check=True, capture_output=True, timeout=60
    )
    return path


def ndb_file(records: list[tuple[int, bytes]], *, slot_pages: int = 1) -> bytes:
    """An ndb `Packages.db` holding `records` (package number, header blob), written as
    rpm's rpmpkgWriteBlob does: slots after a 32-byte header, blobs after the slot pages,
    each `BlbS` number generation length | blob | padding | adler32 length `BlbE`."""
    page, block = 4096, 16
    slots = bytearray(page * slot_pages)
    slots[:32] = struct.pack("<4sIIII", b"RpmP", 0, 1, slot_pages, len(records) + 1) + bytes(12)
    for at in range(32, len(slots), 16):
        slots[at : at + 16] = struct.pack("<4sIII", b"Slot", 0, 0, 0)
    blobs = b""
    for n, (number, blob) in enumerate(records):
        count = -(-(16 + len(blob) + 12) // block)
        offset = (len(slots) + len(blobs)) // block
        struct.pack_into("<4sIII", slots, 32 + 16 * n, b"Slot", number, offset, count)
        head = struct.pack("<4sIII", b"BlbS", number, 1, len(blob))
        body = head + blob + bytes(count * block - 16 - len(blob) - 12)
        blobs += body + struct.pack("<II4s", zlib.adler32(body), len(blob), b"BlbE")
    return bytes(slots) + blobs


def wal_only(db: Path, blobs: list[bytes], out: Path) -> Path:
    """`out/rpmdb.sqlite` + `rpmdb.sqlite-wal`: the real database `db` with `blobs` (real
    headers) added as newer rows that are only in the write-ahead log, as a copy taken
    while rpm was still running would hold them (SQLite's own WAL, never checkpointed)."""
    work = out.parent / f"{out.name}.work"
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    live = work / "rpmdb.sqlite"
    live.write_bytes(db.read_bytes())
    conn = sqlite3.connect(live)
    try:
        assert conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
        conn.commit()
        (out / "rpmdb.sqlite").write_bytes(live.read_bytes())
        (out / "rpmdb.sqlite-wal").write_bytes((work / "rpmdb.sqlite-wal").read_bytes())
    finally:
        conn.close()
    return out / "rpmdb.sqlite"
