"""`render.plain`: a table or a line into a pipe is written without Rich only when the text is
exactly what Rich writes; everything else goes to Rich. Generated tables (cells at and past
the width, markup and escaped markup, wide and control characters, every column option the
renderers use) are printed both ways and must match byte for byte."""

from __future__ import annotations

import inspect
import io
import json
import random
import subprocess
import sys
from typing import Any

import pytest

from dockerhub_cli import render
from dockerhub_cli.render import plain

WORDS = [
    "a",
    "linux/amd64",
    "sha256:" + "ab" * 32,
    "265.6 kB",
    "",
    " lead",
    "trail ",
    "two  spaces",
    "x" * 70,
    "y" * 150,
    '["/bin/sh"]',
    "[]",
    "[1, 2]",
    "[bold]styled[/bold]",
    "\\[bold]escaped",
    "\\\\[bold]backslash then tag",
    "\\\\\\[bold]backslash then escape",
    "ends with \\",
    "a \\ b",
    "[link=https://x]l[/link]",
    "[#fff]hex",
    "[/]",
    "[@click]",
    "x[y]z",
    "café",
    "漢字",
    "tab\there",
    "bell\x07",
    "line one\nline two",
    "trailing newline\n",
    "\nleading newline",
    "k=v\nk2=v2\nk3=v3",
]
STYLES = ["", "bold", "dim", "red", "on red", "bold underline", "not-a-style"]
# what the renderers mostly print: the plain path's own ground
SIMPLE_WORDS = [w for w in WORDS if w.isascii() and "\t" not in w and "\x07" not in w]
SIMPLE_STYLES = ["", "bold", "dim", "red"]


def _cell(rng: random.Random, simple: bool) -> Any:
    words = SIMPLE_WORDS if simple else WORDS
    text = rng.choice(words)
    if rng.random() < 0.2:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(2, 6)))
    if rng.random() < 0.3:
        return plain.Styled(text, rng.choice(SIMPLE_STYLES if simple else STYLES))
    return text


def _build(rng: random.Random, kind: type) -> tuple[Any, Any]:
    """The same calls on the stand-in table and on a second one (printed by Rich itself)."""
    options: dict[str, Any] = {"box": None, "pad_edge": False}
    simple = rng.random() < 0.6
    roll = rng.random() + (0.2 if simple else 0)
    if roll < 0.1:
        options = {}  # Rich's default box
    elif roll < 0.15:
        options["title"] = "T"
    elif roll < 0.2:
        options["expand"] = True
    if rng.random() < 0.5:
        options["show_header"] = False
    if rng.random() < 0.5:
        options["header_style"] = rng.choice(SIMPLE_STYLES if simple else STYLES)
    columns = []
    for _ in range(rng.randint(1, 4)):
        column: dict[str, Any] = {}
        if rng.random() < 0.7:
            column["header"] = rng.choice(["PLATFORM", "SIZE", "", "DIGEST", "LONG HEADER"])
        for key, values in (
            ("style", SIMPLE_STYLES if simple else STYLES),
            ("no_wrap", [True, False]),
            ("overflow", ["fold", "ellipsis", "crop"]),
            ("justify", ["left", "right"] if simple else ["left", "right", "center"]),
        ):
            if rng.random() < 0.3:
                column[key] = rng.choice(values)
        if not simple and rng.random() < 0.05:
            column["min_width"] = 12
        columns.append(column)
    rows = []
    for _ in range(rng.randint(0, 5)):
        count = len(columns) if simple or rng.random() < 0.95 else len(columns) - 1
        rows.append([_cell(rng, simple) for _ in range(count)])
    tables = []
    for _ in range(2):
        table = kind(**options)
        for column in columns:
            table.add_column(**column)
        for row in rows:
            table.add_row(*row)
        tables.append(table)
    return tables[0], tables[1]


def _rich_console(width: int) -> Any:
    console = render._rich_stdout_console(width)
    console.file = io.StringIO()
    return console


def _stand_in(width: int, monkeypatch: pytest.MonkeyPatch) -> tuple[plain.Console, io.StringIO]:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    made: list[Any] = []

    def make() -> Any:
        console = render._rich_stdout_console(width)
        console.file = out
        made.append(console)
        return console

    return plain.Console(width, make, render._rich_broken_pipe), out


def test_generated_tables_print_as_rich_prints_them(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(19)
    done_plain = 0
    covered: dict[str, int] = {}
    cases = 1500
    for case in range(cases):
        width = rng.choice([20, 40, 80, 120, 160, 200])
        ours, theirs = _build(rng, plain.Table)
        expected = _rich_console(width)
        console, out = _stand_in(width, monkeypatch)
        try:
            expected.print(theirs)
        except Exception as exc:  # bad markup or style: Rich's error, from Rich
            with pytest.raises(type(exc)):
                console.print(ours)
            continue
        console.print(ours)
        if console._real is None:
            done_plain += 1
            text = repr((ours._options, ours._columns, ours._rows))
            for feature in ("\\n", "'right'", "\\\\[", '["', "Styled"):
                covered[feature] = covered.get(feature, 0) + (feature in text)
        got = out.getvalue()
        want = expected.file.getvalue()
        assert got == want, (case, width, ours._options, ours._columns, ours._rows)
    # the plain path is taken often, so the comparison above means something
    assert done_plain > 200, done_plain
    assert all(covered.values()), covered  # multi-line, right-justified, escaped markup ...


def test_lines_and_blank_lines_print_as_rich_prints_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for width in (10, 80, 160):
        for text in [*WORDS, "w " * 30, " " * 12, "x" * 10, "x" * 11]:
            expected = _rich_console(width)
            console, out = _stand_in(width, monkeypatch)
            try:
                expected.print(text)
            except Exception as exc:  # bad markup: Rich's error, from Rich
                with pytest.raises(type(exc)):
                    console.print(text)
                continue
            expected.print()
            console.print(text)
            console.print()
            assert out.getvalue() == expected.file.getvalue(), (width, text)


def test_the_real_thing_takes_over_for_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    console, out = _stand_in(80, monkeypatch)
    table = plain.Table(box=None, pad_edge=False)
    table.add_column("A")
    table.add_row("x")
    assert table.row_count == 1  # a Rich attribute: the table becomes Rich's ...
    table.add_row("y")  # ... and what follows goes to it
    console.print(table, end="")  # an option the stand-in does not take: Rich's console
    assert console._real is not None
    assert out.getvalue() == "A\nx\ny\n"
    assert console.is_terminal is False and console.width == 80


def test_the_markup_pattern_is_richs() -> None:
    import rich.markup

    assert plain._TAGS.pattern == rich.markup.RE_TAGS.pattern
    assert plain._TAGS.flags == rich.markup.RE_TAGS.flags


def test_escape_is_richs() -> None:
    import rich.markup

    rng = random.Random(5)
    pieces = ["[", "]", "\\", "a", "b=c", "/", "#f", "@x", " ", "[b]", "\\["]
    samples = [*WORDS, *("".join(rng.choice(pieces) for _ in range(8)) for _ in range(3000))]
    for text in samples:
        assert plain.escape(text) == rich.markup.escape(text), text
    assert plain._ESCAPE.pattern in inspect.getsource(rich.markup.escape)


def test_a_terminal_or_a_forced_terminal_gets_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert plain.stdout_eligible()
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.setenv(name, "1")
        assert not plain.stdout_eligible()
        assert not isinstance(render.stdout_console(), plain.Console)
        monkeypatch.delenv(name)
    monkeypatch.setattr(sys, "stdout", Tty())
    assert not plain.stdout_eligible()
    assert not isinstance(render.stdout_console(), plain.Console)


def test_an_inspection_into_a_pipe_imports_no_rich() -> None:
    """The table of `inspect` (an index, its config, labels with brackets) into a pipe: the
    same text as Rich's, and Rich is not imported for it."""
    code = """
import io, json, sys
from dockerhub_cli import render
from dockerhub_cli.models.images import ImageInspection
from dockerhub_cli.render.images import inspection
model = ImageInspection.model_validate(json.loads(sys.argv[1]))
out = io.StringIO()
sys.stdout = out
render.emit(model, json_output=False, render=inspection)
sys.stdout = sys.__stdout__
print(json.dumps([out.getvalue(), sorted(m for m in sys.modules if m.split('.')[0] == 'rich')]))
"""
    digest = "sha256:" + "1" * 64
    model = {
        "reference": "localhost:5000/demo/multi:1.0",
        "registry": "localhost:5000",
        "repository": "demo/multi",
        "tag": "1.0",
        "digest": digest,
        "media_type": "application/vnd.oci.image.index.v1+json",
        "manifest_digest": "sha256:" + "2" * 64,
        "platform": {"os": "linux", "architecture": "amd64"},
        "platform_source": "index",
        "platforms": [
            {
                "platform": "linux/amd64",
                "os": "linux",
                "architecture": "amd64",
                "digest": "sha256:" + "2" * 64,
                "media_type": "application/vnd.oci.image.manifest.v1+json",
                "manifest_size": 500,
                "size": 265600,
            },
            {
                "platform": "linux/arm64/v8",
                "os": "linux",
                "architecture": "arm64",
                "variant": "v8",
                "digest": "sha256:" + "3" * 64,
                "media_type": "application/vnd.oci.image.manifest.v1+json",
                "manifest_size": 500,
                "size": None,
            },
        ],
        "size": 265600,
        "layer_count": 2,
        "config": {
            "env": ["PATH=/usr/bin", "A=[bold]x[/bold]"],
            "entrypoint": ["/bin/sh", "-c"],
            "cmd": None,
            "labels": {"org.example.note": "[link=https://evil]click[/link] \\[x]"},
        },
    }
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(model)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text, rich_modules = json.loads(done.stdout)
    assert rich_modules == []
    assert "A=[bold]x[/bold]" in text and "[link=https://evil]click[/link] \\[x]" in text
    # and the same text as Rich's own console writes
    from dockerhub_cli.models.images import ImageInspection
    from dockerhub_cli.render.images import inspection

    console = _rich_console(160)
    inspection(render.display_copy(ImageInspection.model_validate(model)), console)
    assert text == console.file.getvalue()
