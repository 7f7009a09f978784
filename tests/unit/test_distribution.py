"""The distribution is `hubscope` (`dockerhub-cli` on PyPI is someone else's project): the
installed metadata, the User-Agent and every install hint name it; the command stays
`dockerhub` and the import package `dockerhub_cli`."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from dockerhub_cli import __version__

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_names_the_distribution_and_keeps_the_command() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "hubscope"
    assert project["scripts"] == {"dockerhub": "dockerhub_cli.__main__:run"}
    assert "hubscope[test]" in project["optional-dependencies"]["dev"]


def test_installed_metadata_is_hubscope() -> None:
    assert importlib.metadata.version("hubscope") == __version__
    entry = {e.name: e.value for e in importlib.metadata.entry_points(group="console_scripts")}
    assert entry.get("dockerhub") == "dockerhub_cli.__main__:run"


def test_user_agent_names_the_distribution() -> None:
    from dockerhub_cli.remote.transport import USER_AGENT

    assert USER_AGENT.startswith(f"hubscope/{__version__} ")


def test_no_install_hint_names_the_old_distribution() -> None:
    files = [*ROOT.joinpath("dockerhub_cli").rglob("*.py"), ROOT / "README.md"]
    files += [*ROOT.joinpath("docs").rglob("*.md"), ROOT / "Dockerfile", ROOT / "man/dockerhub.1"]
    wrong = re.compile(
        r"(pip|pipx) install[^\n]*dockerhub-cli|docker (build|run)[^\n]*dockerhub-cli"
    )
    hits = [str(f.relative_to(ROOT)) for f in files if wrong.search(f.read_text(encoding="utf-8"))]
    assert not hits
