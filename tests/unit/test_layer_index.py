"""The pure layer core (oci/layer.py): decompression, the tar walk, whiteouts, merging, waste,
diff, symlink resolution, and hostile layers, all with synthetic bytes."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile

import pytest

from dockerhub_cli.errors import DigestMismatchError
from dockerhub_cli.oci import layer as L
from tests.support.layers import (
    Member,
    compress,
    digest,
    directory,
    file,
    hardlink,
    opaque,
    symlink,
    tar_bytes,
    whiteout,
)
from tests.support.layers import layer as make_layer


def index_of(blob: bytes, **kw: object) -> L.LayerIndex:
    reader = L.VerifyingReader(io.BytesIO(blob), digest(blob), expected_size=len(blob))
    return L.read_layer(reader, **kw)  # type: ignore[arg-type]


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("how", ["gzip", "zstd", "tar"])
def test_index_fields_and_hashes(how: str) -> None:
    blob = make_layer(
        [
            directory("./etc"),
            file("./etc/passwd", "root:x:0:0\n", mode=0o600, uid=0),
            file("usr/bin/tool", b"\x7fELF" + bytes(5000), mode=0o755, uid=1000),
            symlink("bin", "usr/bin"),
            hardlink("usr/bin/tool2", "usr/bin/tool"),
            Member("dev/null", "char", mode=0o666),
            Member("run/fifo", "fifo"),
        ],
        how,
    )
    index = index_of(blob)
    assert index.compression == how
    by = {e.path: e for e in index.entries}
    assert by["etc"].type == "dir"
    assert by["etc/passwd"].sha256 == sha(b"root:x:0:0\n")
    assert (by["etc/passwd"].mode, by["etc/passwd"].size) == (0o600, 11)
    assert by["usr/bin/tool"].uid == 1000
    assert by["bin"].type == "symlink" and by["bin"].link == "usr/bin"
    tool2 = by["usr/bin/tool2"]
    assert tool2.type == "hardlink" and tool2.link == "usr/bin/tool"
    assert tool2.sha256 == by["usr/bin/tool"].sha256 and tool2.size == 5004
    assert (by["dev/null"].type, by["dev/null"].devmajor, by["dev/null"].devminor) == ("char", 1, 3)
    assert by["run/fifo"].type == "fifo"
    assert index.compressed_size == len(blob)
    # JSON round trip is exact.
    assert L.LayerIndex.from_json(index.to_json()) == index


def test_media_type_does_not_override_magic() -> None:
    blob = make_layer([file("a", "x")], "zstd")
    assert index_of(blob, media_type="application/vnd.oci.image.layer.v1.tar+gzip").compression == (
        "zstd"
    )


def test_multi_member_gzip_and_multi_frame_zstd() -> None:
    raw = tar_bytes([file("a", "1" * 3000), file("b", "2")])
    for blob in (
        gzip.compress(raw[:1024]) + gzip.compress(raw[1024:]),
        compress(raw[:1024], "zstd") + compress(raw[1024:], "zstd"),
    ):
        assert [e.path for e in index_of(blob).entries] == ["a", "b"]


def test_whiteouts_and_opaque_are_recorded_not_listed() -> None:
    index = index_of(make_layer([whiteout("etc/old.conf"), opaque("var/cache"), file("x")]))
    assert index.whiteouts == ["etc/old.conf"]
    assert index.opaque == ["var/cache"]
    assert [e.path for e in index.entries] == ["x"]


def test_merge_applies_whiteouts_opaque_and_replacements() -> None:
    base = index_of(
        make_layer(
            [
                file("etc/a", "A"),
                file("etc/b", "B" * 100),
                file("var/cache/1", "1" * 10),
                file("var/cache/2", "2" * 20),
                file("opt/dir/inner", "i" * 7),
                file("keep", "k"),
            ]
        )
    )
    top = index_of(
        make_layer(
            [
                whiteout("etc/b"),
                opaque("var/cache"),
                file("var/cache/3", "3"),
                file("etc/a", "AA"),
                file("opt/dir", "now a file"),  # a file replaces a directory and its contents
            ]
        )
    )
    fs = L.merge([base, top])
    paths = {p.entry.path: p.layer for p in fs.walk()}
    assert "etc/b" not in paths
    assert "var/cache/1" not in paths and "var/cache/2" not in paths
    assert paths["var/cache/3"] == 1 and paths["etc/a"] == 1 and paths["keep"] == 0
    assert fs.get("opt/dir").entry.type == "file"  # type: ignore[union-attr]
    assert "opt/dir/inner" not in paths
    lost = {(x.entry.path, x.how): x.entry.size for x in fs.lost}
    assert lost == {
        ("etc/b", "deleted"): 100,
        ("var/cache/1", "deleted"): 10,
        ("var/cache/2", "deleted"): 20,
        ("etc/a", "overwritten"): 1,
        ("opt/dir/inner", "overwritten"): 7,
    }
    assert [p.entry.path for p in fs.listdir("var/cache")] == ["var/cache/3"]


def test_whiteout_in_a_layer_does_not_hide_its_own_files() -> None:
    fs = L.merge(
        [
            index_of(make_layer([file("d/old", "o")])),
            index_of(make_layer([opaque("d"), file("d/new", "n")])),
        ]
    )
    assert [p.entry.path for p in fs.listdir("d")] == ["d/new"]


def test_implicit_parents_exist() -> None:
    fs = L.merge([index_of(make_layer([file("a/b/c", "x")]))])
    assert fs.get("a") is not None and fs.get("a/b").entry.type == "dir"  # type: ignore[union-attr]


def test_resolve_follows_links_inside_the_image_only() -> None:
    fs = L.merge(
        [
            index_of(
                make_layer(
                    [
                        file("etc/real", "r"),
                        symlink("etc/rel", "real"),
                        symlink("etc/abs", "/etc/real"),
                        symlink("escape", "../../../../etc/real"),
                        symlink("loop1", "loop2"),
                        symlink("loop2", "loop1"),
                        symlink("lib", "usr/lib"),
                        file("usr/lib/x.so", "so"),
                    ]
                )
            )
        ]
    )
    for path in ("etc/rel", "etc/abs", "escape", "/etc/real"):
        placed = L.resolve(fs, path)
        assert placed is not None and placed.entry.path == "etc/real", path
    assert L.resolve(fs, "loop1") is None
    assert L.resolve(fs, "lib/x.so").entry.path == "usr/lib/x.so"  # type: ignore[union-attr]
    assert L.resolve(fs, "missing") is None


def test_diff_reports_each_changed_field() -> None:
    a = L.merge([index_of(make_layer([file("same", "s"), file("mod", "1"), file("gone", "g")]))])
    b = L.merge(
        [index_of(make_layer([file("same", "s"), file("mod", "22", mode=0o755), file("new", "n")]))]
    )
    rows = {p: (x is not None, y is not None, f) for p, x, y, f in L.diff(a, b)}
    assert rows == {
        "gone": (True, False, []),
        "mod": (True, True, ["sha256", "size", "mode"]),
        "new": (False, True, []),
    }


# -- hostile layers ----------------------------------------------------------------------------


def test_names_escaping_the_root_are_ignored_with_a_note() -> None:
    index = index_of(
        make_layer(
            [
                file("../../etc/evil", "x"),
                file("/abs/path", "y"),
                file("a/../../up", "z"),
                hardlink("h", "../../outside"),
                file("ok", "o"),
            ]
        )
    )
    assert sorted(e.path for e in index.entries) == ["abs/path", "ok"]
    assert any("escaping the root" in n and "3 entries" in n for n in index.notes)
    assert any("absolute" in n for n in index.notes)


def _hostile_names_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="latin-1") as t:
        for name in ("caf\xe9", "bell\x07\x1b[31m"):
            info = tarfile.TarInfo(name)
            info.size = len(name)
            t.addfile(info, io.BytesIO(name.encode("latin-1")))
        link = tarfile.TarInfo("to-cafe")
        link.type, link.linkname = tarfile.SYMTYPE, "caf\xe9"
        t.addfile(link)
    return buf.getvalue()


def test_names_are_indexed_as_they_are_invalid_utf8_and_control_characters_too() -> None:
    index = index_of(gzip.compress(_hostile_names_tar()))
    # the real names: bytes that are not UTF-8 as surrogateescape surrogates, controls kept
    assert sorted(e.path for e in index.entries) == ["bell\x07\x1b[31m", "caf\udce9", "to-cafe"]
    assert [e.link for e in index.entries if e.type == L.SYMLINK] == ["caf\udce9"]
    assert "caf\udce9".encode("utf-8", "surrogateescape") == b"caf\xe9"  # the tar's bytes
    cafe = next(e for e in index.entries if e.path.startswith("caf"))
    assert cafe.sha256 == sha(b"caf\xe9")


def test_the_cache_form_keeps_real_names_and_is_ascii_json_lines() -> None:
    index = index_of(gzip.compress(_hostile_names_tar()))
    index.notes.append("a note")
    out = io.StringIO()
    index.write_lines(out)
    text = out.getvalue()
    text.encode("ascii")  # no lone surrogate can break the write
    assert len(text.splitlines()) == 1 + len(index.entries)
    back = L.LayerIndex.read_lines(io.StringIO(text))
    assert back.entries == index.entries and back.to_json() == index.to_json()
    for damaged in (text[:-20], text + "[1]\n", "", "{}\n", text.replace("[", "{", 2)):
        with pytest.raises(ValueError):
            L.LayerIndex.read_lines(io.StringIO(damaged))


def test_entries_share_their_repeated_ints() -> None:
    index = index_of(make_layer([file(f"f{i}", "x", mode=0o644, uid=1000) for i in range(3)]))
    out = io.StringIO()
    index.write_lines(out)
    for idx in (index, L.LayerIndex.read_lines(io.StringIO(out.getvalue()))):
        a, b = idx.entries[0], idx.entries[2]
        assert a.mode == 0o644 and a.mode is b.mode and a.uid is b.uid and a.mtime is b.mtime


def test_an_index_of_the_old_format_is_stale_not_damaged() -> None:
    import json

    data = index_of(make_layer([file("a", "x")])).to_json()
    data["format"] = 1  # names were stored escaped for display then, as one JSON document
    with pytest.raises(L.StaleIndexFormat):
        L.LayerIndex.from_json(data)
    with pytest.raises(L.StaleIndexFormat):
        L.LayerIndex.read_lines([json.dumps(data)])


def test_shown_as_finds_the_real_name_from_its_displayed_form() -> None:
    index = index_of(gzip.compress(_hostile_names_tar()))
    fs = L.merge([index])
    assert L.shown_as(fs, "caf\\xe9") == "caf\udce9"
    assert L.shown_as(fs, "bell\\x07\\x1b[31m") == "bell\x07\x1b[31m"
    assert L.shown_as(fs, "caf\\xe8") is None
    assert L.shown_as(fs, "plain") is None


def test_the_model_edge_writes_non_utf8_bytes_as_escapes_and_keeps_controls() -> None:
    from dockerhub_cli.models.files import FileInfo
    from dockerhub_cli.text import visible

    info = FileInfo(
        path="caf\udce9/bell\x1b", type="file", size=0, mode="-", mode_bits=0, uid=0, gid=0,
        link="x\udcff", layer=0,
    )  # fmt: skip
    assert info.path == "caf\\xe9/bell\x1b" and info.link == "x\\xff"
    assert '"caf\\\\xe9/bell\\u001b"' in info.model_dump_json()  # exact data, JSON-escaped
    assert visible("caf\udce9/bell\x1b") == "caf\\xe9/bell\\x1b"  # what a terminal shows


def test_too_many_entries() -> None:
    blob = make_layer([file(f"f{i}") for i in range(50)])
    with pytest.raises(L.LayerError, match="more than 10 entries"):
        index_of(blob, limits=L.Limits(max_entries=10))


def test_decompression_bomb_is_refused_without_inflating_it() -> None:
    blob = make_layer([file("zeros", bytes(20_000_000))])
    assert len(blob) < 100_000
    with pytest.raises(L.LayerError, match="more than 1,000,000 bytes"):
        index_of(blob, limits=L.Limits(max_uncompressed=1_000_000))


def test_deadline_uses_the_injected_clock() -> None:
    ticks = iter(range(0, 10_000, 100))
    blob = make_layer([file(f"f{i}", "x") for i in range(20)])
    with pytest.raises(L.LayerError, match="longer than 500 s"):
        index_of(blob, limits=L.Limits(max_seconds=500, clock=lambda: float(next(ticks))))


def test_huge_declared_size_is_a_truncation_error() -> None:
    raw = bytearray(tar_bytes([file("big", "x" * 10)], fmt=tarfile.GNU_FORMAT))
    info = tarfile.TarInfo("big")
    info.size = 10**12  # a header promising a terabyte
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    raw[: len(header)] = header
    with pytest.raises(L.LayerError):
        index_of(gzip.compress(bytes(raw)))


def test_huge_pax_header_is_refused_before_it_is_read() -> None:
    info = tarfile.TarInfo("x")
    info.pax_headers = {"comment": "c" * (L.MAX_META_HEADER + 10)}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        t.addfile(info, io.BytesIO(b""))
    with pytest.raises(L.LayerError, match="header extension"):
        index_of(gzip.compress(buf.getvalue()))


@pytest.mark.parametrize("how", ["gzip", "zstd"])
def test_truncated_and_corrupt_streams(how: str) -> None:
    blob = make_layer([file("a", bytes(range(256)) * 400)], how)
    cut = blob[: len(blob) // 2]
    with pytest.raises(L.LayerError):
        L.index_layer(io.BytesIO(cut))
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 0xFF
    bad[len(bad) // 2 + 1] ^= 0xFF
    with pytest.raises((L.LayerError, DigestMismatchError)):
        L.read_layer(L.VerifyingReader(io.BytesIO(bytes(bad)), digest(blob)))


def test_digest_mismatch_is_detected_after_the_walk() -> None:
    blob = make_layer([file("a", "x")])
    reader = L.VerifyingReader(io.BytesIO(blob), digest(blob + b"!"))
    with pytest.raises(DigestMismatchError, match="does not match its digest"):
        L.read_layer(reader)


def test_verifying_reader_caps_and_announced_size() -> None:
    blob = make_layer([file("a", bytes(range(256)) * 1000)])
    with pytest.raises(L.LayerError, match="limit"):
        L.read_layer(L.VerifyingReader(io.BytesIO(blob), digest(blob), max_bytes=100))
    with pytest.raises(DigestMismatchError, match="ended after"):
        L.read_layer(L.VerifyingReader(io.BytesIO(blob), digest(blob), expected_size=len(blob) + 1))


def test_not_a_tar_and_empty_blob() -> None:
    with pytest.raises(L.LayerError, match="not a tar"):
        index_of(gzip.compress(b"hello, this is not a tar archive" * 40))
    assert index_of(b"").entries == []


def test_from_json_rejects_damage() -> None:
    for bad in ({}, {"format": 99}, {"format": 1, "entries": "x"}, [], None):
        with pytest.raises(ValueError):
            L.LayerIndex.from_json(bad)


@pytest.mark.parametrize("name", sorted(n for n, _ in L._gzip_backends()))
def test_every_gzip_backend_gives_the_same_index(name: str) -> None:
    blob = make_layer([file("a", bytes(range(256)) * 500), file("b", "b")])
    assert index_of(blob, gzip_impl=name).entries == index_of(blob, gzip_impl="zlib").entries


def test_sink_receives_content_and_stop_after_ends_early() -> None:
    blob = make_layer([file("a", "first"), file("b", "second"), file("c", "third")])
    out = io.BytesIO()
    index = L.index_layer(
        io.BytesIO(blob),
        sink=lambda e: out if e.path == "b" else None,
        stop_after=lambda e: e.path == "b",
    )
    assert out.getvalue() == b"second"
    assert [e.path for e in index.entries] == ["a", "b"]
    assert "incomplete" in index.notes[-1]


# -- eStargz ------------------------------------------------------------------------------------


def test_estargz_toc_index_equals_the_streamed_index() -> None:
    from dockerhub_cli.oci import estargz
    from tests.support.layers import estargz_layer

    members = [
        directory("etc"),
        file("etc/a", "alpha"),
        file("etc/b", bytes(range(256)) * 50),
        symlink("etc/l", "a"),
        hardlink("etc/h", "etc/a"),
        whiteout("gone"),
        opaque("opaque"),
        file("../escape", "x"),
    ]
    blob, toc_digest = estargz_layer(members)
    streamed = index_of(blob)
    footer = blob[-estargz.FOOTER_SIZE :]
    offset = estargz.parse_footer(footer)
    toc = estargz.read_toc(blob[offset : -estargz.FOOTER_SIZE], toc_digest)
    index = estargz.index_from_toc(
        toc, digest=digest(blob), media_type="", blob_size=len(blob), toc_offset=offset
    )

    def facts(i: L.LayerIndex) -> set[tuple[object, ...]]:
        return {(e.path, e.type, e.size, e.sha256, e.link) for e in i.entries}

    assert facts(index) == facts(streamed)
    assert (index.whiteouts, index.opaque) == (streamed.whiteouts, streamed.opaque)
    start, end = index.chunks["etc/b"]
    content = L.decompressed(io.BytesIO(blob[start:end])).read(12800)
    assert content == bytes(range(256)) * 50
    assert L.LayerIndex.from_json(index.to_json()).chunks == index.chunks


def test_estargz_bad_footer_and_forged_toc() -> None:
    from dockerhub_cli.oci import estargz
    from tests.support.layers import estargz_layer

    blob, toc_digest = estargz_layer([file("a", "1")])
    with pytest.raises(L.LayerError, match="footer"):
        estargz.parse_footer(b"\x1f\x8b" + bytes(49))
    offset = estargz.parse_footer(blob[-51:])
    with pytest.raises(DigestMismatchError, match="toc.digest"):
        estargz.read_toc(blob[offset:-51], "sha256:" + "0" * 64)


def _gnu_sparse_member(name: str, real_size: int) -> bytes:
    """A GNU 'S' (old sparse) member: 1 byte of data, then a hole up to `real_size`."""
    info = tarfile.TarInfo(name)
    info.size = 1
    header = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    header[156:157] = b"S"
    header[386:398] = b"%011o\0" % 0  # sparse map: offset 0 ...
    header[398:410] = b"%011o\0" % 1  # ... 1 byte
    header[483:495] = b"%011o\0" % real_size
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header[:512])
    return bytes(header) + b"x" + bytes(511)


def test_huge_sparse_file_is_refused_before_hashing_its_holes() -> None:
    raw = _gnu_sparse_member("holes", 8 * 10**9) + bytes(1024)
    members = list(tarfile.open(fileobj=io.BytesIO(raw)))
    assert members[0].issparse() and members[0].size == 8 * 10**9  # an 8 GB file of holes
    ticks = iter(range(10**6))
    with pytest.raises(L.LayerError, match="add up to more than"):
        index_of(
            gzip.compress(raw),
            limits=L.Limits(max_uncompressed=10**9, clock=lambda: float(next(ticks))),
        )


def test_a_write_through_a_symlinked_directory_follows_it_like_containerd() -> None:
    lower = index_of(
        make_layer(
            [
                directory("b"),
                file("b/old", "o"),
                symlink("a", "b"),
                symlink("loop", "loop2"),
                symlink("loop2", "loop"),
                symlink("d", "b"),
            ]
        )
    )
    upper = index_of(
        make_layer(
            [
                file("a/x/f", "new"),
                whiteout("a/old"),
                file("loop/g", "g"),
                directory("d"),
                file("d/h", "h"),
            ]
        )
    )
    fs = L.merge([lower, upper])
    placed = fs.get("b/x/f")
    assert placed is not None and placed.member == "a/x/f" and placed.layer == 1
    assert fs.get("b/x") is not None and fs.get("b/x").entry.type == L.DIR  # type: ignore[union-attr]
    assert fs.get("b/old") is None and fs.get("a").entry.type == L.SYMLINK  # type: ignore[union-attr]
    # a loop is not followed: the link is replaced by a directory (bounded, as before)
    assert fs.get("loop").entry.type == L.DIR and fs.get("loop/g") is not None  # type: ignore[union-attr]
    # a directory entry over a link replaces the link; b keeps its own contents
    assert fs.get("d").entry.type == L.DIR and fs.get("d/h").member is None  # type: ignore[union-attr]
    assert fs.get("b/x/f") is not None and fs.get("d/x") is None


def test_bzip2_layers_are_read_with_the_standard_library() -> None:
    import bz2

    members = [directory("etc"), file("etc/a", "a" * 5000), file("etc/b", bytes(range(256)))]
    raw = tar_bytes(members)
    plain = index_of(raw)
    for blob in (bz2.compress(raw), bz2.compress(raw[:1000]) + bz2.compress(raw[1000:])):
        index = index_of(blob)
        assert index.compression == "bzip2"
        assert [e.row() for e in index.entries] == [e.row() for e in plain.entries]
    blob = bz2.compress(raw)
    with pytest.raises(L.LayerError, match="truncated"):
        L.index_layer(io.BytesIO(blob[: len(blob) // 2]))
    with pytest.raises(L.LayerError, match="corrupt"):
        L.index_layer(io.BytesIO(blob[:10] + b"\xff" * 50 + blob[60:]))
    with pytest.raises(L.LayerError, match="more than"):
        L.index_layer(io.BytesIO(blob), limits=L.Limits(max_uncompressed=4096))
    bomb = bz2.compress(bytes(50_000_000))  # 50 MB of zeros in 40 bytes, read a chunk at a time
    stream = L.decompressed(io.BytesIO(bomb), max_out=10**6)
    with pytest.raises(L.LayerError, match="decompression bomb|more than"):
        while stream.read(L.CHUNK):
            pass


def test_a_tar_whose_first_name_looks_like_bzip2_is_still_a_tar() -> None:
    index = index_of(tar_bytes([file("BZh9", "not bzip2")]))
    assert index.compression == "tar" and [e.path for e in index.entries] == ["BZh9"]


def test_a_tar_that_ends_right_after_the_last_content_is_complete_as_runtimes_read_it() -> None:
    """umoci 0.4 `insert` writes layers without the padding after the last file and without
    the end-of-archive blocks; Go's archive/tar (every runtime) reads them as complete."""
    raw = tar_bytes([file("etc/a", "hello"), file("usr/lib/os-release", "NAME=changed\n")])
    end = raw.index(b"NAME=changed\n") + len(b"NAME=changed\n")
    for how in ("gzip", "tar", "zstd"):
        index = index_of(compress(raw[:end], how))
        assert [e.path for e in index.entries] == ["etc/a", "usr/lib/os-release"]
        assert index.entries[1].sha256 == sha(b"NAME=changed\n")
        assert any("end-of-archive" in n for n in index.notes)
    assert not any("end-of-archive" in n for n in index_of(raw).notes)
    for cut in (end - 3, end + 5):  # content cut short, or padding cut short: still an error
        with pytest.raises(L.LayerError):
            index_of(raw[:cut])


def test_entries_work_with_dataclasses_replace_fields_and_asdict() -> None:
    import dataclasses

    e = L.Entry("a/b", L.FILE, 3, 0o644, sha256=sha(b"abc"), mtime=7)
    moved = dataclasses.replace(e, path="c/b")
    assert moved.path == "c/b" and moved.sha256 == e.sha256 and moved.mtime == 7
    assert [f.name for f in dataclasses.fields(e)] == [
        "path", "type", "size", "mode", "uid", "gid", "link", "sha256", "mtime", "devmajor",
        "devminor",
    ]  # fmt: skip
    assert dataclasses.asdict(e)["sha256"] == sha(b"abc")
    assert L.Entry("x", L.FILE, sha256="md5:odd").sha256 == "md5:odd"  # kept as given
    with pytest.raises(AttributeError):
        e.path = "other"  # type: ignore[misc]
