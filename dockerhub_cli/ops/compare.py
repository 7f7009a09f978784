"""`compare` (two images side by side) and `updates` (is the base current, which tags are newer).

Both sides of a comparison are fetched in parallel: a two-worker thread pool over the one shared
service (its session, token cache, limiter and counters are thread-safe), with the caller's
request tracking carried into the workers so a stale answer on either side marks the result.
Everything is fetched by digest after one HEAD per tag, so a warm repeat costs no request.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

from dockerhub_cli import advice
from dockerhub_cli.errors import DockerHubError, InvalidInputError
from dockerhub_cli.models.compare import (
    BaseEvidence,
    BaseStatus,
    Comparison,
    ConfigDiff,
    HistoryDiff,
    HistoryStepRef,
    ImageSide,
    LayerRow,
    MappingChange,
    MappingDiff,
    PlatformSets,
    SetDiff,
    UpdateReport,
    ValueDiff,
)
from dockerhub_cli.oci.manifest import same_content_other_digest, stored_uncompressed
from dockerhub_cli.oci.reference import ImageReference, parse_reference
from dockerhub_cli.oci.source import parse_source
from dockerhub_cli.oci.timestamp import parse_timestamp
from dockerhub_cli.oci.versions import newer_in_family, parse_version
from dockerhub_cli.ops.images import base_image_of, history_steps, resolve_image
from dockerhub_cli.ops.tags import list_tags
from dockerhub_cli.text import plural

if TYPE_CHECKING:
    from dockerhub_cli.models.tags import TagList
    from dockerhub_cli.oci.manifest import Descriptor, ImageConfig, ImageManifest
    from dockerhub_cli.ops.clients import Clients
    from dockerhub_cli.ops.images import ResolvedImage

WORKERS = 2
MAX_NEWER_TAGS = 10


def run_parallel(clients: Clients, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run `calls` on a two-worker pool over the shared service; results in order. The first
    failure (in call order) is raised after every call has finished."""
    carry = clients.transport.carry_tracking
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="dockerhub-fetch") as pool:
        futures = [pool.submit(carry(call)) for call in calls]
        return [f.result() for f in futures]


# -- compare ---------------------------------------------------------------------------------


def compare_images(
    clients: Clients, image1: str, image2: str, *, platform: str | None = None
) -> Comparison:
    left_ref, right_ref = parse_source(image1), parse_source(image2)
    left, right = run_parallel(
        clients,
        [
            lambda: resolve_image(clients, left_ref, platform),
            lambda: resolve_image(clients, right_ref, platform),
        ],
    )
    return build_comparison(left, right)


def build_comparison(left: ResolvedImage, right: ResolvedImage) -> Comparison:
    """The comparison of two resolved images (pure: no I/O)."""
    lm, lc = left.require()
    rm, rc = right.require()
    notes: list[str] = []
    lsteps, lnotes = history_steps(lm, lc)
    rsteps, rnotes = history_steps(rm, rc)
    notes += [f"left: {n}" for n in lnotes] + [f"right: {n}" for n in rnotes]
    same = same_content_other_digest(lm, lc, rm, rc)
    if same:
        lplain, rplain = stored_uncompressed(lm, lc), stored_uncompressed(rm, rc)
        why = (
            f" (the {'left' if lplain else 'right'} side keeps its layers uncompressed, as "
            "docker save does)"
            if lplain != rplain
            else ""
        )
        notes.append(
            f"{plural(len(same), 'layer')} hold the same files on both sides (the same diff_id) "
            f"under other digests{why}: they count as different here, and a pull downloads "
            "them anyway"
        )
    lplat, rplat = _platform(left), _platform(right)
    if lplat and rplat and lplat != rplat:
        notes.append(f"the sides are different platforms: {lplat} and {rplat}")

    ldigests = [layer.digest for layer in lm.layers]
    rdigests = [layer.digest for layer in rm.layers]
    lset, rset = set(ldigests), set(rdigests)
    sizes = {layer.digest: layer.size for layer in [*lm.layers, *rm.layers]}
    prefix = 0
    while prefix < min(len(ldigests), len(rdigests)) and ldigests[prefix] == rdigests[prefix]:
        prefix += 1
    shared = _unique(d for d in ldigests if d in rset)
    only_left = _unique(d for d in ldigests if d not in rset)
    only_right = _unique(d for d in rdigests if d not in lset)
    prefix_size = sum(layer.size for layer in lm.layers[:prefix])
    pull_adds = sum(sizes[d] for d in only_right)
    lsize, rsize = lm.total_size, rm.total_size
    delta = rsize - lsize
    percent = round(delta / lsize * 100, 2) if lsize else None

    lstep = {s.layer_index: s.created_by for s in lsteps if s.layer_index is not None}
    rstep = {s.layer_index: s.created_by for s in rsteps if s.layer_index is not None}
    rows = [
        _layer_row(i, lm.layers, rm.layers, prefix, lset, rset, lstep, rstep)
        for i in range(max(len(lm.layers), len(rm.layers)))
    ]

    from dockerhub_cli.text import human_size

    lname, rname = str(left.reference), str(right.reference)
    if prefix:
        base = f"share their first {plural(prefix, 'layer')} ({human_size(prefix_size)})"
    elif shared:
        base = f"share {plural(len(shared), 'layer')} but no common base"
    else:
        base = "share no layer"
    sign = "+" if delta >= 0 else "-"
    pct = f", {sign}{abs(percent):.1f}%" if percent is not None else ""
    summary = (
        f"{lname} and {rname} {base}; pulling {rname} on top of {lname} downloads "
        f"{human_size(pull_adds)} ({plural(len(only_right), 'layer')}); "
        f"size {sign}{human_size(abs(delta))}{pct}"
    )
    return Comparison(
        left=_side(left, lm, lc),
        right=_side(right, rm, rc),
        shared_layers=shared,
        only_left=only_left,
        only_right=only_right,
        common_prefix_layers=prefix,
        common_prefix_size=prefix_size,
        shared_size=sum(sizes[d] for d in shared),
        pull_adds=pull_adds,
        size_delta=delta,
        size_delta_percent=percent,
        config_diff=config_diff(lc, rc, left, right),
        history_diff=history_diff(lsteps, rsteps),
        layers=rows,
        summary=summary,
        notes=notes,
    )


def _unique(items: Any) -> list[str]:
    return list(dict.fromkeys(items))


def _platform(resolved: ResolvedImage) -> str | None:
    return str(resolved.platform) if resolved.platform else None


def _side(resolved: ResolvedImage, manifest: ImageManifest, config: ImageConfig) -> ImageSide:
    return ImageSide(
        reference=str(resolved.reference),
        digest=resolved.manifest_digest or resolved.digest,
        index_digest=resolved.digest if resolved.index is not None else None,
        media_type=resolved.media_type,
        platform=_platform(resolved),
        platforms=[str(d.platform) for d in resolved.platforms if d.platform],
        created=parse_timestamp(config.created),
        size=manifest.total_size,
        layer_count=len(manifest.layers),
    )


def _layer_row(
    i: int,
    left: list[Descriptor],
    right: list[Descriptor],
    prefix: int,
    lset: set[str],
    rset: set[str],
    lstep: dict[int, str],
    rstep: dict[int, str],
) -> LayerRow:
    lw = left[i] if i < len(left) else None
    rw = right[i] if i < len(right) else None
    if i < prefix:
        status = "base"
    elif lw is None:
        status = "only_right"
    elif rw is None:
        status = "only_left"
    elif lw.digest == rw.digest or lw.digest in rset or rw.digest in lset:
        status = "shared"
    else:
        status = "different"
    return LayerRow(
        position=i,
        left_digest=lw.digest if lw else None,
        left_size=lw.size if lw else None,
        left_step=lstep.get(i) if lw else None,
        right_digest=rw.digest if rw else None,
        right_size=rw.size if rw else None,
        right_step=rstep.get(i) if rw else None,
        status=status,  # type: ignore[arg-type]
    )


def _env_map(env: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in env:
        key, _, value = entry.partition("=")
        out[key] = value
    return out


def mapping_diff(left: dict[str, str], right: dict[str, str]) -> MappingDiff:
    return MappingDiff(
        added={k: v for k, v in right.items() if k not in left},
        removed={k: v for k, v in left.items() if k not in right},
        changed={
            k: MappingChange(left=left[k], right=right[k])
            for k in left
            if k in right and left[k] != right[k]
        },
    )


def _value(left: Any, right: Any) -> ValueDiff:
    return ValueDiff(left=left, right=right, changed=left != right)


def _set(left: list[str], right: list[str]) -> SetDiff:
    return SetDiff(
        added=[x for x in right if x not in left], removed=[x for x in left if x not in right]
    )


def config_diff(
    lc: ImageConfig, rc: ImageConfig, left: ResolvedImage, right: ResolvedImage
) -> ConfigDiff:
    platforms = None
    if left.index is not None or right.index is not None:
        lp = [str(d.platform) for d in left.platforms if d.platform] or _as_list(_platform(left))
        rp = [str(d.platform) for d in right.platforms if d.platform] or _as_list(_platform(right))
        platforms = PlatformSets(
            left=lp,
            right=rp,
            common=[p for p in lp if p in rp],
            only_left=[p for p in lp if p not in rp],
            only_right=[p for p in rp if p not in lp],
        )
    return ConfigDiff(
        env=mapping_diff(_env_map(lc.env), _env_map(rc.env)),
        labels=mapping_diff(lc.labels, rc.labels),
        entrypoint=_value(lc.entrypoint, rc.entrypoint),
        cmd=_value(lc.cmd, rc.cmd),
        user=_value(lc.user or None, rc.user or None),
        working_dir=_value(lc.working_dir or None, rc.working_dir or None),
        exposed_ports=_set(lc.exposed_ports, rc.exposed_ports),
        volumes=_set(lc.volumes, rc.volumes),
        platform=_value(_platform(left), _platform(right)),
        platforms=platforms,
    )


def _as_list(value: str | None) -> list[str]:
    return [value] if value else []


def history_diff(lsteps: list[Any], rsteps: list[Any]) -> HistoryDiff:
    """The build steps that differ, by a sequence diff of (command, empty_layer)."""
    lkeys = [(s.created_by, s.empty_layer) for s in lsteps]
    rkeys = [(s.created_by, s.empty_layer) for s in rsteps]
    common = 0
    while common < min(len(lkeys), len(rkeys)) and lkeys[common] == rkeys[common]:
        common += 1
    only_left: list[HistoryStepRef] = []
    only_right: list[HistoryStepRef] = []
    matcher = difflib.SequenceMatcher(a=lkeys, b=rkeys, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            only_left += [_step_ref(i, lsteps[i]) for i in range(i1, i2)]
        if op in ("insert", "replace"):
            only_right += [_step_ref(j, rsteps[j]) for j in range(j1, j2)]
    return HistoryDiff(common_prefix=common, only_left=only_left, only_right=only_right)


def _step_ref(index: int, step: Any) -> HistoryStepRef:
    return HistoryStepRef(
        index=index,
        created_by=step.created_by,
        empty_layer=step.empty_layer,
        layer_digest=step.layer_digest,
    )


# -- updates ---------------------------------------------------------------------------------


def image_updates(
    clients: Clients,
    image: str,
    *,
    base: str | None = None,
    platform: str | None = None,
) -> UpdateReport:
    ref = parse_reference(image)
    user_base = parse_reference(base) if base is not None else None
    notes: list[str] = []

    family_version = parse_version(ref.tag) if ref.tag else None
    list_tags = ref.tag is not None and family_version is not None
    calls: list[Callable[[], Any]] = [lambda: resolve_image(clients, ref, platform)]
    if list_tags and family_version is not None:
        flavour = family_version.flavour
        calls.append(lambda: _family_tags(clients, ref, flavour))
    results = run_parallel(clients, calls)
    resolved: ResolvedImage = results[0]
    manifest, _ = resolved.require()
    image_platform = _platform(resolved)

    # Newer tags of the same family.
    newer: list[str] = []
    total = 0
    complete = True
    if ref.tag is None:
        notes.append("the reference has no tag, so there is no tag family to follow")
    elif family_version is None:
        notes.append(f"tag {ref.tag!r} is not a version, so it has no family of newer tags")
    else:
        listing: TagList | DockerHubError = results[1]
        if isinstance(listing, DockerHubError):
            complete = False
            notes.append(f"newer tags unknown: {listing}")
        else:
            notes += listing.notes
            complete = listing.complete
            found = newer_in_family(ref.tag, (t.name for t in listing.tags))
            total = len(found)
            newer = found[:MAX_NEWER_TAGS]

    status, base_ref, reason = _base_of(resolved, user_base, notes)
    evidence = None
    outdated: bool | None = None
    if status is not None and base_ref is not None:
        outdated, reason, evidence = _judge(clients, resolved, manifest, status, base_ref)

    verdict = _verdict(str(ref), status, outdated, reason)
    return UpdateReport(
        reference=str(ref),
        digest=resolved.manifest_digest or resolved.digest,
        platform=image_platform,
        base=status,
        base_outdated=outdated,
        reason=reason,
        evidence=evidence,
        verdict=verdict,
        tag=ref.tag,
        newer_tags=newer,
        newer_tags_total=total,
        tags_complete=complete,
        notes=notes,
    )


def _family_tags(clients: Clients, ref: ImageReference, flavour: str) -> TagList | DockerHubError:
    """Every tag of the repository ending in the flavour (the Hub filters server-side by the
    literal part); an error is returned, not raised: newer tags are a bonus, not the answer."""
    repository = ImageReference(ref.domain, ref.path)
    try:
        return list_tags(
            clients,
            repository,
            all_tags=True,
            pattern=f"*{flavour}" if flavour else None,
            sort="semver",
        )
    except DockerHubError as exc:
        return exc


def _same_tag(a: ImageReference, b: ImageReference) -> bool:
    return a.repository == b.repository and (a.tag or "latest") == (b.tag or "latest")


def _base_of(
    resolved: ResolvedImage, user_base: ImageReference | None, notes: list[str]
) -> tuple[BaseStatus | None, ImageReference | None, str]:
    """The base to follow and what was recorded about it; (None, None, reason) if none."""
    recorded = base_image_of(resolved)
    recorded_ref: ImageReference | None = None
    if recorded is not None and recorded.name:
        try:
            recorded_ref = parse_reference(recorded.name)
        except InvalidInputError as exc:
            notes.append(
                f"the recorded base name {recorded.name!r} is not usable: {advice.describe(exc)}"
            )
    if user_base is not None:
        digest = None
        if recorded_ref is not None and recorded is not None and _same_tag(recorded_ref, user_base):
            digest = recorded.digest
        elif recorded_ref is not None:
            notes.append(
                f"the image records {recorded_ref} as its base; "
                f"following {advice.param('base', str(user_base))} instead"
            )
        follow = user_base
        source: Literal["annotation", "label", "user"] = "user"
    elif recorded_ref is not None and recorded is not None:
        digest, follow = recorded.digest, recorded_ref
        source = "label" if recorded.source == "label" else "annotation"
    elif recorded is not None and recorded.digest:
        return (
            None,
            None,
            f"the image records its base digest ({recorded.digest}) but not the base's name; "
            f"pass {advice.param('base', 'IMAGE')} to check it",
        )
    else:
        return (
            None,
            None,
            "the image does not record its base (no org.opencontainers.image.base.name "
            f"annotation or label); pass {advice.param('base', 'IMAGE')} to check it",
        )
    if follow.tag is None:
        status = BaseStatus(
            reference=str(follow), source=source, digest_at_build=digest or follow.digest
        )
        return (
            status,
            None,
            f"the base {follow} is pinned by digest only; there is no tag to follow",
        )
    tag_ref = follow.with_tag(follow.tag)  # drop a pinned digest: follow the tag
    if follow.digest and not digest:
        digest = follow.digest
    status = BaseStatus(reference=str(tag_ref), source=source, digest_at_build=digest)
    return status, tag_ref, ""


def _judge(
    clients: Clients,
    resolved: ResolvedImage,
    manifest: ImageManifest,
    status: BaseStatus,
    base_ref: ImageReference,
) -> tuple[bool | None, str, BaseEvidence | None]:
    platform = _platform(resolved)
    status.platform = platform
    try:
        current = resolve_image(clients, base_ref, platform, with_config=False)
    except DockerHubError as exc:
        return None, f"the current digest of {base_ref} is unknown: {advice.describe(exc)}", None
    assert current.manifest is not None
    status.current_digest = current.digest
    status.current_manifest_digest = current.manifest_digest
    base_layers = current.manifest.layers
    image_layers = manifest.layers
    prefix = 0
    while (
        prefix < min(len(base_layers), len(image_layers))
        and base_layers[prefix].digest == image_layers[prefix].digest
    ):
        prefix += 1
    evidence = BaseEvidence(
        base_layer_count=len(base_layers),
        base_size=current.manifest.total_size,
        image_layer_count=len(image_layers),
        shared_prefix_layers=prefix,
        shared_prefix_size=sum(layer.size for layer in image_layers[:prefix]),
        base_is_prefix=prefix == len(base_layers),
    )
    layers_text = (
        f"the image's first {plural(prefix, 'layer')} are {base_ref}'s current "
        f"{plural(len(base_layers), 'layer')}"
    )
    recorded = status.digest_at_build
    if recorded:
        if recorded in (current.digest, current.manifest_digest):
            return False, f"built on {recorded}, which {base_ref} still resolves to", evidence
        reason = (
            f"built on {base_ref}@{_short(recorded)}; {base_ref} now resolves to "
            f"{_short(current.manifest_digest or current.digest)}"
        )
        if evidence.base_is_prefix:
            reason += (
                f" (for {platform} its layers are unchanged: {layers_text}; "
                "only metadata or other platforms changed)"
            )
        else:
            reason += (
                f" (the image shares {plural(prefix, 'leading layer')} with the new base "
                f"of {plural(len(base_layers), 'layer')})"
            )
        return True, reason, evidence
    # No digest recorded (or --base for another image): the layers are the only evidence.
    if evidence.base_is_prefix:
        return False, f"{layers_text} (no base digest recorded; judged by layers)", evidence
    if prefix:
        return (
            True,
            f"the image shares only the first {prefix} of {base_ref}'s current "
            f"{plural(len(base_layers), 'layer')}: {base_ref} has changed since the image "
            "was built "
            "(no base digest recorded; judged by layers)",
            evidence,
        )
    return (
        None,
        f"the image shares no leading layer with {base_ref}: either it was not built on it, "
        "or the base was rebuilt from scratch since; no base digest is recorded to tell which",
        evidence,
    )


def _short(digest: str | None) -> str:
    return (digest or "?")[:19]


def _verdict(image: str, status: BaseStatus | None, outdated: bool | None, reason: str) -> str:
    if status is None or outdated is None:
        return f"unknown: {reason}"
    if outdated:
        return f"outdated: {image} is not built on the current {status.reference}; rebuild it"
    return f"up to date: {image} is built on the current {status.reference}"
