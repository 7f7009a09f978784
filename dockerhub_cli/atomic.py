"""Replacing a file whole (standard library only): a crash or a full disk leaves the old file
or the new one, never half of one.

The new content goes to a random name beside the file, created exclusively with mode 0600
(`mkstemp`: O_CREAT|O_EXCL, so a planted file or symlink there is never followed), and is then
renamed over it: a symlink at `path` is replaced, not written through. On any error the
temporary file is removed and the error propagates.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


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
    the new file (default: mkstemp's 0600)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=prefix if prefix is not None else f".{path.name}.", suffix=".tmp"
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
