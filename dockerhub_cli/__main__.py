"""The `dockerhub` console script, and `python -m dockerhub_cli`.

`dockerhub --version` and the top-level `dockerhub --help` are answered here from the command
spec, and a warm read-only command from the result cache (`result_cache.py`), all without
importing Typer, Rich, requests or pydantic; everything else goes to `cli.main`, where the
front (`cli/front.py`) runs a well-formed command line without Typer and the Typer app the rest.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run, then flush stdout here (not at interpreter exit), so that a reader that left
    early (`dockerhub tags nginx | head -1`) ends the run quietly, with its exit code."""
    code: str | int | None = 0
    try:
        try:
            _main()
        except SystemExit as done:
            code = done.code
        sys.stdout.flush()
    except BrokenPipeError:
        from dockerhub_cli.render import close_broken_stdout

        close_broken_stdout()
    sys.exit(code)


def _main() -> None:
    argv = sys.argv[1:]
    if "_DOCKERHUB_COMPLETE" in os.environ:  # a shell asks for completions: only Click knows
        from dockerhub_cli.cli import main as cli_main

        cli_main()
    if argv == ["--version"]:
        from dockerhub_cli import __version__

        sys.stdout.write(f"dockerhub {__version__}\n")
        sys.exit(0)
    if argv in ([], ["--help"], ["-h"]):
        import shutil

        from dockerhub_cli.commands import help_text

        sys.stdout.write(help_text(shutil.get_terminal_size((80, 24)).columns))
        sys.exit(0 if argv else 2)  # bare `dockerhub`: the help, as a usage error (like Click)
    import gc

    # Start-up loads ~500 modules: many long-lived objects and no garbage cycles worth
    # collecting, yet the collector would walk them all again and again (a tenth of a cold
    # `inspect`). It stays off until the service exists; `cli.run.get_service` then freezes
    # what was loaded and turns it back on (a long `serve-mcp` or `watch` collects as usual).
    gc.disable()
    # pydantic looks for plugins in every installed distribution's entry points the first time
    # a model is used; this program uses none (set the variable yourself to choose otherwise).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from dockerhub_cli import result_cache

    plan = result_cache.plan(argv)
    if plan is not None and plan.serve():
        sys.exit(plan.exit_code)
    from dockerhub_cli.cli import main as cli_main

    cli_main(plan)


if __name__ == "__main__":
    main()
