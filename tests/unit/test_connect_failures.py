"""What is retried when a connection cannot be made (issue 18 item 2).

A host name that does not resolve fails at once; a refused connection is tried once more, at
once; every other failure keeps the ordinary retry policy. Name resolution runs inside the
request's wall-clock deadline. The resolver is injected (`http_stack.getaddrinfo`), so nothing
here leaves the machine, and attempts are counted, never timed.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner
from urllib3.exceptions import (
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.retry import RequestHistory

from dockerhub_cli.cli import app
from dockerhub_cli.config.settings import Settings
from dockerhub_cli.errors import NetworkError
from dockerhub_cli.remote import http_stack, transport
from dockerhub_cli.service import DockerHubService
from tests.support.faults import Fault, FaultServer, free_port

TAGS = "/v2/app/tags/list"


def _refused() -> NewConnectionError:
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError as exc:
        error = NewConnectionError(None, "Failed to establish a new connection: refused")  # type: ignore[arg-type]
        error.__cause__ = exc
        return error


def _unresolved() -> NameResolutionError:
    return NameResolutionError(
        "nowhere.invalid", None, socket.gaierror(-2, "Name or service not known")
    )  # type: ignore[arg-type]


def _history(*errors: Exception) -> tuple[RequestHistory, ...]:
    return tuple(RequestHistory("GET", "/v2/", e, None, None) for e in errors)


# -- the policy, error by error --------------------------------------------------------------


def test_kinds_of_connect_failure() -> None:
    assert transport.connect_failure(_unresolved()) == "dns"
    assert transport.connect_failure(_refused()) == "refused"
    assert transport.connect_failure(ReadTimeoutError(None, "/", "read timed out")) is None  # type: ignore[arg-type]
    assert transport.connect_failure(ProtocolError("reset")) is None
    assert transport.connect_failure(None) is None


def test_a_name_that_does_not_resolve_is_never_retried() -> None:
    assert transport.retry_connect_failure(_unresolved(), ()) is False


def test_a_refused_connection_is_retried_once() -> None:
    assert transport.retry_connect_failure(_refused(), ()) is True
    assert transport.retry_connect_failure(_refused(), _history(_refused())) is False
    # Refusals are counted, not other errors before them.
    timeout = ReadTimeoutError(None, "/", "read timed out")  # type: ignore[arg-type]
    assert transport.retry_connect_failure(_refused(), _history(timeout, timeout)) is True


def test_other_errors_keep_the_ordinary_budget() -> None:
    timeout = ReadTimeoutError(None, "/", "read timed out")  # type: ignore[arg-type]
    assert transport.retry_connect_failure(timeout, _history(timeout, timeout)) is True
    retry = http_stack.build_retry(Settings.from_env(retries=3))
    retry = retry.increment("GET", "/v2/", error=timeout)
    retry = retry.increment("GET", "/v2/", error=timeout)
    assert retry.total == 1  # two timeouts spent two of three retries; none refused early


def test_the_retry_object_stops_at_once_for_dns_and_after_one_refusal() -> None:
    retry = http_stack.build_retry(Settings.from_env(retries=5))
    with pytest.raises(MaxRetryError):
        retry.increment("GET", "/v2/", error=_unresolved())
    again = retry.increment("GET", "/v2/", error=_refused())
    assert again.get_backoff_time() == 0  # "quickly": no backoff before the one retry
    with pytest.raises(MaxRetryError):
        again.increment("GET", "/v2/", error=_refused())


# -- through the real transport --------------------------------------------------------------


class Resolver:
    """A stand-in for `socket.getaddrinfo`: counts calls; fails, blocks, or resolves."""

    def __init__(self, mode: str = "fail") -> None:
        self.mode = mode
        self.calls: list[str] = []
        self.release = threading.Event()

    def __call__(self, host: str, port: Any, *args: Any) -> list[Any]:
        self.calls.append(host)
        if self.mode == "fail":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if self.mode == "block":
            self.release.wait(5)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return socket.getaddrinfo("127.0.0.1", port, *args)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Resolver]:
    fake = Resolver()
    monkeypatch.setattr(http_stack, "getaddrinfo", fake)
    yield fake
    fake.release.set()


def _settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "retries": 3,
        "backoff_factor": 0.01,
        "timeout": 5.0,
        "connect_timeout": 2.0,
        "no_cache": True,
        "hub_url": "http://hub.example.invalid",
    }
    return Settings.from_env(**{**base, **overrides})


def test_dns_failure_is_one_attempt_and_a_clear_error(resolver: Resolver) -> None:
    with DockerHubService(_settings()) as svc, pytest.raises(NetworkError) as caught:
        svc.tags("nginx")
    assert resolver.calls == ["hub.example.invalid"]  # no retries
    assert caught.value.message == "cannot connect to hub.example.invalid: host name not found"
    assert "offline" in (caught.value.hint or "")


def test_a_temporary_dns_failure_is_not_retried_either(resolver: Resolver) -> None:
    resolver.mode = "block"
    resolver.release.set()  # answers at once with EAI_AGAIN (no DNS server reachable)
    with DockerHubService(_settings()) as svc, pytest.raises(NetworkError, match="not found"):
        svc.tags("nginx")
    assert len(resolver.calls) == 1


def test_name_resolution_counts_inside_the_deadline(resolver: Resolver) -> None:
    resolver.mode = "block"  # a resolver that gets no answer: returns only when released
    with (
        DockerHubService(_settings(timeout=0.2, retries=3)) as svc,
        pytest.raises(NetworkError) as caught,
    ):
        svc.tags("nginx")
    # The request gave up while the resolver was still waiting (it has not been released).
    assert not resolver.release.is_set()
    assert len(resolver.calls) == 1
    assert caught.value.message == (
        "cannot connect to hub.example.invalid: its name did not resolve within 0.2 s"
    )


def test_a_resolved_name_connects_to_its_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Resolver("resolve")  # any name -> 127.0.0.1
    monkeypatch.setattr(http_stack, "getaddrinfo", fake)
    with FaultServer(max_seconds=10) as srv:
        srv.script(TAGS, Fault.json({"name": "app", "tags": ["1.0"]}))
        port = srv.url.rsplit(":", 1)[1]
        with DockerHubService(_settings()) as svc:  # localhost: plain HTTP
            tags = svc.tags(f"localhost:{port}/app")
    assert [t.name for t in tags.tags] == ["1.0"]
    assert fake.calls == ["localhost"]  # resolved once, by the deadline-bound resolver


def test_a_refused_connection_is_tried_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    from urllib3.util import connection

    attempts: list[tuple[str, int]] = []
    real = connection.create_connection

    def counting(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(connection, "create_connection", counting)
    port = free_port()
    with (
        DockerHubService(_settings(retries=5)) as svc,
        pytest.raises(NetworkError) as caught,
    ):
        svc.tags(f"127.0.0.1:{port}/app")
    assert attempts == [("127.0.0.1", port)] * 2
    assert caught.value.message == f"cannot connect to 127.0.0.1:{port}: connection refused"
    assert f"nothing listens on 127.0.0.1:{port}" in (caught.value.hint or "")


def test_the_cli_says_it_in_one_line_with_exit_6(resolver: Resolver) -> None:
    result = CliRunner().invoke(
        app, ["tags", "nginx"], env={"DOCKERHUB_HUB_URL": "http://hub.example.invalid"}
    )
    assert result.exit_code == 6
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: cannot connect to hub.example.invalid: host name not found (check the host "
        "name and the network; without a network, --offline answers from the cache)"
    ]
    assert len(resolver.calls) == 1
