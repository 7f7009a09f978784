"""`compare` and `updates`: two images side by side, and base-image tracking."""

from __future__ import annotations

from typing import Annotated

import typer

from dockerhub_cli.cli.app import command, get_service, warn_notes
from dockerhub_cli.cli.options import JsonOpt, PlatformOpt

_IMAGE_HELP = "Image: nginx, nginx:1.27, ghcr.io/org/app@sha256:..., localhost:5000/app:1."


@command()
def compare(
    image1: Annotated[str, typer.Argument(metavar="IMAGE1", help=_IMAGE_HELP)],
    image2: Annotated[str, typer.Argument(metavar="IMAGE2", help="The image compared to IMAGE1.")],
    platform: PlatformOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Two images side by side: shared base layers, size delta, config and build-step changes.

    Example: dockerhub compare nginx:1.26 nginx:1.27 --platform linux/arm64
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.compare import comparison

    with progress(f"Comparing {image1} with {image2}"):
        result = get_service().compare(image1, image2, platform=platform)
    emit(result, json_output=json_output, render=comparison)
    if not json_output:
        warn_notes(result.notes)


@command()
def updates(
    image: Annotated[str, typer.Argument(metavar="IMAGE", help=_IMAGE_HELP)],
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            metavar="IMAGE",
            help="The base image tag to check against, when the image does not record it.",
        ),
    ] = None,
    platform: PlatformOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Is IMAGE still built on the current digest of its base tag? Which newer tags exist?

    Example: dockerhub updates nginx:1.27.2-alpine --base alpine:3.20
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.compare import updates as render_updates

    with progress(f"Checking {image} for updates"):
        result = get_service().updates(image, base=base, platform=platform)
    emit(result, json_output=json_output, render=render_updates)
    if not json_output:
        warn_notes(result.notes)


__all__ = ["compare", "updates"]
