#!/usr/bin/env python
"""Benchmark: requests, wall time and memory of `dockerhub`, side by side with skopeo.

Run by hand from a checkout, with the Python of an environment where hubscope is
installed (so that the `dockerhub` console script sits next to it):

    python benchmarks/run.py            # about a minute
    python benchmarks/run.py --runs 3 --scale 1000,10000   # quicker

It starts its own registries with the integration harness (tests/support): a plain
distribution registry and a Bearer-token one (with the harness token server), seeds the
standard images, and measures against the same images in the same run:

1. requests per task, counted in the registry access log (and the token server's log), for
   `dockerhub` (cold / warm / revalidation) and `skopeo`;
2. wall time, median of N runs, as a ratio to `python -c pass` and to skopeo; peak RSS;
3. `serve-mcp` (when this build has it): warm tool-call latency through a real MCP client over
   stdio, the in-process (server-side) latency, throughput of concurrent calls, peak RSS;
4. scale: `tags --all` on repositories with thousands of tags, served by a small loopback
   server that pages `tags/list` with `Link` headers and the Hub API with `next`.

It is not part of the test suite and asserts nothing; it prints tables. Everything listens
on 127.0.0.1 and every child process has a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.issue import issue_table, mcp_table  # noqa: E402
from benchmarks.loopback import HubStandIn  # noqa: E402
from tests.support.registry import (  # noqa: E402
    Registry,
    child_env,
    describe_missing,
    missing_binaries,
    start_registry,
)
from tests.support.standard_images import build_standard_images, seed_registry  # noqa: E402

TIMEOUT = 120.0  # per child process


# ---------------------------------------------------------------------------------------------
# Running things
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    rss_mb: float
    returncode: int
    stdout: bytes
    stderr: bytes
    cpu: float = float("nan")  # user + system seconds of the command (and its children)


GNU_TIME = shutil.which("time") if Path("/usr/bin/time").exists() else None


def run(argv: Sequence[str], env: dict[str, str], timeout: float = TIMEOUT) -> Run:
    """Run a child: wall time from spawn to reaped; peak RSS from GNU time when present.

    (wait4's ru_maxrss of a child we fork ourselves would report this benchmark's own RSS:
    Linux keeps the pre-exec high-water mark. GNU time is a small process, so the figure it
    reports for its child is the command's own; it adds about 1 ms to every run alike.)
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss,
    ):
        full = [GNU_TIME, "-f", "%M", "-o", rss.name, *argv] if GNU_TIME else list(argv)
        started = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err, env=env)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        kb = float(usage.ru_maxrss)
        if GNU_TIME:
            text = rss.read().strip().splitlines()
            kb = float(text[-1]) if text and text[-1].isdigit() else float("nan")
        out.seek(0)
        err.seek(0)
        # wait4 reports the child's usage with its reaped children's: GNU time's and the
        # command's. CPU time is the figure to trust when the machine is loaded (wall time
        # then measures the queue for a core as much as the command).
        cpu = usage.ru_utime + usage.ru_stime
        return Run(elapsed, kb / 1024, proc.returncode, out.read(), err.read(), cpu)


def checked(result: Run, what: str) -> Run:
    if result.returncode != 0:
        raise SystemExit(
            f"benchmark: {what} failed ({result.returncode}): "
            f"{result.stderr.decode(errors='replace')[-2000:]}"
        )
    return result


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def dockerhub_argv() -> list[str]:
    script = Path(sys.executable).with_name("dockerhub")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "dockerhub_cli"]


class Env:
    """Isolated HOME / config / cache dirs for child processes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        home = root / "home"
        (home / ".docker").mkdir(parents=True, exist_ok=True)
        base = {k: v for k, v in child_env().items() if not k.startswith("DOCKERHUB_")}
        base.pop("DOCKER_CONFIG", None)
        # Installed packages have bytecode; a shell that disables it would time the compiler.
        base.pop("PYTHONDONTWRITEBYTECODE", None)
        base.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_CACHE_HOME=str(home / ".cache"),
            DOCKER_CONFIG=str(home / ".docker"),
            DOCKERHUB_NO_SPINNER="1",
            DOCKERHUB_RATE_LIMIT_PER_MINUTE="1000000",
            DOCKERHUB_RATE_LIMIT_BURST="100000",
            NO_COLOR="1",
            COLUMNS="200",
        )
        self.base = base
        self._n = 0

    def fresh_cache(self) -> Path:
        self._n += 1
        path = self.root / f"cache-{self._n}"
        path.mkdir()
        return path

    def __call__(self, cache: Path | None = None, **extra: str) -> dict[str, str]:
        env = dict(self.base)
        env["DOCKERHUB_CACHE_DIR"] = str(cache or self.fresh_cache())
        env.update(extra)
        return env


def expire_cache(cache_dir: Path) -> int:
    """Age every entry that has an expiry (tag lookups, listings) past it, as if its TTL had
    run out; content addressed by digest never expires and is left alone. Saved command
    outputs (the result cache) never outlive those entries, so they go too."""
    from requests_cache.backends.sqlite import SQLiteCache

    shutil.rmtree(cache_dir / "results", ignore_errors=True)

    cache = SQLiteCache(cache_dir / "http_cache.sqlite", wal=True)
    past = datetime.now(UTC) - timedelta(seconds=5)
    aged = 0
    try:
        for key in list(cache.responses.keys()):
            response = cache.responses[key]
            if response.expires is not None:
                response.expires = past
                cache.responses[key] = response
                aged += 1
    finally:
        cache.close()
    return aged


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [f"\n## {title}\n"]
    head = " | ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True))
    lines.append(f"| {head} |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines.extend(
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
        for r in cells[1:]
    )
    text = "\n".join(lines)
    print(text, flush=True)
    return text


# ---------------------------------------------------------------------------------------------
# 1. Requests per task
# ---------------------------------------------------------------------------------------------


def count(reg: Registry, action: Callable[[], Run], what: str) -> tuple[str, Run]:
    """Run `action`; describe the registry (and token server) requests it caused."""
    mark = reg.log_mark()
    token_mark = reg.token_server.mark() if reg.token_server else 0
    result = checked(action(), what)
    entries = reg.requests_since(mark)
    tokens = len(reg.token_server.requests_since(token_mark)) if reg.token_server else 0
    return describe(entries, tokens), result


def describe(entries: Sequence[Any], tokens: int = 0) -> str:
    """`3 (HEAD manifest, GET manifest, GET blob)`, 401s marked, token requests added."""
    parts = []
    for e in entries:
        route = e.route
        kind = (
            "/v2/"
            if route.rstrip("/") == "/v2"
            else "tags/list"
            if route.endswith("/tags/list")
            else "blob"
            if "/blobs/" in route
            else "manifest"
            if "/manifests/" in route
            else route
        )
        if kind == "manifest":
            kind += "@digest" if "/manifests/sha256:" in route else ":tag"
        parts.append(f"{e.method} {kind}" + (f" {e.status}" if e.status >= 400 else ""))
    total = len(entries) + tokens
    detail = ", ".join(parts) + (f" + {tokens} token" if tokens else "")
    return f"{total}" + (f" ({detail})" if detail else "")


def has_command(dh: list[str], env: dict[str, str], name: str) -> bool:
    return run([*dh, name, "--help"], env, timeout=30).returncode == 0


def skopeo(*args: str) -> list[str]:
    return ["skopeo", "--insecure-policy", *args]


def request_counts(
    plain: Registry, token: Registry, envs: Env, dh: list[str]
) -> tuple[str, dict[str, Any]]:
    rows: list[list[str]] = []
    facts: dict[str, Any] = {}

    def scenario(reg: Registry, image: str, label: str) -> None:
        ref = reg.ref(image)
        cache = envs.fresh_cache()
        env = envs(cache)
        cold, _ = count(reg, lambda: run([*dh, "inspect", ref, "--json"], env), "cold inspect")
        warm, _ = count(reg, lambda: run([*dh, "inspect", ref, "--json"], env), "warm inspect")
        expire_cache(cache)
        reval, _ = count(reg, lambda: run([*dh, "inspect", ref, "--json"], env), "revalidation")
        sk, _ = count(
            reg,
            lambda: run(skopeo("inspect", "--tls-verify=false", f"docker://{ref}"), envs.base),
            "skopeo inspect",
        )
        rows.append([f"inspect {label}", cold, warm, reval, sk])
        facts[f"inspect {label}"] = (cold, warm, reval, sk)

    scenario(plain, "demo/app:1.0", "single-platform (plain)")
    scenario(plain, "demo/multi:1.0", "index, 2 platforms (plain)")
    scenario(token, "public/app:1.0", "single-platform (token auth)")
    scenario(token, "public/multi:1.0", "index, 2 platforms (token auth)")

    # tags: one page on distribution 2.8 (it ignores n/last).
    repo = plain.ref("demo/many")
    cache = envs.fresh_cache()
    env = envs(cache)
    cold, _ = count(plain, lambda: run([*dh, "tags", repo, "--all", "--json"], env), "tags")
    warm, _ = count(plain, lambda: run([*dh, "tags", repo, "--all", "--json"], env), "tags")
    expire_cache(cache)
    reval, _ = count(plain, lambda: run([*dh, "tags", repo, "--all", "--json"], env), "tags")
    sk, _ = count(
        plain,
        lambda: run(skopeo("list-tags", "--tls-verify=false", f"docker://{repo}"), envs.base),
        "skopeo list-tags",
    )
    rows.append(["tags --all (70 tags)", cold, warm, reval, sk])

    ref = plain.ref("demo/based:1.0")
    cache = envs.fresh_cache()
    env = envs(cache)
    cold, _ = count(plain, lambda: run([*dh, "layers", ref, "--json"], env), "layers")
    warm, _ = count(plain, lambda: run([*dh, "layers", ref, "--json"], env), "layers")
    expire_cache(cache)
    reval, _ = count(plain, lambda: run([*dh, "layers", ref, "--json"], env), "layers")
    rows.append(["layers (with base image)", cold, warm, reval, "n/a"])

    if has_command(dh, envs.base, "compare"):
        a, b = plain.ref("demo/app:1.0"), plain.ref("demo/app:2.0")
        cache = envs.fresh_cache()
        env = envs(cache)
        cmd = [*dh, "compare", a, b, "--json"]
        cold, _ = count(plain, lambda: run(cmd, env), "compare")
        warm, _ = count(plain, lambda: run(cmd, env), "compare")
        expire_cache(cache)
        reval, _ = count(plain, lambda: run(cmd, env), "compare")
        sk_total = 0
        for image in (a, b):
            text, _ = count(
                plain,
                lambda image=image: run(
                    skopeo("inspect", "--tls-verify=false", f"docker://{image}"), envs.base
                ),
                "skopeo inspect",
            )
            sk_total += int(text.split()[0])
        rows.append(["compare app:1.0 app:2.0", cold, warm, reval, f"{sk_total} (2 inspects)"])
    else:
        rows.append(["compare", "n/a: no `compare` command in this build", "", "", ""])

    text = table(
        "Requests per task (registry access log + token server; 401s marked)",
        ["task", "dockerhub cold", "warm", "revalidation (stale, tag unchanged)", "skopeo"],
        rows,
    )
    return text, facts


# ---------------------------------------------------------------------------------------------
# 2. Wall time and memory
# ---------------------------------------------------------------------------------------------


def timings(plain: Registry, envs: Env, dh: list[str], runs: int) -> str:
    single = plain.ref("demo/app:1.0")
    repo = plain.ref("demo/many")
    warm_cache = envs.fresh_cache()
    warm_env = envs(warm_cache)
    for argv in (
        [*dh, "inspect", single],
        [*dh, "layers", single],
        [*dh, "tags", repo, "--all"],
    ):
        checked(run(argv, warm_env), "warming the cache")

    def cold_env() -> dict[str, str]:
        return envs(envs.fresh_cache())

    cases: list[tuple[str, Callable[[], list[str]], Callable[[], dict[str, str]], str | None]] = [
        ("python -c pass", lambda: [sys.executable, "-c", "pass"], lambda: envs.base, None),
        ("dockerhub --version", lambda: [*dh, "--version"], lambda: warm_env, None),
        ("dockerhub --help", lambda: [*dh, "--help"], lambda: warm_env, None),
        ("dockerhub inspect (warm)", lambda: [*dh, "inspect", single], lambda: warm_env, "inspect"),
        (
            "dockerhub inspect --json (warm)",
            lambda: [*dh, "inspect", single, "--json"],
            lambda: warm_env,
            "inspect",
        ),
        ("dockerhub inspect (cold)", lambda: [*dh, "inspect", single], cold_env, "inspect"),
        (
            "skopeo inspect",
            lambda: skopeo("inspect", "--tls-verify=false", f"docker://{single}"),
            lambda: envs.base,
            None,
        ),
        ("dockerhub layers (warm)", lambda: [*dh, "layers", single], lambda: warm_env, None),
        (
            "dockerhub tags --all (warm)",
            lambda: [*dh, "tags", repo, "--all"],
            lambda: warm_env,
            "tags",
        ),
        ("dockerhub tags --all (cold)", lambda: [*dh, "tags", repo, "--all"], cold_env, "tags"),
        (
            "skopeo list-tags",
            lambda: skopeo("list-tags", "--tls-verify=false", f"docker://{repo}"),
            lambda: envs.base,
            None,
        ),
    ]
    results: dict[str, tuple[float, float, float]] = {}
    for label, argv, env, _ in cases:
        samples, rss = [], []
        for _ in range(runs):
            r = checked(run(argv(), env()), label)
            samples.append(r.seconds)
            rss.append(r.rss_mb)
        results[label] = (median_ms(samples), min(samples) * 1000, max(rss))
    base = results["python -c pass"][0]
    start = results["dockerhub --version"][0]
    skopeo_ms = {
        "inspect": results["skopeo inspect"][0],
        "tags": results["skopeo list-tags"][0],
    }
    rows = []
    for label, _, _, versus in cases:
        med, low, rss = results[label]
        rows.append(
            [
                label,
                f"{med:.0f}",
                f"{low:.0f}",
                f"{med / base:.1f}x",
                f"{med / start:.2f}x" if label.startswith("dockerhub") else "",
                f"{med / skopeo_ms[versus]:.2f}x" if versus else "",
                f"{rss:.0f}",
            ]
        )
    return table(
        f"Wall time (median of {runs} runs, ms) and peak RSS",
        [
            "command",
            "median",
            "min",
            "vs python -c pass",
            "vs dockerhub --version",
            "vs skopeo",
            "peak RSS MB",
        ],
        rows,
    )


def import_profile(dh_python: str) -> str:
    """Which top-level packages `dockerhub --version` imports (should be typer and ours)."""
    code = (
        "import sys, dockerhub_cli.cli as c;"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'rich','requests','requests_cache','pydantic','mcp','urllib3','sqlite3','click',"
        "'typer','anyio','starlette','platformdirs'})))"
    )
    out = subprocess.run(
        [dh_python, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    return out.stdout.strip() or out.stderr.strip()[-300:]


# ---------------------------------------------------------------------------------------------
# 3. serve-mcp
# ---------------------------------------------------------------------------------------------


def _children_of(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            kids.append(int(entry.name))
    return kids


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def mcp_bench(plain: Registry, envs: Env, dh: list[str], calls: int, concurrency: int) -> str:
    if not has_command(dh, envs.base, "serve-mcp"):
        print("\n## serve-mcp\n\nskipped: this build has no `serve-mcp` command yet.")
        return "serve-mcp: skipped (no serve-mcp command in this build)"
    try:
        import anyio
        from mcp import Client
        from mcp.client.stdio import StdioServerParameters
    except ImportError as exc:  # pragma: no cover - depends on the environment
        print(f"\n## serve-mcp\n\nskipped: the mcp client cannot be imported ({exc}).")
        return "serve-mcp: skipped"

    repo = plain.ref("demo/app")
    cache = envs.fresh_cache()
    env = envs(cache)
    args = {"repository": repo, "tag": "1.0"}
    tool = "docker_get_image_details"
    out: dict[str, Any] = {}

    async def stdio_client() -> None:
        params = StdioServerParameters(command=dh[0], args=[*dh[1:], "serve-mcp"], env=env)
        started = time.perf_counter()
        async with Client(params) as client:
            out["connect_ms"] = (time.perf_counter() - started) * 1000
            server_pid = (_children_of(os.getpid()) or [0])[-1]
            first = time.perf_counter()
            result = await client.call_tool(tool, args)
            out["cold_ms"] = (time.perf_counter() - first) * 1000
            if result.is_error:
                raise SystemExit(f"benchmark: {tool} failed: {result.content}")
            samples = []
            for _ in range(calls):
                t0 = time.perf_counter()
                await client.call_tool(tool, args)
                samples.append(time.perf_counter() - t0)
            out["warm_ms"] = median_ms(samples)
            out["warm_p95_ms"] = sorted(samples)[int(len(samples) * 0.95) - 1] * 1000
            limiter = anyio.Semaphore(concurrency)
            errors = 0

            async def one() -> None:
                nonlocal errors
                async with limiter:
                    r = await client.call_tool(tool, args)
                    errors += bool(r.is_error)

            total = calls * 4
            t0 = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for _ in range(total):
                    tg.start_soon(one)
            elapsed = time.perf_counter() - t0
            out["throughput_per_min"] = total / elapsed * 60
            out["concurrent_calls"] = total
            out["errors"] = errors
            out["rss_mb"] = _peak_rss_mb(server_pid) if server_pid else float("nan")

    async def in_process() -> None:
        from dockerhub_cli.config.settings import Settings
        from dockerhub_cli.mcp.server import build_server
        from dockerhub_cli.service import DockerHubService

        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            settings = Settings.from_env()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        with DockerHubService(settings) as service:
            async with Client(build_server(service)) as client:
                await client.call_tool(tool, args)
                samples = []
                for _ in range(calls):
                    t0 = time.perf_counter()
                    await client.call_tool(tool, args)
                    samples.append(time.perf_counter() - t0)
                out["inproc_ms"] = median_ms(samples)
                samples = []
                for _ in range(calls):
                    t0 = time.perf_counter()
                    service.inspect(f"{repo}:1.0")
                    samples.append(time.perf_counter() - t0)
                out["service_ms"] = median_ms(samples)

    anyio.run(stdio_client)
    anyio.run(in_process)
    rows = [
        ["start + initialize (stdio)", f"{out['connect_ms']:.0f} ms"],
        [f"first {tool} (cold cache)", f"{out['cold_ms']:.1f} ms"],
        [f"warm {tool}, real client over stdio (median of {calls})", f"{out['warm_ms']:.2f} ms"],
        ["  p95", f"{out['warm_p95_ms']:.2f} ms"],
        [
            "warm call, in-process client (server side: protocol + tool)",
            f"{out['inproc_ms']:.2f} ms",
        ],
        ["  of which the service call itself", f"{out['service_ms']:.2f} ms"],
        [
            f"throughput, {out['concurrent_calls']} calls, {concurrency} in flight",
            f"{out['throughput_per_min']:.0f} calls/min ({out['errors']} errors)",
        ],
        ["serve-mcp peak RSS after the load", f"{out['rss_mb']:.0f} MB"],
    ]
    return table("serve-mcp (warm cache)", ["measure", "value"], rows)


# ---------------------------------------------------------------------------------------------
# 4. Scale: thousands of tags
# ---------------------------------------------------------------------------------------------


def scale(envs: Env, dh: list[str], sizes: Sequence[int]) -> str:
    server = HubStandIn()
    rows = []
    try:
        for source in ("registry", "hub"):
            for n in sizes:
                if source == "registry":
                    target = f"{server.host}/big/t{n}"
                    env = envs()
                else:
                    target = f"big/t{n}"
                    env = envs(DOCKERHUB_HUB_URL=f"http://{server.host}")
                server.take()
                result = checked(
                    run([*dh, "tags", target, "--all", "--json"], env, timeout=300),
                    f"tags --all {source} {n}",
                )
                hits = server.take()
                listed = len(json.loads(result.stdout)["tags"])
                in_proc = _traced_tags(target, env)
                rows.append(
                    [
                        source,
                        f"{n:,}",
                        f"{listed:,}",
                        hits.get("registry" if source == "registry" else "hub tags", 0),
                        f"{result.seconds * 1000:.0f}",
                        f"{result.rss_mb:.0f}",
                        f"{in_proc:.1f}",
                        f"{in_proc * 1024 / n:.2f}",
                    ]
                )
    finally:
        server.close()
    return table(
        "Scale: tags --all (registry: 1000 per page, Hub API: 100 per page)",
        [
            "source",
            "tags",
            "listed",
            "requests",
            "wall ms (--json)",
            "peak RSS MB",
            "tracemalloc peak MB (service call)",
            "KB per tag",
        ],
        rows,
    )


def _traced_tags(target: str, env: dict[str, str]) -> float:
    """Peak Python heap of `DockerHubService.tags(all_tags=True)` in a fresh child (no cache
    writes counted twice: a cold cache like the CLI run)."""
    code = (
        "import sys, tracemalloc;"
        "from dockerhub_cli.service import DockerHubService;"
        "from dockerhub_cli.config.settings import Settings;"
        "s = DockerHubService(Settings.from_env(no_cache=True));"
        "tracemalloc.start();"
        f"r = s.tags({target!r}, all_tags=True);"
        "print(tracemalloc.get_traced_memory()[1] / 2**20)"
    )
    out = checked(run([sys.executable, "-c", code], env, timeout=300), "traced tags")
    return float(out.stdout.decode().strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per timing (median)")
    parser.add_argument("--mcp-calls", type=int, default=200, help="sequential MCP calls")
    parser.add_argument("--mcp-concurrency", type=int, default=16)
    parser.add_argument(
        "--scale", default="1000,10000,50000", help="tag counts for the scale section"
    )
    parser.add_argument(
        "--only",
        default="issue,requests,time,mcp,scale",
        help="sections to run (comma-separated): issue (the rows of issue 19, ours beside "
        "skopeo and the MCP peers, as ratios), requests, time, mcp, scale; or issue-mcp alone "
        "(only the serve-mcp rows of issue 19, beside the peers)",
    )
    parser.add_argument(
        "--seed",
        default=os.environ.get("DOCKERHUB_BENCH_SEED"),
        help="built checkout of raghav-jeogani/dockerhub-mcp-server (env DOCKERHUB_BENCH_SEED)",
    )
    parser.add_argument(
        "--hub-mcp",
        default=os.environ.get("DOCKERHUB_BENCH_HUB_MCP"),
        help="built checkout of docker/hub-mcp (env DOCKERHUB_BENCH_HUB_MCP)",
    )
    parser.add_argument(
        "--issue-rows",
        choices=("all", "cli"),
        default="all",
        help="rows of the issue table: all, or only the CLI rows (no serve-mcp / peers)",
    )
    parser.add_argument(
        "--dockerhub",
        help="the dockerhub command to measure (default: the console script beside this "
        "Python); e.g. a wrapper that runs another checkout, to compare builds",
    )
    parser.add_argument("--out", type=Path, help="also write the tables (markdown) here")
    opts = parser.parse_args(argv)
    sections = set(opts.only.split(","))
    peers = {"DOCKERHUB_BENCH_SEED": opts.seed, "DOCKERHUB_BENCH_HUB_MCP": opts.hub_mcp}
    if sections == {"issue-mcp"}:  # the MCP rows alone need no registry and no skopeo
        return _mcp_only(opts.mcp_calls, peers, opts.out)

    missing = missing_binaries(["docker-registry", "skopeo", "umoci"])
    if missing:
        print(f"benchmark: {describe_missing(missing)}", file=sys.stderr)
        return 2
    dh = [opts.dockerhub] if opts.dockerhub else dockerhub_argv()
    work = Path(tempfile.mkdtemp(prefix="dockerhub-bench-"))
    envs = Env(work)
    texts: list[str] = []
    began = time.monotonic()
    registries: list[Registry] = []
    try:
        print(
            f"# hubscope benchmark ({' '.join(dh)}; python {sys.version.split()[0]}; "
            f"{os.cpu_count()} CPUs)",
            flush=True,
        )
        print(f"modules loaded by `import dockerhub_cli.cli`: {import_profile(sys.executable)}")
        std = build_standard_images(work / "images")
        plain = start_registry(work / "plain", "none")
        registries.append(plain)
        plain.seeded = seed_registry(plain.host, std, namespaces=("demo",))
        token = start_registry(work / "token", "token")
        registries.append(token)
        token.seeded = seed_registry(token.host, std, namespaces=("public",), creds=token.creds)
        print(f"registries seeded in {time.monotonic() - began:.1f} s", flush=True)
        if "issue" in sections:
            sizes = [int(x) for x in opts.scale.split(",") if x.strip()]
            texts.append(
                issue_table(
                    plain,
                    std,
                    envs,
                    dh,
                    runs=opts.runs,
                    sizes=sizes,
                    mcp_calls=opts.mcp_calls,
                    peers=peers,
                    rows_wanted=opts.issue_rows,
                )
            )
        if "requests" in sections:
            texts.append(request_counts(plain, token, envs, dh)[0])
        if "time" in sections:
            texts.append(timings(plain, envs, dh, opts.runs))
        if "mcp" in sections:
            texts.append(mcp_bench(plain, envs, dh, opts.mcp_calls, opts.mcp_concurrency))
        if "scale" in sections:
            sizes = [int(s) for s in opts.scale.split(",") if s.strip()]
            texts.append(scale(envs, dh, sizes))
    finally:
        for reg in registries:
            reg.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nbenchmark finished in {time.monotonic() - began:.0f} s")
    if opts.out:
        opts.out.write_text("\n".join(texts) + "\n")
    return 0


def _mcp_only(calls: int, peers: dict[str, str | None], out: Path | None) -> int:
    dh = dockerhub_argv()
    work = Path(tempfile.mkdtemp(prefix="dockerhub-bench-"))
    began = time.monotonic()
    try:
        load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
        print(
            f"# dockerhub-cli benchmark, serve-mcp rows ({' '.join(dh)}; python "
            f"{sys.version.split()[0]}; {os.cpu_count()} CPUs; load average "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f})",
            flush=True,
        )
        text = mcp_table(Env(work), dh, calls, peers)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nbenchmark finished in {time.monotonic() - began:.0f} s")
    if out:
        out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
