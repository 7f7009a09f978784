"""Custom images for individual tests: :class:`ImagePusher` builds an :class:`ImageSpec` and
pushes it in one call.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from tests.support.attestations import (
    ProvenanceInfo,
    alpine_packages,
    provenance_statement,
    spdx_statement,
)
from tests.support.oci_build import (
    DEFAULT_CREATED,
    Descriptor,
    ImageSpec,
    OCILayout,
    platform_string,
    sha256_digest,
)
from tests.support.seeding import ManifestInfo, RegistryHTTP, http_push, push, read_back
from tests.support.standard_images import ALPINE_BASE_DIGESTS


# --------------------------------------------------------------------------------------------
# Custom images for individual tests
# --------------------------------------------------------------------------------------------
class ImagePusher:
    """Build images from :class:`ImageSpec` and push them to a registry in one call.

    >>> pusher.push_image("t/x:1", ImageSpec(steps=[Layer({"a": "1"}), Step("ENV X=1")],
    ...                                      env=["X=1"]))
    ManifestInfo(...)
    >>> pusher.push_index("t/x:multi", [spec_amd64, spec_arm64], attest=True)
    """

    def __init__(
        self,
        workdir: str | Path,
        host: str,
        creds: tuple[str, str] | None = None,
        *,
        namespace: str = "custom",
    ) -> None:
        self.workdir = Path(workdir)
        self.layout = OCILayout(self.workdir / "oci")
        self.host = host
        self.creds = creds
        self.namespace = namespace
        self.client = RegistryHTTP(host, creds)
        self._n = 0

    def repo(self, name: str) -> str:
        """A repository name private to this pusher: ``<namespace>/<name>``."""
        return f"{self.namespace}/{name}"

    def ref(self, name: str) -> str:
        """``repo:tag`` -> ``HOST:PORT/repo:tag`` (for the CLI under test)."""
        return f"{self.host}/{name}"

    def _tag(self) -> str:
        self._n += 1
        return f"custom-{self._n}"

    def push_image(self, name: str, spec: ImageSpec, *, fmt: str | None = None) -> ManifestInfo:
        """Build *spec* and push it as ``name`` (``repo:tag``); returns what the registry serves.

        OCI specs go through ``skopeo copy`` (*fmt* ``"v2s2"`` converts); ``spec.docker``
        specs are pushed byte for byte over HTTP (skopeo's ``oci:`` transport ignores them).
        """
        tag = self._tag()
        built = self.layout.add_image(spec, tag=tag)
        repo, _, ref = name.rpartition(":")
        if spec.docker:
            http_push(self.client, self.layout, built.descriptor, repo, ref)
        else:
            push(self.layout.ref(tag), f"{self.host}/{name}", creds=self.creds, fmt=fmt)
        return read_back(self.client, repo, ref)

    def push_index(
        self,
        name: str,
        specs: Sequence[ImageSpec],
        *,
        attest: bool = False,
        annotations: Mapping[str, str] | None = None,
        fmt: str | None = None,
    ) -> ManifestInfo:
        """Build a multi-platform index (optionally with SBOM + provenance attestations).

        With ``docker=True`` specs this makes a Docker manifest list pushed over HTTP
        (attestations are an OCI-only feature, so *attest* is refused then).
        """
        docker = any(s.docker for s in specs)
        if docker and (attest or annotations or fmt):
            raise ValueError("Docker manifest lists take no attestations/annotations/fmt")
        built = [self.layout.add_image(s) for s in specs]
        entries: list[Descriptor] = [b.descriptor for b in built]
        if attest:
            for b in built:
                plat = platform_string(b.descriptor.platform)
                q = urllib.parse.quote(plat, safe="")
                subject = (
                    f"pkg:docker/{name.rpartition(':')[0]}@{name.rpartition(':')[2]}?platform={q}"
                )
                arch = str(b.descriptor.platform["architecture"]) if b.descriptor.platform else ""
                info = ProvenanceInfo(
                    builder_id="https://example.org/ci/run/1",
                    build_type="https://mobyproject.org/buildkit@v1",
                    source_uri="https://github.com/example/custom.git#refs/heads/main",
                    source_sha1="0" * 40,
                    entry_point="Dockerfile",
                    build_args={},
                    base_image_purl=f"pkg:docker/alpine@3.19?platform={q}",
                    base_image_digest=ALPINE_BASE_DIGESTS.get(plat, sha256_digest(plat.encode())),
                    started_on=DEFAULT_CREATED,
                    finished_on=DEFAULT_CREATED,
                    platform=plat,
                )
                sts = [
                    spdx_statement(subject, b.digest, alpine_packages(arch)),
                    provenance_statement(subject, b.digest, info),
                ]
                entries.append(self.layout.add_attestation_manifest(b.descriptor, sts))
        tag = self._tag()
        index = self.layout.add_index(entries, annotations=annotations, docker=docker, tag=tag)
        repo, _, ref = name.rpartition(":")
        if docker:
            http_push(self.client, self.layout, index, repo, ref)
        else:
            push(
                self.layout.ref(tag),
                f"{self.host}/{name}",
                creds=self.creds,
                fmt=fmt or "oci",
                all=True,
            )
        return read_back(self.client, repo, ref)

    def push_raw(self, name: str, raw: bytes, media_type: str) -> str:
        """PUT manifest bytes directly (blobs must already be in the repository)."""
        repo, _, ref = name.rpartition(":")
        return self.client.put_manifest(repo, ref, raw, media_type)

    def read(self, name: str) -> ManifestInfo:
        repo, _, ref = name.rpartition(":")
        return read_back(self.client, repo, ref)


def iter_blobs(info: ManifestInfo) -> Iterable[str]:
    """Every blob digest referenced by *info* (configs and layers, recursively)."""
    if info.is_index:
        for c in info.children:
            yield from iter_blobs(c)
    else:
        m = info.manifest
        yield m["config"]["digest"]
        for lay in m.get("layers", []):
            yield lay["digest"]
