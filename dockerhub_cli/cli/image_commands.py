"""`inspect`, `layers`, `history`, `dockerfile`, `size`, `manifest`: image internals."""

from __future__ import annotations

from typing import Annotated

import typer

from dockerhub_cli.cli.app import command, get_service, warn_notes
from dockerhub_cli.cli.options import JsonOpt, PlatformOpt

ImageArg = Annotated[
    str,
    typer.Argument(
        metavar="IMAGE",
        help="Image: nginx, nginx:1.27, ghcr.io/org/app@sha256:..., localhost:5000/app:1, or"
        " a local source: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF].",
    ),
]


@command()
def inspect(image: ImageArg, platform: PlatformOpt = None, json_output: JsonOpt = False) -> None:
    """Digest, platforms, size, config (env, cmd, ports, labels...) and Docker Hub facts.

    Example: dockerhub inspect nginx:1.27 --platform linux/arm64
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.images import inspection

    with progress(f"Inspecting {image}"):
        result = get_service().inspect(image, platform=platform)
    emit(result, json_output=json_output, render=inspection)
    if not json_output:
        warn_notes(result.notes)


@command()
def layers(image: ImageArg, platform: PlatformOpt = None, json_output: JsonOpt = False) -> None:
    """Each layer with its compressed size, share, and the build step that made it.

    Example: dockerhub layers python:3.12-slim
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.images import layers as render_layers

    with progress(f"Reading the layers of {image}"):
        result = get_service().layers(image, platform=platform)
    emit(result, json_output=json_output, render=render_layers)


@command()
def history(image: ImageArg, platform: PlatformOpt = None, json_output: JsonOpt = False) -> None:
    """The build steps recorded in the image, aligned to its layers.

    Example: dockerhub history nginx
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.images import history as render_history

    with progress(f"Reading the history of {image}"):
        result = get_service().history(image, platform=platform)
    emit(result, json_output=json_output, render=render_history)


@command()
def dockerfile(image: ImageArg, platform: PlatformOpt = None, json_output: JsonOpt = False) -> None:
    """A Dockerfile reconstructed from the image history (not the original file).

    Example: dockerhub dockerfile redis:7 > Dockerfile.reconstructed
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.images import dockerfile as render_dockerfile

    with progress(f"Reconstructing the Dockerfile of {image}"):
        result = get_service().dockerfile(image, platform=platform)
    emit(result, json_output=json_output, render=render_dockerfile)


@command()
def size(
    image: ImageArg,
    platform: PlatformOpt = None,
    have: Annotated[
        list[str] | None,
        typer.Option("--have", metavar="IMAGE", help="An image you already have (repeatable)."),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Download size of a pull; with --have, only the layers you do not have yet.

    Example: dockerhub size python:3.12 --have python:3.12-slim
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.images import pull_size

    with progress(f"Sizing {image}"):
        result = get_service().pull_size(image, platform=platform, have=have or None)
    emit(result, json_output=json_output, render=pull_size)


@command()
def manifest(image: ImageArg, platform: PlatformOpt = None, json_output: JsonOpt = False) -> None:
    """The raw manifest or index (with --platform: that platform's manifest).

    Example: dockerhub manifest nginx --platform linux/arm64 --json
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.images import manifest as render_manifest

    with progress(f"Fetching the manifest of {image}"):
        result = get_service().manifest(image, platform=platform)
    emit(result, json_output=json_output, render=render_manifest)
    warn_notes(result.notes)


__all__ = ["inspect", "layers", "history", "dockerfile", "size", "manifest"]
