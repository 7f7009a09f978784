"""Push layout tags to a registry with skopeo (:func:`push`), a tiny auth-aware registry client
(:class:`RegistryHTTP`, http.client so ``responses`` mocks never intercept it) and what was
pushed, read back exactly as the registry serves it (:class:`ManifestInfo`, :class:`SeededImages`).
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.attestations import ProvenanceInfo, SbomPackage
from tests.support.oci_build import (
    ACCEPT_ALL,
    ATTESTATION_MANIFEST,
    INDEX_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
    PUSH_TIMEOUT,
    REFERENCE_DIGEST,
    REFERENCE_TYPE,
    Descriptor,
    ImageBuildError,
    OCILayout,
    _run,
    platform_string,
    sha256_digest,
)


# --------------------------------------------------------------------------------------------
# Pushing with skopeo
# --------------------------------------------------------------------------------------------
def push(
    layout_ref: str,
    dest: str,
    creds: str | tuple[str, str] | None = None,
    fmt: str | None = None,
    all: bool = False,  # noqa: A002 - mirrors skopeo's --all
    *,
    timeout: float = PUSH_TIMEOUT,
) -> None:
    """``skopeo copy`` *layout_ref* (``oci:PATH:TAG``) to *dest* (``HOST:PORT/repo:tag``).

    *creds* is ``"user:pass"`` or ``(user, pass)``; *fmt* is ``"oci"`` or ``"v2s2"`` (Docker
    schema 2; converts media types and so changes digests); *all* copies every platform of an
    index (``--all``). Plain HTTP, no TLS verification. OCI→OCI pushes keep digests unchanged.
    """
    argv = ["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false"]
    if creds:
        argv.append("--dest-creds=" + (creds if isinstance(creds, str) else ":".join(creds)))
    if fmt:
        argv += ["--format", fmt]
    if all:
        argv.append("--all")
    if "://" not in dest:
        dest = "docker://" + dest
    argv += [layout_ref, dest]
    _run(argv, timeout=timeout)


def skopeo_inspect_raw(ref: str, creds: str | tuple[str, str] | None = None) -> bytes:
    """``skopeo inspect --raw`` of ``HOST:PORT/repo:tag`` (exact manifest bytes)."""
    argv = ["skopeo", "--insecure-policy", "inspect", "--raw", "--tls-verify=false"]
    if creds:
        argv.append("--creds=" + (creds if isinstance(creds, str) else ":".join(creds)))
    argv.append(ref if "://" in ref else "docker://" + ref)
    return _run(argv).encode()


# --------------------------------------------------------------------------------------------
# Tiny registry client (seeding and read-back only; the package under test has its own)
# --------------------------------------------------------------------------------------------
def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="x",service="y",scope="a:b:pull,push"`` -> ``("bearer", {...})``."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    i = 0
    while i < len(rest):
        while i < len(rest) and rest[i] in " ,":
            i += 1
        eq = rest.find("=", i)
        if eq < 0:
            break
        key = rest[i:eq].strip().lower()
        i = eq + 1
        if i < len(rest) and rest[i] == '"':
            end = i + 1
            val = []
            while end < len(rest) and rest[end] != '"':
                if rest[end] == "\\" and end + 1 < len(rest):
                    end += 1
                val.append(rest[end])
                end += 1
            params[key] = "".join(val)
            i = end + 1
        else:
            end = rest.find(",", i)
            end = len(rest) if end < 0 else end
            params[key] = rest[i:end].strip()
            i = end
    return scheme.lower(), params


@dataclass
class HTTPResult:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


class RegistryHTTP:
    """Minimal Registry v2 client over http.client with Basic and Bearer (token) auth."""

    def __init__(self, host: str, creds: tuple[str, str] | None = None) -> None:
        self.host = host
        self.creds = creds
        self._tokens: dict[str, str] = {}  # scope -> bearer token
        self._basic = False

    def _raw(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> HTTPResult:
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port or 80, timeout=30)
        try:
            path = u.path + (f"?{u.query}" if u.query else "")
            conn.request(method, path, body=body, headers=dict(headers))
            resp = conn.getresponse()
            data = resp.read()
            return HTTPResult(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def _basic_header(self) -> str:
        assert self.creds is not None
        return "Basic " + base64.b64encode(":".join(self.creds).encode()).decode()

    def _token(self, params: Mapping[str, str]) -> str:
        scope = params.get("scope", "")
        if scope in self._tokens:
            return self._tokens[scope]
        q = {"service": params.get("service", "")}
        if scope:
            q["scope"] = scope
        url = params["realm"] + "?" + urllib.parse.urlencode(q)
        headers = {"Authorization": self._basic_header()} if self.creds else {}
        r = self._raw("GET", url, headers, None)
        if r.status != 200:
            raise ImageBuildError(f"token request {url} -> {r.status}: {r.body[:200]!r}")
        doc = json.loads(r.body)
        tok = str(doc.get("token") or doc.get("access_token"))
        self._tokens[scope] = tok
        return tok

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        scope: str | None = None,
    ) -> HTTPResult:
        """Send, answering one auth challenge if needed. *scope* pre-selects a cached token."""
        hdrs = dict(headers or {})
        url = f"http://{self.host}{path}"
        if self._basic and self.creds:
            hdrs["Authorization"] = self._basic_header()
        elif scope and scope in self._tokens:
            hdrs["Authorization"] = "Bearer " + self._tokens[scope]
        r = self._raw(method, url, hdrs, body)
        if r.status != 401 or "www-authenticate" not in r.headers:
            return r
        scheme, params = parse_challenge(r.headers["www-authenticate"])
        if scheme == "basic":
            if not self.creds:
                return r
            self._basic = True
            hdrs["Authorization"] = self._basic_header()
        elif scheme == "bearer":
            if scope and "scope" not in params:
                params["scope"] = scope
            self._tokens.pop(params.get("scope", ""), None)
            hdrs["Authorization"] = "Bearer " + self._token(params)
        else:
            return r
        return self._raw(method, url, hdrs, body)

    @staticmethod
    def _scope(repo: str, push: bool = False) -> str:
        return f"repository:{repo}:pull,push" if push else f"repository:{repo}:pull"

    def get_manifest(self, repo: str, ref: str) -> tuple[bytes, str, str]:
        """Return ``(raw bytes, media type, digest)``, checking Docker-Content-Digest."""
        r = self.request(
            "GET",
            f"/v2/{repo}/manifests/{ref}",
            headers={"Accept": ACCEPT_ALL},
            scope=self._scope(repo),
        )
        if r.status != 200:
            raise ImageBuildError(f"GET manifest {repo}:{ref} -> {r.status}: {r.body[:300]!r}")
        digest = sha256_digest(r.body)
        served = r.headers.get("docker-content-digest")
        if served and served != digest:
            raise ImageBuildError(f"{repo}:{ref}: served digest {served} != sha256 {digest}")
        media_type = r.headers.get("content-type", "").split(";")[0].strip()
        return r.body, media_type, digest

    def get_blob(self, repo: str, digest: str) -> bytes:
        r = self.request("GET", f"/v2/{repo}/blobs/{digest}", scope=self._scope(repo))
        if r.status != 200:
            raise ImageBuildError(f"GET blob {repo}@{digest} -> {r.status}")
        return r.body

    def put_manifest(self, repo: str, ref: str, raw: bytes, media_type: str) -> str:
        r = self.request(
            "PUT",
            f"/v2/{repo}/manifests/{ref}",
            headers={"Content-Type": media_type},
            body=raw,
            scope=self._scope(repo, push=True),
        )
        if r.status not in (200, 201):
            raise ImageBuildError(f"PUT manifest {repo}:{ref} -> {r.status}: {r.body[:300]!r}")
        return r.headers.get("docker-content-digest", sha256_digest(raw))

    def upload_blob(self, repo: str, data: bytes) -> str:
        """Monolithic upload (POST then PUT ?digest=) unless the blob is already there."""
        digest = sha256_digest(data)
        scope = self._scope(repo, push=True)
        if self.request("HEAD", f"/v2/{repo}/blobs/{digest}", scope=scope).status == 200:
            return digest
        r = self.request("POST", f"/v2/{repo}/blobs/uploads/", body=b"", scope=scope)
        if r.status != 202 or "location" not in r.headers:
            raise ImageBuildError(f"POST upload {repo} -> {r.status}: {r.body[:300]!r}")
        loc = urllib.parse.urlsplit(r.headers["location"])
        sep = "&" if loc.query else "?"
        path = f"{loc.path}?{loc.query}{sep}" if loc.query else f"{loc.path}{sep}"
        path += urllib.parse.urlencode({"digest": digest})
        r = self.request(
            "PUT",
            path,
            headers={"Content-Type": "application/octet-stream"},
            body=data,
            scope=scope,
        )
        if r.status != 201:
            raise ImageBuildError(f"PUT blob {repo}@{digest} -> {r.status}: {r.body[:300]!r}")
        return digest

    def tags(self, repo: str) -> list[str]:
        r = self.request("GET", f"/v2/{repo}/tags/list", scope=self._scope(repo))
        if r.status != 200:
            raise ImageBuildError(f"GET tags {repo} -> {r.status}")
        return list(json.loads(r.body).get("tags") or [])


# --------------------------------------------------------------------------------------------
# What was pushed (read back from the registry)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ManifestInfo:
    """A manifest exactly as the registry serves it, plus parsed helpers.

    For indexes, ``children`` holds every entry (images and attestation manifests) in index
    order, each with the ``platform``/``annotations`` of its index descriptor. For image
    manifests, ``config`` is the parsed config blob.
    """

    repo: str
    reference: str  # tag, or digest for children
    digest: str
    media_type: str
    raw: bytes
    platform: Mapping[str, Any] | None = None
    descriptor_annotations: Mapping[str, str] | None = None
    config: Mapping[str, Any] | None = None
    children: tuple[ManifestInfo, ...] = ()

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def manifest(self) -> dict[str, Any]:
        return dict(json.loads(self.raw))

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def config_digest(self) -> str | None:
        return None if self.is_index else str(self.manifest["config"]["digest"])

    @property
    def layers(self) -> list[dict[str, Any]]:
        return [] if self.is_index else list(self.manifest.get("layers", []))

    @property
    def layer_digests(self) -> list[str]:
        return [lay["digest"] for lay in self.layers]

    @property
    def compressed_size(self) -> int:
        """Sum of layer sizes (what ``docker`` and Hub call the compressed image size)."""
        return sum(int(lay["size"]) for lay in self.layers)

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.manifest.get("annotations", {}))

    @property
    def platform_str(self) -> str:
        return platform_string(self.platform)

    @property
    def is_attestation(self) -> bool:
        return (self.descriptor_annotations or {}).get(REFERENCE_TYPE) == ATTESTATION_MANIFEST

    @property
    def images(self) -> list[ManifestInfo]:
        """Runnable platform images of an index (attestation manifests excluded)."""
        return [c for c in self.children if not c.is_attestation]

    @property
    def attestations(self) -> list[ManifestInfo]:
        return [c for c in self.children if c.is_attestation]

    def child(self, platform: str) -> ManifestInfo:
        """The runnable child for ``os/arch[/variant]``."""
        for c in self.images:
            if c.platform_str == platform:
                return c
        raise KeyError(f"{self.repo}:{self.reference} has no platform {platform}")

    def attestation_for(self, image_digest: str) -> ManifestInfo:
        for c in self.attestations:
            if (c.descriptor_annotations or {}).get(REFERENCE_DIGEST) == image_digest:
                return c
        raise KeyError(f"no attestation for {image_digest}")


def http_push(
    client: RegistryHTTP, layout: OCILayout, desc: Descriptor, repo: str, ref: str
) -> str:
    """Push *desc* (image or index, recursively) from *layout* with plain HTTP, byte for byte.

    Unlike ``skopeo copy`` from an ``oci:`` layout this also handles Docker schema 2 manifests
    and lists, and never rewrites anything. Returns the manifest digest.
    """
    raw = layout.read_blob(desc.digest)
    doc = json.loads(raw)
    for child in doc.get("manifests", []):
        http_push(client, layout, Descriptor.from_dict(child), repo, child["digest"])
    if "config" in doc:
        for blob in [doc["config"], *doc.get("layers", [])]:
            client.upload_blob(repo, layout.read_blob(blob["digest"]))
    return client.put_manifest(repo, ref, raw, doc.get("mediaType", desc.media_type))


def read_back(
    client: RegistryHTTP,
    repo: str,
    ref: str,
    *,
    platform: Mapping[str, Any] | None = None,
    descriptor_annotations: Mapping[str, str] | None = None,
    known: tuple[bytes, str] | None = None,
) -> ManifestInfo:
    """Fetch *repo*:*ref* (and children/config) into a :class:`ManifestInfo`."""
    if known is not None:
        raw, media_type = known
        digest = sha256_digest(raw)
    else:
        raw, media_type, digest = client.get_manifest(repo, ref)
    doc = json.loads(raw)
    if not media_type:
        media_type = doc.get("mediaType") or (OCI_INDEX if "manifests" in doc else OCI_MANIFEST)
    children: list[ManifestInfo] = []
    config = None
    if "manifests" in doc:
        children = [
            read_back(
                client,
                repo,
                m["digest"],
                platform=m.get("platform"),
                descriptor_annotations=m.get("annotations"),
            )
            for m in doc["manifests"]
        ]
    elif "config" in doc:
        config = json.loads(client.get_blob(repo, doc["config"]["digest"]))
    return ManifestInfo(
        repo=repo,
        reference=ref,
        digest=digest,
        media_type=media_type,
        raw=raw,
        platform=platform,
        descriptor_annotations=descriptor_annotations,
        config=config,
        children=tuple(children),
    )


@dataclass
class SeededImages:
    """Everything pushed to one registry, keyed by ``"repo:tag"`` (e.g. ``"demo/app:1.0"``).

    ``seeded["demo/app:1.0"].digest`` / ``.size`` / ``.raw`` / ``.config`` are what the registry
    serves. Extra facts for assertions: ``statements[(repo_tag, platform)]`` holds the in-toto
    statements of attested images by predicate type; ``provenance[platform]`` the
    :class:`ProvenanceInfo`; ``sbom_packages[platform]`` the SBOM packages.
    """

    host: str
    images: dict[str, ManifestInfo] = field(default_factory=dict)
    statements: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    provenance: dict[str, ProvenanceInfo] = field(default_factory=dict)
    sbom_packages: dict[str, list[SbomPackage]] = field(default_factory=dict)
    seconds: float = 0.0  # how long seeding took

    def __getitem__(self, key: str) -> ManifestInfo:
        return self.images[key]

    def __contains__(self, key: object) -> bool:
        return key in self.images

    def __iter__(self) -> Iterator[str]:
        return iter(self.images)

    def ref(self, key: str) -> str:
        """``demo/app:1.0`` -> ``127.0.0.1:PORT/demo/app:1.0``."""
        return f"{self.host}/{key}"

    def digest(self, key: str) -> str:
        return self.images[key].digest

    def repos(self) -> list[str]:
        return sorted({k.rsplit(":", 1)[0] for k in self.images})

    def tags(self, repo: str) -> list[str]:
        """Tags pushed to *repo*, sorted as distribution lists them (lexically)."""
        return sorted(k.rsplit(":", 1)[1] for k in self.images if k.rsplit(":", 1)[0] == repo)
