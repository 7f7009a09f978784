"""The stdio front of `serve-mcp`: the answers that need no SDK, given before the SDK is loaded.

A `serve-mcp` over stdio spends most of its start importing the MCP SDK (its pydantic models
of every protocol version) and most of a warm tool call in the SDK's per-message machinery
(validation of each JSON-RPC message, memory streams, task groups, a context per request), while
the answer itself comes from the result store in microseconds. The front reads the wire first:

* From the moment the process starts (the SDK loads in a thread beside it), it answers what
  the SDK would answer the same way to any client: the `initialize` handshake, `ping`,
  `tools/list`, and the 2026 era's `server/discover`. Those answers are not written here: they
  are the SDK server's own answers, recorded by `derive()` (run by `make generate`, into
  `front.json`) for every protocol version the SDK speaks, and given only to requests of a
  shape the SDK is known to accept the same way (`_plain_request`, `_envelope`; anything else
  goes to the SDK). `front.json` names the SDK release it was derived from: any other installed
  SDK, or another version of this program, and the front gives none of them.
* Once the SDK is loaded, it answers a `tools/call` whose answer the result store holds fresh
  for exactly that tool, those arguments and the credentials in force (the server's own
  `saved_answer`: the store's rules, see `mcp/store.py`), validated and shaped for the wire by
  the SDK's own functions (the era's envelope ladder, the per-version request surface, and the
  runner's result serialiser), so the bytes are the ones the SDK would send.
* Everything else, every store miss and every message the front does not understand (malformed
  JSON included: the SDK drops it, so the front does), goes unchanged to the SDK's own stdio
  transport and `Server.run`, through memory streams, in the order it came. The SDK's session
  state stays its own: the connection's opening request, when the front answered it, is also
  given to the SDK under a private id (and that one answer of the SDK dropped), so the SDK
  picks the same protocol era and, in the 2025 era, records the same `initialize`.

One writer: the front's answers and the SDK's output are whole lines on one pipe writer, on one
event loop. Lines are bounded (`MAX_LINE`): a longer one is dropped with a log line. The front
takes the pipes only (`usable()`); a terminal or a file on stdin/stdout is served by the SDK's
own transport. `tests/unit/test_mcp_front.py` checks the front's answers equal the SDK's for
the same messages (and fails when an SDK update changes them without `make generate`).

Only the standard library at import: `derive()` and `Backend` import the SDK when called.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("dockerhub_cli.mcp")

FRONT_FILE = Path(__file__).with_name("front.json")
# The longest JSON-RPC line read (a client's request; answers are bounded far below this).
MAX_LINE = 16 * 1024 * 1024
# The id under which the front gives the SDK the opening request it answered itself (random:
# no client id, and no text of an answer, holds it).
PRIVATE_ID = f"dockerhub-front:{os.urandom(12).hex()}"

PROTOCOL_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"

# The requests whose answers `derive()` records, by era.
LEGACY_METHODS = ("ping", "tools/list")
MODERN_METHODS = ("server/discover", "ping", "tools/list")
# A requested protocol version no SDK supports: what `initialize` answers to any unknown one.
UNKNOWN_VERSION = "1999-01-01"
# The SDK distributions whose answers `front.json` records.
SDK_DISTRIBUTIONS = (("mcp", "mcp"), ("mcp_types", "mcp_types"))
# Bounds of the backend's memories: the checked params of distinct calls, and the wire-ready
# answers made from stored ones.
CHECKED = 512
CACHED_TAILS = 256


# -- the recorded answers -----------------------------------------------------------------------


class Table:
    """The SDK's answers from `front.json` (see `derive`), as response tails ready to send."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        bodies: list[Any] = data["bodies"]
        self._tails = [_tail(b).encode("utf-8") for b in bodies]
        self.initialize: dict[str, int] = dict(data["initialize"])
        self.legacy: dict[str, dict[str, int]] = {v: dict(m) for v, m in data["legacy"].items()}
        self.modern: dict[str, dict[str, int]] = {v: dict(m) for v, m in data["modern"].items()}
        self.negotiated: dict[str, str] = dict(data["negotiated"])
        # tools/list answers a cursor as it answers none (our handler lists every tool at once)
        self.cursor_same = bool(data.get("cursor_same"))
        self.tools = int(data.get("tools", 0))

    def tail(self, index: int) -> bytes:
        return self._tails[index]

    @classmethod
    def load(cls, path: Path = FRONT_FILE, *, source: str | None = None) -> Table | None:
        """The table, or None when it is missing, from another version of this program,
        derived from another SDK release than the one installed, or (given `source`, what the
        answers are made from: `server.front_source()`) from another source."""
        from dockerhub_cli import __version__

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != __version__:
            return None
        if source is not None and data.get("source") != fingerprint(source):
            return None
        if not _sdk_matches(data.get("sdk")):
            return None
        try:
            return cls(data)
        except (KeyError, TypeError, ValueError, IndexError):
            return None


def fingerprint(source: str) -> str:
    import hashlib

    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def _tail(body: Mapping[str, Any]) -> str:
    key = "result" if "result" in body else "error"
    return f'"{key}":{_dumps(body[key])}'


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _sdk_matches(recorded: Any) -> bool:
    """Whether the installed SDK distributions are the releases `recorded` names (looked up
    by their dist-info directories: no import, no metadata scan)."""
    import importlib.util

    if not isinstance(recorded, dict):
        return False
    for package, dist in SDK_DISTRIBUTIONS:
        version = recorded.get(dist)
        if not isinstance(version, str):
            return False
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            return False
        if spec is None or not spec.submodule_search_locations:
            return False
        site = Path(list(spec.submodule_search_locations)[0]).parent
        if not (site / f"{dist}-{version}.dist-info").is_dir():
            return False
    return True


def installed_sdk() -> dict[str, str]:
    from importlib.metadata import version

    return {dist: version(dist.replace("_", "-")) for _, dist in SDK_DISTRIBUTIONS}


# -- what the front accepts without the SDK (a strict subset of what the SDK accepts) -----------

_IMPLEMENTATION_KEYS = frozenset({"name", "version", "title"})
_CAPABILITY_KEYS = frozenset({"roots", "sampling", "elicitation", "extensions"})


def _implementation(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.keys() <= _IMPLEMENTATION_KEYS
        and isinstance(value.get("name"), str)
        and isinstance(value.get("version"), str)
        and all(isinstance(v, str) for v in value.values())
    )


def _capabilities(value: Any) -> bool:
    if not isinstance(value, dict) or not value.keys() <= _CAPABILITY_KEYS:
        return False
    for name, item in value.items():
        if not isinstance(item, dict):
            return False
        if name == "roots":
            if not item.keys() <= {"listChanged"} or not all(
                isinstance(v, bool) for v in item.values()
            ):
                return False
        elif name == "extensions":  # extension identifiers, without settings
            if not all(isinstance(k, str) and v == {} for k, v in item.items()):
                return False
        elif item:
            return False
    return True


def _plain_request(message: Any) -> bool:
    """A JSON-RPC request of the plainest shape: the four members, an int or string id."""
    if not isinstance(message, dict) or not message.keys() <= {"jsonrpc", "id", "method", "params"}:
        return False
    ident = message.get("id")
    if isinstance(ident, bool) or not (
        isinstance(ident, str) or (isinstance(ident, int) and -(2**53) < ident < 2**53)
    ):
        return False
    if message.get("jsonrpc") != "2.0" or not isinstance(message.get("method"), str):
        return False
    return "params" not in message or isinstance(message["params"], dict)


def _initialize_params(params: Any) -> str | None:
    """The requested version of plain `initialize` params, else None."""
    if (
        isinstance(params, dict)
        and params.keys() == {"protocolVersion", "capabilities", "clientInfo"}
        and isinstance(params["protocolVersion"], str)
        and _capabilities(params["capabilities"])
        and _implementation(params["clientInfo"])
    ):
        return str(params["protocolVersion"])
    return None


def _listing_params(method: str, params: dict[str, Any], allowed: frozenset[str]) -> bool:
    if not params.keys() <= allowed | ({"cursor"} if method == "tools/list" else set()):
        return False
    return "cursor" not in params or isinstance(params["cursor"], str)


def _envelope(params: dict[str, Any], versions: Mapping[str, Any]) -> str | None:
    """The protocol version of a plain 2026-era envelope (`params._meta`), else None."""
    meta = params.get("_meta")
    if not isinstance(meta, dict) or not meta.keys() <= {
        PROTOCOL_KEY,
        CLIENT_INFO_KEY,
        CLIENT_CAPABILITIES_KEY,
    }:
        return None
    version = meta.get(PROTOCOL_KEY)
    if not isinstance(version, str) or version not in versions:
        return None
    if not _capabilities(meta.get(CLIENT_CAPABILITIES_KEY)):
        return None
    if CLIENT_INFO_KEY in meta and not _implementation(meta[CLIENT_INFO_KEY]):
        return None
    return version


def _has_envelope(params: Any) -> bool:
    """The SDK's era test: `params._meta` carries the protocol-version key."""
    if not isinstance(params, dict):
        return False
    meta = params.get("_meta")
    return isinstance(meta, dict) and PROTOCOL_KEY in meta


# -- the SDK side ---------------------------------------------------------------------------------


class Backend:
    """The built server and the SDK functions the front answers a stored `tools/call` with.

    `call_tail(params, era, version)` is the response tail of a `tools/call` the result store
    answers, made as the SDK makes it (None: give the request to the SDK)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.saved = getattr(server, "saved_answer", None)
        # (the stored answer's id, version) -> (the stored answer, the response tail as bytes)
        self._cache: OrderedDict[tuple[int, str], tuple[Any, bytes]] = OrderedDict()
        # (era, version, the params as JSON) -> (tool, arguments, version) the SDK's checks
        # made of them, or None (the SDK's to answer): the checks are a function of exactly
        # those params, so a repeated call is checked once (`CHECKED` entries at most)
        self._checked: OrderedDict[tuple[str, str | None, str], Any] = OrderedDict()
        self.serialize: Callable[[str, str, Any], dict[str, Any]] | None = None
        try:
            from mcp.server.runner import ServerRunner
            from mcp.shared.inbound import InboundLadderRejection, classify_inbound_request
            from mcp_types import methods

            entry = server.get_request_handler("tools/call")
            runner = ServerRunner(server, None, None)  # type: ignore[arg-type]  # serialises only
            self.serialize = runner._serialize
            self.classify = classify_inbound_request
            self.rejection = InboundLadderRejection
            self.validate = methods.validate_client_request
            self.params_type = entry.params_type
        except (ImportError, AttributeError) as exc:  # an SDK that moved them: every call to it
            log.debug("the front gives every tools/call to the SDK: %s", exc)
            self.serialize = None
        # the SDK's middleware (tracing) sees every message it handles: with any, it handles all
        if getattr(server, "middleware", None):
            self.serialize = None

    @property
    def answers_calls(self) -> bool:
        return self.serialize is not None and self.saved is not None

    def call_tail(self, params: Any, era: str, version: str | None) -> bytes | None:
        if not self.answers_calls:
            return None
        checked = self._check(params, era, version)
        if checked is None:
            return None
        name, arguments, version = checked
        assert self.saved is not None and self.serialize is not None
        found = self.saved(name, arguments)
        if found is None:
            return None
        saved, make = found
        key = (id(saved), version)
        cached = self._cache.get(key)
        if cached is not None and cached[0] is saved:
            self._cache.move_to_end(key)
            return cached[1]
        try:
            tail = '"result":' + _dumps(self.serialize("tools/call", version, make()))
        except Exception:  # noqa: BLE001 - the SDK's own serialiser refused: let it answer
            return None
        encoded = tail.encode("utf-8")
        self._cache[key] = (saved, encoded)
        while len(self._cache) > CACHED_TAILS:
            self._cache.popitem(last=False)
        return encoded

    def _check(
        self, params: Any, era: str, version: str | None
    ) -> tuple[str, dict[str, Any], str] | None:
        """(tool, arguments, protocol version) of a `tools/call` the SDK's own checks accept
        (the era's envelope ladder, the version's request surface, the handler's params
        model), else None; remembered for the same params (the arguments are not to be
        modified)."""
        try:
            memo: tuple[str, str | None, str] | None = (era, version, _dumps(params))
        except (TypeError, ValueError):
            memo = None
        if memo is not None and memo in self._checked:
            self._checked.move_to_end(memo)
            found: tuple[str, dict[str, Any], str] | None = self._checked[memo]
            return found
        found = None
        try:
            if era == "modern":
                route = self.classify({"method": "tools/call", "params": params})
                if not isinstance(route, self.rejection):
                    version = route.protocol_version
                else:
                    version = None
            elif _has_envelope(params):
                version = None
            if version is not None:
                self.validate("tools/call", version, params)
                typed = self.params_type.model_validate(
                    {} if params is None else params, by_name=False
                )
                found = (typed.name, dict(typed.arguments or {}), version)
        except Exception:  # noqa: BLE001 - whatever the SDK rejects, the SDK answers
            found = None
        if memo is not None:
            self._checked[memo] = found
            while len(self._checked) > CHECKED:
                self._checked.popitem(last=False)
        return found


# -- the front ------------------------------------------------------------------------------------


class Front:
    """Decides, line by line, what it answers and what goes to the SDK (see the module doc).

    `write(data)` sends whole lines to the client; `forward(line)` queues one for the SDK."""

    def __init__(
        self,
        table: Table | None,
        write: Callable[[bytes], None],
        forward: Callable[[bytes], None],
    ) -> None:
        self.table = table
        self.write = write
        self.forward = forward
        self.backend: Backend | None = None
        self.era: str | None = None  # decided by the first request, as the SDK decides it
        self.negotiated: str | None = None  # the 2025 era's version, when the front answered
        self.opening: bytes | None = None  # the front's answer to the opening request it gave
        self.needs_sdk = False  # a request or response went to the SDK
        self.answered = 0

    # what the SDK writes, filtered: its answer to the replayed opening request is not sent
    def sdk_output(self, text: str) -> None:
        if self.opening is not None and f'"{PRIVATE_ID}"' in text:
            self._check_opening(text)
            self.opening = None
            return
        self.write(text.encode("utf-8"))

    def _check_opening(self, text: str) -> None:
        try:
            sdk = json.loads(text)
            ours = json.loads(self.opening or b"")
        except ValueError:
            return
        sdk.pop("id", None)
        ours.pop("id", None)
        if sdk != ours:
            log.warning(
                "the MCP SDK answers the opening request otherwise than front.json recorded "
                "(run `make generate`); the front's answer was sent"
            )

    def feed(self, line: bytes) -> None:
        """One line from the client."""
        try:
            message = _DECODER.decode(line.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            self._forward(line, None)
            return
        if not isinstance(message, dict) or "method" not in message:
            self._forward(line, message)
            return
        is_request = "id" in message
        if not is_request:  # notifications (initialized, cancelled, progress) are the SDK's
            self._forward(line, message)
            return
        opening = self.era is None
        if opening:
            params = message.get("params")
            method = message.get("method")
            self.era = "modern" if method != "initialize" and _has_envelope(params) else "legacy"
        plain = _plain_request(message) and not (b"\\u" in line and _SURROGATE.search(line))
        tail = self._answer(message, opening) if plain else None
        if tail is None:
            self._forward(line, message)
            return
        ident = message["id"]
        written = str(ident) if type(ident) is int else _dumps(ident)
        text = b"".join((_HEAD, written.encode("utf-8"), b",", tail, b"}\n"))
        self.answered += 1
        if opening:  # the SDK sees it too (under a private id), so its session state is ours
            self.opening = text
            replay = dict(message, id=PRIVATE_ID)
            self.forward((_dumps(replay) + "\n").encode())
        self.write(text)

    def _forward(self, line: bytes, message: Any) -> None:
        if not (isinstance(message, dict) and "method" in message and "id" not in message):
            self.needs_sdk = True
        self.forward(line)

    def _answer(self, message: dict[str, Any], opening: bool) -> bytes | None:
        table = self.table
        method = message["method"]
        params = message.get("params")
        if self.era == "modern":
            if method == "tools/call":
                return self._call(params, "modern", None)
            if table is None or not isinstance(params, dict):
                return None
            version = _envelope(params, table.modern)
            if version is None or not _listing_params(method, params, frozenset({"_meta"})):
                return None
            return self._recorded(table, table.modern[version], method, params)
        # the 2025 era: the handshake first
        if method == "initialize":
            if not opening or table is None:
                return None
            requested = _initialize_params(params)
            if requested is None:
                return None
            key = requested if requested in table.initialize else UNKNOWN_VERSION
            if key not in table.initialize:
                return None
            self.negotiated = table.negotiated.get(key)
            return table.tail(table.initialize[key])
        if self.negotiated is None:
            return None
        if method == "tools/call":
            return self._call(params, "legacy", self.negotiated)
        if table is None or not _listing_params(method, params or {}, frozenset()):
            return None
        return self._recorded(table, table.legacy.get(self.negotiated, {}), method, params or {})

    def _recorded(
        self, table: Table, answers: Mapping[str, int], method: str, params: Mapping[str, Any]
    ) -> bytes | None:
        if method not in answers or ("cursor" in params and not table.cursor_same):
            return None
        return table.tail(answers[method])

    def _call(self, params: Any, era: str, version: str | None) -> bytes | None:
        if self.backend is None:
            return None
        return self.backend.call_tail(params, era, version)


_HEAD = b'{"jsonrpc":"2.0","id":'


def _reject(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


# NaN and Infinity are not JSON (the SDK's parser refuses them: so does the front's)
_DECODER = json.JSONDecoder(parse_constant=_reject)
# A surrogate written as an escape: Python's parser and the SDK's may differ on one (a lone
# one), so such a message is the SDK's to answer.
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


# -- serving over stdio ------------------------------------------------------------------------


def usable() -> bool:
    """Whether the front can serve this process's stdio: pipes on both ends (not Windows), and
    no OpenTelemetry SDK installed (with one, the SDK's tracing middleware may record every
    message: then the SDK handles them all, see `server._inert_tracing`)."""
    import importlib.util

    from dockerhub_cli.mcp.stdio import _is_pipe

    if sys.platform == "win32" or not (_is_pipe(0) and _is_pipe(1)):
        return False
    try:
        return importlib.util.find_spec("opentelemetry.sdk") is None
    except (ImportError, ValueError):
        return True


class _QueueLines:
    """The lines the front gives the SDK, as the SDK's stdio transport reads them."""

    def __init__(self, queue: asyncio.Queue[bytes | None]) -> None:
        self.queue = queue

    def __aiter__(self) -> _QueueLines:
        return self

    async def __anext__(self) -> str:
        line = await self.queue.get()
        if line is None:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _SdkOut:
    """`await stdout.write(text)` / `await stdout.flush()` for the SDK, through the front."""

    def __init__(self, session: _Session, drain: Callable[[], Any]) -> None:
        self.session = session
        self.drain = drain

    async def write(self, text: str) -> None:
        self.session.front.sdk_output(text)
        self.session.flush()

    async def flush(self) -> None:
        await self.drain()


class _Session:
    """One client: the front, the SDK server built beside it (in a thread), and the output.

    `feed(lines)` takes the lines read at once; the front's answers to them leave in one write
    (one syscall, and one read for the client, however many calls were pipelined)."""

    def __init__(
        self,
        write: Callable[[bytes], None],
        drain: Callable[[], Any],
        build: Callable[[], Any],
        table: Table | None,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._write = write
        self._pending: list[bytes] = []
        self.front = Front(table, self._pending.append, self.queue.put_nowait)
        self.built: asyncio.Future[Any] = self.loop.create_future()
        threading.Thread(
            target=self._load, args=(build,), name="dockerhub-mcp-sdk", daemon=True
        ).start()
        self.sdk = asyncio.ensure_future(self._run_sdk(drain))

    def _load(self, build: Callable[[], Any]) -> None:
        previous = sys.getswitchinterval()
        sys.setswitchinterval(min(previous, 0.001))  # the front keeps answering meanwhile
        try:
            server = build()
            outcome: tuple[Any, BaseException | None] = ((server, Backend(server)), None)
        except BaseException as exc:  # noqa: BLE001 - raised again on the loop
            outcome = (None, exc)
        finally:
            sys.setswitchinterval(previous)
        try:
            self.loop.call_soon_threadsafe(_settle, self.built, *outcome)
        except RuntimeError:  # the client left and the loop ended: nobody waits for it
            pass

    async def _run_sdk(self, drain: Callable[[], Any]) -> None:
        server, backend = await self.built
        self.front.backend = backend
        from mcp.server.stdio import stdio_server

        out = _SdkOut(self, drain)
        async with stdio_server(stdin=_QueueLines(self.queue), stdout=out) as (read, written):  # type: ignore[arg-type]
            await server.run(read, written, server.create_initialization_options())

    def flush(self) -> None:
        if self._pending:
            data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
            self._pending.clear()
            self._write(data)

    def feed(self, lines: list[bytes]) -> bool:
        """The lines read at once (False: the SDK has ended, read no more)."""
        for line in lines:
            if self.sdk.done():
                break
            self.front.feed(line)
        self.flush()
        return not self.sdk.done()

    async def finish(self) -> None:
        """The client closed its end: what the SDK was given, it answers before the end."""
        self.queue.put_nowait(None)
        if self.front.needs_sdk or self.sdk.done():
            await self.sdk
        elif not self.built.done():
            self.sdk.cancel()
        else:
            await self.sdk

    async def close(self) -> None:
        if not self.sdk.done():
            self.sdk.cancel()
            try:
                await self.sdk
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass


async def serve(
    lines: AsyncIterator[bytes | list[bytes]],
    write: Callable[[bytes], None],
    drain: Callable[[], Any],
    build: Callable[[], Any],
    table: Table | None,
) -> Front:
    """Serve one client: `lines` from it (a line, or a list of the lines read at once),
    `write`/`drain` to it; `build()` (run in a thread, beside the front) returns the SDK
    server everything else goes to."""
    session = _Session(write, drain, build, table)
    try:
        async for got in lines:
            if not session.feed(got if isinstance(got, list) else [got]):
                break
            await drain()
        await session.finish()
    finally:
        await session.close()
    return session.front


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class _Splitter:
    """Whole lines of at most MAX_LINE bytes from the chunks read; a longer one is dropped
    whole, with a log line."""

    def __init__(self) -> None:
        self.pending = bytearray()
        self.dropping = False

    def split(self, chunk: bytes) -> list[bytes]:
        out: list[bytes] = []
        pending, start = self.pending, 0
        while True:
            at = chunk.find(b"\n", start)
            if at < 0:
                break
            if self.dropping:
                self.dropping = False
            elif not pending and at + 1 - start <= MAX_LINE:
                out.append(chunk[start : at + 1])
            else:
                pending += chunk[start : at + 1]
                if len(pending) <= MAX_LINE:
                    out.append(bytes(pending))
                else:
                    log.warning("dropped a message of more than %d bytes", MAX_LINE)
            pending.clear()
            start = at + 1
        if not self.dropping:
            pending += chunk[start:]
            if len(pending) > MAX_LINE:
                log.warning("dropped a message of more than %d bytes", MAX_LINE)
                pending.clear()
                self.dropping = True
        return out

    def end(self) -> list[bytes]:
        """The last line, when the input ended without a newline."""
        last = bytes(self.pending) if self.pending.strip() and not self.dropping else b""
        self.pending.clear()
        return [last] if last else []


class _WireIn(asyncio.Protocol):
    """The client's pipe: each chunk's lines fed to the session as they arrive (no task
    switch per message); `ended` is set when the client closed its end or the SDK ended."""

    def __init__(self, session: _Session, ended: asyncio.Future[None]) -> None:
        self.session = session
        self.ended = ended
        self.splitter = _Splitter()
        self.transport: asyncio.ReadTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.ReadTransport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.ended.done():
            return
        try:
            got = self.splitter.split(data)
            if not got or self.session.feed(got):
                return
            error = None
        except Exception as exc:  # noqa: BLE001 - a bug: raised again by _serve_pipes
            error = exc
        assert self.transport is not None
        self.transport.pause_reading()
        _settle(self.ended, None, error)

    def eof_received(self) -> bool | None:
        if not self.ended.done():
            last = self.splitter.end()
            if last:
                self.session.feed(last)
        _settle(self.ended, None, None)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        _settle(self.ended, None, None)


class _WireOut(asyncio.streams.FlowControlMixin):
    """The pipe to the client: while its buffer is over the high-water mark (the client does
    not read), the client's requests are not read either."""

    reading: asyncio.ReadTransport | None = None

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.reading is not None:
            self.reading.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.reading is not None and not self.reading.is_closing():
            self.reading.resume_reading()


def serve_stdio(build: Callable[[], Any], table: Table | None = None) -> None:
    """Serve this process's stdin/stdout (pipes; see `usable`) until the client leaves."""
    table = table if table is not None else Table.load()
    asyncio.run(_serve_pipes(build, table))


async def _serve_pipes(build: Callable[[], Any], table: Table | None) -> None:
    from dockerhub_cli.mcp.stdio import claimed_wire

    loop = asyncio.get_running_loop()
    async with claimed_wire() as (wire_in, wire_out):
        write_transport, out = await loop.connect_write_pipe(_WireOut, wire_out)
        transports: list[asyncio.BaseTransport] = [write_transport]
        writer = asyncio.StreamWriter(write_transport, out, None, loop)
        session = _Session(writer.write, writer.drain, build, table)
        try:
            ended: asyncio.Future[None] = loop.create_future()
            read_transport, _ = await loop.connect_read_pipe(
                lambda: _WireIn(session, ended), wire_in
            )
            transports.append(read_transport)
            out.reading = read_transport  # type: ignore[assignment]
            await asyncio.wait([ended, session.sdk], return_when=asyncio.FIRST_COMPLETED)
            read_transport.pause_reading()
            if ended.done():
                ended.result()  # a failure in the read callback ends the server, as it did
            await session.finish()
        finally:
            await session.close()
            for transport in transports:
                transport.close()


# -- deriving the table from the SDK (make generate; tests) --------------------------------------


def request(ident: Any, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": ident, "method": method}
    if params is not None:
        message["params"] = params
    return message


def initialize(ident: Any, version: str, **changes: Any) -> dict[str, Any]:
    params = {
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": {"name": "dockerhub-front", "version": "1"},
    }
    params.update(changes)
    return request(ident, "initialize", params)


def envelope(version: str, **extra: Any) -> dict[str, Any]:
    return {
        "_meta": {
            PROTOCOL_KEY: version,
            CLIENT_INFO_KEY: {"name": "dockerhub-front", "version": "1"},
            CLIENT_CAPABILITIES_KEY: {},
        },
        **extra,
    }


INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


async def sdk_exchange(
    server: Any, messages: list[Any], raw: list[str] | None = None
) -> list[dict[str, Any]]:
    """What the SDK's own stdio transport and `Server.run` answer to `messages` (dicts, or
    lines as str), sent one at a time: each request waits for its answer (10 s at most).
    `raw` receives the lines as the SDK wrote them."""
    import anyio
    from mcp.server.stdio import stdio_server

    send, receive = anyio.create_memory_object_stream[str](16)
    out: list[dict[str, Any]] = []
    arrived = anyio.Event()

    class Lines:
        def __aiter__(self) -> Lines:
            return self

        async def __anext__(self) -> str:
            try:
                return await receive.receive()
            except anyio.EndOfStream:
                raise StopAsyncIteration from None

    class Out:
        async def write(self, text: str) -> None:
            nonlocal arrived
            if raw is not None:
                raw.append(text)
            out.append(json.loads(text))
            arrived.set()
            arrived = anyio.Event()

        async def flush(self) -> None:
            return None

    async with receive, stdio_server(stdin=Lines(), stdout=Out()) as (read, write):  # type: ignore[arg-type]
        async with anyio.create_task_group() as group:
            group.start_soon(server.run, read, write, server.create_initialization_options())
            with anyio.fail_after(10):
                for message in messages:
                    line = message if isinstance(message, str) else _dumps(message)
                    await send.send(line.rstrip("\n") + "\n")
                    if _awaits_answer(message):
                        while not any(_same_id(o, message) for o in out):
                            await arrived.wait()
                await send.aclose()
    return out


async def front_exchange(
    build: Callable[[], Any],
    messages: list[Any],
    table: Table | None,
    raw: list[bytes] | None = None,
) -> tuple[list[dict[str, Any]], Front]:
    """What the front (and the SDK behind it) answer to `messages`, sent one at a time
    (`raw` receives the lines as written)."""
    got: list[dict[str, Any]] = []
    arrived = asyncio.Event()

    def write(data: bytes) -> None:
        if raw is not None:
            raw.extend(data.splitlines(keepends=True))
        got.extend(json.loads(text) for text in data.decode().splitlines())
        arrived.set()

    async def lines() -> AsyncIterator[bytes]:
        for message in messages:
            line = message if isinstance(message, str) else _dumps(message)
            yield (line.rstrip("\n") + "\n").encode()
            if _awaits_answer(message):
                while not any(_same_id(o, message) for o in got):
                    arrived.clear()
                    await asyncio.wait_for(arrived.wait(), 10)

    async def drain() -> None:
        return None

    front = await serve(lines(), write, drain, build, table)
    return got, front


def _awaits_answer(message: Any) -> bool:
    """A request with an id the SDK answers (a string, or an integer that is not a bool)."""
    if not isinstance(message, dict) or "method" not in message:
        return False
    ident = message.get("id")
    return isinstance(ident, str) or (isinstance(ident, int) and not isinstance(ident, bool))


def _same_id(response: dict[str, Any], message: dict[str, Any]) -> bool:
    ident = response.get("id")
    return type(ident) is type(message["id"]) and ident == message["id"]


def _strip(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k not in ("jsonrpc", "id")}


def derive(build: Callable[[], Any], source: str = "") -> dict[str, Any]:
    """The table of `front.json`: what the SDK server `build()` makes answers, for every
    protocol version the SDK speaks (recorded answers, errors included, deduplicated), and
    the fingerprint of `source` (what those answers are made from besides the SDK)."""
    import anyio
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

    from dockerhub_cli import __version__

    bodies: list[Any] = []

    def index(response: dict[str, Any]) -> int:
        body = _strip(response)
        if body not in bodies:
            bodies.append(body)
        return bodies.index(body)

    table: dict[str, Any] = {
        "version": __version__,
        "sdk": installed_sdk(),
        "source": fingerprint(source),
        "initialize": {},
        "negotiated": {},
        "legacy": {},
        "modern": {},
    }
    cursor_same = True
    tools = 0
    for requested in (*HANDSHAKE_PROTOCOL_VERSIONS, UNKNOWN_VERSION):
        out = anyio.run(
            sdk_exchange,
            build(),
            [
                initialize(1, requested),
                INITIALIZED,
                request(2, "ping"),
                request(3, "tools/list"),
                request(4, "tools/list", {"cursor": "x"}),
            ],
        )
        by_id = {o.get("id"): o for o in out}
        table["initialize"][requested] = index(by_id[1])
        negotiated = by_id[1]["result"]["protocolVersion"]
        table["negotiated"][requested] = negotiated
        table["legacy"][negotiated] = {"ping": index(by_id[2]), "tools/list": index(by_id[3])}
        cursor_same = cursor_same and _strip(by_id[3]) == _strip(by_id[4])
        tools = len(by_id[3]["result"]["tools"])
    for version in MODERN_PROTOCOL_VERSIONS:
        out = anyio.run(
            sdk_exchange,
            build(),
            [
                request(1, "server/discover", envelope(version)),
                request(2, "ping", envelope(version)),
                request(3, "tools/list", envelope(version)),
                request(4, "tools/list", envelope(version, cursor="x")),
            ],
        )
        by_id = {o.get("id"): o for o in out}
        table["modern"][version] = {
            "server/discover": index(by_id[1]),
            "ping": index(by_id[2]),
            "tools/list": index(by_id[3]),
        }
        cursor_same = cursor_same and _strip(by_id[3]) == _strip(by_id[4])
    table["cursor_same"] = cursor_same
    table["tools"] = tools
    table["bodies"] = bodies
    return table
