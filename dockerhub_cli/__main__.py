"""The `dockerhub` console script, and `python -m dockerhub_cli`.

`dockerhub --version` and the top-level `dockerhub --help` are answered here from the command
spec, and a warm read-only command from the result cache (`result_cache.py`), all without
importing Typer, Rich, requests or pydantic; everything else goes to `cli.main`, where the
front (`cli/front.py`) runs a well-formed command line without Typer and the Typer app the rest.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # `typing` costs ~7 ms, a quarter of `--version`
if TYPE_CHECKING:
    from typing import NoReturn


def run() -> NoReturn:
    """The console script and `python -m dockerhub_cli`: `main()`, then the end of the process
    without the interpreter's teardown (`end_process`)."""
    try:
        main()
    except SystemExit as done:
        end_process(done.code)
    end_process(0)


def end_process(code: str | int | None) -> NoReturn:
    """End the process as the interpreter's own exit would, minus its teardown: wait for the
    threads that are not daemons (and what `threading` runs once they are done), run the
    `atexit` functions, flush stdout and stderr, then `os._exit(code)`. Tearing down ~500
    modules object by object (what a normal exit does after that) was ~30 ms of every run,
    a tenth of a warm `inspect`, and it writes nothing: every file this program writes is
    closed (or committed, for SQLite) before its command returns. Anything unusual takes the
    normal exit: a code that is not a number (printed by the interpreter), a flush that fails,
    or a Python without the two functions this relies on (tests/unit/test_process_end.py)."""
    import atexit

    # No `threading` imported, no thread of its kind to wait for (the interpreter's exit skips
    # it too); importing it only to ask would cost `--version` more than the teardown saves.
    threading = sys.modules.get("threading")
    wait_for_threads = getattr(threading, "_shutdown", None) if threading else lambda: None
    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)
    if wait_for_threads is None or run_exit_functions is None:
        sys.exit(code)
    if code is None:
        code = 0
    if isinstance(code, bool) or not isinstance(code, int) or not -(2**31) <= code < 2**31:
        sys.exit(code)
    wait_for_threads()  # threads that are not daemons, as the interpreter's exit does first
    run_exit_functions()  # then `atexit` (logging's shutdown, a caller's own functions)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # the interpreter's own exit reports this (and exits 120)
        sys.exit(code)
    os._exit(code)  # the system keeps its low 8 bits, as for the interpreter's exit(code)


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
    if argv != ["--version"]:  # which imports nothing the cache serves
        # Before anything else is imported: the code that dataclasses, re, attrs and
        # namedtuple generate is reused from earlier runs (codegen_cache.py; its file is read
        # when first needed).
        from dockerhub_cli import codegen_cache

        codegen_cache.install()
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
    run()
