"""Helpers for CLI tests: run `dockerhub` in-process with Typer's CliRunner."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from dockerhub_cli.cli import app

runner = CliRunner()


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)


def run_json(*args: str, **kw: Any) -> Any:
    result = run(*args, "--json", **kw)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)
