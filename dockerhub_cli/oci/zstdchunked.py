"""zstd:chunked layers (containers/storage, pkg/chunked): a file index from the TOC, by Range.

A zstd:chunked blob is a zstd-compressed tar (any zstd reader sees just the layer) in which
every non-empty regular file's content is its own zstd frame(s), followed by skippable frames
holding a "manifest" (a TOC in the CRFS JSON that eStargz also uses: every entry with its
header fields, the sha256 of its content and the `offset`/`endOffset` of its frames), a
tar-split stream and a footer. The OCI descriptor repeats the manifest's position and sha256
in annotations, so one Range request reads a TOC verified by the (digest-verified) image
manifest, and one more the frames of one file, verified by the TOC's per-file sha256.

Writers have used two annotation prefixes: `io.github.containers.zstd-chunked.` (current
containers/storage) and `io.containers.zstd-chunked.` (older ones, e.g. skopeo 1.9); both
are read. The position is `offset:length:uncompressedLength:manifestType` (type 1, JSON).
"""

from __future__ import annotations

from collections.abc import Mapping

from dockerhub_cli.oci import layer as L
from dockerhub_cli.oci.estargz import toc_entries

PREFIXES = ("io.github.containers.zstd-chunked.", "io.containers.zstd-chunked.")
CHECKSUM = "manifest-checksum"
POSITION = "manifest-position"
MANIFEST_TYPE_JSON = 1
MAX_TOC_COMPRESSED = 64 * 1024 * 1024
MAX_TOC_BYTES = 256 * 1024 * 1024


def toc_location(
    annotations: Mapping[str, str], blob_size: int
) -> tuple[str, int, int, int] | None:
    """(TOC sha256, offset, compressed length, uncompressed length) from a layer descriptor's
    annotations; None when it is not annotated as zstd:chunked. LayerError when the
    annotations are there but do not describe a TOC inside the blob."""
    for prefix in PREFIXES:
        checksum = annotations.get(prefix + CHECKSUM)
        position = annotations.get(prefix + POSITION)
        if checksum is None or position is None:
            continue
        parts = position.split(":")
        try:
            offset, length, uncompressed = (int(p) for p in parts[:3])
            kind = int(parts[3]) if len(parts) > 3 else MANIFEST_TYPE_JSON
        except ValueError:
            raise L.LayerError(f"zstd:chunked: bad {POSITION} {position!r}") from None
        if kind != MANIFEST_TYPE_JSON:
            raise L.LayerError(f"zstd:chunked: manifest type {kind} is not JSON (1)")
        if not checksum.startswith("sha256:"):
            raise L.LayerError(f"zstd:chunked: unsupported {CHECKSUM} {checksum!r}")
        if not (
            0 <= offset
            and 0 < length <= MAX_TOC_COMPRESSED
            and offset + length <= blob_size
            and 0 < uncompressed <= MAX_TOC_BYTES
        ):
            raise L.LayerError(f"zstd:chunked: {POSITION} {position!r} is out of range")
        return checksum, offset, length, uncompressed
    return None


def read_toc(compressed: bytes, expected_digest: str, uncompressed: int) -> bytes:
    """The TOC JSON from its compressed bytes, checked against the annotation's sha256 first
    (nothing unverified is decompressed) and bounded by the announced size."""
    L.verify_toc(compressed, expected_digest, "zstd:chunked", CHECKSUM)
    import zstandard

    try:
        reader = zstandard.ZstdDecompressor().stream_reader(compressed, read_across_frames=True)
        data: bytes = reader.read(uncompressed + 1)
    except zstandard.ZstdError as exc:
        raise L.LayerError(f"zstd:chunked TOC is corrupt: zstd says {exc}") from None
    if len(data) != uncompressed:
        raise L.LayerError(
            f"zstd:chunked TOC is {len(data):,} bytes, not the announced {uncompressed:,}"
        )
    return data


def index_from_toc(toc: bytes, *, digest: str, media_type: str, blob_size: int) -> L.LayerIndex:
    """A LayerIndex from a verified TOC, with each file's frames (`offset`..`endOffset`) in
    `chunks`, for reading one file by one Range request."""
    index = L.LayerIndex(
        digest=digest, media_type=media_type, compression="zstd", compressed_size=blob_size
    )
    for entry, raw in toc_entries(toc, index, what="zstd:chunked TOC"):
        start, end = raw.get("offset"), raw.get("endOffset")
        if (
            entry.type == L.FILE
            and entry.size
            and isinstance(start, int)
            and isinstance(end, int)
            and 0 <= start < end <= blob_size
        ):
            index.chunks[entry.path] = [start, end]
    L.fill_hardlinks(index)
    index.notes.insert(0, "read from its zstd:chunked TOC (Range requests), not streamed")
    return index
