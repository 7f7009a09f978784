"""Loopback servers for the benchmark: a Hub stand-in and a delaying TCP proxy.

Both listen on 127.0.0.1 only, on a port the OS picks, in daemon threads; `close()` stops them
(and the benchmark always calls it). Nothing here is a test fixture: the replies are shaped
like Docker Hub's (field names and paging of the real API) so that `dockerhub` and the MCP
peers can be pointed at the same server and timed side by side.
"""

from __future__ import annotations

import bisect
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Repositories in this namespace are "not on Docker Hub": every Hub API URL under it is a 404,
# as for an image that only lives on another registry.
MISSING_NAMESPACE = "elsewhere"


class HubStandIn:
    """Docker Hub's API and a paging registry `tags/list`, on loopback.

    - `/v2/<repo>/tags/list` for `big/t<N>`: N tags, paged with `n`/`last` and `Link` (Docker
      Hub's registry and distribution 3 page this way);
    - `/v2/namespaces/<ns>/repositories/<name>[/tags[/<tag>]]` (what `dockerhub` and
      docker/hub-mcp read) and `/v2/repositories/<ns>/<name>/[tags/]` (what the seed reads),
      paged with `page`/`page_size` and `next`; `<name>` `t<N>` has N tags, any other 30;
    - namespace `elsewhere`: 404 everywhere (a repository that is not on Hub).

    `generation` is part of every tag's digest: bump it to "re-push" every tag.
    """

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.generation = 0
        self._lock = threading.Lock()
        self._names: dict[int, list[str]] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body in one segment, no Nagle: otherwise every keep-alive request
            # waits for a delayed ACK (40 ms) and the server, not the client, is measured.
            disable_nagle_algorithm = True
            wbufsize = 1 << 16

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                outer.handle(self)

            do_HEAD = do_GET  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def names(self, n: int) -> list[str]:
        if n not in self._names:
            self._names[n] = sorted(f"{i // 1000}.{i % 1000}.{i % 7}" for i in range(n))
        return self._names[n]

    @staticmethod
    def size_of(name: str) -> int:
        return int(name[1:]) if name[:1] == "t" and name[1:].isdigit() else 30

    def _tag(self, i: int, name: str) -> dict[str, Any]:
        digest = "sha256:" + f"{self.generation:08x}{i:056x}"
        return {
            "creator": 1,
            "id": i + 1,
            "last_updater": 1,
            "repository": 1,
            "v2": True,
            "name": name,
            "digest": digest,
            "full_size": 1000 + i,
            "last_updated": "2024-05-01T12:00:00.000000Z",
            "last_updater_username": "bench",
            "tag_last_pushed": "2024-05-01T12:00:00.000000Z",
            "tag_last_pulled": "2024-06-01T12:00:00.000000Z",
            "images": [
                {
                    "architecture": "amd64",
                    "features": "",
                    "variant": None,
                    "digest": digest,
                    "os": "linux",
                    "os_features": "",
                    "os_version": None,
                    "size": 1000 + i,
                    "status": "active",
                    "last_pulled": "2024-06-01T12:00:00.000000Z",
                    "last_pushed": "2024-05-01T12:00:00.000000Z",
                }
            ],
            "tag_status": "active",
            "media_type": "application/vnd.oci.image.index.v1+json",
            "content_type": "image",
        }

    def _repo(self, ns: str, name: str) -> dict[str, Any]:
        return {
            "user": ns,
            "name": name,
            "namespace": ns,
            "repository_type": "image",
            "status": 1,
            "status_description": "active",
            "description": f"{ns}/{name} for the benchmark",
            "is_private": False,
            "is_automated": False,
            "star_count": 7,
            "pull_count": 123456,
            "last_updated": "2024-05-01T12:00:00.000000Z",
            "last_modified": "2024-05-01T12:00:00.000000Z",
            "date_registered": "2020-01-01T00:00:00.000000Z",
            "collaborator_count": 0,
            "affiliation": None,
            "hub_user": ns,
            "has_starred": False,
            "full_description": "# benchmark\n",
            "permissions": {"read": True, "write": False, "admin": False},
            "media_types": ["application/vnd.oci.image.index.v1+json"],
            "content_types": ["image"],
            "categories": [],
            "storage_size": 123456,
        }

    def _page(self, path: str, q: dict[str, str], ns: str, name: str) -> dict[str, Any]:
        names = self.names(self.size_of(name))
        page_no = max(1, int(q.get("page", "1") or 1))
        page_size = max(1, min(100, int(q.get("page_size", "10") or 10)))
        start = (page_no - 1) * page_size
        chunk = names[start : start + page_size]
        more = start + page_size < len(names)
        return {
            "count": len(names),
            "next": f"{self.url}{path}?page={page_no + 1}&page_size={page_size}" if more else None,
            "previous": None,
            "results": [self._tag(i, t) for i, t in enumerate(chunk, start=start)],
        }

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        segs = [s for s in path.split("/") if s]
        with self._lock:
            key = (
                "registry"
                if path.endswith("/tags/list")
                else "hub tags"
                if "tags" in segs
                else "hub"
                if path.startswith("/v2/")
                else path
            )
            self.hits[key] = self.hits.get(key, 0) + 1
        body: Any = None
        headers: dict[str, str] = {}
        if path in ("/v2/", "/v2"):
            body = {}
        elif path.endswith("/tags/list") and path.startswith("/v2/big/t"):
            size = self.size_of(segs[2])
            names = self.names(size)
            n = int(q.get("n", "100") or 100)
            start = bisect.bisect_right(names, q["last"]) if "last" in q else 0
            page = names[start : start + n]
            body = {"name": f"big/t{size}", "tags": page}
            if start + n < len(names):
                headers["Link"] = f'<{path}?n={n}&last={page[-1]}>; rel="next"'
        elif len(segs) >= 5 and segs[:2] == ["v2", "namespaces"] and segs[3] == "repositories":
            ns, name, rest = segs[2], segs[4], segs[5:]
            if ns != MISSING_NAMESPACE:
                if not rest:
                    body = self._repo(ns, name)
                elif rest == ["tags"]:
                    body = self._page(path, q, ns, name)
                elif len(rest) == 2 and rest[0] == "tags":
                    names = self.names(self.size_of(name))
                    if rest[1] in names:
                        body = self._tag(names.index(rest[1]), rest[1])
                    elif rest[1] == "latest" or rest[1][:1].isdigit():
                        body = self._tag(0, rest[1])
        elif len(segs) >= 4 and segs[:2] == ["v2", "repositories"]:
            ns, name, rest = segs[2], segs[3], segs[4:]
            if ns != MISSING_NAMESPACE:
                if not rest:
                    body = self._repo(ns, name)
                elif rest == ["tags"]:
                    body = self._page(path, q, ns, name)
        if body is None:
            data = b'{"message":"object not found","errinfo":{}}'
            h.send_response(404)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(data)
            return
        data = json.dumps(body).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)

    def take(self) -> dict[str, int]:
        with self._lock:
            hits, self.hits = self.hits, {}
        return hits

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class DelayProxy:
    """A TCP proxy on loopback that adds `rtt` seconds of round-trip time.

    A new connection costs one round trip before the client could send its first byte (the
    TCP handshake a real network would have: SYN, SYN-ACK), and every chunk is delivered
    `rtt / 2` after it was sent, in order, in each direction (latency, not a bandwidth
    limit): a request on a new connection takes 2 RTT to answer, one on a kept-alive
    connection 1 RTT, as on a real network. (On loopback the client's connect() returns at
    once, so its first bytes wait here until the handshake would have finished, then travel
    their half round trip.) `connections` counts the connections clients opened. It forwards
    to `target` (`host:port`); TLS or not is the client's business.
    """

    def __init__(self, target: str, rtt: float = 0.050) -> None:
        host, _, port = target.rpartition(":")
        self.target = (host, int(port))
        self.rtt = rtt
        self.connections = 0
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._socks: set[socket.socket] = set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()
            return
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._socks.update((client, upstream))
        opened = time.monotonic() + self.rtt  # when the handshake's round trip is over
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(src, dst, opened), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, opened: float) -> None:
        """Read `src` as fast as it comes; a writer thread delivers each chunk when due."""
        import queue

        half = self.rtt / 2
        chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def writer() -> None:
            try:
                while True:
                    due, data = chunks.get()
                    wait = due - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        threading.Thread(target=writer, daemon=True).start()
        try:
            while not self._closing.is_set():
                data = src.recv(1 << 16)
                # sent no earlier than the end of the handshake, then half a round trip away
                chunks.put((max(time.monotonic(), opened) + half, data))
                if not data:
                    return
        except OSError:
            chunks.put((0.0, b""))

    def close(self) -> None:
        self._closing.set()
        self.listener.close()
        with self._lock:
            socks, self._socks = self._socks, set()
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
