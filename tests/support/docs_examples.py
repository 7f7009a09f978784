"""Docs as tests: every ```console block of README.md and docs/*.md is run and compared.

A block is a list of `$ command` lines, each followed by the output it prints (stdout and
stderr as a terminal shows them). How a block runs depends on what it names:

* ``demo``: it names ``localhost:5000`` (the demo registry, tests/support/demo.py); run by
  tests/integration/test_docs_demo.py against a registry started once per session, the port
  substituted;
* ``local``: every command reads a local source (``oci:``, ``examples/``); run offline by
  tests/unit/test_docs_local.py;
* ``hub``: the Hub sections run against `responses` fixtures (tests/unit/test_docs_examples.py);
* ``stand-in``: the block is preceded by ``<!-- run with: NAME -->``; it runs inside the
  `responses` stand-in NAME of tests/support/docs_fixtures.py (Docker Hub's registry, OSV),
  by tests/unit/test_docs_examples.py;
* ``skip``: the block is preceded by ``<!-- not run: REASON -->`` (a real account, a server
  that keeps running, a path on the author's machine). Every other block must be one of the
  above (tests/unit/test_docs_local.py checks).

Expected output may use ``...`` for volatile or omitted parts: a line that is only ``...``
stands for any lines, ``...`` inside a line for any text. Relative times ("3 days ago",
"944 days") and runs of spaces are normalised on both sides. A `--json` example shortened to
one line checks the top-level values it shows. ``$ echo $?`` prints the previous exit code,
``cmd; echo "exit $?"`` appends it. Each block runs in a fresh directory holding a copy of
examples/ (the port substituted), with a fresh cache, home and Docker config.

`make docs-update` (scripts/docs-update) runs every local and demo block and rewrites the
output of each command whose output no longer matches, from the real run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_HOST = "localhost:5000"
HUB_SECTIONS = ("dockerhub repos", "dockerhub orgs", "dockerhub readme", "dockerhub search")
NOT_RUN = re.compile(r"<!-- not run: (.+?) -->")
RUN_WITH = re.compile(r"<!-- run with: ([\w-]+) -->")
NO_OPS = {"make test"}  # the test suite itself (what .ci/run calls)
# Commands that make no request: run offline, in the sandbox's home.
OFFLINE = ("config path", "config show", "cache info", "cache clear", "whoami")
HOME = "/home/me"  # the sandbox's home directory is shown as this
COLUMNS = "250"


def doc_files() -> list[Path]:
    """README.md and docs/*.md; docs/commands.md is generated from docs/src/command-details.md
    (which is read instead)."""
    docs = sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "commands.md")
    return [ROOT / "README.md", *docs, ROOT / "docs" / "src" / "command-details.md"]


@dataclass
class Command:
    line: str  # without the "$ "
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    path: Path
    start: int  # index of the ```console line
    end: int  # index of the closing ``` line
    section: str
    commands: list[Command]
    skip_reason: str | None
    stand_in: str | None = None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.start + 1}"

    @property
    def kind(self) -> str:
        lines = [c.line for c in self.commands]
        if self.skip_reason:
            return "skip"
        if any(DEMO_HOST in line or _names_demo_file(line) for line in lines):
            return "demo"  # with its stand-in, if it names one (Docker Hub, OSV)
        if self.stand_in:
            return "stand-in"
        if self.path.name == "command-details.md" and self.section.startswith(
            tuple(f"`{s}" for s in HUB_SECTIONS)
        ):
            return "hub"
        runnable = [_command(line) for line in lines if line not in NO_OPS and line != "echo $?"]
        if runnable and all(
            line.startswith("dockerhub ")
            and (
                "oci:" in line
                or "examples/" in line
                or (line.removeprefix("dockerhub ").startswith(OFFLINE) and "--verify" not in line)
            )
            for line in runnable
        ):
            return "local"
        return "unclassified"


def _command(line: str) -> str:
    """The dockerhub command of a line, without `NAME=value` prefixes and `echo X |`."""
    line = line.split(" | ", 1)[1] if line.startswith("echo ") and " | " in line else line
    words = line.split()
    while words and "=" in words[0]:
        words.pop(0)
    return " ".join(words)


def _names_demo_file(line: str) -> bool:
    """The command reads a file of examples/ that names the demo registry (examples/Dockerfile)."""
    for word in line.split():
        path = ROOT / word
        if word.startswith("examples/") and path.is_file() and path.suffix != ".pub":
            if DEMO_HOST in path.read_text(encoding="utf-8", errors="replace"):
                return True
    return False


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        if line.startswith("```"):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            if line.strip() == "```console":
                before = [x for x in lines[max(0, i - 3) : i] if x.strip()]
                reason = next((m.group(1) for x in before if (m := NOT_RUN.search(x))), None)
                stand_in = next((m.group(1) for x in before if (m := RUN_WITH.search(x))), None)
                commands: list[Command] = []
                for body in lines[i + 1 : end]:
                    if body.startswith("$ "):
                        commands.append(Command(body[2:]))
                    elif commands:
                        commands[-1].expected.append(body)
                found.append(Block(path, i, end, section, commands, reason, stand_in))
            i = end + 1
            continue
        i += 1
    return found


def all_blocks() -> list[Block]:
    return [b for p in doc_files() for b in blocks(p)]


# -- comparing ------------------------------------------------------------------------------

_AGO = re.compile(
    r"\b(\d+ (second|minute|hour|day|week|month|year)s?( ago)?|just now|a moment ago)\b"
)


def normal(line: str) -> str:
    return " ".join(_AGO.sub("<time>", line).split())


def matches(expected: list[str], got: list[str]) -> bool:
    while expected and not expected[-1].strip():
        expected = expected[:-1]
    parts = []
    for want in expected:
        if want.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = [re.escape(p) for p in normal(want).split("...")]
            parts.append(".*?".join(pieces) + r"\n")
    text = "".join(normal(x) + "\n" for x in got if x.strip())
    return re.fullmatch("".join(p for p in parts if p != r"\n"), text, re.DOTALL) is not None


def _pairs(data: object) -> Iterator[tuple[str, object]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield key, value
            yield from _pairs(value)
    elif isinstance(data, list):
        for item in data:
            yield from _pairs(item)


def json_matches(expected: list[str], stdout: str) -> bool:
    """A `--json` example shortened with `...`: a sketch of the output. Every top-level key it
    shows is there, and every `"key": value` (a string, number, true, false or null) it shows
    is found in the output with that value."""
    data = json.loads(stdout)
    sketch = "\n".join(expected)
    top = re.findall(r'^(?:\{|  )"(\w+)":', sketch, re.MULTILINE)
    if not isinstance(data, dict) or any(key not in data for key in top):
        return False
    found = set()
    for key, value in _pairs(data):
        if value is None or isinstance(value, str | int | float | bool):
            found.add((key, json.dumps(value)))
    for key, value in re.findall(
        r'"(\w+)": ("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)', sketch
    ):
        if (key, json.dumps(json.loads(value))) not in found:
            return False
    return True


# -- running --------------------------------------------------------------------------------


@dataclass
class Outcome:
    command: Command
    output: list[str]  # what the terminal showed (host written back as localhost:5000)
    exit_code: int
    ok: bool
    why: str = ""


@contextlib.contextmanager
def sandbox(workdir: Path, host: str, *, stand_in: bool = False) -> Iterator[dict[str, str | None]]:
    """A fresh directory with examples/ (DEMO_HOST replaced by *host* in text files) and the
    environment of a new user."""
    if workdir.exists():
        shutil.rmtree(workdir)
    shutil.copytree(ROOT / "examples", workdir / "examples", symlinks=True)
    for p in (workdir / "examples").iterdir():
        if p.is_file() and p.suffix != ".pub":
            with contextlib.suppress(UnicodeDecodeError):
                p.write_text(p.read_text(encoding="utf-8").replace(DEMO_HOST, host))
    home = workdir / "home"
    env: dict[str, str | None] = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "DOCKER_CONFIG": str(home / ".docker"),
        "COLUMNS": COLUMNS,
        "NO_COLOR": "1",
        "TERM": "dumb",
        "DOCKERHUB_NO_SPINNER": "1",
    }
    # nothing leaves the machine: Docker Hub and OSV are a closed port on loopback, or (under a
    # stand-in's `responses` mock, which answers every request) their real addresses
    for name in ("DOCKERHUB_HUB_URL", "DOCKERHUB_REGISTRY_URL", "DOCKERHUB_OSV_URL"):
        env[name] = None if stand_in else "http://127.0.0.1:9"
    # every other DOCKERHUB_* and DOCKER_* variable of the caller is removed
    for name in os.environ:
        if name.startswith(("DOCKERHUB_", "DOCKER_")) and name not in env:
            env[name] = None
    with contextlib.chdir(workdir):
        yield env


_COMMENT = re.compile(r"\s+# [^'\"]*$")  # `cmd   # a remark` (not inside quotes)


def run_block(
    block: Block,
    workdir: Path,
    host: str = DEMO_HOST,
    *,
    stand_in: bool = False,
    prepare: Callable[[dict[str, str | None]], None] | None = None,
) -> list[Outcome]:
    """Run the block's commands in a fresh sandbox; *prepare* may add files and variables to
    it (a stand-in's credential helper) before the first command."""
    from typer.testing import CliRunner

    from dockerhub_cli.cli import app

    outcomes: list[Outcome] = []
    last_exit = 0
    with sandbox(workdir, host, stand_in=stand_in) as env:
        if prepare is not None:
            prepare(env)
        saved = {k: os.environ.get(k) for k in env}
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        try:
            for cmd in block.commands:
                line = _COMMENT.sub("", cmd.line)
                if line in NO_OPS:
                    outcomes.append(Outcome(cmd, cmd.expected, 0, True))
                    continue
                if line == "echo $?":
                    out = [str(last_exit)]
                    ok = matches(cmd.expected, out)
                    outcomes.append(Outcome(cmd, out, 0, ok, "" if ok else "exit code differs"))
                    continue
                echo = line.endswith('; echo "exit $?"')
                line = line.removesuffix('; echo "exit $?"')
                stdin = None
                if line.startswith("echo ") and " | " in line:
                    piped, line = line.split(" | ", 1)
                    stdin = " ".join(shlex.split(piped)[1:]) + "\n"
                    stdin = os.path.expandvars(stdin)  # "$GHCR_TOKEN" from the sandbox
                home = str(env["HOME"])
                words = shlex.split(line.replace(DEMO_HOST, host).replace(HOME, home))
                extra: dict[str, str] = {}
                while "=" in words[0]:
                    name, value = words.pop(0).split("=", 1)
                    extra[name] = value
                assert words[0] == "dockerhub", line
                result = CliRunner().invoke(
                    app, words[1:], input=stdin, env=extra, catch_exceptions=True
                )
                last_exit = result.exit_code
                shown = result.output.replace(host, DEMO_HOST).replace(home, HOME)
                output = shown.split("\n")
                while output and not output[-1].strip():
                    output.pop()
                if echo:
                    output.append(f"exit {result.exit_code}")
                expected = cmd.expected
                shown_error = any(x.startswith("error:") for x in expected)
                if "--json" in words and any("..." in x for x in expected):
                    stdout = result.stdout.replace(host, DEMO_HOST).replace(home, HOME)
                    ok = result.exit_code == 0 and json_matches(expected, stdout)
                else:
                    ok = matches(expected, output)
                why = "" if ok else "output differs"
                if ok and result.exit_code not in (0,) and not (shown_error or echo):
                    nxt = block.commands.index(cmd) + 1
                    if not (nxt < len(block.commands) and block.commands[nxt].line == "echo $?"):
                        ok, why = False, f"exit {result.exit_code} without an error shown"
                if result.exception and not isinstance(result.exception, SystemExit):
                    ok, why = False, f"raised {result.exception!r}"
                outcomes.append(Outcome(cmd, output, result.exit_code, ok, why))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return outcomes


def report(block: Block, outcomes: list[Outcome]) -> str:
    parts = [
        f"{block.id}: $ {o.command.line}\n  {o.why} (exit {o.exit_code})\n"
        "  documented:\n"
        + "\n".join("    " + x for x in o.command.expected)
        + "\n  got:\n"
        + "\n".join("    " + x for x in o.output)
        for o in outcomes
        if not o.ok
    ]
    return "\n".join(parts) + "\n(run `make docs-update` to rewrite the documented output)"


def rewrite(block: Block, outcomes: list[Outcome]) -> bool:
    """Put each failing command's real output into the file. True when it changed."""
    if all(o.ok for o in outcomes):
        return False
    lines = block.path.read_text(encoding="utf-8").split("\n")
    body: list[str] = []
    for o in outcomes:
        body.append("$ " + o.command.line)
        body += o.command.expected if o.ok else [x.rstrip() for x in o.output]
    lines[block.start + 1 : block.end] = body
    block.path.write_text("\n".join(lines), encoding="utf-8")
    return True
