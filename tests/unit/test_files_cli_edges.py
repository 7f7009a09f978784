"""The edges of the file commands: the platform they read is named in JSON, as `files`,
`layers` and `sbom` do; bad sizes are usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.service import DockerHubService

EXAMPLE = f"oci:{Path(__file__).resolve().parents[2] / 'examples' / 'hello-oci'}:1.0"


def test_cat_extract_and_diff_say_which_platform(
    service: DockerHubService, tmp_path: Path, rsps: responses.RequestsMock
) -> None:
    listing = service.files(EXAMPLE, platform="linux/arm64")
    meta, spool = service.read_file(EXAMPLE, "/etc/hello-arch", platform="linux/arm64")
    spool.close()
    assert meta.digest == listing.digest
    assert meta.platform is not None and meta.platform.architecture == "arm64"
    out = service.extract(EXAMPLE, ["/app"], tmp_path / "out", platform="linux/arm64")
    assert out.platform == listing.platform
    diff = service.diff_files(EXAMPLE, EXAMPLE, platform="linux/arm64")
    assert diff.platform1 == diff.platform2 == listing.platform
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["files", EXAMPLE, "--max-download", "abc"], "--max-download"),
        (["cat", EXAMPLE, "/app/README", "--max-download", "-1"], "--max-download"),
        (["waste", EXAMPLE, "--max-wasted-bytes", "10x"], "--max-wasted-bytes"),
        (["extract", EXAMPLE, "/app", "-o", "out", "--max-bytes", "1 ZB"], "--max-bytes"),
    ],
)
def test_a_bad_size_is_a_usage_error_naming_the_option(
    args: list[str], option: str, rsps: responses.RequestsMock
) -> None:
    # It was "unexpected error: BadParameter: ..." with exit 1 (the code for a bug).
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {option}: ") and "e.g. 500MB" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_an_unusable_output_directory_is_one_error_line_before_any_read(tmp_path: Path) -> None:
    # It was "unexpected error: FileExistsError" (exit 1), after reading the layers.
    plain = tmp_path / "a-file"
    plain.write_text("x")
    for target in (plain, plain / "below"):
        result = CliRunner().invoke(app, ["extract", EXAMPLE, "/app", "-o", str(target)])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"error: cannot use {target} as the output directory")
        assert len(result.stderr.strip().splitlines()) == 1
