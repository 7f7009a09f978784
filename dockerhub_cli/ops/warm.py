"""`cache warm`: fetch ahead of time what later runs read, so that CI jobs and machines without
a network can run `--offline`.

The targets are images, and files whose image references are read with the parsers `pin`
uses (Dockerfiles, Compose, Kubernetes manifests, GitHub Actions workflows). For each image:

* the tag's manifest (an index or an image; cached under the tag and under its digest),
* every platform's manifest and config (by digest: cached for good), or only `platform`'s,
* the first page of its tags (what `tags IMAGE` shows),
* on Docker Hub, the repository and tag facts `inspect` shows,
* the manifest of the base image a platform names (what `layers` compares with),
* with `layers=True`, the file index of every layer (read once: what `files`, `diff` and
  `waste` read; the layer bytes are not kept, so `cat` and `extract` read them again).

Everything goes through the same functions the commands use (`resolve_top`, `fetch_manifest`,
`fetch_config`, `layer_index`, ...), so a later run finds the very entries it asks for. An item
already cached and fresh costs no request (counted in `already_cached`); an expired tag costs
one HEAD (free against Docker Hub's pull limit). Work runs `jobs` at a time (crane's default
of 4) in three rounds: the images, then their platforms, then the extras.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockerhub_cli import advice, limits
from dockerhub_cli.errors import (
    DockerHubError,
    DownloadLimitError,
    InvalidInputError,
    InvalidReferenceError,
    NotAnImageError,
)
from dockerhub_cli.exitcodes import ExitCode
from dockerhub_cli.models.cache import WarmedImage, WarmFailure, WarmReport
from dockerhub_cli.oci.manifest import ImageIndex, ImageManifest
from dockerhub_cli.oci.reference import ImageReference, parse_reference

if TYPE_CHECKING:
    from dockerhub_cli.oci.manifest import Descriptor
    from dockerhub_cli.oci.platform import Platform
    from dockerhub_cli.ops.clients import Clients

JOBS = 4  # crane's default number of concurrent fetches
MAX_JOBS = 16
MAX_TARGETS = 200
MAX_IMAGES = 500
LOCAL_PREFIXES = ("oci:", "oci-archive:", "docker-archive:")
_FILE_SUFFIXES = (".yml", ".yaml", ".json", ".dockerfile", ".containerfile")

# progress(items done, items known so far, bytes downloaded, what is being fetched)
Progress = Callable[[int, int, int, str], None]


@dataclass
class _Image:
    """One image being warmed, and its tally (bumped from worker threads, under the lock)."""

    ref: ImageReference
    sources: list[str]
    digest: str | None = None
    media_type: str | None = None
    entries: list[Descriptor] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    manifests: list[tuple[Descriptor | None, ImageManifest]] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("manifests", "configs", "layers", "requests", "bytes", "cached", "fetched"), 0
        )
    )
    failures: list[WarmFailure] = field(default_factory=list)
    fatal: str | None = None

    @property
    def name(self) -> str:
        return str(self.ref)


class _Run:
    """The shared state of one warm: counters, progress, what was already done (a layer or
    manifest shared by two images is fetched once), and the --max-download budget."""

    def __init__(
        self,
        clients: Clients,
        jobs: int,
        progress: Progress | None,
        max_download: int | None,
    ) -> None:
        self.clients = clients
        self.jobs = jobs
        self.progress = progress
        self.max_download = max_download
        self.lock = threading.Lock()
        self.done = 0
        self.total = 0
        self.bytes = 0
        self.reserved = 0
        self.seen: set[str] = set()
        self.indexed: set[str] = set()  # layers whose file index is cached
        self.notes: list[str] = []

    def first_time(self, key: str) -> bool:
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
            return True

    def tell(self, label: str) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total, self.bytes, label)

    def add_bytes(self, n: int, label: str) -> None:
        with self.lock:
            self.bytes += n
        self.tell(label)

    def reserve(self, size: int, what: str) -> None:
        """Claim `size` bytes of the --max-download budget before reading a layer."""
        with self.lock:
            if self.max_download is not None and self.reserved + size > self.max_download:
                raise DownloadLimitError(
                    f"reading {what} ({size:,} bytes) would pass the download limit of "
                    f"{self.max_download:,} bytes (already {self.reserved:,})",
                    hint=f"raise {advice.param('max_download')}; layers read once cost "
                    "nothing again",
                )
            self.reserved += size

    def parallel(self, calls: list[Callable[[], None]]) -> None:
        """Run `calls` `jobs` at a time; each records its own failures, so none raises."""
        with self.lock:
            self.total += len(calls)
        carry = self.clients.transport.carry_tracking
        if len(calls) <= 1 or self.jobs == 1:
            for call in calls:
                carry(call)()
            return
        workers = min(self.jobs, len(calls))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dockerhub-warm") as pool:
            for future in [pool.submit(carry(call)) for call in calls]:
                future.result()

    def item(
        self,
        image: _Image,
        kind: str,
        label: str,
        fetch: Callable[[], int | None],
        *,
        failure: str | None = None,
    ) -> bool:
        """Fetch one item of `image` (a manifest, config, layer index, listing): `fetch`
        returns the bytes it downloaded (None: there was nothing to fetch). Its requests are
        counted; an item that needed none was already cached. A failure is recorded as
        `failure` ("platform linux/arm64"), or as a note when `failure` is None (extras that
        only add facts)."""
        if not label.startswith(image.name):
            label = f"{image.name} {label}"
        self.tell(label)
        try:
            with self.clients.transport.tracking() as stats:
                size = fetch()
        except DockerHubError as exc:
            with self.lock:
                self.done += 1
                image.counts["requests"] += stats.network_requests
                if isinstance(exc, _NoteError):
                    self.notes.append(f"{image.name}: {exc.message}")
                elif failure is None:
                    what = label.removeprefix(image.name).strip()
                    self.notes.append(f"{image.name}: {what} not cached: {advice.describe(exc)}")
                else:
                    image.failures.append(_failure(image.name, failure, exc))
            self.tell(label)
            return False
        with self.lock:
            self.done += 1
            counts = image.counts
            counts["requests"] += stats.network_requests
            if size is not None:
                if kind:
                    counts[kind] += 1
                if not stats.network_requests:
                    counts["cached"] += 1
                else:
                    counts["fetched"] += 1
                    counts["bytes"] += size
                    if kind != "layers":  # layer bytes were added as they streamed in
                        self.bytes += size
        self.tell(label)
        return True


def warm_cache(
    clients: Clients,
    targets: list[str],
    *,
    platform: str | None = None,
    kind: str | None = None,
    layers: bool = False,
    jobs: int = JOBS,
    max_download: int | None = None,
    progress: Progress | None = None,
) -> WarmReport:
    """Fetch what later runs over `targets` (images and files) read; see the module doc."""
    if not targets:
        raise InvalidInputError("give at least one image or file to warm")
    if len(targets) > MAX_TARGETS:
        raise InvalidInputError(f"cache warm takes at most {MAX_TARGETS} targets")
    if not 1 <= jobs <= MAX_JOBS:
        raise InvalidInputError(f"jobs must be between 1 and {MAX_JOBS} (got {jobs})")
    if clients.settings.offline:
        raise InvalidInputError(
            f"cache warm fills the cache from the network; it cannot run with "
            f"{advice.param('offline')}"
        )
    wanted: Platform | None = None
    if platform is not None:
        from dockerhub_cli.oci.platform import parse_platform

        wanted = parse_platform(platform)
    run = _Run(clients, jobs, progress, max_download)
    images, failures = _collect(targets, kind, run.notes)
    if len(images) > MAX_IMAGES:
        raise InvalidInputError(
            f"the targets name {len(images)} images; cache warm takes at most {MAX_IMAGES}"
        )

    # Round 1: what each reference points at (an index is expanded, nested ones included).
    run.parallel([_top_call(run, image, wanted) for image in images])
    live = [image for image in images if image.fatal is None]
    # Round 2: every platform's manifest and config, then (with layers) the layer indexes.
    run.parallel([_platform_call(run, image, d) for image in live for d in image.entries])
    for image in live:  # index order, whatever order the fetches finished in
        order = {d.digest: i for i, d in enumerate(image.entries)}
        image.manifests.sort(key=lambda m: order.get(m[0].digest, -1) if m[0] else -1)
    if layers:
        # A layer shared by images or platforms is read once, by the first that names it.
        owners: dict[str, tuple[_Image, Descriptor | None, int, ImageManifest]] = {}
        for image in live:
            for d, manifest in image.manifests:
                for position, layer in enumerate(manifest.layers):
                    owners.setdefault(layer.digest, (image, d, position, manifest))
        run.parallel([_layer_call(run, *owner) for owner in owners.values()])
        for image in live:
            mine = {layer.digest for _, m in image.manifests for layer in m.layers}
            image.counts["layers"] = len(mine & run.indexed)
    # Round 3: what other commands read beside the manifests.
    run.parallel([call for image in live for call in _extra_calls(run, image)])

    rows = [_row(image) for image in images]
    for image in images:  # the image, then its layers and platforms: the same on every run
        failures.extend(sorted(image.failures, key=lambda f: (f.what != "image", f.what)))
    return WarmReport(
        targets=list(targets),
        images=rows,
        failures=failures,
        platforms=sum(len(r.platforms) for r in rows),
        requests=sum(r.requests for r in rows),
        bytes=sum(r.bytes for r in rows),
        already_cached=sum(r.already_cached for r in rows),
        fetched=sum(image.counts["fetched"] for image in images),
        layers=layers,
        jobs=jobs,
        notes=sorted(run.notes),  # (in the order they were written, which varies)
    )


def exit_code(report: WarmReport) -> int:
    """0 when everything was fetched; else the exit code of the first failure listed (file
    entries that are not references first, then the images in the order they were named): a
    registry that cannot be reached exits 6, a missing tag 3, an invalid reference 2."""
    return report.failures[0].exit_code if report.failures else int(ExitCode.OK)


# -- targets -----------------------------------------------------------------------------------


def _is_file_target(target: str) -> bool:
    """An existing path, or a name that can only be a file (compose.yaml, Dockerfile): a
    missing file is then an error, never read as a Docker Hub repository of that name."""
    if os.path.exists(target):
        return True
    name = os.path.basename(target).lower()
    return name.endswith(_FILE_SUFFIXES) or name.startswith(("dockerfile", "containerfile"))


def _collect(
    targets: list[str], kind: str | None, notes: list[str]
) -> tuple[list[_Image], list[WarmFailure]]:
    """The distinct images the targets name (in order), and the file entries that are not
    valid references. A target that is neither a readable file nor a valid reference is a
    usage error before anything is fetched."""
    from dockerhub_cli.oci.pinfiles import FILE_KINDS, FileFormatError, detect_kind, find_references
    from dockerhub_cli.ops.pin import _read

    if kind is not None and kind not in FILE_KINDS:
        raise InvalidInputError(f"--kind must be one of {', '.join(FILE_KINDS)} (got {kind!r})")
    images: dict[str, _Image] = {}
    failures: list[WarmFailure] = []

    def add(ref: ImageReference, source: str) -> None:
        image = images.setdefault(str(ref), _Image(ref, []))
        if source not in image.sources:
            image.sources.append(source)

    for target in dict.fromkeys(targets):
        if target.startswith(LOCAL_PREFIXES):
            notes.append(f"{target}: a local source; nothing to fetch")
            continue
        if not _is_file_target(target):
            add(parse_reference(target), "argument")  # InvalidReferenceError: exit 2
            continue
        text = _read(target)
        file_kind = kind if kind is not None else detect_kind(target, text)
        if file_kind is None:
            raise InvalidInputError(
                f"{target}: not recognised as a Dockerfile, Compose, Kubernetes or workflow file",
                hint="name the kind with --kind dockerfile|compose|kubernetes|workflow",
            )
        try:
            found = find_references(file_kind, text)  # type: ignore[arg-type]
        except FileFormatError as exc:
            raise InvalidInputError(f"{target}: {exc}") from None
        usable = [ref for ref in found if not ref.skip]
        if not usable:
            notes.append(f"{target}: no image reference found (read as {file_kind})")
        for ref in usable:
            where = f"{target}:{ref.line}"
            if ref.problem:
                failures.append(
                    WarmFailure(
                        target=where,
                        what="reference",
                        reason=f"{ref.text}: {ref.problem}",
                        exit_code=int(ExitCode.USAGE),
                    )
                )
                continue
            try:
                add(parse_reference(ref.reference), where)
            except InvalidReferenceError as exc:
                failures.append(_failure(where, "reference", exc))
    return list(images.values()), failures


def _failure(target: str, what: str, exc: DockerHubError) -> WarmFailure:
    return WarmFailure(
        target=target, what=what, reason=advice.describe(exc), exit_code=int(exc.exit_code)
    )


# -- round 1: the top manifest -----------------------------------------------------------------


def _top_call(run: _Run, image: _Image, wanted: Platform | None) -> Callable[[], None]:
    from dockerhub_cli.ops.images import check_single_platform, expand_index, resolve_top

    def fetch() -> int:
        top = resolve_top(run.clients, image.ref)
        image.digest, image.media_type = top.digest, top.media_type
        expanded = expand_index(run.clients, image.ref, top)
        if expanded is None:
            if not isinstance(top.parsed, ImageManifest):
                raise NotAnImageError(f"{image.ref} is neither an image nor an index")
            image.manifests.append((None, top.parsed))
            size = _config_of(run, image, top.parsed, None)
            if wanted is not None:  # a single manifest: its config names its platform
                check_single_platform(run.clients, image.ref, top, wanted)  # (cached now)
        else:
            size = 0
            image.entries = _chosen(expanded, wanted)
            if wanted is not None and not image.entries:
                from dockerhub_cli.errors import PlatformNotFoundError

                available = [d.platform.full for d in expanded.runnable if d.platform]
                raise PlatformNotFoundError(
                    f"{image.ref} has no image for platform {wanted.full}; available: "
                    f"{', '.join(available) or 'none'}",
                    available=available,
                )
        return size + (0 if top.raw.from_cache else len(top.raw.body))

    def call() -> None:
        if not run.item(image, "manifests", f"{image.ref}", fetch, failure="image"):
            image.fatal = image.failures[-1].reason if image.failures else "failed"

    return call


def _chosen(index: ImageIndex, wanted: Platform | None) -> list[Descriptor]:
    """The entries to warm: every runnable one (with or without a platform), or the one
    `wanted` selects by the platform rules (entries without a platform are kept then: their
    platform is known only from their config)."""
    if wanted is None:
        by_digest = {d.digest: d for d in [*index.runnable, *index.without_platform]}
        return list(by_digest.values())
    from dockerhub_cli.oci.platform import select_platform

    chosen = select_platform(wanted, [(d.platform, d) for d in index.runnable if d.platform])
    return [chosen[1]] if chosen is not None else list(index.without_platform)


def _config_of(
    run: _Run, image: _Image, manifest: ImageManifest, descriptor: Descriptor | None
) -> int:
    """Fetch the image config of `manifest` (its bytes when they came over the network); an
    artifact (not an image) is noted, not a failure."""
    from dockerhub_cli.ops.images import fetch_config

    ref = image.ref
    with run.clients.transport.tracking() as stats:
        try:
            config = fetch_config(run.clients, ref, manifest)
        except NotAnImageError:
            run.notes.append(f"{ref}: {manifest.config.digest[:19]} is not an image; no config")
            return 0
    with run.lock:
        image.counts["configs"] += 1
    platform = config.platform if config.architecture else None
    label = platform.full if platform is not None else "no platform"
    if descriptor is None or descriptor.platform is None:
        with run.lock:
            image.platforms.append(label)
    return manifest.config.size if stats.network_requests else 0


# -- round 2: platforms and layers -------------------------------------------------------------


def _platform_call(run: _Run, image: _Image, d: Descriptor) -> Callable[[], None]:
    from dockerhub_cli.ops.images import fetch_manifest

    name = d.platform.full if d.platform else "no platform"

    def fetch() -> int:
        fetched = fetch_manifest(run.clients, image.ref, d.digest)
        if not isinstance(fetched.parsed, ImageManifest):
            raise NotAnImageError(f"{image.ref}: the {name} entry is not an image manifest")
        with run.lock:
            image.manifests.append((d, fetched.parsed))
            if d.platform is not None:
                image.platforms.append(name)
        size = 0 if fetched.raw.from_cache else len(fetched.raw.body)
        return size + _config_of(run, image, fetched.parsed, d)

    def call() -> None:
        run.item(image, "manifests", f"{image.ref} {name}", fetch, failure=f"platform {name}")

    return call


def _layer_call(
    run: _Run, image: _Image, d: Descriptor | None, position: int, manifest: ImageManifest
) -> Callable[[], None]:
    from dockerhub_cli.ops.files import Budget, layer_index

    layer = manifest.layers[position]
    if d is not None and d.platform is not None:
        name = d.platform.full
    else:
        name = image.platforms[0] if image.platforms else "no platform"
    label = f"{image.ref} {name} layer {position}"

    def fetch() -> int:
        from dockerhub_cli.remote.blobs import IndexStore

        if IndexStore(run.clients.settings).get(layer.digest) is None:
            run.reserve(layer.size, f"layer {position} of {image.ref} ({name})")
        seen = [0]

        def on_bytes(label_: str, done: int, expected: int | None) -> None:
            run.add_bytes(done - seen[0], label)
            seen[0] = done

        budget = Budget(progress=on_bytes)  # the bytes reach run.bytes as they arrive
        pinned = image.ref.with_digest(image.digest) if image.digest else image.ref
        layer_index(run.clients, pinned, layer, position, budget)
        with run.lock:
            run.indexed.add(layer.digest)
        return budget.downloaded

    def call() -> None:
        run.item(image, "layers", label, fetch, failure=f"layer {position} ({name})")

    return call


# -- round 3: tags, Hub facts, base images -----------------------------------------------------


def _extra_calls(run: _Run, image: _Image) -> list[Callable[[], None]]:
    from dockerhub_cli.ops import images as ops_images
    from dockerhub_cli.ops.hub_catalog import repository_info
    from dockerhub_cli.ops.tags import list_tags

    clients, ref = run.clients, image.ref
    calls: list[Callable[[], None]] = []
    repository = ImageReference(ref.domain, ref.path, tag=None)
    if run.first_time(f"tags {repository}"):

        def tags() -> int:
            list_tags(clients, repository, limit=limits.DEFAULT_PAGE_SIZE)
            return 0

        calls.append(lambda: _extra(run, image, "tags", tags))
    if ref.hub_namespace_and_name is not None:
        if run.first_time(f"hub {repository}"):

            def facts() -> int:
                repository_info(clients.hub, ref.repository)
                return 0

            calls.append(lambda: _extra(run, image, "Docker Hub repository facts", facts))

        def tag_facts() -> int:
            notes: list[str] = []
            ops_images._hub_tag_facts(clients, ref, notes)
            if notes:
                _note(notes[0])
            return 0

        if ref.tag and not ref.digest:
            calls.append(lambda: _extra(run, image, "Docker Hub tag facts", tag_facts))
    for d, _ in list(image.manifests):
        calls.append(_base_call(run, image, d))
    return calls


class _NoteError(DockerHubError):
    """An extra that answered with a note instead of an error (the note is the message)."""


def _note(note: str) -> None:
    raise _NoteError(note)


def _extra(run: _Run, image: _Image, label: str, fetch: Callable[[], int | None]) -> None:
    run.item(image, "", label, fetch)


def _base_call(run: _Run, image: _Image, d: Descriptor | None) -> Callable[[], None]:
    """The base image a platform names (annotations or labels), as `layers` resolves it."""
    from dockerhub_cli.ops import images as ops_images

    def fetch() -> int | None:
        if not image.digest or (d is not None and d.platform is None):
            return None  # (an entry without a platform: `layers` reaches it by digest only)
        # Resolved as `layers` resolves it (the index, then the platform): all cached by now.
        platform = d.platform.full if d is not None and d.platform is not None else None
        pinned = image.ref.with_digest(image.digest)
        resolved = ops_images.resolve_image(run.clients, pinned, platform)
        base = ops_images.base_image_of(resolved)
        if base is None or not base.name:
            return None
        if not run.first_time(f"base {base.name} {base.digest} {platform}"):
            return None
        notes: list[str] = []
        ops_images._base_layers(run.clients, resolved, base, notes)
        if notes:
            _note(notes[0])
        with run.lock:
            image.counts["manifests"] += 1
        return 0

    return lambda: _extra(run, image, "base image", fetch)


def _row(image: _Image) -> WarmedImage:
    counts = image.counts
    status = "failed" if image.fatal else "partial" if image.failures else "ok"
    return WarmedImage(
        reference=image.name,
        sources=image.sources,
        digest=image.digest,
        media_type=image.media_type,
        platforms=sorted(dict.fromkeys(image.platforms)),
        manifests=counts["manifests"],
        configs=counts["configs"],
        layers=counts["layers"],
        requests=counts["requests"],
        bytes=counts["bytes"],
        already_cached=counts["cached"],
        status=status,
        reason=image.fatal or (image.failures[0].reason if image.failures else None),
    )
