"""Image references, parsed exactly as Docker does (distribution/reference `ParseNormalizedNamed`).

`nginx` -> docker.io/library/nginx:latest; `ghcr.io/a/b@sha256:...`; `localhost:5000/x:1`.
Every rejection names the rule broken, so the user can fix the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dockerhub_cli.errors import InvalidReferenceError

DOCKER_HUB_DOMAIN = "docker.io"
LEGACY_HUB_DOMAINS = frozenset(
    {"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
DEFAULT_TAG = "latest"
MAX_PATH_LENGTH = 255

_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_REMOTE = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
TAG_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_DOMAIN_RE = re.compile(rf"^{_DOMAIN}$")
_REMOTE_RE = re.compile(rf"^{_REMOTE}$")
_TAG_RE = re.compile(rf"^{TAG_PATTERN}$")
_DIGEST_RE = re.compile(rf"^{_DIGEST}$")
_HEX64_RE = re.compile(r"^[a-f0-9]{64}$")
# skopeo's local transports (`dockerhub_cli.oci.source` reads them). `oci:5000/app` stays a
# registry host with a port, as Docker reads it.
LOCAL_TRANSPORTS = ("oci", "oci-archive", "docker-archive")
_LOCAL_SOURCE_RE = re.compile(rf"^({'|'.join(LOCAL_TRANSPORTS)}):(?![0-9]+(?:/|$))")
# Registered algorithms and their hex lengths (OCI image-spec descriptor.md).
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha512": 128}


@dataclass(frozen=True)
class ImageReference:
    """A normalised image reference: `domain/path[:tag][@digest]`.

    `transport` says where the image lives: `docker` (a registry, the default) or one of the
    local sources of `dockerhub_cli.oci.source` (`oci`, `oci-archive`, `docker-archive`); for a
    local source `domain` is the transport name, `path` the file or directory as written, and
    `tag` the REF (a `org.opencontainers.image.ref.name` or a `RepoTags` entry)."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None
    transport: str = "docker"

    @property
    def is_local(self) -> bool:
        """True for an image in a local OCI layout or archive (no registry involved)."""
        return self.transport != "docker"

    @property
    def is_docker_hub(self) -> bool:
        return not self.is_local and self.domain == DOCKER_HUB_DOMAIN

    @property
    def reference(self) -> str:
        """What to put after `/manifests/`: the digest when pinned, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    @property
    def repository(self) -> str:
        """`domain/path`, e.g. `docker.io/library/nginx` (`oci:PATH` for a local source)."""
        if self.is_local:
            return f"{self.transport}:{self.path}"
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """The short form Docker prints: `nginx`, `bitnami/redis`, `ghcr.io/o/r`."""
        if not self.is_docker_hub:
            return self.repository  # also `oci:PATH` for a local source
        if self.path.startswith("library/") and self.path.count("/") == 1:
            return self.path.removeprefix("library/")
        return self.path

    @property
    def hub_namespace_and_name(self) -> tuple[str, str] | None:
        """(namespace, repository) for the Hub API; None when not a two-level Hub repository."""
        if not self.is_docker_hub or self.path.count("/") != 1:
            return None
        namespace, name = self.path.split("/", 1)
        return namespace, name

    def with_tag(self, tag: str) -> ImageReference:
        return replace(self, tag=tag, digest=None)

    def with_digest(self, digest: str) -> ImageReference:
        return replace(self, digest=digest)

    def __str__(self) -> str:
        """Canonical familiar form: `nginx:latest`, `ghcr.io/o/r@sha256:...`."""
        text = self.familiar_name
        if self.tag and not self.digest:
            if text in LOCAL_TRANSPORTS:  # `oci:1.0` would name a local source when read back
                text = self.repository
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _split_domain(name: str) -> tuple[str, str]:
    """splitDockerDomain: decide whether the first component is a registry host."""
    first, sep, rest = name.partition("/")
    if not sep or (
        first != "localhost" and "." not in first and ":" not in first and first.lower() == first
    ):
        domain, remainder = DOCKER_HUB_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain in LEGACY_HUB_DOMAINS:
        domain = DOCKER_HUB_DOMAIN
    if domain == DOCKER_HUB_DOMAIN and "/" not in remainder:
        remainder = f"library/{remainder}"
    return domain, remainder


def parse_reference(text: str, *, default_tag: bool = True, _hints: bool = True) -> ImageReference:
    """Parse and normalise an image reference, raising InvalidReferenceError naming the rule.

    `default_tag=False` leaves `tag` empty when none was given (used for repository arguments).
    A hint that suggests another reference suggests one that parses (`suggest_reference`).
    """
    raw = text
    text = text.strip()
    if not text:
        raise InvalidReferenceError(
            "invalid reference: empty", hint="give an image such as nginx or nginx:1.27"
        )
    if len(text) > 4096:
        raise InvalidReferenceError("invalid reference: longer than 4096 characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ch in "?#\\" for ch in text):
        raise InvalidReferenceError(
            f"invalid reference format: {raw!r} contains whitespace or a character "
            "that is not allowed in image references"
        )
    if "://" in text:
        scheme, _, rest = text.partition("://")
        fixed = (rest if _parses(rest) else suggest_reference(rest)) if _hints else None
        raise InvalidReferenceError(
            f"invalid reference format: {raw!r} is a URL; image references have no scheme",
            hint=f"drop '{scheme}://'" + (f": {fixed}" if fixed else ""),
        )
    local = _LOCAL_SOURCE_RE.match(text)
    if local:
        raise InvalidReferenceError(
            f"{raw!r} is a local image source ({local.group(1)}:), not a registry image",
            hint="only registry images are read here: give one such as nginx:1.27 or "
            "localhost:5000/app:1",
        )
    if _HEX64_RE.match(text):
        raise InvalidReferenceError(
            f"invalid repository name ({text}): cannot specify 64-byte hexadecimal strings",
            hint="to address an image by digest write NAME@sha256:<hex>",
        )

    name, at, digest = text.partition("@")
    digest_value: str | None = None
    if at:
        digest_value = _validate_digest(digest, raw)

    # A tag follows the last ':' that comes after the last '/' (a ':' before it is a port).
    tag: str | None = None
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise InvalidReferenceError(
                f"invalid tag {tag!r} in {raw!r}: a tag is 1-128 characters of letters, digits, "
                "'_', '.' and '-', and must not start with '.' or '-'"
            )

    domain, path = _split_domain(name)
    if domain != DOCKER_HUB_DOMAIN and not _DOMAIN_RE.match(domain):
        raise InvalidReferenceError(f"invalid reference format: bad registry host {domain!r}")
    if path.lower() != path:
        raise InvalidReferenceError(
            f"invalid reference format: repository name ({path}) must be lowercase",
            hint=_try(raw) if _hints else None,
        )
    if not path or not _REMOTE_RE.match(path):
        raise InvalidReferenceError(
            f"invalid reference format: repository name {path!r} in {raw!r} must be lowercase "
            "letters, digits and separators ('.', '_', '__', '-') between '/'-separated "
            "components",
            hint=_try(raw) if _hints else None,
        )
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidReferenceError(
            f"invalid reference format: repository name must not be more than "
            f"{MAX_PATH_LENGTH} characters (got {len(path)})"
        )
    if tag is None and digest_value is None and default_tag:
        tag = DEFAULT_TAG
    return ImageReference(domain=domain, path=path, tag=tag, digest=digest_value)


def _parses(text: str) -> bool:
    try:
        parse_reference(text, _hints=False)
    except InvalidReferenceError:
        return False
    return True


def _try(raw: str) -> str | None:
    fixed = suggest_reference(raw)
    return f"try {fixed!r}" if fixed else None


def _clean_component(part: str) -> str:
    """One path component made valid: lowercase, other characters as '-', a run of
    separators as one ('.', '_', '__' and '-'-runs are kept), none at either end."""
    part = re.sub(r"[^a-z0-9._-]+", "-", part.lower())

    def run(match: re.Match[str]) -> str:
        sep = match.group(0)
        return sep if sep in (".", "_", "__") or set(sep) == {"-"} else "-"

    return re.sub(r"[._-]+", run, part).strip("._-")


def suggest_reference(text: str) -> str | None:
    """A valid reference close to `text`, for a hint (`Bad//Ref` -> `bad/ref`): the name
    lowercased, empty components dropped, other characters as separators; the registry host,
    tag and digest kept when they are valid. None when nothing close parses."""
    name, at, digest = text.strip().partition("@")
    tag = ""
    if name.rfind(":") > name.rfind("/"):
        name, _, tag = name.rpartition(":")
    parts = [p for p in name.split("/") if p]
    host: list[str] = []
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0].lower() == "localhost"):
        if not _DOMAIN_RE.match(parts[0]):
            return None
        host = [parts.pop(0).lower()]
    path = [c for c in (_clean_component(p) for p in parts) if c]
    if not path:
        return None
    base = "/".join(host + path)
    endings = [f":{tag}" if tag and _TAG_RE.match(tag) else ""]
    endings = [e + (f"@{digest}" if at and _DIGEST_RE.match(digest) else "") for e in endings]
    for candidate in (base + endings[0], base):
        if candidate != text.strip() and len(candidate) <= 4096 and _parses(candidate):
            return candidate
    return None


def parse_repository(text: str) -> ImageReference:
    """Parse a repository argument (no tag, no digest): `nginx`, `ghcr.io/o/r`."""
    ref = parse_reference(text, default_tag=False)
    if ref.tag or ref.digest:
        raise InvalidReferenceError(
            f"expected a repository, got the image reference {text!r}",
            hint="drop the tag or digest: "
            + (ref.repository if not ref.is_docker_hub else ref.familiar_name),
        )
    return ref


def _validate_digest(digest: str, raw: str) -> str:
    if not _DIGEST_RE.match(digest):
        raise InvalidReferenceError(
            f"invalid digest {digest!r} in {raw!r}: expected ALGORITHM:HEX such as sha256:<64 hex>"
        )
    algorithm, _, hex_part = digest.partition(":")
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise InvalidReferenceError(
            f"unsupported digest algorithm {algorithm!r} in {raw!r}: use sha256 or sha512"
        )
    if len(hex_part) != expected or hex_part.lower() != hex_part:
        raise InvalidReferenceError(
            f"invalid digest {digest!r}: {algorithm} takes {expected} lowercase hex characters"
        )
    return digest


def validate_tag(tag: str) -> str:
    """Validate a bare tag (as given to MCP tools that take repository + tag separately)."""
    if not _TAG_RE.match(tag):
        raise InvalidReferenceError(
            f"invalid tag {tag!r}: a tag is 1-128 characters of letters, digits, '_', '.' and '-',"
            " and must not start with '.' or '-'"
        )
    return tag


def is_digest(text: str) -> bool:
    return bool(_DIGEST_RE.match(text))
