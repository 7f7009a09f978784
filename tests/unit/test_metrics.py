"""Issue 19, goals 7 and 9 on the MCP side: each tool result says what the call cost (text
content and `_meta`), `--max-pulls` bounds one call, and `serve-mcp --transport http` serves
/metrics in the Prometheus text format (scraped here from a real server on loopback)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from mcp import Client
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.mcp.metrics import ServerMetrics
from dockerhub_cli.mcp.server import Limits, build_server, http_app
from dockerhub_cli.models.cost import Cost
from dockerhub_cli.service import DockerHubService
from tests.unit.test_cost import _nginx_on_hub

pytestmark = pytest.mark.anyio
DETAILS = "docker_get_image_details"
ARGS = {"repository": "nginx", "tag": "1.27.2", "platform": "linux/amd64"}
TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def service() -> Iterator[DockerHubService]:
    with DockerHubService(Settings.from_env(backoff_factor=0.0, circuit_breaker=True)) as svc:
        yield svc


def _cost(result: Any) -> Cost:
    envelope = json.loads(result.content[0].text)
    assert list(envelope)[-1] == "cost"
    assert result.meta["dockerhub/cost"] == envelope["cost"]
    assert "cost" not in (result.structured_content or {})  # the output schema's data only
    return Cost.model_validate(envelope["cost"])


async def test_each_tool_result_says_what_that_call_cost(rsps, service) -> None:
    _nginx_on_hub(rsps)
    async with Client(build_server(service)) as client:
        cold = await client.call_tool(DETAILS, ARGS)
        again = await client.call_tool(DETAILS, ARGS)  # the result store answers
        arm = await client.call_tool(DETAILS, {**ARGS, "platform": "linux/arm64"})
    assert cold.is_error is False and again.is_error is False and arm.is_error is False
    first, replay, other = _cost(cold), _cost(again), _cost(arm)
    assert first.docker_hub.pulls == 2 and first.requests >= 3 and not first.cache.saved_result
    assert replay.cache.saved_result and replay.requests == 0 and replay.cache.hits == 0
    saved, fresh = json.loads(again.content[0].text), json.loads(cold.content[0].text)
    assert saved["result"] == fresh["result"]
    # per call, not the server's running total: the index from the HTTP cache, one more pull
    assert other.docker_hub.pulls == 1 and other.cache.by_kind["manifest_get"] == 1
    assert service.cost().docker_hub.pulls == 3


async def test_max_pulls_bounds_each_tool_call(rsps, service) -> None:
    _nginx_on_hub(rsps)
    async with Client(build_server(service, limits=Limits(max_pulls=1))) as client:
        stopped = await client.call_tool(DETAILS, ARGS)
        assert stopped.is_error is True
        text = stopped.content[0].text
        assert "the server's limit of 1 Docker Hub pulls per tool call (--max-pulls)" in text
        assert "--max-pulls 1" not in text.replace("(--max-pulls)", "")
    async with Client(build_server(service, limits=Limits(max_pulls=0))) as client:
        # the index is cached now; its amd64 manifest still costs one pull
        assert (await client.call_tool(DETAILS, ARGS)).is_error is True
    async with Client(build_server(service)) as client:
        assert (await client.call_tool(DETAILS, ARGS)).is_error is False
    async with Client(build_server(service, limits=Limits(max_pulls=0))) as client:
        cached = await client.call_tool(DETAILS, ARGS)  # all from the cache: no pull needed
    assert cached.is_error is False and _cost(cached).docker_hub.max_pulls == 0


def _free_port_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class _Served:
    """The ASGI app on a real loopback socket (uvicorn in a thread), stopped on exit."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = _free_port_socket()
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_config=None, access_log=False, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> _Served:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                break
            self.thread.join(0.01)
        assert self.server.started
        return self

    def get(self, path: str, token: str | None = None) -> tuple[int, str, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
                return answer.status, answer.headers["Content-Type"], answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, "", ""

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def _samples(text: str) -> dict[str, list[Any]]:
    families: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text):
        families.setdefault(family.name, []).extend(family.samples)
    return families


def _value(samples: list[Any], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    return sum(found)


async def test_metrics_are_served_in_the_prometheus_format(rsps, service) -> None:
    rsps.add_passthru("http://127.0.0.1")  # the scrape itself (urllib, not requests, anyway)
    _nginx_on_hub(rsps)
    metrics = ServerMetrics(service)
    server = build_server(service, limits=Limits(metrics=metrics))
    breaker = service.breaker
    assert breaker is not None
    for _ in range(service.settings.breaker_threshold):
        breaker.record_failure("down.example.com", "connection refused")
    async with Client(server) as client:
        assert (await client.call_tool(DETAILS, ARGS)).is_error is False
        assert (await client.call_tool(DETAILS, ARGS)).is_error is False  # the result store
        bad = await client.call_tool(DETAILS, {**ARGS, "platform": "x" * 300})
        assert bad.is_error is True
        arm = await client.call_tool(DETAILS, {**ARGS, "platform": "linux/arm64"})
        assert arm.is_error is False
    app = http_app(server, service, host="127.0.0.1", token=None, metrics=metrics)
    with _Served(app) as served:
        status, content_type, text = served.get("/metrics")
        health = served.get("/health")
    assert status == 200 and content_type.startswith("text/plain; version=")
    assert health[0] == 200
    s = _samples(text)
    up, total = s["dockerhub_upstream_requests"], "dockerhub_upstream_requests_total"
    hub = {"host": "registry-1.docker.io"}
    assert _value(up, total, **hub, kind="manifest_get", status="200") == 3
    assert _value(up, total, kind="blob", status="200") == 2
    assert _value(up, total, kind="hub_api", status="404") >= 1
    latency = s["dockerhub_upstream_request_duration_seconds"]
    count = "dockerhub_upstream_request_duration_seconds_count"
    assert _value(latency, count, kind="manifest_get") == 3
    cache, lookups = s["dockerhub_cache_requests"], "dockerhub_cache_requests_total"
    http = {"cache": "http", "kind": "manifest_get"}
    assert _value(cache, lookups, **http, result="hit") == 1  # arm64: the index was cached
    assert _value(cache, lookups, **http, result="miss") == 3
    store = {"cache": "result", "kind": DETAILS}
    assert _value(cache, lookups, **store, result="hit") == 1
    assert _value(cache, lookups, **store, result="miss") >= 2
    tools, calls = s["dockerhub_tool_calls"], "dockerhub_tool_calls_total"
    assert _value(tools, calls, tool=DETAILS, outcome="ok") == 3
    assert _value(tools, calls, tool=DETAILS, outcome="invalid_arguments") == 1
    durations = s["dockerhub_tool_call_duration_seconds"]
    assert _value(durations, "dockerhub_tool_call_duration_seconds_count") == 4
    assert _value(s["dockerhub_docker_hub_pulls"], "dockerhub_docker_hub_pulls_total") == 3
    circuit, state = s["dockerhub_circuit_breaker_state"], "dockerhub_circuit_breaker_state"
    assert _value(circuit, state, host="down.example.com", state="open") == 1
    assert _value(circuit, state, host="down.example.com", state="closed") == 0
    assert "dockerhub_rate_limit_waits" in s and "dockerhub_rate_limit_wait_seconds" in s
    waits = s["dockerhub_rate_limit_waits"]
    assert {x.labels["host"] for x in waits} >= {"registry-1.docker.io", "hub.docker.com"}


def test_metrics_need_the_token_like_mcp(service) -> None:
    metrics = ServerMetrics(service)
    app = http_app(build_server(service), service, host="127.0.0.1", token=TOKEN, metrics=metrics)
    with TestClient(app, client=("127.0.0.1", 50000), base_url="http://127.0.0.1:8000") as client:
        assert client.get("/metrics").status_code == 401  # even from loopback (unlike /health)
        ok = client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and "dockerhub_server_info" in ok.text


def test_hosts_beyond_the_bound_share_one_label(service) -> None:
    from dockerhub_cli.mcp import metrics as metrics_module

    metrics = ServerMetrics(service)
    for i in range(metrics_module.MAX_HOSTS + 5):
        metrics.on_request(f"r{i}.example.com", "manifest_get", "200", 0.01)
    hosts = {
        x.labels["host"]
        for x in _samples(metrics.exposition().decode())["dockerhub_upstream_requests"]
    }
    assert len(hosts) == metrics_module.MAX_HOSTS + 1 and metrics_module.OTHER_HOST in hosts


def test_cli_commands_do_not_import_prometheus_client() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from dockerhub_cli.cli import app\n"
        "import dockerhub_cli.mcp.server\n"
        "CliRunner().invoke(app, ['--stats', 'config', 'path'])\n"
        "print('prometheus_client' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
