"""zstd:chunked (oci/zstdchunked.py): annotations, the verified TOC, the index from it, and the
ops around it; with blobs made like containers/storage's (tests/support/layers.py)."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from dockerhub_cli.errors import DigestMismatchError
from dockerhub_cli.oci import layer as L
from dockerhub_cli.oci import zstdchunked
from tests.support.layers import (
    ZSTD_CHUNKED_PREFIX,
    digest,
    directory,
    file,
    hardlink,
    opaque,
    symlink,
    whiteout,
    zstd_chunked_layer,
)

MEMBERS = [
    directory("etc"),
    file("etc/os-release", "ID=chunked\n"),
    file("etc/empty"),
    file("usr/bin/tool", b"\x7fELF" + bytes(5000), mode=0o755, uid=1000),
    hardlink("usr/bin/alias", "usr/bin/tool"),
    symlink("bin", "usr/bin"),
    whiteout("etc/old"),
    opaque("var/cache"),
]


def _toc_index(blob: bytes, annotations: dict[str, str]) -> L.LayerIndex:
    location = zstdchunked.toc_location(annotations, len(blob))
    assert location is not None
    checksum, offset, length, size = location
    toc = zstdchunked.read_toc(blob[offset : offset + length], checksum, size)
    return zstdchunked.index_from_toc(
        toc, digest=digest(blob), media_type="application/vnd.oci.image.layer.v1.tar+zstd",
        blob_size=len(blob),
    )  # fmt: skip


def test_the_toc_index_is_the_streamed_index() -> None:
    blob, annotations = zstd_chunked_layer(MEMBERS)
    streamed = L.read_layer(L.VerifyingReader(io.BytesIO(blob), digest(blob)))  # plain zstd too
    lazy = _toc_index(blob, annotations)
    fields = ("path", "type", "size", "mode", "uid", "gid", "link", "sha256", "mtime")
    assert [[getattr(e, f) for f in fields] for e in lazy.entries] == [
        [getattr(e, f) for f in fields] for e in streamed.entries
    ]
    assert lazy.whiteouts == streamed.whiteouts == ["etc/old"]
    assert lazy.opaque == streamed.opaque == ["var/cache"]
    assert lazy.compression == "zstd" and "zstd:chunked TOC" in lazy.notes[0]


def test_each_file_range_holds_exactly_its_content() -> None:
    import zstandard

    blob, annotations = zstd_chunked_layer(MEMBERS)
    lazy = _toc_index(blob, annotations)
    assert set(lazy.chunks) == {"etc/os-release", "usr/bin/tool"}  # empty files have none
    for e in lazy.entries:
        if e.path in lazy.chunks:
            start, end = lazy.chunks[e.path]
            data = zstandard.ZstdDecompressor().stream_reader(blob[start:end]).read(e.size + 1)
            assert "sha256:" + hashlib.sha256(data).hexdigest() == e.sha256


def test_both_annotation_prefixes_and_bad_positions() -> None:
    blob, annotations = zstd_chunked_layer(MEMBERS)
    old = {k.replace(ZSTD_CHUNKED_PREFIX, "io.containers.zstd-chunked."): v
           for k, v in annotations.items()}  # fmt: skip
    assert zstdchunked.toc_location(old, len(blob)) == zstdchunked.toc_location(
        annotations, len(blob)
    )
    assert zstdchunked.toc_location({}, len(blob)) is None
    position = ZSTD_CHUNKED_PREFIX + "manifest-position"
    for bad in ("x:1:2:1", f"{len(blob)}:10:10:1", "0:0:10:1", "10:10:10:2", "-1:5:5:1"):
        with pytest.raises(L.LayerError):
            zstdchunked.toc_location(annotations | {position: bad}, len(blob))


def test_a_toc_that_does_not_match_its_checksum_is_refused_before_decompressing() -> None:
    blob, annotations = zstd_chunked_layer(MEMBERS)
    checksum, offset, length, size = zstdchunked.toc_location(annotations, len(blob)) or ("",) * 4
    tampered = bytearray(blob[offset : offset + length])  # type: ignore[misc]
    tampered[-1] ^= 1
    with pytest.raises(DigestMismatchError):
        zstdchunked.read_toc(bytes(tampered), checksum, size)  # type: ignore[arg-type]
    with pytest.raises(L.LayerError, match="announced"):
        zstdchunked.read_toc(blob[offset : offset + length], checksum, size + 1)  # type: ignore[operator]


def test_a_hostile_toc_is_a_layer_error() -> None:
    index = L.LayerIndex(digest=None, media_type="", compression="zstd")
    for toc in (b"[]", b'{"entries": 5}', b"not json"):
        with pytest.raises(L.LayerError):
            zstdchunked.index_from_toc(toc, digest="sha256:x", media_type="", blob_size=10)
    escaping = json.dumps({"entries": [{"type": "reg", "name": "../../etc/passwd"}]}).encode()
    got = zstdchunked.index_from_toc(escaping, digest="sha256:x", media_type="", blob_size=10)
    assert got.entries == [] and any("escaping the root" in n for n in got.notes)
    assert index.entries == []


def test_a_server_ignoring_range_gets_the_layer_streamed(rsps, service) -> None:
    """`responses` answers a Range request with 200 and the whole body, like a server that
    does not support ranges: the zstd:chunked layer is then streamed as a zstd tar."""
    from tests.unit.registry_fixtures import compact
    from tests.unit.test_files_ops import CONFIG, IMAGE, REG, _manifest

    blob, annotations = zstd_chunked_layer(MEMBERS)
    manifest = json.loads(_manifest([blob]))
    manifest["layers"][0]["annotations"] = annotations
    manifest["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+zstd"
    body = compact(manifest)
    rsps.get(
        f"{REG}/v2/team/app/manifests/1.0",
        body=body,
        content_type="application/vnd.oci.image.manifest.v1+json",
        headers={"Docker-Content-Digest": digest(body)},
    )
    rsps.get(f"{REG}/v2/team/app/blobs/{digest(blob)}", body=blob)
    rsps.get(f"{REG}/v2/team/app/blobs/{digest(CONFIG)}", body=CONFIG)  # the platform
    listing = service.files(IMAGE)
    assert "usr/bin/tool" in [f.path for f in listing.files]
    assert not any("TOC" in n for n in listing.notes)
    assert listing.download.bytes_downloaded == len(blob)
    meta, spool = service.read_file(IMAGE, "/etc/os-release")
    with spool:
        assert spool.read() == b"ID=chunked\n"
