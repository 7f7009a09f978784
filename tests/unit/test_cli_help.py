"""`COMMAND --help` through Typer's Rich help loaded lean (`cli/richhelp.py`): the same bytes
as with Typer's own import of it, on a terminal and in a pipe, at two widths; without
rich.markdown, rich.traceback, markdown-it or Pygments; and Typer's module still uses the
two names the way the stand-ins assume (issue 19)."""

from __future__ import annotations

import ast
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import typer.rich_utils

from dockerhub_cli import commands
from dockerhub_cli.cli import richhelp

HEAVY = ("rich.markdown", "rich.traceback", "markdown_it", "pygments", "rich.syntax")


def test_rich_utils_uses_markdown_and_traceback_only_as_the_stand_ins_allow() -> None:
    """Fails when a Typer update takes more from those modules, or uses the two classes in
    another way than making one (`Markdown(...)`, `Traceback.from_exception(...)`) and in
    annotations: then the stand-ins must learn it (or go)."""
    tree = ast.parse(Path(typer.rich_utils.__file__).read_text(encoding="utf-8"))
    taken: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in richhelp.STAND_INS:
            taken.setdefault(node.module, set()).update(a.name for a in node.names)
            assert all(a.asname is None for a in node.names)
        if isinstance(node, ast.Import):
            assert not any(a.name in richhelp.STAND_INS for a in node.names)
    assert taken == {module: {name} for module, name in richhelp.STAND_INS.items()}
    names = set(richhelp.STAND_INS.values())
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in names:
                allowed.add(id(func))
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "from_exception"
                and isinstance(func.value, ast.Name)
                and func.value.id == "Traceback"
            ):
                allowed.add(id(func.value))
        for annotation in _annotations(node):
            for inner in ast.walk(annotation):
                allowed.add(id(inner))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            assert id(node) in allowed, f"rich_utils line {node.lineno} uses {node.id}"


def _annotations(node: ast.AST) -> list[ast.AST]:
    out: list[ast.AST] = []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        out += [node.returns] if node.returns is not None else []
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None and arg.annotation is not None:
                out.append(arg.annotation)
    if isinstance(node, ast.AnnAssign):
        out.append(node.annotation)
    return out


def test_the_stand_ins_make_the_real_objects() -> None:
    from rich.markdown import Markdown
    from rich.traceback import Traceback

    assert type(richhelp.Markdown("# x")) is Markdown
    try:
        raise ValueError("x")
    except ValueError as exc:
        made = richhelp.Traceback.from_exception(type(exc), exc, exc.__traceback__)
    assert type(made) is Traceback


_CHILD = """
import sys
lean = sys.argv[1] == "lean"
if not lean:
    import dockerhub_cli.cli.richhelp as richhelp
    richhelp.load = lambda: None
from dockerhub_cli import cli
for line in sys.stdin.read().splitlines():
    sys.argv = ["dockerhub", *line.split()]
    sys.stdout.write("=== " + line + "\\n")
    try:
        cli.main()
    except SystemExit as done:
        sys.stdout.write(f"--- exit {done.code}\\n")
    sys.stdout.flush()
sys.stdout.write("heavy: " + ",".join(m for m in HEAVY if m in sys.modules))
""".replace("HEAVY", repr(HEAVY))


def _helps(every: bool = True) -> str:
    """Every command's help (or a few: a group's, the root's through Typer, `-h`)."""
    lines = [f"{c.name} --help" for c in commands.cli_commands()]
    if not every:
        lines = ["inspect --help", "tags --help", "config path --help"]
    return "\n".join([*lines, "cache --help", "--offline --help", "inspect -h"]) + "\n"


def _child(way: str, width: int, terminal: bool, tmp_path: Path) -> bytes:
    helps = _helps(every=width == 80 and not terminal).encode()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "COLUMNS": str(width),
        "LINES": "50",
        "TERM": "xterm-256color",
    }
    if not terminal:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, way],
            input=helps,
            capture_output=True,
            env=env,
            check=True,
            timeout=120,
        )
        return done.stdout
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, way],
        stdin=subprocess.PIPE,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
    ) as child:
        os.close(slave)
        _, err = child.communicate(helps, timeout=120)
        assert child.returncode == 0, err
    reader.join(timeout=30)
    os.close(master)
    return b"".join(chunks)


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize("width", [80, 200])
def test_help_is_the_same_as_with_typers_own_import(
    terminal: bool, width: int, tmp_path: Path
) -> None:
    lean = _child("lean", width, terminal, tmp_path)
    real = _child("typer", width, terminal, tmp_path)
    lean_text, _, lean_heavy = lean.rpartition(b"heavy: ")
    real_text, _, real_heavy = real.rpartition(b"heavy: ")
    assert lean_text == real_text
    assert lean_text.count(b"=== ") == len(_helps(every=width == 80 and not terminal).splitlines())
    assert b"Usage:" in lean_text and b"--- exit 0" in lean_text
    if terminal:
        assert b"\x1b[" in lean_text  # a terminal: Rich's styles
    else:
        assert b"\x1b[" not in lean_text
    assert lean_heavy.strip() == b""  # none of rich.markdown, rich.traceback, ...
    assert b"rich.markdown" in real_heavy  # (what Typer's own import loads)
