"""Issue 19, goal 9: what a command or a tool call cost (requests by kind, Docker Hub pulls and
free HEADs, cache hits), counted in the transport; `--stats`, `cost` in JSON and MCP results,
and `--max-pulls` stopping before a manifest GET would pass the limit."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest
import responses
from typer.testing import CliRunner

from dockerhub_cli import result_cache
from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import PullLimitError
from dockerhub_cli.exitcodes import ExitCode
from dockerhub_cli.models.cost import REQUEST_KINDS, Cost
from dockerhub_cli.remote.cost import CostCounter, Meter, request_kind
from dockerhub_cli.service import DockerHubService
from tests.support.cache import age_cache
from tests.unit import registry_fixtures as fx

HUB_REGISTRY = "https://registry-1.docker.io"
OTHER = "https://registry.example.com"
runner = CliRunner()


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _nginx_on_hub(rsps: responses.RequestsMock) -> fx.FakeRegistry:
    reg = fx.FakeRegistry(rsps, HUB_REGISTRY, "library/nginx")
    reg.nginx("1.27.2")
    for path in (
        "namespaces/library/repositories/nginx",
        "namespaces/library/repositories/nginx/tags/1.27.2",
    ):
        rsps.get(f"https://hub.docker.com/v2/{path}", status=404, json={"message": "none"})
    rsps.get(
        "https://hub.docker.com/v2/namespaces/library/repositories/nginx/tags",
        json={"count": 0, "next": None, "previous": None, "results": []},
    )
    return reg


def _manifest_gets(rsps: responses.RequestsMock) -> list[str]:
    return [
        c.request.url
        for c in rsps.calls
        if c.request.method == "GET" and "/manifests/" in (c.request.url or "")
    ]


# -- the kinds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "kind"),
    [
        ("GET", f"{HUB_REGISTRY}/v2/library/nginx/manifests/latest", "manifest_get"),
        ("HEAD", f"{HUB_REGISTRY}/v2/library/nginx/manifests/latest", "manifest_head"),
        ("GET", f"{OTHER}/v2/a/b/c/manifests/sha256:{'0' * 64}", "manifest_get"),
        ("GET", f"{OTHER}/v2/team/app/blobs/sha256:{'1' * 64}", "blob"),
        ("HEAD", f"{OTHER}/v2/team/app/blobs/sha256:{'1' * 64}", "blob_head"),
        ("GET", f"{OTHER}/v2/team/app/tags/list?n=100", "tag_list"),
        ("GET", f"{OTHER}/v2/team/app/referrers/sha256:{'2' * 64}", "referrers"),
        ("GET", f"{OTHER}/v2/", "ping"),
        ("GET", "https://auth.docker.io/token?scope=repository:library/nginx:pull", "token"),
        ("POST", "https://hub.docker.com/v2/auth/token", "token"),
        ("POST", "https://hub.docker.com/v2/users/login/", "token"),
        ("GET", "https://hub.docker.com/v2/namespaces/library/repositories/nginx/tags", "hub_api"),
        # a Hub repository called "manifests" is still the Hub's API, not a registry manifest
        ("GET", "https://hub.docker.com/v2/namespaces/x/repositories/manifests/tags", "hub_api"),
        ("GET", "https://hub.docker.com/v2/search/repositories?query=a", "hub_api"),
        ("POST", "https://api.osv.dev/v1/querybatch", "osv"),
        ("GET", "https://example.com/whatever", "other"),
    ],
)
def test_request_kinds(method: str, url: str, kind: str) -> None:
    assert request_kind(method, url) == kind
    assert kind in REQUEST_KINDS


def test_the_counters_json_is_the_models() -> None:
    from dockerhub_cli.remote import cost as cost_module

    assert cost_module.KINDS == REQUEST_KINDS
    counter = CostCounter(
        network={"other": 1, "blob": 2, "manifest_get": 1}, cache={"token": 1}, max_pulls=4
    )
    data = counter.to_dict()
    assert Cost.model_validate(data).model_dump(mode="json") == data
    assert list(data["by_kind"]) == ["manifest_get", "blob", "other"]
    assert Cost().model_dump(mode="json") == CostCounter().to_dict()


def test_the_configured_hosts_are_docker_hub_and_its_api(monkeypatch) -> None:
    monkeypatch.setenv("DOCKERHUB_REGISTRY_URL", "http://127.0.0.1:5999")
    monkeypatch.setenv("DOCKERHUB_HUB_URL", "http://127.0.0.1:6000")
    meter = Meter(Settings.from_env())
    assert (
        "127.0.0.1:5999" in meter.registry_hosts and "registry-1.docker.io" in meter.registry_hosts
    )
    assert meter.kind("GET", "http://127.0.0.1:6000/v2/namespaces/a/repositories/b") == "hub_api"


def test_the_limit_counts_pulls_in_flight_and_only_answered_ones() -> None:
    meter = Meter(Settings.from_env())
    meter.max_pulls = 2
    url = f"{HUB_REGISTRY}/v2/library/nginx/manifests/latest"
    first, second = meter.start("GET", url), meter.start("GET", url)  # two in flight
    with pytest.raises(PullLimitError) as caught:
        meter.start("GET", url)
    assert caught.value.limit == 2 and caught.value.spent == 0
    meter.finish(first, 401)  # refused (a token was needed): no pull spent
    meter.finish(second, 200)
    third = meter.start("GET", url)
    meter.finish(third, 200)
    assert meter.totals.pulls == 2
    with pytest.raises(PullLimitError, match="2 Docker Hub pulls spent"):
        meter.start("GET", url)
    meter.finish(meter.start("HEAD", url), 200)  # a HEAD is free, whatever the limit
    meter.finish(meter.start("GET", f"{OTHER}/v2/a/manifests/latest"), 200)  # not Docker Hub
    assert (meter.totals.pulls, meter.totals.free_heads) == (2, 1)
    assert meter.totals.network == {"manifest_get": 4, "manifest_head": 1}


def test_a_tracking_block_has_its_own_limit_and_counts() -> None:
    outer, inner = CostCounter(), CostCounter(max_pulls=0)
    meter = Meter(Settings.from_env(), scopes=lambda: [outer, inner])
    with pytest.raises(PullLimitError):
        meter.start("GET", f"{HUB_REGISTRY}/v2/library/nginx/manifests/1")
    ticket = meter.start("GET", f"{OTHER}/v2/a/blobs/sha256:{'0' * 64}")
    meter.finish(ticket, 200, 10)
    meter.add_bytes(ticket, 5)
    meter.cached("manifest_get")
    for scope in (meter.totals, outer, inner):
        assert scope.network == {"blob": 1} and scope.bytes_received == 15
        assert scope.cache == {"manifest_get": 1}


# -- the CLI: --stats, cost in JSON, --max-pulls -------------------------------------------------


def test_stats_line_and_json_cost_cold_then_warm(rsps) -> None:
    _nginx_on_hub(rsps)
    cold = runner.invoke(app, ["--stats", "inspect", "nginx:1.27.2", "--json"])
    assert cold.exit_code == 0, cold.output
    data = json.loads(cold.stdout)
    assert list(data)[-1] == "cost"  # added as the last key; every other field unchanged
    cost = Cost.model_validate(data["cost"])
    assert cost.docker_hub.pulls == 2 == cost.by_kind["manifest_get"]  # index + amd64 manifest
    assert cost.by_kind["blob"] == 1 and cost.requests == sum(cost.by_kind.values())
    assert cost.requests == len(rsps.calls) and cost.bytes_received > 0
    # The Hub's 404 for the tag, read twice, is sent once (a negative fact, remote/hub.py).
    assert cost.cache.by_kind == {"hub_api": 1} and not cost.cache.saved_result
    line = cold.stderr.strip().splitlines()[-1]
    assert line.startswith(f"cost: {cost.requests} requests (2 manifest_get, ")
    assert "Docker Hub: 2 pulls" in line

    sent = len(rsps.calls)
    warm = runner.invoke(app, ["inspect", "nginx:1.27.2", "--json", "--stats"])
    assert warm.exit_code == 0, warm.output
    again = Cost.model_validate(json.loads(warm.stdout)["cost"])
    assert again.docker_hub.pulls == 0 and again.cache.by_kind["manifest_get"] == 2
    assert again.requests == len(rsps.calls) - sent == 0  # the Hub's 404s are cached too
    assert again.cache.by_kind["hub_api"] == 3
    assert "Docker Hub: 0 pulls" in warm.stderr

    plain = runner.invoke(app, ["inspect", "nginx:1.27.2", "--json"])
    assert "cost" not in json.loads(plain.stdout) and "cost:" not in plain.stderr


def test_max_pulls_stops_before_the_manifest_get_that_would_pass_it(rsps) -> None:
    _nginx_on_hub(rsps)
    none = runner.invoke(app, ["--max-pulls", "0", "inspect", "nginx:1.27.2"])
    assert none.exit_code == ExitCode.RATE_LIMITED
    assert _manifest_gets(rsps) == []  # stopped before sending anything that counts
    error = none.stderr.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: --max-pulls 0 reached: 0 Docker Hub")

    one = runner.invoke(app, ["inspect", "nginx:1.27.2", "--max-pulls", "1", "--stats"])
    assert one.exit_code == ExitCode.RATE_LIMITED
    assert len(_manifest_gets(rsps)) == 1  # the index; its amd64 manifest would be the second
    assert "--max-pulls 1 reached: 1 Docker Hub pull spent" in one.stderr
    assert "Docker Hub: 1 pull of at most 1" in one.stderr  # --stats still says what it cost

    enough = runner.invoke(app, ["inspect", "nginx:1.27.2", "--max-pulls", "2"])
    assert enough.exit_code == 0, enough.output
    cached = runner.invoke(app, ["inspect", "nginx:1.27.2", "--max-pulls", "0"])
    assert cached.exit_code == 0, cached.output  # from the cache: no pull spent


def test_an_expired_tag_is_checked_with_a_free_head(rsps) -> None:
    _nginx_on_hub(rsps)
    settings = Settings.from_env(backoff_factor=0.0)
    settings = settings.replace(ttls={**settings.ttls, "manifest_by_tag": 1})
    with DockerHubService(settings) as svc:
        svc.inspect("nginx:1.27.2")
        assert svc.cost().docker_hub.pulls == 2
    assert age_cache(settings) >= 1
    with DockerHubService(settings) as svc:
        svc.transport.meter.max_pulls = 0  # the HEAD and the renewed entries cost nothing
        svc.inspect("nginx:1.27.2")
        cost = svc.cost()
        assert svc.health()["cost"]["docker_hub"]["free_heads"] == 1  # /health shows totals
    assert cost.docker_hub.pulls == 0 and cost.docker_hub.free_heads == 1
    assert cost.by_kind.get("manifest_get", 0) == 0 and cost.cache.by_kind["manifest_get"] == 2


def test_cost_is_spliced_into_objects_only() -> None:
    cost = Cost().model_dump(mode="json")
    text, span = result_cache.splice_cost('{\n  "a": 1\n}', cost)
    assert json.loads(text) == {"a": 1, "cost": cost} and span is not None
    assert json.loads(text[span[0] : span[1]]) == cost
    assert json.loads(result_cache.splice_cost("{}", cost)[0]) == {"cost": cost}
    for not_an_object in ("[\n  1\n]", '"x"', "3"):
        assert result_cache.splice_cost(not_an_object, cost) == (not_an_object, None)


# -- a replayed saved result costs nothing, and says so ----------------------------------------


def test_replay_cost_has_the_shape_of_the_model() -> None:
    plan = result_cache.Plan("inspect", "k", "/nonexistent", max_pulls=3)
    replay = Cost.model_validate(plan.replay_cost())
    assert replay.model_dump(mode="json") == plan.replay_cost()
    assert replay.requests == 0 and replay.cache.saved_result and replay.docker_hub.max_pulls == 3


def test_plan_keeps_stats_in_the_key_and_drops_max_pulls(env_copy) -> None:
    plain = result_cache.plan(["inspect", "nginx"], env_copy)
    stats = result_cache.plan(["--stats", "inspect", "nginx", "--max-pulls", "4"], env_copy)
    limited = result_cache.plan(["--max-pulls=2", "--stats", "inspect", "nginx"], env_copy)
    assert plain is not None and stats is not None and limited is not None
    assert stats.stats and stats.max_pulls == 4 and limited.max_pulls == 2 and not plain.stats
    assert stats.key == limited.key != plain.key  # --json --stats output differs: its own entry
    assert result_cache.plan(["inspect", "nginx", "--max-pulls"], env_copy) is None
    assert result_cache.plan(["inspect", "nginx", "--max-pulls", "x"], env_copy) is None


@pytest.fixture
def env_copy() -> dict[str, str]:
    import os

    return dict(os.environ)


def _console(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch
) -> tuple[int, str, str]:
    """The console script's path (`__main__.main`): replay when it can, else run and save."""
    from dockerhub_cli.__main__ import main

    monkeypatch.setattr(sys, "argv", ["dockerhub", *argv])
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main()
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_a_replayed_result_costs_zero_requests_and_says_so(rsps, capsys, monkeypatch) -> None:
    _nginx_on_hub(rsps)
    rsps.get(
        "https://hub.docker.com/v2/namespaces/library/repositories/nginx",
        json={"name": "nginx", "namespace": "library", "star_count": 1, "pull_count": 2},
    )
    argv = ["--stats", "inspect", "nginx:1.27.2", "--json", "--platform", "linux/amd64"]
    code, cold_out, cold_err = _console(argv, capsys, monkeypatch)
    assert code == 0, cold_err
    cold = json.loads(cold_out)["cost"]
    assert cold["requests"] > 0 and cold["cache"]["saved_result"] is False
    sent = len(rsps.calls)
    code, out, err = _console(argv, capsys, monkeypatch)
    assert code == 0 and len(rsps.calls) == sent  # nothing sent
    data = json.loads(out)
    assert data["cost"] == result_cache.Plan("inspect", "k", "d").replay_cost()
    assert {k: v for k, v in data.items() if k != "cost"} == {
        k: v for k, v in json.loads(cold_out).items() if k != "cost"
    }
    assert err.strip().splitlines()[-1] == result_cache.REPLAY_STATS_LINE
    assert "cost: " not in err.replace(
        result_cache.REPLAY_STATS_LINE, ""
    )  # the cold line: not saved
