"""`--platform` on a single-manifest image, against a real distribution registry.

A single manifest names its platform only in its config (here linux/amd64): every command that
takes `--platform` must refuse another platform the same way (exit 3, the platforms listed),
not quietly answer for the one image there is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockerhub_cli import commands
from dockerhub_cli.cli import app

runner = CliRunner()

WRONG = "linux/s390x"


def _argv(name: str, ref: str, tmp_path: Path) -> list[str]:
    """The words of `name` on the single-platform image `ref` (every required argument)."""
    if name in ("compare", "diff"):
        return [name, ref, ref]
    if name == "cat":
        return [name, ref, "/etc/os-release"]
    if name == "extract":
        return [name, ref, "/etc", "-o", str(tmp_path / "out")]
    if name == "pin":
        dockerfile = tmp_path / "Dockerfile"
        dockerfile.write_text(f"FROM {ref}\n")
        return [name, str(dockerfile), "--check"]
    if name == "cache warm":
        return ["cache", "warm", ref]
    return [name, ref]


def _platform_commands() -> list[str]:
    return [
        " ".join(c.path) for c in commands.COMMANDS if any(p.name == "platform" for p in c.params)
    ]


# Commands over many references, each with its own row (its error in the row): `pin` (every
# FROM/image: line of the files) and `cache warm` (every target).
NOT_ONE_IMAGE = {"pin", "cache warm"}


def test_every_platform_command_is_covered() -> None:
    names = set(_platform_commands())
    assert {"files", "waste", "diff", "cat", "extract", "sbom", "inspect", "layers"} <= names


@pytest.mark.parametrize("name", sorted(set(_platform_commands()) - NOT_ONE_IMAGE))
def test_wrong_platform_on_a_single_manifest_exits_3(registry, tmp_path: Path, name: str) -> None:
    ref = registry.ref("demo/app:1.0")  # one linux/amd64 manifest, no index
    result = runner.invoke(app, [*_argv(name, ref, tmp_path), "--platform", WRONG])
    assert result.exit_code == 3, (result.exit_code, result.stdout, result.stderr)
    assert f"no image for platform {WRONG}" in result.stderr
    assert "available: linux/amd64" in result.stderr
    out = tmp_path / "out"  # extract makes -o first (an unusable one fails fast), no more
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("name", ["files", "waste", "diff", "cat", "inspect", "layers"])
def test_right_platform_on_a_single_manifest_is_answered(
    registry, tmp_path: Path, name: str
) -> None:
    ref = registry.ref("demo/app:1.0")
    result = runner.invoke(app, [*_argv(name, ref, tmp_path), "--platform", "linux/amd64"])
    assert result.exit_code == 0, (result.stdout, result.stderr)


@pytest.mark.parametrize("name", sorted(NOT_ONE_IMAGE))
def test_wrong_platform_is_the_row_error_of_many_reference_commands(
    registry, tmp_path: Path, name: str
) -> None:
    ref = registry.ref("demo/app:1.0")
    result = runner.invoke(app, [*_argv(name, ref, tmp_path), "--platform", WRONG, "--json"])
    assert result.exit_code != 0, result.stdout
    assert f"no image for platform {WRONG}" in result.stdout + result.stderr


def test_verify_and_referrers_take_the_right_platform_of_a_single_manifest(registry) -> None:
    """Their --platform picks a platform manifest of an index; a single manifest is the image
    (verify used to crash looking for a platform subject)."""
    ref = registry.ref("demo/app:1.0")
    listed = runner.invoke(app, ["referrers", ref, "--platform", "linux/amd64", "--json"])
    assert listed.exit_code == 0, listed.stderr
    checked = runner.invoke(app, ["verify", ref, "--platform", "linux/amd64", "--json"])
    assert checked.exit_code != 1, checked.stderr  # 1 is an unexpected error
    assert "unexpected error" not in checked.stderr
