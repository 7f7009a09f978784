"""Synthetic layer blobs for the file-index tests: tar members from a compact spec, packed as
plain tar, gzip or zstd, and OCI image layouts of such layers for the integration tests
(pushed with skopeo, checked against `umoci unpack`)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Member:
    """One tar member: kind is file, dir, symlink, hardlink, char, fifo."""

    name: str
    kind: str = "file"
    data: bytes = b""
    link: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


def file(name: str, data: bytes | str = b"", mode: int = 0o644, uid: int = 0) -> Member:
    return Member(
        name, "file", data.encode() if isinstance(data, str) else data, mode=mode, uid=uid
    )


def directory(name: str, mode: int = 0o755) -> Member:
    return Member(name, "dir", mode=mode)


def symlink(name: str, target: str) -> Member:
    return Member(name, "symlink", link=target, mode=0o777)


def hardlink(name: str, target: str) -> Member:
    return Member(name, "hardlink", link=target)


def whiteout(path: str) -> Member:
    head, _, base = path.rpartition("/")
    return file(f"{head}/.wh.{base}" if head else f".wh.{base}")


def opaque(directory_path: str) -> Member:
    return file(f"{directory_path}/.wh..wh..opq")


_KINDS = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "char": tarfile.CHRTYPE,
    "fifo": tarfile.FIFOTYPE,
}


def tar_bytes(members: list[Member], *, fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for m in members:
            info = tarfile.TarInfo(m.name)
            info.type = _KINDS[m.kind]
            info.mode = m.mode
            info.uid, info.gid = m.uid, m.gid
            info.mtime = 1_700_000_000
            info.linkname = m.link
            if m.kind == "char":
                info.devmajor, info.devminor = 1, 3
            if m.kind == "file":
                info.size = len(m.data)
                tar.addfile(info, io.BytesIO(m.data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    return data


def layer(members: list[Member], how: str = "gzip") -> bytes:
    return compress(tar_bytes(members), how)


def digest(blob: bytes) -> str:
    return "sha256:" + hashlib.sha256(blob).hexdigest()


LAYER_TYPES = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "tar": "application/vnd.oci.image.layer.v1.tar",
}


def write_layout(root: Path, layers: list[tuple[list[Member], str]], *, tag: str = "latest") -> str:
    """An OCI image layout at `root` with these layers (members, compression: gzip, zstd, tar
    or estargz); returns the manifest digest. Push it with `skopeo copy oci:ROOT:TAG docker://...`."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> str:
        d = digest(data)
        (blobs / d.split(":", 1)[1]).write_bytes(data)
        return d

    descriptors: list[dict[str, object]] = []
    diff_ids = []
    for members, how in layers:
        if how == "estargz":
            blob, toc_digest = estargz_layer(members)
            raw = gzip.decompress(blob)
            annotations = {ESTARGZ_TOC_DIGEST: toc_digest}
            descriptors.append(
                {
                    "mediaType": LAYER_TYPES["gzip"],
                    "digest": put(blob),
                    "size": len(blob),
                    "annotations": annotations,
                }
            )
        else:
            raw = tar_bytes(members)
            blob = compress(raw, how)
            layer_type = LAYER_TYPES[how]
            descriptors.append({"mediaType": layer_type, "digest": put(blob), "size": len(blob)})
        diff_ids.append(digest(raw))
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": put(config),
                "size": len(config),
            },
            "layers": descriptors,
        }
    ).encode()
    manifest_digest = put(manifest)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    return manifest_digest


# -- eStargz (github.com/containerd/stargz-snapshotter docs/estargz.md) -----------------------

ESTARGZ_TOC_DIGEST = "containerd.io/snapshot/stargz/toc.digest"
_TOC_TYPES = {"file": "reg", "dir": "dir", "symlink": "symlink", "hardlink": "hardlink"}


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def estargz_footer(toc_offset: int) -> bytes:
    """The 51-byte footer: an empty gzip member whose extra field carries the TOC offset."""
    import struct
    import zlib

    extra = b"SG" + struct.pack("<H", 22) + b"%016xSTARGZ" % toc_offset
    header = b"\x1f\x8b\x08\x04" + b"\0\0\0\0" + b"\0\xff" + struct.pack("<H", len(extra)) + extra
    empty = zlib.compressobj(0, zlib.DEFLATED, -15)  # a stored (uncompressed) empty block
    body = empty.compress(b"") + empty.flush()
    footer = header + body + struct.pack("<II", 0, 0)
    assert len(footer) == 51, len(footer)
    return footer


def estargz_layer(members: list[Member]) -> tuple[bytes, str]:
    """An eStargz blob (each file's content starts a gzip member; the TOC is the last tar entry,
    `stargz.index.json`; then the footer), and the TOC digest for the layer annotation.
    The blob is also a valid gzip-compressed tar, as the format promises."""
    out = bytearray()
    pending = b""  # tar bytes not yet flushed into a gzip member
    entries: list[dict[str, object]] = []
    for m in members:
        info = tarfile.TarInfo(m.name)
        info.type = _KINDS[m.kind]
        info.mode, info.uid, info.gid, info.mtime = m.mode, m.uid, m.gid, 1_700_000_000
        info.linkname = m.link
        info.size = len(m.data) if m.kind == "file" else 0
        pending += info.tobuf(format=tarfile.PAX_FORMAT)
        entry: dict[str, object] = {
            "name": m.name,
            "type": _TOC_TYPES[m.kind],
            "mode": m.mode,
            "uid": m.uid,
            "gid": m.gid,
        }
        if m.link:
            entry["linkName"] = m.link
        if m.kind == "file":
            out += _gz(pending)  # the header ends the previous member; content starts a new one
            pending = b""
            entry.update(
                size=len(m.data),
                offset=len(out),
                digest="sha256:" + hashlib.sha256(m.data).hexdigest(),
            )
            pending += m.data + b"\0" * (-len(m.data) % 512)
        entries.append(entry)
    out += _gz(pending)
    toc = json.dumps({"version": 1, "entries": entries}).encode()
    toc_offset = len(out)
    info = tarfile.TarInfo("stargz.index.json")
    info.size = len(toc)
    info.mtime = 1_700_000_000
    toc_tar = info.tobuf(format=tarfile.PAX_FORMAT) + toc + b"\0" * (-len(toc) % 512)
    out += _gz(toc_tar + b"\0" * 1024)  # the TOC entry and the end-of-archive blocks
    out += estargz_footer(toc_offset)
    return bytes(out), "sha256:" + hashlib.sha256(toc).hexdigest()


ZSTD_CHUNKED_PREFIX = "io.github.containers.zstd-chunked."


def zstd_chunked_layer(members: list[Member]) -> tuple[bytes, dict[str, str]]:
    """A zstd:chunked blob as containers/storage writes it (each non-empty file's content is
    its own zstd frame; the TOC, "manifest", a zstd frame inside a skippable frame after the
    tar; a footer), and the layer annotations (manifest checksum and position). The blob is
    also a valid zstd-compressed tar."""
    import struct

    import zstandard

    z = zstandard.ZstdCompressor()
    out = bytearray()
    pending = b""
    entries: list[dict[str, object]] = []
    for m in members:
        info = tarfile.TarInfo(m.name)
        info.type = _KINDS[m.kind]
        info.mode, info.uid, info.gid, info.mtime = m.mode, m.uid, m.gid, 1_700_000_000
        info.linkname = m.link
        info.size = len(m.data) if m.kind == "file" else 0
        pending += info.tobuf(format=tarfile.PAX_FORMAT)
        entry: dict[str, object] = {
            "name": m.name,
            "type": _TOC_TYPES[m.kind],
            "mode": m.mode,
            "uid": m.uid,
            "gid": m.gid,
            "modtime": "2023-11-14T22:13:20Z",
        }
        if m.link:
            entry["linkName"] = m.link
        if m.kind == "file":
            entry.update(size=len(m.data), digest="sha256:" + hashlib.sha256(m.data).hexdigest())
            if m.data:  # the header ends a frame; the content is a frame of its own
                out += z.compress(pending)
                start = len(out)
                out += z.compress(m.data)
                entry.update(offset=start, endOffset=len(out))
                pending = b"\0" * (-len(m.data) % 512)
        entries.append(entry)
    out += z.compress(pending + b"\0" * 1024)
    toc = json.dumps({"version": 1, "entries": entries}).encode()
    packed = z.compress(toc)
    out += struct.pack("<II", 0x184D2A50, len(packed))
    offset = len(out)
    out += packed
    footer = struct.pack("<QQQQ", offset, len(packed), len(toc), 1) + b"\0" * 24
    out += struct.pack("<II", 0x184D2A50, len(footer) + 8) + footer + b"GNUlInUx"
    annotations = {
        ZSTD_CHUNKED_PREFIX + "manifest-checksum": "sha256:" + hashlib.sha256(packed).hexdigest(),
        ZSTD_CHUNKED_PREFIX + "manifest-position": f"{offset}:{len(packed)}:{len(toc)}:1",
    }
    return bytes(out), annotations
