"""`sbom`, `provenance`, `vulns`: the supply chain, from BuildKit attestations and OSV."""

from __future__ import annotations

from typing import Annotated

import typer

from dockerhub_cli.cli.app import command, get_service
from dockerhub_cli.cli.image_commands import ImageArg
from dockerhub_cli.cli.options import JsonOpt, PlatformOpt

SeverityOpt = Annotated[
    str | None,
    typer.Option(
        "--severity",
        metavar="LEVEL",
        help="Show only this level and above: critical, high, medium, low, unknown.",
    ),
]


@command()
def sbom(image: ImageArg, platform: PlatformOpt = None, json_output: JsonOpt = False) -> None:
    """Packages of the image from its SPDX SBOM attestation: name, version, purl, license.

    Exits 3 when the image carries no SBOM (build with `docker buildx build --sbom=true`).

    Example: dockerhub sbom docker/dockerfile:1 --platform linux/arm64 --json
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.supply import sbom as render_sbom

    with progress(f"Reading the SBOM of {image}"):
        result = get_service().sbom(image, platform=platform)
    emit(result, json_output=json_output, render=render_sbom)


@command()
def provenance(image: ImageArg, platform: PlatformOpt = None, json_output: JsonOpt = False) -> None:
    """How the image was built, from its SLSA provenance attestation (v0.2 or v1).

    Builder, build time, source repository and commit, Dockerfile path, build args and base
    images. Exits 3 when the image carries no provenance.

    Example: dockerhub provenance docker/dockerfile:1
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.supply import provenance as render_provenance

    with progress(f"Reading the provenance of {image}"):
        result = get_service().provenance(image, platform=platform)
    emit(result, json_output=json_output, render=render_provenance)


@command()
def vulns(
    image: ImageArg,
    platform: PlatformOpt = None,
    severity: SeverityOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Known vulnerabilities of the packages in the image's SBOM, from OSV (osv.dev).

    Needs an SBOM attestation (exits 3 without one: no SBOM is not "no vulnerabilities").
    Severity comes from CVSS v3 vectors, else the advisory database's rating.

    Example: dockerhub vulns docker/dockerfile:1 --severity high
    """
    from dockerhub_cli.remote.osv import check_severity
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.supply import vulns as render_vulns

    level = check_severity(severity)  # a bad level is a usage error before any request
    with progress(f"Checking the SBOM of {image} against OSV"):
        result = get_service().vulns(image, platform=platform, severity=level)
    emit(result, json_output=json_output, render=render_vulns)


__all__ = ["sbom", "provenance", "vulns"]
