"""Drift checks: man/dockerhub.1, completions/* and docs/commands.md must match the spec now.

When this fails after adding or changing a command, run `make generate` (or
`python scripts/gen_man.py && python scripts/gen_completions.py`) and commit the result.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
HINT = "generated files are stale: run `make generate` and commit the result"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mcp_tools_listing_is_up_to_date(tmp_path: Path) -> None:
    gen = _load("gen_mcp_tools")
    assert gen.main(["--output", str(tmp_path)]) == 0
    fresh = (tmp_path / "tools.json").read_text()
    assert fresh == (ROOT / "dockerhub_cli/mcp/tools.json").read_text(), HINT


def test_man_page_is_up_to_date(tmp_path: Path) -> None:
    gen_man = _load("gen_man")
    assert gen_man.main(["--output", str(tmp_path)]) == 0
    fresh = (tmp_path / "dockerhub.1").read_text()
    assert fresh == (ROOT / "man/dockerhub.1").read_text(), HINT


def test_man_page_covers_commands_env_and_exit_codes() -> None:
    from dockerhub_cli.config.settings import ENV_VARS
    from dockerhub_cli.exitcodes import EXIT_CODE_MEANINGS

    gen_man = _load("gen_man")
    page = gen_man.render()
    for path, command in gen_man.commands():
        assert f".SS {gen_man.esc(path)}" in page
        for param in command.params:
            for opt in param.opts if param.param_type_name == "option" else ():
                assert f"\\fB{gen_man.esc(opt)}" in page or gen_man.esc(opt) in page
    for name in ENV_VARS:
        assert gen_man.esc(name) in page
    for code in EXIT_CODE_MEANINGS:
        assert f".TP\n\\fB{int(code)}\\fR" in page
    assert str(Path.home()) not in page  # no machine-specific defaults


def test_command_reference_is_up_to_date(tmp_path: Path) -> None:
    gen_docs = _load("gen_docs")
    assert gen_docs.main(["--output", str(tmp_path)]) == 0
    fresh = (tmp_path / "commands.md").read_text()
    assert fresh == (ROOT / "docs/commands.md").read_text(), HINT
    (tmp_path / "commands.md").write_text("stale\n")
    assert gen_docs.main(["--output", str(tmp_path), "--check"]) == 1


def test_command_reference_covers_every_command_and_tool() -> None:
    from dockerhub_cli import commands

    page = _load("gen_docs").render()
    for command in commands.COMMANDS:
        if command.cli:
            assert f"### `dockerhub {command.name}`" in page
        if command.mcp is not None:
            assert f"`{command.mcp.name}`" in page
        for p in command.params:
            assert f"| `{p.name}` |" in page, (command.name, p.name)


def test_completions_are_up_to_date(tmp_path: Path) -> None:
    gen = _load("gen_completions")
    assert gen.main(["--output", str(tmp_path)]) == 0
    for name in gen.FILES.values():
        assert (tmp_path / name).read_text() == (ROOT / "completions" / name).read_text(), HINT


def test_check_mode_detects_drift(tmp_path: Path) -> None:
    gen_man = _load("gen_man")
    (tmp_path / "dockerhub.1").write_text("stale\n")
    assert gen_man.main(["--output", str(tmp_path), "--check"]) == 1


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("dockerhub rat", "1", ["ratelimit"]),
        ("dockerhub config s", "2", ["show"]),
        # --kind's values come from the spec's choices (limits.FILE_KINDS)
        ("dockerhub pin --kind ", "3", ["dockerfile", "compose", "kubernetes", "workflow"]),
        ("dockerhub watch --kind ku", "3", ["kubernetes"]),
        ("dockerhub cache warm --kind co", "4", ["compose"]),
        # --platform offers the common platforms (limits.COMMON_PLATFORMS; any is accepted)
        (
            "dockerhub inspect nginx --platform linux/ar",
            "4",
            ["linux/arm64", "linux/arm64/v8", "linux/arm/v7", "linux/arm/v6"],
        ),
        ("dockerhub files nginx -p win", "4", ["windows/amd64", "windows/arm64"]),
        ("dockerhub cache warm nginx --platform linux/s", "5", ["linux/s390x"]),
    ],
)
def test_bash_completion_protocol_answers(words: str, cword: str, expected: list[str]) -> None:
    env = {
        **os.environ,
        "_DOCKERHUB_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": cword,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", "from dockerhub_cli.cli import app; app(prog_name='dockerhub')"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answers = done.stdout.split()
    assert all(e in answers for e in expected), done.stderr
    prefix = words.rsplit(" ", 1)[-1]
    assert all(a.startswith(prefix) for a in answers), answers
    if len(expected) > 1:
        assert answers == expected


def test_file_kinds_of_the_spec_are_the_parsers() -> None:
    """`--kind`'s choices (limits, read by the spec without importing the parser) are exactly
    the kinds oci/pinfiles can read."""
    import typing

    from dockerhub_cli import limits
    from dockerhub_cli.oci import pinfiles

    assert limits.FILE_KINDS == pinfiles.FILE_KINDS == typing.get_args(pinfiles.FileKind)


def test_every_platform_option_offers_the_common_platforms() -> None:
    """Each command's --platform completes the same list; the list is only offered: a value
    not in it (linux/mips64, a Windows os.version...) is accepted as before."""
    from dockerhub_cli import commands, limits

    platform_options = [
        p for c in commands.cli_commands() for p in c.cli_params() if "--platform" in p.flags
    ]
    assert len(platform_options) > 10
    assert all(p.suggestions == limits.COMMON_PLATFORMS for p in platform_options)
    assert all(not p.choices for p in platform_options)
    assert "linux/amd64" in limits.COMMON_PLATFORMS and "linux/arm/v7" in limits.COMMON_PLATFORMS
