"""The run-time edge of every command, without Typer: what a command's body does once its
parameters are known, whoever parsed them (Typer, `cli/app.py`; or the front, `cli/front.py`).

`invoke(command, values)` takes exactly the keywords Typer passes to a spec command's
function (its own parameters, the output options, the global options given after the
command name) and runs the command: the global options into the run's `RunOptions`, the
output options into `render.configure_output`, the body (the generic one: check the values,
call the operation under a spinner, emit the result; or the spec's `cli_body`) under
`run_guarded`, which maps every error, once, to a one-line message on stderr and an exit code
(`SystemExit`). `start(**options)` is the root callback's body (the global options given
before the command name).

A command's generic body: check the parameters' bounds, call the operation (a service
method, or a function of the settings) under a spinner, word the advice markers in the result
for the CLI (`--platform`), emit it with the command's renderer, print its notes as warnings.
A `cli_body` in the spec replaces the body (prompts, a server, a bare path).

Only the standard library and the layers below at import: the front runs a command through
here without importing Typer.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, NamedTuple

from dockerhub_cli import advice, commands, lazylog
from dockerhub_cli.commands import Command
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
                raise SystemExit(code)

    return body


def takes_json(target: str) -> bool:
    """Whether a `cli_body` has a `json_output` parameter (then it is the command's own
    `--json`) - read from its code object, which costs nothing to import."""
    code = commands.resolve(target).__code__
    return "json_output" in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]


def own_json(command: Command) -> bool:
    """Whether the command's function takes `json_output` itself (the generic body, or a
    `cli_body` that has it), instead of the output options' `--json`."""
    return command.output and (not command.cli_body or takes_json(command.cli_body))


def custom_body(command: Command) -> Callable[..., None]:
    assert command.cli_body is not None
    target = command.cli_body

    def body(**values: Any) -> None:
        commands.resolve(target)(**check(command, values))

    return body


def command_body(command: Command) -> Callable[..., None]:
    """The function of a spec command: its body, with the command known to `cli_words`."""
    fn = custom_body(command) if command.cli_body else generic_body(command)

    def run(**values: Any) -> None:
        _current.append(command)
        try:
            fn(**values)
        finally:
            _current.pop()

    run.__name__ = command.path[-1].replace("-", "_")
    return run


def invoke(command: Command, values: dict[str, Any]) -> Any:
    """Run a spec command with the keywords Typer passes to its function (`cli/app.py`'s
    `build`; the front passes the same): its own parameters, the output options and the
    global options given after its name."""
    own = {p.name for p in command.cli_params()}
    takes_json_itself = own_json(command)
    if takes_json_itself:
        own.add("json_output")
    return call_wrapped(
        command_body(command), values, own_json=takes_json_itself, own=own, output=command.output
    )


class RunOptions:
    """Options that affect every command; set before or after the command name. (A plain
    class: `dataclasses` and the `inspect` it imports cost a run like `config path` a tenth
    of its start.)"""

    def __init__(
        self,
        no_cache: bool = False,
        offline: bool = False,
        insecure: bool = False,
        debug: bool = False,
        cache_backend: str | None = None,
        stats: bool = False,
        max_pulls: int | None = None,
        long_lived: bool = False,
        service: DockerHubService | None = None,
        reuse: Reuse | None = None,
    ) -> None:
        self.no_cache = no_cache
        self.offline = offline
        self.insecure = insecure
        self.debug = debug
        self.cache_backend = cache_backend
        self.stats = stats  # --stats: the cost line on stderr, `cost` in JSON objects
        self.max_pulls = max_pulls  # --max-pulls (serve-mcp: per tool call)
        # A long-lived server (serve-mcp) wants the per-host circuit breaker on unless the
        # user said otherwise with DOCKERHUB_CIRCUIT_BREAKER; one-shot commands leave it off.
        self.long_lived = long_lived
        self.service = service
        # Filled in when the command's service closes: may its output be reused, and until
        # when (for the result cache, see `dockerhub_cli.result_cache`).
        self.reuse = reuse

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "service")
        return f"RunOptions({shown})"

    def __eq__(self, other: object) -> bool:
        return type(other) is RunOptions and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]


class Reuse(NamedTuple):
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


def start(version: bool = False, **options: Any) -> None:
    """The root callback's body: a new run with the global options given before the
    command name (the spec's GLOBAL_OPTIONS, as Typer passes them)."""
    global _run
    _run = RunOptions(
        **{
            name: default if options.get(name) is None or options[name] is False else options[name]
            for name, default in _DEFAULTS
        }
    )


_DEFAULTS = [(p.name, p.default) for p in commands.GLOBAL_OPTIONS]


# render.OutputOptions' defaults, which a render module not imported yet has.
_DEFAULT_OUTPUT = {"json": False, "template": None, "quiet": False, "cost": None}


def call_wrapped(
    fn: Callable[..., Any],
    kwargs: dict[str, Any],
    *,
    own_json: bool,
    own: set[str],
    output: bool,
) -> Any:
    """Call `fn` with the keywords of its wrapped form (`cli.app.wrap`): the global options
    given after the command name set the run's options, the output options configure the
    renderers (`--json` stays `fn`'s when it is its own, `own_json`), and `fn` gets the rest,
    under the error edge (`run_guarded`). `own`: `fn`'s parameter names."""
    kwargs = dict(kwargs)
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
        "template": kwargs.pop("format_template", None) if "format_template" not in own else None,
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
    return run_guarded(lambda: fn(**kwargs))


def _is_click_exit(exc: BaseException) -> bool:
    """A Typer (Click) `Exit` raised by a body that uses Typer itself: its exit code stands."""
    typer = sys.modules.get("typer")
    return typer is not None and isinstance(exc, typer.Exit)


def run_guarded(body: Callable[[], Any]) -> Any:
    """Run a command body; map every error to a message on stderr and an exit code."""
    from dockerhub_cli.errors import DockerHubError

    _enable_logging(debug=_run.debug)
    _warned.clear()
    try:
        return body()
    except DockerHubError as exc:
        if _run.debug:
            _print_traceback()
        _error_line(cli_words(advice.describe(exc)))
        raise SystemExit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        _error_line("interrupted")
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
    except BrokenPipeError:  # `| head -1` read what it wanted: not an error
        from dockerhub_cli.render import close_broken_stdout

        close_broken_stdout()
        raise SystemExit(0) from None
    except Exception as exc:  # a bug: say so plainly, traceback only with --debug
        if _is_click_exit(exc):
            raise
        if _run.debug:
            _print_traceback()
        _error_line(
            f"unexpected error: {type(exc).__name__}: {exc}"
            + ("" if _run.debug else " (run again with --debug for the traceback)")
        )
        raise SystemExit(int(ExitCode.UNEXPECTED)) from None
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


# The warnings this run has logged: a result note saying the same (a page walk logs why it
# stopped and the listing notes it) is not printed twice. Emptied when a command starts.
_warned: set[str] = set()


def _stderr_handler() -> Any:
    """The CLI's handler for the `dockerhub_cli` logger (its classes are made here: they
    subclass `logging`'s, which a run that logs nothing never imports)."""
    import logging

    class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
        """Writes to whatever `sys.stderr` is *now* (not the stream current at install time),
        so in-process runs (tests, CliRunner) get their messages on their own stderr."""

        def __init__(self) -> None:
            super().__init__(sys.stderr)

        def emit(self, record: logging.LogRecord) -> None:
            from dockerhub_cli.result_cache import note_talk

            note_talk()  # a run that warned is never replayed from the result cache
            if record.levelno >= logging.WARNING:
                _warned.add(record.getMessage())
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

    handler = _StderrHandler()
    handler.setFormatter(_LevelPrefixFormatter())
    handler._dockerhub = True  # type: ignore[attr-defined]
    return handler


def _install_logging(*, debug: bool) -> None:
    import logging

    logger = logging.getLogger("dockerhub_cli")
    if not any(getattr(h, "_dockerhub", False) for h in logger.handlers):
        logger.addHandler(_stderr_handler())
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)


def _install_quiet_logging() -> None:
    _install_logging(debug=False)


def _enable_logging(*, debug: bool) -> None:
    """Warnings (stale cache answers, a rebuilt cache) always reach stderr; --debug adds the
    request log. Without --debug the handler is installed when `logging` is first imported
    (`lazylog`): until then no record of ours can be handled, and a run that logs nothing
    never imports it."""
    if debug:
        _install_logging(debug=True)
    else:
        lazylog.when_imported(_install_quiet_logging)


def warn_notes(notes: list[str]) -> None:
    from dockerhub_cli.render import warn

    for note in notes:
        if note not in _warned:
            warn(cli_words(note))
