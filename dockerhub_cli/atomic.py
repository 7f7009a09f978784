"""Replacing a file whole (standard library only): a crash or a full disk leaves the old file
or the new one, never half of one.

The new content goes to a random name beside the file, created exclusively with mode 0600
(`create_private`, what `tempfile.mkstemp` does: O_CREAT|O_EXCL|O_NOFOLLOW, so a planted file
or symlink there is never followed), and is then renamed over it: a symlink at `path` is
replaced, not written through. On any error the temporary file is removed and the error
propagates.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

# What tempfile.mkstemp opens a new file with (O_NOFOLLOW and O_BINARY where they exist).
_CREATE_FLAGS = (
    os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
)
_ATTEMPTS = 10_000  # tempfile.TMP_MAX


def create_private(directory: Path | str, prefix: str, suffix: str) -> tuple[int, str]:
    """`tempfile.mkstemp(suffix, prefix, directory)` without importing tempfile (which imports
    shutil, and shutil bz2, lzma and zlib: ~9M instructions, over 1% of a warm run that saves
    its result): a new file with a random name, created exclusively (never an existing file,
    nor through a symlink), mode 0600, not inherited by child processes (os.open's default);
    another name is tried when one is taken. Returns the open descriptor and the path."""
    directory = os.fspath(directory)
    for _ in range(_ATTEMPTS):
        path = os.path.join(directory, f"{prefix}{os.urandom(6).hex()}{suffix}")
        try:
            return os.open(path, _CREATE_FLAGS, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free name for a new file in {directory}")


def replace_file(
    path: Path | str,
    content: str | bytes | Callable[[IO[Any]], object],
    *,
    durable: bool = False,
    mode: int | None = None,
    encoding: str = "utf-8",
    prefix: str | None = None,
) -> None:
    """Write `content` (text, bytes, or a function writing to the open file, text mode) to
    `path` by rename. `durable` syncs the data to disk before the rename (state a user would
    miss: logins, pins, watch state), not needed for caches; `mode` sets the permissions of
    the new file (default: 0600)."""
    path = Path(path)
    fd, tmp = create_private(
        path.parent, prefix if prefix is not None else f".{path.name}.", ".tmp"
    )
    try:
        binary = isinstance(content, bytes)
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else encoding) as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
