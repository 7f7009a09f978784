"""Registry HTTP API v2 / OCI distribution client (Docker Hub's registry and any other).

Handles the Bearer/Basic challenge, plain HTTP for loopback and insecure hosts, tag listing with
`Link` pagination, and fetching manifests and blobs with their digests verified.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from dockerhub_cli import advice
from dockerhub_cli.errors import (
    AuthError,
    DigestMismatchError,
    DockerHubError,
    NetworkError,
    NotFoundError,
    UpstreamError,
)
from dockerhub_cli.oci.mediatypes import MANIFEST_ACCEPT
from dockerhub_cli.oci.reference import ImageReference
from dockerhub_cli.remote.auth import (
    ChallengeMemory,
    RegistryAuth,
    parse_challenge,
    same_challenge,
)
from dockerhub_cli.remote.credential_policy import CredentialPolicy
from dockerhub_cli.remote.transport import (
    MAX_CONFIG_BYTES,
    MAX_PAGE_BYTES,
    MAX_RESPONSE_BYTES,
    PageWalk,
    error_message,
    is_html,
    json_body,
    raise_for_rate_limit,
    raise_for_server_error,
)
from dockerhub_cli.remote.transport import MAX_MANIFEST_BYTES as MAX_MANIFEST_BYTES
from dockerhub_cli.remote.transport import (
    json_refusal as _why,
)

if TYPE_CHECKING:
    import requests

    from dockerhub_cli.config.settings import Settings
    from dockerhub_cli.remote.keychain import CredentialStore
    from dockerhub_cli.remote.transport import Transport

# Body caps per kind, enforced while streaming (transport.py): manifests 4 MiB as the
# distribution spec says, configs, tag pages; attestations and other blobs the global cap.
MAX_BLOB_BYTES = MAX_RESPONSE_BYTES
# A streamed layer with no size to go by (layer sizes come from their descriptors).
MAX_LAYER_BYTES = 64 * 1024**3
TAGS_PAGE_SIZE = 1000


@dataclass(frozen=True)
class ManifestHead:
    digest: str | None
    media_type: str
    size: int | None
    headers: Mapping[str, str]  # case-insensitive for a registry's answer
    from_cache: bool = False
    status: int = 200


@dataclass(frozen=True)
class RawManifest:
    body: bytes
    media_type: str
    digest: str
    headers: dict[str, str]
    from_cache: bool = False


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def compute_digest(body: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"


def verify_digest(body: bytes, expected: str, what: str) -> None:
    algorithm = expected.split(":", 1)[0]
    if algorithm not in ("sha256", "sha512"):
        raise UpstreamError(f"cannot verify {what}: unsupported digest algorithm {algorithm!r}")
    actual = compute_digest(body, algorithm)
    if actual != expected:
        raise DigestMismatchError(
            f"{what} does not match its digest: expected {expected}, got {actual}",
            hint="the registry or a proxy served corrupt content; it was not used",
        )


class RegistryClient:
    def __init__(
        self, settings: Settings, transport: Transport, credentials: CredentialStore
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.credentials = credentials
        memory = ChallengeMemory(
            None if settings.no_cache else settings.cache_dir / "auth-challenges.json"
        )
        self.auth = RegistryAuth(transport, memory, CredentialPolicy.from_settings(settings))
        self._plain_http_fallback: set[str] = set()

    # -- URLs -----------------------------------------------------------------------------

    def base_url(self, ref: ImageReference) -> str:
        if ref.is_docker_hub:
            return self.settings.registry_url.rstrip("/")
        host = ref.domain
        if is_loopback(host) or host in self._plain_http_fallback:
            return f"http://{host}"
        return f"https://{host}"

    def _insecure(self, host: str) -> bool:
        return self.settings.insecure or host in self.settings.insecure_registries

    def url(self, ref: ImageReference, suffix: str) -> str:
        return f"{self.base_url(ref)}/v2/{ref.path}/{suffix}"

    # -- the request loop with the auth challenge ----------------------------------------

    def request(
        self,
        ref: ImageReference,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        what: str,
        scope: str | None = None,
        cacheable: bool = True,
        max_bytes: int = MAX_BLOB_BYTES,
        stream: bool = False,
    ) -> requests.Response:
        """Send `method url` for repository `ref`, answering one auth challenge if needed.

        `cacheable=False` bypasses the HTTP cache (e.g. `ratelimit` needs live headers);
        `stream=True` (with cacheable=False) leaves the body unread: the caller closes it."""
        host = urlsplit(url).netloc
        scope = scope or f"repository:{ref.path}:pull"
        creds = self.credentials.lookup(ref.domain)
        base_headers = dict(headers or {})

        origin, hub = _origin(url), ref.is_docker_hub
        authorization = self.auth.authorization(
            host, scope, creds, fetch=False, origin=origin, docker_hub=hub
        )
        known = self.auth.known_challenge(host)
        if authorization is None and known is not None and not self.settings.offline:
            # We know this host wants a token. Ask the cache first so a warm call stays free,
            # then fetch the token before the network request instead of collecting a 401.
            if cacheable and not self.settings.no_cache and not self.settings.offline:
                cached = self._send(
                    method, url, base_headers, params, what, cache_only=True, max_bytes=max_bytes
                )
                if cached.status_code != 504 and not getattr(cached, "is_expired", False):
                    return cached
            authorization = self.auth.authorization(
                host, scope, creds, fetch=True, origin=origin, docker_hub=hub
            )

        response = self._send(
            method,
            url,
            _with_auth(base_headers, authorization),
            params,
            what,
            cacheable=cacheable,
            max_bytes=max_bytes,
            stream=stream,
        )
        if response.status_code != 401:
            return response
        response.close()

        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None or challenge.scheme not in ("bearer", "basic"):
            raise AuthError(
                f"{host} refused access to {what} and sent no usable authentication challenge"
            )
        # Answer a challenge once: the first one, or one that differs from what we knew (a
        # remembered realm that moved); a token refused for the same challenge is a denial.
        first_challenge = (
            known is None or authorization is None or not same_challenge(known, challenge)
        )
        self.auth.remember(host, challenge)
        if challenge.scheme == "basic" and creds is None:
            raise AuthError(
                f"{host} requires a username and password for {what}",
                hint=f"log in with `docker login {ref.domain}` or "
                f"{advice.command('login', ref.domain)}",
            )
        if first_challenge:
            challenge_scope = challenge.params.get("scope") or scope
            retry_auth = self.auth.authorization(
                host, challenge_scope, creds, fetch=True, origin=origin, docker_hub=hub
            )
            if retry_auth is not None:
                response = self._send(
                    method,
                    url,
                    _with_auth(base_headers, retry_auth),
                    params,
                    what,
                    cacheable=cacheable,
                    max_bytes=max_bytes,
                    stream=stream,
                )
                if response.status_code != 401:
                    return response
        return self._denied(ref, response, what, creds is not None)

    def _denied(
        self, ref: ImageReference, response: requests.Response, what: str, authenticated: bool
    ) -> requests.Response:
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is not None and challenge.scheme == "basic" and authenticated:
            raise AuthError(
                f"{urlsplit(response.url or '').netloc} rejected the credentials for {ref.domain}",
                hint=f"check them with {advice.command('whoami')}, or log in again",
            )
        # Docker Hub (and distribution with token auth) answer 401, never 404, for repositories
        # that do not exist *and* for private ones: say both.
        name = ref.familiar_name
        raise NotFoundError(
            f"repository {name} not found, or access denied ({what})",
            hint=(
                "check the name; if it is private, check that your account can pull it"
                if authenticated
                else "check the name; if it is private, log in (DOCKERHUB_USERNAME/DOCKERHUB_TOKEN"
                " or `docker login`)"
            ),
        )

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        params: dict[str, str] | None,
        what: str,
        *,
        cache_only: bool = False,
        cacheable: bool = True,
        max_bytes: int = MAX_BLOB_BYTES,
        stream: bool = False,
    ) -> requests.Response:
        host = urlsplit(url).netloc
        try:
            return self.transport.request(
                method,
                url,
                headers=headers,
                params=params,
                what=what,
                cache_only=cache_only,
                verify=not self._insecure(host),
                cacheable=cacheable,
                max_bytes=max_bytes,
                stream=stream,
            )
        except NetworkError:
            # Insecure registries: like Docker, fall back to plain HTTP when HTTPS fails.
            if url.startswith("https://") and self._insecure(host) and not cache_only:
                self._plain_http_fallback.add(host)
                plain = "http://" + url.removeprefix("https://")
                return self.transport.request(
                    method,
                    plain,
                    headers=headers,
                    params=params,
                    what=what,
                    cacheable=cacheable,
                    max_bytes=max_bytes,
                    stream=stream,
                )
            raise

    # -- errors ---------------------------------------------------------------------------

    def check(self, ref: ImageReference, response: requests.Response, what: str) -> None:
        """Raise the right error for a non-2xx registry response (a 1xx too: an interim
        answer left as the final one, `101 Switching Protocols`, has no body to read)."""
        if 200 <= response.status_code < 300:
            return
        raise_for_rate_limit(response, what)
        raise_for_server_error(response, what)
        message = error_message(response)
        if response.status_code == 404 and is_html(response):
            # Registries answer 404 with a JSON error body; a web page means this is not one.
            raise UpstreamError(
                f"{ref.domain} answered with an HTML page (HTTP 404) for {what}",
                hint=f"is {ref.domain} an OCI registry? check the host and port",
            )
        if response.status_code == 404:
            code = _error_code(response)
            if code == "NAME_UNKNOWN":
                raise NotFoundError(
                    f"repository {ref.familiar_name} not found on {ref.domain}",
                    hint="check the repository name",
                )
            raise NotFoundError(f"{what} not found: {message or 'HTTP 404'}")
        if response.status_code in (401, 403):
            raise AuthError(f"access to {what} denied: {message or response.status_code}")
        raise UpstreamError(
            f"{ref.domain} answered HTTP {response.status_code} for {what}: "
            f"{message or response.reason or 'no message'}"
        )

    # -- manifests and blobs ----------------------------------------------------------------

    def head_manifest(
        self,
        ref: ImageReference,
        reference: str | None = None,
        *,
        cacheable: bool = True,
        accept: Callable[[requests.Response], bool] | None = None,
    ) -> ManifestHead:
        """HEAD a manifest (Docker Hub counts no pull for it): digest, media type, size and
        the headers. A non-2xx answer raises as usual unless `accept(response)` says it is an
        answer (`status` then tells which); `cacheable=False` always asks the registry."""
        reference = reference or ref.reference
        what = f"manifest {ref.familiar_name}{_sep(reference)}{reference}"
        response = self.request(
            ref,
            "HEAD",
            self.url(ref, f"manifests/{reference}"),
            headers={"Accept": MANIFEST_ACCEPT},
            what=what,
            cacheable=cacheable,
        )
        if accept is None or not accept(response):
            self.check(ref, response, what)
        size = response.headers.get("Content-Length")
        return ManifestHead(
            digest=response.headers.get("Docker-Content-Digest") or None,
            media_type=_media_type(response),
            size=int(size) if size and size.isdigit() else None,
            headers=response.headers,
            from_cache=bool(getattr(response, "from_cache", False)),
            status=response.status_code,
        )

    def get_manifest(self, ref: ImageReference, reference: str | None = None) -> RawManifest:
        """GET a manifest by tag or digest; the body is verified against its digest."""
        return self._get_manifest(ref, reference)[0]

    def _get_manifest(
        self, ref: ImageReference, reference: str | None = None
    ) -> tuple[RawManifest, requests.Response]:
        reference = reference or ref.reference
        what = f"manifest {ref.familiar_name}{_sep(reference)}{reference}"
        response = self.request(
            ref,
            "GET",
            self.url(ref, f"manifests/{reference}"),
            headers={"Accept": MANIFEST_ACCEPT},
            what=what,
            max_bytes=MAX_MANIFEST_BYTES,
        )
        self.check(ref, response, what)
        body = response.content
        if len(body) > MAX_MANIFEST_BYTES:
            raise UpstreamError(f"{what} is {len(body)} bytes, more than a manifest can be")
        header_digest = response.headers.get("Docker-Content-Digest")
        if reference.startswith(("sha256:", "sha512:")):
            self._verify(response, body, reference, what)
            digest = reference
        elif header_digest:
            self._verify(response, body, header_digest, what)
            digest = header_digest
        else:
            digest = compute_digest(body)
        raw = RawManifest(
            body=body,
            media_type=_media_type(response),
            digest=digest,
            headers=dict(response.headers),
            from_cache=bool(getattr(response, "from_cache", False)),
        )
        return raw, response

    def get_tag_manifest(self, ref: ImageReference) -> RawManifest:
        """The manifest (or index) a tag points at, for the fewest requests.

        * Cold cache: one GET by tag. The registry names the digest in `Docker-Content-Digest`
          (verified), and the body is cached under the by-digest request too, so every later
          lookup by digest is free.
        * Fresh cache: no request at all.
        * Expired entry: one HEAD by tag (Docker Hub does not count HEADs as pulls). The same
          digest renews the cached body for another `manifest_by_tag` lifetime; a new digest
          costs one GET by tag.

        `--no-cache` is one GET by tag; `--offline` answers from the cache (stale allowed).
        """
        tag = ref.reference
        if self.settings.no_cache or self.settings.offline or ":" in tag:
            return self.get_manifest(ref, tag)
        headers = {"Accept": MANIFEST_ACCEPT}
        url = self.url(ref, f"manifests/{tag}")
        entry = self.transport.peek("GET", url, headers)
        if entry is not None and getattr(entry[1], "is_expired", False):
            key, cached = entry
            digest = self._revalidate(ref, tag)
            held = cached.headers.get("Docker-Content-Digest") or compute_digest(
                cached.content or b""
            )
            if digest is not None and digest == held:
                self.transport.renew(key, cached, self.settings.ttls["manifest_by_tag"])
        raw, response = self._get_manifest(ref, tag)
        if not raw.from_cache:
            self.transport.store_as(
                response, "GET", self.url(ref, f"manifests/{raw.digest}"), headers
            )
        return raw

    def _revalidate(self, ref: ImageReference, tag: str) -> str | None:
        """The digest a tag points at now, from an uncached HEAD; None if the HEAD failed in a
        way the GET that follows will report (or answer from the stale entry)."""
        what = f"manifest {ref.familiar_name}:{tag}"
        try:
            response = self.request(
                ref,
                "HEAD",
                self.url(ref, f"manifests/{tag}"),
                headers={"Accept": MANIFEST_ACCEPT},
                what=what,
                cacheable=False,
            )
        except DockerHubError:
            return None  # the GET that follows reports it, or answers from the stale entry
        if response.status_code != 200:
            return None
        return response.headers.get("Docker-Content-Digest") or None

    def get_blob(self, ref: ImageReference, digest: str, *, what: str = "blob") -> bytes:
        """GET a blob (config, attestation) by digest, following CDN redirects, verified."""
        label = f"{what} {digest[:19]} of {ref.familiar_name}"
        cap = MAX_CONFIG_BYTES if "config" in what else MAX_BLOB_BYTES
        response = self.request(
            ref, "GET", self.url(ref, f"blobs/{digest}"), what=label, max_bytes=cap
        )
        self.check(ref, response, label)
        body = response.content
        if len(body) > cap:
            raise UpstreamError(f"{label} is larger than {cap:,} bytes; refusing it")
        self._verify(response, body, digest, label)
        return body

    def _verify(self, response: requests.Response, body: bytes, digest: str, what: str) -> None:
        """Check `body` against `digest`; a body that fails is dropped from the HTTP cache (it
        was stored when it arrived), so the next run asks the registry again."""
        try:
            verify_digest(body, digest, what)
        except DockerHubError:
            self.transport.forget(response)
            raise

    def open_blob(
        self,
        ref: ImageReference,
        digest: str,
        *,
        what: str = "layer",
        byte_range: tuple[int, int] | None = None,
        max_bytes: int = MAX_LAYER_BYTES,
    ) -> requests.Response:
        """GET a blob as a stream (layers): never through the HTTP cache, redirects to CDN
        hosts followed (requests drops Authorization on a cross-host redirect). The caller
        reads `response.raw`, verifies what it reads, and closes the response.

        `byte_range` (first, last), inclusive, asks for part of it (`Range`); the caller checks
        for 206, since a server may ignore the header and send everything.

        `response.raw` is the transport's `StreamedBody`: it reads at most `max_bytes` (the
        blob's size from its descriptor; a range's length with `byte_range`) and cuts off a
        body that stops arriving (DOCKERHUB_TIMEOUT is a progress deadline for it)."""
        label = f"{what} {digest[:19]} of {ref.familiar_name}"
        headers = {"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range else None
        if byte_range is not None:
            max_bytes = byte_range[1] - byte_range[0] + 1
        response = self.request(
            ref,
            "GET",
            self.url(ref, f"blobs/{digest}"),
            headers=headers,
            what=label,
            cacheable=False,
            stream=True,
            max_bytes=max_bytes,
        )
        if not 200 <= response.status_code < 300:
            # The transport read this (an error body, capped); the status makes the error.
            response.close()
            self.check(ref, response, label)
        return response

    # -- tags -----------------------------------------------------------------------------

    def iter_tag_pages(
        self,
        ref: ImageReference,
        page_size: int = TAGS_PAGE_SIZE,
        walk: PageWalk | None = None,
    ) -> Iterator[list[str]]:
        """Yield `/v2/<name>/tags/list` pages, following `Link: <...>; rel="next"` under the
        rules of `walk` (loops, other hosts, page and time bounds: `walk.stopped` says why a
        walk ended early)."""
        url: str | None = self.url(ref, "tags/list")
        params: dict[str, str] | None = {"n": str(page_size)}
        what = f"tags of {ref.familiar_name}"
        walk = walk or PageWalk(what, max_pages=10_000, clock=self.transport.clock)
        while url:
            response = self.request(
                ref, "GET", url, params=params, what=what, max_bytes=MAX_PAGE_BYTES
            )
            self.check(ref, response, what)
            try:
                body = json_body(response)
            except ValueError as exc:
                self.transport.forget(response)
                raise UpstreamError(f"{ref.domain} sent a tag list that is {_why(exc)}") from None
            tags = body.get("tags") if isinstance(body, dict) else None
            if tags is None:
                tags = []
            if not isinstance(tags, list):
                raise UpstreamError(f"{ref.domain} sent a malformed tag list")
            walk.saw(response.url or url)
            yield [str(t) for t in tags if isinstance(t, str | int | float)]
            here = response.url or url
            next_url = _next_link(response.headers.get("Link", ""), here)
            if not walk.follow(next_url, here):
                break
            url, params = next_url, None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _with_auth(headers: dict[str, str], authorization: str | None) -> dict[str, str]:
    if authorization is None:
        return headers
    return {**headers, "Authorization": authorization}


def _sep(reference: str) -> str:
    return "@" if ":" in reference else ":"


def _media_type(response: requests.Response) -> str:
    return (response.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()


def _error_code(response: requests.Response) -> str | None:
    try:
        errors = json_body(response).get("errors")
        return str(errors[0].get("code")) if errors else None
    except (ValueError, AttributeError, IndexError, TypeError):
        return None


def _next_link(header: str, base: str) -> str | None:
    """The rel="next" target of an RFC 5988 Link header, resolved against `base` (whether to
    follow it is `PageWalk.follow`'s decision)."""
    for part in header.split(","):
        if 'rel="next"' in part or "rel=next" in part:
            start, end = part.find("<"), part.find(">")
            if start != -1 and end > start:
                return urljoin(base, part[start + 1 : end].strip())
    return None
