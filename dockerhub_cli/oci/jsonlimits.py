"""The one bounded JSON loader for everything a registry, the Hub or OSV sends.

Pure (no I/O). `json.loads` on hostile bytes can raise RecursionError (deep nesting) or produce
integers of thousands of digits that later overflow (`float(size)`, `struct`, Rich). Here:

* nesting deeper than `MAX_DEPTH` (arrays + objects) is refused;
* an integer outside `[MIN_INT, MAX_INT]` (signed 64 bit, the range of every size and count in
  the OCI and Hub formats) is refused, named, before Python builds it;
* non-finite floats (`1e999`, `NaN`, `Infinity`) are refused.

Every refusal is a `JSONLimitError` (a ValueError), so callers that already turn "not JSON"
into an upstream error keep doing so, with a message that says what was wrong.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)
_MAX_INT_DIGITS = len(str(MAX_INT))  # 19


class JSONLimitError(ValueError):
    """The bytes are JSON, but outside what this tool accepts (depth, number range)."""


def _parse_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > _MAX_INT_DIGITS:
        raise JSONLimitError(f"an integer of {len(digits)} digits (more than 64 bits)")
    value = int(text)
    if not MIN_INT <= value <= MAX_INT:
        raise JSONLimitError(f"the integer {value} is outside the 64-bit range")
    return value


def _parse_float(text: str) -> float:
    if len(text) > 64:
        raise JSONLimitError(f"a number of {len(text)} characters")
    value = float(text)
    if not math.isfinite(value):
        raise JSONLimitError(f"the number {text[:20]} is not finite")
    return value


def _parse_constant(name: str) -> float:
    raise JSONLimitError(f"{name} is not a JSON number")


def _depth_ok(data: Any, limit: int) -> bool:
    """Whether `data` nests no deeper than `limit` containers (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def loads(body: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` with bounded nesting and numbers. Raises ValueError (JSONLimitError for a
    limit, json.JSONDecodeError/UnicodeDecodeError for bytes that are not JSON)."""
    try:
        data = json.loads(
            body,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except RecursionError:
        # The C scanner gives up cleanly at the interpreter's recursion limit.
        raise JSONLimitError(f"JSON nested more than {max_depth} levels deep") from None
    if not _depth_ok(data, max_depth):
        raise JSONLimitError(f"JSON nested more than {max_depth} levels deep")
    return data


def describe(exc: ValueError) -> str:
    """A short reason for a refusal: the limit, or "not valid JSON"."""
    if isinstance(exc, JSONLimitError):
        return str(exc)
    return "not valid JSON"
