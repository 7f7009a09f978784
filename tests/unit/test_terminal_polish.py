"""Help and terminal polish (issue 18 item 5): metavars, help text, line ends, wording,
suggestions that parse, shell completion of choices, broken pipes, progress and bars.

Terminal behaviour is checked in a real pseudo-terminal (`pty`), pipe behaviour with a pipe,
both through the installed `dockerhub` console script, on the example layout shipped in the
repository (no network)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from dockerhub_cli import commands
from dockerhub_cli.errors import InvalidReferenceError
from dockerhub_cli.models.cache import CacheClearResult
from dockerhub_cli.oci.reference import parse_reference, suggest_reference
from tests.unit.clihelp import run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = f"oci:{ROOT / 'examples' / 'hello-oci'}"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def _console_script() -> str:
    exe = Path(sys.executable).with_name("dockerhub")
    return str(exe) if exe.exists() else "dockerhub"


def _pipe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_console_script(), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "100", **(env or {})},
    )


def _pty(
    *args: str, columns: int = 100, env: dict[str, str] | None = None, stdout_pty: bool = True
) -> tuple[int, str]:
    """Run the console script with stderr (and stdout, unless `stdout_pty=False`: then
    /dev/null) on a pseudo-terminal; (exit code, what the terminal received)."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    full_env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm", **(env or {})}
    full_env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [_console_script(), *args],
        stdin=subprocess.DEVNULL,
        stdout=follower if stdout_pty else subprocess.DEVNULL,
        stderr=follower,
        env=full_env,
        close_fds=True,
    )
    os.close(follower)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(leader)
        code = proc.wait(timeout=60)
    return code, b"".join(chunks).decode("utf-8", "replace")


# -- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [c.name for c in commands.cli_commands()])
def test_help_has_no_type_placeholders_and_upper_case_arguments(name: str) -> None:
    result = run(*name.split(), "--help", env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    for bad in ("<bool>", "<int", "<str>", "<float>", "<list", "int range"):
        assert bad not in text, (name, bad)
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage
    command = commands.get(name)
    for p in command.cli_params():
        if p.argument:
            shown = p.metavar or p.name.upper()
            assert shown in usage and shown == shown.upper(), (name, usage)
            assert ("[" + shown) in usage or p.required, usage
            assert "..." * 2 not in usage and "[[" not in usage


def test_help_shows_flags_bare_numbers_as_n_and_choices() -> None:
    text = run("tags", "--help", env={"COLUMNS": "120"}).stdout
    rows = {line.split()[1]: line for line in text.splitlines() if line.startswith("│ --")}
    assert re.search(r"--all\s+List every tag", rows["--all"])  # a flag: no metavar
    assert re.search(r"--limit\s+-n\s+N\s", rows["--limit"])
    assert "updated|name|semver" in rows["--sort"]
    assert "[1-100]" not in rows["--limit"]  # the help already says 1-100
    assert "N [1-10000]" in rows["--page"]


def test_help_paragraphs_are_reflowed_and_brackets_literal() -> None:
    text = run("pin", "--help", env={"COLUMNS": "100"}).stdout
    # The spec breaks this paragraph after "in the"; the help reflows it to the width.
    assert "nothing else in the files changes" in " ".join(text.split())
    assert not any(line.rstrip().endswith(" in the") for line in text.splitlines())
    who = run("whoami", "--help", env={"COLUMNS": "100"}).stdout
    assert "a [[registries]] entry" in " ".join(who.split())


def test_top_level_help_groups_commands_by_use_and_wraps_exit_codes_by_entry() -> None:
    text = commands.help_text(80)
    headings = [line for line in text.splitlines() if line.startswith("Commands (")]
    assert headings == [f"Commands ({g}):" for g in commands.GROUPS]
    assert all(len(line) <= 80 for line in text.splitlines())
    for line in text.split("Options:")[0].splitlines():
        assert not re.search(r"\b\d+$", line), line  # a code never ends a line without its words
    assert text.index("  search") < text.index("  whoami")


# -- line ends, prose in a pipe ------------------------------------------------------------


def test_tables_have_no_trailing_spaces_in_a_pipe() -> None:
    for args in (("inspect", EXAMPLE), ("layers", EXAMPLE), ("history", EXAMPLE)):
        done = _pipe(*args)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert len(lines) > 3
        assert [line for line in lines if line != line.rstrip()] == [], args


def test_tables_have_no_trailing_spaces_in_a_terminal() -> None:
    code, out = _pty("inspect", EXAMPLE, env={"DOCKERHUB_NO_SPINNER": "1"})
    assert code == 0, out
    assert "\x1b[" in out  # a terminal gets colour
    lines = ANSI.sub("", out).replace("\r\n", "\n").split("\n")
    assert any("Digest" in line for line in lines)
    assert [line for line in lines if line != line.rstrip()] == []


def test_strip_trailing_spaces_keeps_inner_spaces_and_styles() -> None:
    from rich.table import Table

    from dockerhub_cli.render import stdout_console

    console = stdout_console()
    console.file = io.StringIO()
    table = Table(box=None, pad_edge=False)
    table.add_column("A")
    table.add_column("LONG HEADER")
    table.add_row("x  y", "")
    table.add_row("wide value here", "z")
    console.print(table)
    console.print("end   ", end="")
    text = console.file.getvalue()
    assert text.splitlines()[1] == "x  y"
    assert all(line == line.rstrip() for line in text.splitlines()[:-1])
    assert text.endswith("end   ")  # no line end follows: nothing is dropped


def test_prose_is_one_line_in_a_pipe_and_wrapped_in_a_terminal() -> None:
    from dockerhub_cli.render import prose

    sentence = "word " * 40
    pipe = Console(file=io.StringIO(), width=60, force_terminal=False)
    prose(pipe, sentence.strip())
    assert pipe.file.getvalue().count("\n") == 1  # type: ignore[attr-defined]
    tty = Console(file=io.StringIO(), width=60, force_terminal=True)
    prose(tty, sentence.strip())
    assert tty.file.getvalue().count("\n") > 1  # type: ignore[attr-defined]


# -- wording ----------------------------------------------------------------------------------


def _cleared(**fields: object) -> str:
    from dockerhub_cli.render.cache import cache_cleared

    base = {
        "backend": "sqlite",
        "location": "/c/http_cache.sqlite",
        "removed": 3,
        "remaining": 6,
        "expired_only": True,
        "corrupt_files_removed": 0,
        "results_removed": 14,
    }
    console = Console(file=io.StringIO(), width=60)
    cache_cleared(CacheClearResult(**{**base, **fields}), console)  # type: ignore[arg-type]
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]


def test_cache_clear_says_what_was_removed_and_what_is_left() -> None:
    text = _cleared()
    assert text == (
        "removed 3 expired entries and 14 expired saved outputs from /c/http_cache.sqlite; "
        "6 entries left\n"
    )
    assert _cleared(expired_only=False, results_removed=1, remaining=1, removed=1) == (
        "removed 1 entry and 1 saved output from /c/http_cache.sqlite; 1 entry left\n"
    )
    assert "saved" not in _cleared(results_removed=0)
    assert _cleared(corrupt_files_removed=2).endswith("; deleted 2 corrupt cache files\n")


# -- suggestions parse ------------------------------------------------------------------------

BAD_REFERENCES = [
    ("Bad//Ref", "bad/ref"),
    ("Nginx", "nginx"),
    ("Nginx:1.27-Alpine", "nginx:1.27-Alpine"),
    ("GHCR.io/Org/App:v1", "ghcr.io/org/app:v1"),
    ("localhost:5000/My App", None),  # whitespace: no suggestion is made for it
    ("library/Redis@sha256:" + "a" * 64, "library/redis@sha256:" + "a" * 64),
    ("https://GHCR.io/Org/x", "ghcr.io/org/x"),
    ("a!b", "a-b"),
    ("/leading/", "leading"),
    ("team/-app-", "team/app"),
    ("UP/._weird_.", "up/weird"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_REFERENCES)
def test_bad_references_get_a_suggestion_that_parses(text: str, expected: str | None) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_reference(text)
    hint = caught.value.hint or ""
    suggested = re.search(r"(?:try '([^']+)'|: (\S+)$)", hint)
    if expected is None:
        assert suggested is None, hint
        return
    assert suggested is not None, (text, hint)
    value = suggested.group(1) or suggested.group(2)
    assert value == expected
    parse_reference(value)


def test_inspect_bad_ref_suggests_a_valid_name() -> None:
    result = run("inspect", "Bad//Ref")
    assert result.exit_code == 2
    assert "(try 'bad/ref')" in result.stderr


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from([*"aZ09._-/:@!#?+ ~Ü", "sha256:", "a" * 32, "localhost", "Host.io"]),
        min_size=1,
        max_size=16,
    ).map("".join)
)
def test_every_suggestion_parses(text: str) -> None:
    suggestion = suggest_reference(text)
    if suggestion is not None:
        parse_reference(suggestion)  # never another invalid name
        assert suggestion != text.strip()
    try:
        parse_reference(text)
    except InvalidReferenceError as exc:
        for quoted in re.findall(r"try '([^']+)'", exc.hint or ""):
            parse_reference(quoted)


# -- completion ----------------------------------------------------------------------------


def test_console_script_completes_choice_values() -> None:
    env = {
        "_DOCKERHUB_COMPLETE": "complete_bash",
        "COMP_WORDS": "dockerhub tags --sort ",
        "COMP_CWORD": "3",
    }
    done = _pipe(env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["updated", "name", "semver"]
    done = _pipe(env={**env, "COMP_WORDS": "dockerhub tags --sort se"})
    assert done.stdout.split() == ["semver"]
    done = _pipe(env={**env, "COMP_WORDS": "dockerhub ta", "COMP_CWORD": "1"})
    assert done.stdout.split() == ["tags"]


# -- a reader that leaves early (`| head -1`) ------------------------------------------------


def _into_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """Run with stdout a pipe whose reader has already gone: every write breaks the pipe."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [_console_script(), *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ("layers", EXAMPLE),  # a Rich table
        ("inspect", EXAMPLE, "--json"),
        ("files", EXAMPLE),
        ("history", EXAMPLE, "--format", "{created_by}"),
        ("--help",),  # the fast path, no Typer
        ("tags", "--help"),  # Typer's own Rich console
        ("cache", "--help"),
    ],
)
def test_a_closed_pipe_ends_the_run_quietly_with_exit_0(args: tuple[str, ...]) -> None:
    done = _into_closed_pipe(*args)
    assert (done.returncode, done.stderr) == (0, "")


def test_a_closed_pipe_keeps_the_exit_code_of_a_failed_run() -> None:
    done = _into_closed_pipe("inspect", "Bad//Ref")
    assert done.returncode == 2 and "error:" in done.stderr


# -- progress on a terminal's stderr, nothing elsewhere ------------------------------------


def test_layer_reading_shows_progress_on_a_terminal_stderr(tmp_path: Path) -> None:
    env = {"DOCKERHUB_CACHE_DIR": str(tmp_path / "cache"), "DOCKERHUB_NO_SPINNER": ""}
    code, out = _pty("files", EXAMPLE, env=env, stdout_pty=False)  # stdout: /dev/null
    assert code == 0, out
    assert "Reading" in out and "bytes" in out  # the download bar, on stderr
    # Warm (indexes cached), --json, or stderr not a terminal: no progress at all.
    code, out = _pty("files", EXAMPLE, "--json", env=env, stdout_pty=False)
    assert code == 0 and "Reading" not in out
    done = _pipe("files", EXAMPLE, env={**env, "DOCKERHUB_CACHE_DIR": str(tmp_path / "c2")})
    assert done.returncode == 0 and done.stderr == ""


def test_a_spinner_shows_the_requests_made_so_far() -> None:
    import importlib

    app_module = importlib.import_module("dockerhub_cli.cli.app")

    class _Transport:
        network_requests = 0

    class _Service:
        transport = _Transport()

    saved = app_module._run.service
    app_module._run.service = _Service()  # type: ignore[assignment]
    try:
        assert app_module.network_detail() == ""
        _Transport.network_requests = 1
        assert app_module.network_detail() == "1 request"
        _Transport.network_requests = 12
        assert app_module.network_detail() == "12 requests"
    finally:
        app_module._run.service = saved


# -- bars sized to the data, in the human view only ------------------------------------------


def test_bar_is_sized_in_eighths_and_never_hides_a_value() -> None:
    from dockerhub_cli.render import bar, split_bar

    utf8 = Console(file=io.StringIO(), width=80)
    assert utf8.encoding.lower().startswith("utf")
    assert bar(1.0, 8, utf8) == "█" * 8
    assert bar(0.5, 8, utf8) == "█" * 4
    assert bar(0.55, 10, utf8) == "█████▌"
    assert bar(0.001, 10, utf8) == "▏"  # above zero: always visible
    assert bar(0.0, 10, utf8) == "" and bar(-1, 10, utf8) == "" and bar(float("nan"), 5) == ""
    assert bar(7.0, 4, utf8) == "████"  # capped at the width
    ascii_console = Console(file=io.TextIOWrapper(io.BytesIO(), encoding="ascii"), width=80)
    assert bar(0.5, 8, ascii_console) == "####" and bar(0.01, 8, ascii_console) == "#"
    assert split_bar([0.5, 0.25], 8, utf8) == ["████", "▒▒"]
    assert split_bar([0.5, 0.001], 8, utf8) == ["████", "▒"]
    assert split_bar([0.5, 0.25], 8, ascii_console) == ["####", "=="]


def test_layers_draws_bars_sized_to_the_largest_layer_only_in_the_human_view() -> None:
    from dockerhub_cli.render.images import LAYER_BAR_WIDTH

    done = _pipe("layers", EXAMPLE)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if re.match(r"\d+\s+sha256:", line)]
    bars = [re.search(r"%\s+([█▏▎▍▌▋▊▉]+)", row) for row in rows]
    assert all(bars), rows
    widths = [len(m.group(1)) for m in bars if m]
    # 142 B and 233 B: the largest is full, the other 142/233 of it (9.75 cells: 9 + one part)
    assert widths == [10, LAYER_BAR_WIDTH]
    assert "\x1b[" not in done.stdout  # a pipe: no colour
    for extra in (("--json",), ("--format", "{index} {size}"), ("-q",)):
        out = _pipe("layers", EXAMPLE, *extra).stdout
        assert "█" not in out and "#" * 3 not in out, extra


def test_waste_draws_a_bar_per_offender() -> None:
    from dockerhub_cli.models.files import WasteItem, WasteReport
    from dockerhub_cli.render.files import WASTE_BAR_WIDTH, waste

    report = WasteReport.model_construct(
        reference="x",
        digest="sha256:" + "a" * 64,
        total_bytes=3000,
        wasted_bytes=1500,
        efficiency=0.5,
        files=[
            WasteItem(path="/big", wasted_bytes=1000, versions=1, layers=[0], removed_by=[1]),
            WasteItem(path="/small", wasted_bytes=500, versions=1, layers=[0], removed_by=[2]),
        ],
        passed=None,
        download=None,
        notes=[],
    )
    console = Console(file=io.StringIO(), width=100)
    import dockerhub_cli.render.files as files_render

    saved = files_render.download_line
    files_render.download_line = lambda download: "downloaded nothing"  # type: ignore[assignment]
    try:
        waste(report, console)
    finally:
        files_render.download_line = saved
    text = console.file.getvalue()  # type: ignore[attr-defined]
    big = next(line for line in text.splitlines() if "/big" in line)
    small = next(line for line in text.splitlines() if "/small" in line)
    assert big.count("█") == WASTE_BAR_WIDTH and small.count("█") == WASTE_BAR_WIDTH // 2


def test_typer_root_and_group_help_show_no_type_placeholders() -> None:
    for args in (("--no-cache", "--help"), ("cache", "--help"), ("config", "--help")):
        result = run(*args, env={"COLUMNS": "120"})
        assert result.exit_code == 0, result.stderr
        assert "<bool>" not in result.stdout and "<str>" not in result.stdout, args


def test_spaces_on_a_background_are_kept() -> None:
    from rich.segment import Segment
    from rich.style import Style

    from dockerhub_cli.render import strip_trailing_spaces

    on_grey = Style(bgcolor="grey23")
    segments = [Segment("code", on_grey), Segment("   ", on_grey), Segment("\n")]
    segments += [Segment("text"), Segment("   "), Segment("\n")]
    out = "".join(s.text for s in strip_trailing_spaces(iter(segments)))
    assert out == "code   \ntext\n"
