"""`dockerhub serve-mcp` with real MCP clients against the real registry on loopback.

* the SDK's stdio client starting `dockerhub serve-mcp` as a subprocess;
* the MCP Inspector CLI (npm), an independent client (`scripts/install-mcp-inspector.sh`);
* streamable HTTP on a free loopback port, with `/health`;
* the README's configuration snippet, started exactly as written;
* the in-memory client over the real service: warm latency and concurrent calls.

The server command is the `dockerhub` console script when it is on PATH (`make test` puts the
project's .venv/bin there), else `python -m dockerhub_cli`.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import requests
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from dockerhub_cli import __version__
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.mcp.server import build_server
from dockerhub_cli.service import DockerHubService
from tests.support.registry import Registry

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
INSPECTOR = ROOT / ".mcp-inspector" / "node_modules" / ".bin" / "mcp-inspector"
IN_CI = os.environ.get("CI", "").lower() == "true"
CALL_TIMEOUT = 30


def server_command() -> list[str]:
    exe = shutil.which("dockerhub")
    return [exe] if exe else [sys.executable, "-m", "dockerhub_cli"]


def server_env() -> dict[str, str]:
    """The test's isolated environment (cache dir, HOME), able to import this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def app(registry: Registry) -> str:
    return f"{registry.host}/demo/app"


def _text(result: Any) -> str:
    return str(result.content[0].text)


# -- the SDK's stdio client, server as a subprocess ------------------------------------------------


async def test_stdio_subprocess_against_the_real_registry(
    registry: Registry, app: str, tmp_path: Path
) -> None:
    seeded = registry.seeded
    assert seeded is not None
    cmd = server_command()
    params = StdioServerParameters(
        command=cmd[0], args=[*cmd[1:], "serve-mcp"], env=server_env(), cwd=str(ROOT)
    )
    errlog_path = tmp_path / "server-stderr.log"
    with errlog_path.open("w") as errlog, anyio.fail_after(60):
        async with Client(stdio_client(params, errlog=errlog)) as client:
            assert client.server_info.name == "dockerhub"
            assert client.server_info.version == __version__
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"docker_list_tags", "docker_get_image_details", "docker_get_stats"} <= names

            tags = await client.call_tool("docker_list_tags", {"repository": app})
            assert not tags.is_error, _text(tags)
            assert {"1.0", "1.1", "2.0"} <= {t["name"] for t in tags.structured_content["tags"]}

            details = await client.call_tool(
                "docker_get_image_details", {"repository": app, "tag": "1.0"}
            )
            assert not details.is_error, _text(details)
            assert details.structured_content["digest"] == seeded.digest("demo/app:1.0")

            layers = await client.call_tool(
                "docker_analyze_layers",
                {"repository": f"{registry.host}/demo/multi:1.0", "platform": "linux/arm64"},
            )
            assert not layers.is_error, _text(layers)
            assert layers.structured_content["platform"]["architecture"] == "arm64"

            wrong = await client.call_tool(
                "docker_get_dockerfile",
                {
                    "repository": f"{registry.host}/demo/multi",
                    "tag": "1.0",
                    "platform": "linux/s390x",
                },
            )
            assert wrong.is_error and "platform set to one of: linux/amd64" in _text(wrong)

            missing = await client.call_tool(
                "docker_get_manifest", {"repository": app, "tag": "9.9"}
            )
            assert missing.is_error and "not found" in _text(missing)
            assert "docker_list_tags" in _text(missing)

            stats = await client.call_tool("docker_get_stats", {"repository": app})
            assert stats.is_error and "only for Docker Hub" in _text(stats)

            bad = await client.call_tool("docker_list_tags", {"repository": app, "limit": 0})
            # one line naming the parameter and its bound, no pydantic text (issue 19 goal 5)
            assert bad.is_error and "limit must be between 1 and 100 (got 0)" in _text(bad)
            assert "\n" not in _text(bad) and "pydantic" not in _text(bad)
    stderr = errlog_path.read_text()
    assert "Traceback" not in stderr, stderr


# -- compare and the supply chain over stdio (OSV: a fake on loopback) ---------------------------

OSV_ID = "GHSA-j8r2-6x86-q33q"
OSV_PURL = "pkg:pypi/requests@2.31.0"


class FakeOSV(http.server.ThreadingHTTPServer):
    """POST /v1/querybatch: one vulnerability id for OSV_PURL; GET /v1/vulns/<id>: its record."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _OSVHandler)
        self.requests: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _OSVHandler(http.server.BaseHTTPRequestHandler):
    server: FakeOSV

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.requests.append(("POST", self.path))
        if self.path != "/v1/querybatch":
            self._send(404, {"message": "not found"})
            return
        queries = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["queries"]
        results = [
            {"vulns": [{"id": OSV_ID, "modified": "2024-06-01T00:00:00Z"}]}
            if q["package"].get("purl") == OSV_PURL
            else {}
            for q in queries
        ]
        self._send(200, {"results": results})

    def do_GET(self) -> None:  # noqa: N802
        self.server.requests.append(("GET", self.path))
        if self.path != f"/v1/vulns/{OSV_ID}":
            self._send(404, {"message": "Bug not found"})
            return
        self._send(
            200,
            {
                "id": OSV_ID,
                "summary": "Requests Session object does not verify requests after verify=False",
                "aliases": ["CVE-2024-35195"],
                "modified": "2024-06-01T00:00:00Z",
                "severity": [
                    {"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N"}
                ],
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "requests"},
                        "ranges": [
                            {
                                "type": "ECOSYSTEM",
                                "events": [{"introduced": "0"}, {"fixed": "2.32.0"}],
                            }
                        ],
                    }
                ],
            },
        )

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def fake_osv() -> Iterator[FakeOSV]:
    server = FakeOSV()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_stdio_compare_and_supply_chain_tools(
    registry: Registry, fake_osv: FakeOSV, tmp_path: Path
) -> None:
    seeded = registry.seeded
    assert seeded is not None
    attested = f"{registry.host}/demo/attested"
    cmd = server_command()
    params = StdioServerParameters(
        command=cmd[0],
        args=[*cmd[1:], "serve-mcp"],
        env={**server_env(), "DOCKERHUB_OSV_URL": fake_osv.url},
        cwd=str(ROOT),
    )
    errlog_path = tmp_path / "server-stderr.log"
    with errlog_path.open("w") as errlog, anyio.fail_after(60):
        async with Client(stdio_client(params, errlog=errlog)) as client:
            compared = await client.call_tool(
                "docker_compare_images",
                {"image1": registry.ref("demo/app:1.0"), "image2": registry.ref("demo/app:1.1")},
            )
            assert not compared.is_error, _text(compared)
            one, two = seeded["demo/app:1.0"], seeded["demo/app:1.1"]
            c = compared.structured_content
            assert (c["left"]["digest"], c["right"]["digest"]) == (one.digest, two.digest)
            assert c["shared_layers"] == one.layer_digests and c["only_left"] == []
            assert len(c["only_right"]) == 1 and c["size_delta"] > 0

            sbom = await client.call_tool("docker_get_sbom", {"repository": attested, "tag": "1.0"})
            assert not sbom.is_error, _text(sbom)
            expected = seeded.sbom_packages["linux/amd64"]
            packages = sbom.structured_content["packages"]
            assert {(p["name"], p["version"]) for p in packages} == {
                (p.name, p.version) for p in expected
            }
            assert (
                sbom.structured_content["digest"]
                == seeded["demo/attested:1.0"].child("linux/amd64").digest
            )

            prov = await client.call_tool(
                "docker_get_provenance", {"repository": f"{attested}:1.0"}
            )
            assert not prov.is_error, _text(prov)
            info = seeded.provenance["linux/amd64"]
            p = prov.structured_content
            assert (p["slsa_version"], p["builder"]) == ("v0.2", info.builder_id)
            assert p["source_commit"] == info.source_sha1
            assert p["build_args"] == dict(info.build_args)

            vulns = await client.call_tool(
                "docker_get_vulnerabilities", {"repository": attested, "tag": "1.0"}
            )
            assert not vulns.is_error, _text(vulns)
            v = vulns.structured_content
            assert v["osv_url"] == fake_osv.url and v["packages_scanned"] == len(expected)
            assert v["limitations"]
            assert [
                (x["id"], x["package"], x["severity"], x["fixed_version"])
                for x in v["vulnerabilities"]
            ] == [(OSV_ID, "requests", "medium", "2.32.0")]
            assert v["summary"]["medium"] == 1
            assert ("GET", f"/v1/vulns/{OSV_ID}") in fake_osv.requests

            # demo/app:1.0 is a plain image manifest: no SBOM, so no vulnerability data.
            plain = await client.call_tool(
                "docker_get_vulnerabilities", {"repository": registry.ref("demo/app:1.0")}
            )
            assert plain.is_error
            assert "no SBOM attestation, so no vulnerability data — this is NOT a clean result" in (
                _text(plain)
            )
            assert "--sbom=true" in _text(plain)
            no_prov = await client.call_tool(
                "docker_get_provenance", {"repository": f"{registry.host}/demo/multi:1.0"}
            )
            assert no_prov.is_error and "no SLSA provenance attestation" in _text(no_prov)
    stderr = errlog_path.read_text()
    assert "Traceback" not in stderr, stderr


# -- the MCP Inspector CLI -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def inspector() -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        skip_or_fail(
            "node and npm are needed for the MCP Inspector CLI (apt-get install nodejs npm)"
        )
    if not INSPECTOR.exists():
        try:
            subprocess.run(
                [str(ROOT / "scripts" / "install-mcp-inspector.sh")],
                check=False,
                timeout=180,
                capture_output=True,
            )
        except subprocess.TimeoutExpired:
            pass
    if not INSPECTOR.exists():
        skip_or_fail(
            "the MCP Inspector is not installed and npm could not install it "
            "(run scripts/install-mcp-inspector.sh)"
        )
    return INSPECTOR


def run_inspector(inspector: Path, *method_args: str) -> subprocess.CompletedProcess[str]:
    env = server_env()
    passed = [f"-e{k}={env[k]}" for k in ("DOCKERHUB_CACHE_DIR", "HOME", "PYTHONPATH") if k in env]
    return subprocess.run(
        [str(inspector), "--cli", *passed, *server_command(), "serve-mcp", *method_args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=str(ROOT),
    )


def test_inspector_cli_lists_and_calls_tools(inspector: Path, registry: Registry, app: str) -> None:
    seeded = registry.seeded
    assert seeded is not None
    listed = run_inspector(inspector, "--method", "tools/list")
    assert listed.returncode == 0, listed.stderr
    tools = {t["name"]: t for t in json.loads(listed.stdout)["tools"]}
    assert tools["docker_list_tags"]["annotations"]["readOnlyHint"] is True
    assert tools["docker_list_tags"]["inputSchema"]["properties"]["limit"]["maximum"] == 100
    output = tools["docker_get_image_details"]["outputSchema"]
    assert output["type"] == "object" and "digest" in output["properties"]

    called = run_inspector(
        inspector,
        "--method",
        "tools/call",
        "--tool-name",
        "docker_get_image_details",
        # The Inspector turns number-like values into numbers: quote to send the string "1.0".
        "--tool-arg",
        f"repository={app}",
        "--tool-arg",
        'tag="1.0"',
    )
    assert called.returncode == 0, (called.stdout, called.stderr)
    body = json.loads(called.stdout)
    assert body["isError"] is False
    assert body["structuredContent"]["digest"] == seeded.digest("demo/app:1.0")

    failed = run_inspector(
        inspector,
        "--method",
        "tools/call",
        "--tool-name",
        "docker_get_image_details",
        "--tool-arg",
        f"repository={app}",
        "--tool-arg",
        'tag="9.9"',
    )
    # 2.x exits 5 (TOOL_ERROR) on isError; 0.x exited 0 (MCP_INSPECTOR_VERSION=0.15.0 on old node)
    marker = ROOT / ".mcp-inspector" / ".version"
    version = marker.read_text().strip() if marker.exists() else "2"
    expected = 0 if version.startswith("0.") else 5
    assert failed.returncode == expected, (failed.returncode, failed.stdout, failed.stderr)
    body = json.loads(failed.stdout)
    assert body["isError"] is True and "not found" in body["content"][0]["text"]
    assert "Traceback" not in failed.stderr


# -- streamable HTTP on loopback -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    port = free_port()
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [*server_command(), "serve-mcp", "--transport", "http", "--port", str(port)],
            stdout=stdout,
            stderr=stderr,
            env=server_env(),
            cwd=str(ROOT),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.fail(f"serve-mcp exited with {proc.returncode}: {err.read_text()}")
            try:
                if requests.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"serve-mcp did not answer /health in 20 s: {err.read_text()}")
            time.sleep(0.1)
        yield base, proc, tmp_path
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


async def test_streamable_http_with_health(
    http_server: tuple[str, subprocess.Popen[bytes], Path], registry: Registry, app: str
) -> None:
    base, proc, logs = http_server
    health = requests.get(f"{base}/health", timeout=5).json()
    assert health["status"] == "ok" and health["version"] == __version__
    assert health["cache"]["path"] == str(Settings.from_env().cache_path)
    assert "docker_list_tags" in health["tools"]
    assert health["rate_limiter"] == {}
    # serve-mcp is long-lived: the per-host circuit breaker is on by default there.
    assert health["service"]["circuit_breaker"]["enabled"] is True

    with anyio.fail_after(30):
        async with Client(f"{base}/mcp") as client:
            assert "docker_get_image_details" in {t.name for t in (await client.list_tools()).tools}
            result = await client.call_tool("docker_list_tags", {"repository": app, "limit": 2})
            assert not result.is_error, _text(result)
            assert result.structured_content["tags"][0]["name"] == "1.0"
            assert "page=2" in result.structured_content["notes"][-1]

    after = requests.get(f"{base}/health", timeout=5).json()
    assert after["rate_limiter"][registry.host]["sent"] >= 1  # the one long-lived service

    # DNS-rebinding protection on loopback: a foreign Host header is refused.
    refused = requests.post(f"{base}/mcp", headers={"Host": "evil.example"}, json={}, timeout=5)
    assert refused.status_code == 421

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0
    assert (logs / "stdout.log").read_bytes() == b"", "stdout must stay empty"
    assert "Traceback" not in (logs / "stderr.log").read_text()


# -- the README snippet ----------------------------------------------------------------------------


def readme_snippets() -> list[dict[str, Any]]:
    """README's client entry, then docs/mcp.md's (Claude Desktop, Cursor, Cline)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Connect Claude Desktop", 1)[1].split("\n## ", 1)[0]
    mcp = (ROOT / "docs" / "mcp.md").read_text()
    client = mcp.split("## Client configuration", 1)[1].split("\n## ", 1)[0]
    return [
        json.loads(block)
        for text in (section, client)
        for block in re.findall(r"```json\n(.*?)```", text, re.S)
    ]


def test_readme_snippets_agree() -> None:
    snippets = readme_snippets()
    assert len(snippets) >= 4, "README's entry and the Claude Desktop, Cursor and Cline ones"
    servers = [s["mcpServers"]["dockerhub"] for s in snippets]
    assert all(
        (s["command"], s["args"]) == (servers[0]["command"], servers[0]["args"]) for s in servers
    )


async def test_readme_snippet_starts_the_server(tmp_path: Path) -> None:
    entry = readme_snippets()[0]["mcpServers"]["dockerhub"]
    command = shutil.which(entry["command"])
    if command is None:
        skip_or_fail(f"{entry['command']!r} is not on PATH (install the package: make install)")
    params = StdioServerParameters(
        command=command, args=entry["args"], env={**server_env(), **entry.get("env", {})}
    )
    with (tmp_path / "stderr.log").open("w") as errlog, anyio.fail_after(30):
        async with Client(stdio_client(params, errlog=errlog)) as client:
            names = {t.name for t in (await client.list_tools()).tools}
    assert "docker_search_images" in names and "docker_list_tags" in names


# -- in-memory over the real service: warm latency, concurrency ------------------------------------


async def test_warm_latency_and_concurrent_calls(registry: Registry, app: str) -> None:
    # Generous client-side limits: this is about thread safety, not about the limiter's waits.
    settings = Settings.from_env(rate_limit_per_minute=10_000, rate_limit_burst=1_000)
    with DockerHubService(settings) as service:
        async with Client(build_server(service)) as client:
            args = {"repository": app, "tag": "1.0"}
            cold = await client.call_tool("docker_get_image_details", args)
            assert not cold.is_error, _text(cold)
            network_after_cold = service.transport.network_requests
            timings = []
            for _ in range(20):
                started = time.perf_counter()
                warm = await client.call_tool("docker_get_image_details", args)
                timings.append(time.perf_counter() - started)
                assert warm.structured_content == cold.structured_content
            median = statistics.median(timings)
            print(
                f"\nwarm docker_get_image_details in-memory: median {median * 1000:.1f} ms, "
                f"max {max(timings) * 1000:.1f} ms"
            )
            assert median < 0.5
            assert service.transport.network_requests == network_after_cold  # cache only

            calls = [
                ("docker_list_tags", {"repository": app}),
                ("docker_analyze_layers", {"repository": app, "tag": "1.1"}),
                ("docker_get_image_history", {"repository": app, "tag": "2.0"}),
                ("docker_get_dockerfile", {"repository": app, "tag": "1.0"}),
                ("docker_estimate_pull_size", {"repository": app, "tag": "2.0"}),
                ("docker_get_manifest", {"repository": f"{registry.host}/demo/multi:1.0"}),
                ("docker_get_image_details", {"repository": f"{registry.host}/demo/base:3.19"}),
                ("docker_get_manifest", {"repository": app, "tag": "9.9"}),
            ] * 2
            results: dict[int, Any] = {}

            async def one(i: int, tool: str, arguments: dict[str, Any]) -> None:
                results[i] = await client.call_tool(tool, arguments)

            with anyio.fail_after(CALL_TIMEOUT):
                async with anyio.create_task_group() as tg:
                    for i, (tool, arguments) in enumerate(calls):
                        tg.start_soon(one, i, tool, arguments)
            errors = sorted(i for i, r in results.items() if r.is_error)
            assert errors == [7, 15], [_text(results[i]) for i in errors]
            for i in range(8):
                assert results[i].structured_content == results[i + 8].structured_content
