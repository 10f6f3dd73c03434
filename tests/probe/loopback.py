"""Small, hostile-capable TCP/HTTP servers on loopback, each in its own thread and event loop.

A test starts one with `with LoopbackServer(handler) as server:` and gets `server.port`,
`server.connections` (accepted TCP connections) and `server.requests` (HTTP requests read by
`http_handler`). Leaving the block closes every connection, stops the loop and joins the
thread, all within a few seconds. Servers only ever bind 127.0.0.1 or ::1.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[["LoopbackServer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

START_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0
MAX_HEAD_BYTES = 64 * 1024
MAX_REQUESTS_PER_CONNECTION = 200
IDLE_TIMEOUT = 15.0  # a handler never waits longer than this for the client


class LoopbackServer:
    """An asyncio server on loopback, run in a background thread."""

    def __init__(
        self,
        handler: Handler,
        *,
        ssl_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        assert host in ("127.0.0.1", "::1"), "loopback only"
        self.host = host
        self.port = 0
        self.connections = 0
        self.requests = 0
        self.paths: list[str] = []
        self.seen_requests: list[Request] = []
        self._handler = handler
        self._ssl = ssl_context
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(lambda loop, context: None)  # hostile by design
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(START_TIMEOUT)
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, 0, ssl=self._ssl, ssl_handshake_timeout=5 if self._ssl else None
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._stop(), self._loop)
        with contextlib.suppress(Exception):
            future.result(STOP_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_TIMEOUT)
        if not self._thread.is_alive():
            self._loop.close()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=STOP_TIMEOUT)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), STOP_TIMEOUT)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- per connection ----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        with self._lock:
            self.connections += 1
        try:
            await self._handler(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.transport.abort()

    def count_request(self, request: Request) -> None:
        with self._lock:
            self.requests += 1
            self.paths.append(request.path)
            self.seen_requests.append(request)

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


def closed_port(host: str = "127.0.0.1") -> tuple[socket.socket, int]:
    """A port that refuses connections: bound but never listening, so nobody else takes it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, 0))
    return sock, sock.getsockname()[1]


# -- a minimal HTTP/1.1 server -----------------------------------------------------------------


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # Instead of `body`: chunks written one by one (drained), with an optional pause between.
    stream: Callable[[], AsyncIterator[bytes]] | None = None
    content_length: int | None = None
    close: bool = False


Route = Callable[[Request], Reply | Awaitable[Reply]]

REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """One request head and its Content-Length body, or None when the client went away."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        return None
    if len(head) > MAX_HEAD_BYTES:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = b""
    length = int(headers.get("content-length", "0") or 0)
    if 0 < length <= 1_000_000:
        body = await asyncio.wait_for(reader.readexactly(length), IDLE_TIMEOUT)
    return Request(method, target, headers, body)


async def write_reply(writer: asyncio.StreamWriter, reply: Reply) -> None:
    length = reply.content_length if reply.content_length is not None else len(reply.body)
    lines = [f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in reply.headers]
    names = {name.lower() for name, _ in reply.headers}
    if "content-length" not in names:
        lines.append(f"Content-Length: {length}")
    if reply.close:
        lines.append("Connection: close")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    if reply.stream is not None:
        async for chunk in reply.stream():
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), IDLE_TIMEOUT)
    else:
        writer.write(reply.body)
    await asyncio.wait_for(writer.drain(), IDLE_TIMEOUT)


def http_handler(route: Route) -> Handler:
    """A keep-alive HTTP/1.1 handler answering every request with `route(request)`."""

    async def handle(
        server: LoopbackServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        for _ in range(MAX_REQUESTS_PER_CONNECTION):
            request = await read_request(reader)
            if request is None:
                return
            server.count_request(request)
            reply = route(request)
            if not isinstance(reply, Reply):
                reply = await reply
            await write_reply(writer, reply)
            if reply.close or request.headers.get("connection", "").lower() == "close":
                return

    return handle


def html(body: str = "<html><body>hello</body></html>", status: int = 200) -> Reply:
    return Reply(status, [("Content-Type", "text/html; charset=utf-8")], body.encode())
