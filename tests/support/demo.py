"""The demo registry's images: exactly the images README and docs/*.md use.

Seeded by ``scripts/demo-registry start`` (for people) and by the docs-as-tests session fixture
(tests/integration/test_docs_demo.py), from fixed inputs with fixed dates, so the same output
comes out every time (apart from ``demo/based``, whose base annotation names the registry host).

* ``demo/app:1.0``, ``1.1``, ``2.0``, ``latest``, ``demo/multi:1.0``, ``demo/base:3.19``,
  ``demo/based:1.0``, ``demo/attested:1.0``, ``demo/many:*``: the standard images
  (tests/support/standard_images.py)
* ``demo/files:1.0`` and ``1.1``: the file-index image (whiteouts, an opaque directory, a
  symlink pointing outside, gzip + zstd + plain tar layers) and a later version of it
* ``demo/pkgs:1`` and ``2``: images whose SBOM attestations list different packages
  (tests/support/package_images.py)
* ``demo/signed:1.0``: ``demo/app:1.0`` with a cosign signature by the Ed25519 key whose public
  half is ``examples/cosign.pub`` (the key is derived from a fixed seed: a demo, not a secret)
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.support.layers import directory, file, hardlink, opaque, symlink, whiteout, write_layout
from tests.support.oci_build import OCILayout, random_bytes
from tests.support.package_images import push_pkgs
from tests.support.seeding import RegistryHTTP, push
from tests.support.signing import Attacher, Signer, cosign_payload
from tests.support.standard_images import build_standard_images, seed_registry

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_KEY = ROOT / "examples" / "cosign.pub"
DEFAULT_PORT = 5000

FILES_BASE = [
    directory("etc"),
    file("etc/os-release", "NAME=Demo\nVERSION=1\n"),
    file("etc/old.conf", "old" * 1000),
    directory("var/cache/apt"),
    file("var/cache/apt/pkgcache.bin", bytes(range(256)) * 400),
    file("var/cache/apt/srcpkgcache.bin", b"\0" * 20_000),
    file("usr/bin/tool", b"\x7fELF\x02\x01" + bytes(3000), mode=0o755),
    hardlink("usr/bin/tool-alias", "usr/bin/tool"),
    symlink("bin", "usr/bin"),
    symlink("etc/escape", "../../../../etc/os-release"),
    file("home/user/.profile", "export A=1\n", uid=1000),
]
FILES_MIDDLE = [
    whiteout("etc/old.conf"),
    opaque("var/cache/apt"),
    file("var/cache/apt/new", "fresh"),
    file("etc/os-release", "NAME=Demo\nVERSION=2\n"),
    file("opt/big.bin", random_bytes(50_000, "demo-files-big")),
]
FILES_TOP = [
    whiteout("opt/big.bin"),
    file("etc/motd", "hello\n", mode=0o600),
]
FILES_NEXT = [file("etc/os-release", "NAME=Demo\nVERSION=3\n"), file("new", "1")]


def demo_signer() -> Signer:
    """The demo Ed25519 key (deterministic signatures: the same bytes on every run)."""
    seed = hashlib.sha256(b"hubscope demo signing key").digest()
    return Signer("ed25519", ed25519.Ed25519PrivateKey.from_private_bytes(seed))


def seed_demo(host: str, workdir: Path | None = None) -> None:
    """Push every demo image to the registry at *host* (``127.0.0.1:PORT``)."""
    with tempfile.TemporaryDirectory(prefix="demo-images-") as tmp:
        work = Path(workdir or tmp)
        std = build_standard_images(work / "standard")
        seed_registry(host, std, namespaces=("demo",))
        files = work / "files"
        write_layout(
            files / "1.0", [(FILES_BASE, "gzip"), (FILES_MIDDLE, "zstd"), (FILES_TOP, "tar")]
        )
        write_layout(files / "1.1", [(FILES_BASE, "gzip"), (FILES_NEXT, "gzip")])
        for tag in ("1.0", "1.1"):
            push(f"oci:{files / tag}:latest", f"{host}/demo/files:{tag}", fmt="oci")
        push_pkgs(OCILayout(work / "pkgs"), f"{host}/demo/pkgs:1", f"{host}/demo/pkgs:2")
        push(std.layout.ref("app-1.0"), f"{host}/demo/signed:1.0")
        client = RegistryHTTP(host, None)
        raw, _, _ = client.get_manifest("demo/signed", "1.0")
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        payload = cosign_payload(f"{host}/demo/signed", digest)
        Attacher(client, "demo/signed").cosign_sign(
            digest, [(payload, demo_signer().sign(payload))]
        )


def other_signer() -> Signer:
    """Another key (examples/other.pub): the signature does not verify with it."""
    seed = hashlib.sha256(b"hubscope demo: another key").digest()
    return Signer("ed25519", ed25519.Ed25519PrivateKey.from_private_bytes(seed))


def write_public_keys() -> None:
    """examples/cosign.pub and examples/other.pub (committed; this rewrites them)."""
    PUBLIC_KEY.write_bytes(demo_signer().public_pem)
    (PUBLIC_KEY.parent / "other.pub").write_bytes(other_signer().public_pem)


def free_demo_port(preferred: int | None = DEFAULT_PORT) -> int:
    """*preferred* if it is free, else the next free four-digit port (four digits keep
    `localhost:NNNN` as wide as the documented `localhost:5000`, so tables line up). None: start
    at a random one (tests and docs-update, which may run next to each other)."""
    import random
    import socket

    if preferred is None:
        preferred = random.randrange(5000, 10000)
    for port in [preferred, *range(preferred + 1, 10000), *range(5000, preferred)]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 5000 and 9999")


def registry_argv(state: Path, port: int) -> list[str]:
    """Write the registry's config under *state* and return the command that serves it."""
    from tests.support.registry import _registry_config

    (state / "data").mkdir(parents=True, exist_ok=True)
    config = state / "config.yml"
    config.write_text(_registry_config(state / "data", port, ""))
    return ["docker-registry", "serve", str(config)]


def wait_ready(port: int, alive: object, timeout: float = 30.0) -> None:
    """Until ``/v2/`` answers (or the process died, or *timeout* passed)."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as reply:
                if reply.status == 200:
                    time.sleep(0.2)  # a registry that lost the port race has exited by now
                    if callable(alive) and alive():
                        return
                    raise RuntimeError(f"127.0.0.1:{port} is another process's")
        except OSError:
            pass
        if not callable(alive) or not alive() or time.monotonic() > deadline:
            raise RuntimeError(f"docker-registry did not answer on 127.0.0.1:{port}")
        time.sleep(0.1)
