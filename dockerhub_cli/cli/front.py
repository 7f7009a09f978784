"""The front of the `dockerhub` command line: a well-formed command line run without Typer.

Typer (its vendored Click, the Typer command `cli/app.py` builds from the spec, its coercion)
costs a few tens of milliseconds of every run, most of them before the command starts. For a
command line of the shapes it knows, the front parses `argv` itself, from the same command
spec (`dockerhub_cli.commands`) and with Click's own rules (`typer/_click/parser.py`), into
exactly the keywords Typer would pass: the root callback's (`cli.run.start`) and the
command's (`cli.run.invoke`), and calls the same body.

What it parses, as Click does:

* global options before the command name (`--offline`, `--max-pulls N`), the command name,
  a sub-group's command name (`cache info`);
* the command's options anywhere among its arguments: `--opt VALUE`, `--opt=VALUE`, flags,
  repeated options (the last one wins; a list option keeps every value in order), short
  options (`-n 5`, `-n5`, `-qn5`), a value that starts with `-` (`--platform --json` gives
  `--platform` the value `--json`, as Click does), `--` (the rest are arguments), `-` as an
  argument;
* positional arguments by Click's rules (`_unpack_args`), defaults for what is left out;
* each value coerced by the plain rules of `cli/values.py` (the same ones Typer's coercion
  uses through `cli/coercion.py`), the defaults too.

Anything else goes to Typer unchanged, so every message, exit code and value stays Typer's:
help (`-h`, `--help`), `--version`, shell completion (and its options), an unknown option or
command, a flag given a value, a missing value or argument, an extra argument, a value the
plain coercion does not decide (`" 5"`, a number out of bounds: Typer's words), a command with
an option read from the environment (`login --username`, `DOCKERHUB_USERNAME`), a bare group.

`tests/unit/test_cli_front.py` compares the front's keywords with what Typer passes to the
body for thousands of generated command lines, checks that Typer's built commands have the
shape the front assumes (option strings, flags, multiple, nargs, defaults, no env vars, no
callbacks, the parser's prefixes), and runs whole commands both ways.

Only the standard library and the spec at import.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from dockerhub_cli import commands
from dockerhub_cli.cli import values as leaves
from dockerhub_cli.cli.values import UNDECIDED

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from dockerhub_cli.commands import Command, Param

# The root group's options the front leaves to Typer: the version, completion, help.
HELP = ("-h", "--help")


class Defer(Exception):
    """The front does not take this command line: Typer does."""


class _Option:
    """One option as Click's parser sees it: its name (the keyword), whether it takes a value,
    whether it is repeated into a list, and the plain coercion of one value."""

    __slots__ = ("name", "takes_value", "multiple", "leaf")

    def __init__(self, param: Param) -> None:
        self.name = param.name
        self.takes_value = param.type != "bool"
        self.multiple = param.type == "list[str]"
        self.leaf = _leaf(param)


def _leaf(param: Param) -> Callable[[Any], Any]:
    kind = param.type
    if kind in ("str", "list[str]"):
        return leaves.text  # type: ignore[no-any-return]
    if kind == "bool":
        return leaves.flag  # type: ignore[no-any-return]
    if kind == "int":
        return leaves.integer(param.minimum, param.maximum)  # type: ignore[no-any-return]
    if kind == "float":
        return leaves.number(param.minimum, param.maximum)  # type: ignore[no-any-return]
    raise Defer(f"a parameter of kind {kind!r}")


def root_params() -> list[Param]:
    """The root callback's parameters the front fills (besides `version`)."""
    return list(commands.GLOBAL_OPTIONS)


def command_params(command: Command) -> list[Param]:
    """The parameters of a spec command's function, in Typer's order (`cli.app.build` and
    `wrap`): its own, its own `--json`, the output options it does not have, the output
    `--json`, the global options."""
    from dockerhub_cli.cli.run import own_json

    own = command.cli_params()
    json_param = commands.OUTPUT_OPTIONS[-1]
    takes_json = own_json(command)
    out = list(own)
    if takes_json:
        out.append(json_param)
    names = {p.name for p in out}
    if command.output:
        out += [p for p in commands.OUTPUT_OPTIONS[:2] if p.name not in names]
        if not takes_json:
            out.append(json_param)
    return out + list(commands.GLOBAL_OPTIONS)


class _Parser:
    """Click's option parser (`typer/_click/parser.py`) for one command's options."""

    def __init__(self, params: Sequence[Param]) -> None:
        self.long: dict[str, _Option] = {}
        self.short: dict[str, _Option] = {}
        for p in params:
            if p.argument:
                continue
            option = _Option(p)
            for flag in p.flags:
                if flag.startswith("--") or len(flag) != 2:
                    self.long[flag] = option
                else:
                    self.short[flag] = option

    def parse(
        self, args: list[str], *, interspersed: bool
    ) -> tuple[dict[str, Any], list[str], list[str]]:
        """(the options' raw values, the positional arguments before `--` or, when not
        `interspersed` (a group), before the first positional, and what is left after)."""
        opts: dict[str, Any] = {}
        largs: list[str] = []
        rargs = list(args)
        while rargs:
            arg = rargs.pop(0)
            if arg == "--":
                break
            if arg[:1] == "-" and len(arg) > 1:
                self._opt(arg, rargs, opts)
            elif interspersed:
                largs.append(arg)
            else:
                rargs.insert(0, arg)
                break
        return opts, largs, rargs

    def _opt(self, arg: str, rargs: list[str], opts: dict[str, Any]) -> None:
        if arg in HELP:
            raise Defer("help")
        name, eq, explicit = arg.partition("=")
        option = self.long.get(name)
        if option is not None:
            if option.takes_value:
                if eq:
                    rargs.insert(0, explicit)
                self._store(option, self._value(rargs), opts)
            elif eq:
                raise Defer("a flag given a value")  # Click's error
            else:
                self._store(option, True, opts)
            return
        if arg[:2] == "--":
            raise Defer(f"an option the front does not know: {name}")
        # Click: a single-dash word that is not a long option is a run of short options.
        for i, ch in enumerate(arg[1:], 2):
            short = f"-{ch}"
            if short in HELP:
                raise Defer("help")
            option = self.short.get(short)
            if option is None:
                raise Defer(f"an option the front does not know: {short}")
            if option.takes_value:
                if i < len(arg):
                    rargs.insert(0, arg[i:])
                self._store(option, self._value(rargs), opts)
                return
            self._store(option, True, opts)

    @staticmethod
    def _value(rargs: list[str]) -> str:
        if not rargs:
            raise Defer("an option without its value")  # Click's error
        return rargs.pop(0)

    @staticmethod
    def _store(option: _Option, value: Any, opts: dict[str, Any]) -> None:
        if option.multiple:
            opts.setdefault(option.name, []).append(value)
        else:
            opts[option.name] = value


def _unpack(args: list[str], nargs: list[int]) -> list[Any]:
    """Click's `_unpack_args` for arguments of nargs 1, the last one possibly -1 (the rest):
    each argument's raw value (None: not given); extra arguments defer (Click's error)."""
    if -1 in nargs[:-1]:
        raise Defer("an argument that takes the rest before another")
    if nargs and nargs[-1] == -1:
        head = len(nargs) - 1
        return [args[i] if i < len(args) else None for i in range(head)] + [tuple(args[head:])]
    if len(args) > len(nargs):
        raise Defer("an extra argument")  # Click's error
    return [args[i] if i < len(args) else None for i in range(len(nargs))]


def _finish(param: Param, raw: Any) -> Any:
    """The value Typer passes for one parameter, from its raw command-line value (None: not
    given): Click's default, Typer's coercion, Typer's list normalisation (`get_callback`)."""
    leaf = _leaf(param)
    many = param.type == "list[str]"
    if param.envvar:
        raise Defer("an option read from the environment")
    if raw is None or (many and raw == ()):
        if param.required:
            raise Defer("a missing parameter")  # Typer's error
        raw = param.default
        if raw is None:
            return None  # an empty list, too, when its default is None (Typer's get_callback)
    if param.type == "bool" and type(raw) is bool:
        return raw  # Typer skips the coercion of a flag's bool
    if many:
        if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
            raise Defer("a list parameter given one value")
        items = [leaf(item) for item in raw]
        if any(item is UNDECIDED for item in items):
            raise Defer("a value the plain coercion does not decide")
        if not items and param.default is None:
            return None
        return items
    value = leaf(raw)
    if value is UNDECIDED:
        raise Defer("a value the plain coercion does not decide")
    return value


def _values(params: Sequence[Param], opts: dict[str, Any], args: list[str]) -> dict[str, Any]:
    arguments = [p for p in params if p.argument]
    raw = dict(opts)
    nargs = [-1 if p.type == "list[str]" else 1 for p in arguments]
    for p, value in zip(arguments, _unpack(args, nargs), strict=True):
        raw[p.name] = value
    return {p.name: _finish(p, raw.get(p.name)) for p in params}


class Plan:
    """A command line the front takes: the command, the root callback's keywords, the
    command function's keywords."""

    __slots__ = ("command", "root", "values")

    def __init__(self, command: Command, root: dict[str, Any], values: dict[str, Any]) -> None:
        self.command = command
        self.root = root
        self.values = values

    def __repr__(self) -> str:
        return f"Plan({self.command.name!r}, {self.root!r}, {self.values!r})"


def parse(argv: Sequence[str], environ: dict[str, str] | None = None) -> Plan:
    """The plan for a command line, or `Defer` when Typer must take it."""
    env = os.environ if environ is None else environ
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in env):
        raise Defer("shell completion")
    root_options = root_params()
    opts, _, rest = _Parser(root_options).parse(list(argv), interspersed=False)
    # `version`: what its callback (`--version`, not given) returns.
    root = {"version": None} | {p.name: _finish(p, opts.get(p.name)) for p in root_options}
    path: list[str] = []
    while True:
        if not rest:
            raise Defer("no command")  # a group's help, as a usage error
        name = rest.pop(0)
        if name not in commands.children(tuple(path)):
            raise Defer(f"a command the front does not know: {name}")
        path.append(name)
        key = " ".join(path)
        if key not in commands.SUBGROUPS:
            break
        # A sub-group has no options of its own but the help.
        _, _, rest = _Parser(()).parse(rest, interspersed=False)
    command = commands.get(key)
    params = command_params(command)
    opts, args, after = _Parser(params).parse(rest, interspersed=True)
    return Plan(command, root, _values(params, opts, args + after))


def run(argv: Sequence[str]) -> int | None:
    """Run a command line the front takes, as Typer would (the same body, the same exit
    code; `SystemExit` as the body raised it); None when Typer must take it."""
    try:
        plan = parse(argv)
    except Defer:
        return None
    from dockerhub_cli.cli import run as runtime

    try:
        runtime.start(**plan.root)
        code = runtime.invoke(plan.command, plan.values)
    except SystemExit:
        raise
    except BrokenPipeError:  # Typer: stdout quietened, exit 1
        from dockerhub_cli.render import close_broken_stdout

        close_broken_stdout()
        return 1
    except KeyboardInterrupt:
        return 130  # Typer: Exit(130)
    except EOFError:
        sys.stderr.write("\n")  # Typer: a new line, then Abort ("error: interrupted")
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception as exc:
        typer = sys.modules.get("typer")
        if typer is not None and isinstance(exc, typer.Exit):
            return int(exc.exit_code)
        if typer is not None and isinstance(exc, typer.Abort):
            sys.stderr.write("error: interrupted\n")
            return 130
        raise
    return code if isinstance(code, int) else 0
