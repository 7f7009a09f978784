"""All output formatting lives in this package: one renderer per result model.

`emit()` is the single exit for results: JSON (exact model fields) for scripts, Rich tables for
people. Data goes to stdout; talk (warnings, progress) goes to stderr via `stderr_console()`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console

_SIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def human_size(size: int | None) -> str:
    """Decimal units, as Docker prints them: 75600911 -> '75.6 MB'."""
    if size is None:
        return "-"
    value = float(size)
    for unit in _SIZE_UNITS:
        if abs(value) < 1000 or unit == _SIZE_UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def human_count(count: int | None) -> str:
    if count is None:
        return "-"
    for limit, suffix in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if count >= limit:
            return f"{count / limit:.1f}{suffix}".replace(".0", "")
    return str(count)


def relative_time(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "-"
    now = now or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (now - when).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, span in (("year", 31_536_000), ("month", 2_592_000), ("day", 86_400),
                       ("hour", 3_600), ("minute", 60)):
        if seconds >= span:
            n = int(seconds // span)
            text = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def stdout_console() -> Console:
    from rich.console import Console

    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "160") or 160)
    return Console(highlight=False, soft_wrap=False, width=width)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def emit(
    model: BaseModel, *, json_output: bool, render: Callable[[Any, Console], None]
) -> None:
    """Write a result: JSON to stdout for scripts, or the model's Rich renderer for people."""
    if json_output:
        sys.stdout.write(model.model_dump_json(indent=2) + "\n")
        sys.stdout.flush()
        return
    render(model, stdout_console())


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner on stderr while waiting on the network, only when stderr is a terminal."""
    if not sys.stderr.isatty() or os.environ.get("DOCKERHUB_NO_SPINNER"):
        with nullcontext():
            yield
        return
    with stderr_console().status(message, spinner="dots"):
        yield


def warn(message: str) -> None:
    stderr_console().print(f"[yellow]warning:[/yellow] {message}", markup=True, highlight=False)
