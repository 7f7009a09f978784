"""Tool schemas made small for `tools/list`: every byte of it sits in a model's context.

pydantic writes JSON Schema for people reading it (a `title` on every property and model, a
`default: null` and an `anyOf [X, null]` on every optional field, `$defs` used once). A model
needs the shape only, so `compact()` rewrites a schema without changing what it accepts:

* `title` is dropped, and so is `additionalProperties: false` of output schemas (a server's
  own answer), `default: null` and, in output schemas, `description` and `default`;
* `anyOf: [X, {"type": "null"}]` becomes X with `"type": [..., "null"]` where X is one plain
  type (its own keywords kept);
* a `$defs` entry referenced once is written in place; entries used more than once stay
  shared in `$defs`;
* an output schema lists its top-level fields with their types, not which are `required`
  (with `field_types=False`, the field names alone);
* an optional argument (no default) says its type without `null`: a model leaves it out;
* `format` of output strings (date-time) goes too, and on request the length bounds of
  input strings (which the server checks itself);
* in an output schema, objects nested deeper than `depth` keep only their `type`: the field
  names of a result are in the result itself, and the top levels say what to expect.

Only the standard library: `dockerhub_cli.mcp.server` runs it once per tool at start-up.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["compact", "size"]

# Keywords whose value is a mapping of names to schemas (not a schema itself).
_NAMED = ("properties", "$defs", "patternProperties")
# Keywords whose value is one schema, or a list of schemas.
_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames")
_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")


def size(value: Any) -> int:
    """Bytes of `value` as compact JSON (what a client receives, near enough)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def compact(
    schema: dict[str, Any],
    *,
    output: bool = False,
    depth: int = 3,
    lengths: bool = True,
    field_types: bool = True,
) -> dict[str, Any]:
    """`schema` without the noise (see the module's docstring); the input is not modified.
    `lengths=False` also drops the length bounds of strings (the server checks them and names
    the bound in its one-line error)."""
    defs: dict[str, Any] = dict(schema.get("$defs") or {})
    uses: dict[str, int] = {}
    _count_refs(schema, uses)
    for name in list(defs):  # refs inside a definition count too
        _count_refs(defs[name], uses)
    shared = {name for name, n in uses.items() if n > 1 and name in defs}

    def resolve(node: dict[str, Any]) -> dict[str, Any] | None:
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            return None
        name = ref[len("#/$defs/") :]
        if name in shared or name not in defs:
            return None
        return {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}

    def walk(node: Any, level: int) -> Any:
        if not isinstance(node, dict):
            return node
        inline = resolve(node)
        if inline is not None:
            node = inline
        if output and level > depth and _is_object_like(node):
            return _collapsed(node, defs)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("title", "$defs"):
                continue
            if key == "default" and (value is None or output):
                continue
            if output and key in ("description", "examples", "format"):
                continue
            if not lengths and key in ("minLength", "maxLength"):
                continue
            if output and key == "additionalProperties" and value is False:
                continue
            if key in _NAMED and isinstance(value, dict):
                out[key] = {k: walk(v, level + 1) for k, v in value.items()}
            elif key in _ONE and isinstance(value, dict):
                out[key] = walk(value, level + 1)
            elif key in _MANY and isinstance(value, list):
                out[key] = [walk(v, level) for v in value]
            else:
                out[key] = value
        out = _merge_null(out)
        if not lengths and level == 1 and "default" not in out:
            out = _without_null(out)  # an optional argument: left out, never sent as null
        if output and level == 0:
            out.pop("required", None)
        return out

    result: dict[str, Any] = walk(schema, 0)
    if output and not field_types and isinstance(result.get("properties"), dict):
        # The field names alone: what a result holds, in the fewest bytes.
        result["properties"] = {name: {} for name in result["properties"]}
        result.pop("$defs", None)
        return result
    kept: dict[str, Any] = {}
    todo = _refs_in(result)
    while todo:  # the shared definitions still referenced, and the ones they reference
        name = todo.pop()
        if name in kept or name not in defs:
            continue
        kept[name] = walk(defs[name], 1)
        todo |= _refs_in(kept[name])
    if kept:
        result["$defs"] = dict(sorted(kept.items()))
    return result


def _collapsed(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Only the type of `node` (a `$ref`'s from its definition), nothing about its fields."""
    kind = node.get("type")
    ref = node.get("$ref")
    if kind is None and isinstance(ref, str) and ref.startswith("#/$defs/"):
        kind = (defs.get(ref[len("#/$defs/") :]) or {}).get("type")
    if kind is None and any(k in node for k in _MANY):
        kinds: list[str] = []
        for option in node.get("anyOf") or node.get("oneOf") or []:
            sub = _collapsed(option, defs) if isinstance(option, dict) else {}
            got = sub.get("type")
            if got is None:
                return {}
            kinds.extend(got if isinstance(got, list) else [got])
        kind = kinds[0] if len(kinds) == 1 else sorted(set(kinds)) or None
    return {"type": kind} if kind is not None else {}


def _refs_in(node: Any) -> set[str]:
    found: dict[str, int] = {}
    _count_refs(node, found)
    return set(found)


def _without_null(node: dict[str, Any]) -> dict[str, Any]:
    kind = node.get("type")
    if isinstance(kind, list) and "null" in kind and len(kind) == 2:
        out = {**node, "type": next(k for k in kind if k != "null")}
        if isinstance(out.get("enum"), list):
            out["enum"] = [v for v in out["enum"] if v is not None]
        return out
    return node


def _is_object_like(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return (
        "properties" in node
        or "$ref" in node
        or "object" in kinds
        or "array" in kinds
        or any(isinstance(o, dict) and _is_object_like(o) for o in node.get("anyOf") or ())
    )


def _merge_null(node: dict[str, Any]) -> dict[str, Any]:
    """`{"anyOf": [X, {"type": "null"}], ...}` -> X with "null" added to its type."""
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
        return node
    other = options[0] if options[1] == {"type": "null"} else options[1]
    kind = other.get("type") if isinstance(other, dict) else None
    if not isinstance(kind, str) or any(k in other for k in _MANY):
        return node
    rest = {k: v for k, v in node.items() if k != "anyOf"}
    if any(k in rest for k in other):  # a keyword on both levels: leave it as it was
        return node
    merged = {**other, "type": [kind, "null"], **rest}
    if isinstance(other.get("enum"), list) and None not in other["enum"]:
        merged["enum"] = [*other["enum"], None]
    return merged


def _count_refs(node: Any, uses: dict[str, int]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref[len("#/$defs/") :]
            uses[name] = uses.get(name, 0) + 1
        for key, value in node.items():
            if key != "$defs":
                _count_refs(value, uses)
    elif isinstance(node, list):
        for value in node:
            _count_refs(value, uses)
