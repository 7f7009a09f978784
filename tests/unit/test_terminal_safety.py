"""Issue 12, expectation 5: nothing a publisher wrote is interpreted by the user's terminal.

Every command of the app (enumerated from the Typer app, so a new command without a case here
fails) is run against a service whose every answer is a result model with a hostile string in
every text field (labels, env, created_by, tag names, descriptions, notes...), in each output
mode: table, --json, --quiet and --format. No raw control or bidi character may reach stdout or
stderr, Rich markup in the data must come out as the literal text, and --json must keep the
exact data. A registry error body with terminal escapes must reach stderr escaped.
"""

from __future__ import annotations

import collections.abc
import enum
import json
import re
import types
import typing
from datetime import UTC, datetime
from typing import Any

import pytest
import typer
from pydantic import BaseModel
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.service import DockerHubService
from dockerhub_cli.text import json_visible, visible

MARKUP = "[bold red]R[/bold red][link=http://evil.example/]L[/link]:smile:"
HOSTILE = (
    "A\x1b]0;pwned\x07B\x1b[2J\x9b31mC\u202eD\u2066E\r\x7f\x00\x08\x1b]8;;http://x\x1b\\F " + MARKUP
)
# What must never be written raw: C0 but tab/newline, DEL, C1, bidi controls.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

runner = CliRunner()


# -- a result of any model type, hostile in every string -----------------------------------


def hostile(annotation: Any, depth: int = 0) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return HOSTILE
    if origin is typing.Annotated:
        return hostile(args[0], depth)
    if origin in (typing.Union, types.UnionType):
        real = [a for a in args if a is not type(None)]
        return hostile(real[0], depth) if real else None
    if origin is typing.Literal:
        return args[0]
    if origin in (list, set, frozenset, tuple) or annotation in (list, tuple):
        inner = args[0] if args else str
        return [hostile(inner, depth + 1)] if depth < 4 else []
    if origin is dict or annotation is dict:
        value = args[1] if len(args) == 2 else str
        return {HOSTILE: hostile(value, depth + 1)} if depth < 4 else {}
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return next(iter(annotation))
        if issubclass(annotation, BaseModel):
            return build(annotation, depth + 1)
        if issubclass(annotation, bool):
            return True
        if issubclass(annotation, int):
            return 0
        if issubclass(annotation, float):
            return 0.5
        if issubclass(annotation, datetime):
            return datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
        if issubclass(annotation, str):
            return HOSTILE
    return None


def build(model: type[BaseModel], depth: int = 0) -> BaseModel:
    values = {name: hostile(info.annotation, depth) for name, info in model.model_fields.items()}
    return model.model_construct(**values)


def _result_type(method_name: str) -> Any:
    """The declared result model of a service method (its modules import models lazily)."""
    import importlib

    namespace: dict[str, Any] = {"Path": __import__("pathlib").Path, "IO": typing.IO}
    for module in (
        "models.core",
        "models.images",
        "models.layers",
        "models.compare",
        "models.supply",
        "models.files",
        "ops.hub_catalog",
        "ops.files",
        "ops.tags",
        "models.pinning",
        "models.cache",
        "remote.local_layout",
        "oci.reference",
    ):
        namespace.update(vars(importlib.import_module(f"dockerhub_cli.{module}")))
    namespace["FileProgress"] = namespace["Progress"]  # service.py's alias for ops.files's
    namespace["WarmProgress"] = importlib.import_module("dockerhub_cli.ops.warm").Progress
    method = getattr(DockerHubService, method_name)
    return typing.get_type_hints(method, localns=namespace)["return"]


class HostileService:
    """Every DockerHubService method returns a hostile instance of its declared result."""

    def __getattr__(self, name: str) -> Any:
        result = _result_type(name)
        if typing.get_origin(result) is tuple:
            first, second = typing.get_args(result)
            if typing.get_origin(second) is collections.abc.Iterator:  # `files_streamed`
                return lambda *args, **kwargs: _streamed(build(first))
            return lambda *args, **kwargs: None  # `cat`: (meta, byte stream)
        return lambda *args, **kwargs: build(result)


def _streamed(model: Any) -> tuple[Any, Any]:
    """A hostile result and its hostile rows apart, as `files_streamed` returns them."""
    field = type(model).rows_field
    rows = list(getattr(model, field))
    setattr(model, field, [])
    return model, iter(rows)


# -- every command ----------------------------------------------------------------------------

CASES: dict[str, list[str] | None] = {
    "whoami": ["whoami"],
    "ratelimit": ["ratelimit"],
    "login": ["login", "-u", "me", "--password-stdin", "registry.example.com"],
    "logout": ["logout", "registry.example.com"],
    "compare": ["compare", "a:1", "b:2"],
    "updates": ["updates", "a:1"],
    "search": ["search", "nginx"],
    "tags": ["tags", "nginx"],
    "inspect": ["inspect", "nginx"],
    "layers": ["layers", "nginx"],
    "history": ["history", "nginx"],
    "dockerfile": ["dockerfile", "nginx"],
    "size": ["size", "nginx"],
    "manifest": ["manifest", "nginx"],
    "sbom": ["sbom", "nginx"],
    "provenance": ["provenance", "nginx"],
    "vulns": ["vulns", "nginx"],
    "cache info": ["cache", "info"],
    "cache clear": ["cache", "clear"],
    "cache warm": ["cache", "warm", "nginx"],
    "config show": ["config", "show"],
    "config path": ["config", "path"],
    "orgs": ["orgs"],
    "repos": ["repos", "library"],
    "readme": ["readme", "nginx"],
    "referrers": ["referrers", "nginx"],
    "verify": ["verify", "nginx"],
    "files": ["files", "nginx"],
    "diff": ["diff", "nginx:1", "nginx:2"],
    "waste": ["waste", "nginx"],
    "extract": ["extract", "nginx", "/etc/motd", "-o", "out"],
    # `cat` writes the file's own bytes, like cat(1); binary data is refused on a terminal
    # (test_files_ops); its table-free output has nothing of ours to escape.
    "cat": None,
    "pin": ["pin", "Dockerfile", "--dry-run"],
    "upgrade": ["upgrade", "nginx:1.27"],
    "watch": ["watch", "nginx:1.27"],
    "serve-mcp": None,  # writes only the MCP protocol (JSON) on stdout: see test_mcp_server
}


def _commands() -> list[str]:
    names: list[str] = []

    def walk(command: Any, path: list[str]) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
        else:
            names.append(" ".join(path))

    walk(typer.main.get_command(app), [])
    return names


def test_every_command_has_a_case() -> None:
    assert sorted(_commands()) == sorted(CASES)


@pytest.fixture
def hostile_service(monkeypatch: pytest.MonkeyPatch) -> None:
    # The spec's generic body gets the service from cli.run at call time; the few commands
    # with their own body (cli/*_commands.py) import `get_service` into their module.
    import importlib
    import pkgutil

    import dockerhub_cli.cli as cli_package

    app_module = importlib.import_module("dockerhub_cli.cli.app")

    monkeypatch.setattr(app_module, "get_service", HostileService)
    monkeypatch.setattr(
        importlib.import_module("dockerhub_cli.cli.run"), "get_service", HostileService
    )
    for info in pkgutil.iter_modules(cli_package.__path__):
        if info.name.endswith("_commands"):
            module = importlib.import_module(f"dockerhub_cli.cli.{info.name}")
            if hasattr(module, "get_service"):
                monkeypatch.setattr(module, "get_service", HostileService)
    # Local data goes through the same edge: a hostile value in the environment.
    monkeypatch.setenv("DOCKERHUB_USERNAME", HOSTILE.replace("\x00", ""))


def _check(output: str, where: str) -> None:
    raw = RAW.search(output)
    assert raw is None, f"{where}: raw {raw.group(0)!r} in {output!r}"


MODES = {
    "table": [],
    "json": ["--json"],
    "quiet": ["--quiet"],
    "format": ["--format", "{%s}"],
}


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        (name, mode)
        for mode in MODES
        for name, args in CASES.items()
        # `config path` prints a path and takes no output options
        if args is not None and (name != "config path" or mode == "table")
    ],
)
def test_no_raw_control_character_reaches_the_terminal(
    hostile_service: None, name: str, mode: str
) -> None:
    args = list(CASES[name] or [])
    extra = list(MODES[mode])
    if mode == "format":
        extra[1] %= _first_text_field(name)
    result = runner.invoke(app, args + extra, input="secret\n")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    _check(result.stdout, f"{name} {mode} stdout")
    _check(result.stderr, f"{name} {mode} stderr")
    if mode == "json":
        json.loads(result.stdout)  # still JSON, with the exact data
    if mode == "table" and name not in ("cache info", "cache clear", "config path"):
        # Markup in publisher data is shown as written, never interpreted.
        assert "[link=http://evil.example/]" in result.stdout, result.stdout
        assert "\\x1b]0;pwned\\x07" in result.stdout.replace("\n", "")


def _first_text_field(name: str) -> str:
    from dockerhub_cli.render import result_rows

    method = {
        "ratelimit": "pull_rate_limit",
        "size": "pull_size",
        "orgs": "organisations",
        "repos": "repositories",
        "diff": "diff_files",
        "cache warm": "warm",
        "cache info": None,
        "cache clear": None,
        "config show": None,
        "config path": None,
    }.get(name, name)
    if method is None:
        return "key" if name == "config show" else "backend"
    model = build(_result_type(method))
    _, row_class = result_rows(model)
    return next(
        f for f, info in row_class.model_fields.items() if isinstance(hostile(info.annotation), str)
    )


def test_json_keeps_the_exact_data(hostile_service: None) -> None:
    result = runner.invoke(app, ["inspect", "nginx", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["reference"] == HOSTILE
    assert data["config"]["labels"] == {HOSTILE: HOSTILE}


def test_terminal_with_colours_gets_no_injected_link(
    hostile_service: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With colours on, Rich writes its own styles; the data still adds no OSC, link or BEL."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = runner.invoke(app, ["tags", "nginx"])
    assert result.exit_code == 0
    assert "\x1b[" in result.stdout  # colours are on
    assert "\x1b]" not in result.stdout and "\x07" not in result.stdout
    assert "\x1b[2J" not in result.stdout and "\u202e" not in result.stdout


def test_registry_error_body_reaches_stderr_escaped(rsps) -> None:
    rsps.get(
        "https://registry.example.com/v2/",
        status=200,
    )
    rsps.get(
        "https://registry.example.com/v2/team/app/manifests/1",
        status=400,
        json={"errors": [{"code": "DENIED", "message": HOSTILE}]},
    )
    rsps.head(
        "https://registry.example.com/v2/team/app/manifests/1",
        status=400,
    )
    result = runner.invoke(app, ["inspect", "registry.example.com/team/app:1"])
    assert result.exit_code != 0
    _check(result.stdout, "stdout")
    _check(result.stderr, "stderr")
    assert "error:" in result.stderr


def test_visible_escapes_and_keeps() -> None:
    assert visible("a\tb\nc") == "a\tb\nc"
    assert visible("\x1b[2J\x07\x9b\x7f") == "\\x1b[2J\\x07\\x9b\\x7f"
    assert visible("x\u202ey\u2066z\u200f") == "x\\u202ey\\u2066z\\u200f"
    assert visible("plain") == "plain"
    assert json.loads(json_visible(json.dumps("\x9b\u202e", ensure_ascii=False))) == "\x9b\u202e"
    assert RAW.search(json_visible(json.dumps("\x9b\u202e", ensure_ascii=False))) is None


def test_a_newline_in_a_registry_tag_cannot_forge_a_row(rsps) -> None:
    """Tag names are one line each (the spec forbids newlines in them; a hostile registry sends
    them anyway): in a pipe, in the table and with -q, `a\\nb` stays one row, written `a\\\\nb`;
    --json keeps the exact name."""
    from dockerhub_cli.text import visible_line

    rsps.get("https://registry.example.com/v2/", status=200)
    rsps.get(
        "https://registry.example.com/v2/team/app/tags/list",
        json={"name": "team/app", "tags": ["1.0", "latest\nevil", "x\r\x1b[2Ky"]},
    )
    for extra in ([], ["-q"]):
        result = runner.invoke(app, ["tags", "registry.example.com/team/app", *extra])
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.splitlines()
        assert "latest\\nevil" in lines and "x\\x0d\\x1b[2Ky" in lines
        assert "evil" not in lines and "latest" not in lines
    data = json.loads(
        runner.invoke(app, ["tags", "registry.example.com/team/app", "--json"]).stdout
    )
    assert [t["name"] for t in data["tags"]] == ["1.0", "latest\nevil", "x\r\x1b[2Ky"]
    assert visible_line("a\tb") == "a\tb" and visible_line("plain") == "plain"
