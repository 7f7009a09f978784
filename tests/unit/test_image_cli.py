"""CLI edge of the image commands: JSON on stdout, one-line errors on stderr, exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from tests.unit import registry_fixtures as fx

REG = "https://registry.example.com"
IMAGE = "registry.example.com/team/app:1.27.2"
runner = CliRunner()


@pytest.fixture
def reg(rsps) -> fx.FakeRegistry:
    registry = fx.FakeRegistry(rsps, REG, "team/app")
    registry.nginx("1.27.2")
    return registry


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_inspect_json_contract(reg) -> None:
    data = _json(["inspect", IMAGE, "--json"])
    assert set(data) >= {
        "reference",
        "registry",
        "repository",
        "tag",
        "digest",
        "media_type",
        "platform",
        "platforms",
        "created",
        "size",
        "layer_count",
        "config",
    }
    assert set(data["platform"]) >= {"os", "architecture", "variant"}
    assert set(data["config"]) >= {
        "env",
        "entrypoint",
        "cmd",
        "working_dir",
        "user",
        "exposed_ports",
        "volumes",
        "labels",
    }
    assert data["size"] == fx.NGINX_TOTAL and data["layer_count"] == 7
    assert data["digest"] == fx.sha256(fx.NGINX_INDEX)
    assert [p["platform"] for p in data["platforms"]] == ["linux/amd64", "linux/arm64/v8"]
    assert data["attestations"][0]["reference_digest"] == data["manifest_digest"]


def test_layers_json_contract(reg) -> None:
    data = _json(["layers", IMAGE, "--platform", "linux/amd64", "--json"])
    assert set(data) >= {"reference", "digest", "platform", "total_size", "layers", "history"}
    assert set(data["layers"][0]) >= {
        "index",
        "digest",
        "size",
        "media_type",
        "created",
        "created_by",
    }
    assert set(data["history"][0]) >= {"created", "created_by", "empty_layer", "layer_index"}
    assert data["total_size"] == fx.NGINX_TOTAL


def test_history_dockerfile_size_manifest_json(reg) -> None:
    assert len(_json(["history", IMAGE, "--json"])["history"]) == 14
    assert _json(["dockerfile", IMAGE, "--json"])["reconstructed"] is True
    size = _json(["size", IMAGE, "--json"])
    assert size["download_size"] == size["total_size"] == fx.NGINX_TOTAL
    assert _json(["manifest", IMAGE, "--json"])["media_type"] == fx.OCI_INDEX


def test_human_output(reg) -> None:
    for args, expected in (
        (["inspect", IMAGE], "75.6 MB compressed in 7 layers"),
        (["layers", IMAGE], "Largest layers"),
        (["history", IMAGE], "CREATED BY"),
        (["dockerfile", IMAGE], "# Reconstructed from the image history"),
        (["size", IMAGE], "pulling registry.example.com/team/app:1.27.2 downloads 75.6 MB"),
        (["manifest", IMAGE], fx.OCI_INDEX),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.stderr
        assert expected in result.stdout, result.stdout
    inspect = runner.invoke(app, ["inspect", IMAGE])
    assert "attestation (linux/amd64)" in inspect.stdout and "linux/arm64/v8" in inspect.stdout


def test_dockerfile_plain_text_is_not_wrapped(reg) -> None:
    result = runner.invoke(app, ["dockerfile", IMAGE])
    assert "RUN set -x && groupadd --system --gid 101 nginx && ..." in result.stdout.splitlines()


def test_missing_platform_exit_3(reg) -> None:
    result = runner.invoke(app, ["inspect", IMAGE, "--platform", "linux/s390x"])
    assert result.exit_code == 3 and result.stdout == ""
    assert "linux/amd64, linux/arm64/v8" in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].endswith("(pick one with --platform)")


def test_missing_tag_exit_3(rsps) -> None:
    fx.FakeRegistry(rsps, REG, "team/app").missing("nope")
    result = runner.invoke(app, ["layers", "registry.example.com/team/app:nope"])
    assert result.exit_code == 3 and "tag 'nope' not found" in result.stderr


def test_bad_reference_and_platform_exit_2() -> None:
    assert runner.invoke(app, ["inspect", "Nginx:latest"]).exit_code == 2
    result = runner.invoke(app, ["inspect", "nginx", "--platform", "linux/"])
    assert result.exit_code == 2 and "invalid platform" in result.stderr


def test_unsupported_media_type_exit_6(rsps) -> None:
    fx.FakeRegistry(rsps, REG, "team/app").manifest(fx.SCHEMA1_BODY, fx.SCHEMA1, tags=("old",))
    result = runner.invoke(app, ["inspect", "registry.example.com/team/app:old", "--json"])
    assert result.exit_code == 6 and "schema 1" in result.stderr and result.stdout == ""


def test_digest_mismatch_exit_6(rsps) -> None:
    reg = fx.FakeRegistry(rsps, REG, "team/app")
    reg.manifest(
        fx.GITEA_MANIFEST + b"\n",
        fx.DOCKER_MANIFEST,
        tags=("1.0",),
        digest=fx.GITEA_MANIFEST_DIGEST,
    )
    result = runner.invoke(app, ["inspect", "registry.example.com/team/app:1.0"])
    assert result.exit_code == 6 and "does not match its digest" in result.stderr


def test_platform_from_environment(reg, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERHUB_PLATFORM", "linux/arm64")
    data = _json(["inspect", IMAGE, "--json"])
    assert data["manifest_digest"] == fx.sha256(fx.ARM64_MANIFEST)


def test_format_and_quiet(reg) -> None:
    fmt = runner.invoke(app, ["inspect", IMAGE, "--format", "{digest} {size}"])
    assert fmt.exit_code == 0, fmt.stderr
    assert fmt.stdout == f"{fx.sha256(fx.NGINX_INDEX)} {fx.NGINX_TOTAL}\n"
    quiet = runner.invoke(app, ["layers", IMAGE, "-q"])
    assert quiet.stdout.split() == [d for d, _ in fx.NGINX_LAYERS]
    lines = runner.invoke(app, ["dockerfile", IMAGE, "-q"]).stdout.splitlines()
    assert lines[0] == "ADD file:90b9dd8f12120e8b2cd3ece45fcbe8af67e40565e2032a40f64bd921c43e2ce7 /"
    assert runner.invoke(app, ["size", IMAGE, "-q"]).stdout == f"{fx.NGINX_TOTAL}\n"
    # history -q: each step as the table shows it (a Dockerfile line), not the raw
    # `/bin/sh -c #(nop) ADD file:... in /` that --json keeps
    steps = runner.invoke(app, ["history", IMAGE, "-q"]).stdout.splitlines()
    assert steps[0] == lines[0] and all("#(nop)" not in s for s in steps)
    raw = _json(["history", IMAGE, "--json"])["history"]
    assert "#(nop)" in raw[0]["created_by"] and len(steps) == len(raw)
