"""What a registry's broken answers look like in our errors: a plain-text error body is
decoded as its declared charset (else UTF-8), made visible and capped."""

from __future__ import annotations

import pytest
import requests
import responses

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import UpstreamError
from dockerhub_cli.remote.transport import body_text, error_message
from dockerhub_cli.service import DockerHubService


def _settings() -> Settings:
    return Settings.from_env(retries=0, backoff_factor=0.0)


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
