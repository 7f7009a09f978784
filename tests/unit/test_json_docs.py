"""docs/json.md's field lists are the models' fields: the top-level names of each `JSON:
`{...}`` sketch are exactly the fields of the command's result model (the `--json` and MCP
contract), so a field added, renamed or removed in a model fails here until the page says so."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from dockerhub_cli import commands

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
# Sections that also hold the sketch of another command's model.
ALSO = {"tags": ["same-tags"]}


def _model(name: str) -> Any:
    command = next(c for c in commands.COMMANDS if c.name == name)
    assert command.result, name
    module, _, attr = command.result.partition(":")
    return getattr(importlib.import_module(module), attr)


def top_level_names(sketch: str) -> list[str]:
    """The quoted names at depth 1 of `{...}`, skipping quoted values (after a colon)."""
    names, depth, i = [], 0, 0
    while i < len(sketch):
        ch = sketch[i]
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == '"':
            end = sketch.index('"', i + 1)
            before = sketch[:i].rstrip()
            if depth == 1 and not before.endswith(":"):
                names.append(sketch[i + 1 : end])
            i = end
        i += 1
    return names


def _sections() -> list[tuple[str, list[str]]]:
    found = []
    for match in re.finditer(r"^## `dockerhub ([a-z -]+)`\n(.*?)(?=^## |\Z)", PAGE, re.M | re.S):
        sketches = re.findall(r"JSON[^`]*?:\s*`(\{.*?\})`", match.group(2), re.S)
        found.append((match.group(1), sketches))
    return found


SECTIONS = _sections()


def test_every_command_with_a_result_has_a_section() -> None:
    documented = {name for name, _ in SECTIONS}
    wanted = {c.name for c in commands.COMMANDS if c.cli and c.result and c.output}
    assert documented <= wanted
    assert len(documented) >= 20


@pytest.mark.parametrize(("name", "sketches"), SECTIONS, ids=[n for n, _ in SECTIONS])
def test_sketch_lists_exactly_the_model_fields(name: str, sketches: list[str]) -> None:
    assert sketches, f"docs/json.md: `dockerhub {name}` has no JSON: `{{...}}` sketch"
    models = [_model(n) for n in [name, *ALSO.get(name, [])]]
    for sketch in sketches:
        shown = top_level_names(sketch)
        fields = [list(m.model_fields) for m in models]
        assert any(set(shown) == set(f) for f in fields), (
            name,
            "missing:",
            sorted(set(fields[0]) - set(shown)),
            "not in the model:",
            sorted(set(shown) - set(fields[0])),
        )


def test_top_level_names_skips_values_and_nesting() -> None:
    sketch = '{"a", "b": [{"c"}], "d": {"e"}, "f": "osv", "g" (x, y)}'
    assert top_level_names(sketch) == ["a", "b", "d", "f", "g"]
