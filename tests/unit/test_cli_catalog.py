"""The CLI edge of `repos`, `orgs`, `readme` and the search filters (CliRunner)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dockerhub_cli.cli import app
from tests.unit.hub_fixtures import HUB, load

runner = CliRunner()
REPOS = f"{HUB}/v2/namespaces/bitnami/repositories"
NGINX = f"{HUB}/v2/namespaces/library/repositories/nginx"


def test_repos_table_and_json(rsps) -> None:
    rsps.get(REPOS, json=load("repos_bitnami_page1.json"))
    table = runner.invoke(app, ["repos", "bitnami", "--limit", "2"])
    assert table.exit_code == 0, table.stderr
    assert "bitnami/charts-redis" in table.stdout and "helm" in table.stdout
    assert "public" in table.stdout and "2 shown, page 1, 3 in bitnami" in table.stdout
    data = json.loads(runner.invoke(app, ["repos", "bitnami", "--limit", "2", "--json"]).stdout)
    assert set(data) >= {"namespace", "count", "page", "sort", "repositories", "complete", "notes"}
    assert set(data["repositories"][0]) >= {
        "repository", "description", "star_count", "pull_count", "last_updated",
        "is_private", "visibility", "content_types", "categories", "storage_size", "archived",
    }  # fmt: skip


def test_repos_quiet_prints_names(rsps) -> None:
    rsps.get(REPOS, json=load("repos_bitnami_page1.json"))
    result = runner.invoke(app, ["repos", "bitnami", "-n", "2", "-q"])
    assert result.stdout.splitlines() == ["bitnami/redis", "bitnami/charts-redis"]


def test_repos_bad_sort_and_namespace_are_usage_errors(rsps) -> None:
    assert runner.invoke(app, ["repos", "bitnami", "--sort", "size"]).exit_code == 2
    result = runner.invoke(app, ["repos", "Not/Valid"])
    assert result.exit_code == 2 and "not a Docker Hub namespace" in result.stderr
    assert len(rsps.calls) == 0


def test_orgs_anonymous_exits_with_the_auth_code(rsps) -> None:
    result = runner.invoke(app, ["orgs"])
    assert result.exit_code == 4 and result.stdout == ""
    assert "signed-in Docker Hub account" in result.stderr and "dockerhub login" in result.stderr


def test_orgs_table_signed_in(rsps, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_SECRET")
    rsps.post(f"{HUB}/v2/auth/token", json={"access_token": "a.eyJleHAiOjQxMDI0NDQ4MDB9.c"})
    rsps.get(f"{HUB}/v2/user/orgs", json=load("orgs_page1.json"))
    result = runner.invoke(app, ["orgs"])
    assert result.exit_code == 0, result.stderr
    assert "acme-labs" in result.stdout and "developers, ci" in result.stdout
    assert "personal namespace alice" in result.stderr


def test_readme_renders_markdown_links_as_text_and_control_characters_visibly(rsps) -> None:
    body = load("repository_nginx.json")
    body["full_description"] += (
        "\nevil \x1b]8;;https://x.example\x07click\x1b]8;;\x07 [bold]x[/bold]\n"
    )
    rsps.get(NGINX, json=body)
    result = runner.invoke(app, ["readme", "nginx"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]8;;https://x.example\\x07click" in out
    assert "the NGINX Docker Maintainers" in out and "https://github.com/nginx/docker-nginx" in out
    assert "[bold]x[/bold]" in out  # publisher text is never Rich markup
    assert "written by its publisher" in out


def test_readme_raw_is_the_markdown(rsps) -> None:
    rsps.get(NGINX, json=load("repository_nginx.json"))
    result = runner.invoke(app, ["readme", "nginx", "--raw"])
    assert result.exit_code == 0
    assert result.stdout.startswith("# Quick reference\n\n-\t**Maintained by**:\n")
    assert "[the NGINX Docker Maintainers](https://github.com/nginx/docker-nginx)" in result.stdout


def test_readme_json_keeps_the_exact_text(rsps) -> None:
    body = load("repository_nginx.json")
    body["full_description"] = "a\x1bb"
    rsps.get(NGINX, json=body)
    data = json.loads(runner.invoke(app, ["readme", "nginx", "--json"]).stdout)
    assert data["markdown"] == "a\x1bb" and data["publisher_text"] is True


def test_search_filters_table_and_fallback_warning(rsps) -> None:
    rsps.get(f"{HUB}/api/search/v4", json=load("search_v4_postgres.json"))
    result = runner.invoke(
        app, ["search", "postgres", "--badge", "official", "--badge", "verified", "--arch", "arm64"]
    )
    assert result.exit_code == 0, result.stderr
    assert "verified" in result.stdout and "1B+" in result.stdout and "arm64" in result.stdout
    assert "circleci/postgres" not in result.stdout  # badge none: left out
    rsps.replace("GET", f"{HUB}/api/search/v4", status=404, json={"message": "not found"})
    rsps.get(f"{HUB}/v2/search/repositories/", json=load("search_nginx.json"))
    fallback = runner.invoke(app, ["search", "nginx", "--badge", "verified", "--os", "windows"])
    assert fallback.exit_code == 0
    assert "classic search" in fallback.stdout
    assert (
        "filters NOT applied" in fallback.stderr and "operating system windows" in fallback.stderr
    )


def test_search_json_keeps_todays_fields_and_adds_the_new_ones(rsps) -> None:
    rsps.get(f"{HUB}/api/search/v4", json=load("search_v4_postgres.json"))
    data = json.loads(runner.invoke(app, ["search", "postgres", "--json"]).stdout)
    assert set(data) >= {"query", "page", "count", "results", "filtered", "source", "notes"}
    first = data["results"][0]
    assert set(first) >= {
        "name", "description", "star_count", "pull_count", "is_official", "is_automated",
        "badge", "categories", "architectures", "operating_systems", "publisher", "archived",
    }  # fmt: skip
    assert data["results"][2]["archived"] is True


def test_search_bad_sort_is_a_usage_error(rsps) -> None:
    result = runner.invoke(app, ["search", "nginx", "--sort", "stars"])
    assert result.exit_code == 2 and "--sort" in result.stderr and len(rsps.calls) == 0
