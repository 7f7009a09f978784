#!/usr/bin/env python
"""Benchmark: indexing a real layer (files/diff/waste) against `gzip -dc | tar -t`.

Run by hand from a checkout, with the Python of an environment where hubscope is
installed:

    python benchmarks/layers.py                      # builds a Debian rootfs with mmdebstrap
    python benchmarks/layers.py --rootfs rootfs.tar  # any rootfs tarball
    python benchmarks/layers.py --synthetic 512      # no mmdebstrap: a 512 MB synthetic tree
    python benchmarks/layers.py --entries 110000 --only-registry   # memory for 110k entries

1. The layer: a Debian bookworm rootfs made by `mmdebstrap --variant=minbase` (Debian package
   `mmdebstrap`, needs the Debian mirror), or a tarball you give, or a synthetic tree; packed
   with `gzip -6` (what registries serve) and with zstd level 3.
2. Throughput on the same bytes: `gzip -dc | tar -t > /dev/null` (the baseline), raw inflate
   with each gzip binding installed (zlib, python-isal, zlib-ng), and our full index (inflate +
   tar walk + sha256 of every file) with each binding, and for zstd; best of --runs, MB/s of
   uncompressed tar. The fastest binding is what `oci/layer.gzip_backend()` picks first.
3. End to end through a real registry (the integration harness): `dockerhub files` cold and
   warm in child processes: wall time, peak RSS (ru_maxrss), and the layer requests in the
   registry access log (warm: 0).

It asserts nothing; it prints a table. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dockerhub_cli.oci import layer as L  # noqa: E402


def build_rootfs(out: Path) -> bool:
    if not shutil.which("mmdebstrap"):
        print("mmdebstrap not installed (apt-get install mmdebstrap)", file=sys.stderr)
        return False
    cmd = [
        "mmdebstrap",
        "--variant=minbase",
        "--include=python3,perl",
        "bookworm",
        str(out),
    ]
    print("$", " ".join(cmd), file=sys.stderr)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return False
    return True


def synthetic_rootfs(out: Path, megabytes: int, file_mb: int = 0, entries: int = 0) -> None:
    """Files of mixed compressibility (text-like and random), in a deep tree; with `file_mb`
    every file has that size (few entries: memory then shows the bytes, not the entries); with
    `entries`, that many small files (memory then shows the per-entry cost)."""
    rng = random.Random(15)
    words = [bytes(rng.choice(b"abcdefghij klmnop\n") for _ in range(4096)) for _ in range(64)]
    written = 0
    with tarfile.open(out, "w") as tar:
        n = 0
        while (n < entries) if entries else (written < megabytes * 1_000_000):
            size = file_mb * 1_000_000 or int(rng.paretovariate(1.2) * 2000) % 2_000_000
            if entries:
                size = rng.randrange(0, 2000)
            if n % 3 == 0:
                data = rng.randbytes(size)
            else:
                data = b"".join(rng.choice(words) for _ in range(size // 4096 + 1))[:size]
            info = tarfile.TarInfo(f"usr/share/d{n % 97}/s{n % 13}/file{n}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            written += len(data)
            n += 1


def _cpu() -> float:
    """CPU seconds of this process and its finished children (user + system)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def best(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    """Least CPU time of `runs` runs: on a shared machine (this one has 2 cores for many
    processes) wall time measures the neighbours; CPU time measures the work."""
    times = []
    for _ in range(runs):
        start = _cpu()
        fn()
        times.append(_cpu() - start)
    return min(times)


def raw_inflate(blob_path: Path, factory) -> None:  # type: ignore[no-untyped-def]
    obj = factory(31)
    with blob_path.open("rb") as fh:
        while chunk := fh.read(L.CHUNK):
            data = chunk
            while data:
                obj.decompress(data, L.CHUNK)
                data = obj.unconsumed_tail


def index(blob_path: Path, digest: str, gzip_impl: str | None) -> L.LayerIndex:
    with blob_path.open("rb") as fh:
        reader = L.VerifyingReader(fh, digest, expected_size=blob_path.stat().st_size)
        return L.read_layer(reader, gzip_impl=gzip_impl)


def child_rss(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB of that child, stdout)."""
    code = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "dt = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps([dt, rss, p.returncode, p.stderr[-500:]]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, timeout=1800
    )
    dt, rss, rc, err = json.loads(out.stdout.strip().splitlines()[-1])
    if rc != 0:
        raise RuntimeError(f"{argv} failed: {err}")
    return dt, rss // 1024, err


def _sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            hasher.update(chunk)
    return hasher.hexdigest()


def end_to_end(blob: Path, tar_path: Path, work: Path) -> list[str]:
    from tests.support.registry import start_registry
    from tests.support.seeding import push

    layout = work / "layout"
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    digest = _sha256_file(blob)
    size = blob.stat().st_size
    shutil.copy(blob, blobs / digest)
    diff_id = _sha256_file(tar_path)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
        }
    ).encode()
    cdig = hashlib.sha256(config).hexdigest()
    (blobs / cdig).write_bytes(config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": f"sha256:{cdig}",
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": f"sha256:{digest}",
                    "size": size,
                }
            ],
        }
    ).encode()
    mdig = hashlib.sha256(manifest).hexdigest()
    (blobs / mdig).write_bytes(manifest)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": f"sha256:{mdig}",
                        "size": len(manifest),
                        "annotations": {"org.opencontainers.image.ref.name": "bench"},
                    }
                ],
            }
        )
    )
    reg = start_registry(work / "registry")
    rows = []
    try:
        ref = reg.ref("bench/rootfs:1")
        push(f"oci:{layout}:bench", ref, fmt="oci")
        env = dict(os.environ, DOCKERHUB_CACHE_DIR=str(work / "cache"), DOCKERHUB_NO_SPINNER="1")
        exe = str(Path(sys.executable).with_name("dockerhub"))
        for label in ("cold", "warm"):
            mark = reg.log_mark()
            dt, rss, _ = child_rss([exe, "files", ref, "--json"], env)
            blobs_asked = [e for e in reg.requests_since(mark) if "/blobs/" in e.path]
            rows.append(
                f"| `dockerhub files` {label} | {dt:.2f} s | {rss} MB | "
                f"{len(blobs_asked)} layer/config requests |"
            )
        mark = reg.log_mark()
        dt, rss, _ = child_rss([exe, "waste", ref, "--json"], env)
        n = len([e for e in reg.requests_since(mark) if "/blobs/" in e.path])
        rows.append(f"| `dockerhub waste` warm | {dt:.2f} s | {rss} MB | {n} layer requests |")
        # The table into a pipe: plain rows, streamed (render.files.files_plain).
        dt, rss, _ = child_rss([exe, "files", ref], env)
        rows.append(f"| `dockerhub files` warm, table into a pipe | {dt:.2f} s | {rss} MB | |")
        # A cold extract of everything: the files are staged as the layer is indexed.
        cold_env = dict(env, DOCKERHUB_CACHE_DIR=str(work / "cache-extract"))
        mark = reg.log_mark()
        dt, rss, _ = child_rss([exe, "extract", ref, "/", "-o", str(work / "out")], cold_env)
        gets = [e for e in reg.requests_since(mark) if "/blobs/" in e.path and e.method == "GET"]
        layer_gets = sum(1 for e in gets if digest in e.path)
        rows.append(
            f"| `dockerhub extract /` cold | {dt:.2f} s | {rss} MB | "
            f"{layer_gets} GET of the layer |"
        )
        shutil.rmtree(work / "out", ignore_errors=True)
    finally:
        reg.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rootfs", type=Path, help="a rootfs tarball to use")
    parser.add_argument("--synthetic", type=int, metavar="MB", help="synthetic tree of MB")
    parser.add_argument("--file-mb", type=int, default=0, help="synthetic: files of this size")
    parser.add_argument(
        "--entries", type=int, default=0, help="synthetic: this many small files (memory per entry)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-registry", action="store_true", help="skip the end-to-end part")
    parser.add_argument(
        "--only-registry", action="store_true", help="only the end-to-end part (RSS, requests)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="layers-bench-"))
    try:
        tar_path = work / "rootfs.tar"
        if args.rootfs:
            shutil.copy(args.rootfs, tar_path)
            source = f"{args.rootfs}"
        elif args.entries:
            synthetic_rootfs(tar_path, 0, entries=args.entries)
            source = f"synthetic tree of {args.entries:,} small files (not a Debian rootfs)"
        elif args.synthetic or not build_rootfs(tar_path):
            mb = args.synthetic or 512
            synthetic_rootfs(tar_path, mb, args.file_mb)
            each = f", files of {args.file_mb} MB" if args.file_mb else ""
            source = f"synthetic tree, {mb} MB of file content{each} (not a Debian rootfs)"
        else:
            source = "Debian bookworm minbase + python3 + perl, built by mmdebstrap"
        blob = work / "layer.tar.gz"
        with blob.open("wb") as out:
            subprocess.run(["gzip", "-6", "-c", str(tar_path)], stdout=out, check=True)
        raw_size = tar_path.stat().st_size
        print(f"layer: {source}")
        if args.only_registry:
            print(f"tar {raw_size / 1e6:.1f} MB; gzip -6 {blob.stat().st_size / 1e6:.1f} MB\n")
            print("| end to end (real registry, child process) | wall | peak RSS | requests |")
            print("|---|---|---|---|")
            print("\n".join(end_to_end(blob, tar_path, work)))
            return
        import zstandard

        zblob = work / "layer.tar.zst"
        zblob.write_bytes(zstandard.ZstdCompressor(level=3).compress(tar_path.read_bytes()))
        digest = "sha256:" + _sha256_file(blob)
        zdigest = "sha256:" + _sha256_file(zblob)
        entries = len(index(blob, digest, "zlib").entries)
        print(
            f"tar {raw_size / 1e6:.1f} MB, {entries} entries; "
            f"gzip -6 {blob.stat().st_size / 1e6:.1f}"
            f" MB; zstd -3 {zblob.stat().st_size / 1e6:.1f} MB; python {sys.version.split()[0]}\n"
        )

        def mbps(seconds: float) -> str:
            return f"{raw_size / 1e6 / seconds:.0f} MB/s"

        shell = f"gzip -dc {blob} | tar -t > /dev/null"
        base = best(lambda: subprocess.run(shell, shell=True, check=True), args.runs)
        rows = [f"| `gzip -dc \\| tar -t` (baseline) | {base:.3f} s | {mbps(base)} | 1.00 |"]
        backends = L._gzip_backends()
        for name, factory in backends:
            t = best(lambda f=factory: raw_inflate(blob, f), args.runs)
            rows.append(f"| inflate only, {name} | {t:.3f} s | {mbps(t)} | {base / t:.2f} |")
        for name, _ in backends:
            t = best(lambda n=name: index(blob, digest, n), args.runs)
            rows.append(f"| **index** (gzip, {name}) | {t:.3f} s | {mbps(t)} | {base / t:.2f} |")
        t = best(lambda: index(zblob, zdigest, None), args.runs)
        rows.append(f"| **index** (zstd, zstandard) | {t:.3f} s | {mbps(t)} | {base / t:.2f} |")
        print("| what | CPU time (best) | throughput (uncompressed) | speed vs baseline |")
        print("|---|---|---|---|")
        print("\n".join(rows))
        print(f"\ngzip binding picked first by oci/layer.gzip_backend(): {L.gzip_backend()[0]}")
        if not args.no_registry:
            print("\n| end to end (real registry, child process) | wall | peak RSS | requests |")
            print("|---|---|---|---|")
            print("\n".join(end_to_end(blob, tar_path, work)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
