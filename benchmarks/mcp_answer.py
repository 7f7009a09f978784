#!/usr/bin/env python
"""Where the MCP client's CPU goes on one `tools/call` answer: ours beside the peers'.

    python benchmarks/mcp_answer.py [--seed CHECKOUT] [--hub-mcp CHECKOUT] [--repeat 7]

The `serve-mcp` rows of issue 19 are bound by the client (the Python SDK's, on the same two
cores): the work it does per answer decides calls/s. This spawns each server over stdio with
that client, makes the benchmark's call ("list a page of tags", the same Hub stand-in as
`benchmarks/run.py --only issue-mcp`), keeps the raw line of one warm answer and the protocol
version the session negotiated, then replays that line through the client's own per-answer
steps in this process, each timed alone (CPU time of this thread, best of `--repeat` rounds):

- parse: the stdio transport's `_parse_line` (JSON into the union of the four JSON-RPC message
  models), and beside it the success model alone (what the members that fail cost is the rest);
- surface: `validate_server_result` for the negotiated version (validation and a JSON dump);
- result: the `CallToolResult` model the session returns;
- schema: the output-schema check (`jsonschema`, compiled once as the session caches it).

Plus the answer's bytes and how many JSON values its result holds (the parse, surface and result
steps cost about so much per value, whatever the bytes). Peers are given as in run.py (built
checkouts; see benchmarks/peers.py). Asserts nothing; the SDK's private names it uses are
looked up when it runs, and a step whose name moved is shown as "-".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.loopback import HubStandIn  # noqa: E402
from benchmarks.peers import PEERS, Server, peer_server  # noqa: E402


def capture(server: Server) -> tuple[str, str, dict[str, Any] | None] | str:
    """(raw line of the second answer, negotiated version, the tool's output schema), or why not."""
    import anyio
    import mcp.client.stdio as sdk_stdio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    lines: list[str] = []
    parse = sdk_stdio._parse_line

    def spy(line: str) -> Any:
        lines.append(line)
        return parse(line)

    got: dict[str, Any] = {}

    async def session() -> None:
        params = StdioServerParameters(
            command=server.command, args=server.args, env=server.env, cwd=server.cwd
        )
        async with Client(params, read_timeout_seconds=60) as client:
            listed = await client.list_tools(cache_mode="bypass")  # type: ignore[arg-type]
            for tool in listed.tools:
                if tool.name == server.tool:
                    got["schema"] = tool.output_schema
            for _ in range(2):  # the second answer: warm (a result store, a cache)
                lines.clear()
                result = await client.call_tool(server.tool, server.arguments)
            got["error"] = result.is_error
            got["version"] = client.session._negotiated_version  # noqa: SLF001

    sdk_stdio._parse_line = spy  # type: ignore[assignment]
    try:
        anyio.run(session)
    except Exception as exc:  # noqa: BLE001 - a server that breaks is reported
        return f"failed: {type(exc).__name__}: {str(exc)[:200]}"
    finally:
        sdk_stdio._parse_line = parse
        server.cleanup()
    answers = [line for line in lines if '"result"' in line or '"error"' in line]
    if got.get("error") or not answers:
        return "failed: no answer to the call"
    return answers[-1], str(got.get("version") or "2025-11-25"), got.get("schema")


def values(node: Any) -> int:
    """JSON values in `node`, containers and keys counted (what a parser makes objects of)."""
    if isinstance(node, dict):
        return 1 + sum(1 + values(v) for v in node.values())
    if isinstance(node, list):
        return 1 + sum(values(v) for v in node)
    return 1


def steps(
    line: str, version: str, schema: dict[str, Any] | None
) -> dict[str, Callable[[], Any] | None]:
    """The client's per-answer steps on `line`, as calls (None: not found in this SDK)."""
    from pydantic import TypeAdapter

    out: dict[str, Callable[[], Any] | None] = {}
    try:
        from mcp.client.stdio import _parse_line

        out["parse (message union)"] = lambda: _parse_line(line)
    except ImportError:
        out["parse (message union)"] = None
    try:
        from mcp_types import jsonrpc

        response = TypeAdapter(jsonrpc.JSONRPCResponse)
        out["  of which the success model alone"] = lambda: response.validate_json(
            line, by_name=False
        )
    except (ImportError, AttributeError):
        out["  of which the success model alone"] = None
    raw = json.loads(line)["result"]
    try:
        from mcp_types import methods

        methods.validate_server_result("tools/call", version, raw)
        out["surface (validate + dump)"] = lambda: methods.validate_server_result(
            "tools/call", version, raw
        )
    except (ImportError, AttributeError, KeyError, ValueError):
        out["surface (validate + dump)"] = None
    try:
        from mcp.client import session as sdk_session

        adapter = sdk_session._CallToolResultAdapter
        result = adapter.validate_python(raw, by_name=False)
        out["result model"] = lambda: adapter.validate_python(raw, by_name=False)
    except (ImportError, AttributeError):
        out["result model"] = None
        result = None
    structured = getattr(result, "structured_content", None)
    if schema is not None and structured is not None:
        from jsonschema import exceptions
        from jsonschema.validators import validator_for

        validator = validator_for(schema)(schema)
        out["schema (jsonschema)"] = lambda: exceptions.best_match(
            validator.iter_errors(structured)
        )
    else:
        out["schema (jsonschema)"] = None
    return out


def cost_us(call: Callable[[], Any], repeat: int, number: int = 200) -> float:
    call()
    best = min(timeit.repeat(call, number=number, repeat=repeat, timer=time.thread_time))
    return best / number * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", default=os.environ.get("DOCKERHUB_BENCH_SEED"))
    parser.add_argument("--hub-mcp", default=os.environ.get("DOCKERHUB_BENCH_HUB_MCP"))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--dockerhub", default=str(Path(sys.executable).with_name("dockerhub")))
    opts = parser.parse_args()

    from benchmarks.run import Env, table

    hub = HubStandIn()
    work = Path(tempfile.mkdtemp(prefix="dockerhub-bench-answer-"))
    envs = Env(work)
    servers: list[tuple[str, Server | str]] = [
        (
            "dockerhub serve-mcp",
            Server(
                "dockerhub serve-mcp",
                opts.dockerhub,
                ["serve-mcp"],
                envs(envs.fresh_cache(), DOCKERHUB_HUB_URL=hub.url),
                "docker_list_tags",
                {"repository": "bench/app", "limit": 25},
            ),
        )
    ]
    checkouts = {"DOCKERHUB_BENCH_SEED": opts.seed, "DOCKERHUB_BENCH_HUB_MCP": opts.hub_mcp}
    servers.extend(
        (peer.name.split(" ")[0], peer_server(peer, checkouts[peer.env_var], hub.url))
        for peer in PEERS
    )
    rows: list[list[str]] = []
    try:
        measured: list[tuple[str, dict[str, float | None], tuple[str, str, Any]]] = []
        for name, server in servers:
            got = capture(server) if isinstance(server, Server) else server
            if isinstance(got, str):
                print(f"{name}: {got}", file=sys.stderr)
                continue
            timed: dict[str, float | None] = {}
            for label, call in steps(*got).items():
                timed[label] = None if call is None else cost_us(call, opts.repeat)
            measured.append((name, timed, got))
    finally:
        hub.close()
    if not measured:
        return 1
    columns = [name for name, _, _ in measured]
    labels = list(measured[0][1])
    for label in labels:
        cells = []
        for _, timed, _ in measured:
            value = timed.get(label)
            cells.append("-" if value is None else f"{value:.0f} µs")
        rows.append([label, *cells])
    totals = []
    for _, timed, _ in measured:
        totals.append(
            f"{sum(v for k, v in timed.items() if v is not None and not k.startswith(' ')):.0f} µs"
        )
    rows.append(["sum of the steps", *totals])
    rows.append(
        ["answer line", *[f"{len(got[0].encode()) / 1024:.1f} KB" for _, _, got in measured]]
    )
    rows.append(
        [
            "JSON values in the result",
            *[str(values(json.loads(got[0])["result"])) for _, _, got in measured],
        ]
    )
    rows.append(["negotiated protocol version", *[got[1] for _, _, got in measured]])
    table(
        f"client CPU per answer, step by step (best of {opts.repeat}; load "
        f"{os.getloadavg()[0]:.1f})",
        ["step", *columns],
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
