"""The Typer application, the shared options, and the single error edge.

Commands are thin: parse options, call one `DockerHubService` method, `emit()` the model.
`command()` registers a function as a command and gives it the network options (`--no-cache`,
`--offline`, `--insecure`, `--debug`), which are accepted before the command name too, and the
output options (`--json` unless the command declares its own, `--format`, `--quiet`) that
`render.emit()` honours. It is also where every error is mapped, once, to a one-line message on
stderr and an exit code.

Typer commands built from the command spec (`dockerhub_cli.commands`), on demand.

The root group (`LazyGroup`) knows every command's name and summary from the spec; it builds a
command's Typer signature only when that command is looked up (run, `COMMAND --help`,
completion), so running one command never pays for parsing the others. `group.commands`
behaves like Click's dict: reading one entry builds that one command, iterating builds all
(the man page generator does that).

A command's generic body: check the parameters' bounds, call the operation (a service
method, or a function of the settings) under a spinner, word the advice markers in the result
for the CLI (`--platform`), emit it with the command's renderer, print its notes as warnings.
A `cli_body` in the spec replaces the body (prompts, a server, a bare path).

The command builders and the run-time edge live in one module because each needs the
other (a built command runs under `wrap`; `wrap` is applied by the builder).
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import sys
import typing
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from dockerhub_cli import __version__, advice, commands
from dockerhub_cli.commands import Command, Param
from dockerhub_cli.exitcodes import ExitCode

if TYPE_CHECKING:
    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.service import DockerHubService

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
    metavar = value_metavar(p)
    if metavar:
        kwargs["metavar"] = metavar
    if p.choices and not p.argument:
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
    def complete(incomplete: str) -> list[str]:
        return [c for c in p.choices if c.startswith(incomplete.lower())]

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
    exit becomes a quiet 0."""
    import os

    def on_devnull() -> bool:
        try:
            return os.path.samestat(os.fstat(sys.stdout.fileno()), os.stat(os.devnull))
        except (AttributeError, OSError, ValueError):
            return False

    before = on_devnull()
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


def network_detail() -> str:
    """What the spinner adds while a command works: the requests made so far (pages of tags,
    OSV lookups, blobs), so long work shows it is moving."""
    service = _run.service
    count = service.transport.network_requests if service is not None else 0
    return f"{count} request{'s' if count != 1 else ''}" if count else ""


def generic_body(command: Command) -> Callable[..., None]:
    def body(json_output: bool = False, **values: Any) -> None:
        from dockerhub_cli import render

        values = check(command, values)
        spinner = (
            render.progress(command.progress.format(**values), detail=network_detail)
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


@dataclass
class RunOptions:
    """Options that affect every command; set before or after the command name."""

    no_cache: bool = False
    offline: bool = False
    insecure: bool = False
    debug: bool = False
    cache_backend: str | None = None
    stats: bool = False  # --stats: the cost line on stderr, `cost` in JSON objects
    max_pulls: int | None = None  # --max-pulls (serve-mcp: per tool call)
    # A long-lived server (serve-mcp) wants the per-host circuit breaker on unless the user
    # said otherwise with DOCKERHUB_CIRCUIT_BREAKER; one-shot commands leave it off.
    long_lived: bool = False
    service: DockerHubService | None = field(default=None, repr=False)
    # Filled in when the command's service closes: may its output be reused, and until when
    # (for the result cache, see `dockerhub_cli.result_cache`).
    reuse: Reuse | None = None


@dataclass(frozen=True)
class Reuse:
    """Whether every response a command used was a fresh HTTP cache entry, and the earliest
    expiry among them (None: none of them expires), with the TTLs in force."""

    reusable: bool
    until: float | None
    ttls: dict[str, int]


_run = RunOptions()


def run_options() -> RunOptions:
    return _run


def run_settings() -> Settings:
    """The effective settings: the global flags of this run over env, config file, defaults."""
    import os

    from dockerhub_cli.config.settings import Settings

    breaker = _run.long_lived and "DOCKERHUB_CIRCUIT_BREAKER" not in os.environ
    return Settings.from_env(
        no_cache=_run.no_cache or None,
        offline=_run.offline or None,
        insecure=_run.insecure or None,
        cache_backend=_run.cache_backend or None,
        circuit_breaker=breaker or None,
    )


def _start_up_done() -> None:
    """The console script turned the garbage collector off for start-up (`__main__`): what
    is loaded by now lives until exit, so it is frozen out of later collections, and the
    collector runs again for the command itself."""
    import gc

    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def get_service() -> DockerHubService:
    """The process's one service, built on first use (so `--help` never pays for it)."""
    if _run.service is None:
        from dockerhub_cli.service import DockerHubService

        _start_up_done()  # the heavy imports are done (and nothing below may skip this)
        settings = run_settings()
        if settings.no_cache and settings.offline:
            from dockerhub_cli.errors import InvalidInputError

            raise InvalidInputError("--no-cache and --offline cannot be used together")
        _run.service = DockerHubService(settings)
        if not _run.long_lived:  # a server applies --max-pulls per tool call instead
            _run.service.transport.meter.max_pulls = _run.max_pulls
        if settings.output_json:
            from dockerhub_cli import render

            render.output.default_json = True
    return _run.service


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
    global _run
    _run = RunOptions(
        **{
            name: default if options.get(name) is None or options[name] is False else options[name]
            for name, default in _DEFAULTS
        }
    )


_DEFAULTS = [(p.name, p.default) for p in commands.GLOBAL_OPTIONS]
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


# render.OutputOptions' defaults, which a render module not imported yet has.
_DEFAULT_OUTPUT = {"json": False, "template": None, "quiet": False, "cost": None}


def wrap(fn: Callable[..., Any], *, output: bool = True) -> Callable[..., Any]:
    """`fn` with the common options (`--no-cache`, `--offline`, ...), the output options
    (`--json` unless `fn` declares its own, `--format`, `--quiet`) and the error edge.

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

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for option in ("no_cache", "offline", "insecure", "debug", "stats"):
            if kwargs.pop(option, False):
                setattr(_run, option, True)
        max_pulls = kwargs.pop("max_pulls", None)
        if max_pulls is not None:
            _run.max_pulls = max_pulls
        options = {
            "json": kwargs.get("json_output", False)
            if own_json
            else kwargs.pop("json_output", False) and output,
            "template": kwargs.pop("format_template", None)
            if "format_template" not in own
            else None,
            "quiet": kwargs.pop("quiet", False) if "quiet" not in own else False,
            "cost": _cost_json if _run.stats else None,
        }
        # A command that prints no result (`config path`) need not import the renderers just
        # to set their defaults.
        if options != _DEFAULT_OUTPUT or "dockerhub_cli.render" in sys.modules:
            from dockerhub_cli import render

            render.configure_output(**options)
        backend = kwargs.pop("cache_backend", None)
        if backend:
            _run.cache_backend = backend
        return run_guarded(lambda: fn(*args, **kwargs))

    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return wrapper


def run_guarded(body: Callable[[], Any]) -> Any:
    """Run a command body; map every error to a message on stderr and an exit code."""
    from dockerhub_cli.errors import DockerHubError

    _enable_logging(debug=_run.debug)
    try:
        return body()
    except typer.Exit:
        raise
    except DockerHubError as exc:
        if _run.debug:
            _print_traceback()
        _error_line(cli_words(advice.describe(exc)))
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        _error_line("interrupted")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except BrokenPipeError:  # `| head -1` read what it wanted: not an error
        from dockerhub_cli.render import close_broken_stdout

        close_broken_stdout()
        raise typer.Exit(0) from None
    except Exception as exc:  # a bug: say so plainly, traceback only with --debug
        if _run.debug:
            _print_traceback()
        _error_line(
            f"unexpected error: {type(exc).__name__}: {exc}"
            + ("" if _run.debug else " (run again with --debug for the traceback)")
        )
        raise typer.Exit(int(ExitCode.UNEXPECTED)) from None
    finally:
        if _run.stats:
            _stats_line()
        if _run.service is not None:
            transport = _run.service.transport
            _run.reuse = Reuse(
                reusable=transport.reusable,
                until=transport.reuse_until,
                ttls=dict(_run.service.settings.ttls),
            )
            _run.service.close()
            _run.service = None


def run_cost() -> Any:
    """What this run has cost so far (`models.cost.Cost`): nothing before the service exists."""
    if _run.service is not None:
        return _run.service.cost()
    from dockerhub_cli.models.cost import Cost

    cost = Cost()
    cost.docker_hub.max_pulls = _run.max_pulls
    return cost


def _cost_json() -> dict[str, Any]:
    return dict(run_cost().model_dump(mode="json"))


def _stats_line() -> None:
    """--stats: one line on stderr; not part of a saved result (a replay prints its own)."""
    from dockerhub_cli.render import stats_line
    from dockerhub_cli.result_cache import stderr_muted

    try:
        with stderr_muted():
            sys.stderr.write(stats_line(run_cost()) + "\n")
            sys.stderr.flush()
    except OSError:
        pass


def _error_line(message: str) -> None:
    from rich.markup import escape

    from dockerhub_cli.render import stderr_console
    from dockerhub_cli.result_cache import note_talk
    from dockerhub_cli.text import visible

    note_talk(error=True)

    # escape(): messages quote user input, which may contain [brackets] Rich would parse;
    # visible(): they quote registry error bodies, which may carry terminal escapes.
    stderr_console().print(
        f"[bold red]error:[/bold red] {escape(visible(message))}",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )


def _print_traceback() -> None:
    import traceback

    traceback.print_exc(file=sys.stderr)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is *now* (not the stream current at install time), so
    in-process runs (tests, CliRunner) get their messages on their own stderr."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        from dockerhub_cli.result_cache import note_talk

        note_talk()  # a run that warned is never replayed from the result cache
        super().emit(record)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class _LevelPrefixFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = "debug" if record.levelno < logging.WARNING else "warning"
        if record.levelno >= logging.ERROR:
            prefix = "error"
        from dockerhub_cli.text import visible

        return f"{prefix}: {visible(cli_words(record.getMessage()))}"


def _enable_logging(*, debug: bool) -> None:
    """Warnings (stale cache answers, a rebuilt cache) always reach stderr; --debug adds the
    request log."""
    logger = logging.getLogger("dockerhub_cli")
    if not any(getattr(h, "_dockerhub", False) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_LevelPrefixFormatter())
        handler._dockerhub = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)


def warn_notes(notes: list[str]) -> None:
    from dockerhub_cli.render import warn

    for note in notes:
        warn(cli_words(note))
