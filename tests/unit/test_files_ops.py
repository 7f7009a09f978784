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
    for blob, body in zip(layers, served or layers, strict=True):
        d = digest(blob)
        location = f"{CDN}/data/{d}"
        rsps.get(f"{REG}/v2/team/app/blobs/{d}", status=307, headers={"Location": location})
        rsps.get(location, body=body, content_type="application/octet-stream")


def _blob_calls(rsps: responses.RequestsMock) -> list[str]:
    return [c.request.url for c in rsps.calls if "/blobs/" in c.request.url or CDN in c.request.url]


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
    cdn_requests = [c.request for c in rsps.calls if c.request.url.startswith(CDN)]
    assert len(cdn_requests) == 2
    assert all("Authorization" not in r.headers for r in cdn_requests)
    # The index files: one per layer digest, mode 0600; no blob in the HTTP cache.
    store = Path(os.environ["DOCKERHUB_CACHE_DIR"]) / "layers" / "sha256"
    files = sorted(store.glob("*.json"))
    assert [f.stem for f in files] == sorted(digest(b).split(":")[1] for b in (LAYER0, LAYER1))
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    cached_urls = [str(r.url) for r in service.session.cache.responses.values()]
    assert not [u for u in cached_urls if "/blobs/" in u or CDN in u], cached_urls
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
