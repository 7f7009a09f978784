"""`dockerhub tags` against a real CNCF distribution registry: plain, Bearer token and Basic."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import AuthError, NotFoundError
from dockerhub_cli.service import DockerHubService

runner = CliRunner()


def _docker_login(home: Path, host: str, user: str, password: str) -> None:
    config = home / ".docker" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    config.write_text(json.dumps({"auths": {host: {"auth": auth}}}))


def test_tags_of_a_plain_registry(registry) -> None:
    expected = sorted(registry.seeded.tags("demo/many"))
    with DockerHubService(Settings.from_env()) as svc:
        result = svc.tags(f"{registry.host}/demo/many", all_tags=True, sort="name")
    assert [t.name for t in result.tags] == expected
    assert result.count == len(expected) == 85 and result.complete
    assert result.source == "registry"
    assert all(t.digest is None and t.size is None for t in result.tags)


def test_semver_sort_and_filter_on_real_tags(registry) -> None:
    with DockerHubService(Settings.from_env()) as svc:
        result = svc.tags(f"{registry.host}/demo/many", pattern="1.2.1*-alpine", sort="semver")
    assert [t.name for t in result.tags][:3] == ["1.2.19-alpine", "1.2.18-alpine", "1.2.17-alpine"]
    assert result.count == 10


def test_second_identical_call_makes_zero_requests(registry) -> None:
    args = ["tags", f"{registry.host}/demo/app", "--json"]
    mark = registry.log_mark()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.stderr
    cold = registry.requests_since(mark)
    assert [(e.method, e.route) for e in cold] == [("GET", "/v2/demo/app/tags/list")]
    mark = registry.log_mark()
    second = runner.invoke(app, args)
    assert second.stdout == first.stdout
    assert registry.requests_since(mark) == []
    data = json.loads(first.stdout)
    assert sorted(t["name"] for t in data["tags"]) == sorted(registry.seeded.tags("demo/app"))


def test_token_registry_anonymous_public_pull(token_registry) -> None:
    server = token_registry.token_server
    mark = server.mark()
    with DockerHubService(Settings.from_env()) as svc:
        names = [t.name for t in svc.tags(f"{token_registry.host}/public/app").tags]
        svc.tags(f"{token_registry.host}/public/multi")
    assert "1.0" in names
    tokens = server.requests_since(mark)
    assert len(tokens) == 2 and not any(t.authorization for t in tokens)


def test_token_registry_private_needs_credentials(token_registry, isolated_env) -> None:
    ref = f"{token_registry.host}/private/app"
    with DockerHubService(Settings.from_env()) as svc, pytest.raises(NotFoundError) as info:
        svc.tags(ref)
    assert "not found, or access denied" in str(info.value)
    _docker_login(isolated_env / "home", token_registry.host, "alice", "wonderland")
    with DockerHubService(Settings.from_env()) as svc:
        assert "1.0" in [t.name for t in svc.tags(ref).tags]


def test_token_registry_wrong_password_exit_4(token_registry, isolated_env) -> None:
    _docker_login(isolated_env / "home", token_registry.host, "alice", "not-the-password")
    result = runner.invoke(app, ["tags", f"{token_registry.host}/private/app"])
    assert result.exit_code == 4, result.stderr
    assert "refused to authenticate" in result.stderr
    assert "not-the-password" not in result.stderr + result.stdout


def test_basic_auth_registry(basic_registry, isolated_env) -> None:
    ref = f"{basic_registry.host}/demo/app"
    with DockerHubService(Settings.from_env()) as svc, pytest.raises(AuthError):
        svc.tags(ref)
    _docker_login(isolated_env / "home", basic_registry.host, "bob", "builder")
    with DockerHubService(Settings.from_env()) as svc:
        assert "latest" in [t.name for t in svc.tags(ref).tags]


def test_console_entry_point_against_the_real_registry(registry, isolated_env) -> None:
    env = {**os.environ, "DOCKERHUB_CACHE_DIR": str(isolated_env / "cache-subprocess")}
    done = subprocess.run(
        [sys.executable, "-m", "dockerhub_cli", "tags", f"{registry.host}/demo/multi", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(t["name"] for t in json.loads(done.stdout)["tags"]) == sorted(
        registry.seeded.tags("demo/multi")
    )
    missing = subprocess.run(
        [sys.executable, "-m", "dockerhub_cli", "tags", f"{registry.host}/demo/nope"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert missing.returncode == 3 and "not found" in missing.stderr
