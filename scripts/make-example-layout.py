#!/usr/bin/env python3
"""Write examples/hello-oci: a small OCI image layout for README's first command.

    python3 scripts/make-example-layout.py [OUTPUT_DIR]    (default: examples/hello-oci)

Pure Python (standard library only), offline, deterministic: the same bytes on every run
(tests/unit/test_example_layout.py rebuilds it and compares). What it holds, tagged `1.0`:

* an OCI image index for linux/amd64 and linux/arm64/v8, each image two gzip layers (one per
  platform, one shared), a config with BuildKit-style history (nanosecond timestamps, as
  BuildKit writes them), labels, Entrypoint/Cmd, a healthcheck and SHELL;
* per platform, a BuildKit attestation manifest (unknown/unknown, `vnd.docker.reference.*`
  annotations) with an in-toto SPDX 2.3 SBOM and a SLSA v0.2 provenance statement.

    dockerhub inspect oci:examples/hello-oci:1.0
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
IN_TOTO = "application/vnd.in-toto+json"
TAG = "1.0"
NAME = "docker.io/library/hello-oci"
CREATED = "2026-01-15T09:30:00.123456789Z"
MTIME = 1768469400  # CREATED, for the tar headers
SOURCE = "https://github.com/example/hello-oci"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
PLATFORMS = (("amd64", None, "x86_64"), ("arm64", "v8", "aarch64"))


class Layout:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True)

    def blob(self, data: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        (self.root / "blobs" / "sha256" / digest[7:]).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data), **extra}

    def json(self, obj: Any, media_type: str, **extra: Any) -> dict[str, Any]:
        return self.blob(canonical(obj), media_type, **extra)


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=False).encode() + b"\n"


def layer(files: dict[str, str]) -> tuple[bytes, str]:
    """A gzip tar of `files` (fixed owners and times) and its diff_id."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = sorted(
            {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}
        )
        for d in dirs:
            info = tarfile.TarInfo(d + "/")
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, MTIME
            tar.addfile(info)
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = (
                len(data),
                0o755 if path.endswith(".sh") else 0o644,
                MTIME,
            )
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    diff_id = "sha256:" + hashlib.sha256(tar_bytes).hexdigest()
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(tar_bytes)
    return packed.getvalue(), diff_id


def image(layout: Layout, arch: str, variant: str | None, uname: str) -> dict[str, Any]:
    shared, shared_diff = layer(
        {
            "app/hello.sh": '#!/bin/sh\necho "hello from $(cat /etc/hello-arch)"\n',
            "app/README": "A tiny example image for dockerhub-cli.\n",
        }
    )
    own, own_diff = layer({"etc/hello-arch": f"{uname}\n"})
    layers = [
        layout.blob(own, OCI_LAYER),
        layout.blob(shared, OCI_LAYER),
    ]
    config = {
        "created": CREATED,
        "architecture": arch,
        **({"variant": variant} if variant else {}),
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Entrypoint": ["/bin/sh", "/app/hello.sh"],
            "Cmd": ["--greet"],
            "WorkingDir": "/app",
            "User": "1000:1000",
            "Labels": {
                "org.opencontainers.image.source": SOURCE,
                "org.opencontainers.image.revision": COMMIT,
                "org.opencontainers.image.title": "hello-oci",
            },
            "Shell": ["/bin/sh", "-eu", "-c"],
            "Healthcheck": {"Test": ["CMD", "/bin/sh", "/app/hello.sh"], "Interval": 30000000000},
        },
        "rootfs": {"type": "layers", "diff_ids": [own_diff, shared_diff]},
        "history": [
            {
                "created": CREATED,
                "created_by": f"COPY hello-arch-{uname} /etc/hello-arch # buildkit",
                "comment": "buildkit.dockerfile.v0",
            },
            {
                "created": CREATED,
                "created_by": "COPY app/ /app/ # buildkit",
                "comment": "buildkit.dockerfile.v0",
            },
            {
                "created": CREATED,
                "created_by": 'SHELL ["/bin/sh", "-eu", "-c"]',
                "comment": "buildkit.dockerfile.v0",
                "empty_layer": True,
            },
            {
                "created": CREATED,
                "created_by": 'ENTRYPOINT ["/bin/sh" "/app/hello.sh"]',
                "comment": "buildkit.dockerfile.v0",
                "empty_layer": True,
            },
        ],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": layout.json(config, OCI_CONFIG),
        "layers": layers,
    }
    platform = {"architecture": arch, "os": "linux", **({"variant": variant} if variant else {})}
    return layout.json(manifest, OCI_MANIFEST, platform=platform)


def statement(subject: dict[str, Any], predicate_type: str, predicate: Any) -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": predicate_type,
        "subject": [
            {
                "name": f"pkg:docker/{NAME.removeprefix('docker.io/')}@{TAG}?platform="
                + "linux%2F"
                + subject["platform"]["architecture"],
                "digest": {"sha256": subject["digest"][7:]},
            }
        ],
        "predicate": predicate,
    }


def sbom(arch: str) -> dict[str, Any]:
    def package(n: int, name: str, version: str, license_: str, purl: str) -> dict[str, Any]:
        return {
            "name": name,
            "SPDXID": f"SPDXRef-Package-{n}-{name}",
            "versionInfo": version,
            "downloadLocation": "NOASSERTION",
            "licenseConcluded": license_,
            "licenseDeclared": license_,
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": purl,
                }
            ],
        }

    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "sbom",
        "documentNamespace": f"https://example.org/spdxdocs/hello-oci-{arch}",
        "creationInfo": {
            "creators": ["Tool: scripts/make-example-layout.py"],
            "created": CREATED[:19] + "Z",
        },
        "packages": [
            package(
                0,
                "busybox",
                "1.37.0-r12",
                "GPL-2.0-only",
                f"pkg:apk/alpine/busybox@1.37.0-r12?arch={arch}&distro=alpine-3.22",
            ),
            package(
                1,
                "musl",
                "1.2.5-r10",
                "MIT",
                f"pkg:apk/alpine/musl@1.2.5-r10?arch={arch}&distro=alpine-3.22",
            ),
        ],
    }


def provenance() -> dict[str, Any]:
    return {
        "builder": {"id": ""},
        "buildType": "https://mobyproject.org/buildkit@v1",
        "materials": [],
        "invocation": {
            "configSource": {
                "uri": f"{SOURCE}.git#main",
                "digest": {"sha1": COMMIT},
                "entryPoint": "Dockerfile",
            },
            "parameters": {"frontend": "dockerfile.v0", "args": {"build-arg:GREETING": "hello"}},
        },
        "metadata": {
            "buildInvocationID": "hello-oci-example",
            "buildStartedOn": "2026-01-15T09:29:58.5Z",
            "buildFinishedOn": CREATED,
            "completeness": {"parameters": True, "environment": True, "materials": False},
            "reproducible": False,
        },
    }


def attestation(layout: Layout, subject: dict[str, Any]) -> dict[str, Any]:
    arch = subject["platform"]["architecture"]
    layers = [
        layout.json(
            statement(subject, "https://spdx.dev/Document", sbom(arch)),
            IN_TOTO,
            annotations={"in-toto.io/predicate-type": "https://spdx.dev/Document"},
        ),
        layout.json(
            statement(subject, "https://slsa.dev/provenance/v0.2", provenance()),
            IN_TOTO,
            annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
        ),
    ]
    config = {
        "architecture": "unknown",
        "os": "unknown",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in layers]},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": layout.json(config, OCI_CONFIG),
        "layers": layers,
    }
    return layout.json(
        manifest,
        OCI_MANIFEST,
        annotations={
            "vnd.docker.reference.digest": subject["digest"],
            "vnd.docker.reference.type": "attestation-manifest",
        },
        platform={"architecture": "unknown", "os": "unknown"},
    )


def build(root: Path) -> None:
    if root.exists():
        shutil.rmtree(root)
    layout = Layout(root)
    images = [image(layout, arch, variant, uname) for arch, variant, uname in PLATFORMS]
    attestations = [attestation(layout, d) for d in images]
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": images + attestations,
        "annotations": {"org.opencontainers.image.created": CREATED},
    }
    top = layout.json(
        index,
        OCI_INDEX,
        annotations={
            "io.containerd.image.name": f"{NAME}:{TAG}",
            "org.opencontainers.image.ref.name": TAG,
        },
    )
    (root / "oci-layout").write_bytes(canonical({"imageLayoutVersion": "1.0.0"}))
    (root / "index.json").write_bytes(
        canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]})
    )


if __name__ == "__main__":
    out = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parent.parent / "examples" / "hello-oci"
    )
    build(out)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({total} bytes)")
