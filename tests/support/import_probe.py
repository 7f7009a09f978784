"""Run the console entry in a fresh process and learn which of some modules it imported."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable


def _probe(watched: Iterable[str]) -> str:
    """Code that runs `dockerhub` and prints, at exit, which of `watched` it imported (to
    stderr, as JSON on a line of its own)."""
    return (
        "import atexit, json, sys\n"
        f"watched = {tuple(watched)!r}\n"
        "atexit.register(lambda: sys.stderr.write('MODULES ' + json.dumps("
        "sorted(m for m in watched if m in sys.modules)) + '\\n'))\n"
        "from dockerhub_cli.__main__ import main\n"
        "sys.argv = ['dockerhub'] + sys.argv[1:]\n"
        "main()\n"
    )


def run_watching_imports(
    args: list[str], env: dict[str, str], watched: Iterable[str]
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`dockerhub ARGS` in a fresh interpreter: the finished process (its stderr without the
    probe's line) and the `watched` modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", _probe(watched), *args],
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
