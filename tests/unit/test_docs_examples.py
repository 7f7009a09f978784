"""The documented examples for `repos`, `orgs`, `readme` and `search`
(docs/src/command-details.md, shown in docs/commands.md) are run: each `$ dockerhub ...`
line of those sections is invoked against the Hub fixtures (tests/fixtures/hub, shapes in
SOURCES.md) and its output compared with the README's (relative times normalised; a `...`
line stands for lines not shown). The other examples: tests/support/docs_examples.py."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from tests.support.docs_examples import Block, all_blocks, report
from tests.support.docs_fixtures import run_with_stand_in
from tests.unit.hub_fixtures import HUB, load

README = (Path(__file__).resolve().parents[2] / "docs" / "src" / "command-details.md").read_text(
    encoding="utf-8"
)
SECTIONS = ("dockerhub repos", "dockerhub orgs", "dockerhub readme", "dockerhub search")
_AGO = re.compile(r"\b(\d+ (minute|hour|day|month|year)s?|just now)( ago)?")


def _examples() -> list[tuple[str, str, list[str]]]:
    """(section, command line, README output lines) for every example of SECTIONS."""
    found = []
    for section in SECTIONS:
        start = README.index(f"### `{section}")
        end = README.find("\n### ", start + 1)
        body = README[start : end if end > 0 else len(README)]
        for block in re.findall(r"```console\n(.*?)```", body, re.DOTALL):
            current: tuple[str, list[str]] | None = None
            for line in block.splitlines():
                if line.startswith("$ "):
                    current = (line[2:], [])
                    found.append((section, current[0], current[1]))
                elif current is not None:
                    current[1].append(line)
    return found


EXAMPLES = _examples()


def _normal(line: str) -> str:
    return _AGO.sub("<time>", line).rstrip()


def _mock_hub(rsps: responses.RequestsMock, *, site_search_up: bool) -> None:
    repos = f"{HUB}/v2/namespaces/bitnami/repositories"
    rsps.get(repos, json=load("repos_bitnami_page1.json"))
    rsps.get(
        f"{repos}?ordering=last_updated&page=2&page_size=2", json=load("repos_bitnami_page2.json")
    )
    rsps.get(f"{HUB}/v2/namespaces/library/repositories/nginx", json=load("repository_nginx.json"))
    rsps.post(f"{HUB}/v2/auth/token", json={"access_token": "a.eyJleHAiOjQxMDI0NDQ4MDB9.c"})
    rsps.get(f"{HUB}/v2/user/orgs", json=load("orgs_page1.json"))
    if site_search_up:
        rsps.get(f"{HUB}/api/search/v4", json=load("search_v4_postgres.json"))
    else:
        rsps.get(f"{HUB}/api/search/v4", status=503, body="no healthy upstream")
    rsps.get(f"{HUB}/v2/search/repositories/", json=load("search_nginx.json"))


def test_the_sections_have_examples() -> None:
    assert {section for section, _, _ in EXAMPLES} == set(SECTIONS)


@pytest.mark.parametrize(("section", "line", "expected"), EXAMPLES, ids=[e[1] for e in EXAMPLES])
def test_readme_example_runs_as_shown(
    monkeypatch: pytest.MonkeyPatch, section: str, line: str, expected: list[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_example")
    words = shlex.split(line)
    while "=" in words[0]:  # NAME=value prefixes
        name, value = words.pop(0).split("=", 1)
        monkeypatch.setenv(name, value)
    assert words[0] == "dockerhub"
    outage = any("(classic search)" in e for e in expected)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _mock_hub(rsps, site_search_up=not outage)
        result = CliRunner().invoke(app, words[1:])
    failed = any(e.startswith("error:") for e in expected)
    assert (result.exit_code != 0) == failed, (line, result.output)
    if "--json" in words:  # a shortened JSON line: its concrete top-level values hold
        data = json.loads(result.stdout)
        for key, value in re.findall(r'"(\w+)": ("[^"]*"|\d+|true|false)[,}]', expected[0]):
            if key in data:
                assert data[key] == json.loads(value), (line, key)
        return
    while expected and not expected[-1].strip():
        expected = expected[:-1]
    talk = " ".join(result.stderr.split())  # stderr is wrapped at the terminal's width
    for want in (x for x in expected if x.startswith(("warning:", "error:"))):
        for part in " ".join(want.split()).split("(...)"):
            assert part in talk, (line, part, talk)
    got = [_normal(x) for x in result.stdout.splitlines()]
    shown = [
        _normal(x)
        for x in expected
        if x.strip() != "..." and not x.startswith(("warning:", "error:"))
    ]
    if any(x.strip() == "..." for x in expected):
        for want in shown:  # lines the README shows appear in order, '...' elides
            assert want in got, (line, want, got)
    else:
        assert got == shown, (line, got)


STAND_IN = [b for b in all_blocks() if b.kind == "stand-in"]


@pytest.mark.parametrize("block", STAND_IN, ids=[b.id for b in STAND_IN])
def test_stand_in_example_prints_what_the_docs_show(block: Block, tmp_path: Path) -> None:
    """Blocks marked `<!-- run with: NAME -->` run against that Docker Hub / OSV stand-in
    (tests/support/docs_fixtures.py); `make docs-update` rewrites their output from this run."""
    outcomes = run_with_stand_in(block, tmp_path / "work")
    assert all(o.ok for o in outcomes), report(block, outcomes)
