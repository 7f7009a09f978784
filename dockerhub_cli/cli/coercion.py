"""Typer's coercion of command-line values, without a pydantic TypeAdapter per parameter.

Typer (0.29) turns every value a command receives into its annotated type through a pydantic
`TypeAdapter` built for that parameter (`typer._adapters`): importing that module pulls in
pydantic, and building the adapters for one command's dozen parameters costs a good part of a
warm run. The command spec's parameters are all of a few plain kinds (`str`, `int` and
`float` with bounds, `bool`, `list` of those, optional or not), and for those the answer is
simple whenever the value is well formed: a `str` as it is, digits as their number within the
bounds, a flag's `bool`.

`runtime_param()` gives Typer a coercion of its own kind (`typer._coercion.RuntimeParam`)
that answers those values directly and hands every other value (`" 5"`, `"1_0"`, `"5.0"`, a
number out of bounds, `"yes"` for a flag, ...) to Typer's own coercion for that parameter,
built only then: what is accepted, the value it becomes and the error's words stay Typer's.
A parameter of any other kind (a path, a choice of an Enum, a date, a file, a parser of its
own) gets `None` here, and so Typer's coercion from the start.

Typer's parameters look their coercion up with `get_runtime_param()`, which builds it into
`_runtime_param` when that is None; `cli.app`'s parameter classes fill it from here first.
These names are Typer's private layout: tests/unit/test_coercion.py fails when a Typer
update moves them, and compares this coercion with Typer's for every parameter of the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_args

from typer._click import Context
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param

from dockerhub_cli.cli import values
from dockerhub_cli.cli.values import UNDECIDED

Leaf = Callable[[Any], Any]
_text, _flag, _integer, _number = values.text, values.flag, values.integer, values.number


def leaf_coercion(descriptor: TypeDescriptor) -> tuple[Leaf, bool] | None:
    """The plain coercion of one value of this parameter, and whether the parameter takes a
    list of them; None when the parameter is of a kind left to Typer."""
    info = descriptor.parameter_info
    if (
        descriptor.file_annotation is not None
        or info.parser is not None
        or info.clamp
        or descriptor.is_tuple
        or descriptor.is_choice
        or descriptor.is_path
    ):
        return None
    annotation: Any = descriptor.annotation
    many = descriptor.is_list
    if many:
        items = get_args(annotation)
        if len(items) != 1:
            return None
        annotation = items[0]
    if annotation is str:
        return _text, many
    if annotation is bool:
        return _flag, many
    if annotation is int:
        return _integer(info.min, info.max), many
    if annotation is float:
        return _number(info.min, info.max), many
    return None


@dataclass(frozen=True)
class PlainRuntimeParam(RuntimeParam):
    """Coercion of a plain parameter's well-formed values; any other value goes to Typer's
    own coercion for the parameter (built the first time one comes)."""

    descriptor: TypeDescriptor
    leaf: Leaf
    many: bool
    _typer: list[RuntimeParam] = field(default_factory=list, compare=False, repr=False)

    def _coerce_value(self, value: Any, param: Any, ctx: Context) -> Any:
        if self.many:
            if isinstance(value, (list, tuple)):
                items = [self.leaf(item) for item in value]
                if not any(item is UNDECIDED for item in items):
                    return items
        else:
            plain = self.leaf(value)
            if plain is not UNDECIDED:
                return plain
        return self.typer()._coerce_value(value, param=param, ctx=ctx)

    def typer(self) -> RuntimeParam:
        """Typer's own coercion of this parameter."""
        if not self._typer:
            self._typer.append(build_runtime_param(self.descriptor))
        return self._typer[0]


def runtime_param(descriptor: TypeDescriptor) -> RuntimeParam | None:
    """Our coercion for a parameter of a plain kind, else None (Typer's own then)."""
    plain = leaf_coercion(descriptor)
    if plain is None:
        return None
    leaf, many = plain
    return PlainRuntimeParam(
        parameter_info=descriptor.parameter_info,
        annotation=descriptor.annotation,
        descriptor=descriptor,
        leaf=leaf,
        many=many,
    )


def bad_number_message(exc: Exception) -> str | None:
    """Our words for a number parameter's bad value, in place of Typer's (pydantic's `Input
    should be greater than or equal to 0`): one line naming the option and its bounds, as the
    other bad-value messages do (`--max-pulls must be a whole number of at least 0`). None for
    any other error: it keeps Typer's words. Typer's coercion still decides what is accepted
    (this only words its refusal), so both coercions end in the same line."""
    if type(exc).__name__ != "BadParameter":
        return None
    param = getattr(exc, "param", None)
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None:
        return None
    kind: Any = descriptor.annotation
    if descriptor.is_list:
        items = get_args(kind)
        kind = items[0] if len(items) == 1 else None
    elif get_args(kind):  # `int | None`
        kinds = [k for k in get_args(kind) if k is not type(None)]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind not in (int, float):
        return None
    info = descriptor.parameter_info
    low, high = info.min, info.max
    if low is not None and high is not None:  # the service's words for its bounds
        bounds = f" between {low:g} and {high:g}"
    elif low is not None:
        bounds = f" of at least {low:g}"
    elif high is not None:
        bounds = f" of at most {high:g}"
    else:
        bounds = ""
    opts = list(getattr(param, "opts", []) or [])
    name = next((o for o in opts if o.startswith("--")), opts[0] if opts else None)
    if getattr(param, "param_type_name", "") == "argument" or name is None:
        name = str(getattr(param, "human_readable_name", "") or "the value").upper()
    what = "a whole number" if kind is int else "a number"
    got = _refused_input(exc)
    return f"{name} must be {what}{bounds}" + (f" (got {got!r})" if got is not None else "")


def _refused_input(exc: Exception) -> str | None:
    """The value Typer's coercion refused, from the pydantic ValidationError it chains (None
    when it does not: the message then goes without it)."""
    cause = exc.__cause__ or exc.__context__
    errors = getattr(cause, "errors", None)
    try:
        value = errors()[0].get("input") if callable(errors) else None
    except Exception:  # noqa: BLE001 - only words: a failure to find the value costs them
        return None
    return value if isinstance(value, str) else None
