"""`verify`: are the signatures attached to an image valid, for this key, over this digest?

cosign ("simple signing"): each layer of the signature manifest (found under the
`sha256-<hex>.sig` tag, the referrers API or its tag fallback) is a JSON payload of media type
`application/vnd.dev.cosign.simplesigning.v1+json`, its signature (base64) in the layer
annotation `dev.cosignproject.cosign/signature`. A signature is *verified* only when all of:

1. the signature verifies over the exact payload bytes (digest-checked blob) with the given
   public key: ECDSA P-256/P-384 (SHA-256/384, DER signature), RSA (PKCS#1 v1.5 or PSS with
   SHA-256) or Ed25519, via `cryptography`;
2. the payload's `critical.type` is `cosign container image signature`;
3. `critical.image.docker-manifest-digest` equals the digest being verified;
4. `critical.identity.docker-reference` names the same repository as the image.

Sigstore bundles (`application/vnd.dev.sigstore.bundle*`) are verified with the `sigstore`
library offline, against a trusted root file (`--trusted-root`) and a signer identity
(`--certificate-identity`, `--certificate-oidc-issuer`); without those (or the library) they are
"unverifiable", never "verified". Notation signatures are listed and reported unverifiable:
this tool does not implement notation's trust policy.

The transparency log (Rekor) is not consulted: everything here is offline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockerhub_cli import advice
from dockerhub_cli.errors import DockerHubError, InvalidInputError
from dockerhub_cli.models.supply import SignatureCheck, VerifyReport
from dockerhub_cli.oci import jsonlimits
from dockerhub_cli.oci.reference import parse_reference
from dockerhub_cli.oci.source import is_local_source, parse_source

if TYPE_CHECKING:
    from dockerhub_cli.ops.clients import Clients
    from dockerhub_cli.ops.referrers import _Found

COSIGN_TYPE = "cosign container image signature"
MAX_KEY_BYTES = 64 * 1024
MAX_SIGNATURES = 50


@dataclass(frozen=True)
class PublicKey:
    path: str
    key: Any
    kind: str
    fingerprint: str


def load_public_key(path: str | Path) -> PublicKey:
    """A PEM public key (cosign.pub): ECDSA, RSA or Ed25519, from a file or given inline as
    PEM text (`-----BEGIN PUBLIC KEY-----...`). InvalidInputError otherwise."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(path, str) and path.lstrip().startswith("-----BEGIN"):
        file = Path("(inline PEM)")
        data = path.strip().encode()[: MAX_KEY_BYTES + 1]
    else:
        file = Path(path)
        try:
            with file.open("rb") as handle:  # bounded: --key /dev/zero must not fill memory
                data = handle.read(MAX_KEY_BYTES + 1)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot read the key file {file}: {exc.strerror or exc}",
                hint=f"pass the public key, e.g. {advice.param('key', 'cosign.pub')}",
            ) from None
    if len(data) > MAX_KEY_BYTES:
        raise InvalidInputError(f"{file} is larger than a public key can be")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise InvalidInputError(
            f"{file} is not a PEM public key (-----BEGIN PUBLIC KEY-----)",
            hint="this is a private key: pass its public half (cosign.pub)"
            if b"PRIVATE KEY-----" in data
            else "cosign writes one with `cosign generate-key-pair` (cosign.pub)",
        ) from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        kind = {"secp256r1": "ecdsa-p256", "secp384r1": "ecdsa-p384"}.get(key.curve.name)
        if kind is None:
            raise InvalidInputError(f"{file}: unsupported elliptic curve {key.curve.name}")
    elif isinstance(key, rsa.RSAPublicKey):
        kind = f"rsa-{key.key_size}"
    elif isinstance(key, ed25519.Ed25519PublicKey):
        kind = "ed25519"
    else:
        raise InvalidInputError(f"{file}: unsupported key type {type(key).__name__}")
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return PublicKey(str(file), key, kind, "sha256:" + hashlib.sha256(der).hexdigest())


def signature_valid(key: PublicKey, signature: bytes, payload: bytes) -> bool:
    """Does `signature` verify over `payload` with `key` (cosign's algorithms)?"""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    try:
        if isinstance(key.key, ec.EllipticCurvePublicKey):
            algorithm = hashes.SHA384() if key.kind == "ecdsa-p384" else hashes.SHA256()
            key.key.verify(signature, payload, ec.ECDSA(algorithm))
            return True
        if isinstance(key.key, ed25519.Ed25519PublicKey):
            key.key.verify(signature, payload)
            return True
        if isinstance(key.key, rsa.RSAPublicKey):
            try:
                key.key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
                return True
            except InvalidSignature:
                key.key.verify(
                    signature,
                    payload,
                    padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
                    hashes.SHA256(),
                )
                return True
    except (InvalidSignature, ValueError):
        return False
    return False


def _blob(clients: Clients, image: str, digest: str) -> bytes:
    """A small blob of the image's repository, or of the local layout/archive it names."""
    ref = parse_source(image)
    return clients.client_for(ref).get_blob(ref, digest)


def _same_repository(signed: str, image: str) -> bool:
    """Does the payload's docker-reference name the image's repository (tag/digest ignored)?"""
    try:
        a, b = parse_reference(signed), parse_reference(image)
    except DockerHubError:
        return False

    def domain(d: str) -> str:
        return "docker.io" if d in ("index.docker.io", "registry-1.docker.io") else d

    return (domain(a.domain), a.path) == (domain(b.domain), b.path)


def check_cosign_payload(
    payload: bytes, signature_b64: str, key: PublicKey | None, digest: str, image: str
) -> tuple[str, str, str | None, str | None]:
    """(status, reason, signed digest, docker-reference) for one simple-signing layer."""
    try:
        data = jsonlimits.loads(payload)
    except ValueError:  # (UnicodeDecodeError and the loader's limits are ValueErrors)
        return "invalid", "the payload is not JSON", None, None
    raw = data.get("critical") if isinstance(data, dict) else None
    critical: dict[str, Any] = raw if isinstance(raw, dict) else {}
    image_part = critical["image"] if isinstance(critical.get("image"), dict) else {}
    identity = critical["identity"] if isinstance(critical.get("identity"), dict) else {}
    signed = image_part.get("docker-manifest-digest")
    signed = signed if isinstance(signed, str) else None
    reference = identity.get("docker-reference")
    reference = reference if isinstance(reference, str) else None
    if key is None:
        return "unverifiable", f"no {advice.param('key')} given to check it with", signed, reference
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return "invalid", "the signature annotation is not base64", signed, reference
    if not signature or not signature_valid(key, signature, payload):
        return (
            "invalid",
            f"the signature does not verify with the {key.kind} key {key.fingerprint[:19]}",
            signed,
            reference,
        )
    if critical.get("type") != COSIGN_TYPE:
        return "invalid", f"the payload's critical.type is not {COSIGN_TYPE!r}", signed, reference
    if signed != digest:
        return (
            "invalid",
            f"the signature is valid but signs another digest ({signed or 'none'}), not {digest}",
            signed,
            reference,
        )
    local = is_local_source(image)
    if reference is None or not (local or _same_repository(reference, image)):
        return (
            "invalid",
            f"the signature is valid but names another repository ({reference or 'none'})",
            signed,
            reference,
        )
    return (
        "verified",
        f"valid {key.kind} signature over {digest} for {reference}"
        + (" (a local source has no repository to check that name against)" if local else ""),
        signed,
        reference,
    )


def _cosign_checks(
    clients: Clients, entry: _Found, key: PublicKey | None, digest: str, image: str
) -> list[SignatureCheck]:
    from dockerhub_cli.ops.referrers import COSIGN_SIGNATURE_ANNOTATION, COSIGN_SIMPLESIGNING

    checks: list[SignatureCheck] = []
    assert entry.manifest is not None
    for layer in entry.manifest.layers[:MAX_SIGNATURES]:
        if layer.media_type != COSIGN_SIMPLESIGNING:
            continue
        common = {
            "kind": "cosign",
            "artifact_digest": entry.descriptor.digest,
            "layer_digest": layer.digest,
            "sources": sorted(entry.sources),
        }
        signature = layer.annotations.get(COSIGN_SIGNATURE_ANNOTATION)
        if not signature:
            checks.append(
                SignatureCheck(
                    status="invalid",
                    reason=f"no {COSIGN_SIGNATURE_ANNOTATION} annotation on the payload layer",
                    **common,  # type: ignore[arg-type]
                )
            )
            continue
        try:
            payload = _blob(clients, image, layer.digest)
        except DockerHubError as exc:
            checks.append(
                SignatureCheck(
                    status="unverifiable",
                    reason=f"the payload could not be read: {exc.message}",
                    **common,  # type: ignore[arg-type]
                )
            )
            continue
        status, reason, signed, reference = check_cosign_payload(
            payload, signature, key, digest, image
        )
        checks.append(
            SignatureCheck(
                status=status,  # type: ignore[arg-type]
                reason=reason,
                signed_digest=signed,
                docker_reference=reference,
                **common,  # type: ignore[arg-type]
            )
        )
    return checks


@dataclass(frozen=True)
class SigstoreOptions:
    trusted_root: str | None
    identity: str | None
    issuer: str | None


def _bundle_checks(
    clients: Clients, entry: _Found, digest: str, image: str, options: SigstoreOptions
) -> list[SignatureCheck]:
    from dockerhub_cli.ops.referrers import SIGSTORE_BUNDLE_PREFIX

    assert entry.manifest is not None
    checks: list[SignatureCheck] = []
    for layer in entry.manifest.layers[:MAX_SIGNATURES]:
        if not layer.media_type.startswith(SIGSTORE_BUNDLE_PREFIX):
            continue
        common = {
            "kind": "sigstore_bundle",
            "artifact_digest": entry.descriptor.digest,
            "layer_digest": layer.digest,
            "sources": sorted(entry.sources),
        }
        status, reason = _verify_bundle(clients, image, layer.digest, digest, options)
        checks.append(SignatureCheck(status=status, reason=reason, **common))  # type: ignore[arg-type]
    return checks


def _verify_bundle(
    clients: Clients, image: str, layer_digest: str, digest: str, o: SigstoreOptions
) -> tuple[str, str]:
    if not o.trusted_root:
        return "unverifiable", (
            "a Sigstore bundle: verifying it offline needs a trusted root file "
            f"({advice.param('trusted_root')})"
        )
    if not o.identity or not o.issuer:
        return "unverifiable", (
            f"a Sigstore bundle: without {advice.param('identity')} and {advice.param('issuer')} "
            "a valid signature says nothing about who signed"
        )
    try:
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import Bundle, TrustedRoot
        from sigstore.verify import Verifier
        from sigstore.verify.policy import Identity
    except ImportError:
        return "unverifiable", (
            "a Sigstore bundle: the sigstore library is not installed "
            "(pip install 'hubscope[sigstore]')"
        )
    try:
        body = _blob(clients, image, layer_digest)
        bundle = Bundle.from_json(body)
        verifier = Verifier(trusted_root=TrustedRoot.from_file(o.trusted_root))
        policy = Identity(identity=o.identity, issuer=o.issuer)
        if bundle._dsse_envelope is not None:  # noqa: SLF001 - no public accessor in sigstore 4
            _, payload = verifier.verify_dsse(bundle, policy)
            statement = jsonlimits.loads(payload)
            subjects = statement.get("subject") if isinstance(statement, dict) else None
            want = digest.split(":", 1)[1]
            if not any(
                isinstance(s, dict) and (s.get("digest") or {}).get("sha256") == want
                for s in subjects or []
            ):
                return "invalid", f"the bundle is valid but its statement does not name {digest}"
        else:
            from sigstore.hashes import Hashed
            from sigstore_models.common.v1 import HashAlgorithm

            hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(digest[7:]))
            verifier.verify_artifact(hashed, bundle, policy)
    except DockerHubError as exc:
        return "unverifiable", f"the bundle could not be read: {exc.message}"
    except (OSError, ValueError) as exc:
        return "unverifiable", f"the bundle or trusted root could not be used: {exc}"
    except SigstoreError as exc:
        return "invalid", f"Sigstore verification failed: {exc}"
    except Exception as exc:  # noqa: BLE001 - sigstore raises many kinds; never "verified"
        return "invalid", f"Sigstore verification failed: {type(exc).__name__}: {exc}"
    return "verified", f"Sigstore bundle verified for {o.identity} ({o.issuer})"


def verify_report(
    clients: Clients,
    image: str,
    *,
    key: str | None = None,
    platform: str | None = None,
    trusted_root: str | None = None,
    identity: str | None = None,
    issuer: str | None = None,
) -> VerifyReport:
    from dockerhub_cli.ops.referrers import discover

    public_key = load_public_key(key) if key else None
    if trusted_root and not Path(trusted_root).is_file():
        raise InvalidInputError(
            f"the trusted root file {trusted_root} does not exist or is not a regular file",
            hint="pass the trusted_root.json of your Sigstore instance",
        )
    found = discover(clients, image, platform=platform, all_platforms=False, read_manifests=False)
    if platform is not None:
        # the chosen platform manifest; a single manifest (checked by discover) is the image
        digest = next((s.digest for s in found.subjects if s.platform is not None), found.digest)
    else:
        digest = found.digest
    options = SigstoreOptions(trusted_root, identity, issuer)
    checks: list[SignatureCheck] = []
    notes = list(found.notes)
    from dockerhub_cli.ops.referrers import _kind, load_manifest

    for entry in found.for_subject(digest):
        kind = _kind(entry)
        if kind in ("sbom", "vex", "provenance"):
            continue  # known from the listing: no request
        if kind != "notation_signature":
            if load_manifest(clients, found.reference, entry, notes) is None:
                continue
            kind = _kind(entry)
        if kind == "signature":
            checks.extend(_cosign_checks(clients, entry, public_key, digest, image))
        elif kind == "sigstore_bundle":
            checks.extend(_bundle_checks(clients, entry, digest, image, options))
        elif kind == "notation_signature":
            checks.append(
                SignatureCheck(
                    kind="notation",
                    status="unverifiable",
                    reason="a Notation signature: listed, not verified (no notation trust "
                    "policy here)",
                    artifact_digest=entry.descriptor.digest,
                    sources=sorted(entry.sources),
                )
            )
    other = [s.digest for s in found.subjects if s.digest != digest and s.referrers]
    if other and platform is None:
        notes.append(
            "only signatures over the digest the reference resolves to count; platform images "
            f"may carry their own (use {advice.param('platform')} to verify one)"
        )
    verified = [c for c in checks if c.status == "verified"]
    invalid = [c for c in checks if c.status == "invalid"]
    if verified:
        status = "verified"
        reason = f"{len(verified)} of {len(checks)} signatures over {digest} verified"
        if public_key is not None and any(c.kind == "cosign" for c in verified):
            reason += f" with {public_key.kind} key {public_key.fingerprint[:19]}"
        notes.append("the transparency log (Rekor) was not consulted: verification is offline")
    elif invalid:
        status = "invalid"
        reason = invalid[0].reason
        if len(invalid) > 1:
            reason += f" (and {len(invalid) - 1} more invalid)"
    elif checks:
        status = "unverifiable"
        reason = checks[0].reason
    else:
        status = "unsigned"
        reason = (
            f"no signature is attached to {digest} (cosign .sig tag, referrers API or its tag "
            "fallback)"
        )
    if public_key is None and any(c.kind == "cosign" for c in checks):
        notes.append(f"cosign signatures need {advice.param('key', 'KEY.pub')} to be checked")
    return VerifyReport(
        reference=str(found.reference),
        digest=digest,
        status=status,  # type: ignore[arg-type]
        reason=reason,
        key=public_key.path if public_key else None,
        key_type=public_key.kind if public_key else None,
        key_fingerprint=public_key.fingerprint if public_key else None,
        trusted_root=trusted_root,
        signatures=checks,
        notes=notes,
    )


__all__ = ["PublicKey", "check_cosign_payload", "load_public_key", "verify_report"]
