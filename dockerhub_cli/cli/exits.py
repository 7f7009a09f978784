"""Exit codes a result decides (the spec's `cli_exit`): `verify` exits 0 only when verified."""

from __future__ import annotations

from typing import Any


def verify_exit_code(result: Any) -> int:
    from dockerhub_cli.exitcodes import ExitCode

    return int(
        {
            "verified": ExitCode.OK,
            "invalid": ExitCode.SIGNATURE_INVALID,
            "unsigned": ExitCode.UNSIGNED,
            "unverifiable": ExitCode.UNVERIFIABLE,
        }[result.status]
    )
