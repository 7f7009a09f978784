"""Image internals: resolve a reference to one platform's manifest and config, and build the
results of `inspect`, `layers`, `history`, `dockerfile`, `size` and `manifest`.

Economy: a tag costs one GET on a cold cache (its body is cached under its digest too), nothing
while fresh, and one HEAD (free against Docker Hub's pull limit) once expired; everything after
that is fetched by digest, which is immutable and cached forever. `resolve_image` is the
building block for other features (compare, SBOM): it is thread-safe as long as the service is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dockerhub_cli.errors import (
    DockerHubError,
    InvalidInputError,
    NotFoundError,
    PlatformNotFoundError,
    UnsupportedMediaTypeError,
)
from dockerhub_cli.models.images import (
    AttestationEntry,
    BaseImageInfo,
    DockerfileInstruction,
    DockerfileReport,
    DockerfileSource,
    HaveImage,
    HistoryReport,
    HistoryStep,
    ImageConfigInfo,
    ImageInspection,
    LayerInfo,
    LayerInsights,
    LayerReport,
    ManifestReport,
    PlatformEntry,
    PlatformInfo,
    PullSizeReport,
    RepositoryInfo,
)
from dockerhub_cli.oci.manifest import (
    ATTESTATION_CONFIG,
    BASE_DIGEST,
    BASE_NAME,
    DOCKER_CONFIG,
    INDEX_TYPES,
    OCI_CONFIG,
    Descriptor,
    ImageConfig,
    ImageIndex,
    ImageManifest,
    Manifest,
    load_json,
    parse_config,
    parse_manifest,
)
from dockerhub_cli.oci.platform import Platform, parse_platform, select_platform
from dockerhub_cli.oci.reference import ImageReference, parse_reference

if TYPE_CHECKING:
    from dockerhub_cli.remote.registry import RawManifest
    from dockerhub_cli.service import DockerHubService

IMAGE_CONFIG_TYPES = frozenset({DOCKER_CONFIG, OCI_CONFIG, ""})
MAX_HAVE_IMAGES = 10


# -- resolution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchedManifest:
    """A manifest or index as fetched: the verified raw bytes and the parsed object."""

    digest: str
    media_type: str
    raw: RawManifest
    parsed: Manifest

    @property
    def json(self) -> dict[str, Any]:
        return self.parsed.raw


@dataclass(frozen=True)
class ResolvedImage:
    """A reference resolved down to one platform's image manifest and config.

    `index` is set when the reference names an index/list; `platforms` and `attestations` come
    from it (or, for a single manifest, `platforms` is empty). `manifest` and `config` are None
    only when `resolve_image(..., require_platform=False)` found no matching platform.
    """

    reference: ImageReference
    digest: str
    media_type: str
    top: FetchedManifest
    requested_platform: Platform
    explicit_platform: bool
    descriptor: Descriptor | None = None
    manifest_digest: str | None = None
    manifest_media_type: str | None = None
    manifest_size: int | None = None
    manifest: ImageManifest | None = None
    config_digest: str | None = None
    config: ImageConfig | None = None

    @property
    def index(self) -> ImageIndex | None:
        return self.top.parsed if isinstance(self.top.parsed, ImageIndex) else None

    @property
    def platforms(self) -> list[Descriptor]:
        return self.index.runnable if self.index else []

    @property
    def attestations(self) -> list[Descriptor]:
        return self.index.attestations if self.index else []

    @property
    def attestation(self) -> Descriptor | None:
        """The attestation manifest describing the chosen platform manifest (for SBOMs)."""
        if self.index is None or self.manifest_digest is None:
            return None
        return self.index.attestation_for(self.manifest_digest)

    @property
    def platform(self) -> Platform | None:
        if self.config is not None and self.config.architecture:
            return self.config.platform
        return self.descriptor.platform if self.descriptor else None

    @property
    def pinned(self) -> ImageReference:
        """The reference pinned to the chosen platform manifest's digest."""
        return self.reference.with_digest(self.manifest_digest or self.digest)

    def require(self) -> tuple[ImageManifest, ImageConfig]:
        if self.manifest is None or self.config is None:
            raise _platform_error(self, self.requested_platform)
        return self.manifest, self.config


def _as_reference(image: str | ImageReference) -> ImageReference:
    return parse_reference(image) if isinstance(image, str) else image


def fetch_manifest(
    service: DockerHubService, ref: ImageReference, reference: str | None = None
) -> FetchedManifest:
    """GET a manifest by tag or digest (verified), parsed. Reuse for attestation manifests."""
    raw = service.registry.get_manifest(ref, reference)
    what = f"manifest {ref.familiar_name}@{raw.digest}"
    parsed = parse_manifest(raw.body, raw.media_type, what=what)
    return FetchedManifest(raw.digest, parsed.media_type, raw, parsed)


def fetch_config(
    service: DockerHubService, ref: ImageReference, manifest: ImageManifest
) -> ImageConfig:
    media_type = manifest.config.media_type.lower()
    if media_type not in IMAGE_CONFIG_TYPES and media_type != ATTESTATION_CONFIG:
        raise UnsupportedMediaTypeError(
            f"{ref} is not a container image: its config has media type {media_type!r}",
            hint="it is an OCI artifact (e.g. a Helm chart or signature); use `dockerhub manifest`",
        )
    body = service.registry.get_blob(ref, manifest.config.digest, what="image config")
    return parse_config(body, what=f"image config of {ref}")


def resolve_top(service: DockerHubService, image: str | ImageReference) -> FetchedManifest:
    """What the reference points at: by digest, or the tag's manifest (see
    `RegistryClient.get_tag_manifest` for the request economy)."""
    ref = _as_reference(image)
    try:
        if ref.digest:
            return fetch_manifest(service, ref, ref.digest)
        raw = service.registry.get_tag_manifest(ref)
    except NotFoundError as exc:
        raise _not_found(service, ref, exc) from None
    what = f"manifest {ref.familiar_name}@{raw.digest}"
    parsed = parse_manifest(raw.body, raw.media_type, what=what)
    return FetchedManifest(raw.digest, parsed.media_type, raw, parsed)


def _not_found(service: DockerHubService, ref: ImageReference, exc: NotFoundError) -> NotFoundError:
    """Name what is missing. Registries (distribution among them) answer MANIFEST_UNKNOWN for
    a repository that does not exist too, so on this error path one `tags/list` request tells
    a missing repository from a missing tag."""
    text = str(exc)
    if isinstance(exc, PlatformNotFoundError) or text.startswith("repository "):
        return exc
    repo = ref.familiar_name
    if ref.digest:
        return NotFoundError(
            f"manifest {ref.digest} not found in {repo}",
            hint="check the digest; it may have been deleted",
        )
    try:
        first_page = next(iter(service.registry.iter_tag_pages(ref, page_size=100)), [])
    except NotFoundError as repo_missing:
        return repo_missing
    except DockerHubError:
        first_page = None
    if first_page == []:
        return NotFoundError(
            f"tag {ref.tag!r} not found: repository {repo} has no tags",
            hint="check the repository name",
        )
    return NotFoundError(
        f"tag {ref.tag!r} not found in {repo}",
        hint=f"list the tags with `dockerhub tags {repo}`",
    )


def resolve_image(
    service: DockerHubService,
    image: str | ImageReference,
    platform: str | None = None,
    *,
    require_platform: bool = True,
    with_config: bool = True,
) -> ResolvedImage:
    """Resolve `image` to one platform's manifest and config.

    `platform` None means the default (`settings.platform`). For a single-manifest image an
    explicit platform must match the config; the default does not (there is nothing to choose).
    With `require_platform=False` a missing platform leaves `manifest`/`config` as None instead
    of raising PlatformNotFoundError.
    """
    ref = _as_reference(image)
    explicit = platform is not None
    wanted = parse_platform(platform if platform is not None else service.settings.platform)
    top = resolve_top(service, ref)
    base = ResolvedImage(
        reference=ref,
        digest=top.digest,
        media_type=top.media_type,
        top=top,
        requested_platform=wanted,
        explicit_platform=explicit,
    )
    if isinstance(top.parsed, ImageIndex):
        index = top.parsed
        chosen = select_platform(wanted, [(d.platform, d) for d in index.runnable if d.platform])
        if chosen is None:
            if require_platform:
                raise _platform_error(base, wanted)
            return base
        descriptor = chosen[1]
        if descriptor.media_type in INDEX_TYPES:
            raise UnsupportedMediaTypeError(
                f"{ref} nests an index for {descriptor.platform}; nested indexes are not supported",
                hint=f"inspect it by digest: {ref.familiar_name}@{descriptor.digest}",
            )
        fetched = fetch_manifest(service, ref, descriptor.digest)
        if not isinstance(fetched.parsed, ImageManifest):
            raise UnsupportedMediaTypeError(
                f"{ref}: the {descriptor.platform} entry is not an image manifest"
            )
        manifest, manifest_fetched = fetched.parsed, fetched
    else:
        descriptor = None
        manifest, manifest_fetched = top.parsed, top
    config = fetch_config(service, ref, manifest) if with_config else None
    resolved = ResolvedImage(
        reference=ref,
        digest=top.digest,
        media_type=top.media_type,
        top=top,
        requested_platform=wanted,
        explicit_platform=explicit,
        descriptor=descriptor,
        manifest_digest=manifest_fetched.digest,
        manifest_media_type=manifest.media_type,
        manifest_size=len(manifest_fetched.raw.body),
        manifest=manifest,
        config_digest=manifest.config.digest,
        config=config,
    )
    if descriptor is None and explicit and config is not None and config.architecture:
        if select_platform(wanted, [(config.platform, None)]) is None:
            raise _platform_error(resolved, wanted)
    return resolved


def _platform_error(resolved: ResolvedImage, wanted: Platform) -> PlatformNotFoundError:
    if resolved.index is not None:
        available = [str(d.platform) for d in resolved.platforms if d.platform]
    else:
        available = [str(resolved.platform)] if resolved.platform else []
    listing = ", ".join(available) or "none"
    return PlatformNotFoundError(
        f"{resolved.reference} has no image for platform {wanted}; available: {listing}",
        available=available,
        hint="pick one with --platform" if available else "this index lists no runnable image",
    )


# -- small converters ------------------------------------------------------------------------


def platform_info(platform: Platform | None) -> PlatformInfo:
    if platform is None:
        return PlatformInfo(os="unknown", architecture="unknown")
    return PlatformInfo(
        os=platform.os,
        architecture=platform.architecture,
        variant=platform.variant,
        os_version=platform.os_version,
    )


def _timestamp(value: str | None) -> Any:
    from dockerhub_cli.service import parse_timestamp

    return parse_timestamp(value)


def config_info(config: ImageConfig) -> ImageConfigInfo:
    return ImageConfigInfo(
        env=config.env,
        entrypoint=config.entrypoint,
        cmd=config.cmd,
        working_dir=config.working_dir,
        user=config.user,
        exposed_ports=config.exposed_ports,
        volumes=config.volumes,
        labels=config.labels,
        stop_signal=config.stop_signal,
        healthcheck=config.healthcheck,
        shell=config.shell,
        on_build=config.on_build,
        author=config.author,
    )


def base_image_of(resolved: ResolvedImage) -> BaseImageInfo | None:
    """The base image named by OCI annotations (manifest or index entry) or labels."""
    for source, values in (
        ("annotation", resolved.manifest.annotations if resolved.manifest else {}),
        ("annotation", resolved.descriptor.annotations if resolved.descriptor else {}),
        ("label", resolved.config.labels if resolved.config else {}),
    ):
        name, digest = values.get(BASE_NAME), values.get(BASE_DIGEST)
        if name or digest:
            return BaseImageInfo(name=name, digest=digest, source=source)
    return None


# -- inspect ---------------------------------------------------------------------------------


def inspect_image(
    service: DockerHubService, image: str, *, platform: str | None = None
) -> ImageInspection:
    ref = parse_reference(image)
    resolved = resolve_image(service, ref, platform, require_platform=platform is not None)
    notes: list[str] = []
    sizes = _platform_sizes(service, resolved, notes)
    entries: list[PlatformEntry] = []
    if resolved.index is not None:
        for d in resolved.platforms:
            p = d.platform or Platform("unknown", "unknown")
            entries.append(
                PlatformEntry(
                    platform=str(p),
                    os=p.os,
                    architecture=p.architecture,
                    variant=p.variant,
                    os_version=p.os_version,
                    digest=d.digest,
                    media_type=d.media_type,
                    manifest_size=d.size,
                    size=sizes.get(d.digest),
                )
            )
    elif resolved.manifest is not None and resolved.manifest_digest:
        p = resolved.platform or Platform("unknown", "unknown")
        entries.append(
            PlatformEntry(
                platform=str(p),
                os=p.os,
                architecture=p.architecture,
                variant=p.variant,
                os_version=p.os_version,
                digest=resolved.manifest_digest,
                media_type=resolved.manifest_media_type or "",
                manifest_size=resolved.manifest_size or 0,
                size=resolved.manifest.total_size,
            )
        )
    by_digest = {d.digest: d for d in resolved.platforms}
    attestations = [
        AttestationEntry(
            digest=a.digest,
            media_type=a.media_type,
            size=a.size,
            reference_digest=a.attests,
            platform=str(by_digest[a.attests].platform)
            if a.attests in by_digest and by_digest[a.attests].platform
            else None,
        )
        for a in resolved.attestations
    ]
    manifest, config = resolved.manifest, resolved.config
    if manifest is None:
        notes.append(
            f"no image for {resolved.requested_platform} in this index; "
            "pass --platform with one of the platforms listed to see its details"
        )
    repo_info = None
    tag_facts: dict[str, Any] = {}
    if ref.hub_namespace_and_name is not None:
        try:
            repo_info = repository_info(service, ref.repository)
        except DockerHubError as exc:
            notes.append(f"Docker Hub repository facts unavailable: {exc}")
        tag_facts = _hub_tag_facts(service, ref, notes)
    return ImageInspection(
        reference=str(ref),
        registry=ref.domain,
        repository=ref.path,
        tag=ref.tag,
        digest=resolved.digest,
        media_type=resolved.media_type,
        manifest_digest=resolved.manifest_digest,
        manifest_media_type=resolved.manifest_media_type,
        platform=platform_info(resolved.platform) if manifest else None,
        platforms=entries,
        attestations=attestations,
        created=_timestamp(config.created) if config else None,
        size=manifest.total_size if manifest else None,
        layer_count=len(manifest.layers) if manifest else None,
        config=config_info(config) if config else None,
        base_image=base_image_of(resolved) if manifest else None,
        annotations=manifest.annotations
        if manifest
        else resolved.index.annotations
        if resolved.index
        else {},
        repository_info=repo_info,
        tag_last_pushed=_timestamp(tag_facts.get("tag_last_pushed")),
        tag_last_pulled=_timestamp(tag_facts.get("tag_last_pulled")),
        notes=notes,
    )


def _hub_tag_facts(
    service: DockerHubService, ref: ImageReference, notes: list[str]
) -> dict[str, Any]:
    """The Hub's tag object (last pushed / pulled) for a tag reference on Docker Hub; the same
    URL `_platform_sizes` reads, so at most one request between them (HTTP cache)."""
    hub_name = ref.hub_namespace_and_name
    if hub_name is None or not ref.tag or ref.digest:
        return {}
    namespace, name = hub_name
    try:
        body = service.hub.get_json(
            f"/v2/namespaces/{namespace}/repositories/{name}/tags/{ref.tag}",
            what=f"tag {ref.familiar_name}:{ref.tag}",
        )
    except DockerHubError as exc:
        notes.append(f"Docker Hub tag facts (last pushed, last pulled) unavailable: {exc}")
        return {}
    return body if isinstance(body, dict) else {}


def _platform_sizes(
    service: DockerHubService, resolved: ResolvedImage, notes: list[str]
) -> dict[str, int]:
    """Compressed size per platform manifest digest, as cheaply as possible.

    The chosen platform is already fetched. On Docker Hub the Hub tag API has the other sizes
    (one request, no pull counted); elsewhere the platform manifests are fetched by digest
    (immutable, cached forever, and no pull limit).
    """
    sizes: dict[str, int] = {}
    if resolved.manifest is not None and resolved.manifest_digest:
        sizes[resolved.manifest_digest] = resolved.manifest.total_size
    missing = [d for d in resolved.platforms if d.digest not in sizes]
    if not missing:
        return sizes
    ref = resolved.reference
    hub_name = ref.hub_namespace_and_name
    if hub_name is not None:
        if not ref.tag or ref.digest:
            return sizes
        namespace, name = hub_name
        try:
            body = service.hub.get_json(
                f"/v2/namespaces/{namespace}/repositories/{name}/tags/{ref.tag}",
                what=f"tag {ref.familiar_name}:{ref.tag}",
            )
        except DockerHubError as exc:
            notes.append(f"sizes of the other platforms unavailable: {exc}")
            return sizes
        images = body.get("images") if isinstance(body, dict) else None
        for img in images if isinstance(images, list) else []:
            if isinstance(img, dict) and isinstance(img.get("size"), int) and img.get("digest"):
                sizes.setdefault(str(img["digest"]), int(img["size"]))
        return sizes
    for d in missing:
        if d.media_type in INDEX_TYPES:
            continue
        try:
            fetched = fetch_manifest(service, ref, d.digest)
        except DockerHubError as exc:
            notes.append(f"size of {d.platform} unavailable: {exc}")
            continue
        if isinstance(fetched.parsed, ImageManifest):
            sizes[d.digest] = fetched.parsed.total_size
    return sizes


# -- repository facts ------------------------------------------------------------------------


def repository_info(service: DockerHubService, repository: str) -> RepositoryInfo:
    """Docker Hub repository facts. Other registries have no such API: InvalidInputError."""
    ref = parse_reference(repository, default_tag=False)
    ref = ImageReference(ref.domain, ref.path)
    hub_name = ref.hub_namespace_and_name
    if hub_name is None:
        where = ref.domain if not ref.is_docker_hub else "Docker Hub (three-level path)"
        raise InvalidInputError(
            f"repository facts (description, stars, pulls) exist only for Docker Hub "
            f"repositories; {ref.familiar_name} is on {where}",
            hint="use `dockerhub tags` or `dockerhub inspect` for registry data",
        )
    namespace, name = hub_name
    body = service.hub.repository(namespace, name)
    if not isinstance(body, dict):
        body = {}
    tag_count = None
    try:
        tags = service.hub.tags_page(namespace, name, page=1, page_size=1)
        if isinstance(tags, dict) and isinstance(tags.get("count"), int):
            tag_count = tags["count"]
    except DockerHubError:
        pass
    url = f"https://hub.docker.com/{'_' if namespace == 'library' else 'r/' + namespace}/{name}"

    def _int(key: str) -> int | None:
        value = body.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def _list(key: str) -> list[Any]:
        value = body.get(key)
        return value if isinstance(value, list) else []

    categories = [
        str(c.get("name") or c.get("slug")) for c in _list("categories") if isinstance(c, dict)
    ]
    immutable = body.get("immutable_tags_settings")
    immutable = immutable if isinstance(immutable, dict) else {}
    enabled = immutable.get("enabled")
    return RepositoryInfo(
        repository=ref.familiar_name,
        namespace=namespace,
        name=name,
        description=body.get("description") or None,
        full_description=body.get("full_description") or None,
        star_count=_int("star_count"),
        pull_count=_int("pull_count"),
        last_updated=_timestamp(body.get("last_updated")),
        date_registered=_timestamp(body.get("date_registered")),
        tag_count=tag_count,
        is_private=body.get("is_private") if isinstance(body.get("is_private"), bool) else None,
        is_official=namespace == "library",
        status=str(body["status_description"]).lower() if body.get("status_description") else None,
        repository_type=body.get("repository_type")
        if isinstance(body.get("repository_type"), str)
        else None,
        media_types=[str(m) for m in _list("media_types")],
        categories=categories,
        storage_size=_int("storage_size"),
        url=url,
        content_types=[str(c) for c in _list("content_types") if isinstance(c, str)],
        immutable_tags=enabled if isinstance(enabled, bool) else None,
        immutable_tags_rules=[str(r) for r in immutable.get("rules") or [] if isinstance(r, str)]
        if isinstance(immutable.get("rules"), list)
        else [],
    )


# -- layers and history ----------------------------------------------------------------------


def history_steps(
    manifest: ImageManifest, config: ImageConfig
) -> tuple[list[HistoryStep], list[str]]:
    """History entries aligned to layers as Docker does: empty-layer steps take no layer."""
    steps: list[HistoryStep] = []
    notes: list[str] = []
    next_layer = 0
    for h in config.history:
        index = None
        if not h.empty_layer:
            index = next_layer if next_layer < len(manifest.layers) else None
            next_layer += 1
        layer = manifest.layers[index] if index is not None else None
        steps.append(
            HistoryStep(
                created=_timestamp(h.created),
                created_by=h.created_by,
                empty_layer=h.empty_layer,
                layer_index=index,
                comment=h.comment,
                author=h.author,
                layer_digest=layer.digest if layer else None,
                size=layer.size if layer else None,
            )
        )
    if config.history and next_layer != len(manifest.layers):
        notes.append(
            f"the history records {next_layer} layer-producing steps but the manifest has "
            f"{len(manifest.layers)} layers; the alignment is approximate"
        )
    return steps, notes


def layer_report(
    service: DockerHubService, image: str, *, platform: str | None = None
) -> LayerReport:
    resolved = resolve_image(service, image, platform)
    manifest, config = resolved.require()
    steps, notes = history_steps(manifest, config)
    by_layer = {s.layer_index: s for s in steps if s.layer_index is not None}
    total = manifest.total_size
    base = base_image_of(resolved)
    base_digests = _base_layers(service, resolved, base, notes) if base else None
    layers = []
    for i, layer in enumerate(manifest.layers):
        step = by_layer.get(i)
        layers.append(
            LayerInfo(
                index=i,
                digest=layer.digest,
                size=layer.size,
                share=round(layer.size / total, 6) if total else 0.0,
                media_type=layer.media_type,
                created=step.created if step else None,
                created_by=step.created_by if step else None,
                comment=step.comment if step else None,
                diff_id=config.diff_ids[i] if i < len(config.diff_ids) else None,
                in_base_image=(layer.digest in base_digests) if base_digests is not None else None,
            )
        )
    largest = [x.index for x in sorted(layers, key=lambda x: -x.size)[:3]]
    empty = sum(1 for s in steps if s.empty_layer)
    insights = LayerInsights(largest=largest, empty_steps=empty, notes=notes)
    if layers and total:
        top = layers[largest[0]]
        if top.share >= 0.5 and len(layers) > 1:
            notes.append(
                f"layer {top.index} is {top.share:.0%} of the image"
                + (f" ({_short(top.created_by)})" if top.created_by else "")
            )
    if empty:
        notes.append(f"{empty} of {len(steps)} build steps changed only metadata (no layer)")
    if base_digests is not None:
        shared = [x for x in layers if x.in_base_image]
        insights.base_layers = len(shared)
        insights.base_size = sum(x.size for x in shared)
        insights.own_size = total - insights.base_size
    return LayerReport(
        reference=str(resolved.reference),
        digest=resolved.manifest_digest or resolved.digest,
        platform=platform_info(resolved.platform),
        total_size=total,
        layers=layers,
        history=steps,
        insights=insights,
        base_image=base,
    )


def _short(text: str | None, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _base_layers(
    service: DockerHubService, resolved: ResolvedImage, base: BaseImageInfo, notes: list[str]
) -> set[str] | None:
    """Layer digests of the base image, same platform; None (with a note) if unreachable."""
    if not base.name:
        return None
    try:
        base_ref = parse_reference(base.name)
        if base.digest:
            base_ref = base_ref.with_digest(base.digest)
        platform = str(resolved.platform) if resolved.platform else None
        base_resolved = resolve_image(service, base_ref, platform, with_config=False)
    except DockerHubError as exc:
        notes.append(f"base image {base.name} not compared: {exc}")
        return None
    return (
        {layer.digest for layer in base_resolved.manifest.layers}
        if base_resolved.manifest
        else None
    )


def history_report(
    service: DockerHubService, image: str, *, platform: str | None = None
) -> HistoryReport:
    resolved = resolve_image(service, image, platform)
    manifest, config = resolved.require()
    steps, _ = history_steps(manifest, config)
    return HistoryReport(
        reference=str(resolved.reference),
        digest=resolved.manifest_digest or resolved.digest,
        platform=platform_info(resolved.platform),
        created=_timestamp(config.created),
        history=steps,
    )


# -- dockerfile reconstruction ---------------------------------------------------------------

INSTRUCTIONS = frozenset(
    {
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    }
)
_SHELL_PREFIX = re.compile(r"^(?:\|\d+(?:\s+\S+=\S*)*\s+)?/bin/(?:ba)?sh -c\s*")
_EXPOSE_MAP = re.compile(r"^map\[(.*)\]$")


def reconstruct_step(created_by: str, comment: str | None = None) -> tuple[str, str, str]:
    """(instruction, arguments, builder) for one history entry's `created_by`."""
    text = (created_by or "").strip()
    builder = "unknown"
    if (comment or "").startswith("buildkit.dockerfile") or text.endswith("# buildkit"):
        builder = "buildkit"
        text = text.removesuffix("# buildkit").rstrip()
    elif text.startswith(("/bin/sh -c", "/bin/bash -c", "|", "cmd /S /C")):
        builder = "classic"
    if not text:
        return "#", "(no command recorded)", builder
    if "#(nop)" in text and _SHELL_PREFIX.match(text):
        # Classic builder metadata or ADD/COPY: `/bin/sh -c #(nop)  CMD ["bash"]`.
        text = text.split("#(nop)", 1)[1].strip()
        word, _, rest = text.partition(" ")
        instruction = word.upper()
        if instruction not in INSTRUCTIONS:
            return "#", text, builder
        return instruction, _tidy(instruction, rest.strip()), builder
    shell = _SHELL_PREFIX.match(text)
    if shell:
        return "RUN", text[shell.end() :].strip(), builder
    word, _, rest = text.partition(" ")
    if word in INSTRUCTIONS:
        rest = rest.strip()
        if word == "RUN":
            inner = _SHELL_PREFIX.match(rest)
            if inner:
                rest = rest[inner.end() :].strip()
        return word, _tidy(word, rest), builder
    return "#", text, builder


def _tidy(instruction: str, args: str) -> str:
    if instruction in ("ADD", "COPY"):
        # classic: `ADD file:abc in / ` -> `ADD file:abc /`
        return re.sub(r"\s+in\s+(\S+)\s*$", r" \1", args).strip()
    if instruction == "EXPOSE":
        m = _EXPOSE_MAP.match(args)
        if m:
            return " ".join(p.removesuffix(":{}") for p in m.group(1).split())
    return args


def dockerfile_report(
    service: DockerHubService, image: str, *, platform: str | None = None
) -> DockerfileReport:
    resolved = resolve_image(service, image, platform)
    manifest, config = resolved.require()
    steps, _ = history_steps(manifest, config)
    base = base_image_of(resolved)
    ref = resolved.reference
    digest = resolved.manifest_digest or resolved.digest
    instructions: list[DockerfileInstruction] = []
    for step in steps:
        instruction, args, builder = reconstruct_step(step.created_by, step.comment)
        line = f"# {args}" if instruction == "#" else f"{instruction} {args}".rstrip()
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
    original = _original_dockerfile(service, resolved)
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


def _original_dockerfile(
    service: DockerHubService, resolved: ResolvedImage
) -> DockerfileSource | None:
    """Where the real Dockerfile lives, from the SLSA provenance attestation when the index
    has one for this platform (two more immutable, cached-forever requests); else None."""
    if resolved.attestation is None:
        return None
    from dockerhub_cli.ops import supply_chain

    image = str(resolved.reference.with_digest(resolved.digest))
    try:
        return supply_chain.dockerfile_source(service, image, str(resolved.platform))
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


# -- pull size -------------------------------------------------------------------------------


def pull_size_report(
    service: DockerHubService,
    image: str,
    *,
    platform: str | None = None,
    have: list[str] | None = None,
) -> PullSizeReport:
    from dockerhub_cli.text import human_size

    have = have or []
    if len(have) > MAX_HAVE_IMAGES:
        raise InvalidInputError(
            f"--have accepts at most {MAX_HAVE_IMAGES} images (got {len(have)})"
        )
    # The config is fetched too (one immutable blob) because for a single-manifest image it is
    # the only place that names the platform, which the --have images must then match.
    resolved = resolve_image(service, image, platform)
    manifest = resolved.manifest
    assert manifest is not None
    chosen = str(resolved.platform) if resolved.platform else platform
    present: set[str] = set()
    have_images: list[HaveImage] = []
    for other in have:
        other_resolved = resolve_image(service, other, chosen or platform)
        assert other_resolved.manifest is not None
        present.update(layer.digest for layer in other_resolved.manifest.layers)
        have_images.append(
            HaveImage(
                reference=str(other_resolved.reference),
                digest=other_resolved.manifest_digest or other_resolved.digest,
                platform=platform_info(other_resolved.platform),
                size=other_resolved.manifest.total_size,
            )
        )
    unique: dict[str, int] = {}
    for layer in manifest.layers:
        unique.setdefault(layer.digest, layer.size)
    download = {d: s for d, s in unique.items() if d not in present}
    shared = [d for d in unique if d in present]
    total = manifest.total_size
    download_size = sum(download.values())
    ref = resolved.reference
    if have_images:
        names = ", ".join(h.reference for h in have_images)
        summary = (
            f"pulling {ref} when you have {names} downloads only {human_size(download_size)} "
            f"({len(download)} of {_layers(len(unique))}; {human_size(total)} in total)"
        )
    else:
        summary = f"pulling {ref} downloads {human_size(download_size)} in {_layers(len(unique))}"
    return PullSizeReport(
        reference=str(ref),
        digest=resolved.manifest_digest or resolved.digest,
        platform=platform_info(resolved.platform),
        total_size=total,
        layer_count=len(manifest.layers),
        download_size=download_size,
        download_layer_count=len(download),
        shared_size=sum(unique[d] for d in shared),
        shared_layers=shared,
        have=have_images,
        summary=summary,
    )


def _layers(count: int) -> str:
    return f"{count} layer" if count == 1 else f"{count} layers"


# -- raw manifest ----------------------------------------------------------------------------


def manifest_report(
    service: DockerHubService, image: str, *, platform: str | None = None
) -> ManifestReport:
    """The manifest or index the reference resolves to, as JSON; with `platform`, the chosen
    platform's image manifest (its index digest alongside)."""
    ref = parse_reference(image)
    if platform is None:
        top = resolve_top(service, ref)
        return ManifestReport(
            reference=str(ref),
            digest=top.digest,
            media_type=top.media_type,
            size=len(top.raw.body),
            manifest=load_json(top.raw.body, "manifest"),
        )
    resolved = resolve_image(service, ref, platform)
    assert resolved.manifest is not None
    return ManifestReport(
        reference=str(ref),
        digest=resolved.manifest_digest or resolved.digest,
        media_type=resolved.manifest_media_type or resolved.media_type,
        size=resolved.manifest_size or 0,
        platform=platform_info(resolved.platform),
        index_digest=resolved.digest if resolved.index is not None else None,
        manifest=resolved.manifest.raw,
    )


__all__ = [
    "FetchedManifest",
    "ResolvedImage",
    "fetch_config",
    "fetch_manifest",
    "resolve_image",
    "resolve_top",
    "inspect_image",
    "layer_report",
    "history_report",
    "dockerfile_report",
    "pull_size_report",
    "manifest_report",
    "repository_info",
    "reconstruct_step",
    "history_steps",
]
