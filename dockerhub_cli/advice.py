"""Advice as data: an operation names a parameter or a command, each front-end words it.

An error hint or a result note that tells the user what to do next must not be written in one
front-end's words ("pass --platform" means nothing to a model calling an MCP tool). Operations
write a marker instead:

    advice.param("platform")            -> CLI: --platform         MCP: platform
    advice.param("base", "IMAGE")       -> CLI: --base IMAGE       MCP: base=IMAGE
    advice.command("tags", "nginx")     -> CLI: `dockerhub tags nginx`   MCP: docker_list_tags

and the CLI (`cli/app.py`) and the MCP server (`mcp/server.py`) each turn markers into their
own words with `word()`, in one place each. A marker is plain text between two private-use
characters, so it survives str(), f-strings and the models' string fields unchanged.

Standard library only; no I/O.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKER = re.compile(f"{_OPEN}(param|command):([a-z][a-z0-9_ -]*?)(?:=([^{_CLOSE}]*))?{_CLOSE}")
# Fields of a result model that carry advice (never registry data, which is left alone).
# `verdict` (updates) is one line for people that quotes its `reason`.
ADVICE_FIELDS = frozenset({"notes", "reason", "hint", "limitations", "verdict"})


def param(name: str, value: str | None = None) -> str:
    """A reference to the parameter `name` (the Python / MCP name), optionally with a value."""
    return f"{_OPEN}param:{name}" + (f"={value}" if value is not None else "") + _CLOSE


def command(name: str, args: str | None = None) -> str:
    """A reference to the command `name` (its CLI name, e.g. "tags" or "cache info")."""
    return f"{_OPEN}command:{name}" + (f"={args}" if args else "") + _CLOSE


def has_markers(text: str) -> bool:
    return _OPEN in text


def word(
    text: str,
    *,
    param: Callable[[str, str | None], str],
    command: Callable[[str, str | None], str],
) -> str:
    """`text` with every marker replaced by `param(name, value)` or `command(name, args)`."""
    if _OPEN not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        kind, name, value = match.group(1), match.group(2), match.group(3)
        return param(name, value) if kind == "param" else command(name, value)

    return _MARKER.sub(replace, text)


def plain(text: str) -> str:
    """Front-end-neutral words (for `str()` of an error, library users, logs): a parameter
    as `platform` or `base=IMAGE`, a command as `dockerhub tags nginx`."""
    return word(
        text,
        param=lambda name, value: f"`{name}={value}`" if value else f"`{name}`",
        command=lambda name, args: f"`dockerhub {name}{' ' + args if args else ''}`",
    )


def describe(exc: BaseException) -> str:
    """An error's message and hint with their markers kept (for a note that quotes it)."""
    message = getattr(exc, "message", None)
    if message is None:
        return str(exc)
    hint = getattr(exc, "hint", None)
    return f"{message} ({hint})" if hint else str(message)


def references(text: str) -> list[tuple[str, str, str | None]]:
    """The (kind, name, value) of every marker in `text` (for tests and docs)."""
    return [(m.group(1), m.group(2), m.group(3)) for m in _MARKER.finditer(text)]


def word_model(model: Any, wording: Callable[[str], str]) -> Any:
    """A copy of a result model whose advice fields (`notes`, `reason`, ...) are worded.

    Works on any pydantic model without importing pydantic (duck typing: `model_fields`,
    `model_copy`); returns `model` itself when nothing needed wording."""
    fields = getattr(type(model), "model_fields", None)
    if fields is None or _cannot_hold_advice(type(model)):
        return model
    update: dict[str, Any] = {}
    for name in fields:
        value = getattr(model, name)
        new = _word_value(value, wording, advice=name in ADVICE_FIELDS)
        if new is not value:
            update[name] = new
    return model.model_copy(update=update) if update else model


# Leaf types of a field annotation that never hold advice (nor a model that could).
_INERT_LEAVES: frozenset[Any] = frozenset(
    {str, int, float, bool, bytes, type(None), datetime, date, timedelta}
)
_inert_classes: dict[type, bool] = {}


def _cannot_hold_advice(cls: type) -> bool:
    """True when no instance of the model class `cls` can carry advice: none of its fields is
    an advice field, and their annotations are made only of scalars, enums, lists, tuples and
    dicts of those, and such models (decided once per class from `model_fields`)."""
    known = _inert_classes.get(cls)
    if known is not None:
        return known
    _inert_classes[cls] = False  # a model that contains itself: not provably inert
    fields = getattr(cls, "model_fields", None)
    inert = isinstance(fields, dict) and all(
        name not in ADVICE_FIELDS and _inert_annotation(getattr(info, "annotation", Any))
        for name, info in fields.items()
    )
    _inert_classes[cls] = inert
    return inert


def _inert_annotation(annotation: Any) -> bool:
    if annotation in _INERT_LEAVES:
        return True
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return True
        if hasattr(annotation, "model_fields"):
            return _cannot_hold_advice(annotation)
        return False
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return True
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _inert_annotation(args[0])
    if origin in (list, tuple, set, frozenset, dict, typing.Union, types.UnionType):
        return all(a is Ellipsis or _inert_annotation(a) for a in args)
    return False


def _all_cannot_hold_advice(values: list[Any]) -> bool:
    first = type(values[0])
    return _cannot_hold_advice(first) and all(type(v) is first for v in values)


def _word_value(value: Any, wording: Callable[[str], str], *, advice: bool) -> Any:
    if isinstance(value, str):
        if advice and _OPEN in value:
            return wording(value)
        return value
    if isinstance(value, list):
        if not advice and value and _all_cannot_hold_advice(value):
            return value  # e.g. 50,000 Tag rows: nothing in them is advice
        items = [_word_value(v, wording, advice=advice) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        changed = {k: _word_value(v, wording, advice=advice) for k, v in value.items()}
        return changed if any(changed[k] is not value[k] for k in value) else value
    if hasattr(type(value), "model_fields"):
        return word_model(value, wording)
    return value
