"""`referrers` and `verify`: what is attached to an image, and whether its signatures hold."""

from __future__ import annotations

from typing import Annotated

import typer

from dockerhub_cli.cli.app import command, get_service
from dockerhub_cli.cli.image_commands import ImageArg
from dockerhub_cli.cli.options import JsonOpt, PlatformOpt

ArtifactTypeOpt = Annotated[
    str | None,
    typer.Option(
        "--type",
        metavar="ARTIFACT_TYPE",
        help="Only artifacts of this type, e.g. application/vnd.dev.cosign.artifact.sig.v1+json.",
    ),
]
KeyOpt = Annotated[
    str | None,
    typer.Option("--key", metavar="KEY.pub", help="PEM public key for cosign signatures."),
]
TrustedRootOpt = Annotated[
    str | None,
    typer.Option(
        "--trusted-root",
        metavar="FILE",
        help="Sigstore trusted root (JSON) to verify Sigstore bundles offline.",
    ),
]
IdentityOpt = Annotated[
    str | None,
    typer.Option(
        "--certificate-identity",
        metavar="ID",
        help="Sigstore bundles: the signer identity required (e-mail or URI).",
    ),
]
IssuerOpt = Annotated[
    str | None,
    typer.Option(
        "--certificate-oidc-issuer",
        metavar="URL",
        help="Sigstore bundles: the OIDC issuer of that identity.",
    ),
]


@command()
def referrers(
    image: ImageArg,
    platform: PlatformOpt = None,
    artifact_type: ArtifactTypeOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Everything attached to the image and to each platform image, as a tree.

    Signatures, SBOMs, attestations and VEX documents, from the OCI referrers API, its
    sha256-<hex> tag fallback, cosign's .sig/.att/.sbom tags and BuildKit's in-index
    attestations, merged. Whether the registry has the referrers API is probed once and
    remembered.

    Example: dockerhub referrers ghcr.io/org/app:1.0 --json
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.referrers import referrers as render_referrers

    with progress(f"Looking for artifacts attached to {image}"):
        result = get_service().referrers(image, platform=platform, artifact_type=artifact_type)
    emit(result, json_output=json_output, render=render_referrers)


@command()
def verify(
    image: ImageArg,
    key: KeyOpt = None,
    platform: PlatformOpt = None,
    trusted_root: TrustedRootOpt = None,
    identity: IdentityOpt = None,
    issuer: IssuerOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Check the image's signatures: verified, invalid, unsigned or unverifiable, and why.

    cosign signatures with --key (ECDSA P-256, RSA, Ed25519): the signature must verify, and
    the signed payload must name this image's digest and repository. Sigstore bundles offline
    with --trusted-root and the signer identity; Notation signatures are listed only. Exits 0
    only when verified; 10 invalid, 11 unsigned, 12 unverifiable.

    Example: dockerhub verify ghcr.io/org/app:1.0 --key cosign.pub
    """
    from dockerhub_cli.exitcodes import ExitCode
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.referrers import verification as render_verification

    with progress(f"Checking the signatures of {image}"):
        result = get_service().verify(
            image,
            key=key,
            platform=platform,
            trusted_root=trusted_root,
            identity=identity,
            issuer=issuer,
        )
    emit(result, json_output=json_output, render=render_verification)
    code = {
        "verified": ExitCode.OK,
        "invalid": ExitCode.SIGNATURE_INVALID,
        "unsigned": ExitCode.UNSIGNED,
        "unverifiable": ExitCode.UNVERIFIABLE,
    }[result.status]
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


__all__ = ["referrers", "verify"]
