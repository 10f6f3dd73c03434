"""The one HTTP layer: scope guard, request budget, rate cap, timeouts, body cap, redaction.

No check holds an httpx client. A check asks `HttpProbe.send` (or `follow`) and gets back a
`Response` that is always complete: a network failure, a timeout, a refusal by scope or by the
budget is a `Response` whose `error` says why in one line. Nothing here raises on bad servers.

Host overrides (`[target] resolve`, like curl's --resolve) are applied below the client: the URL,
the Host header and the TLS server name keep the real host name, only the socket goes to the
mapped address. That keeps certificate-name and canonical-host checks honest on staging.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from launchready.findings import Exchange
from launchready.probe.redact import SENSITIVE_HEADERS, Redactor, mask

EVIDENCE_BODY_CHARS = 1500
MAX_REDIRECTS = 6
USER_AGENT = "launchready/0.1 (+readiness scan)"


class ScopeError(Exception):
    """A probe was aimed at a host outside the scan's scope."""


@dataclass(frozen=True)
class Limits:
    hosts: frozenset[str]
    request_budget: int = 3000
    rate_per_second: float = 25.0
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_body_bytes: int = 2_000_000


@dataclass
class Response:
    """A finished exchange. `error` is set when no usable HTTP response came back."""

    method: str
    url: str
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytes = b""
    truncated: bool = False
    elapsed_ms: float = 0.0
    error: str | None = None
    exchange: Exchange | None = None
    request_headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and "location" in self.headers

    def location(self) -> str | None:
        if not self.is_redirect:
            return None
        return urljoin(self.url, self.headers["location"])

    def json(self) -> Any:
        import json

        return json.loads(self.body)


class _RateCap:
    """Spaces request starts at least 1/rate seconds apart, across all identities."""

    def __init__(self, rate_per_second: float) -> None:
        self._interval = 1.0 / rate_per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            await asyncio.sleep(delay)


class _ResolvingTransport(httpx.AsyncBaseTransport):
    """Sends the socket to an overridden address while URL, Host and SNI keep the real name."""

    def __init__(self, inner: httpx.AsyncBaseTransport, resolve: Mapping[str, str]) -> None:
        self._inner = inner
        self._resolve = dict(resolve)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        address = self._resolve.get(host)
        if address:
            # A new request, so the caller's keeps the real URL for evidence and redirects.
            extensions = dict(request.extensions)
            if request.url.scheme == "https":
                extensions["sni_hostname"] = host
            request = httpx.Request(
                request.method,
                request.url.copy_with(host=address),
                headers=request.headers,
                stream=request.stream,
                extensions=extensions,
            )
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    context = (
        ssl.create_default_context(cafile=ca_bundle)
        if ca_bundle
        else (ssl.create_default_context())
    )
    return context


class Budget:
    """The scan's request budget, shared by every probe of the scan."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.spent = 0
        self.refused = 0  # requests not sent because the budget was spent

    def take(self) -> bool:
        if self.spent >= self.total:
            self.refused += 1
            return False
        self.spent += 1
        return True


class HttpProbe:
    """An HTTP client for one identity; every probe of a scan shares its budget and rate cap."""

    def __init__(
        self,
        limits: Limits,
        *,
        resolve: Mapping[str, str] | None = None,
        ca_bundle: str | None = None,
        redactor: Redactor | None = None,
        budget: Budget | None = None,
        rate: _RateCap | None = None,
        identity: str = "anonymous",
    ) -> None:
        self.limits = limits
        self.resolve = dict(resolve or {})
        self.ca_bundle = ca_bundle
        self.redactor = redactor or Redactor()
        self.budget = budget or Budget(limits.request_budget)
        self._rate = rate or _RateCap(limits.rate_per_second)
        self.identity = identity
        timeout = httpx.Timeout(
            connect=limits.connect_timeout,
            read=limits.read_timeout,
            write=limits.read_timeout,
            pool=limits.connect_timeout,
        )
        # TCP_NODELAY: without it a request whose body follows its headers in a second write
        # waits for the peer's delayed ACK (~40 ms on Linux), which would poison latency figures.
        inner = httpx.AsyncHTTPTransport(
            verify=tls_context(ca_bundle),
            retries=0,
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
        self._client = httpx.AsyncClient(
            transport=_ResolvingTransport(inner, self.resolve),
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            trust_env=False,
        )
        # A server that drips bytes slowly defeats per-read timeouts: cap the whole exchange.
        self._total_timeout = limits.connect_timeout + 2 * limits.read_timeout

    def sibling(self, identity: str) -> HttpProbe:
        """A probe for another identity (own cookies) sharing this one's budget and rate cap."""
        return HttpProbe(
            self.limits,
            resolve=self.resolve,
            ca_bundle=self.ca_bundle,
            redactor=self.redactor,
            budget=self.budget,
            rate=self._rate,
            identity=identity,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def cookie(self, name: str) -> str | None:
        """A cookie this identity holds (for double-submit CSRF tokens)."""
        for cookie in self._client.cookies.jar:
            if cookie.name == name:
                return cookie.value
        return None

    def set_cookie(self, name: str, value: str, host: str) -> None:
        """Put a cookie in this identity's jar, as if `host` had set it (session fixation)."""
        self._client.cookies.set(name, value, domain=host)

    def forget_cookies(self) -> None:
        self._client.cookies.clear()

    def in_scope(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return host in self.limits.hosts

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        data: Mapping[str, str] | None = None,
        cookies: dict[str, str] | None = None,
    ) -> Response:
        """Send one request. Never raises for network trouble: see `Response.error`."""
        method = method.upper()
        if not self.in_scope(url):
            return Response(method, url, error=f"not sent: {_host(url)} is outside the scan scope")
        if not self.budget.take():
            return Response(
                method, url, error=f"not sent: request budget of {self.budget.total} spent"
            )
        await self._rate.wait()

        try:
            request = self._client.build_request(
                method,
                url,
                headers=headers,
                json=json,
                content=content,
                data=data,
                cookies=cookies,
            )
        except (httpx.InvalidURL, ValueError, TypeError) as error:
            return Response(method, url, error=f"not sent: bad request: {error}")

        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(self._exchange(request), self._total_timeout)
        except TimeoutError:
            result = Response(
                method, url, error=f"no complete answer within {self._total_timeout:g} s"
            )
        except httpx.HTTPError as error:
            result = Response(method, url, error=describe_error(error))
        except (ssl.SSLError, OSError) as error:
            result = Response(method, url, error=f"connection failed: {error}")
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        result.request_headers = dict(request.headers)
        self._register_sent_credentials(request)
        result.exchange = self._record(request, result)
        return result

    async def _exchange(self, request: httpx.Request) -> Response:
        response = await self._client.send(request, stream=True)
        if self.identity == "anonymous":
            # The anonymous identity must stay anonymous: a cookie a server hands it (say,
            # after it wrongly honoured a forged token) would taint every later probe.
            self._client.cookies.clear()
        try:
            body, truncated = await self._read_capped(response)
        finally:
            await response.aclose()
        return Response(
            request.method,
            str(request.url),
            status=response.status_code,
            headers=response.headers,
            body=body,
            truncated=truncated,
        )

    async def _read_capped(self, response: httpx.Response) -> tuple[bytes, bool]:
        cap = self.limits.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw():
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                return b"".join(chunks)[:cap], True
        raw = b"".join(chunks)
        return _decode(raw, response.headers.get("content-encoding", ""), cap)

    async def follow(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None
    ) -> list[Response]:
        """Follow redirects hop by hop; a hop leaving scope is recorded but never sent."""
        chain: list[Response] = []
        seen: set[str] = set()
        for _ in range(MAX_REDIRECTS + 1):
            response = await self.send(method, url, headers=headers)
            chain.append(response)
            target = response.location()
            if target is None:
                return chain
            if target in seen:
                chain.append(Response(method, target, error="redirect loop"))
                return chain
            seen.add(url)
            url = target
            if method != "HEAD":
                method = "GET"
        chain.append(Response(method, url, error=f"more than {MAX_REDIRECTS} redirects"))
        return chain

    def _register_sent_credentials(self, request: httpx.Request) -> None:
        """What we send as a credential must be masked too where a server echoes it back."""
        for name, value in request.headers.items():
            lower = name.lower()
            if lower in ("authorization", "proxy-authorization"):
                self.redactor.register(value.partition(" ")[2] or value)
            elif lower == "cookie":
                for part in value.split(";"):
                    self.redactor.register(part.partition("=")[2].strip())
            elif lower in SENSITIVE_HEADERS:
                self.redactor.register(value)

    def _record(self, request: httpx.Request, response: Response) -> Exchange:
        redact = self.redactor
        body = request.content.decode("utf-8", errors="replace") if _has_body(request) else ""
        return Exchange(
            method=request.method,
            url=redact.text(response.url),
            request_headers=redact.headers(_shown_request_headers(request)),
            request_body=redact.text(body[:EVIDENCE_BODY_CHARS]),
            status=response.status,
            response_headers=_redacted_headers(redact, response.headers),
            response_body=redact.text(response.text[:EVIDENCE_BODY_CHARS]),
            error=response.error,
            elapsed_ms=round(response.elapsed_ms, 1) if response.elapsed_ms else None,
        )

    def curl(self, response: Response, *, body: str = "") -> str:
        """A curl line reproducing the request, with credentials replaced by placeholders."""
        parts = ["curl", "-sS", "-i"]
        if response.method != "GET":
            parts += ["-X", response.method]
        for name, value in response.request_headers.items():
            lower = name.lower()
            if lower in (
                "host",
                "user-agent",
                "accept",
                "accept-encoding",
                "connection",
                "content-length",
            ):
                continue
            parts += ["-H", f"{name}: {_placeholder(lower, value, self.redactor)}"]
        body = body or (response.exchange.request_body if response.exchange else "")
        if body:
            parts += ["--data", _PASSWORD_VALUE.sub(r"\1$PASSWORD", self.redactor.text(body))]
        host = _host(response.url)
        if host in self.resolve:
            port = urlsplit(response.url).port or (443 if response.url.startswith("https") else 80)
            parts += ["--resolve", f"{host}:{port}:{self.resolve[host]}"]
        if self.ca_bundle and response.url.startswith("https"):
            parts += ["--cacert", self.ca_bundle]
        parts.append(self.redactor.text(response.url))
        return " ".join(_shell_word(part) for part in parts)


_PLACEHOLDERS = ("$TOKEN", "$COOKIE", "$PASSWORD")
# A hidden password in a JSON or form body (`"password": "****(22 chars)"`, `password=****(…)`),
# turned into a placeholder the reader fills in.
_PASSWORD_VALUE = re.compile(
    r'((?:"[\w-]*pass[\w-]*"\s*:\s*")|(?:\b[\w-]*pass[\w-]*=))\*{4}\(\d+ chars\)'
)


def _shell_word(part: str) -> str:
    """Quoted for a POSIX shell; in double quotes when it holds a placeholder, so that the
    reader's `$TOKEN` and `$COOKIE` expand and nothing else does."""
    if not any(placeholder in part for placeholder in _PLACEHOLDERS):
        return shlex.quote(part)
    escaped = part.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    escaped = escaped.replace("$", "\\$")
    for placeholder in _PLACEHOLDERS:
        escaped = escaped.replace("\\" + placeholder, placeholder)
    return f'"{escaped}"'


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _has_body(request: httpx.Request) -> bool:
    try:
        return bool(request.content)
    except httpx.RequestNotRead:
        return False


def _shown_request_headers(request: httpx.Request) -> dict[str, str]:
    skipped = {"accept", "accept-encoding", "connection", "user-agent", "content-length"}
    return {k: v for k, v in request.headers.items() if k.lower() not in skipped}


def _redacted_headers(redact: Redactor, headers: httpx.Headers) -> dict[str, str]:
    """Each value masked on its own: several Set-Cookie headers must not merge before masking."""
    return {
        name: ", ".join(redact.header(name, value) for value in headers.get_list(name))
        for name in headers.keys()  # noqa: SIM118 (httpx.Headers iterates with duplicates)
    }


def _placeholder(name: str, value: str, redactor: Redactor) -> str:
    if name in ("authorization", "proxy-authorization"):
        scheme = value.split(" ", 1)[0] if " " in value else "Bearer"
        return f"{scheme} $TOKEN"
    if name == "cookie":
        return "; ".join(f"{c.split('=', 1)[0]}=$COOKIE" for c in value.split("; "))
    if name in ("x-api-key", "x-auth-token"):
        return "$TOKEN"
    return redactor.header(name, value)


def _decode(raw: bytes, encoding: str, cap: int) -> tuple[bytes, bool]:
    """Undo gzip/deflate ourselves, capped: the size cap applies on the wire and after it."""
    import zlib

    encoding = encoding.lower().strip()
    if encoding not in ("gzip", "deflate"):
        return raw, False
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    try:
        body = inflater.decompress(raw, cap)
    except zlib.error:
        return raw, False
    return body, bool(inflater.unconsumed_tail)


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    """Is `kind` anywhere in the chain of causes? httpx words some failures generically."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 10:
        if isinstance(current, kind):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def describe_error(error: httpx.HTTPError) -> str:
    """One line a user understands, for any transport failure."""
    text = str(error) or type(error).__name__
    text = text.splitlines()[0]
    if isinstance(error, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(error, httpx.ReadTimeout):
        return "the server accepted the connection but did not answer in time"
    if isinstance(error, httpx.ConnectError):
        if _caused_by(error, ConnectionRefusedError):
            return "connection refused"
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
            return f"TLS certificate not trusted: {text}"
        if "refused" in text.lower():
            return "connection refused"
        return f"connection failed: {text}"
    if isinstance(error, httpx.RemoteProtocolError):
        return f"the server did not speak HTTP properly: {text}"
    if isinstance(error, httpx.TooManyRedirects):
        return "redirect loop"
    return f"{type(error).__name__}: {text}"


__all__ = ["Budget", "HttpProbe", "Limits", "Response", "ScopeError", "mask"]
