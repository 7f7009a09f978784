"""The `dockerhub` console script, and `python -m dockerhub_cli`.

A warm read-only command is answered here from the result cache (`result_cache.py`) without
importing Typer, Rich, requests or pydantic; everything else goes to the Typer app.
"""

from __future__ import annotations

import sys


def main() -> None:
    from dockerhub_cli import result_cache

    plan = result_cache.plan(sys.argv[1:])
    if plan is not None and plan.serve():
        sys.exit(plan.exit_code)
    from dockerhub_cli.cli import main as cli_main

    cli_main(plan)


if __name__ == "__main__":
    main()
