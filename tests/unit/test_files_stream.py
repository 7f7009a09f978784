"""`files --json` streams its rows (render.emit_streamed): the same bytes as the plain `emit`
of the whole model, without holding every row as a model and the document as one string."""

from __future__ import annotations

import json

import pytest

from dockerhub_cli import render
from dockerhub_cli.models.files import Download, FileInfo, FileListing
from dockerhub_cli.models.images import PlatformInfo


def _listing() -> FileListing:
    return FileListing(
        reference="registry.example.com/a:1",
        digest="sha256:" + "0" * 64,
        platform=PlatformInfo(os="linux", architecture="amd64"),
        path="",
        files=[],
        total_files=3,
        total_size=10,
        layers=1,
        download=Download(),
        notes=["a note with \x9b and \u202e"],
    )


def _rows() -> list[FileInfo]:
    names = ["etc", "etc/caf\udce9", "etc/evil\x1b[2J\u202e"]
    return [
        FileInfo(
            path=n, type="dir" if n == "etc" else "file", size=5, mode="-rw-r--r--",
            mode_bits=0o644, uid=0, gid=0, link="x\nmulti" if n == "etc" else None,
            sha256=None, layer=0,
        )
        for n in names
    ]  # fmt: skip


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """The output options as a plain run has them (other tests' CLI runs set them)."""
    monkeypatch.setattr(render, "output", render.OutputOptions())


def _noop(_model: object, _console: object) -> None:
    raise AssertionError("the table renderer is not used for JSON")


@pytest.mark.parametrize("count", [0, 1, 3])
def test_streamed_json_is_byte_for_byte_the_plain_json(count: int, capsys) -> None:
    rows = _rows()[:count]
    full = _listing()
    full.files = list(rows)
    render.emit(full, json_output=True, render=_noop)
    plain = capsys.readouterr().out
    render.emit_streamed(_listing(), iter(rows), json_output=True, render=_noop)
    streamed = capsys.readouterr().out
    assert streamed == plain
    data = json.loads(streamed)
    assert [f["path"] for f in data["files"]] == [r.path for r in rows]
    assert "\x1b" not in streamed and "\u202e" not in streamed  # JSON escapes, never raw


def test_rows_are_made_one_at_a_time(capsys) -> None:
    made = []

    def rows():  # type: ignore[no-untyped-def]
        for r in _rows():
            made.append(r.path)
            yield r

    render.emit_streamed(_listing(), rows(), json_output=True, render=_noop)
    assert len(made) == 3 and json.loads(capsys.readouterr().out)["total_files"] == 3


def test_a_table_fills_the_rows_first(capsys) -> None:
    seen: list[int] = []
    render.emit_streamed(
        _listing(), iter(_rows()), json_output=False, render=lambda m, _c: seen.append(len(m.files))
    )
    assert seen == [3]


def _many(n: int, made: list[int] | None = None):  # type: ignore[no-untyped-def]
    kinds = [
        ("dir", None, 0),
        ("file", None, 1234),
        ("symlink", "../lib/x", 0),
        ("hardlink", "usr/bin/a", 5_000_000),
        ("file", None, 7),
    ]
    for i in range(n):
        kind, link, size = kinds[i % len(kinds)]
        if made is not None:
            made.append(i)
        yield FileInfo(
            path=f"usr/share/p{i}" + ("\x1b[31m" if i == 3 else ""), type=kind, size=size,
            mode="drwxr-xr-x" if kind == "dir" else "-rw-r--r--", mode_bits=0o644,
            uid=1000 if i % 7 == 0 else 0, gid=0, link=link, sha256=None, layer=i % 3,
        )  # fmt: skip


def test_the_plain_table_into_a_pipe_is_the_rich_table_without_holding_rows(capsys) -> None:
    """Into a pipe, `files` writes the same text as the Rich table, row by row."""
    from dockerhub_cli.render.files import files as render_files

    listing = _listing().model_copy(update={"layers": 3, "total_files": 12})
    full = listing.model_copy()
    full.files = list(_many(12))
    render.emit(full, json_output=False, render=render_files)
    table = capsys.readouterr().out
    render.emit_streamed(listing.model_copy(), _many(12), json_output=False, render=render_files)
    plain = capsys.readouterr().out
    assert plain == table
    assert "\x1b" not in plain and "p3\\x1b[31m" in plain
    assert "usr/share/p2 -> ../lib/x" in plain and "usr/share/p3\\x1b[31m => usr/bin/a" in plain


def test_a_huge_listing_into_a_pipe_streams(monkeypatch) -> None:
    from dockerhub_cli.render import files as render_files

    made: list[int] = []
    writes: list[tuple[int, str]] = []

    class Pipe:
        encoding = "utf-8"

        def write(self, text: str) -> int:
            writes.append((len(made), text))
            return len(text)

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

    monkeypatch.setattr("sys.stdout", Pipe())
    n = 10 * render_files.PLAIN_SAMPLE
    listing = _listing().model_copy(update={"layers": 3, "total_files": n})
    render.emit_streamed(listing, _many(n, made), json_output=False, render=render_files.files)
    rows = [w for w in writes if "usr/share/p" in w[1]]
    assert len(rows) >= 9  # written in chunks as they come
    # never more than two chunks of rows made ahead of what was written
    written = 0
    for at, text in rows:
        written += text.count("\n")
        assert at - written <= 2 * render_files.PLAIN_SAMPLE
    out = "".join(text for _, text in writes)
    lines = out.splitlines()
    assert lines[0].split() == ["MODE", "OWNER", "SIZE", "LAYER", "PATH"]
    body = [line for line in lines if "usr/share/p" in line]
    assert len(body) == n
    # the columns stay aligned past the sample (the PATH column starts at one place)
    starts = {line.index("usr/share/p") for line in body}
    assert len(starts) == 1, sorted(starts)[:5]
