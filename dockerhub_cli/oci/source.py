"""Image sources written with skopeo's transport names, parsed into `ImageReference` values.

    oci:PATH[:REF]              an OCI image layout directory (umoci, BuildKit, skopeo, oras)
    oci-archive:FILE[:REF]      the same layout in a tar file
    docker-archive:FILE[:REF]   the tarball of `docker save` (legacy or Docker 25+ OCI form)
    docker://NAME[:TAG|@DIGEST] a registry image, said explicitly (the default without a prefix)

As in containers/image, PATH ends at the first `:`; REF is a tag (the layout's
`org.opencontainers.image.ref.name`, or a `RepoTags` entry such as `nginx:1.27` for a docker
archive) or a digest `sha256:<hex>`. `oci:PATH@sha256:<hex>` and `oci:PATH:REF@sha256:<hex>`
(what `ImageReference.__str__` writes for a pinned local image) are read too.

Pure: nothing here touches the file system; `dockerhub_cli.remote.local_layout` reads it.
"""

from __future__ import annotations

from dockerhub_cli.errors import InvalidReferenceError
from dockerhub_cli.oci.reference import (
    LOCAL_TRANSPORTS,
    ImageReference,
    is_digest,
    parse_reference,
)

OCI_LAYOUT, OCI_ARCHIVE, DOCKER_ARCHIVE = LOCAL_TRANSPORTS
REGISTRY_PREFIX = "docker://"
MAX_PATH_LENGTH = 4096


def local_transport(text: str) -> str | None:
    """The local transport `text` is written with (`oci`, ...), or None for a registry image."""
    head, sep, _ = text.strip().partition(":")
    return head if sep and head in LOCAL_TRANSPORTS else None


def is_local_source(text: str) -> bool:
    return local_transport(text) is not None


def parse_source(text: str, *, default_tag: bool = True) -> ImageReference:
    """A registry reference (`nginx:1.27`, `docker://nginx`) or a local source (`oci:DIR:v1`).

    Raises InvalidReferenceError naming the problem."""
    raw = text
    text = text.strip()
    if text.startswith(REGISTRY_PREFIX):
        return parse_reference(text[len(REGISTRY_PREFIX) :], default_tag=default_tag)
    transport = local_transport(text)
    if transport is None:
        return parse_reference(text, default_tag=default_tag)
    rest = text[len(transport) + 1 :]
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in rest):
        raise InvalidReferenceError(f"invalid {transport} source {raw!r}: control characters")
    path, ref = _split(rest)
    if not path:
        raise InvalidReferenceError(
            f"invalid {transport} source {raw!r}: no path",
            hint=f"write {transport}:PATH[:REF], e.g. {transport}:"
            + ("examples/hello-oci:1.0" if transport == OCI_LAYOUT else "image.tar"),
        )
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidReferenceError(f"invalid {transport} source: path longer than 4096")
    tag, digest = _ref_parts(transport, ref, raw)
    return ImageReference(domain=transport, path=path, tag=tag, digest=digest, transport=transport)


def _split(rest: str) -> tuple[str, str]:
    """PATH and REF: PATH ends at the first ':' (containers/image `SplitPathAndImage`), or at
    an '@' that starts a digest when there is no ':' before it."""
    at = rest.find("@")
    colon = rest.find(":")
    if at != -1 and (colon == -1 or at < colon) and is_digest(rest[at + 1 :]):
        return rest[:at], rest[at:]
    if colon == -1:
        return rest, ""
    return rest[:colon], rest[colon + 1 :]


def _ref_parts(transport: str, ref: str, raw: str) -> tuple[str | None, str | None]:
    if not ref:
        return None, None
    name, at, pinned = ref.rpartition("@") if "@" in ref else (ref, "", "")
    digest: str | None = None
    if at:
        if not is_digest(pinned):
            raise InvalidReferenceError(
                f"invalid digest {pinned!r} in {raw!r}: expected sha256:<64 hex>"
            )
        digest = pinned
    if name and is_digest(name):
        if digest and digest != name:
            raise InvalidReferenceError(f"{raw!r} names two different digests")
        return None, name
    if not name:
        return None, digest
    if transport == DOCKER_ARCHIVE:
        parse_reference(name)  # a RepoTags entry: `nginx:1.27`, `localhost:5000/app:dev`
    elif not _valid_ref_name(name):
        raise InvalidReferenceError(
            f"invalid image name {name!r} in {raw!r}: a layout's ref name is letters, digits and"
            " the separators - . _ : @ / +",
        )
    return name, digest


def _valid_ref_name(name: str) -> bool:
    """The grammar of `org.opencontainers.image.ref.name` (image-spec annotations.md)."""
    if len(name) > 512:
        return False
    return all(ch.isascii() and (ch.isalnum() or ch in "-._:@/+") for ch in name)


def describe_source(ref: ImageReference) -> str:
    """`OCI layout examples/x`, `OCI archive img.tar`, `docker archive img.tar`."""
    kind = {
        OCI_LAYOUT: "OCI layout",
        OCI_ARCHIVE: "OCI archive",
        DOCKER_ARCHIVE: "docker archive",
    }.get(ref.transport, ref.transport)
    return f"{kind} {ref.path}"
