"""Bounds and defaults shared by the operations and both front-ends, defined once.

A leaf module (standard library only): `commands.py` builds every CLI option and MCP parameter
bound from these, and the service and operations check the same numbers, so the CLI, the MCP
schema and the library cannot disagree.
"""

from __future__ import annotations

MAX_LIMIT = 100  # results per page, everywhere
MAX_PAGE = 10_000  # page numbers, everywhere
MAX_QUERY_LENGTH = 100  # Docker Hub search words
MAX_HAVE_IMAGES = 10  # `size --have`: images already present
MAX_REFERENCE_LENGTH = 512  # an image or repository reference
MAX_TAG_LENGTH = 135  # a tag (128) or a digest (sha256:<64 hex> = 71; room for sha512)
MAX_PLATFORM_LENGTH = 64
MAX_PATTERN_LENGTH = 128
MAX_REGISTRY_LENGTH = 255  # a host name
DEFAULT_PAGE_SIZE = 25  # search and tags
DEFAULT_VULN_PAGE_SIZE = 50
DEFAULT_SBOM_PAGE_SIZE = MAX_LIMIT
SEVERITY_LEVELS: tuple[str, ...] = ("critical", "high", "medium", "low", "unknown")
TAG_SORTS: tuple[str, ...] = ("updated", "name", "semver")
# pin/watch/cache warm --kind (oci.pinfiles.FileKind; a test checks the two agree)
FILE_KINDS: tuple[str, ...] = ("dockerfile", "compose", "kubernetes", "workflow")
# What shell completion offers for --platform (any os/arch[/variant] is accepted): the
# platforms images are published for most, as docker buildx names them.
COMMON_PLATFORMS: tuple[str, ...] = (
    "linux/amd64",
    "linux/arm64",
    "linux/arm64/v8",
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/386",
    "linux/ppc64le",
    "linux/s390x",
    "linux/riscv64",
    "linux/mips64le",
    "linux/loong64",
    "linux/amd64/v2",
    "linux/amd64/v3",
    "windows/amd64",
    "windows/arm64",
)
# The kinds of request a cost counts, in the order they are shown (remote/cost.py counts them
# without pydantic; models/cost.py's `by_kind` keys are a subset).
REQUEST_KINDS: tuple[str, ...] = (
    "manifest_get",
    "manifest_head",
    "blob",
    "blob_head",
    "tag_list",
    "referrers",
    "ping",
    "token",
    "hub_api",
    "osv",
    "other",
)
REPO_SORTS: tuple[str, ...] = ("pulls", "stars", "updated", "name")
SEARCH_SORTS: tuple[str, ...] = ("pulls", "updated")
SEARCH_ORDERS: tuple[str, ...] = ("asc", "desc")
SEARCH_BADGES: tuple[str, ...] = ("official", "verified_publisher", "open_source")
MAX_SEARCH_FILTER_VALUES = 10  # values of one search filter (categories, architectures, OSes)
MAX_FILTER_VALUE_LENGTH = 64
MAX_OFFSET = 10_000  # search results
MAX_NAMESPACE_LENGTH = 255
MAX_CONTENT_TYPE_LENGTH = 64
MIN_README_TOOL_CHARS = 500
MAX_README_TOOL_CHARS = 25_000  # docker_get_readme per call (the Hub allows 25 000)
DEFAULT_README_TOOL_CHARS = 8000
MAX_README_OFFSET = 1_000_000
MAX_ARTIFACT_TYPE_LENGTH = 255
# referrers: levels listed (1: what is attached to the image; 2: also what is attached to those,
# e.g. a signature of an SBOM; ...)
DEFAULT_REFERRER_DEPTH = 3
MAX_REFERRER_DEPTH = 5
MAX_PUBLIC_KEY_LENGTH = 16_384  # a PEM public key given to docker_verify_signature
MAX_IMAGE_PATH_LENGTH = 4096  # a path inside an image
MAX_LAYER_INDEX = 1000
MAX_FIND_LENGTH = 256
DEFAULT_FILE_PAGE_SIZE = 200  # files and diff entries per MCP page
MAX_FILE_PAGE_SIZE = 500
MCP_MAX_DOWNLOAD = 2_000_000_000  # a model cannot see a progress bar: bound one call's download
MAX_DOWNLOAD_BYTES = 50_000_000_000
DEFAULT_FILE_CHARS = 20_000
MAX_FILE_CHARS = 50_000
