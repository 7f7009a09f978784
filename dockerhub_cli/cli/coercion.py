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
