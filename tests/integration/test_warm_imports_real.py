"""A run with the HTTP cache warm and no saved result (another `--format`, a result that
expired) against a registry that is not Docker Hub, end to end in a fresh process: it sends
nothing and imports none of what only other paths need (the Docker Hub client, credential
helpers' subprocess, tempfile with shutil's compressors, logging while nothing is logged)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
)

# Prints, at exit, which of those modules the process imported (to stderr, as JSON).
_PROBE = (
    "import atexit, json, sys\n"
    f"watched = {NOT_ON_THE_WARM_PATH!r}\n"
    "atexit.register(lambda: sys.stderr.write('MODULES ' + json.dumps("
    "sorted(m for m in watched if m in sys.modules)) + '\\n'))\n"
    "from dockerhub_cli.__main__ import main\n"
    "sys.argv = ['dockerhub'] + sys.argv[1:]\n"
    "main()\n"
)


def _run(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], list]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    modules: list[str] = []
    lines = []
    for line in done.stderr.splitlines():
        if line.startswith("MODULES "):
            modules = json.loads(line.removeprefix("MODULES "))
        else:
            lines.append(line)
    done.stderr = "\n".join(lines)
    return done, modules


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
