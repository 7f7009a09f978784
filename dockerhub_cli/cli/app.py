"""The Typer application: Typer commands built from the command spec (`dockerhub_cli.commands`),
on demand, and the shared options.

The root group (`LazyGroup`) knows every command's name and summary from the spec; it builds a
command's Typer signature only when that command is looked up (run, `COMMAND --help`,
completion), so running one command never pays for parsing the others. `group.commands`
behaves like Click's dict: reading one entry builds that one command, iterating builds all
(the man page generator does that).

A built command's function takes the command's parameters, the output options (`--json`
unless the command declares its own, `--format`, `--quiet`) and the global options
(`--no-cache`, `--offline`, `--insecure`, `--debug`, ...; accepted before the command name
too), and hands them to `cli.run.invoke`: the run-time edge (the generic body, the error edge
that maps every error, once, to a one-line message on stderr and an exit code) lives in
`cli/run.py`, which imports no Typer, so that the front (`cli/front.py`) can run a
well-formed command line through the same edge without Typer.
"""

from __future__ import annotations

import functools
import inspect
import sys
import typing
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from dockerhub_cli import __version__, commands
from dockerhub_cli.cli import run as _runtime
from dockerhub_cli.cli.run import (  # re-exported: the bodies' and the tests' names
    _DEFAULT_OUTPUT,
    Reuse,
    RunOptions,
    _current,
    _warned,
    call_operation,
    check,
    cli_words,
    custom_body,
    generic_body,
    get_service,
    network_detail,
    run_cost,
    run_guarded,
    run_options,
    run_settings,
    warn_notes,
)
from dockerhub_cli.commands import Command, Param


def __getattr__(name: str) -> Any:
    if name == "_run":  # the run's options: rebound by every run (`cli.run.start`)
        return _runtime._run
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- parameters -> a Typer signature ------------------------------------------------------------


def _annotation(p: Param) -> Any:
    base: Any = {"str": str, "int": int, "float": float, "bool": bool, "list[str]": list[str]}[
        p.type
    ]
    if p.default is None and p.type != "bool":
        base = base | None
    kwargs: dict[str, Any] = {"help": p.help or None}
    metavar = value_metavar(p)
    if metavar:
        kwargs["metavar"] = metavar
    if (p.choices or p.suggestions) and not p.argument:
        kwargs["autocompletion"] = _choice_completion(p)
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


def value_metavar(p: Param) -> str | None:
    """What the help shows for a parameter's value: the spec's metavar, else the choices
    (`updated|name|semver`), `N` for a whole number, `NUMBER`, or the argument's name in
    capitals (`REPOSITORY`); a flag shows none."""
    if p.metavar:
        return p.metavar
    if p.type == "bool":
        return None
    if p.choices:
        return "|".join(p.choices)
    if p.argument:
        return p.name.upper()
    return {"int": "N", "float": "NUMBER"}.get(p.type, "TEXT")


def _choice_completion(p: Param) -> Callable[[str], list[str]]:
    """Shell completion of the spec's choices, or of its suggestions (`--platform`: the common
    platforms; any other value is accepted all the same)."""
    offered = p.choices or p.suggestions

    def complete(incomplete: str) -> list[str]:
        return [c for c in offered if c.startswith(incomplete.lower())]

    return complete


def reflow(text: str) -> str:
    """Help text with each paragraph on one line (the help wraps it to the terminal), except
    a paragraph whose lines are a list or an indented block, which keeps its line breaks."""
    paragraphs = []
    for paragraph in text.strip().split("\n\n"):
        lines = paragraph.split("\n")
        keep = len(lines) > 1 and all(
            line[:1] in ("-", "*", " ", "\b") or line.startswith("Example") for line in lines[1:]
        )
        paragraphs.append(paragraph if keep else " ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


def _literal(text: str) -> str:
    """Text for Typer's Rich help, which reads markup: brackets taken literally
    (`[[registries]]`, `oci:DIR[:REF]`)."""
    return text.replace("[", "\\[")


def _plain_coercion(param: TyperOption | TyperArgument) -> None:
    """Give the parameter our coercion if it is of one of the spec's plain kinds
    (`cli/coercion.py`: no pydantic TypeAdapter per parameter); Typer's `get_runtime_param`
    builds its own for any other."""
    if param._runtime_param is None:
        try:
            from dockerhub_cli.cli.coercion import runtime_param
        except ImportError:  # Typer's layout moved (tests/unit/test_coercion.py says so)
            pass
        else:
            param._runtime_param = runtime_param(param.type_descriptor)


class HelpOption(TyperOption):
    """An option as `--help` shows it: a flag shows no value, a value its metavar, a range
    only when the help text does not already say it. Its values are coerced without a
    pydantic TypeAdapter when it is of a plain kind (`_plain_coercion`)."""

    def get_runtime_param(self) -> Any:
        _plain_coercion(self)
        return super().get_runtime_param()

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return super().display_type_rich(ctx)

    def _get_number_range_help_str(self) -> str | None:
        return _range(self.min, self.max, self.help)


class HelpArgument(TyperArgument):
    """An argument as `--help` and the usage line show it: `IMAGE`, `[REGISTRY]`, `FILE...`;
    coerced like `HelpOption`."""

    def get_runtime_param(self) -> Any:
        _plain_coercion(self)
        return super().get_runtime_param()

    def _name(self) -> str:
        name = self.metavar or (self.name or "").upper()
        if self.nargs != 1 and not name.endswith("..."):
            name += "..."
        return name

    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the name column already says it

    def _rich_display_name(self) -> str:
        return self._name()

    def _usage_display_name(self) -> str:
        return self._name() if self.required else f"[{self._name()}]"

    def _get_number_range_help_str(self) -> str | None:
        return _range(self.min, self.max, self.help)


def _range(low: Any, high: Any, help_text: str | None) -> str | None:
    if low is None or high is None or f"{low}-{high}" in (help_text or ""):
        return None
    return f"{low}-{high}"


def _help_classes(params: list[Any]) -> None:
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = HelpOption
        elif type(param) is TyperArgument:
            param.__class__ = HelpArgument


@contextmanager
def _broken_pipe_quiet() -> Iterator[None]:
    """Typer prints help with a Rich console of its own, which exits 1 when the reader of
    stdout left (`dockerhub tags --help | head -1`), after pointing stdout at /dev/null: that
    exit becomes a quiet 0. (And its Rich help module is loaded lean: `cli/richhelp.py`.)"""
    import os

    def on_devnull() -> bool:
        try:
            return os.path.samestat(os.fstat(sys.stdout.fileno()), os.stat(os.devnull))
        except (AttributeError, OSError, ValueError):
            return False

    before = on_devnull()
    from dockerhub_cli.cli import richhelp

    richhelp.load()  # Typer's Rich help, without rich.markdown and rich.traceback
    try:
        yield
    except SystemExit as done:
        if done.code == 1 and not before and on_devnull():
            from dockerhub_cli.render import close_broken_stdout

            close_broken_stdout()
            raise typer.Exit(0) from None
        raise


class SpecCommand(TyperCommand):
    """A command built from the spec, with the help's metavars in its own words."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _help_classes(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _help_classes([option])
        return option

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with _broken_pipe_quiet():
            self._format_help(ctx, formatter)

    def _format_help(self, ctx: Any, formatter: Any) -> None:
        import typer.core

        if not typer.core.HAS_RICH or self.rich_markup_mode != "rich":
            return super().format_help(ctx, formatter)
        # Typer's Rich help reads the help texts as markup: show them as written.
        texts: list[Any] = [p for p in self.get_params(ctx) if getattr(p, "help", None)]
        saved = self.help, [p.help for p in texts]
        try:
            self.help = _literal(self.help or "")
            for p in texts:
                p.help = _literal(p.help)
            return super().format_help(ctx, formatter)
        finally:
            self.help = saved[0]
            for p, text in zip(texts, saved[1], strict=True):
                p.help = text


def parameter(p: Param) -> inspect.Parameter:
    default = inspect.Parameter.empty if p.required else p.default
    return inspect.Parameter(
        p.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=_annotation(p)
    )


def build(command: Command) -> Any:
    """The Click command Typer makes for one spec entry."""

    params = [parameter(p) for p in command.cli_params()]
    run = _runtime.command_body(command)
    if _runtime.own_json(command):
        json_option = commands.OUTPUT_OPTIONS[-1]
        if command.json_help:
            json_option = json_option.replace(help=command.json_help)
        params.append(parameter(json_option))  # its own --json
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    # Typer reads the signature; the call goes to the run-time edge, as the front's does.
    wrapper = wrap(run, output=command.output, call=lambda values: _runtime.invoke(command, values))
    single = typer.Typer(add_completion=False)
    single.command(
        command.path[-1],
        cls=SpecCommand,
        help=reflow(command.help),
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
        _help_classes(self.params)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.commands.get(cmd_name)

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        _help_classes(params)  # also the completion options Typer adds after __init__
        return params

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _help_classes([option])
        return option

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with _broken_pipe_quiet():
            super().format_help(ctx, formatter)


def subgroup(path: tuple[str, ...]) -> LazyGroup:
    group, help_text = commands.SUBGROUPS[" ".join(path)]
    return LazyGroup(
        name=path[-1],
        prefix=path,
        help=help_text,
        no_args_is_help=True,
        rich_help_panel=group.title(),
    )


F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="dockerhub",
    cls=LazyGroup,  # commands come from the spec, each built when it is looked up
    help=commands.APP_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"dockerhub {__version__}")
        raise typer.Exit()


_GLOBAL = {p.name: parameter(p) for p in commands.GLOBAL_OPTIONS}
_VERSION = inspect.Parameter(
    "version",
    inspect.Parameter.KEYWORD_ONLY,
    default=False,
    annotation=Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ],
)


def main_callback(version: bool = False, **options: Any) -> None:
    # Its options are the spec's GLOBAL_OPTIONS (the signature is set below).
    _runtime.start(version, **options)


main_callback.__doc__ = f"{commands.APP_HELP}\n\n{commands.APP_EPILOG}"
main_callback.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [_VERSION, *_GLOBAL.values()], return_annotation=None
)
app.callback()(main_callback)

_COMMON_PARAMS = [g.replace(kind=inspect.Parameter.KEYWORD_ONLY) for g in _GLOBAL.values()]
_OUTPUT_PARAMS = [parameter(p) for p in commands.OUTPUT_OPTIONS[:2]]
_JSON_PARAM = parameter(commands.OUTPUT_OPTIONS[2])


def command(
    name: str | None = None,
    *,
    group: typer.Typer | None = None,
    output: bool = True,
    **typer_kwargs: Any,
) -> Callable[[F], F]:
    """`@app.command()` for a command not (yet) in the spec: the common options, the output
    options and the error edge. Prefer a spec entry in `dockerhub_cli/commands.py`."""

    def decorate(fn: F) -> F:
        (group or app).command(name, **typer_kwargs)(wrap(fn, output=output))
        return fn

    return decorate


def wrap(
    fn: Callable[..., Any],
    *,
    output: bool = True,
    call: Callable[[dict[str, Any]], Any] | None = None,
) -> Callable[..., Any]:
    """`fn` with the common options (`--no-cache`, `--offline`, ...), the output options
    (`--json` unless `fn` declares its own, `--format`, `--quiet`) and the error edge
    (`cli.run.call_wrapped`; `call`, given the keywords, replaces that call).

    `output=False` leaves out --json/--format/--quiet, for commands that print no result
    model (e.g. `serve-mcp`, `config path`)."""
    # Resolve string annotations (modules use `from __future__ import annotations`) in the
    # command's own module, since Typer will read them from the wrapper.
    hints = typing.get_type_hints(fn, include_extras=True)
    signature = inspect.signature(fn)
    params = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
    ]
    own_json = "json_output" in signature.parameters
    own = {p.name for p in params}
    if output:
        params += [p for p in _OUTPUT_PARAMS if p.name not in own]
        if not own_json:
            params.append(_JSON_PARAM)
    params += _COMMON_PARAMS
    signature = signature.replace(return_annotation=hints.get("return", None))
    if call is None:

        def call(values: dict[str, Any]) -> Any:
            return _runtime.call_wrapped(fn, values, own_json=own_json, own=own, output=output)

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        assert call is not None
        return call(kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return wrapper


__all__ = [
    "_DEFAULT_OUTPUT",
    "Reuse",
    "RunOptions",
    "_current",
    "_warned",
    "app",
    "build",
    "call_operation",
    "check",
    "cli_words",
    "command",
    "custom_body",
    "generic_body",
    "get_service",
    "network_detail",
    "run_cost",
    "run_guarded",
    "run_options",
    "run_settings",
    "warn_notes",
    "wrap",
]
