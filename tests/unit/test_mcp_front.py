"""The stdio front of `serve-mcp` (`dockerhub_cli/mcp/front.py`): for the same client messages,
its answers are the SDK server's own.

Every conformance case sends one sequence of messages twice: to the SDK's own stdio transport
and `Server.run` alone (`front.sdk_exchange`), and to the front with an SDK server of the same
build behind it (`front.front_exchange`); the answers must be equal, and the cases say how many
the front gave itself (so a front that gives everything to the SDK does not pass for one that
answers). The recorded answers come from `front.json`; when an SDK update changes what the
SDK answers (capabilities, versions, result shapes), these tests fail until `make generate`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.mcp import front
from dockerhub_cli.mcp.front import INITIALIZED, envelope, initialize, request
from dockerhub_cli.mcp.server import build_server, front_source
from dockerhub_cli.mcp.store import ResultStore
from dockerhub_cli.service import DockerHubService
from tests.unit import registry_fixtures as fx

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
REG = "https://registry.example.com"
IMAGE = "registry.example.com/team/app"
ARGS = {"repository": IMAGE, "tag": "1.27.2"}
MODERN = "2026-07-28"
HANDSHAKE = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")


@pytest.fixture
def registry() -> Iterator[fx.FakeRegistry]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        reg = fx.FakeRegistry(rsps, REG, "team/app")
        reg.nginx("1.27.2")
        yield reg


@pytest.fixture
def service(registry: fx.FakeRegistry) -> Iterator[DockerHubService]:
    with DockerHubService(Settings.from_env(backoff_factor=0.0)) as svc:
        yield svc


@pytest.fixture
def table() -> front.Table:
    loaded = front.Table.load(source=front_source())  # as `serve` loads it
    assert loaded is not None, "front.json is missing or stale: run `make generate`"
    return loaded


def by_id(out: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {o["id"]: o for o in out if "id" in o}


async def both(
    service: DockerHubService, table: front.Table, messages: list[Any]
) -> tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]], front.Front]:
    """(the SDK's answers, the front's answers, the front) to `messages`."""
    sdk = await front.sdk_exchange(build_server(service, store=ResultStore()), messages)
    server = build_server(service, store=ResultStore())
    ours, state = await front.front_exchange(lambda: server, messages, table)
    assert [o for o in sdk if "id" not in o] == [o for o in ours if "id" not in o]
    return by_id(sdk), by_id(ours), state


# -- the recorded answers are the SDK's ---------------------------------------------------------


def test_front_json_is_what_the_installed_sdk_answers() -> None:
    """The pin: an SDK update that changes an answer (capabilities, negotiation, a result's
    shape) or this program's tools/instructions fails here until `make generate`."""
    spec = importlib.util.spec_from_file_location(
        "gen_mcp_tools", ROOT / "scripts/gen_mcp_tools.py"
    )
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    fresh = json.loads(gen.render_front())
    committed = json.loads((ROOT / "dockerhub_cli/mcp/front.json").read_text())
    assert fresh == committed, "front.json is stale: run `make generate`"
    assert sorted(committed["legacy"]) == sorted(HANDSHAKE) and list(committed["modern"]) == [
        MODERN
    ]


def test_the_table_is_refused_for_another_sdk_or_program_version(tmp_path: Path) -> None:
    data = json.loads(front.FRONT_FILE.read_text())
    assert front.Table.load() is not None
    for change in ({"sdk": {**data["sdk"], "mcp": "0.0.1"}}, {"version": "0.0.0"}, {"sdk": None}):
        path = tmp_path / "front.json"
        path.write_text(json.dumps({**data, **change}))
        assert front.Table.load(path) is None, change
    (tmp_path / "front.json").write_text("{")
    assert front.Table.load(tmp_path / "front.json") is None
    # recorded from other tools or instructions (a spec change without `make generate`)
    assert front.Table.load(source=front_source()) is not None
    assert front.Table.load(source=front_source().replace("Read-only", "Read-write")) is None


# -- the 2025 era: the handshake ----------------------------------------------------------------


@pytest.mark.parametrize("version", [*HANDSHAKE, "1999-01-01", "2026-07-28"])
async def test_handshake_ping_and_tools_list_equal_the_sdks(
    service: DockerHubService, table: front.Table, version: str
) -> None:
    messages = [
        initialize(1, version),
        INITIALIZED,
        request(2, "ping"),
        request("three", "tools/list"),
        request(4, "tools/list", {"cursor": "next"}),
        request(5, "ping", {}),
    ]
    sdk, ours, state = await both(service, table, messages)
    assert ours == sdk
    assert state.answered == 5  # every one of them by the front
    negotiated = sdk[1]["result"]["protocolVersion"]
    assert negotiated == (version if version in HANDSHAKE else HANDSHAKE[-1])
    assert len(sdk["three"]["result"]["tools"]) == table.tools


@pytest.mark.parametrize(
    "capabilities",
    [
        {"roots": {"listChanged": True}},
        {"sampling": {}},
        {"elicitation": {}},
        {"roots": {}},
        # what the MCP Inspector CLI sends
        {
            "roots": {"listChanged": True},
            "extensions": {
                "io.modelcontextprotocol/tasks": {},
                "io.modelcontextprotocol/skills": {},
            },
        },
    ],
)
async def test_client_capabilities_the_front_accepts(
    service: DockerHubService, table: front.Table, capabilities: dict[str, Any]
) -> None:
    messages = [initialize(1, "2025-06-18", capabilities=capabilities), request(2, "tools/list")]
    sdk, ours, state = await both(service, table, messages)
    assert ours == sdk and state.answered == 2


@pytest.mark.parametrize(
    "messages",
    [
        # what the front does not take on: the SDK answers it (errors included)
        [initialize(1, "2025-06-18", clientInfo={"name": "x"})],  # no version: invalid
        [initialize(1, "2025-06-18", capabilities={"roots": {"listChanged": "yes"}})],
        [initialize(1, "2025-06-18", capabilities={"experimental": {"x": {"a": 1}}})],
        [initialize(1, "2025-06-18", capabilities={"extensions": {"x": {"a": 1}}})],
        [initialize(1, "2025-06-18", capabilities={"extensions": []})],
        [request(1, "tools/list")],  # before the handshake
        [request(1, "ping")],  # before the handshake: the SDK answers it
        [initialize(1, "2025-06-18"), initialize(2, "2025-06-18")],  # a second one
        [initialize(1, "2025-06-18"), request(2, "resources/list")],
        [initialize(1, "2025-06-18"), request(2, "tools/list", {"cursor": 5})],
        [initialize(1, "2025-06-18"), request(2, "tools/list", {"_meta": {"progressToken": 1}})],
        [initialize(1, "2025-06-18"), request(2, "tools/list", envelope(MODERN))],
        [initialize(1, "2025-06-18"), request(2, "tools/call", {"name": "nope"})],
        [initialize(1, "2025-06-18"), {"jsonrpc": "2.0", "id": True, "method": "ping"}],
        [initialize(1, "2025-06-18"), {"jsonrpc": "2.0", "id": 1.5, "method": "ping"}],
        [initialize(1, "2025-06-18"), {"jsonrpc": "2.0", "id": 2, "method": "ping", "x": 1}],
        [initialize(1, "2025-06-18"), "{not json", request(2, "ping")],  # dropped, as the SDK
        [initialize(1, "2025-06-18"), '{"jsonrpc":"2.0","id":2,"method":"ping","params":NaN}'],
        [initialize(1, "2025-06-18"), {"jsonrpc": "2.0", "id": 7, "result": {}}],
        [initialize(-(2**40), "2025-06-18"), request("", "tools/list")],
        [  # surrogates written as escapes, a lone one and a pair: the SDK's to answer
            initialize(1, "2025-06-18"),
            '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"\\ud800"}}',
            '{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"\\ud83d\\ude00"}}',
            request(9, "tools/call", {"name": "nope"}),
        ],
        [  # a member given twice; JSON after JSON; a control character in a string
            initialize(1, "2025-06-18"),
            '{"jsonrpc":"2.0","id":2,"id":3,"method":"ping"}',
            '{"jsonrpc":"2.0","id":4,"method":"ping"} {}',
            '{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"cursor":"a\tb"}}',
            request(9, "tools/call", {"name": "nope"}),
        ],
        [  # a cancel for a request the front answered: the SDK knows nothing of it, and says so
            initialize(1, "2025-06-18"),
            INITIALIZED,
            request(2, "tools/list"),
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}},
            request(3, "tools/call", {"name": "nope"}),
        ],
    ],
)
async def test_what_the_front_gives_the_sdk_is_answered_as_the_sdk_answers(
    service: DockerHubService, table: front.Table, messages: list[Any]
) -> None:
    sdk, ours, _ = await both(service, table, messages)
    assert ours == sdk


# -- the 2026 era: an envelope on every request -------------------------------------------------


async def test_discover_and_tools_list_equal_the_sdks(
    service: DockerHubService, table: front.Table
) -> None:
    messages = [
        request(1, "server/discover", envelope(MODERN)),
        request(2, "tools/list", envelope(MODERN)),
        request(3, "tools/list", envelope(MODERN, cursor="c")),
        request(4, "ping", envelope(MODERN)),  # not a 2026 method: the SDK's error, recorded
    ]
    sdk, ours, state = await both(service, table, messages)
    assert ours == sdk and state.answered == 4
    assert "error" in sdk[4]


@pytest.mark.parametrize(
    "messages",
    [
        [request(1, "tools/list", {"_meta": {front.PROTOCOL_KEY: MODERN}})],  # no capabilities
        [request(1, "tools/list", envelope("2099-01-01"))],
        [request(1, "server/discover", envelope(MODERN)), initialize(2, "2025-06-18")],
        [request(1, "server/discover", envelope(MODERN)), request(2, "tools/list")],
        [request(1, "tools/call", {"name": "nope", **envelope(MODERN)})],
    ],
)
async def test_2026_requests_the_front_gives_the_sdk(
    service: DockerHubService, table: front.Table, messages: list[Any]
) -> None:
    sdk, ours, _ = await both(service, table, messages)
    assert ours == sdk


# -- tools/call from the result store -------------------------------------------------------------


@pytest.mark.parametrize("era", ["legacy", "modern"])
async def test_a_stored_tool_call_is_answered_by_the_front_as_the_sdk_answers_it(
    service: DockerHubService, table: front.Table, registry: fx.FakeRegistry, era: str
) -> None:
    def call(ident: int, arguments: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"name": "docker_get_manifest", "arguments": arguments}
        if era == "modern":
            params.update(envelope(MODERN))
        return request(ident, "tools/call", params)

    opening = (
        [initialize(1, "2025-11-25"), INITIALIZED]
        if era == "legacy"
        else [request(1, "server/discover", envelope(MODERN))]
    )
    other = {**ARGS, "platform": "linux/arm64"}
    messages = [*opening, call(2, ARGS), call(3, ARGS), call(4, dict(reversed(ARGS.items())))]
    messages += [call(5, other), call(6, other)]
    sdk, ours, state = await both(service, table, messages)
    # the first call of each argument set was the SDK's, with its own cost: the same data
    for first in (2, 5):
        assert (
            ours[first]["result"]["structuredContent"] == sdk[first]["result"]["structuredContent"]
        )
    for again in (3, 4, 6):  # from the store: byte for byte the SDK's own answer
        assert ours[again] == sdk[again]
        assert json.loads(ours[again]["result"]["content"][0]["text"])["cost"]["cache"][
            "saved_result"
        ]
    assert state.answered == 1 + 3  # the opening request, and the three stored answers
    assert state.backend is not None and state.backend.server.result_store.snapshot() == {
        "entries": 2,
        "bytes": state.backend.server.result_store.snapshot()["bytes"],
        "hits": 3,
        "misses": 2,  # the front's looks are not counted twice
        "stored": 2,
    }


@pytest.mark.parametrize("era", ["legacy", "modern"])
async def test_a_stored_answer_is_byte_for_byte_the_sdks(
    service: DockerHubService, table: front.Table, registry: fx.FakeRegistry, era: str
) -> None:
    """The front's stored answer is the line the SDK's own transport writes for it, byte for
    byte (only the id spliced in), in both eras."""
    params: dict[str, Any] = {"name": "docker_get_manifest", "arguments": ARGS}
    if era == "modern":
        params.update(envelope(MODERN))
        opening = [request(1, "server/discover", envelope(MODERN))]
    else:
        opening = [initialize(1, "2025-11-25"), INITIALIZED]
    messages = [*opening, *(request(i, "tools/call", params) for i in (2, 3, "four"))]
    sdk_raw: list[str] = []
    await front.sdk_exchange(build_server(service, store=ResultStore()), messages, sdk_raw)
    ours_raw: list[bytes] = []
    server = build_server(service, store=ResultStore())
    _, state = await front.front_exchange(lambda: server, messages, table, ours_raw)
    assert state.answered == 1 + 2  # the opening request, and the two stored answers
    for ident in ('"id":3,', '"id":"four",'):
        sdk = [line.encode() for line in sdk_raw if ident in line]
        ours = [line for line in ours_raw if ident.encode() in line]
        assert len(sdk) == len(ours) == 1 and ours == sdk


async def test_a_stored_call_after_a_login_goes_to_the_sdk(
    service: DockerHubService, table: front.Table
) -> None:
    """A `docker login` between two calls (Docker's config.json changed) is another credential
    identity: the second call is not answered from the store."""
    import os

    from dockerhub_cli.mcp.store import _docker_config

    config = Path(service.settings.docker_config or _docker_config(os.environ))
    server = build_server(service, store=ResultStore())
    call = {"name": "docker_get_manifest", "arguments": ARGS, **envelope(MODERN)}
    got: list[dict[str, Any]] = []
    answered = asyncio.Event()

    def write(data: bytes) -> None:
        got.extend(json.loads(t) for t in data.decode().splitlines())
        answered.set()

    async def lines() -> AsyncIterator[bytes]:
        for ident in (1, 2, 3):
            answered.clear()
            yield (json.dumps(request(ident, "tools/call", call)) + "\n").encode()
            await asyncio.wait_for(answered.wait(), 10)
            if ident == 1:
                config.parent.mkdir(parents=True, exist_ok=True)
                config.write_text('{"auths": {"registry.example.com": {"auth": "dTpw"}}}')

    async def drain() -> None:
        return None

    state = await front.serve(lines(), write, drain, lambda: server, table)
    assert [o["id"] for o in got] == [1, 2, 3]
    assert all("structuredContent" in o["result"] for o in got)
    # 2 went to the SDK (a new identity, a miss); 3 is its stored answer, from the front
    assert state.answered == 1 and server.result_store.snapshot()["hits"] == 1


async def test_a_tracing_middleware_keeps_every_call_in_the_sdk(
    service: DockerHubService, table: front.Table
) -> None:
    server = build_server(service, store=ResultStore())
    server.middleware = [lambda ctx, call_next: call_next(ctx)]
    backend = front.Backend(server)
    assert not backend.answers_calls


def test_the_sdk_functions_the_front_uses_are_there(service: DockerHubService) -> None:
    """The pin for the SDK internals the front's stored answers go through (the runner's
    result serialiser, the 2026 envelope ladder, the per-version request surface)."""
    assert front.Backend(build_server(service, store=ResultStore())).answers_calls


def test_the_sdks_checks_of_a_call_are_made_once_per_params(
    service: DockerHubService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The envelope ladder, the request surface and the params model are a function of the
    params alone: a repeated call is checked once, a rejected one stays the SDK's, and the
    memory is bounded."""
    backend = front.Backend(build_server(service, store=ResultStore()))
    checked: list[Any] = []
    validate = backend.validate
    monkeypatch.setattr(backend, "validate", lambda *a: (checked.append(a), validate(*a))[1])
    params = {"name": "docker_get_manifest", "arguments": ARGS, **envelope(MODERN)}
    expected = ("docker_get_manifest", ARGS, MODERN)
    assert backend._check(params, "modern", None) == expected
    assert backend._check(json.loads(json.dumps(params)), "modern", None) == expected
    assert len(checked) == 1
    legacy = {"name": "docker_get_manifest", "arguments": ARGS}
    assert backend._check(legacy, "legacy", "2025-06-18") == (*expected[:2], "2025-06-18")
    assert backend._check(legacy, "legacy", "2025-11-25") == (*expected[:2], "2025-11-25")
    assert len(checked) == 3  # another negotiated version is checked on its own
    for bad in ({**params, "name": 5}, {**legacy, **envelope(MODERN)}):
        era, version = ("modern", None) if bad["name"] == 5 else ("legacy", "2025-11-25")
        assert backend._check(bad, era, version) is None
        assert backend._check(bad, era, version) is None
    monkeypatch.setattr(front, "CHECKED", 2)
    backend._check({**legacy, "arguments": {"repository": "x"}}, "legacy", "2025-11-25")
    assert len(backend._checked) == 2


async def test_pipelined_stored_calls_are_answered_in_one_write(
    service: DockerHubService, table: front.Table
) -> None:
    """Calls read at once (one chunk of the pipe) leave in one write, in order, each as the
    SDK answers it."""
    server = build_server(service, store=ResultStore())
    call = {"name": "docker_get_manifest", "arguments": ARGS}
    writes: list[bytes] = []
    answered = asyncio.Event()

    def write(data: bytes) -> None:
        writes.append(data)
        answered.set()

    async def lines() -> AsyncIterator[bytes | list[bytes]]:
        for message in (initialize(1, "2025-11-25"), INITIALIZED, request(2, "tools/call", call)):
            answered.clear()
            yield (json.dumps(message) + "\n").encode()
            if "id" in message:
                await asyncio.wait_for(answered.wait(), 10)
        writes.clear()
        yield [(json.dumps(request(i, "tools/call", call)) + "\n").encode() for i in (3, 4, 5)]

    async def drain() -> None:
        return None

    state = await front.serve(lines(), write, drain, lambda: server, table)
    assert len(writes) == 1 and writes[0].endswith(b"\n")
    answers = [json.loads(line) for line in writes[0].splitlines()]
    assert [a["id"] for a in answers] == [3, 4, 5]
    assert answers[0]["result"] == answers[1]["result"] == answers[2]["result"]
    assert state.answered == 1 + 3


async def test_reading_pauses_while_the_client_does_not_read() -> None:
    class Reading:
        paused = False

        def pause_reading(self) -> None:
            self.paused = True

        def resume_reading(self) -> None:
            self.paused = False

        def is_closing(self) -> bool:
            return False

    out = front._WireOut()
    out.reading = reading = Reading()  # type: ignore[assignment]
    out.pause_writing()  # the pipe to the client is over its high-water mark
    assert reading.paused
    out.resume_writing()
    assert not reading.paused


# -- before the SDK is loaded ---------------------------------------------------------------------


async def test_the_front_answers_while_the_sdk_is_still_loading(
    service: DockerHubService, table: front.Table
) -> None:
    release = threading.Event()
    server = build_server(service, store=ResultStore())

    def build() -> Any:
        release.wait(10)
        return server

    got: list[dict[str, Any]] = []
    answered = asyncio.Event()

    def write(data: bytes) -> None:
        got.extend(json.loads(t) for t in data.decode().splitlines())
        answered.set()

    async def lines() -> AsyncIterator[bytes]:
        for message in (
            request(1, "server/discover", envelope(MODERN)),
            request(2, "tools/list", envelope(MODERN)),
        ):
            yield (json.dumps(message) + "\n").encode()
            await asyncio.wait_for(answered.wait(), 10)
            answered.clear()
        assert not release.is_set() and [o["id"] for o in got] == [1, 2]
        release.set()  # the SDK may load now: the call needs it
        call = {"name": "docker_get_manifest", "arguments": ARGS, **envelope(MODERN)}
        yield (json.dumps(request(3, "tools/call", call)) + "\n").encode()
        await asyncio.wait_for(answered.wait(), 10)  # (a client leaving cancels its calls)

    async def drain() -> None:
        return None

    state = await front.serve(lines(), write, drain, build, table)
    assert [o["id"] for o in got] == [1, 2, 3] and state.answered == 2
    assert got[2]["result"]["structuredContent"]


async def test_a_client_that_leaves_at_once_does_not_wait_for_the_sdk(table: front.Table) -> None:
    never = threading.Event()

    def build() -> Any:
        never.wait(30)
        raise RuntimeError("not wanted")

    got: list[bytes] = []

    async def lines() -> AsyncIterator[bytes]:
        yield (json.dumps(initialize(1, "2025-06-18")) + "\n").encode()
        yield (json.dumps(INITIALIZED) + "\n").encode()

    async def drain() -> None:
        return None

    state = await asyncio.wait_for(front.serve(lines(), got.append, drain, build, table), 5)
    never.set()
    assert state.answered == 1 and len(got) == 1


# -- the wire -------------------------------------------------------------------------------------


async def test_an_over_long_line_is_dropped_and_the_next_one_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(front, "MAX_LINE", 100)
    splitter = front._Splitter()
    lines = splitter.split(b'{"a":1}\n' + b"x" * 250 + b'\n{"b":2}\n' + b"y" * 150)
    lines += splitter.split(b'z\n{"c":3}\n{"d"')
    lines += splitter.split(b":4}\n" + b"w" * 99 + b"\n" + b"v" * 60)  # 100 bytes: kept
    lines += splitter.split(b"v" * 40 + b"\n{")  # over it (101 with the newline): dropped
    lines += splitter.end()
    assert lines == [
        b'{"a":1}\n',
        b'{"b":2}\n',
        b'{"c":3}\n',
        b'{"d":4}\n',
        b"w" * 99 + b"\n",
        b"{",
    ]


def test_a_2025_client_over_real_pipes_gets_the_recorded_answers(table: front.Table) -> None:
    """`dockerhub serve-mcp` itself (the front on its stdio pipes): the handshake, ping and
    tools/list answered as `front.json` recorded them, then a store miss answered by the SDK."""
    import os
    import shutil
    import subprocess
    import sys

    exe = shutil.which("dockerhub")
    command = [exe] if exe else [sys.executable, "-m", "dockerhub_cli"]
    env = dict(os.environ, DOCKERHUB_OFFLINE="1")  # the miss: an offline error, no network
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    messages = [
        initialize(1, "2025-06-18"),
        INITIALIZED,
        request(2, "tools/list"),
        request(3, "ping"),
        request(4, "tools/call", {"name": "docker_list_tags", "arguments": {"repository": "x/y"}}),
    ]
    with subprocess.Popen(
        [*command, "serve-mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        answers = {}
        for message in messages:
            proc.stdin.write((json.dumps(message) + "\n").encode())
            proc.stdin.flush()
            if "id" in message:
                answer = json.loads(proc.stdout.readline())
                answers[answer["id"]] = answer
        proc.stdin.close()
        assert proc.wait(60) == 0
        assert proc.stderr is not None and "Traceback" not in proc.stderr.read().decode()
    recorded = json.loads(front.FRONT_FILE.read_text())
    bodies = recorded["bodies"]
    assert answers[1]["result"] == bodies[recorded["initialize"]["2025-06-18"]]["result"]
    legacy = recorded["legacy"]["2025-06-18"]
    assert answers[2]["result"] == bodies[legacy["tools/list"]]["result"]
    assert answers[3]["result"] == bodies[legacy["ping"]]["result"] == {}
    assert answers[4]["result"]["isError"] is True  # the SDK's, through the front
