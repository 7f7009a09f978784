"""Option aliases shared by commands, defined once so every command reads the same."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print JSON (stable field names) instead of a table.")
]
LimitOpt = Annotated[
    int, typer.Option("--limit", "-n", min=1, max=100, help="Results per page (1-100).")
]
PageOpt = Annotated[int, typer.Option("--page", min=1, help="Page number, from 1.")]
PlatformOpt = Annotated[
    str | None,
    typer.Option(
        "--platform",
        "-p",
        metavar="OS/ARCH[/VARIANT]",
        help="Platform of a multi-platform image (default linux/amd64 or $DOCKERHUB_PLATFORM).",
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="TEMPLATE",
        help="Print each row through a template of field names, e.g. '{name}\\t{digest}' "
        "(\\t and \\n are escapes; an unknown field lists the valid ones).",
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print only the data (e.g. names), no headers or footers."),
]
