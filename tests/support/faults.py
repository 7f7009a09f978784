"""A fault-injecting HTTP server on 127.0.0.1 for tests, scripted per request.

    with FaultServer() as srv:
        path = "/v2/search/repositories/"
        srv.script(path, Fault.status(503), Fault.status(503), Fault.json({...}))
        ... point DOCKERHUB_HUB_URL at srv.url ...
        assert srv.hits(path) == 3

Each path has a queue of steps; a request takes the next one, and the last step repeats. A
step may delay, answer (status, headers, body), close the connection without answering, send
part of the body and then reset the connection (RST), or promise more bytes than it sends
(truncated Content-Length). Bounded: at most `max_requests` answered requests (then 599) and
the server shuts itself down after `max_seconds`.
"""

from __future__ import annotations

import json as jsonlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # "respond" | "close" (no answer at all) | "reset" (RST after part of the body)
    # | "truncate" (Content-Length larger than the body, then a clean close)
    action: str = "respond"

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Fault:
        return cls(
            status, jsonlib.dumps(data).encode(), {"Content-Type": "application/json", **headers}
        )

    @classmethod
    def status_only(cls, status: int, **headers: str) -> Fault:
        return cls.json({"message": f"injected {status}"}, status, **headers)

    @classmethod
    def text(cls, text: str, status: int = 200) -> Fault:
        return cls(status, text.encode(), {"Content-Type": "text/html"})

    @classmethod
    def close(cls) -> Fault:
        return cls(action="close")

    @classmethod
    def reset(cls, data: Any) -> Fault:
        return cls(
            200, jsonlib.dumps(data).encode(), {"Content-Type": "application/json"}, action="reset"
        )

    @classmethod
    def truncated(cls, data: Any) -> Fault:
        return cls(
            200,
            jsonlib.dumps(data).encode(),
            {"Content-Type": "application/json"},
            action="truncate",
        )

    @classmethod
    def slow(cls, seconds: float, data: Any = None) -> Fault:
        return cls(
            200,
            jsonlib.dumps(data or {}).encode(),
            {"Content-Type": "application/json"},
            delay=seconds,
        )


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class FaultServer:
    def __init__(self, *, max_requests: int = 200, max_seconds: float = 30.0) -> None:
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self._scripts: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self.seen: list[Seen] = []
        self.default = Fault.status_only(404)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self.port = 0
        self._connections: set[socket.socket] = set()

    # -- scripting ------------------------------------------------------------------------

    def script(self, path: str, *steps: Fault) -> None:
        """Steps for requests whose path (without query) is `path`; the last one repeats."""
        with self._lock:
            self._scripts[path] = list(steps)

    def hits(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for s in self.seen if path is None or s.path.split("?")[0] == path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _next(self, path: str) -> Fault:
        with self._lock:
            steps = self._scripts.get(path.split("?")[0])
            if not steps:
                return self.default
            return steps.pop(0) if len(steps) > 1 else steps[0]

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, port: int = 0) -> FaultServer:
        if self._server is not None:
            return self
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                with owner._lock:
                    owner._connections.add(self.connection)

            def finish(self) -> None:
                with owner._lock:
                    owner._connections.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with owner._lock:
                    owner.seen.append(Seen(self.command, self.path, dict(self.headers)))
                    over = len(owner.seen) > owner.max_requests
                step = Fault.status_only(599) if over else owner._next(self.path)
                if step.delay:
                    time.sleep(step.delay)
                if step.action == "close":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(step.status)
                for k, v in step.headers.items():
                    self.send_header(k, v)
                body = step.body
                if step.action in ("reset", "truncate"):
                    self.send_header("Content-Length", str(len(body) + 1000))
                    self.end_headers()
                    self.wfile.write(body[: max(1, len(body) // 2)])
                    self.wfile.flush()
                    if step.action == "reset":
                        self.connection.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_POST = _handle  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._timer = threading.Timer(self.max_seconds, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._lock:  # kept-alive connections die with the server, as in real life
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._timer is not None and threading.current_thread() is not self._timer:
            self._timer.cancel()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
