"""Tables and lines into a pipe without importing Rich: the same text Rich writes, or Rich.

A table written into a pipe or a file has no colour and no terminal to measure, and for the
simple tables most results print (borderless columns of printable ASCII that fit the width),
Rich's layout is a few lines of arithmetic: each column as wide as its widest line plus the
padding between columns, cells left- or right-justified, spaces at line ends dropped (as
`render._visible_hook` does). Importing Rich and laying such a table out was ~40 ms of a cold
`inspect` into a pipe.

`Table` records what a renderer asks of a Rich `Table` (its options, columns and rows);
`Console` stands for `render.stdout_console()`'s Rich console when stdout is not a terminal.
`Console.print` writes a `Table` or a string itself only when every part of it is in the
subset whose output is known to be Rich's (`Table.plain_lines`): printable ASCII (no tab)
with no markup tag but escaped ones, styles that only colour (nothing is drawn into a pipe),
no borders, titles, widths, ratios or wrapping. Anything else, and any other attribute of either
object, goes to the real thing, built then from what was recorded (`__rich__`, `__getattr__`),
so a renderer may use all of Rich; it then only costs what it did before.
tests/unit/test_plain_render.py compares the two on many generated tables and fails if a Rich
upgrade changes what this relies on.
"""

from __future__ import annotations

import builtins
import os
import re
import sys
from collections.abc import Callable
from typing import Any

_PLAIN_CHARS = frozenset(map(chr, range(0x20, 0x7F)))  # printable ASCII
# A markup tag, or an escaped one (`\[bold]`): `rich.markup.RE_TAGS`, the same pattern (tested).
_TAGS = re.compile(r"""((\\*)\[([a-z#/@][^[]*?)])""", re.VERBOSE)
# Style words that only colour or weigh text: Rich draws none of them into a pipe (a
# background colour would make Rich keep the padding spaces it is drawn on).
_STYLE_WORDS = frozenset(
    {"bold", "dim", "italic", "underline", "red", "green", "yellow", "blue", "magenta", "cyan"}
)
_TABLE_OPTIONS = frozenset({"box", "show_header", "pad_edge", "header_style", "title"})
_COLUMN_OPTIONS = frozenset({"header", "style", "header_style", "no_wrap", "overflow", "justify"})
# What makes Rich treat a pipe as a terminal (colour, cursor control) or a notebook.
_TERMINAL_ENVIRONMENT = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def stdout_eligible() -> bool:
    """Whether Rich would write plain text to stdout: not a terminal, nothing in the
    environment that makes it act as one, not Windows (its legacy console), not a notebook."""
    if sys.platform == "win32" or hasattr(builtins, "get_ipython"):
        return False
    if any(name in os.environ for name in _TERMINAL_ENVIRONMENT):
        return False
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return isatty is not None and not isatty()
    except ValueError:  # closed
        return False


class Styled:
    """`render.markup_text(markup, style)` for a table cell, made into Rich's `Text` only if
    Rich draws the table (`__rich__`)."""

    def __init__(self, markup: str, style: str = "") -> None:
        self.markup = markup
        self.style = style

    def __rich__(self) -> Any:
        from rich.text import Text

        return Text.from_markup(self.markup, style=self.style, emoji=False)


def _style_ok(style: Any) -> bool:
    return isinstance(style, str) and _STYLE_WORDS.issuperset(style.split())


def _cell_lines(value: Any) -> list[str] | None:
    """The lines of a cell as Rich writes them, or None when that is not known here."""
    if isinstance(value, Styled):
        if not _style_ok(value.style):
            return None
        value = value.markup
    if type(value) is not str:
        return None
    text = _unmarkup(value)
    if text is None:
        return None
    lines = text.split("\n")
    if any(not _PLAIN_CHARS.issuperset(line) for line in lines):
        return None
    return lines


def _unmarkup(markup: str) -> str | None:
    """The text Rich's markup parser (`rich.markup.render`) makes of `markup` when it holds no
    tag (a display copy escapes the data's brackets: `\\[b]` reads `[b]`); None for a tag."""
    if "[" not in markup:
        return markup
    out: list[str] = []
    position = 0
    for match in _TAGS.finditer(markup):
        full_text, escapes, _ = match.groups()
        start, end = match.span()
        if start > position:
            out.append(markup[position:start].replace("\\[", "["))
        backslashes, escaped = divmod(len(escapes), 2)
        if not escaped:
            return None  # a tag: styled text, drawn by Rich
        out.append("\\" * backslashes)
        out.append(full_text[len(escapes) :].replace("\\[", "["))
        position = end
    if position < len(markup):
        out.append(markup[position:].replace("\\[", "["))
    return "".join(out)


class _RichStandIn:
    """What a stand-in does not do itself goes to the Rich object `real()` builds: any other
    attribute a renderer reads or sets (private names stay the stand-in's)."""

    def real(self) -> Any:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.real(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.real(), name, value)


class Table(_RichStandIn):
    """A stand-in for `rich.table.Table` (same arguments); see the module docstring."""

    def __init__(self, *headers: Any, **options: Any) -> None:
        self._headers = headers
        self._options = options
        self._columns: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self._rows: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self._real: Any = None

    def add_column(self, *args: Any, **kwargs: Any) -> None:
        if self._real is not None:
            self._real.add_column(*args, **kwargs)
        else:
            self._columns.append((args, kwargs))

    def add_row(self, *cells: Any, **kwargs: Any) -> None:
        if self._real is not None:
            self._real.add_row(*cells, **kwargs)
        else:
            self._rows.append((cells, kwargs))

    def real(self) -> Any:
        """The Rich table, built once from what was recorded; everything goes to it after."""
        if self._real is None:
            from rich.table import Table as RichTable

            table = RichTable(*self._headers, **self._options)
            for args, kwargs in self._columns:
                table.add_column(*args, **kwargs)
            for cells, kwargs in self._rows:
                table.add_row(*cells, **kwargs)
            self._real = table
        return self._real

    def __rich__(self) -> Any:
        return self.real()

    def plain_lines(self, width: int) -> list[str] | None:
        """The lines Rich writes for this table on a console `width` cells wide with no
        colour (without the spaces at line ends), or None when this is not that subset."""
        options = self._options
        if self._real is not None or self._headers or not self._columns:
            return None
        if not _TABLE_OPTIONS.issuperset(options) or "box" not in options:
            return None
        if options["box"] is not None or options.get("pad_edge", True) is not False:
            return None
        if options.get("title") is not None or not _style_ok(options.get("header_style") or ""):
            return None
        show_header = options.get("show_header", True)
        if not isinstance(show_header, bool):
            return None
        headers: list[list[str]] = []
        right: list[bool] = []
        for args, kwargs in self._columns:
            if len(args) > 1 or (args and "header" in kwargs):
                return None
            if not _COLUMN_OPTIONS.issuperset(kwargs):
                return None
            if not _style_ok(kwargs.get("style", "")):
                return None
            if not _style_ok(kwargs.get("header_style", "")):
                return None
            if not isinstance(kwargs.get("no_wrap", False), bool):
                return None
            if kwargs.get("overflow", "ellipsis") not in ("fold", "ellipsis", "crop"):
                return None
            justify = kwargs.get("justify", "left")
            if justify not in ("left", "right"):
                return None
            header = _cell_lines(args[0] if args else kwargs.get("header", ""))
            if header is None or len(header) != 1:
                return None
            headers.append(header)
            right.append(justify == "right")
        count = len(self._columns)
        rows: list[list[list[str]]] = [headers] if show_header else []
        for cells, kwargs in self._rows:
            if kwargs or len(cells) != count:
                return None
            row: list[list[str]] = []
            for cell in cells:
                lines = _cell_lines(cell)
                if lines is None:
                    return None
                row.append(lines)
            rows.append(row)
        # padding (0, 1) between columns, none at the edges (pad_edge=False)
        pads = [(0 if i == 0 else 1, 0 if i == count - 1 else 1) for i in range(count)]
        widths = []
        for i in range(count):
            widest = max((len(line) for row in rows for line in row[i]), default=0)
            widths.append(widest + sum(pads[i]))
        widths = [w or 1 for w in widths]  # Rich: `_range.maximum or 1`
        if sum(widths) > width:  # Rich would shrink and wrap: not known here
            return None
        out: list[str] = []
        for row in rows:
            for n in range(max(len(cell) for cell in row)):
                parts = []
                for i, cell in enumerate(row):
                    left, right_pad = pads[i]
                    inner = widths[i] - left - right_pad
                    text = cell[n] if n < len(cell) else ""
                    text = text.rstrip().rjust(inner) if right[i] else text.ljust(inner)
                    parts.append(" " * left + text + " " * right_pad)
                out.append("".join(parts).rstrip(" "))
        return out


class Console(_RichStandIn):
    """`render.stdout_console()` when stdout is not a terminal (`stdout_eligible`): writes
    what it knows to be Rich's output itself and hands everything else to the Rich console
    `make_real()` builds (once, on first need)."""

    def __init__(
        self, width: int, make_real: Callable[[], Any], broken_pipe: Callable[[], None]
    ) -> None:
        self._width = width
        self._make_real = make_real
        self._broken_pipe = broken_pipe
        self._real: Any = None

    @property
    def is_terminal(self) -> bool:
        return self._real.is_terminal if self._real is not None else False

    @property
    def width(self) -> int:
        return int(self._real.width) if self._real is not None else self._width

    def real(self) -> Any:
        if self._real is None:
            self._real = self._make_real()
        return self._real

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if self._real is None and not kwargs:
            text = self._plain(objects)
            if text is not None:
                try:
                    sys.stdout.write(text)
                    sys.stdout.flush()  # Rich flushes after each print
                except BrokenPipeError:
                    self._broken_pipe()
                return
        self.real().print(*objects, **kwargs)

    def _plain(self, objects: tuple[Any, ...]) -> str | None:
        if not objects:
            return "\n"
        if len(objects) != 1:
            return None
        (thing,) = objects
        lines: list[str] | None
        if isinstance(thing, Table):
            lines = thing.plain_lines(self._width)
        elif type(thing) is str:
            lines = _cell_lines(thing)
            if lines is None or any(len(line) > self._width for line in lines):
                return None
            lines = [line.rstrip(" ") for line in lines]
        else:
            return None
        if lines is None:
            return None
        return "".join(f"{line}\n" for line in lines)


_ESCAPE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")  # `rich.markup.escape`'s pattern (tested)


def escape(markup: str) -> str:
    """`rich.markup.escape(markup)`, the same text, without importing Rich's markup module
    (and with it most of Rich): what looks like a tag is escaped, so it prints as written."""

    def escape_backslashes(match: re.Match[str]) -> str:
        backslashes, text = match.groups()
        return f"{backslashes}{backslashes}\\{text}"

    markup = _ESCAPE.sub(escape_backslashes, markup)
    if markup.endswith("\\") and not markup.endswith("\\\\"):
        return markup + "\\"
    return markup
