"""The CLI edge: JSON on stdout, one-line errors on stderr, the exit-code table."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from dockerhub_cli import __version__
from dockerhub_cli.cli import app
from tests.unit.hub_fixtures import HUB, load

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"dockerhub {__version__}"


def test_search_json_is_clean_stdout(rsps) -> None:
    rsps.get(f"{HUB}/api/search/v4", status=502, body="bad gateway")  # -> classic search
    rsps.get(f"{HUB}/v2/search/repositories/", json=load("search_nginx.json"))
    result = runner.invoke(app, ["search", "nginx", "--limit", "3", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"query", "page", "count", "results"}
    assert set(data["results"][0]) >= {
        "name",
        "description",
        "star_count",
        "pull_count",
        "is_official",
        "is_automated",
    }
    assert data["count"] == 291220 and result.stderr == ""


def test_search_table(rsps) -> None:
    rsps.get(f"{HUB}/api/search/v4", status=404, json={"message": "not found"})
    rsps.get(f"{HUB}/v2/search/repositories/", json=load("search_nginx.json"))
    result = runner.invoke(app, ["search", "nginx"])
    assert result.exit_code == 0
    assert "nginx/nginx-ingress" in result.stdout and "291,220 matches" in result.stdout


def test_tags_json(rsps) -> None:
    rsps.get(
        f"{HUB}/v2/namespaces/portainer/repositories/agent/tags",
        json=load("tags_portainer_agent_page1.json"),
    )
    result = runner.invoke(app, ["tags", "portainer/agent", "--limit", "2", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["repository"] == "portainer/agent" and data["count"] == 3
    tag = data["tags"][0]
    assert set(tag) >= {"name", "digest", "last_updated", "size", "platforms"}
    assert tag["platforms"] == ["linux/amd64", "linux/arm64", "linux/arm/v7"]
    assert tag["size"] == 42927662 and tag["last_updated"].startswith("2026-07-30T04:44:13")


def test_tags_table_has_human_sizes(rsps) -> None:
    rsps.get(
        f"{HUB}/v2/namespaces/portainer/repositories/agent/tags",
        json=load("tags_portainer_agent_page1.json"),
    )
    result = runner.invoke(app, ["tags", "portainer/agent", "--limit", "2"])
    assert result.exit_code == 0
    assert "42.9 MB" in result.stdout and "alpine-sts" in result.stdout


@pytest.mark.parametrize("position", ["before", "after"])
def test_global_options_before_or_after_the_command(rsps, position) -> None:
    rsps.get(f"{HUB}/api/search/v4", json=load("search_v4_postgres.json"))
    args = ["search", "nginx", "--json"]
    args = ["--no-cache", *args] if position == "before" else [*args, "--no-cache"]
    for _ in range(2):
        assert runner.invoke(app, args).exit_code == 0
    assert len(rsps.calls) == 2  # --no-cache: nothing served from the cache


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["tags", "Nginx"], 2, "must be lowercase"),
        (["tags", "nginx:1.27"], 2, "expected a repository"),
        (["search", "x" * 101], 2, "at most 100 characters"),
        (["search", "nginx", "--limit", "0"], 2, "--limit"),
        (["tags", "nginx", "--sort", "size"], 2, "--sort must be"),
        (["tags", "nope", "--offline"], 6, "not in the cache"),
        (["search", "nginx", "--offline", "--no-cache"], 2, "cannot be used together"),
    ],
)
def test_errors_are_one_line_on_stderr(args, code, words) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert words in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_not_found_exit_3(rsps) -> None:
    rsps.get(
        f"{HUB}/v2/namespaces/library/repositories/nope/tags",
        status=404,
        json={"message": "object not found", "errinfo": {}},
    )
    result = runner.invoke(app, ["tags", "nope"])
    assert result.exit_code == 3 and "tags of nope not found" in result.stderr


def test_rate_limited_exit_5(rsps) -> None:
    rsps.get(
        f"{HUB}/v2/search/repositories/",
        status=429,
        headers={"Retry-After": "120"},
        json={"detail": "Rate limit exceeded", "error": False},
    )
    result = runner.invoke(app, ["search", "nginx"])
    assert result.exit_code == 5 and "retry in 120 s" in result.stderr


def test_network_error_exit_6() -> None:
    result = runner.invoke(app, ["tags", "127.0.0.1:9/app"], env={"DOCKERHUB_TIMEOUT": "2"})
    assert result.exit_code == 6 and "cannot connect to 127.0.0.1:9" in result.stderr


def test_debug_shows_requests_and_traceback_but_no_secret(rsps, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERHUB_USERNAME", "alice")
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_TOPSECRET")
    rsps.post(f"{HUB}/v2/auth/token", json={"access_token": "JWT.SECRET.PART"})
    rsps.get(f"{HUB}/v2/search/repositories/", status=404, json={"message": "object not found"})
    result = runner.invoke(app, ["search", "nginx", "--debug"])
    assert result.exit_code == 3
    assert "Traceback" in result.stderr and "debug: GET" in result.stderr
    for secret in ("dckr_pat_TOPSECRET", "JWT.SECRET.PART"):
        assert secret not in result.stderr and secret not in result.stdout


def test_python_dash_m_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dockerhub_cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == f"dockerhub {__version__}"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["search", "nginx", "--limit", "0"],
            "--limit must be a whole number between 1 and 100 (got '0')",
        ),
        (["tags"], "Missing argument 'REPOSITORY'"),
        (["no-such-command"], "No such command"),
    ],
)
def test_usage_errors_are_one_line_from_the_console_script(args, words) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dockerhub_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]
    assert "--help" in lines[0]


def test_bare_command_shows_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dockerhub_cli"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Usage" in done.stdout + done.stderr and "search" in done.stdout + done.stderr


def test_bad_default_platform_names_its_source(monkeypatch) -> None:
    monkeypatch.setenv("DOCKERHUB_PLATFORM", "garbage/")
    result = runner.invoke(app, ["tags", "127.0.0.1:9/app"])
    assert result.exit_code == 2
    assert "default platform 'garbage/' (from env DOCKERHUB_PLATFORM)" in result.stderr


def test_garbage_docker_config_is_reported_then_ignored(rsps, isolated_env) -> None:
    config = isolated_env / "home" / ".docker" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text("{not json")
    rsps.get(
        "https://registry.example.com/v2/team/app/tags/list",
        json={"name": "team/app", "tags": ["1.0"]},
    )
    rsps.get(
        "https://registry.example.com/v2/team/app/tags/list",
        status=401,
        headers={"WWW-Authenticate": 'Basic realm="r"'},
    )
    result = runner.invoke(app, ["tags", "registry.example.com/team/app", "--json"])
    assert result.exit_code == 0, result.stderr
    assert f"ignoring {config}: not valid JSON" in result.stderr


def test_circuit_breaker_defaults_off_for_one_shot_commands_on_for_servers(monkeypatch) -> None:
    from dockerhub_cli.cli.app import run_options, run_settings

    run_options().long_lived = False
    assert run_settings().circuit_breaker is False
    run_options().long_lived = True
    try:
        assert run_settings().circuit_breaker is True
        monkeypatch.setenv("DOCKERHUB_CIRCUIT_BREAKER", "0")
        assert run_settings().circuit_breaker is False
    finally:
        run_options().long_lived = False
