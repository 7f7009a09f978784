"""A second pair of hostile eyes (session 5): servers, layers and headers that the earlier
trust tests (test_trust_net.py, test_faults.py, test_files_*.py) did not try, each found by
running `dockerhub` against it, then fixed in the layer where it belonged.

- a layer with the same path twice (the last entry wins, as in every runtime) read again from
  a cached index: cat/extract took the first copy and called the registry a liar;
- a 429 whose Retry-After is not a number of seconds or a date (negative, NaN, 1e400), or a
  X-Retry-After of 1e400 (infinite): a network error instead of "rate limited", or an
  infinite wait that the MCP tool error could not even print.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import responses

from dockerhub_cli.errors import RateLimitedError
from dockerhub_cli.service import DockerHubService
from tests.support.layers import digest, file, hardlink, layer, symlink, whiteout
from tests.unit.registry_fixtures import OCI_MANIFEST, compact, image_manifest

REG = "https://registry.example.com"
IMAGE = "registry.example.com/team/app:1.0"
CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'


def _manifest(layers: list[bytes]) -> bytes:
    return image_manifest(CONFIG, [(digest(b), len(b)) for b in layers], indent=None)


def _serve(rsps: responses.RequestsMock, layers: list[bytes]) -> None:
    manifest = _manifest(layers)
    rsps.get(
        f"{REG}/v2/team/app/manifests/1.0",
        body=manifest,
        content_type=OCI_MANIFEST,
        headers={"Docker-Content-Digest": digest(manifest)},
    )
    rsps.get(f"{REG}/v2/team/app/blobs/{digest(CONFIG)}", body=CONFIG)
    for blob in layers:
        rsps.get(f"{REG}/v2/team/app/blobs/{digest(blob)}", body=blob)


IMAGE_EMPTY = "registry.example.com/team/empty:1.0"


def _serve_empty(rsps: responses.RequestsMock) -> None:
    """team/empty:1.0, an image of one empty layer (the other side of a diff)."""
    blob = layer([])
    manifest = _manifest([blob])
    for ref in ("1.0", digest(manifest)):
        rsps.get(
            f"{REG}/v2/team/empty/manifests/{ref}",
            body=manifest,
            content_type=OCI_MANIFEST,
            headers={"Docker-Content-Digest": digest(manifest)},
        )
    rsps.get(f"{REG}/v2/team/empty/blobs/{digest(CONFIG)}", body=CONFIG)
    rsps.get(f"{REG}/v2/team/empty/blobs/{digest(blob)}", body=blob)


# -- the same path twice in one layer: the last entry is the file ----------------------------

DUPLICATES = layer(
    [
        file("target", "target-bytes\n"),
        file("dup", "first\n"),
        file("dup", "second, the one that counts\n"),
        hardlink("link-then-file", "target"),
        file("link-then-file", "a file after the link\n"),
        symlink("sym-then-file", "target"),
        file("sym-then-file", "a file after the symlink\n"),
    ]
)
LAST = {
    "dup": b"second, the one that counts\n",
    "link-then-file": b"a file after the link\n",
    "sym-then-file": b"a file after the symlink\n",
}


@pytest.mark.parametrize("path", sorted(LAST))
def test_cat_of_a_path_written_twice_in_one_layer_reads_the_last_copy(
    rsps, service: DockerHubService, path: str
) -> None:
    _serve(rsps, [DUPLICATES])
    listing = {f.path: f.size for f in service.files(IMAGE).files}  # the index is cached now
    assert listing[path] == len(LAST[path])
    meta, spool = service.read_file(IMAGE, path)
    with spool:
        assert spool.read() == LAST[path]
    assert meta.size == len(LAST[path])


def test_cat_of_a_path_written_twice_reads_the_last_copy_cold_too(
    rsps, service: DockerHubService
) -> None:
    _serve(rsps, [DUPLICATES])
    _meta, spool = service.read_file(IMAGE, "dup")
    with spool:
        assert spool.read() == LAST["dup"]


@pytest.mark.parametrize("cached", [True, False])
def test_extract_of_paths_written_twice_writes_the_last_copies(
    rsps, service: DockerHubService, tmp_path: Path, cached: bool
) -> None:
    _serve(rsps, [DUPLICATES])
    if cached:
        service.files(IMAGE)
    dest = tmp_path / "dest"
    service.extract(IMAGE, ["/"], dest)
    for path, data in LAST.items():
        assert (dest / path).read_bytes() == data, path
        assert not (dest / path).is_symlink()
    assert (dest / "target").read_bytes() == b"target-bytes\n"


# -- a 429 with a Retry-After that is no wait at all ----------------------------------------


@pytest.mark.parametrize("value", ["-5", "nan", "1e400", "soon", "Thu, 99 Foo 2099"])
def test_a_429_with_a_meaningless_retry_after_is_still_rate_limited(
    rsps, service: DockerHubService, value: str
) -> None:
    """RFC 9110: a Retry-After that is neither seconds nor a date is ignored; the answer is
    still a 429 (exit 5), not "request failed: Invalid Retry-After header" (exit 6)."""
    url = f"{REG}/v2/team/app/manifests/1.0"
    rsps.get(url, status=429, json={"errors": [{"code": "TOOMANYREQUESTS"}]},
             headers={"Retry-After": value})  # fmt: skip
    with pytest.raises(RateLimitedError) as err:
        service.inspect(IMAGE)
    assert err.value.retry_after is None or 0 <= err.value.retry_after < 10**7
    assert "retry" in str(err.value) and "inf" not in str(err.value)


@pytest.mark.parametrize(
    "headers",
    [{"X-Retry-After": "1e400"}, {"X-RateLimit-Reset": "inf"}, {"Retry-After": "1e400"}],
)
def test_an_infinite_wait_is_no_wait_and_the_mcp_error_still_prints(
    rsps, service: DockerHubService, headers: dict[str, str]
) -> None:
    url = f"{REG}/v2/team/app/manifests/1.0"
    rsps.get(url, status=429, json={"errors": []}, headers=headers)
    with pytest.raises(RateLimitedError) as err:
        service.inspect(IMAGE)
    wait = err.value.retry_after
    assert wait is None or math.isfinite(wait)
    from dockerhub_cli.mcp.server import tool_error_message

    assert "wait" in tool_error_message(err.value)


# -- a newline in a file name forges no row ---------------------------------------------------

FORGED = "innocent\n-rwsr-xr-x  0:0    1 B      0  etc/shadow"
NEWLINES = layer(
    [
        file("etc/shadow-not", "x"),
        file(FORGED, "forged\n"),
        symlink("link\nto", "/target\nname"),
        file("z\rcarriage", "cr\n"),
    ]
)


def _cli(*args: str):
    from typer.testing import CliRunner

    from dockerhub_cli.cli import app

    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize(
    "args",
    [("files", IMAGE), ("files", IMAGE, "--find", "*"), ("diff", IMAGE, IMAGE_EMPTY)],
    ids=["files", "files-find", "diff"],
)
def test_a_newline_in_a_file_name_is_shown_escaped_and_forges_no_row(rsps, args) -> None:
    _serve(rsps, [NEWLINES])
    _serve_empty(rsps)
    result = _cli(*args)
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()
    assert not any(r.startswith(("-rwsr-xr-x", "to ", "name")) for r in rows), result.stdout
    assert any("innocent\\n-rwsr-xr-x" in r for r in rows), result.stdout
    assert "link\\nto" in result.stdout and "\r" not in result.stdout


def test_a_newline_in_an_extracted_name_is_shown_escaped(rsps, tmp_path: Path) -> None:
    _serve(rsps, [NEWLINES])
    result = _cli("extract", IMAGE, "/", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()
    assert not any(r.startswith(("-rwsr-xr-x", "to ", "name")) for r in rows), result.stdout


def test_a_newline_in_a_config_value_is_shown_escaped_in_inspect(rsps) -> None:
    """Env, labels, working dir, user, ports and volumes are listed one value a line: a newline
    inside one value would read as another value (or a forged `Verified yes` line)."""
    config = compact(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Env": ["PATH=/usr/bin\nDigest       sha256:" + "0" * 64],
                "Labels": {"a": "b\nVerified     yes"},
                "WorkingDir": "/w\nUser root",
                "User": "app\nPorts 22",
                "ExposedPorts": {"80/tcp\nFake 1": {}},
                "Volumes": {"/data\nVolumes /etc": {}},
            },
            "rootfs": {"type": "layers", "diff_ids": []},
        }
    )
    manifest = json.loads(_manifest([]))
    manifest["config"].update(digest=digest(config), size=len(config))
    body = compact(manifest)
    rsps.get(f"{REG}/v2/team/app/manifests/1.0", body=body, content_type=OCI_MANIFEST,
             headers={"Docker-Content-Digest": digest(body)})  # fmt: skip
    rsps.get(f"{REG}/v2/team/app/blobs/{digest(config)}", body=config)
    result = _cli("inspect", IMAGE)
    assert result.exit_code == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    for forged in ("Digest       sha256:" + "0" * 64, "Verified     yes", "User root",
                   "Ports 22", "Fake 1", "Volumes /etc"):  # fmt: skip
        assert forged not in lines, result.stdout
    assert "b\\nVerified     yes" in result.stdout and "/w\\nUser root" in result.stdout


# -- a name with Rich markup in it is shown as it is, in the terminal tables ------------------

MARKUP = layer([file("[bold]x[/]", "1"), file("a[1]", "2"), symlink("lnk", "[red]t[/]")])
MARKUP_LATER = layer([file("[bold]x[/]", "22"), whiteout("[i]gone[/i]")])


def _table(renderer, result) -> str:
    import io

    from rich.console import Console

    from dockerhub_cli.render import display_copy

    out = io.StringIO()
    renderer(display_copy(result), Console(file=out, width=200, color_system=None))
    return out.getvalue()


def test_file_names_with_markup_are_shown_exactly_in_the_tables(
    rsps, service: DockerHubService
) -> None:
    from dockerhub_cli.render import files as render

    _serve(rsps, [MARKUP, MARKUP_LATER])
    _serve_empty(rsps)
    shown = _table(render.files, service.files(IMAGE))
    assert "[bold]x[/]" in shown and "lnk -> [red]t[/]" in shown and "\\[" not in shown, shown
    shown = _table(render.diff, service.diff_files(IMAGE_EMPTY, IMAGE))
    assert "[bold]x[/]" in shown and "\\[" not in shown, shown
    shown = _table(render.waste, service.waste(IMAGE))
    assert "[bold]x[/]" in shown and "\\[" not in shown, shown


# -- interim (1xx) answers before the real one ------------------------------------------------


class _RawServer:
    """A TCP server on 127.0.0.1 that answers every connection with `reply(path)` bytes as they
    are (status lines no HTTP library would write); it stops after `max_seconds` by itself."""

    def __init__(self, reply, *, max_seconds: float = 20.0) -> None:
        import socket
        import threading
        import time

        self._reply = reply
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.host = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self.requests: list[str] = []
        self._until = time.monotonic() + max_seconds
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import time

        while time.monotonic() < self._until:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        piece = conn.recv(65536)
                        if not piece:
                            break
                        data += piece
                    path = data.split(b" ", 2)[1].decode() if data.count(b" ") >= 2 else ""
                    self.requests.append(path)
                    conn.sendall(self._reply(path))
                except OSError:
                    pass
        self._sock.close()

    def __enter__(self) -> _RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._until = 0.0
        self._thread.join(timeout=5)


def _http(status: str, body: bytes = b"", content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body


def _image_reply(interim: bytes):
    manifest = json.loads(_manifest([]))
    body = compact(manifest)

    def reply(path: str) -> bytes:
        if path.endswith("/manifests/1.0"):
            return interim + _http("200 OK", body, OCI_MANIFEST)
        if path.endswith(f"/blobs/{digest(CONFIG)}"):
            return _http("200 OK", CONFIG)
        return _http("404 Not Found", b'{"errors":[{"code":"NOT_FOUND"}]}')

    return reply, digest(body)


@pytest.mark.parametrize(
    "interim",
    [
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
        b"HTTP/1.1 102 Processing\r\n\r\n" * 3 + b"HTTP/1.1 100 Continue\r\n\r\n",
    ],
    ids=["103-early-hints", "102-processing"],
)
def test_interim_1xx_answers_are_skipped_to_the_real_one(interim: bytes) -> None:
    """A CDN in front of a registry may send 103 Early Hints first; http.client skips only 100
    Continue and took the 103 for the answer (no body: 'manifest ... is not valid JSON')."""
    reply, manifest_digest = _image_reply(interim)
    with _RawServer(reply) as srv:
        result = _cli("inspect", f"{srv.host}/team/app:1.0", "--json", "--no-cache")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["digest"] == manifest_digest


def test_an_endless_run_of_1xx_answers_is_a_clean_error() -> None:
    reply, _ = _image_reply(b"HTTP/1.1 103 Early Hints\r\n\r\n" * 5000)
    with _RawServer(reply) as srv:
        result = _cli("inspect", f"{srv.host}/team/app:1.0", "--no-cache")
    assert result.exit_code == 6, result.stderr
    assert "interim" in result.stderr and "Traceback" not in result.stderr


def test_a_1xx_as_the_final_answer_is_not_taken_for_success() -> None:
    reply, _ = _image_reply(b"")

    def switching(path: str) -> bytes:
        if path.endswith("/manifests/1.0"):
            return b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"
        return reply(path)

    with _RawServer(switching) as srv:
        result = _cli("inspect", f"{srv.host}/team/app:1.0", "--no-cache")
    assert result.exit_code == 6, result.stderr
    assert "HTTP 101" in result.stderr and "not valid JSON" not in result.stderr


# -- an HTTP cache another process holds locked -----------------------------------------------


def _mock_image(rsps: responses.RequestsMock) -> str:
    body = _manifest([])
    rsps.get(f"{REG}/v2/team/app/manifests/1.0", body=body, content_type=OCI_MANIFEST,
             headers={"Docker-Content-Digest": digest(body)})  # fmt: skip
    rsps.get(f"{REG}/v2/team/app/blobs/{digest(CONFIG)}", body=CONFIG)
    return digest(body)


def _within(seconds: float, call):
    """`call()` on a daemon thread: its result, or a failure (not a hung suite) after
    `seconds`; the caller then releases what it waits for, and the thread ends."""
    import threading

    out: list = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    if not out:
        pytest.fail(f"no answer after {seconds} s")
    return out[0]


@pytest.mark.parametrize("when", ["before-open", "after-open"])
def test_a_cache_locked_by_another_process_is_waited_for_only_its_busy_timeout(
    rsps, caplog: pytest.LogCaptureFixture, when: str
) -> None:
    """requests-cache retried BEGIN IMMEDIATE forever (each try waiting the busy timeout): a
    `dockerhub` stopped mid-write (Ctrl-Z) left every other one hanging, --no-cache too."""
    import sqlite3

    from dockerhub_cli.config.settings import Settings

    manifest_digest = _mock_image(rsps)
    settings = Settings.from_env(backoff_factor=0.0, cache_busy_timeout_ms=200)
    with DockerHubService(settings) as svc:
        assert svc.session is not None  # the session, built on first use, creates the file
    holder = sqlite3.connect(
        settings.cache_path, timeout=0, isolation_level=None, check_same_thread=False
    )
    try:
        if when == "before-open":
            holder.execute("BEGIN EXCLUSIVE")

        def inspect():
            with DockerHubService(settings) as svc:
                if when == "after-open":
                    holder.execute("BEGIN EXCLUSIVE")
                return svc.inspect(IMAGE)

        result = _within(20, inspect)
    finally:
        holder.close()
    assert result.digest == manifest_digest
    assert "locked" in caplog.text or "not usable" in caplog.text


# -- MCP text content: bidi and C1 controls written as JSON escapes ---------------------------


@pytest.mark.anyio
async def test_mcp_text_content_shows_bidi_and_c1_controls_as_escapes(
    rsps, service: DockerHubService
) -> None:
    from mcp import Client

    from dockerhub_cli.mcp.server import build_server

    tags = ["1.0", "rtl\u202egnp.exe", "c1\u009b31m", "del\x7f"]
    rsps.get(f"{REG}/v2/team/app/tags/list", json={"name": "team/app", "tags": tags})
    async with Client(build_server(service), raise_exceptions=True) as client:  # type: ignore[arg-type]
        result = await client.call_tool(
            "docker_list_tags", {"repository": "registry.example.com/team/app"}
        )
    text = result.content[0].text
    assert "\u202e" not in text and "\u009b" not in text and "\x7f" not in text
    assert "\\u202e" in text and "\\u009b" in text
    names = [t["name"] for t in json.loads(text)["result"]["tags"]]
    assert {"untrusted_publisher_data": "rtl\u202egnp.exe"} in names  # the same data


# -- several challenges in one WWW-Authenticate ------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        'Basic realm="Registry", Bearer realm="https://auth.example.com/token",service="reg"',
        'Bearer realm="https://auth.example.com/token",service="reg", Basic realm="x"',
        'Basic realm="a, Bearer realm=\\"https://evil/\\"", Bearer realm="https://auth.example.com/token",service="reg"',
    ],
)
def test_of_several_challenges_the_bearer_one_is_taken(header: str) -> None:
    from dockerhub_cli.remote.auth import parse_challenge

    challenge = parse_challenge(header)
    assert challenge is not None
    assert (challenge.scheme, challenge.realm, challenge.params.get("service")) == (
        "bearer",
        "https://auth.example.com/token",
        "reg",
    )


@pytest.mark.parametrize(
    ("header", "scheme", "realm"),
    [
        ('Bearer realm="https://a/t",service="s"', "bearer", "https://a/t"),
        ('Basic realm="Registry Realm"', "basic", "Registry Realm"),
        (
            'Bearer realm="https://a/t?x=Basic basic",scope="r"',
            "bearer",
            "https://a/t?x=Basic basic",
        ),
    ],
)
def test_a_single_challenge_parses_as_before(header: str, scheme: str, realm: str) -> None:
    from dockerhub_cli.remote.auth import parse_challenge

    challenge = parse_challenge(header)
    assert challenge is not None and (challenge.scheme, challenge.realm) == (scheme, realm)
