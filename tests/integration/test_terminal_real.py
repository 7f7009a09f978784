"""Terminal polish against a real registry, through the installed console script: a reader
that leaves early (`| head -1`) on streamed tag rows, the compare size bars and a summary on
one line in a pipe, progress on a terminal's stderr, and `whoami --verify` on an anonymous
registry."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.unit.test_terminal_polish import _into_closed_pipe, _pty


def _script() -> str:
    exe = Path(sys.executable).with_name("dockerhub")
    return str(exe) if exe.exists() else "dockerhub"


def _run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_script(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )


def test_streamed_tag_rows_into_a_closed_pipe_exit_0_quietly(registry) -> None:
    """`dockerhub tags REPO --all | head -1`, made deterministic: the reader is gone before
    the first row, so every write breaks the pipe (a reader that exits later may find all
    rows already in the pipe's buffer)."""
    repo = f"{registry.host}/demo/many"
    for extra in ((), ("-q",), ("--format", "{name}"), ("--json",)):
        done = _into_closed_pipe("tags", repo, "--all", "--no-cache", *extra)
        assert (done.returncode, done.stderr) == (0, ""), extra
    failed = _into_closed_pipe("tags", f"{registry.host}/demo/nope")
    assert failed.returncode == 3 and "not found" in failed.stderr  # its own exit code


def test_compare_draws_both_sizes_on_one_scale(registry) -> None:
    one, two = registry.ref("demo/app:1.0"), registry.ref("demo/app:1.1")
    done = _run("compare", one, two, env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    left = next(line for line in lines if line.startswith("LEFT "))
    right = next(line for line in lines if line.startswith("RIGHT "))
    # 1.1 = 1.0 + one layer: the left bar is all shared, the right one adds its own part
    assert "▒" not in left and left.count("█") == right.count("█")
    assert right.count("▒") >= 1 and len(right.split()[1]) == 40
    summary = next(line for line in lines if " share their first " in line)
    assert len(summary) > 80 and summary.endswith("%")  # one line in a pipe, not wrapped
    assert all(line == line.rstrip() for line in lines)
    data = _run("compare", one, two, "--json").stdout
    assert "█" not in data and '"size_delta"' in data


def test_tags_all_shows_progress_on_a_terminal_stderr_only(registry) -> None:
    repo = f"{registry.host}/demo/many"
    env = {"DOCKERHUB_NO_SPINNER": ""}
    code, out = _pty("tags", repo, "--all", "--no-cache", env=env, stdout_pty=False)
    assert code == 0, out
    assert "Listing tags of" in out and re.search(r"\(\d+ requests?\)", out)
    piped = _run("tags", repo, "--all", "--no-cache", env={**os.environ, **env})
    assert piped.returncode == 0 and piped.stderr == ""


def test_whoami_verify_on_an_anonymous_registry_says_what_is_true(registry) -> None:
    done = _run("whoami", registry.host, "--verify")
    assert done.returncode == 0, done.stderr
    assert "no credentials to verify; anonymous access works" in done.stdout
    assert not re.search(r"verified\s+no$", done.stdout, re.M)
