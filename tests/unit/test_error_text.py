"""What a registry's broken answers look like in our errors: a garbage status line is quoted
by a short visible prefix; a plain-text error body is decoded as its declared charset (else
UTF-8), made visible and capped."""

from __future__ import annotations

import pytest
import requests
import responses
from typer.testing import CliRunner

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import NetworkError, UpstreamError
from dockerhub_cli.remote.transport import STATUS_LINE_SHOWN, body_text, error_message
from dockerhub_cli.service import DockerHubService
from tests.unit.test_hostile_second_look import _RawServer

GARBAGE = b"\x1b[31mSSH-2.0-OpenSSH_9.6 " + b"A" * 300 + b"\r\n\r\n"


def _settings() -> Settings:
    return Settings.from_env(retries=0, backoff_factor=0.0)


def test_garbage_status_line_is_a_short_visible_prefix() -> None:
    with (
        _RawServer(lambda path: GARBAGE, max_seconds=10) as srv,
        DockerHubService(_settings()) as svc,
        pytest.raises(NetworkError) as caught,
    ):
        svc.tags(f"{srv.host}/app")
    message = caught.value.message
    assert message.startswith(f"{srv.host} did not answer with an HTTP status line")
    quoted = message.split("it sent ", 1)[1]
    assert quoted.startswith("'\\x1b[31mSSH-2.0-OpenSSH_9.6 AAA") and quoted.endswith("…'")
    assert len(quoted) == STATUS_LINE_SHOWN + 3  # the quotes and the ellipsis
    assert "\x1b" not in message and "BadStatusLine" not in message


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        (b"HTTP/1.1 abc OK\r\n\r\n", "'HTTP/1.1 abc OK'"),  # not a number: also a bad line
        (b"\x16\x03\x01\x02\r\n\r\n", "'\\x16\\x03\\x01\\x02'"),  # TLS where HTTP was spoken
    ],
)
def test_short_garbage_is_quoted_whole(reply: bytes, shown: str) -> None:
    with (
        _RawServer(lambda path: reply, max_seconds=10) as srv,
        DockerHubService(_settings()) as svc,
        pytest.raises(NetworkError, match="did not answer with an HTTP status line") as caught,
    ):
        svc.tags(f"{srv.host}/app")
    assert caught.value.message.endswith(f"it sent {shown}")


def test_cli_garbage_status_line_is_one_short_line() -> None:
    with _RawServer(lambda path: GARBAGE, max_seconds=10) as srv:
        result = CliRunner().invoke(
            app, ["tags", f"{srv.host}/app", "--no-cache"], env={"DOCKERHUB_RETRIES": "0"}
        )
    assert result.exit_code == 6, result.output
    error = next(line for line in result.stderr.splitlines() if "status line" in line)
    quoted = error.split("it sent ", 1)[1].split("' ", 1)[0]
    assert quoted.endswith("…") and len(quoted) == STATUS_LINE_SHOWN + 2
    assert "\x1b" not in result.stderr and len(error) < 250


def _response(body: bytes, content_type: str) -> requests.Response:
    r = requests.Response()
    r.status_code = 500
    r._content = body
    r.headers["Content-Type"] = content_type
    r.url = "https://registry.example.com/v2/"
    return r


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("Dienst überlastet ✓".encode(), "text/plain", "Dienst überlastet ✓"),  # UTF-8, no charset
        (
            "Dienst überlastet".encode("latin-1"),
            "text/plain; charset=ISO-8859-1",
            "Dienst überlastet",
        ),
        ("サービス停止".encode("utf-16"), 'text/plain; charset="utf-16"', "サービス停止"),
        (b"caf\xe9 ferm\xe9", "text/plain", "caf\ufffd ferm\ufffd"),  # not UTF-8: replaced
        ("naïve".encode(), "text/plain; charset=no-such-codec", "naïve"),  # unknown: UTF-8
        ("naïve".encode(), "text/plain; charset=rot13", "naïve"),  # not a text encoding
        (b"bad\x1b]8;;x\x07 line\nnext", "text/plain", "bad\\x1b]8;;x\\x07 line next"),
    ],
)
def test_plain_error_bodies(body: bytes, content_type: str, expected: str) -> None:
    assert error_message(_response(body, content_type)) == expected


def test_a_long_plain_error_body_is_capped() -> None:
    text = error_message(_response("é".encode() * 5000, "text/plain"))
    assert text == "é" * 199 + "…"
    assert body_text(_response(b"x" * 10_000, "text/plain"), 10) == "x" * 40


def test_service_error_quotes_the_decoded_body(rsps: responses.RequestsMock) -> None:
    rsps.get(
        "https://registry.example.com/v2/team/app/tags/list",
        status=503,
        body="Wartung läuft – bitte später".encode(),
        content_type="text/plain",
    )
    with DockerHubService(_settings()) as svc, pytest.raises(UpstreamError) as caught:
        svc.tags("registry.example.com/team/app")
    assert "Wartung läuft – bitte später" in caught.value.message


@pytest.mark.anyio
async def test_mcp_garbage_status_line_error() -> None:
    from mcp import Client

    from dockerhub_cli.mcp.server import build_server

    with (
        _RawServer(lambda path: GARBAGE, max_seconds=10) as srv,
        DockerHubService(_settings()) as svc,
    ):
        async with Client(build_server(svc)) as client:
            result = await client.call_tool("docker_list_tags", {"repository": f"{srv.host}/app"})
    assert result.is_error is True
    text = result.content[0].text  # type: ignore[union-attr]
    assert "did not answer with an HTTP status line" in text and "…'" in text
    assert "A" * (STATUS_LINE_SHOWN + 1) not in text and "\x1b" not in text
