"""Layer blobs: read as a stream from the registry, and their file indexes kept forever.

A layer is immutable (its digest names its bytes), so what we learn by reading it once (its
`LayerIndex`) is cached by digest, with no expiry, as one JSON file per layer under
`<cache dir>/layers/`. The blob itself never goes into the HTTP cache (it can be gigabytes):
`open_registry_blob` streams it, and the caller verifies the digest while reading.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockerhub_cli.atomic import replace_file
from dockerhub_cli.errors import DockerHubError, NetworkError, UpstreamError
from dockerhub_cli.oci.layer import LayerIndex, StaleIndexFormat

if TYPE_CHECKING:
    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.oci.reference import ImageReference
    from dockerhub_cli.remote.registry import RegistryClient

log = logging.getLogger("dockerhub_cli.blobs")


class ResponseReader:
    """`read(n)` over a streamed response's body (the transport's `StreamedBody`: capped,
    progress-deadlined, never cached); any other transport failure becomes our error."""

    def __init__(self, response: Any, what: str) -> None:
        self.response = response
        self.what = what

    def read(self, n: int = -1, /) -> bytes:
        try:
            data: bytes = self.response.raw.read(n if n and n > 0 else 256 * 1024)
        except DockerHubError:
            raise
        except Exception as exc:  # urllib3 ProtocolError, ReadTimeoutError, socket errors
            name = type(exc).__name__
            if "Timeout" in name:
                raise NetworkError(f"the download of {self.what} stalled ({name})") from None
            raise UpstreamError(
                f"the download of {self.what} was cut off ({name})", hint="try again"
            ) from None
        return data


class RangeNotHonouredError(UpstreamError):
    """The server answered a Range request with the whole blob (or another range)."""


@contextmanager
def open_registry_blob(
    registry: RegistryClient,
    ref: ImageReference,
    digest: str,
    what: str = "layer",
    byte_range: tuple[int, int] | None = None,
    *,
    max_bytes: int | None = None,
) -> Iterator[ResponseReader]:
    """The blob's bytes as a stream (closed on exit, so stopping early frees the connection);
    with `byte_range` only those bytes, or RangeNotHonouredError before any is read.

    At most `max_bytes` are read (the blob's descriptor size; a range's own length)."""
    if max_bytes is None:
        response = registry.open_blob(ref, digest, what=what, byte_range=byte_range)
    else:
        response = registry.open_blob(
            ref, digest, what=what, byte_range=byte_range, max_bytes=max_bytes
        )
    try:
        if byte_range is not None:
            wanted = f"bytes {byte_range[0]}-{byte_range[1]}/"
            if response.status_code != 206 or not response.headers.get(
                "Content-Range", ""
            ).startswith(wanted):
                raise RangeNotHonouredError(f"{what} {digest[:19]}: Range request not honoured")
        yield ResponseReader(response, f"{what} {digest[:19]}")
    finally:
        response.close()


class IndexStore:
    """`<cache dir>/layers/<algorithm>/<hex>.json`: one verified `LayerIndex` per layer digest
    (`LayerIndex.write_lines`: a JSON line for the index, then one per entry).

    Written atomically (mkstemp in the same directory, then rename; mode 0600). Only complete
    indexes of blobs whose digest was verified are ever saved; a file that does not parse, or
    names another digest, is removed and the layer is read again. `--no-cache` neither reads
    nor writes it.
    """

    def __init__(self, settings: Settings) -> None:
        self.enabled = not settings.no_cache
        self.root = Path(settings.cache_dir) / "layers"

    def _path(self, digest: str) -> Path | None:
        algorithm, _, hexpart = digest.partition(":")
        if algorithm not in ("sha256", "sha512") or not hexpart.isalnum():
            return None
        return self.root / algorithm / f"{hexpart.lower()}.json"

    def get(self, digest: str) -> LayerIndex | None:
        path = self._path(digest) if self.enabled else None
        if path is None:
            return None
        try:
            fh = path.open("rb")
        except OSError:
            return None
        try:
            with fh:
                index = LayerIndex.read_lines(fh)
            if index.digest != digest:
                raise ValueError(f"it names {index.digest}")
        except StaleIndexFormat as exc:  # written by another version: not damage, a miss
            log.debug("cached file index %s: %s; reading the layer again", path, exc)
            path.unlink(missing_ok=True)
            return None
        except OSError:
            return None
        except ValueError as exc:
            log.warning("cached file index %s is damaged (%s); reading the layer again", path, exc)
            path.unlink(missing_ok=True)
            return None
        return index

    def put(self, index: LayerIndex) -> None:
        path = self._path(index.digest or "") if self.enabled else None
        if path is None or any("incomplete" in n for n in index.notes):
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            replace_file(path, index.write_lines, encoding="ascii", prefix=".tmp-")
        except OSError as exc:  # a cache that cannot be written never fails the command
            log.warning("could not save the file index of %s: %s", index.digest, exc)
