"""`diff A B`: which packages were added, removed, upgraded or downgraded (issue 15).

Sources, in order:

1. Both images' SBOMs (parsed by the `sbom` command's own code, `supply_chain.sbom_report`):
   BuildKit's attestation inside the index (requests by digest, cached forever), else one
   attached through the OCI 1.1 referrers API or its `sha256-<hex>` tag fallback, found by
   the `referrers` command's discovery (`ops.referrers.discover`).
2. Otherwise the package databases in both filesystems: dpkg's `var/lib/dpkg/status` (and
   distroless' `status.d/`), apk's `lib/apk/db/installed`. Their content is taken from the
   layer stream when the layer is read cold anyway (`DbCapture`), else read from the one
   layer holding it (stopping once it is out, bounded by --max-download), verified against
   the layer index, and its parse cached by content sha256 (`remote/pkgdb_store.py`): a warm
   diff makes no request.

rpm's databases are read too: SQLite (`rpmdb.sqlite`, rpm 4.16+; `pkgdb.parse_rpm_sqlite`),
with its write-ahead log applied when one is left (`sqlite_with_wal`), ndb (`Packages.db`,
SUSE; `pkgdb.parse_rpm_ndb`) and Berkeley DB (`Packages`, CentOS 7 / RHEL 8 / Amazon Linux 2;
`pkgdb.parse_rpm_bdb`). Versions are ordered with `univers` in the package
type's own scheme (dpkg epochs and `~`, apk `_p`/`-r`, rpm epoch:version-release, pypi,
semver, ...); two versions it cannot order are reported as `changed`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Protocol

from dockerhub_cli.errors import DockerHubError, DownloadLimitError, NoAttestationError
from dockerhub_cli.models.files import PackageChange, PackageDiff
from dockerhub_cli.oci import layer as L
from dockerhub_cli.oci import pkgdb

if TYPE_CHECKING:
    from dockerhub_cli.ops.clients import Clients

Sink = Callable[[L.Entry], "IO[bytes] | None"]


class ImageReader(Protocol):
    """One loaded image as `ops.files` hands it over (this module sits below it)."""

    @property
    def fs(self) -> L.MergedFS: ...

    @property
    def digest(self) -> str: ...

    def locate(self, path: str) -> tuple[L.Placed, str, int]:
        """(entry, member name holding the content, layer), links followed."""
        ...

    def fetch(self, layer: int, sinks: dict[str, Sink]) -> dict[str, str]:
        """Stream `layer` until every member went to its sink (bounded by --max-download);
        the sha256 of each as read."""
        ...


MAX_DB_FILE = 64 * 1024 * 1024  # one database file (a big Debian image's status is ~3 MB)
MAX_DB_FILES = 10_000  # distroless status.d/ holds one small file per package
MAX_CAPTURED = 128 * 1024 * 1024  # database bytes kept in memory while layers stream


_WALS = tuple(path + "-wal" for path in pkgdb.RPM_SQLITE)


def is_db_path(path: str) -> bool:
    return (
        path in (pkgdb.DPKG_STATUS, pkgdb.APK_INSTALLED)
        or path in pkgdb.RPM_DATABASES
        or path in _WALS
        or path.startswith(pkgdb.DPKG_STATUS_DIR + "/")
    )


class DbCapture:
    """The content of the package database files, kept as the layers stream by (cold reads
    cost no extra download): the highest layer's copy of each path, at most MAX_CAPTURED
    bytes in all. Used only after the layer's digest was verified (`load_image` returns only
    then) and its sha256 matched the index."""

    def __init__(self) -> None:
        self.got: dict[str, tuple[int, io.BytesIO]] = {}
        self.held = 0

    def sink(self, layer: int) -> L.FileSink:
        def take(entry: L.Entry) -> IO[bytes] | None:
            if entry.size > MAX_DB_FILE or not is_db_path(entry.path):
                return None
            old = self.got.pop(entry.path, None)  # a lower layer's copy is overwritten
            if old is not None:
                self.held -= len(old[1].getbuffer())
            if self.held + entry.size > MAX_CAPTURED or len(self.got) >= MAX_DB_FILES:
                return None  # read later from its layer, if it is still the one in use
            self.held += entry.size
            buf = io.BytesIO()
            self.got[entry.path] = (layer, buf)
            return buf

        return take

    def content(self, layer: int, path: str, sha256: str | None) -> bytes | None:
        found = self.got.get(path)
        if found is None or found[0] != layer:
            return None
        data = found[1].getvalue()
        return data if sha256 == "sha256:" + hashlib.sha256(data).hexdigest() else None


@dataclass(frozen=True)
class Package:
    type: str
    name: str
    version: str | None
    arch: str | None = None
    namespace: str = ""
    purl: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.type, self.namespace, self.name, self.arch or "")


@dataclass
class Inventory:
    source: str  # "sbom" or "package-db"
    description: str
    packages: list[Package]
    notes: list[str] = field(default_factory=list)


# -- SBOMs ---------------------------------------------------------------------------------------


def sbom_inventory(
    clients: Clients, image: str, platform: str | None, files: ImageReader, label: str
) -> tuple[Inventory | None, str | None]:
    """The packages of the image's SBOM: its attestation inside the index, else one attached
    through the referrers API or its `sha256-<hex>` tag fallback (the `sbom` command's code:
    `supply_chain.sbom_report`); or (None, why not)."""
    from dockerhub_cli.errors import OfflineCacheMissError
    from dockerhub_cli.ops.supply_chain import sbom_report
    from dockerhub_cli.remote.osv import parse_purl

    try:
        report = sbom_report(clients, image, platform=platform)
    except NoAttestationError:
        return None, None
    except OfflineCacheMissError:
        return None, f"{label}: --offline: SBOMs attached through referrers were not looked for"
    except DownloadLimitError:
        raise
    except DockerHubError as exc:
        return None, f"{label}: its SBOM attestation could not be read ({exc.message})"
    if report.digest != files.digest:
        return None, (
            f"{label}: its SBOM describes {report.digest[:19]}, not the image read "
            f"({files.digest[:19]}; the tag moved?)"
        )
    packages = []
    for p in report.packages:
        purl = parse_purl(p.purl)
        if purl is None:
            packages.append(Package("unknown", p.name, p.version))
            continue
        qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
        arch = qualifiers.get("arch")
        packages.append(
            Package(
                str(purl.type),
                str(purl.name),
                p.version or purl.version,
                str(arch) if arch else None,
                str(purl.namespace or ""),
                p.purl,
            )
        )
    what = f"SBOM attestation {report.sbom_digest[:19]} ({report.sbom_format})"
    if report.sbom_source != "in_index":
        how = {"referrers_api": "the referrers API", "tag_fallback": "its sha256- tag"}
        what = (
            f"SBOM {report.sbom_digest[:19]} ({report.sbom_format}) attached through "
            f"{how.get(report.sbom_source, report.sbom_source.replace('_', ' '))}"
        )
    return Inventory("sbom", what, packages, list(report.notes)), None


# -- package databases in the filesystem ---------------------------------------------------------


def _is_file(files: ImageReader, path: str) -> bool:
    found = L.resolve(files.fs, path)
    return found is not None and found.entry.type in (L.FILE, L.HARDLINK)


def _db_paths(files: ImageReader) -> tuple[str | None, list[list[str]], list[str]]:
    """(kind, database files in groups read together, notes) of the image's package
    manager: one group per file, except rpm's SQLite database and its write-ahead log."""
    fs = files.fs
    notes: list[str] = []
    dpkg = []
    if _is_file(files, pkgdb.DPKG_STATUS):
        dpkg.append(pkgdb.DPKG_STATUS)
    folder = L.resolve(fs, pkgdb.DPKG_STATUS_DIR)
    if folder is not None and folder.entry.type == L.DIR:
        found = [
            p.entry.path
            for p in fs.listdir(folder.entry.path)
            if p.entry.type in (L.FILE, L.HARDLINK) and not p.entry.path.endswith(".md5sums")
        ]
        if len(found) > MAX_DB_FILES:
            notes.append(f"only the first {MAX_DB_FILES:,} files of {pkgdb.DPKG_STATUS_DIR}")
        dpkg += sorted(found)[:MAX_DB_FILES]
    if dpkg:
        return "dpkg", [[p] for p in dpkg], notes
    if _is_file(files, pkgdb.APK_INSTALLED):
        return "apk", [[pkgdb.APK_INSTALLED]], notes
    # var/lib/rpm is often a link to usr/lib/sysimage/rpm; SQLite (rpm 4.16+) before ndb
    # (SUSE) before Berkeley DB (older rpm), as rpm itself migrated
    for path in pkgdb.RPM_SQLITE:
        if _is_file(files, path):
            wal = L.resolve(fs, path + "-wal")
            if wal is not None and wal.entry.type == L.FILE and wal.entry.size > 0:
                return "rpm", [[path, path + "-wal"]], notes
            return "rpm", [[path]], notes
    for path in pkgdb.RPM_OTHER:
        if _is_file(files, path):
            return "rpm", [[path]], notes
    return None, [], notes


def sqlite_with_wal(db: bytes, wal: bytes) -> bytes:
    """The SQLite database `db` with its write-ahead log `wal` applied, by SQLite itself: both
    written to a private temporary directory (mode 0700, removed after), opened read-only,
    and serialized back through SQLite's pager (which reads the newest copy of each page
    from the log, after checking the log's salts and checksums). The image's files are
    never touched; the result is then parsed in memory like any rpmdb.sqlite. Raises
    `PackageDbError` when SQLite cannot open it, or the log claims a database bigger than
    the two files."""
    import sqlite3
    import tempfile
    from pathlib import Path

    steps = 0

    def bound() -> int:
        nonlocal steps
        steps += 1000
        return 1 if steps > pkgdb.MAX_SQLITE_STEPS else 0

    with tempfile.TemporaryDirectory(prefix="dockerhub-rpmdb-") as tmp:
        path = Path(tmp) / "rpmdb.sqlite"
        path.write_bytes(db)
        Path(tmp, "rpmdb.sqlite-wal").write_bytes(wal)
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise pkgdb.PackageDbError(
                f"its write-ahead log could not be applied ({exc})"
            ) from None
        try:
            conn.set_progress_handler(bound, 1000)
            conn.execute("PRAGMA trusted_schema = OFF")
            conn.execute("PRAGMA query_only = ON")
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            size = conn.execute("PRAGMA page_size").fetchone()[0]
            # every page past the main file must be in the log: a commit frame claiming a
            # bigger database would make serialize() allocate (zeros) for all of it
            if pages * size > len(db) + len(wal):
                raise pkgdb.PackageDbError(
                    f"its write-ahead log claims a database of {pages * size:,} bytes "
                    f"from {len(db) + len(wal):,}"
                )
            return conn.serialize()
        except sqlite3.Error as exc:
            raise pkgdb.PackageDbError(
                f"its write-ahead log could not be applied ({exc})"
            ) from None
        finally:
            conn.close()


def _parser(path: str) -> Callable[[bytes], list[pkgdb.InstalledPackage]]:
    if path == pkgdb.APK_INSTALLED:
        return pkgdb.parse_apk_installed
    if path in pkgdb.RPM_SQLITE:
        return pkgdb.parse_rpm_sqlite
    if path in pkgdb.RPM_NDB:
        return pkgdb.parse_rpm_ndb
    if path in pkgdb.RPM_BDB:
        return pkgdb.parse_rpm_bdb
    return pkgdb.parse_dpkg_status


_PURL_TYPES = {"dpkg": "deb", "apk": "apk", "rpm": "rpm"}


def _group_key(shas: list[str | None]) -> str | None:
    """The cache key of a group of files: the sha256 of the one, or of the list."""
    if len(shas) == 1 or None in shas:
        return shas[0] if len(shas) == 1 else None
    return "sha256:" + hashlib.sha256(" ".join(str(s) for s in shas).encode()).hexdigest()


def db_inventory(
    clients: Clients,
    files: ImageReader,
    capture: DbCapture | None,
    label: str,
) -> tuple[Inventory | None, list[str]]:
    """The packages of the image's dpkg, apk or rpm database, or (None, notes saying why
    not)."""
    from dockerhub_cli.errors import DigestMismatchError
    from dockerhub_cli.remote.pkgdb_store import PackageDbStore

    kind, groups, notes = _db_paths(files)
    if kind is None:
        return None, [f"{label}: {n}" for n in notes]
    unreadable: list[str] = []

    def parse(group: list[str], contents: list[bytes]) -> list[pkgdb.InstalledPackage]:
        try:
            if len(group) == 2:  # rpmdb.sqlite and its write-ahead log
                try:
                    data = sqlite_with_wal(contents[0], contents[1])
                except pkgdb.PackageDbError as exc:
                    notes.append(f"{group[1]}: {exc}; the database was read without it")
                    data = contents[0]
                return pkgdb.parse_rpm_sqlite(data)
            return _parser(group[0])(contents[0])
        except pkgdb.PackageDbError as exc:
            unreadable.append(f"{group[0]} could not be read: {exc}")
            return []

    store = PackageDbStore(clients.settings)
    packages: list[pkgdb.InstalledPackage] = []
    pending: dict[int, dict[str, L.Placed]] = {}
    waiting: list[tuple[list[str], list[tuple[L.Placed, str, int]], str | None]] = []
    got: dict[tuple[int, str], bytes] = {}
    failed = 0
    for group in groups:
        try:
            located = [files.locate(path) for path in group]
        except DockerHubError as exc:  # e.g. a hard link whose target is missing
            notes.append(f"{group[0]}: {exc.message}")
            failed += 1
            continue
        key = _group_key([placed.entry.sha256 for placed, _, _ in located])
        cached = store.get(kind, key)
        if cached is not None:
            packages += cached
            continue
        too_big = [
            (p, n)
            for n, (p, _, _) in zip(group, located, strict=True)
            if p.entry.size > MAX_DB_FILE
        ]
        if too_big:
            notes.append(f"{too_big[0][1]} is {too_big[0][0].entry.size:,} bytes: not read")
            continue
        for placed, member, layer in located:
            data = capture.content(layer, member, placed.entry.sha256) if capture else None
            if data is not None:
                got[(layer, member)] = data
            else:
                pending.setdefault(layer, {})[member] = placed
        waiting.append((group, located, key))
    if failed == len(groups):
        return None, [f"{label}: {n}" for n in notes]
    for layer, members in sorted(pending.items()):
        if clients.settings.offline:
            return None, [f"{label}: --offline: its package database was never read"]
        buffers = {m: io.BytesIO() for m in members}
        sinks: dict[str, Sink] = {m: _sink_to(buffers[m]) for m in members}
        try:
            hashes = files.fetch(layer, sinks)
        except DownloadLimitError as exc:
            return None, [f"{label}: its package database was not read: {exc.message}"]
        for member, placed in members.items():
            if hashes.get(member) != placed.entry.sha256:
                raise DigestMismatchError(
                    f"{member}: its content does not match the layer index",
                    hint="the registry served different bytes than before",
                )
            got[(layer, member)] = buffers[member].getvalue()
    for group, located, key in waiting:
        before = len(unreadable)
        parsed = parse(group, [got[(layer, member)] for _, member, layer in located])
        if len(unreadable) == before:
            store.put(kind, key, parsed)
        packages += parsed
    if unreadable:
        notes.append(unreadable[0])
        return None, [f"{label}: {n}" for n in notes]
    paths = [group[0] for group in groups]
    described = paths[0] if len(paths) == 1 else f"{pkgdb.DPKG_STATUS_DIR}/ ({len(paths)} files)"
    if kind == "dpkg" and len(paths) > 1 and paths[0] == pkgdb.DPKG_STATUS:
        described = f"{pkgdb.DPKG_STATUS} + {pkgdb.DPKG_STATUS_DIR}/"
    if len(groups[0]) == 2:
        described += " + its write-ahead log"
    purl_type = _PURL_TYPES[kind]
    return (
        Inventory(
            "package-db",
            f"{kind} database ({described})",
            [Package(purl_type, p.name, p.version, p.arch) for p in packages],
        ),
        [f"{label}: {n}" for n in notes],
    )


def _sink_to(buffer: io.BytesIO) -> Sink:
    return lambda _entry: buffer


# -- comparing -----------------------------------------------------------------------------------


def _order(kind: str, a: str | None, b: str | None) -> str:
    """'upgraded', 'downgraded' or 'changed' for version a -> b."""
    from dockerhub_cli.remote.osv import purl_version_key

    if a is None or b is None:
        return "changed"
    x, y = purl_version_key(kind, a), purl_version_key(kind, b)
    if x is None or y is None or type(x) is not type(y):
        return "changed"
    try:
        if x < y:
            return "upgraded"
        if y < x:
            return "downgraded"
    except Exception:  # noqa: BLE001 - univers compares junk unpredictably
        pass
    return "changed"


def _sorted_versions(kind: str, versions: Iterable[Package]) -> list[Package]:
    """Versions in their scheme's order (those univers cannot read last, as text)."""
    listed = list(versions)
    if len(listed) < 2:  # the usual case: no version scheme (univers) needed to sort
        return listed
    from dockerhub_cli.remote.osv import purl_version_key

    keyed = [(purl_version_key(kind, p.version or ""), p) for p in listed]
    readable = [(k, p) for k, p in keyed if k is not None]
    try:
        readable.sort(key=lambda kp: kp[0])
    except Exception:  # noqa: BLE001 - univers compares junk unpredictably
        readable.sort(key=lambda kp: kp[1].version or "")
    rest = sorted((p for k, p in keyed if k is None), key=lambda p: p.version or "")
    return [p for _, p in readable] + rest


def compare(a: Inventory, b: Inventory) -> PackageDiff:
    """Package changes from a to b. A name installed in several versions (npm trees, multi-arch
    dpkg with one arch) is compared as a set: versions in both are unchanged; the rest are
    paired in order (upgraded / downgraded), leftovers added or removed."""
    left: dict[tuple[str, str, str, str], list[Package]] = {}
    right: dict[tuple[str, str, str, str], list[Package]] = {}
    for p in a.packages:
        left.setdefault(p.key, []).append(p)
    for p in b.packages:
        right.setdefault(p.key, []).append(p)
    changes: list[PackageChange] = []
    for key in sorted(left.keys() | right.keys()):
        kind = key[0]
        before = {p.version: p for p in left.get(key, [])}
        after = {p.version: p for p in right.get(key, [])}
        common = before.keys() & after.keys()
        gone = _sorted_versions(kind, [p for v, p in before.items() if v not in common])
        new = _sorted_versions(kind, [p for v, p in after.items() if v not in common])
        changes += [
            _change(y, _order(kind, x.version, y.version), x, y)
            for x, y in zip(gone, new, strict=False)
        ]
        changes += [_change(x, "removed", x, None) for x in gone[len(new) :]]
        changes += [_change(y, "added", None, y) for y in new[len(gone) :]]
    counts = {k: sum(1 for c in changes if c.change == k) for k in _KINDS}
    return PackageDiff(
        source=a.source,  # type: ignore[arg-type]
        source1=a.description,
        source2=b.description,
        packages1=len(a.packages),
        packages2=len(b.packages),
        changes=changes,
        notes=[f"A: {n}" for n in a.notes] + [f"B: {n}" for n in b.notes],
        **counts,
    )


_KINDS = ("added", "removed", "upgraded", "downgraded", "changed")


def _change(p: Package, change: str, x: Package | None, y: Package | None) -> PackageChange:
    return PackageChange(
        name=p.name,
        type=p.type,
        arch=p.arch,
        change=change,  # type: ignore[arg-type]
        before=x.version if x else None,
        after=y.version if y else None,
        purl=(y or x or p).purl,
    )


def package_diff(
    clients: Clients,
    images: tuple[str, str],
    loaded: tuple[ImageReader, ImageReader],
    captures: tuple[DbCapture | None, DbCapture | None],
    platform: str | None,
) -> tuple[PackageDiff | None, list[str]]:
    """Package changes from the SBOMs when both images have one, else from the dpkg/apk
    databases of both; (None, notes saying why) when neither works."""
    notes: list[str] = []
    sboms = []
    for image, files, label in zip(images, loaded, ("A", "B"), strict=True):
        found, why = sbom_inventory(clients, image, platform, files, label)
        sboms.append(found)
        if why:
            notes.append(why)
    if sboms[0] is not None and sboms[1] is not None:
        return compare(sboms[0], sboms[1]), notes
    dbs = []
    for files, capture, label in zip(loaded, captures, ("A", "B"), strict=True):
        found_db, db_notes = db_inventory(clients, files, capture, label)
        dbs.append(found_db)
        notes += db_notes
    if dbs[0] is not None and dbs[1] is not None:
        result = compare(dbs[0], dbs[1])
        with_sbom = [label for label, s in zip("AB", sboms, strict=True) if s is not None]
        reason = (
            f"only {with_sbom[0]} has an SBOM attestation"
            if with_sbom
            else "neither image has an SBOM attestation"
        )
        result.notes.insert(0, f"{reason}: compared the package databases in the layers")
        return result, notes
    missing = [label for label, d in zip("AB", dbs, strict=True) if d is None]
    if len(missing) == 2 and not any(sboms) and not notes:
        return None, notes  # nothing to compare on either side: `packages: null` says it
    notes.append(
        "packages not compared: "
        + ("the images do not both have an SBOM attestation, and " if any(sboms) else "")
        + f"{' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} "
        "no dpkg, apk or rpm database that could be read"
    )
    return None, notes
