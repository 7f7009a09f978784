"""The `dockerfile` operation: a Dockerfile reconstructed from the image history (clearly
labelled as such), and where the real one lives when the image's SLSA provenance says so.

It sits above `images` (resolution, history) and `supply_chain` (provenance), so that those two
import each other one way only (supply_chain -> images).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerhub_cli.errors import DockerHubError
from dockerhub_cli.models.layers import DockerfileInstruction, DockerfileReport, DockerfileSource
from dockerhub_cli.oci.history import dockerfile_text, reconstruct_step
from dockerhub_cli.ops import supply_chain
from dockerhub_cli.ops.images import (
    ResolvedImage,
    base_image_of,
    history_steps,
    platform_info,
    resolve_image,
)

if TYPE_CHECKING:
    from dockerhub_cli.ops.clients import Clients


def dockerfile_report(
    clients: Clients, image: str, *, platform: str | None = None
) -> DockerfileReport:
    resolved = resolve_image(clients, image, platform)
    manifest, config = resolved.require()
    steps, _ = history_steps(manifest, config)
    base = base_image_of(resolved)
    ref = resolved.reference
    digest = resolved.manifest_digest or resolved.digest
    instructions: list[DockerfileInstruction] = []
    for step in steps:
        instruction, args, builder = reconstruct_step(step.created_by, step.comment)
        line = dockerfile_text(instruction, args)
        instructions.append(
            DockerfileInstruction(
                instruction=instruction,
                arguments=args,
                line=line,
                created=step.created,
                empty_layer=step.empty_layer,
                layer_index=step.layer_index,
                builder=builder,
            )
        )
    header = [
        f"# Reconstructed from the image history of {ref} ({digest}, {resolved.platform}).",
        "# NOT the original Dockerfile: build stages, ARG values and file contents are lost.",
    ]
    original = _original_dockerfile(clients, resolved)
    if original is not None:
        header.extend(_original_lines(original))
    if base and base.name:
        header.append(
            f"# Base image (from {base.source}s): {base.name}"
            + (f"@{base.digest}" if base.digest else "")
        )
    if not instructions:
        header.append("# The image config records no build history.")
    text = "\n".join(header + [i.line for i in instructions]) + "\n"
    return DockerfileReport(
        reference=str(ref),
        digest=digest,
        platform=platform_info(resolved.platform),
        base_image=base,
        instructions=instructions,
        dockerfile=text,
        original=original,
    )


def _original_dockerfile(clients: Clients, resolved: ResolvedImage) -> DockerfileSource | None:
    """Where the real Dockerfile lives, from the SLSA provenance attestation when the index
    has one for this platform (two more immutable, cached-forever requests); else None."""
    if resolved.attestation is None:
        return None
    image = str(resolved.reference.with_digest(resolved.digest))
    try:
        return supply_chain.dockerfile_source(
            clients, image, resolved.platform.full if resolved.platform else None
        )
    except DockerHubError:
        return None  # the reconstruction stands on its own; `provenance` reports the error


def _original_lines(original: DockerfileSource) -> list[str]:
    where = original.path or "Dockerfile"
    if original.context:
        where = f"{original.context}/{where}"
    source = original.repository or "the build context"
    at = f" at commit {original.commit}" if original.commit else ""
    lines = [f"# The real Dockerfile (per the image's SLSA provenance): {where} in {source}{at}"]
    if original.url:
        lines.append(f"#   {original.url}")
    return lines
