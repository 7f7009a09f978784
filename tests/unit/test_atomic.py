"""atomic.replace_file: the one way the project replaces a file whole."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dockerhub_cli import atomic
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


def test_create_private_makes_what_mkstemp_makes(tmp_path: Path) -> None:
    """A new 0600 file named prefix + random + suffix in the directory, open for reading and
    writing, not inherited by child processes: what tempfile.mkstemp returns."""
    fd, name = atomic.create_private(tmp_path, ".tmp-", ".tmp")
    try:
        os.write(fd, b"abc")
        os.lseek(fd, 0, os.SEEK_SET)
        assert os.read(fd, 3) == b"abc"
        assert not os.get_inheritable(fd)
    finally:
        os.close(fd)
    path = Path(name)
    assert path.parent == tmp_path
    assert path.name.startswith(".tmp-") and path.name.endswith(".tmp")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 & ~_umask()
    ref_fd, ref = tempfile.mkstemp(prefix=".tmp-", suffix=".tmp", dir=tmp_path)
    os.close(ref_fd)
    assert stat.S_IMODE(Path(ref).stat().st_mode) == stat.S_IMODE(path.stat().st_mode)
    names = {atomic.create_private(tmp_path, "p", "s") for _ in range(50)}
    for fd, _ in names:
        os.close(fd)
    assert len({n for _, n in names}) == 50


def test_create_private_never_opens_a_planted_file_or_follows_a_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "target"
    target.write_text("keep")
    randoms = iter([b"\x00" * 6, b"\x00" * 6, b"\x01" * 6])
    monkeypatch.setattr(atomic.os, "urandom", lambda n: next(randoms))
    taken = tmp_path / f"p{'00' * 6}s"
    taken.symlink_to(target)
    fd, name = atomic.create_private(tmp_path, "p", "s")  # the third name: two were taken
    os.close(fd)
    assert name == str(tmp_path / f"p{'01' * 6}s")
    assert target.read_text() == "keep" and taken.is_symlink()


def test_saving_a_file_does_not_import_tempfile() -> None:
    """tempfile imports shutil, and shutil bz2, lzma and zlib: a warm run that saves its
    result pays for none of them (checked in a fresh process)."""
    code = (
        "import os, sys, dockerhub_cli.atomic as a\n"
        "d = sys.argv[1]\n"
        "a.replace_file(os.path.join(d, 'f'), 'x')\n"
        "os.close(a.create_private(d, 'p', 's')[0])\n"
        "print('tempfile' in sys.modules)\n"
    )
    with tempfile.TemporaryDirectory() as d:
        done = subprocess.run(
            [sys.executable, "-c", code, d], capture_output=True, text=True, check=True
        )
    assert done.stdout.strip() == "False"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
