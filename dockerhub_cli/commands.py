"""The command spec: every command of `dockerhub` and every MCP tool, declared once.

Each `Command` says what the command is called, where it sits in the help (`group`), what it
does (`help`, first line = summary), its parameters (`Param`: type, bounds, default, help, its
CLI form and its MCP name), the operation it calls, its result model, the data it reads (the
TTL names the result cache uses) and its MCP tool (name, description, annotations).

Everything else is derived from this table:

* the Typer commands (`cli/app.py`, built lazily: only the command being run is built) and
  the front that runs a well-formed command line without Typer (`cli/front.py`);
* the top-level `--help` (`help_text()`, printed without importing Typer);
* the MCP tools (`mcp/server.py`);
* result-cache eligibility (`result_cache.ELIGIBLE`);
* the man page, the shell completions and docs/commands.md (`scripts/gen_*.py`).

Adding a command is one entry here, one operation (a `DockerHubService` method or a function)
and one renderer in `render/`. Operations and renderers are named by strings
("module:attribute") and resolved only when the command runs, so this module imports nothing
but the standard library and `limits`: `result_cache` (the warm fast path) reads it before
Typer, Rich, requests or pydantic are imported.

Operation strings: "inspect" is the `DockerHubService` method of that name, called with the
command's operation parameters as keywords; "package.module:function" is a function called
with the run's `Settings` first (commands that need no registry, e.g. `cache info`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dockerhub_cli import limits

if TYPE_CHECKING:  # typing and collections.abc cost the warm path (result_cache) milliseconds
    from collections.abc import Iterator
    from typing import Literal

    ParamType = Literal["str", "int", "float", "bool", "list[str]"]
    RefKind = Literal["image", "image_tag", "repository", "hub_repository"]
# How an MCP tool turns a reference parameter into what the operation takes:
#   "image": an image reference, normalised;
#   "image_tag": an image reference given as `repository` plus a separate `tag` parameter
#                (the seed server's contract);
#   "repository": a repository (a tag or digest written into it is ignored);
#   "hub_repository": a Docker Hub repository name (namespace/name).


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class _Record:
    """A small immutable record (plain slots: a NamedTuple or a dataclass costs the result
    cache's warm path more to import than the whole rest of it)."""

    __slots__: tuple[str, ...] = ()

    def _asdict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def _replace(self, **changes: Any) -> Any:
        return type(self)(**{**self._asdict(), **changes})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _set(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._asdict() == other._asdict()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(repr(v) for v in self._asdict().values())))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._asdict().items())
        return f"{type(self).__name__}({fields})"


class Param(_Record):
    """One parameter of a command: its operation keyword, CLI form and MCP form.

    `name` is the operation's keyword (and the Python name). On the CLI it is an argument
    (`argument=True`) or an option (`flags`, e.g. ("--limit", "-n")); with neither it is not on
    the CLI. `mcp` is its MCP parameter name; None keeps it out of the MCP tool. Bounds and the
    default are the same for both front-ends (the parity test checks it).
    """

    __slots__ = (
        "name",
        "type",
        "default",
        "help",
        "argument",
        "flags",
        "metavar",
        "minimum",
        "maximum",
        "min_length",
        "max_length",
        "item_max_length",
        "choices",
        "aliases",
        "envvar",
        "mcp",
        "mcp_help",
        "ref",
        "operation",
        "pass_if_set",
        "mcp_aliases",
        "pattern",
        "pattern_help",
        "suggestions",
    )
    name: str
    type: ParamType
    default: Any
    help: str
    argument: bool
    flags: tuple[str, ...]
    metavar: str | None
    minimum: int | None
    maximum: int | None
    min_length: int | None
    max_length: int | None  # characters of a str; items of a list
    item_max_length: int | None  # characters of each item of a list
    choices: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...]  # CLI spellings accepted for a choice
    envvar: str | None
    mcp: str | None
    mcp_help: str | None  # the description for a model, when it differs from `help`
    ref: RefKind | None  # for MCP: how this reference parameter is normalised
    operation: bool  # passed to the operation (False: used by the front-end only)
    pass_if_set: bool  # passed to the operation only when given
    mcp_aliases: bool  # the MCP schema accepts the alias spellings too
    pattern: str | None  # a regular expression the value must match
    pattern_help: str | None  # what `pattern` means, for error messages
    suggestions: tuple[str, ...]  # offered by shell completion; any value is accepted

    def __init__(
        self,
        name: str,
        type: ParamType = "str",
        default: Any = None,
        help: str = "",
        argument: bool = False,
        flags: tuple[str, ...] = (),
        metavar: str | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        item_max_length: int | None = None,
        choices: tuple[str, ...] = (),
        aliases: tuple[tuple[str, str], ...] = (),
        envvar: str | None = None,
        mcp: str | None = None,
        mcp_help: str | None = None,
        ref: RefKind | None = None,
        operation: bool = True,
        pass_if_set: bool = False,
        mcp_aliases: bool = True,
        pattern: str | None = None,
        pattern_help: str | None = None,
        suggestions: tuple[str, ...] = (),
    ) -> None:
        self._set(
            {
                "name": name,
                "type": type,
                "default": default,
                "help": help,
                "argument": argument,
                "flags": flags,
                "metavar": metavar,
                "minimum": minimum,
                "maximum": maximum,
                "min_length": min_length,
                "max_length": max_length,
                "item_max_length": item_max_length,
                "choices": choices,
                "aliases": aliases,
                "envvar": envvar,
                "mcp": mcp,
                "mcp_help": mcp_help,
                "ref": ref,
                "operation": operation,
                "pass_if_set": pass_if_set,
                "mcp_aliases": mcp_aliases,
                "pattern": pattern,
                "pattern_help": pattern_help,
                "suggestions": suggestions,
            }
        )

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def on_cli(self) -> bool:
        return self.argument or bool(self.flags)

    @property
    def flag(self) -> str:
        """How the CLI's words name this parameter: "--platform", or "IMAGE" for an argument."""
        if self.flags:
            return self.flags[0]
        return self.metavar or self.name.upper()

    @property
    def description(self) -> str:
        return self.mcp_help or self.help

    @property
    def accepted(self) -> tuple[str, ...]:
        """The choices and their alias spellings (what a front-end accepts)."""
        return self.choices + tuple(a for a, _ in self.aliases if a not in self.choices)

    @property
    def mcp_accepted(self) -> tuple[str, ...]:
        return self.accepted if self.mcp_aliases else self.choices

    def canonical(self, value: str) -> str | None:
        """The choice `value` means (case and aliases folded), or None when it is not one."""
        chosen = value.strip().lower()
        chosen = dict(self.aliases).get(chosen, chosen)
        return chosen if chosen in self.choices else None

    def replace(self, **changes: Any) -> Param:
        new: Param = self._replace(**changes)
        return new


_READ_ONLY = {
    "read_only_hint": True,
    "destructive_hint": False,
    "idempotent_hint": True,
    "open_world_hint": True,
}


class McpTool(_Record):
    """The MCP face of a command. `adjust` ("module:function") may bound a long result for a
    model (same model, shorter lists, a note saying how to get the rest)."""

    __slots__ = (
        "name",
        "description",
        "adjust",
        "on_error",
        "annotations",
    )
    name: str
    description: str
    adjust: str | None
    on_error: str | None
    annotations: dict[str, bool]  # shared, never mutated

    def __init__(
        self,
        name: str,
        description: str,
        adjust: str | None = None,
        on_error: str | None = None,
        annotations: dict[str, bool] = _READ_ONLY,
    ) -> None:
        self._set(
            {
                "name": name,
                "description": description,
                "adjust": adjust,
                "on_error": on_error,
                "annotations": annotations,
            }
        )


class Command(_Record):
    """One command. `name` may be a path ("cache info") for a command of a sub-group."""

    __slots__ = (
        "name",
        "group",
        "help",
        "params",
        "operation",
        "result",
        "render",
        "reads",
        "mcp",
        "cli",
        "cli_body",
        "progress",
        "warn_notes",
        "output",
        "render_flag",
        "cli_exit",
        "mcp_call",
        "json_help",
    )
    name: str
    group: str
    help: str
    params: tuple[Param, ...]
    operation: str | None
    result: str | None  # "module:Model", the --json / MCP output model
    render: str | None  # "module:function(model, console)"
    reads: tuple[str, ...]  # settings.ttls names; non-empty: the result cache may save it
    mcp: McpTool | None
    cli: bool  # False: an MCP tool with no CLI command
    cli_body: str | None  # "module:function(**params)" instead of the generic body
    progress: str | None  # spinner text, formatted with the parameters
    warn_notes: bool | str  # notes as warnings: True (not with --json), "always"
    output: bool  # --json/--format/--quiet (False: no result model is printed)
    render_flag: tuple[str, str] | None  # (flag param, renderer) used when that flag is set
    cli_exit: str | None  # "module:function(result) -> int": the exit code
    mcp_call: str | None  # "module:function(service, **args)": the tool body
    json_help: str | None  # the --json help, when it means more

    def __init__(
        self,
        name: str,
        group: str,
        help: str,
        params: tuple[Param, ...] = (),
        operation: str | None = None,
        result: str | None = None,
        render: str | None = None,
        reads: tuple[str, ...] = (),
        mcp: McpTool | None = None,
        cli: bool = True,
        cli_body: str | None = None,
        progress: str | None = None,
        warn_notes: bool | str = False,
        output: bool = True,
        render_flag: tuple[str, str] | None = None,
        cli_exit: str | None = None,
        mcp_call: str | None = None,
        json_help: str | None = None,
    ) -> None:
        self._set(
            {
                "name": name,
                "group": group,
                "help": help,
                "params": params,
                "operation": operation,
                "result": result,
                "render": render,
                "reads": reads,
                "mcp": mcp,
                "cli": cli,
                "cli_body": cli_body,
                "progress": progress,
                "warn_notes": warn_notes,
                "output": output,
                "render_flag": render_flag,
                "cli_exit": cli_exit,
                "mcp_call": mcp_call,
                "json_help": json_help,
            }
        )

    @property
    def summary(self) -> str:
        return self.help.strip().split("\n\n", 1)[0].replace("\n", " ").strip()

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.name.split())

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no parameter {name!r}")

    def cli_params(self) -> list[Param]:
        return [p for p in self.params if p.on_cli]

    def mcp_params(self) -> list[Param]:
        """The MCP tool's parameters in schema order (`tag` follows an image_tag reference)."""
        out: list[Param] = []
        for p in self.params:
            if p.mcp is None:
                continue
            out.append(p)
            if p.ref == "image_tag":
                out.append(TAG)
        return out


def resolve(target: str) -> Any:
    """The object a "package.module:attribute" string names (imported now)."""
    import importlib

    module, _, attribute = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


# -- shared parameters -------------------------------------------------------------------------

IMAGE_HELP = "Image: nginx, nginx:1.27, ghcr.io/org/app@sha256:..., localhost:5000/app:1."
LOCAL_IMAGE_HELP = (
    "Image: nginx, nginx:1.27, ghcr.io/org/app@sha256:..., localhost:5000/app:1, or a local "
    "source: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF]."
)
IMAGE = Param(
    "image",
    default=REQUIRED,
    help=LOCAL_IMAGE_HELP,
    argument=True,
    metavar="IMAGE",
    min_length=1,
    max_length=limits.MAX_REFERENCE_LENGTH,
    mcp="repository",
    mcp_help="Image reference (see instructions).",
    ref="image_tag",
)
TAG = Param(
    "tag",
    default="latest",
    help='Tag or digest, a string ("1.0").',
    min_length=1,
    max_length=limits.MAX_TAG_LENGTH,
    mcp="tag",
    operation=False,
)
PLATFORM = Param(
    "platform",
    help="Platform of a multi-platform image (default linux/amd64 or $DOCKERHUB_PLATFORM).",
    flags=("--platform", "-p"),
    metavar="OS/ARCH[/VARIANT]",
    min_length=1,
    max_length=limits.MAX_PLATFORM_LENGTH,
    mcp="platform",
    mcp_help="os/arch[/variant], e.g. linux/arm64.",
    suggestions=limits.COMMON_PLATFORMS,  # completed by the shell; any platform is accepted
)
LIMIT = Param(
    "limit",
    type="int",
    default=limits.DEFAULT_PAGE_SIZE,
    help=f"Results per page (1-{limits.MAX_LIMIT}).",
    flags=("--limit", "-n"),
    minimum=1,
    maximum=limits.MAX_LIMIT,
    mcp="limit",
)
PAGE = Param(
    "page",
    type="int",
    default=1,
    help="Page number, from 1.",
    flags=("--page",),
    minimum=1,
    maximum=limits.MAX_PAGE,
    mcp="page",
)
REGISTRY = Param(
    "registry",
    help=(
        "Registry host (ghcr.io, localhost:5000) or a config-file registry name; "
        "default Docker Hub."
    ),
    argument=True,
    min_length=1,
    max_length=limits.MAX_REGISTRY_LENGTH,
)

# Files commands: the CLI takes a size with units, a tool a byte count.
MAX_DOWNLOAD_CLI = Param(
    "max_download",
    help="Stop before downloading more than this (e.g. 500MB); cached layers cost nothing.",
    flags=("--max-download",),
    metavar="SIZE",
)
MAX_DOWNLOAD_MCP = Param(
    "max_download",
    "int",
    limits.MCP_MAX_DOWNLOAD,
    "Layer bytes to download at most (cached once read).",
    minimum=1,
    maximum=limits.MAX_DOWNLOAD_BYTES,
    mcp="max_download",
)
FILE_LIMIT = LIMIT.replace(
    default=limits.DEFAULT_FILE_PAGE_SIZE,
    maximum=limits.MAX_FILE_PAGE_SIZE,
    flags=(),
    operation=False,
)

# Options every command accepts (before or after its name), and the output options of every
# command that prints a result model. The CLI builds them from here; the man page documents
# them once.
GLOBAL_OPTIONS: tuple[Param, ...] = (
    Param("no_cache", "bool", False, "Read no cache; what is fetched refreshes the caches.",
          flags=("--no-cache",)),
    Param("offline", "bool", False, "Answer only from the cache; fail clearly on a miss.",
          flags=("--offline",)),
    Param("insecure", "bool", False,
          "Allow plain HTTP and unverified TLS for every registry host.", flags=("--insecure",)),
    Param("debug", "bool", False, "Log requests to stderr and show tracebacks on errors.",
          flags=("--debug",)),
    Param(
        "cache_backend",
        help="Cache store: sqlite (default, a local file) or redis://HOST:PORT/DB, a shared "
        "Redis (env DOCKERHUB_CACHE_BACKEND).",
        flags=("--cache-backend",),
        metavar="BACKEND",
    ),
    Param("stats", "bool", False,
          "Say what the command cost on stderr: requests by kind, Docker Hub pulls and free "
          "HEADs, cache hits (with --json, also a `cost` object).", flags=("--stats",)),
    Param("max_pulls", "int", None,
          "Stop before spending more than N Docker Hub pulls (manifest GETs; HEADs and cached "
          "answers are free): exit 5.", flags=("--max-pulls",), metavar="N", minimum=0),
)  # fmt: skip
OUTPUT_OPTIONS: tuple[Param, ...] = (
    Param(
        "format_template",
        help="Print each row through a template of field names, e.g. '{name}\\t{digest}' "
        "or '{config.user}' (\\t and \\n are escapes; an unknown field lists the valid ones).",
        flags=("--format",),
        metavar="TEMPLATE",
    ),
    Param(
        "quiet",
        "bool",
        False,
        "Print only the data (e.g. names), no headers or footers.",
        flags=("--quiet", "-q"),
    ),
    Param(
        "json_output",
        "bool",
        False,
        "Print JSON (stable field names) instead of a table.",
        flags=("--json",),
    ),
)

APP_HELP = (
    "Explore Docker Hub and any OCI registry: search, tags, image internals, and an MCP server."
)
APP_EPILOG = (
    "Exit codes: 0 ok, 1 unexpected, 2 usage/invalid input, 3 not found, 4 auth failed,\n"
    "5 rate limited, 6 network/timeout/upstream error, 7 not an image, 8 check failed\n"
    "(also pin --check, watch --check), 9 local file problem (config.json, cache directory,\n"
    "credential helper), 10-12 verify (invalid, unsigned, unverifiable),\n"
    "130 interrupted."
)
# Help order: groups in this order, commands in spec order within a group.
GROUPS: tuple[str, ...] = (
    "explore",
    "supply chain",
    "files",
    "pinning",
    "account",
    "server",
    "maintenance",
)
# Sub-command groups: name -> help.
SUBGROUPS: dict[str, tuple[str, str]] = {
    "cache": ("maintenance", "Inspect or empty the HTTP cache."),
    "config": (
        "maintenance",
        "Show the effective configuration (flag > env > config file > default).",
    ),
}

_IMG = "dockerhub_cli.models.images"
_LAYERS = "dockerhub_cli.models.layers"
_SUP = "dockerhub_cli.models.supply"
_CMP = "dockerhub_cli.models.compare"
_CORE = "dockerhub_cli.models.core"
_BOUNDS = "dockerhub_cli.mcp.bounds"
_FILES = "dockerhub_cli.mcp.files_tools"
_PIN = "dockerhub_cli.mcp.pin_tools"
_PIN_CLI = "dockerhub_cli.cli.pin_commands"
_PINNING = "dockerhub_cli.models.pinning"
KIND = Param(
    "kind",
    help=f"Read every FILE as this kind: {', '.join(limits.FILE_KINDS[:-1])} or "
    f"{limits.FILE_KINDS[-1]} (default: by name, then by content).",
    flags=("--kind",),
    metavar="KIND",
    choices=limits.FILE_KINDS,  # validated, and completed by the shell
)
NO_SBOM_VULNS = "no SBOM attestation, so no vulnerability data — this is NOT a clean result"


def _row_pages(what: str, mcp_default: int) -> tuple[Param, ...]:
    """`limit` and `page` of a result that arrives whole (an SBOM's packages, vulnerabilities),
    paged by the service (ops/paging.py): the CLI shows every row unless --limit is given; an
    MCP tool answers a page of `mcp_default` rows. One operation keyword each, so the two
    front-ends page the same way; a CLI and an MCP entry because their defaults differ."""
    return (
        LIMIT.replace(
            default=None,
            help=f"{what} per page (1-{limits.MAX_LIMIT}; default: all of them).",
            mcp=None,
            pass_if_set=True,
        ),
        PAGE.replace(help="Page number, from 1 (with --limit).", mcp=None),
        LIMIT.replace(
            default=mcp_default,
            help=f"{what} per page (1-{limits.MAX_LIMIT}).",
            flags=(),
        ),
        PAGE.replace(flags=()),
    )


def _filter_values(name: str, flag: str, metavar: str, help: str, mcp_help: str) -> Param:
    """A repeatable search filter (categories, architectures, operating systems)."""
    return Param(
        name,
        "list[str]",
        None,
        help,
        flags=(flag,),
        metavar=metavar,
        max_length=limits.MAX_SEARCH_FILTER_VALUES,
        item_max_length=limits.MAX_FILTER_VALUE_LENGTH,
        mcp=name,
        mcp_help=mcp_help,
        pass_if_set=True,
    )


def _image_command(
    name: str,
    help: str,
    *,
    operation: str,
    result: str,
    render: str,
    progress: str,
    mcp: McpTool | None,
    extra: tuple[Param, ...] = (),
    reads: tuple[str, ...] = ("manifest_by_tag",),
    group: str = "explore",
    warn_notes: bool | str = False,
    platform: Param = PLATFORM,
    image: Param = IMAGE,
) -> Command:
    return Command(
        name,
        group,
        help,
        params=(image, platform, *extra),
        operation=operation,
        result=result,
        render=render,
        reads=reads,
        mcp=mcp,
        progress=progress,
        warn_notes=warn_notes,
    )


COMMANDS: tuple[Command, ...] = (
    # -- explore --------------------------------------------------------------------------------
    Command(
        "search",
        "explore",
        "Search Docker Hub like its web site: badges, categories, architectures, sort.\n\n"
        "When the site's search API is unavailable the classic search answers, and a warning "
        "names\nevery filter it could not apply.\n\n"
        "Example: dockerhub search postgres --badge official --arch arm64 --sort pulls",
        params=(
            Param(
                "query",
                default=REQUIRED,
                help=f"What to look for, e.g. nginx (max {limits.MAX_QUERY_LENGTH} characters).",
                argument=True,
                min_length=1,
                max_length=limits.MAX_QUERY_LENGTH,
                mcp="query",
                mcp_help="Search words, e.g. nginx or 'postgres backup'.",
            ),
            LIMIT,
            PAGE,
            Param(
                "official",
                "bool",
                False,
                "Only Docker Official Images (= --badge official).",
                flags=("--official",),
                mcp="is_official",
                mcp_help="Only Docker Official Images.",
            ),
            Param(
                "automated",
                "bool",
                False,
                "Only automated builds (the classic search only).",
                flags=("--automated",),
                mcp="is_automated",
                mcp_help="Only automated builds (only the classic search knows them).",
            ),
            Param(
                "badges",
                "list[str]",
                None,
                "Only trusted content with this badge (repeatable: any of them).",
                flags=("--badge",),
                metavar="official|verified|open-source",
                max_length=len(limits.SEARCH_BADGES),
                choices=limits.SEARCH_BADGES,
                aliases=(
                    ("verified", "verified_publisher"),
                    ("open-source", "open_source"),
                    ("verified-publisher", "verified_publisher"),
                ),
                mcp="badges",
                mcp_help="Only trusted content with any of these badges.",
                pass_if_set=True,
            ),
            _filter_values(
                "categories",
                "--category",
                "SLUG",
                "Only this category, e.g. databases or web-servers (repeatable).",
                "Only these category slugs, e.g. ['databases', 'web-servers'].",
            ),
            _filter_values(
                "architectures",
                "--arch",
                "ARCH",
                "Only images for this CPU, e.g. arm64 (repeatable).",
                "Only images for these CPUs, e.g. ['arm64'].",
            ),
            _filter_values(
                "operating_systems",
                "--os",
                "OS",
                "Only images for this OS, e.g. windows (repeatable).",
                "Only images for these OSes, e.g. ['linux', 'windows'].",
            ),
            Param(
                "sort",
                help="pulls or updated (default: best match).",
                flags=("--sort",),
                choices=limits.SEARCH_SORTS,
                aliases=(("pull_count", "pulls"), ("updated_at", "updated")),  # docker/hub-mcp's
                mcp="sort",
                mcp_help="pulls or updated; default: best match. Use only when asked.",
                pass_if_set=True,
            ),
            Param(
                "order",
                help="desc (default with --sort) or asc.",
                flags=("--order",),
                choices=limits.SEARCH_ORDERS,
                mcp="order",
                mcp_help="desc (default with sort) or asc.",
                pass_if_set=True,
            ),
            Param(
                "offset",
                "int",
                None,
                "Start at this result (0-based; overrides --page).",
                flags=("--offset",),
                minimum=0,
                maximum=limits.MAX_OFFSET,
                mcp="offset",
                mcp_help="Start at this result (0-based); overrides page.",
                pass_if_set=True,
            ),
        ),
        operation="search",
        result=f"{_CORE}:SearchResults",
        render="dockerhub_cli.render.hub:search_results",
        reads=("search",),
        mcp=McpTool(
            "docker_search_images",
            "Search Docker Hub repositories by words, filtered by badge, category, architecture "
            "and OS: names, descriptions, stars, pulls, badge, publisher, a page at a time "
            "(`count` is the total).",
        ),
        progress="Searching Docker Hub for {query!r}",
        warn_notes=True,
    ),
    Command(
        "tags",
        "explore",
        "List the tags of a repository (Docker Hub: with digest, size, platforms).\n\n"
        "Example: dockerhub tags nginx --filter '1.27*' --sort semver",
        params=(
            Param(
                "repository",
                default=REQUIRED,
                help="Repository: nginx, bitnami/redis, ghcr.io/org/app, localhost:5000/app.",
                argument=True,
                min_length=1,
                max_length=limits.MAX_REFERENCE_LENGTH,
                mcp="repository",
                mcp_help=IMAGE.mcp_help,
                ref="repository",
            ),
            LIMIT,
            PAGE,
            Param(
                "all_tags",
                "bool",
                False,
                "List every tag (follows every page).",
                flags=("--all",),
            ),
            Param(
                "pattern",
                help="Only tags matching GLOB, e.g. '1.2*-alpine'.",
                flags=("--filter",),
                metavar="GLOB",
                min_length=1,
                max_length=limits.MAX_PATTERN_LENGTH,
                mcp="pattern",
                mcp_help="Only tags matching this glob, e.g. '1.27*' or '*-alpine'.",
            ),
            Param(
                "sort",
                help="updated (newest first; Docker Hub's default), name (A-Z; other "
                "registries' default) or semver (newest version first).",
                flags=("--sort",),
                choices=limits.TAG_SORTS,
                mcp="sort",
            ),
            Param(
                "same_as",
                help="Only the tags that are the same image as TAG (by index digest, platform "
                "manifest digests or config digests), e.g. --same-as latest. With --filter, "
                "only matching tags are compared; with --all, every tag (not only the most "
                "recent); --limit, --page and --sort do not apply.",
                flags=("--same-as",),
                metavar="TAG",
                min_length=1,
                max_length=limits.MAX_TAG_LENGTH,
                operation=False,
            ),
        ),
        operation="tags",
        result="dockerhub_cli.models.tags:TagList",
        render="dockerhub_cli.render.hub:tag_list",
        reads=("tags", "repository"),
        mcp=McpTool(
            "docker_list_tags",
            "List the tags of a repository on any registry, a page at a time (Docker Hub adds "
            "digest, size, platforms and update time).",
            adjust=f"{_BOUNDS}:more_tags_note",
        ),
        progress="Listing tags of {repository}",
        warn_notes=True,
        cli_body=f"{_PIN_CLI}:tags",  # the generic body, or with --same-as: same_as
    ),
    _image_command(
        "inspect",
        "Digest, platforms, size, config (env, cmd, ports, labels...) and Docker Hub facts.\n\n"
        "Example: dockerhub inspect nginx:1.27 --platform linux/arm64",
        operation="inspect",
        result=f"{_IMG}:ImageInspection",
        render="dockerhub_cli.render.images:inspection",
        progress="Inspecting {image}",
        reads=("manifest_by_tag", "repository"),
        warn_notes=True,
        mcp=McpTool(
            "docker_get_image_details",
            "Details of one image on any registry: digest, platforms, compressed size, "
            "creation time, config (env, entrypoint, cmd, ports, labels, user), base image, "
            "and on Docker Hub the repository facts.",
            adjust=f"{_BOUNDS}:bound_inspection",
        ),
    ),
    _image_command(
        "layers",
        "Each layer with its compressed size, share, and the build step that made it.\n\n"
        "Example: dockerhub layers python:3.12-slim",
        operation="layers",
        result=f"{_LAYERS}:LayerReport",
        render="dockerhub_cli.render.images:layers",
        progress="Reading the layers of {image}",
        mcp=McpTool(
            "docker_analyze_layers",
            "The layers of an image: compressed size, share of the total, the build step that "
            "made each one, and insights (largest layers, size added on top of the base "
            "image).",
        ),
    ),
    _image_command(
        "history",
        "The build steps recorded in the image, aligned to its layers.\n\n"
        "Example: dockerhub history nginx",
        operation="history",
        result=f"{_LAYERS}:HistoryReport",
        render="dockerhub_cli.render.images:history",
        progress="Reading the history of {image}",
        mcp=McpTool(
            "docker_get_image_history",
            "The build history of an image: each recorded step (command, time, comment), "
            "whether it made a layer, and that layer's size.",
        ),
    ),
    _image_command(
        "dockerfile",
        "A Dockerfile reconstructed from the image history (not the original file).\n\n"
        "Example: dockerhub dockerfile redis:7 > Dockerfile.reconstructed",
        operation="dockerfile",
        result=f"{_LAYERS}:DockerfileReport",
        render="dockerhub_cli.render.images:dockerfile",
        progress="Reconstructing the Dockerfile of {image}",
        mcp=McpTool(
            "docker_get_dockerfile",
            "A Dockerfile reconstructed from the image history (not the original file: COPY "
            "sources, build args and multi-stage steps are not recorded). When the image "
            "carries SLSA provenance, `original` says where the real Dockerfile lives.",
        ),
    ),
    _image_command(
        "size",
        "Download size of a pull; with --have, only the layers you do not have yet.\n\n"
        "Example: dockerhub size python:3.12 --have python:3.12-slim",
        operation="pull_size",
        result=f"{_LAYERS}:PullSizeReport",
        render="dockerhub_cli.render.images:pull_size",
        progress="Sizing {image}",
        extra=(
            Param(
                "have",
                "list[str]",
                None,
                "An image you already have (repeatable).",
                flags=("--have",),
                metavar="IMAGE",
                max_length=limits.MAX_HAVE_IMAGES,
                item_max_length=limits.MAX_REFERENCE_LENGTH,
                mcp="have",
                mcp_help=(
                    "Images already present locally (e.g. ['python:3.12-slim']): their layers "
                    "are not downloaded again."
                ),
            ),
        ),
        mcp=McpTool(
            "docker_estimate_pull_size",
            "How many bytes a `docker pull` downloads (compressed layers), optionally minus "
            "the layers of images you already have.",
        ),
    ),
    _image_command(
        "manifest",
        "The raw manifest or index (with --platform: that platform's manifest).\n\n"
        "Example: dockerhub manifest nginx --platform linux/arm64 --json",
        operation="manifest",
        result=f"{_LAYERS}:ManifestReport",
        render="dockerhub_cli.render.images:manifest",
        progress="Fetching the manifest of {image}",
        warn_notes="always",  # e.g. "schema 1, shown raw": the JSON alone would hide it
        mcp=McpTool(
            "docker_get_manifest",
            "The manifest JSON as the registry serves it, with its digest, media type and "
            "size: for a multi-platform tag the index itself unless `platform` is given (then "
            "that platform's image manifest and index_digest).",
        ),
    ),
    Command(
        "stats",
        "explore",
        "Docker Hub repository statistics: stars, pulls, last update, tag count, description.",
        params=(
            Param(
                "repository",
                default=REQUIRED,
                help="Docker Hub repository, e.g. nginx or bitnami/redis.",
                min_length=1,
                max_length=limits.MAX_REFERENCE_LENGTH,
                mcp="repository",
                mcp_help=IMAGE.mcp_help,
                ref="hub_repository",
            ),
        ),
        operation="repository_info",
        result=f"{_IMG}:RepositoryInfo",
        cli=False,
        mcp=McpTool(
            "docker_get_stats",
            "Docker Hub repository statistics: stars, pulls, last update, tag count, "
            "description (README shortened).",
            adjust=f"{_BOUNDS}:bound_repository_info",
        ),
    ),
    Command(
        "compare",
        "explore",
        "Two images side by side: shared base layers, size delta, config and build-step "
        "changes.\n\nExample: dockerhub compare nginx:1.26 nginx:1.27 --platform linux/arm64",
        params=(
            IMAGE.replace(
                name="image1",
                help=IMAGE_HELP,
                metavar="IMAGE1",
                mcp="image1",
                ref="image",
                mcp_help="First (left) image, e.g. nginx:1.26.",
            ),
            IMAGE.replace(
                name="image2",
                metavar="IMAGE2",
                help="The image compared to IMAGE1.",
                mcp="image2",
                ref="image",
                mcp_help="Second (right) image, e.g. nginx:1.27.",
            ),
            PLATFORM,
        ),
        operation="compare",
        result=f"{_CMP}:Comparison",
        render="dockerhub_cli.render.compare:comparison",
        reads=("manifest_by_tag", "repository"),
        mcp=McpTool(
            "docker_compare_images",
            "Compare two images (any registries, one platform each): shared base layers, "
            "layers only on one side, the bytes a pull of image2 adds when image1 is present, "
            "config, build-step and platform differences. `summary` is one line for people.",
            adjust=f"{_BOUNDS}:bound_comparison",
        ),
        progress="Comparing {image1} with {image2}",
        warn_notes=True,
    ),
    Command(
        "repos",
        "explore",
        "List the repositories of a Docker Hub user or organisation.\n\n"
        "Example: dockerhub repos bitnami --sort pulls --limit 10",
        params=(
            Param(
                "namespace",
                default=REQUIRED,
                help="A Docker Hub user or organisation, e.g. bitnami or library.",
                argument=True,
                min_length=1,
                max_length=limits.MAX_NAMESPACE_LENGTH,
                mcp="namespace",
                mcp_help="Docker Hub user or organisation, e.g. bitnami or library (the "
                "official images).",
            ),
            LIMIT,
            PAGE,
            Param(
                "all_repos",
                "bool",
                False,
                "List every repository (follows every page).",
                flags=("--all",),
            ),
            Param(
                "pattern",
                help="Only names matching GLOB, e.g. 'redis*'.",
                flags=("--filter",),
                metavar="GLOB",
                min_length=1,
                max_length=limits.MAX_PATTERN_LENGTH,
                mcp="pattern",
                mcp_help="Only names matching this glob, e.g. 'redis*'.",
            ),
            Param(
                "content_type",
                help="Only repositories holding this content: image, helm, wasm, plugin, model...",
                flags=("--type",),
                metavar="TYPE",
                min_length=1,
                max_length=limits.MAX_CONTENT_TYPE_LENGTH,
                mcp="content_type",
                mcp_help="Only repositories holding this content: image, helm, wasm, plugin, "
                "model, ...",
            ),
            Param(
                "sort",
                default="updated",
                help="updated (newest first, the default), pulls, stars (most first) or name "
                "(A-Z); the Hub sorts all but stars.",
                flags=("--sort",),
                choices=limits.REPO_SORTS,
                mcp="sort",
                mcp_help="updated (newest first), pulls or stars (most first), name (A-Z).",
            ),
        ),
        operation="repositories",
        result=f"{_CORE}:RepositoryList",
        render="dockerhub_cli.render.catalog:repository_list",
        reads=("repository",),
        mcp=McpTool(
            "docker_list_repositories",
            "List the repositories of a Docker Hub user or organisation, a page at a time, "
            "sorted by updated, pulls, stars or name.",
            adjust=f"{_BOUNDS}:more_repositories_note",
        ),
        progress="Listing repositories of {namespace}",
        warn_notes=True,
    ),
    Command(
        "orgs",
        "account",
        "List the organisations of the signed-in Docker Hub account (exit 4 when "
        "anonymous).\n\nExample: dockerhub orgs --json",
        operation="organisations",
        result=f"{_CORE}:OrganisationList",
        render="dockerhub_cli.render.catalog:organisation_list",
        mcp=McpTool(
            "docker_list_namespaces",
            "List the organisations (namespaces) of the signed-in Docker Hub account, with "
            "your role and teams; your personal namespace is not among them. Needs "
            "credentials (anonymous: an authentication error, never an empty list).",
        ),
        progress="Listing your organisations",
        warn_notes=True,
    ),
    Command(
        "readme",
        "explore",
        "Show a Docker Hub repository's README (its full description), rendered as "
        "Markdown.\n\nExample: dockerhub readme nginx --raw",
        params=(
            Param(
                "repository",
                default=REQUIRED,
                help="Docker Hub repository, e.g. nginx.",
                argument=True,
                min_length=1,
                max_length=limits.MAX_REFERENCE_LENGTH,
                mcp="repository",
                mcp_help=IMAGE.mcp_help,
                ref="hub_repository",
            ),
            Param(
                "raw",
                "bool",
                False,
                "Print the Markdown itself instead of rendering it.",
                flags=("--raw",),
                operation=False,
            ),
            Param(
                "max_chars",
                "int",
                limits.DEFAULT_README_TOOL_CHARS,
                f"Characters of the README to return ({limits.MIN_README_TOOL_CHARS}-"
                f"{limits.MAX_README_TOOL_CHARS}).",
                minimum=limits.MIN_README_TOOL_CHARS,
                maximum=limits.MAX_README_TOOL_CHARS,
                mcp="max_chars",
                operation=False,
            ),
            Param(
                "offset",
                "int",
                0,
                "Start at this character (to read the rest).",
                minimum=0,
                maximum=limits.MAX_README_OFFSET,
                mcp="offset",
                operation=False,
            ),
        ),
        operation="readme",
        result=f"{_CORE}:Readme",
        render="dockerhub_cli.render.catalog:rendered_readme",
        render_flag=("raw", "dockerhub_cli.render.catalog:raw_readme"),
        reads=("repository",),
        mcp=McpTool(
            "docker_get_readme",
            "The README (full description, Markdown) of a Docker Hub repository, at most "
            "max_chars characters from offset.",
            adjust=f"{_BOUNDS}:bound_readme",
        ),
        progress="Fetching the README of {repository}",
        warn_notes=True,
    ),
    # -- supply chain ---------------------------------------------------------------------------
    _image_command(
        "sbom",
        "Packages of the image from its SPDX SBOM attestation: name, version, purl, license.\n\n"
        "Exits 3 when the image carries no SBOM (build with `docker buildx build "
        "--sbom=true`).\n\n"
        "Example: dockerhub sbom docker/dockerfile:1 --platform linux/arm64 --json",
        group="supply chain",
        operation="sbom",
        result=f"{_SUP}:SbomReport",
        render="dockerhub_cli.render.supply:sbom",
        progress="Reading the SBOM of {image}",
        extra=_row_pages("Packages", limits.DEFAULT_SBOM_PAGE_SIZE),
        reads=("manifest_by_tag", "tags"),  # attached documents: the tag list ages too
        mcp=McpTool(
            "docker_get_sbom",
            "The packages of an image from its SPDX SBOM attestation, if the publisher "
            "attached one (BuildKit --sbom=true); an error otherwise. package_count and "
            "counts_by_type cover the whole SBOM; `packages` is paginated.",
        ),
    ),
    _image_command(
        "provenance",
        "How the image was built, from its SLSA provenance attestation (v0.2 or v1).\n\n"
        "Builder, build time, source repository and commit, Dockerfile path, build args and "
        "base\nimages. Exits 3 when the image carries no provenance.\n\n"
        "Example: dockerhub provenance docker/dockerfile:1",
        group="supply chain",
        operation="provenance",
        result=f"{_SUP}:ProvenanceReport",
        render="dockerhub_cli.render.supply:provenance",
        progress="Reading the provenance of {image}",
        reads=("manifest_by_tag", "tags"),  # attached documents: the tag list ages too
        mcp=McpTool(
            "docker_get_provenance",
            "How an image was built, from its SLSA provenance attestation (v0.2 or v1), if the "
            "publisher attached one: builder, source and commit, Dockerfile location, build "
            "args, materials; an error otherwise.",
        ),
    ),
    _image_command(
        "vulns",
        "Known vulnerabilities of the packages in the image's SBOM, from OSV (osv.dev).\n\n"
        'Needs an SBOM attestation (exits 3 without one: no SBOM is not "no '
        'vulnerabilities").\nSeverity comes from CVSS v3 vectors, else the advisory '
        "database's rating.\n\n"
        "Example: dockerhub vulns docker/dockerfile:1 --severity high",
        group="supply chain",
        operation="vulns",
        result=f"{_SUP}:VulnerabilityReport",
        render="dockerhub_cli.render.supply:vulns",
        progress="Checking the SBOM of {image} against OSV",
        reads=(),
        extra=(
            Param(
                "severity",
                help="Show only this level and above: critical, high, medium, low, unknown.",
                flags=("--severity",),
                metavar="LEVEL",
                choices=limits.SEVERITY_LEVELS,
                aliases=(("moderate", "medium"),),  # OSV's word; the CLI accepts it
                mcp_aliases=False,
                mcp="severity",
                mcp_help=(
                    "Only findings of this severity or worse (critical > high > medium > low > "
                    "unknown); `summary` still counts all of them."
                ),
            ),
            *_row_pages("Vulnerabilities", limits.DEFAULT_VULN_PAGE_SIZE),
        ),
        mcp=McpTool(
            "docker_get_vulnerabilities",
            "Known vulnerabilities (OSV) of the packages in the image's SBOM attestation, "
            "severest first, with fixed versions. An image without one is an error: "
            f"{NO_SBOM_VULNS} (docker build --sbom=true adds one). A result states "
            "packages_scanned and `limitations` (no OSV match is not proof of safety); "
            "`summary` counts every finding; `vulnerabilities` is paginated.",
            on_error=f"{_BOUNDS}:no_sbom_error",
        ),
    ),
    _image_command(
        "referrers",
        "Everything attached to the image and to each platform image, as a tree.\n\n"
        "Signatures, SBOMs, attestations and VEX documents, from the OCI referrers API, its\n"
        "sha256-<hex> tag fallback, cosign's .sig/.att/.sbom tags and BuildKit's in-index\n"
        "attestations, merged. Whether the registry has the referrers API is probed once and\n"
        "remembered.\n\nExample: dockerhub referrers ghcr.io/org/app:1.0 --json",
        group="supply chain",
        operation="referrers",
        result=f"{_SUP}:ReferrersReport",
        render="dockerhub_cli.render.referrers:referrers",
        progress="Looking for artifacts attached to {image}",
        reads=(),
        platform=PLATFORM.replace(
            mcp_help="Only this platform image (os/arch[/variant]); default: every one."
        ),
        extra=(
            Param(
                "artifact_type",
                help="Only artifacts of this type, e.g. "
                "application/vnd.dev.cosign.artifact.sig.v1+json.",
                flags=("--type",),
                metavar="ARTIFACT_TYPE",
                max_length=limits.MAX_ARTIFACT_TYPE_LENGTH,
                mcp="artifact_type",
                mcp_help="Only artifacts of this artifactType, e.g. application/spdx+json.",
            ),
            Param(
                "depth",
                type="int",
                default=limits.DEFAULT_REFERRER_DEPTH,
                help="Levels to list: 1 is what is attached to the image; 2 adds what is "
                "attached to those (a signature of an SBOM), and so on "
                f"(1-{limits.MAX_REFERRER_DEPTH}). --type filters the first level only.",
                flags=("--depth",),
                minimum=1,
                maximum=limits.MAX_REFERRER_DEPTH,
                mcp="depth",
                mcp_help="Levels of nested referrers (1: the image's own only).",
            ),
        ),
        mcp=McpTool(
            "docker_list_referrers",
            "Everything attached to an image and its platform images: signatures (cosign, "
            "Sigstore, Notation), SBOMs, provenance, other attestations, VEX; each entry names "
            "its type, digest, size and sources.",
        ),
    ),
    Command(
        "verify",
        "supply chain",
        "Check the image's signatures: verified, invalid, unsigned or unverifiable, and why.\n\n"
        "cosign signatures with --key (ECDSA P-256, RSA, Ed25519): the signature must verify, "
        "and\nthe signed payload must name this image's digest and repository. Sigstore "
        "bundles offline\nwith --trusted-root and the signer identity; Notation signatures "
        "are listed only. Exits 0\nonly when verified; 10 invalid, 11 unsigned, 12 "
        "unverifiable.\n\nExample: dockerhub verify ghcr.io/org/app:1.0 --key cosign.pub",
        params=(
            IMAGE,
            Param(
                "key",
                help="PEM public key for cosign signatures.",
                flags=("--key",),
                metavar="KEY.pub",
            ),
            Param(  # the same operation keyword: a model gives the key itself, not a path
                "key",
                help="The cosign public key as PEM text. Without it cosign signatures are "
                "reported unverifiable.",
                max_length=limits.MAX_PUBLIC_KEY_LENGTH,
                pattern=r"^\s*-----BEGIN",
                pattern_help="PEM text starting with -----BEGIN PUBLIC KEY-----",
                mcp="public_key",
            ),
            PLATFORM,
            Param(
                "trusted_root",
                help="Sigstore trusted root (JSON) to verify Sigstore bundles offline.",
                flags=("--trusted-root",),
                metavar="FILE",
            ),
            Param(
                "identity",
                help="Sigstore bundles: the signer identity required (e-mail or URI).",
                flags=("--certificate-identity",),
                metavar="ID",
            ),
            Param(
                "issuer",
                help="Sigstore bundles: the OIDC issuer of that identity.",
                flags=("--certificate-oidc-issuer",),
                metavar="URL",
            ),
        ),
        operation="verify",
        result=f"{_SUP}:VerifyReport",
        render="dockerhub_cli.render.referrers:verification",
        cli_exit="dockerhub_cli.cli.exits:verify_exit_code",
        mcp=McpTool(
            "docker_verify_signature",
            "Check an image's signatures: verified only when a cosign signature verifies with "
            "the given public key AND names this image's digest and repository; invalid, "
            "unsigned, or unverifiable (no key, a Sigstore bundle without a trusted root, "
            "Notation). `reason` says why.",
        ),
        progress="Checking the signatures of {image}",
    ),
    # -- files ----------------------------------------------------------------------------------
    Command(
        "files",
        "files",
        "The image's files: path, type, size, mode, owner, link target and the layer that "
        "wrote\nit, with whiteouts and opaque directories applied. PATH lists one directory."
        "\n\nEach layer is downloaded once and its file index cached forever (by digest): "
        "warm layers\nmake no requests.\n\nExample: dockerhub files alpine:3.20 /etc --find "
        "'*.conf'",
        params=(
            IMAGE,
            Param(
                "path",
                help="A directory to list (or one file), e.g. /etc.",
                argument=True,
                metavar="PATH",
                max_length=limits.MAX_IMAGE_PATH_LENGTH,
                mcp="path",
                mcp_help="A directory to list (one level), e.g. /etc. Default: everything.",
            ),
            Param(
                "layer",
                "int",
                None,
                "Only layer N's own changes (from 0).",
                flags=("--layer",),
                metavar="N",
                minimum=0,
                maximum=limits.MAX_LAYER_INDEX,
                mcp="layer",
                mcp_help="Only this layer's own changes (0 = the base layer).",
            ),
            Param(
                "find",
                help="Entries whose name (or /path, if the glob has a /) matches, e.g. '*.so'.",
                flags=("--find",),
                metavar="GLOB",
                min_length=1,
                max_length=limits.MAX_FIND_LENGTH,
                mcp="find",
                mcp_help="Glob on names (or /paths if it has a /), e.g. '*.so' or '/etc/*.conf'.",
            ),
            PLATFORM,
            MAX_DOWNLOAD_CLI,
            FILE_LIMIT.replace(help="Entries per page (1-500)."),
            PAGE.replace(flags=(), operation=False),
            MAX_DOWNLOAD_MCP,
        ),
        operation="files",
        # The tag resolves through the HTTP cache; the layers are by digest (immutable). A run
        # that downloaded layers is not saved (its output says so; `Budget.settle`).
        reads=("manifest_by_tag", "repository"),
        result="dockerhub_cli.models.files:FileListing",
        cli_body="dockerhub_cli.cli.files_commands:files",
        mcp=McpTool(
            "docker_list_files",
            "The files inside an image (its merged filesystem, whiteouts applied), each with "
            "the layer that wrote it: `path` lists one directory, `find` searches by glob, "
            "`layer` shows one layer's own changes.",
            adjust=f"{_FILES}:bound_files",
        ),
        mcp_call=f"{_FILES}:list_files",
    ),
    Command(
        "cat",
        "files",
        "One file's bytes to stdout, binary-safe, verified against the layer's file index."
        "\n\nSymlinks are followed inside the image, never outside it. Binary content is "
        "refused on\na terminal unless --force. With the layer index warm only the layer "
        "holding the file is\nread, and only up to the file.\n\n"
        "Example: dockerhub cat debian:12 /etc/os-release",
        params=(
            IMAGE.replace(ref="image"),
            Param(
                "path",
                default=REQUIRED,
                help="The file, e.g. /etc/os-release.",
                argument=True,
                metavar="PATH",
                min_length=1,
                max_length=limits.MAX_IMAGE_PATH_LENGTH,
                mcp="path",
                mcp_help="A path inside the image, e.g. /etc/os-release.",
            ),
            TAG,
            Param(
                "force",
                "bool",
                False,
                "Write binary content and escape sequences to a terminal as they are.",
                flags=("--force",),
            ),
            PLATFORM,
            Param(
                "max_chars",
                "int",
                limits.DEFAULT_FILE_CHARS,
                f"Return at most this many characters (1-{limits.MAX_FILE_CHARS}).",
                minimum=1,
                maximum=limits.MAX_FILE_CHARS,
                mcp="max_chars",
            ),
            MAX_DOWNLOAD_CLI,
            MAX_DOWNLOAD_MCP,
        ),
        operation="read_text",
        result="dockerhub_cli.models.files:FileContent",
        cli_body="dockerhub_cli.cli.files_commands:cat",
        json_help="Print the file's facts and (text files) its content as JSON.",
        mcp=McpTool(
            "docker_read_file",
            "The content of one text file inside an image (symlinks followed inside the "
            "image), cut at max_chars (`truncated` says so); binary files are refused.",
        ),
        mcp_call=f"{_FILES}:read_file",
    ),
    Command(
        "extract",
        "files",
        "Copy files or directories out of an image into DIR, safely.\n\n"
        "Nothing is written outside DIR: no `..`, no absolute paths; a symlink with an "
        "absolute or\nclimbing target (/usr/bin/y) is rewritten relative to where it sits "
        "(../../usr/bin/y), as\nresolved inside the image, so it never leads out of DIR; no "
        "device files unless --devices;\nset-id bits are dropped and owners are not changed. "
        "A failed write (disk full, permission\ndenied) is exit 9.\n\n"
        "Example: dockerhub extract nginx:1.27 /etc/nginx -o ./nginx-conf",
        params=(
            IMAGE,
            Param(
                "paths",
                "list[str]",
                REQUIRED,
                "Files or directories to extract.",
                argument=True,
                metavar="PATH...",
            ),
            Param(
                "output_dir",
                default=REQUIRED,
                help="Directory to write into.",
                flags=("--output", "-o"),
                metavar="DIR",
            ),
            Param(
                "devices",
                "bool",
                False,
                "Also create device files and FIFOs (needs root).",
                flags=("--devices",),
            ),
            Param(
                "max_bytes",
                help="Refuse to write more than this (default 8GiB).",
                flags=("--max-bytes",),
                metavar="SIZE",
            ),
            PLATFORM,
            MAX_DOWNLOAD_CLI,
        ),
        operation="extract",
        result="dockerhub_cli.models.files:ExtractResult",
        cli_body="dockerhub_cli.cli.files_commands:extract",
    ),
    Command(
        "diff",
        "files",
        "Files added, removed and changed from IMAGE1 to IMAGE2 (content hash, size, mode,\n"
        "owner, link target), with totals. Shared layers are read once.\n\n"
        "Without PATH, packages added, removed, upgraded and downgraded too: from both "
        "images'\nSBOMs (attestations, or attached through referrers), else from their "
        "dpkg/apk/rpm\ndatabases (`packages.source` says which).\n\n"
        "Example: dockerhub diff myapp:1.0 myapp:1.1 /usr/lib",
        params=(
            IMAGE.replace(
                name="image1",
                help="The image before.",
                metavar="IMAGE1",
                mcp="image1",
                mcp_help="The image before, e.g. myapp:1.0.",
                ref="image",
            ),
            IMAGE.replace(
                name="image2",
                help="The image after.",
                metavar="IMAGE2",
                mcp="image2",
                mcp_help="The image after, e.g. myapp:1.1.",
                ref="image",
            ),
            Param(
                "path",
                help="Only under this directory.",
                argument=True,
                metavar="PATH",
                max_length=limits.MAX_IMAGE_PATH_LENGTH,
                mcp="path",
                mcp_help="Only under this directory, e.g. /usr/lib.",
            ),
            PLATFORM,
            FILE_LIMIT.replace(help="Changes per page (1-500)."),
            PAGE.replace(flags=(), operation=False),
            MAX_DOWNLOAD_CLI,
            MAX_DOWNLOAD_MCP,
        ),
        operation="diff_files",
        # The tag resolves through the HTTP cache; the layers are by digest (immutable). A run
        # that downloaded layers is not saved (its output says so; `Budget.settle`). SBOMs
        # attached through referrers: the tag list (fallback tags) ages too, as for `sbom`.
        reads=("manifest_by_tag", "repository", "tags"),
        result="dockerhub_cli.models.files:FileDiff",
        cli_body="dockerhub_cli.cli.files_commands:diff_command",
        mcp=McpTool(
            "docker_diff_files",
            "Files added, removed and changed between two images (content hash, size, mode, "
            "owner, link target), with totals; without `path`, also package changes "
            "(from SBOMs, else dpkg/apk/rpm databases).",
            adjust=f"{_FILES}:bound_diff",
        ),
        mcp_call=f"{_FILES}:diff_files",
    ),
    Command(
        "waste",
        "files",
        "Bytes of files that later layers overwrite or delete (still downloaded by every "
        "pull),\nthe biggest offenders, and an efficiency score (1 - wasted/total, like dive)."
        "\n\nWith --max-wasted-bytes or --min-efficiency it is a CI gate: exit 8 when it "
        "fails.\n\nExample: dockerhub waste myapp:latest --min-efficiency 0.95",
        params=(
            IMAGE,
            Param(
                "max_wasted_bytes",
                help="Fail (exit 8) when more than this is wasted, e.g. 50MB.",
                flags=("--max-wasted-bytes",),
                metavar="SIZE",
            ),
            Param(
                "min_efficiency",
                "float",
                None,
                "Fail (exit 8) when the efficiency is below this, e.g. 0.95.",
                flags=("--min-efficiency",),
                metavar="RATIO",
                minimum=0,
                maximum=1,
            ),
            Param(
                "top",
                "int",
                20,
                "How many offenders to list.",
                flags=("--top",),
                minimum=1,
                maximum=1000,
            ),
            PLATFORM,
            MAX_DOWNLOAD_CLI,
            MAX_DOWNLOAD_MCP,
        ),
        operation="waste",
        # The tag resolves through the HTTP cache; the layers are by digest (immutable). A run
        # that downloaded layers is not saved (its output says so; `Budget.settle`).
        reads=("manifest_by_tag", "repository"),
        result="dockerhub_cli.models.files:WasteReport",
        cli_body="dockerhub_cli.cli.files_commands:waste",
        mcp=McpTool(
            "docker_image_waste",
            "Bytes of files that later layers overwrite or delete (still downloaded by every "
            "pull), the biggest offenders and an efficiency score (1.0 = nothing wasted).",
        ),
        mcp_call=f"{_FILES}:waste",
    ),
    # -- pinning --------------------------------------------------------------------------------
    Command(
        "updates",
        "pinning",
        "Is IMAGE still built on the current digest of its base tag? Which newer tags exist?"
        "\n\nExample: dockerhub updates nginx:1.27.2-alpine --base alpine:3.20",
        params=(
            IMAGE.replace(help=IMAGE_HELP),
            Param(
                "base",
                help="The base image tag to check against, when the image does not record it.",
                flags=("--base",),
                metavar="IMAGE",
                min_length=1,
                max_length=limits.MAX_REFERENCE_LENGTH,
                mcp="base",
                mcp_help=(
                    "Base image tag to check against (e.g. alpine:3.20), when the image does "
                    "not record its base in OCI annotations or labels."
                ),
                ref="image",
            ),
            PLATFORM,
        ),
        operation="updates",
        result=f"{_CMP}:UpdateReport",
        render="dockerhub_cli.render.compare:updates",
        mcp=McpTool(
            "docker_track_base_updates",
            "Is the image still built on the current digest of its base image tag (from its "
            "OCI annotations/labels, or `base`)? base_outdated is true, false, or null with "
            "the reason; with layer evidence and newer tags of the same family.",
        ),
        progress="Checking {image} for updates",
        warn_notes=True,
    ),
    Command(
        "pin",
        "pinning",
        "Pin image references to name:tag@sha256:<digest> (the digest the tag resolves to now)."
        "\n\nAlready pinned references are re-checked and updated when stale; nothing else in "
        "the\nfiles changes (comments, quoting, key order and layout are kept byte for byte).\n\n"
        "Example: dockerhub pin Dockerfile compose.yaml k8s/deploy.yaml --check",
        params=(
            Param(
                "files",
                "list[str]",
                REQUIRED,
                "Dockerfiles, Compose files, Kubernetes manifests, GitHub Actions workflows.",
                argument=True,
                metavar="FILE...",
            ),
            PLATFORM.replace(
                help="Pin one platform's manifest instead of the multi-platform index (rarely "
                "what you want: other platforms then fail to pull).",
            ),
            KIND,
            Param(
                "dry_run",
                "bool",
                False,
                "Print the unified diff; write nothing.",
                flags=("--dry-run",),
            ),
            Param(
                "check",
                "bool",
                False,
                "For CI: write nothing; print the diff and exit 8 when a pin is missing or "
                "stale, or a tag cannot be looked up.",
                flags=("--check",),
            ),
        ),
        operation="pin",
        result=f"{_PINNING}:PinReport",
        render="dockerhub_cli.render.pinning:pin_report",
        cli_body=f"{_PIN_CLI}:pin",
    ),
    Command(
        "same-tags",
        "pinning",
        "The other tags of a repository that are the same image as a tag (the CLI: tags "
        "--same-as).",
        params=(
            Param(
                "repository",
                default=REQUIRED,
                help="Repository: nginx, bitnami/redis, ghcr.io/org/app, localhost:5000/app.",
                min_length=1,
                max_length=limits.MAX_REFERENCE_LENGTH,
                mcp="repository",
                mcp_help=IMAGE.mcp_help,
            ),
            TAG,
            Param(
                "pattern",
                help="Only compare the tags matching this glob, e.g. '1.27*' or '*-alpine'.",
                min_length=1,
                max_length=limits.MAX_PATTERN_LENGTH,
                mcp="pattern",
            ),
        ),
        operation="same_as",
        result=f"{_PINNING}:SameAsReport",
        cli=False,
        mcp=McpTool(
            "docker_find_same_tags",
            'The other tags of a repository that are the same image as `tag` (answers "which '
            'version is latest?"), matched by index, per-platform manifest or config digests; '
            "`matched_by` says which.",
        ),
        mcp_call=f"{_PIN}:same_tags",
    ),
    _image_command(
        "upgrade",
        "Newer tags of IMAGE's family and what moving to each means: download size, base "
        "image,\nconfig changes that can break a deployment, vulnerabilities, age.\n\n"
        "Example: dockerhub upgrade nginx:1.27.3-alpine --platform linux/arm64",
        operation="upgrade",
        result=f"{_PINNING}:UpgradeReport",
        render="dockerhub_cli.render.pinning:upgrade_report",
        progress="Looking for upgrades of {image}",
        group="pinning",
        warn_notes=True,
        reads=(),
        image=IMAGE.replace(help="Image with a version tag, e.g. nginx:1.27."),
        extra=(
            Param(
                "vulns",
                "bool",
                False,
                "Also compare known vulnerabilities (needs SBOM attestations; queries OSV).",
                flags=("--vulns",),
                mcp="vulns",
                mcp_help="Also compare known vulnerabilities (needs SBOMs; slower).",
            ),
            Param(
                "limit",
                "int",
                5,
                "Newer tags to examine (1-20).",
                flags=("--limit", "-n"),
                minimum=1,
                maximum=20,
                mcp="limit",
            ),
        ),
        mcp=McpTool(
            "docker_upgrade_advice",
            "Newer tags in the tag's family (1.27 -> 1.28, same suffix) and "
            "what moving to each means: bytes to download, base image change, config changes "
            "that can break a deployment, age, and with vulns=true the vulnerabilities fixed "
            "and added (needs SBOMs).",
        ),
    ),
    Command(
        "watch",
        "pinning",
        "Report when a pinned or floating reference moved (its tag now names another digest) "
        "or\na newer tag of its family appeared. Digests of floating tags are kept in the cache "
        "dir.\n\nExample: dockerhub watch compose.yaml nginx:1.27 --check --json",
        params=(
            Param(
                "targets",
                "list[str]",
                REQUIRED,
                "Files to read references from, or images.",
                argument=True,
                metavar="FILE|IMAGE...",
            ),
            Param(
                "interval",
                "int",
                None,
                "Check again every SECONDS (30-86400) until interrupted.",
                flags=("--interval",),
                metavar="SECONDS",
                minimum=30,
                maximum=86_400,
            ),
            Param(
                "check",
                "bool",
                False,
                "One check (for cron); exit 8 when something changed.",
                flags=("--check",),
            ),
            Param(
                "no_families",
                "bool",
                False,
                "Do not look for newer tags of each family.",
                flags=("--no-families",),
            ),
            KIND,
        ),
        operation="watch",
        result=f"{_PINNING}:WatchReport",
        render="dockerhub_cli.render.pinning:watch_report",
        cli_body=f"{_PIN_CLI}:watch",
    ),
    # -- account --------------------------------------------------------------------------------
    Command(
        "whoami",
        "account",
        "Show which identity is used for a registry and where its credentials come from.\n\n"
        "Sources, first match wins: DOCKERHUB_USERNAME/DOCKERHUB_TOKEN (Docker Hub only), a\n"
        "[[registries]] entry of the config file, then Docker's config.json (credHelpers,\n"
        "credsStore, auths).\n\nExample: dockerhub whoami ghcr.io --verify",
        params=(
            REGISTRY.replace(
                default=None,
                mcp="registry",
                mcp_help="Registry host, e.g. ghcr.io. Default: Docker Hub.",
            ),
            Param(
                "verify",
                "bool",
                False,
                "Also check the credentials with the registry.",
                flags=("--verify",),
                mcp="verify",
                mcp_help="Also check with the registry that the credentials work.",
            ),
        ),
        operation="whoami",
        result=f"{_CORE}:Identity",
        render="dockerhub_cli.render.account:identity",
        mcp=McpTool(
            "docker_whoami",
            "Which account (if any) the server uses for Docker Hub or another registry, and "
            "where its credentials come from.",
        ),
    ),
    Command(
        "ratelimit",
        "account",
        "Show Docker Hub's pull quota for your identity or IP: used/limit and window.\n\n"
        "Reads the ratelimit-limit, ratelimit-remaining and docker-ratelimit-source headers of "
        "a\nHEAD request on a manifest, which does not count as a pull. No headers means "
        "unlimited.\n\nExample: dockerhub ratelimit --json",
        params=(
            Param(
                "image",
                help="Image to check (default ratelimitpreview/test, Docker's probe).",
                argument=True,
                min_length=1,
                max_length=limits.MAX_REFERENCE_LENGTH,
                mcp="repository",
                mcp_help="Docker Hub image to check with (default: Docker's own test image).",
                ref="image",
            ),
        ),
        operation="pull_rate_limit",
        result=f"{_CORE}:PullRateLimit",
        render="dockerhub_cli.render.account:rate_limit",
        mcp=McpTool(
            "docker_get_rate_limit",
            "Docker Hub's pull allowance for the server's account or IP address: limit, "
            "remaining and window (checked with a HEAD request, which costs no pull).",
        ),
        progress="Asking Docker Hub for the pull quota",
    ),
    Command(
        "login",
        "account",
        "Check credentials with the registry, then store them like `docker login`.\n\n"
        "They go to the credential helper configured in ~/.docker/config.json (credHelpers or\n"
        "credsStore), otherwise into config.json itself (base64, mode 0600). The secret is "
        "never\nprinted.\n\n"
        'Example: echo "$TOKEN" | dockerhub login -u octocat --password-stdin ghcr.io',
        params=(
            REGISTRY,
            Param(
                "username",
                help="Account name (prompted if absent).",
                flags=("--username", "-u"),
                envvar="DOCKERHUB_USERNAME",
            ),
            Param(
                "password_stdin",
                "bool",
                False,
                "Read the password or access token from stdin.",
                flags=("--password-stdin",),
            ),
        ),
        operation="login",
        result=f"{_CORE}:LoginResult",
        render="dockerhub_cli.render.account:login_result",
        cli_body="dockerhub_cli.cli.account_commands:login",
    ),
    Command(
        "logout",
        "account",
        "Remove stored credentials for a registry, like `docker logout`.\n\n"
        "Environment variables and config-file references are not touched.\n\n"
        "Example: dockerhub logout ghcr.io",
        params=(REGISTRY,),
        operation="logout",
        result=f"{_CORE}:LogoutResult",
        render="dockerhub_cli.render.account:logout_result",
    ),
    # -- server ---------------------------------------------------------------------------------
    Command(
        "serve-mcp",
        "server",
        "Serve every command as a read-only MCP tool (stdout carries only the protocol).\n\n"
        "Example: dockerhub serve-mcp  |  dockerhub serve-mcp --transport http --port 8765",
        params=(
            Param(
                "transport",
                default="stdio",
                help="stdio (for desktop assistants, the default) or http (streamable HTTP at "
                "/mcp).",
                flags=("--transport",),
                choices=("stdio", "http"),
            ),
            Param(
                "host",
                default="127.0.0.1",
                help="HTTP only: address to listen on (loopback by default).",
                flags=("--host",),
            ),
            Param(
                "port",
                "int",
                8000,
                "HTTP only: port to listen on.",
                flags=("--port",),
                minimum=1,
                maximum=65535,
            ),
            Param(
                "auth_token_file",
                help="HTTP only: require 'Authorization: Bearer TOKEN' with the token on the "
                "file's first line (else env DOCKERHUB_MCP_AUTH_TOKEN). Required beyond loopback.",
                flags=("--auth-token-file",),
                metavar="FILE",
            ),
            Param(
                "no_auth",
                "bool",
                False,
                "HTTP only: serve beyond loopback without a token (anyone who can reach the "
                "port uses your registry credentials).",
                flags=("--no-auth",),
            ),
        ),
        cli_body="dockerhub_cli.cli.mcp_commands:serve_mcp",
        output=False,
    ),
    # -- maintenance ----------------------------------------------------------------------------
    Command(
        "cache info",
        "maintenance",
        "Show where the cache is, its size, and how many entries (and expired ones) it "
        "holds.\n\nExample: dockerhub cache info --json",
        operation="dockerhub_cli.remote.cache_store:cache_info",
        result="dockerhub_cli.models.cache:CacheInfo",
        render="dockerhub_cli.render.cache:cache_info",
    ),
    Command(
        "cache clear",
        "maintenance",
        "Empty the cache (or, with --expired, drop only expired entries).\n\n"
        "Example: dockerhub cache clear --expired",
        params=(
            Param(
                "expired_only",
                "bool",
                False,
                "Only drop expired entries (keep fresh ones).",
                flags=("--expired",),
            ),
        ),
        operation="dockerhub_cli.remote.cache_store:clear_cache",
        result="dockerhub_cli.models.cache:CacheClearResult",
        render="dockerhub_cli.render.cache:cache_cleared",
    ),
    Command(
        "cache warm",
        "maintenance",
        "Fetch ahead of time what later runs read, so that they can run --offline.\n\n"
        "IMAGE is a reference; FILE a Dockerfile, Compose, Kubernetes or workflow\n"
        "file, whose image references are read as `pin` reads them. For each image:\n"
        "its manifest, every platform's manifest and config (or only --platform's),\n"
        "its first page of tags, Docker Hub's repository facts, and the base image\n"
        "each platform names. --layers also reads every layer once and caches its\n"
        "file index (files, diff, waste): layers are big.\n\n"
        "Example: dockerhub cache warm compose.yaml Dockerfile nginx:1.27 --layers",
        params=(
            Param(
                "targets",
                "list[str]",
                REQUIRED,
                "Images, and Dockerfiles, Compose, Kubernetes or workflow files (an existing "
                "path is a file).",
                argument=True,
                metavar="IMAGE|FILE...",
            ),
            PLATFORM.replace(
                help="Only this platform of a multi-platform image (default: every platform).",
            ),
            KIND,
            Param(
                "layers",
                "bool",
                False,
                "Also read every layer once and cache its file index (for files, diff and "
                "waste --offline).",
                flags=("--layers",),
            ),
            Param(
                "jobs",
                "int",
                4,
                "Fetches at the same time (crane's default is 4).",
                flags=("--jobs", "-j"),
                minimum=1,
                maximum=16,
            ),
            MAX_DOWNLOAD_CLI.replace(
                help="With --layers: stop before downloading more than this (e.g. 2GB); "
                "layers already read cost nothing.",
            ),
        ),
        operation="warm",
        result="dockerhub_cli.models.cache:WarmReport",
        render="dockerhub_cli.render.cache:warm_report",
        cli_body="dockerhub_cli.cli.warm_commands:warm",
    ),
    Command(
        "config show",
        "maintenance",
        "Print every effective setting with its source (flag, env, config or default).\n\n"
        "Secrets are printed as <redacted>. The config file is TOML, at $DOCKERHUB_CONFIG or\n"
        "config.toml in the user config directory.\n\n"
        "Example: dockerhub config show --format '{key}={value}'",
        operation="dockerhub_cli.config.file:report",
        result=f"{_CORE}:ConfigReport",
        render="dockerhub_cli.render.account:config_report",
    ),
    Command(
        "config path",
        "maintenance",
        "Print the path of the config file (whether or not it exists).\n\n"
        "Example: dockerhub config path",
        cli_body="dockerhub_cli.cli.config_commands:config_path",
        output=False,
    ),
)

_BY_NAME = {c.name: c for c in COMMANDS}
_BY_TOOL = {c.mcp.name: c for c in COMMANDS if c.mcp is not None}


def get(name: str) -> Command:
    """The command called `name` ("tags", "cache info")."""
    return _BY_NAME[name]


def by_tool(tool: str) -> Command:
    return _BY_TOOL[tool]


def cli_commands() -> Iterator[Command]:
    """Commands of the CLI, in help order (group, then spec order)."""
    order = {g: i for i, g in enumerate(GROUPS)}
    yield from sorted((c for c in COMMANDS if c.cli), key=lambda c: order[c.group])


def mcp_commands() -> list[Command]:
    return [c for c in COMMANDS if c.mcp is not None]


def children(prefix: tuple[str, ...] = ()) -> dict[str, str]:
    """The next word of every CLI command under `prefix` -> its summary, in help order."""
    out: dict[str, str] = {}
    for command in cli_commands():
        path = command.path
        if len(path) <= len(prefix) or path[: len(prefix)] != prefix:
            continue
        word = path[len(prefix)]
        if word in out:
            continue
        if len(path) == len(prefix) + 1:
            out[word] = command.summary
        else:
            out[word] = SUBGROUPS[" ".join((*prefix, word))][1]
    return out


def result_cache_reads() -> dict[str, tuple[str, ...]]:
    """Commands whose output depends only on registry data -> the TTL names of that data."""
    return {c.name: c.reads for c in COMMANDS if c.cli and c.reads}


def cli_flag(name: str, command: Command | None = None) -> str:
    """The CLI's words for the parameter `name` (of `command`, else of any command)."""
    pools = [command.params] if command is not None else []
    pools += [c.params for c in COMMANDS] + [GLOBAL_OPTIONS, OUTPUT_OPTIONS]
    for pool in pools:
        for p in pool:
            if p.name == name or p.mcp == name:
                if p.on_cli:
                    return p.flag
    return name


# -- the top-level help, without Typer (so `dockerhub --help` starts fast) --------------------


def help_text(width: int = 80) -> str:
    """`dockerhub --help`: usage, the global options, the commands by group."""
    import re
    import textwrap

    width = max(40, min(width, 120))
    lines = ["Usage: dockerhub [OPTIONS] COMMAND [ARGS]...", ""]
    lines += textwrap.wrap(APP_HELP, width)
    lines.append("")
    for paragraph in APP_EPILOG.split("\n\n"):
        # a code and its meaning stay on one line ("8 check failed (also ...)" may break
        # inside the parentheses)
        entries = re.split(r"(?<=,) (?=\d)", " ".join(paragraph.split()))
        glued = " ".join(
            head.replace(" ", "\xa0") + paren + rest
            for head, paren, rest in (e.partition(" (") for e in entries)
        )
        lines += [w.replace("\xa0", " ") for w in textwrap.wrap(glued, width)] + [""]
    options: list[tuple[str, str]] = [("--version", "Show the version.")]
    for p in GLOBAL_OPTIONS:
        head = ", ".join(p.flags) + (f" {p.metavar}" if p.metavar else "")
        options.append((head, p.help))
    options += [
        ("--install-completion", "Install completion for the current shell."),
        ("--show-completion", "Show completion for the current shell."),
        ("-h, --help", "Show this message and exit."),
    ]
    lines += ["Options:", *_columns(options, width), ""]
    top = children()
    groups: dict[str, list[tuple[str, str]]] = {}
    for word, summary in top.items():
        group = SUBGROUPS[word][0] if word in SUBGROUPS else _BY_NAME[word].group
        groups.setdefault(group, []).append((word, summary))
    for group in GROUPS:
        if group in groups:
            lines += [f"Commands ({group}):", *_columns(groups[group], width), ""]
    lines.append("Run 'dockerhub COMMAND --help' for a command's arguments and options.")
    return "\n".join(lines) + "\n"


def _columns(rows: list[tuple[str, str]], width: int) -> list[str]:
    import textwrap

    left = min(max(len(a) for a, _ in rows) + 4, 40)
    out = []
    for head, text in rows:
        wrapped = textwrap.wrap(text, max(20, width - left)) or [""]
        if len(head) + 4 > left:
            out.append(f"  {head}")
            out += [" " * left + w for w in wrapped]
        else:
            out.append(f"  {head}".ljust(left) + wrapped[0])
            out += [" " * left + w for w in wrapped[1:]]
    return out
