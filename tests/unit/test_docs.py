"""Docs coverage: every command (found dynamically, so commands added later count too) has a
help text with an example, a section of docs/commands.md with a hand-written part and a
```console example somewhere in the docs; the exit-code table (docs/configuration.md) matches
ExitCode; README is short, has a table of contents and keeps its two-command quick start."""

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
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
REFERENCE = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
DETAILS = (ROOT / "docs" / "src" / "command-details.md").read_text(encoding="utf-8")
ALL_DOCS = README + "".join(
    p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").rglob("*.md"))
)


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
def test_command_is_documented_with_an_example(path: str, command: Any) -> None:
    assert re.search(rf"^### `{re.escape(path)}`", REFERENCE, re.MULTILINE), path
    assert re.search(rf"^### `{re.escape(path)}\b", DETAILS, re.MULTILINE), (
        f"docs/src/command-details.md needs a section '### `{path} ...`' (then make generate)"
    )
    prefix = r"^\$ (echo \S+ \| )?(\w+=\S* )*"  # `echo secret | ` and `NAME=value ` may lead
    assert re.search(prefix + re.escape(path) + r"\b", ALL_DOCS, re.MULTILINE), (
        f"no ```console example runs `{path}` in README.md or docs/"
    )


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_option_has_help(path: str, command: Any) -> None:
    for param in command.params:
        assert (param.help or "").strip(), f"{path}: {param.name} has no help"


def test_exit_code_table_matches_enum() -> None:
    section = CONFIGURATION.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.MULTILINE))
    assert {int(code) for code in rows} == {int(code) for code in ExitCode}
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert rows[str(int(code))].replace("`", "") == meaning


def test_readme_keeps_quick_start() -> None:
    """Two commands: the main job on the example layout (offline), then the tests, which is
    what CI runs; the install step before them shows the virtual environment and pipx."""
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^\$ (.+)$", section, re.MULTILINE)
    assert commands == ["dockerhub inspect oci:examples/hello-oci:1.0", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.MULTILINE), ".ci/run must run README's test command"
    install = README.split("## Install", 1)[1].split("\n## ", 1)[0]
    assert "python3 -m venv .venv && . .venv/bin/activate && pip install ." in install
    assert "pipx install ." in install and "pipx install hubscope" in install


def test_readme_is_short_with_a_table_of_contents() -> None:
    assert len(README.splitlines()) < 300
    toc = README.split("## Contents", 1)[1].split("\n## ", 1)[0]
    headings = re.findall(r"^#{2,3} (.+)$", README, re.MULTILINE)
    for heading in headings:
        if heading == "Contents":
            continue
        anchor = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        assert f"(#{anchor})" in toc, f"README's table of contents lacks {heading!r}"


def test_readme_links_resolve() -> None:
    for target in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (ROOT / target).is_file(), target


def test_options_before_the_command_are_accepted_there() -> None:
    """The table of options every command takes says which also go before the command."""
    from typer.testing import CliRunner

    section = CONFIGURATION.split("## Options every command takes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(--[a-z-]+)[^|]*\|[^|]*\| (yes|no) \|$", section, re.MULTILINE)
    assert {option for option, _ in rows} >= {"--json", "--format", "--no-cache", "--debug"}
    runner = CliRunner()
    for option, before in rows:
        args = {"--format": [option, "{x}"], "--max-pulls": [option, "3"]}.get(option, [option])
        result = runner.invoke(app, [*args, "config", "path"])
        assert (result.exit_code == 0) == (before == "yes"), (option, result.output)


def test_environment_table_lists_every_variable() -> None:
    from dockerhub_cli.config.settings import ENV_VARS

    section = CONFIGURATION.split("## Environment", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in ENV_VARS if f"`{name}`" not in section]
    assert not missing, f"docs/configuration.md's Environment table lacks {missing}"


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    found = set()
    fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and line.startswith("#"):
            heading = line.lstrip("#").strip()
            found.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return found


def test_links_between_the_docs_resolve() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and linked.suffix == ".md":
                if anchor not in _anchors(linked.read_text(encoding="utf-8")):
                    broken.append(f"{page.name}: {target}")
    assert not broken, broken
