"""ops/files.py over mocked registry replies shaped like real ones: the layer blob streams
through the shared session (307 to a CDN without Authorization), never into the HTTP cache;
its file index is cached forever; warm calls make no request; bad blobs are never cached."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import responses

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import (
    DigestMismatchError,
    DownloadLimitError,
    NotFoundError,
    OfflineCacheMissError,
)
from dockerhub_cli.service import DockerHubService
from tests.support.layers import digest, file, layer, symlink, whiteout
from tests.unit.registry_fixtures import compact

REG = "https://registry.example.com"
CDN = "https://cdn.example.net"
IMAGE = "registry.example.com/team/app:1.0"
CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
LAYER0 = layer([file("etc/os-release", "ID=test\n"), file("etc/gone", "g" * 100)])
LAYER1 = layer([whiteout("etc/gone"), symlink("etc/link", "os-release"), file("bin/x", b"\0\1")])


def _manifest(layers: list[bytes]) -> bytes:
    return compact(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest(CONFIG),
                "size": len(CONFIG),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest(b),
                    "size": len(b),
                }
                for b in layers
            ],
        }
    )


def _serve(rsps: responses.RequestsMock, layers: list[bytes], served: list[bytes] | None = None):
    manifest = _manifest(layers)
    rsps.get(
        f"{REG}/v2/team/app/manifests/1.0",
        body=manifest,
        content_type="application/vnd.oci.image.manifest.v1+json",
        headers={"Docker-Content-Digest": digest(manifest)},
    )
    # A single manifest names its platform only in its config: one GET, cached forever.
    rsps.get(f"{REG}/v2/team/app/blobs/{digest(CONFIG)}", body=CONFIG)
    for blob, body in zip(layers, served or layers, strict=True):
        d = digest(blob)
        location = f"{CDN}/data/{d}"
        rsps.get(f"{REG}/v2/team/app/blobs/{d}", status=307, headers={"Location": location})
        rsps.get(location, body=body, content_type="application/octet-stream")


def _blob_calls(rsps: responses.RequestsMock) -> list[str]:
    """Layer requests (the config, GET once for the platform, is not a layer)."""
    return [
        c.request.url
        for c in rsps.calls
        if ("/blobs/" in c.request.url or CDN in c.request.url)
        and not c.request.url.endswith(digest(CONFIG))
    ]


def test_files_streams_layers_and_caches_only_the_index(rsps, service, tmp_path: Path) -> None:
    _serve(rsps, [LAYER0, LAYER1])
    cold = service.files(IMAGE)
    assert {f.path: f.layer for f in cold.files} == {
        "etc": 0,
        "etc/os-release": 0,
        "etc/link": 1,
        "bin": 1,
        "bin/x": 1,
    }
    assert cold.download.layers_read == 2
    assert cold.download.bytes_downloaded == len(LAYER0) + len(LAYER1)
    assert (cold.platform.os, cold.platform.architecture) == ("linux", "amd64")
    config_gets = [c for c in rsps.calls if c.request.url.endswith(digest(CONFIG))]
    assert len(config_gets) == 1  # the platform, from the config (cached forever by digest)
    cdn_requests = [c.request for c in rsps.calls if c.request.url.startswith(CDN)]
    assert len(cdn_requests) == 2
    assert all("Authorization" not in r.headers for r in cdn_requests)
    # The index files: one per layer digest, mode 0600; no blob in the HTTP cache.
    store = Path(os.environ["DOCKERHUB_CACHE_DIR"]) / "layers" / "sha256"
    files = sorted(store.glob("*.json"))
    assert [f.stem for f in files] == sorted(digest(b).split(":")[1] for b in (LAYER0, LAYER1))
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    cached_urls = [str(r.url) for r in service.session.cache.responses.values()]
    layer_urls = [u for u in cached_urls if "/blobs/" in u or CDN in u]
    assert not [u for u in layer_urls if not u.endswith(digest(CONFIG))], cached_urls
    # Warm: no request at all (the manifest by tag is fresh in the HTTP cache).
    calls = len(rsps.calls)
    warm = service.files(IMAGE)
    assert len(rsps.calls) == calls
    assert warm.files == cold.files and warm.download.layers_cached == 2
    # A new process (new service) reads the same index files.
    with DockerHubService(Settings.from_env()) as again:
        assert again.files(IMAGE, "/etc").files == [
            f for f in cold.files if f.path.startswith("etc/")
        ]
    assert len(rsps.calls) == calls


def test_a_blob_with_the_wrong_digest_is_never_indexed(rsps, service) -> None:
    evil = layer([file("etc/os-release", "ID=evil\n")])
    _serve(rsps, [LAYER0], served=[evil])
    with pytest.raises(DigestMismatchError):
        service.files(IMAGE)
    store = Path(os.environ["DOCKERHUB_CACHE_DIR"]) / "layers"
    assert not list(store.rglob("*.json"))


def test_a_damaged_index_file_is_dropped_and_the_layer_read_again(rsps, service) -> None:
    _serve(rsps, [LAYER0])
    service.files(IMAGE)
    (path,) = (Path(os.environ["DOCKERHUB_CACHE_DIR"]) / "layers").rglob("*.json")
    path.write_text('{"format": 1, "entries": [[1, 2]]')
    before = len(_blob_calls(rsps))
    assert [f.path for f in service.files(IMAGE).files] == ["etc", "etc/gone", "etc/os-release"]
    assert len(_blob_calls(rsps)) == before + 2  # registry 307 + CDN
    assert json.loads(path.read_text().splitlines()[0])["digest"] == digest(LAYER0)


def test_max_download_refuses_before_the_request(rsps, service) -> None:
    _serve(rsps, [LAYER0, LAYER1])
    with pytest.raises(DownloadLimitError, match="--max-download"):
        service.files(IMAGE, max_download=len(LAYER0) + 1)
    assert len(_blob_calls(rsps)) == 2  # layer 0 only; layer 1 was refused up front


def test_offline_without_an_index_is_a_clear_miss(rsps, tmp_path: Path) -> None:
    _serve(rsps, [LAYER0])
    with DockerHubService(Settings.from_env()) as svc:
        svc.files(IMAGE)  # fills the manifest cache and the index
    for f in (Path(os.environ["DOCKERHUB_CACHE_DIR"]) / "layers").rglob("*.json"):
        f.unlink()
    with (
        DockerHubService(Settings.from_env(offline=True)) as svc,
        pytest.raises(OfflineCacheMissError, match="file index"),
    ):
        svc.files(IMAGE)


def test_cat_reads_the_holding_layer_and_verifies_the_content(rsps, service) -> None:
    _serve(rsps, [LAYER0, LAYER1])
    service.files(IMAGE)
    before = len(_blob_calls(rsps))
    meta, spool = service.read_file(IMAGE, "/etc/link")
    with spool:
        assert spool.read() == b"ID=test\n"
    assert (meta.resolved_path, meta.layer, meta.binary) == ("etc/os-release", 0, False)
    assert len(_blob_calls(rsps)) == before + 2  # only layer 0 again
    assert meta.download.layers_read == 1
    with pytest.raises(NotFoundError):
        service.read_file(IMAGE, "/etc/gone")
    text = service.read_text(IMAGE, "etc/os-release", max_chars=3)
    assert (text.text, text.truncated) == ("ID=", True)
    from dockerhub_cli.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="binary"):
        service.read_text(IMAGE, "bin/x")


def test_extract_never_writes_through_a_symlink_outside(rsps, service, tmp_path: Path) -> None:
    _serve(rsps, [LAYER0, LAYER1])
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "etc").symlink_to(outside)  # planted before extraction
    result = service.extract(IMAGE, ["/etc"], dest)
    assert list(outside.iterdir()) == []
    assert not (dest / "etc").is_symlink()
    assert (dest / "etc/os-release").read_text() == "ID=test\n"
    assert os.readlink(dest / "etc/link") == "os-release"
    assert {f.path for f in result.written} == {"etc", "etc/os-release", "etc/link"}


def test_waste_and_gate(rsps, service) -> None:
    _serve(rsps, [LAYER0, LAYER1])
    report = service.waste(IMAGE, max_wasted_bytes=99)
    assert report.wasted_bytes == 100 and report.passed is False
    assert [(i.path, i.layers, i.removed_by) for i in report.files] == [("etc/gone", [0], [1])]
    assert report.efficiency == round(1 - 100 / (100 + 8 + 2), 6)
    assert service.waste(IMAGE, min_efficiency=0.05).passed is True


def test_estargz_server_ignoring_range_falls_back_to_streaming(rsps, service) -> None:
    """`responses` answers a Range request with 200 and the whole body, like a server that
    does not support ranges: the layer is then streamed as usual."""
    from tests.support.layers import ESTARGZ_TOC_DIGEST, estargz_layer

    blob, toc_digest = estargz_layer([file("etc/os-release", "ID=lazy\n")])
    manifest = json.loads(_manifest([blob]))
    manifest["layers"][0]["annotations"] = {ESTARGZ_TOC_DIGEST: toc_digest}
    body = compact(manifest)
    rsps.get(
        f"{REG}/v2/team/app/manifests/1.0",
        body=body,
        content_type="application/vnd.oci.image.manifest.v1+json",
        headers={"Docker-Content-Digest": digest(body)},
    )
    rsps.get(f"{REG}/v2/team/app/blobs/{digest(blob)}", body=blob)
    rsps.get(f"{REG}/v2/team/app/blobs/{digest(CONFIG)}", body=CONFIG)
    listing = service.files(IMAGE)
    assert [f.path for f in listing.files] == ["etc", "etc/os-release", "stargz.index.json"]
    assert not any("TOC" in n for n in listing.notes)
    assert listing.download.bytes_downloaded == len(blob)


def test_cold_cat_reads_each_layer_once(rsps, service) -> None:
    _serve(rsps, [LAYER0, LAYER1])
    meta, spool = service.read_file(IMAGE, "/etc/os-release")
    with spool:
        assert spool.read() == b"ID=test\n"
    assert len(_blob_calls(rsps)) == 4  # two layers, each 307 + CDN, once
    assert meta.download.layers_read == 2
    assert meta.download.bytes_downloaded == len(LAYER0) + len(LAYER1)


def test_local_oci_layout_goes_through_the_same_ops(tmp_path: Path) -> None:
    """A local OCI layout (issue 14's `oci:` transport): same index, same cache, no network."""
    from tests.support.layers import write_layout

    layout = tmp_path / "layout"
    write_layout(
        layout,
        [([file("etc/os-release", "ID=local\n"), file("etc/x", "x")], "gzip"),
         ([whiteout("etc/x"), file("bin/sh", b"\0ELF")], "zstd")],
        tag="v1",
    )  # fmt: skip
    with DockerHubService(Settings.from_env()) as svc:
        listing = svc.files(f"oci:{layout}:v1")
        assert {f.path: f.layer for f in listing.files} == {
            "etc": 0,
            "etc/os-release": 0,
            "bin": 1,
            "bin/sh": 1,
        }
        assert listing.download.layers_read == 2
        meta, spool = svc.read_file(f"oci:{layout}:v1", "/etc/os-release")
        with spool:
            assert spool.read() == b"ID=local\n"
        assert meta.download.layers_cached == 2
        assert svc.waste(f"oci:{layout}:v1").wasted_bytes == 1


LINKS = layer(
    [
        file("usr/bin/python3.11", b"\x7fELF" + bytes(100), mode=0o755),
        symlink("usr/bin/python3", "python3.11"),
        symlink("etc/alternatives/python", "/usr/bin/python3"),
        symlink("usr/local/bin/py", "../../bin/python3"),  # climbs, stays inside
        symlink("etc/escape", "../../../../../etc/passwd"),  # climbs above the root
        symlink("bin", "usr/bin"),
        symlink("etc/via-bin", "/bin/../etc/alternatives"),  # `..` after a symlinked dir
        symlink("etc/root", "/"),
        symlink("etc/loop-a", "/etc/loop-b/x"),
        symlink("etc/loop-b", "/etc/loop-a/x"),
    ]
)


def test_extract_rewrites_absolute_and_climbing_symlinks_to_stay_inside(
    rsps, service, tmp_path: Path
) -> None:
    _serve(rsps, [LINKS])
    dest = tmp_path / "dest"
    result = service.extract(IMAGE, ["/"], dest)
    links = {p: os.readlink(dest / p) for p in ("usr/bin/python3", "etc/alternatives/python")}
    assert links == {
        "usr/bin/python3": "python3.11",
        "etc/alternatives/python": "../../usr/bin/python3",
    }
    assert os.readlink(dest / "usr/local/bin/py") == "../../bin/python3"  # already inside
    assert os.readlink(dest / "etc/escape") == "passwd"  # /etc/passwd, as in the image
    # /bin/../etc: `bin` is usr/bin in the image, so `..` leads to usr, not to the root
    assert os.readlink(dest / "etc/via-bin") == "../usr/etc/alternatives"
    assert os.readlink(dest / "etc/root") == ".."
    assert (dest / "etc/alternatives/python").read_bytes() == b"\x7fELF" + bytes(100)
    rewritten = {r.path: (r.link, r.written) for r in result.links_rewritten}
    assert rewritten["etc/alternatives/python"] == ("/usr/bin/python3", "../../usr/bin/python3")
    assert "usr/bin/python3" not in rewritten and "usr/local/bin/py" not in rewritten
    assert {s.path for s in result.skipped} == {"etc/loop-a", "etc/loop-b"}
    real = dest.resolve()
    for path in dest.rglob("*"):
        if path.is_symlink():
            target = os.path.normpath(os.path.join(path.parent, os.readlink(path)))
            assert Path(target) == real or real in Path(target).parents, path


class _DiskFull:
    """A file that takes `room` bytes, then fails like a full disk."""

    def __init__(self, target: Path, room: int) -> None:
        self.fh = open(target, "wb")  # noqa: SIM115
        self.room = room

    def write(self, data: bytes) -> int:
        import errno

        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.fh.write(data)

    def close(self) -> None:
        self.fh.close()


def test_extract_disk_full_is_exit_9_naming_the_file_and_leaves_no_partial_file(
    rsps, service, tmp_path: Path
) -> None:
    from dockerhub_cli.errors import LocalFileError
    from dockerhub_cli.ops import files as ops_files

    big = layer([file("etc/small", "ok\n"), file("etc/big", b"x" * 300_000)])
    _serve(rsps, [big])
    dest = tmp_path / "dest"
    with pytest.raises(LocalFileError) as caught:
        ops_files.extract_files(
            service.clients, IMAGE, ["/etc"], dest, opener=lambda t: _DiskFull(t, 100_000)
        )
    assert caught.value.exit_code == 9
    assert f"cannot write {dest.resolve() / 'etc/big'}: No space left on device" in str(
        caught.value
    )
    assert "disk is full" in (caught.value.hint or "")
    # Nothing of that layer pass is left: not the partial file, nor the unverified small one.
    assert not (dest / "etc/big").exists() and not (dest / "etc/small").exists()


def test_extract_over_a_file_in_the_way_is_exit_9_not_a_crash(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dockerhub_cli.cli import app

    example = f"oci:{Path(__file__).resolve().parents[2] / 'examples' / 'hello-oci'}:1.0"
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "app").write_text("a file where the image has a directory")
    result = CliRunner().invoke(app, ["extract", example, "/app", "-o", str(dest)])
    assert result.exit_code == 9, result.output
    assert result.stderr.startswith(f"error: cannot write {dest.resolve() / 'app'}")
    assert len(result.stderr.strip().splitlines()) <= 2  # the error and its hint


@pytest.mark.parametrize("command", ["files", "read_file", "read_text", "extract", "diff", "waste"])
def test_max_download_bounds_every_files_command_and_progress_sees_each_layer(
    command: str, rsps, service, tmp_path: Path
) -> None:
    _serve(rsps, [LAYER0, LAYER1])
    calls = {
        "files": lambda **kw: service.files(IMAGE, **kw),
        "read_file": lambda **kw: service.read_file(IMAGE, "/etc/os-release", **kw)[1].close(),
        "read_text": lambda **kw: service.read_text(IMAGE, "/etc/os-release", **kw),
        "extract": lambda **kw: service.extract(IMAGE, ["/etc"], tmp_path / "out", **kw),
        "diff": lambda **kw: service.diff_files(IMAGE, IMAGE, **kw),
        "waste": lambda **kw: service.waste(IMAGE, **kw),
    }
    if command != "waste":  # the MCP tool passes no progress; the CLI's waste does (below)
        with pytest.raises(DownloadLimitError, match="--max-download"):
            calls[command](max_download=len(LAYER0) - 1)
        assert len(_blob_calls(rsps)) <= 2  # stopped within layer 0
    seen: list[tuple[str, int, int | None]] = []
    progress = {"progress": lambda label, done, total: seen.append((label, done, total))}
    # A cold extract writes the files as their layers are indexed: no layer is read twice.
    total = len(LAYER0) + len(LAYER1)
    calls[command](max_download=total, **progress)
    assert {label for label, _, _ in seen} == {"layer 0", "layer 1"}
    assert seen[-1][1] == total
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen)  # bytes only grow


def test_waste_is_bounded_by_max_download_too(rsps, service) -> None:
    _serve(rsps, [LAYER0, LAYER1])
    with pytest.raises(DownloadLimitError, match="--max-download"):
        service.waste(IMAGE, max_download=len(LAYER0) - 1)


def test_the_download_bar_is_drawn_on_a_terminal_only(monkeypatch) -> None:
    import io
    import sys

    from dockerhub_cli.cli.files_commands import _progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("DOCKERHUB_NO_SPINNER", raising=False)
    with _progress("Reading app") as bar:  # pytest's stderr is no terminal
        assert bar is None
    fake = Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    with _progress("Reading app") as bar:
        assert bar is not None
        bar("layer 0", 1500, 3000)
        bar("layer 0", 3000, 3000)
        bar("layer 1", 5000, 2000)  # a new layer: the bar restarts at its own size
    drawn = fake.getvalue()
    assert "Reading app: layer 1" in drawn and "2.0/2.0 kB" in drawn  # layer, bytes
    assert "\x1b[" in drawn  # drawn as a live bar (and erased: transient)


def _hostile_layer() -> bytes:
    """Names that are not UTF-8 (latin-1 bytes) and that carry terminal escapes."""
    import gzip
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, encoding="latin-1") as t:
        for name, data in (("etc/caf\xe9", b"latin\n"), ("etc/evil\x1b[2J", b"escape\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("etc/to-cafe")
        link.type, link.linkname = tarfile.SYMTYPE, "caf\xe9"
        t.addfile(link)
    return gzip.compress(buf.getvalue())


def test_hostile_names_list_cat_and_extract_by_real_or_displayed_name(
    rsps, service, tmp_path: Path
) -> None:
    _serve(rsps, [_hostile_layer()])
    listing = service.files(IMAGE)
    # JSON carries the exact name (the ESC as \u001b), bytes that are not UTF-8 as \xNN
    paths = sorted(f.path for f in listing.files)
    assert paths == ["etc", "etc/caf\\xe9", "etc/evil\x1b[2J", "etc/to-cafe"]
    assert "\\u001b[2J" in listing.model_dump_json()
    for typed in ("/etc/caf\udce9", "/etc/caf\\xe9", "/etc/to-cafe"):  # argv bytes, shown, link
        meta, spool = service.read_file(IMAGE, typed)
        with spool:
            assert spool.read() == b"latin\n"
        assert meta.resolved_path == "etc/caf\\xe9"
    for typed in ("etc/evil\x1b[2J", "etc/evil\\x1b[2J"):
        _meta, spool = service.read_file(IMAGE, typed)
        with spool:
            assert spool.read() == b"escape\n"
    out = tmp_path / "out"
    result = service.extract(IMAGE, ["/etc"], out)
    assert not result.skipped
    names = sorted(os.listdir(os.fsencode(out / "etc")))
    assert names == [b"caf\xe9", b"evil\x1b[2J", b"to-cafe"]  # the layer's bytes, on disk
    assert (out / "etc" / "to-cafe").read_bytes() == b"latin\n"
    assert os.readlink(os.fsencode(out / "etc" / "to-cafe")) == b"caf\xe9"


def test_a_missing_or_wrong_kind_path_is_named_as_the_user_wrote_it(
    rsps, service, tmp_path: Path
) -> None:
    """`cat IMAGE /nope` says `/nope` (not `nope`), a directory is called one, and the advice
    is worded per front-end (the CLI's `dockerhub files`, an MCP tool's docker_list_files)."""
    from dockerhub_cli import advice
    from dockerhub_cli.errors import InvalidInputError

    _serve(rsps, [LAYER0, LAYER1])
    with pytest.raises(NotFoundError) as missing:
        service.read_file(IMAGE, "/etc/nope")
    assert missing.value.message == f"/etc/nope does not exist in {IMAGE}"
    assert advice.references(missing.value.hint or "") == [("command", "files", f"{IMAGE} /etc")]
    with pytest.raises(InvalidInputError) as directory:
        service.read_file(IMAGE, "etc")
    assert directory.value.message == "/etc is a directory, not a regular file"
    assert advice.references(directory.value.hint or "") == [("command", "files", f"{IMAGE} /etc")]
    with pytest.raises(NotFoundError) as extracting:
        service.extract(IMAGE, ["/etc/nope"], tmp_path / "out")
    assert extracting.value.message == f"/etc/nope does not exist in {IMAGE}"
    with pytest.raises(NotFoundError) as listing:
        service.files(IMAGE, path="/usr/lib")
    assert listing.value.message == f"/usr/lib does not exist in {IMAGE}"
    assert ("param", "find", "GLOB") in advice.references(listing.value.hint or "")
