"""The bounded JSON loader refuses over-deep nesting before the C scanner recurses.

Left to the C scanner, a 100,000-deep document climbs to the interpreter's recursion limit
before it fails. A garbage collection that falls there (it falls wherever an allocation crosses
the gen-0 threshold, so which test it hits depends on the tests before it) runs finalizers with
no stack left: `Exception ignored in ... RecursionError`, which pytest reports against whatever
test is running (the flaky `test_row9_hub_search_nested_deep_is_a_clean_error`).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest

from dockerhub_cli.oci import jsonlimits
from tests.support.hostile import deep_json

FINALIZER_FRAMES = 30  # what a finalizer may need: a socket close, a log line, a weakref callback


def _needs_frames(k: int) -> int:
    return 0 if k == 0 else _needs_frames(k - 1)


@pytest.fixture
def stack_short_at_collection() -> Iterator[list[int]]:
    """Collect at every allocation; record each collection that ran without room for a finalizer."""
    short: list[int] = []

    def probe(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            try:
                _needs_frames(FINALIZER_FRAMES)
            except RecursionError:
                short.append(info["generation"])

    threshold = gc.get_threshold()
    gc.callbacks.append(probe)
    gc.set_threshold(1)
    try:
        yield short
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(probe)


@pytest.mark.parametrize(
    "body",
    [
        b'{"results":' + deep_json(100_000) + b"}",
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        ("[" * 50_000 + "1" + "]" * 50_000).encode("utf-16"),  # json.loads reads UTF-16 too
        "[" * 50_000,  # str, and never closed
    ],
    ids=["arrays", "objects", "utf-16", "str-unclosed"],
)
def test_deep_nesting_is_refused_before_the_stack_runs_out(
    body: bytes | str, stack_short_at_collection: list[int]
) -> None:
    with pytest.raises(jsonlimits.JSONLimitError, match="nested more than 64 levels"):
        jsonlimits.loads(body)
    assert stack_short_at_collection == []


@pytest.mark.parametrize(
    "text",
    [
        '["' + "[" * 200 + '"]',  # brackets inside a string are text
        '["\\\\", ' + "[" * 10 + "]" * 10 + "]",  # an escaped backslash ends before the quote
        '["\\"' + "[" * 200 + '"]',  # an escaped quote does not end the string
        '{"k{[": ' + "[" * 63 + "]" * 63 + "}",  # 64 deep; the brackets in the key are text
    ],
)
def test_brackets_in_strings_do_not_count(text: str) -> None:
    assert jsonlimits.loads(text) == json.loads(text)
    assert jsonlimits.loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize("depth", [64, 65])
def test_the_limit_is_exact(depth: int) -> None:
    text = '{"a": ' * (depth - 1) + "[]" + "}" * (depth - 1)
    if depth <= jsonlimits.MAX_DEPTH:
        assert jsonlimits.loads(text) == json.loads(text)
    else:
        with pytest.raises(jsonlimits.JSONLimitError):
            jsonlimits.loads(text)


def test_depth_is_checked_past_the_first_chunk() -> None:
    wide = "[" + ",".join(["[]"] * 70_000) + "]"  # 140,000 brackets, 2 deep
    deep_late = wide[:-1] + "," + "[" * 65 + "]" * 65 + "]"
    assert len(jsonlimits.loads(wide)) == 70_000
    with pytest.raises(jsonlimits.JSONLimitError):
        jsonlimits.loads(deep_late)


def test_not_json_stays_a_decode_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        jsonlimits.loads("]]]" * 100)
    with pytest.raises(json.JSONDecodeError):
        jsonlimits.loads(b"[" * 10)
