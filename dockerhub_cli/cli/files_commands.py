"""The bodies of `files`, `cat`, `extract`, `diff`, `waste` (their parameters: the spec).

Layers are streamed once and their file indexes cached by digest forever; a progress bar is
drawn on stderr only when stderr is a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from dockerhub_cli.cli.app import get_service

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "t": 10**12, "tb": 10**12}


def parse_size(value: str | None, option: str = "--max-download") -> int | None:
    """'500MB', '2GiB', '1000000' -> bytes (decimal units as Docker prints them); a bad size
    is a usage error (exit 2) naming the option."""
    if value is None:
        return None
    import re

    from dockerhub_cli.errors import InvalidInputError

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", value)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise InvalidInputError(
            f"{option}: {value!r} is not a size",
            hint="give bytes or a size with a unit, e.g. 500MB, 2GiB, 1000000",
        )
    return int(float(match.group(1)) * _UNITS[unit])


def _progress(message: str) -> Any:
    from dockerhub_cli.render import transfer_progress

    return transfer_progress(message)


def _talk(download_line: str) -> None:
    from dockerhub_cli.render import stderr_console

    stderr_console().print(download_line, style="dim", highlight=False)


def files(
    image: Any = None,
    path: Any = None,
    layer: Any = None,
    find: Any = None,
    platform: Any = None,
    max_download: Any = None,
    json_output: Any = None,
) -> None:
    """The image's files: path, type, size, mode, owner, link target and the layer that wrote
    it, with whiteouts and opaque directories applied. PATH lists one directory.

    Each layer is downloaded once and its file index cached forever (by digest): warm layers
    make no requests.

    Example: dockerhub files alpine:3.20 /etc --find '*.conf'
    """
    from dockerhub_cli.render import emit_streamed
    from dockerhub_cli.render.files import files as render_files

    limit = parse_size(max_download)
    with _progress(f"Reading {image}") as bar:
        result, rows = get_service().files_streamed(
            image, path, layer=layer, find=find, platform=platform, max_download=limit,
            progress=bar,
        )  # fmt: skip
    emit_streamed(result, rows, json_output=json_output, render=render_files)


def cat(
    image: Any = None,
    path: Any = None,
    force: Any = None,
    platform: Any = None,
    max_download: Any = None,
    json_output: Any = None,
) -> None:
    """One file's bytes to stdout, binary-safe, verified against the layer's file index.

    Symlinks are followed inside the image, never outside it. Binary content is refused on
    a terminal unless --force, and control characters are shown there as \\xNN. With the
    layer index warm only the layer holding the file is read, and only up to the file.

    Example: dockerhub cat debian:12 /etc/os-release
    """
    from dockerhub_cli.errors import InvalidInputError
    from dockerhub_cli.ops.files import iter_copy
    from dockerhub_cli.render.files import download_line

    limit = parse_size(max_download)
    service = get_service()
    if json_output:
        from dockerhub_cli.render import emit_json

        with _progress(f"Reading {path}") as bar:
            meta = service.read_text(
                image, path, platform=platform, max_download=limit, progress=bar
            )
        emit_json(meta.model_dump(mode="json"))
        return
    with _progress(f"Reading {path}") as bar:
        meta, spool = service.read_file(
            image, path, platform=platform, max_download=limit, progress=bar
        )
    with spool:
        if meta.binary and sys.stdout.isatty() and not force:
            raise InvalidInputError(
                f"{meta.path} is binary ({meta.size:,} bytes); not writing it to a terminal",
                hint="redirect it to a file, or add --force",  # CLI-only advice
            )
        out = sys.stdout.buffer
        if sys.stdout.isatty() and not force:
            shown = _terminal_safe(iter_copy(spool), out)
        else:
            for chunk in iter_copy(spool):
                out.write(chunk)
            shown = 0
        out.flush()
    if shown:
        _talk(
            f"note: {shown:,} control character(s) (escape sequences) written as \\xNN; "
            "--force writes them as they are"
        )
    if sys.stderr.isatty():
        _talk(download_line(meta.download))


def _terminal_safe(chunks: Iterator[bytes], out: IO[bytes]) -> int:
    """Write text to a terminal with its control characters made visible (a file in an
    image can hold escape sequences that clear the screen, retitle the window or plant a
    hyperlink); returns how many were rewritten."""
    import codecs
    import itertools

    from dockerhub_cli.text import visible

    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    count = 0
    for chunk in itertools.chain(chunks, [b""]):
        text = decoder.decode(chunk, final=not chunk)
        safe = visible(text)
        if safe is not text:
            count += sum(text.count(ch) for ch in set(text) if visible(ch) != ch)
        out.write(safe.encode("utf-8"))
    return count


def extract(
    image: Any = None,
    paths: Any = None,
    output_dir: Any = None,
    devices: Any = None,
    max_bytes: Any = None,
    platform: Any = None,
    max_download: Any = None,
    json_output: Any = None,
) -> None:
    """Copy files or directories out of an image into DIR, safely.

    Nothing is written outside DIR: no `..`, no absolute paths; a symlink with an absolute or
    climbing target (/usr/bin/y) is rewritten relative to where it sits (../../usr/bin/y), as
    resolved inside the image, so it never leads out of DIR; no device files unless --devices;
    set-id bits are dropped and owners are not changed. A failed write (disk full, permission
    denied) is exit 9.

    Example: dockerhub extract nginx:1.27 /etc/nginx -o ./nginx-conf
    """
    from dockerhub_cli.render import emit_streamed
    from dockerhub_cli.render.files import extract as render_extract

    limit, cap = parse_size(max_download), parse_size(max_bytes, "--max-bytes")
    with _progress(f"Extracting from {image}") as bar:
        result, rows = get_service().extract_streamed(
            image, paths, Path(output_dir), platform=platform, devices=devices, max_download=limit,
            max_bytes=cap, progress=bar,
        )  # fmt: skip
    emit_streamed(result, rows, json_output=json_output, render=render_extract)


def diff_command(
    image1: Any = None,
    image2: Any = None,
    path: Any = None,
    platform: Any = None,
    max_download: Any = None,
    json_output: Any = None,
) -> None:
    """Files added, removed and changed from IMAGE1 to IMAGE2 (content hash, size, mode,
    owner, link target), with totals. Shared layers are read once.

    Without PATH, packages added, removed, upgraded and downgraded too: from both images'
    SBOM attestations, else from their dpkg/apk databases (`packages.source` says which).

    Example: dockerhub diff myapp:1.0 myapp:1.1 /usr/lib
    """
    from dockerhub_cli.render import emit
    from dockerhub_cli.render.files import diff as render_diff

    limit = parse_size(max_download)
    with _progress("Reading layers") as bar:
        result = get_service().diff_files(
            image1, image2, path, platform=platform, max_download=limit, progress=bar
        )
    emit(result, json_output=json_output, render=render_diff)


def waste(
    image: Any = None,
    max_wasted_bytes: Any = None,
    min_efficiency: Any = None,
    top: Any = None,
    platform: Any = None,
    max_download: Any = None,
    json_output: Any = None,
) -> None:
    """Bytes of files that later layers overwrite or delete (still downloaded by every pull),
    the biggest offenders, and an efficiency score (1 - wasted/total, like dive).

    With --max-wasted-bytes or --min-efficiency it is a CI gate: exit 8 when it fails.

    Example: dockerhub waste myapp:latest --min-efficiency 0.95
    """
    from dockerhub_cli.errors import CheckFailedError
    from dockerhub_cli.render import emit
    from dockerhub_cli.render.files import waste as render_waste

    limit, bound = parse_size(max_download), parse_size(max_wasted_bytes, "--max-wasted-bytes")
    with _progress(f"Reading {image}") as bar:
        result = get_service().waste(
            image, platform=platform, max_wasted_bytes=bound, min_efficiency=min_efficiency,
            top=top, max_download=limit, progress=bar,
        )  # fmt: skip
    emit(result, json_output=json_output, render=render_waste)
    if result.passed is False:
        raise CheckFailedError(
            f"waste check failed: {result.wasted_bytes:,} bytes wasted, "
            f"efficiency {result.efficiency:.4f}"
        )


__all__ = ["files", "cat", "extract", "diff_command", "waste"]
