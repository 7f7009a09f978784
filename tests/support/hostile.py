"""A deliberately hostile HTTP server on 127.0.0.1 for the trust tests (issue 12).

    with HostileServer() as srv:
        srv.route("/v2/team/app/manifests/1.0", drip(b"{...}", interval=0.2))
        ... point the tool at srv.host ...
        assert srv.hits("/v2/team/app/manifests/1.0") == 1

A route is a path (exact, or a prefix ending in `*`) and a behaviour: a function that gets the
request handler and answers however it likes. Ready-made behaviours below: `answer` (a plain
reply), `drip` (headers, then one byte per `interval`), `endless` (a chunked body that never
ends), `redirect`, `bearer_challenge` (401 until an Authorization header comes), `token`
(a token server reply of any size), `drip_headers` (even the headers a byte at a time),
`linked` (a reply with a `Link: rel=next` header).

Bounded: at most `max_requests` requests are answered (then 599), every body a behaviour sends
stops after `max_seconds`, and the server shuts itself down after `max_seconds` even if a test
forgets to. Every request's path and headers are recorded (`seen`) for assertions such as
"nothing was sent to that host".
"""

from __future__ import annotations

import json as jsonlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Behaviour = Callable[["_Handler"], None]


@dataclass
class Seen:
    method: str
    path: str  # with the query
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    hostile: HostileServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _any(self) -> None:
        srv = self.server.hostile
        if not srv.admit(self):
            self.send_response(599)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        behaviour = srv.behaviour_for(self.path.split("?", 1)[0])
        if behaviour is None:
            answer({"errors": [{"code": "NOT_FOUND", "message": "no such route"}]}, 404)(self)
            return
        try:
            behaviour(self)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    do_GET = do_HEAD = do_POST = _any

    @property
    def stopping(self) -> bool:
        return self.server.hostile.expired()


class HostileServer:
    """The server; `host` is `127.0.0.1:<port>` (or `localhost:<port>` with `name="localhost"`,
    which the client sees as another host than 127.0.0.1)."""

    def __init__(
        self, *, name: str = "127.0.0.1", max_requests: int = 200, max_seconds: float = 30.0
    ) -> None:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.hostile = self
        self.port = int(self._httpd.server_address[1])
        self.host = f"{name}:{self.port}"
        self.url = f"http://{self.host}"
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.seen: list[Seen] = []
        self._routes: list[tuple[str, Behaviour]] = []
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._timer = threading.Timer(max_seconds, self.stop)
        self._timer.daemon = True

    def __enter__(self) -> HostileServer:
        self._thread.start()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._timer.cancel()
        self._started = -1e9  # every running behaviour stops at its next step
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def expired(self) -> bool:
        return time.monotonic() - self._started > self.max_seconds

    def route(self, path: str, behaviour: Behaviour) -> None:
        with self._lock:
            self._routes.insert(0, (path, behaviour))  # the latest route for a path wins

    def behaviour_for(self, path: str) -> Behaviour | None:
        with self._lock:
            for pattern, behaviour in self._routes:
                if pattern == path or (pattern.endswith("*") and path.startswith(pattern[:-1])):
                    return behaviour
        return None

    def admit(self, handler: _Handler) -> bool:
        with self._lock:
            self.seen.append(Seen(handler.command, handler.path, dict(handler.headers.items())))
            return len(self.seen) <= self.max_requests

    def hits(self, path: str) -> int:
        return sum(1 for s in self.seen if s.path.split("?", 1)[0] == path)


# -- behaviours ------------------------------------------------------------------------------


def _body_of(data: Any) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    return jsonlib.dumps(data).encode()


def answer(
    data: Any, status: int = 200, content_type: str = "application/json", **headers: str
) -> Behaviour:
    """A plain reply: `data` (bytes, text, or anything JSON) with a Content-Length."""
    body = _body_of(data)

    def run(h: _Handler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            h.send_header(name.replace("_", "-"), value)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    return run


def drip(data: Any, *, interval: float = 1.0, content_type: str = "application/json") -> Behaviour:
    """Headers at once (with the full Content-Length), then the body one byte per `interval`."""
    body = _body_of(data)

    def run(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.flush()
        if h.command == "HEAD":
            return
        for i in range(len(body)):
            if h.stopping:
                break
            h.wfile.write(body[i : i + 1])
            h.wfile.flush()
            time.sleep(interval)
        h.close_connection = True

    return run


def drip_headers(*, interval: float = 0.2) -> Behaviour:
    """The status line and headers themselves one byte per `interval` (never any body)."""
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(
        b"X-Padding-%d: %s\r\n" % (i, b"x" * 50) for i in range(90)
    )

    def run(h: _Handler) -> None:
        for i in range(len(head)):
            if h.stopping:
                break
            h.wfile.write(head[i : i + 1])
            h.wfile.flush()
            time.sleep(interval)
        h.close_connection = True

    return run


def endless(
    *, chunk: int = 64 * 1024, limit: int = 3 * 1024**3, content_type: str = "application/json"
) -> Behaviour:
    """A chunked body with no length that goes on (up to `limit` bytes, or the server's time)."""
    piece = b"[" * chunk

    def run(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        sent = 0
        while sent < limit and not h.stopping:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
        h.wfile.write(b"0\r\n\r\n")
        h.close_connection = True

    return run


def redirect(location: str, status: int = 307) -> Behaviour:
    def run(h: _Handler) -> None:
        h.send_response(status)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return run


def bearer_challenge(realm: str, then: Behaviour, service: str = "hostile") -> Behaviour:
    """401 with a Bearer challenge naming `realm` until a request carries Authorization."""

    def run(h: _Handler) -> None:
        if h.headers.get("Authorization", "").startswith("Bearer "):
            then(h)
            return
        body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
        h.send_response(401)
        h.send_header("WWW-Authenticate", f'Bearer realm="{realm}",service="{service}"')
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    return run


def token(value: str, **extra: Any) -> Behaviour:
    """A token server reply carrying `value` (make it huge to test the caps)."""
    return answer({"token": value, "expires_in": 300, **extra})


def linked(data: Any, next_url: str) -> Behaviour:
    """A JSON reply with `Link: <next_url>; rel="next"`."""
    return answer(data, Link=f'<{next_url}>; rel="next"')


def deep_json(depth: int, *, inner: str = "1") -> bytes:
    """`[[[...1...]]]` nested `depth` deep."""
    return b"[" * depth + inner.encode() + b"]" * depth
