"""`dockerhub serve-mcp`: the CLI's service methods as read-only MCP tools (mcp 2.x SDK).

One table (`TOOLS`) lists every tool: its name, its description for the model, the service
method it needs, its parameters (`Annotated[..., Field(...)]`, so the input schema carries
descriptions, bounds and defaults) and the pydantic model it returns, the same model `--json`
prints (the output schema). `build_server()` turns the table into tools on an `MCPServer`:

* every tool is a plain sync function (the SDK runs it in a worker thread) calling exactly one
  `DockerHubService` method, closed over the one long-lived service of the process;
* every `DockerHubError` becomes a `ToolError` whose text says what was wrong and what to try
  (in mcp 2.3 only `ToolError` carries its message to the model); anything else becomes a
  generic `ToolError` and one log line on stderr, never a traceback at the default log level;
* a tool whose service method does not exist yet (compare, updates, vulns, ...) is simply not
  registered: no stubs, no invented answers.

Adding a tool (about five lines): a function `def _x(s: DockerHubService, <params>) -> Model:
return s.method(...)` using the shared parameter aliases (`Repository`, `Tag`, `Platform`, ...),
and a row `ToolSpec("docker_x", "method", "description for the model", _x, Model)` in TOOLS.

This module imports `mcp` at the top: import it only from `serve-mcp` (and tests), never on the
CLI's start-up path (`import mcp` costs about 0.45 s).
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import sys
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from dockerhub_cli import __version__
from dockerhub_cli.errors import (
    AuthError,
    DockerHubError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    PlatformNotFoundError,
    RateLimitedError,
)
from dockerhub_cli.image_models import (
    DockerfileReport,
    HistoryReport,
    ImageInspection,
    LayerReport,
    ManifestReport,
    PullSizeReport,
    RepositoryInfo,
)
from dockerhub_cli.images import MAX_HAVE_IMAGES
from dockerhub_cli.models import Identity, PullRateLimit, SearchResults, TagList
from dockerhub_cli.reference import ImageReference, is_digest, parse_reference, validate_tag
from dockerhub_cli.service import MAX_LIMIT, MAX_QUERY_LENGTH, DockerHubService

log = logging.getLogger("dockerhub_cli.mcp")

SERVER_NAME = "dockerhub"
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
# A Docker Hub README can be tens of kilobytes: the tools return at most this much of it.
MAX_README_CHARS = 2000

INSTRUCTIONS = """\
Read-only explorer for Docker Hub and any OCI registry (ghcr.io, quay.io, a private registry).
Nothing here pulls, pushes or changes anything.

- `repository` takes any reference: nginx, bitnami/redis, ghcr.io/org/app,
  127.0.0.1:5000/team/app; a tag or digest written into it (nginx:1.27) is used when `tag` is
  left at its default. `tag` may also be a digest (sha256:...).
- `platform` (os/arch[/variant], e.g. linux/arm64) picks one image of a multi-platform tag;
  the default is linux/amd64. If it does not exist the error lists the platforms that do.
- Lists are paginated: docker_list_tags and docker_search_images take `page` and `limit`; a tag
  list says in `notes` when there are more pages.
- Repository facts (stars, pulls, description) exist only on Docker Hub; image internals
  (layers, history, manifest, size) work on every registry.
- Errors say what was wrong and what to try next (e.g. docker_search_images to find a
  repository, docker_list_tags to find a tag, the seconds to wait after a rate limit).
"""


# -- parameters (shared by every tool that takes them) ---------------------------------------

Repository = Annotated[
    str,
    Field(
        description=(
            "Repository on any registry: nginx, bitnami/redis, ghcr.io/org/app, "
            "127.0.0.1:5000/team/app. A tag or digest in it (nginx:1.27) is used when `tag` "
            "is left at its default."
        ),
        min_length=1,
        max_length=512,
    ),
]
Tag = Annotated[
    str,
    Field(
        description=(
            'Tag (e.g. 1.27-alpine) or digest (sha256:...), always a string ("1.0", not 1.0). '
            "Default: latest."
        ),
        min_length=1,
        max_length=135,
    ),
]
Platform = Annotated[
    str | None,
    Field(
        description=(
            "Platform os/arch[/variant] of a multi-platform image, e.g. linux/arm64 or "
            "linux/arm/v7. Default: linux/amd64."
        ),
        min_length=1,
        max_length=64,
    ),
]
Limit = Annotated[int, Field(description=f"Results per page (1-{MAX_LIMIT}).", ge=1, le=MAX_LIMIT)]
Page = Annotated[int, Field(description="Page number, from 1.", ge=1, le=10_000)]


# -- turning `repository` + `tag` into one reference ----------------------------------------


def image_reference(repository: str, tag: str = "latest") -> str:
    """Combine the legacy (repository, tag) pair into one validated reference string.

    `repository` may already carry a tag or digest (nginx:1.27, app@sha256:...): it wins when
    `tag` is the default, and a different explicit `tag` is an error rather than a guess.
    """
    ref = parse_reference(repository, default_tag=False)
    tag = tag.strip()
    if tag == "latest" and (ref.tag or ref.digest):
        return str(ref)
    if is_digest(tag):
        if ref.digest and ref.digest != tag:
            raise InvalidInputError(
                f"repository {repository!r} names digest {ref.digest} but tag is {tag}",
                hint="give the digest once, in either field",
            )
        return str(parse_reference(f"{_bare(ref)}@{tag}"))
    validate_tag(tag)
    if ref.digest or (ref.tag and ref.tag != tag):
        raise InvalidInputError(
            f"repository {repository!r} already names "
            f"{'digest ' + ref.digest if ref.digest else 'tag ' + repr(ref.tag)} "
            f"but tag is {tag!r}",
            hint="put the tag in one field only",
        )
    return str(ref.with_tag(tag))


def _bare(ref: ImageReference) -> str:
    return ref.familiar_name if ref.is_docker_hub else ref.repository


def repository_only(repository: str) -> ImageReference:
    """A repository argument; a tag or digest written into it is ignored (nginx:1.27 -> nginx)."""
    ref = parse_reference(repository, default_tag=False)
    return ImageReference(ref.domain, ref.path)


# -- the tool table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSpec:
    """One MCP tool: `call(service, **arguments)` with `call`'s other parameters as the schema.

    `output` is the result model (the output schema); None means "the return type of the
    service method `method`", for tools whose models live on other branches.
    `adjust` may bound an LLM-unfriendly result (long READMEs, "more pages" notes).
    """

    name: str
    method: str
    description: str
    call: Callable[..., Any]
    output: type[BaseModel] | None = None
    adjust: Callable[[Any, dict[str, Any]], Any] | None = None


def _search(
    s: DockerHubService,
    query: Annotated[
        str,
        Field(
            description="Search words, e.g. nginx or 'postgres backup'.",
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
        ),
    ],
    limit: Limit = 25,
    page: Page = 1,
    is_official: Annotated[bool, Field(description="Only Docker Official Images.")] = False,
    is_automated: Annotated[bool, Field(description="Only automated builds.")] = False,
) -> SearchResults:
    return s.search(query, limit=limit, page=page, official=is_official, automated=is_automated)


def _tags(
    s: DockerHubService,
    repository: Repository,
    limit: Limit = 25,
    page: Page = 1,
    pattern: Annotated[
        str | None,
        Field(
            description="Only tags matching this glob, e.g. '1.27*' or '*-alpine'.",
            min_length=1,
            max_length=128,
        ),
    ] = None,
    sort: Annotated[
        Literal["updated", "name", "semver"],
        Field(description="updated (newest first), name (A-Z) or semver (newest version first)."),
    ] = "updated",
) -> TagList:
    return s.tags(repository_only(repository), limit=limit, page=page, pattern=pattern, sort=sort)


def _details(
    s: DockerHubService, repository: Repository, tag: Tag = "latest", platform: Platform = None
) -> ImageInspection:
    return s.inspect(image_reference(repository, tag), platform=platform)


def _manifest(
    s: DockerHubService, repository: Repository, tag: Tag = "latest", platform: Platform = None
) -> ManifestReport:
    return s.manifest(image_reference(repository, tag), platform=platform)


def _layers(
    s: DockerHubService, repository: Repository, tag: Tag = "latest", platform: Platform = None
) -> LayerReport:
    return s.layers(image_reference(repository, tag), platform=platform)


def _history(
    s: DockerHubService, repository: Repository, tag: Tag = "latest", platform: Platform = None
) -> HistoryReport:
    return s.history(image_reference(repository, tag), platform=platform)


def _dockerfile(
    s: DockerHubService, repository: Repository, tag: Tag = "latest", platform: Platform = None
) -> DockerfileReport:
    return s.dockerfile(image_reference(repository, tag), platform=platform)


def _pull_size(
    s: DockerHubService,
    repository: Repository,
    tag: Tag = "latest",
    platform: Platform = None,
    have: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=512)]] | None,
        Field(
            description=(
                "Images already present locally (e.g. ['python:3.12-slim']): their layers are "
                "not downloaded again."
            ),
            max_length=MAX_HAVE_IMAGES,
        ),
    ] = None,
) -> PullSizeReport:
    return s.pull_size(image_reference(repository, tag), platform=platform, have=have)


def _stats(s: DockerHubService, repository: Repository) -> RepositoryInfo:
    return s.repository_info(repository_only(repository).familiar_name)


def _whoami(
    s: DockerHubService,
    registry: Annotated[
        str | None,
        Field(
            description="Registry host, e.g. ghcr.io. Default: Docker Hub.",
            min_length=1,
            max_length=255,
        ),
    ] = None,
    verify: Annotated[
        bool, Field(description="Also check with the registry that the credentials work.")
    ] = False,
) -> Identity:
    return s.whoami(registry, verify=verify)


def _rate_limit(
    s: DockerHubService,
    repository: Annotated[
        str | None,
        Field(
            description="Docker Hub image to check with (default: Docker's own test image).",
            min_length=1,
            max_length=512,
        ),
    ] = None,
) -> PullRateLimit:
    return s.pull_rate_limit(image_reference(repository) if repository else None)


# Tools whose service methods are still being written on other branches. Each is registered
# only when `DockerHubService` has the method (output model = the method's return type).


def _compare(
    s: DockerHubService,
    image1: Annotated[
        str, Field(description="First image, e.g. nginx:1.26.", min_length=1, max_length=512)
    ],
    image2: Annotated[
        str, Field(description="Second image, e.g. nginx:1.27.", min_length=1, max_length=512)
    ],
    platform: Platform = None,
) -> Any:
    return s.compare(  # type: ignore[attr-defined]
        image_reference(image1), image_reference(image2), platform=platform
    )


def _updates(
    s: DockerHubService,
    repository: Repository,
    tag: Tag = "latest",
    base: Annotated[
        str | None,
        Field(
            description="Base image to check against, when the image does not record it.",
            min_length=1,
            max_length=512,
        ),
    ] = None,
    platform: Platform = None,
) -> Any:
    return s.updates(  # type: ignore[attr-defined]
        image_reference(repository, tag), base=base, platform=platform
    )


def _vulns(
    s: DockerHubService,
    repository: Repository,
    tag: Tag = "latest",
    platform: Platform = None,
    severity: Annotated[
        Literal["critical", "high", "medium", "low"] | None,
        Field(description="Only findings of this severity or worse."),
    ] = None,
) -> Any:
    return s.vulns(  # type: ignore[attr-defined]
        image_reference(repository, tag), platform=platform, severity=severity
    )


def _sbom(
    s: DockerHubService, repository: Repository, tag: Tag = "latest", platform: Platform = None
) -> Any:
    return s.sbom(image_reference(repository, tag), platform=platform)  # type: ignore[attr-defined]


def _provenance(
    s: DockerHubService, repository: Repository, tag: Tag = "latest", platform: Platform = None
) -> Any:
    return s.provenance(  # type: ignore[attr-defined]
        image_reference(repository, tag), platform=platform
    )


def _more_tags_note(result: TagList, args: dict[str, Any]) -> TagList:
    """Say in the answer how to get the next page (the CLI shows this as a table footer)."""
    page, limit = result.page or 1, args.get("limit", 25)
    more = result.count > page * limit if result.count is not None else not result.complete
    if not more or result.page is None:
        return result
    total = f" of {result.count}" if result.count is not None else ""
    note = (
        f"showing {len(result.tags)} tags{total} (page {page}); more exist: call "
        f"docker_list_tags again with page={page + 1}"
    )
    return result.model_copy(update={"notes": [*result.notes, note]})


def _bounded_readme(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_README_CHARS:
        return text
    rest = len(text) - MAX_README_CHARS
    return text[:MAX_README_CHARS] + f"\n\n[README truncated: {rest} more characters]"


def _bound_repository_info(result: RepositoryInfo, args: dict[str, Any]) -> RepositoryInfo:
    readme = _bounded_readme(result.full_description)
    if readme == result.full_description:
        return result
    return result.model_copy(update={"full_description": readme})


def _bound_inspection(result: ImageInspection, args: dict[str, Any]) -> ImageInspection:
    if result.repository_info is None:
        return result
    info = _bound_repository_info(result.repository_info, args)
    return (
        result
        if info is result.repository_info
        else result.model_copy(update={"repository_info": info})
    )


TOOLS: tuple[ToolSpec, ...] = (
    # The twelve tools of the original DockerHub MCP server (names and parameters kept).
    ToolSpec(
        "docker_search_images",
        "search",
        "Search Docker Hub repositories by name or description. Returns names, descriptions, "
        "stars, pulls and official/automated flags, one page at a time (`count` is the total).",
        _search,
        SearchResults,
    ),
    ToolSpec(
        "docker_get_image_details",
        "inspect",
        "Details of one image: digest, platforms, compressed size, creation time, config (env, "
        "entrypoint, cmd, ports, labels, user), base image, and on Docker Hub the repository "
        "facts (description, stars, pulls). Works on any registry.",
        _details,
        ImageInspection,
        _bound_inspection,
    ),
    ToolSpec(
        "docker_list_tags",
        "tags",
        "List the tags of a repository on any registry, a page at a time (Docker Hub adds "
        "digest, size, platforms and update time). `notes` says when more pages exist.",
        _tags,
        TagList,
        _more_tags_note,
    ),
    ToolSpec(
        "docker_get_manifest",
        "manifest",
        "The parsed manifest of an image (for a multi-platform tag: the chosen platform's image "
        "manifest, with the index digest), with its digest, media type and size.",
        _manifest,
        ManifestReport,
    ),
    ToolSpec(
        "docker_analyze_layers",
        "layers",
        "The layers of an image: compressed size, share of the total, the build step that made "
        "each one, and insights (largest layers, size added on top of the base image).",
        _layers,
        LayerReport,
    ),
    ToolSpec(
        "docker_compare_images",
        "compare",
        "Compare two images: size, layers, platforms, config and base image differences.",
        _compare,
    ),
    ToolSpec(
        "docker_get_vulnerabilities",
        "vulns",
        "Known vulnerabilities of an image from the data the registry publishes (e.g. attached "
        "scan attestations). The result states its source and coverage: when no scan data "
        "exists it says so, which does not mean the image has no vulnerabilities.",
        _vulns,
    ),
    ToolSpec(
        "docker_get_image_history",
        "history",
        "The build history of an image: each recorded step (command, time, comment), whether "
        "it made a layer, and that layer's size.",
        _history,
        HistoryReport,
    ),
    ToolSpec(
        "docker_get_stats",
        "repository_info",
        "Docker Hub repository statistics: stars, pulls, last update, tag count, description "
        "(README shortened). Docker Hub only; other registries publish no such facts.",
        _stats,
        RepositoryInfo,
        _bound_repository_info,
    ),
    ToolSpec(
        "docker_track_base_updates",
        "updates",
        "Whether the base image of an image has changed since it was built, and newer tags of "
        "the image itself.",
        _updates,
    ),
    ToolSpec(
        "docker_estimate_pull_size",
        "pull_size",
        "How many bytes a `docker pull` downloads (compressed layers), optionally minus the "
        "layers of images you already have.",
        _pull_size,
        PullSizeReport,
    ),
    ToolSpec(
        "docker_get_dockerfile",
        "dockerfile",
        "A Dockerfile reconstructed from the image history (not the original file: COPY "
        "sources, build args and multi-stage steps are not recorded).",
        _dockerfile,
        DockerfileReport,
    ),
    # Further commands.
    ToolSpec(
        "docker_get_sbom",
        "sbom",
        "The software bill of materials attached to an image (packages and versions), if the "
        "publisher attached one.",
        _sbom,
    ),
    ToolSpec(
        "docker_get_provenance",
        "provenance",
        "Build provenance attached to an image (builder, source repository, build args), if "
        "the publisher attached it.",
        _provenance,
    ),
    ToolSpec(
        "docker_whoami",
        "whoami",
        "Which account (if any) the server uses for Docker Hub or another registry, and where "
        "its credentials come from (never the secret itself).",
        _whoami,
        Identity,
    ),
    ToolSpec(
        "docker_get_rate_limit",
        "pull_rate_limit",
        "Docker Hub's pull allowance for the server's account or IP address: limit, remaining "
        "and window (checked with a HEAD request, which costs no pull).",
        _rate_limit,
        PullRateLimit,
    ),
)


# -- errors, written for a model ---------------------------------------------------------------

_CLI_TO_TOOL = {
    "search": "docker_search_images",
    "tags": "docker_list_tags",
    "inspect": "docker_get_image_details",
    "layers": "docker_analyze_layers",
    "history": "docker_get_image_history",
    "dockerfile": "docker_get_dockerfile",
    "size": "docker_estimate_pull_size",
    "manifest": "docker_get_manifest",
}
_CLI_COMMAND_RE = re.compile(r"`dockerhub (\w[\w-]*)[^`]*`")


def _for_model(text: str) -> str:
    """Rephrase CLI advice in a hint ("`dockerhub tags nginx`", "--platform") as tool advice."""
    text = _CLI_COMMAND_RE.sub(lambda m: _CLI_TO_TOOL.get(m.group(1), m.group(0)), text)
    return text.replace("--platform", "the platform argument")


def tool_error_message(exc: DockerHubError) -> str:
    """One paragraph for the model: what was wrong, then what to try."""
    what = exc.message.rstrip(".")
    if isinstance(exc, PlatformNotFoundError):
        if exc.available:
            todo = "call again with platform set to one of: " + ", ".join(exc.available)
        else:
            todo = "this image lists no runnable platform"
    elif isinstance(exc, NotFoundError):
        todo = (
            "check the spelling; find repositories with docker_search_images (Docker Hub) and "
            "existing tags with docker_list_tags"
        )
        if exc.hint:
            todo = f"{_for_model(exc.hint)}; {todo}"
    elif isinstance(exc, RateLimitedError):
        if exc.retry_after is not None:
            todo = f"wait {max(1, round(exc.retry_after))} seconds before retrying"
        else:
            todo = "wait a minute before retrying"
        todo += (
            "; the server's operator can set DOCKERHUB_USERNAME and DOCKERHUB_TOKEN for higher "
            "Docker Hub limits"
        )
    elif isinstance(exc, AuthError):
        todo = (
            "the repository may be private or misspelled; the server's operator can configure "
            "credentials (DOCKERHUB_USERNAME/DOCKERHUB_TOKEN or docker login on the server host)"
        )
    elif isinstance(exc, NetworkError) or exc.exit_code == NetworkError.exit_code:
        todo = _for_model(exc.hint) if exc.hint else "the registry had a problem; retry later"
    elif isinstance(exc, InvalidInputError):
        todo = _for_model(exc.hint) if exc.hint else "correct the argument and call again"
    else:
        todo = _for_model(exc.hint) if exc.hint else "retrying later may help"
    return f"{what}. What to try: {todo}."


def _guard(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run one tool body: DockerHubError -> helpful ToolError; anything else -> generic one."""

    @functools.wraps(fn)
    def tool(**arguments: Any) -> Any:
        try:
            return fn(**arguments)
        except ToolError:
            raise
        except DockerHubError as exc:
            raise ToolError(tool_error_message(exc)) from None
        except Exception as exc:  # a bug: one stderr line, the traceback only at DEBUG
            log.error(
                "tool %s failed unexpectedly: %s: %s",
                name,
                type(exc).__name__,
                exc,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            raise ToolError(
                f"internal error in {name} ({type(exc).__name__}); this is a bug in "
                "dockerhub-cli, not a problem with your arguments, and the details are in the "
                "server log"
            ) from None

    return tool


# -- building the server -----------------------------------------------------------------------


def _output_model(spec: ToolSpec) -> Any:
    """The spec's model, or the service method's return annotation (resolved from the modules
    that define result models), for tools whose models are written on other branches."""
    if spec.output is not None:
        return spec.output
    import importlib
    import pkgutil

    import dockerhub_cli
    import dockerhub_cli.service as service_module

    namespace: dict[str, Any] = dict(vars(service_module))
    for info in pkgutil.iter_modules(dockerhub_cli.__path__):
        if info.name.endswith("models"):
            module = importlib.import_module(f"dockerhub_cli.{info.name}")
            namespace.update({k: v for k, v in vars(module).items() if not k.startswith("_")})
    method = getattr(DockerHubService, spec.method)
    try:
        return typing.get_type_hints(method, globalns=namespace)["return"]
    except (NameError, KeyError) as exc:
        raise TypeError(
            f"cannot resolve the return model of DockerHubService.{spec.method} for "
            f"{spec.name}: {exc}; give the ToolSpec an explicit output="
        ) from exc


def make_tool(spec: ToolSpec, service: DockerHubService) -> Callable[..., Any]:
    """A function with the spec's parameters (minus the service) and return model."""
    call, adjust = spec.call, spec.adjust

    def body(**arguments: Any) -> Any:
        result = call(service, **arguments)
        return adjust(result, arguments) if adjust is not None else result

    hints = typing.get_type_hints(call, include_extras=True)
    parameters = [
        p.replace(annotation=hints[p.name])
        for p in list(inspect.signature(call).parameters.values())[1:]
    ]
    tool = _guard(spec.name, body)
    tool.__name__ = tool.__qualname__ = spec.name  # names the argument model in errors
    tool.__doc__ = spec.description
    del tool.__wrapped__  # type: ignore[attr-defined]  # the signature below is the truth
    tool.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=_output_model(spec)
    )
    return tool


def available_tools(specs: Sequence[ToolSpec] = TOOLS) -> list[ToolSpec]:
    """The specs whose service method exists in this build."""
    return [s for s in specs if hasattr(DockerHubService, s.method)]


def build_server(
    service: DockerHubService,
    *,
    specs: Sequence[ToolSpec] = TOOLS,
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING",
) -> MCPServer:
    """An MCPServer with one read-only tool per available spec, all sharing `service`."""
    server = MCPServer(
        SERVER_NAME,
        title="Docker Hub and OCI registry explorer",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level=log_level,
    )
    for spec in available_tools(specs):
        server.add_tool(
            make_tool(spec, service),
            name=spec.name,
            description=spec.description,
            annotations=READ_ONLY,
            structured_output=True,
        )
    return server


# -- serving -------------------------------------------------------------------------------


def health_report(service: DockerHubService) -> dict[str, Any]:
    """What `/health` answers: no network request is made."""
    report: dict[str, Any] = {
        "status": "ok",
        "server": SERVER_NAME,
        "version": __version__,
        "tools": [s.name for s in available_tools()],
        "cache": {
            "backend": type(service.session.cache).__name__,
            "path": str(service.settings.cache_path),
            "disabled": bool(service.session.settings.disabled),
            "offline": service.settings.offline,
        },
        "rate_limiter": service.limiter.snapshot(),
    }
    health = getattr(service, "health", None)
    if callable(health):
        try:
            detail = health()
        except Exception as exc:  # a health check must answer even when a part of it fails
            log.error("health(): %s: %s", type(exc).__name__, exc)
            report["status"] = "degraded"
        else:
            report["service"] = detail
            if isinstance(detail, dict) and detail.get("ok") is False:
                report["status"] = "degraded"
    return report


def configure_logging(debug: bool = False) -> None:
    """Logs to stderr only (stdout is the protocol), before MCPServer would install its own."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("dockerhub serve-mcp: %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    ours = logging.getLogger("dockerhub_cli")
    # `--debug` gave our logger its own stderr handler: with the root one, lines would double.
    ours.handlers[:] = [h for h in ours.handlers if not getattr(h, "_dockerhub", False)]
    log.setLevel(logging.DEBUG if debug else logging.INFO)  # our few start-up lines
    # urllib3 warns on every retry of an expected failure (which the tool error reports).
    logging.getLogger("urllib3").setLevel(logging.INFO if debug else logging.ERROR)
    if debug:
        # our own debug lines, not every library's
        for noisy in (
            "requests_cache",
            "httpcore",
            "httpx",
            "httpx2",
            "sse_starlette",
            "uvicorn.access",
            "mcp",
            "asyncio",
        ):
            logging.getLogger(noisy).setLevel(logging.INFO)


def serve(
    service: DockerHubService,
    *,
    transport: Literal["stdio", "http"] = "stdio",
    host: str = "127.0.0.1",
    port: int = 8000,
    debug: bool = False,
) -> None:
    """Serve until the client disconnects (stdio) or the process is interrupted (http)."""
    configure_logging(debug)
    server = build_server(service, log_level="DEBUG" if debug else "WARNING")
    if transport == "stdio":
        log.info("serving MCP on stdio (%d tools)", len(available_tools()))
        server.run()
        return

    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    @server.custom_route("/health", methods=["GET"])  # type: ignore[untyped-decorator]
    async def health(request: Request) -> JSONResponse:
        return JSONResponse(health_report(service))

    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "listening on %s: not loopback, so DNS-rebinding protection is off and anyone who "
            "can reach this port can use the server (and its registry credentials)",
            host,
        )
    app = server.streamable_http_app(host=host)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        log_level="debug" if debug else "warning",
        timeout_graceful_shutdown=3,
    )
    log.info("serving MCP on http://%s:%d/mcp (health: /health)", _url_host(host), port)
    uvicorn.Server(config).run()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
