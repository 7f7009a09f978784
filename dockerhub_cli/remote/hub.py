"""Docker Hub API client (hub.docker.com): search, repositories, tags.

Anonymous by default. With credentials (DOCKERHUB_USERNAME + DOCKERHUB_TOKEN, or config.json)
the PAT/password is exchanged for a short-lived JWT (`POST /v2/auth/token`, falling back to the
deprecated `/v2/users/login`): a raw PAT sent as Bearer is refused by the Hub.

Negative facts: the HTTP cache stores only 200s, so a name the Hub API does not know (a
docker.io repository served by the registry alone, a tag the Hub has no page for) would cost
the same requests on every run. A 404 from the Hub is therefore kept in the same HTTP cache,
under its request's key, for `[cache.ttls] not_found` seconds (5 minutes by default; 0 keeps
none), marked with whose answer it was (anonymous, or a hash of the signed-in user name): a
cached 404 is believed only by the same identity, anyone else asks again. `--no-cache` asks
again and stores the new answer; `--offline` answers from it like from any cached entry.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from dockerhub_cli import advice
from dockerhub_cli.errors import AuthError, NotFoundError, UpstreamError
from dockerhub_cli.oci import jsonlimits
from dockerhub_cli.oci.reference import DOCKER_HUB_DOMAIN
from dockerhub_cli.remote.transport import (
    MAX_PAGE_BYTES,
    MAX_TOKEN_REPLY_BYTES,
    PageWalk,
    error_message,
    json_body,
    raise_for_rate_limit,
    raise_for_server_error,
)
from dockerhub_cli.remote.transport import json_refusal as _why

if TYPE_CHECKING:
    import requests

    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.remote.keychain import CredentialStore
    from dockerhub_cli.remote.transport import Transport

HUB_PAGE_SIZE = 100
JWT_DEFAULT_LIFETIME = 600.0
# The search API of Docker Hub's web site (the one docker/hub-mcp calls): badges, categories,
# architectures, operating systems, sort. Undocumented: callers fall back to /v2/search.
SEARCH_V4_PATH = "/api/search/v4"
# The response header a cached Hub 404 carries: whose answer it is (`HubClient._answered_for`).
NOT_FOUND_FOR = "X-Hubscope-Not-Found-For"


class PaginationLimitError(AuthError):
    """Docker Hub refuses deep pages to anonymous callers (403 "pagination offset too large")."""


class HubHTTPError(UpstreamError):
    """Docker Hub answered with an HTTP error status not covered by a more precise error."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


@dataclass
class HubWalk:
    """What a walk over Hub pages did: pages read, whether it stopped at `max_pages`
    (`capped`), and why it stopped early otherwise (`stopped`: a paging loop, a `next` on
    another host, the time bound). `first_url`, when the caller knows it, lets a `next` that
    points back at the first page count as a loop."""

    pages: int = 0
    capped: bool = False
    stopped: str | None = None
    first_url: str | None = None


@dataclass(frozen=True)
class HubPage:
    results: list[dict[str, Any]]
    body: Any
    has_next: bool


class HubClient:
    def __init__(self, settings: Settings, transport: Transport, credentials: CredentialStore):
        self.settings = settings
        self.transport = transport
        self.credentials = credentials
        self._jwt: tuple[str, float] | None = None
        self._lock = threading.Lock()
        # After the site search failed, a long-lived process (serve-mcp) goes straight to the
        # classic search until this monotonic time instead of paying for the failure each call.
        self.site_search_down_until = 0.0
        self.clock: Callable[[], float] = time.monotonic

    @property
    def base_url(self) -> str:
        return self.settings.hub_url.rstrip("/")

    # -- authentication ---------------------------------------------------------------------

    def _authorization(self) -> str | None:
        creds = self.credentials.lookup(DOCKER_HUB_DOMAIN)
        if creds is None or creds.is_identity_token:
            return None
        with self._lock:
            if self._jwt and self._jwt[1] > time.time():
                return f"Bearer {self._jwt[0]}"
            token = self._login(creds.username, creds.secret, creds.source)
            self._jwt = (token, _jwt_expiry(token))
            return f"Bearer {token}"

    def _login(self, username: str, secret: str, source: str) -> str:
        response = self.transport.request(
            "POST",
            f"{self.base_url}/v2/auth/token",
            json={"identifier": username, "secret": secret},
            headers={"Accept": "application/json"},
            cacheable=False,
            what="a Docker Hub login",
            max_bytes=MAX_TOKEN_REPLY_BYTES,
        )
        if response.status_code == 404 or response.status_code == 405:
            response = self.transport.request(
                "POST",
                f"{self.base_url}/v2/users/login",
                json={"username": username, "password": secret},
                headers={"Accept": "application/json"},
                cacheable=False,
                what="a Docker Hub login",
                max_bytes=MAX_TOKEN_REPLY_BYTES,
            )
        raise_for_rate_limit(response, "a Docker Hub login")
        raise_for_server_error(response, "a Docker Hub login")
        if response.status_code in (401, 403):
            raise AuthError(
                f"Docker Hub refused the credentials of {username!r} from {source}: "
                f"{error_message(response)}",
                hint="check DOCKERHUB_USERNAME and DOCKERHUB_TOKEN (a personal access token)",
            )
        if response.status_code != 200:
            raise UpstreamError(
                f"Docker Hub login answered HTTP {response.status_code}: {error_message(response)}"
            )
        try:
            body = json_body(response)
        except ValueError:
            raise UpstreamError("Docker Hub login sent a reply that is not JSON") from None
        token = body.get("access_token") or body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise UpstreamError("Docker Hub login sent no token")
        from dockerhub_cli.remote.auth import check_token

        check_token(token, "the Docker Hub login")
        return token

    # -- requests ---------------------------------------------------------------------------

    def get_json(self, path: str, *, params: dict[str, Any] | None = None, what: str) -> Any:
        """GET a Hub API path (or absolute `next` URL on the Hub host) and return its JSON."""
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        if urlsplit(url).netloc != urlsplit(self.base_url).netloc:
            raise UpstreamError(f"Docker Hub pointed to another host ({urlsplit(url).netloc})")
        headers = {"Accept": "application/json"}
        authorization = self._authorization()
        if authorization:
            headers["Authorization"] = authorization
        response = self.transport.request(
            "GET", url, params=params, headers=headers, what=what, max_bytes=MAX_PAGE_BYTES
        )
        identity = self._answered_for(authorization)
        if _cached_not_found(response) and response.headers.get(NOT_FOUND_FOR) != identity:
            # Another identity's "not found" (a private repository is a 404 to anonymous
            # callers): ask the Hub again, and keep its answer for this identity.
            response = self.transport.request(
                "GET",
                url,
                params=params,
                headers=headers,
                what=what,
                max_bytes=MAX_PAGE_BYTES,
                refresh=True,
            )
        if response.status_code == 401 and authorization:
            # The JWT may have been revoked or expired early: log in once more.
            with self._lock:
                self._jwt = None
            headers["Authorization"] = self._authorization() or ""
            response = self.transport.request(
                "GET", url, params=params, headers=headers, what=what, max_bytes=MAX_PAGE_BYTES
            )
            identity = self._answered_for(headers["Authorization"])
        if response.status_code == 404 and not _cached_not_found(response):
            self._remember_not_found(response, identity)
        self.check(response, what)
        try:
            return json_body(response)
        except ValueError as exc:
            self.transport.forget(response)
            raise UpstreamError(
                f"Docker Hub sent a reply that is {_why(exc)} for {what}",
                hint=f"try again later; use {advice.param('debug')} to see the request",
            ) from None

    def _answered_for(self, authorization: str | None) -> str:
        """Whose answer a Hub reply is: "anonymous" when no JWT was sent, else a hash of the
        signed-in user name (the cache holds no user names, and never a secret)."""
        creds = self.credentials.lookup(DOCKER_HUB_DOMAIN) if authorization else None
        if creds is None:
            return "anonymous"
        return "user:" + hashlib.sha256(creds.username.encode()).hexdigest()[:16]

    def _remember_not_found(self, response: requests.Response, identity: str) -> None:
        """Keep a Hub 404 in the HTTP cache for the `not_found` TTL (see the module's doc)."""
        seconds = int(self.settings.ttls.get("not_found", NOT_FOUND_TTL))
        if seconds <= 0:
            return
        response.headers[NOT_FOUND_FOR] = identity
        self.transport.remember(response, seconds)

    def check(self, response: requests.Response, what: str) -> None:
        if 200 <= response.status_code < 300:  # a 1xx left as the answer has no body either
            return
        raise_for_rate_limit(response, what)
        raise_for_server_error(response, what)
        message = error_message(response)
        if response.status_code == 404:
            raise NotFoundError(f"{what} not found on Docker Hub", hint=_not_found_hint(message))
        if response.status_code == 403 and "pagination" in message.lower():
            raise PaginationLimitError(
                f"Docker Hub refuses pages this deep to anonymous callers ({what})",
                hint="log in (DOCKERHUB_USERNAME/DOCKERHUB_TOKEN) to page further",
            )
        if response.status_code in (401, 403):
            raise AuthError(
                f"Docker Hub denied access to {what}: {message or response.status_code}",
                hint="the repository may be private: set DOCKERHUB_USERNAME and DOCKERHUB_TOKEN",
            )
        raise HubHTTPError(
            f"Docker Hub answered HTTP {response.status_code} for {what}: {message}",
            status=response.status_code,
        )

    def signed_in(self) -> bool:
        """True when Docker Hub credentials that can be exchanged for a JWT are configured."""
        creds = self.credentials.lookup(DOCKER_HUB_DOMAIN)
        return creds is not None and not creds.is_identity_token

    # -- paging ---------------------------------------------------------------------------

    def pages(
        self, first: Callable[[], Any], what: str, walk: HubWalk, *, max_pages: int
    ) -> Iterator[HubPage]:
        """The one walker over Hub listings: the first page, then `next` until it is null or
        `max_pages` pages were read (`walk.capped`). The caller stops early by breaking out.
        PaginationLimitError (anonymous deep paging) propagates to the caller."""
        rules = PageWalk(what, max_pages=max_pages, clock=self.transport.clock)
        body = first()
        walk.pages = 1
        rules.saw(walk.first_url)
        current = self.base_url + "/"
        while True:
            next_url = body.get("next") if isinstance(body, dict) else None
            has_next = isinstance(next_url, str) and bool(next_url)
            yield HubPage(_page_results(body), body, has_next)
            if not has_next:
                return
            # The rules of every page walk (transport.PageWalk): a page already read is a
            # loop, a `next` on another host is not followed, pages and time are bounded.
            target = urljoin(current, str(next_url))
            if not rules.follow(target, current):
                if walk.pages >= max_pages:
                    walk.capped = True
                else:
                    walk.stopped = rules.stopped
                return
            body = self.get_next(target, what)
            rules.saw(target)
            walk.pages += 1
            current = target

    # -- endpoints --------------------------------------------------------------------------

    def search(self, query: str, page: int, page_size: int) -> Any:
        return self.get_json(
            "/v2/search/repositories/",
            params={"query": query, "page": page, "page_size": page_size},
            what=f"search results for {query!r}",
        )

    def repository(self, namespace: str, name: str) -> Any:
        return self.get_json(
            f"/v2/namespaces/{namespace}/repositories/{name}",
            what=f"repository {_familiar(namespace, name)}",
        )

    def tags_page(
        self,
        namespace: str,
        name: str,
        *,
        page: int = 1,
        page_size: int = 100,
        ordering: str | None = None,
        name_filter: str | None = None,
    ) -> Any:
        return self.get_json(
            self.tags_url(
                namespace,
                name,
                page=page,
                page_size=page_size,
                ordering=ordering,
                name_filter=name_filter,
            ),
            what=f"tags of {_familiar(namespace, name)}",
        )

    def tags_url(
        self,
        namespace: str,
        name: str,
        *,
        page: int = 1,
        page_size: int = 100,
        ordering: str | None = None,
        name_filter: str | None = None,
    ) -> str:
        """The absolute URL of one page of tags (the first page of a walk, for loop checks)."""
        from urllib.parse import urlencode

        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if ordering:
            params["ordering"] = ordering
        if name_filter:
            params["name"] = name_filter
        path = f"/v2/namespaces/{namespace}/repositories/{name}/tags"
        return f"{self.base_url}{path}?{urlencode(params)}"

    def get_next(self, url: str, what: str) -> Any:
        return self.get_json(url, what=what)

    def namespace_repositories(
        self,
        namespace: str,
        *,
        page: int,
        page_size: int,
        ordering: str | None = None,
        name_filter: str | None = None,
        content_type: str | None = None,
    ) -> Any:
        """`GET /v2/namespaces/{ns}/repositories` (documented 2025-06-27; never the deprecated
        `/v2/repositories/{ns}/`)."""
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if ordering:
            params["ordering"] = ordering
        if name_filter:
            params["name"] = name_filter
        if content_type:
            params["content_types"] = content_type
        return self.get_json(
            f"/v2/namespaces/{namespace}/repositories",
            params=params,
            what=f"repositories of {namespace}",
        )

    def user_orgs(self, *, page: int, page_size: int) -> Any:
        """`GET /v2/user/orgs`: the organisations of the signed-in account (needs a JWT)."""
        return self.get_json(
            "/v2/user/orgs",
            params={"page": page, "page_size": page_size},
            what="the organisations of the signed-in account",
        )

    def search_v4(self, params: dict[str, Any]) -> Any:
        """The site's search (`/api/search/v4`, as docker/hub-mcp calls it)."""
        return self.get_json(
            SEARCH_V4_PATH,
            params={"custom_boosted_results": "true", **params},
            what=f"search results for {params.get('query')!r}",
        )


# The default of `[cache.ttls] not_found` (config/settings.py DEFAULT_TTLS).
NOT_FOUND_TTL = 300


def _cached_not_found(response: requests.Response) -> bool:
    return response.status_code == 404 and bool(getattr(response, "from_cache", False))


def _page_results(body: Any) -> list[dict[str, Any]]:
    value = body.get("results") if isinstance(body, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _familiar(namespace: str, name: str) -> str:
    return name if namespace == "library" else f"{namespace}/{name}"


def _not_found_hint(message: str) -> str:
    if "tag" in message.lower():
        return f"list the tags with {advice.command('tags', 'REPOSITORY')}"
    return f"check the spelling, or search with {advice.command('search', 'NAME')}"


def _jwt_expiry(token: str) -> float:
    """`exp` of a JWT (no signature check: we only need to know when to refresh)."""
    try:
        payload = token.split(".")[1]
        claims = jsonlimits.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) - 30.0
    except (IndexError, ValueError, KeyError, TypeError):
        return time.time() + JWT_DEFAULT_LIFETIME - 30.0
