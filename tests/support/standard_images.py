"""The standard images every integration test can use: the umoci-built ``demo/app`` family and
the pure-Python ones (bases, attested multi-platform images, ``demo/many``), built once
(:func:`build_standard_images`) and seeded into a registry (:func:`seed_registry`).
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.attestations import (
    ProvenanceInfo,
    SbomPackage,
    alpine_packages,
    provenance_statement,
    spdx_statement,
)
from tests.support.oci_build import (
    BASE_DIGEST,
    BASE_NAME,
    DEFAULT_CREATED,
    OCI_MANIFEST,
    Descriptor,
    File,
    FileValue,
    ImageSpec,
    Layer,
    OCILayout,
    Step,
    Symlink,
    _run,
    json_bytes,
    platform_string,
    random_bytes,
    sha256_digest,
)
from tests.support.seeding import ManifestInfo, RegistryHTTP, SeededImages, push, read_back

# --------------------------------------------------------------------------------------------
# The standard images
# --------------------------------------------------------------------------------------------
# demo/many: 1.0.0 .. 1.2.19 (60 tags), -alpine and -slim variants of 1.2.10 .. 1.2.19, and
# aliases (latest/1/1.2 = 1.2.19, alpine = 1.2.19-alpine, slim = 1.2.19-slim).
MANY_VERSIONS = [f"1.{minor}.{patch}" for minor in range(3) for patch in range(20)]
MANY_VARIANT_VERSIONS = [f"1.2.{patch}" for patch in range(10, 20)]
MANY_ALIASES = {
    "latest": "1.2.19",
    "1": "1.2.19",
    "1.2": "1.2.19",
    "alpine": "1.2.19-alpine",
    "slim": "1.2.19-slim",
}

ALPINE_BASE_DIGESTS = {
    # What the "builder" resolved alpine:3.19 to, per platform (recorded in provenance).
    "linux/amd64": sha256_digest(b"alpine:3.19 linux/amd64"),
    "linux/arm64/v8": sha256_digest(b"alpine:3.19 linux/arm64/v8"),
}


@dataclass
class StandardImages:
    """An OCI layout holding every host-independent standard image, tagged for pushing.

    Layout tags: ``app-1.0``, ``app-1.1``, ``app-2.0`` (umoci), ``multi-1.0`` (index),
    ``base-3.19``, ``attested-1.0`` (index with attestations), ``many-plain``,
    ``many-alpine``, ``many-slim``. ``demo/based`` is built per registry by
    :func:`seed_registry` because its base annotation names the registry host.
    """

    layout: OCILayout
    workdir: Path
    statements: dict[str, dict[str, dict[str, Any]]]  # platform -> predicateType -> statement
    provenance: dict[str, ProvenanceInfo]
    sbom_packages: dict[str, list[SbomPackage]]
    build_seconds: float = 0.0


def _umoci(*args: str) -> str:
    return _run(["umoci", *args])


def _stamp(rootfs: Path, hours: int, *written: Path) -> None:
    """Give what was just written (and its directories) a fixed modification time, so umoci
    packs the same tar bytes on every run: digests that do not change between two runs (the
    documentation shows them). *hours* after DEFAULT_CREATED, one step per layer, so a
    directory a layer changes still differs from the one it unpacked."""
    import os
    from datetime import datetime, timedelta

    when = datetime.fromisoformat(DEFAULT_CREATED.replace("Z", "+00:00")) + timedelta(hours=hours)
    stamp = when.timestamp()
    paths: set[Path] = set()
    for path in written:
        paths.add(path)
        paths.update(p for p in path.parents if p == rootfs or rootfs in p.parents)
    for path in sorted(paths, key=lambda p: len(p.parts), reverse=True):
        os.utime(path, (stamp, stamp), follow_symlinks=False)


def _build_app_with_umoci(layout: OCILayout, work: Path) -> None:
    """demo/app 1.0 / 1.1 / 2.0 built with umoci, following the shared recipe."""
    lay = str(layout.path)
    comment = "buildkit.dockerfile.v0"

    def config(tag: str, created_by: str, *opts: str, new_tag: str | None = None) -> None:
        argv = [
            "config",
            "--image",
            f"{lay}:{tag}",
            *opts,
            "--created",
            DEFAULT_CREATED,
            "--history.created",
            DEFAULT_CREATED,
            "--history.created_by",
            created_by,
            "--history.comment",
            comment,
        ]
        if new_tag:
            argv += ["--tag", new_tag]
        _umoci(*argv)

    _umoci("new", "--image", f"{lay}:app-1.0")
    # Layer 1: a tiny base rootfs (shared by 1.0, 1.1 and 2.0).
    bundle = work / "bundle-base"
    _umoci("unpack", "--rootless", "--image", f"{lay}:app-1.0", str(bundle))
    rootfs = bundle / "rootfs"
    (rootfs / "etc").mkdir(parents=True, exist_ok=True)
    (rootfs / "bin").mkdir(parents=True, exist_ok=True)
    (rootfs / "etc" / "os-release").write_text('NAME="Demo Linux"\nID=demo\nVERSION_ID=1.0\n')
    (rootfs / "etc" / "motd").write_text("hello\n")
    (rootfs / "bin" / "sh").write_bytes(random_bytes(60_000, "demo-sh"))
    _stamp(rootfs, 0, rootfs / "etc/os-release", rootfs / "etc/motd", rootfs / "bin/sh")
    _umoci(
        "repack",
        "--history.created",
        DEFAULT_CREATED,
        "--image",
        f"{lay}:app-1.0",
        "--history.created_by",
        "ADD rootfs.tar.gz / # buildkit",
        "--history.comment",
        comment,
        str(bundle),
    )
    config("app-1.0", "ENV PATH=/usr/bin", "--config.env", "PATH=/usr/bin")
    config("app-1.0", "ENV APP=1", "--config.env", "APP=1")
    config("app-1.0", "WORKDIR /app", "--config.workingdir", "/app")
    # Layer 2: the application.
    shutil.rmtree(bundle)
    bundle = work / "bundle-app"
    _umoci("unpack", "--rootless", "--image", f"{lay}:app-1.0", str(bundle))
    app = bundle / "rootfs" / "app"
    app.mkdir(parents=True, exist_ok=True)
    (app / "blob.bin").write_bytes(random_bytes(200_000, "demo-app-blob"))
    (app / "run").write_text("#!/bin/sh\necho running demo app\n")
    _stamp(bundle / "rootfs", 1, app / "blob.bin", app / "run")
    _umoci(
        "repack",
        "--history.created",
        DEFAULT_CREATED,
        "--image",
        f"{lay}:app-1.0",
        "--history.created_by",
        "COPY app/ /app/ # buildkit",
        "--history.comment",
        comment,
        str(bundle),
    )
    config(
        "app-1.0",
        "LABEL org.opencontainers.image.source=https://example.org/app",
        "--config.label",
        "org.opencontainers.image.source=https://example.org/app",
    )
    config("app-1.0", "EXPOSE map[8080/tcp:{}]", "--config.exposedports", "8080/tcp")
    config("app-1.0", "USER 1000", "--config.user", "1000")
    config(
        "app-1.0",
        'ENTRYPOINT ["/bin/sh"]',
        "--config.entrypoint",
        "/bin/sh",
        "--architecture",
        "amd64",
        "--os",
        "linux",
    )
    config("app-1.0", 'CMD ["/app/run"]', "--config.cmd", "/app/run")
    # 1.1 = 1.0 + one more layer.
    shutil.rmtree(bundle)
    bundle = work / "bundle-extra"
    _umoci("unpack", "--rootless", "--image", f"{lay}:app-1.0", str(bundle))
    (bundle / "rootfs" / "app" / "extra.bin").write_bytes(random_bytes(50_000, "demo-extra"))
    _stamp(bundle / "rootfs", 2, bundle / "rootfs" / "app" / "extra.bin")
    _umoci(
        "repack",
        "--history.created",
        DEFAULT_CREATED,
        "--image",
        f"{lay}:app-1.1",
        "--history.created_by",
        "RUN make extra # buildkit",
        "--history.comment",
        comment,
        str(bundle),
    )
    # repack stamps `created` with the wall clock; a fixed date keeps printed relative times
    # ("2 years ago") from changing between two runs of a test (see the result-cache tests).
    _umoci("config", "--image", f"{lay}:app-1.1", "--created", DEFAULT_CREATED, "--no-history")
    shutil.rmtree(bundle)
    # 2.0 = 1.1 with changed env and labels.
    config("app-1.1", "ENV APP=2", "--config.env", "APP=2", new_tag="app-2.0")
    config(
        "app-2.0",
        "LABEL version=2.0 org.opencontainers.image.version=2.0",
        "--config.label",
        "version=2.0",
        "--config.label",
        "org.opencontainers.image.version=2.0",
    )


def _alpine_layer(arch: str) -> dict[str, FileValue]:
    return {
        "etc/alpine-release": "3.19.1\n",
        "etc/os-release": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n',
        "bin/busybox": File(random_bytes(120_000, f"busybox-{arch}"), mode=0o755),
        "bin/sh": Symlink("/bin/busybox"),
        "lib/ld-musl.so.1": random_bytes(30_000, f"musl-{arch}"),
    }


def base_spec(arch: str = "amd64", *, revision: str = "1") -> ImageSpec:
    """The ``demo/base:3.19`` image (alpine-like). Change *revision* to get a new digest
    with the same first layer (e.g. to simulate a rebuilt base)."""
    steps: list[Layer | Step] = [
        Layer(
            _alpine_layer(arch),
            created_by="/bin/sh -c #(nop) ADD file:alpine-minirootfs-3.19.1.tar.gz in / ",
            comment=None,
        ),
        Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]', comment=None),
    ]
    if revision != "1":
        steps.append(Layer({"etc/revision": revision}, created_by=f"RUN echo {revision}"))
    return ImageSpec(
        steps=steps,
        cmd=["/bin/sh"],
        platform="linux/amd64" if arch == "amd64" else "linux/arm64/v8",
        labels={"org.opencontainers.image.version": "3.19.1"},
    )


def attested_spec(arch: str) -> ImageSpec:
    plat = "linux/amd64" if arch == "amd64" else "linux/arm64/v8"
    return ImageSpec(
        steps=[
            Layer(
                _alpine_layer(arch),
                created_by="/bin/sh -c #(nop) ADD file:alpine-minirootfs-3.19.1.tar.gz in / ",
                comment=None,
            ),
            Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]', comment=None),
            Step("ARG VERSION=1.0"),
            Step("ENV SERVICE_VERSION=1.0"),
            Layer(
                {"srv/service": File(random_bytes(40_000, f"service-{arch}"), mode=0o755)},
                created_by="COPY service /srv/service # buildkit",
            ),
            Step('ENTRYPOINT ["/srv/service"]'),
        ],
        env=[
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "SERVICE_VERSION=1.0",
        ],
        entrypoint=["/srv/service"],
        labels={"org.opencontainers.image.source": "https://github.com/example/attested"},
        platform=plat,
    )


def many_spec(variant: str) -> ImageSpec:
    """Tiny image for the many-tags repo; *variant* is "plain", "alpine" or "slim"."""
    return ImageSpec(
        steps=[
            Layer(
                {"etc/flavour": variant + "\n", "opt/tool": random_bytes(2_000, f"many-{variant}")},
                created_by="COPY . / # buildkit",
            ),
            Step('CMD ["/opt/tool"]'),
        ],
        cmd=["/opt/tool"],
    )


def build_standard_images(workdir: str | Path) -> StandardImages:
    """Build every host-independent standard image into ``workdir/oci`` (about a second)."""
    t0 = time.monotonic()
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    lay_path = work / "oci"
    if lay_path.exists():
        shutil.rmtree(lay_path)
    _umoci("init", "--layout", str(lay_path))
    layout = OCILayout(lay_path)
    _build_app_with_umoci(layout, work)

    # demo/multi:1.0 = app-1.0 (amd64) + an arm64/v8 sibling with its own app layer.
    amd64 = layout.resolve("app-1.0").replace(platform={"architecture": "amd64", "os": "linux"})
    arm64 = layout.derive_image(
        layout.resolve("app-1.0"),
        platform="linux/arm64/v8",
        replace_layers={
            1: (
                {
                    "app/blob.bin": random_bytes(180_000, "demo-app-blob-arm64"),
                    "app/run": "#!/bin/sh\necho running demo app on arm64\n",
                },
                "COPY app/ /app/ # buildkit",
            )
        },
    )
    layout.add_index([amd64, arm64], tag="multi-1.0")

    # demo/base:3.19 (its first layer is shared with demo/based:1.0).
    layout.add_image(base_spec("amd64"), tag="base-3.19")

    # demo/attested:1.0: index of amd64 + arm64/v8 + one attestation manifest per platform.
    statements: dict[str, dict[str, dict[str, Any]]] = {}
    provenance: dict[str, ProvenanceInfo] = {}
    sbom: dict[str, list[SbomPackage]] = {}
    images: list[Descriptor] = []
    attestations: list[Descriptor] = []
    for arch in ("amd64", "arm64"):
        built = layout.add_image(attested_spec(arch))
        plat = platform_string(built.descriptor.platform)
        subject = f"pkg:docker/demo/attested@1.0?platform={urllib.parse.quote(plat, safe='')}"
        info = ProvenanceInfo(
            builder_id="https://github.com/example/attested/actions/runs/1234567890",
            build_type="https://mobyproject.org/buildkit@v1",
            source_uri="https://github.com/example/attested.git#refs/heads/main",
            source_sha1="6a4c0cb4ac7e53bbbe473df71b61a5bf9f95252f",
            entry_point="Dockerfile",
            build_args={"VERSION": "1.0", "BUILDKIT_CONTEXT_KEEP_GIT_DIR": "1"},
            base_image_purl="pkg:docker/alpine@3.19?platform=" + urllib.parse.quote(plat, safe=""),
            base_image_digest=ALPINE_BASE_DIGESTS[plat],
            started_on="2024-05-01T11:58:01.123456789Z",
            finished_on="2024-05-01T11:59:12.987654321Z",
            platform=plat,
        )
        pkgs = alpine_packages(arch)
        sts = [
            spdx_statement(subject, built.digest, pkgs, document_name=f"attested-{arch}"),
            provenance_statement(subject, built.digest, info),
        ]
        images.append(built.descriptor)
        attestations.append(layout.add_attestation_manifest(built.descriptor, sts))
        statements[plat] = {st["predicateType"]: st for st in sts}
        provenance[plat] = info
        sbom[plat] = pkgs
    layout.add_index(images + attestations, tag="attested-1.0")

    # demo/many: three small images.
    for variant in ("plain", "alpine", "slim"):
        layout.add_image(many_spec(variant), tag=f"many-{variant}")

    layout.gc()
    return StandardImages(
        layout=layout,
        workdir=work,
        statements=statements,
        provenance=provenance,
        sbom_packages=sbom,
        build_seconds=time.monotonic() - t0,
    )


def based_spec(base_ref: str, base_digest: str, arch: str = "amd64") -> ImageSpec:
    """``demo/based:1.0``: the base image's layer + one app layer, with base annotations."""
    base = base_spec(arch)
    return ImageSpec(
        steps=[
            *base.steps,
            Step("WORKDIR /srv"),
            Layer(
                {
                    "srv/app.py": "print('based on base')\n",
                    "srv/data.bin": random_bytes(20_000, "based-data"),
                },
                created_by="COPY . /srv # buildkit",
            ),
            Step('CMD ["python3", "/srv/app.py"]'),
        ],
        workdir="/srv",
        cmd=["python3", "/srv/app.py"],
        platform=base.platform,
        annotations={
            BASE_NAME: base_ref,
            BASE_DIGEST: base_digest,
            "org.opencontainers.image.created": DEFAULT_CREATED,
            "org.opencontainers.image.version": "1.0",
        },
    )


def _with_annotation(raw: bytes, key: str, value: str) -> bytes:
    doc = json.loads(raw)
    doc.setdefault("annotations", {})[key] = value
    return json_bytes(doc)


def seed_registry(
    host: str,
    std: StandardImages,
    *,
    namespaces: Sequence[str] = ("demo",),
    creds: tuple[str, str] | None = None,
    workers: int = 4,
) -> SeededImages:
    """Push the standard images to *host* under each namespace (``demo/app:1.0``, ...).

    Returns a :class:`SeededImages` read back from the registry. Typical cost: about a second
    per namespace (skopeo pushes run *workers* at a time; the many-tag repo is filled with
    manifest PUTs).
    """
    t0 = time.monotonic()
    layout = std.layout
    client = RegistryHTTP(host, creds)
    seeded = SeededImages(host=host)
    # (layout tag, repo:tag, skopeo format, --all); ordered so shared layers upload once.
    copies_for: list[tuple[str, str, str | None, bool]] = []
    for ns in namespaces:
        copies_for += [
            ("app-1.0", f"{ns}/app:1.0", None, False),
            ("app-1.0", f"{ns}/app:1.0-v2s2", "v2s2", False),
            ("app-1.1", f"{ns}/app:1.1", None, False),
            ("app-2.0", f"{ns}/app:2.0", None, False),
            ("app-2.0", f"{ns}/app:latest", None, False),
            ("multi-1.0", f"{ns}/multi:1.0", "oci", True),
            ("multi-1.0", f"{ns}/multi:1.0-v2s2", "v2s2", True),
            ("attested-1.0", f"{ns}/attested:1.0", "oci", True),
            ("base-3.19", f"{ns}/base:3.19", None, False),
            ("many-plain", f"{ns}/many:{MANY_VERSIONS[0]}", None, False),
            ("many-alpine", f"{ns}/many:{MANY_VARIANT_VERSIONS[0]}-alpine", None, False),
            ("many-slim", f"{ns}/many:{MANY_VARIANT_VERSIONS[0]}-slim", None, False),
        ]

    # Distribution 2.8 is not safe against concurrent uploads of the same blob into the same
    # repository (seen here: "digest invalid" / "manifest blob unknown" on the manifest PUT).
    # So copies into one repository run in order; different repositories run in parallel.
    by_repo: dict[str, list[tuple[str, str, str | None, bool]]] = {}
    for item in copies_for:
        by_repo.setdefault(item[1].rpartition(":")[0], []).append(item)

    def copy_group(items: list[tuple[str, str, str | None, bool]]) -> None:
        for tag, dest, fmt, all_ in items:
            push(layout.ref(tag), f"{host}/{dest}", creds=creds, fmt=fmt, all=all_)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(copy_group, by_repo.values()))

    # demo/based:1.0 needs the pushed base digest and this registry's host name.
    # (OCI→OCI copies keep bytes, so the layout digest is the registry digest.)
    base_digest = layout.resolve("base-3.19").digest
    for ns in namespaces:
        spec = based_spec(f"{host}/{ns}/base:3.19", base_digest)
        tag = f"based-1.0-{ns.replace('/', '-')}-{host.replace(':', '-')}"
        layout.add_image(spec, tag=tag)
        push(layout.ref(tag), f"{host}/{ns}/based:1.0", creds=creds)

    # demo/many: one manifest per tag (the version annotation makes each digest unique).
    many_known: dict[str, tuple[bytes, str]] = {}
    for ns in namespaces:
        repo = f"{ns}/many"
        bases = {
            v: layout.read_blob(layout.resolve(f"many-{v}").digest)
            for v in ("plain", "alpine", "slim")
        }
        wanted: dict[str, bytes] = {}
        for v in MANY_VERSIONS:
            wanted[v] = _with_annotation(bases["plain"], "org.opencontainers.image.version", v)
        for v in MANY_VARIANT_VERSIONS:
            for flavour in ("alpine", "slim"):
                t = f"{v}-{flavour}"
                wanted[t] = _with_annotation(bases[flavour], "org.opencontainers.image.version", t)
        for alias, target in MANY_ALIASES.items():
            wanted[alias] = wanted[target]
        for t, raw in wanted.items():
            client.put_manifest(repo, t, raw, OCI_MANIFEST)
            many_known[f"{repo}:{t}"] = (raw, OCI_MANIFEST)

    # Read back what the registry now serves.
    keys = [dest for _, dest, _, _ in copies_for if "/many:" not in dest]
    keys += [f"{ns}/based:1.0" for ns in namespaces]
    many_configs: dict[str, Mapping[str, Any]] = {}
    for key in keys:
        repo, _, tag = key.rpartition(":")
        seeded.images[key] = read_back(client, repo, tag)
    for key, known in many_known.items():
        repo, _, tag = key.rpartition(":")
        cfg_digest = json.loads(known[0])["config"]["digest"]
        if cfg_digest not in many_configs:
            many_configs[cfg_digest] = json.loads(layout.read_blob(cfg_digest))
        seeded.images[key] = ManifestInfo(
            repo=repo,
            reference=tag,
            digest=sha256_digest(known[0]),
            media_type=known[1],
            raw=known[0],
            config=many_configs[cfg_digest],
        )
    for ns in namespaces:
        for plat, sts in std.statements.items():
            seeded.statements[(f"{ns}/attested:1.0", plat)] = sts
    seeded.provenance = dict(std.provenance)
    seeded.sbom_packages = dict(std.sbom_packages)
    seeded.seconds = time.monotonic() - t0
    return seeded
