"""Renderers for `whoami`, `ratelimit`, `login`, `logout` and `config show`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockerhub_cli.render import markup_text

if TYPE_CHECKING:
    from rich.console import Console

    from dockerhub_cli.models.core import (
        ConfigReport,
        Identity,
        LoginResult,
        LogoutResult,
        PullRateLimit,
    )


def _pairs(console: Console, rows: list[tuple[str, str]]) -> None:
    from rich.table import Table

    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")  # paths are copied: fold them, never cut them
    for key, value in rows:
        table.add_row(key, markup_text(value))
    console.print(table)


def human_window(seconds: int | None) -> str:
    """21600 -> '6h', 3600 -> '1h', 90 -> '90s'."""
    if seconds is None:
        return "-"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def identity(result: Identity, console: Console) -> None:
    rows = [
        ("registry", result.registry),
        ("username", result.username or "(anonymous)"),
        ("source", result.source),
    ]
    if result.anonymous_access is not None:
        rows.append(
            (
                "verified",
                "no credentials to verify; "
                + (
                    "anonymous access works"
                    if result.anonymous_access
                    else "the registry refuses anonymous access"
                ),
            )
        )
    elif result.verified is not None:
        rows.append(("verified", "yes" if result.verified else "no"))
    _pairs(console, rows)
    console.print(f"[dim]precedence: {result.precedence}[/dim]", highlight=False)


def rate_limit(result: PullRateLimit, console: Console) -> None:
    if result.unlimited:
        _pairs(
            console,
            [
                ("registry", result.registry),
                ("identity", result.identity),
                ("pulls", "unlimited (no rate-limit headers)"),
            ],
        )
        return
    used = f"{result.used if result.used is not None else '?'}/{result.limit}"
    _pairs(
        console,
        [
            ("registry", result.registry),
            ("identity", result.identity),
            ("used", f"{used} pulls per {human_window(result.window_seconds)}"),
            ("remaining", str(result.remaining if result.remaining is not None else "?")),
            ("source", result.source or "-"),
        ],
    )
    console.print(
        f"[dim]checked with a HEAD on {result.image} (costs no pull)[/dim]", highlight=False
    )


def login_result(result: LoginResult, console: Console) -> None:
    console.print(
        f"Login Succeeded: {result.username} on {result.registry}, stored in {result.stored_in}",
        highlight=False,
        soft_wrap=True,
    )


def logout_result(result: LogoutResult, console: Console) -> None:
    if not result.removed_from:
        console.print(f"Not logged in to {result.registry}", highlight=False)
        return
    console.print(
        f"Removed login credentials for {result.registry} from {', '.join(result.removed_from)}",
        highlight=False,
        soft_wrap=True,
    )


def config_report(result: ConfigReport, console: Console) -> None:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("KEY", no_wrap=True)
    table.add_column("VALUE", overflow="fold")
    table.add_column("SOURCE", no_wrap=True)
    for value in result.values:
        table.add_row(value.key, markup_text(value.value), value.source)
    console.print(table)
    for entry in result.registries:
        console.print(
            f"registry {entry['name']}: {entry['url']}, username {entry.get('username') or '-'}, "
            f"password from ${entry.get('password_env') or '-'} "
            f"({'set' if entry.get('password_set') else 'unset'})",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"[dim]config file: {result.config_file or '(none)'}[/dim]", highlight=False)
