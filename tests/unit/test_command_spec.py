"""The command spec is the one source: CLI, MCP, result cache and docs agree with it.

* introspection: every Typer command and every MCP tool comes from a spec entry, and their
  defaults and bounds are the spec's (so the two front-ends cannot drift apart);
* parity: each command called through the CLI (`--json`) and through its MCP tool on the same
  inputs (a `responses` registry, Hub and OSV) gives the same model dump as the service, with
  only the advice worded differently (`--platform` vs `platform`);
* no CLI words reach a model: no `--<option>` in any tool description, schema, error or note;
* start-up: the spec and the result cache import no heavy library, and the CLI builds only
  the command being run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any, get_args

import pytest
import responses
import typer.main
from mcp import Client
from typer.testing import CliRunner

from dockerhub_cli import advice, commands, limits, result_cache
from dockerhub_cli.cli import app
from dockerhub_cli.cli.app import LazyCommands, cli_words
from dockerhub_cli.commands import REQUIRED, Command
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.mcp.server import HUGE_MAXIMUM, build_server, model_words
from dockerhub_cli.models.supply import SEVERITY_LEVELS, Severity
from dockerhub_cli.remote import osv as osv_module
from dockerhub_cli.service import DockerHubService
from tests.support.layers import digest, file, layer, whiteout
from tests.unit import registry_fixtures as fx
from tests.unit.hub_fixtures import HUB, load
from tests.unit.test_hub_catalog import JWT
from tests.unit.test_supply import OSV, mock_osv, publish, sbom_and_provenance

runner = CliRunner()
REG = "https://registry.example.com"
REPO = "registry.example.com/team/app"
IMAGE = f"{REPO}:1.27.2"
GITEA = f"{REPO}:1.0"
SUPPLY = f"{REPO}:2.0"

BOTH = [c for c in commands.COMMANDS if c.cli and c.mcp is not None]
LAYER0 = layer([file("etc/os-release", "ID=test\n"), file("etc/gone", "g" * 100)])
LAYER1 = layer([whiteout("etc/gone"), file("bin/x", "x" * 50), file("etc/os-release", "ID=2\n")])


# -- introspection: the front-ends are built from the spec --------------------------------------


def _leaves(group: Any, prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, command in group.commands.items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            out |= _leaves(command, path)
        else:
            out[" ".join(path)] = command
    return out


def test_every_cli_command_is_a_spec_entry_and_back() -> None:
    leaves = _leaves(typer.main.get_command(app))
    assert set(leaves) == {c.name for c in commands.COMMANDS if c.cli}, (
        "a command registered outside dockerhub_cli/commands.py (or a spec entry not built)"
    )


async def _tool_schemas() -> dict[str, Any]:
    with DockerHubService(Settings.from_env()) as service:
        async with Client(build_server(service)) as client:
            return {t.name: t for t in (await client.list_tools()).tools}


def _strict_schemas() -> dict[str, Any]:
    """The schemas the server checks arguments with (tools/list leaves string lengths out)."""
    with DockerHubService(Settings.from_env()) as service:
        tools = build_server(service).dockerhub_tools  # type: ignore[attr-defined]
        return {name: tool.strict_schema for name, tool in tools.items()}


@pytest.mark.anyio
async def test_every_mcp_tool_is_a_spec_entry_and_back() -> None:
    tools = await _tool_schemas()
    assert set(tools) == {c.mcp.name for c in commands.COMMANDS if c.mcp}
    for command in commands.mcp_commands():
        assert command.mcp is not None
        tool = tools[command.mcp.name]
        assert tool.description == command.mcp.description
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is command.mcp.annotations["read_only_hint"]


def _click_default(param: Any) -> Any:
    default = param.default
    return None if default in ((), []) else default


def test_cli_defaults_and_bounds_come_from_the_spec() -> None:
    leaves = _leaves(typer.main.get_command(app))
    for command in commands.COMMANDS:
        if not command.cli:
            continue
        click_params = {p.name: p for p in leaves[command.name].params}
        for p in command.cli_params():
            cp = click_params[p.name]
            where = f"{command.name} {p.flag}"
            assert cp.required == p.required, where
            if not p.required:
                assert _click_default(cp) == p.default, where
            if p.flags:
                assert list(cp.opts) == list(p.flags), where
            low, high = getattr(cp, "min", None), getattr(cp, "max", None)
            assert (low, high) == (p.minimum, p.maximum), where
            assert (cp.envvar or None) == p.envvar, where
            assert (cp.help or "") == p.help, where


@pytest.mark.anyio
async def test_mcp_defaults_and_bounds_come_from_the_spec() -> None:
    tools, strict = await _tool_schemas(), _strict_schemas()
    for command in commands.mcp_commands():
        assert command.mcp is not None
        schema = tools[command.mcp.name].input_schema
        props = schema["properties"]
        checked = strict[command.mcp.name]["properties"]
        params = command.mcp_params()
        # Every tool pages a result cut to the size bound with `offset`, unless it has its own.
        paged = [] if any(p.mcp == "offset" for p in params) else ["offset"]
        assert list(props) == [p.mcp for p in params] + paged, command.name
        if paged:
            assert props["offset"]["minimum"] == 0 and checked["offset"]["default"] == 0
        assert set(schema.get("required", [])) == {p.mcp for p in params if p.required}
        for p in params:
            prop, where = props[p.mcp], f"{command.mcp.name}.{p.mcp}"
            if p.mcp in ("repository", "tag", "platform", "page", "limit"):  # in instructions
                assert prop.get("description") in (p.description, None), where
            else:
                assert prop.get("description") == p.description, where
            if not p.required:
                assert prop.get("default") == p.default, where
            branch = _non_null(prop)
            enforced = _non_null(checked[p.mcp])
            assert branch.get("minimum") == p.minimum, where
            # An upper bound no call comes near (a page number, bytes to download) is checked,
            # not listed; every other one is listed.
            huge = p.mcp == "page" or (p.maximum or 0) >= HUGE_MAXIMUM
            assert branch.get("maximum") == (None if huge else p.maximum), where
            assert enforced.get("maximum") == p.maximum, where
            if p.type == "str" and not p.choices:
                assert enforced.get("minLength") == p.min_length, where
                assert enforced.get("maxLength") == p.max_length, where
            if p.type == "list[str]":
                assert "maxItems" not in branch, where  # checked, not listed
                assert enforced.get("maxItems") == p.max_length, where
                assert enforced["items"].get("maxLength") == p.item_max_length, where
            # Listed: the choices; accepted (the checked schema): their alias spellings too.
            if p.choices and p.type == "list[str]":
                assert tuple(branch["items"]["enum"]) == p.choices, where
                assert tuple(enforced["items"]["enum"]) == p.mcp_accepted, where
            elif p.choices:
                assert tuple(branch["enum"]) == p.choices, where
                assert tuple(enforced["enum"]) == p.mcp_accepted, where


def _non_null(prop: dict[str, Any]) -> dict[str, Any]:
    for branch in prop.get("anyOf", [prop]):
        if branch.get("type") != "null":
            return dict(branch)
    return prop


@pytest.mark.anyio
async def test_a_parameter_on_both_faces_has_one_default_and_one_bound() -> None:
    """The cross-check itself: what Click enforces is what the MCP server enforces (its checked
    schema: the listed one leaves out the bounds no call comes near)."""
    tools, strict = await _tool_schemas(), _strict_schemas()
    leaves = _leaves(typer.main.get_command(app))
    for command in BOTH:
        assert command.mcp is not None
        props = tools[command.mcp.name].input_schema["properties"]
        click_params = {p.name: p for p in leaves[command.name].params}
        for p in command.params:
            if not (p.on_cli and p.mcp):
                continue
            cp = click_params[p.name]
            prop = _non_null(strict[command.mcp.name]["properties"][p.mcp])
            if not p.required:
                assert _click_default(cp) == props[p.mcp].get("default"), (command.name, p.name)
            assert (getattr(cp, "min", None), getattr(cp, "max", None)) == (
                prop.get("minimum"),
                prop.get("maximum"),
            ), (command.name, p.name)


def test_tags_sort_defaults_to_the_registry_order_on_both_faces() -> None:
    """The drift issue 13 found: MCP said "updated", the CLI nothing. Now both say None."""
    sort = commands.get("tags").param("sort")
    assert sort.default is None and sort.mcp == "sort" and sort.flags == ("--sort",)


def test_value_sets_are_defined_once() -> None:
    assert get_args(Severity) == SEVERITY_LEVELS == limits.SEVERITY_LEVELS
    assert commands.get("vulns").param("severity").choices == limits.SEVERITY_LEVELS
    from dockerhub_cli.ops.tags import TagSort
    from dockerhub_cli.service import MAX_LIMIT, MAX_QUERY_LENGTH

    assert get_args(TagSort) == limits.TAG_SORTS
    from dockerhub_cli.ops.hub_catalog import RepoSort, SearchSort

    assert get_args(RepoSort) == limits.REPO_SORTS == commands.get("repos").param("sort").choices
    assert get_args(SearchSort) == limits.SEARCH_SORTS
    assert (MAX_LIMIT, MAX_QUERY_LENGTH) == (limits.MAX_LIMIT, limits.MAX_QUERY_LENGTH)


def test_result_cache_eligibility_is_the_spec() -> None:
    assert result_cache.ELIGIBLE == {c.name: c.reads for c in commands.COMMANDS if c.reads}
    for names in result_cache.ELIGIBLE.values():
        assert set(names) <= set(Settings.from_env().ttls), names


def test_every_spec_reference_resolves() -> None:
    for command in commands.COMMANDS:
        for target in (command.result, command.render, command.cli_body):
            if target:
                assert commands.resolve(target) is not None, (command.name, target)
        if command.operation and ":" in command.operation:
            assert callable(commands.resolve(command.operation))
        elif command.operation:
            assert hasattr(DockerHubService, command.operation), command.name
        if command.mcp is not None:
            for target in (command.mcp.adjust, command.mcp.on_error):
                if target:
                    assert callable(commands.resolve(target)), (command.name, target)
        assert command.cli or command.mcp is not None, command.name
        assert command.group in commands.GROUPS, command.name
        if command.cli and command.output and not command.cli_body:
            assert command.render and command.result, command.name


# -- start-up: cheap to import, built on demand --------------------------------------------------


def test_the_spec_and_the_result_cache_import_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "import dockerhub_cli.commands, dockerhub_cli.result_cache, dockerhub_cli.advice\n"
        "heavy = [m for m in ('typer', 'click', 'rich', 'pydantic', 'requests', 'mcp') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_only_the_invoked_command_is_built() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root.commands, LazyCommands)
    fresh = LazyCommands((), {})
    assert fresh.built == {} and "tags" in fresh and len(fresh) == len(commands.children())
    fresh["tags"]  # noqa: B018 - reading one entry builds that one
    assert set(fresh.built) == {"tags"}
    cache = fresh["cache"]
    assert set(fresh.built) == {"tags", "cache"} and set(cache.commands.built) == set()


@pytest.mark.parametrize("argv", [["--version"], ["--help"], []])
def test_version_and_help_never_import_typer(argv: list[str]) -> None:
    code = (
        "import sys\n"
        f"sys.argv = ['dockerhub', *{argv!r}]\n"
        "from dockerhub_cli.__main__ import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "sys.stderr.write(repr(code) + ' ' + ','.join(m for m in ('typer', 'rich', 'pydantic') "
        "if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    code_text, _, heavy = done.stderr.strip().partition(" ")
    assert heavy == "", f"{argv} imported {heavy}"
    assert code_text == ("2" if not argv else "0")
    if argv == ["--version"]:
        assert done.stdout.startswith("dockerhub ")
    else:
        for command in commands.cli_commands():
            assert command.path[0] in done.stdout
        for p in commands.GLOBAL_OPTIONS:
            assert p.flags[0] in done.stdout


def test_version_is_answered_before_typing_or_threading_are_imported() -> None:
    """`--version` is within 2x of `python -c pass` (issue 19 goal 1): `typing` alone was 7 ms
    of its ~30 ms, imported by the process end's annotation."""
    code = (
        "import sys\n"
        "sys.argv = ['dockerhub', '--version']\n"
        "import atexit\n"
        "atexit.register(lambda: sys.stderr.write(','.join(m for m in ('typing', 'threading')"
        " if m in sys.modules)))\n"
        "from dockerhub_cli.__main__ import run\n"
        "run()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("dockerhub ")
    assert done.stderr == ""


# -- parity: the same answer through both front-ends --------------------------------------------


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    """A registry (nginx index, a single-manifest image, an attested image with SBOM and
    provenance, a tag list), Docker Hub search and tags, and OSV, all on `responses`."""
    monkeypatch.setenv("DOCKERHUB_OSV_URL", OSV)
    monkeypatch.setattr(osv_module.time, "sleep", lambda s: None)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        reg = fx.FakeRegistry(rsps, REG, "team/app")
        reg.nginx("1.27.2")
        reg.gitea("1.0")
        reg.missing("9.9")
        publish(reg, sbom_and_provenance(), tag="2.0")
        rsps.get(reg.url("tags/list"), json={"name": "team/app", "tags": ["1.0", "1.27.2", "2.0"]})
        rsps.get(f"{HUB}/api/search/v4", json=load("search_v4_postgres.json"))
        # no referrers API and nothing attached by tag (sha256-<hex>, cosign .sig/.att/.sbom)
        rsps.get(re.compile(rf"{REG}/v2/team/app/referrers/.*"), status=404)
        rsps.add(responses.HEAD, re.compile(rf"{REG}/v2/team/app/manifests/sha256-.*"), status=404)
        rsps.get(
            re.compile(rf"{REG}/v2/team/app/manifests/sha256-.*"),
            status=404,
            json=fx.MANIFEST_UNKNOWN,
        )
        rsps.get(
            f"{HUB}/v2/namespaces/portainer/repositories/agent/tags",
            json=load("tags_portainer_agent_page1.json"),
        )
        mock_osv(rsps)
        rsps.get(f"{HUB}/v2/namespaces/bitnami/repositories", json=load("repos_bitnami_page1.json"))
        rsps.get(
            f"{HUB}/v2/namespaces/library/repositories/nginx", json=load("repository_nginx.json")
        )
        rsps.post(f"{HUB}/v2/auth/token", json={"access_token": JWT})
        rsps.get(f"{HUB}/v2/user/orgs", json=load("orgs_page1.json"))
        _serve_files(rsps, "1.0", [LAYER0])
        _serve_files(rsps, "2.0", [LAYER0, LAYER1])
        yield rsps


FILES_REPO = "registry.example.com/team/files"
FILES_CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'


def _serve_files(rsps: responses.RequestsMock, tag: str, layers: list[bytes]) -> None:
    """team/files:<tag>, a single-manifest image of `layers` (blobs from the registry)."""
    body = fx.compact(
        {
            "schemaVersion": 2,
            "mediaType": fx.OCI_MANIFEST,
            "config": {"mediaType": fx.OCI_CONFIG, "digest": digest(FILES_CONFIG),
                       "size": len(FILES_CONFIG)},
            "layers": [{"mediaType": fx.OCI_LAYER, "digest": digest(b), "size": len(b)}
                       for b in layers],
        }
    )  # fmt: skip
    reg = fx.FakeRegistry(rsps, REG, "team/files")
    reg.manifest(body, fx.OCI_MANIFEST, tags=(tag,))
    reg.blob(FILES_CONFIG)
    for blob in layers:
        reg.blob(blob)


IMG = {"repository": REPO, "tag": "1.27.2"}
# (command, CLI arguments, MCP arguments, the service call: method, args, kwargs)
PARITY: list[tuple[str, list[str], dict[str, Any], tuple[str, tuple[Any, ...], dict[str, Any]]]] = [
    (
        "search",
        ["postgres", "--limit", "5", "--official"],
        {"query": "postgres", "limit": 5, "is_official": True},
        ("search", ("postgres",), {"limit": 5, "official": True}),
    ),
    (
        "search",
        ["postgres", "--badge", "verified", "--arch", "arm64", "--sort", "pulls"],
        {"query": "postgres", "badges": ["verified"], "architectures": ["arm64"], "sort": "pulls"},
        (
            "search",
            ("postgres",),
            {"badges": ["verified_publisher"], "architectures": ["arm64"], "sort": "pulls"},
        ),
    ),
    (
        "tags",
        ["portainer/agent"],
        {"repository": "portainer/agent"},
        ("tags", ("portainer/agent",), {}),
    ),
    ("tags", [REPO], {"repository": REPO}, ("tags", (REPO,), {})),
    (
        "tags",
        [REPO, "--sort", "semver", "--filter", "1.*"],
        {"repository": REPO, "sort": "semver", "pattern": "1.*"},
        ("tags", (REPO,), {"sort": "semver", "pattern": "1.*"}),
    ),
    ("inspect", [IMAGE], IMG, ("inspect", (IMAGE,), {})),
    (
        "inspect",
        [IMAGE, "--platform", "linux/arm64"],
        {**IMG, "platform": "linux/arm64"},
        ("inspect", (IMAGE,), {"platform": "linux/arm64"}),
    ),
    ("layers", [IMAGE], IMG, ("layers", (IMAGE,), {})),
    ("history", [IMAGE], IMG, ("history", (IMAGE,), {})),
    ("dockerfile", [IMAGE], IMG, ("dockerfile", (IMAGE,), {})),
    ("manifest", [IMAGE], IMG, ("manifest", (IMAGE,), {})),
    ("size", [IMAGE], IMG, ("pull_size", (IMAGE,), {})),
    (
        "size",
        [IMAGE, "--have", GITEA],
        {**IMG, "have": [GITEA]},
        ("pull_size", (IMAGE,), {"have": [GITEA]}),
    ),
    (
        "compare",
        [IMAGE, GITEA],
        {"image1": IMAGE, "image2": GITEA},
        ("compare", (IMAGE, GITEA), {}),
    ),
    ("updates", [IMAGE], IMG, ("updates", (IMAGE,), {})),
    ("upgrade", [IMAGE], IMG, ("upgrade", (IMAGE,), {})),
    (
        "updates",
        [GITEA, "--base", IMAGE],
        {"repository": GITEA, "base": IMAGE},
        ("updates", (GITEA,), {"base": IMAGE}),
    ),
    ("sbom", [SUPPLY], {"repository": SUPPLY}, ("sbom", (SUPPLY,), {})),
    ("provenance", [SUPPLY], {"repository": SUPPLY}, ("provenance", (SUPPLY,), {})),
    ("vulns", [SUPPLY], {"repository": SUPPLY}, ("vulns", (SUPPLY,), {})),
    (
        "vulns",
        [SUPPLY, "--severity", "medium"],
        {"repository": SUPPLY, "severity": "medium"},
        ("vulns", (SUPPLY,), {"severity": "medium"}),
    ),
    (
        "whoami",
        ["registry.example.com"],
        {"registry": "registry.example.com"},
        ("whoami", ("registry.example.com",), {}),
    ),
    ("ratelimit", [IMAGE], {"repository": IMAGE}, ("pull_rate_limit", (IMAGE,), {})),
    ("repos", ["bitnami"], {"namespace": "bitnami"}, ("repositories", ("bitnami",), {})),
    (
        "repos",
        ["bitnami", "--sort", "name", "--filter", "r*"],
        {"namespace": "bitnami", "sort": "name", "pattern": "r*"},
        ("repositories", ("bitnami",), {"sort": "name", "pattern": "r*"}),
    ),
    ("readme", ["nginx"], {"repository": "nginx"}, ("readme", ("nginx",), {})),
    ("orgs", [], {}, ("organisations", (), {})),  # signed in: see SIGNED_IN
    ("referrers", [SUPPLY], {"repository": SUPPLY}, ("referrers", (SUPPLY,), {})),
    ("verify", [SUPPLY], {"repository": SUPPLY}, ("verify", (SUPPLY,), {})),
    (
        "files",
        [f"{FILES_REPO}:2.0"],
        {"repository": FILES_REPO, "tag": "2.0"},
        ("files", (f"{FILES_REPO}:2.0", None), {}),
    ),
    (
        "files",
        [f"{FILES_REPO}:2.0", "/etc", "--find", "os-*"],
        {"repository": FILES_REPO, "tag": "2.0", "path": "/etc", "find": "os-*"},
        ("files", (f"{FILES_REPO}:2.0", "/etc"), {"find": "os-*"}),
    ),
    (
        "cat",
        [f"{FILES_REPO}:2.0", "/etc/os-release"],
        {"repository": FILES_REPO, "path": "/etc/os-release", "tag": "2.0"},
        ("read_text", (f"{FILES_REPO}:2.0", "/etc/os-release"), {}),
    ),
    (
        "diff",
        [f"{FILES_REPO}:1.0", f"{FILES_REPO}:2.0"],
        {"image1": f"{FILES_REPO}:1.0", "image2": f"{FILES_REPO}:2.0"},
        ("diff_files", (f"{FILES_REPO}:1.0", f"{FILES_REPO}:2.0", None), {}),
    ),
    (
        "waste",
        [f"{FILES_REPO}:2.0"],
        {"repository": FILES_REPO, "tag": "2.0"},
        ("waste", (f"{FILES_REPO}:2.0",), {}),
    ),
]
SIGNED_IN = {"orgs"}
# Commands whose MCP answer is a window of the same model (a README cut to max_chars).
BOUNDED_FOR_A_MODEL = {"readme"}  # commands run with Docker Hub credentials in the environment


def test_every_command_with_both_faces_has_a_parity_case() -> None:
    assert {c[0] for c in PARITY} == {c.name for c in BOTH}, (
        "add a PARITY case for every command that has a CLI command and an MCP tool"
    )


# Wall-clock stamps of the moment of the call (not of the data).
MOMENTS = frozenset(
    {"scanned_at", "referrers_api_remembered", "download"}
)  # per call or per process


def _strip_advice(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            k: _strip_advice(v)
            for k, v in data.items()
            if k not in advice.ADVICE_FIELDS and k not in MOMENTS
        }
    if isinstance(data, list):
        return [_strip_advice(v) for v in data]
    return data


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "cli_args", "mcp_args", "call"),
    PARITY,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(PARITY)],
)
async def test_cli_and_mcp_give_the_same_answer(
    world: responses.RequestsMock,
    name: str,
    cli_args: list[str],
    mcp_args: dict[str, Any],
    call: tuple[str, tuple[Any, ...], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    command = commands.get(name)
    assert command.mcp is not None
    if name in SIGNED_IN:
        monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
        monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_SECRET")
    method, args, kwargs = call
    with DockerHubService(Settings.from_env(backoff_factor=0.0)) as service:
        raw = getattr(service, method)(*args, **kwargs)
        async with Client(build_server(service)) as client:
            answer = await client.call_tool(command.mcp.name, mcp_args)
    assert answer.is_error is False, answer.content
    via_mcp = answer.structured_content
    result = runner.invoke(app, [*command.path, *cli_args, "--json"])
    # The CLI's exit code may be decided by the result (verify: 11 unsigned).
    expected_code = commands.resolve(command.cli_exit)(raw) if command.cli_exit else 0
    assert result.exit_code == expected_code, result.stderr
    via_cli = json.loads(result.stdout)

    assert (
        _strip_advice(via_cli)
        == _strip_advice(via_mcp)
        == _strip_advice(raw.model_dump(mode="json"))
    )
    # The advice is the same data, worded by each front-end in its own words.
    expected_cli = advice.word_model(raw, cli_words).model_dump(mode="json")
    worded = advice.word_model(raw, model_words)
    if command.mcp.adjust:  # the MCP face bounds long results for a model (same model)
        defaults = {p.mcp: p.default for p in command.mcp_params() if not p.required}
        worded = commands.resolve(command.mcp.adjust)(worded, {**defaults, **mcp_args})
    expected_mcp = worded.model_dump(mode="json")
    for data in (via_cli, via_mcp, expected_cli, expected_mcp):
        for moment in MOMENTS:
            data.pop(moment, None)
    assert via_cli == expected_cli
    assert via_mcp == expected_mcp
    for text in (result.stdout, result.stderr, json.dumps(via_mcp)):
        assert "\ue000" not in text and "\\ue000" not in text  # no raw marker leaks


def test_advice_is_worded_by_each_front_end() -> None:
    text = (
        f"pick one with {advice.param('platform')}; pass {advice.param('base', 'IMAGE')}; "
        f"list them with {advice.command('tags', 'nginx')}; or {advice.command('cache info')}"
    )
    assert cli_words(text) == (
        "pick one with --platform; pass --base IMAGE; list them with `dockerhub tags nginx`; "
        "or `dockerhub cache info`"
    )
    assert model_words(text) == (
        "pick one with the platform argument; pass base=IMAGE; list them with "
        "docker_list_tags; or `dockerhub cache info` on the server host"
    )
    assert advice.plain(text).startswith("pick one with `platform`; pass `base=IMAGE`")
    assert advice.references(text)[0] == ("param", "platform", None)


# -- no CLI words in anything a model reads -------------------------------------------------------

FLAG_NAMES = sorted(
    {
        f.removeprefix("--")
        for p in [
            *commands.GLOBAL_OPTIONS,
            *commands.OUTPUT_OPTIONS,
            *(p for c in commands.COMMANDS for p in c.params),
        ]
        for f in p.flags
        if f.startswith("--")
    }
)
CLI_FLAG = re.compile(r"(?<![\w-])--(" + "|".join(map(re.escape, FLAG_NAMES)) + r")(?![\w-])")


def _no_cli_words(text: str, where: str) -> None:
    found = CLI_FLAG.search(text)
    assert found is None, f"CLI flag {found.group(0) if found else ''!r} in {where}: {text!r}"
    assert "\ue000" not in text, f"raw advice marker in {where}"


@pytest.mark.anyio
async def test_no_cli_flag_in_descriptions_schemas_or_instructions() -> None:
    with DockerHubService(Settings.from_env()) as service:
        async with Client(build_server(service)) as client:
            tools = (await client.list_tools()).tools
            _no_cli_words(client.instructions or "", "instructions")
    for tool in tools:
        _no_cli_words(tool.description or "", tool.name)
        _no_cli_words(json.dumps(tool.input_schema), f"{tool.name} input schema")


# Calls that end in errors or carry notes on the test images, plus every PARITY call.
ERROR_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("docker_analyze_layers", {**IMG, "platform": "linux/s390x"}),
    ("docker_get_manifest", {"repository": REPO, "tag": "9.9"}),
    ("docker_get_image_details", {"repository": REPO, "tag": "9.9"}),
    ("docker_get_stats", {"repository": REPO}),
    ("docker_get_sbom", {"repository": IMAGE}),
    ("docker_get_provenance", {"repository": GITEA}),
    ("docker_get_vulnerabilities", {"repository": GITEA}),
    ("docker_estimate_pull_size", {**IMG, "have": [GITEA] * 11}),
    ("docker_list_tags", {"repository": "portainer/agent", "limit": 500}),
    ("docker_list_tags", {"repository": REPO, "sort": "size"}),
    ("docker_search_images", {"query": ""}),
    ("docker_track_base_updates", {"repository": REPO, "tag": "9.9"}),
    ("docker_compare_images", {"image1": IMAGE, "image2": f"{REPO}:9.9"}),
]


@pytest.fixture
async def world_client(world: responses.RequestsMock) -> AsyncIterator[Client]:
    with DockerHubService(Settings.from_env(backoff_factor=0.0)) as service:
        async with Client(build_server(service)) as client:
            yield client


@pytest.mark.anyio
async def test_no_cli_flag_in_any_tool_error_or_note(world_client: Client) -> None:
    calls = [(commands.get(c[0]).mcp.name, c[2]) for c in PARITY] + ERROR_CALLS  # type: ignore[union-attr]
    errors = 0
    for tool, args in calls:
        result = await world_client.call_tool(tool, args)
        text = result.content[0].text if result.content else ""
        _no_cli_words(text, f"{tool}({args})")
        if result.is_error:
            errors += 1
            assert "\n" not in text, text
        else:
            _no_cli_words(json.dumps(result.structured_content), f"{tool}({args})")
    assert errors >= len(ERROR_CALLS)


@pytest.mark.anyio
async def test_offline_misses_speak_of_the_server_setting(
    world: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with DockerHubService(Settings.from_env(offline=True)) as service:
        async with Client(build_server(service)) as client:
            result = await client.call_tool("docker_get_manifest", IMG)
    text = result.content[0].text
    assert result.is_error and "offline mode (DOCKERHUB_OFFLINE)" in text
    _no_cli_words(text, "offline miss")
    cli = runner.invoke(app, ["--offline", "manifest", IMAGE])
    assert cli.exit_code != 0 and "--offline" in cli.stderr and "\ue000" not in cli.stderr


def test_cli_words_its_own_flags() -> None:
    result = runner.invoke(app, ["size", IMAGE, *sum((["--have", "x"] for _ in range(11)), [])])
    assert result.exit_code == 2 and "--have accepts at most 10" in result.stderr


def test_required_marker_is_not_a_value() -> None:
    assert repr(REQUIRED) == "REQUIRED"
    assert all(isinstance(c, Command) for c in commands.COMMANDS)
