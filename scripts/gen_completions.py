#!/usr/bin/env python3
"""Generate completions/{dockerhub.bash,_dockerhub,dockerhub.fish} from the Typer app.

Uses Typer's (vendored Click's) environment protocol, non-interactively:
`_DOCKERHUB_COMPLETE=source_<shell> dockerhub`. The scripts are thin shims that call the
installed `dockerhub` at completion time, so they only change when the program name or Typer's
shim changes.

    python scripts/gen_completions.py           # write completions/
    python scripts/gen_completions.py --check   # exit 1 if a committed script is stale
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for scripts._generated
FILES = {"bash": "dockerhub.bash", "zsh": "_dockerhub", "fish": "dockerhub.fish"}


def render(shell: str) -> str:
    env = {
        **os.environ,
        "_DOCKERHUB_COMPLETE": f"source_{shell}",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "TYPER_USE_RICH": "0",
    }
    done = subprocess.run(
        [sys.executable, "-c", "from dockerhub_cli.cli import app; app(prog_name='dockerhub')"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"generating the {shell} completion failed: {done.stderr.strip()}")
    return done.stdout.strip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "completions")
    parser.add_argument("--check", action="store_true", help="fail if a script is stale")
    args = parser.parse_args(argv)
    from scripts._generated import write_or_check

    files = {args.output / name: render(shell) for shell, name in FILES.items()}
    return write_or_check(files, check=args.check)


if __name__ == "__main__":
    raise SystemExit(main())
