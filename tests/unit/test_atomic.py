"""atomic.replace_file: the one way the project replaces a file whole."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dockerhub_cli.atomic import replace_file


def test_text_bytes_and_a_writer_each_replace_the_file(tmp_path: Path) -> None:
    tmp_path = tmp_path / "dir"
    tmp_path.mkdir()
    target = tmp_path / "state.json"
    target.write_text("old")
    replace_file(target, "new text")
    assert target.read_text() == "new text"
    replace_file(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"
    replace_file(target, lambda fh: fh.write("é from a writer"), durable=True)
    assert target.read_text(encoding="utf-8") == "é from a writer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_new_files_are_private_unless_a_mode_is_given(tmp_path: Path) -> None:
    replace_file(tmp_path / "private", "x")
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o600
    replace_file(tmp_path / "shared", "x", mode=0o644)
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o644


def test_a_symlink_at_the_path_is_replaced_not_written_through(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("must not change")
    link = tmp_path / "config.json"
    link.symlink_to(elsewhere)
    replace_file(link, "{}")
    assert not link.is_symlink() and link.read_text() == "{}"
    assert elsewhere.read_text() == "must not change"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    tmp_path = tmp_path / "dir"
    tmp_path.mkdir()
    target = tmp_path / "pins.txt"
    target.write_text("old")

    def fails(fh: object) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        replace_file(target, fails)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["pins.txt"]
