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
