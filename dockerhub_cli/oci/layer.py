"""Layer blobs as file indexes: streaming decompression, a tar walk, whiteouts, merging.

Pure: every function here takes a file-like object (anything with `read(n)`) or index values,
so the whole module is tested with bytes. The remote side (`remote/blobs.py`) hands it the
response body of a blob; a local source would hand it a file.

* `VerifyingReader` counts and hashes the compressed bytes as they pass and fails at the end
  when they do not hash to the digest (and as soon as they exceed the announced size or a cap).
* `decompressed()` picks gzip / zstd / plain tar from the first bytes (the media type only
  breaks ties) and decompresses as the bytes arrive: memory stays flat whatever the size.
* `index_layer()` walks the tar in stream mode and returns a `LayerIndex`: one `Entry` per
  member (normalised path, type, size, mode, owner, link target, sha256 of the content computed
  while streaming), and the layer's whiteouts and opaque directories (OCI image-spec
  layer.md "Whiteouts"). Hostile archives (too many entries, too many bytes, too slow, names
  escaping the root, corrupt or truncated compression) end in a `LayerError`, never in a
  partial index that could be cached.
* `merge()` applies the layers in order into the image's filesystem (`MergedFS`), recording for
  each path the layer that last wrote it and, for `waste`, every file a later layer overwrote
  or deleted.
"""

from __future__ import annotations

import hashlib
import posixpath
import stat
import tarfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from dockerhub_cli.errors import DigestMismatchError, DockerHubError, UpstreamError
from dockerhub_cli.text import visible

# 2: names are the real names (format 1 stored them escaped for display).
INDEX_FORMAT = 2
CHUNK = 256 * 1024

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
# after "BZh" and the block size digit: a block's magic (pi) or an empty stream's end (sqrt pi)
_BZIP2_NEXT = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"

# Defaults; callers pass their own `Limits` (settings, --max-download).
MAX_ENTRIES = 500_000
MAX_UNCOMPRESSED = 64 * 1024**3
MAX_SECONDS = 1800.0
# A pax / GNU long-name header is read whole by tarfile: refuse absurd ones before that.
MAX_META_HEADER = 1024 * 1024


class LayerError(UpstreamError):
    """A layer blob is malformed, truncated, or hostile (too big, too many entries, too slow)."""


class Reader(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Limits:
    """Bounds for reading one layer. `clock` is injected (tests never wait on the wall clock)."""

    max_entries: int = MAX_ENTRIES
    max_uncompressed: int = MAX_UNCOMPRESSED
    max_seconds: float = MAX_SECONDS
    clock: Callable[[], float] = time.monotonic


# -- the compressed bytes: count, cap, hash ---------------------------------------------------


class VerifyingReader:
    """Wrap a blob body: count and hash what is read; raise on a cap or a digest mismatch.

    `on_bytes(n)` is called with each chunk's size (byte accounting, progress bars, the
    --max-download bound: it may raise to stop the download).
    """

    def __init__(
        self,
        raw: Reader,
        digest: str | None,
        *,
        expected_size: int | None = None,
        max_bytes: int | None = None,
        on_bytes: Callable[[int], None] | None = None,
        what: str = "layer",
    ) -> None:
        self.raw = raw
        self.digest = digest
        algorithm = digest.split(":", 1)[0] if digest else "sha256"
        if algorithm not in ("sha256", "sha512"):
            raise UpstreamError(f"cannot verify {what}: unsupported digest algorithm {algorithm!r}")
        self.hasher = hashlib.new(algorithm)
        self.expected_size = expected_size
        self.max_bytes = max_bytes
        self.on_bytes = on_bytes
        self.what = what
        self.count = 0
        self.done = False

    def read(self, n: int = -1, /) -> bytes:
        if self.done:
            return b""
        data = self.raw.read(n if n and n > 0 else CHUNK)
        if not data:
            self._finish()
            return b""
        self.count += len(data)
        if self.expected_size is not None and self.count > self.expected_size:
            raise DigestMismatchError(
                f"{self.what} is longer than its announced {self.expected_size:,} bytes",
                hint="the registry or a proxy served corrupt content; it was not used",
            )
        if self.max_bytes is not None and self.count > self.max_bytes:
            raise LayerError(f"{self.what} is larger than the {self.max_bytes:,}-byte limit")
        self.hasher.update(data)
        if self.on_bytes is not None:
            self.on_bytes(len(data))
        return data

    def drain(self) -> None:
        """Read to the end (so that the digest can be checked)."""
        while self.read(CHUNK):
            pass

    def _finish(self) -> None:
        self.done = True
        if self.expected_size is not None and self.count != self.expected_size:
            raise DigestMismatchError(
                f"{self.what} ended after {self.count:,} of {self.expected_size:,} bytes",
                hint="the download was cut off or the registry served corrupt content",
            )
        if self.digest is not None:
            algorithm = self.digest.split(":", 1)[0]
            actual = f"{algorithm}:{self.hasher.hexdigest()}"
            if actual != self.digest:
                raise DigestMismatchError(
                    f"{self.what} does not match its digest: expected {self.digest}, got {actual}",
                    hint="the registry or a proxy served corrupt content; it was not used",
                )


# -- decompression ----------------------------------------------------------------------------


def verify_toc(data: bytes, expected_digest: str, what: str, annotation: str) -> None:
    """A seekable layer's table of contents (eStargz, zstd:chunked) checked against the sha256
    its manifest annotation names, before anything in it is trusted."""
    actual = "sha256:" + hashlib.sha256(data).hexdigest()
    if actual != expected_digest:
        raise DigestMismatchError(
            f"{what} TOC does not match the manifest's {annotation}: "
            f"expected {expected_digest}, got {actual}",
            hint="the registry served a different layer than the manifest describes",
        )


def _gzip_backends() -> list[tuple[str, Callable[[int], Any]]]:
    """gzip decompressors available here, fastest first (measured: benchmarks/layers.py)."""
    found: list[tuple[str, Callable[[int], Any]]] = []
    try:
        from isal import isal_zlib  # python-isal: ISA-L inflate, the fastest where it runs

        found.append(("isal", isal_zlib.decompressobj))
    except ImportError:
        pass
    try:
        from zlib_ng import zlib_ng

        found.append(("zlib-ng", zlib_ng.decompressobj))
    except ImportError:
        pass
    found.append(("zlib", zlib.decompressobj))
    return found


def gzip_backend(name: str | None = None) -> tuple[str, Callable[[int], Any]]:
    """The gzip decompressor to use: `name` if given and available, else the fastest here."""
    backends = _gzip_backends()
    for backend in backends:
        if name is None or backend[0] == name:
            return backend
    raise ValueError(f"gzip backend {name!r} is not installed; have {[b[0] for b in backends]}")


def sniff(head: bytes, media_type: str = "") -> str:
    """'gzip', 'zstd', 'bzip2' or 'tar', from the first bytes (10 suffice); the media type only
    when they are few."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if (
        head.startswith(BZIP2_MAGIC)
        and head[3:4] in b"123456789"
        and len(head) >= 10
        and head[4:10] in _BZIP2_NEXT
    ):
        return "bzip2"
    if len(head) < 4:
        media = media_type.lower()
        if media.endswith("gzip"):
            return "gzip"
        if media.endswith("zstd"):
            return "zstd"
    return "tar"


def _bounded_output(total: int, max_out: int, what: str) -> int:
    """`total` decompressed bytes so far, if within `max_out`; else the bomb is refused."""
    if total > max_out:
        raise LayerError(
            f"{what} decompresses to more than {max_out:,} bytes; refusing it",
            hint="a decompression bomb, or raise the limit",
        )
    return total


class _Gzip:
    """A read(n) stream of the decompressed bytes of (multi-member) gzip; output is produced at
    most CHUNK bytes at a time, so a bomb cannot blow up memory; corrupt or truncated input
    raises LayerError."""

    kind = "gzip"

    def __init__(
        self, source: Reader, head: bytes, *, max_out: int, what: str, impl: str | None = None
    ) -> None:
        self.source = source
        self.what = what
        self.max_out = max_out
        self.out = 0
        self._pending = head
        self._eof = False
        self.backend, factory = gzip_backend(impl)
        self._new: Callable[[], Any] = lambda: factory(31)
        self._obj = self._new()
        self._started = False

    def read(self, n: int = -1, /) -> bytes:
        n = n if n and n > 0 else CHUNK
        while not self._eof:
            piece = self._step(n)
            if piece:
                self.out = _bounded_output(self.out + len(piece), self.max_out, self.what)
                return piece
        return b""

    def _step(self, n: int) -> bytes:
        obj = self._obj
        data = obj.unconsumed_tail or self._pending or self.source.read(CHUNK)
        self._pending = b""
        if not data:
            if self._started and not obj.eof:
                raise LayerError(f"{self.what} is truncated: its gzip stream ends early")
            self._eof = True
            return b""
        try:
            self._started = True
            piece: bytes = obj.decompress(data, n)
        except Exception as exc:  # zlib.error and its isal / zlib-ng twins
            raise LayerError(f"{self.what} is corrupt: gzip says {exc}") from None
        if obj.eof:
            rest = obj.unused_data
            self._obj = self._new()
            self._started = False
            if rest.startswith(GZIP_MAGIC):
                self._pending = rest
            elif rest.strip(b"\0"):
                raise LayerError(f"{self.what}: garbage after the gzip stream")
        return piece


class _Zstd:
    """Decompressed bytes of (multi-frame) zstd, at most n bytes per read. A stream cut at a
    frame boundary is caught by the digest check (registry blobs) or by the tar walk."""

    kind = "zstd"

    def __init__(self, source: Reader, head: bytes, *, max_out: int, what: str) -> None:
        import zstandard

        self.backend = f"zstandard {zstandard.__version__}"
        self._error: type[Exception] = zstandard.ZstdError
        self.what = what
        self.max_out = max_out
        self.out = 0
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            _Prefixed(head, source, what),  # type: ignore[arg-type]  # any read(n) object will do
            read_size=CHUNK,
            read_across_frames=True,
        )

    def read(self, n: int = -1, /) -> bytes:
        try:
            piece: bytes = self._reader.read(n if n and n > 0 else CHUNK)
        except DockerHubError:
            raise
        except self._error as exc:
            raise LayerError(f"{self.what} is corrupt: zstd says {exc}") from None
        self.out = _bounded_output(self.out + len(piece), self.max_out, self.what)
        return piece


class _Prefixed:
    """The compressed bytes for zstandard's reader: the sniffed head first, and every byte
    also through a frame walker so that a stream cut at a frame boundary is noticed."""

    def __init__(self, head: bytes, source: Reader, what: str) -> None:
        self.head, self.source = head, source
        self.frames = _ZstdFrames(what)

    def read(self, n: int = -1, /) -> bytes:
        if self.head:
            data, self.head = self.head, b""
        else:
            data = self.source.read(n)
        if data:
            self.frames.feed(data)
        else:
            self.frames.end()
        return data


class _ZstdFrames:
    """Walks zstd frame and block headers (RFC 8878 section 3.1) without decompressing: says
    whether the stream ended exactly after a complete frame."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.state = "magic"
        self.need = 4
        self.buf = b""
        self.skip = 0
        self.checksum = False
        self.frames = 0

    def feed(self, data: bytes) -> None:
        pos = 0
        while True:
            if self.skip:
                take = min(self.skip, len(data) - pos)
                self.skip -= take
                pos += take
                if self.skip:
                    return
            if len(self.buf) < self.need:
                take = min(self.need - len(self.buf), len(data) - pos)
                self.buf += data[pos : pos + take]
                pos += take
                if len(self.buf) < self.need:
                    return
            header, self.buf = self.buf, b""
            self._header(header)

    def _header(self, h: bytes) -> None:
        state = self.state
        if state == "magic":
            if h == ZSTD_MAGIC:
                self.state, self.need = "fhd", 1
            elif h[1:] == b"\x2a\x4d\x18" and h[0] & 0xF0 == 0x50:  # a skippable frame
                self.state, self.need = "skipsize", 4
            else:
                raise LayerError(f"{self.what} is corrupt: not a zstd frame")
        elif state == "skipsize":
            self.skip = int.from_bytes(h, "little")
            self.state, self.need = "magic", 4
        elif state == "fhd":
            fhd = h[0]
            fcs_flag, single, dict_flag = fhd >> 6, (fhd >> 5) & 1, fhd & 3
            self.checksum = bool(fhd & 4)
            fcs = (1 if single else 0, 2, 4, 8)[fcs_flag]
            rest = (0 if single else 1) + (0, 1, 2, 4)[dict_flag] + fcs
            self.state, self.need = "fhrest", rest
            if rest == 0:
                self._header(b"")
        elif state == "fhrest":
            self.state, self.need = "block", 3
        elif state == "block":
            value = int.from_bytes(h, "little")
            last, kind, size = value & 1, (value >> 1) & 3, value >> 3
            if kind == 3:
                raise LayerError(f"{self.what} is corrupt: reserved zstd block type")
            self.skip = 1 if kind == 1 else size
            if last:
                self.frames += 1
                self.state, self.need = "checksum", 4 if self.checksum else 0
                if not self.checksum:
                    self.state, self.need = "magic", 4
        elif state == "checksum":
            self.state, self.need = "magic", 4

    def end(self) -> None:
        if self.skip or self.buf or self.state != "magic" or not self.frames:
            raise LayerError(f"{self.what} is truncated: its zstd stream ends inside a frame")


class _Bzip2:
    """Decompressed bytes of (multi-stream) bzip2 with the standard library's `bz2`, at most
    n bytes per read (`max_length`), so a bomb cannot blow up memory. Docker's old
    `tar.bzip2` layers; slow (10 MB/s of tar, measured) but bounded like the others."""

    kind = "bzip2"
    backend = "bz2 (standard library)"

    def __init__(self, source: Reader, head: bytes, *, max_out: int, what: str) -> None:
        import bz2

        self.source, self.what, self.max_out = source, what, max_out
        self.out = 0
        self._new = bz2.BZ2Decompressor
        self._obj = self._new()
        self._pending = head
        self._started = False
        self._eof = False

    def read(self, n: int = -1, /) -> bytes:
        n = n if n and n > 0 else CHUNK
        while not self._eof:
            obj = self._obj
            data = b""
            if obj.needs_input:
                data = self._pending or self.source.read(CHUNK)
                self._pending = b""
                if not data:
                    if self._started:
                        raise LayerError(f"{self.what} is truncated: its bzip2 stream ends early")
                    self._eof = True
                    return b""
            try:
                self._started = True
                piece = obj.decompress(data, n)
            except (OSError, ValueError, EOFError) as exc:
                raise LayerError(f"{self.what} is corrupt: bzip2 says {exc}") from None
            if obj.eof:
                rest = obj.unused_data
                self._obj, self._started = self._new(), False
                if rest.startswith(BZIP2_MAGIC):
                    self._pending = rest
                elif rest.strip(b"\0"):
                    raise LayerError(f"{self.what}: garbage after the bzip2 stream")
            if piece:
                self.out = _bounded_output(self.out + len(piece), self.max_out, self.what)
                return piece
        return b""


class _Plain:
    def __init__(self, source: Reader, head: bytes, max_out: int, what: str) -> None:
        self.source, self._head, self.max_out, self.what = source, head, max_out, what
        self.out = 0
        self.kind = "tar"
        self.backend = "none"

    def read(self, n: int = -1, /) -> bytes:
        if self._head:
            data, self._head = self._head, b""
        else:
            data = self.source.read(n if n and n > 0 else CHUNK)
        self.out += len(data)
        if self.out > self.max_out:
            raise LayerError(f"{self.what} is larger than {self.max_out:,} bytes; refusing it")
        return data


def decompressed(
    source: Reader,
    media_type: str = "",
    *,
    max_out: int = MAX_UNCOMPRESSED,
    what: str = "layer",
    gzip_impl: str | None = None,
) -> _Gzip | _Zstd | _Bzip2 | _Plain:
    """The uncompressed tar stream of a layer blob, whatever its compression."""
    head = b""
    while len(head) < 10:
        more = source.read(10 - len(head))
        if not more:
            break
        head += more
    kind = sniff(head, media_type)
    if kind == "tar":
        return _Plain(source, head, max_out, what)
    if kind == "gzip":
        return _Gzip(source, head, max_out=max_out, what=what, impl=gzip_impl)
    if kind == "bzip2":
        return _Bzip2(source, head, max_out=max_out, what=what)
    return _Zstd(source, head, max_out=max_out, what=what)


# -- the index --------------------------------------------------------------------------------

FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO = (
    "file",
    "dir",
    "symlink",
    "hardlink",
    "char",
    "block",
    "fifo",
)
_TYPES = {
    tarfile.REGTYPE: FILE,
    tarfile.AREGTYPE: FILE,
    tarfile.CONTTYPE: FILE,
    tarfile.GNUTYPE_SPARSE: FILE,
    tarfile.DIRTYPE: DIR,
    tarfile.SYMTYPE: SYMLINK,
    tarfile.LNKTYPE: HARDLINK,
    tarfile.CHRTYPE: CHAR,
    tarfile.BLKTYPE: BLOCK,
    tarfile.FIFOTYPE: FIFO,
}


_FIELDS = (
    "path", "type", "size", "mode", "uid", "gid", "link", "sha256", "mtime", "devmajor",
    "devminor",
)  # fmt: skip
_KINDS = {k: k for k in (FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO)}
_SHA = "sha256:"


class Entry:
    """One member of a layer: `path` is normalised (relative, no `.` or `..`, no trailing
    slash) and is the member's real name, as is `link`: bytes that are not UTF-8 are kept as
    lone surrogates (`surrogateescape`, so `os` functions write the same bytes back) and control
    characters as they are. Make them visible (`text.visible`) at the output edge, never here.

    Immutable, with the fields of `_FIELDS` (`sha256` is `"sha256:<hex>"` or None).

    Memory: layers of 100k entries exist (CUDA, TeX, node_modules), and every entry of every
    layer of an image is held at once, so an entry is small: a slots object, its content
    digest kept as 32 raw bytes (65 bytes instead of a 120-byte str), its type one of the
    shared constants and its repeated ints (mode, owner, mtime) shared (`Interner`); about 280
    bytes with its path."""

    __slots__ = (
        "path", "type", "size", "mode", "uid", "gid", "link", "_digest", "mtime", "devmajor",
        "devminor",
    )  # fmt: skip
    path: str
    type: str
    size: int
    mode: int
    uid: int
    gid: int
    link: str | None
    _digest: bytes | None
    mtime: int
    devmajor: int
    devminor: int

    def __init__(
        self,
        path: str,
        type: str,  # noqa: A002 - the field's name in the JSON contract
        size: int = 0,
        mode: int = 0,
        uid: int = 0,
        gid: int = 0,
        link: str | None = None,
        sha256: str | None = None,
        mtime: int = 0,
        devmajor: int = 0,
        devminor: int = 0,
    ) -> None:
        put = object.__setattr__
        put(self, "path", path)
        put(self, "type", _KINDS.get(type, type))
        put(self, "size", size)
        put(self, "mode", mode)
        put(self, "uid", uid)
        put(self, "gid", gid)
        put(self, "link", link)
        put(self, "_digest", _pack(sha256))
        put(self, "mtime", mtime)
        put(self, "devmajor", devmajor)
        put(self, "devminor", devminor)

    @property
    def sha256(self) -> str | None:
        d = self._digest
        if d is None:
            return None
        return _SHA + d.hex() if len(d) == 32 else d.decode("utf-8", "surrogatepass")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Entry is immutable (cannot set {name})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return self.row() == other.row()

    def __hash__(self) -> int:
        return hash((self.path, self.type, self.size, self._digest, self.link))

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={value!r}" for name, value in zip(_FIELDS, self.row(), strict=True)
        )
        return f"Entry({fields})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return Entry, tuple(self.row())

    def row(self) -> list[Any]:
        return [
            self.path,
            self.type,
            self.size,
            self.mode,
            self.uid,
            self.gid,
            self.link,
            self.sha256,
            self.mtime,
            self.devmajor,
            self.devminor,
        ]

    @classmethod
    def from_row(cls, row: list[Any], ints: Interner | None = None) -> Entry:
        if ints is None:
            return cls(*row)
        i = ints.of
        path, kind, size, mode, uid, gid, link, sha256, mtime, major, minor = row
        return cls(path, kind, size, i(mode), i(uid), i(gid), link, sha256, i(mtime), major, minor)


def _pack(sha256: str | None) -> bytes | None:
    """`sha256:<64 hex>` as its 32 bytes; anything else (another algorithm, a damaged value
    from a TOC) kept as its text, so `sha256` gives back exactly what was stored."""
    if sha256 is None:
        return None
    if len(sha256) == 71 and sha256.startswith(_SHA):
        try:
            packed = bytes.fromhex(sha256[7:])
        except ValueError:
            pass
        else:
            if packed.hex() == sha256[7:]:  # lower-case hex only: upper case stays text
                return packed
    return sha256.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class _EntryFields:
    """Entry's fields as a dataclass declares them: lent to Entry (`__dataclass_fields__`) so
    that `dataclasses.replace`, `fields` and `asdict` work on entries as on the dataclass
    they used to be (`sha256` goes through the constructor and the property)."""

    path: str
    type: str
    size: int = 0
    mode: int = 0
    uid: int = 0
    gid: int = 0
    link: str | None = None
    sha256: str | None = None
    mtime: int = 0
    devmajor: int = 0
    devminor: int = 0


Entry.__dataclass_fields__ = _EntryFields.__dataclass_fields__  # type: ignore[attr-defined]


class Interner(dict[int, int]):
    """One shared int object per distinct value (CPython caches only -5..256: every entry's
    mode 0o644 would otherwise be its own 28-byte object, and so would its mtime)."""

    def of(self, value: int) -> int:
        return self.setdefault(value, value)


class StaleIndexFormat(ValueError):
    """A cached index written by another version of the format: read the layer again."""


@dataclass
class LayerIndex:
    digest: str | None
    media_type: str
    compression: str
    compressed_size: int = 0
    uncompressed_size: int = 0
    entries: list[Entry] = field(default_factory=list)
    whiteouts: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # eStargz / zstd:chunked: path -> [start, end) of the compressed bytes of its content.
    chunks: dict[str, list[int]] = field(default_factory=dict)

    @property
    def content_bytes(self) -> int:
        return sum(e.size for e in self.entries if e.type == FILE)

    def write_lines(self, fh: IO[str]) -> None:
        """The cache form, written as it is produced: a JSON line with every field but the
        entries (which it counts), then one JSON line per entry (`Entry.row()`). A 110k-entry
        index as one JSON document costs more memory to write and to read than the index
        itself. ASCII: names that are not UTF-8 travel as `\\udcXX` escapes, read back the same."""
        import json

        head = self.to_json(entries=False) | {"entries": len(self.entries)}
        fh.write(json.dumps(head, separators=(",", ":")) + "\n")
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        step = 4096
        for start in range(0, len(self.entries), step):
            fh.write("".join(dumps(e.row()) + "\n" for e in self.entries[start : start + step]))

    @classmethod
    def read_lines(cls, lines: Iterable[str | bytes]) -> LayerIndex:
        """Inverse of `write_lines`, an entry at a time; ValueError for anything else."""
        import json

        it = iter(lines)
        try:
            head = json.loads(next(it))
            if head.get("format") != INDEX_FORMAT:
                raise StaleIndexFormat(f"index format {head.get('format')!r}, not {INDEX_FORMAT}")
            count = head.get("entries")
            if not isinstance(count, int) or count < 0:
                raise ValueError("bad entry count")
            head["entries"] = []
            index = cls.from_json(head)
            ints = Interner()
            add = index.entries.append
            for line in it:
                e = Entry.from_row(json.loads(line), ints)
                if not isinstance(e.path, str) or not isinstance(e.size, int):
                    raise ValueError("bad entry")
                add(e)
        except StaleIndexFormat:
            raise
        except (StopIteration, AttributeError, TypeError, ValueError) as exc:
            raise ValueError(f"not a layer index: {exc}") from None
        if len(index.entries) != count:
            raise ValueError(f"not a layer index: {len(index.entries)} of {count} entries")
        return index

    def to_json(self, *, entries: bool = True) -> dict[str, Any]:
        return {
            "format": INDEX_FORMAT,
            "digest": self.digest,
            "media_type": self.media_type,
            "compression": self.compression,
            "compressed_size": self.compressed_size,
            "uncompressed_size": self.uncompressed_size,
            **({"entries": [e.row() for e in self.entries]} if entries else {}),
            "whiteouts": self.whiteouts,
            "opaque": self.opaque,
            "notes": self.notes,
            **({"chunks": self.chunks} if self.chunks else {}),
        }

    @classmethod
    def from_json(cls, data: Any) -> LayerIndex:
        """Inverse of `to_json`; ValueError for anything else (a damaged cache file)."""
        try:
            if data.get("format") != INDEX_FORMAT:
                raise StaleIndexFormat(f"index format {data.get('format')!r}, not {INDEX_FORMAT}")
            ints = Interner()
            entries = [Entry.from_row(r, ints) for r in data["entries"]]
            for e in entries:
                if not isinstance(e.path, str) or not isinstance(e.size, int):
                    raise ValueError("bad entry")
            return cls(
                digest=data["digest"],
                media_type=str(data["media_type"]),
                compression=str(data["compression"]),
                compressed_size=int(data["compressed_size"]),
                uncompressed_size=int(data["uncompressed_size"]),
                entries=entries,
                whiteouts=[str(p) for p in data["whiteouts"]],
                opaque=[str(p) for p in data["opaque"]],
                notes=[str(n) for n in data["notes"]],
                chunks={str(k): [int(v[0]), int(v[1])] for k, v in data.get("chunks", {}).items()},
            )
        except StaleIndexFormat:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a layer index: {exc}") from None


def normalise(name: str) -> str | None:
    """A tar member name as a path relative to the image root, or None if it escapes the root.

    Absolute names count from the root (as runtimes apply them); `..` that climbs above the
    root is refused. The name is kept as it is otherwise (control characters, bytes that are
    not UTF-8 as `surrogateescape` surrogates): it is data, made visible only when shown."""
    stripped = name.lstrip("/")
    clean = posixpath.normpath(stripped) if stripped else "."
    if clean == ".":
        return ""
    if clean == ".." or clean.startswith("../"):
        return None
    return clean


class _TailPadded:
    """The tar stream for `tarfile`, which insists on the padding after the last member's
    content (and raises "unexpected end of data" without it), where Go's archive/tar, and so
    every container runtime, takes a stream that ends right after the content as complete.
    umoci 0.4's `insert` writes such layers. When the stream ends exactly at the end of the
    last member's content (`data_end`, set by the walk), the padding is supplied as zeros;
    anywhere else, the end stays an end (content cut short is still an error)."""

    def __init__(self, stream: Reader) -> None:
        self.stream = stream
        self.pos = 0
        self.data_end = -1
        self.padded = 0

    def read(self, n: int = -1, /) -> bytes:
        data = self.stream.read(n)
        if data:
            self.pos += len(data)
            return data
        if self.pos == self.data_end and self.pos % 512 and not self.padded:
            self.padded = -self.pos % 512
            self.pos += self.padded
            return bytes(self.padded)
        return b""


class _GuardedTarInfo(tarfile.TarInfo):
    """Refuses huge pax / GNU long-name headers, which tarfile would read into memory whole."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if (
            self.type
            in tarfile.GNU_TYPES[:2]
            + (
                tarfile.XHDTYPE,
                tarfile.XGLTYPE,
                tarfile.SOLARIS_XHDTYPE,
            )
            and self.size > MAX_META_HEADER
        ):
            raise LayerError(
                f"a tar header extension of {self.size:,} bytes (more than {MAX_META_HEADER:,})"
            )
        return super()._proc_member(tarfile_)  # type: ignore[misc, no-any-return]


FileSink = Callable[[Entry], "IO[bytes] | None"]


def index_layer(
    source: Reader,
    *,
    digest: str | None = None,
    media_type: str = "",
    limits: Limits | None = None,
    what: str = "layer",
    sink: FileSink | None = None,
    stop_after: Callable[[Entry], bool] | None = None,
    gzip_impl: str | None = None,
) -> LayerIndex:
    """Stream one layer and index it. `source` should be a `VerifyingReader` (the caller
    checks the digest by draining it after this returns; see `read_layer`).

    `sink(entry)` may return a binary file to receive that regular file's content as it is
    hashed (`cat`, `extract`); `stop_after(entry)` True ends the walk early (the index is then
    incomplete and must not be cached).
    """
    limits = limits or Limits()
    started = limits.clock()
    stream = decompressed(
        source, media_type, max_out=limits.max_uncompressed, what=what, gzip_impl=gzip_impl
    )
    index = LayerIndex(digest=digest, media_type=media_type, compression=stream.kind)
    ints = Interner()
    escaped: list[str] = []
    absolute = 0
    tail = _TailPadded(stream)
    try:
        tar = tarfile.open(  # type: ignore[call-overload]
            fileobj=tail,
            mode="r|",
            bufsize=CHUNK,  # the default 10 kB reads cost more in Python than inflating
            tarinfo=_GuardedTarInfo,
            errors="surrogateescape",
        )
    except tarfile.ReadError as exc:
        if stream.out == 0:  # an empty blob: an empty layer
            return index
        raise LayerError(f"{what} is not a tar archive ({exc})") from None
    count = 0
    logical = 0
    try:
        for member in tar:
            tar.members.clear()  # stream mode keeps every TarInfo otherwise: memory grows
            count += 1
            if count > limits.max_entries:
                raise LayerError(
                    f"{what} has more than {limits.max_entries:,} entries; refusing it",
                    hint="a tar bomb, or raise the entry limit",
                )
            if limits.clock() - started > limits.max_seconds:
                raise LayerError(f"{what} took longer than {limits.max_seconds:.0f} s to read")
            tail.data_end = member.offset_data + (member.size if not member.issparse() else -1)
            if member.name.startswith("/"):
                absolute += 1
            path = normalise(member.name)
            if path is None:
                escaped.append(member.name)
                continue
            if path == "":
                continue  # the root itself ("./")
            base = posixpath.basename(path)
            parent = posixpath.dirname(path)
            if base == OPAQUE_MARKER:
                index.opaque.append(parent)
                continue
            if base.startswith(WHITEOUT_PREFIX):
                index.whiteouts.append(posixpath.join(parent, base[len(WHITEOUT_PREFIX) :]))
                continue
            kind = _TYPES.get(member.type)
            if kind is None:
                index.notes.append(f"skipped {visible(member.name)!r}: tar type {member.type!r}")
                continue
            link: str | None = None
            if kind == SYMLINK:
                link = member.linkname
            elif kind == HARDLINK:
                link = normalise(member.linkname)
                if not link:
                    escaped.append(f"{path} -> {member.linkname}")
                    continue
            digest_hex: str | None = None
            i = ints.of
            entry = Entry(
                path=path,
                type=kind,
                size=member.size if kind == FILE else 0,
                mode=i(stat.S_IMODE(member.mode)),
                uid=i(member.uid),
                gid=i(member.gid),
                link=link,
                mtime=i(int(member.mtime)),
                devmajor=member.devmajor if kind in (CHAR, BLOCK) else 0,
                devminor=member.devminor if kind in (CHAR, BLOCK) else 0,
            )
            if kind == FILE:
                # Sparse members inflate to their logical size while hashed: bound that too.
                logical += member.size
                if logical > limits.max_uncompressed:
                    raise LayerError(
                        f"{what}: its files add up to more than {limits.max_uncompressed:,} "
                        "bytes (sparse or not); refusing it",
                        hint="a tar bomb, or raise the limit",
                    )
                out = sink(entry) if sink is not None else None
                digest_hex = _hash_member(tar, member, out, limits, started, what)
                entry = _with_sha(entry, digest_hex)
            index.entries.append(entry)
            if stop_after is not None and stop_after(entry):
                index.notes.append("incomplete: stopped early")
                return index
    except DockerHubError:
        raise
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise LayerError(f"{what} is not a valid tar archive: {exc}") from None
    fill_hardlinks(index)
    index.uncompressed_size = stream.out
    if escaped:
        sample = ", ".join(repr(visible(n)) for n in escaped[:3])
        index.notes.append(
            f"{len(escaped)} entr{'y' if len(escaped) == 1 else 'ies'} with a name or link "
            f"escaping the root ignored: {sample}"
        )
    if absolute:
        index.notes.append(f"{absolute} absolute name(s) read as relative to the root")
    if tail.padded:
        index.notes.append("the tar ends without its end-of-archive blocks; read as runtimes do")
    return index


def _with_sha(e: Entry, digest_hex: str) -> Entry:
    # Not dataclasses.replace: this runs once per file, and replace() costs 20x a constructor.
    return Entry(
        e.path, e.type, e.size, e.mode, e.uid, e.gid, e.link, f"sha256:{digest_hex}", e.mtime,
        e.devmajor, e.devminor,
    )  # fmt: skip


def _hash_member(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    out: IO[bytes] | None,
    limits: Limits,
    started: float,
    what: str,
) -> str:
    hasher = hashlib.sha256()
    handle = tar.extractfile(member)
    if handle is None:
        return hasher.hexdigest()
    remaining = member.size
    while remaining > 0:
        chunk = handle.read(min(CHUNK, remaining))
        if not chunk:
            raise LayerError(f"{what} is truncated inside {visible(member.name)!r}")
        remaining -= len(chunk)
        hasher.update(chunk)
        if out is not None:
            out.write(chunk)
        if limits.clock() - started > limits.max_seconds:
            raise LayerError(f"{what} took longer than {limits.max_seconds:.0f} s to read")
    return hasher.hexdigest()


def fill_hardlinks(index: LayerIndex) -> None:
    """A hard link's size and content hash are those of its target (same layer when there)."""
    files = {e.path: e for e in index.entries if e.type == FILE}
    for i, e in enumerate(index.entries):
        if e.type == HARDLINK and e.link in files:
            target = files[e.link]
            index.entries[i] = Entry(
                e.path, HARDLINK, target.size, e.mode, e.uid, e.gid, e.link, target.sha256,
                e.mtime,
            )  # fmt: skip


def read_layer(
    source: VerifyingReader,
    *,
    media_type: str = "",
    limits: Limits | None = None,
    what: str = "layer",
    gzip_impl: str | None = None,
    sink: FileSink | None = None,
) -> LayerIndex:
    """Index a whole layer and check its digest (reading any bytes after the tar's end).
    What went to `sink` may be used only once this returned: the digest is checked last."""
    index = index_layer(
        source,
        digest=source.digest,
        media_type=media_type,
        limits=limits,
        what=what,
        gzip_impl=gzip_impl,
        sink=sink,
    )
    source.drain()
    index.compressed_size = source.count
    return index


# -- merging ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placed:
    entry: Entry
    layer: int
    # The member's name in its layer when it differs from `entry.path` (written through a
    # symlinked parent directory: `a/f` with `a -> b` is `b/f` in the image).
    member: str | None = None


@dataclass(frozen=True, slots=True)
class Lost:
    """A file of layer `layer` that layer `by` overwrote (`how`='overwritten') or deleted."""

    entry: Entry
    layer: int
    by: int
    how: str


@dataclass
class MergedFS:
    """The image's filesystem: path -> the entry and the layer that last wrote it."""

    entries: dict[str, Placed] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=dict)
    lost: list[Lost] = field(default_factory=list)

    def get(self, path: str) -> Placed | None:
        return self.entries.get(path)

    def listdir(self, path: str) -> list[Placed]:
        return [self.entries[c] for c in sorted(self.children.get(path, ()))]

    def walk(self, path: str = "") -> Iterator[Placed]:
        """Every entry under `path` (and `path` itself unless it is the root), sorted."""
        if path and path in self.entries:
            yield self.entries[path]
        stack = [path]
        found: list[str] = []
        while stack:
            top = stack.pop()
            for child in self.children.get(top, ()):
                found.append(child)
                stack.append(child)
        for p in sorted(found):
            yield self.entries[p]

    def _add(self, placed: Placed) -> None:
        path = placed.entry.path
        self.entries[path] = placed
        parent = posixpath.dirname(path)
        self.children.setdefault(parent, set()).add(path)
        # Parents a tar left implicit exist as directories.
        while parent and parent not in self.entries:
            self.entries[parent] = Placed(Entry(parent, DIR, mode=0o755), placed.layer)
            grand = posixpath.dirname(parent)
            self.children.setdefault(grand, set()).add(parent)
            parent = grand

    def _remove(self, path: str, by: int, how: str, *, keep_self: bool = False) -> None:
        """Remove `path` and everything under it (only its contents with `keep_self`)."""
        stack = list(self.children.pop(path, ()))
        while stack:
            p = stack.pop()
            stack.extend(self.children.pop(p, ()))
            self._lose(self.entries.pop(p), by, how)
        if keep_self:
            return
        placed = self.entries.pop(path, None)
        if placed is not None:
            self._lose(placed, by, how)
            self.children.get(posixpath.dirname(path), set()).discard(path)

    def _lose(self, placed: Placed, by: int, how: str) -> None:
        if placed.entry.type in (FILE, HARDLINK, SYMLINK) and placed.layer != by:
            self.lost.append(Lost(placed.entry, placed.layer, by, how))

    def apply(self, layer: int, index: LayerIndex) -> None:
        """Apply one layer on top: opaque dirs and whiteouts hide lower layers only, then the
        layer's own entries are written (a non-directory replaces a directory and its
        contents; a directory over a directory keeps the contents)."""
        for opaque in index.opaque:
            real = posixpath.dirname(self._place(f"{opaque}/{OPAQUE_MARKER}"))
            self._remove(real, layer, "deleted", keep_self=True)
        for gone in index.whiteouts:
            self._remove(self._place(gone), layer, "deleted")
        for entry in index.entries:
            placed_at = self._place(entry.path)
            member = None
            if placed_at != entry.path:
                member, entry = entry.path, Entry(placed_at, *entry.row()[1:])
            old = self.entries.get(entry.path)
            if old is not None:
                if entry.type == DIR and old.entry.type == DIR:
                    self.entries[entry.path] = Placed(entry, layer)
                    continue
                self._remove(entry.path, layer, "overwritten")
            self._remove_non_dir_parents(entry.path, layer)
            self._add(Placed(entry, layer, member))

    def _place(self, path: str) -> str:
        """Where a layer's `path` lands: symlinks among its parent directories are followed
        inside the image (not the last component), as containerd (`fs.RootPath` on the
        parent) and umoci (`securejoin`) apply a layer: `a/f` over `a -> b` writes `b/f`.
        Every entry's ancestors are directories (the invariant `_add` keeps), so only the
        first existing ancestor can be a symlink: the usual case costs one walk up."""
        parent = posixpath.dirname(path)
        probe = parent
        while probe:
            old = self.entries.get(probe)
            if old is not None:
                if old.entry.type != SYMLINK:
                    return path
                break
            probe = posixpath.dirname(probe)
        if not probe:
            return path
        real = real_path(self, parent)
        if real is None:  # a symlink loop: the link is replaced by a directory, as before
            return path
        base = posixpath.basename(path)
        return f"{real}/{base}" if real else base

    def _remove_non_dir_parents(self, path: str, layer: int) -> None:
        """A path under a non-directory replaces it. Every entry's ancestors are directories
        (the invariant `_add` keeps), so the walk up stops at the first existing ancestor."""
        parent = posixpath.dirname(path)
        while parent:
            old = self.entries.get(parent)
            if old is not None:
                if old.entry.type != DIR:
                    self._remove(parent, layer, "overwritten")
                return
            parent = posixpath.dirname(parent)


def merge(indexes: Iterable[LayerIndex]) -> MergedFS:
    fs = MergedFS()
    for i, index in enumerate(indexes):
        fs.apply(i, index)
    return fs


MAX_SYMLINK_HOPS = 40


def resolve(fs: MergedFS, path: str) -> Placed | None:
    """Follow symlinks as if the image were the root filesystem (chroot semantics: `..` stops
    at the root, absolute targets start at it), so a link can never lead outside the image.
    Returns the final entry, or None when the path (or a link on the way) does not exist."""
    parts = [p for p in path.strip("/").split("/") if p and p != "."]
    hops = 0
    done: list[str] = []
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        current = "/".join([*done, part])
        placed = fs.get(current)
        if placed is None:
            return None
        if placed.entry.type == SYMLINK:
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                return None
            target = placed.entry.link or ""
            if target.startswith("/"):
                done = []
            parts = [p for p in target.split("/") if p and p != "."] + parts
            continue
        done.append(part)
    if not done:
        return None
    return fs.get("/".join(done))


def real_path(
    fs: MergedFS, target: str, start: str = "", *, follow_last: bool = True
) -> str | None:
    """`target` (relative to directory `start`; absolute from the root) as a path from the
    image root, with the symlinks on the way followed inside the image (chroot semantics:
    `..` stops at the root); parts that do not exist are taken as written, and the last
    component is followed only with `follow_last`. None for a loop."""
    done = [] if target.startswith("/") else [p for p in start.split("/") if p]
    parts = [p for p in target.split("/") if p and p != "."]
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        placed = fs.get("/".join([*done, part]))
        if placed is not None and placed.entry.type == SYMLINK and (parts or follow_last):
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                return None
            link = placed.entry.link or ""
            if link.startswith("/"):
                done = []
            parts = [p for p in link.split("/") if p and p != "."] + parts
            continue
        done.append(part)
    return "/".join(done)


def shown_as(fs: MergedFS, path: str) -> str | None:
    """The real path that is displayed as `path`: a name with control characters or bytes that
    are not UTF-8 is shown escaped (`text.visible`: `\\x1b`, `\\xff`), and people copy what
    they see. Exact names always win (the caller tries them first); None if no name matches."""
    if "\\" not in path:
        return None
    wanted = visible(path)
    for real in fs.entries:
        if visible(real) == wanted and real != path:
            return real
    return None


def lookup(fs: MergedFS, path: str) -> Placed | None:
    """`path` itself, not followed if it is a symlink; links in its parents are followed
    (like `lstat`)."""
    parent, _, name = path.strip("/").rpartition("/")
    if not parent:
        return fs.get(name)
    above = resolve(fs, parent)
    if above is None or above.entry.type != DIR:
        return None
    return fs.get(posixpath.join(above.entry.path, name))


# -- comparing ---------------------------------------------------------------------------------

COMPARED = ("type", "sha256", "size", "mode", "uid", "gid", "link")


def changed_fields(a: Entry, b: Entry) -> list[str]:
    fields = [f for f in COMPARED if getattr(a, f) != getattr(b, f)]
    if a.type == DIR and b.type == DIR:
        fields = [f for f in fields if f not in ("size", "sha256")]
    return fields


def diff(
    a: MergedFS, b: MergedFS, path: str = ""
) -> Iterator[tuple[str, Placed | None, Placed | None, list[str]]]:
    """(path, in A, in B, changed fields) for every path under `path` that differs, sorted."""
    left = {p.entry.path: p for p in a.walk(path)}
    right = {p.entry.path: p for p in b.walk(path)}
    for p in sorted(left.keys() | right.keys()):
        x, y = left.get(p), right.get(p)
        if x is None or y is None:
            yield p, x, y, []
            continue
        fields = changed_fields(x.entry, y.entry)
        if fields:
            yield p, x, y, fields


def mode_string(entry: Entry) -> str:
    """`drwxr-xr-x`-style mode of an entry."""
    kind = {
        DIR: stat.S_IFDIR,
        SYMLINK: stat.S_IFLNK,
        CHAR: stat.S_IFCHR,
        BLOCK: stat.S_IFBLK,
        FIFO: stat.S_IFIFO,
    }.get(entry.type, stat.S_IFREG)
    return stat.filemode(kind | entry.mode)
