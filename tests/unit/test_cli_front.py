"""The front (`cli/front.py`) against Typer: for thousands of generated command lines, the
front either leaves the line to Typer or gives exactly the keywords Typer passes to the root
callback and to the command's function; Typer's built commands have the shape the front
assumes; whole runs print the same and exit the same both ways (issue 19)."""

from __future__ import annotations

import importlib
import inspect
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.core
from typer._click import Context

from dockerhub_cli import cli, commands
from dockerhub_cli.cli import front
from dockerhub_cli.cli import run as runtime
from tests.unit import test_coercion as coercion_cases
from tests.unit.hub_fixtures import HUB, load

app_module = importlib.import_module("dockerhub_cli.cli.app")

ROOT = typer.main.get_command(app_module.app)
COMMANDS = list(commands.cli_commands())


def _typer_params(command: Any) -> dict[str, Any]:
    return {p.name: p for p in command.params if isinstance(p, typer.core._TyperParameter)}


def _built(command: commands.Command) -> Any:
    group = ROOT
    for name in command.path[:-1]:
        group = group.commands[name]
    return group.commands[command.path[-1]]


# -- Typer's commands have the shape the front assumes -----------------------------------------


def _assert_option_shape(where: str, p: Any, spec: commands.Param) -> None:
    assert isinstance(p, typer.core.TyperOption), where
    assert list(p.opts) == list(spec.flags) and p.secondary_opts == [], where
    assert p.is_flag == (spec.type == "bool"), where
    assert p.multiple == (spec.type == "list[str]") and p.nargs == 1 and not p.count, where
    assert p.envvar == spec.envvar and p.callback is None and not p.is_eager, where
    assert not p.prompt and p.expose_value and p.allow_from_autoenv, where
    if p.is_flag:  # Click's parser stores this constant for the flag
        assert p._depr_flag_value is True and p.is_bool_flag, where
        assert p.default is False and spec.default is False, where
    else:
        assert p.required == spec.required, where
        if not spec.required:
            assert p.default == spec.default, where


def _assert_argument_shape(where: str, p: Any, spec: commands.Param) -> None:
    assert isinstance(p, typer.core.TyperArgument), where
    assert p.nargs == (-1 if spec.type == "list[str]" else 1), where
    assert p.required == spec.required and p.envvar is None and p.callback is None, where
    if not spec.required:
        assert p.default == spec.default, where


def _assert_parser(where: str, command: Any, params: list[commands.Param]) -> None:
    """Click's parser for this command knows exactly the option strings the front does (and
    the help's), with Click's two prefixes only."""
    parent = Context(ROOT, info_name="dockerhub", **ROOT.context_settings)
    ctx = Context(command, info_name=where, parent=parent, **command.context_settings)
    parser = command.make_parser(ctx)
    assert parser._opt_prefixes == {"-", "--"}, where
    ours = front._Parser(params)
    assert set(parser._long_opt) == {*ours.long, "--help"}, where
    assert set(parser._short_opt) == {*ours.short, "-h"}, where
    assert not parser.ignore_unknown_options and ctx.token_normalize_func is None, where
    assert ctx.auto_envvar_prefix is None and ctx.default_map is None, where
    assert ctx.help_option_names == ["-h", "--help"], where


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_typers_command_is_the_shape_the_front_assumes(command: commands.Command) -> None:
    built = _built(command)
    params = front.command_params(command)
    typer_params = _typer_params(built)
    assert list(typer_params) == [p.name for p in params]  # the same keywords, in order
    for spec in params:
        p = typer_params[spec.name]
        where = f"{command.name}:{spec.name}"
        if spec.argument:
            _assert_argument_shape(where, p, spec)
        else:
            _assert_option_shape(where, p, spec)
    assert [p.name for p in built.params if p.param_type_name == "argument"] == [
        p.name for p in params if p.argument
    ]
    assert not built.allow_extra_args and built.allow_interspersed_args
    assert not built.ignore_unknown_options and not built.no_args_is_help
    _assert_parser(command.path[-1], built, params)


def test_typers_root_is_the_shape_the_front_assumes() -> None:
    params = _typer_params(ROOT)
    assert list(params) == [
        "version",
        *(p.name for p in front.root_params()),
        "install_completion",
        "show_completion",
    ]
    for spec in front.root_params():
        _assert_option_shape(f"dockerhub:{spec.name}", params[spec.name], spec)
    assert ROOT.params[0].is_eager and ROOT.params[0].opts == ["--version"]
    assert not ROOT.allow_interspersed_args and ROOT.no_args_is_help
    assert not getattr(ROOT, "chain", False) and not ROOT.invoke_without_command
    ctx = Context(ROOT, info_name="dockerhub", **ROOT.context_settings)
    parser = ROOT.make_parser(ctx)
    assert parser._opt_prefixes == {"-", "--"}
    assert set(parser._long_opt) == {
        *front._Parser(front.root_params()).long,
        "--version",
        "--install-completion",
        "--show-completion",
        "--help",
    }
    assert set(parser._short_opt) == {"-h"}
    for path in commands.SUBGROUPS:
        group = ROOT
        for name in path.split():
            group = group.commands[name]
        assert _typer_params(group) == {} and not group.allow_interspersed_args
        assert group.callback is None and not group.invoke_without_command


def test_the_root_callback_and_command_functions_reach_the_run_time_edge() -> None:
    """Typer calls `cli.run.start` and `cli.run.invoke` (which the front calls too), and
    `invoke` derives from the spec the same options `wrap` derives from the signature."""
    for command in COMMANDS:
        fn = _built(command).callback
        assert fn.__wrapped__.__name__ == command.path[-1].replace("-", "_")
        own = command.cli_params()
        own_json = runtime.own_json(command)
        if command.cli_body:
            target = commands.resolve(command.cli_body)
            assert own_json == (
                command.output and "json_output" in inspect.signature(target).parameters
            )
        assert {p.name for p in own} <= set(_typer_params(_built(command)))


# -- generated command lines: the front's keywords are Typer's ----------------------------------


class _Recorder:
    def __init__(self) -> None:
        self.root: dict[str, Any] | None = None
        self.values: dict[str, Any] | None = None
        self.command: str | None = None


def _typed(values: dict[str, Any] | None) -> Any:
    """Values with their types, so that 5, 5.0 and True are told apart."""
    if values is None:
        return None
    return {
        k: (type(v).__name__, [(type(i).__name__, i) for i in v] if isinstance(v, list) else v)
        for k, v in sorted(values.items())
    }


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    rec = _Recorder()

    def start(version: bool = False, **options: Any) -> None:
        rec.root = {"version": version, **options}

    def invoke(command: commands.Command, values: dict[str, Any]) -> None:
        rec.command, rec.values = command.name, dict(values)

    monkeypatch.setattr(runtime, "start", start)
    monkeypatch.setattr(runtime, "invoke", invoke)
    return rec


def _through_typer(argv: list[str], rec: _Recorder) -> Any:
    rec.root = rec.values = rec.command = None
    try:
        code = ROOT.main(args=list(argv), prog_name="dockerhub", standalone_mode=False)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - a usage error, help, completion
        return ("error", type(exc).__name__)
    if rec.command is None:
        return ("no call", code)
    return (rec.command, _typed(rec.root), _typed(rec.values))


def _through_front(argv: list[str]) -> Any:
    try:
        plan = front.parse(argv, environ={})
    except front.Defer:
        return None
    return (plan.command.name, _typed(plan.root), _typed(plan.values))


def _cli_values(spec: commands.Param, built: Any) -> list[str]:
    """The coercion equivalence cases' string values for this parameter (tests/unit/
    test_coercion.py's `_samples`), plus odd command-line words."""
    param = _typer_params(built).get(spec.name)
    if param is None:
        return []
    out: list[str] = []
    for sample in coercion_cases._samples(param):
        for value in sample if isinstance(sample, tuple) else (sample,):
            if isinstance(value, str) and value not in out:
                out.append(value)
    out += ["-", "--", "-x", "--json", "-n", "ünïcödé", "a=b", "=", "--platform=x"]
    return out


def _forms(spec: commands.Param, value: str) -> list[list[str]]:
    """The ways to write an option with a value (or a flag) on a command line."""
    if spec.argument:
        return [[value], ["--", value]]
    long = spec.flags[0]
    if spec.type == "bool":
        out = [[long], [long, long], [f"{long}={value}"]]
    else:
        out = [[long, value], [f"{long}={value}"], [long, value, long, value + "2"]]
    for short in spec.flags[1:]:
        if len(short) == 2:
            out += [[short] if spec.type == "bool" else [short, value]]
            if spec.type != "bool":
                out += [[f"{short}{value}"], [f"{short}={value}"]]
    return out


def _required_args(command: commands.Command, skip: str = "") -> list[str]:
    return ["nginx" for p in command.cli_params() if p.argument and p.required and p.name != skip]


def _required_options(command: commands.Command) -> list[str]:
    out: list[str] = []
    for p in command.cli_params():
        if not p.argument and p.required:
            out += [p.flags[0], p.choices[0] if p.choices else "x"]
    return out


# The commands whose every parameter (the common output and global options too) gets every
# value in every form; the others get all of that for their own parameters only.
FULL = {"search", "tags", "extract", "cache warm", "config path"}


def _lines(command: commands.Command) -> Iterator[list[str]]:
    built = _built(command)
    path = list(command.path)
    base = _required_args(command)
    needed = _required_options(command)
    yield [*path, *base, *needed]
    yield [*path, *needed]
    yield [*path, *base, *needed, "extra", "words"]
    yield [*path, *base, *needed, "--help"]
    yield ["--offline", *path, "--", *base, *needed]
    params = front.command_params(command)
    own = {p.name for p in command.cli_params()}
    rng = random.Random(f"front:{command.name}")
    for spec in params:
        values = _cli_values(spec, built)
        if command.name not in FULL and spec.name not in own:
            values = rng.sample(values, k=min(3, len(values)))
        for i, value in enumerate(values):
            for form in _forms(spec, value):
                if spec.argument:
                    others = _required_args(command, skip=spec.name)
                    yield [*path, *form, *others, *needed]
                    yield [*path, *needed, *others, *form]
                elif i % 2:
                    yield [*path, *base, *needed, *form]
                else:
                    yield [*path, *form, *base, *needed]
    globals_ = list(commands.GLOBAL_OPTIONS)
    for _ in range(40):
        words: list[str] = []
        for spec in rng.sample(params, k=min(len(params), rng.randint(0, 6))):
            values = _cli_values(spec, built)
            word_value = rng.choice(values[:8] + ["5", "linux/arm64", "ä b", ""])
            words += rng.choice(_forms(spec, word_value))
        rng.shuffle(words)  # orders (and the odd split pair: the front leaves those alone)
        lead: list[str] = []
        for spec in rng.sample(globals_, k=rng.randint(0, 2)):
            lead += rng.choice(_forms(spec, rng.choice(["5", "0", "sqlite", "-1"])))
        yield [*lead, *path, *base, *needed, *words]


def _root_lines() -> Iterator[list[str]]:
    for spec in commands.GLOBAL_OPTIONS:
        for value in ["0", "5", "-1", "x", "", "sqlite"]:
            for form in _forms(spec, value):
                yield [*form, "config", "path"]
                yield ["cache", *form, "info"]
    yield from (
        ["--", "config", "path"],
        ["--version", "config", "path"],
        ["--show-completion"],
        ["cache"],
        ["cache", "nope"],
        ["nope"],
        ["-x", "config", "path"],
        ["config", "--", "path"],
        ["--offline", "--offline", "--max-pulls", "3", "--max-pulls=4", "config", "path"],
    )


GROUPS = [*(c.name for c in COMMANDS), "dockerhub"]


@pytest.mark.parametrize("where", GROUPS)
def test_the_front_gives_typers_keywords_for_every_line_it_takes(
    where: str, recorder: _Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = list(_root_lines() if where == "dockerhub" else _lines(commands.get(where)))
    taken = deferred = 0
    for argv in lines:
        ours = _through_front(argv)
        theirs = _through_typer(argv, recorder)
        capsys.readouterr()  # help and usage text Typer printed
        if ours is None:
            deferred += 1
            continue
        taken += 1
        assert ours == theirs, argv
    assert len(lines) > 50
    if where != "dockerhub" and any(p.envvar for p in commands.get(where).params):
        assert taken == 0  # an option read from the environment: Typer's
    else:  # many generated lines are well formed: the front takes them (and they are compared)
        assert taken > len(lines) / 5, (taken, deferred)


def test_the_lines_are_many() -> None:
    total = sum(len(list(_lines(c))) for c in COMMANDS) + len(list(_root_lines()))
    assert total > 10000


WELL_FORMED = [
    ["config", "path"],
    ["--offline", "inspect", "nginx", "--json"],
    ["inspect", "nginx:1.27", "--platform", "linux/arm64", "--json", "--offline"],
    ["inspect", "--platform=linux/arm64", "nginx"],
    ["tags", "library/nginx", "-n", "5", "--sort", "name", "-q"],
    ["tags", "library/nginx", "-n5", "-qn", "7"],
    ["--no-cache", "--max-pulls", "0", "search", "--limit=3", "--", "-nginx"],
    ["extract", "nginx", "a", "-o", "out", "b", "--", "-c", "--json"],
    ["cache", "info", "--json"],
    ["cache", "warm", "nginx", "redis", "--jobs", "2"],
    ["inspect", "nginx", "--platform", "--json"],  # Click: --json is --platform's value
    ["compare", "a", "b", "--format", "{name}"],
    ["inspect", "ünïcödé", "--platform", ""],
]


@pytest.mark.parametrize("argv", WELL_FORMED, ids=[" ".join(a) for a in WELL_FORMED])
def test_the_front_takes_well_formed_lines(argv: list[str], recorder: _Recorder) -> None:
    ours = _through_front(argv)
    assert ours is not None, argv
    assert ours == _through_typer(argv, recorder)


LEFT_TO_TYPER = [
    ["--version"],
    ["--help"],
    ["inspect", "--help"],
    ["inspect", "nginx", "-h"],
    ["tags", "nginx", "-qh"],
    ["--show-completion"],
    ["--install-completion"],
    ["inspect"],
    ["inspect", "nginx", "extra"],
    ["inspect", "nginx", "--nope"],
    ["inspect", "nginx", "--platfor", "x"],
    ["inspect", "nginx", "--json=1"],
    ["inspect", "nginx", "--platform"],
    ["tags", "nginx", "--limit", " 5"],
    ["tags", "nginx", "--limit", "0"],
    ["tags", "nginx", "-n=5"],
    ["login", "--username", "me"],
    ["login"],
    ["cache"],
    ["cache", "--offline", "info"],
    ["nope"],
    ["--max-pulls", "-1", "config", "path"],
    ["--max-pulls", "x", "config", "path"],
    ["-x", "config", "path"],
]


@pytest.mark.parametrize("argv", LEFT_TO_TYPER, ids=[" ".join(a) for a in LEFT_TO_TYPER])
def test_the_front_leaves_the_rest_to_typer(argv: list[str]) -> None:
    with pytest.raises(front.Defer):
        front.parse(argv, environ={})


def test_shell_completion_is_left_to_typer() -> None:
    with pytest.raises(front.Defer):
        front.parse(["config", "path"], environ={"_DOCKERHUB_COMPLETE": "bash_complete"})
    assert front.parse(["config", "path"], environ={"DOCKERHUB_X": "1"}).command.name == (
        "config path"
    )


# -- whole runs: the same output and exit code both ways ----------------------------------------


def _run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[Any, str, str]:
    sys.argv = ["dockerhub", *argv]
    try:
        cli.main()
        code: Any = 0
    except SystemExit as done:
        code = done.code
    out, err = capsys.readouterr()
    return code, out, err


def _hub_fixtures(rsps: Any) -> None:
    rsps.get(f"{HUB}/api/search/v4", status=502, body="bad gateway")
    rsps.get(f"{HUB}/v2/search/repositories/", json=load("search_nginx.json"))
    rsps.get(
        f"{HUB}/v2/namespaces/portainer/repositories/agent/tags",
        json=load("tags_portainer_agent_page1.json"),
    )


RUNS = [
    ["config", "path"],
    ["config", "show", "--json"],
    ["cache", "info", "--json"],
    ["search", "nginx", "--limit", "3", "--json"],
    ["search", "nginx", "-n", "3"],
    ["--stats", "tags", "portainer/agent", "--limit", "2", "--json"],
    ["tags", "portainer/agent", "-n2", "-q"],
    ["tags", "portainer/agent", "--limit=2", "--format", "{name}\\t{size}"],
    ["tags", "Nginx"],
    ["tags", "nginx", "--sort", "size"],
    ["search", "nginx", "--offline", "--no-cache"],
    ["--offline", "tags", "nope"],
    ["--max-pulls", "0", "inspect", "oci:/nonexistent"],
    ["tags", "nginx", "--limit", "0"],
    ["inspect", "nginx", "--nope"],
]


@pytest.mark.parametrize("argv", RUNS, ids=[" ".join(a) for a in RUNS])
def test_a_run_prints_and_exits_as_through_typer(
    argv: list[str],
    rsps: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _hub_fixtures(rsps)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    taken: list[bool] = []
    real_run = front.run

    def spy(args: Any) -> Any:
        try:
            code = real_run(args)
        except SystemExit:  # the body's exit code
            taken.append(True)
            raise
        taken.append(code is not None)
        return code

    monkeypatch.setattr(front, "run", spy)
    cache = tmp_path / "cache"
    monkeypatch.setenv("DOCKERHUB_CACHE_DIR", str(cache))
    ours = _run_main(argv, capsys)
    shutil.rmtree(cache, ignore_errors=True)  # the same start for both runs
    monkeypatch.setattr(front, "run", lambda args: None)
    theirs = _run_main(argv, capsys)
    assert ours == theirs
    if argv != ["inspect", "nginx", "--nope"] and argv[-2:] != ["--limit", "0"]:
        assert taken == [True], "the front left a well-formed line to Typer"


def test_the_console_script_runs_the_front_without_typer(tmp_path: Path) -> None:
    """`config path` and a command's run import no Typer (nor Click); output and exit code
    are the same as Typer's (the front switched off in the child)."""
    code = (
        "import sys\n"
        "import dockerhub_cli.cli.front as f\n"
        "if sys.argv[1] == 'typer':\n    f.run = lambda argv: None\n"
        "sys.argv = ['dockerhub', *sys.argv[2:]]\n"
        "from dockerhub_cli.__main__ import main\n"
        "try:\n    main()\nfinally:\n"
        "    sys.stderr.write('\\nimported: ' + str('typer' in sys.modules))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    for argv in (["config", "path"], ["--offline", "tags", "library/nginx", "--json"]):
        done = {
            way: subprocess.run(
                [sys.executable, "-c", code, way, *argv], capture_output=True, text=True, env=env
            )
            for way in ("front", "typer")
        }
        front_err, _, front_imported = done["front"].stderr.rpartition("\nimported: ")
        typer_err, _, typer_imported = done["typer"].stderr.rpartition("\nimported: ")
        assert (done["front"].returncode, done["front"].stdout, front_err) == (
            done["typer"].returncode,
            done["typer"].stdout,
            typer_err,
        )
        assert front_imported == "False" and typer_imported == "True", argv


def test_no_body_needs_typers_context() -> None:
    """A body run by the front has no Click context: none may ask for one."""
    package = Path(cli.__file__).parent.parent
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name in ("get_current_context", "pass_context", "typer.Context"):
            assert name not in text, f"{path.relative_to(package)} uses {name}"
