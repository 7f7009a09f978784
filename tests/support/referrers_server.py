"""A small OCI registry on loopback that implements the referrers API (distribution spec 1.1).

Debian's `docker-registry` (distribution 2.8) has no `GET /v2/<name>/referrers/<digest>`, so
tests of that endpoint run against this read-only server instead. It serves what a test puts
into it (:meth:`ReferrersRegistry.put_blob`, :meth:`put_manifest`), implementing:

* `GET /v2/` (200), `HEAD`/`GET /v2/<name>/manifests/<tag or digest>` with
  `Docker-Content-Digest`, `GET /v2/<name>/blobs/<digest>`, `GET /v2/<name>/tags/list`;
* `GET /v2/<name>/referrers/<digest>[?artifactType=...]`: an image index (`application/vnd.oci.
  image.index.v1+json`) of descriptors of every manifest whose `subject` is that digest, each
  with `artifactType` (the manifest's, else its config media type) and `annotations`; with the
  filter, only matching entries and the `OCI-Filters-Applied: artifactType` header. An unknown
  subject answers an empty index (200), never 404, as the spec requires.

Bounded: it listens on 127.0.0.1 only, answers at most `max_requests` requests, and stops by
itself after `lifetime` seconds (a timer thread), besides :meth:`stop` / the context manager.
Every request is logged in :attr:`requests` as (method, path) for counting.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_ROUTE = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs|referrers|tags)/(?P<ref>[^/]+)$")


class ReferrersRegistry:
    def __init__(self, *, lifetime: float = 120.0, max_requests: int = 2000) -> None:
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[tuple[str, str], tuple[bytes, str]] = {}  # (repo, ref) -> body
        self.requests: list[tuple[str, str]] = []
        self.max_requests = max_requests
        self._lock = threading.Lock()
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:  # noqa: N802
                registry._handle(self, head=True)

            def do_GET(self) -> None:  # noqa: N802
                registry._handle(self, head=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True
        self._stopped = False

    # -- content ---------------------------------------------------------------------------
    def put_blob(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[digest] = data
        return digest

    def put_manifest(self, repo: str, raw: bytes, media_type: str, *tags: str) -> str:
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        for ref in (digest, *tags):
            self.manifests[(repo, ref)] = (raw, media_type)
        return digest

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> ReferrersRegistry:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._timer.cancel()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ReferrersRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ---------------------------------------------------------------------------
    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        media_type: str = "application/json",
        headers: dict[str, str] | None = None,
        head: bool = False,
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", media_type)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.end_headers()
        if not head:
            h.wfile.write(body)

    def _error(self, h: BaseHTTPRequestHandler, status: int, code: str, head: bool) -> None:
        body = json.dumps({"errors": [{"code": code, "message": code.lower()}]}).encode()
        self._send(h, status, body, head=head)

    def _handle(self, h: BaseHTTPRequestHandler, *, head: bool) -> None:
        url = urlsplit(h.path)
        with self._lock:
            self.requests.append((h.command, h.path))
            over = len(self.requests) > self.max_requests
        if over:
            self._error(h, 429, "TOOMANYREQUESTS", head)
            return
        if url.path in ("/v2/", "/v2"):
            self._send(h, 200, b"{}", head=head)
            return
        match = _ROUTE.match(url.path)
        if match is None:
            self._error(h, 404, "NOT_FOUND", head)
            return
        name, kind, ref = match["name"], match["kind"], match["ref"]
        if kind == "manifests":
            found = self.manifests.get((name, ref))
            if found is None:
                self._error(h, 404, "MANIFEST_UNKNOWN", head)
                return
            raw, media_type = found
            digest = "sha256:" + hashlib.sha256(raw).hexdigest()
            self._send(h, 200, raw, media_type, {"Docker-Content-Digest": digest}, head)
        elif kind == "blobs":
            data = self.blobs.get(ref)
            if data is None:
                self._error(h, 404, "BLOB_UNKNOWN", head)
                return
            self._send(
                h, 200, data, "application/octet-stream", {"Docker-Content-Digest": ref}, head
            )
        elif kind == "tags":
            tags = sorted(
                r for (repo, r) in self.manifests if repo == name and not r.startswith("sha256:")
            )
            self._send(h, 200, json.dumps({"name": name, "tags": tags}).encode(), head=head)
        else:
            wanted = parse_qs(url.query).get("artifactType", [None])[0]
            descriptors = []
            for (repo, r), (raw, media_type) in sorted(self.manifests.items()):
                if repo != name or not r.startswith("sha256:"):
                    continue
                doc = json.loads(raw)
                if (doc.get("subject") or {}).get("digest") != ref:
                    continue
                artifact_type = doc.get("artifactType") or (doc.get("config") or {}).get(
                    "mediaType"
                )
                if wanted and artifact_type != wanted:
                    continue
                d = {"mediaType": media_type, "digest": r, "size": len(raw)}
                if artifact_type:
                    d["artifactType"] = artifact_type
                if doc.get("annotations"):
                    d["annotations"] = doc["annotations"]
                descriptors.append(d)
            body = json.dumps(
                {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
            ).encode()
            headers = {"OCI-Filters-Applied": "artifactType"} if wanted else {}
            self._send(h, 200, body, OCI_INDEX, headers, head)
