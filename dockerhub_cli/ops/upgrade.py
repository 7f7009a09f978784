"""`tags --same-as` (which tags are the same image) and `upgrade` (newer tags of a family and
what moving to each means). Both reuse what exists: the tag-family rules of `versions.py` and
`updates`, the layer/config comparison of `compare`, the vulnerability report of `vulns`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dockerhub_cli.errors import DockerHubError, InvalidInputError, NoAttestationError
from dockerhub_cli.models.pinning import (
    ConfigChange,
    SameAsReport,
    SameTag,
    UpgradeCandidate,
    UpgradeReport,
    VulnDelta,
)
from dockerhub_cli.oci.reference import (
    ImageReference,
    parse_reference,
    parse_repository,
    validate_tag,
)
from dockerhub_cli.oci.timestamp import parse_timestamp
from dockerhub_cli.oci.versions import TagVersion, newer_in_family, parse_version
from dockerhub_cli.ops.tags import registry_tag_names

if TYPE_CHECKING:
    from dockerhub_cli.models.compare import ConfigDiff
    from dockerhub_cli.ops.clients import Clients
    from dockerhub_cli.ops.images import ResolvedImage

MAX_SAME_AS_HUB_PAGES = 20  # 2000 tags from the Hub listing (digests included: no HEADs)
MAX_SAME_AS_REGISTRY_TAGS = 50  # one HEAD each (plus a GET per distinct index) elsewhere
MAX_SAME_AS_ALL_REGISTRY_TAGS = 1000  # with all_tags: the HEADs a registry is sent at most
MAX_CONFIG_CHECKS = 10  # tags whose config digests are fetched (the closest in time first)
MAX_PLATFORMS = 16
MAX_UPGRADE_CANDIDATES = 20


# -- same-as -----------------------------------------------------------------------------------


@dataclass
class _Print:
    name: str
    digest: str | None
    manifests: frozenset[str]
    platforms: frozenset[str]
    last_updated: datetime | None = None


def same_as(
    clients: Clients,
    repository: str | ImageReference,
    tag: str,
    *,
    pattern: str | None = None,
    all_tags: bool = False,
) -> SameAsReport:
    """The tags that are the same image as `tag`. `pattern` (a glob, as `tags --filter`) keeps
    only the candidates it matches (the tag itself is always resolved); `all_tags` compares
    every tag instead of the most recent ones (Docker Hub: MAX_HUB_TAG_PAGES pages instead of
    MAX_SAME_AS_HUB_PAGES; elsewhere up to MAX_SAME_AS_ALL_REGISTRY_TAGS HEADs instead of
    MAX_SAME_AS_REGISTRY_TAGS). `checked` counts the tag itself when the listing had it."""
    from dockerhub_cli.ops.tags import check_pattern, tag_matches

    ref = parse_repository(repository) if isinstance(repository, str) else repository
    ref = ImageReference(ref.domain, ref.path)
    validate_tag(tag)
    check_pattern(pattern)
    notes: list[str] = []
    hub_name = ref.hub_namespace_and_name
    if hub_name is not None:
        prints, source = _hub_prints(clients, hub_name, notes, all_tags=all_tags), "hub"
        complete = not any(n.startswith("stopped") or "refused" in n for n in notes)
    else:
        prints, complete = _registry_prints(clients, ref, notes, tag, pattern, all_tags)
        source = "registry"
    target = next((p for p in prints if p.name == tag), None)
    listed = target is not None
    if target is None or target.digest is None:
        from dockerhub_cli.errors import NotFoundError
        from dockerhub_cli.ops.images import _not_found

        try:
            target = _registry_print(clients, ref, tag)
        except NotFoundError as exc:  # say which: the tag or the whole repository
            raise _not_found(clients, ref.with_tag(tag), exc) from None
    candidates = [p for p in prints if p.name != tag and tag_matches(p.name, pattern)]
    matches: list[SameTag] = []
    unmatched: list[_Print] = []
    for other in candidates:
        if other.digest is not None and other.digest == target.digest:
            matches.append(
                SameTag(
                    name=other.name,
                    digest=other.digest,
                    matched_by="index",
                    last_updated=other.last_updated,
                )
            )
        elif other.manifests and other.manifests == target.manifests:
            matches.append(
                SameTag(
                    name=other.name,
                    digest=other.digest,
                    matched_by="manifests",
                    last_updated=other.last_updated,
                )
            )
        elif other.digest is not None and other.platforms == target.platforms:
            unmatched.append(other)
    # Config digests: a rebuilt image whose manifests changed (another compression, media
    # type) but whose configs did not. Costs registry requests, so only for a few candidates,
    # and not on Docker Hub, where every manifest GET counts against the pull limit.
    if unmatched and source == "hub":
        notes.append(
            f"{len(unmatched)} other tags with the same platforms were not compared by config "
            "digest (on Docker Hub that costs manifest GETs, which count as pulls)"
        )
    elif unmatched:
        when = target.last_updated

        def distance(p: _Print) -> float:
            if when is None or p.last_updated is None:
                return float("inf")
            return abs((p.last_updated - when).total_seconds())

        unmatched.sort(key=lambda p: (distance(p), p.name))
        chosen = unmatched[:MAX_CONFIG_CHECKS]
        if len(unmatched) > MAX_CONFIG_CHECKS:
            notes.append(
                f"config digests compared for {MAX_CONFIG_CHECKS} of {len(unmatched)} other "
                "tags with the same platforms (the closest in time)"
            )
        try:
            mine = _configs(clients, ref, target.digest or "")
        except DockerHubError as exc:
            mine = frozenset()
            notes.append(f"config digests of {tag} unknown: {exc}")
        if mine:
            from dockerhub_cli.ops.compare import run_parallel

            calls: list[Callable[[], Any]] = [
                _safe(_configs_of(clients, ref, p.digest or "")) for p in chosen
            ]
            for p, configs in zip(chosen, run_parallel(clients, calls), strict=True):
                if configs == mine:
                    matches.append(
                        SameTag(
                            name=p.name,
                            digest=p.digest,
                            matched_by="configs",
                            last_updated=p.last_updated,
                        )
                    )
    order = {"index": 0, "manifests": 1, "configs": 2}
    matches.sort(key=lambda m: (order[m.matched_by], m.name))
    return SameAsReport(
        repository=ref.familiar_name if ref.is_docker_hub else ref.repository,
        tag=tag,
        digest=target.digest or "",
        platform_digests=sorted(target.manifests),
        tags=matches,
        checked=len(candidates) + listed,
        complete=complete,
        source=source,
        pattern=pattern,
        notes=notes,
    )


def _configs_of(clients: Clients, ref: ImageReference, digest: str) -> Callable[[], frozenset[str]]:
    return lambda: _configs(clients, ref, digest)


def _safe(call: Callable[[], frozenset[str]]) -> Callable[[], frozenset[str]]:
    def run() -> frozenset[str]:
        try:
            return call()
        except DockerHubError:
            return frozenset()

    return run


def _hub_prints(
    clients: Clients, hub_name: tuple[str, str], notes: list[str], *, all_tags: bool = False
) -> list[_Print]:
    """The most recent Hub tags' fingerprints, through the one Hub page walker (`hub.pages`:
    loops, other hosts and time bounded, at most MAX_SAME_AS_HUB_PAGES pages, or
    MAX_HUB_TAG_PAGES with `all_tags`)."""
    from dockerhub_cli.ops.tags import MAX_HUB_TAG_PAGES
    from dockerhub_cli.remote.hub import HUB_PAGE_SIZE, HubWalk, PaginationLimitError

    namespace, name = hub_name
    prints: list[_Print] = []
    walk = HubWalk()
    seen: set[str] = set()
    try:
        for hub_page in clients.hub.pages(
            lambda: clients.hub.tags_page(
                namespace, name, page=1, page_size=HUB_PAGE_SIZE, ordering="last_updated"
            ),
            f"tags of {namespace}/{name}",
            walk,
            max_pages=MAX_HUB_TAG_PAGES if all_tags else MAX_SAME_AS_HUB_PAGES,
        ):
            for raw in hub_page.results:
                tag = str(raw.get("name") or "")
                if tag in seen:  # a tag repeated across pages counts once
                    continue
                seen.add(tag)
                images = [
                    i
                    for i in _dicts(raw.get("images"))
                    if not is_attestation_platform(i.get("os"), i.get("architecture"))
                ]
                prints.append(
                    _Print(
                        name=tag,
                        digest=raw.get("digest") or None,
                        manifests=frozenset(str(i["digest"]) for i in images if i.get("digest")),
                        platforms=frozenset(
                            f"{i.get('os')}/{i.get('architecture')}/{i.get('variant') or ''}"
                            for i in images
                        ),
                        last_updated=parse_timestamp(
                            raw.get("last_updated") or raw.get("tag_last_pushed")
                        ),
                    )
                )
    except PaginationLimitError:
        notes.append(
            f"Docker Hub refused deep pages to anonymous callers; compared the "
            f"{len(prints)} most recent tags"
        )
        return prints
    if walk.capped:
        notes.append(f"stopped after the {walk.pages * HUB_PAGE_SIZE} most recent tags")
    elif walk.stopped:
        notes.append(walk.stopped)
    return prints


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _results(body: Any) -> list[dict[str, Any]]:
    return _dicts(body.get("results") if isinstance(body, dict) else None)


def is_attestation_platform(os_name: Any, arch: Any) -> bool:
    return (os_name or "unknown") == "unknown" or (arch or "unknown") == "unknown"


def _registry_prints(
    clients: Clients,
    ref: ImageReference,
    notes: list[str],
    tag: str,
    pattern: str | None = None,
    all_tags: bool = False,
) -> tuple[list[_Print], bool]:
    """Fingerprints of the tags `pattern` keeps (one HEAD each, so the filter is applied to
    the names first; `tag` itself is kept), at most MAX_SAME_AS_REGISTRY_TAGS of them (the
    highest versions), or MAX_SAME_AS_ALL_REGISTRY_TAGS with `all_tags`."""
    from dockerhub_cli.ops.compare import run_parallel
    from dockerhub_cli.ops.tags import tag_matches

    names, cut_at = registry_tag_names(clients, ref, lambda n: n == tag or tag_matches(n, pattern))
    if cut_at is not None:
        notes.append(cut_at)
    complete = cut_at is None
    bound = MAX_SAME_AS_ALL_REGISTRY_TAGS if all_tags else MAX_SAME_AS_REGISTRY_TAGS
    if len(names) > bound:
        from dockerhub_cli.oci.versions import semver_sort_key

        hint = "" if all_tags else "; --all compares more"
        notes.append(
            f"compared the {bound} highest versions of {len(names)} tags "
            f"(one HEAD each); the rest were not checked{hint}"
        )
        # The newest versions first: the tags a floating tag most likely is.
        names = sorted(names, key=semver_sort_key)[:bound]
        complete = False
    calls: list[Callable[[], Any]] = [_print_of(clients, ref, n) for n in names]
    prints = [p for p in run_parallel(clients, calls) if p is not None]
    return prints, complete


def _print_of(clients: Clients, ref: ImageReference, tag: str) -> Callable[[], _Print | None]:
    return lambda: _registry_print_or_none(clients, ref, tag)


def _registry_print_or_none(clients: Clients, ref: ImageReference, tag: str) -> _Print | None:
    try:
        return _registry_print(clients, ref, tag)
    except DockerHubError:
        return None


def _registry_print(clients: Clients, ref: ImageReference, tag: str) -> _Print:
    """A tag's digest (HEAD) and its platform manifests (the index, fetched by digest: cached
    for good, so shared digests cost one GET per distinct index)."""
    from dockerhub_cli.oci.manifest import INDEX_TYPES, ImageIndex
    from dockerhub_cli.ops.images import fetch_manifest

    tag_ref = ref.with_tag(tag)
    head = clients.registry.head_manifest(tag_ref)
    digest = head.digest or clients.registry.get_manifest(tag_ref, tag).digest
    if head.digest and head.media_type and head.media_type not in INDEX_TYPES:
        # A single image: its own digest is its only platform manifest (no GET needed).
        return _Print(tag, digest, frozenset({digest}), frozenset())
    top = fetch_manifest(clients, tag_ref.with_digest(digest), digest)
    if isinstance(top.parsed, ImageIndex):
        runnable = top.parsed.runnable
        return _Print(
            tag,
            digest,
            frozenset(d.digest for d in runnable),
            frozenset(str(d.platform) for d in runnable if d.platform),
        )
    return _Print(tag, digest, frozenset({digest}), frozenset())


def _configs(clients: Clients, ref: ImageReference, digest: str) -> frozenset[str]:
    from dockerhub_cli.oci.manifest import ImageIndex, ImageManifest
    from dockerhub_cli.ops.images import fetch_manifest

    pinned = ref.with_digest(digest)
    top = fetch_manifest(clients, pinned, digest)
    if isinstance(top.parsed, ImageManifest):
        return frozenset({top.parsed.config.digest})
    if not isinstance(top.parsed, ImageIndex):
        return frozenset()
    configs = set()
    for d in top.parsed.runnable[:MAX_PLATFORMS]:
        child = fetch_manifest(clients, pinned, d.digest)
        if isinstance(child.parsed, ImageManifest):
            configs.add(f"{d.platform}={child.parsed.config.digest}")
    return frozenset(configs)


# -- upgrade -----------------------------------------------------------------------------------


def family_label(version: TagVersion) -> str:
    """`1.27.3-alpine` -> `N.N.N-alpine`: the shape every tag of the family has."""
    return version.prefix + ".".join("N" for _ in version.numbers) + version.flavour


def upgrade_advice(
    clients: Clients,
    image: str,
    *,
    platform: str | None = None,
    vulns: bool = False,
    limit: int = 5,
    now: datetime | None = None,
) -> UpgradeReport:
    from dockerhub_cli.ops.compare import _family_tags, build_comparison, run_parallel
    from dockerhub_cli.ops.images import base_image_of, resolve_image

    if not 1 <= limit <= MAX_UPGRADE_CANDIDATES:
        raise InvalidInputError(f"limit must be between 1 and {MAX_UPGRADE_CANDIDATES}")
    now = now or datetime.now(UTC)
    ref = parse_reference(image)
    version = parse_version(ref.tag) if ref.tag and not ref.digest else None
    notes: list[str] = []
    calls: list[Callable[[], Any]] = [lambda: resolve_image(clients, ref, platform)]
    if version is not None:
        flavour = version.flavour
        calls.append(lambda: _family_tags(clients, ref, flavour))
    results = run_parallel(clients, calls)
    current: ResolvedImage = results[0]
    current.require()
    newer: list[str] = []
    complete = True
    if version is None:
        notes.append(
            f"{ref} has no version tag, so there is no family of newer tags"
            if ref.tag is None or ref.digest
            else f"tag {ref.tag!r} is not a version, so it has no family of newer tags"
        )
    else:
        listing = results[1]
        if isinstance(listing, DockerHubError):
            complete = False
            notes.append(f"newer tags unknown: {listing}")
        else:
            notes += listing.notes
            complete = listing.complete
            assert ref.tag is not None
            newer = newer_in_family(ref.tag, (t.name for t in listing.tags))
    chosen_platform = str(current.platform) if current.platform else platform
    examine = newer[:limit]
    cand_calls: list[Callable[[], Any]] = [
        _safe_resolve(clients, ref.with_tag(t), chosen_platform) for t in examine
    ]
    resolved = run_parallel(clients, cand_calls)
    current_vulns = _vuln_ids(clients, current) if vulns and examine else None
    base_before = base_image_of(current)
    candidates = []
    for tag, other in zip(examine, resolved, strict=True):
        target = str(ref.with_tag(tag))
        if isinstance(other, DockerHubError):
            candidates.append(
                UpgradeCandidate(
                    tag=tag,
                    reference=target,
                    error=str(other),
                    vulnerabilities=VulnDelta(checked=False, reason="not examined"),
                )
            )
            continue
        comparison = build_comparison(current, other)
        created = comparison.right.created
        if created is not None and created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        base_after = base_image_of(other)
        before = _base_text(base_before)
        after = _base_text(base_after)
        changes = config_changes(comparison.config_diff)
        candidates.append(
            UpgradeCandidate(
                tag=tag,
                reference=target,
                digest=comparison.right.digest,
                download_size=comparison.pull_adds,
                total_size=comparison.right.size,
                created=created,
                age_days=round((now - created).total_seconds() / 86400, 1) if created else None,
                base_before=before,
                base_after=after,
                base_changed=None if before is None and after is None else before != after,
                config_changes=changes,
                breaking=any(c.breaking for c in changes),
                vulnerabilities=_vuln_delta(clients, other, current_vulns, vulns),
            )
        )
    if len(newer) > limit:
        notes.append(f"examined the {limit} newest of {len(newer)} newer tags (raise --limit)")
    return UpgradeReport(
        reference=str(ref),
        tag=ref.tag,
        digest=current.manifest_digest or current.digest,
        platform=chosen_platform,
        family=family_label(version) if version is not None else None,
        candidates=candidates,
        newer_tags=newer,
        tags_complete=complete,
        notes=notes,
    )


def _safe_resolve(clients: Clients, ref: ImageReference, platform: str | None) -> Callable[[], Any]:
    from dockerhub_cli.ops.images import resolve_image

    def call() -> Any:
        try:
            resolved = resolve_image(clients, ref, platform)
            resolved.require()
            return resolved
        except DockerHubError as exc:
            return exc

    return call


def _base_text(base: Any) -> str | None:
    if base is None:
        return None
    if base.name and base.digest:
        return f"{base.name}@{base.digest}"
    return str(base.name or base.digest)


def config_changes(diff: ConfigDiff) -> list[ConfigChange]:
    """The config differences a deployment can feel, each marked breaking or not: a changed
    entrypoint, user or working directory, a removed port, env variable or volume break a
    deployment that relied on them; a changed CMD or an added port or variable usually not."""
    out: list[ConfigChange] = []
    for name, value, breaking in (
        ("entrypoint", diff.entrypoint, True),
        ("user", diff.user, True),
        ("working_dir", diff.working_dir, True),
        ("cmd", diff.cmd, False),
    ):
        if value.changed:
            out.append(
                ConfigChange(
                    field=name,
                    change=f"{name} {value.left!r} -> {value.right!r}",
                    breaking=breaking,
                )
            )
    for name, sets in (("exposed_ports", diff.exposed_ports), ("volumes", diff.volumes)):
        if sets.removed:
            out.append(
                ConfigChange(
                    field=name, change=f"{name} removed: {', '.join(sets.removed)}", breaking=True
                )
            )
        if sets.added:
            out.append(
                ConfigChange(
                    field=name,
                    change=f"{name} added: {', '.join(sets.added)}",
                    breaking=name == "volumes",
                )
            )
    if diff.env.removed:
        out.append(
            ConfigChange(
                field="env", change="env removed: " + ", ".join(diff.env.removed), breaking=True
            )
        )
    if diff.env.changed:
        changed = ", ".join(f"{k}={v.left!r}->{v.right!r}" for k, v in diff.env.changed.items())
        out.append(ConfigChange(field="env", change=f"env changed: {changed}", breaking=False))
    if diff.env.added:
        out.append(
            ConfigChange(
                field="env", change="env added: " + ", ".join(diff.env.added), breaking=False
            )
        )
    return out


def _vuln_ids(clients: Clients, resolved: ResolvedImage) -> set[str] | str:
    """The vulnerability IDs of the image, or why they are unknown."""
    try:
        by_index = resolved.reference.with_digest(resolved.digest)
        from dockerhub_cli.ops.vulns import vulnerability_report

        report = vulnerability_report(
            clients, str(by_index), platform=str(resolved.platform or "") or None
        )
    except NoAttestationError:
        return "no SBOM attestation"
    except DockerHubError as exc:
        return f"not checked: {exc}"
    return {v.id for v in report.vulnerabilities}


def _vuln_delta(
    clients: Clients,
    other: ResolvedImage,
    current: set[str] | str | None,
    wanted: bool,
) -> VulnDelta:
    if not wanted:
        return VulnDelta(checked=False, reason="not checked (pass --vulns; needs SBOMs)")
    if isinstance(current, str):
        return VulnDelta(checked=False, reason=f"current image: {current}")
    mine = _vuln_ids(clients, other)
    if isinstance(mine, str):
        return VulnDelta(checked=False, reason=mine)
    assert current is not None
    return VulnDelta(checked=True, fixed=sorted(current - mine), added=sorted(mine - current))
