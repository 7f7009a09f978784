"""Our coercion of command-line values (`cli/coercion.py`) against Typer's own, for every
parameter of every command in the spec: the same values, the same errors, the same exit codes;
and no pydantic TypeAdapter built for a well-formed command line (issue 19)."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import importlib
import inspect
import subprocess
import sys
import time
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import responses
import typer
import typer._coercion
import typer.core
from typer._click import Context

from dockerhub_cli import cli, commands
from dockerhub_cli.cli import coercion

app_module = importlib.import_module("dockerhub_cli.cli.app")  # the module, not the Typer app


def _typer_params(command: Any) -> list[Any]:
    return [p for p in command.params if isinstance(p, typer.core._TyperParameter)]


def _spec_parameters() -> list[tuple[str, Any, Any]]:
    """(where, the Click command, its parameter) for every parameter Typer builds from the
    spec: the root's global options and every command's own and common options."""
    root = typer.main.get_command(app_module.app)
    out = [("dockerhub", root, p) for p in _typer_params(root)]
    for command in commands.cli_commands():
        built = app_module.build(command)
        out += [(" ".join(command.path), built, p) for p in _typer_params(built)]
    return out


SPEC = _spec_parameters()
IDS = [f"{where}:{param.name}" for where, _, param in SPEC]


def _bounds(param: Any) -> list[Any]:
    info = param.type_descriptor.parameter_info
    out: list[Any] = []
    for bound in (info.min, info.max):
        if bound is not None:
            out += [bound - 1, bound, bound + 1, str(bound - 1), str(bound), str(bound + 1)]
    return out


INTEGERS = ["0", "1", "5", "+5", "-3", "-0", "007", " 5", "5 ", "1_0", "5.0", "5.5", "1e2"]
INTEGERS += ["", "abc", "0x10", "٣", "9" * 25, 5, -1, True, False, 5.0, 5.5, 10**30]
NUMBERS = ["0", "1.5", ".5", "5.", "1e1", "1E-2", "+1.5", "-0.5", " 1.5", "1_0.5", "nan"]
NUMBERS += ["inf", "-inf", "1e999", "", "x", "١", 1, 1.5, True, 10**400, float("nan")]
TEXTS = ["", "abc", " a b ", "é", "\udce9", "-", "--json", "a" * 300, 5, 5.5, True]
FLAGS = [True, False, "true", "false", "1", "0", "yes", "off", " on ", "", "maybe", 1, 0, 2]


def _samples(param: Any) -> list[Any]:
    """Values to coerce: well formed, odd, wrong type, out of bounds, and the default."""
    descriptor = param.type_descriptor
    kind = descriptor.annotation
    if descriptor.is_list:
        (kind,) = typing.get_args(kind)
    leaves = {str: TEXTS, int: _bounds(param) + INTEGERS, float: _bounds(param) + NUMBERS}
    one = list(leaves.get(kind, FLAGS))
    values = [*one, None, param.default]
    if descriptor.is_list:
        values = [(v,) for v in one] + [tuple(one[:3]), (), [one[0]], "abc", one[0], None]
    return values


def _outcome(runtime: Any, value: Any, param: Any, ctx: Context) -> tuple[Any, ...]:
    try:
        got = runtime.coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # noqa: BLE001 - the error is what is compared
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return ("error", type(exc).__name__, message, getattr(exc, "exit_code", None))
    if isinstance(got, float) and got != got:
        return ("ok", "nan", float)
    return ("ok", got, type(got), [type(v) for v in got] if isinstance(got, list) else None)


# -- Typer's layout, which `cli/coercion.py` relies on --------------------------------------------


def test_typers_coercion_layout_is_what_we_rely_on() -> None:
    """Fails loudly when a Typer update moves what our coercion hooks into: then the CLI
    silently uses Typer's own coercion (correct, slower) until this is brought up to date."""
    runtime = typer._coercion.RuntimeParam
    assert dataclasses.is_dataclass(runtime)
    assert [f.name for f in dataclasses.fields(runtime)] == ["parameter_info", "annotation"]
    assert "_coerce_value" in runtime.__abstractmethods__
    assert list(inspect.signature(runtime._coerce_value).parameters) == [
        "self",
        "value",
        "param",
        "ctx",
    ]
    assert callable(typer._coercion.build_runtime_param)
    base = typer.core._TyperParameter
    assert "get_runtime_param" in vars(base)
    assert "self.get_runtime_param()" in inspect.getsource(base.process_value)
    assert "self._runtime_param" in inspect.getsource(base.get_runtime_param)
    for cls in (typer.core.TyperOption, typer.core.TyperArgument):
        assert issubclass(cls, base)
        assert "self._runtime_param = None" in inspect.getsource(cls.__init__)
    for name in ("annotation", "parameter_info", "file_annotation"):
        assert name in {f.name for f in dataclasses.fields(typer._coercion.TypeDescriptor)}
    for name in ("is_list", "is_tuple", "is_choice", "is_path"):
        assert isinstance(getattr(typer._coercion.TypeDescriptor, name), property)
    info = typer.models.OptionInfo()
    for name in ("parser", "clamp", "min", "max"):
        assert hasattr(info, name)


# -- every parameter of the spec: ours, and the same as Typer's -----------------------------------


# Typer's own completion flags are bool flags: Typer never coerces them.
_TYPERS_OWN = ("install_completion", "show_completion")


@pytest.mark.parametrize(
    ("where", "command", "param"),
    [row for row in SPEC if row[2].name not in _TYPERS_OWN],
    ids=[i for i, row in zip(IDS, SPEC, strict=True) if row[2].name not in _TYPERS_OWN],
)
def test_every_spec_parameter_gets_our_coercion(where: str, command: Any, param: Any) -> None:
    """A new kind of parameter in the spec (a path, a choice of an Enum, a date...) fails
    here: it would silently fall back to Typer's coercion and its TypeAdapter; teach
    `cli/coercion.py` the kind (or accept the cost and list it here)."""
    assert isinstance(param, (app_module.HelpOption, app_module.HelpArgument)), where
    assert coercion.runtime_param(param.type_descriptor) is not None, (
        f"{where} {param.name}: {param.type_descriptor.annotation!r} is not a kind "
        "cli/coercion.py handles"
    )
    assert isinstance(param.get_runtime_param(), coercion.PlainRuntimeParam)


@pytest.mark.parametrize(("where", "command", "param"), SPEC, ids=IDS)
def test_every_value_coerces_as_typer_does(where: str, command: Any, param: Any) -> None:
    ours = coercion.runtime_param(param.type_descriptor)
    if ours is None:
        pytest.skip("left to Typer")
    theirs = typer._coercion.build_runtime_param(param.type_descriptor)
    ctx = Context(command)
    for value in _samples(param):
        assert _outcome(ours, value, param, ctx) == _outcome(theirs, value, param, ctx), (
            where,
            param.name,
            value,
        )


@pytest.mark.parametrize(("where", "command", "param"), SPEC, ids=IDS)
def test_well_formed_values_build_no_adapter(
    where: str, command: Any, param: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = coercion.runtime_param(param.type_descriptor)
    if ours is None:
        pytest.skip("left to Typer")
    assert isinstance(ours, coercion.PlainRuntimeParam)

    def no_adapter(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{where} {param.name}: a TypeAdapter was built")

    monkeypatch.setattr(typer._coercion, "build_runtime_param", no_adapter)
    info = param.type_descriptor.parameter_info
    kind = param.type_descriptor.annotation
    if param.type_descriptor.is_list:
        (kind,) = typing.get_args(kind)
    low = info.min if info.min is not None else 0
    good = {str: ["nginx", "", "é"], bool: [True, False], int: [str(low), low]}
    good[float] = [str(float(low)), float(low), low]
    ctx = Context(command)
    for value in [None, *good[kind]]:
        if param.type_descriptor.is_list:
            value = (value,) if value is not None else None
        ours.coerce(value, param=param, ctx=ctx)
    assert ours._typer == []


class Colour(enum.Enum):
    RED = "red"


def test_a_kind_we_do_not_handle_is_typers() -> None:
    """A path, a choice of an Enum, a date: Typer's coercion, untouched."""

    def fn(
        path: Annotated[Path, typer.Option()] = Path("."),
        colour: Annotated[Colour, typer.Option()] = Colour.RED,
        when: Annotated[datetime.datetime | None, typer.Option()] = None,
        clamped: Annotated[int, typer.Option(min=0, max=3, clamp=True)] = 1,
        parsed: Annotated[int, typer.Option(parser=int)] = 1,
    ) -> None:
        pass

    single = typer.Typer(add_completion=False)
    single.command()(fn)
    built = typer.main.get_command(single)
    params = _typer_params(built)
    assert [p.name for p in params] == ["path", "colour", "when", "clamped", "parsed"]
    for param in params:
        assert coercion.runtime_param(param.type_descriptor) is None, param.name


# -- end to end: the same error line and exit code ------------------------------------------------


def _argv_for(path: tuple[str, ...], command: Any, param: Any, value: str | None) -> list[str]:
    """A command line that gives the command's required arguments well-formed values and
    `param` the value (None: leave it out)."""
    argv = list(path)
    for other in _typer_params(command):
        if other is param or other.param_type_name != "argument" or not other.required:
            continue
        argv.append("x")
    if value is not None:
        if param.param_type_name == "argument":
            argv.append(value)
        else:
            argv.append(f"{param.opts[0]}={value}")
    return argv


def _bad_values(param: Any, command: Any) -> list[str]:
    """Values Typer rejects for this parameter (or its check() does: a bad choice)."""
    theirs = typer._coercion.build_runtime_param(param.type_descriptor)
    ctx = Context(command)
    out = []
    many = param.type_descriptor.is_list
    for sample in _samples(param):
        if many != isinstance(sample, tuple) or (many and len(sample) != 1):
            continue  # on a command line, a list parameter's values come as a tuple
        value = sample[0] if many else sample
        if not isinstance(value, str) or value in out:
            continue
        if param.param_type_name == "argument" and value.startswith("-"):
            continue  # an option's value is given as --flag=VALUE
        if _outcome(theirs, sample, param, ctx)[0] == "error":
            out.append(value)
    return out[:6]


def _cases() -> Iterator[Any]:
    root = typer.main.get_command(app_module.app)
    for param in _typer_params(root):
        if not getattr(param, "is_flag", False):
            for value in _bad_values(param, root):
                argv = [f"{param.opts[0]}={value}", "config", "path"]
                yield pytest.param((), argv, id=f"dockerhub:{param.name}={value!r}")
    for command in commands.cli_commands():
        built = app_module.build(command)
        params = {p.name: p for p in _typer_params(built)}
        if any(p.required for p in params.values()):
            yield pytest.param(command.path, [*command.path], id=f"{command.name}:missing")
        for spec_param in command.cli_params():
            param = params[spec_param.name]
            if getattr(param, "is_flag", False):
                continue
            values = _bad_values(param, built)
            if spec_param.choices:
                values.append("no-such-choice")
            for value in values:
                argv = _argv_for(command.path, built, param, value)
                yield pytest.param(command.path, argv, id=f"{command.name}:{param.name}={value!r}")


CASES = list(_cases())


class _Slept(BaseException):
    """A command that got past its parameters and waited (`watch`): not a usage error."""


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[Any, str, str]:
    sys.argv = ["dockerhub", "--offline", *argv]
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        try:
            cli.main()
            code: Any = 0
        except SystemExit as done:
            code = done.code
        except _Slept:
            code = "slept"
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("path", "argv"), CASES)
def test_bad_input_ends_as_with_typers_coercion(
    path: tuple[str, ...],
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(sys, "argv", list(sys.argv))

    def sleep(seconds: float) -> None:
        raise _Slept

    monkeypatch.setattr(time, "sleep", sleep)
    ours = _run(argv, capsys)
    monkeypatch.setattr(app_module, "_plain_coercion", lambda param: None)
    theirs = _run(argv, capsys)
    assert ours == theirs
    assert ours[0] != 0 and ours[2].startswith("error:"), ours


def test_cases_cover_every_kind_of_error() -> None:
    ids = [case.id for case in CASES]
    assert any(i.endswith(":missing") for i in ids)
    assert any("no-such-choice" in i for i in ids)
    assert any("limit='0'" in i or "='abc'" in i for i in ids)


# -- a whole run --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "path"],
        ["--offline", "tags", "library/nginx", "--limit", "5", "--sort", "name", "--json"],
    ],
)
def test_a_run_imports_no_typer_adapters(argv: list[str], tmp_path: Path) -> None:
    """`config path` imports neither pydantic nor the renderers (nor Rich)."""
    code = (
        "import sys\n"
        f"sys.argv = ['dockerhub', *{argv!r}]\n"
        "from dockerhub_cli.__main__ import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "sys.stderr.write('\\nimported: ' + ','.join(m for m in ('typer._adapters', "
        "'pydantic', 'rich', 'dockerhub_cli.render') if m in sys.modules))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    imported = done.stderr.rpartition("imported: ")[2]
    assert "typer._adapters" not in imported.split(","), done.stderr
    if argv == ["config", "path"]:
        assert imported == "", done.stderr


def test_the_output_defaults_cli_app_assumes_are_renders() -> None:
    """`wrap` skips importing the renderers when the options are these (a render module
    not imported yet has them): they must stay OutputOptions' defaults."""
    from dockerhub_cli import render

    assert render.OutputOptions(**app_module._DEFAULT_OUTPUT) == render.OutputOptions()


# -- the words of a bad number -----------------------------------------------------------------


def _numeric(param: Any) -> bool:
    descriptor = param.type_descriptor
    kind = descriptor.annotation
    if descriptor.is_list:
        (kind,) = typing.get_args(kind)
    kinds = [k for k in typing.get_args(kind) if k is not type(None)] or [kind]
    return kinds[0] in (int, float)


NUMERIC = [case for case in SPEC if _numeric(case[2])]


@pytest.mark.parametrize(("where", "command", "param"), NUMERIC)
def test_every_bad_number_gets_our_one_line(where: str, command: Any, param: Any) -> None:
    """Typer decides what a number parameter accepts; its refusal (pydantic's `Input should be
    greater than or equal to 0`) is worded by us: the option, its bounds, the value given."""
    theirs = typer._coercion.build_runtime_param(param.type_descriptor)
    ctx = Context(command)
    info = param.type_descriptor.parameter_info
    bad = ["abc"] + [str(b - 1) for b in (info.min,) if b is not None]
    bad += [str(b + 1) for b in (info.max,) if b is not None]
    for value in bad:
        with pytest.raises(Exception) as caught:  # noqa: PT011 - Typer's BadParameter
            theirs.coerce(value, param=param, ctx=ctx)
        message = coercion.bad_number_message(caught.value)
        assert message is not None, (where, param.name, value)
        name = param.opts[0] if param.param_type_name == "option" else param.human_readable_name
        assert message.startswith(f"{name} must be "), message
        assert message.endswith(f" (got {value!r})") and "Input should" not in message


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["tags", "x", "--max-pulls", "-1"],
            "error: --max-pulls must be a whole number of at least 0 (got '-1')",
        ),
        (
            ["tags", "x", "--limit=0"],
            "error: --limit must be a whole number between 1 and 100 (got '0')",
        ),
        (
            ["tags", "x", "--page", "many"],
            "error: --page must be a whole number between 1 and 10000 (got 'many')",
        ),
    ],
)
def test_bad_number_line_end_to_end(
    argv: list[str],
    line: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    code, out, err = _run(argv, capsys)
    assert (code, out) == (2, "") and err.startswith(line + " (see '")
    assert err.endswith(" tags --help')\n") and err.count("\n") == 1
