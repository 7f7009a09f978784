"""Image internals: resolve a reference to one platform's manifest and config, and build the
results of `inspect`, `layers`, `history`, `dockerfile`, `size` and `manifest`.

Economy: a tag costs one GET on a cold cache (its body is cached under its digest too), nothing
while fresh, and one HEAD (free against Docker Hub's pull limit) once expired; everything after
that is fetched by digest, which is immutable and cached forever. `resolve_image` is the
building block for other features (compare, SBOM): it is thread-safe as long as the service is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dockerhub_cli import advice, limits
from dockerhub_cli.errors import (
    DockerHubError,
    InvalidInputError,
    NotAnImageError,
    NotFoundError,
    OfflineCacheMissError,
    PlatformNotFoundError,
    UnsupportedMediaTypeError,
    UpstreamError,
)
from dockerhub_cli.models.images import (
    AttestationEntry,
    BaseImageInfo,
    ImageConfigInfo,
    ImageInspection,
    PlatformEntry,
    PlatformInfo,
)
from dockerhub_cli.oci.manifest import (
    ATTESTATION_CONFIG,
    BASE_DIGEST,
    BASE_NAME,
    DOCKER_CONFIG,
    GENERIC_TYPES,
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
    same_content_other_digest,
    stored_uncompressed,
)
from dockerhub_cli.oci.platform import Platform, parse_platform, platform_matches, select_platform
from dockerhub_cli.oci.reference import ImageReference, parse_reference
from dockerhub_cli.oci.source import parse_source
from dockerhub_cli.oci.timestamp import parse_timestamp

if TYPE_CHECKING:
    from dockerhub_cli.models.layers import (
        HaveImage,
        HistoryReport,
        HistoryStep,
        LayerReport,
        ManifestReport,
        PullSizeReport,
    )
    from dockerhub_cli.ops.clients import Clients
    from dockerhub_cli.remote.registry import RawManifest

IMAGE_CONFIG_TYPES = frozenset({DOCKER_CONFIG, OCI_CONFIG, ""})
MAX_HAVE_IMAGES = limits.MAX_HAVE_IMAGES
MAX_INDEX_DEPTH = 4  # index -> index -> ... levels followed below the top index
MAX_UNPLATFORMED_PROBES = 8  # entries without a platform whose configs are read to choose
MAX_GENERIC_CONFIG_BYTES = 4 * 1024 * 1024
NO_PLATFORM = "no platform"


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
    descriptor: Descriptor | None = None
    manifest_digest: str | None = None
    manifest_media_type: str | None = None
    manifest_size: int | None = None
    manifest: ImageManifest | None = None
    config_digest: str | None = None
    config: ImageConfig | None = None
    expanded: ImageIndex | None = None

    @property
    def index(self) -> ImageIndex | None:
        """The index the reference names, nested indexes flattened into it (`expand_index`)."""
        if self.expanded is not None:
            return self.expanded
        return self.top.parsed if isinstance(self.top.parsed, ImageIndex) else None

    @property
    def without_platform(self) -> list[Descriptor]:
        return self.index.without_platform if self.index else []

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
    def index_platform(self) -> Platform | None:
        """The platform the index entry names (None for a single manifest or an entry
        without one)."""
        return self.descriptor.platform if self.descriptor else None

    @property
    def config_platform(self) -> Platform | None:
        if self.config is not None and self.config.architecture:
            return self.config.platform
        return None

    @property
    def platform_source(self) -> str | None:
        """Which platform the selection used: "index" (the entry's) or "config"."""
        if self.index_platform is not None:
            return "index"
        return "config" if self.config_platform is not None else None

    @property
    def platform(self) -> Platform | None:
        """The platform the selection used (the index entry's, else the config's); what the
        index entry leaves out (variant, os.version, os.features) is filled from the config
        when both name the same os/architecture."""
        entry, config = self.index_platform, self.config_platform
        if entry is None:
            return config
        if config is None:
            return entry
        e, c = entry.normalized(), config.normalized()
        if (e.os, e.architecture) != (c.os, c.architecture):
            return entry
        return Platform(
            entry.os,
            entry.architecture,
            entry.variant or (config.variant if (e.variant or "") == (c.variant or "") else None),
            entry.os_version or config.os_version,
            entry.os_features or config.os_features,
        )

    @property
    def pinned(self) -> ImageReference:
        """The reference pinned to the chosen platform manifest's digest."""
        return self.reference.with_digest(self.manifest_digest or self.digest)

    def require(self) -> tuple[ImageManifest, ImageConfig]:
        if self.manifest is None or self.config is None:
            raise _platform_error(self, self.requested_platform)
        return self.manifest, self.config


def _as_reference(image: str | ImageReference) -> ImageReference:
    """A registry reference or a local source (`oci:DIR[:REF]`, ...: see oci/source.py)."""
    return parse_source(image) if isinstance(image, str) else image


def fetch_manifest(
    clients: Clients, ref: ImageReference, reference: str | None = None
) -> FetchedManifest:
    """GET a manifest by tag or digest (verified), parsed. Reuse for attestation manifests."""
    raw = clients.client_for(ref).get_manifest(ref, reference)
    what = f"manifest {ref.familiar_name}@{raw.digest}"
    parsed = parse_manifest(raw.body, raw.media_type, what=what)
    return FetchedManifest(raw.digest, parsed.media_type, raw, parsed)


def fetch_config(clients: Clients, ref: ImageReference, manifest: ImageManifest) -> ImageConfig:
    """The image config. A descriptor with a generic type (`application/octet-stream`, as
    some Docker schema 2 images in the wild have; skopeo and Docker read them) is accepted by
    its content, as containerd does; any other non-config type is an artifact (exit 7)."""
    media_type = manifest.config.media_type.lower()
    generic = media_type in GENERIC_TYPES
    if not generic and media_type not in IMAGE_CONFIG_TYPES and media_type != ATTESTATION_CONFIG:
        raise _not_an_image(ref, f"its config has media type {media_type!r}")
    if generic and manifest.config.size > MAX_GENERIC_CONFIG_BYTES:
        raise _not_an_image(
            ref, f"its config is a {manifest.config.size}-byte {media_type or 'untyped'} blob"
        )
    body = clients.client_for(ref).get_blob(ref, manifest.config.digest, what="image config")
    config = parse_config(body, what=f"image config of {ref}")
    if generic and not _looks_like_config(config.raw):
        raise _not_an_image(
            ref, f"its config ({media_type or 'no media type'}) is not an image config"
        )
    return config


def _looks_like_config(data: dict[str, Any]) -> bool:
    """An image config by content: a `rootfs` object, or `os` and `architecture` strings."""
    if isinstance(data.get("rootfs"), dict):
        return True
    return isinstance(data.get("os"), str) and isinstance(data.get("architecture"), str)


def _not_an_image(ref: ImageReference, why: str) -> NotAnImageError:
    return NotAnImageError(
        f"{ref} is not a container image: {why}",
        hint="it is an OCI artifact (e.g. a Helm chart or signature); "
        f"{advice.command('manifest')} shows it",
    )


def expand_index(clients: Clients, ref: ImageReference, top: FetchedManifest) -> ImageIndex | None:
    """The index `top` is, with nested indexes (index -> index -> images, which the
    image-spec allows) flattened in place, depth first, in index order; an image entry without
    a platform takes the one its parent index entry names. At most MAX_INDEX_DEPTH levels; an
    index that contains itself (a cycle) is refused."""
    if not isinstance(top.parsed, ImageIndex):
        return None
    if not top.parsed.nested:
        return top.parsed
    entries: list[Descriptor] = []

    def walk(index: ImageIndex, ancestors: tuple[str, ...], inherited: Platform | None) -> None:
        nested = index.nested
        for entry in index.manifests:
            if entry not in nested:
                if inherited is not None and entry.has_no_platform:
                    entry = replace(entry, platform=inherited)  # the parent entry's platform
                entries.append(entry)
                continue
            if entry.digest in ancestors:
                raise UpstreamError(
                    f"{ref}: the index {entry.digest} contains itself (a cycle); refusing it"
                )
            if len(ancestors) > MAX_INDEX_DEPTH:
                raise UpstreamError(
                    f"{ref}: indexes nested more than {MAX_INDEX_DEPTH} deep; refusing them"
                )
            child = fetch_manifest(clients, ref, entry.digest)
            if not isinstance(child.parsed, ImageIndex):
                raise UpstreamError(f"{ref}: entry {entry.digest} says index but is a manifest")
            walk(child.parsed, (*ancestors, entry.digest), entry.platform or inherited)

    walk(top.parsed, (top.digest,), None)
    return ImageIndex(
        media_type=top.parsed.media_type,
        manifests=entries,
        annotations=top.parsed.annotations,
        raw=top.parsed.raw,
    )


def choose_entry(
    clients: Clients,
    ref: ImageReference,
    index: ImageIndex,
    wanted: Platform,
) -> tuple[Descriptor, FetchedManifest | None, ImageConfig | None] | None:
    """The index entry for `wanted`, by the rules of platforms.py (the one place a platform is
    chosen). Entries without a platform are tried last, by their config's platform (fetched:
    immutable, cached), as containerd does; the fetched manifest and config come back too."""
    chosen = select_platform(wanted, [(d.platform, d) for d in index.runnable if d.platform])
    if chosen is not None:
        return chosen[1], None, None
    for entry in index.without_platform[:MAX_UNPLATFORMED_PROBES]:
        fetched = fetch_manifest(clients, ref, entry.digest)
        if not isinstance(fetched.parsed, ImageManifest):
            continue
        try:
            config = fetch_config(clients, ref, fetched.parsed)
        except NotAnImageError:
            continue
        if config.architecture and platform_matches(wanted, config.platform):
            return entry, fetched, config
    return None


def resolve_top(clients: Clients, image: str | ImageReference) -> FetchedManifest:
    """What the reference points at: by digest, or the tag's manifest (see
    `RegistryClient.get_tag_manifest` for the request economy)."""
    ref = _as_reference(image)
    try:
        if ref.digest:
            return fetch_manifest(clients, ref, ref.digest)
        raw = clients.client_for(ref).get_tag_manifest(ref)
    except NotFoundError as exc:
        raise _not_found(clients, ref, exc) from None
    what = f"manifest {ref.familiar_name}@{raw.digest}"
    parsed = parse_manifest(raw.body, raw.media_type, what=what)
    return FetchedManifest(raw.digest, parsed.media_type, raw, parsed)


def _not_found(clients: Clients, ref: ImageReference, exc: NotFoundError) -> NotFoundError:
    """Name what is missing. Registries (distribution among them) answer MANIFEST_UNKNOWN for
    a repository that does not exist too, so on this error path one `tags/list` request tells
    a missing repository from a missing tag."""
    text = str(exc)
    if ref.is_local or isinstance(exc, PlatformNotFoundError) or text.startswith("repository "):
        return exc
    repo = ref.familiar_name
    if ref.digest:
        return NotFoundError(
            f"manifest {ref.digest} not found in {repo}",
            hint="check the digest; it may have been deleted",
        )
    try:
        first_page = next(iter(clients.registry.iter_tag_pages(ref, page_size=100)), [])
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
        hint=f"list the tags with {advice.command('tags', str(repo))}",
    )


def requested_platform(clients: Clients, platform: str | None) -> Platform:
    """The platform asked for: `platform`, else the default (DOCKERHUB_PLATFORM or the config
    file, validated by the same parser when the settings were read)."""
    return parse_platform(platform if platform is not None else clients.settings.platform)


def resolve_image(
    clients: Clients,
    image: str | ImageReference,
    platform: str | None = None,
    *,
    require_platform: bool = True,
    with_config: bool = True,
    with_manifest: bool = True,
) -> ResolvedImage:
    """Resolve `image` to one platform's manifest and config.

    `platform` None means the default (`settings.platform`). For a single-manifest image an
    explicit platform must match the config; the default does not (there is nothing to choose).
    With `require_platform=False` a missing platform leaves `manifest`/`config` as None instead
    of raising PlatformNotFoundError. With `with_manifest=False` nothing past the choice of
    index entry is fetched: the result names the entry (`descriptor`, and the `config` when
    choosing it needed one) but holds no platform manifest (attestation lookups need no more).
    """
    ref = _as_reference(image)
    explicit = platform is not None
    wanted = requested_platform(clients, platform)
    top = resolve_top(clients, ref)
    base = ResolvedImage(
        reference=ref,
        digest=top.digest,
        media_type=top.media_type,
        top=top,
        requested_platform=wanted,
    )
    expanded = expand_index(clients, ref, top)
    config: ImageConfig | None = None
    if expanded is not None:
        base = replace(base, expanded=expanded)
        choice = choose_entry(clients, ref, expanded, wanted)
        if choice is None:
            if require_platform:
                raise _platform_error(base, wanted)
            return base
        descriptor, fetched, config = choice
        if not with_manifest:
            return replace(base, descriptor=descriptor, config=config)
        if fetched is None:
            fetched = fetch_manifest(clients, ref, descriptor.digest)
        if not isinstance(fetched.parsed, ImageManifest):
            raise UnsupportedMediaTypeError(
                f"{ref}: the {descriptor.platform or 'no-platform'} entry is not an image manifest"
            )
        manifest, manifest_fetched = fetched.parsed, fetched
    else:
        descriptor = None
        assert isinstance(top.parsed, ImageManifest)
        manifest, manifest_fetched = top.parsed, top
        if explicit:
            config = check_single_platform(clients, ref, top, wanted, strict=with_config)
        if not with_manifest:
            return replace(base, config=config) if config is not None else base
    if config is None and with_config:
        config = fetch_config(clients, ref, manifest)
    return ResolvedImage(
        reference=ref,
        digest=top.digest,
        media_type=top.media_type,
        top=top,
        requested_platform=wanted,
        descriptor=descriptor,
        manifest_digest=manifest_fetched.digest,
        manifest_media_type=manifest.media_type,
        manifest_size=len(manifest_fetched.raw.body),
        manifest=manifest,
        config_digest=manifest.config.digest,
        config=config,
        expanded=expanded,
    )


def check_single_platform(
    clients: Clients,
    ref: ImageReference,
    top: FetchedManifest,
    wanted: Platform,
    *,
    strict: bool = False,
) -> ImageConfig | None:
    """An explicit platform checked against a single manifest, whose config is the only place
    it names its platform (one GET, cached forever): PlatformNotFoundError (exit 3) when they
    differ, so every command answers a wrong --platform alike. The config is returned; with
    `strict` False one that is not an image config (an artifact) is None and not checked."""
    assert isinstance(top.parsed, ImageManifest)
    manifest = top.parsed
    config = (
        fetch_config(clients, ref, manifest) if strict else platform_config(clients, ref, manifest)
    )
    if config is not None and config.architecture:
        if select_platform(wanted, [(config.platform, None)]) is None:
            resolved = ResolvedImage(
                reference=ref,
                digest=top.digest,
                media_type=top.media_type,
                top=top,
                requested_platform=wanted,
                config=config,
            )
            raise _platform_error(resolved, wanted)
    return config


def platform_config(
    clients: Clients, ref: ImageReference, manifest: ImageManifest
) -> ImageConfig | None:
    """The config of a single manifest, read for its platform only: None when it is not an
    image config (an artifact: its platform is unknown) or when --offline lacks it."""
    try:
        return fetch_config(clients, ref, manifest)
    except (NotAnImageError, OfflineCacheMissError):
        return None


def _platform_error(resolved: ResolvedImage, wanted: Platform) -> PlatformNotFoundError:
    unplatformed = []
    if resolved.index is not None:
        available = [d.platform.full for d in resolved.platforms if d.platform]
        unplatformed = [d.digest for d in resolved.without_platform]
    else:
        available = [resolved.platform.full] if resolved.platform else []
    listing = ", ".join(available + [f"no platform ({d})" for d in unplatformed]) or "none"
    if available:
        hint = f"pick one with {advice.param('platform')}"
    elif unplatformed:
        hint = (
            "its entries name no platform and their configs do not match; inspect one by"
            f" digest: {resolved.reference.familiar_name}@{unplatformed[0]}"
        )
    else:
        hint = "this index lists no runnable image"
    return PlatformNotFoundError(
        f"{resolved.reference} has no image for platform {wanted.full}; available: {listing}",
        available=available,
        hint=hint,
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
        os_features=list(platform.os_features),
    )


def _maybe_platform(platform: Platform | None) -> PlatformInfo | None:
    return platform_info(platform) if platform is not None else None


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


def inspect_image(clients: Clients, image: str, *, platform: str | None = None) -> ImageInspection:
    ref = parse_source(image)
    resolved = resolve_image(clients, ref, platform, require_platform=platform is not None)
    notes: list[str] = []
    sizes = _platform_sizes(clients, resolved, notes)
    entries: list[PlatformEntry] = []
    if resolved.index is not None:
        entries.extend(
            _platform_entry(d.platform, d, sizes.get(d.digest)) for d in resolved.platforms
        )
        entries.extend(
            _platform_entry(None, d, sizes.get(d.digest)) for d in resolved.without_platform
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
                os_features=list(p.os_features),
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
        if resolved.platforms:
            notes.append(
                f"no image for {resolved.requested_platform.full} in this index; "
                f"pass {advice.param('platform')} with one of the platforms listed to see "
                "its details"
            )
        elif resolved.without_platform:
            notes.append(
                f"no image for {resolved.requested_platform.full} in this index: its entries"
                " name no platform and their configs name another; inspect one by digest"
            )
        else:
            notes.append("this index lists no runnable image")
    repo_info = None
    tag_facts: dict[str, Any] = {}
    if ref.hub_namespace_and_name is not None:
        from dockerhub_cli.ops.hub_catalog import repository_info  # Docker Hub only

        try:
            repo_info = repository_info(clients.hub, ref.repository)
        except DockerHubError as exc:
            notes.append(f"Docker Hub repository facts unavailable: {advice.describe(exc)}")
        tag_facts = _hub_tag_facts(clients, ref, notes)
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
        platform_source=resolved.platform_source if manifest else None,
        index_platform=_maybe_platform(resolved.index_platform) if manifest else None,
        config_platform=_maybe_platform(resolved.config_platform) if manifest else None,
        platforms=entries,
        attestations=attestations,
        created=parse_timestamp(config.created) if config else None,
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
        tag_last_pushed=parse_timestamp(tag_facts.get("tag_last_pushed")),
        tag_last_pulled=parse_timestamp(tag_facts.get("tag_last_pulled")),
        notes=notes,
    )


def _hub_tag_facts(clients: Clients, ref: ImageReference, notes: list[str]) -> dict[str, Any]:
    """The Hub's tag object (last pushed / pulled) for a tag reference on Docker Hub; the same
    URL `_platform_sizes` reads, so at most one request between them (HTTP cache)."""
    hub_name = ref.hub_namespace_and_name
    if hub_name is None or not ref.tag or ref.digest:
        return {}
    namespace, name = hub_name
    try:
        body = clients.hub.get_json(
            f"/v2/namespaces/{namespace}/repositories/{name}/tags/{ref.tag}",
            what=f"tag {ref.familiar_name}:{ref.tag}",
        )
    except DockerHubError as exc:
        notes.append(
            f"Docker Hub tag facts (last pushed, last pulled) unavailable: {advice.describe(exc)}"
        )
        return {}
    return body if isinstance(body, dict) else {}


def _platform_entry(platform: Platform | None, d: Descriptor, size: int | None) -> PlatformEntry:
    """A row of the platform table; an entry without a platform reads "no platform"."""
    return PlatformEntry(
        platform=str(platform) if platform else NO_PLATFORM,
        os=platform.os if platform else "",
        architecture=platform.architecture if platform else "",
        variant=platform.variant if platform else None,
        os_version=platform.os_version if platform else None,
        os_features=list(platform.os_features) if platform else [],
        digest=d.digest,
        media_type=d.media_type,
        manifest_size=d.size,
        size=size,
    )


CHILD_FETCH_JOBS = 4


def _platform_sizes(clients: Clients, resolved: ResolvedImage, notes: list[str]) -> dict[str, int]:
    """Compressed size per platform manifest digest, as cheaply as possible.

    The chosen platform is already fetched. On Docker Hub the Hub tag API has the other sizes
    (one request, no pull counted); elsewhere the platform manifests are fetched by digest
    (immutable, cached forever, and no pull limit).
    """
    sizes: dict[str, int] = {}
    if resolved.manifest is not None and resolved.manifest_digest:
        sizes[resolved.manifest_digest] = resolved.manifest.total_size
    missing = [
        d for d in [*resolved.platforms, *resolved.without_platform] if d.digest not in sizes
    ]
    if not missing:
        return sizes
    ref = resolved.reference
    hub_name = ref.hub_namespace_and_name
    if hub_name is not None:
        if not ref.tag or ref.digest:
            return sizes
        namespace, name = hub_name
        try:
            body = clients.hub.get_json(
                f"/v2/namespaces/{namespace}/repositories/{name}/tags/{ref.tag}",
                what=f"tag {ref.familiar_name}:{ref.tag}",
            )
        except DockerHubError as exc:
            notes.append(f"sizes of the other platforms unavailable: {advice.describe(exc)}")
            return sizes
        images = body.get("images") if isinstance(body, dict) else None
        for img in images if isinstance(images, list) else []:
            if isinstance(img, dict) and isinstance(img.get("size"), int) and img.get("digest"):
                sizes.setdefault(str(img["digest"]), int(img["size"]))
        return sizes
    wanted = [d for d in missing if d.media_type not in INDEX_TYPES]

    def one(d: Descriptor) -> FetchedManifest | DockerHubError:
        try:
            return fetch_manifest(clients, ref, d.digest)
        except DockerHubError as exc:
            return exc

    # A 50-platform index is 50 manifests: fetched CHILD_FETCH_JOBS at a time (crane's default
    # of 4 jobs), results in index order so that notes read the same on every run.
    if len(wanted) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(CHILD_FETCH_JOBS, len(wanted))) as pool:
            results = list(pool.map(clients.transport.carry_tracking(one), wanted))
    else:
        results = [one(d) for d in wanted]
    for d, fetched in zip(wanted, results, strict=True):
        if isinstance(fetched, DockerHubError):
            notes.append(f"size of {d.platform} unavailable: {advice.describe(fetched)}")
        elif isinstance(fetched.parsed, ImageManifest):
            sizes[d.digest] = fetched.parsed.total_size
    return sizes


# -- layers and history ----------------------------------------------------------------------


def history_steps(
    manifest: ImageManifest, config: ImageConfig
) -> tuple[list[HistoryStep], list[str]]:
    """History entries aligned to layers as Docker does: empty-layer steps take no layer."""
    from dockerhub_cli.models.layers import HistoryStep

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
                created=parse_timestamp(h.created),
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


def layer_report(clients: Clients, image: str, *, platform: str | None = None) -> LayerReport:
    from dockerhub_cli.models.layers import LayerInfo, LayerInsights, LayerReport

    resolved = resolve_image(clients, image, platform)
    manifest, config = resolved.require()
    steps, notes = history_steps(manifest, config)
    by_layer = {s.layer_index: s for s in steps if s.layer_index is not None}
    total = manifest.total_size
    base = base_image_of(resolved)
    base_digests = _base_layers(clients, resolved, base, notes) if base else None
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
    clients: Clients, resolved: ResolvedImage, base: BaseImageInfo, notes: list[str]
) -> set[str] | None:
    """Layer digests of the base image, same platform; None (with a note) if unreachable."""
    if not base.name:
        return None
    try:
        base_ref = parse_reference(base.name)
        if base.digest:
            base_ref = base_ref.with_digest(base.digest)
        platform = resolved.platform.full if resolved.platform else None
        base_resolved = resolve_image(clients, base_ref, platform, with_config=False)
    except DockerHubError as exc:
        notes.append(f"base image {base.name} not compared: {advice.describe(exc)}")
        return None
    return (
        {layer.digest for layer in base_resolved.manifest.layers}
        if base_resolved.manifest
        else None
    )


def history_report(clients: Clients, image: str, *, platform: str | None = None) -> HistoryReport:
    from dockerhub_cli.models.layers import HistoryReport

    resolved = resolve_image(clients, image, platform)
    manifest, config = resolved.require()
    steps, _ = history_steps(manifest, config)
    return HistoryReport(
        reference=str(resolved.reference),
        digest=resolved.manifest_digest or resolved.digest,
        platform=platform_info(resolved.platform),
        created=parse_timestamp(config.created),
        history=steps,
    )


# -- pull size -------------------------------------------------------------------------------


def pull_size_report(
    clients: Clients,
    image: str,
    *,
    platform: str | None = None,
    have: list[str] | None = None,
) -> PullSizeReport:
    from dockerhub_cli.models.layers import HaveImage, PullSizeReport
    from dockerhub_cli.text import human_size

    have = have or []
    if len(have) > MAX_HAVE_IMAGES:
        raise InvalidInputError(
            f"{advice.param('have')} accepts at most {MAX_HAVE_IMAGES} images (got {len(have)})"
        )
    # The config is fetched too (one immutable blob) because for a single-manifest image it is
    # the only place that names the platform, which the --have images must then match.
    resolved = resolve_image(clients, image, platform)
    manifest, config = resolved.require()
    chosen = resolved.platform.full if resolved.platform else platform
    present: set[str] = set()
    have_images: list[HaveImage] = []
    others: list[ResolvedImage] = []
    for other in have:
        other_resolved = resolve_image(clients, other, chosen or platform)
        assert other_resolved.manifest is not None
        others.append(other_resolved)
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
        if not download:
            what = f"nothing: all {_layers(len(unique))} are there already"
        elif not shared:
            what = f"all of it, {_layers(len(unique))} ({human_size(total)}): no layer is shared"
        else:
            what = (
                f"only {human_size(download_size)} ({len(download)} of "
                f"{_layers(len(unique))}; {human_size(total)} in total)"
            )
        summary = f"pulling {ref} when you have {names} downloads {what}"
    else:
        summary = f"pulling {ref} downloads {human_size(download_size)} in {_layers(len(unique))}"
    notes = _pull_size_notes(resolved, manifest, config, others, present)
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
        notes=notes,
    )


_DOCKER_SAVE = "as docker save does"


def _pull_size_notes(
    resolved: ResolvedImage,
    manifest: ImageManifest,
    config: ImageConfig,
    others: list[ResolvedImage],
    present: set[str],
) -> list[str]:
    """What a reader of `size` should know: a local source, layers that hold what a --have
    image holds under another digest (a docker-archive's uncompressed layers never match a
    registry's compressed ones), and foreign layers, which come from elsewhere."""
    from dockerhub_cli.text import human_size

    ref = resolved.reference
    notes: list[str] = []
    if ref.is_local:
        how = (
            f" (uncompressed, {_DOCKER_SAVE}: a registry would store them compressed, smaller)"
            if stored_uncompressed(manifest, config)
            else ""
        )
        notes.append(
            f"{ref} is a local image: nothing is downloaded to read it; the sizes are those of "
            f"its layers as stored there{how}"
        )
    missed: dict[str, Descriptor] = {}
    names: list[str] = []
    for other in others:
        theirs, their_config = other.require()
        found = [
            d
            for d in same_content_other_digest(manifest, config, theirs, their_config)
            if d.digest not in present
        ]
        if found:
            names.append(str(other.reference))
            for d in found:
                missed.setdefault(d.digest, d)
            if stored_uncompressed(theirs, their_config) != stored_uncompressed(manifest, config):
                plain = other.reference if stored_uncompressed(theirs, their_config) else ref
                names[-1] += f" ({plain} keeps its layers uncompressed, {_DOCKER_SAVE})"
    if missed:
        size = sum(d.size for d in missed.values())
        notes.append(
            f"{_layers(len(missed))} ({human_size(size)}) of {ref} hold the same files as "
            f"layers of {', '.join(names)} (the same diff_id) under another digest: layers "
            "are matched by digest, so they count as not shared (a pull downloads them anyway)"
        )
    foreign = [d for d in manifest.layers if d.urls or "foreign" in d.media_type.lower()]
    if foreign:
        size = sum(d.size for d in foreign)
        notes.append(
            f"{_layers(len(foreign))} ({human_size(size)}) are foreign (non-distributable): "
            "a pull fetches them from the URLs the manifest names, not from the registry; "
            "they are counted in the download size"
        )
    return notes


def _layers(count: int) -> str:
    return f"{count} layer" if count == 1 else f"{count} layers"


# -- raw manifest ----------------------------------------------------------------------------


def _unparsed_manifest(
    clients: Clients, ref: ImageReference, exc: UnsupportedMediaTypeError
) -> ManifestReport:
    """`dockerhub manifest` is the raw view: a schema 1 or otherwise unknown manifest is shown
    as it is (verified against its digest like any other), with a warning saying why the other
    commands refuse it."""
    from dockerhub_cli.models.layers import ManifestReport

    client = clients.client_for(ref)
    raw = client.get_manifest(ref, ref.digest) if ref.digest else client.get_tag_manifest(ref)
    body = load_json(raw.body, f"manifest {ref.familiar_name}@{raw.digest}")
    declared = body.get("mediaType")
    media_type = raw.media_type or (declared if isinstance(declared, str) else "") or "unknown"
    return ManifestReport(
        reference=str(ref),
        digest=raw.digest,
        media_type=media_type,
        size=len(raw.body),
        manifest=body,
        notes=[f"shown raw, not interpreted: {exc.message}"],
    )


def manifest_report(clients: Clients, image: str, *, platform: str | None = None) -> ManifestReport:
    """The manifest or index the reference resolves to, as JSON; with `platform`, the chosen
    platform's image manifest (its index digest alongside)."""
    from dockerhub_cli.models.layers import ManifestReport

    ref = parse_source(image)
    if platform is None:
        try:
            top = resolve_top(clients, ref)
        except UnsupportedMediaTypeError as exc:
            if isinstance(exc, NotAnImageError):
                raise
            return _unparsed_manifest(clients, ref, exc)
        return ManifestReport(
            reference=str(ref),
            digest=top.digest,
            media_type=top.media_type,
            size=len(top.raw.body),
            manifest=load_json(top.raw.body, "manifest"),
        )
    resolved = resolve_image(clients, ref, platform)
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
    "pull_size_report",
    "manifest_report",
    "history_steps",
]
