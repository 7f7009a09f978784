"""Loggers that import `logging` only when a record could be handled.

Until a process imports `logging`, nothing can have configured it: every logger's effective
level is the root's default, WARNING, and `logging.disable()` was never called, so a debug or
info record would be dropped. A `getLogger(name)` logger drops such records without importing
`logging` while it is not imported; anything else (a warning, an error, any record once
`logging` is imported by whoever: the CLI's `--debug`, the MCP server, requests, pytest) goes
to the real `logging.getLogger(name)`. A warm run that logs nothing then never imports
`logging` (with `traceback`, `string` and their imports: ~15M instructions, 2% of such a run).

`when_imported(configure)` runs `configure()` right after `logging` is first imported (at once
if it already is): the CLI installs its stderr handler so, before any record can reach it.
tests/unit/test_lazylog.py checks the premise against `logging` itself in a fresh process.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

DEBUG, INFO = 10, 20  # logging.DEBUG and logging.INFO (checked by the tests)
_ROOT_DEFAULT = 30  # logging.WARNING: the root logger's level until someone sets it

_configure: list[Callable[[], None]] = []


class Logger:
    """`logging.getLogger(name)`, resolved when a record could be handled."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def real(self) -> Any:
        import logging

        return logging.getLogger(self.name)

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 (logging's name)
        if "logging" not in sys.modules:
            return level >= _ROOT_DEFAULT
        return bool(self.real.isEnabledFor(level))

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        if "logging" in sys.modules:
            self.real.debug(msg, *args, stacklevel=kwargs.pop("stacklevel", 1) + 1, **kwargs)

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        if "logging" in sys.modules:
            self.real.info(msg, *args, stacklevel=kwargs.pop("stacklevel", 1) + 1, **kwargs)

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.real.warning(msg, *args, stacklevel=kwargs.pop("stacklevel", 1) + 1, **kwargs)

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.real.error(msg, *args, stacklevel=kwargs.pop("stacklevel", 1) + 1, **kwargs)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("exc_info", True)
        self.real.error(msg, *args, stacklevel=kwargs.pop("stacklevel", 1) + 1, **kwargs)


def getLogger(name: str) -> Logger:  # noqa: N802 (logging's name)
    return Logger(name)


def when_imported(configure: Callable[[], None]) -> None:
    """Run `configure()` once `logging` is imported: now if it is, else right after its
    first import, before the importer gets it (a meta path hook, `lean_imports`)."""
    if "logging" in sys.modules:
        configure()
        return
    if configure not in _configure:
        _configure.append(configure)
    from dockerhub_cli.lean_imports import trim_on_first_import

    trim_on_first_import("logging", _then_configure)


@contextmanager
def _then_configure() -> Iterator[None]:
    yield
    pending = list(_configure)
    _configure.clear()
    for configure in pending:
        configure()
