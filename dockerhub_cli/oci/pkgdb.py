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
  table (a view could compute anything). Berkeley DB (`Packages`, RHEL 8 / Amazon Linux 2)
  and ndb (`Packages.db`, SUSE) databases are only named.

Every value is made printable (control characters as `\\xNN`) and bounded in length: a
package database is as hostile as any other byte of an image.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_DIR = "var/lib/dpkg/status.d"
APK_INSTALLED = "lib/apk/db/installed"
RPM_SQLITE = ("var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite")
# Berkeley DB and ndb: not read, only named when present.
RPM_OTHER = (
    "var/lib/rpm/Packages.db",
    "var/lib/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages",
)
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

    def bound() -> int:
        nonlocal steps
        steps += 1000
        return 1 if steps > MAX_SQLITE_STEPS else 0

    out: list[InstalledPackage] = []
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
        for (blob,) in rows:
            if not isinstance(blob, bytes) or len(blob) > MAX_RPM_HEADER:
                continue
            package = parse_rpm_header(blob)
            if package is None or package.name == "gpg-pubkey":
                continue
            out.append(package)
            if len(out) >= MAX_PACKAGES:
                break
    except sqlite3.Error as exc:
        if steps > MAX_SQLITE_STEPS:
            raise PackageDbError("reading it took too much work; stopped") from None
        raise PackageDbError(f"not a readable rpm database ({exc})") from None
    finally:
        conn.close()
    return out
