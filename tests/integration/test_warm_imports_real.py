"""A run with the HTTP cache warm and no saved result (another `--format`, a result that
expired) against a registry that is not Docker Hub, end to end in a fresh process: it sends
nothing and imports none of what only other paths need (the Docker Hub client, credential
helpers' subprocess, tempfile with shutil's compressors, logging while nothing is logged)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.import_probe import run_watching_imports

# Modules a warm run of `inspect`/`tags` on another registry must not import; each one is
# imported on the path that uses it (a Hub image, a credential helper, a login, a warning).
NOT_ON_THE_WARM_PATH = (
    "dockerhub_cli.remote.hub",
    "dockerhub_cli.ops.hub_catalog",
    "subprocess",
    "tempfile",
    "shutil",
    "bz2",
    "lzma",
    "logging",
    "socket",  # a run that sends nothing connects nowhere
    "string",  # only --format templates
)


def _run(
    args: list[str], env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    return run_watching_imports(args, env, NOT_ON_THE_WARM_PATH)


@pytest.fixture
def env(isolated_env: Path) -> dict[str, str]:
    return {**os.environ, "DOCKERHUB_CACHE_DIR": str(isolated_env / "cache")}


@pytest.mark.parametrize(
    "args",
    [
        ["inspect", "{host}/demo/multi:1.0", "--json"],
        ["inspect", "{host}/demo/app:1.0"],
        ["tags", "{host}/demo/multi", "--json"],
    ],
)
def test_a_warm_run_without_a_saved_result_imports_only_its_path(registry, env, args) -> None:
    args = [a.format(host=registry.host) for a in args]
    first, _ = _run(args, env)
    assert first.returncode == 0, first.stderr
    results = Path(env["DOCKERHUB_CACHE_DIR"]) / "results"
    assert results.is_dir()  # the run saved its result; the next one must not find it
    shutil.rmtree(results)
    mark = registry.log_mark()
    warm, modules = _run(args, env)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout == first.stdout
    assert registry.requests_since(mark) == []  # all from the HTTP cache
    assert modules == []
    assert list(results.glob("*.json"))  # and its result was saved again (without tempfile)


def test_config_path_imports_neither_the_config_parser_nor_dataclasses(env) -> None:
    done, modules = run_watching_imports(
        ["config", "path"], env, ("dockerhub_cli.config.file", "dataclasses", "tomllib")
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("config.toml")
    assert modules == []
