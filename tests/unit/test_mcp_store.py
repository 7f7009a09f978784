"""The agent path of `serve-mcp` (issue 19): the result store, ping, one-line validation
errors, a bounded `tools/list` and compact text content.

The store is driven through the SDK's in-memory client against the real service on a
`responses` registry, so "answered from the store" means "no request was sent"; its clock is
injected (the HTTP cache's own entries stay fresh meanwhile).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from mcp import Client

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.mcp.schema import compact
from dockerhub_cli.mcp.server import build_server
from dockerhub_cli.mcp.store import ResultStore, credential_identity
from dockerhub_cli.service import DockerHubService
from tests.unit import registry_fixtures as fx

pytestmark = pytest.mark.anyio

REG = "https://registry.example.com"
IMAGE = "registry.example.com/team/app"
ARGS = {"repository": IMAGE, "tag": "1.27.2"}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- the store on its own ------------------------------------------------------------------------


def test_store_hit_expiry_and_bounds() -> None:
    clock = Clock(1000.0)
    store = ResultStore(max_entries=2, clock=clock)
    assert store.put("a", "A", expires_at=1060.0, size=10)
    assert store.get("a") == "A"
    clock.now = 1060.0  # the moment it expires, it is gone
    assert store.get("a") is None and len(store) == 0
    assert not store.put("soon", "x", expires_at=1060.5, size=1)  # not worth keeping
    store.put("b", "B", expires_at=2000.0, size=1)
    store.put("c", "C", expires_at=2000.0, size=1)
    store.get("b")  # b is now the most recently used
    store.put("d", "D", expires_at=2000.0, size=1)
    assert store.get("c") is None and store.get("b") == "B" and store.get("d") == "D"
    small = ResultStore(max_bytes=100, clock=clock)
    assert not small.put("big", "x", expires_at=2000.0, size=101)
    small.put("one", "x", expires_at=2000.0, size=60)
    small.put("two", "y", expires_at=2000.0, size=60)
    assert len(small) == 1 and small.snapshot()["bytes"] == 60


def test_store_keys_local_sources_never_and_identity_always() -> None:
    assert ResultStore.key("t", {"repository": "oci:/tmp/layout"}, "id") is None
    assert ResultStore.key("t", {"images": ["nginx", "docker-archive:x.tar"]}, "id") is None
    one = ResultStore.key("t", {"repository": "nginx", "limit": 5}, "id")
    assert one == ResultStore.key("t", {"limit": 5, "repository": "nginx"}, "id")
    assert one != ResultStore.key("t", {"repository": "nginx", "limit": 5}, "other")


def test_credential_identity_changes_with_a_login(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    settings = Settings.from_env(docker_config=config)
    before = credential_identity(settings)
    config.write_text('{"auths": {"registry.example.com": {"auth": "dTpw"}}}')
    after = credential_identity(settings)
    assert before != after
    token = Settings.from_env(docker_config=config, username="u", token="secret-token")
    assert credential_identity(token) not in (before, after)
    assert "secret-token" not in credential_identity(token)
    # hashed only when its parts change (asked once per call), and asked again, the same
    assert credential_identity(settings) == after and credential_identity(token) != after
    config.write_text('{"auths": {}, "credsStore": "desktop"}')  # another login: another size
    assert credential_identity(settings) not in (before, after)


# -- through the server -------------------------------------------------------------------------


@pytest.fixture
def registry() -> Iterator[fx.FakeRegistry]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        reg = fx.FakeRegistry(rsps, REG, "team/app")
        reg.nginx("1.27.2")
        reg.missing("9.9")
        yield reg


@pytest.fixture
def clock() -> Clock:
    import time

    return Clock(time.time())


@pytest.fixture
def service(registry: fx.FakeRegistry) -> Iterator[DockerHubService]:
    with DockerHubService(Settings.from_env(backoff_factor=0.0)) as svc:
        yield svc


@pytest.fixture
async def server_and_client(
    service: DockerHubService, clock: Clock
) -> AsyncIterator[tuple[Any, Client]]:
    server = build_server(service, store=ResultStore(clock=clock))
    async with Client(server, raise_exceptions=True) as client:
        yield server, client


async def test_a_repeated_call_is_answered_from_the_store_without_a_request(
    server_and_client: tuple[Any, Client], registry: fx.FakeRegistry
) -> None:
    server, client = server_and_client
    first = await client.call_tool("docker_get_manifest", ARGS)
    assert first.is_error is False
    sent = len(registry.rsps.calls)
    again = await client.call_tool("docker_get_manifest", ARGS)
    assert len(registry.rsps.calls) == sent  # nothing sent: the store answered
    assert again.structured_content == first.structured_content
    # the same answer, but its cost says this time nothing was spent (docs/observability.md)
    replay, fresh = json.loads(again.content[0].text), json.loads(first.content[0].text)
    assert replay.pop("cost")["cache"]["saved_result"] is True
    assert fresh.pop("cost")["cache"]["saved_result"] is False and replay == fresh
    assert server.result_store.snapshot()["hits"] == 1
    # Other arguments are another answer.
    other = await client.call_tool("docker_get_manifest", {**ARGS, "platform": "linux/arm64"})
    assert other.structured_content != first.structured_content
    assert server.result_store.snapshot()["hits"] == 1


async def test_a_stored_answer_expires_with_the_ttl_of_what_it_read(
    server_and_client: tuple[Any, Client], service: DockerHubService, clock: Clock
) -> None:
    server, client = server_and_client
    await client.call_tool("docker_get_manifest", ARGS)
    ttl = service.settings.ttls["manifest_by_tag"]
    clock.now += ttl - 2
    await client.call_tool("docker_get_manifest", ARGS)
    assert server.result_store.snapshot()["hits"] == 1
    clock.now += 3  # past the TTL of a tag lookup: asked again (here from the HTTP cache)
    await client.call_tool("docker_get_manifest", ARGS)
    stats = server.result_store.snapshot()
    assert stats["hits"] == 1 and stats["misses"] == 2


async def test_answers_are_kept_per_credential_identity(
    server_and_client: tuple[Any, Client], service: DockerHubService
) -> None:
    server, client = server_and_client
    await client.call_tool("docker_get_manifest", ARGS)
    config = service.settings.docker_config or Path.home() / ".docker" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('{"auths": {}}')  # a `docker login` (or logout) happened meanwhile
    await client.call_tool("docker_get_manifest", ARGS)
    stats = server.result_store.snapshot()
    assert stats["hits"] == 0 and stats["stored"] == 2


async def test_errors_are_never_stored(
    server_and_client: tuple[Any, Client], registry: fx.FakeRegistry
) -> None:
    server, client = server_and_client
    missing = {"repository": IMAGE, "tag": "9.9"}
    bad = await client.call_tool("docker_get_manifest", missing)
    assert bad.is_error
    sent = len(registry.rsps.calls)
    bad = await client.call_tool("docker_get_manifest", missing)
    assert bad.is_error and len(registry.rsps.calls) > sent  # asked again
    invalid = await client.call_tool("docker_get_manifest", {**ARGS, "platform": "x" * 500})
    assert invalid.is_error
    assert server.result_store.snapshot()["stored"] == 0


async def test_no_store_when_the_cache_is_off(registry: fx.FakeRegistry) -> None:
    with DockerHubService(Settings.from_env(backoff_factor=0.0, no_cache=True)) as service:
        server = build_server(service)
        assert server.result_store is None  # type: ignore[attr-defined]
        async with Client(server, raise_exceptions=True) as client:
            await client.call_tool("docker_get_manifest", ARGS)
            sent = len(registry.rsps.calls)
            await client.call_tool("docker_get_manifest", ARGS)
            assert len(registry.rsps.calls) > sent


async def test_ping_is_answered(service: DockerHubService) -> None:
    # `ping` exists up to protocol 2025-11-25 (the initialize handshake every stdio client
    # still uses); 2026-07-28 removed it.
    async with Client(build_server(service), mode="legacy", raise_exceptions=True) as client:
        from mcp.shared.exceptions import MCPDeprecationWarning

        with pytest.warns(MCPDeprecationWarning):  # the client's warning, about 2026-07-28
            assert (await client.send_ping()) is not None
        assert (await client.list_tools()).tools


async def test_validation_errors_are_one_line_naming_the_parameter_and_bound(
    server_and_client: tuple[Any, Client],
) -> None:
    _, client = server_and_client
    for arguments, expected in (
        ({"repository": "nginx", "limit": 1000}, "limit must be between 1 and 100"),
        ({"repository": "nginx", "page": 0}, "page must be between 1 and 10000"),
        ({"limit": 5}, "repository is required"),
        ({"repository": "x" * 600}, "repository must be at most 512 characters"),
        ({"repository": "nginx", "sort": "random"}, "sort must be one of"),
    ):
        result = await client.call_tool("docker_list_tags", arguments)
        assert result.is_error, arguments
        text = result.content[0].text
        assert expected in text, text
        assert "\n" not in text and "pydantic" not in text.lower() and "http" not in text


async def test_tools_list_is_small_and_keeps_output_schemas(
    server_and_client: tuple[Any, Client],
) -> None:
    _, client = server_and_client
    listed = await client.list_tools()
    wire = len(listed.model_dump_json(by_alias=True, exclude_none=True).encode())
    # 143 KB before the compact schemas; issue 19 asks for under 24 KB (see docs/mcp.md): a new
    # parameter pays for its description by shortening another.
    assert wire < 24 * 1024, wire
    for tool in listed.tools:
        assert tool.output_schema and tool.output_schema["type"] == "object", tool.name
        assert tool.output_schema["properties"], tool.name
        text = json.dumps(tool.model_dump(by_alias=True, exclude_none=True))
        assert '"title"' not in text and "untrusted_publisher_data" not in text, tool.name


async def test_text_content_is_compact_json(server_and_client: tuple[Any, Client]) -> None:
    _, client = server_and_client
    result = await client.call_tool("docker_get_image_details", ARGS)
    text = result.content[0].text
    assert len(result.content) == 1
    envelope = json.loads(text)
    assert text == json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    assert set(envelope) <= {"notice", "result", "cut", "cost"}  # cost: docs/observability.md


def test_compact_keeps_what_a_schema_accepts() -> None:
    from pydantic import BaseModel

    class Inner(BaseModel):
        a: int
        b: str | None = None

    class Outer(BaseModel):
        one: Inner
        two: Inner | None = None
        many: list[Inner] = []
        kind: str | None = None

    full = Outer.model_json_schema()
    out = compact(full, output=True, depth=3)
    assert "$defs" in out  # Inner is used three times: shared, not repeated
    assert '"title"' not in json.dumps(out)
    assert out["properties"]["kind"] == {"type": ["string", "null"]}
    top = compact(full, output=True, depth=0)
    assert top["properties"]["two"] == {"type": ["null", "object"]}
    assert top["properties"]["many"] == {"type": "array"} and "$defs" not in top
    import jsonschema

    sample = Outer(one=Inner(a=1), many=[Inner(a=2, b="x")]).model_dump(mode="json")
    for schema in (full, out, top):
        jsonschema.validate(sample, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**sample, "kind": 3}, out)


async def test_get_manifest_returns_what_its_description_says(
    server_and_client: tuple[Any, Client],
) -> None:
    _, client = server_and_client
    listed = {t.name: t for t in (await client.list_tools()).tools}
    assert "the index itself unless `platform`" in (listed["docker_get_manifest"].description or "")
    top = (await client.call_tool("docker_get_manifest", ARGS)).structured_content
    assert top is not None and "index" in top["media_type"] and "manifests" in top["manifest"]
    one = await client.call_tool("docker_get_manifest", {**ARGS, "platform": "linux/arm64"})
    chosen = one.structured_content
    assert chosen is not None and chosen["index_digest"] == top["digest"]
    assert "layers" in chosen["manifest"] and chosen["platform"]["architecture"] == "arm64"


def test_the_deferred_service_is_built_once_in_the_background() -> None:
    import threading

    from dockerhub_cli.mcp.server import DeferredService

    release = threading.Event()
    built: list[str] = []

    def factory() -> Any:
        release.wait(5)
        built.append(threading.current_thread().name)
        return type("Svc", (), {"transport": "t", "answer": 42})()

    settings = Settings.from_env()
    deferred = DeferredService(factory, settings)
    assert deferred.settings is settings  # at hand before the service exists
    release.set()
    assert deferred.answer == 42 and deferred.transport == "t"
    assert built == ["dockerhub-service"]

    def broken() -> Any:
        raise RuntimeError("no service")

    with pytest.raises(RuntimeError, match="no service"):
        _ = DeferredService(broken, settings).transport
