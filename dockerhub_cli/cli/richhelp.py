"""Typer's Rich help without the parts of Rich it does not use for our help.

Typer prints `COMMAND --help` through `typer.rich_utils`, which imports `rich.markdown`
(markdown-it) and `rich.traceback` (`rich.syntax`, Pygments, `rich.pretty`) when it is
imported: about three quarters of what `dockerhub COMMAND --help` costs. It needs them only
for help written in Markdown (`rich_markup_mode="markdown"`; ours is `"rich"`) and for
pretty tracebacks (which this app turns off).

`load()` imports `typer.rich_utils` with two stand-ins in place of those modules for the
duration of that import: `Markdown` and `Traceback` there are then small classes that import
the real module the first time one is made and return the real object, so that should Typer
ever use them, it gets exactly what it would have got. The stand-ins leave `sys.modules`
once `rich_utils` is loaded: any other import of `rich.markdown` or `rich.traceback` gets the
real module. The help printed is the same, byte for byte (`tests/unit/test_cli_help.py`
compares it with Typer's own import, on a terminal and in a pipe, and fails if a Typer
update uses those names in another way).
"""

from __future__ import annotations

import sys
import types
from typing import Any

# What `typer.rich_utils` takes from each module it is given a stand-in for.
STAND_INS = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def _real(module: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), STAND_INS[module])


class Markdown:
    """`rich.markdown.Markdown`, imported when the first one is made."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return _real("rich.markdown")(*args, **kwargs)


class Traceback:
    """`rich.traceback.Traceback`, imported when the first one is made."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return _real("rich.traceback")(*args, **kwargs)

    @classmethod
    def from_exception(cls, *args: Any, **kwargs: Any) -> Any:
        return _real("rich.traceback").from_exception(*args, **kwargs)


_CLASSES = {"Markdown": Markdown, "Traceback": Traceback}


def load() -> None:
    """Import `typer.rich_utils` (once) without `rich.markdown` and `rich.traceback`."""
    if "typer.rich_utils" in sys.modules:
        return
    placed: dict[str, types.ModuleType] = {}
    for name, attribute in STAND_INS.items():
        if name in sys.modules:
            continue  # the real module is loaded already: rich_utils takes it
        stand_in = types.ModuleType(name, f"A stand-in for {name} (dockerhub_cli.cli.richhelp).")
        setattr(stand_in, attribute, _CLASSES[attribute])
        placed[name] = stand_in
    sys.modules.update(placed)
    try:
        import typer.rich_utils  # noqa: F401 - loaded for Typer's help
    finally:
        for name, stand_in in placed.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
