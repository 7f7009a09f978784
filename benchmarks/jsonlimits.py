#!/usr/bin/env python
"""Cost of the bounded JSON loader's nesting pre-scan (oci/jsonlimits.py) on big documents.

    python benchmarks/jsonlimits.py [--runs 7] [--old PATH_TO_OLD_jsonlimits.py]

Builds an ~8 MiB Hub tags page (every tag name with an escaped quote, a backslash and brackets,
the pessimistic case for the pre-scan), the same page with plain names, a ~4 MiB OCI manifest,
and two hostile bodies (8,000,000 deep; 8 MiB of `[],` two deep). Prints medians in ms of the
pre-scan alone, `json.loads`, and `jsonlimits.loads` (and, with --old, the loader given, e.g.
`git show main:dockerhub_cli/oci/jsonlimits.py > /tmp/old.py`, in the same run). Asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dockerhub_cli.oci import jsonlimits  # noqa: E402


def tags_page(target: int, name: str) -> bytes:
    results: list[dict[str, Any]] = []
    while True:
        i = len(results)
        image = {
            "architecture": "amd64",
            "digest": f"sha256:{i:064x}",
            "os": "linux",
            "size": 54_321_000 + i,
            "status": "active",
            "last_pulled": "2026-11-30T12:00:00.000000Z",
            "last_pushed": "2026-11-29T12:00:00.000000Z",
            "variant": None,
        }
        results.append(
            {
                "id": 100_000 + i,
                "images": [dict(image, architecture=a) for a in ("amd64", "arm64", "arm", "s390x")],
                "last_updated": "2026-11-29T12:00:00.000000Z",
                "last_updater_username": "doijanky",
                "name": name.format(i=i),
                "full_size": 54_321_000,
                "v2": True,
                "tag_status": "active",
                "media_type": "application/vnd.oci.image.index.v1+json",
                "digest": f"sha256:{i:064x}",
            }
        )
        if i % 500 == 0:
            body = json.dumps({"count": 10**6, "next": None, "results": results}).encode()
            if len(body) >= target:
                return body


def manifest(target: int) -> bytes:
    layers: list[dict[str, Any]] = []
    while True:
        i = len(layers)
        layers.append(
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": f"sha256:{i:064x}",
                "size": 1_234_567 + i,
                "annotations": {"org.opencontainers.image.title": f"layer-{i}.tar.gz"},
            }
        )
        if i % 500 == 0:
            body = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"digest": "sha256:" + "a" * 64, "size": 7023},
                    "layers": layers,
                }
            ).encode()
            if len(body) >= target:
                return body


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        try:
            fn()
        except ValueError:
            pass
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--old", type=Path)
    args = parser.parse_args()
    old: Any = None
    if args.old:
        spec = importlib.util.spec_from_file_location("old_jsonlimits", args.old)
        assert spec and spec.loader
        old = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(old)
    docs = [
        ("tags page, hostile names", tags_page(8 << 20, '1.{i}.0 \\"q\\" \\\\ [x]')),
        ("tags page, plain names", tags_page(8 << 20, "1.{i}.0-bookworm")),
        ("manifest", manifest(4 << 20)),
    ]
    for label, body in docs:
        cols = [
            ("pre-scan", lambda b=body: jsonlimits._nesting_depth_exceeds(b, jsonlimits.MAX_DEPTH)),
            ("json.loads", lambda b=body: json.loads(b)),
            ("jsonlimits.loads", lambda b=body: jsonlimits.loads(b)),
        ]
        if old is not None:
            cols.append(("old jsonlimits.loads", lambda b=body: old.loads(b)))
        line = "  ".join(f"{name} {median_ms(fn, args.runs):6.1f} ms" for name, fn in cols)
        print(f"{label:26} {len(body) / 2**20:5.2f} MiB  {line}")
    hostile = [
        ("8,000,000 deep", b'{"results":' + b"[" * 8_000_000 + b"]" * 8_000_000 + b"}"),
        ("8 MiB of [], two deep", b"[" + b"[]," * 2_800_000 + b"[]]"),
    ]
    for label, body in hostile:
        pre = median_ms(lambda b=body: jsonlimits._nesting_depth_exceeds(b, 64), args.runs)
        ms = median_ms(lambda b=body: jsonlimits.loads(b), args.runs)
        size = len(body) / 2**20
        print(f"{label:26} {size:5.2f} MiB  pre-scan {pre:6.1f} ms  jsonlimits.loads {ms:6.1f} ms")


if __name__ == "__main__":
    main()
