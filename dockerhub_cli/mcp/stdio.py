"""The stdio pipes of `serve-mcp`, read and written by the event loop itself.

The SDK's `stdio_server()` reads stdin and writes stdout through `anyio.wrap_file`: every line
read, every write and every flush is a hop to a worker thread and back (three per tool call).
When stdin and stdout are pipes (how every MCP client starts a server), `claimed_wire()` gives
them to the event loop: the front (`mcp/front.py`) connects its own pipe protocols to them, and
`claimed_pipes()` makes an asyncio reader and writer of them, which `stdio_streams()` hands to
the SDK's own `stdio_server()` as line streams; otherwise (a terminal, a file, Windows)
`stdio_streams()` is the SDK's own.

Like the SDK's, it keeps the wire to itself: while serving, fd 0 reads /dev/null and fd 1
writes to stderr, so a stray print (ours or a library's) cannot corrupt the protocol; both are
restored on exit.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

# The longest JSON-RPC line read (a client's request; answers are bounded far below this).
MAX_LINE = 16 * 1024 * 1024


def _is_pipe(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _Lines:
    """`async for line in stdin`, as the SDK reads it (text lines)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        line = await self.reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _Out:
    """`await stdout.write(text)` / `await stdout.flush()`, as the SDK writes."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    async def write(self, text: str) -> None:
        self.writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self.writer.drain()


@asynccontextmanager
async def claimed_wire() -> AsyncIterator[tuple[Any, Any]]:
    """(read file, write file), unbuffered, on private duplicates of fds 0 and 1 (pipes),
    which meanwhile read /dev/null and write to stderr; restored on exit."""
    import fcntl

    wire_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    wire_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    try:
        yield (
            os.fdopen(wire_in, "rb", buffering=0, closefd=False),
            os.fdopen(wire_out, "wb", buffering=0, closefd=False),
        )
    finally:
        with suppress(OSError):
            os.dup2(wire_in, 0)
        with suppress(OSError):
            os.dup2(wire_out, 1)
        for fd in (wire_in, wire_out):
            with suppress(OSError):
                os.close(fd)


@asynccontextmanager
async def claimed_pipes(
    limit: int = MAX_LINE,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """(reader, writer) on the claimed wire (see `claimed_wire`)."""
    loop = asyncio.get_running_loop()
    transports: list[asyncio.BaseTransport] = []
    async with claimed_wire() as (wire_in, wire_out):
        try:
            reader = asyncio.StreamReader(limit=limit)
            read_transport, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), wire_in
            )
            transports.append(read_transport)
            write_transport, protocol = await loop.connect_write_pipe(
                asyncio.streams.FlowControlMixin, wire_out
            )
            transports.append(write_transport)
            yield reader, asyncio.StreamWriter(write_transport, protocol, None, loop)
        finally:
            for transport in transports:
                transport.close()


@asynccontextmanager
async def stdio_streams() -> AsyncIterator[tuple[Any, Any]]:
    """(read stream, write stream) of SessionMessages over this process's stdin/stdout."""
    from mcp.server.stdio import stdio_server

    if sys.platform == "win32" or not (_is_pipe(0) and _is_pipe(1)):
        async with stdio_server() as streams:
            yield streams
        return
    async with claimed_pipes(MAX_LINE) as (reader, writer):
        async with stdio_server(stdin=_Lines(reader), stdout=_Out(writer)) as streams:  # type: ignore[arg-type]
            yield streams
