"""Registry fixtures as raw bytes with real sha256 digests, and a `responses` fake registry.

Sources (API.md): the 423-byte Docker schema 2 manifest and its 1069-byte config (real digests,
checked below), the nginx 1.27.2 linux/amd64 OCI manifest (real layer digests and sizes; its
config is the abridged capture, so its digest is recomputed here), the 2026 nginx OCI index with
an attestation manifest (child digests recomputed from our bytes), and the 2020 alpine manifest
list shape. Every digest in a header is sha256 of the exact bytes served.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import responses

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"


def sha256(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


# -- the real 423-byte manifest + 1069-byte config pair (API.md B.3.1) ---------------------------

GITEA_CONFIG = (
    b'{"architecture":"amd64","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:'
    b'/usr/bin:/sbin:/bin"],"Cmd":["/true"],"ArgsEscaped":true,"Image":"sha256:9bd8b88dc68b80cff'
    b'e126cc820e4b52c6e558eb3b37680bfee8e5f3ed7b8c257"},"container":"b89fe92a887d55c0961f02bdfbfd'
    b'8ac3ddf66167db374770d2d9e9fab3311510","container_config":{"Hostname":"b89fe92a887d","Env":'
    b'["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh","-c'
    b'","#(nop) ","CMD [\\"/true\\"]"],"ArgsEscaped":true,"Image":"sha256:9bd8b88dc68b80cffe126c'
    b'c820e4b52c6e558eb3b37680bfee8e5f3ed7b8c257"},"created":"2022-01-01T00:00:00.000000000Z","d'
    b'ocker_version":"20.10.12","history":[{"created":"2022-01-01T00:00:00.000000000Z","created_'
    b'by":"/bin/sh -c #(nop) COPY file:0e7589b0c800daaf6fa460d2677101e4676dd9491980210cb345480e51'
    b'3f3602 in /true "},{"created":"2022-01-01T00:00:00.000000001Z","created_by":"/bin/sh -c #(n'
    b'op)  CMD [\\"/true\\"]","empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_'
    b'ids":["sha256:0ff3b91bdf21ecdf2f2f3d4372c2098a14dbe06cd678e8f0a85fd4902d00e2e2"]}}'
)
GITEA_CONFIG_DIGEST = "sha256:4607e093bec406eaadb6f3a340f63400c9d3a7038680744c406903766b938f0d"
GITEA_MANIFEST = (
    b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
    b'"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":'
    b'"sha256:4607e093bec406eaadb6f3a340f63400c9d3a7038680744c406903766b938f0d","size":1069},'
    b'"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":'
    b'"sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4","size":32}]}'
)
GITEA_MANIFEST_DIGEST = "sha256:4f10484d1c1bb13e3956b4de1cd42db8e0f14a75be1617b60f2de3cd59c803c6"
EMPTY_TAR_GZ_DIGEST = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"

# -- nginx 1.27.2 linux/amd64 (API.md B.2 / B.3.1) -----------------------------------------------

NGINX_HISTORY = [
    (
        "/bin/sh -c #(nop) ADD file:90b9dd8f12120e8b2cd3ece45fcbe8af67e40565e2032a40f64bd921c43e2ce7 in / ",  # noqa: E501
        None,
        False,
    ),
    ('/bin/sh -c #(nop)  CMD ["bash"]', None, True),
    (
        "LABEL maintainer=NGINX Docker Maintainers <docker-maint@nginx.com>",
        "buildkit.dockerfile.v0",
        True,
    ),
    ("ENV NGINX_VERSION=1.27.2", "buildkit.dockerfile.v0", True),
    (
        "RUN /bin/sh -c set -x && groupadd --system --gid 101 nginx && ... # buildkit",
        "buildkit.dockerfile.v0",
        False,
    ),
    ("COPY docker-entrypoint.sh / # buildkit", "buildkit.dockerfile.v0", False),
    (
        "COPY 10-listen-on-ipv6-by-default.sh /docker-entrypoint.d # buildkit",
        "buildkit.dockerfile.v0",
        False,
    ),
    (
        "COPY 15-local-resolvers.envsh /docker-entrypoint.d # buildkit",
        "buildkit.dockerfile.v0",
        False,
    ),
    (
        "COPY 20-envsubst-on-templates.sh /docker-entrypoint.d # buildkit",
        "buildkit.dockerfile.v0",
        False,
    ),
    (
        "COPY 30-tune-worker-processes.sh /docker-entrypoint.d # buildkit",
        "buildkit.dockerfile.v0",
        False,
    ),
    ('ENTRYPOINT ["/docker-entrypoint.sh"]', "buildkit.dockerfile.v0", True),
    ("EXPOSE map[80/tcp:{}]", "buildkit.dockerfile.v0", True),
    ("STOPSIGNAL SIGQUIT", "buildkit.dockerfile.v0", True),
    ('CMD ["nginx" "-g" "daemon off;"]', "buildkit.dockerfile.v0", True),
]
NGINX_ENV = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "NGINX_VERSION=1.27.2",
    "NJS_VERSION=0.8.6",
    "NJS_RELEASE=1~bookworm",
    "PKG_RELEASE=1~bookworm",
    "DYNPKG_RELEASE=1~bookworm",
]
NGINX_LAYERS = [
    ("sha256:59c6c2d6ea42254ecad4e9cd70da749b4bea71718e6fc1cd8aedce3df545cc03", 30217611),
    ("sha256:6124ee8476f2fb1f4fed1d8a5c1cec7b996edec4a795b666508ab4f11e3d5ce7", 45378600),
    ("sha256:c694f2db45b5716780d0b49b476830f3d3aec7ffc7981e9c33ef03b9118f702e", 638),
    ("sha256:3d88ef2a9bb1959b3532c0248823c8f7fe6d15778366abfce353bf718b57d6e0", 972),
    ("sha256:8e3c33bfd178b996bed2df61c70102d8683f5ecf16dd768b21fe4cceee15f3c3", 412),
    ("sha256:1cc44349830956f9cc802fbc1eec9c21607734c9ca73bc0ae5c7c21d9a5db496", 1235),
    ("sha256:bcbeed608da55946855988b2c1d73ef30ebe471aa6c1096d5817cb030982f61b", 1443),
]
NGINX_TOTAL = 75_600_911
NGINX_DIFF_IDS = [
    "sha256:98b5f35ea9d3eca6ed1881b5fe5d1e02024e1450822879e4c13bb48c9386d0ad",
    "sha256:b33db0c3c3a85f397c49b1bf862e0472bb39388bd7102c743660c9a22a124597",
    "sha256:63d7ce983cd5c7593c2e2467d6d998bb78ddbc2f98ec5fed7f62d730a7b05a0c",
    "sha256:296af1bd28443744e7092db4d896e9fda5fc63685ce2fcd4e9377d349dd99cc2",
    "sha256:8ce189049cb55c3084f8d48f513a7a6879d668d9e5bd2d4446e3e7ef39ffee60",
    "sha256:6ac729401225c94b52d2714419ebdb0b802d25a838d87498b47f6c5d1ce05963",
    "sha256:e4e9e9ad93c28c67ad8b77938a1d7b49278edb000c5c26c87da1e8a4495862ad",
]


def config_bytes(
    *,
    arch: str = "amd64",
    os_name: str = "linux",
    variant: str | None = None,
    env: list[str] | None = None,
    labels: dict[str, str] | None = None,
    history: list[tuple[str, str | None, bool]] | None = None,
    diff_ids: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> bytes:
    cfg: dict[str, Any] = {"Env": env or ["PATH=/usr/bin"]}
    if labels:
        cfg["Labels"] = labels
    cfg.update(extra or {})
    hist = []
    for created_by, comment, empty in history or []:
        entry: dict[str, Any] = {"created": "2024-10-02T17:55:35Z", "created_by": created_by}
        if comment:
            entry["comment"] = comment
        if empty:
            entry["empty_layer"] = True
        hist.append(entry)
    doc: dict[str, Any] = {
        "architecture": arch,
        "config": cfg,
        "created": "2024-10-02T17:55:35Z",
        "history": hist,
        "os": os_name,
        "rootfs": {"type": "layers", "diff_ids": diff_ids or []},
    }
    if variant:
        doc["variant"] = variant
    return json.dumps(doc, indent=2).encode()


NGINX_CONFIG = config_bytes(
    env=NGINX_ENV,
    labels={"maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>"},
    history=NGINX_HISTORY,
    diff_ids=NGINX_DIFF_IDS,
    extra={
        "ExposedPorts": {"80/tcp": {}},
        "Entrypoint": ["/docker-entrypoint.sh"],
        "Cmd": ["nginx", "-g", "daemon off;"],
        "StopSignal": "SIGQUIT",
        "ArgsEscaped": True,
    },
)


def image_manifest(
    config: bytes,
    layers: list[tuple[str, int]],
    *,
    oci: bool = True,
    annotations: dict[str, str] | None = None,
    indent: int | None = 2,
) -> bytes:
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG if oci else DOCKER_CONFIG,
            "digest": sha256(config),
            "size": len(config),
        },
        "layers": [
            {"mediaType": OCI_LAYER if oci else DOCKER_LAYER, "digest": d, "size": s}
            for d, s in layers
        ],
    }
    if annotations:
        doc["annotations"] = annotations
    return json.dumps(doc, indent=indent).encode()


NGINX_MANIFEST = image_manifest(
    NGINX_CONFIG,
    NGINX_LAYERS,
    annotations={
        "com.docker.official-images.bashbrew.arch": "amd64",
        "org.opencontainers.image.base.digest": "sha256:d83056144b2dd301730d2739635c8cbdeaaae20d6887146434184f8c060f03ce",  # noqa: E501
        "org.opencontainers.image.base.name": "debian:bookworm-slim",
        "org.opencontainers.image.created": "2024-10-02T17:55:35Z",
        "org.opencontainers.image.version": "1.27.2",
    },
)

ARM64_CONFIG = config_bytes(arch="arm64", variant="v8", env=NGINX_ENV, history=NGINX_HISTORY[:2])
ARM64_LAYERS = [("sha256:" + "ab" * 32, 29_000_000)]
ARM64_MANIFEST = image_manifest(ARM64_CONFIG, ARM64_LAYERS)

ATTESTATION_CONFIG = b'{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}'  # noqa: E501
ATTESTATION_MANIFEST = json.dumps(
    {
        "mediaType": OCI_MANIFEST,
        "schemaVersion": 2,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": sha256(ATTESTATION_CONFIG),
            "size": len(ATTESTATION_CONFIG),
        },
        "layers": [
            {
                "mediaType": "application/vnd.in-toto+json",
                "digest": "sha256:133ae3f9bcc385295b66c2d83b28c25a9f294ce20954d5cf922dda860429734a",
                "size": 1234,
                "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"},
            }
        ],
    }
).encode()


def _escaped_compact(obj: Any) -> bytes:
    """Docker Hub style: compact, sorted keys, `/` escaped as `\\/`."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).replace("/", "\\/").encode()


NGINX_INDEX = _escaped_compact(
    {
        "manifests": [
            {
                "annotations": {
                    "com.docker.official-images.bashbrew.arch": "amd64",
                    "org.opencontainers.image.base.name": "debian:bookworm-slim",
                    "org.opencontainers.image.version": "1.27.2",
                },
                "digest": sha256(NGINX_MANIFEST),
                "mediaType": OCI_MANIFEST,
                "platform": {"architecture": "amd64", "os": "linux"},
                "size": len(NGINX_MANIFEST),
            },
            {
                "annotations": {
                    "com.docker.official-images.bashbrew.arch": "amd64",
                    "vnd.docker.reference.digest": sha256(NGINX_MANIFEST),
                    "vnd.docker.reference.type": "attestation-manifest",
                },
                "digest": sha256(ATTESTATION_MANIFEST),
                "mediaType": OCI_MANIFEST,
                "platform": {"architecture": "unknown", "os": "unknown"},
                "size": len(ATTESTATION_MANIFEST),
            },
            {
                "annotations": {"com.docker.official-images.bashbrew.arch": "arm64v8"},
                "digest": sha256(ARM64_MANIFEST),
                "mediaType": OCI_MANIFEST,
                "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
                "size": len(ARM64_MANIFEST),
            },
        ],
        "mediaType": OCI_INDEX,
        "schemaVersion": 2,
    }
)

# A Docker manifest list (2020 alpine shape): amd64 -> the Gitea manifest, arm/v7 -> another.
ARM7_CONFIG = config_bytes(
    arch="arm", variant="v7", history=[("/bin/sh -c #(nop) ADD file:x in / ", None, False)]
)
ARM7_MANIFEST = image_manifest(
    ARM7_CONFIG, [("sha256:" + "cd" * 32, 2_500_000)], oci=False, indent=3
)
DOCKER_LIST_BODY = compact(
    {
        "manifests": [
            {
                "digest": GITEA_MANIFEST_DIGEST,
                "mediaType": DOCKER_MANIFEST,
                "platform": {"architecture": "amd64", "os": "linux"},
                "size": len(GITEA_MANIFEST),
            },
            {
                "digest": sha256(ARM7_MANIFEST),
                "mediaType": DOCKER_MANIFEST,
                "platform": {"architecture": "arm", "os": "linux", "variant": "v7"},
                "size": len(ARM7_MANIFEST),
            },
        ],
        "mediaType": DOCKER_LIST,
        "schemaVersion": 2,
    }
)

SCHEMA1_BODY = compact(
    {
        "schemaVersion": 1,
        "name": "ratelimitpreview/test",
        "tag": "latest",
        "architecture": "amd64",
        "fsLayers": [{"blobSum": EMPTY_TAR_GZ_DIGEST}],
        "history": [{"v1Compatibility": "{}"}],
        "signatures": [],
    }
)

MANIFEST_UNKNOWN = {
    "errors": [
        {"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": "unknown tag=nope"}
    ]
}
NAME_UNKNOWN = {
    "errors": [
        {
            "code": "NAME_UNKNOWN",
            "message": "repository name not known to registry",
            "detail": {"name": "team/nope"},
        }
    ]
}


# -- a fake registry on `responses` ---------------------------------------------------------------


@dataclass
class FakeRegistry:
    """Registers manifest (HEAD by tag, GET by tag and digest) and blob routes."""

    rsps: responses.RequestsMock
    base: str
    repo: str
    manifests: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)

    def url(self, suffix: str) -> str:
        return f"{self.base}/v2/{self.repo}/{suffix}"

    def manifest(
        self, body: bytes, media_type: str, *, tags: tuple[str, ...] = (), digest: str | None = None
    ) -> str:
        digest = digest or sha256(body)
        headers = {"Docker-Content-Digest": digest, "Etag": f'"{digest}"'}
        self.tags.extend(t for t in tags if t not in self.tags)
        for ref in (*tags, digest):
            self.rsps.head(
                self.url(f"manifests/{ref}"),
                content_type=media_type,
                headers={**headers, "Content-Length": str(len(body))},
            )
            self.rsps.get(
                self.url(f"manifests/{ref}"), body=body, content_type=media_type, headers=headers
            )
        return digest

    def without_referrers_api(self) -> None:
        """Like Docker Hub: no referrers API (404), and a tags/list of the tags registered."""
        import re as _re

        self.rsps.get(
            _re.compile(_re.escape(self.url("referrers/")) + ".*"),
            status=404,
            json={"errors": [{"code": "NOT_FOUND", "message": "not found"}]},
        )

        def tag_list(request: Any) -> tuple[int, dict[str, str], str]:
            return 200, {}, json.dumps({"name": self.repo, "tags": list(self.tags)})

        self.rsps.add_callback(
            responses.GET, _re.compile(_re.escape(self.url("tags/list")) + ".*"), callback=tag_list
        )

    def blob(self, body: bytes, digest: str | None = None) -> str:
        digest = digest or sha256(body)
        self.rsps.get(
            self.url(f"blobs/{digest}"),
            body=body,
            content_type="application/octet-stream",
            headers={"Docker-Content-Digest": digest},
        )
        return digest

    def missing(self, ref: str, body: dict[str, Any] | None = None) -> None:
        self.rsps.head(self.url(f"manifests/{ref}"), status=404)
        self.rsps.get(self.url(f"manifests/{ref}"), status=404, json=body or MANIFEST_UNKNOWN)

    def nginx(self, tag: str = "1.27.2") -> None:
        """The nginx index (amd64 + attestation + arm64/v8) with every child and config."""
        self.manifest(NGINX_INDEX, OCI_INDEX, tags=(tag,))
        self.manifest(NGINX_MANIFEST, OCI_MANIFEST)
        self.manifest(ARM64_MANIFEST, OCI_MANIFEST)
        self.manifest(ATTESTATION_MANIFEST, OCI_MANIFEST)
        self.blob(NGINX_CONFIG)
        self.blob(ARM64_CONFIG)

    def gitea(self, tag: str = "1.0") -> None:
        self.manifest(GITEA_MANIFEST, DOCKER_MANIFEST, tags=(tag,))
        self.blob(GITEA_CONFIG)

    def docker_list(self, tag: str = "multi") -> None:
        self.manifest(DOCKER_LIST_BODY, DOCKER_LIST, tags=(tag,))
        self.manifest(GITEA_MANIFEST, DOCKER_MANIFEST)
        self.manifest(ARM7_MANIFEST, DOCKER_MANIFEST)
        self.blob(GITEA_CONFIG)
        self.blob(ARM7_CONFIG)
