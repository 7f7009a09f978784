"""Process management for integration tests: a real CNCF distribution registry and redis-server.

Everything listens on ``127.0.0.1`` on a free port, lives in a temporary directory and is torn
down by :meth:`Registry.stop` / :meth:`RedisServer.stop` (bounded waits, SIGKILL as a last
resort). Child processes also get ``PR_SET_PDEATHSIG`` so they die with the test process even if
pytest itself is killed.

Access log
----------
``docker-registry serve`` (distribution 2.8) writes one Apache "combined" line per request to
stdout, independent of ``log.level``; application logs (logrus ``time=... level=...``) go to
stderr. Both are sent to :attr:`Registry.log_path`; only combined lines are parsed::

    127.0.0.1 - - [24/Nov/2026:23:30:24 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"

The line is written *after* the response, so it may lag the client by a moment. To count
requests exactly, :meth:`Registry.log_mark` and :meth:`Registry.requests_since` first send a
unique sentinel request (``GET /v2/?harness-sync=<uuid>``) and wait until its line shows up;
sentinel lines are filtered out of the results.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, NamedTuple

from .token_server import DEFAULT_ISSUER, DEFAULT_SERVICE, TokenServer

if TYPE_CHECKING:
    from .images import SeededImages

AuthMode = Literal["none", "token", "basic"]

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
SYNC_MARKER = "harness-sync="

# Which Debian package provides each binary the harness needs.
BINARY_PACKAGES: Mapping[str, str] = {
    "docker-registry": "docker-registry",
    "skopeo": "skopeo",
    "umoci": "umoci",
    "redis-server": "redis-server",
    "htpasswd": "apache2-utils",
    "db5.3_load": "db5.3-util",
    "rpmbuild": "rpm",
}


class HarnessError(RuntimeError):
    """A helper process could not be started or did not become ready."""


def missing_binaries(names: Iterable[str]) -> list[str]:
    """Return the subset of *names* not found on PATH."""
    return [n for n in names if shutil.which(n) is None]


def describe_missing(names: Iterable[str]) -> str:
    parts = [f"{n} (apt-get install {BINARY_PACKAGES.get(n, n)})" for n in names]
    return "missing binaries: " + ", ".join(parts)


# --------------------------------------------------------------------------------------------
# Generic process helpers
# --------------------------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (callers retry on a bind race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Loaded once in the parent: the preexec_fn below must not dlopen() between fork and exec.
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:  # not glibc/Linux: children just won't get a parent-death signal
    _LIBC = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """preexec_fn: ask the kernel to SIGTERM us when the parent (thread) dies (Linux only)."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_LIVE: set[ManagedProcess] = set()


class ManagedProcess:
    """A long-running child with stdout+stderr in a log file and a bounded, idempotent stop."""

    def __init__(self, name: str, argv: list[str], log_path: Path, cwd: Path) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("ab")
        try:
            self.popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only called from the main thread
                start_new_session=True,
            )
        except BaseException:
            self._log.close()
            raise
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, wait up to *timeout*, then SIGKILL; always reap the child, close the log."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait(timeout=timeout)
        self._log.close()
        _LIVE.discard(self)


@atexit.register
def _stop_all() -> None:
    """Backstop: never leave children behind, even if a fixture's teardown did not run."""
    for proc in list(_LIVE):
        with contextlib.suppress(Exception):
            proc.stop(timeout=2)


def _wait_until(check: Any, proc: ManagedProcess, what: str, timeout: float) -> None:
    """Poll ``check()`` every 50 ms until true; fail fast if *proc* exits, or after *timeout*."""
    deadline = time.monotonic() + timeout
    while True:
        if not proc.alive():
            raise HarnessError(
                f"{what} exited with code {proc.popen.returncode}; see {proc.log_path}:\n"
                f"{proc.log_tail()}"
            )
        try:
            if check():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise HarnessError(
                f"{what} not ready after {timeout:.0f}s; see {proc.log_path}:\n{proc.log_tail()}"
            )
        time.sleep(0.05)


def _http_status(port: int, path: str, timeout: float = 2.0) -> int:
    """GET http://127.0.0.1:port/path with http.client (immune to `responses` mocking)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "dockerhub-cli-test-harness"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# Access log
# --------------------------------------------------------------------------------------------
_COMBINED = re.compile(
    r'^(?P<ip>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<uri>\S+) [^"]*" '
    r'(?P<status>\d{3}) (?P<size>\d+|-) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)"'
)


class AccessLogEntry(NamedTuple):
    """One registry request: unpacks as ``(method, path, status)``.

    ``path`` is the request URI exactly as logged, including any query string
    (``/v2/demo/app/tags/list?n=10``); :attr:`route` strips the query.
    """

    method: str
    path: str
    status: int

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.path.partition("?")[2]


def parse_access_log(text: str) -> list[AccessLogEntry]:
    """Parse combined-format lines out of a mixed registry log, dropping sentinel requests."""
    out = []
    for line in text.splitlines():
        m = _COMBINED.match(line)
        if m is None or SYNC_MARKER in m["uri"]:
            continue
        out.append(AccessLogEntry(m["method"], m["uri"], int(m["status"])))
    return out


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------
@dataclass
class Registry:
    """A running ``docker-registry serve`` on loopback.

    Attributes: ``host`` ("127.0.0.1:PORT"), ``url`` ("http://127.0.0.1:PORT"), ``port``,
    ``dir`` (its temp dir), ``log_path``, ``auth`` ("none" | "token" | "basic"),
    ``creds`` (user, password) with full access or None, ``users`` (all accepted logins),
    ``token_server`` (a :class:`TokenServer` when ``auth == "token"``), ``service``/``realm``,
    and ``seeded`` (the :class:`~tests.support.seeding.SeededImages` pushed by the fixtures).
    """

    dir: Path
    port: int
    log_path: Path
    auth: AuthMode
    process: ManagedProcess
    users: dict[str, str]
    token_server: TokenServer | None = None
    basic_realm: str | None = None
    seeded: SeededImages | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def creds(self) -> tuple[str, str] | None:
        """The first configured user (full access), or None for an open registry."""
        if not self.users:
            return None
        user = next(iter(self.users))
        return user, self.users[user]

    @property
    def creds_str(self) -> str | None:
        """``user:password`` as skopeo's ``--creds`` wants it."""
        c = self.creds
        return f"{c[0]}:{c[1]}" if c else None

    @property
    def service(self) -> str | None:
        return self.token_server.service if self.token_server else None

    @property
    def realm(self) -> str | None:
        if self.token_server:
            return self.token_server.realm
        return self.basic_realm

    def ref(self, name: str) -> str:
        """``demo/app:1.0`` -> ``127.0.0.1:PORT/demo/app:1.0``."""
        return f"{self.host}/{name}"

    # -- access log ------------------------------------------------------------------------
    def _sync(self, timeout: float = 5.0) -> int:
        """Send a sentinel request and wait for its access-log line; return the offset after it."""
        token = f"{SYNC_MARKER}{uuid.uuid4().hex}"
        start = self.log_path.stat().st_size
        _http_status(self.port, f"/v2/?{token}")
        needle = token.encode()
        deadline = time.monotonic() + timeout
        while True:
            with self.log_path.open("rb") as fh:
                fh.seek(start)
                data = fh.read()
            idx = data.rfind(needle)
            if idx >= 0:
                end = data.find(b"\n", idx)
                if end >= 0:
                    # Give any goroutine still writing an earlier line a moment to finish.
                    time.sleep(0.01)
                    return start + end + 1
            if time.monotonic() > deadline:
                raise HarnessError(f"sentinel request never reached the access log {self.log_path}")
            time.sleep(0.01)

    def log_mark(self) -> int:
        """A position in the access log after every request answered so far."""
        return self._sync()

    def requests_since(self, mark: int) -> list[AccessLogEntry]:
        """Requests logged after *mark* (from :meth:`log_mark`), waiting for in-flight lines."""
        self._sync()
        with self.log_path.open("rb") as fh:
            fh.seek(mark)
            data = fh.read()
        return parse_access_log(data.decode("utf-8", "replace"))

    def access_log(self) -> list[AccessLogEntry]:
        """Every request since the registry started (sentinels excluded)."""
        return self.requests_since(0)

    # -- lifecycle -------------------------------------------------------------------------
    def alive(self) -> bool:
        return self.process.alive()

    def stop(self) -> None:
        self.process.stop()
        if self.token_server is not None:
            self.token_server.stop()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _registry_config(data_dir: Path, port: int, auth_yaml: str, extra_yaml: str = "") -> str:
    # JSON is valid YAML: quote every path/string so temp paths with odd characters are safe.
    return f"""\
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: "{data_dir}"
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: "127.0.0.1:{port}"
  secret: "dockerhub-cli-test-secret"
health:
  storagedriver:
    enabled: false
{auth_yaml}{extra_yaml}"""


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd entry made by ``htpasswd -Bbn`` (Debian apache2-utils)."""
    out = subprocess.run(
        ["htpasswd", "-Bbn", user, password],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    return out.strip()


def start_registry(
    workdir: str | Path,
    auth: AuthMode = "none",
    *,
    users: Mapping[str, str] | None = None,
    token_server: TokenServer | None = None,
    basic_realm: str = "Registry Realm",
    extra_config: str = "",
    ready_timeout: float = READY_TIMEOUT,
    attempts: int = 3,
) -> Registry:
    """Start ``docker-registry serve`` under *workdir* and wait until ``/v2/`` answers.

    * ``auth="none"``: open registry.
    * ``auth="token"``: Bearer auth against a :class:`TokenServer` (one is started in-process if
      not given; *users* default to ``alice:wonderland``). realm ``http://127.0.0.1:P/token``,
      service ``test-registry``.
    * ``auth="basic"``: htpasswd file made with ``htpasswd -Bbn`` (*users* default to
      ``bob:builder``), challenge ``Basic realm="Registry Realm"``.

    Retries on a port race; raises :class:`HarnessError` naming the log file on failure.
    """
    wd = Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    data_dir = wd / "data"
    data_dir.mkdir(exist_ok=True)

    owned_token_server = False
    auth_yaml = ""
    user_map: dict[str, str] = {}
    if auth == "token":
        if token_server is None:
            token_server = TokenServer(
                wd / "token", users=users, issuer=DEFAULT_ISSUER, service=DEFAULT_SERVICE
            ).start()
            owned_token_server = True
        user_map = dict(token_server.users)
        auth_yaml = f"""\
auth:
  token:
    realm: "{token_server.realm}"
    service: "{token_server.service}"
    issuer: "{token_server.issuer}"
    rootcertbundle: "{token_server.cert_path}"
"""
    elif auth == "basic":
        user_map = dict(users if users is not None else {"bob": "builder"})
        htpasswd = wd / "htpasswd"
        htpasswd.write_text("".join(htpasswd_line(u, p) + "\n" for u, p in user_map.items()))
        auth_yaml = f"""\
auth:
  htpasswd:
    realm: "{basic_realm}"
    path: "{htpasswd}"
"""
    elif auth != "none":
        raise ValueError(f"unknown auth mode {auth!r}")

    last_error: HarnessError | None = None
    try:
        for attempt in range(attempts):
            port = free_port()
            config = wd / "config.yml"
            config.write_text(_registry_config(data_dir, port, auth_yaml, extra_config))
            log_path = wd / ("registry.log" if attempt == 0 else f"registry.{attempt}.log")
            proc = ManagedProcess(
                "docker-registry", ["docker-registry", "serve", str(config)], log_path, wd
            )
            try:
                _wait_until(
                    lambda port=port: _http_status(port, f"/v2/?{SYNC_MARKER}ready") in (200, 401),
                    proc,
                    f"docker-registry on 127.0.0.1:{port}",
                    ready_timeout,
                )
            except HarnessError as exc:
                proc.stop()
                last_error = exc
                if "address already in use" in proc.log_tail(50):
                    continue  # somebody grabbed the port between free_port() and bind
                raise
            return Registry(
                dir=wd,
                port=port,
                log_path=log_path,
                auth=auth,
                process=proc,
                users=user_map,
                token_server=token_server if auth == "token" else None,
                basic_realm=basic_realm if auth == "basic" else None,
            )
        assert last_error is not None
        raise last_error
    except BaseException:
        if owned_token_server and token_server is not None:
            token_server.stop()
        raise


# --------------------------------------------------------------------------------------------
# redis-server
# --------------------------------------------------------------------------------------------
@dataclass
class RedisServer:
    """A throw-away ``redis-server`` (no persistence). ``url`` is ``redis://127.0.0.1:P/0``."""

    port: int
    dir: Path
    log_path: Path
    process: ManagedProcess

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        return _redis_ping(self.port)

    def flushall(self) -> None:
        """Empty every database (handy between tests sharing the session server)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(b"*1\r\n$8\r\nFLUSHALL\r\n")
            s.recv(64)

    def stop(self) -> None:
        self.process.stop()


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        return s.recv(64).startswith(b"+PONG")


def start_redis(
    workdir: str | Path, *, ready_timeout: float = READY_TIMEOUT, attempts: int = 3
) -> RedisServer:
    """Start ``redis-server --port P --save '' --daemonize no`` on loopback under *workdir*."""
    wd = Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    last_error: HarnessError | None = None
    for attempt in range(attempts):
        port = free_port()
        log_path = wd / ("redis.log" if attempt == 0 else f"redis.{attempt}.log")
        argv = [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(wd),
            "--logfile",
            "",  # log to stdout -> our log file
        ]
        proc = ManagedProcess("redis-server", argv, log_path, wd)
        try:
            _wait_until(
                lambda port=port: _redis_ping(port),
                proc,
                f"redis-server on 127.0.0.1:{port}",
                ready_timeout,
            )
        except HarnessError as exc:
            proc.stop()
            last_error = exc
            if "Address already in use" in proc.log_tail(50):
                continue
            raise
        return RedisServer(port=port, dir=wd, log_path=log_path, process=proc)
    assert last_error is not None
    raise last_error


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for helper tools: no proxies, so loopback traffic never leaves the host."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    if extra:
        env.update(extra)
    return env
