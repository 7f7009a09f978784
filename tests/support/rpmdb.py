"""rpm databases for the tests.

* `header_blob` / `rpm_header`: an rpm header blob as rpmdb's `Packages` table stores it,
  written per rpm's lib/header.c (`headerExport` without the lead magic): big-endian `il`,
  `dl`, `il` index entries of (tag, type, offset, count), then the data store. Used by the
  unit tests (no rpm binary needed) to build hostile variants.
* `rpmdb_sqlite`: a SQLite file with rpm's schema holding such blobs.
* `real_rpmdb`: a real `rpmdb.sqlite` made by Debian's `rpm` (`rpmbuild` of tiny packages,
  `rpm --initdb`, `rpm -i --justdb`), for the integration tests.
"""

from __future__ import annotations

import sqlite3
import struct
import subprocess
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


def rpm_query(db: Path) -> list[str]:
    """What rpm itself lists: `name epoch:version-release arch` per package (the oracle)."""
    out = subprocess.run(
        [
            "rpm", "-qa", "--dbpath", str(db.parent), "--queryformat",
            "%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{ARCH}\\n",
        ],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    return sorted(filter(None, out.splitlines()))
