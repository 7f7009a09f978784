"""A file-like reader that verifies a blob's digest (and size) as it streams, with a cap.

For callers that read layer blobs without holding them in memory ("files inside images"): the
bytes handed out before the end are not yet verified, so a consumer must read to the end (or
call `verify()`) before trusting what it built from them; a mismatch raises
DigestMismatchError at the end of the stream.
"""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO

from dockerhub_cli.errors import DigestMismatchError, UpstreamError

DIGEST_ALGORITHMS = ("sha256", "sha512")


class VerifiedReader(io.RawIOBase):
    def __init__(
        self,
        raw: BinaryIO,
        digest: str,
        *,
        size: int | None,
        max_bytes: int,
        what: str,
    ) -> None:
        algorithm, _, expected = digest.partition(":")
        if algorithm not in DIGEST_ALGORITHMS:
            raise UpstreamError(f"cannot verify {what}: unsupported digest algorithm {algorithm!r}")
        if size is not None and size > max_bytes:
            raise UpstreamError(f"{what} is {size} bytes, more than the {max_bytes} allowed")
        self._raw = raw
        self._hash = hashlib.new(algorithm)
        self._digest = digest
        self._size = size
        self._max = max_bytes
        self._what = what
        self._count = 0
        self._verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        want = len(buffer)
        if self._size is not None:
            want = min(want, max(self._size - self._count, 0))
        chunk = self._raw.read(want) if want else b""
        if not chunk:
            self.verify()
            return 0
        self._count += len(chunk)
        if self._count > self._max:
            raise UpstreamError(f"{self._what} is larger than {self._max} bytes; refusing it")
        self._hash.update(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def verify(self) -> None:
        """Raise DigestMismatchError unless everything was read and matched (idempotent)."""
        if self._verified:
            return
        rest = self._raw.read(1)
        if rest or (self._size is not None and self._count != self._size):
            raise DigestMismatchError(
                f"{self._what} is not the promised {self._size} bytes",
                hint="the content is damaged or was changed; it was not used",
            )
        actual = f"{self._hash.name}:{self._hash.hexdigest()}"
        if actual != self._digest:
            raise DigestMismatchError(
                f"{self._what} does not match its digest: expected {self._digest}, got {actual}",
                hint="the content is damaged or was changed; it was not used",
            )
        self._verified = True

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()
