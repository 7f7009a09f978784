"""The `dockerhub` command line: the Typer app, its commands built from the command spec.

`dockerhub_cli.commands` declares every command; `cli/app.py` turns the one being run into a
Typer command (and only that one); the few commands with a body of their own (login's prompts,
serve-mcp, config path) keep it in `*_commands.py`, named by their spec entry.

A well-formed command line is run by the front (`cli/front.py`) without Typer, through the
same run-time edge (`cli/run.py`); everything else by the Typer app, which is imported only
then (`app` here is read lazily).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from dockerhub_cli.cli.run import run_options

if TYPE_CHECKING:
    from dockerhub_cli.result_cache import Plan


class _Package(types.ModuleType):
    """`dockerhub_cli.cli.app` names the Typer app (imported when first read), not the
    module of that name, which the import system would bind here once it is imported."""

    @property
    def app(self) -> Any:
        from dockerhub_cli.cli.app import app

        return app

    @app.setter
    def app(self, value: Any) -> None:
        pass  # the submodule being bound: `app` stays the Typer app


sys.modules[__name__].__class__ = _Package


def main(result_plan: Plan | None = None) -> None:
    """Run the app (the console script, `dockerhub_cli.__main__`, calls this on a result-cache
    miss, with the plan to save the result under).

    Runs the app in non-standalone mode so that usage errors (unknown option, missing
    argument, value out of range) come out as one `error:` line on stderr with exit code 2,
    like every other error, instead of a multi-line panel.
    """
    if result_plan is None:
        _main()
        return
    from dockerhub_cli import result_cache

    capture = result_cache.Capture()
    capture.start()
    try:
        _main()
    except SystemExit as done:
        capture.stop()
        # The run's frames (and the result they hold, 50,000 tags for a big listing) are not
        # needed to save what it printed: let them go before the output is written out.
        done.__traceback__ = None
        code = 0 if done.code is None else done.code
        from dockerhub_cli.render import stdout_closed

        if stdout_closed():  # the reader left early: what was captured may be partial
            raise
        if isinstance(code, int) and not isinstance(code, bool) and 0 <= code <= 255:
            try:
                _save(result_plan, capture, code)
            except Exception as exc:  # noqa: BLE001 - never fail a run that succeeded
                result_cache.debug(f"not saved ({type(exc).__name__}: {exc})")
        raise
    finally:
        capture.stop()
        capture.close()


def _save(result_plan: Plan, capture: object, exit_code: int = 0) -> None:
    """Save a run's output (stdout, stderr, exit code), for as long as what it was built from
    stays fresh; a run that printed an error is not saved (`result_cache.expiry`)."""
    from dockerhub_cli import result_cache

    assert isinstance(capture, result_cache.Capture)
    reuse = run_options().reuse
    if reuse is None:  # no registry data was read (e.g. an error before the service)
        return
    expires_at = result_cache.expiry(
        result_plan.command,
        capture,
        reusable=reuse.reusable,
        reuse_until=reuse.until,
        ttls=reuse.ttls,
    )
    if expires_at is None:
        result_cache.debug("not saved (an error, or data not fresh in the HTTP cache)")
        return
    result_plan.store(capture.pieces(), expires_at, capture.err_text, exit_code, capture.cost_span)


def _main() -> None:
    import sys

    from dockerhub_cli.cli import front

    code = front.run(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    import typer

    from dockerhub_cli.cli.app import app

    try:
        code = app(standalone_mode=False)
    except BrokenPipeError:  # e.g. `dockerhub tags --help | head -1`
        from dockerhub_cli.render import close_broken_stdout

        close_broken_stdout()
        sys.exit(0)
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `dockerhub`: show the help
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)
        ctx = getattr(exc, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        from dockerhub_cli.cli.coercion import bad_number_message

        message = bad_number_message(exc) or " ".join(exc.format_message().split())
        from dockerhub_cli.text import visible

        sys.stderr.write(visible(f"error: {message}{where}") + "\n")
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["app", "main"]
