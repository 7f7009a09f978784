"""The bodies of `pin`, `watch` and `tags` (their parameters: the spec; `upgrade` is generic).

`pin --dry-run/--check` prints the diff on stdout and the table on stderr; `watch --interval`
repeats until interrupted; `tags --same-as` answers the same-image tags instead of a page.
"""

from __future__ import annotations

from typing import Any

from dockerhub_cli.cli.run import get_service, warn_notes


def pin(
    files: list[str],
    platform: str | None = None,
    kind: str | None = None,
    dry_run: bool = False,
    check: bool = False,
    json_output: bool = False,
) -> None:
    import sys

    from dockerhub_cli.exitcodes import ExitCode
    from dockerhub_cli.render import emit, output, progress
    from dockerhub_cli.render.pinning import diff_text, pin_report

    with progress(f"Resolving the image references of {len(files)} files"):
        result = get_service().pin(
            files, platform=platform, kind=kind, write=not dry_run and not check, check=check
        )
    want_json = json_output or output.json or output.default_json
    if (dry_run or check) and not want_json and output.template is None and not output.quiet:
        sys.stdout.write(diff_text(result))
        sys.stdout.flush()
        from dockerhub_cli.render import stderr_console

        pin_report(result, stderr_console())
    else:
        emit(result, json_output=json_output, render=pin_report)
    if not json_output:
        warn_notes(result.notes)
        for ref in result.references:
            if ref.status == "unresolved":
                warn_notes([f"{ref.file}:{ref.line}: {ref.old}: {ref.reason}"])
    if check and (not result.up_to_date or result.lookup_failures):
        raise SystemExit(int(ExitCode.CHECK_FAILED))


def watch(
    targets: list[str],
    interval: int | None = None,
    check: bool = False,
    no_families: bool = False,
    kind: str | None = None,
    json_output: bool = False,
) -> None:
    import time

    from dockerhub_cli.cli.run import run_options
    from dockerhub_cli.exitcodes import ExitCode
    from dockerhub_cli.render import emit
    from dockerhub_cli.render.pinning import watch_report

    if interval is not None and check:
        from dockerhub_cli.errors import InvalidInputError

        raise InvalidInputError("--interval and --check cannot be used together")
    # A watch must see the registry as it is now: tag listings are not read from the HTTP
    # cache (the digests are uncached HEADs anyway).
    if not run_options().offline:
        run_options().no_cache = True
    while True:
        result = get_service().watch(targets, kind=kind, families=not no_families)
        emit(result, json_output=json_output, render=watch_report)
        if not json_output:
            warn_notes(result.notes)
        if interval is None:
            break
        service = run_options().service
        if service is not None:
            service.close()
            run_options().service = None
        time.sleep(interval)
    if check and result.changed:
        raise SystemExit(int(ExitCode.CHECK_FAILED))


def tags(same_as: str | None = None, json_output: bool = False, **values: Any) -> None:
    """`tags`: the spec's generic body; with --same-as, the tags that are the same image."""
    from dockerhub_cli import commands
    from dockerhub_cli.cli.run import generic_body

    if same_as is None:
        generic_body(commands.get("tags"))(json_output=json_output, **values)
        return
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.pinning import same_as_report

    _refuse_paging_with_same_as(values)
    repository = values["repository"]
    with progress(f"Finding the tags of {repository} that are {same_as}"):
        same = get_service().same_as(
            repository,
            same_as,
            pattern=values.get("pattern"),
            all_tags=bool(values.get("all_tags")),
        )
    emit(same, json_output=json_output, render=same_as_report)
    if not json_output:
        warn_notes(same.notes)


def _refuse_paging_with_same_as(values: dict[str, Any]) -> None:
    """--same-as answers every matching tag at once, in match order: --filter narrows and --all
    widens the tags compared, but a page, a page size or an order given with it would be
    silently ignored, so they are a usage error (each is told from its default)."""
    from dockerhub_cli import commands
    from dockerhub_cli.errors import InvalidInputError

    defaults = {p.name: p.default for p in commands.get("tags").params}
    given = [
        f"--{name}"
        for name in ("limit", "page", "sort")
        if values.get(name, defaults[name]) != defaults[name]
    ]
    if given:
        raise InvalidInputError(
            f"--same-as lists every tag that is the same image; {', '.join(given)} "
            "cannot be used with it",
            hint="narrow it with --filter GLOB, or compare every tag with --all",
        )


__all__ = ["pin", "tags", "watch"]
