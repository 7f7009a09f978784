"""Tag listing: Docker Hub's tag API (digest, size, platforms, dates) for Docker Hub
repositories, the registry's `tags/list` (names only) elsewhere and when the Hub refuses deep
pages to anonymous callers.

A page of a plain listing is one Hub request; `all_tags`, a glob `pattern` or a semver sort walk
the Hub's pages of 100 (`HubClient.pages`), capped at MAX_HUB_TAG_PAGES (MAX_FILTER_PAGES for a
filter without `all_tags`), with a note when the cap cut the walk short.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from dockerhub_cli import advice, limits
from dockerhub_cli.errors import InvalidInputError
from dockerhub_cli.models.tags import Tag, TagList
from dockerhub_cli.oci.platform import format_platform
from dockerhub_cli.oci.reference import ImageReference
from dockerhub_cli.oci.timestamp import parse_timestamp
from dockerhub_cli.oci.versions import semver_sort_key
from dockerhub_cli.remote.transport import PageWalk

if TYPE_CHECKING:
    from dockerhub_cli.ops.clients import Clients

TagSort = Literal["updated", "name", "semver"]
MAX_FILTER_PAGES = 50  # a pattern without all_tags scans at most this many Hub pages
MAX_HUB_TAG_PAGES = 1000  # all_tags or a semver sort: at most this many Hub pages (100 000 tags)
MAX_REGISTRY_TAG_PAGES = 200


def list_tags(
    clients: Clients,
    ref: ImageReference,
    *,
    limit: int = 25,
    page: int = 1,
    all_tags: bool = False,
    pattern: str | None = None,
    sort: TagSort | None = None,
) -> TagList:
    """`sort` defaults to newest first on Docker Hub and to name order on other registries,
    which do not report update times. `limit` and `page` are checked by the service."""
    if sort is not None and sort not in ("updated", "name", "semver"):
        raise InvalidInputError(f"sort must be one of updated, name, semver (got {sort!r})")
    check_pattern(pattern)
    hub_name = ref.hub_namespace_and_name
    if hub_name is not None:
        listed = _hub_tags(
            clients, ref, hub_name, limit, page, all_tags, pattern, sort or "updated"
        )
    else:
        listed = _registry_tags(clients, ref, limit, page, all_tags, pattern, sort or "name")
    return _note_past_the_end(listed, limit, page)


def _note_past_the_end(listed: TagList, limit: int, page: int) -> TagList:
    """An empty page after the last says which page is the last ("0 shown" said nothing)."""
    if listed.tags or listed.page is None or page <= 1 or not listed.count:
        return listed
    last = -(-listed.count // limit)
    if page <= last:
        return listed
    listed.notes.append(
        f"page {page} is past the end: {listed.count} tags make {last} page(s) of {limit}; "
        f"the last is {advice.param('page', str(last))}"
    )
    return listed


def _hub_tags(
    clients: Clients,
    ref: ImageReference,
    hub_name: tuple[str, str],
    limit: int,
    page: int,
    all_tags: bool,
    pattern: str | None,
    sort: TagSort,
) -> TagList:
    # Docker Hub only: tags of another registry never import the Hub client.
    from dockerhub_cli.ops.hub_catalog import literal_hint
    from dockerhub_cli.remote.hub import HUB_PAGE_SIZE, HubWalk, PaginationLimitError

    namespace, name = hub_name
    ordering = {"updated": "last_updated", "name": "-name", "semver": None}[sort]
    name_filter = literal_hint(pattern) if pattern else None
    what = f"tags of {ref.familiar_name}"

    if not all_tags and pattern is None and sort != "semver":
        body = clients.hub.tags_page(namespace, name, page=page, page_size=limit, ordering=ordering)
        tags = [_hub_tag(t) for t in _results(body)]
        count = body.get("count") if isinstance(body, dict) else None
        return TagList(
            repository=ref.familiar_name,
            count=count if isinstance(count, int) else None,
            page=page,
            tags=_sorted(tags, sort),
            source="hub",
            complete=not (isinstance(body, dict) and body.get("next")) and page == 1,
        )

    # Walk pages of 100: --all, a filter, or a semver sort (which needs every tag).
    collected: list[Tag] = []
    notes: list[str] = []
    complete = True
    max_pages = MAX_HUB_TAG_PAGES if all_tags or sort == "semver" else MAX_FILTER_PAGES
    walk = HubWalk()
    try:
        first = functools.partial(
            clients.hub.tags_page,
            namespace,
            name,
            page=1,
            page_size=HUB_PAGE_SIZE,
            ordering=ordering,
            name_filter=name_filter,
        )
        walk.first_url = clients.hub.tags_url(
            namespace,
            name,
            page=1,
            page_size=HUB_PAGE_SIZE,
            ordering=ordering,
            name_filter=name_filter,
        )
        seen_names: set[str] = set()
        for hub_page in clients.hub.pages(first, what, walk, max_pages=max_pages):
            for tag in (_hub_tag(r) for r in hub_page.results):
                if tag.name not in seen_names and tag_matches(tag.name, pattern):
                    seen_names.add(tag.name)
                    collected.append(tag)
            if (
                hub_page.has_next
                and not all_tags
                and sort != "semver"
                and len(collected) >= page * limit
            ):
                complete = False
                break
        if walk.capped:
            complete = False
            notes.append(f"stopped after scanning {walk.pages * HUB_PAGE_SIZE} tags")
        elif walk.stopped:
            complete = False
            notes.append(walk.stopped)
    except PaginationLimitError:
        # Anonymous callers cannot page deep on the Hub: finish from the registry's
        # tags/list, which has cursor pagination and no such cap (names only).
        seen = {t.name for t in collected}
        names, stopped = registry_tag_names(
            clients, ref, lambda n: n not in seen and tag_matches(n, pattern)
        )
        extra = names_only_tags(names)
        complete = stopped is None
        collected.extend(extra)
        notes.append(
            f"Docker Hub refused deep pages to anonymous callers; {len(extra)} tags came "
            "from the registry's tags/list without digest, size or dates"
        )
        if stopped is not None:
            notes.append(stopped)
    ordered = _sorted(collected, sort)
    if all_tags:
        shown, shown_page = ordered, None
    else:
        start = (page - 1) * limit
        shown, shown_page = ordered[start : start + limit], page
    return TagList(
        repository=ref.familiar_name,
        count=len(ordered) if complete else None,
        page=shown_page,
        tags=shown,
        source="hub",
        complete=complete and (all_tags or len(ordered) <= page * limit),
        notes=notes,
    )


def registry_tag_names(
    clients: Clients, ref: ImageReference, keep: Callable[[str], bool]
) -> tuple[list[str], str | None]:
    """Tag names (each once) from the registry's tags/list that `keep` accepts, and why the
    walk ended early (page or time bound, a paging loop, a next page on another host), or
    None when the listing is complete."""
    walk = PageWalk(
        f"the registry's tags of {ref.familiar_name}",
        max_pages=MAX_REGISTRY_TAG_PAGES,
        clock=clients.transport.clock,
    )
    names: dict[str, None] = {}
    # A local layout or archive lists the names inside it (no paging to bound there).
    pages_of = (
        clients.client_for(ref).iter_tag_pages(ref)
        if ref.is_local
        else clients.registry.iter_tag_pages(ref, walk=walk)
    )
    for pages, batch in enumerate(pages_of, start=1):
        names.update((n, None) for n in batch if keep(n))
        if pages >= MAX_REGISTRY_TAG_PAGES:  # also when the walk is not ours to bound
            return list(names), walk.stopped or f"stopped after {pages} pages of tags"
    return list(names), walk.stopped


def _registry_tags(
    clients: Clients,
    ref: ImageReference,
    limit: int,
    page: int,
    all_tags: bool,
    pattern: str | None,
    sort: TagSort,
) -> TagList:
    notes: list[str] = []
    names, stopped = registry_tag_names(clients, ref, lambda n: tag_matches(n, pattern))
    truncated = stopped is not None
    if stopped is not None:
        notes.append(stopped)
    if sort == "semver":
        names.sort(key=semver_sort_key)
    else:
        names.sort()
        if sort == "updated":
            notes.append("this registry does not report update times; sorted by name")
    tags = names_only_tags(names)
    if all_tags:
        shown, shown_page = tags, None
    else:
        start = (page - 1) * limit
        shown, shown_page = tags[start : start + limit], page
    return TagList(
        repository=ref.familiar_name if ref.is_docker_hub else ref.repository,
        count=None if truncated else len(tags),
        page=shown_page,
        tags=shown,
        source="registry",
        complete=not truncated and (all_tags or len(tags) <= page * limit),
        notes=notes,
    )


# -- helpers ---------------------------------------------------------------------------------


def _results(body: Any) -> list[dict[str, Any]]:
    return _dicts(body.get("results") if isinstance(body, dict) else None)


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list; nothing when the server sent something else there."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def is_attestation_platform(os_name: str | None, arch: str | None) -> bool:
    return (os_name or "unknown") == "unknown" or (arch or "unknown") == "unknown"


def _hub_tag(raw: dict[str, Any]) -> Tag:
    platforms = [
        format_platform(str(img.get("os")), str(img.get("architecture")), img.get("variant"))
        for img in _dicts(raw.get("images"))
        if not is_attestation_platform(img.get("os"), img.get("architecture"))
    ]
    size = raw.get("full_size")
    return Tag(
        name=str(raw.get("name") or ""),
        digest=raw.get("digest") or None,
        last_updated=parse_timestamp(raw.get("last_updated") or raw.get("tag_last_pushed")),
        size=size if isinstance(size, int) else None,
        platforms=platforms,
        media_type=raw.get("media_type") or None,
        last_pushed=parse_timestamp(raw.get("tag_last_pushed")),
        last_pulled=parse_timestamp(raw.get("tag_last_pulled")),
    )


def names_only_tags(names: list[str]) -> list[Tag]:
    """Tags with a name and nothing else, for a registry's tags/list (50,000 of them for a big
    repository). `names` are str (iter_tag_pages makes them so), so no validation is needed,
    and every one of these Tags has the same set fields: they share one `model_fields_set`
    (a set per Tag was 40% of the memory of a 50,000-tag listing; nothing assigns to a Tag's
    fields after it is made, and `model_copy` copies the set before changing it)."""
    name_only = {"name"}
    return [Tag.model_construct(name_only, name=n) for n in names]


def check_pattern(pattern: str | None) -> None:
    if pattern is not None and (not pattern.strip() or len(pattern) > limits.MAX_PATTERN_LENGTH):
        raise InvalidInputError(
            f"the tag filter must be 1 to {limits.MAX_PATTERN_LENGTH} characters"
        )


def tag_matches(name: str, pattern: str | None) -> bool:
    """Whether a tag name matches a `--filter` glob (case-sensitive; None matches all)."""
    return pattern is None or fnmatch.fnmatchcase(name, pattern)


def _sorted(tags: list[Tag], sort: TagSort) -> list[Tag]:
    if sort == "name":
        return sorted(tags, key=lambda t: t.name)
    if sort == "semver":
        return sorted(tags, key=lambda t: semver_sort_key(t.name))
    # newest first; tags without a date (e.g. from the registry fallback) last, by name
    return sorted(
        tags,
        key=lambda t: (
            t.last_updated is None,
            -(t.last_updated.timestamp() if t.last_updated else 0),
            t.name,
        ),
    )
