"""The body of `cache warm` (its parameters: the spec): a progress line on stderr when it is a
terminal (nothing otherwise), the summary on stdout, and the exit code of the first failure.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dockerhub_cli.cli.run import cli_words, get_service, warn_notes


@contextmanager
def _progress_line() -> Iterator[Callable[[int, int, int, str], None] | None]:
    """One line on stderr (items done of those known so far, bytes, what is being fetched),
    only when stderr is a terminal; it disappears when the work is done."""
    import os

    if not sys.stderr.isatty() or os.environ.get("DOCKERHUB_NO_SPINNER"):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from dockerhub_cli.render import human_size, stderr_console
    from dockerhub_cli.text import visible

    bar = Progress(
        TextColumn("Warming"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("{task.fields[size]}"),
        TextColumn("{task.description}"),
        console=stderr_console(),
        transient=True,
    )
    task = bar.add_task("", total=None, size="")

    def update(done: int, total: int, size: int, label: str) -> None:
        bar.update(
            task,
            completed=done,
            total=max(total, done),
            size=human_size(size) if size else "",
            description=visible(label)[:60],
        )

    with bar:
        yield update


def warm(
    targets: list[str],
    platform: str | None = None,
    kind: str | None = None,
    layers: bool = False,
    jobs: int = 4,
    max_download: str | None = None,
    json_output: bool = False,
) -> None:
    from dockerhub_cli import advice
    from dockerhub_cli.cli.files_commands import parse_size
    from dockerhub_cli.ops.warm import exit_code
    from dockerhub_cli.render import emit
    from dockerhub_cli.render.cache import warm_report

    limit = parse_size(max_download)
    with _progress_line() as progress:
        result = get_service().warm(
            targets,
            platform=platform,
            kind=kind,
            layers=layers,
            jobs=jobs,
            max_download=limit,
            progress=progress,
        )
    result = advice.word_model(result, cli_words)
    emit(result, json_output=json_output, render=warm_report)
    if not json_output:
        warn_notes(result.notes)
    code = exit_code(result)
    if code:
        raise SystemExit(code)


__all__ = ["warm"]
