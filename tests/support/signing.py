"""Sign images and attach artifacts the way cosign, oras and the OCI 1.1 tag fallback do.

* :class:`Signer`: a generated key pair (ECDSA P-256, RSA or Ed25519) with cosign's signature
  algorithms (ECDSA/SHA-256 DER, RSA PKCS#1 v1.5/SHA-256, Ed25519 over the payload).
* :func:`cosign_payload`: the "simple signing" payload cosign signs (`critical.identity.
  docker-reference`, `critical.image.docker-manifest-digest`, `critical.type`).
* :class:`Attacher`: pushes, to a real registry through :class:`RegistryHTTP`,

  - cosign signature manifests under the `sha256-<hex>.sig` tag (one layer per signature,
    media type `application/vnd.dev.cosign.simplesigning.v1+json`, the base64 signature in the
    `dev.cosignproject.cosign/signature` annotation), exactly as `cosign sign --key` writes them;
  - OCI 1.1 artifacts (`artifactType`, empty config, `subject`) plus the referrers *tag
    fallback*: the index under `sha256-<hex>` that lists every referrer of that subject, updated
    the way oras and cosign do when a registry has no referrers API.

* Documents: SPDX 2.3 and CycloneDX 1.5 JSON SBOMs with syft's shapes (purl `distro`
  qualifiers, the CycloneDX operating-system component) and OpenVEX v0.2.0 documents.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from .images import OCI_INDEX, OCI_MANIFEST, ImageBuildError, RegistryHTTP, json_bytes

COSIGN_SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_SIGNATURE = "dev.cosignproject.cosign/signature"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
SPDX_JSON = "application/spdx+json"
CYCLONEDX_JSON = "application/vnd.cyclonedx+json"
OPENVEX_JSON = "application/vnd.openvex+json"
NOTATION_SIGNATURE = "application/vnd.cncf.notary.signature"

KeyKind = Literal["ecdsa", "rsa", "ed25519"]


# --------------------------------------------------------------------------------------------
# Keys and payloads
# --------------------------------------------------------------------------------------------
@dataclass
class Signer:
    kind: KeyKind
    private_key: Any

    @classmethod
    def generate(cls, kind: KeyKind = "ecdsa") -> Signer:
        if kind == "ecdsa":
            return cls(kind, ec.generate_private_key(ec.SECP256R1()))
        if kind == "rsa":
            return cls(kind, rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return cls(kind, ed25519.Ed25519PrivateKey.generate())

    @property
    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, payload: bytes) -> bytes:
        if self.kind == "ecdsa":
            return bytes(self.private_key.sign(payload, ec.ECDSA(hashes.SHA256())))
        if self.kind == "rsa":
            return bytes(self.private_key.sign(payload, padding.PKCS1v15(), hashes.SHA256()))
        return bytes(self.private_key.sign(payload))


def cosign_payload(docker_reference: str, digest: str, **optional: str) -> bytes:
    """cosign's simple-signing payload (compact JSON, as `cosign sign` uploads it)."""
    return json_bytes(
        {
            "critical": {
                "identity": {"docker-reference": docker_reference},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": dict(optional) or None,
        }
    )


def fallback_tag(digest: str, suffix: str = "") -> str:
    return digest.replace(":", "-", 1) + suffix


# --------------------------------------------------------------------------------------------
# Pushing signatures and referrers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pushed:
    """A manifest pushed by digest: its descriptor as a referrers index lists it."""

    media_type: str
    digest: str
    size: int
    artifact_type: str | None = None
    annotations: Mapping[str, str] | None = None

    def descriptor(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            d["artifactType"] = self.artifact_type
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        return d


class Attacher:
    """Attach signatures and artifacts to manifests of one repository on a real registry."""

    def __init__(self, client: RegistryHTTP, repo: str) -> None:
        self.client = client
        self.repo = repo

    def _blob(self, data: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
        digest = self.client.upload_blob(self.repo, data)
        return {"mediaType": media_type, "digest": digest, "size": len(data), **extra}

    def _manifest(self, manifest: Mapping[str, Any], ref: str | None = None) -> Pushed:
        raw = json_bytes(manifest)
        digest = self.client.put_manifest(
            self.repo, ref or _digest(raw), raw, str(manifest["mediaType"])
        )
        if ref is not None and ref.startswith("sha256:") and digest != ref:
            raise ImageBuildError(f"pushed {ref}, registry says {digest}")
        return Pushed(
            str(manifest["mediaType"]),
            _digest(raw),
            len(raw),
            manifest.get("artifactType"),
            manifest.get("annotations"),
        )

    # -- cosign -----------------------------------------------------------------------------
    def cosign_sign(
        self,
        subject_digest: str,
        signatures: Sequence[tuple[bytes, bytes]],
    ) -> Pushed:
        """Push `sha256-<hex>.sig`: one simple-signing layer per (payload, signature)."""
        config = self._blob(
            json_bytes({"architecture": "", "os": "", "config": {}, "rootfs": {"type": "layers"}}),
            OCI_CONFIG,
        )
        layers = [
            self._blob(
                payload,
                COSIGN_SIMPLESIGNING,
                annotations={COSIGN_SIGNATURE: base64.b64encode(signature).decode()},
            )
            for payload, signature in signatures
        ]
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config,
            "layers": layers,
        }
        return self._manifest(manifest, fallback_tag(subject_digest, ".sig"))

    # -- OCI 1.1 artifacts + the referrers tag fallback ------------------------------------
    def attach(
        self,
        subject: Mapping[str, Any],
        artifact_type: str,
        blobs: Sequence[tuple[bytes, str]],
        *,
        annotations: Mapping[str, str] | None = None,
        fallback: bool = True,
    ) -> Pushed:
        """Push an artifact manifest whose `subject` is *subject* (a descriptor dict) and, with
        *fallback*, add it to the `sha256-<hex>` referrers index of that subject."""
        empty = self._blob(b"{}", OCI_EMPTY)
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": empty,
            "layers": [self._blob(data, media_type) for data, media_type in blobs],
            "subject": {
                "mediaType": subject["mediaType"],
                "digest": subject["digest"],
                "size": subject["size"],
            },
        }
        if annotations:
            manifest["annotations"] = dict(annotations)
        pushed = self._manifest(manifest)
        if fallback:
            self.add_to_fallback(str(subject["digest"]), pushed)
        return pushed

    def add_to_fallback(self, subject_digest: str, pushed: Pushed) -> None:
        tag = fallback_tag(subject_digest)
        try:
            raw, _, _ = self.client.get_manifest(self.repo, tag)
            index = json.loads(raw)
        except ImageBuildError:
            index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        index["manifests"] = [m for m in index["manifests"] if m["digest"] != pushed.digest]
        index["manifests"].append(pushed.descriptor())
        self._manifest(index, tag)


def _digest(raw: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(raw).hexdigest()


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Package:
    name: str
    version: str
    purl: str
    license: str = "NOASSERTION"


def debian_packages() -> list[Package]:
    """Debian 12 packages as syft records them (source package in `upstream`)."""
    q = "arch=amd64&distro=debian-12"
    return [
        Package(
            "libssl3",
            "3.0.11-1~deb12u2",
            f"pkg:deb/debian/libssl3@3.0.11-1~deb12u2?{q}&upstream=openssl",
            "Apache-2.0",
        ),
        Package(
            "zlib1g",
            "1:1.2.13.dfsg-1",
            f"pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?{q}&upstream=zlib",
            "Zlib",
        ),
        Package("bash", "5.2.15-2+b2", f"pkg:deb/debian/bash@5.2.15-2+b2?{q}", "GPL-3.0-only"),
    ]


def pypi_packages() -> list[Package]:
    return [
        Package("urllib3", "2.0.0rc1", "pkg:pypi/urllib3@2.0.0rc1", "MIT"),
        Package("requests", "2.31.0", "pkg:pypi/requests@2.31.0", "Apache-2.0"),
    ]


def spdx_document(packages: Sequence[Package], name: str = "app") -> dict[str, Any]:
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": f"https://example.org/spdx/{name}",
        "creationInfo": {"created": "2024-05-01T12:00:00Z", "creators": ["Tool: syft-1.4.1"]},
        "packages": [
            {
                "name": p.name,
                "SPDXID": f"SPDXRef-Package-{i}",
                "versionInfo": p.version,
                "downloadLocation": "NOASSERTION",
                "licenseConcluded": p.license,
                "licenseDeclared": p.license,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": p.purl,
                    }
                ],
            }
            for i, p in enumerate(packages)
        ],
    }


def cyclonedx_document(
    packages: Sequence[Package], os_name: str = "debian", os_version: str = "12"
) -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2024-05-01T12:00:00Z",
            "tools": {"components": [{"type": "application", "name": "syft", "version": "1.4.1"}]},
            "component": {"type": "container", "name": "app"},
        },
        "components": [
            {
                "type": "operating-system",
                "name": os_name,
                "version": os_version,
                "bom-ref": "os",
            },
            *(
                {
                    "type": "library",
                    "name": p.name,
                    "version": p.version,
                    "purl": p.purl,
                    "bom-ref": p.purl,
                    "licenses": [{"license": {"id": p.license}}],
                }
                for p in packages
            ),
        ],
    }


def openvex_document(image_digest: str, statements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An OpenVEX v0.2.0 document about the image (product `pkg:oci/...@<digest>`)."""
    product = f"pkg:oci/app@{image_digest.replace(':', '%3A')}"
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.org/vex/app-1",
        "author": "Example Security Team",
        "timestamp": "2024-06-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                **{k: v for k, v in statement.items() if k != "subcomponents"},
                "products": [
                    {
                        "@id": product,
                        "subcomponents": [{"@id": s} for s in statement.get("subcomponents", [])],
                    }
                ],
            }
            for statement in statements
        ],
    }


def document_bytes(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, indent=2).encode()
