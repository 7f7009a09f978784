"""The MCP peers, measured beside `dockerhub serve-mcp` in the same run.

Peers (their source is public; this repository holds none of it and no recipe that builds it):

- the seed, raghav-jeogani/dockerhub-mcp-server: `DOCKERHUB_BENCH_SEED=/path/to/checkout`
- docker/hub-mcp: `DOCKERHUB_BENCH_HUB_MCP=/path/to/checkout`

Each path is a checkout that its owner has already built the way the project's README says
(`dist/index.js` and `node_modules/` present). A peer whose path is not given, or is not built,
is skipped with a message saying so. At run time the benchmark copies the peer's `dist/` into a
temporary directory (its `node_modules/` linked, not copied), rewrites only the quoted base URLs
of Docker Hub's hosts in that copy to the loopback Hub stand-in, and runs it with `node` over
stdio; the copy is deleted afterwards. Every server, ours included, answers the same task: list
a page of tags of the same repository from the same stand-in, through the Python MCP SDK client.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Quoted base URLs of Docker Hub's hosts (a quote before the scheme: links written into the
# peers' answer texts, like "at https://hub.docker.com/r/...", are left alone).
_BASE_URL = re.compile(r"""(?<=['"`])https://(?:registry\.hub|hub|api\.scout)\.docker\.com""")


@dataclass
class Server:
    """One MCP server to measure: how to start it and which call is 'list a page of tags'."""

    name: str
    command: str
    args: list[str]
    env: dict[str, str]
    tool: str
    arguments: dict[str, Any]
    cwd: str | None = None
    cleanup: Callable[[], None] = field(default=lambda: None)


@dataclass
class Peer:
    name: str
    env_var: str
    args: list[str]
    tool: str
    arguments: dict[str, Any]
    extra_env: dict[str, str] = field(default_factory=dict)


PEERS = (
    Peer(
        "seed (raghav-jeogani/dockerhub-mcp-server)",
        "DOCKERHUB_BENCH_SEED",
        [],
        "docker_list_tags",
        {"repository": "demo/app", "limit": 25},
        # Its limiter counts cache hits too (60 a minute): lifted, as ours is in this benchmark.
        {
            "LOG_LEVEL": "error",
            "RATE_LIMIT_PER_MINUTE": "1000000",
            "RATE_LIMIT_PER_HOUR": "100000000",
            "RATE_LIMIT_BURST_SIZE": "100000",
        },
    ),
    Peer(
        "docker/hub-mcp",
        "DOCKERHUB_BENCH_HUB_MCP",
        ["--transport=stdio"],
        "listRepositoryTags",
        {"namespace": "demo", "repository": "app", "page_size": 25},
    ),
)


def peer_server(peer: Peer, checkout: str | None, hub_url: str) -> Server | str:
    """A Server for `peer` pointed at `hub_url`, or the reason it is skipped."""
    if not checkout:
        return f"skipped: set {peer.env_var} to a built checkout to measure it"
    root = Path(checkout).expanduser()
    dist, modules = root / "dist", root / "node_modules"
    if not (dist / "index.js").is_file() or not modules.is_dir():
        return f"skipped: {root} has no dist/index.js and node_modules/ (build it first)"
    node = shutil.which("node")
    if node is None:
        return "skipped: node is not on PATH"
    work = Path(tempfile.mkdtemp(prefix="dockerhub-bench-peer-"))
    shutil.copytree(dist, work / "dist", ignore=shutil.ignore_patterns("*.map", "*.d.ts"))
    (work / "node_modules").symlink_to(modules.resolve())
    package = root / "package.json"
    if package.is_file():  # "type": "module" decides how node loads dist/
        shutil.copy2(package, work / "package.json")
    patched = 0
    for js in (work / "dist").rglob("*.js"):
        text = js.read_text(encoding="utf-8")
        new, n = _BASE_URL.subn(hub_url, text)
        if n:
            js.write_text(new, encoding="utf-8")
            patched += n
    if not patched:
        shutil.rmtree(work, ignore_errors=True)
        return f"skipped: no Docker Hub base URL found to point at loopback in {dist}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKERHUB_")}
    env.update(peer.extra_env)
    env.update(HOME=str(work), NODE_ENV="development")
    return Server(
        peer.name,
        node,
        [str(work / "dist" / "index.js"), *peer.args],
        env,
        peer.tool,
        peer.arguments,
        cwd=str(work),
        cleanup=lambda: shutil.rmtree(work, ignore_errors=True),
    )


@dataclass
class Figures:
    spawn_to_tools_ms: float = float("nan")
    tools_list_bytes: int = 0
    tools: int = 0
    first_call_ms: float = float("nan")
    warm_ms: float = float("nan")
    per_second: dict[int, float] = field(default_factory=dict)
    # CPU per call in each concurrent run, µs: the benchmark's own client (the Python SDK,
    # sharing the cores) and the server process (nan where /proc is missing)
    client_cpu_us: dict[int, float] = field(default_factory=dict)
    server_cpu_us: dict[int, float] = field(default_factory=dict)
    errors: int = 0
    upstream_requests: int = 0
    calls: int = 0
    note: str = ""


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's running children, from /proc (nan
    without it): the server a benchmark spawned, while it runs."""
    try:
        tasks = os.listdir("/proc/self/task")
        pids = set()
        for tid in tasks:
            with open(f"/proc/self/task/{tid}/children", encoding="ascii") as f:
                pids.update(f.read().split())
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in pids:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        return total
    except (OSError, ValueError, IndexError):
        return float("nan")


def measure(
    server: Server,
    *,
    calls: int,
    concurrency: Sequence[int],
    count_upstream: Callable[[], int],
) -> Figures:
    """Spawn `server` over stdio and time it with the Python MCP SDK client."""
    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    out = Figures()

    async def session() -> None:
        params = StdioServerParameters(
            command=server.command, args=server.args, env=server.env, cwd=server.cwd
        )
        started = time.perf_counter()
        async with Client(params, read_timeout_seconds=60) as client:
            listed = await client.list_tools(cache_mode="bypass")  # type: ignore[arg-type]
            out.spawn_to_tools_ms = (time.perf_counter() - started) * 1000
            out.tools = len(listed.tools)
            out.tools_list_bytes = len(
                listed.model_dump_json(by_alias=True, exclude_none=True).encode()
            )
            count_upstream()
            t0 = time.perf_counter()
            first = await client.call_tool(server.tool, server.arguments)
            out.first_call_ms = (time.perf_counter() - t0) * 1000
            if first.is_error:
                text = " ".join(getattr(c, "text", "") for c in first.content)[:300]
                out.note = f"{server.tool} failed: {text}"
                return
            samples = []
            for _ in range(calls):
                t0 = time.perf_counter()
                result = await client.call_tool(server.tool, server.arguments)
                samples.append(time.perf_counter() - t0)
                out.errors += bool(result.is_error)
            out.warm_ms = statistics.median(samples) * 1000
            out.calls = 1 + calls
            for width in concurrency:
                limiter = anyio.Semaphore(width)
                errors = 0

                async def one(limiter: anyio.Semaphore = limiter) -> None:
                    nonlocal errors
                    async with limiter:
                        r = await client.call_tool(server.tool, server.arguments)
                        errors += bool(r.is_error)

                # at least 32 rounds of `width` calls: 8 rounds of 32 (0.25 s) swung the seed's
                # figure between 690 and 1622 calls/s from one run to the next
                total = max(calls, width * 32)
                c0, s0 = time.process_time(), children_cpu()
                t0 = time.perf_counter()
                async with anyio.create_task_group() as tg:
                    for _ in range(total):
                        tg.start_soon(one)
                out.per_second[width] = total / (time.perf_counter() - t0)
                out.client_cpu_us[width] = (time.process_time() - c0) / total * 1e6
                out.server_cpu_us[width] = (children_cpu() - s0) / total * 1e6
                out.errors += errors
                out.calls += total
            out.upstream_requests = count_upstream()

    try:
        anyio.run(session)
    except Exception as exc:  # noqa: BLE001 - a peer that breaks is reported, not fatal
        out.note = f"failed: {type(exc).__name__}: {str(exc)[:300]}"
    finally:
        server.cleanup()
    return out
