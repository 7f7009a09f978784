"""The one bounded JSON loader for everything a registry, the Hub or OSV sends.

Pure (no I/O). `json.loads` on hostile bytes can raise RecursionError (deep nesting) or produce
integers of thousands of digits that later overflow (`float(size)`, `struct`, Rich). Here:

* nesting deeper than `MAX_DEPTH` (arrays + objects) is refused BEFORE the C scanner runs
  (`_nesting_depth_exceeds`: a scan of the brackets outside strings, at C speed). The C scanner
  recurses once per level; left to meet a 100,000-deep document it would climb to the
  interpreter's recursion limit, and a garbage collection that falls there runs finalizers
  (`__del__`, weakref callbacks) with no stack left: "Exception ignored ... RecursionError";
* an integer outside `[MIN_INT, MAX_INT]` (signed 64 bit, the range of every size and count in
  the OCI and Hub formats) is refused, named, before Python builds it;
* non-finite floats (`1e999`, `NaN`, `Infinity`) are refused.

Every refusal is a `JSONLimitError` (a ValueError), so callers that already turn "not JSON"
into an upstream error keep doing so, with a message that says what was wrong.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
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


# Every byte that is not a quote or a bracket; `bytes.translate` deletes them at C speed.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
# Opening brackets to +1, closing to -1 (0xff as a signed byte).
_SIGNS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_CHUNK = 1 << 16
_ESCAPED_QUOTE_OR_BACKSLASH = re.compile(rb'\\[\\"]')


def _as_utf8(body: bytes | str) -> bytes:
    """The document as UTF-8 bytes, as `json.loads` will read it (it also accepts UTF-16/32)."""
    if isinstance(body, str):
        return body.encode("utf-8", "surrogatepass")
    encoding = json.detect_encoding(body)
    if encoding in ("utf-8", "utf-8-sig"):
        return body
    return body.decode(encoding, "surrogatepass").encode("utf-8", "surrogatepass")


def _nesting_depth_exceeds(body: bytes | str, limit: int) -> bool:
    """Whether the brackets outside strings nest deeper than `limit`, without parsing.

    Exact for valid JSON; for invalid JSON it never underestimates the depth the C scanner
    reaches before it stops at the first error. No Python work per byte: bytes.count, replace,
    translate and split, then a running sum in C over the brackets only, chunked to stop early.
    """
    raw = _as_utf8(body)
    # Only `\\` and `\"` can hide a quote; drop them, left to right as a run of backslashes
    # reads. Every quote left is then a string delimiter.
    if b"\\" in raw:
        raw = _ESCAPED_QUOTE_OR_BACKSLASH.sub(b"", raw)
    structure = raw.translate(None, _NOT_STRUCTURE)
    if structure.count(b"[") + structure.count(b"{") <= limit:
        return False
    # Two adjacent quotes have no bracket between them: dropping them keeps every other quote's
    # role. After this one pass only strings that hold brackets keep their quotes (usually none).
    structure = structure.replace(b'""', b"")
    if b'"' in structure:
        structure = b"".join(structure.split(b'"')[::2])  # even parts lie outside strings
    signs = memoryview(structure.translate(_SIGNS)).cast("b")
    depth = 0
    for start in range(0, len(signs), _CHUNK):
        chunk = signs[start : start + _CHUNK]
        if max(accumulate(chunk, initial=depth)) > limit:
            return True
        depth += sum(chunk)
    return False


def loads(body: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` with bounded nesting and numbers. Raises ValueError (JSONLimitError for a
    limit, json.JSONDecodeError/UnicodeDecodeError for bytes that are not JSON)."""
    if _nesting_depth_exceeds(body, max_depth):
        raise JSONLimitError(f"JSON nested more than {max_depth} levels deep")
    try:
        data = json.loads(
            body,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except RecursionError:  # pragma: no cover - refused above; kept for a max_depth near the limit
        raise JSONLimitError(f"JSON nested more than {max_depth} levels deep") from None
    return data


def describe(exc: ValueError) -> str:
    """A short reason for a refusal: the limit, or "not valid JSON"."""
    if isinstance(exc, JSONLimitError):
        return str(exc)
    return "not valid JSON"
