"""The header-deadline watchdog (remote/transport.py): one thread that shuts a connection down
when its request's deadline passes while the status line and headers are still dripping in. It
wakes at the nearest deadline, and at the deadline itself, not a grace second later. Injected
clocks only: nothing here waits for a deadline on the wall clock."""

from __future__ import annotations

from typing import Any

from dockerhub_cli.config.settings import Settings
from dockerhub_cli.remote import http_stack
from dockerhub_cli.service import DockerHubService
from tests.support.hostile import HostileServer, answer


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_next_wake_is_the_nearest_live_deadline() -> None:
    clock = FakeClock()
    dog = http_stack._Watchdog(clock=clock)
    with dog._cond:  # the thread cannot look while the test does
        dog.watch(30, "slow")
        assert dog._due() == ([], 30)
        near = dog.watch(2, "near")  # sooner than what the thread sleeps for
        dog.watch(5, "middle")
        assert dog._due() == ([], 2)
        near[3] = None  # its answer came in time: cancelled
        assert dog._due() == ([], 5)  # the cancelled entry does not hold the thread up
        clock.now += 5
        assert dog._due() == (["middle"], 25)  # at its deadline exactly, not a second later
        clock.now += 25
        assert dog._due() == (["slow"], None)
        dog.watch(-3, "already overdue")
        assert dog._due() == (["already overdue"], None)


def test_a_request_is_watched_until_its_deadline_without_a_grace(monkeypatch) -> None:
    """What the connection asks the watchdog for while it waits for headers: the time left of
    the request's budget (DOCKERHUB_TIMEOUT on a frozen clock), where it used to add the body's
    1 s grace: a server dripping its headers was cut off a second late."""
    watched: list[float] = []
    real = http_stack._WATCHDOG

    class Recording:
        def watch(self, delay: float, connection: Any) -> list[Any]:
            watched.append(delay)
            return real.watch(delay, connection)

    monkeypatch.setattr(http_stack, "_WATCHDOG", Recording())
    with HostileServer() as srv:
        srv.route("/v2/", answer({}, status=200))
        settings = Settings.from_env(timeout=7.0)
        with DockerHubService(settings) as svc:
            svc.transport.clock = FakeClock()
            response = svc.transport.request(
                "GET", f"http://{srv.host}/v2/", cacheable=False, what="a probe"
            )
    assert response.status_code == 200
    assert watched == [7.0]
