"""`verify` says when its answer came from expired cache entries (stale-if-error), as the
other commands served from the cache do."""

from __future__ import annotations

import json
import re

import requests
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.service import DockerHubService
from tests.support.cache import age_cache
from tests.unit import registry_fixtures as fx

REG = "https://registry.example.com"
IMAGE = "registry.example.com/team/app:1.27.2"


def _registry(rsps: responses.RequestsMock) -> None:
    """The nginx index on a registry whose referrers API answers: nothing refers to it."""
    reg = fx.FakeRegistry(rsps, REG, "team/app")
    reg.nginx("1.27.2")
    empty = {"schemaVersion": 2, "mediaType": fx.OCI_INDEX, "manifests": []}
    rsps.get(
        re.compile(re.escape(reg.url("referrers/")) + ".*"),
        json=empty,
        content_type=fx.OCI_INDEX,
    )
    rsps.get(reg.url("tags/list"), json={"name": "team/app", "tags": ["1.27.2"]})


def _registry_down(rsps: responses.RequestsMock) -> None:
    rsps.reset()
    for method in ("GET", "HEAD"):
        rsps.add(method, re.compile(r".*"), body=requests.ConnectionError("refused"))


def test_verify_from_expired_entries_is_stale(rsps: responses.RequestsMock) -> None:
    _registry(rsps)
    with DockerHubService(Settings.from_env(backoff_factor=0.0, retries=0)) as svc:
        fresh = svc.verify(IMAGE)
        assert fresh.status == "unsigned" and fresh.stale is False
        assert age_cache(svc, everything=True) >= 1
        _registry_down(rsps)
        again = svc.verify(IMAGE)
    assert again.stale is True
    assert (again.status, again.digest) == (fresh.status, fresh.digest)


def test_cli_verify_json_marks_stale(rsps: responses.RequestsMock) -> None:
    _registry(rsps)
    runner = CliRunner()
    first = runner.invoke(app, ["verify", IMAGE, "--json"])
    assert first.exit_code == 11 and json.loads(first.stdout)["stale"] is False
    age_cache(Settings.from_env(), everything=True)
    _registry_down(rsps)
    result = runner.invoke(app, ["verify", IMAGE, "--json"])
    assert result.exit_code == 11, result.output
    assert json.loads(result.stdout)["stale"] is True
