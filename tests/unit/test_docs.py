"""Docs coverage: every command (found dynamically, so commands added later count too) has a
help text with an example and a README section; README's exit-code table matches ExitCode."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

from dockerhub_cli.cli import app
from dockerhub_cli.exitcodes import EXIT_CODE_MEANINGS, ExitCode

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _leaves(group: Any, prefix: str) -> list[tuple[str, Any]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if getattr(command, "hidden", False):
            continue
        path = f"{prefix} {name}"
        found += _leaves(command, path) if hasattr(command, "commands") else [(path, command)]
    return found


COMMANDS = _leaves(typer.main.get_command(app), "dockerhub")


def test_commands_found() -> None:
    names = [path for path, _ in COMMANDS]
    assert {"dockerhub search", "dockerhub whoami", "dockerhub config show"} <= set(names)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_help_has_an_example(path: str, command: Any) -> None:
    help_text = command.help or ""
    assert help_text.strip(), f"{path} has no help text"
    assert re.search(rf"Example:\s*(.*\|\s*)?{re.escape(path)}\b", help_text), (
        f"{path}: its docstring needs a line 'Example: {path} ...'"
    )


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_is_in_readme(path: str, command: Any) -> None:
    assert re.search(rf"^#+ `{re.escape(path)}\b", README, re.MULTILINE), (
        f"README.md needs a section '### `{path} ...`' with an example and its output"
    )


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_option_has_help(path: str, command: Any) -> None:
    for param in command.params:
        assert (param.help or "").strip(), f"{path}: {param.name} has no help"


def test_readme_exit_code_table_matches_enum() -> None:
    section = README.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.MULTILINE))
    assert {int(code) for code in rows} == {int(code) for code in ExitCode}
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert rows[str(int(code))].replace("`", "") == meaning


def test_readme_keeps_quick_start() -> None:
    assert "$ pip install . && dockerhub search nginx\n$ make test\n" in README


def test_readme_options_before_the_command_are_accepted_there() -> None:
    """README's table of options every command takes says which also go before the command."""
    from typer.testing import CliRunner

    section = README.split("## Options every command takes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(--[a-z-]+)[^|]*\|[^|]*\| (yes|no) \|$", section, re.MULTILINE)
    assert {option for option, _ in rows} >= {"--json", "--format", "--no-cache", "--debug"}
    runner = CliRunner()
    for option, before in rows:
        args = [option, "{x}"] if option == "--format" else [option]
        result = runner.invoke(app, [*args, "config", "path"])
        assert (result.exit_code == 0) == (before == "yes"), (option, result.output)


def test_readme_environment_table_lists_every_variable() -> None:
    from dockerhub_cli.config.settings import ENV_VARS

    section = README.split("## Environment", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in ENV_VARS if f"`{name}`" not in section]
    assert not missing, f"README's Environment table lacks {missing}"
