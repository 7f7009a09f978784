"""Docker Hub in depth (issue 20): a namespace's repositories, the signed-in account's
organisations, the site's search with its filters, and READMEs.

Each function takes the Hub client and typed arguments and returns a result model; bounds on
`limit`/`page` are checked by the service before it calls here. Reply shapes:
- `/v2/namespaces/{ns}/repositories`: the documented `repository_list_entry` page
  (docs.docker.com Hub API reference, listNamespaceRepositories; docker/hub-mcp src/repos.ts);
- `/v2/user/orgs`: docker/hub-mcp src/accounts.ts (`namespace` schema);
- `/api/search/v4`: docker/hub-mcp src/search.ts (`searchResult` schema);
- `/v2/search/repositories/`: the classic search, the fallback (API.md A.4.1).
Notes are written in neutral words (no CLI flags), so both front-ends can show them.
"""

from __future__ import annotations

import fnmatch
import re
from typing import TYPE_CHECKING, Any, Literal

from dockerhub_cli import advice, limits
from dockerhub_cli.errors import (
    AuthError,
    DockerHubError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    UpstreamError,
)
from dockerhub_cli.oci.reference import DOCKER_HUB_DOMAIN, ImageReference, parse_reference
from dockerhub_cli.oci.timestamp import parse_timestamp
from dockerhub_cli.remote.hub import HUB_PAGE_SIZE, HubHTTPError, HubWalk, PaginationLimitError

if TYPE_CHECKING:
    from dockerhub_cli.models.core import (
        Organisation,
        OrganisationList,
        Readme,
        RepositoryList,
        RepositorySummary,
        SearchResult,
        SearchResults,
    )
    from dockerhub_cli.models.images import RepositoryInfo
    from dockerhub_cli.remote.hub import HubClient

RepoSort = Literal["pulls", "stars", "updated", "name"]
REPO_SORTS: tuple[str, ...] = limits.REPO_SORTS  # == get_args(RepoSort), tested
# The Hub's `ordering` for each sort (its direction convention is inverted: `last_updated` is
# newest first, `-name` is A-Z; API.md A.6.3). Stars: the Hub cannot sort by them.
_REPO_ORDERING: dict[str, str | None] = {
    "pulls": "pull_count",
    "updated": "last_updated",
    "name": "-name",
    "stars": None,
}
MAX_REPO_PAGES = 100  # --all or a stars sort: at most 100 pages of 100 repositories
MAX_REPO_FILTER_PAGES = 50  # a filter or type without --all
MAX_ORG_PAGES = 20

SEARCH_BADGES: dict[str, str] = {
    "official": "official",
    "verified": "verified_publisher",
    "verified_publisher": "verified_publisher",
    "verified-publisher": "verified_publisher",
    "open-source": "open_source",
    "open_source": "open_source",
}
SearchSort = Literal["pulls", "updated"]
_SEARCH_SORT = {"pulls": "pull_count", "updated": "updated_at"}
MAX_SEARCH_FILTER_VALUES = limits.MAX_SEARCH_FILTER_VALUES
SITE_SEARCH_RETRY_AFTER = 300  # seconds the classic search answers alone after an outage

_NAMESPACE_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
_CONTENT_TYPE_ALIASES = {"helm-chart": "helm", "helm_chart": "helm", "chart": "helm"}


# -- repositories of a namespace -------------------------------------------------------------


def check_namespace(namespace: str) -> str:
    """A Docker Hub user or organisation name, validated before it goes into a URL path."""
    value = namespace.strip()
    if value.startswith(f"{DOCKER_HUB_DOMAIN}/"):
        value = value.split("/", 1)[1]
    if value == "_":
        value = "library"
    if not value or len(value) > 255 or not _NAMESPACE_RE.match(value):
        raise InvalidInputError(
            f"{namespace!r} is not a Docker Hub namespace (a user or organisation name: "
            "lowercase letters, digits, and . _ - between them)",
            hint=f"e.g. {advice.command('repos', 'bitnami')}",
        )
    return value


def check_content_type(value: str) -> str:
    wanted = value.strip().lower()
    wanted = _CONTENT_TYPE_ALIASES.get(wanted, wanted)
    if not _TOKEN_RE.match(wanted):
        raise InvalidInputError(
            f"{value!r} is not a content type (e.g. image, helm, wasm, plugin, model)"
        )
    return wanted


def repositories(
    hub: HubClient,
    namespace: str,
    *,
    limit: int,
    page: int,
    all_repos: bool,
    pattern: str | None,
    content_type: str | None,
    sort: RepoSort,
) -> RepositoryList:
    from dockerhub_cli.models.core import RepositoryList

    namespace = check_namespace(namespace)
    if sort not in REPO_SORTS:
        raise InvalidInputError(f"sort must be one of {', '.join(REPO_SORTS)} (got {sort!r})")
    if pattern is not None and (not pattern.strip() or len(pattern) > 128):
        raise InvalidInputError("the repository filter must be 1 to 128 characters")
    wanted_type = check_content_type(content_type) if content_type else None
    ordering = _REPO_ORDERING[sort]
    name_hint = literal_hint(pattern) if pattern else None
    what = f"repositories of {namespace}"

    def keep(repo: RepositorySummary) -> bool:
        return (pattern is None or fnmatch.fnmatchcase(repo.name, pattern)) and (
            wanted_type is None or wanted_type in repo.content_types
        )

    if not all_repos and pattern is None and wanted_type is None and ordering is not None:
        try:
            body = hub.namespace_repositories(
                namespace, page=page, page_size=limit, ordering=ordering
            )
        except NotFoundError:
            if page == 1:
                raise _namespace_not_found(namespace) from None
            # The documented meaning of a 404 on page > 1: past the last page.
            return RepositoryList(
                namespace=namespace,
                page=page,
                sort=sort,
                repositories=[],
                complete=False,
                notes=[f"page {page} is past the last page of repositories of {namespace}"],
            )
        repos = [_repository_summary(r, namespace) for r in _results(body)]
        count = body.get("count") if isinstance(body, dict) else None
        return RepositoryList(
            namespace=namespace,
            count=count if isinstance(count, int) else None,
            page=page,
            sort=sort,
            repositories=_sorted_repos(repos, sort),
            complete=not (isinstance(body, dict) and body.get("next")) and page == 1,
        )

    # Walk pages of 100: --all, a name filter, a content type, or a stars sort.
    collected: list[RepositorySummary] = []
    notes: list[str] = []
    complete = True
    whole = all_repos or ordering is None
    walk = HubWalk()
    try:
        for hub_page in hub.pages(
            lambda: hub.namespace_repositories(
                namespace,
                page=1,
                page_size=HUB_PAGE_SIZE,
                ordering=ordering,
                name_filter=name_hint,
                content_type=wanted_type,
            ),
            what,
            walk,
            max_pages=MAX_REPO_PAGES if whole else MAX_REPO_FILTER_PAGES,
        ):
            collected.extend(
                r for r in (_repository_summary(x, namespace) for x in hub_page.results) if keep(r)
            )
            if hub_page.has_next and not whole and len(collected) >= page * limit:
                complete = False
                break
        if walk.capped:
            complete = False
            notes.append(f"stopped after scanning {walk.pages * HUB_PAGE_SIZE} repositories")
        elif walk.stopped:
            complete = False
            notes.append(walk.stopped)
    except NotFoundError:
        if walk.pages == 0:
            raise _namespace_not_found(namespace) from None
        # a 404 on a later page: past the end (the count changed while paging)
    except PaginationLimitError:
        complete = False
        notes.append(
            f"Docker Hub refuses deep pages to anonymous callers: {len(collected)} "
            "repositories listed from the pages it served; sign in to list the rest"
        )
    if ordering is None and not complete:
        notes.append(f"sorted by stars among the {len(collected)} repositories read")
    ordered = _sorted_repos(collected, sort)
    if all_repos:
        shown, shown_page = ordered, None
    else:
        start = (page - 1) * limit
        shown, shown_page = ordered[start : start + limit], page
    return RepositoryList(
        namespace=namespace,
        count=len(ordered) if complete else None,
        page=shown_page,
        sort=sort,
        repositories=shown,
        complete=complete and (all_repos or len(ordered) <= page * limit),
        notes=notes,
    )


def _namespace_not_found(namespace: str) -> NotFoundError:
    return NotFoundError(
        f"namespace {namespace} not found on Docker Hub",
        hint="check the spelling (a user or organisation name), or search with "
        + advice.command("search", "NAME"),
    )


def _sorted_repos(repos: list[RepositorySummary], sort: str) -> list[RepositorySummary]:
    if sort == "name":
        return sorted(repos, key=lambda r: r.name)
    if sort == "updated":
        return sorted(
            repos,
            key=lambda r: (
                r.last_updated is None,
                -(r.last_updated.timestamp() if r.last_updated else 0),
                r.name,
            ),
        )
    key = "pull_count" if sort == "pulls" else "star_count"
    return sorted(repos, key=lambda r: (-(getattr(r, key) or 0), r.name))


def _repository_summary(raw: dict[str, Any], namespace: str) -> RepositorySummary:
    from dockerhub_cli.models.core import RepositorySummary

    ns = _text(raw.get("namespace")) or namespace
    name = _text(raw.get("name")) or ""
    is_private = raw.get("is_private") if isinstance(raw.get("is_private"), bool) else None
    status = _text(raw.get("status_description"))
    archived = raw.get("archived") if isinstance(raw.get("archived"), bool) else None
    if archived is None and status is not None and status.lower() == "archived":
        archived = True
    return RepositorySummary(
        repository=name if ns == "library" else f"{ns}/{name}",
        namespace=ns,
        name=name,
        description=_text(raw.get("description")),
        star_count=_int_or_none(raw.get("star_count")),
        pull_count=_int_or_none(raw.get("pull_count")),
        last_updated=parse_timestamp(raw.get("last_updated")),
        date_registered=parse_timestamp(raw.get("date_registered")),
        is_private=is_private,
        visibility=None if is_private is None else "private" if is_private else "public",
        repository_type=_text(raw.get("repository_type")),
        content_types=_strings(raw.get("content_types")),
        media_types=_strings(raw.get("media_types")),
        categories=category_names(raw.get("categories")),
        storage_size=_int_or_none(raw.get("storage_size")),
        status=status.lower() if status else None,
        archived=archived,
    )


# -- organisations of the signed-in account ---------------------------------------------------


def organisations(hub: HubClient) -> OrganisationList:
    from dockerhub_cli.models.core import OrganisationList

    creds = hub.credentials.lookup(DOCKER_HUB_DOMAIN)
    if creds is None or not hub.signed_in():
        raise AuthError(
            "listing organisations needs a signed-in Docker Hub account, and no Docker Hub "
            "credentials are configured (anonymous)",
            hint=f"sign in with {advice.command('login')} "
            "or set DOCKERHUB_USERNAME and DOCKERHUB_TOKEN",
        )
    found: list[Organisation] = []
    walk = HubWalk()
    for hub_page in hub.pages(
        lambda: hub.user_orgs(page=1, page_size=HUB_PAGE_SIZE),
        "the organisations of the signed-in account",
        walk,
        max_pages=MAX_ORG_PAGES,
    ):
        found.extend(_organisation(o) for o in hub_page.results if _text(o.get("orgname")))
    notes = [
        f"your personal namespace {creds.username} is not an organisation, so it is not "
        f"listed (its repositories are those of namespace {creds.username})"
    ]
    if walk.capped:
        notes.append(f"stopped after {walk.pages} pages of organisations")
    elif walk.stopped:
        notes.append(walk.stopped)
    return OrganisationList(
        username=creds.username,
        count=len(found),
        organisations=sorted(found, key=lambda o: o.name),
        complete=not (walk.capped or walk.stopped),
        notes=notes,
    )


def _organisation(raw: dict[str, Any]) -> Organisation:
    from dockerhub_cli.models.core import Organisation

    return Organisation(
        name=_text(raw.get("orgname")) or "",
        full_name=_text(raw.get("full_name")),
        company=_text(raw.get("company")),
        location=_text(raw.get("location")),
        type=_text(raw.get("type")),
        badge=_text(raw.get("badge")),
        role=_text(raw.get("user_role")),
        groups=_strings(raw.get("user_groups")),
        plan=_text(raw.get("plan_name")),
        date_joined=parse_timestamp(raw.get("date_joined")),
        profile_url=_text(raw.get("profile_url")),
    )


# -- search ------------------------------------------------------------------------------------


def check_badges(badges: list[str] | None) -> list[str]:
    chosen: list[str] = []
    for badge in badges or []:
        key = badge.strip().lower()
        if key not in SEARCH_BADGES:
            raise InvalidInputError(
                f"unknown badge {badge!r}: use official, verified or open-source"
            )
        if SEARCH_BADGES[key] not in chosen:
            chosen.append(SEARCH_BADGES[key])
    return chosen


def _check_values(name: str, values: list[str] | None) -> list[str]:
    cleaned = [v.strip().lower() for v in values or [] if v.strip()]
    if len(cleaned) > MAX_SEARCH_FILTER_VALUES:
        raise InvalidInputError(f"at most {MAX_SEARCH_FILTER_VALUES} values for {name}")
    for value in cleaned:
        if not _TOKEN_RE.match(value):
            raise InvalidInputError(f"{value!r} is not a valid {name}")
    return list(dict.fromkeys(cleaned))


def search(
    hub: HubClient,
    query: str,
    *,
    limit: int,
    page: int,
    offset: int | None,
    official: bool,
    automated: bool,
    badges: list[str] | None,
    categories: list[str] | None,
    architectures: list[str] | None,
    operating_systems: list[str] | None,
    sort: SearchSort | None,
    order: Literal["asc", "desc"] | None,
) -> SearchResults:
    """The site's search with its filters; the classic search when it is unavailable."""
    from dockerhub_cli.models.core import SearchResults

    wanted_badges = check_badges(badges)
    if official and "official" not in wanted_badges:
        wanted_badges.append("official")
    cats = _check_values("category", categories)
    archs = _check_values("architecture", architectures)
    oses = _check_values("operating system", operating_systems)
    if sort is not None and sort not in _SEARCH_SORT:
        raise InvalidInputError(f"sort must be pulls or updated (got {sort!r})")
    if order is not None and order not in ("asc", "desc"):
        raise InvalidInputError(f"order must be asc or desc (got {order!r})")
    if order is not None and sort is None:
        raise InvalidInputError("an order needs a sort (pulls or updated)")
    start = offset if offset is not None else (page - 1) * limit
    filters: dict[str, str | list[str]] = {}
    if wanted_badges:
        filters["badges"] = wanted_badges
    if cats:
        filters["categories"] = cats
    if archs:
        filters["architectures"] = archs
    if oses:
        filters["operating_systems"] = oses
    if sort:
        filters["sort"] = sort
        filters["order"] = order or "desc"
    if automated:
        filters["automated"] = "true"

    site_error: DockerHubError | None = None
    if not automated and hub.clock() < hub.site_search_down_until:
        site_error = UpstreamError(
            f"it failed less than {SITE_SEARCH_RETRY_AFTER} s ago and is not asked again yet"
        )
    elif not automated:
        params: dict[str, Any] = {"query": query, "from": start, "size": limit}
        if wanted_badges:
            params["badges"] = ",".join(wanted_badges)
        if cats:
            params["categories"] = ",".join(cats)
        if archs:
            params["architectures"] = ",".join(archs)
        if oses:
            params["operating_systems"] = ",".join(oses)
        if sort:
            params["sort"] = _SEARCH_SORT[sort]
            params["order"] = order or "desc"
        try:
            body = hub.search_v4(params)
        except HubHTTPError as exc:
            if exc.status != 404 and exc.status < 500:
                raise InvalidInputError(
                    f"Docker Hub's search refused the request: {exc.message}",
                    hint="check the filter values (badge, category, architecture, OS)",
                ) from None
            site_error = exc
            hub.site_search_down_until = hub.clock() + SITE_SEARCH_RETRY_AFTER
        except (NetworkError, UpstreamError, NotFoundError) as exc:
            site_error = exc
            hub.site_search_down_until = hub.clock() + SITE_SEARCH_RETRY_AFTER
        else:
            if isinstance(body, dict) and isinstance(body.get("results"), list):
                return _site_results(
                    body, query, limit, start, filters, wanted_badges, cats, archs, oses
                )
            site_error = UpstreamError("the site search sent a reply without results")

    # The classic search: it knows official and automated, nothing else.
    notes: list[str] = []
    if site_error is not None:
        notes.append(
            f"Docker Hub's site search is unavailable ({site_error.message}); "
            "these results come from the classic search"
        )
    else:
        notes.append("automated builds are known only to the classic search, which was used")
    not_applied = [f"badge {b}" for b in wanted_badges if b != "official"]
    not_applied += [f"category {c}" for c in cats]
    not_applied += [f"architecture {a}" for a in archs]
    not_applied += [f"operating system {o}" for o in oses]
    if sort:
        not_applied.append(f"sort {sort} ({order or 'desc'})")
    if not_applied:
        notes.append("filters NOT applied (the classic search has none): " + ", ".join(not_applied))
    classic_page = start // limit + 1
    if start % limit:
        notes.append(
            f"the classic search pages by {limit}: results start at {(classic_page - 1) * limit}"
        )
    body = hub.search(query, classic_page, limit)
    results = [classic_result(r) for r in _results(body)]
    filtered = False
    want_official = "official" in wanted_badges
    if want_official or automated:
        kept = [
            r
            for r in results
            if (not want_official or r.is_official) and (not automated or r.is_automated)
        ]
        filtered = len(kept) != len(results)
        results = kept
    count = body.get("count") if isinstance(body, dict) else None
    return SearchResults(
        query=query,
        page=classic_page,
        count=int(count) if isinstance(count, int) else len(results),
        results=results,
        filtered=filtered,
        offset=(classic_page - 1) * limit,
        source="v2",
        filters=filters,
        notes=notes,
    )


def _site_results(
    body: dict[str, Any],
    query: str,
    limit: int,
    start: int,
    filters: dict[str, str | list[str]],
    badges: list[str],
    cats: list[str],
    archs: list[str],
    oses: list[str],
) -> SearchResults:
    from dockerhub_cli.models.core import SearchResults

    results = [site_result(r) for r in _results(body)]
    # The filters went to the Hub; check them again where the reply carries the data, so a
    # filter the Hub ignored is never passed off as applied.
    kept = [
        r
        for r in results
        if (not badges or r.badge in badges)
        and _overlaps(cats, r.categories)
        and _overlaps(archs, r.architectures)
        and _overlaps(oses, r.operating_systems)
    ]
    notes = []
    if len(kept) != len(results):
        left_out = len(results) - len(kept)
        notes.append(
            f"{left_out} {'result' if left_out == 1 else 'results'} the Hub returned did not "
            "match the filters and were left out"
        )
    total = body.get("total")
    return SearchResults(
        query=query,
        page=start // limit + 1,
        count=total if isinstance(total, int) else len(kept),
        results=kept,
        filtered=len(kept) != len(results),
        offset=start,
        source="v4",
        filters=filters,
        notes=notes,
    )


def _overlaps(wanted: list[str], have: list[str]) -> bool:
    """No filter, no data in the reply (cannot check), or at least one wanted value present."""
    if not wanted or not have:
        return True
    have_lower = {h.lower() for h in have}
    return any(w in have_lower for w in wanted)


def classic_result(raw: dict[str, Any]) -> SearchResult:
    """An entry of `/v2/search/repositories/` (API.md A.4.1)."""
    from dockerhub_cli.models.core import SearchResult

    return SearchResult(
        name=str(raw.get("repo_name") or raw.get("name") or ""),
        description=str(raw.get("short_description") or raw.get("description") or ""),
        star_count=_int(raw.get("star_count")),
        pull_count=_int(raw.get("pull_count")),
        is_official=bool(raw.get("is_official")),
        is_automated=bool(raw.get("is_automated")),
    )


def site_result(raw: dict[str, Any]) -> SearchResult:
    """An entry of `/api/search/v4` (docker/hub-mcp src/search.ts `searchResult`)."""
    from dockerhub_cli.models.core import SearchResult

    name = _text(raw.get("name")) or _text(raw.get("slug")) or ""
    badge = _text(raw.get("badge"))
    if badge == "none":
        badge = None
    if name.startswith("library/"):
        name = name.removeprefix("library/")
    publisher = raw.get("publisher")
    pulls = raw.get("pull_count")
    label = pulls if isinstance(pulls, str) else None
    archived = raw.get("archived")
    return SearchResult(
        name=name,
        description=_text(raw.get("short_description")) or "",
        star_count=_int(raw.get("star_count")),
        pull_count=pull_bucket(pulls),
        is_official=badge == "official",
        is_automated=False,
        pull_count_label=label,
        badge=badge,
        publisher=_text(publisher.get("name")) if isinstance(publisher, dict) else None,
        categories=[
            str(c.get("slug") or c.get("name"))
            for c in _dicts(raw.get("categories"))
            if c.get("slug") or c.get("name")
        ],
        architectures=_named(raw.get("architectures")),
        operating_systems=_named(raw.get("operating_systems")),
        archived=archived if isinstance(archived, bool) else None,
        content_type=_text(raw.get("type")),
        last_updated=parse_timestamp(raw.get("updated_at")),
    )


_BUCKET_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMB]?)\+?\s*$", re.IGNORECASE)
_BUCKET_UNIT = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9}


def pull_bucket(value: Any) -> int:
    """The site search words pulls as buckets ('1B+', '500M+', '10K+'): their lower bound."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        match = _BUCKET_RE.match(value)
        if match:
            return int(float(match.group(1)) * _BUCKET_UNIT[match.group(2).upper()])
    return 0


# -- README --------------------------------------------------------------------------------


def hub_repository(repository: str) -> tuple[ImageReference, str, str]:
    """A Docker Hub repository argument: (reference, namespace, name); others are refused."""
    ref = parse_reference(repository, default_tag=False)
    ref = ImageReference(ref.domain, ref.path)
    hub_name = ref.hub_namespace_and_name
    if hub_name is None:
        raise InvalidInputError(
            f"READMEs (full descriptions) exist only for Docker Hub repositories; "
            f"{ref.familiar_name} is not one",
            hint="registries other than Docker Hub publish no README",
        )
    return ref, hub_name[0], hub_name[1]


def readme(hub: HubClient, repository: str) -> Readme:
    from dockerhub_cli.models.core import Readme

    ref, namespace, name = hub_repository(repository)
    body = hub.repository(namespace, name)
    text = body.get("full_description") if isinstance(body, dict) else None
    markdown = text.replace("\r\n", "\n") if isinstance(text, str) else ""
    notes = [] if markdown.strip() else [f"the publisher of {ref.familiar_name} wrote no README"]
    return Readme(
        repository=ref.familiar_name,
        url=f"https://hub.docker.com/{'_' if namespace == 'library' else 'r/' + namespace}/{name}",
        markdown=markdown,
        length=len(markdown),
        notes=notes,
    )


# -- helpers -------------------------------------------------------------------------------


def category_names(value: Any) -> list[str]:
    return [
        str(c.get("name") or c.get("slug")) for c in _dicts(value) if c.get("name") or c.get("slug")
    ]


def _named(value: Any) -> list[str]:
    return [str(x["name"]) for x in _dicts(value) if isinstance(x.get("name"), str)]


def _results(body: Any) -> list[dict[str, Any]]:
    return _dicts(body.get("results") if isinstance(body, dict) else None)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- repository facts ------------------------------------------------------------------------


def repository_info(hub: HubClient, repository: str) -> RepositoryInfo:
    """Docker Hub repository facts. Other registries have no such API: InvalidInputError."""
    from dockerhub_cli.models.images import RepositoryInfo

    ref = parse_reference(repository, default_tag=False)
    ref = ImageReference(ref.domain, ref.path)
    hub_name = ref.hub_namespace_and_name
    if hub_name is None:
        where = ref.domain if not ref.is_docker_hub else "Docker Hub (three-level path)"
        raise InvalidInputError(
            f"repository facts (description, stars, pulls) exist only for Docker Hub "
            f"repositories; {ref.familiar_name} is on {where}",
            hint=f"use {advice.command('tags')} or {advice.command('inspect')} for registry data",
        )
    namespace, name = hub_name
    body = hub.repository(namespace, name)
    if not isinstance(body, dict):
        body = {}
    tag_count = None
    try:
        tags = hub.tags_page(namespace, name, page=1, page_size=1)
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
        last_updated=parse_timestamp(body.get("last_updated")),
        date_registered=parse_timestamp(body.get("date_registered")),
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


def literal_hint(pattern: str) -> str | None:
    """The longest glob-free run of a pattern, for the Hub's substring `name` filter."""
    best = max(re.split(r"[*?\[\]]", pattern), key=len)
    return best or None
