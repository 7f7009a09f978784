"""`files`, `cat`, `extract`, `diff`, `waste` against a real distribution registry.

The images are built by the test (tests/support/layers.py: whiteouts, opaque directories, hard
links, symlinks, gzip, zstd and plain tar layers), pushed with skopeo, and checked against the
oracle: `umoci unpack` of the same layout, then find + sha256 of the unpacked rootfs.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.service import DockerHubService
from tests.support.layers import (
    directory,
    file,
    hardlink,
    opaque,
    symlink,
    whiteout,
    write_layout,
)
from tests.support.seeding import push

runner = CliRunner()

BASE = [
    directory("etc"),
    file("etc/os-release", "NAME=Test\nVERSION=1\n"),
    file("etc/old.conf", "old" * 1000),
    directory("var/cache/apt"),
    file("var/cache/apt/pkgcache.bin", bytes(range(256)) * 400),
    file("var/cache/apt/srcpkgcache.bin", b"\0" * 20_000),
    file("usr/bin/tool", b"\x7fELF\x02\x01" + bytes(3000), mode=0o755),
    hardlink("usr/bin/tool-alias", "usr/bin/tool"),
    symlink("bin", "usr/bin"),
    symlink("etc/escape", "../../../../etc/os-release"),
    file("home/user/.profile", "export A=1\n", uid=1000),
]
MIDDLE = [
    whiteout("etc/old.conf"),
    opaque("var/cache/apt"),
    file("var/cache/apt/new", "fresh"),
    file("etc/os-release", "NAME=Test\nVERSION=2\n"),
    file("opt/big.bin", os.urandom(50_000)),
]
TOP = [
    whiteout("opt/big.bin"),
    file("etc/motd", "hello\n", mode=0o600),
]


def _service() -> DockerHubService:
    return DockerHubService(Settings.from_env(read_config=False))


@pytest.fixture
def pushed(registry_factory, tmp_path: Path) -> tuple[object, str, Path]:
    reg = registry_factory(seed=False)
    layout = tmp_path / "layout"
    write_layout(layout, [(BASE, "gzip"), (MIDDLE, "zstd"), (TOP, "tar")], tag="v1")
    ref = reg.ref("demo/files:v1")
    push(f"oci:{layout}:v1", ref, fmt="oci")
    # The oracle's copy: the same tar streams, gzip-compressed (umoci 0.4 cannot read zstd).
    oracle_layout = tmp_path / "oracle-layout"
    write_layout(oracle_layout, [(BASE, "gzip"), (MIDDLE, "gzip"), (TOP, "gzip")], tag="v1")
    return reg, ref, oracle_layout


def _oracle(layout: Path, tmp_path: Path) -> dict[str, tuple[str, int, str | None]]:
    """path -> (type, size, sha256 or link target) from `umoci unpack` of the layout."""
    bundle = tmp_path / "bundle"
    subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", f"{layout}:v1", str(bundle)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    rootfs = bundle / "rootfs"
    out: dict[str, tuple[str, int, str | None]] = {}
    found = subprocess.run(
        ["find", str(rootfs), "-mindepth", "1"], check=True, capture_output=True, text=True
    ).stdout.split("\n")
    for line in filter(None, found):
        rel = os.path.relpath(line, rootfs)
        st = os.lstat(line)
        if stat.S_ISLNK(st.st_mode):
            out[rel] = ("symlink", 0, os.readlink(line))
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = ("dir", 0, None)
        else:
            digest = subprocess.run(
                ["sha256sum", line], check=True, capture_output=True, text=True
            ).stdout.split()[0]
            out[rel] = ("file", st.st_size, f"sha256:{digest}")
    return out


def test_files_match_umoci_unpack_and_warm_layers_cost_nothing(pushed, tmp_path: Path) -> None:
    reg, ref, layout = pushed
    oracle = _oracle(layout, tmp_path)
    with _service() as svc:
        cold = svc.files(ref)
        mark = reg.log_mark()  # type: ignore[attr-defined]
        warm = svc.files(ref)
        warm_log = reg.requests_since(mark)  # type: ignore[attr-defined]
    assert [e for e in warm_log if "/blobs/" in e.path] == []
    assert warm.download.bytes_downloaded == 0 and warm.download.layers_cached == 3
    assert cold.download.layers_read == 3 and cold.download.bytes_downloaded > 0
    ours = {
        f.path: (
            "file" if f.type in ("file", "hardlink") else f.type,
            f.size,
            f.link if f.type == "symlink" else f.sha256,
        )
        for f in warm.files
    }
    assert ours == oracle
    layer_of = {f.path: f.layer for f in warm.files}
    assert layer_of["etc/os-release"] == 1 and layer_of["etc/motd"] == 2
    assert "etc/old.conf" not in ours and "opt/big.bin" not in ours
    assert "var/cache/apt/pkgcache.bin" not in ours and "var/cache/apt/new" in ours


def test_cli_files_layer_find_and_json(pushed) -> None:
    _reg, ref, _layout = pushed
    result = runner.invoke(app, ["files", ref, "--layer", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["deleted"] == ["etc/old.conf"] and data["opaque"] == ["var/cache/apt"]
    assert {f["path"] for f in data["files"]} == {
        "var/cache/apt/new",
        "etc/os-release",
        "opt/big.bin",
    }
    found = runner.invoke(app, ["files", ref, "--find", "*.bin", "--json"])
    assert found.exit_code == 0, found.output
    assert [f["path"] for f in json.loads(found.stdout)["files"]] == []
    listing = runner.invoke(app, ["files", ref, "/etc"])
    assert listing.exit_code == 0, listing.output
    assert "os-release" in listing.stdout and "motd" in listing.stdout
    assert "escape" in listing.stdout and "downloaded" in listing.stdout


def test_cat_follows_links_inside_and_is_binary_safe(pushed) -> None:
    _reg, ref, _layout = pushed
    text = runner.invoke(app, ["cat", ref, "/etc/os-release"])
    assert text.exit_code == 0, text.output
    assert text.stdout == "NAME=Test\nVERSION=2\n"
    # etc/escape -> ../../../../etc/os-release stays inside the image
    assert runner.invoke(app, ["cat", ref, "etc/escape"]).stdout == "NAME=Test\nVERSION=2\n"
    # bin -> usr/bin; tool-alias is a hard link
    binary = runner.invoke(app, ["cat", ref, "/bin/tool-alias"])
    assert binary.exit_code == 0, binary.output
    assert binary.stdout_bytes == b"\x7fELF\x02\x01" + bytes(3000)
    missing = runner.invoke(app, ["cat", ref, "/etc/old.conf"])
    assert missing.exit_code == 3
    as_json = json.loads(runner.invoke(app, ["cat", ref, "/etc/motd", "--json"]).stdout)
    assert as_json["text"] == "hello\n" and as_json["layer"] == 2 and not as_json["truncated"]


def test_cat_on_a_warm_index_reads_only_the_layer_holding_the_file(pushed) -> None:
    reg, ref, _layout = pushed
    with _service() as svc:
        listing = svc.files(ref)
        layers = {f.path: f.layer for f in listing.files}
        mark = reg.log_mark()  # type: ignore[attr-defined]
        meta, spool = svc.read_file(ref, "/etc/motd")
        with spool:
            assert spool.read() == b"hello\n"
    blobs = [e for e in reg.requests_since(mark) if "/blobs/" in e.path]  # type: ignore[attr-defined]
    assert layers["etc/motd"] == 2 and meta.layer == 2
    assert len(blobs) == 1 and meta.download.layers_read == 1
    assert meta.download.layers_cached == 3


def test_extract_is_safe(pushed, tmp_path: Path) -> None:
    _reg, ref, _layout = pushed
    out = tmp_path / "out"
    result = runner.invoke(app, ["extract", ref, "/etc", "/usr", "/bin", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (out / "etc/os-release").read_text() == "NAME=Test\nVERSION=2\n"
    assert stat.S_IMODE((out / "etc/motd").stat().st_mode) == 0o600
    assert (out / "usr/bin/tool-alias").read_bytes() == (out / "usr/bin/tool").read_bytes()
    assert os.readlink(out / "bin") == "usr/bin"
    # etc/escape climbs above the root: rewritten to what it means in the image (chroot
    # semantics: etc/os-release), relative, so it stays inside the directory
    assert os.readlink(out / "etc/escape") == "os-release"
    assert (out / "etc/escape").read_text() == "NAME=Test\nVERSION=2\n"
    assert {r["path"]: r["written"] for r in data["links_rewritten"]} == {
        "etc/escape": "os-release"
    }
    assert data["skipped"] == []
    for path in out.rglob("*"):
        assert out.resolve() in path.resolve().parents or path.is_symlink()


def test_cold_extract_reads_each_layer_once_and_matches_umoci_unpack(
    pushed, tmp_path: Path
) -> None:
    """The files are written as their layers are indexed: one GET per layer blob (the config
    is one more), and the tree equals umoci's (links rewritten to stay inside aside)."""
    reg, ref, layout = pushed
    oracle = _oracle(layout, tmp_path)
    out = tmp_path / "out"
    mark = reg.log_mark()  # type: ignore[attr-defined]
    result = runner.invoke(app, ["extract", ref, "/", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    gets: dict[str, int] = {}
    for e in reg.requests_since(mark):  # type: ignore[attr-defined]
        if e.method == "GET" and "/blobs/" in e.route:
            gets[e.route] = gets.get(e.route, 0) + 1
    data = json.loads(result.stdout)
    assert data["download"]["layers_read"] == 3
    assert len(gets) == 4 and set(gets.values()) == {1}, gets  # 3 layers + the config
    ours: dict[str, tuple[str, int, str | None]] = {}
    for path in out.rglob("*"):
        rel = str(path.relative_to(out))
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            ours[rel] = ("symlink", 0, os.readlink(path))
        elif stat.S_ISDIR(st.st_mode):
            ours[rel] = ("dir", 0, None)
        else:
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            ours[rel] = ("file", st.st_size, f"sha256:{sha}")
    rewritten = {r["path"]: r["written"] for r in data["links_rewritten"]}
    assert rewritten == {"etc/escape": "os-release"}
    assert ours == {**oracle, "etc/escape": ("symlink", 0, "os-release")}


def test_diff_and_waste(pushed, registry_factory, tmp_path: Path) -> None:
    reg, ref, _layout = pushed
    layout2 = tmp_path / "layout2"
    write_layout(
        layout2,
        [(BASE, "gzip"), ([file("etc/os-release", "NAME=Test\nVERSION=3\n"), file("new")], "gzip")],
        tag="v2",
    )
    ref2 = reg.ref("demo/files:v2")  # type: ignore[attr-defined]
    push(f"oci:{layout2}:v2", ref2, fmt="oci")
    result = runner.invoke(app, ["diff", ref, ref2, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    changes = {c["path"]: (c["change"], c["fields"]) for c in data["changes"]}
    assert changes["etc/os-release"] == ("changed", ["sha256"])
    assert changes["new"] == ("added", [])
    assert changes["etc/motd"] == ("removed", [])
    assert changes["etc/old.conf"] == ("added", [])  # v2 never deleted it
    # BASE is shared (same digest): read once for both images, 3 + 1 layers streamed
    assert data["download"]["layers_read"] == 4 and data["download"]["layers_cached"] == 1

    waste = runner.invoke(app, ["waste", ref, "--json"])
    assert waste.exit_code == 0, waste.output
    report = json.loads(waste.stdout)
    wasted = {i["path"]: i["wasted_bytes"] for i in report["files"]}
    assert wasted == {
        "opt/big.bin": 50_000,
        "var/cache/apt/pkgcache.bin": 102_400,
        "var/cache/apt/srcpkgcache.bin": 20_000,
        "etc/old.conf": 3000,
        "etc/os-release": len("NAME=Test\nVERSION=1\n"),
    }
    assert report["wasted_bytes"] == sum(wasted.values())
    gate = runner.invoke(app, ["waste", ref, "--max-wasted-bytes", "1000"])
    assert gate.exit_code == 8, gate.output
    assert "FAIL" in gate.stdout
    ok = runner.invoke(app, ["waste", ref, "--min-efficiency", "0.01"])  # it is 1.7%
    assert ok.exit_code == 0, ok.output


def test_max_download_bounds_a_cold_read(pushed) -> None:
    _reg, ref, _layout = pushed
    result = runner.invoke(app, ["files", ref, "--max-download", "100"])
    assert result.exit_code == 6
    assert "--max-download" in result.stderr


def test_corrupt_blob_is_never_indexed(pushed) -> None:
    reg, ref, _layout = pushed
    from dockerhub_cli.errors import DigestMismatchError, UpstreamError

    with _service() as svc:
        listing = svc.files(ref)
        digest = listing.digest
        assert digest
    # Damage the top layer's blob inside the registry's storage; the cached index stays valid
    # for the layers already read, and the damaged one is refused, not cached.
    storage = Path(reg.dir) / "data"  # type: ignore[attr-defined]
    blobs = list(storage.rglob("blobs/sha256/*/*/data"))
    assert blobs
    cache = Path(os.environ["DOCKERHUB_CACHE_DIR"]) / "layers"
    for entry in cache.rglob("*.json"):
        entry.unlink()
    victim = max(blobs, key=lambda p: p.stat().st_size)
    victim.write_bytes(victim.read_bytes()[:-10] + b"x" * 10)
    with _service() as svc, pytest.raises((DigestMismatchError, UpstreamError)):
        svc.files(ref)
    name = victim.parent.name
    assert not (cache / "sha256" / f"{name}.json").exists()
    assert hashlib.sha256(victim.read_bytes()).hexdigest() != name


def test_estargz_layer_is_indexed_from_its_toc_and_read_by_range(
    registry_factory, tmp_path: Path
) -> None:
    reg = registry_factory(seed=False)
    big = os.urandom(300_000)
    lazy = [
        directory("data"),
        file("data/big.bin", big),
        file("data/small.txt", "small\n"),
        symlink("data/link", "small.txt"),
        whiteout("etc/old.conf"),
    ]
    layout = tmp_path / "layout"
    write_layout(layout, [(BASE, "gzip"), (lazy, "estargz")], tag="v1")
    ref = reg.ref("demo/lazy:v1")
    push(f"oci:{layout}:v1", ref, fmt="oci")
    oracle = _oracle(layout, tmp_path)  # umoci reads eStargz as the gzip tar it also is
    with _service() as svc:
        listing = svc.files(ref)
        manifest = svc.manifest(ref).manifest
        lazy_size = manifest["layers"][1]["size"]
        base_size = manifest["layers"][0]["size"]
        # layer 1 cost two small Range requests (footer, TOC), not its 300 kB
        assert listing.download.bytes_downloaded < base_size + 10_000 < base_size + lazy_size
        ours = {
            f.path: (
                "file" if f.type in ("file", "hardlink") else f.type,
                f.size,
                f.link if f.type == "symlink" else f.sha256,
            )
            for f in listing.files
        }
        assert ours == oracle
        assert any("eStargz TOC" in n for n in listing.notes)
        mark = reg.log_mark()
        meta, spool = svc.read_file(ref, "/data/link")
        with spool:
            assert spool.read() == b"small\n"
        assert meta.download.bytes_downloaded < 1000
        meta, spool = svc.read_file(ref, "/data/big.bin")
        with spool:
            assert spool.read() == big
        assert meta.download.bytes_downloaded < lazy_size
    assert len([e for e in reg.requests_since(mark) if "/blobs/" in e.path]) == 2


def test_writes_through_symlinked_directories_land_where_umoci_puts_them(
    registry_factory, tmp_path: Path
) -> None:
    """A later layer writing a/f where an earlier one made `a` a symlink to a directory:
    containerd (fs.RootPath on the parent) and umoci (securejoin) follow the link inside
    the image, so the file lands in the directory; a directory entry `d/` replaces the link."""
    reg = registry_factory(seed=False)
    lower = [
        directory("b"),
        file("b/keep", "kept?\n"),
        symlink("a", "b"),
        symlink("abs", "/b"),
        directory("real"),
        symlink("c", "real/sub"),  # dangling: its target is created by the write below
        symlink("d", "b"),
        symlink("up", "../../b"),  # climbs above the root: the root's b
    ]
    upper = [
        file("a/f", "through a\n"),  # no `a/` entry: follows the link
        file("abs/g", "through abs\n"),
        file("c/h", "through c\n"),
        directory("d"),  # a directory entry replaces the link itself
        file("d/i", "in the new d\n"),
        file("up/j", "through up\n"),
        whiteout("a/keep"),  # deletes b/keep, through the link
    ]
    layout = tmp_path / "layout"
    write_layout(layout, [(lower, "gzip"), (upper, "gzip")], tag="v1")
    ref = reg.ref("demo/links:v1")
    push(f"oci:{layout}:v1", ref, fmt="oci")
    oracle = _oracle(layout, tmp_path)
    with _service() as svc:
        listing = svc.files(ref)
        ours = {
            f.path: (
                "file" if f.type in ("file", "hardlink") else f.type,
                f.size,
                f.link if f.type == "symlink" else f.sha256,
            )
            for f in listing.files
        }
        assert ours == oracle
        assert {"b/f", "b/g", "real/sub/h", "d/i", "b/j"} <= ours.keys()
        assert "b/keep" not in ours and ours["d"][0] == "dir" and ours["a"][0] == "symlink"
        # The content is read from the member's own name in its layer (a/f).
        meta, spool = svc.read_file(ref, "/b/f")
        with spool:
            assert spool.read() == b"through a\n"
        assert meta.resolved_path == "b/f" and meta.layer == 1
        out = svc.extract(ref, ["/b", "/real"], tmp_path / "out")
    assert (tmp_path / "out/b/f").read_text() == "through a\n"
    assert (tmp_path / "out/real/sub/h").read_text() == "through c\n"
    assert {f.path for f in out.written} >= {"b/f", "b/g", "b/j", "real/sub/h"}
