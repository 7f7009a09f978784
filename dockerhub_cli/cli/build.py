"""Typer commands built from the command spec (`dockerhub_cli.commands`), on demand.

The root group (`LazyGroup`) knows every command's name and summary from the spec; it builds a
command's Typer signature only when that command is looked up (run, `COMMAND --help`,
completion), so running one command never pays for parsing the others. `group.commands`
behaves like Click's dict: reading one entry builds that one command, iterating builds all
(the man page generator does that).

A command's generic body: check the parameters' bounds, call the operation (a service
method, or a function of the settings) under a spinner, word the advice markers in the result
for the CLI (`--platform`), emit it with the command's renderer, print its notes as warnings.
A `cli_body` in the spec replaces the body (prompts, a server, a bare path).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import nullcontext
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from dockerhub_cli import advice, commands
from dockerhub_cli.commands import Command, Param

# -- wording the advice markers for people at a terminal ---------------------------------------

_current: list[Command] = []  # the command being run (for its own flag names)


def cli_words(text: str) -> str:
    """`text` with advice markers in the CLI's words (`--platform`, `dockerhub tags nginx`)."""
    command = _current[-1] if _current else None

    def param(name: str, value: str | None) -> str:
        flag = commands.cli_flag(name, command)
        return f"{flag} {value}" if value else flag

    def cmd(name: str, args: str | None) -> str:
        return f"`dockerhub {name}{' ' + args if args else ''}`"

    return advice.word(text, param=param, command=cmd)


# -- parameters -> a Typer signature ------------------------------------------------------------


def _annotation(p: Param) -> Any:
    base: Any = {"str": str, "int": int, "float": float, "bool": bool, "list[str]": list[str]}[
        p.type
    ]
    if p.default is None and p.type != "bool":
        base = base | None
    kwargs: dict[str, Any] = {"help": p.help or None}
    if p.metavar:
        kwargs["metavar"] = p.metavar
    if p.minimum is not None:
        kwargs["min"] = p.minimum
    if p.maximum is not None:
        kwargs["max"] = p.maximum
    if p.envvar:
        kwargs["envvar"] = p.envvar
    if p.argument:
        info = typer.Argument(**kwargs)
    else:
        info = typer.Option(*p.flags, **kwargs)
    return Annotated[base, info]


def parameter(p: Param) -> inspect.Parameter:
    default = inspect.Parameter.empty if p.required else p.default
    return inspect.Parameter(
        p.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=_annotation(p)
    )


def check(command: Command, values: dict[str, Any]) -> dict[str, Any]:
    """The values with choices normalised; bounds Typer does not check raise a usage error."""
    from dockerhub_cli.errors import InvalidInputError

    out = dict(values)
    for p in command.cli_params():
        value = out.get(p.name)
        if value is None:
            continue
        if p.type == "list[str]":
            if not value:
                out[p.name] = None
                continue
            if p.choices:
                canonical: list[str] = []
                for item in value:
                    one = p.canonical(str(item))
                    if one is None:
                        raise InvalidInputError(
                            f"{p.flag} must be one of {', '.join(p.accepted)} (got {item!r})"
                        )
                    canonical.append(one)
                out[p.name] = value = canonical
            if p.max_length is not None and len(value) > p.max_length:
                raise InvalidInputError(
                    f"{p.flag} accepts at most {p.max_length} values (got {len(value)})"
                )
            for item in value:
                if p.item_max_length is not None and len(item) > p.item_max_length:
                    raise InvalidInputError(
                        f"{p.flag} must be at most {p.item_max_length} characters each"
                    )
        if p.type != "str":
            continue
        if p.choices:
            chosen = p.canonical(str(value))
            if chosen is None:
                raise InvalidInputError(
                    f"{p.flag} must be one of {', '.join(p.choices)} (got {value!r})"
                )
            out[p.name] = chosen
        elif p.pattern is not None and re.search(p.pattern, str(value)) is None:
            raise InvalidInputError(f"{p.flag} must be {p.pattern_help or p.pattern}")
        elif p.max_length is not None and len(value) > p.max_length:
            raise InvalidInputError(
                f"{p.flag} must be at most {p.max_length} characters (got {len(value)})"
            )
    return out


# -- the generic body -----------------------------------------------------------------------------


def call_operation(command: Command, values: dict[str, Any]) -> Any:
    """Run the command's operation: arguments positionally, options as keywords."""
    from dockerhub_cli.cli.app import get_service, run_settings

    assert command.operation is not None
    ops = [p for p in command.cli_params() if p.operation]
    args = [values[p.name] for p in ops if p.argument]
    kwargs = {
        p.name: values[p.name]
        for p in ops
        if not p.argument and not (p.pass_if_set and values[p.name] in (None, [], ()))
    }
    if ":" in command.operation:
        return commands.resolve(command.operation)(run_settings(), *args, **kwargs)
    return getattr(get_service(), command.operation)(*args, **kwargs)


def generic_body(command: Command) -> Callable[..., None]:
    def body(json_output: bool = False, **values: Any) -> None:
        from dockerhub_cli import render
        from dockerhub_cli.cli.app import warn_notes

        values = check(command, values)
        spinner = (
            render.progress(command.progress.format(**values))
            if command.progress
            else nullcontext()
        )
        with spinner:
            result = call_operation(command, values)
        result = advice.word_model(result, cli_words)
        renderer = command.render
        if command.render_flag is not None and values.get(command.render_flag[0]):
            renderer = command.render_flag[1]
        assert renderer is not None
        render.emit(result, json_output=json_output, render=commands.resolve(renderer))
        if command.warn_notes == "always" or (command.warn_notes and not json_output):
            warn_notes(result.notes)
        if command.cli_exit is not None:
            code = commands.resolve(command.cli_exit)(result)
            if code:
                raise typer.Exit(code)

    return body


def _takes_json(target: str) -> bool:
    return "json_output" in inspect.signature(commands.resolve(target)).parameters


def custom_body(command: Command) -> Callable[..., None]:
    assert command.cli_body is not None
    target = command.cli_body

    def body(**values: Any) -> None:
        commands.resolve(target)(**check(command, values))

    return body


def build(command: Command) -> Any:
    """The Click command Typer makes for one spec entry."""
    from dockerhub_cli.cli.app import wrap

    params = [parameter(p) for p in command.cli_params()]
    fn = custom_body(command) if command.cli_body else generic_body(command)

    def run(**values: Any) -> None:
        _current.append(command)
        try:
            fn(**values)
        finally:
            _current.pop()

    if command.output and (not command.cli_body or _takes_json(command.cli_body)):
        json_option = commands.OUTPUT_OPTIONS[-1]
        if command.json_help:
            json_option = json_option.replace(help=command.json_help)
        params.append(parameter(json_option))  # its own --json
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__name__ = command.path[-1].replace("-", "_")
    wrapper = wrap(run, output=command.output)
    single = typer.Typer(add_completion=False)
    single.command(
        command.path[-1],
        help=command.help,
        rich_help_panel=command.group.title(),
    )(wrapper)
    return typer.main.get_command(single)


# -- the lazy groups ------------------------------------------------------------------------------


class LazyCommands(MutableMapping[str, Any]):
    """Click's `commands` dict, filled from the spec on first read of each name."""

    def __init__(self, prefix: tuple[str, ...], built: MutableMapping[str, Any]) -> None:
        self.prefix = prefix
        self.built = dict(built)

    def _names(self) -> list[str]:
        names = list(commands.children(self.prefix))
        return names + [n for n in self.built if n not in names]

    def __getitem__(self, name: str) -> Any:
        if name not in self.built:
            if name not in commands.children(self.prefix):
                raise KeyError(name)
            path = (*self.prefix, name)
            key = " ".join(path)
            if key in commands.SUBGROUPS:
                self.built[name] = subgroup(path)
            else:
                self.built[name] = build(commands.get(key))
        return self.built[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self.built[name] = value

    def __delitem__(self, name: str) -> None:
        del self.built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self.built or name in commands.children(self.prefix)


class LazyGroup(TyperGroup):
    """A Typer group whose commands come from the spec, built when looked up."""

    prefix: tuple[str, ...] = ()

    def __init__(self, *args: Any, prefix: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prefix = prefix
        self.commands = LazyCommands(prefix, self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.commands.get(cmd_name)


def subgroup(path: tuple[str, ...]) -> LazyGroup:
    group, help_text = commands.SUBGROUPS[" ".join(path)]
    return LazyGroup(
        name=path[-1],
        prefix=path,
        help=help_text,
        no_args_is_help=True,
        rich_help_panel=group.title(),
    )
