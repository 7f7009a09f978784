"""The plain coercion of one command-line value, shared by `cli/coercion.py` (inside Typer)
and `cli/front.py` (before Typer): a `str` as it is, digits as their number within the
bounds, a flag's `bool`. Anything else is `UNDECIDED`: Typer's own coercion decides it (its
value, or its error's words). Only the standard library: the front imports this before Typer.
"""

from __future__ import annotations

import math
import re
from typing import Any

# A value the plain path does not decide: Typer's own coercion does.
UNDECIDED: Any = object()

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
_DECIMAL = re.compile(
    r"[+-]?(?:[0-9]{1,30}\.?[0-9]{0,30}|\.[0-9]{1,30})(?:[eE][+-]?[0-9]{1,3})?", re.ASCII
)


def text(value: Any) -> Any:
    return value if type(value) is str else UNDECIDED


def flag(value: Any) -> Any:
    return value if type(value) is bool else UNDECIDED


def _bounded(number: Any, low: float | None, high: float | None) -> Any:
    if (low is not None and number < low) or (high is not None and number > high):
        return UNDECIDED  # Typer's words for the bound
    return number


def integer(low: float | None, high: float | None) -> Any:
    def coerce(value: Any) -> Any:
        if type(value) is int:
            return _bounded(value, low, high)
        if type(value) is str and _INTEGER.fullmatch(value):
            return _bounded(int(value), low, high)
        return UNDECIDED

    return coerce


def number(low: float | None, high: float | None) -> Any:
    def coerce(value: Any) -> Any:
        if type(value) is float or (type(value) is int and abs(value) <= 2**53):
            result = float(value)
        elif type(value) is str and _DECIMAL.fullmatch(value):
            result = float(value)
        else:
            return UNDECIDED
        return _bounded(result, low, high) if math.isfinite(result) else UNDECIDED

    return coerce
