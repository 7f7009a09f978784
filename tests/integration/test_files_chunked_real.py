"""zstd:chunked layers on a real registry: the file index from the TOC (one Range request), one
file by one more, checked against `umoci unpack` of the same image as the oracle.

The zstd:chunked image is made by skopeo itself (`--dest-compress-format zstd:chunked`, the
containers/image writer podman and buildah use), from a gzip layout the test builds.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from dockerhub_cli.oci import zstdchunked
from tests.integration.test_files_real import BASE, _oracle, _service
from tests.support.layers import directory, file, hardlink, symlink, whiteout, write_layout
from tests.support.seeding import push


def _zstd_chunked_copy(layout: Path, out: Path) -> dict[str, object]:
    subprocess.run(
        [
            "skopeo", "--insecure-policy", "copy", "-q", "--dest-compress-format",
            "zstd:chunked", f"oci:{layout}:v1", f"oci:{out}:v1",
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    index = json.loads((out / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest: dict[str, object] = json.loads((out / "blobs" / "sha256" / digest).read_bytes())
    return manifest


def test_zstd_chunked_layer_is_indexed_from_its_toc_and_read_by_range(
    registry_factory, tmp_path: Path
) -> None:
    reg = registry_factory(seed=False)
    big = os.urandom(300_000)
    lazy = [
        directory("data"),
        file("data/big.bin", big),  # more than one chunk: the TOC has "chunk" entries
        file("data/small.txt", "small\n"),
        file("data/empty"),
        symlink("data/link", "small.txt"),
        hardlink("data/small-again", "data/small.txt"),
        whiteout("etc/old.conf"),
    ]
    layout = tmp_path / "layout"
    write_layout(layout, [(BASE, "gzip"), (lazy, "gzip")], tag="v1")
    oracle = _oracle(layout, tmp_path)  # the same tar streams, as gzip (umoci reads no zstd)
    chunked_layout = tmp_path / "chunked"
    manifest = _zstd_chunked_copy(layout, chunked_layout)
    layers = manifest["layers"]
    assert isinstance(layers, list)
    annotations = layers[1].get("annotations", {})
    assert zstdchunked.toc_location(annotations, layers[1]["size"]) is not None, annotations
    ref = reg.ref("demo/chunked:v1")
    push(f"oci:{chunked_layout}:v1", ref, fmt="oci")
    with _service() as svc:
        mark = reg.log_mark()
        listing = svc.files(ref)
        lazy_size = layers[1]["size"]
        config = str(manifest["config"]["digest"])  # type: ignore[index]
        blob_requests = [
            e for e in reg.requests_since(mark) if "/blobs/" in e.path and config not in e.path
        ]
        ours = {
            f.path: (
                "file" if f.type in ("file", "hardlink") else f.type,
                f.size,
                f.link if f.type == "symlink" else f.sha256,
            )
            for f in listing.files
        }
        assert ours == oracle
        assert any("zstd:chunked TOC" in n for n in listing.notes)
        # every layer of this image is zstd:chunked: a TOC each, never the whole blob (the
        # config is read once too, for the platform of this single-manifest image)
        assert len(blob_requests) == 2
        assert listing.download.bytes_downloaded < lazy_size
        mark = reg.log_mark()
        meta, spool = svc.read_file(ref, "/data/big.bin")
        with spool:
            assert spool.read() == big
        assert meta.download.bytes_downloaded < lazy_size and meta.download.layers_cached == 2
        meta, spool = svc.read_file(ref, "/data/link")  # a symlink, followed inside the image
        with spool:
            assert spool.read() == b"small\n"
        meta, spool = svc.read_file(ref, "/usr/bin/tool-alias")  # a hard link, in layer 0
        with spool:
            assert spool.read().startswith(b"\x7fELF")
        assert len([e for e in reg.requests_since(mark) if "/blobs/" in e.path]) == 3
        warm = svc.files(ref)
        assert warm.download.bytes_downloaded == 0 and warm.download.layers_cached == 2
