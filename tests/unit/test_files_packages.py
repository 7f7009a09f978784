"""Package changes for `diff`: the dpkg / apk parsers (hostile bytes included), the comparison
(version order per package type with univers), the content-addressed parse cache and the MCP
bound on package changes."""

from __future__ import annotations

from pathlib import Path

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.mcp.files_tools import bound_diff
from dockerhub_cli.models.files import DiffTotals, Download, FileDiff
from dockerhub_cli.oci.pkgdb import InstalledPackage, parse_apk_installed, parse_dpkg_status
from dockerhub_cli.ops.files_packages import Inventory, Package, compare
from dockerhub_cli.remote.pkgdb_store import PackageDbStore

STATUS = b"""Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Source: glibc (2.36-9)
Version: 2.36-9+deb12u4
Description: GNU C Library
 Contains the standard libraries.
 .
 Version: 9.9 (a continuation line, not a field)

Package: libc6
Status: install ok installed
Architecture: i386
Version: 2.36-9+deb12u4

Package: removed-pkg
Status: deinstall ok config-files
Version: 1.0

Package: half-installed
Status: install reinstreq half-installed
Version: 2.0

Package: evil\x1b]0;pwned\x07name
Status: install ok installed
Version: 1.0\r
"""


def test_dpkg_status_keeps_installed_packages_and_makes_names_printable() -> None:
    packages = parse_dpkg_status(STATUS)
    assert [(p.name, p.version, p.arch) for p in packages] == [
        ("libc6", "2.36-9+deb12u4", "amd64"),
        ("libc6", "2.36-9+deb12u4", "i386"),
        ("evil\\x1b]0;pwned\\x07name", "1.0", None),
    ]
    assert packages[0].source == "glibc"


def test_distroless_status_d_files_have_no_status_field() -> None:
    one = b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n"
    assert parse_dpkg_status(one) == [InstalledPackage("tzdata", "2024a-0+deb12u1", "all")]


def test_apk_installed_and_junk() -> None:
    data = (
        b"C:Q1x=\nP:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\nP:no-version\n\n\n\nP:zlib\nV:1.3.1-r0\n"
    )
    assert [(p.name, p.version) for p in parse_apk_installed(data)] == [
        ("musl", "1.2.5-r0"),
        ("zlib", "1.3.1-r0"),
    ]
    junk = bytes(range(256)) * 16  # every byte value, in every line position
    assert parse_apk_installed(junk) == [] and parse_dpkg_status(junk) == []
    long = b"Package: " + b"x" * 100_000 + b"\nVersion: 1\n"
    assert len(parse_dpkg_status(long)[0].name) == 256  # values are bounded


def _inv(*packages: Package) -> Inventory:
    return Inventory("sbom", "test", list(packages))


def test_compare_orders_versions_per_type_and_sets_of_versions() -> None:
    a = _inv(
        Package("deb", "zstd", "1.5.4+dfsg2-5", "amd64", "debian"),
        Package("deb", "libc6", "2.36-9", "amd64", "debian"),
        Package("deb", "libc6", "2.36-9", "i386", "debian"),
        Package("npm", "ms", "2.0.0"),
        Package("npm", "ms", "2.1.3"),
        Package("generic", "thing", "b"),
        Package("apk", "musl", "1.2.4_git20230717-r4"),
    )
    b = _inv(
        Package("deb", "zstd", "1:1.5.4-1", "amd64", "debian"),  # an epoch wins
        Package("deb", "libc6", "2.36-9", "amd64", "debian"),
        Package("deb", "libc6", "2.36-10", "i386", "debian"),
        Package("npm", "ms", "2.1.3"),  # 2.0.0 gone, 2.1.3 kept: removed, not "changed"
        Package("npm", "ms", "2.1.2"),  # ...and one added
        Package("generic", "thing", "a"),  # no version scheme: changed
        Package("apk", "musl", "1.2.5-r0"),
    )
    result = compare(a, b)
    got = {(c.name, c.arch): (c.change, c.before, c.after) for c in result.changes}
    assert got == {
        ("zstd", "amd64"): ("upgraded", "1.5.4+dfsg2-5", "1:1.5.4-1"),
        ("libc6", "i386"): ("upgraded", "2.36-9", "2.36-10"),
        ("ms", None): ("upgraded", "2.0.0", "2.1.2"),
        ("thing", None): ("changed", "b", "a"),
        ("musl", None): got[("musl", None)],
    }
    assert got[("musl", None)][0] in ("upgraded", "changed")  # univers may not parse _git
    assert (result.packages1, result.packages2) == (7, 7)
    assert result.upgraded + result.changed == 5 and result.added == result.removed == 0


def test_the_parse_cache_is_content_addressed_and_drops_damaged_entries(tmp_path: Path) -> None:
    store = PackageDbStore(Settings(cache_dir=tmp_path))
    sha = "sha256:" + "ab" * 32
    packages = [InstalledPackage("a", "1", None, None), InstalledPackage("b", "2", "x", "src")]
    store.put("dpkg", sha, packages)
    assert store.get("dpkg", sha) == packages
    assert store.get("apk", sha) is None and store.get("dpkg", "sha256:" + "cd" * 32) is None
    assert store.get("dpkg", "../../etc/passwd") is None  # never a path from data
    (path,) = (tmp_path / "packages" / "dpkg").glob("*.json")
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text('{"format": 1, "sha256": "other"}')
    assert store.get("dpkg", sha) is None and not path.exists()
    assert PackageDbStore(Settings(cache_dir=tmp_path, no_cache=True)).get("dpkg", sha) is None


def test_mcp_page_carries_package_changes_on_page_one_bounded() -> None:
    many = _inv(*(Package("pypi", f"p{i}", "1.0") for i in range(600)))
    none = _inv()
    packages = compare(none, many)
    result = FileDiff(
        image1="a", image2="b", digest1="sha256:1", digest2="sha256:2", path="", changes=[],
        total_changes=0, totals=DiffTotals(), packages=packages, download=Download(),
    )  # fmt: skip
    first = bound_diff(result, {"page": 1})
    assert first.packages is not None and len(first.packages.changes) == 500
    assert first.packages.added == 600 and "first 500 of 600" in first.packages.notes[-1]
    second = bound_diff(result, {"page": 2})
    assert second.packages is not None and second.packages.changes == []


def test_several_versions_pair_in_version_order_not_text_order() -> None:
    a = _inv(Package("npm", "lodash", "4.17.9"), Package("npm", "lodash", "4.17.10"))
    b = _inv(Package("npm", "lodash", "4.17.20"), Package("npm", "lodash", "4.17.11"))
    got = [(c.before, c.after, c.change) for c in compare(a, b).changes]
    assert got == [("4.17.9", "4.17.11", "upgraded"), ("4.17.10", "4.17.20", "upgraded")]


def test_the_stream_capture_keeps_the_top_copy_within_a_memory_bound(monkeypatch) -> None:
    import hashlib

    from dockerhub_cli.oci import layer as L
    from dockerhub_cli.ops import files_packages

    capture = files_packages.DbCapture()
    status = "var/lib/dpkg/status"
    for layer, body in ((0, b"old"), (1, b"new")):
        out = capture.sink(layer)(L.Entry(status, L.FILE, size=len(body)))
        assert out is not None
        out.write(body)
    assert capture.sink(1)(L.Entry("etc/passwd", L.FILE, size=1)) is None  # not a database
    new = "sha256:" + hashlib.sha256(b"new").hexdigest()
    assert capture.content(1, status, new) == b"new"
    assert capture.content(0, status, "sha256:" + hashlib.sha256(b"old").hexdigest()) is None
    assert capture.content(1, status, "sha256:" + "0" * 64) is None  # must match the index
    monkeypatch.setattr(files_packages, "MAX_CAPTURED", 10)
    small = files_packages.DbCapture()
    assert small.sink(0)(L.Entry("lib/apk/db/installed", L.FILE, size=11)) is None


def test_sboms_are_looked_for_through_referrers_too_and_offline_says_it_did_not(
    monkeypatch,
) -> None:
    """diff asks `sbom_report` with its referrers discovery on (the in-index attestation
    first, then the referrers API and the `sha256-<hex>` tag); --offline without those
    answers cached is a note, not an error."""
    from dockerhub_cli.errors import NoAttestationError, OfflineCacheMissError
    from dockerhub_cli.ops import files_packages, supply_chain

    asked: list[dict] = []

    def offline(clients, image, **kw):
        asked.append(kw)
        raise OfflineCacheMissError("--offline: not cached")

    monkeypatch.setattr(supply_chain, "sbom_report", offline)
    found, why = files_packages.sbom_inventory(None, "img", None, None, "A")  # type: ignore[arg-type]
    assert found is None and why == (
        "A: --offline: SBOMs attached through referrers were not looked for"
    )
    assert asked == [{"platform": None}]  # referrers left at sbom_report's default: on

    def none(clients, image, **kw):
        raise NoAttestationError("no SBOM")

    monkeypatch.setattr(supply_chain, "sbom_report", none)
    assert files_packages.sbom_inventory(None, "img", None, None, "B") == (None, None)  # type: ignore[arg-type]
