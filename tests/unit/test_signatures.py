"""`verify` building blocks without a registry: keys, cosign payload checks, the referrers
support memory (injected clock), artifact classification."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from dockerhub_cli.errors import InvalidInputError
from dockerhub_cli.ops.referrers import SUPPORT_TTL, SupportMemory, classify, kinds_of
from dockerhub_cli.ops.signatures import check_cosign_payload, load_public_key
from tests.support.signing import Signer, cosign_payload

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
IMAGE = "ghcr.io/org/app:1.0"


def _key(tmp_path: Path, signer: Signer):
    path = tmp_path / "cosign.pub"
    path.write_bytes(signer.public_pem)
    return load_public_key(str(path))


@pytest.mark.parametrize("kind", ["ecdsa", "rsa", "ed25519"])
def test_a_good_signature_verifies_and_every_bad_one_is_invalid(tmp_path: Path, kind: str) -> None:
    signer = Signer.generate(kind)  # type: ignore[arg-type]
    key = _key(tmp_path, signer)
    payload = cosign_payload("ghcr.io/org/app", DIGEST)
    good = base64.b64encode(signer.sign(payload)).decode()
    assert check_cosign_payload(payload, good, key, DIGEST, IMAGE)[0] == "verified"
    # index.docker.io and docker.io name the same registry
    hub = cosign_payload("index.docker.io/library/nginx", DIGEST)
    hub_sig = base64.b64encode(signer.sign(hub)).decode()
    assert check_cosign_payload(hub, hub_sig, key, DIGEST, "nginx:1.27")[0] == "verified"

    tampered = payload.replace(DIGEST.encode(), OTHER.encode())
    status, reason, *_ = check_cosign_payload(tampered, good, key, OTHER, IMAGE)
    assert status == "invalid" and "does not verify" in reason
    status, reason, signed, _ = check_cosign_payload(payload, good, key, OTHER, IMAGE)
    assert status == "invalid" and "signs another digest" in reason and signed == DIGEST
    status, reason, *_ = check_cosign_payload(payload, good, key, DIGEST, "ghcr.io/org/other")
    assert status == "invalid" and "another repository" in reason
    assert check_cosign_payload(payload, "%%%", key, DIGEST, IMAGE)[0] == "invalid"
    assert check_cosign_payload(payload, good, None, DIGEST, IMAGE)[0] == "unverifiable"
    other_key = _key(tmp_path, Signer.generate(kind))  # type: ignore[arg-type]
    assert check_cosign_payload(payload, good, other_key, DIGEST, IMAGE)[0] == "invalid"


def test_rsa_pss_signatures_verify(tmp_path: Path) -> None:
    signer = Signer.generate("rsa")
    payload = cosign_payload("ghcr.io/org/app", DIGEST)
    pss = signer.private_key.sign(
        payload,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH),
        hashes.SHA256(),
    )
    key = _key(tmp_path, signer)
    signature = base64.b64encode(pss).decode()
    assert check_cosign_payload(payload, signature, key, DIGEST, IMAGE)[0] == "verified"


def test_a_payload_of_another_type_is_invalid(tmp_path: Path) -> None:
    signer = Signer.generate("ecdsa")
    payload = cosign_payload("ghcr.io/org/app", DIGEST).replace(b"cosign container", b"other")
    signature = base64.b64encode(signer.sign(payload)).decode()
    status, reason, *_ = check_cosign_payload(
        payload, signature, _key(tmp_path, signer), DIGEST, IMAGE
    )
    assert status == "invalid" and "critical.type" in reason


def test_keys_from_files_and_inline_pem(tmp_path: Path) -> None:
    signer = Signer.generate("ecdsa")
    inline = load_public_key(signer.public_pem.decode())
    assert inline.kind == "ecdsa-p256" and inline.path == "(inline PEM)"
    assert inline.fingerprint == _key(tmp_path, signer).fingerprint
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key")
    with pytest.raises(InvalidInputError, match="not a PEM public key"):
        load_public_key(str(bad))
    with pytest.raises(InvalidInputError, match="cannot read the key file"):
        load_public_key(str(tmp_path / "missing.pub"))


def test_a_private_key_or_an_endless_file_as_key(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    private = tmp_path / "cosign.key"
    private.write_bytes(
        Signer.generate("ecdsa").private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(InvalidInputError) as raised:
        load_public_key(str(private))
    assert "this is a private key: pass its public half" in str(raised.value)
    # the file is read bounded (it was read whole, then cut)
    with pytest.raises(InvalidInputError, match="larger than a public key"):
        load_public_key("/dev/zero")


def test_support_memory_expires_and_survives_a_broken_file(tmp_path: Path) -> None:
    now = [1_000_000.0]
    path = tmp_path / "referrers-api.json"
    memory = SupportMemory(path, clock=lambda: now[0])
    assert memory.get("https://r.example") is None
    memory.put("https://r.example", False)
    again = SupportMemory(path, clock=lambda: now[0])  # another process reads the file
    assert again.get("https://r.example") is False
    now[0] += SUPPORT_TTL + 1
    assert again.get("https://r.example") is None  # a day later: probe again
    path.write_text("{not json")
    assert SupportMemory(path, clock=lambda: now[0]).get("https://r.example") is None


@pytest.mark.parametrize(
    ("artifact_type", "layers", "predicates", "kind"),
    [
        (
            "application/vnd.cncf.notary.signature",
            ["application/jose+json"],
            [],
            "notation_signature",
        ),
        ("application/vnd.dev.sigstore.bundle.v0.3+json", [], [], "sigstore_bundle"),
        ("", ["application/vnd.dev.cosign.simplesigning.v1+json"], [], "signature"),
        ("application/spdx+json", ["application/spdx+json"], [], "sbom"),
        (
            "",
            ["application/vnd.dsse.envelope.v1+json"],
            ["https://slsa.dev/provenance/v1"],
            "provenance",
        ),
        ("", ["application/vnd.in-toto+json"], ["https://openvex.dev/ns/v0.2.0"], "vex"),
        ("", ["application/vnd.in-toto+json"], ["https://cyclonedx.org/bom"], "sbom"),
        ("application/vnd.example+json", ["application/octet-stream"], [], "other"),
    ],
)
def test_classification(
    artifact_type: str, layers: list[str], predicates: list[str], kind: str
) -> None:
    assert classify(artifact_type, layers, predicates) == kind


@pytest.mark.parametrize(
    ("layers", "predicates", "kinds"),
    [
        (  # BuildKit's attestation manifest: provenance and an SBOM in one artifact
            ["application/vnd.in-toto+json", "application/vnd.in-toto+json"],
            ["https://slsa.dev/provenance/v0.2", "https://spdx.dev/Document"],
            ["provenance", "sbom"],
        ),
        (
            ["application/vnd.in-toto+json"] * 3,
            ["https://spdx.dev/Document", "https://openvex.dev/ns/v0.2.0"],
            ["vex", "sbom"],
        ),
        (["application/vnd.in-toto+json"], ["https://slsa.dev/provenance/v1"], ["provenance"]),
        (["application/vnd.dev.cosign.simplesigning.v1+json"], [], ["signature"]),
    ],
)
def test_kinds_names_every_document_an_artifact_holds(
    layers: list[str], predicates: list[str], kinds: list[str]
) -> None:
    """`kind` alone called BuildKit's attestation `provenance`, hiding the SBOM beside it."""
    assert kinds_of("", layers, predicates) == kinds
    assert kinds_of("", layers, predicates)[0] == classify("", layers, predicates)
