"""`files`, `diff`, `waste`, `cat` on a real Debian rootfs, against `umoci unpack` + `find` +
`sha256sum` of the same images as the oracle.

The rootfs is built once per test session with `mmdebstrap --variant=minbase bookworm` (Debian
package `mmdebstrap`; it needs the Debian mirror, reachable from CI like any package registry)
and cached under the session's tmp; `DOCKERHUB_TEST_ROOTFS=/path/rootfs.tar` uses a tarball
you already have. umoci packs it: `raw add-layer` makes v1 (one layer, the rootfs as is), then
`insert` adds layers for v2: a file overwritten (waste), a directory deleted (a whiteout), one
made opaque, one file added. Both are pushed to a loopback registry with skopeo.
Without mmdebstrap (or a mirror) the tests skip; with CI=true they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import require_binaries
from tests.integration.test_files_real import _service
from tests.support.seeding import push

Tree = dict[str, tuple[str, int, str | None]]  # path -> (type, size, sha256 or link target)
DEVICES = ("char", "block", "fifo")  # rootless umoci unpack writes them as empty files


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def rootfs_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("DOCKERHUB_TEST_ROOTFS")
    if given:
        return Path(given)
    require_binaries("mmdebstrap")
    out = tmp_path_factory.mktemp("rootfs") / "rootfs.tar"
    argv = ["mmdebstrap", "--variant=minbase", "--quiet", "bookworm", str(out)]
    # In a container without the right to mount, /proc and /sys cannot be mounted into the
    # chroot; minbase's maintainer scripts do without them.
    for extra in ([], ["--skip=chroot/mount"]):
        try:
            done = subprocess.run(argv[:1] + extra + argv[1:], capture_output=True, text=True,
                                  timeout=300)  # fmt: skip
        except subprocess.TimeoutExpired:
            _skip_or_fail("mmdebstrap took more than 300 s (is the Debian mirror reachable?)")
        if done.returncode == 0 and out.exists():
            return out
    _skip_or_fail(f"mmdebstrap failed (Debian mirror unreachable?): {done.stderr[-800:]}")
    return out


@pytest.fixture(scope="session")
def rootfs_images(
    rootfs_tar: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """The umoci layout (tags v1, v2) and what v2 changed, for the oracle to check."""
    require_binaries("umoci", "skopeo", "docker-registry")
    work = tmp_path_factory.mktemp("rootfs-image")
    layout = work / "layout"

    def umoci(*args: str) -> None:
        subprocess.run(["umoci", *args], check=True, capture_output=True, timeout=300)

    (work / "os-release").write_text('PRETTY_NAME="changed by the test"\n')
    (work / "man").mkdir()
    (work / "man" / "only-this").write_text("the opaque directory's one file\n")
    (work / "added").write_bytes(os.urandom(4096))
    umoci("init", "--layout", str(layout))
    umoci("new", "--image", f"{layout}:v1")
    umoci("raw", "add-layer", "--image", f"{layout}:v1", str(rootfs_tar))
    umoci("insert", "--image", f"{layout}:v1", "--tag", "v2", str(work / "os-release"),
          "/usr/lib/os-release")  # fmt: skip
    umoci("insert", "--image", f"{layout}:v2", "--whiteout", "/usr/share/doc")
    umoci("insert", "--image", f"{layout}:v2", "--opaque", str(work / "man"), "/usr/share/man")
    umoci("insert", "--image", f"{layout}:v2", str(work / "added"), "/opt/added.bin")
    return layout, {"overwritten": "usr/lib/os-release", "deleted": "usr/share/doc",
                    "opaque": "usr/share/man", "added": "opt/added.bin"}  # fmt: skip


def _oracle(layout: Path, tag: str, out: Path) -> tuple[Tree, Path]:
    """`umoci unpack`, then `find` for types, sizes and link targets and `sha256sum` (one
    batched run) for contents."""
    bundle = out / f"bundle-{tag}"
    subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", f"{layout}:{tag}", str(bundle)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    rootfs = bundle / "rootfs"
    listing = subprocess.run(
        ["find", str(rootfs), "-mindepth", "1", "-printf", r"%y\0%s\0%l\0%P\0"],
        check=True, capture_output=True, timeout=120,
    ).stdout.split(b"\0")  # fmt: skip
    tree: Tree = {}
    regular: list[str] = []
    for kind, size, link, rel in zip(*[iter(listing[:-1])] * 4, strict=True):
        path = os.fsdecode(rel)
        if kind == b"f":
            tree[path] = ("file", int(size), None)
            regular.append(path)
        elif kind == b"d":
            tree[path] = ("dir", 0, None)
        elif kind == b"l":
            tree[path] = ("symlink", 0, os.fsdecode(link))
        else:
            tree[path] = (kind.decode(), 0, None)
    sums = subprocess.run(
        ["xargs", "-0", "sha256sum", "-z", "--"],
        input=b"\0".join(os.fsencode(rootfs / p) for p in regular),
        check=True, capture_output=True, timeout=300,
    ).stdout.split(b"\0")  # fmt: skip
    for line in filter(None, sums):
        hexdigest, _, name = line.partition(b"  ")
        rel = os.path.relpath(os.fsdecode(name), rootfs)
        kind, size, _ = tree[rel]
        tree[rel] = (kind, size, "sha256:" + hexdigest.decode())
    return tree, rootfs


def _ours(files: list) -> tuple[Tree, set[str]]:  # type: ignore[type-arg]
    tree: Tree = {}
    devices = set()
    for f in files:
        if f.type in DEVICES:
            devices.add(f.path)
            continue
        kind = "file" if f.type in ("file", "hardlink") else f.type
        tree[f.path] = (kind, f.size, f.link if f.type == "symlink" else f.sha256)
    return tree, devices


def test_a_debian_rootfs_files_diff_waste_and_cat_match_the_oracle(
    rootfs_images, registry_factory, tmp_path: Path
) -> None:
    layout, changed = rootfs_images
    reg = registry_factory(seed=False)
    refs = {}
    for tag in ("v1", "v2"):
        refs[tag] = reg.ref(f"demo/debian:{tag}")
        push(f"oci:{layout}:{tag}", refs[tag], fmt="oci")
    oracle = {tag: _oracle(layout, tag, tmp_path) for tag in ("v1", "v2")}
    with _service() as svc:
        listings = {tag: svc.files(refs[tag]) for tag in ("v1", "v2")}
        # files: the merged filesystem, entry for entry (devices aside: see DEVICES)
        for tag in ("v1", "v2"):
            ours, devices = _ours(listings[tag].files)
            theirs = {p: v for p, v in oracle[tag][0].items() if p not in devices}
            assert len(ours) > 5000 and ours == theirs, tag
            assert {"dev/null", "dev/zero"} <= devices
        v2 = {f.path: f for f in listings["v2"].files}
        assert v2[changed["overwritten"]].layer == 1 and v2[changed["added"]].layer == 4
        assert not any(p.startswith(changed["deleted"] + "/") for p in v2)
        assert [p for p in v2 if p.startswith(changed["opaque"] + "/")] == [
            changed["opaque"] + "/only-this"
        ]
        # the base layer is shared by v1 and v2: read once, then from the index cache
        assert listings["v2"].download.layers_cached >= 1
        # diff: the paths whose (type, size, content or target) differ between the two trees
        one, two = oracle["v1"][0], oracle["v2"][0]
        expected = {p for p in one.keys() | two.keys() if one.get(p) != two.get(p)}
        result = svc.diff_files(refs["v1"], refs["v2"])
        ours_changed = {c.path for c in result.changes if set(c.fields) - {"mode", "uid", "gid"}
                        or c.change != "changed"}  # fmt: skip
        assert ours_changed == expected
        assert result.totals.removed == len([p for p in one if p not in two])
        assert result.totals.added == len([p for p in two if p not in one])
        # waste: every regular file of v1 that v2's layers overwrite or delete
        hidden = [changed["deleted"], changed["opaque"]]
        wasted_paths = [
            p for p, (kind, _size, _) in one.items()
            if kind == "file" and (p == changed["overwritten"]
                                   or any(p.startswith(h + "/") for h in hidden))
        ]  # fmt: skip
        l1 = {f.path: f for f in listings["v1"].files}
        wasted = sum(l1[p].size for p in wasted_paths if l1[p].type == "file")
        report = svc.waste(refs["v2"])
        assert report.wasted_bytes == wasted > 0
        assert report.layers[0].wasted_bytes == wasted
        # cat: bytes equal to the unpacked file's, through a symlink too (etc/os-release)
        rootfs = oracle["v2"][1]
        for path in ("etc/os-release", "usr/bin/dpkg", "etc/debian_version", "opt/added.bin"):
            _meta, spool = svc.read_file(refs["v2"], "/" + path)
            with spool:
                assert spool.read() == (rootfs / path).read_bytes(), path
    shutil.rmtree(tmp_path / "bundle-v1", ignore_errors=True)
