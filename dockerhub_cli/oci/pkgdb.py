"""Package databases inside an image's filesystem: dpkg's `status`, apk's `installed` and
rpm's SQLite database.

Pure parsers over bytes (the caller reads the files from the layers, bounded and verified
against the layer index). `diff` uses them when the images carry no SBOM attestation.

* dpkg (`var/lib/dpkg/status`, and distroless' one-stanza-per-package `status.d/*`): deb822
  stanzas; a package counts when its `Status` says `installed` (deinstalled packages whose
  config files remain say `config-files`, and are not installed).
* apk (`lib/apk/db/installed`): blank-line separated records of `X:value` lines, `P` the
  name, `V` the version, `A` the architecture.
* rpm (`var/lib/rpm/rpmdb.sqlite`, or `usr/lib/sysimage/rpm/` on newer Fedora / openSUSE; rpm
  4.16+ on Fedora, RHEL/UBI 9, Amazon Linux 2023): the `Packages` table holds one header blob
  per package, in the layout of rpm's `lib/header.c` (`headerImport`): big-endian `il` (number
  of index entries) and `dl` (bytes of data), `il` entries of (tag, type, offset, count), then
  the data. NAME, EPOCH, VERSION, RELEASE, ARCH and SOURCERPM are read, every offset checked
  against `dl`. The SQLite file is opened in memory (`deserialize`), read-only, with
  `trusted_schema` off, a progress handler bounding the work, and `Packages` required to be a
  table (a view could compute anything).
* rpm's Berkeley DB (`var/lib/rpm/Packages`: CentOS 7, RHEL 7/8, Amazon Linux 2, Oracle
  Linux 8): a hash (or btree) file keyed by the 4-byte package number, each value a header
  blob, long ones in chains of overflow pages. Read the way rpm's own read-only reader does
  (`lib/backend/bdb_ro.cc`): the meta page (magic, byte order, page size, last page, the
  hash's buckets and spares or the btree's root), then every bucket's page chain (or the
  leaves left to right), every page number checked against the file and each page visited
  at most once (a loop in a chain is refused, so the work is bounded by the file's size).
* rpm's ndb (`Packages.db`: SUSE, openSUSE; `lib/backend/ndb/rpmpkg.c`): a header (`RpmP`),
  slot pages of (package number, block offset, block count), each blob framed by a head
  (`BlbS`, number, generation, length) and a tail (adler32, length, `BlbE`); blobs must lie
  inside the file, after the slots, without overlapping.

Every value is made printable (control characters as `\\xNN`) and bounded in length: a
package database is as hostile as any other byte of an image.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_DIR = "var/lib/dpkg/status.d"
APK_INSTALLED = "lib/apk/db/installed"
RPM_SQLITE = ("var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite")
RPM_NDB = ("var/lib/rpm/Packages.db", "usr/lib/sysimage/rpm/Packages.db")
RPM_BDB = ("var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages")
RPM_OTHER = (*RPM_NDB, *RPM_BDB)
RPM_DATABASES = (*RPM_SQLITE, *RPM_OTHER)
MAX_PACKAGES = 100_000
MAX_FIELD = 256

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class InstalledPackage:
    name: str
    version: str
    arch: str | None = None
    source: str | None = None  # the source package (dpkg `Source`, apk `o:` origin)


def _clean(value: str) -> str:
    value = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value.strip())
    return value[:MAX_FIELD]


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def parse_dpkg_status(data: bytes) -> list[InstalledPackage]:
    """Installed packages of a dpkg status file (or one `status.d/` file)."""
    out: list[InstalledPackage] = []
    for stanza in re.split(r"\n[ \t]*\n", _text(data).replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        for line in stanza.split("\n"):
            if not line or line[0] in " \t#":  # continuation lines (Description, Conffiles)
                continue
            key, sep, value = line.partition(":")
            if sep:
                fields.setdefault(key.strip().lower(), value)
        name, version = _clean(fields.get("package", "")), _clean(fields.get("version", ""))
        if not name or not version:
            continue
        status = fields.get("status")
        # status.d files (distroless) carry no Status: each one is an installed package.
        if status is not None and status.split()[-1:] != ["installed"]:
            continue
        source = _clean(fields.get("source", "").split("(")[0]) or None
        arch = _clean(fields.get("architecture", "")) or None
        out.append(InstalledPackage(name, version, arch, source))
        if len(out) >= MAX_PACKAGES:
            break
    return out


def parse_apk_installed(data: bytes) -> list[InstalledPackage]:
    """Installed packages of apk's database."""
    out: list[InstalledPackage] = []
    for record in re.split(r"\n\s*\n", _text(data).replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        for line in record.split("\n"):
            if len(line) > 1 and line[1] == ":":
                fields.setdefault(line[0], line[2:])
        name, version = _clean(fields.get("P", "")), _clean(fields.get("V", ""))
        if not name or not version:
            continue
        arch = _clean(fields.get("A", "")) or None
        out.append(InstalledPackage(name, version, arch, _clean(fields.get("o", "")) or None))
        if len(out) >= MAX_PACKAGES:
            break
    return out


# -- rpm -------------------------------------------------------------------------------------


class PackageDbError(ValueError):
    """A package database that cannot be read at all (not the format it claims)."""


# rpm's lib/header.c bounds a header blob: at most 0xffff index entries, 256 MiB of data.
RPM_MAX_INDEX = 0xFFFF
RPM_MAX_DATA = 256 * 1024 * 1024
MAX_RPM_HEADER = 16 * 1024 * 1024  # one package's header (a big one, with file lists: ~1 MB)
MAX_SQLITE_STEPS = 50_000_000  # SQLite VM instructions for the whole read (~1 s of work)

_TAG_NAME, _TAG_VERSION, _TAG_RELEASE, _TAG_EPOCH, _TAG_ARCH, _TAG_SOURCERPM = (
    1000, 1001, 1002, 1003, 1022, 1044,
)  # fmt: skip
_TYPE_INT32, _TYPE_STRING, _TYPE_STRING_ARRAY, _TYPE_I18NSTRING = 4, 6, 8, 9
_STRINGS = (_TYPE_STRING, _TYPE_STRING_ARRAY, _TYPE_I18NSTRING)
_WANTED = {_TAG_NAME, _TAG_VERSION, _TAG_RELEASE, _TAG_EPOCH, _TAG_ARCH, _TAG_SOURCERPM}


def parse_rpm_header(blob: bytes) -> InstalledPackage | None:
    """One package from an rpm header blob (as stored in rpmdb's `Packages`), or None when it
    is malformed or names no package. Every length and offset is checked before use."""
    if len(blob) < 8:
        return None
    il, dl = struct.unpack_from(">II", blob, 0)
    start = 8 + 16 * il
    if not 1 <= il <= RPM_MAX_INDEX or dl > RPM_MAX_DATA or start + dl > len(blob):
        return None
    data = memoryview(blob)[start : start + dl]
    values: dict[int, str | int] = {}
    for n in range(il):
        tag, kind, offset, count = struct.unpack_from(">iIiI", blob, 8 + 16 * n)
        if tag not in _WANTED or tag in values or not 0 <= offset < dl or count < 1:
            continue
        if kind == _TYPE_INT32 and tag == _TAG_EPOCH:
            if offset % 4 == 0 and offset + 4 <= dl:
                values[tag] = struct.unpack_from(">i", data, offset)[0]
        elif kind in _STRINGS and tag != _TAG_EPOCH:
            window = bytes(data[offset : min(dl, offset + MAX_FIELD * 4 + 1)])
            end = window.find(b"\0")
            if end >= 0:
                values[tag] = _clean(_text(window[:end]))
    name, version = values.get(_TAG_NAME), values.get(_TAG_VERSION)
    if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
        return None
    release = values.get(_TAG_RELEASE)
    epoch = values.get(_TAG_EPOCH)
    full = version + (f"-{release}" if isinstance(release, str) and release else "")
    if isinstance(epoch, int) and epoch > 0:
        full = f"{epoch}:{full}"
    arch = values.get(_TAG_ARCH)
    source = values.get(_TAG_SOURCERPM)
    return InstalledPackage(
        name,
        full,
        arch if isinstance(arch, str) and arch else None,
        _source_name(source) if isinstance(source, str) else None,
    )


def _source_name(sourcerpm: str) -> str | None:
    """`openssl-3.0.7-27.el9.src.rpm` -> `openssl` (name-version-release.src.rpm)."""
    stem = sourcerpm.removesuffix(".rpm").removesuffix(".src").removesuffix(".nosrc")
    parts = stem.rsplit("-", 2)
    return parts[0] or None if len(parts) == 3 else None


def parse_rpm_sqlite(data: bytes) -> list[InstalledPackage]:
    """Installed packages of an rpm SQLite database (`rpmdb.sqlite`), bounded in work and
    size; `gpg-pubkey` entries (imported signing keys, not packages) are left out. Raises
    `PackageDbError` when the bytes are not a readable rpm database."""
    import sqlite3

    if len(data) < 100 or not data.startswith(b"SQLite format 3\0"):
        raise PackageDbError("not a SQLite database")
    image = bytearray(data)
    if image[18] == 2 and image[19] == 2:  # WAL mode: an in-memory copy reads as a rollback one
        image[18] = image[19] = 1
    steps = 0
    out: list[InstalledPackage] = []

    def bound() -> int:
        nonlocal steps
        steps += 1000
        return 1 if steps > MAX_SQLITE_STEPS else 0

    conn = sqlite3.connect(":memory:")
    try:
        conn.set_progress_handler(bound, 1000)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_RPM_HEADER + 1)
        conn.deserialize(bytes(image))
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA cell_size_check = ON")
        conn.execute("PRAGMA query_only = ON")
        row = conn.execute("SELECT type FROM sqlite_master WHERE name = 'Packages'").fetchone()
        if row is None or row[0] != "table":
            raise PackageDbError("no Packages table")
        rows = conn.execute("SELECT blob FROM Packages ORDER BY hnum LIMIT ?", (MAX_PACKAGES + 1,))
        out = _packages(blob for (blob,) in rows)
    except sqlite3.Error as exc:
        if steps > MAX_SQLITE_STEPS:
            raise PackageDbError("reading it took too much work; stopped") from None
        raise PackageDbError(f"not a readable rpm database ({exc})") from None
    finally:
        conn.close()
    return out


def _packages(blobs: Iterable[object]) -> list[InstalledPackage]:
    """The packages of rpm header blobs, in order: blobs that are not bytes, too big or
    malformed are skipped, and so are `gpg-pubkey` entries (imported signing keys)."""
    out: list[InstalledPackage] = []
    for blob in blobs:
        if not isinstance(blob, bytes) or len(blob) > MAX_RPM_HEADER:
            continue
        package = parse_rpm_header(blob)
        if package is None or package.name == "gpg-pubkey":
            continue
        out.append(package)
        if len(out) >= MAX_PACKAGES:
            break
    return out


# -- rpm's Berkeley DB (lib/backend/bdb_ro.cc) ----------------------------------------------

_BDB_HASH_MAGIC, _BDB_BTREE_MAGIC = 0x00061561, 0x00053162
# page types (byte 25 of a page header): hash buckets, btree internal / leaf, overflow
_P_HASH_UNSORTED, _P_IBTREE, _P_LBTREE, _P_OVERFLOW, _P_HASHMETA, _P_HASH = 2, 3, 5, 7, 8, 13
_H_KEYDATA, _H_OFFPAGE = 1, 3  # hash items: inline, or in overflow pages
_B_KEYDATA, _B_OVERFLOW, _B_DELETE = 1, 3, 0x80  # btree items
_PAGE_HEADER = 26  # lsn(8) pgno(4) prev(4) next(4) entries(2) hf_offset(2) level(1) type(1)


class _BdbFile:
    """Pages of a Berkeley DB file, each handed out at most once (a second visit means a
    loop, which is refused), every page number checked against the file and the meta page."""

    def __init__(self, data: bytes) -> None:
        if len(data) < 512:
            raise PackageDbError("not a Berkeley DB file (shorter than its meta page)")
        for order in ("<", ">"):
            magic = struct.unpack_from(order + "I", data, 12)[0]
            if magic in (_BDB_HASH_MAGIC, _BDB_BTREE_MAGIC):
                break
        else:
            raise PackageDbError("not a Berkeley DB hash or btree database")
        self.data, self.order, self.hash = data, order, magic == _BDB_HASH_MAGIC
        version, pagesize = self.u32(16), self.u32(20)
        if not (8 <= version <= 10 if self.hash else 9 <= version <= 10):
            raise PackageDbError(f"unsupported Berkeley DB version {version}")
        if pagesize not in (512 << n for n in range(8)):  # 512 B .. 64 KiB
            raise PackageDbError(f"a page size of {pagesize} bytes is not Berkeley DB's")
        if data[24] != 0:
            raise PackageDbError("an encrypted Berkeley DB database is not read")
        if data[26] & 0x01:  # DBMETA_CHKSUM: pages laid out with a checksum
            raise PackageDbError("a Berkeley DB database with page checksums is not read")
        self.pagesize = pagesize
        # the last page the meta page names, and no further than the file goes
        self.last = min(self.u32(32), len(data) // pagesize - 1)
        self.seen: set[int] = {0}

    def u32(self, offset: int, base: int = 0) -> int:
        return int(struct.unpack_from(self.order + "I", self.data, base + offset)[0])

    def u16(self, offset: int, base: int = 0) -> int:
        return int(struct.unpack_from(self.order + "H", self.data, base + offset)[0])

    def page(self, pgno: int, kinds: tuple[int, ...]) -> int:
        """The file offset of page `pgno`, which must be one of `kinds` and not seen before."""
        if not 0 < pgno <= self.last:
            raise PackageDbError(f"page {pgno} is outside the file (truncated or damaged)")
        if pgno in self.seen:
            raise PackageDbError(f"page {pgno} is reached twice (a loop in its page chain)")
        self.seen.add(pgno)
        base = pgno * self.pagesize
        if self.u32(8, base) != pgno or self.data[base + 25] not in kinds:
            raise PackageDbError(f"page {pgno} is not the page it should be (damaged)")
        return base

    def offsets(self, base: int) -> list[int]:
        """The item offsets of the page at `base`, each inside the page."""
        count = self.u16(20, base)
        if _PAGE_HEADER + 2 * count > self.pagesize:
            raise PackageDbError(f"page {base // self.pagesize} claims {count} items")
        out = [self.u16(_PAGE_HEADER + 2 * n, base) for n in range(count)]
        if any(not _PAGE_HEADER + 2 * count <= o < self.pagesize for o in out):
            raise PackageDbError(f"page {base // self.pagesize} has an item outside it")
        return out

    def overflow(self, pgno: int, length: int) -> bytes | None:
        """A value kept in a chain of overflow pages (None when it is too big to be one
        package's header; its pages are then not read)."""
        if length == 0 or length > len(self.data):
            raise PackageDbError(f"an overflow item of {length:,} bytes (damaged)")
        if length > MAX_RPM_HEADER:
            return None
        parts: list[bytes] = []
        left = length
        while left > 0:
            base = self.page(pgno, (_P_OVERFLOW,))
            size = self.u16(22, base)
            if size > self.pagesize - _PAGE_HEADER or size > left or size == 0:
                raise PackageDbError(f"overflow page {pgno} holds {size} bytes (damaged)")
            parts.append(self.data[base + _PAGE_HEADER : base + _PAGE_HEADER + size])
            left -= size
            pgno = self.u32(16, base)
        return b"".join(parts)


def _bdb_hash_items(db: _BdbFile) -> Iterator[tuple[bytes | None, bytes | None]]:
    max_bucket = db.u32(72)
    spares = [db.u32(96 + 4 * n) for n in range(32)]
    if max_bucket > db.last:
        raise PackageDbError(f"{max_bucket + 1:,} hash buckets in {db.last:,} pages (damaged)")
    kinds = (_P_HASH_UNSORTED, _P_HASHMETA, _P_HASH)
    for bucket in range(max_bucket + 1):
        pgno = bucket + spares[bucket.bit_length()]
        while pgno:
            base = db.page(pgno, kinds)
            offsets = db.offsets(base)
            for n in range(0, len(offsets) - 1, 2):
                key_at, value_at = offsets[n], offsets[n + 1]
                key_end = db.pagesize if n == 0 else offsets[n - 1]
                if not value_at < key_at < key_end:
                    raise PackageDbError(f"page {pgno}: items out of order (damaged)")
                yield (
                    _bdb_hash_item(db, base, key_at, key_end),
                    _bdb_hash_item(db, base, value_at, key_at),
                )
            pgno = db.u32(16, base)


def _bdb_hash_item(db: _BdbFile, base: int, start: int, end: int) -> bytes | None:
    kind = db.data[base + start]
    if kind == _H_KEYDATA:
        return db.data[base + start + 1 : base + end]
    if kind == _H_OFFPAGE and end - start == 12:
        return db.overflow(db.u32(start + 4, base), db.u32(start + 8, base))
    raise PackageDbError(f"a hash item of type {kind} (rpm writes none)")


def _bdb_btree_items(db: _BdbFile) -> Iterator[tuple[bytes | None, bytes | None]]:
    pgno = db.u32(88)
    while True:  # down the leftmost branch to the first leaf
        base = db.page(pgno, (_P_IBTREE, _P_LBTREE))
        if db.data[base + 25] == _P_LBTREE:
            break
        offsets = db.offsets(base)
        if not offsets or offsets[0] + 12 > db.pagesize:
            raise PackageDbError(f"btree page {pgno} has no usable items (damaged)")
        pgno = db.u32(offsets[0] + 4, base)
    while True:  # the leaves, left to right
        offsets = db.offsets(base)
        for n in range(0, len(offsets) - 1, 2):
            key_at, value_at = offsets[n], offsets[n + 1]
            if max(key_at, value_at) + 3 > db.pagesize:
                raise PackageDbError(f"btree page {pgno}: an item outside it (damaged)")
            if (db.data[base + key_at + 2] | db.data[base + value_at + 2]) & _B_DELETE:
                continue
            yield _bdb_btree_item(db, base, key_at), _bdb_btree_item(db, base, value_at)
        pgno = db.u32(16, base)
        if not pgno:
            return
        base = db.page(pgno, (_P_LBTREE,))


def _bdb_btree_item(db: _BdbFile, base: int, start: int) -> bytes | None:
    if start % 4 or start + 3 > db.pagesize:
        raise PackageDbError("a btree item out of place (damaged)")
    kind = db.data[base + start + 2]
    if kind == _B_OVERFLOW and start + 12 > db.pagesize:
        raise PackageDbError("a btree item longer than its page (damaged)")
    if kind == _B_KEYDATA:
        length = db.u16(start, base)
        if start + 3 + length > db.pagesize:
            raise PackageDbError("a btree item longer than its page (damaged)")
        return db.data[base + start + 3 : base + start + 3 + length]
    if kind == _B_OVERFLOW:
        return db.overflow(db.u32(start + 4, base), db.u32(start + 8, base))
    raise PackageDbError(f"a btree item of type {kind} (rpm writes none)")


def parse_rpm_bdb(data: bytes) -> list[InstalledPackage]:
    """Installed packages of rpm's Berkeley DB `Packages` (hash or btree, either byte
    order), in package-number order. Raises `PackageDbError` when the file is not such a
    database or is damaged (a page out of range, a loop, an item outside its page)."""
    db = _BdbFile(data)
    numbered: list[tuple[int, bytes]] = []
    for key, value in _bdb_hash_items(db) if db.hash else _bdb_btree_items(db):
        if key is None or len(key) != 4 or value is None:
            continue
        number = int.from_bytes(key, "little" if db.order == "<" else "big")
        if number:  # record 0 holds rpm's next package number, not a header
            numbered.append((number, value))
        if len(numbered) > MAX_PACKAGES:
            break
    numbered.sort(key=lambda nv: nv[0])
    return _packages(value for _, value in numbered)


# -- rpm's ndb (lib/backend/ndb/rpmpkg.c) ---------------------------------------------------

_NDB_MAGIC, _NDB_SLOT, _NDB_HEAD, _NDB_TAIL = b"RpmP", b"Slot", b"BlbS", b"BlbE"
_NDB_PAGE, _NDB_BLOCK, _NDB_HEADER = 4096, 16, 32


def parse_rpm_ndb(data: bytes) -> list[InstalledPackage]:
    """Installed packages of rpm's ndb `Packages.db`, in package-number order. Raises
    `PackageDbError` when the file is not such a database or is damaged (a slot or blob
    outside the file, blobs overlapping, a blob's frame not matching its slot)."""
    if len(data) < _NDB_HEADER or data[:4] != _NDB_MAGIC:
        raise PackageDbError("not an rpm ndb database")
    version, _generation, slot_pages = struct.unpack_from("<III", data, 4)
    if version != 0:
        raise PackageDbError(f"ndb version {version} is not read")
    if len(data) % _NDB_BLOCK:
        raise PackageDbError("not a whole number of blocks (truncated)")
    if not 0 < slot_pages or slot_pages * _NDB_PAGE > len(data):
        raise PackageDbError(f"{slot_pages:,} slot pages in {len(data):,} bytes (damaged)")
    blocks = len(data) // _NDB_BLOCK
    first_blob = slot_pages * (_NDB_PAGE // _NDB_BLOCK)
    slots: list[tuple[int, int, int]] = []  # (block offset, block count, package number)
    for at in range(_NDB_HEADER, slot_pages * _NDB_PAGE, 16):
        if data[at : at + 4] != _NDB_SLOT:
            raise PackageDbError(f"slot at byte {at:,} is damaged")
        number, offset, count = struct.unpack_from("<III", data, at + 4)
        if offset == 0:
            continue  # a free slot
        if not number or not count or offset < first_blob or offset + count > blocks:
            raise PackageDbError(f"slot of package {number} points outside the file")
        slots.append((offset, count, number))
    slots.sort()
    numbered: list[tuple[int, bytes]] = []
    end = first_blob
    for offset, count, number in slots:
        if offset < end:
            raise PackageDbError(f"blob of package {number} overlaps another (damaged)")
        end = offset + count
        start, stop = offset * _NDB_BLOCK, end * _NDB_BLOCK
        head, pkg, _gen, length = struct.unpack_from("<4sIII", data, start)
        if head != _NDB_HEAD or pkg != number or count != -(-(16 + length + 12) // _NDB_BLOCK):
            raise PackageDbError(f"blob of package {number} does not match its slot")
        _adler, tail_length, tail = struct.unpack_from("<II4s", data, stop - 12)
        if tail != _NDB_TAIL or tail_length != length:
            raise PackageDbError(f"blob of package {number} has a damaged tail")
        if length <= MAX_RPM_HEADER:
            numbered.append((number, data[start + 16 : start + 16 + length]))
    numbered.sort(key=lambda nv: nv[0])
    return _packages(value for _, value in numbered)
