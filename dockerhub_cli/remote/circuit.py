"""A per-host circuit breaker, for the long-lived `serve-mcp` process.

After `threshold` consecutive failed sends to a host (connection errors, timeouts, 5xx after the
retries), the circuit *opens*: for `cooldown` seconds every request to that host fails at once
with a clear NetworkError instead of hammering it (and making an assistant wait for timeouts).
Then it is *half-open*: one probe request goes through; success closes the circuit, failure
opens it for another cool-down. Cache hits never reach the breaker (it sits in the adapter).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dockerhub_cli.errors import NetworkError

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitOpenError(NetworkError):
    """The host failed repeatedly; requests to it are refused until the cool-down ends."""

    def __init__(self, host: str, retry_in: float, failures: int) -> None:
        super().__init__(
            f"circuit open for host {host} after {failures} consecutive failures, "
            f"retrying in {max(retry_in, 0):.0f} s",
            hint="the host is down or unreachable; requests resume automatically",
        )
        self.host = host
        self.retry_in = retry_in


@dataclass
class _HostCircuit:
    state: str = CLOSED
    failures: int = 0
    opened_at: float = 0.0
    probe_in_flight: bool = False
    total_failures: int = 0
    times_opened: int = 0
    last_error: str = ""


class CircuitBreaker:
    def __init__(
        self,
        threshold: int = 5,
        cooldown: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = max(1, threshold)
        self.cooldown = max(0.0, cooldown)
        self._clock = clock
        self._lock = threading.Lock()
        self._hosts: dict[str, _HostCircuit] = {}

    def _get(self, host: str) -> _HostCircuit:
        circuit = self._hosts.get(host)
        if circuit is None:
            circuit = self._hosts[host] = _HostCircuit()
        return circuit

    def before_request(self, host: str) -> None:
        """Raise CircuitOpenError when `host` must not be contacted now."""
        with self._lock:
            circuit = self._get(host)
            if circuit.state == CLOSED:
                return
            remaining = circuit.opened_at + self.cooldown - self._clock()
            if circuit.state == OPEN and remaining <= 0:
                circuit.state = HALF_OPEN
                circuit.probe_in_flight = False
            if circuit.state == HALF_OPEN and not circuit.probe_in_flight:
                circuit.probe_in_flight = True  # this request is the probe
                return
            raise CircuitOpenError(host, max(remaining, 0.0), circuit.failures)

    def record_success(self, host: str) -> None:
        with self._lock:
            circuit = self._get(host)
            circuit.state = CLOSED
            circuit.failures = 0
            circuit.probe_in_flight = False

    def release(self, host: str) -> None:
        """The request ended without telling us anything about the host's health."""
        with self._lock:
            self._get(host).probe_in_flight = False

    def record_failure(self, host: str, reason: str = "") -> None:
        with self._lock:
            circuit = self._get(host)
            circuit.failures += 1
            circuit.total_failures += 1
            circuit.last_error = reason[:200]
            circuit.probe_in_flight = False
            if circuit.state == HALF_OPEN or circuit.failures >= self.threshold:
                if circuit.state != OPEN:
                    circuit.times_opened += 1
                circuit.state = OPEN
                circuit.opened_at = self._clock()

    def snapshot(self) -> dict[str, dict[str, object]]:
        """Per-host state for the health report."""
        now = self._clock()
        with self._lock:
            out: dict[str, dict[str, object]] = {}
            for host, c in self._hosts.items():
                state = c.state
                retry_in = 0.0
                if state == OPEN:
                    retry_in = max(0.0, c.opened_at + self.cooldown - now)
                    if retry_in == 0.0:
                        state = HALF_OPEN
                out[host] = {
                    "state": state,
                    "consecutive_failures": c.failures,
                    "total_failures": c.total_failures,
                    "times_opened": c.times_opened,
                    "retry_in_seconds": round(retry_in, 1),
                    "last_error": c.last_error,
                }
            return out
