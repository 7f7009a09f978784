"""What is attached to an image: signatures, SBOMs, attestations, VEX, from every place they live.

Four sources, merged and de-duplicated by artifact manifest digest (an artifact listed by two
sources is one entry naming both):

* the OCI 1.1 referrers API, `GET /v2/<name>/referrers/<digest>[?artifactType=...]` (an image
  index of descriptors). Whether a registry implements it is probed once per host and
  remembered in `<cache>/referrers-api.json` for a day: a registry that implements it MUST NOT
  answer 404 (distribution spec, "Listing Referrers"), so a 404/400/405 or a non-index answer
  means "unsupported" and the fallback below is used;
* its tag fallback: the tag `sha256-<hex of the subject digest>` holds an image index whose
  `manifests` are the referrers (Docker Hub has no referrers API: this is how they live there);
* cosign's tags `sha256-<hex>.sig`, `.att`, `.sbom` (one manifest each, layers = signatures,
  DSSE attestations, SBOM);
* BuildKit attestation manifests inside the image index (`vnd.docker.reference.type:
  attestation-manifest`), as read by `sbom`/`provenance`.

Requests: the tag HEAD/GET of the image (cached), one capped `tags/list` walk to learn which of
the fallback and cosign tags exist (instead of probing every name), the referrers API per subject
when supported, and one GET per artifact manifest (by digest, cached forever).

Artifacts have referrers too (a cosign signature of an SBOM, a VEX document about an SBOM):
`referrers` lists them under their subject artifact, to a bounded depth (`depth`, at most
limits.MAX_REFERRER_DEPTH levels, MAX_NESTED_LOOKUPS artifacts looked up beyond the first
level, a digest seen once). The same sources are read for them; the tag fallback and cosign's
tags come from the same `tags/list` walk, so only the referrers API costs a request per artifact.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockerhub_cli import limits
from dockerhub_cli.atomic import replace_file
from dockerhub_cli.errors import DockerHubError, InvalidInputError, NotFoundError, UpstreamError
from dockerhub_cli.models.supply import (
    Referrer,
    ReferrerKind,
    ReferrerLayer,
    ReferrerSource,
    ReferrersReport,
    ReferrerSubject,
)
from dockerhub_cli.oci.manifest import Descriptor, ImageIndex, ImageManifest, parse_manifest
from dockerhub_cli.oci.mediatypes import OCI_INDEX
from dockerhub_cli.oci.reference import ImageReference
from dockerhub_cli.oci.source import parse_source
from dockerhub_cli.ops.tags import registry_tag_names

if TYPE_CHECKING:
    from dockerhub_cli.ops.clients import Clients

log = logging.getLogger(__name__)

# Artifact and layer media types.
COSIGN_SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
COSIGN_SIG_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"
COSIGN_ATT_ARTIFACT = "application/vnd.dev.cosign.artifact.att.v1+json"
COSIGN_SBOM_ARTIFACT = "application/vnd.dev.cosign.artifact.sbom.v1+json"
SIGSTORE_BUNDLE_PREFIX = "application/vnd.dev.sigstore.bundle"
NOTATION_SIGNATURE = "application/vnd.cncf.notary.signature"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
IN_TOTO = "application/vnd.in-toto+json"
SPDX_JSON = ("application/spdx+json", "text/spdx+json", "application/vnd.spdx+json")
CYCLONEDX_JSON = ("application/vnd.cyclonedx+json", "application/cyclonedx+json")
OPENVEX_JSON = ("application/vnd.openvex+json", "application/openvex+json")
PREDICATE_TYPE = "in-toto.io/predicate-type"
COSIGN_PREDICATE_TYPE = "predicateType"  # cosign's layer annotation on .att layers

FALLBACK_TAG = re.compile(r"^(sha256|sha512)-([0-9a-f]{64}|[0-9a-f]{128})$")
COSIGN_TAG = re.compile(r"^(sha256|sha512)-([0-9a-f]{64}|[0-9a-f]{128})\.(sig|att|sbom)$")
MAX_REFERRERS_PER_SUBJECT = 200
MAX_NESTED_LOOKUPS = 100  # artifacts whose own referrers are looked up (beyond the image's)
MAX_REFERRER_PAGES = 10
SUPPORT_TTL = 86_400.0


# -- remembering referrers API support per registry ---------------------------------------------


class SupportMemory:
    """host -> (supported, when probed), shared by processes through a small JSON file.

    Nothing secret is kept; every failure to read or write is ignored (then we probe again)."""

    def __init__(self, path: Path | None, clock: Any = time.time) -> None:
        self.path = path
        self.clock = clock
        self._lock = threading.Lock()
        self._known: dict[str, tuple[bool, float]] = {}

    def get(self, host: str) -> bool | None:
        with self._lock:
            entry = self._known.get(host) or self._read().get(host)
        if entry is None or self.clock() - entry[1] > SUPPORT_TTL or entry[1] > self.clock() + 60:
            return None
        return entry[0]

    def put(self, host: str, supported: bool) -> None:
        with self._lock:
            self._known[host] = (supported, float(self.clock()))
            if self.path is None:
                return
            try:
                merged = {**self._read(), host: self._known[host]}
                self.path.parent.mkdir(parents=True, exist_ok=True)
                replace_file(
                    self.path,
                    json.dumps({h: {"supported": s, "checked": t} for h, (s, t) in merged.items()}),
                )
            except OSError as exc:
                log.debug("could not remember referrers support of %s: %s", host, exc)

    def _read(self) -> dict[str, tuple[bool, float]]:
        if self.path is None:
            return {}
        try:
            data: Any = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        found: dict[str, tuple[bool, float]] = {}
        for host, raw in data.items() if isinstance(data, dict) else ():
            if (
                isinstance(raw, dict)
                and isinstance(raw.get("supported"), bool)
                and isinstance(raw.get("checked"), int | float)
            ):
                found[str(host)] = (raw["supported"], float(raw["checked"]))
        return found


def support_memory(clients: Clients) -> SupportMemory:
    memory = getattr(clients, "_referrers_support", None)
    if memory is None:
        settings = clients.settings
        path = None if settings.no_cache else settings.cache_dir / "referrers-api.json"
        memory = SupportMemory(path)
        clients._referrers_support = memory  # type: ignore[attr-defined]
    return memory


# -- discovery ------------------------------------------------------------------------------------


@dataclass
class _Found:
    subject: str
    platform: str | None
    descriptor: Descriptor
    sources: list[ReferrerSource] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    manifest: ImageManifest | None = None
    unreadable: bool = False
    children: list[_Found] = field(default_factory=list)  # referrers of this artifact
    already_shown: bool = False  # listed elsewhere in the tree: its referrers are not repeated


@dataclass
class Discovery:
    """Everything found for one image (the models for output, the manifests for readers)."""

    reference: ImageReference
    digest: str
    media_type: str
    index: ImageIndex | None
    subjects: list[ReferrerSubject]
    found: list[_Found]
    api: str
    api_remembered: bool
    notes: list[str]
    top: Any = None  # the parsed manifest or index the reference resolves to
    depth: int = 1  # the levels of referrers looked up

    def referrers(self) -> list[Referrer]:
        return [_model(f) for f in self.found]

    def for_subject(self, *digests: str) -> list[_Found]:
        return [f for f in self.found if f.subject in digests]


def tag_for(digest: str, suffix: str = "") -> str:
    """`sha256:abc...` -> `sha256-abc...` (+ `.sig` ...): the fallback / cosign tag name."""
    return digest.replace(":", "-", 1) + suffix


def discover(
    clients: Clients,
    image: str,
    *,
    platform: str | None = None,
    artifact_type: str | None = None,
    all_platforms: bool = True,
    read_manifests: bool = True,
    depth: int = 1,
) -> Discovery:
    """Find what is attached to the image and to each (or the chosen) platform manifest.

    `read_manifests=False` leaves the artifact manifests unread where the listing already
    says what they are (artifactType): readers then fetch only those they need
    (`load_manifest`), which keeps `sbom`/`vulns`/`verify` to a few requests. `depth` > 1 also
    looks up what is attached to the artifacts found, level by level (`_Found.children`; the
    `artifact_type` filter applies to the image's own referrers only)."""
    from dockerhub_cli.oci.platform import select_platform
    from dockerhub_cli.ops.images import check_single_platform, requested_platform, resolve_top

    ref = parse_source(image)
    top = resolve_top(clients, ref)
    notes: list[str] = []
    subjects: list[tuple[str, str, str | None]] = [(top.digest, top.media_type, None)]
    index = top.parsed if isinstance(top.parsed, ImageIndex) else None
    if index is None and platform is not None:
        check_single_platform(clients, ref, top, requested_platform(clients, platform))
    if index is not None:
        runnable = [d for d in index.runnable if d.platform]
        if platform is not None or not all_platforms:
            wanted = requested_platform(clients, platform)
            chosen = select_platform(wanted, [(d.platform, d) for d in runnable if d.platform])
            if chosen is None:
                raise NotFoundError(
                    f"{ref} has no image for platform {wanted}",
                    hint="available: " + ", ".join(str(d.platform) for d in runnable if d.platform),
                )
            runnable = [chosen[1]]
        subjects += [(d.digest, d.media_type, str(d.platform)) for d in runnable]
    found: dict[tuple[str, str], _Found] = {}

    def add(
        subject: str, plat: str | None, desc: Descriptor, source: ReferrerSource, tag: str = ""
    ) -> None:
        key = (subject, desc.digest)
        entry = found.get(key)
        if entry is None:
            if sum(1 for s, _ in found if s == subject) >= MAX_REFERRERS_PER_SUBJECT:
                return
            entry = found[key] = _Found(subject, plat, desc)
        if source not in entry.sources:
            entry.sources.append(source)
        if tag and tag not in entry.tags:
            entry.tags.append(tag)

    # 1. BuildKit attestations inside the index.
    if index is not None:
        for subject, _, plat in subjects[1:]:
            att = index.attestation_for(subject)
            if att is not None:
                add(subject, plat, att, "in_index")

    # 2. The referrers API, when the registry has one (a local layout or archive has none:
    #    its names hold the tag fallback and cosign's tags, as `cosign save` writes them).
    supported: bool | None
    if ref.is_local:
        supported, api_remembered = False, False
        notes.append(
            f"{ref} is a local source: it has no referrers API; the names in it "
            "(sha256-<hex> fallback and cosign tags) were read"
        )
    else:
        memory = support_memory(clients)
        host = clients.registry.base_url(ref)
        supported = memory.get(host)
        api_remembered = supported is not None
    for subject, _, plat in subjects:
        if supported is False:
            break
        listed = _referrers_api(clients, ref, subject, artifact_type)
        if supported is None:
            supported = listed is not None
            memory.put(host, supported)
        for desc in listed or []:
            add(subject, plat, desc, "referrers_api")
    api = "unknown" if supported is None else ("supported" if supported else "unsupported")

    # 3 + 4. The tag fallback and cosign's tags: learn which exist from one tags/list walk.
    wanted_tags = {tag_for(s): s for s, _, _ in subjects}
    for s, _, _ in subjects:
        for suffix in (".sig", ".att", ".sbom"):
            wanted_tags[tag_for(s, suffix)] = s

    def keep(name: str) -> bool:  # nested levels need the tags of artifacts too
        return name in wanted_tags or (
            depth > 1 and (FALLBACK_TAG.match(name) or COSIGN_TAG.match(name)) is not None
        )

    try:
        names, stopped = registry_tag_names(clients, ref, keep)
    except NotFoundError:
        names, stopped = [], None
    if stopped is not None:
        notes.append(f"{stopped}: fallback and cosign tags beyond them were not seen")
    platforms = {s: p for s, _, p in subjects}
    for name in sorted(n for n in names if n in wanted_tags):
        subject = wanted_tags[name]
        _read_tag(clients, ref, name, subject, platforms.get(subject), add, found, notes)

    # Read each artifact manifest (by digest: verified, cached forever) to list its layers.
    for entry in found.values():
        if read_manifests or not entry.descriptor.artifact_type:
            load_manifest(clients, ref, entry, notes)
    results = list(found.values())
    if artifact_type:
        results = [f for f in results if _artifact_type(f) == artifact_type]
    order = {s: n for n, (s, _, _) in enumerate(subjects)}
    results.sort(key=lambda f: (order.get(f.subject, 99), _kind(f), f.descriptor.digest))
    shown = {s for s, _, _ in subjects}  # every digest listed so far
    for entry in results:
        _mark_shown(entry, shown)
    if depth > 1:
        _nested(
            clients,
            ref,
            results,
            depth,
            api=supported is True,
            tag_names=set(names),
            shown=shown,
            notes=notes,
        )
    counts = {s: sum(1 for f in results if f.subject == s) for s, _, _ in subjects}
    return Discovery(
        reference=ref,
        digest=top.digest,
        media_type=top.media_type,
        index=index,
        subjects=[
            ReferrerSubject(digest=s, media_type=m, platform=p, referrers=counts[s])
            for s, m, p in subjects
        ],
        found=results,
        api=api,
        api_remembered=api_remembered,
        notes=notes,
        top=top.parsed,
        depth=depth,
    )


Add = Callable[..., None]


def _read_tag(
    clients: Clients,
    ref: ImageReference,
    name: str,
    subject: str,
    platform: str | None,
    add: Add,
    found: dict[tuple[str, str], _Found],
    notes: list[str],
) -> None:
    """What the fallback tag `sha256-<hex>` (an index of referrers) or the cosign tag
    `sha256-<hex>.sig/.att/.sbom` (one artifact manifest) attaches to `subject`."""
    from dockerhub_cli.ops.images import fetch_manifest

    try:
        fetched = fetch_manifest(clients, ref, name)
    except (NotFoundError, UpstreamError) as exc:
        notes.append(f"tag {name} could not be read: {exc.message}")
        return
    desc = Descriptor(
        media_type=fetched.media_type,
        digest=fetched.digest,
        size=len(fetched.raw.body),
        artifact_type=getattr(fetched.parsed, "artifact_type", None),
        annotations=dict(fetched.parsed.annotations),
    )
    if COSIGN_TAG.match(name):
        entry_key = (subject, fetched.digest)
        add(subject, platform, desc, "cosign_tag", name)
        if isinstance(fetched.parsed, ImageManifest) and entry_key in found:
            found[entry_key].manifest = fetched.parsed
    elif isinstance(fetched.parsed, ImageIndex):
        for child in fetched.parsed.manifests:
            add(subject, platform, child, "tag_fallback", name)
    else:
        notes.append(f"tag {name} is not an image index; not a referrers tag fallback")


def _nested(
    clients: Clients,
    ref: ImageReference,
    level: list[_Found],
    depth: int,
    *,
    api: bool,
    tag_names: set[str],
    shown: set[str],
    notes: list[str],
) -> None:
    """Fill `children` of each artifact in `level`, then of theirs, down to `depth` levels in
    all. An artifact digest is looked up once: one listed already (`shown`: a tag fallback
    can name a cycle) is marked `already_shown` and not descended into. At most
    MAX_NESTED_LOOKUPS lookups, each with at most MAX_REFERRERS_PER_SUBJECT referrers."""
    lookups = 0
    for _ in range(depth - 1):
        parents = [p for p in level if not p.already_shown]
        if not parents:
            return
        if lookups + len(parents) > MAX_NESTED_LOOKUPS:
            notes.append(
                f"looked up the referrers of {MAX_NESTED_LOOKUPS} attached artifacts; "
                "deeper ones were not listed"
            )
            parents = parents[: max(0, MAX_NESTED_LOOKUPS - lookups)]
        next_level: list[_Found] = []
        for parent in parents:
            lookups += 1
            digest = parent.descriptor.digest
            found: dict[tuple[str, str], _Found] = {}

            def add(
                subject: str,
                plat: str | None,
                desc: Descriptor,
                source: ReferrerSource,
                tag: str = "",
                found: dict[tuple[str, str], _Found] = found,
            ) -> None:
                entry = found.get((subject, desc.digest))
                if entry is None:
                    if len(found) >= MAX_REFERRERS_PER_SUBJECT or desc.digest == subject:
                        return
                    entry = found[(subject, desc.digest)] = _Found(subject, plat, desc)
                if source not in entry.sources:
                    entry.sources.append(source)
                if tag and tag not in entry.tags:
                    entry.tags.append(tag)

            if api:
                for desc in _referrers_api(clients, ref, digest, None) or []:
                    add(digest, parent.platform, desc, "referrers_api")
            for suffix in ("", ".sig", ".att", ".sbom"):
                name = tag_for(digest, suffix)
                if name in tag_names:
                    _read_tag(clients, ref, name, digest, parent.platform, add, found, notes)
            for entry in found.values():
                load_manifest(clients, ref, entry, notes)
            parent.children = sorted(found.values(), key=lambda f: (_kind(f), f.descriptor.digest))
            for child in parent.children:
                _mark_shown(child, shown)
            next_level.extend(parent.children)
        level = next_level


def _mark_shown(entry: _Found, shown: set[str]) -> None:
    """Mark `entry` if its digest is listed already (a cycle through a tag fallback, the
    image itself, or one artifact attached to two subjects): it is not descended into."""
    digest = entry.descriptor.digest
    entry.already_shown = digest in shown
    shown.add(digest)


def load_manifest(
    clients: Clients, ref: ImageReference, entry: _Found, notes: list[str]
) -> ImageManifest | None:
    """The artifact manifest of `entry`, fetched once (by digest: verified, cached forever)."""
    from dockerhub_cli.ops.images import fetch_manifest

    if entry.manifest is not None or entry.unreadable:
        return entry.manifest
    try:
        fetched = fetch_manifest(clients, ref, entry.descriptor.digest)
    except DockerHubError as exc:
        entry.unreadable = True
        notes.append(f"referrer {entry.descriptor.digest} could not be read: {exc.message}")
        return None
    if isinstance(fetched.parsed, ImageManifest):
        entry.manifest = fetched.parsed
    else:
        entry.unreadable = True
    return entry.manifest


def _referrers_api(
    clients: Clients, ref: ImageReference, digest: str, artifact_type: str | None
) -> list[Descriptor] | None:
    """The referrers the API lists for `digest` (following `Link` pages under the rules of
    every page walk: transport.PageWalk); None when the registry does not implement the API."""
    from dockerhub_cli.remote.registry import _next_link
    from dockerhub_cli.remote.transport import MAX_MANIFEST_BYTES, PageWalk

    registry = clients.registry
    url: str | None = registry.url(ref, f"referrers/{digest}")
    params = {"artifactType": artifact_type} if artifact_type else None
    what = f"referrers of {ref.familiar_name}@{digest[:19]}"
    listed: list[Descriptor] = []
    walk = PageWalk(what, max_pages=MAX_REFERRER_PAGES, clock=registry.transport.clock)
    pages = 0
    while url:
        pages += 1
        try:
            response = registry.request(
                ref,
                "GET",
                url,
                headers={"Accept": OCI_INDEX},
                params=params,
                what=what,
                max_bytes=MAX_MANIFEST_BYTES,
            )
        except NotFoundError:
            return None
        if response.status_code in (400, 404, 405, 501) and pages == 1:
            return None
        registry.check(ref, response, what)
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        if len(response.content) > 4 * 1024 * 1024:
            raise UpstreamError(f"{what}: the referrers index is larger than 4 MiB")
        try:
            parsed = parse_manifest(response.content, content_type or OCI_INDEX, what=what)
        except UpstreamError:
            if pages == 1:
                return None  # not an index: whatever answered does not implement the API
            raise
        if not isinstance(parsed, ImageIndex):
            return None if pages == 1 else listed
        listed.extend(parsed.manifests)
        current = response.url or url
        walk.saw(current)
        next_url = _next_link(response.headers.get("Link", ""), current)
        if not walk.follow(next_url, current):
            break
        url, params = next_url, None
    if artifact_type:
        # Registries that do not filter say so by leaving out OCI-Filters-Applied: filter here.
        listed = [d for d in listed if d.artifact_type == artifact_type]
    return listed


# -- classification --------------------------------------------------------------------------------


def _layer_types(entry: _Found) -> list[str]:
    return [layer.media_type for layer in entry.manifest.layers] if entry.manifest else []


def _predicate_types(entry: _Found) -> list[str]:
    if entry.manifest is None:
        return []
    found: list[str] = []
    for layer in entry.manifest.layers:
        value = layer.annotations.get(PREDICATE_TYPE) or layer.annotations.get(
            COSIGN_PREDICATE_TYPE
        )
        if value and value not in found:
            found.append(value)
    return found


def _artifact_type(entry: _Found) -> str | None:
    desc = entry.descriptor
    if desc.artifact_type:
        return desc.artifact_type
    manifest = entry.manifest
    if manifest is not None:
        if manifest.artifact_type:
            return manifest.artifact_type
        config = manifest.config.media_type
        if config and config not in (
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.oci.empty.v1+json",
            "application/vnd.docker.container.image.v1+json",
        ):
            return config
    for tag in entry.tags:
        suffix = tag.rsplit(".", 1)[-1]
        return {"sig": COSIGN_SIG_ARTIFACT, "att": COSIGN_ATT_ARTIFACT}.get(
            suffix, COSIGN_SBOM_ARTIFACT
        )
    return None


def _kind(entry: _Found) -> ReferrerKind:
    return classify(_artifact_type(entry) or "", _layer_types(entry), _predicate_types(entry))


def _documents(types: list[str], predicates: list[str]) -> list[ReferrerKind]:
    """The kinds of document an artifact's media types and predicate types say it holds."""
    held: list[ReferrerKind] = []
    if any("slsa.dev/provenance" in p for p in predicates):
        held.append("provenance")
    if any(t in SPDX_JSON or t in CYCLONEDX_JSON for t in types) or any(
        "spdx" in p.lower() or "cyclonedx" in p.lower() for p in predicates
    ):
        held.append("sbom")
    if any(t in OPENVEX_JSON for t in types) or any("openvex" in p for p in predicates):
        held.append("vex")
    return held


def classify(artifact_type: str, layer_types: list[str], predicates: list[str]) -> ReferrerKind:
    """What an artifact is, from its artifact type, layer media types and predicate types."""
    return kinds_of(artifact_type, layer_types, predicates)[0]


def kinds_of(
    artifact_type: str, layer_types: list[str], predicates: list[str]
) -> list[ReferrerKind]:
    """Every kind of document an artifact holds, its kind (`classify`) first: a BuildKit
    attestation manifest commonly holds an SBOM beside its provenance, which its kind alone
    (provenance) would hide."""
    types = [artifact_type, *layer_types]
    if artifact_type.startswith(NOTATION_SIGNATURE):
        return ["notation_signature"]
    if any(t.startswith(SIGSTORE_BUNDLE_PREFIX) for t in types):
        return ["sigstore_bundle"]
    if COSIGN_SIMPLESIGNING in layer_types or artifact_type == COSIGN_SIG_ARTIFACT:
        return ["signature"]
    held = _documents(types, predicates)
    kind: ReferrerKind
    if "vex" in held:
        kind = "vex"
    elif "sbom" in held and "provenance" not in held:
        kind = "sbom"
    elif "provenance" in held:
        kind = "provenance"
    elif artifact_type == COSIGN_SBOM_ARTIFACT:
        kind = "sbom"
    elif (
        predicates
        or any(t in (IN_TOTO, DSSE_ENVELOPE) for t in types)
        or artifact_type == COSIGN_ATT_ARTIFACT
        or "attestation" in artifact_type
    ):
        kind = "attestation"
    else:
        kind = "other"
    return [kind, *(k for k in held if k != kind)]


def _model(entry: _Found) -> Referrer:
    desc = entry.descriptor
    manifest = entry.manifest
    annotations = dict(desc.annotations)
    if manifest is not None:
        annotations = {**manifest.annotations, **annotations}
    predicates = _predicate_types(entry)
    kinds = kinds_of(_artifact_type(entry) or "", _layer_types(entry), predicates)
    return Referrer(
        subject=entry.subject,
        subject_platform=entry.platform,
        digest=desc.digest,
        media_type=desc.media_type,
        artifact_type=_artifact_type(entry),
        size=desc.size,
        kind=kinds[0],
        kinds=kinds,
        annotations=annotations,
        sources=sorted(entry.sources),
        tags=entry.tags,
        predicate_types=predicates,
        layers=[
            ReferrerLayer(
                media_type=layer.media_type,
                digest=layer.digest,
                size=layer.size,
                annotations=dict(layer.annotations),
            )
            for layer in (manifest.layers if manifest else [])
        ],
        referrers=[_model(child) for child in entry.children],
        already_shown=entry.already_shown,
    )


def referrers_report(
    clients: Clients,
    image: str,
    *,
    platform: str | None = None,
    artifact_type: str | None = None,
    depth: int = limits.DEFAULT_REFERRER_DEPTH,
) -> ReferrersReport:
    if not 1 <= depth <= limits.MAX_REFERRER_DEPTH:
        raise InvalidInputError(f"depth must be 1 to {limits.MAX_REFERRER_DEPTH} (got {depth})")
    found = discover(clients, image, platform=platform, artifact_type=artifact_type, depth=depth)
    notes = list(found.notes)
    if found.api == "unsupported" and not found.reference.is_local:
        notes.append(
            "the registry has no referrers API: the sha256-<hex> tag fallback and cosign's "
            "tags were read instead"
        )
    return ReferrersReport(
        reference=str(found.reference),
        digest=found.digest,
        media_type=found.media_type,
        referrers_api=found.api,  # type: ignore[arg-type]
        referrers_api_remembered=found.api_remembered,
        artifact_type_filter=artifact_type,
        subjects=found.subjects,
        referrers=found.referrers(),
        notes=notes,
        depth=depth,
    )


__all__ = [
    "Discovery",
    "SupportMemory",
    "classify",
    "discover",
    "referrers_report",
    "tag_for",
]
