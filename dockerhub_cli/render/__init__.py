"""All output formatting lives in this package: one renderer per result model.

`emit()` is the single exit for results: JSON (exact model fields) for scripts, Rich tables for
people. Data goes to stdout; talk (warnings, progress) goes to stderr via `stderr_console()`.

Every command also gets, through `emit()` and the `OutputOptions` the CLI sets once per command:
`--format TEMPLATE` (Python format fields over each row's model fields, one line per row) and
`--quiet` (data only: the name of each row, no footers). Rich honours NO_COLOR and prints no
colour when stdout is not a terminal; progress (`progress()`, `transfer_progress()`) is shown
only when stderr is a terminal and the output is for a person (see docs/terminal.md). No line
of a table ends in padding spaces, and a sentence (`prose()`) is one line in a pipe.

Terminal safety is applied here, at the edge, with one function (`dockerhub_cli.text.visible`):
a renderer is handed a display copy of the model (`display_copy()`) in which every string has
its control and bidi characters written as visible escapes and its Rich markup escaped, so a
publisher's `[link=...]` or ESC sequence is shown, never interpreted; `--format` and `--quiet`
lines and stderr talk go through `visible()`, and JSON keeps the exact data with such characters
as JSON escapes. Both consoles also run a last check on what they are about to write
(`_VisibleHook`), for text a renderer composed itself.
"""

from __future__ import annotations

import json
import os
import re
import sys
import typing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

from dockerhub_cli.text import human_count as human_count
from dockerhub_cli.text import human_size as human_size
from dockerhub_cli.text import plural as plural
from dockerhub_cli.text import short_digest as short_digest


def kv_table() -> Table:
    """A borderless two-column key/value table (keys bold, values folded when long); Rich's
    own, made only if Rich draws it (`render.plain`: a pipe usually does without)."""
    table = plain_table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    return table


def plain_table(*headers: Any, **options: Any) -> Table:
    """`rich.table.Table(...)` for a renderer, without importing Rich when the table goes
    into a pipe as plain text (`render.plain.Table`, which becomes Rich's on any other use)."""
    from dockerhub_cli.render.plain import Table as PlainTable

    return typing.cast("Table", PlainTable(*headers, **options))


def relative_time(when: datetime | None, now: datetime | None = None) -> str:
    """`3 hours ago`, `in 2 days`, `just now`; tells the result cache when the text it returns
    (for the current time) would change."""
    if when is None:
        return "-"
    live = now is None
    now = now or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (now - when).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, span in (
        ("year", 31_536_000),
        ("month", 2_592_000),
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
    ):
        if seconds >= span:
            n = int(seconds // span)
            if live:  # past: reads n+1 units at (n+1)*span; future: n-1 units below n*span
                left = (n + 1) * span - seconds if not future else seconds - n * span
                _text_changes_in(left)
            text = plural(n, unit)
            return f"in {text}" if future else f"{text} ago"
    if live:
        _text_changes_in(60 - seconds if not future else seconds + 60)
    return "just now"


def _text_changes_in(seconds: float) -> None:
    import time

    from dockerhub_cli.result_cache import note_valid_until

    note_valid_until(time.time() + max(0.0, seconds))


def stdout_console() -> Console:
    """The console results are drawn on: Rich's; into a pipe or a file, a stand-in that
    writes plain tables itself and makes Rich's console on first need (`render.plain`)."""
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "160") or 160)
    if width is not None:
        from dockerhub_cli.render import plain

        if plain.stdout_eligible():
            fixed = width
            stand_in = plain.Console(width, lambda: _rich_stdout_console(fixed), _rich_broken_pipe)
            return typing.cast("Console", stand_in)
    return _rich_stdout_console(width)


def _rich_stdout_console(width: int | None) -> Console:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False, width=width, emoji=False)
    console.push_render_hook(_visible_hook(strip_line_ends=True))
    console.on_broken_pipe = _rich_broken_pipe  # type: ignore[method-assign]
    return console


_stdout_closed = False


def stdout_closed() -> bool:
    """Whether the reader of stdout went away during this run (`| head -1`)."""
    return _stdout_closed


def close_broken_stdout() -> None:
    """The reader of stdout went away (`dockerhub tags nginx | head -1`): point the process's
    stdout at /dev/null, so that nothing written later (nor the interpreter's last flush)
    fails, and remember it. The edge then ends the run quietly with its exit code."""
    global _stdout_closed
    _stdout_closed = True
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test's stream)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _rich_broken_pipe() -> None:
    # Rich's own handler exits 1; ours unwinds to the edge, which exits quietly.
    close_broken_stdout()
    raise BrokenPipeError("stdout closed")


def stderr_console() -> Console:
    from rich.console import Console

    console = Console(stderr=True, highlight=False, emoji=False)
    console.push_render_hook(_visible_hook())
    return console


def _visible_hook(*, strip_line_ends: bool = False) -> Any:
    """A Rich render hook that passes every text segment through `visible()` (Rich's own
    styling and cursor control travel outside the text and are kept); with
    `strip_line_ends`, the spaces Rich pads table rows and wrapped lines with to the full
    width are dropped before each line end (in a pipe and in a terminal alike)."""
    from rich.console import RenderHook
    from rich.segment import Segment

    from dockerhub_cli.text import visible

    class _Visible:
        def __init__(self, renderable: Any) -> None:
            self.renderable = renderable

        def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
            segments = console.render(self.renderable, options)
            if strip_line_ends:
                segments = strip_trailing_spaces(segments)
            for segment in segments:
                if segment.control or not segment.text:
                    yield segment
                else:
                    yield Segment(visible(segment.text), segment.style)

    class _VisibleHook(RenderHook):
        def process_renderables(self, renderables: list[Any]) -> list[Any]:
            return [_Visible(r) for r in renderables]

    return _VisibleHook()


def strip_trailing_spaces(segments: Iterator[Any]) -> Iterator[Any]:
    """Rich segments without the spaces before each line end: spaces are held back until
    something other than a space or a line end follows them (spaces on a background colour
    are kept: they are drawn)."""
    from rich.segment import Segment

    held: list[Any] = []
    for segment in segments:
        if segment.control:
            yield from held
            held.clear()
            yield segment
            continue
        text, style = segment.text, segment.style
        parts = text.split("\n")
        for i, part in enumerate(parts):
            if i:
                held.clear()  # spaces before a line end
                yield Segment("\n", style)
            if not part:
                continue
            # spaces with a background (a code block's) are drawn, not padding: keep them
            body = part if style is not None and style.bgcolor is not None else part.rstrip(" ")
            if body:
                yield from held
                held.clear()
                yield Segment(body, style)
            if len(body) < len(part):
                held.append(Segment(part[len(body) :], style))
    yield from held


_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(fraction: float, width: int, console: Console | None = None) -> str:
    """A horizontal bar `width` cells long at 1.0, in eighths of a cell (`███▍`); a value
    above zero always shows. Plain `#` when the console cannot write Unicode. Only for the
    human view: the data itself is in --json and --format."""
    fraction = min(max(float(fraction), 0.0), 1.0) if fraction == fraction else 0.0  # NaN: 0
    cells = fraction * width
    if not _unicode(console):
        return "#" * max(round(cells), 1 if fraction > 0 else 0)
    full = int(cells)
    eighths = round((cells - full) * 8)
    if eighths == 8:
        full, eighths = full + 1, 0
    text = "█" * full + (_EIGHTHS[eighths] if eighths else "")
    return text or ("▏" if fraction > 0 else "")


def split_bar(parts: list[float], width: int, console: Console | None = None) -> list[str]:
    """One bar in whole cells for consecutive parts (fractions of the full width), each part
    in its own character, so the picture reads without colour: `█` `▒` `░` (`#` `=` `-`)."""
    chars = bar_chars(console)
    out, used = [], 0
    total = 0.0
    for i, part in enumerate(parts):
        total += min(max(part, 0.0), 1.0)
        end = min(width, round(total * width))
        if part > 0 and end <= used and used < width:
            end = used + 1  # a part above zero always shows
        out.append(chars[min(i, len(chars) - 1)] * max(end - used, 0))
        used = max(used, end)
    return out


def bar_chars(console: Console | None = None) -> str:
    """The characters of `split_bar`'s parts, in order (for a legend)."""
    return "█▒░" if _unicode(console) else "#=-"


def _unicode(console: Console | None) -> bool:
    encoding = (console.encoding if console is not None else sys.stdout.encoding) or ""
    return encoding.lower().replace("-", "").startswith("utf")


def prose(console: Console, text: Any, **kwargs: Any) -> None:
    """Print a sentence: wrapped to the width of a terminal; one line in a pipe or a file, so
    a script reads (or greps) it whole."""
    console.print(text, soft_wrap=not console.is_terminal, **kwargs)


def markup_text(
    markup: str,
    style: str = "",
    *,
    no_wrap: bool | None = None,
    overflow: Any = None,
) -> Text:
    """A Rich `Text` from a renderer's string: strings of a display copy are markup-escaped,
    so they are parsed as markup (which gives back the exact text), never taken literally."""
    from rich.text import Text

    text = Text.from_markup(markup, style=style, emoji=False, overflow=overflow)
    if no_wrap is not None:
        text.no_wrap = no_wrap
    return text


def display_copy(value: Any) -> Any:
    """A copy of a result for a Rich renderer: every string (also in lists, dicts and nested
    models) made visible-safe and markup-escaped, so renderers may use any field as markup.
    Built without validation (`model_construct`): the values are for display only."""
    from pydantic import BaseModel

    from dockerhub_cli.text import visible

    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        value = visible(value)
        if "[" not in value:
            return value
        from dockerhub_cli.render.plain import escape  # Rich's, without importing Rich

        return escape(value)
    if isinstance(value, BaseModel):
        fields = {name: display_copy(getattr(value, name)) for name in type(value).model_fields}
        return type(value).model_construct(_fields_set=value.model_fields_set, **fields)
    if isinstance(value, list):
        return [display_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(display_copy(v) for v in value)
    if isinstance(value, dict):
        return {display_copy(k): display_copy(v) for k, v in value.items()}
    return value


_R = typing.TypeVar("_R", bound=Callable[..., None])


def raw_model(renderer: _R) -> _R:
    """Mark a renderer that makes every string it prints visible itself (`visible()` on each
    cell, no Rich markup from data), so `emit()` hands it the result as it is instead of a
    display copy: a copy of 50,000 tags took longer than fetching them."""
    renderer.takes_raw_model = True  # type: ignore[attr-defined]
    return renderer


@dataclass
class OutputOptions:
    """How results are written; set by the CLI per command (flags) and from the config file."""

    json: bool = False
    template: str | None = None
    quiet: bool = False
    default_json: bool = False  # config file `[output] json = true`
    # --stats: what the command cost so far (`models.cost.Cost` as JSON), added to JSON
    # objects as their last key `cost`; None: no `cost` key.
    cost: Callable[[], dict[str, Any]] | None = None


output = OutputOptions()


def configure_output(**changes: Any) -> OutputOptions:
    """Replace the output options (the CLI calls this once per command)."""
    global output
    output = OutputOptions(**changes)
    return output


def emit(model: BaseModel, *, json_output: bool, render: Callable[[Any, Console], None]) -> None:
    """Write a result: `--format` rows, JSON, `--quiet` names, or the Rich renderer.

    Precedence: --format > --json > --quiet > config `output.json` > table.
    """
    from dockerhub_cli.errors import InvalidInputError
    from dockerhub_cli.text import json_visible, visible

    want_json = json_output or output.json
    if output.template is not None:
        if want_json:
            raise InvalidInputError("--format and --json cannot be used together")
        sys.stdout.write(visible(format_rows(model, output.template)))
    elif want_json or (output.default_json and not output.quiet):
        if output.cost is not None:  # --stats: the cost goes into the whole document
            _write_json(json_visible(model.model_dump_json(indent=2)))
        else:
            for chunk in json_chunks(model):
                sys.stdout.write(json_visible(chunk))
            sys.stdout.write("\n")
    elif output.quiet:
        sys.stdout.write(visible("".join(f"{line}\n" for line in quiet_lines(model))))
    else:
        shown = model if getattr(render, "takes_raw_model", False) else display_copy(model)
        render(shown, stdout_console())
        return
    sys.stdout.flush()


def emit_streamed(
    model: BaseModel,
    rows: Iterable[BaseModel],
    *,
    json_output: bool,
    render: Callable[[Any, Console], None],
) -> None:
    """`emit` for a result whose rows (its `rows_field` list, empty in `model`) come from an
    iterator: JSON is written row by row, the same bytes `emit` would write for the full
    model, without holding every row as a model and the whole document as one string. The
    table into a pipe or a file streams too when the renderer has a `plain_rows` twin
    (`render(model, rows, console)`: plain columns, one row at a time); a renderer marked
    `rows_unused` (its table shows counts only) gets the model without them. Other outputs
    (a terminal's table, --format, --quiet) need the rows together: they are filled in
    first."""
    from dockerhub_cli.text import json_visible

    field = getattr(type(model), "rows_field", "")
    want_json = json_output or output.json
    streams = output.template is None and (want_json or (output.default_json and not output.quiet))
    plain = getattr(render, "plain_rows", None)
    table = output.template is None and not streams and not output.quiet
    if table and getattr(render, "rows_unused", False):  # its table shows no row: none made
        emit(model, json_output=json_output, render=render)
        return
    if table and plain is not None and field and not getattr(model, field) and not _tty():
        plain(model, rows, stdout_console())
        sys.stdout.flush()
        return
    if not streams or not field or getattr(model, field):
        setattr(model, field, list(rows))
        emit(model, json_output=json_output, render=render)
        return
    chunks = _json_with_rows(model, field, rows)
    if chunks is None:  # not the shape expected: the plain way
        setattr(model, field, list(rows))
        emit(model, json_output=json_output, render=render)
        return
    for chunk in chunks:
        sys.stdout.write(json_visible(chunk))
    sys.stdout.write("\n")
    sys.stdout.flush()


def _tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stdout
        return False


STREAM_ROWS = 2000  # a result with more rows than this is written as JSON in chunks
_CHUNK_ROWS = 1000


def json_chunks(model: BaseModel) -> Iterator[str]:
    """`model.model_dump_json(indent=2)`, the same text, in pieces: a result with a long list
    of rows (50,000 tags) has the rows serialized a thousand at a time, so the whole document
    (10 MB for 50,000 tags) never sits in memory as one string, and neither do its copies."""
    rows_name = _big_rows_field(model)
    if rows_name is None:
        yield model.model_dump_json(indent=2)
        return
    chunks = _json_with_rows(model, rows_name, getattr(model, rows_name))
    if chunks is None:  # not the layout expected: the plain way
        yield model.model_dump_json(indent=2)
        return
    yield from chunks


def _json_with_rows(
    model: BaseModel, field: str, rows: Iterable[BaseModel]
) -> Iterator[str] | None:
    """`model.model_dump_json(indent=2)` in pieces, with its list-of-models `field` written
    from `rows` (an iterator is fine: it is read a thousand rows at a time); None when the
    dump does not have the layout this relies on (then write it the plain way)."""
    from itertools import islice

    from pydantic import TypeAdapter

    key = f'\n  "{field}": '
    shell = model.model_copy(update={field: []}).model_dump_json(indent=2)
    head, found, tail = shell.partition(key + "[]")
    if not found or key in tail:
        return None
    annotation = type(model).model_fields[field].annotation
    if annotation is None:
        return None
    adapter: Any = TypeAdapter(annotation)

    def chunks() -> Iterator[str]:
        yield head + key + "["
        them = iter(rows)
        first = True
        while batch := list(islice(them, _CHUNK_ROWS)):
            # `[\n  {...},\n  {...}\n]` -> the items, two levels in (strings hold no raw newline)
            text = adapter.dump_json(batch, indent=2).decode()
            yield ("" if first else ",") + text[1:-2].replace("\n", "\n  ")
            first = False
        yield ("]" if first else "\n  ]") + tail

    return chunks()


def _big_rows_field(model: BaseModel) -> str | None:
    """The name of the model's list-of-models field when it has more than STREAM_ROWS rows."""
    for name, info in type(model).model_fields.items():
        if _row_model_class(info.annotation) is not None:
            value = getattr(model, name)
            if isinstance(value, list) and len(value) > STREAM_ROWS:
                return name
    return None


# -- --format and --quiet, generic over any result model --------------------------------------


def _row_model_class(annotation: Any) -> type[BaseModel] | None:
    from pydantic import BaseModel

    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (None,)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


def result_rows(model: BaseModel) -> tuple[list[BaseModel], type[BaseModel]]:
    """The rows of a result: its first list-of-models field (tags, results, ...), else itself.

    A model may name its rows with a `rows_field` class attribute; "" means the model itself
    (e.g. `inspect`, whose `--format '{digest}'` should print the image's digest)."""
    chosen = getattr(type(model), "rows_field", None)
    if chosen == "":
        return [model], type(model)
    for name, info in type(model).model_fields.items():
        if chosen is not None and name != chosen:
            continue
        row_class = _row_model_class(info.annotation)
        if row_class is not None:
            return list(getattr(model, name) or []), row_class
    return [model], type(model)


_ESCAPES = {"\\t": "\t", "\\n": "\n", "\\\\": "\\"}


def _unescape(template: str) -> str:
    return re.sub(r"\\[tn\\]", lambda m: _ESCAPES[m.group(0)], template)


def _template_fields(template: str) -> list[str]:
    import string  # only for --format: a run that prints JSON or a table never needs it

    from dockerhub_cli.errors import InvalidInputError

    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidInputError(
            f"--format: {exc} (write {{{{ and }}}} for literal braces)"
        ) from None
    roots = []
    for _, field_name, _, _ in parsed:
        if field_name is None:
            continue
        root = re.split(r"[.\[]", field_name, maxsplit=1)[0]
        if not root or root.isdigit():
            raise InvalidInputError("--format: use named fields such as {name}, not {} or {0}")
        roots.append(root)
    return roots


def _plain(value: Any) -> Any:
    """A field value as a script wants it: bytes as integers, None empty, lists comma-joined."""
    from pydantic import BaseModel

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, (list, tuple)):
        return ",".join(str(_plain(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return value


def format_rows(model: BaseModel, template: str) -> str:
    """Render each row of `model` through `template`, one line per row."""
    from dockerhub_cli.errors import InvalidInputError

    rows, row_class = result_rows(model)
    valid = list(row_class.model_fields)
    text = _unescape(template)
    for root in _template_fields(text):
        if root not in valid:
            raise InvalidInputError(
                f"--format: unknown field {{{root}}}; valid fields: {', '.join(valid)}"
            )
    import string

    parts = list(string.Formatter().parse(text))
    lines = []
    for row in rows:
        out = []
        for literal, field_name, spec, conversion in parts:
            out.append(literal)
            if field_name is None:
                continue
            value = _plain(_field_value(row, field_name))
            if conversion:
                value = (
                    repr(value)
                    if conversion == "r"
                    else ascii(value)
                    if conversion == "a"
                    else str(value)
                )
            try:
                out.append(format(value, spec or ""))
            except (ValueError, TypeError) as exc:
                raise InvalidInputError(
                    f"--format: cannot format {{{field_name}}}: {exc}"
                ) from None
        lines.append("".join(out))
    return "".join(f"{line}\n" for line in lines)


_STEP_RE = re.compile(r"\.([^.\[]+)|\[([^\]]*)\]")


def _field_value(row: Any, field_name: str) -> Any:
    """The value `field_name` names in `row`: a top-level field, then `.name` / `[key]` steps
    into nested models, mappings and lists (`config.user`, `platforms[0].digest`)."""
    from pydantic import BaseModel

    from dockerhub_cli.errors import InvalidInputError

    root = re.split(r"[.\[]", field_name, maxsplit=1)[0]
    value = getattr(row, root)
    rest, where = field_name[len(root) :], root
    while rest:
        step = _STEP_RE.match(rest)
        if step is None:
            raise InvalidInputError(f"--format: cannot read {{{field_name}}} after {where}")
        key = step.group(1) if step.group(1) is not None else step.group(2)
        rest = rest[step.end() :]
        if value is None:
            return None  # an absent part: printed empty, like an absent top-level field
        if isinstance(value, BaseModel):
            names = list(type(value).model_fields)
            if key not in names:
                raise InvalidInputError(
                    f"--format: {{{field_name}}}: {where} has no field {key!r}; "
                    f"valid: {', '.join(names)}"
                )
            value = getattr(value, key)
        elif isinstance(value, dict):
            if key not in value:
                keys = ", ".join(map(str, list(value)[:20]))
                raise InvalidInputError(
                    f"--format: {where}[{key}]: no such key; keys: {keys or '(none)'}"
                )
            value = value[key]
        elif isinstance(value, (list, tuple)):
            if not key.isdigit() or int(key) >= len(value):
                held = f"indexes 0 to {len(value) - 1}" if value else "empty"
                raise InvalidInputError(f"--format: {where}[{key}]: {len(value)} items ({held})")
            value = value[int(key)]
        else:
            raise InvalidInputError(
                f"--format: {{{field_name}}}: {where} is a single value, it has no {key!r}"
            )
        where += f".{key}" if step.group(1) is not None else f"[{key}]"
    return value


def quiet_lines(model: BaseModel) -> list[str]:
    """`--quiet`: one value per row: the model's `quiet_field`, else name, digest or first field."""
    rows, row_class = result_rows(model)
    from dockerhub_cli.text import visible_line

    if callable(getattr(row_class, "quiet_text", None)):  # a row that words itself
        return [visible_line(row.quiet_text()) for row in rows]  # type: ignore[attr-defined]
    fields = list(row_class.model_fields)
    preferred = getattr(row_class, "quiet_field", None)
    name = next(
        (f for f in (preferred, "name", "digest", "key") if f and f in fields),
        fields[0] if fields else None,
    )
    if name is None:
        return []
    return [visible_line(str(_plain(getattr(row, name)))) for row in rows]


def emit_json(data: Any) -> None:
    from dockerhub_cli.text import json_visible

    _write_json(json_visible(json.dumps(data, indent=2, default=str)))


def _write_json(text: str) -> None:
    """Write one JSON document; with --stats, an object gets the command's `cost` as its last
    key (a list or anything else is written as it is: the cost is on the --stats line)."""
    if output.cost is not None:
        from dockerhub_cli.result_cache import note_cost_span, splice_cost

        text, span = splice_cost(text, output.cost())
        if span is not None:
            note_cost_span(*span)
    sys.stdout.write(text + "\n")


def show_progress() -> bool:
    """Whether long work shows progress: only on a terminal's stderr, for a person reading
    (not with --json, --format or --quiet, nor DOCKERHUB_NO_SPINNER); a pipe or a file on
    stderr gets nothing, and so does every MCP tool (they never call this)."""
    return (
        sys.stderr.isatty()
        and not os.environ.get("DOCKERHUB_NO_SPINNER")
        and not output.json
        and not output.quiet
        and output.template is None
    )


class _Status:
    """The spinner's text, with a live detail (e.g. "12 requests") read at each refresh."""

    def __init__(self, message: str, detail: Callable[[], str] | None) -> None:
        self.message = message
        self.detail = detail

    def __rich__(self) -> Text:
        from rich.text import Text

        extra = self.detail() if self.detail is not None else ""
        return Text(self.message + (f" ({extra})" if extra else ""))


@contextmanager
def progress(message: str, detail: Callable[[], str] | None = None) -> Iterator[None]:
    """A spinner on stderr while waiting (the network, layers, lookups), with `detail()` shown
    after the message as it changes; only when `show_progress()`. Rich is imported only then."""
    if not show_progress():
        with nullcontext():
            yield
        return
    from dockerhub_cli.result_cache import stderr_muted

    with stderr_muted(), stderr_console().status(_Status(message, detail), spinner="dots"):
        yield


# progress(label, bytes done, bytes expected or None), as `ops.files` reports a download.
TransferCallback = Callable[[str, int, "int | None"], None]


@contextmanager
def transfer_progress(message: str) -> Iterator[TransferCallback | None]:
    """A download bar (layer, bytes, rate) on stderr, when `show_progress()`; else None.

    The callback takes (label, bytes done, bytes expected or None); a new label (the next
    layer) restarts the bar at that layer's size."""
    if not show_progress():
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    from dockerhub_cli.result_cache import stderr_muted

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=stderr_console(),
        transient=True,
    )
    task = bar.add_task(message, total=None)
    state: dict[str, int] = {"offset": 0, "done": 0}
    labels = [""]

    def update(label: str, done: int, expected: int | None) -> None:
        if label != labels[0]:  # a new layer: the bar restarts at its own size
            labels[0], state["offset"] = label, state["done"]
        state["done"] = done
        bar.update(
            task,
            description=f"{message}: {label}",
            completed=done - state["offset"],
            total=expected,
        )

    with stderr_muted(), bar:
        yield update


def warn(message: str) -> None:
    from rich.markup import escape

    from dockerhub_cli.result_cache import note_talk
    from dockerhub_cli.text import visible

    note_talk()

    stderr_console().print(
        f"[yellow]warning:[/yellow] {escape(visible(message))}", markup=True, highlight=False
    )


def stats_line(cost: Any) -> str:
    """`--stats`: a `models.cost.Cost` in one line, e.g. `cost: 3 requests (1 manifest_get,
    1 manifest_head, 1 token), 2.1 kB received; Docker Hub: 1 pull, 1 free HEAD; cache: 4
    hits (2 manifest_get, 2 blob)`."""

    def kinds(counts: dict[str, int]) -> str:
        return f" ({', '.join(f'{n} {k}' for k, n in counts.items())})" if counts else ""

    hub = cost.docker_hub
    limit = f" of at most {hub.max_pulls}" if hub.max_pulls is not None else ""
    cache = cost.cache
    stale = f", {cache.stale} stale" if cache.stale else ""
    return (
        f"cost: {plural(cost.requests, 'request')}{kinds(cost.by_kind)}, "
        f"{human_size(cost.bytes_received)} received; "
        f"Docker Hub: {plural(hub.pulls, 'pull')}{limit}, "
        f"{hub.free_heads} free HEAD{'s' if hub.free_heads != 1 else ''}; "
        f"cache: {plural(cache.hits, 'hit')}{kinds(cache.by_kind)}{stale}"
    )
