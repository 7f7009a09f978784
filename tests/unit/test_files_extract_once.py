"""A cold `extract` reads each layer once: the files it will write are staged while the layer
is indexed (`ops.files.Staging`), inside the output directory, bounded by --max-bytes, and
placed by a rename once every layer's digest is verified. What could not be staged is read
from its layer afterwards, as for a warm index. Layer GETs are counted on mocked replies."""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path
from typing import IO

import pytest

from dockerhub_cli.errors import DigestMismatchError, LocalFileError
from dockerhub_cli.ops import files as ops_files
from tests.support.layers import digest, directory, file, hardlink, layer, symlink, whiteout
from tests.unit.test_files_ops import CDN, IMAGE, _blob_calls, _serve


def _layer_gets(rsps) -> dict[str, int]:
    """CDN GETs per layer digest (each layer's bytes come from the CDN after a 307)."""
    counts: dict[str, int] = {}
    for url in _blob_calls(rsps):
        if url.startswith(CDN):
            key = url.rsplit("/", 1)[1]
            counts[key] = counts.get(key, 0) + 1
    return counts


def _staging_left(dest: Path) -> list[Path]:
    return list(dest.glob(".dockerhub-extract-*"))


def test_cold_extract_reads_every_layer_once_and_writes_the_final_files(
    rsps, service, tmp_path: Path
) -> None:
    base = layer(
        [
            directory("etc"),
            file("etc/os-release", "ID=one\n"),
            file("etc/gone", "g" * 5000),
            file("etc/tool", b"\x7fELF" + bytes(100), mode=0o755),
            hardlink("etc/tool-alias", "etc/tool"),
            file("usr/share/other", "not asked for"),
        ]
    )
    top = layer([whiteout("etc/gone"), file("etc/os-release", "ID=two\n", mode=0o600)])
    _serve(rsps, [base, top])
    dest = tmp_path / "dest"
    result = service.extract(IMAGE, ["/etc"], dest)
    assert _layer_gets(rsps) == {digest(base): 1, digest(top): 1}
    assert result.download.layers_read == 2
    assert result.download.bytes_downloaded == len(base) + len(top)
    assert (dest / "etc/os-release").read_text() == "ID=two\n"
    assert (dest / "etc/os-release").stat().st_mode & 0o777 == 0o600
    assert (dest / "etc/tool").stat().st_mode & 0o777 == 0o755
    assert (dest / "etc/tool-alias").read_bytes() == b"\x7fELF" + bytes(100)
    assert (dest / "etc/tool-alias").stat().st_ino == (dest / "etc/tool").stat().st_ino
    assert not (dest / "etc/gone").exists() and not (dest / "usr").exists()
    assert _staging_left(dest) == []
    # Warm index: the files' layers are read once more (only those holding files), no index.
    again = tmp_path / "again"
    warm = service.extract(IMAGE, ["/etc/os-release"], again)
    assert _layer_gets(rsps) == {digest(base): 1, digest(top): 2}
    assert warm.download.layers_cached == 2 and warm.download.layers_read == 1
    assert (again / "etc/os-release").read_text() == "ID=two\n"


def test_paths_through_a_lower_layers_symlink_are_staged_too(rsps, service, tmp_path) -> None:
    """merged-/usr: `bin -> usr/bin` in the base; the tool is added later, and a later layer
    writes `lib/x` through the `lib -> usr/lib` link (it lands in usr/lib, as containerd)."""
    base = layer(
        [
            directory("usr/bin"),
            directory("usr/lib"),
            symlink("bin", "usr/bin"),
            symlink("lib", "usr/lib"),
        ]
    )
    top = layer([file("usr/bin/tool", "#!/bin/sh\n"), file("lib/x", "through the link")])
    _serve(rsps, [base, top])
    out = tmp_path / "out"
    service.extract(IMAGE, ["/bin/tool", "/usr/lib"], out)
    assert _layer_gets(rsps) == {digest(base): 1, digest(top): 1}
    assert (out / "usr/bin/tool").read_text() == "#!/bin/sh\n"
    assert (out / "usr/lib/x").read_text() == "through the link"
    assert not (out / "lib").exists()


def test_staging_is_bounded_by_max_bytes_and_falls_back_to_a_second_read(
    rsps, service, tmp_path: Path
) -> None:
    """etc/big is staged, then deleted by the top layer; etc/small did not fit beside it, so
    it is read again from its layer: the bound holds, the result is the same."""
    base = layer([file("etc/big", b"b" * 6000), file("etc/small", "s" * 3000)])
    top = layer([whiteout("etc/big")])
    _serve(rsps, [base, top])
    out = tmp_path / "out"
    seen: list[int] = []
    real = ops_files.Staging.sink

    def spy(self: ops_files.Staging, layer_no: int) -> object:
        seen.append(self.held)
        return real(self, layer_no)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ops_files.Staging, "sink", spy)
        result = ops_files.extract_files(service.clients, IMAGE, ["/etc"], out, max_bytes=7000)
    assert max(seen) <= 7000
    assert (out / "etc/small").read_text() == "s" * 3000 and not (out / "etc/big").exists()
    assert _layer_gets(rsps) == {digest(base): 2, digest(top): 1}
    assert result.bytes_written == 3000 and _staging_left(out) == []


def test_a_layer_whose_digest_does_not_match_leaves_nothing_behind(
    rsps, service, tmp_path: Path
) -> None:
    good = layer([file("etc/os-release", "ID=test\n")], "tar")
    evil = layer([file("etc/os-release", "ID=evil\n")], "tar")
    assert len(good) == len(evil)
    _serve(rsps, [good], served=[evil])
    out = tmp_path / "out"
    with pytest.raises(DigestMismatchError):
        service.extract(IMAGE, ["/etc"], out)
    assert list(out.iterdir()) == []  # nor the staged copy, nor its directory


class _FullAfter:
    def __init__(self, path: Path, room: int) -> None:
        self.fh, self.room = open(path, "wb"), room  # noqa: SIM115

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.fh.write(data)

    def close(self) -> None:
        self.fh.close()


def test_disk_full_while_staging_is_exit_9_naming_the_final_path(
    rsps, service, tmp_path: Path
) -> None:
    _serve(rsps, [layer([file("etc/ok", "ok"), file("etc/big", b"x" * 200_000)])])
    dest = tmp_path / "dest"

    def opener(target: Path) -> IO[bytes]:
        return _FullAfter(target, 50_000)  # type: ignore[return-value]

    with pytest.raises(LocalFileError) as caught:
        ops_files.extract_files(service.clients, IMAGE, ["/"], dest, opener=opener)
    assert caught.value.exit_code == 9
    assert f"cannot write {dest.resolve() / 'etc/big'}" in str(caught.value)
    assert list(dest.iterdir()) == []
    # The index of a layer that was not read to its end is not cached: a retry reads it again.
    rsps_calls = len(_blob_calls(rsps))
    ops_files.extract_files(service.clients, IMAGE, ["/"], tmp_path / "retry")
    assert len(_blob_calls(rsps)) > rsps_calls
    assert (tmp_path / "retry/etc/big").read_bytes() == b"x" * 200_000


def test_staged_bytes_are_checked_against_the_index_before_use(tmp_path: Path) -> None:
    """A staged copy whose bytes differ from the index's sha256 is not used (it is read
    again from the layer), and a copy from another layer than the one in use is not either."""
    from dockerhub_cli.oci import layer as L

    root = tmp_path / "root"
    root.mkdir()
    staging = ops_files.Staging(root, ["etc"], ops_files.open_for_write, 10_000)
    entry = L.Entry("etc/a", L.FILE, size=3)
    out = staging.sink(0)(entry)
    assert out is not None
    out.write(b"abc")
    staging.done()
    right = "sha256:" + hashlib.sha256(b"abc").hexdigest()
    wrong = L.Entry("etc/a", L.FILE, size=3, sha256="sha256:" + "0" * 64)
    assert staging.place(0, {"etc/a": [L.Placed(wrong, 0)]}, root) == {}
    assert (
        staging.place(1, {"etc/a": [L.Placed(L.Entry("etc/a", L.FILE, 3, sha256=right), 1)]}, root)
        == {}
    )
    moved = staging.place(
        0, {"etc/a": [L.Placed(L.Entry("etc/a", L.FILE, 3, sha256=right), 0)]}, root
    )
    assert moved == {"etc/a": root.resolve() / "etc/a"} and (root / "etc/a").read_bytes() == b"abc"
    staging.close()
    assert _staging_left(root) == []


class _Counted:
    open_now = 0
    most = 0

    def __init__(self, path: Path) -> None:
        self.fh = open(path, "wb")  # noqa: SIM115
        _Counted.open_now += 1
        _Counted.most = max(_Counted.most, _Counted.open_now)

    def write(self, data: bytes) -> int:
        return self.fh.write(data)

    def close(self) -> None:
        if not self.fh.closed:
            _Counted.open_now -= 1
        self.fh.close()


def test_one_file_is_open_at_a_time_cold_and_warm(rsps, service, tmp_path: Path) -> None:
    """20,000 files in one layer once failed with EMFILE: every writer stayed open until the
    layer was read to its end."""
    many = layer([file(f"data/f{i}", f"{i}\n") for i in range(300)])
    _serve(rsps, [many])
    for run in ("cold", "warm"):
        _Counted.open_now = _Counted.most = 0
        out = tmp_path / run
        result = ops_files.extract_files(
            service.clients,
            IMAGE,
            ["/data"],
            out,
            opener=lambda t: _Counted(t),  # type: ignore[arg-type, return-value]
        )
        assert len(result.written) == 301 and (out / "data/f299").read_text() == "299\n"
        assert _Counted.most == 1 and _Counted.open_now == 0, run


def test_extract_streams_its_rows_and_the_table_makes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI writes `written` row by row from the index entries (`extract_files_streamed`):
    --json is the same document as the full model's, a table (counts only) makes no row
    model at all, --format still gets every row."""
    import json

    from typer.testing import CliRunner

    from dockerhub_cli.cli import app
    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.service import DockerHubService

    example = f"oci:{Path(__file__).resolve().parents[2] / 'examples' / 'hello-oci'}:1.0"
    with DockerHubService(Settings.from_env()) as svc:
        svc.extract(example, ["/"], tmp_path / "warm")  # every later run reads warm indexes
        full = svc.extract(example, ["/"], tmp_path / "full")
    assert full.entries_written == len(full.written) > 3
    assert [f.path for f in full.written] == sorted(f.path for f in full.written)
    made = []
    real_info = ops_files._info
    monkeypatch.setattr(ops_files, "_info", lambda e, n: made.append(e.path) or real_info(e, n))
    dest = tmp_path / "streamed"
    result = CliRunner().invoke(app, ["extract", example, "/", "-o", str(dest), "--json"])
    assert result.exit_code == 0, result.output
    streamed = json.loads(result.stdout)
    expected = json.loads(full.model_dump_json())
    expected["directory"] = str(dest)
    assert streamed == expected
    assert (
        result.stdout
        == full.model_copy(update={"directory": str(dest)}).model_dump_json(indent=2) + "\n"
    )
    assert len(made) == len(full.written)
    made.clear()
    table = CliRunner().invoke(app, ["extract", example, "/", "-o", str(tmp_path / "t")])
    assert table.exit_code == 0, table.output
    assert f"wrote {len(full.written)} entries" in table.stdout
    assert made == []  # no row model for a table that shows none
    paths = CliRunner().invoke(
        app, ["extract", example, "/", "-o", str(tmp_path / "f"), "--format", "{path}"]
    )
    assert paths.stdout.split() == [f.path for f in full.written]
