"""eStargz layers (stargz-snapshotter docs/estargz.md): the footer, the TOC, a file index from it.

An eStargz blob is a gzip-compressed tar whose every regular file's content starts a new gzip
member, whose last tar entry `stargz.index.json` (the TOC) lists every entry with the compressed
offset of its content, and which ends with a 51-byte footer (an empty gzip member whose extra
field holds the TOC's offset). The manifest annotates the layer with the TOC's sha256, so with
two Range requests (footer, TOC) we get a verified file index without reading the layer, and
with one more the bytes of one file, verified by the TOC's per-file digest.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
from typing import Any

from dockerhub_cli.oci import jsonlimits
from dockerhub_cli.oci import layer as L
from dockerhub_cli.oci.timestamp import parse_timestamp

TOC_DIGEST_ANNOTATION = "containerd.io/snapshot/stargz/toc.digest"
TOC_NAME = "stargz.index.json"
FOOTER_SIZE = 51
MAX_TOC_COMPRESSED = 64 * 1024 * 1024
MAX_TOC_BYTES = 256 * 1024 * 1024
_TYPES = {
    "reg": L.FILE,
    "dir": L.DIR,
    "symlink": L.SYMLINK,
    "hardlink": L.HARDLINK,
    "char": L.CHAR,
    "block": L.BLOCK,
    "fifo": L.FIFO,
}


def parse_footer(footer: bytes) -> int:
    """The TOC offset from the 51-byte footer; LayerError if it is not an eStargz footer."""
    if len(footer) != FOOTER_SIZE or not footer.startswith(b"\x1f\x8b\x08\x04"):
        raise L.LayerError("not an eStargz footer")
    extra = footer[12:38]
    if extra[:2] != b"SG" or extra[-6:] != b"STARGZ":
        raise L.LayerError("not an eStargz footer")
    try:
        return int(extra[4:20], 16)
    except ValueError:
        raise L.LayerError("eStargz footer: bad TOC offset") from None


def read_toc(member: bytes, expected_digest: str) -> bytes:
    """The TOC JSON from the gzip bytes between its offset and the footer, verified."""
    stream = L.decompressed(io.BytesIO(member), max_out=MAX_TOC_BYTES, what="eStargz TOC")
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
            for info in tar:
                if info.name == TOC_NAME and info.isfile():
                    if info.size > MAX_TOC_BYTES:
                        raise L.LayerError("eStargz TOC too large")
                    handle = tar.extractfile(info)
                    data: bytes = handle.read() if handle else b""
                    break
            else:
                raise L.LayerError(f"eStargz: no {TOC_NAME} entry at the TOC offset")
    except (tarfile.TarError, EOFError) as exc:
        raise L.LayerError(f"eStargz TOC is not a tar entry: {exc}") from None
    L.verify_toc(data, expected_digest, "eStargz", TOC_DIGEST_ANNOTATION)
    return data


def index_from_toc(
    toc: bytes, *, digest: str, media_type: str, blob_size: int, toc_offset: int
) -> L.LayerIndex:
    """A LayerIndex (with each whole file's content range in `chunks`) from a verified TOC."""
    index = L.LayerIndex(
        digest=digest, media_type=media_type, compression="gzip", compressed_size=blob_size
    )
    starts: list[tuple[int, str, int]] = []
    for entry, raw in toc_entries(toc, index, what="eStargz TOC", skip=TOC_NAME):
        offset = raw.get("offset")
        if (
            entry.type == L.FILE
            and isinstance(offset, int)
            and entry.size
            and not raw.get("chunkSize")
        ):
            starts.append((offset, entry.path, entry.size))
    # A file's content runs from its offset to the next file's (or to the TOC).
    bounds = sorted({o for o, _, _ in starts} | {toc_offset})
    following = dict(zip(bounds, bounds[1:], strict=False))
    for offset, path, _size in starts:
        end = following.get(offset)
        if end is not None and 0 <= offset < end <= toc_offset:
            index.chunks[path] = [offset, end]
    # The TOC is itself a tar entry (so a plain pull extracts it): list it as a stream would.
    toc_entry = L.Entry(
        TOC_NAME, L.FILE, len(toc), 0o644, sha256="sha256:" + hashlib.sha256(toc).hexdigest()
    )
    index.entries.append(toc_entry)
    L.fill_hardlinks(index)
    index.notes.insert(0, "read from its eStargz TOC (Range requests), not streamed")
    return index


def toc_entries(
    toc: bytes, index: L.LayerIndex, *, what: str, skip: str | None = None
) -> list[tuple[L.Entry, dict[str, Any]]]:
    """The entries of a CRFS-style TOC (eStargz's `stargz.index.json`, zstd:chunked's
    manifest: the same JSON), into `index` (entries, whiteouts, opaque directories, a note on
    names escaping the root); returns each entry added with its raw TOC object."""
    try:
        data: Any = jsonlimits.loads(toc)
        raw_entries = data["entries"]
        if not isinstance(raw_entries, list):
            raise TypeError("entries is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise L.LayerError(f"{what} is not valid: {exc}") from None
    if len(raw_entries) > L.MAX_ENTRIES:
        raise L.LayerError(f"{what} lists more than {L.MAX_ENTRIES:,} entries")
    ints = L.Interner()
    i = ints.of
    added: list[tuple[L.Entry, dict[str, Any]]] = []
    escaped = 0
    for raw in raw_entries:
        if not isinstance(raw, dict):
            continue
        kind = _TYPES.get(str(raw.get("type")))
        if kind is None:  # "chunk" continuation entries and unknown types
            continue
        path = L.normalise(str(raw.get("name", "")))
        if path is None:
            escaped += 1
            continue
        if not path or path == skip:
            continue
        base, parent = posixpath.basename(path), posixpath.dirname(path)
        if base == L.OPAQUE_MARKER:
            index.opaque.append(parent)
            continue
        if base.startswith(L.WHITEOUT_PREFIX):
            index.whiteouts.append(posixpath.join(parent, base[len(L.WHITEOUT_PREFIX) :]))
            continue
        link = raw.get("linkName")
        if kind == L.HARDLINK:
            link = L.normalise(str(link or ""))
            if not link:
                escaped += 1
                continue
        elif kind == L.SYMLINK:
            link = str(link or "")
        else:
            link = None
        size = _int(raw.get("size")) if kind == L.FILE else 0
        sha = raw.get("digest")
        entry = L.Entry(
            path=path,
            type=kind,
            size=size,
            mode=i(_int(raw.get("mode")) & 0o7777),
            uid=i(_int(raw.get("uid"))),
            gid=i(_int(raw.get("gid"))),
            link=link,
            sha256=str(sha) if kind == L.FILE and sha else None,
            mtime=i(_mtime(raw.get("modtime"))),
            devmajor=_int(raw.get("devMajor")),
            devminor=_int(raw.get("devMinor")),
        )
        if kind == L.FILE and entry.sha256 is None and size == 0:
            entry = L.Entry(
                entry.path, entry.type, 0, entry.mode, entry.uid, entry.gid,
                sha256="sha256:" + hashlib.sha256(b"").hexdigest(), mtime=entry.mtime,
            )  # fmt: skip
        index.entries.append(entry)
        added.append((entry, raw))
    if escaped:
        index.notes.append(f"{escaped} TOC entries escaping the root ignored")
    return added


def _mtime(value: Any) -> int:
    """A TOC's RFC 3339 `modtime` as Unix seconds (0 when absent, bad or before 1970)."""
    when = parse_timestamp(value)
    if when is None or when.tzinfo is None:
        return 0
    try:
        return max(0, int(when.timestamp()))
    except (OverflowError, OSError, ValueError):
        return 0


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
