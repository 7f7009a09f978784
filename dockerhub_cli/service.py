"""DockerHubService: the one synchronous API behind the CLI and the MCP server.

A facade: it checks the arguments every front-end shares, owns the clients (session,
transport, registry, Hub, OSV) and hands them to the operations in `ops/` as one `Clients`
object; the operations hold the logic and never import the service.

It returns pydantic models from `models/` and raises only `errors.DockerHubError` subclasses.
Build it once per process; it owns the HTTP session, the rate limiter and the token caches, and
is safe to share between threads (the MCP server runs tools in worker threads).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from dockerhub_cli import advice, limits
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import InvalidInputError
from dockerhub_cli.oci.reference import ImageReference, parse_repository
from dockerhub_cli.ops.clients import Clients, utc_now
from dockerhub_cli.remote.circuit import CircuitBreaker
from dockerhub_cli.remote.keychain import CredentialStore
from dockerhub_cli.remote.ratelimit import HostRateLimiter, hub_api_hosts
from dockerhub_cli.remote.registry import RegistryClient
from dockerhub_cli.remote.transport import Transport

if TYPE_CHECKING:
    from pathlib import Path
    from typing import IO

    from dockerhub_cli.models.cache import WarmReport
    from dockerhub_cli.models.compare import Comparison, UpdateReport
    from dockerhub_cli.models.core import (
        Identity,
        LoginResult,
        LogoutResult,
        OrganisationList,
        PullRateLimit,
        Readme,
        RepositoryList,
        SearchResults,
    )
    from dockerhub_cli.models.cost import Cost
    from dockerhub_cli.models.files import (
        ExtractResult,
        FileContent,
        FileDiff,
        FileInfo,
        FileListing,
        WasteReport,
    )
    from dockerhub_cli.models.images import ImageInspection, RepositoryInfo
    from dockerhub_cli.models.layers import (
        DockerfileReport,
        HistoryReport,
        LayerReport,
        ManifestReport,
        PullSizeReport,
    )
    from dockerhub_cli.models.pinning import PinReport, SameAsReport, UpgradeReport, WatchReport
    from dockerhub_cli.models.supply import (
        ProvenanceReport,
        ReferrersReport,
        SbomReport,
        VerifyReport,
        VulnerabilityReport,
    )
    from dockerhub_cli.models.tags import TagList
    from dockerhub_cli.ops.files import Progress as FileProgress
    from dockerhub_cli.ops.hub_catalog import RepoSort, SearchSort
    from dockerhub_cli.ops.tags import TagSort
    from dockerhub_cli.ops.warm import Progress as WarmProgress
    from dockerhub_cli.remote.hub import HubClient
    from dockerhub_cli.remote.osv import OsvClient

MAX_QUERY_LENGTH = limits.MAX_QUERY_LENGTH  # bounds shared with both front-ends (limits.py)
MAX_LIMIT = limits.MAX_LIMIT
MAX_SEARCH_OFFSET = limits.MAX_OFFSET

_F = TypeVar("_F", bound=Callable[..., Any])


def reports_staleness(method: _F) -> _F:
    """Decorate a service method returning a model with a `stale` field: the field is set when
    any response behind the result came from an expired cache entry (stale-if-error).

    Usage for new result types: add `stale: bool = False` to the model and this decorator to
    the method; nothing else.
    """

    @functools.wraps(method)
    def wrapper(self: DockerHubService, *args: Any, **kwargs: Any) -> Any:
        with self.transport.tracking() as call:
            result = method(self, *args, **kwargs)
        if call.stale and "stale" in getattr(type(result), "model_fields", {}):
            result = result.model_copy(update={"stale": True})
        return result

    return wrapper  # type: ignore[return-value]


def _limiter_for(settings: Settings) -> HostRateLimiter:
    """The client-side budget: in memory, or in Redis with the Redis cache backend, so that
    every process sharing that cache (a fleet of `serve-mcp` replicas) shares one budget."""
    hosts = hub_api_hosts(settings.hub_url)
    per_minute, burst = settings.rate_limit_per_minute, settings.rate_limit_burst
    from dockerhub_cli.remote.cache_store import backend_kind

    if backend_kind(settings) == "redis":
        try:
            from dockerhub_cli.remote.shared_ratelimit import SharedHostRateLimiter
        except ImportError:
            raise InvalidInputError(
                "the redis cache backend needs the `redis` and `limits` packages",
                hint="pip install 'hubscope[redis]'",
            ) from None
        return SharedHostRateLimiter(
            settings.cache_backend.strip(),
            per_minute,
            burst,
            hosts=hosts,
            max_wait=settings.max_retry_wait,
        )
    return HostRateLimiter(per_minute, burst, hosts=hosts)


def _check_rows_page(limit: int | None, page: int) -> None:
    """`limit`/`page` of a result paged by ops/paging.py: a page number needs a page size."""
    if limit is not None:
        check_range("limit", limit, 1, MAX_LIMIT)
    check_range("page", page, 1, limits.MAX_PAGE)
    if limit is None and page != 1:
        raise InvalidInputError(
            f"page {page} needs a page size",
            hint=f"give {advice.param('limit', 'N')} too (without it every row is shown)",
        )


def check_range(name: str, value: int, low: int, high: int | None = None) -> int:
    """Reject out-of-range numbers naming the bound (the same words in CLI and MCP)."""
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInputError(f"{name} must be {bound} (got {value})")
    return value


class DockerHubService:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        cache_backend: Any = None,
        limiter: HostRateLimiter | None = None,
        clock: Callable[[], float] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """`clock` (monotonic seconds) drives the circuit breaker's cool-down and the Hub's
        site-search retry window; `now` is the wall clock operations stamp results with.
        Tests inject both; the defaults are time.monotonic and the current UTC time."""
        self.settings = settings or Settings.from_env()
        self.limiter = limiter or _limiter_for(self.settings)
        self.breaker: CircuitBreaker | None = (
            CircuitBreaker(
                self.settings.breaker_threshold,
                self.settings.breaker_cooldown,
                clock=clock or time.monotonic,
            )
            if self.settings.circuit_breaker
            else None
        )
        settings, limiter, breaker = self.settings, self.limiter, self.breaker

        def session() -> Any:
            # Built on the first request the warm reader cannot answer (remote/warm_cache.py):
            # a warm run never imports requests, urllib3 or requests-cache.
            from dockerhub_cli.remote.http_stack import build_session

            return build_session(settings, limiter, backend=cache_backend, breaker=breaker)

        self.transport = Transport(
            self.settings, None, self.limiter, self.breaker, session_factory=session
        )
        self.credentials = CredentialStore(
            hub_username=self.settings.username,
            hub_token=self.settings.token,
            config_path=self.settings.docker_config,
            registries=self.settings.registries,
        )
        transport, credentials = self.transport, self.credentials

        def hub() -> HubClient:
            # Built on first use: a command on another registry never imports the Hub client.
            from dockerhub_cli.remote.hub import HubClient

            client = HubClient(settings, transport, credentials)
            if clock is not None:
                client.clock = clock
            return client

        self.registry = RegistryClient(self.settings, self.transport, self.credentials)
        # What the operations (ops/) are handed: they never see the service itself.
        self.clients = Clients(
            settings=self.settings,
            transport=self.transport,
            credentials=self.credentials,
            registry=self.registry,
            hub_factory=hub,
            now=now or utc_now,
        )

    @property
    def hub(self) -> HubClient:
        """The Docker Hub API client, built on first use."""
        return self.clients.hub

    @property
    def osv(self) -> OsvClient:
        """The OSV client, built on first use (only `vulns` needs it)."""
        return self.clients.osv

    @property
    def session(self) -> Any:
        """The HTTP session (requests-cache's CachedSession), built on first use."""
        return self.transport.session

    def close(self) -> None:
        self.transport.close_warm_reader()
        if self.transport.session_built:
            self.session.close()
        self.clients.close()

    def __enter__(self) -> DockerHubService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- account (issue 7; the logic lives in ops/account.py) -----------------------------------

    def whoami(self, registry: str | None = None, *, verify: bool = False) -> Identity:
        """Which identity is used for `registry` (default Docker Hub) and where it comes from."""
        from dockerhub_cli.ops import account

        return account.whoami(self.clients, registry, verify=verify)

    def pull_rate_limit(self, image: str | None = None) -> PullRateLimit:
        """Docker Hub's pull quota for this identity or IP (a HEAD request, costs no pull)."""
        from dockerhub_cli.ops import account

        return account.pull_rate_limit(self.clients, image)

    def login(self, registry: str | None, username: str, secret: str) -> LoginResult:
        """Validate the credentials with the registry, then store them like `docker login`."""
        from dockerhub_cli.ops import account

        return account.login(self.clients, registry, username, secret)

    def logout(self, registry: str | None = None) -> LogoutResult:
        """Erase stored credentials like `docker logout`."""
        from dockerhub_cli.ops import account

        return account.logout(self.clients, registry)

    # -- cost and health -------------------------------------------------------------------------

    def cost(self) -> Cost:
        """What this service's requests have cost so far: requests by kind, Docker Hub pulls
        and free HEADs, cache hits (counted by the transport, `remote/cost.py`). For one call,
        `with service.transport.tracking() as call: ...` then `call.cost.to_model()`."""
        return self.transport.meter.totals.to_model()

    # -- health -------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """State for a health check (the MCP `health` route): no network request is made."""
        from dockerhub_cli.remote.cache_store import describe_backend

        breakers = self.breaker.snapshot() if self.breaker is not None else {}
        return {
            "ok": not any(b["state"] == "open" for b in breakers.values()),
            "cache": {
                "backend": type(self.session.cache).__name__.removesuffix("Cache").lower(),
                "location": describe_backend(self.settings),
                "disabled": bool(self.session.settings.disabled or self.settings.no_cache),
                "offline": self.settings.offline,
                "stale_if_error": self.settings.stale_if_error,
            },
            "requests": {
                "network": self.transport.network_requests,
                "cache_hits": self.transport.cache_hits,
                "stale_served": self.transport.stale_served,
            },
            # since the service started: requests by kind, Docker Hub pulls, cache hits
            "cost": self.transport.meter.totals.to_dict(),
            "rate_limiter": self.limiter.snapshot(),
            "circuit_breaker": {
                "enabled": self.breaker is not None,
                "threshold": self.settings.breaker_threshold,
                "cooldown_seconds": self.settings.breaker_cooldown,
                "hosts": breakers,
            },
        }

    # -- search -------------------------------------------------------------------------------

    @reports_staleness
    def search(
        self,
        query: str,
        *,
        limit: int = 25,
        page: int = 1,
        official: bool = False,
        automated: bool = False,
        offset: int | None = None,
        badges: list[str] | None = None,
        categories: list[str] | None = None,
        architectures: list[str] | None = None,
        operating_systems: list[str] | None = None,
        sort: SearchSort | None = None,
        order: Literal["asc", "desc"] | None = None,
    ) -> SearchResults:
        """Search Docker Hub like its web site does (badges, categories, architectures,
        operating systems, sort; one request per page). When that search API is unavailable
        the classic /v2/search answers, and `notes` names every filter it could not apply."""
        from dockerhub_cli.ops import hub_catalog

        query = query.strip()
        if not query:
            raise InvalidInputError(
                "the search query is empty", hint=f"e.g. {advice.command('search', 'nginx')}"
            )
        if len(query) > MAX_QUERY_LENGTH:
            raise InvalidInputError(
                f"the search query must be at most {MAX_QUERY_LENGTH} characters (got {len(query)})"
            )
        check_range("limit", limit, 1, MAX_LIMIT)
        check_range("page", page, 1)
        if offset is not None:
            check_range("offset", offset, 0, MAX_SEARCH_OFFSET)
        return hub_catalog.search(
            self.hub,
            query,
            limit=limit,
            page=page,
            offset=offset,
            official=official,
            automated=automated,
            badges=badges,
            categories=categories,
            architectures=architectures,
            operating_systems=operating_systems,
            sort=sort,
            order=order,
        )

    # -- namespaces, repository listings, READMEs (logic in ops/hub_catalog.py) -------------

    @reports_staleness
    def repositories(
        self,
        namespace: str,
        *,
        limit: int = 25,
        page: int = 1,
        all_repos: bool = False,
        pattern: str | None = None,
        content_type: str | None = None,
        sort: RepoSort = "updated",
    ) -> RepositoryList:
        """The repositories of a Docker Hub user or organisation (name, description, stars,
        pulls, last update, visibility, content types), sorted by the Hub where it can."""
        from dockerhub_cli.ops import hub_catalog

        check_range("limit", limit, 1, MAX_LIMIT)
        check_range("page", page, 1)
        return hub_catalog.repositories(
            self.hub,
            namespace,
            limit=limit,
            page=page,
            all_repos=all_repos,
            pattern=pattern,
            content_type=content_type,
            sort=sort,
        )

    def organisations(self) -> OrganisationList:
        """The organisations of the signed-in Docker Hub account; AuthError when anonymous."""
        from dockerhub_cli.ops import hub_catalog

        return hub_catalog.organisations(self.hub)

    @reports_staleness
    def readme(self, repository: str) -> Readme:
        """A Docker Hub repository's README (its full description, Markdown, as written)."""
        from dockerhub_cli.ops import hub_catalog

        return hub_catalog.readme(self.hub, repository)

    # -- tags ---------------------------------------------------------------------------------

    @reports_staleness
    def tags(
        self,
        repository: str | ImageReference,
        *,
        limit: int = 25,
        page: int = 1,
        all_tags: bool = False,
        pattern: str | None = None,
        sort: TagSort | None = None,
    ) -> TagList:
        """List tags (logic in ops/tags.py): Hub API for Docker Hub (digest, size, platforms),
        else `tags/list`.

        `sort` defaults to newest first on Docker Hub and to name order on other registries,
        which do not report update times.
        """
        from dockerhub_cli.ops.tags import list_tags

        ref = parse_repository(repository) if isinstance(repository, str) else repository
        check_range("limit", limit, 1, MAX_LIMIT)
        check_range("page", page, 1)
        return list_tags(
            self.clients, ref, limit=limit, page=page, all_tags=all_tags, pattern=pattern, sort=sort
        )

    # -- image internals (logic in ops/images.py) -------------------------------------------

    @reports_staleness
    def inspect(self, image: str, *, platform: str | None = None) -> ImageInspection:
        """Digest, platforms, size, config and (Docker Hub) repository facts of an image."""
        from dockerhub_cli.ops import images

        return images.inspect_image(self.clients, image, platform=platform)

    @reports_staleness
    def layers(self, image: str, *, platform: str | None = None) -> LayerReport:
        """Layers with sizes and the build steps that made them."""
        from dockerhub_cli.ops import images

        return images.layer_report(self.clients, image, platform=platform)

    @reports_staleness
    def history(self, image: str, *, platform: str | None = None) -> HistoryReport:
        """The build history recorded in the image config."""
        from dockerhub_cli.ops import images

        return images.history_report(self.clients, image, platform=platform)

    @reports_staleness
    def dockerfile(self, image: str, *, platform: str | None = None) -> DockerfileReport:
        """A Dockerfile reconstructed from the history (clearly labelled as such)."""
        from dockerhub_cli.ops import dockerfile

        return dockerfile.dockerfile_report(self.clients, image, platform=platform)

    @reports_staleness
    def pull_size(
        self, image: str, *, platform: str | None = None, have: list[str] | None = None
    ) -> PullSizeReport:
        """Download size of a pull, minus the layers of the images in `have`."""
        from dockerhub_cli.ops import images

        return images.pull_size_report(self.clients, image, platform=platform, have=have)

    @reports_staleness
    def repository_info(self, repository: str) -> RepositoryInfo:
        """Docker Hub repository facts; InvalidInputError for other registries."""
        from dockerhub_cli.ops import hub_catalog

        return hub_catalog.repository_info(self.hub, repository)

    @reports_staleness
    def manifest(self, image: str, *, platform: str | None = None) -> ManifestReport:
        """The manifest or index as parsed JSON, with digest and media type."""
        from dockerhub_cli.ops import images

        return images.manifest_report(self.clients, image, platform=platform)

    # -- compare and base-image tracking (logic in ops/compare.py) ---------------------------

    @reports_staleness
    def compare(self, image1: str, image2: str, *, platform: str | None = None) -> Comparison:
        """Two images side by side (fetched in parallel): shared and own layers, size delta,
        config and history differences, platform sets."""
        from dockerhub_cli.ops import compare

        return compare.compare_images(self.clients, image1, image2, platform=platform)

    @reports_staleness
    def updates(
        self, image: str, *, base: str | None = None, platform: str | None = None
    ) -> UpdateReport:
        """Is the image still built on the current digest of its base tag (from the OCI
        base annotations/labels, or `base`), with the layer evidence; and newer tags of the
        same family."""
        from dockerhub_cli.ops import compare

        return compare.image_updates(self.clients, image, base=base, platform=platform)

    # -- pin, same-as, upgrade, watch (issue 17; logic in ops/pin.py, ops/upgrade.py) -------

    def pin(
        self,
        paths: list[str],
        *,
        platform: str | None = None,
        kind: str | None = None,
        write: bool = True,
        check: bool = False,
    ) -> PinReport:
        """Pin the image references of Dockerfiles, Compose, Kubernetes and workflow files to
        the digests their tags resolve to (one uncached HEAD per distinct reference)."""
        from dockerhub_cli.ops import pin

        return pin.pin_files(
            self.clients, paths, platform=platform, kind=kind, write=write, check=check
        )

    @reports_staleness
    def warm(
        self,
        targets: list[str],
        *,
        platform: str | None = None,
        kind: str | None = None,
        layers: bool = False,
        jobs: int = 4,
        max_download: int | None = None,
        progress: WarmProgress | None = None,
    ) -> WarmReport:
        """Fetch ahead what later runs over `targets` (images; Dockerfiles, Compose,
        Kubernetes and workflow files) read, so that they can run offline (ops/warm.py)."""
        from dockerhub_cli.ops import warm

        return warm.warm_cache(
            self.clients,
            targets,
            platform=platform,
            kind=kind,
            layers=layers,
            jobs=jobs,
            max_download=max_download,
            progress=progress,
        )

    @reports_staleness
    def same_as(
        self,
        repository: str | ImageReference,
        tag: str,
        *,
        pattern: str | None = None,
        all_tags: bool = False,
    ) -> SameAsReport:
        """The tags of `repository` that are the same image as `tag` (by index digest, by
        platform manifest digests, or by config digests); only those matching the glob
        `pattern`, and among every tag with `all_tags` (not only the most recent)."""
        from dockerhub_cli.ops import upgrade

        return upgrade.same_as(self.clients, repository, tag, pattern=pattern, all_tags=all_tags)

    @reports_staleness
    def upgrade(
        self,
        image: str,
        *,
        platform: str | None = None,
        vulns: bool = False,
        limit: int = 5,
        now: datetime | None = None,
    ) -> UpgradeReport:
        """Newer tags of the image's family and, for each, what moving to it means."""
        from dockerhub_cli.ops import upgrade

        return upgrade.upgrade_advice(
            self.clients, image, platform=platform, vulns=vulns, limit=limit, now=now
        )

    def watch(
        self,
        targets: list[str],
        *,
        kind: str | None = None,
        families: bool = True,
        now: datetime | None = None,
    ) -> WatchReport:
        """Did any pinned or floating reference of `targets` (files or images) move since the
        last check, or gain a newer tag in its family? State kept in the cache directory."""
        from dockerhub_cli.ops import watch

        return watch.watch_once(self.clients, targets, kind=kind, families=families, now=now)

    # -- supply chain (issue 9; logic in ops/supply_chain.py and ops/vulns.py) -----------

    @reports_staleness
    def sbom(
        self,
        image: str,
        *,
        platform: str | None = None,
        limit: int | None = None,
        page: int = 1,
    ) -> SbomReport:
        """Packages of the platform image from its SPDX SBOM attestation; page `page` of
        `limit` packages (every one when `limit` is None), with a note when cut.

        NoAttestationError (a NotFoundError, exit 3) when the image carries no SBOM: never an
        empty package list."""
        from dockerhub_cli.ops import paging, supply_chain

        _check_rows_page(limit, page)
        report = supply_chain.sbom_report(self.clients, image, platform=platform)
        return paging.page_sbom(report, page=page, limit=limit)

    @reports_staleness
    def provenance(self, image: str, *, platform: str | None = None) -> ProvenanceReport:
        """Builder, build time, source, Dockerfile, build args and base images from the SLSA
        provenance attestation (v0.2 or v1); NoAttestationError when there is none."""
        from dockerhub_cli.ops import supply_chain

        return supply_chain.provenance_report(self.clients, image, platform=platform)

    @reports_staleness
    def vulns(
        self,
        image: str,
        *,
        platform: str | None = None,
        severity: str | None = None,
        limit: int | None = None,
        page: int = 1,
    ) -> VulnerabilityReport:
        """The SBOM's packages checked against OSV; `severity` keeps that level and above
        (critical > high > medium > low > unknown); page `page` of `limit` findings, severest
        first (every one when `limit` is None). NoAttestationError without an SBOM."""
        from dockerhub_cli.ops import paging, vulns

        _check_rows_page(limit, page)
        report = vulns.vulnerability_report(
            self.clients, image, platform=platform, severity=severity
        )
        return paging.page_vulns(report, page=page, limit=limit)

    # -- referrers and signatures (issue 16; logic in ops/referrers.py, ops/signatures.py) -----

    @reports_staleness
    def referrers(
        self,
        image: str,
        *,
        platform: str | None = None,
        artifact_type: str | None = None,
        depth: int = limits.DEFAULT_REFERRER_DEPTH,
    ) -> ReferrersReport:
        """Everything attached to the image and to each (or the chosen) platform manifest:
        OCI referrers API, its sha256-<hex> tag fallback, cosign's .sig/.att/.sbom tags and
        BuildKit's in-index attestations, merged; and what is attached to those artifacts,
        nested, to `depth` levels in all."""
        from dockerhub_cli.ops import referrers

        return referrers.referrers_report(
            self.clients, image, platform=platform, artifact_type=artifact_type, depth=depth
        )

    @reports_staleness
    def verify(
        self,
        image: str,
        *,
        key: str | None = None,
        platform: str | None = None,
        trusted_root: str | None = None,
        identity: str | None = None,
        issuer: str | None = None,
    ) -> VerifyReport:
        """Check the image's signatures: cosign with `key`, Sigstore bundles offline against
        `trusted_root` for `identity`/`issuer`; status verified / invalid / unsigned /
        unverifiable, never verified unless every check passed."""
        from dockerhub_cli.ops import signatures

        return signatures.verify_report(
            self.clients,
            image,
            key=key,
            platform=platform,
            trusted_root=trusted_root,
            identity=identity,
            issuer=issuer,
        )

    # -- files inside images (logic in ops/files.py) --------------------------------------------

    @reports_staleness
    def files(
        self,
        image: str,
        path: str | None = None,
        *,
        layer: int | None = None,
        find: str | None = None,
        platform: str | None = None,
        max_download: int | None = None,
        progress: FileProgress | None = None,
    ) -> FileListing:
        """The image's merged filesystem (or one layer's own changes), from cached layer
        indexes; layers not seen before are streamed once."""
        from dockerhub_cli.ops import files

        return files.list_files(
            self.clients,
            image,
            path,
            layer=layer,
            find=find,
            platform=platform,
            max_download=max_download,
            progress=progress,
        )

    def files_streamed(
        self,
        image: str,
        path: str | None = None,
        *,
        layer: int | None = None,
        find: str | None = None,
        platform: str | None = None,
        max_download: int | None = None,
        progress: FileProgress | None = None,
    ) -> tuple[FileListing, Iterator[FileInfo]]:
        """`files` with its rows as an iterator (`files` empty in the listing): for writing a
        listing of 100k entries without holding 100k models."""
        from dockerhub_cli.ops import files

        return files.list_files_streamed(
            self.clients,
            image,
            path,
            layer=layer,
            find=find,
            platform=platform,
            max_download=max_download,
            progress=progress,
        )

    def read_file(
        self,
        image: str,
        path: str,
        *,
        platform: str | None = None,
        max_download: int | None = None,
        progress: FileProgress | None = None,
    ) -> tuple[FileContent, IO[bytes]]:
        """One file's verified bytes (in a temporary file the caller closes) and its facts."""
        from dockerhub_cli.ops import files

        return files.read_file(
            self.clients,
            image,
            path,
            platform=platform,
            max_download=max_download,
            progress=progress,
        )

    def read_text(
        self,
        image: str,
        path: str,
        *,
        platform: str | None = None,
        max_chars: int = 20_000,
        max_download: int | None = None,
        progress: FileProgress | None = None,
    ) -> FileContent:
        """A text file's content, cut at `max_chars`; InvalidInputError for binary files."""
        from dockerhub_cli.ops import files

        return files.read_text(
            self.clients,
            image,
            path,
            platform=platform,
            max_chars=max_chars,
            max_download=max_download,
            progress=progress,
        )

    def extract(
        self,
        image: str,
        paths: list[str],
        directory: Path,
        *,
        platform: str | None = None,
        devices: bool = False,
        max_download: int | None = None,
        max_bytes: int | None = None,
        progress: FileProgress | None = None,
    ) -> ExtractResult:
        """Write files of the image into `directory`, safely (see ops/files.extract_files)."""
        from dockerhub_cli.ops import files

        return files.extract_files(
            self.clients,
            image,
            paths,
            directory,
            platform=platform,
            devices=devices,
            max_download=max_download,
            max_bytes=max_bytes if max_bytes is not None else files.MAX_EXTRACT_BYTES,
            progress=progress,
        )

    def extract_streamed(
        self,
        image: str,
        paths: list[str],
        directory: Path,
        *,
        platform: str | None = None,
        devices: bool = False,
        max_download: int | None = None,
        max_bytes: int | None = None,
        progress: FileProgress | None = None,
    ) -> tuple[ExtractResult, Iterator[FileInfo]]:
        """`extract` with the `written` rows as an iterator (empty in the result; everything
        is written before it returns): a 110k-file rootfs without 110k models in memory."""
        from dockerhub_cli.ops import files

        return files.extract_files_streamed(
            self.clients,
            image,
            paths,
            directory,
            platform=platform,
            devices=devices,
            max_download=max_download,
            max_bytes=max_bytes if max_bytes is not None else files.MAX_EXTRACT_BYTES,
            progress=progress,
        )

    @reports_staleness
    def diff_files(
        self,
        image1: str,
        image2: str,
        path: str | None = None,
        *,
        platform: str | None = None,
        max_download: int | None = None,
        progress: FileProgress | None = None,
    ) -> FileDiff:
        """Files added, removed and changed from image1 to image2 (under `path`)."""
        from dockerhub_cli.ops import files

        return files.diff_files(
            self.clients,
            image1,
            image2,
            path,
            platform=platform,
            max_download=max_download,
            progress=progress,
        )

    @reports_staleness
    def waste(
        self,
        image: str,
        *,
        platform: str | None = None,
        max_wasted_bytes: int | None = None,
        min_efficiency: float | None = None,
        top: int = 20,
        max_download: int | None = None,
        progress: FileProgress | None = None,
    ) -> WasteReport:
        """Bytes that later layers overwrite or delete, the worst paths, an efficiency score."""
        from dockerhub_cli.ops import files

        return files.image_waste(
            self.clients,
            image,
            platform=platform,
            max_wasted_bytes=max_wasted_bytes,
            min_efficiency=min_efficiency,
            top=top,
            max_download=max_download,
            progress=progress,
        )
