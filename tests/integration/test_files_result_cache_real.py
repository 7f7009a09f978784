"""`files`, `diff` and `waste` in the result cache: their inputs are the tag (through the HTTP
cache, for its TTL) and layers by digest (immutable). A run that downloaded layers says so in
its output, so it is not saved; the next one, on warm layer indexes, is, and a third run is
replayed without Typer or requests and without a request to the registry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.test_result_cache_real import _results, _run


@pytest.fixture
def env(isolated_env: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DOCKERHUB_CACHE_DIR": str(isolated_env / "cache"),
        "DOCKERHUB_DEBUG_FASTPATH": "1",
    }


@pytest.mark.parametrize(
    "args",
    [
        ["files", "{host}/demo/app:1.0", "/etc"],
        ["files", "{host}/demo/app:1.0", "--json"],
        ["diff", "{host}/demo/app:1.0", "{host}/demo/app:1.0", "--json"],
        ["waste", "{host}/demo/app:1.0"],
    ],
)
def test_a_warm_files_run_is_saved_and_replayed(registry, env, args) -> None:
    args = [a.format(host=registry.host) for a in args]
    cold, _ = _run(args, env)
    assert cold.returncode == 0, cold.stderr
    assert "fast path: miss" in cold.stderr and "fast path: saved" not in cold.stderr
    assert _results(env) == []  # it downloaded layers: its output says so
    warm, modules = _run(args, env)
    assert warm.returncode == 0, warm.stderr
    assert "dockerhub_cli.service" in modules and "fast path: saved" in warm.stderr
    assert len(_results(env)) == 1
    mark = registry.log_mark()
    replay, replay_modules = _run(args, env)
    assert replay.returncode == 0
    assert "fast path: hit" in replay.stderr and replay_modules == []
    assert replay.stdout == warm.stdout
    assert registry.requests_since(mark) == []
