"""`pin`, `upgrade` and `watch`: keep the image references you deploy exact and current."""

from __future__ import annotations

from typing import Annotated

import typer

from dockerhub_cli.cli.app import command, get_service, warn_notes
from dockerhub_cli.cli.options import JsonOpt, PlatformOpt

KindOpt = Annotated[
    str | None,
    typer.Option(
        "--kind",
        metavar="dockerfile|compose|kubernetes|workflow",
        help="Read every FILE as this kind (default: by name, then by content).",
    ),
]


@command()
def pin(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE...",
            help="Dockerfiles, Compose files, Kubernetes manifests, GitHub Actions workflows.",
        ),
    ],
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform",
            "-p",
            metavar="OS/ARCH[/VARIANT]",
            help="Pin one platform's manifest instead of the multi-platform index (rarely "
            "what you want: other platforms then fail to pull).",
        ),
    ] = None,
    kind: KindOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the unified diff; write nothing.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="For CI: write nothing; print the diff and exit 8 when a pin is missing or "
            "stale, or a tag cannot be looked up.",
        ),
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Pin image references to name:tag@sha256:<digest> (the digest the tag resolves to now).

    Already pinned references are re-checked and updated when stale; nothing else in the
    files changes (comments, quoting, key order and layout are kept byte for byte).

    Example: dockerhub pin Dockerfile compose.yaml k8s/deploy.yaml --check
    """
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
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


@command()
def upgrade(
    image: Annotated[
        str, typer.Argument(metavar="IMAGE", help="Image with a version tag, e.g. nginx:1.27.")
    ],
    platform: PlatformOpt = None,
    vulns: Annotated[
        bool,
        typer.Option(
            "--vulns",
            help="Also compare known vulnerabilities (needs SBOM attestations; queries OSV).",
        ),
    ] = False,
    limit: Annotated[
        int,
        typer.Option("--limit", "-n", min=1, max=20, help="Newer tags to examine (1-20)."),
    ] = 5,
    json_output: JsonOpt = False,
) -> None:
    """Newer tags of IMAGE's family and what moving to each means: download size, base image,
    config changes that can break a deployment, vulnerabilities, age.

    Example: dockerhub upgrade nginx:1.27.3-alpine --platform linux/arm64
    """
    from dockerhub_cli.render import emit, progress
    from dockerhub_cli.render.pinning import upgrade_report

    with progress(f"Looking for upgrades of {image}"):
        result = get_service().upgrade(image, platform=platform, vulns=vulns, limit=limit)
    emit(result, json_output=json_output, render=upgrade_report)
    if not json_output:
        warn_notes(result.notes)


@command()
def watch(
    targets: Annotated[
        list[str],
        typer.Argument(metavar="FILE|IMAGE...", help="Files to read references from, or images."),
    ],
    interval: Annotated[
        int | None,
        typer.Option(
            "--interval",
            min=30,
            max=86_400,
            metavar="SECONDS",
            help="Check again every SECONDS (30-86400) until interrupted.",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="One check (for cron); exit 8 when something changed."),
    ] = False,
    no_families: Annotated[
        bool, typer.Option("--no-families", help="Do not look for newer tags of each family.")
    ] = False,
    kind: KindOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Report when a pinned or floating reference moved (its tag now names another digest) or
    a newer tag of its family appeared. Digests of floating tags are kept in the cache dir.

    Example: dockerhub watch compose.yaml nginx:1.27 --check --json
    """
    import time

    from dockerhub_cli.cli.app import run_options
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
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


__all__ = ["pin", "upgrade", "watch"]
