"""The result cache end to end: the console entry (`python -m dockerhub_cli`) in a subprocess
against a real registry; the second identical run is replayed without Typer or requests."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.import_probe import run_watching_imports

# The heavy modules a replayed run must not import.
HEAVY = (
    "typer",
    "rich",
    "requests",
    "requests_cache",
    "pydantic",
    "click",
    "dockerhub_cli.service",
)


def _run(
    args: list[str], env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    return run_watching_imports(args, env, HEAVY)


@pytest.fixture
def env(isolated_env: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DOCKERHUB_CACHE_DIR": str(isolated_env / "cache"),
        "DOCKERHUB_DEBUG_FASTPATH": "1",
    }


def _results(env: dict[str, str]) -> list[Path]:
    return sorted((Path(env["DOCKERHUB_CACHE_DIR"]) / "results").glob("*.json"))


@pytest.mark.parametrize(
    "args",
    [
        ["inspect", "{host}/demo/app:1.0"],
        ["inspect", "{host}/demo/app:1.0", "--json"],
        ["tags", "{host}/demo/multi"],
        ["layers", "{host}/demo/app:1.0", "--json"],
    ],
)
def test_second_run_is_replayed_without_heavy_imports(registry, env, args) -> None:
    args = [a.format(host=registry.host) for a in args]
    first, first_modules = _run(args, env)
    assert first.returncode == 0, first.stderr
    assert "dockerhub_cli.service" in first_modules  # the normal path ran
    assert "fast path: miss" in first.stderr and "fast path: saved" in first.stderr
    assert len(_results(env)) == 1
    mark = registry.log_mark()
    second, second_modules = _run(args, env)
    assert second.returncode == 0
    assert second.stdout == first.stdout
    assert "fast path: hit" in second.stderr
    assert second_modules == []  # no typer, rich, requests, ..., nor the service
    assert registry.requests_since(mark) == []


def test_result_file_is_private_and_offline_shares_it(registry, env) -> None:
    ref = f"{registry.host}/demo/app:1.0"
    first, _ = _run(["inspect", ref, "--json"], env)
    assert first.returncode == 0, first.stderr
    (path,) = _results(env)
    assert path.stat().st_mode & 0o777 == 0o600
    offline, modules = _run(["--offline", "inspect", ref, "--json"], env)
    assert "fast path: hit" in offline.stderr and modules == []
    assert offline.stdout == first.stdout


def test_key_follows_arguments_environment_and_config(registry, env, isolated_env) -> None:
    ref = f"{registry.host}/demo/app:1.0"
    assert _run(["inspect", ref], env)[0].returncode == 0
    variants: list[tuple[list[str], dict[str, str]]] = [
        (["inspect", ref, "--json"], env),
        (["inspect", ref], {**env, "COLUMNS": "91"}),
        (["inspect", ref], {**env, "NO_COLOR": "1"}),
        (["inspect", ref], {**env, "DOCKERHUB_PLATFORM": "linux/amd64"}),
    ]
    for args, variant_env in variants:
        done, _ = _run(args, variant_env)
        assert done.returncode == 0, done.stderr
        assert "fast path: miss" in done.stderr, (args, done.stderr)
    # A `docker login` (Docker's config.json changes) and a config file change: new keys too.
    docker = isolated_env / "home" / ".docker"
    docker.mkdir(parents=True, exist_ok=True)
    (docker / "config.json").write_text('{"auths": {}}')
    done, _ = _run(["inspect", ref], env)
    assert "fast path: miss" in done.stderr
    config = isolated_env / "config.toml"
    config.write_text('platform = "linux/amd64"\n')
    done, _ = _run(["inspect", ref], {**env, "DOCKERHUB_CONFIG": str(config)})
    assert "fast path: miss" in done.stderr and done.returncode == 0, done.stderr
    # Saved (the images' fixed `created` date keeps "N years ago" from changing mid-test)...
    assert "fast path: saved" in done.stderr, done.stderr
    # ...so the same invocation is a hit.
    again, _ = _run(["inspect", ref], {**env, "DOCKERHUB_CONFIG": str(config)})
    assert "fast path: hit" in again.stderr, again.stderr
    config.write_text('platform = "linux/amd64"\ntimeout = 31\n')
    done, _ = _run(["inspect", ref], {**env, "DOCKERHUB_CONFIG": str(config)})
    assert "fast path: miss" in done.stderr


def _age_http_cache(cache_dir: Path) -> None:
    """Expire every HTTP cache entry that has an expiry (as time passing would)."""
    from datetime import UTC, datetime, timedelta

    from requests_cache.backends.sqlite import SQLiteCache

    cache = SQLiteCache(cache_dir / "http_cache.sqlite", wal=True)
    try:
        for key in list(cache.responses.keys()):
            response = cache.responses[key]
            if response.expires is not None:
                response.expires = datetime.now(UTC) - timedelta(seconds=5)
                cache.responses[key] = response
    finally:
        cache.close()


def test_expired_result_runs_the_normal_path(registry, env) -> None:
    ref = f"{registry.host}/demo/app"
    first, _ = _run(["tags", ref], env)
    assert "fast path: saved" in first.stderr
    (path,) = _results(env)
    data = json.loads(path.read_text())
    data["expires_at"] = 1.0
    path.write_text(json.dumps(data))
    again, modules = _run(["tags", ref], env)
    assert "fast path: expired" in again.stderr and "dockerhub_cli.service" in modules
    assert again.stdout == first.stdout and "fast path: saved" in again.stderr


def test_saved_result_never_outlives_its_http_entries(registry, env) -> None:
    ref = f"{registry.host}/demo/app"
    first, _ = _run(["tags", ref], env)
    assert first.returncode == 0, first.stderr
    (path,) = _results(env)
    expires_at = json.loads(path.read_text())["expires_at"]
    from requests_cache.backends.sqlite import SQLiteCache

    cache = SQLiteCache(Path(env["DOCKERHUB_CACHE_DIR"]) / "http_cache.sqlite", wal=True)
    try:
        expiries = [r.expires for r in cache.responses.values() if r.expires is not None]
    finally:
        cache.close()
    assert expiries
    assert expires_at <= min(e.timestamp() for e in expiries) + 0.001


def test_stale_answer_is_never_saved(registry, env) -> None:
    ref = f"{registry.host}/demo/app"
    assert _run(["tags", ref], env)[0].returncode == 0
    for path in _results(env):
        path.unlink()
    _age_http_cache(Path(env["DOCKERHUB_CACHE_DIR"]))
    # Offline with every entry expired: cached data with a warning on stderr, not saved.
    done, _ = _run(["--offline", "tags", ref], env)
    assert done.returncode == 0 and "warning:" in done.stderr
    assert "fast path: not saved" in done.stderr
    assert _results(env) == []


def test_bypassed_and_ineligible_commands_are_never_saved(registry, env) -> None:
    ref = f"{registry.host}/demo/app"
    for args in (
        ["--debug", "inspect", f"{ref}:1.0"],
        ["inspect", f"{ref}:1.0", "--help"],
        ["config", "path"],
        ["cache", "info"],
    ):
        done, _ = _run(args, env)
        assert done.returncode == 0, (args, done.stderr)
        assert "fast path:" not in done.stderr, args
    for extra in ({"DOCKERHUB_CACHE_BACKEND": "redis://x:1/0"},):
        done, _ = _run(["tags", ref], {**env, **extra})
        assert "fast path:" not in done.stderr
    assert _results(env) == []
    missing, _ = _run(["tags", f"{registry.host}/demo/nope"], env)
    assert missing.returncode == 3 and _results(env) == []


def test_cache_clear_removes_results_and_corrupt_files_are_ignored(registry, env) -> None:
    ref = f"{registry.host}/demo/app:1.0"
    first, _ = _run(["inspect", ref, "--json"], env)
    (path,) = _results(env)
    info, _ = _run(["cache", "info", "--json"], env)
    assert json.loads(info.stdout)["results"] == 1
    path.write_text("{not json")
    again, _ = _run(["inspect", ref, "--json"], env)
    assert again.returncode == 0 and again.stdout == first.stdout
    assert "unreadable result" in again.stderr
    assert json.loads(path.read_text())["stdout"] == first.stdout  # saved anew
    cleared, _ = _run(["cache", "clear", "--json"], env)
    assert json.loads(cleared.stdout)["results_removed"] == 1
    assert _results(env) == []


def _talk(done: Any) -> str:
    """stderr without the fast path's own lines."""
    return "".join(
        line + "\n" for line in done.stderr.splitlines() if not line.startswith("fast path:")
    )


def test_no_cache_refreshes_the_result_the_next_plain_run_replays(registry, env) -> None:
    args = ["inspect", f"{registry.host}/demo/app:1.0", "--json"]
    first, _ = _run(args, env)
    assert "fast path: saved" in first.stderr
    for refresh_env, refresh_args in (
        ({}, [*args, "--no-cache"]),
        ({"DOCKERHUB_NO_CACHE": "1"}, args),
    ):
        mark = registry.log_mark()
        done, _ = _run(refresh_args, {**env, **refresh_env})
        assert "fast path: refresh" in done.stderr and "fast path: saved" in done.stderr
        assert registry.requests_since(mark)  # went to the registry
        mark = registry.log_mark()
        again, modules = _run(args, env)
        assert "fast path: hit" in again.stderr and modules == []
        assert again.stdout == done.stdout and not registry.requests_since(mark)
    assert len(_results(env)) == 1  # one key for all three spellings


def test_a_run_that_warned_is_replayed_with_its_warning(registry, env) -> None:
    """A docker.io name whose registry answers but whose Docker Hub API says 404 (here the
    harness registry stands in for both): every run warns; the second is replayed."""
    hub_env = {
        **env,
        "DOCKERHUB_REGISTRY_URL": f"http://{registry.host}",
        "DOCKERHUB_HUB_URL": f"http://{registry.host}",
    }
    first, _ = _run(["inspect", "demo/app:1.0"], hub_env)
    assert first.returncode == 0, first.stderr
    assert "warning:" in _talk(first) and "fast path: saved" in first.stderr
    mark = registry.log_mark()
    again, modules = _run(["inspect", "demo/app:1.0"], hub_env)
    assert "fast path: hit" in again.stderr and modules == []
    assert again.returncode == 0 and again.stdout == first.stdout
    assert _talk(again) == _talk(first)
    assert registry.requests_since(mark) == []
