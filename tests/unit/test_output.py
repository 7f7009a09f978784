"""Output conventions shared by every command: --json, --format, --quiet, NO_COLOR, no TTY."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from rich.console import Console

from dockerhub_cli.errors import InvalidInputError
from dockerhub_cli.models.core import SearchResult, SearchResults, Tag, TagList
from dockerhub_cli.render import format_rows, quiet_lines
from tests.unit.clihelp import run

TAGS_URL = "https://hub.docker.com/v2/namespaces/library/repositories/nginx/tags"
TAGS = {
    "count": 2,
    "next": None,
    "results": [
        {
            "name": "1.27",
            "digest": "sha256:" + "a" * 64,
            "full_size": 75600911,
            "last_updated": "2026-01-02T03:04:05.123456789Z",
            "images": [
                {"os": "linux", "architecture": "amd64"},
                {"os": "linux", "architecture": "arm64", "variant": "v8"},
                {"os": "unknown", "architecture": "unknown"},
            ],
        },
        {"name": "latest", "digest": None, "full_size": None, "images": []},
    ],
}


@pytest.fixture
def hub_tags() -> responses.RequestsMock:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(TAGS_URL, json=TAGS)
        yield rsps


def test_format_template_rows_with_escapes(hub_tags: responses.RequestsMock) -> None:
    result = run("tags", "nginx", "--sort", "name", "--format", r"{name}\t{digest}\t{size}")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"1.27\tsha256:{'a' * 64}\t75600911\nlatest\t\t\n"


def test_format_lists_and_specs(hub_tags: responses.RequestsMock) -> None:
    out = run("tags", "nginx", "--sort", "name", "--format", "{name:>8}|{platforms}").stdout
    assert out.splitlines() == ["    1.27|linux/amd64,linux/arm64/v8", "  latest|"]


def test_unknown_field_lists_valid_fields(hub_tags: responses.RequestsMock) -> None:
    result = run("tags", "nginx", "--format", "{name} {sha}")
    assert result.exit_code == 2
    assert "unknown field {sha}" in result.stderr
    assert "valid fields: name, digest, last_updated, size, platforms, media_type" in result.stderr


def test_quiet_prints_names_only(hub_tags: responses.RequestsMock) -> None:
    result = run("tags", "nginx", "--sort", "name", "-q")
    assert result.exit_code == 0
    assert result.stdout == "1.27\nlatest\n"


def test_format_and_json_conflict(hub_tags: responses.RequestsMock) -> None:
    result = run("tags", "nginx", "--json", "--format", "{name}")
    assert result.exit_code == 2 and "--format and --json" in result.stderr


def test_json_keeps_bytes_and_table_is_human(hub_tags: responses.RequestsMock) -> None:
    data = run("tags", "nginx", "--json").stdout
    assert '"size": 75600911' in data
    table = run("tags", "nginx").stdout
    assert "75.6 MB" in table and "75600911" not in table


def test_no_ansi_when_piped_even_without_no_color(hub_tags: responses.RequestsMock) -> None:
    for env in ({}, {"NO_COLOR": "1"}):
        result = run("tags", "nginx", env=env)
        assert "\x1b[" not in result.stdout and "\x1b[" not in result.stderr


def test_no_color_env_disables_colour_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from dockerhub_cli import render

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")  # pretend a terminal
    console = render.stderr_console()
    with console.capture() as capture:
        console.print("[red]x[/red]")
    assert "\x1b[31m" not in capture.get()


@pytest.mark.parametrize(
    ("stderr_tty", "options", "shown"),
    [
        (True, {}, True),  # stdout may be a pipe or a file: progress goes to the terminal
        (False, {}, False),  # stderr is a pipe or a file: nothing
        (True, {"json": True}, False),
        (True, {"quiet": True}, False),
        (True, {"template": "{name}"}, False),
    ],
)
def test_progress_only_on_a_terminal_stderr_for_people(
    monkeypatch: pytest.MonkeyPatch, stderr_tty: bool, options: dict[str, object], shown: bool
) -> None:
    import sys
    from contextlib import nullcontext

    from dockerhub_cli import render

    monkeypatch.delenv("DOCKERHUB_NO_SPINNER")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: stderr_tty, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    monkeypatch.setattr(render, "output", render.OutputOptions(**options))  # type: ignore[arg-type]
    calls = []

    class _Console(Console):
        def __init__(self) -> None:
            super().__init__(file=io.StringIO(), force_terminal=True)

        def status(self, *args: object, **kwargs: object) -> Any:
            calls.append(args)
            return nullcontext()

    monkeypatch.setattr(render, "stderr_console", _Console)
    with render.progress("working", detail=lambda: "3 requests"):
        pass
    assert bool(calls) is shown
    if shown:
        assert str(calls[0][0].__rich__()) == "working (3 requests)"
    with render.transfer_progress("Reading") as bar:
        assert (bar is not None) is shown


def test_every_result_command_has_the_output_options() -> None:
    import typer.main

    from dockerhub_cli.cli import app

    root = typer.main.get_command(app)
    for name in ("search", "tags", "whoami", "ratelimit", "login", "logout"):
        opts = {o for p in root.commands[name].params for o in p.opts}
        assert {"--json", "--format", "--quiet", "-q"} <= opts, name
    path_opts = {o for p in root.commands["config"].commands["path"].params for o in p.opts}
    assert "--format" not in path_opts


def test_format_rows_generic_over_models() -> None:
    results = SearchResults(
        query="x",
        page=1,
        count=1,
        results=[SearchResult(name="nginx", star_count=3, is_official=True)],
    )
    assert format_rows(results, "{name} {star_count} {is_official}") == "nginx 3 true\n"
    tags = TagList(repository="r", tags=[], source="hub")
    assert format_rows(tags, "{name}") == ""  # empty list: fields still validated
    with pytest.raises(InvalidInputError, match="valid fields: name"):
        format_rows(tags, "{nope}")
    with pytest.raises(InvalidInputError, match="named fields"):
        format_rows(tags, "{}")
    with pytest.raises(InvalidInputError, match="literal braces"):
        format_rows(tags, "{name")
    when = datetime(2026, 1, 2, tzinfo=UTC)
    dated = TagList(repository="r", tags=[Tag(name="a", last_updated=when)], source="hub")
    assert format_rows(dated, "{last_updated}") == "2026-01-02T00:00:00+00:00\n"
    assert format_rows(dated, r"{name}\\t") == "a\\t\n"  # an escaped backslash stays literal
    assert quiet_lines(results) == ["nginx"]


def test_format_reaches_nested_fields_like_docker_inspect_f() -> None:
    """`--format '{config.user}'` (docker inspect -f '{{.Config.User}}'), `{config[env]}`,
    `{platforms[1].digest}`, `{config.labels[k]}`: the row's nested fields, each printed as
    a top-level field is; a wrong nested name says which names there are."""
    from dockerhub_cli.models.images import ImageConfigInfo, ImageInspection, PlatformEntry

    def entry(arch: str, digest: str) -> PlatformEntry:
        return PlatformEntry(
            platform=f"linux/{arch}",
            os="linux",
            architecture=arch,
            digest=digest,
            media_type="m",
            manifest_size=1,
        )

    model = ImageInspection(
        reference="r:1",
        registry="docker.io",
        repository="library/r",
        media_type="m",
        digest="sha256:" + "a" * 64,
        size=123,
        config=ImageConfigInfo(env=["A=1", "B=2"], user="1000", labels={"k": "v", "e": ""}),
        platforms=[entry("amd64", "sha256:" + "b" * 64), entry("arm64", "sha256:" + "c" * 64)],
    )
    assert format_rows(model, "{config.user}|{config[user]}|{config.env}") == "1000|1000|A=1,B=2\n"
    assert format_rows(model, "{platforms[1].digest} {platforms[0].platform:>13}") == (
        "sha256:" + "c" * 64 + "   linux/amd64\n"
    )
    assert format_rows(model, "{config.labels[k]}{config.entrypoint}.") == "v.\n"
    assert format_rows(model, "{size:>5}") == "  123\n"  # a top-level field as before
    with pytest.raises(InvalidInputError, match=r"\{config.usr\}.*valid: env, entrypoint"):
        format_rows(model, "{config.usr}")
    with pytest.raises(InvalidInputError, match=r"platforms\[5\]: 2 items"):
        format_rows(model, "{platforms[5].digest}")
    with pytest.raises(InvalidInputError, match=r"config.labels\[nope\]: no such key; keys: k, e"):
        format_rows(model, "{config.labels[nope]}")
