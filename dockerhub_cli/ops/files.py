"""Files inside images: `files`, `cat`, `extract`, `diff`, `waste` (issue 15).

Every layer is read at most once per machine: its `LayerIndex` (every entry's header fields
and content sha256, computed while the blob streams by) is cached by layer digest forever
(`remote/blobs.IndexStore`), so commands over warm layers make no layer requests at all. Only
`cat` and `extract` read layer bytes again, and then only the layers holding the files asked
for, stopping as soon as the last of them is out.

All blob reading goes through `open_blob()`: the registry, or a local OCI layout / archive
(`oci:`, `oci-archive:`, `docker-archive:`, through `clients.client_for`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import posixpath
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from dockerhub_cli import advice
from dockerhub_cli.errors import (
    DigestMismatchError,
    DockerHubError,
    DownloadLimitError,
    InvalidInputError,
    LocalFileError,
    NotFoundError,
    OfflineCacheMissError,
    UnsupportedMediaTypeError,
)
from dockerhub_cli.models.files import (
    DiffTotals,
    Download,
    ExtractResult,
    FileChange,
    FileContent,
    FileDiff,
    FileInfo,
    FileListing,
    LayerWaste,
    RewrittenLink,
    Skipped,
    WasteItem,
    WasteReport,
)
from dockerhub_cli.oci import layer as L
from dockerhub_cli.ops.images import platform_info, resolve_image
from dockerhub_cli.text import utf8_safe, visible

if TYPE_CHECKING:
    from dockerhub_cli.oci.manifest import Descriptor
    from dockerhub_cli.oci.reference import ImageReference
    from dockerhub_cli.ops.clients import Clients
    from dockerhub_cli.ops.images import ResolvedImage

# progress(label, bytes done, bytes expected or None); the CLI draws a bar on a terminal.
Progress = Callable[[str, int, int | None], None]

MAX_READ_BYTES = 2 * 1024**3  # cat: one file, spooled to disk past SPOOL_MEMORY
SPOOL_MEMORY = 8 * 1024 * 1024
MAX_EXTRACT_BYTES = 8 * 1024**3
MAX_WASTE_ITEMS = 20


@dataclass
class Budget:
    """Bytes downloaded by one command, the --max-download bound, and the progress callback."""

    max_download: int | None = None
    progress: Progress | None = None
    downloaded: int = 0
    local: int = 0  # of `downloaded`, bytes read from local files (oci layouts, archives)
    layers_read: int = 0
    layers_cached: int = 0
    label: str = ""
    expected: int | None = None

    def reserve(self, size: int, what: str) -> None:
        if self.max_download is not None and self.downloaded + size > self.max_download:
            raise DownloadLimitError(
                f"reading {what} ({size:,} bytes) would pass --max-download "
                f"{self.max_download:,} (already {self.downloaded:,})",
                hint="raise --max-download; layers read once are cached and cost nothing again",
            )

    def on_bytes(self, n: int) -> None:
        self.downloaded += n
        if self.max_download is not None and self.downloaded > self.max_download:
            raise DownloadLimitError(f"stopped at --max-download {self.max_download:,} bytes")
        if self.progress is not None:
            self.progress(self.label, self.downloaded, self.expected)

    def counter(self, ref: ImageReference) -> Callable[[int], None]:
        """The `on_bytes` of a reader of `ref`'s layers: a local source's bytes are read from
        disk, not downloaded (they count against --max-download all the same)."""
        if not ref.is_local:
            return self.on_bytes

        def on_local_bytes(n: int) -> None:
            self.local += n
            self.on_bytes(n)

        return on_local_bytes

    def settle(self, clients: Clients) -> Download:
        """The download facts of a finished command. One that read layers says so in its
        output, which a replay would misstate: such a run is not saved by the result cache
        (the next one, on warm indexes, is: its inputs are by digest, immutable)."""
        if self.downloaded or self.layers_read:
            clients.transport.note_not_reusable()
        return self.model()

    def model(self) -> Download:
        return Download(
            bytes_downloaded=self.downloaded,
            bytes_read_locally=self.local,
            layers_read=self.layers_read,
            layers_cached=self.layers_cached,
            max_download=self.max_download,
        )


def open_blob(
    clients: Clients,
    ref: ImageReference,
    descriptor: Descriptor,
    byte_range: tuple[int, int] | None = None,
) -> AbstractContextManager[L.Reader]:
    """The one place layer bytes come from: the registry, or a local OCI layout / archive
    (`clients.client_for`).

    `byte_range` (first, last), inclusive: only those bytes, or `RangeNotHonouredError`
    (local sources always say so: their layers are streamed whole, from disk)."""
    from dockerhub_cli.remote.blobs import RangeNotHonouredError, open_registry_blob

    if not ref.is_local:
        return open_registry_blob(
            clients.registry,
            ref,
            descriptor.digest,
            "layer",
            byte_range,
            max_bytes=descriptor.size if descriptor.size > 0 else None,
        )
    if byte_range is not None:
        raise RangeNotHonouredError("a local layer is read whole")
    from dockerhub_cli.remote.local_layout import LocalLayoutClient

    client = clients.client_for(ref)
    assert isinstance(client, LocalLayoutClient)
    handle = client.open_blob(ref, descriptor.digest, size=descriptor.size, what="layer")
    return closing(handle)


def _read_range(
    clients: Clients,
    ref: ImageReference,
    descriptor: Descriptor,
    start: int,
    end: int,
    budget: Budget,
) -> bytes:
    """Bytes [start, end) of a blob by one Range request (bounded by the request itself)."""
    length = end - start
    budget.reserve(length, f"part of layer {descriptor.digest[:19]}")
    with open_blob(clients, ref, descriptor, (start, end - 1)) as raw:
        reader = L.VerifyingReader(
            raw, None, expected_size=length, on_bytes=budget.counter(ref), what="a layer range"
        )
        parts = []
        while chunk := reader.read(L.CHUNK):
            parts.append(chunk)
    return b"".join(parts)


def _estargz_index(
    clients: Clients,
    ref: ImageReference,
    descriptor: Descriptor,
    toc_digest: str,
    budget: Budget,
) -> L.LayerIndex:
    """The index of an eStargz layer from its footer and TOC: two Range requests, verified
    by the manifest's TOC digest annotation."""
    from dockerhub_cli.oci import estargz

    size = descriptor.size
    budget.label, budget.expected = f"layer TOC {descriptor.digest[7:19]}", None
    footer = _read_range(clients, ref, descriptor, size - estargz.FOOTER_SIZE, size, budget)
    toc_offset = estargz.parse_footer(footer)
    end = size - estargz.FOOTER_SIZE
    if not 0 <= toc_offset < end or end - toc_offset > estargz.MAX_TOC_COMPRESSED:
        raise L.LayerError(f"eStargz footer of {descriptor.digest[:19]}: TOC offset out of range")
    member = _read_range(clients, ref, descriptor, toc_offset, end, budget)
    toc = estargz.read_toc(member, toc_digest)
    return estargz.index_from_toc(
        toc,
        digest=descriptor.digest,
        media_type=descriptor.media_type,
        blob_size=size,
        toc_offset=toc_offset,
    )


def _zstd_chunked_index(
    clients: Clients,
    ref: ImageReference,
    descriptor: Descriptor,
    location: tuple[str, int, int, int],
    budget: Budget,
) -> L.LayerIndex:
    """The index of a zstd:chunked layer from its TOC: one Range request, verified by the
    manifest's manifest-checksum annotation."""
    from dockerhub_cli.oci import zstdchunked

    checksum, offset, length, uncompressed = location
    compressed = _read_range(clients, ref, descriptor, offset, offset + length, budget)
    toc = zstdchunked.read_toc(compressed, checksum, uncompressed)
    return zstdchunked.index_from_toc(
        toc, digest=descriptor.digest, media_type=descriptor.media_type, blob_size=descriptor.size
    )


def _check_layer_type(descriptor: Descriptor, position: int) -> None:
    media = descriptor.media_type.lower()
    if media and "tar" not in media and "rootfs" not in media:
        raise UnsupportedMediaTypeError(
            f"layer {position} has media type {media!r}, not a filesystem layer",
            hint="this is an OCI artifact, not a container image",
        )


def layer_index(
    clients: Clients,
    ref: ImageReference,
    descriptor: Descriptor,
    position: int,
    budget: Budget,
    sink: L.FileSink | None = None,
) -> L.LayerIndex:
    """The file index of one layer: from the cache, else streamed once, verified, and cached."""
    from dockerhub_cli.remote.blobs import IndexStore

    store = IndexStore(clients.settings)
    cached = store.get(descriptor.digest)
    if cached is not None:
        budget.layers_cached += 1
        return cached
    what = f"layer {position} ({descriptor.digest[:19]})"
    if clients.settings.offline:
        raise OfflineCacheMissError(
            f"--offline: the file index of {what} is not cached",
            hint="run the same command once without --offline",
        )
    _check_layer_type(descriptor, position)
    from dockerhub_cli.oci.estargz import FOOTER_SIZE, TOC_DIGEST_ANNOTATION
    from dockerhub_cli.remote.blobs import RangeNotHonouredError

    toc_digest = descriptor.annotations.get(TOC_DIGEST_ANNOTATION)
    from dockerhub_cli.oci import zstdchunked

    chunked = zstdchunked.toc_location(descriptor.annotations, descriptor.size)
    lazy: Callable[[], L.LayerIndex] | None = None
    if chunked is not None:
        lazy = lambda: _zstd_chunked_index(clients, ref, descriptor, chunked, budget)  # noqa: E731
    elif toc_digest and descriptor.size > FOOTER_SIZE:
        lazy = lambda: _estargz_index(clients, ref, descriptor, toc_digest, budget)  # noqa: E731
    if lazy is not None:
        try:
            index = lazy()
        except RangeNotHonouredError:
            pass  # read it whole, like any other layer
        else:
            budget.layers_read += 1
            store.put(index)
            return index
    budget.reserve(descriptor.size, what)
    budget.label, budget.expected = f"layer {position}", descriptor.size
    with open_blob(clients, ref, descriptor) as raw:
        reader = L.VerifyingReader(
            raw,
            descriptor.digest,
            expected_size=descriptor.size,
            on_bytes=budget.counter(ref),
            what=what,
        )
        index = L.read_layer(reader, media_type=descriptor.media_type, what=what, sink=sink)
    budget.layers_read += 1
    store.put(index)
    return index


@dataclass
class ImageFiles:
    resolved: ResolvedImage
    layers: list[Descriptor]
    indexes: list[L.LayerIndex]
    fs: L.MergedFS = field(default_factory=L.MergedFS)

    @property
    def digest(self) -> str:
        return self.resolved.manifest_digest or self.resolved.digest

    def notes(self) -> list[str]:
        out = []
        for i, index in enumerate(self.indexes):
            out += [f"layer {i}: {n}" for n in index.notes]
        return out


class _Sinks(Protocol):
    def sink(self, layer: int) -> L.FileSink: ...


def load_image(
    clients: Clients,
    image: str,
    platform: str | None,
    budget: Budget,
    capture: _Sinks | None = None,
    fs: L.MergedFS | None = None,
) -> ImageFiles:
    """Resolve `image` and get the index of every layer; `capture` keeps the content of some
    paths as the layers not yet indexed stream by (so a cold `cat` or `extract` reads no layer
    twice). The layers are merged into `fs` (a new one by default) one by one, each before the
    next is read: a capture can look at the filesystem below the layer it is handed."""
    resolved = resolve_image(clients, image, platform, with_config=False)
    manifest = resolved.manifest
    assert manifest is not None  # require_platform=True raised otherwise
    if resolved.platform is None:
        resolved = _with_config(clients, resolved)
    ref = resolved.pinned
    merged = fs if fs is not None else L.MergedFS()
    indexes = []
    for i, d in enumerate(manifest.layers):
        indexes.append(
            layer_index(clients, ref, d, i, budget, capture.sink(i) if capture else None)
        )
        merged.apply(i, indexes[-1])
    return ImageFiles(resolved, list(manifest.layers), indexes, merged)


def _with_config(clients: Clients, resolved: ResolvedImage) -> ResolvedImage:
    """A single-manifest image names its platform only in its config: one GET by digest,
    cached forever (an artifact's config that is not an image config leaves it unknown)."""
    from dataclasses import replace

    from dockerhub_cli.ops.images import platform_config

    assert resolved.manifest is not None
    config = platform_config(clients, resolved.reference, resolved.manifest)
    return resolved if config is None else replace(resolved, config=config)


class Capture:
    """The content of `path` from the highest layer streamed so far that holds it (spooled;
    an earlier layer's copy is dropped when a later one writes the path)."""

    def __init__(self, path: str) -> None:
        self.path = path
        # typed as displayed (`\\xff`)? then the real name is known only once indexed
        self.shown = visible(path) if "\\" in path else None
        self.layer: int | None = None
        self.spool: IO[bytes] | None = None

    def sink(self, layer: int) -> L.FileSink:
        def take(entry: L.Entry) -> IO[bytes] | None:
            if entry.path != self.path and (
                self.shown is None or visible(entry.path) != self.shown
            ):
                return None
            self.close()
            self.layer = layer
            self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115
            return self.spool

        return take

    def take(self, layer: int) -> IO[bytes] | None:
        """The spool if it holds `layer`'s copy (the caller owns it then), else None."""
        if self.layer != layer or self.spool is None:
            return None
        spool, self.spool, self.layer = self.spool, None, None
        return spool

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
        self.spool, self.layer = None, None


def _info(entry: L.Entry, layer: int) -> FileInfo:
    return FileInfo(
        path=entry.path,
        type=entry.type,  # type: ignore[arg-type]
        size=entry.size,
        mode=L.mode_string(entry),
        mode_bits=entry.mode,
        uid=entry.uid,
        gid=entry.gid,
        link=entry.link,
        sha256=entry.sha256,
        layer=layer,
    )


def clean_path(path: str | None) -> str:
    """A user's path as an index path: '/etc/' -> 'etc'; '/' or '' -> ''."""
    if not path:
        return ""
    clean = posixpath.normpath("/" + path.strip()).lstrip("/")
    return "" if clean == "." else clean


def real_path(fs: L.MergedFS, wanted: str) -> str:
    """`wanted` as the image names it: itself when it exists (also through symlinks), else the
    name that is displayed as `wanted` (a name with control characters or bytes that are not
    UTF-8, typed as `files` showed it: `\\x1b`, `\\xff`), else `wanted` unchanged."""
    if not wanted or L.lookup(fs, wanted) is not None or L.resolve(fs, wanted) is not None:
        return wanted
    return L.shown_as(fs, wanted) or wanted


def _matches(entry: L.Entry, pattern: str) -> bool:
    if "/" in pattern:
        return fnmatch.fnmatchcase("/" + entry.path, "/" + pattern.lstrip("/"))
    return fnmatch.fnmatchcase(posixpath.basename(entry.path), pattern)


# -- files ---------------------------------------------------------------------------------------


def list_files(
    clients: Clients,
    image: str,
    path: str | None = None,
    *,
    layer: int | None = None,
    find: str | None = None,
    platform: str | None = None,
    max_download: int | None = None,
    progress: Progress | None = None,
) -> FileListing:
    listing, rows = list_files_streamed(
        clients, image, path, layer=layer, find=find, platform=platform,
        max_download=max_download, progress=progress,
    )  # fmt: skip
    listing.files = list(rows)
    return listing


def list_files_streamed(
    clients: Clients,
    image: str,
    path: str | None = None,
    *,
    layer: int | None = None,
    find: str | None = None,
    platform: str | None = None,
    max_download: int | None = None,
    progress: Progress | None = None,
) -> tuple[FileListing, Iterator[FileInfo]]:
    """`list_files` with its rows apart: the listing (every field but `files`, which is empty)
    and an iterator that makes each `FileInfo` as it is asked for. A front-end writing JSON
    streams the rows (a 110k-entry listing as models costs 1.3 kB a row: more than the index)."""
    budget = Budget(max_download, progress)
    files = load_image(clients, image, platform, budget)
    where = real_path(files.fs, clean_path(path))
    notes = files.notes()
    deleted: list[str] = []
    opaque: list[str] = []
    chosen: list[L.Placed]
    if layer is not None:
        if not 0 <= layer < len(files.indexes):
            raise InvalidInputError(
                f"--layer must be between 0 and {len(files.indexes) - 1} (got {layer})"
            )
        index = files.indexes[layer]
        chosen = [
            L.Placed(e, layer)
            for e in index.entries
            if _under(e.path, where) and (not find or _matches(e, find))
        ]
        deleted = [p for p in index.whiteouts if _under(p, where)]
        opaque = [p for p in index.opaque if _under(p, where)]
    else:
        placed = files.fs.get(where) if where else None
        if where and placed is None:
            raise NotFoundError(
                f"/{visible(where)} does not exist in {files.resolved.reference}",
                hint=f"list a directory above it, or search with {advice.param('find', 'GLOB')}",
            )
        if find:
            chosen = [p for p in files.fs.walk(where) if _matches(p.entry, find)]
        elif where and placed is not None and placed.entry.type != L.DIR:
            chosen = [placed]
        elif where:
            chosen = files.fs.listdir(where)
        else:
            chosen = list(files.fs.walk())
    listing = FileListing(
        reference=str(files.resolved.reference),
        digest=files.digest,
        platform=platform_info(files.resolved.platform),
        path=where,
        layer=layer,
        find=find,
        files=[],
        total_files=len(chosen),
        total_size=sum(p.entry.size for p in chosen if p.entry.type == L.FILE),
        deleted=deleted,
        opaque=opaque,
        layers=len(files.indexes),
        download=budget.settle(clients),
        notes=notes,
    )
    return listing, (_info(p.entry, p.layer) for p in chosen)


def _under(path: str, where: str) -> bool:
    return not where or path == where or path.startswith(where + "/")


# -- cat -----------------------------------------------------------------------------------------


def _content_source(files: ImageFiles, path: str) -> tuple[L.Placed, str, int]:
    """The entry for `path` (symlinks followed inside the image), and where its bytes are:
    (entry, path of the member holding the content, layer)."""
    placed = L.resolve(files.fs, path)
    reference = files.resolved.reference
    if placed is None:
        parent = posixpath.dirname(path)
        raise NotFoundError(
            f"/{visible(path)} does not exist in {reference}",
            hint=f"list the directory with {advice.command('files', f'{reference} /{parent}')}",
        )
    entry = placed.entry
    if entry.type == L.HARDLINK and entry.link:
        own = {e.path: e for e in files.indexes[placed.layer].entries}
        if entry.link in own and own[entry.link].type == L.FILE:
            return placed, entry.link, placed.layer
        target = files.fs.get(entry.link)
        if target is None or target.entry.type != L.FILE:
            raise NotFoundError(f"{path}: its hard link target {entry.link} is missing")
        return placed, entry.link, target.layer
    if entry.type != L.FILE:
        kind = "directory" if entry.type == L.DIR else entry.type
        raise InvalidInputError(
            f"/{visible(path)} is a {kind}, not a regular file",
            hint=f"list it with {advice.command('files', f'{reference} /{path}')}"
            if entry.type == L.DIR
            else None,
        )
    return placed, placed.member or entry.path, placed.layer


def _fetch_members(
    clients: Clients,
    files: ImageFiles,
    layer: int,
    wanted: dict[str, Callable[[L.Entry], IO[bytes] | None]],
    budget: Budget,
) -> dict[str, str]:
    """Stream layer `layer` until every member in `wanted` has gone to its sink; returns the
    sha256 of each as read (checked by the caller against the verified index)."""
    descriptor = files.layers[layer]
    if clients.settings.offline:
        raise OfflineCacheMissError(
            f"--offline: reading file content needs layer {layer} from the network"
        )
    hashes: dict[str, str] = {}
    chunks = files.indexes[layer].chunks
    if chunks and all(m in chunks for m in wanted):  # a TOC: one Range request per file
        own = {e.path: e for e in files.indexes[layer].entries}
        for member, make in wanted.items():
            hashes[member] = _read_chunk(
                clients, files, descriptor, own[member], chunks, make, budget
            )
        budget.layers_read += 1
        return hashes
    remaining = set(wanted)
    # A tar may hold a path more than once; its last entry is the one the index (and every
    # runtime) keeps: the content is that copy's, so the earlier ones are skipped.
    copies = Counter(e.path for e in files.indexes[layer].entries if e.path in remaining)

    def sink(entry: L.Entry) -> IO[bytes] | None:
        make = wanted.get(entry.path)
        return make(entry) if make is not None and copies[entry.path] <= 1 else None

    def stop_after(entry: L.Entry) -> bool:
        if entry.path in remaining:
            copies[entry.path] -= 1
            if copies[entry.path] <= 0:
                remaining.discard(entry.path)
                hashes[entry.path] = entry.sha256 or ""
        return not remaining

    what = f"layer {layer} ({descriptor.digest[:19]})"
    budget.reserve(0, what)
    budget.label, budget.expected = f"layer {layer}", descriptor.size
    with open_blob(clients, files.resolved.pinned, descriptor) as raw:
        reader = L.VerifyingReader(
            raw,
            None,
            expected_size=None,
            max_bytes=descriptor.size,
            on_bytes=budget.counter(files.resolved.pinned),
        )
        L.index_layer(
            reader,
            media_type=descriptor.media_type,
            what=what,
            sink=sink,
            stop_after=stop_after,
        )
    budget.layers_read += 1
    if remaining:
        raise DigestMismatchError(
            f"{what} no longer holds {sorted(remaining)[0]} although its index says so",
            hint="the cached file index is stale or the registry changed the blob; "
            "run with --no-cache",
        )
    return hashes


def _read_chunk(
    clients: Clients,
    files: ImageFiles,
    descriptor: Descriptor,
    entry: L.Entry,
    chunks: dict[str, list[int]],
    make: Callable[[L.Entry], IO[bytes] | None],
    budget: Budget,
) -> str:
    """One eStargz or zstd:chunked file: its gzip member / zstd frames by a Range request,
    decompressed only as far as the file's size; returns the sha256 of the bytes written (the
    caller checks it against the verified TOC's)."""
    import hashlib
    import io

    start, end = chunks[entry.path]
    data = _read_range(clients, files.resolved.pinned, descriptor, start, end, budget)
    stream = L.decompressed(io.BytesIO(data), max_out=entry.size + 16 * 1024 * 1024)
    out = make(entry)
    hasher = hashlib.sha256()
    remaining = entry.size
    while remaining > 0:
        piece = stream.read(min(L.CHUNK, remaining))
        if not piece:
            raise L.LayerError(f"{visible(entry.path)}: its compressed chunk ends early")
        remaining -= len(piece)
        hasher.update(piece)
        if out is not None:
            out.write(piece)
    return f"sha256:{hasher.hexdigest()}"


def read_file(
    clients: Clients,
    image: str,
    path: str,
    *,
    platform: str | None = None,
    max_download: int | None = None,
    max_bytes: int = MAX_READ_BYTES,
    progress: Progress | None = None,
) -> tuple[FileContent, IO[bytes]]:
    """One file's bytes, verified against the layer index, in a spooled temporary file (at
    position 0; the caller closes it), and what is known about it."""
    budget = Budget(max_download, progress)
    wanted = clean_path(path)
    capture = Capture(wanted)
    try:
        files = load_image(clients, image, platform, budget, capture)
        wanted = real_path(files.fs, wanted)
        placed, member, layer = _content_source(files, wanted)
        captured = capture.take(layer) if member == wanted else None
    finally:
        capture.close()
    if placed.entry.size > max_bytes:
        if captured is not None:
            captured.close()
        raise InvalidInputError(
            f"{wanted} is {placed.entry.size:,} bytes, more than the {max_bytes:,}-byte limit"
        )
    spool: IO[bytes] = captured or tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
    try:
        if captured is not None:  # read while its layer was indexed (digest verified then)
            hashes = {member: placed.entry.sha256 or ""}
        else:
            hashes = _fetch_members(clients, files, layer, {member: lambda _e: spool}, budget)
        if hashes.get(member) != placed.entry.sha256:
            raise DigestMismatchError(
                f"{wanted}: its content does not match the sha256 in the layer index",
                hint="the registry served different bytes than before; nothing was written",
            )
        spool.seek(0)
        head = spool.read(8192)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    binary = is_binary(head)
    meta = FileContent(
        reference=str(files.resolved.reference),
        digest=files.digest,
        platform=platform_info(files.resolved.platform),
        path=wanted,
        resolved_path=placed.entry.path,
        layer=layer,
        size=placed.entry.size,
        sha256=placed.entry.sha256,
        binary=binary,
        download=budget.model(),
        notes=files.notes(),
    )
    return meta, spool


def is_binary(head: bytes) -> bool:
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 4  # a multi-byte character cut at the end is fine
    return False


def read_text(
    clients: Clients,
    image: str,
    path: str,
    *,
    platform: str | None = None,
    max_chars: int = 20_000,
    max_download: int | None = None,
    progress: Progress | None = None,
) -> FileContent:
    """A text file's content, cut at `max_chars` (for the MCP tool); binary files refused."""
    meta, spool = read_file(
        clients, image, path, platform=platform, max_download=max_download, progress=progress
    )
    with spool:
        if meta.binary:
            raise InvalidInputError(
                f"{meta.path} is a binary file ({meta.size:,} bytes); only text is returned",
                hint="use `dockerhub cat` or `dockerhub extract` for binary files",
            )
        raw = spool.read(max_chars * 4 + 4)
    text = raw.decode("utf-8", errors="replace")
    truncated = len(text) > max_chars or meta.size > len(raw)
    text = text[:max_chars]
    notes = list(meta.notes)
    if truncated:
        notes.append(f"cut at {max_chars:,} characters of {meta.size:,} bytes")
    return meta.model_copy(
        update={
            "text": text,
            "truncated": truncated,
            "bytes_returned": len(text.encode("utf-8")),
            "notes": notes,
        }
    )


# -- extract -------------------------------------------------------------------------------------


Opener = Callable[[Path], IO[bytes]]


def open_for_write(target: Path) -> IO[bytes]:
    """A new file at `target`, never through a symlink (0600 until its content is verified)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(target, flags, 0o600), "wb")


def extract_files(
    clients: Clients,
    image: str,
    paths: list[str],
    directory: Path,
    *,
    platform: str | None = None,
    devices: bool = False,
    max_download: int | None = None,
    max_bytes: int = MAX_EXTRACT_BYTES,
    progress: Progress | None = None,
    opener: Opener = open_for_write,
) -> ExtractResult:
    """`extract_files_streamed` with every row of `written` in the result."""
    result, rows = extract_files_streamed(
        clients, image, paths, directory, platform=platform, devices=devices,
        max_download=max_download, max_bytes=max_bytes, progress=progress, opener=opener,
    )  # fmt: skip
    result.written = list(rows)
    return result


def extract_files_streamed(
    clients: Clients,
    image: str,
    paths: list[str],
    directory: Path,
    *,
    platform: str | None = None,
    devices: bool = False,
    max_download: int | None = None,
    max_bytes: int = MAX_EXTRACT_BYTES,
    progress: Progress | None = None,
    opener: Opener = open_for_write,
) -> tuple[ExtractResult, Iterator[FileInfo]]:
    """Write `paths` (files, or directories with everything under them) into `directory`.

    Safe by construction: index paths are relative and free of `..`; every write is checked
    to land inside `directory` after resolving what is on disk; symlinks are created last, and
    one whose target is absolute or climbs with `..` is rewritten relative to its own place,
    resolved as in the image (chroot semantics: `/usr/bin/y` from `etc/alternatives/x` becomes
    `../../usr/bin/y`), so it means inside `directory` what it meant inside the image and
    never leads out; device files only with `devices`; set-id bits are dropped and owners are
    not changed. A write that fails (disk full, permission denied, a path component that is a
    file) is a LocalFileError naming the path (exit 9); files not yet complete and verified
    are removed.

    Everything is written before this returns; the result comes with its `written` rows
    apart (empty in it; `entries_written` counts them): an iterator making each `FileInfo`
    as it is asked for, from the index entries already in memory. A 110k-file rootfs as
    models costs ~1.3 kB a row, more than its index; a front-end streams them.
    """
    root = Path(directory)
    try:  # before any download: an unusable -o fails fast
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot use {directory} as the output directory: {exc.strerror or exc}",
            hint="give a directory that exists or can be created (-o DIR)",
        ) from None
    budget = Budget(max_download, progress)
    real_root = root.resolve()
    staging = Staging(real_root, [clean_path(p) for p in paths], opener, max_bytes)
    try:
        files = load_image(clients, image, platform, budget, staging, fs=staging.below)
        staging.done()
        return _extract_loaded(
            clients, files, paths, root, real_root, budget, devices, max_bytes, opener, staging
        )
    finally:
        staging.close()


def _extract_loaded(
    clients: Clients,
    files: ImageFiles,
    paths: list[str],
    root: Path,
    real_root: Path,
    budget: Budget,
    devices: bool,
    max_bytes: int,
    opener: Opener,
    staging: Staging,
) -> tuple[ExtractResult, Iterator[FileInfo]]:
    chosen: dict[str, L.Placed] = {}
    for raw_path in paths:
        wanted = real_path(files.fs, clean_path(raw_path))
        placed = L.lookup(files.fs, wanted) if wanted else None
        if wanted and placed is None:
            raise NotFoundError(
                f"/{visible(wanted)} does not exist in {files.resolved.reference}",
                hint="list the directory with "
                + advice.command(
                    "files", f"{files.resolved.reference} /{posixpath.dirname(wanted)}"
                ),
            )
        for p in files.fs.walk(placed.entry.path if placed else ""):
            chosen[p.entry.path] = p
    total = sum(p.entry.size for p in chosen.values() if p.entry.type in (L.FILE, L.HARDLINK))
    if total > max_bytes:
        raise InvalidInputError(
            f"extracting would write {total:,} bytes, more than --max-bytes {max_bytes:,}"
        )
    written: list[L.Placed] = []  # the index's own objects: no copy per row
    skipped: list[Skipped] = []
    rewritten: list[RewrittenLink] = []
    try:
        _extract_into(
            clients, files, chosen, real_root, budget, devices, opener, written, skipped,
            rewritten, staging,
        )  # fmt: skip
    except OSError as exc:
        raise write_error(exc, exc.filename or root) from None
    notes = files.notes()
    notes.append("owners are not changed; set-user/group-ID bits are dropped")
    written.sort(key=lambda p: utf8_safe(p.entry.path))  # the order of FileInfo.path
    result = ExtractResult(
        reference=str(files.resolved.reference),
        digest=files.digest,
        platform=platform_info(files.resolved.platform),
        directory=str(root),
        written=[],
        entries_written=len(written),
        skipped=skipped,
        links_rewritten=rewritten,
        bytes_written=sum(p.entry.size for p in written if p.entry.type in (L.FILE, L.HARDLINK)),
        download=budget.model(),
        notes=notes,
    )
    return result, (_info(p.entry, p.layer) for p in written)


def write_error(exc: OSError, path: object) -> LocalFileError:
    """One line naming the path and what to do (exit 9), for any failed write."""
    import errno

    hints = {
        errno.ENOSPC: "the disk is full: free some space, or extract fewer paths",
        errno.EDQUOT: "the disk quota is used up: free some space, or extract fewer paths",
        errno.EACCES: "check the permissions of the output directory",
        errno.EPERM: "check the permissions of the output directory",
        errno.EROFS: "the output directory is on a read-only file system",
        errno.ENOTDIR: "a path component is a file in the output directory; use an empty one",
        errno.EEXIST: "something of that name is in the way; use an empty output directory",
    }
    return LocalFileError(
        f"cannot write {path}: {exc.strerror or exc}",
        hint=hints.get(exc.errno or 0, "check the output directory"),
    )


class _Writer:
    """The file a member is extracted into: a failed write is a LocalFileError naming the path
    (an OSError would read as a corrupt layer to the tar walk). Closing twice is harmless."""

    def __init__(self, fh: IO[bytes], target: Path) -> None:
        self.fh, self.target = fh, target
        self.closed = False

    def write(self, data: bytes) -> int:
        try:
            return self.fh.write(data)
        except OSError as exc:
            raise write_error(exc, self.target) from None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.fh.close()
        except OSError as exc:  # a delayed ENOSPC comes out of the last flush
            raise write_error(exc, self.target) from None


class _HashingWriter(_Writer):
    """A staged file being written: its content hashed as written (checked against the
    index again before it is used)."""

    def __init__(self, fh: IO[bytes], target: Path) -> None:
        import hashlib

        super().__init__(fh, target)
        self.hasher = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        self.size += len(data)
        return super().write(data)


class Staging:
    """What a cold `extract` may write, kept from the layers' one read: while a layer is
    indexed, each regular file under a wanted path (as typed, or through the symlinks of the
    layers below) goes into a private directory inside the output directory (same file
    system: placing it is a rename). A lower layer's copy is dropped when a later layer
    writes the path. At most `limit` bytes in all (--max-bytes), on disk, never in memory;
    what is not staged (past the limit, reached through a link in its own layer, a hard link's
    target elsewhere) is read from its layer afterwards, as for a warm index.

    A staged file is used only once its layer's digest was verified (`load_image` returned),
    when it is still the copy the merged filesystem names, and when its sha256 as written
    matches the index's; the directory is removed in every case (`close`). One small record
    per staged file is kept in memory (layer, number, sha256, size)."""

    def __init__(self, root: Path, wanted: list[str], opener: Opener, limit: int) -> None:
        self.root, self.wanted, self.opener, self.limit = root, wanted, opener, limit
        self.below = L.MergedFS()  # load_image merges each layer into it before the next
        self.dir: Path | None = None
        # member -> (layer, file number in self.dir, sha256 as written, size written)
        self.got: dict[str, tuple[int, int, str, int]] = {}
        self.held = 0
        self.count = 0
        self.current: tuple[str, int, int, _HashingWriter] | None = None
        self.used = 0  # members placed from here (tests, notes)

    def _prefixes(self) -> tuple[set[str], set[str]]:
        found: set[str] = set()
        for wanted in self.wanted:
            found.add(wanted)
            real = L.real_path(self.below, wanted, follow_last=False)
            if real is not None:
                found.add(real)
        return found, {visible(p) for p in found if "\\" in p}

    def sink(self, layer: int) -> L.FileSink:
        self._finish_current()
        prefixes, shown = self._prefixes()
        everything = "" in prefixes
        parents: dict[str, str] = {}

        def under(path: str) -> bool:
            return any(_under(path, p) for p in prefixes) or bool(
                shown and any(_under(visible(path), p) for p in shown)
            )

        def matches(path: str) -> bool:
            if everything or under(path):
                return True
            parent, _, base = path.rpartition("/")
            if not parent:
                return False
            real = parents.get(parent)
            if real is None:  # a directory reached through a symlink of a lower layer
                real = parents[parent] = L.real_path(self.below, parent) or parent
            return real != parent and under(f"{real}/{base}")

        def take(entry: L.Entry) -> IO[bytes] | None:
            self._finish_current()
            if not matches(entry.path):
                return None
            self._drop(entry.path)
            if self.held + entry.size > self.limit:
                return None  # read from its layer later, if it is still the one in use
            shown_as = self.root / entry.path  # what an error names
            try:
                if self.dir is None:
                    self.dir = Path(tempfile.mkdtemp(prefix=".dockerhub-extract-", dir=self.root))
                self.count += 1
                writer = _HashingWriter(self.opener(self.dir / str(self.count)), shown_as)
            except OSError as exc:
                raise write_error(exc, shown_as) from None
            self.held += entry.size
            self.current = (entry.path, layer, self.count, writer)
            return writer  # type: ignore[return-value]  # write() is all the tar walk uses

        return take

    def _finish_current(self) -> None:
        current, self.current = self.current, None
        if current is not None:
            member, layer, number, writer = current
            self.got[member] = (layer, number, "", writer.size)  # removed if close fails
            writer.close()
            self.got[member] = (layer, number, f"sha256:{writer.hasher.hexdigest()}", writer.size)

    def _drop(self, member: str) -> None:
        old = self.got.pop(member, None)
        if old is not None and self.dir is not None:
            self.held -= old[3]
            with contextlib.suppress(OSError):
                (self.dir / str(old[1])).unlink()

    def done(self) -> None:
        """Every layer was read and verified."""
        self._finish_current()

    def place(self, layer: int, members: dict[str, list[L.Placed]], root: Path) -> dict[str, Path]:
        """Move the staged members of `layer` to their places under `root`; {member: path}."""
        moved: dict[str, Path] = {}
        for member, placed_list in members.items():
            got = self.got.get(member)
            entry = placed_list[0].entry
            if got is None or got[0] != layer or self.dir is None:
                continue
            _layer, number, sha256, size = got
            if size != entry.size or sha256 != entry.sha256:
                continue  # not the bytes the index names: read them from the layer
            del self.got[member]
            target = _inside(root, entry.path)
            if target is None:
                continue
            staged = self.dir / str(number)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(staged, target)
            except OSError as exc:
                import errno

                if exc.errno != errno.EXDEV:
                    raise write_error(exc, target) from None
                _copy_staged(staged, target, self.opener)  # a mount point inside root
            moved[member] = target
            self.used += 1
        return moved

    def close(self) -> None:
        import shutil

        current, self.current = self.current, None
        if current is not None:
            with contextlib.suppress(DockerHubError):
                current[3].close()
        self.got.clear()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def _copy_staged(staged: Path, target: Path, opener: Opener) -> None:
    import shutil

    try:
        with open(staged, "rb") as src:
            out = _Writer(opener(target), target)
            try:
                shutil.copyfileobj(src, out)  # type: ignore[misc]
            finally:
                out.close()
    except (OSError, DockerHubError) as exc:
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise write_error(exc, target) from None
        raise


def _extract_into(
    clients: Clients,
    files: ImageFiles,
    chosen: dict[str, L.Placed],
    real_root: Path,
    budget: Budget,
    devices: bool,
    opener: Opener,
    written: list[L.Placed],
    skipped: list[Skipped],
    rewritten: list[RewrittenLink],
    staging: Staging | None = None,
) -> None:
    by_layer: dict[int, dict[str, list[L.Placed]]] = {}
    for p in sorted(chosen.values(), key=lambda x: x.entry.path):
        e = p.entry
        target = _inside(real_root, e.path)
        if target is None:
            skipped.append(Skipped(path=e.path, reason="would land outside the directory"))
            continue
        if e.type == L.DIR:
            target.mkdir(parents=True, exist_ok=True)
            os.chmod(target, (e.mode & 0o777) | 0o700)
            written.append(p)
        elif e.type in (L.FILE, L.HARDLINK):
            _placed, member, layer = _content_source(files, e.path)
            by_layer.setdefault(layer, {}).setdefault(member, []).append(p)
        elif e.type in (L.CHAR, L.BLOCK, L.FIFO):
            if not devices:
                skipped.append(Skipped(path=e.path, reason=f"{e.type} device (use --devices)"))
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                if e.type == L.FIFO:
                    os.mkfifo(target, e.mode & 0o777)
                else:
                    import stat as _stat

                    kind = _stat.S_IFCHR if e.type == L.CHAR else _stat.S_IFBLK
                    os.mknod(target, kind | (e.mode & 0o777), os.makedev(e.devmajor, e.devminor))
                written.append(p)
            except OSError as exc:
                skipped.append(Skipped(path=e.path, reason=f"cannot create: {exc.strerror}"))
    for layer, members in sorted(by_layer.items()):
        _extract_layer(clients, files, layer, members, real_root, budget, written, opener, staging)
    for p in sorted(chosen.values(), key=lambda x: x.entry.path):
        if p.entry.type != L.SYMLINK:
            continue
        link, reason = safe_link(files.fs, p.entry)
        if link is not None and not reason:
            reason = _make_symlink(real_root, p.entry, link)
        if reason:
            skipped.append(Skipped(path=p.entry.path, reason=reason))
            continue
        written.append(p)
        if link != p.entry.link:
            rewritten.append(
                RewrittenLink(path=p.entry.path, link=p.entry.link or "", written=link or "")
            )


def _inside(root: Path, rel: str) -> Path | None:
    """root/rel if, with whatever is on disk resolved, it stays inside root."""
    target = root / rel
    parent = target.parent.resolve()
    if parent != root and root not in parent.parents:
        return None
    if target.is_symlink():
        target.unlink()  # never write through a link that is already there
    return parent / target.name


def _extract_layer(
    clients: Clients,
    files: ImageFiles,
    layer: int,
    members: dict[str, list[L.Placed]],
    root: Path,
    budget: Budget,
    written: list[L.Placed],
    opener: Opener = open_for_write,
    staging: Staging | None = None,
) -> None:
    moved = staging.place(layer, members, root) if staging is not None else {}
    members_left = {m: p for m, p in members.items() if m not in moved}
    if members_left:
        _fetch_into(clients, files, layer, members_left, root, budget, opener, moved)
    for member, placed_list in members.items():
        first = placed_list[0]
        if member not in moved:
            continue
        target = moved[member]
        os.chmod(target, first.entry.mode & 0o777)
        written.append(first)
        for other in placed_list[1:]:  # more paths with the same content (hard links)
            dest = _inside(root, other.entry.path)
            if dest is None:
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.unlink(missing_ok=True)
            os.link(target, dest)
            written.append(other)


def _fetch_into(
    clients: Clients,
    files: ImageFiles,
    layer: int,
    members: dict[str, list[L.Placed]],
    root: Path,
    budget: Budget,
    opener: Opener,
    done: dict[str, Path],
) -> None:
    """Read `layer` (again: its index was cached, or its files were not staged) and write
    `members` into `root`, verified against the index; adds each written member to `done`."""
    opened: dict[str, tuple[_Writer, Path]] = {}
    current: list[_Writer] = []  # the tar walk writes one member whole, then the next

    def make(member: str) -> Callable[[L.Entry], IO[bytes] | None]:
        def sink(_entry: L.Entry) -> IO[bytes] | None:
            while current:  # one file open at a time: 20,000 files in a layer are no EMFILE
                current.pop().close()
            first = members[member][0]
            target = _inside(root, first.entry.path)
            if target is None:
                return None
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                fh = _Writer(opener(target), target)
            except OSError as exc:
                raise write_error(exc, target) from None
            opened[member] = (fh, target)
            current.append(fh)
            return fh  # type: ignore[return-value]  # write() is all the tar walk uses

        return sink

    verified: set[str] = set()
    try:
        try:
            hashes = _fetch_members(clients, files, layer, {m: make(m) for m in members}, budget)
        finally:
            errors = []
            for fh, _ in opened.values():
                try:
                    fh.close()
                except DockerHubError as exc:
                    errors.append(exc)
            if errors:
                raise errors[0]
        for member, placed_list in members.items():
            if member in opened and hashes.get(member) != placed_list[0].entry.sha256:
                raise DigestMismatchError(
                    f"{placed_list[0].entry.path}: its content does not match the layer "
                    "index; removed what this layer wrote"
                )
        verified = set(opened)
    finally:
        for member, (_fh, target) in opened.items():  # partial or unverified: not left behind
            if member not in verified:
                with contextlib.suppress(OSError):
                    target.unlink(missing_ok=True)
    done.update((member, target) for member, (_fh, target) in opened.items())


def safe_link(fs: L.MergedFS, entry: L.Entry) -> tuple[str | None, str | None]:
    """(the target to write for symlink `entry`, or None and why it is not created).

    A target that only descends (relative, no `..`) is kept as it is. Any other is resolved
    as in the image (chroot semantics: `..` stops at the root, absolute targets start at it,
    symlinks on the way followed, the last component kept) and written relative to the link's
    own directory, so it never leads outside the extraction directory."""
    link = entry.link or ""
    if not link:
        return None, "empty symlink target (not created)"
    parts = link.split("/")
    if not link.startswith("/") and ".." not in parts:
        return link, None
    parent = posixpath.dirname(entry.path)
    resolved = L.real_path(fs, link, parent, follow_last=False)
    if resolved is None:
        return None, f"symlink target {link!r} loops (not created)"
    return posixpath.relpath("/" + resolved, "/" + parent), None


def _make_symlink(root: Path, entry: L.Entry, link: str) -> str | None:
    target = _inside(root, entry.path)
    if target is None:
        return "would land outside the directory"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        return "a file of that name was already written"
    os.symlink(link, target)
    return None


# -- diff ----------------------------------------------------------------------------------------


def diff_files(
    clients: Clients,
    image1: str,
    image2: str,
    path: str | None = None,
    *,
    platform: str | None = None,
    max_download: int | None = None,
    progress: Progress | None = None,
) -> FileDiff:
    from dockerhub_cli.ops.files_packages import DbCapture, package_diff

    budget = Budget(max_download, progress)
    where = clean_path(path)
    captures = (DbCapture(), DbCapture()) if not where else (None, None)
    a = load_image(clients, image1, platform, budget, captures[0])
    b = load_image(clients, image2, platform, budget, captures[1])
    changes: list[FileChange] = []
    totals = DiffTotals()
    for p, x, y, fields in L.diff(a.fs, b.fs, where):
        before = _info(x.entry, x.layer) if x else None
        after = _info(y.entry, y.layer) if y else None
        if x is None:
            change = "added"
            totals.added += 1
            totals.bytes_added += y.entry.size if y and y.entry.type == L.FILE else 0
        elif y is None:
            change = "removed"
            totals.removed += 1
            totals.bytes_removed += x.entry.size if x.entry.type == L.FILE else 0
        else:
            change = "changed"
            totals.changed += 1
        changes.append(
            FileChange(path=p, change=change, fields=fields, before=before, after=after)  # type: ignore[arg-type]
        )
    totals.size_delta = _content(b.fs, where) - _content(a.fs, where)
    notes = [f"A: {n}" for n in a.notes()] + [f"B: {n}" for n in b.notes()]
    packages = None
    if where:
        notes.append("packages are compared only for the whole image (no PATH)")
    else:
        readers = (_Reader(clients, a, budget), _Reader(clients, b, budget))
        packages, package_notes = package_diff(
            clients, (image1, image2), readers, captures, platform
        )
        notes += package_notes
    return FileDiff(
        image1=str(a.resolved.reference),
        image2=str(b.resolved.reference),
        digest1=a.digest,
        digest2=b.digest,
        platform1=platform_info(a.resolved.platform),
        platform2=platform_info(b.resolved.platform),
        path=where,
        changes=changes,
        total_changes=len(changes),
        totals=totals,
        packages=packages,
        download=budget.settle(clients),
        notes=notes,
    )


@dataclass
class _Reader:
    """An image loaded here, as `files_packages` reads it (`ImageReader`)."""

    clients: Clients
    files: ImageFiles
    budget: Budget

    @property
    def fs(self) -> L.MergedFS:
        return self.files.fs

    @property
    def digest(self) -> str:
        return self.files.digest

    def locate(self, path: str) -> tuple[L.Placed, str, int]:
        return _content_source(self.files, path)

    def fetch(
        self, layer: int, sinks: dict[str, Callable[[L.Entry], IO[bytes] | None]]
    ) -> dict[str, str]:
        return _fetch_members(self.clients, self.files, layer, sinks, self.budget)


def _content(fs: L.MergedFS, where: str) -> int:
    return sum(p.entry.size for p in fs.walk(where) if p.entry.type == L.FILE)


# -- waste ---------------------------------------------------------------------------------------


def image_waste(
    clients: Clients,
    image: str,
    *,
    platform: str | None = None,
    max_wasted_bytes: int | None = None,
    min_efficiency: float | None = None,
    top: int = MAX_WASTE_ITEMS,
    max_download: int | None = None,
    progress: Progress | None = None,
) -> WasteReport:
    """Bytes of files that later layers overwrite or delete (they are still downloaded)."""
    if min_efficiency is not None and not 0.0 <= min_efficiency <= 1.0:
        raise InvalidInputError(f"--min-efficiency must be between 0 and 1 (got {min_efficiency})")
    budget = Budget(max_download, progress)
    files = load_image(clients, image, platform, budget)
    total = sum(index.content_bytes for index in files.indexes)
    final = _content(files.fs, "")
    items: dict[str, WasteItem] = {}
    per_layer = [0] * len(files.indexes)
    for lost in files.fs.lost:
        if lost.entry.type != L.FILE or lost.entry.size == 0:
            continue
        per_layer[lost.layer] += lost.entry.size
        item = items.get(lost.entry.path)
        if item is None:
            item = items[lost.entry.path] = WasteItem(
                path=lost.entry.path, wasted_bytes=0, versions=0, layers=[], removed_by=[]
            )
        item.wasted_bytes += lost.entry.size
        item.versions += 1
        item.layers.append(lost.layer)
        item.removed_by.append(lost.by)
    wasted = sum(per_layer)
    efficiency = round(1.0 - wasted / total, 6) if total else 1.0
    passed: bool | None = None
    if max_wasted_bytes is not None or min_efficiency is not None:
        passed = (max_wasted_bytes is None or wasted <= max_wasted_bytes) and (
            min_efficiency is None or efficiency >= min_efficiency
        )
    worst = sorted(items.values(), key=lambda i: (-i.wasted_bytes, i.path))[:top]
    layers = [
        LayerWaste(
            layer=i,
            digest=d.digest,
            size=d.size,
            content_bytes=files.indexes[i].content_bytes,
            wasted_bytes=per_layer[i],
        )
        for i, d in enumerate(files.layers)
    ]
    notes = files.notes()
    if len(items) > top:
        notes.append(f"{len(items) - top} more wasted paths not listed")
    return WasteReport(
        reference=str(files.resolved.reference),
        digest=files.digest,
        platform=platform_info(files.resolved.platform),
        total_bytes=total,
        final_bytes=final,
        wasted_bytes=wasted,
        efficiency=efficiency,
        files=worst,
        layers=layers,
        max_wasted_bytes=max_wasted_bytes,
        min_efficiency=min_efficiency,
        passed=passed,
        download=budget.settle(clients),
        notes=notes,
    )


def iter_copy(src: IO[bytes], chunk: int = L.CHUNK) -> Iterator[bytes]:
    while data := src.read(chunk):
        yield data
