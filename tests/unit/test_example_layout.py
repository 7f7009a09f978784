"""examples/hello-oci is what scripts/make-example-layout.py writes (byte for byte), and
README's first command runs on it offline."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hello-oci"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_rebuilding_the_example_gives_the_same_bytes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_example", ROOT / "scripts" / "make-example-layout.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(tmp_path / "hello-oci")
    assert _files(tmp_path / "hello-oci") == _files(EXAMPLE)
    assert sum(len(b) for b in _files(EXAMPLE).values()) < 64 * 1024  # tens of KB


def test_readme_first_command_runs_offline(
    rsps: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1]
    first = quick_start.split("```console\n$ ", 1)[1].split("\n", 1)[0]
    assert first == "dockerhub inspect oci:examples/hello-oci:1.0"
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        app, ["--offline", "inspect", "oci:examples/hello-oci:1.0", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [p["platform"] for p in data["platforms"]] == ["linux/amd64", "linux/arm64/v8"]
    assert len(data["attestations"]) == 2 and len(rsps.calls) == 0
    sbom = CliRunner().invoke(app, ["sbom", "oci:examples/hello-oci:1.0", "--json"])
    assert sbom.exit_code == 0 and "busybox" in sbom.stdout
