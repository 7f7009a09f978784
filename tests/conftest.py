"""Test isolation for every test: a private cache dir, HOME and docker config, no real creds.

Network tests talk only to 127.0.0.1; everything else is mocked with `responses`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_ISOLATED_PREFIXES = ("DOCKERHUB_",)
_ISOLATED_NAMES = ("DOCKER_CONFIG", "NO_COLOR", "FORCE_COLOR")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Fresh cache dir and HOME per test; no DOCKERHUB_* or DOCKER_CONFIG from the caller."""
    for name in list(os.environ):
        if name.startswith(_ISOLATED_PREFIXES) or name in _ISOLATED_NAMES:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("DOCKERHUB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKERHUB_NO_SPINNER", "1")
    monkeypatch.setenv("COLUMNS", "200")
    _reset_output_options()
    yield tmp_path
    _reset_output_options()


def _reset_output_options() -> None:
    """The CLI sets the renderers' output options once per process (`--json`, `-q`, ...); a test
    that runs a command in-process must not hand them on to the next test."""
    import sys

    render = sys.modules.get("dockerhub_cli.render")
    if render is not None:
        render.configure_output()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
