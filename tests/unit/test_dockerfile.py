"""The Dockerfile cannot be built here, so check its structure (and run hadolint if installed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "Dockerfile").read_text()
# Instructions with continuation lines joined.
LINES = [
    line.strip()
    for line in re.sub(r"\\\n\s*", " ", TEXT).splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]


def _stages() -> dict[str, list[str]]:
    stages: dict[str, list[str]] = {}
    current = ""
    for line in LINES:
        if line.upper().startswith("FROM "):
            current = line.split()[-1]
            stages[current] = [line]
        else:
            stages[current].append(line)
    return stages


def test_multi_stage_with_pinned_bases() -> None:
    froms = [line.split()[1] for line in LINES if line.upper().startswith("FROM ")]
    assert len(froms) >= 3
    stages = _stages()
    for image in froms:
        if image in stages:
            continue  # FROM an earlier stage
        name, _, tag = image.partition(":")
        assert tag and tag != "latest", f"base image {image} must be pinned to a tag"
        assert "slim" in tag


def test_runtime_is_non_root_with_entrypoint_and_default_command() -> None:
    stages = _stages()
    base = stages["base"]
    user = [line for line in base if line.startswith("USER ")]
    assert user and user[-1].split()[1].split(":")[0] not in ("root", "0")
    assert base.index(user[-1]) < base.index('ENTRYPOINT ["dockerhub"]')
    assert any("DOCKERHUB_CACHE_DIR=/cache" in line for line in base)
    assert 'VOLUME ["/cache"]' in base
    last_name = list(stages)[-1]
    assert stages[last_name][-1] == 'CMD ["serve-mcp"]', "the default target runs serve-mcp"


def test_http_variant() -> None:
    http = _stages()["http"]
    assert "EXPOSE 8080" in http
    health = next(line for line in http if line.startswith("HEALTHCHECK"))
    assert "/health" in health
    cmd = json.loads(next(line for line in http if line.startswith("CMD ")).removeprefix("CMD "))
    assert cmd[:3] == ["serve-mcp", "--transport", "http"] and "0.0.0.0" in cmd and "8080" in cmd


def test_no_secrets_in_the_image() -> None:
    for line in LINES:
        if line.split()[0] in ("ENV", "ARG", "LABEL"):
            assert not re.search(r"(TOKEN|PASSWORD|SECRET)\s*=", line, re.IGNORECASE), line
    assert "config.json" not in TEXT


def test_build_context_has_what_the_wheel_needs() -> None:
    shared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"][
        "targets"
    ]["wheel"]["shared-data"]
    ignore = (ROOT / ".dockerignore").read_text()
    for source in shared:
        top = source.split("/")[0]
        assert (ROOT / source).exists()
        assert f"COPY {top} ./{top}" in TEXT and f"!{top}/" in ignore


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint not installed")
def test_hadolint_is_clean() -> None:
    done = subprocess.run(["hadolint", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
