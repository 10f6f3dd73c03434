"""ASGI middleware for the demo portal: host routing, CORS, response headers and error pages.

These are the "edge" behaviours a load balancer or framework config usually owns, which is where
most of the flaw toggles live. They are plain ASGI classes (not BaseHTTPMiddleware) so they wrap
every response, including redirects and error pages, and add no per-request task overhead.
"""

from __future__ import annotations

import sys
import traceback
from importlib import metadata
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CHAIN_MARKER = "_via"
"""Query parameter carrying the legacy redirect chain across hosts (see HostRoutingMiddleware)."""

HARDENED_CSP = "default-src 'self'; script-src 'self'; frame-ancestors 'none'"
WEAK_CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'"
HSTS = "max-age=31536000; includeSubDomains"


def header(scope: Scope, name: bytes) -> str | None:
    """First value of a request header, decoded the way HTTP/1.1 defines (latin-1)."""
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))

    return None


def request_host(scope: Scope) -> str:
    """Host header without port, lower-cased; "" when the client sent none."""
    raw = (header(scope, b"host") or "").strip().lower()

    if raw.startswith("["):
        return raw.split("]", 1)[0] + "]"

    return raw.rsplit(":", 1)[0].rstrip(".")


def build_url(scheme: str, host: str, port: int, path: str, query: str) -> str:
    """Absolute URL, leaving out the port when it is the scheme's default."""
    default_port = 443 if scheme == "https" else 80
    netloc = host if port == default_port else f"{host}:{port}"
    suffix = f"?{query}" if query else ""
    return f"{scheme}://{netloc}{path}{suffix}"


def _raw_path(scope: Scope) -> str:
    """The path exactly as requested, so redirects do not re-encode it."""
    raw = scope.get("raw_path")
    if raw:
        return str(raw.decode("latin-1"))

    return str(scope.get("path", "/"))


def _with_marker(query: str) -> str:
    """Add the chain marker to a query string (once)."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != CHAIN_MARKER]
    pairs.append((CHAIN_MARKER, "www"))
    return urlencode(pairs)


def _pop_marker(query: str) -> tuple[bool, str]:
    """Whether the chain marker is present, and the query string without it."""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k != CHAIN_MARKER]
    return len(kept) != len(pairs), urlencode(kept)


class HostRoutingMiddleware:
    """Decides, per listener and Host header, whether to serve the portal or redirect.

    Hardened: plain HTTP always gets one 301 to HTTPS (www goes straight to the apex) and HTTPS
    www gets one 301 to the apex. The flaws `http-no-redirect`, `no-canonical-host` and
    `redirect-chain` each undo one of those rules. The chain is the classic accident of stacked
    rules (www->apex on HTTP, HTTP->HTTPS-www, www->apex on HTTPS); a query marker carries it
    across hosts that the other flaws make serve content directly.
    """

    def __init__(
        self, app: ASGIApp, *, flaws: frozenset[str], https_port: int, canonical_host: str
    ) -> None:
        self.app = app
        self.flaws = flaws
        self.https_port = https_port
        self.canonical = canonical_host
        self.www = f"www.{canonical_host}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        location = self.redirect_for(scope)
        if location is None:
            await self.app(scope, receive, send)
            return

        await RedirectResponse(location, status_code=301)(scope, receive, send)

    def redirect_for(self, scope: Scope) -> str | None:
        """Where this request must go instead, or None to serve it."""
        host = request_host(scope)
        path = _raw_path(scope)
        query = bytes(scope.get("query_string", b"")).decode("latin-1")

        if scope.get("scheme") == "https":
            return self._https_redirect(host, path, query)

        server = scope.get("server") or ("", 80)
        return self._http_redirect(host, path, query, int(server[1]))

    def _https_redirect(self, host: str, path: str, query: str) -> str | None:
        """www -> apex, unless `no-canonical-host` (a chained request still completes its hop)."""
        if host != self.www:
            return None

        chained, rest = _pop_marker(query)
        if chained or "no-canonical-host" not in self.flaws:
            return build_url("https", self.canonical, self.https_port, path, rest)

        return None

    def _http_redirect(self, host: str, path: str, query: str, http_port: int) -> str | None:
        """Plain HTTP: the legacy chain first, then serve (`http-no-redirect`) or one hop."""
        if "redirect-chain" in self.flaws:
            hop = self._chain_hop(host, path, query, http_port)
            if hop is not None:
                return hop

        if "http-no-redirect" in self.flaws:
            return None

        target = host or self.canonical
        if target == self.www and "no-canonical-host" not in self.flaws:
            target = self.canonical

        return build_url("https", target, self.https_port, path, query)

    def _chain_hop(self, host: str, path: str, query: str, http_port: int) -> str | None:
        """The next hop of http://www -> http://apex -> https://www -> https://apex, if any."""
        if host == self.www:
            return build_url("http", self.canonical, http_port, path, _with_marker(query))

        chained, _ = _pop_marker(query)
        serves_http = "http-no-redirect" in self.flaws
        if host == self.canonical and (chained or not serves_http):
            return build_url("https", self.www, self.https_port, path, _with_marker(query))

        return None


class CorsMiddleware:
    """CORS for the API: one trusted origin when hardened, any origin with `cors-reflect`."""

    allow_methods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    allow_headers = "Authorization, Content-Type"

    def __init__(self, app: ASGIApp, *, flaws: frozenset[str], allowed_origin: str) -> None:
        self.app = app
        self.reflect = "cors-reflect" in flaws
        self.allowed_origin = allowed_origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = header(scope, b"origin") if scope["type"] == "http" else None
        if origin is None:
            await self.app(scope, receive, send)
            return

        allowed = self.reflect or origin == self.allowed_origin
        if _is_preflight(scope):
            await self._preflight(origin, allowed, scope)(scope, receive, send)
            return

        if not allowed:
            await self.app(scope, receive, send)
            return

        await self.app(scope, receive, self._adding_headers(origin, send))

    def _preflight(self, origin: str, allowed: bool, scope: Scope) -> Response:
        """Answer OPTIONS preflights here; the routes never see them."""
        if not allowed:
            return JSONResponse({"detail": "disallowed CORS origin"}, status_code=400)

        requested = header(scope, b"access-control-request-headers")
        response = Response(status_code=204)
        response.headers.update(self._cors_headers(origin))
        response.headers["Access-Control-Allow-Methods"] = self.allow_methods
        response.headers["Access-Control-Allow-Headers"] = requested or self.allow_headers
        response.headers["Access-Control-Max-Age"] = "600"
        return response

    def _adding_headers(self, origin: str, send: Send) -> Send:
        """Wrap `send` so the response start carries the CORS headers."""

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._cors_headers(origin).items():
                    headers[name] = value
            await send(message)

        return send_with_cors

    @staticmethod
    def _cors_headers(origin: str) -> dict[str, str]:
        """The credentialed-CORS trio; Vary keeps caches from mixing origins."""
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }


def _is_preflight(scope: Scope) -> bool:
    """An OPTIONS request announcing the real method is a CORS preflight."""
    return (
        scope.get("method") == "OPTIONS"
        and header(scope, b"access-control-request-method") is not None
    )


def _version_banner() -> tuple[str, str]:
    """The Server and X-Powered-By values a default, chatty deployment sends."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    uvicorn = _package_version("uvicorn")
    fastapi = _package_version("fastapi")
    return f"uvicorn/{uvicorn} (Python/{python})", f"FastAPI/{fastapi}"


def _package_version(name: str) -> str:
    """Installed version of a distribution, "0" if it cannot be determined."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "0"


class SecurityHeadersMiddleware:
    """Sets the response headers the header-related flaws are about, on every response."""

    def __init__(self, app: ASGIApp, *, flaws: frozenset[str]) -> None:
        self.app = app
        self.flaws = flaws
        self.server, self.powered_by = _version_banner()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        is_https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._apply(MutableHeaders(scope=message), is_https)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _apply(self, headers: MutableHeaders, is_https: bool) -> None:
        """Banner, HSTS and browser-hardening headers according to the flaws."""
        self._apply_banner(headers)

        if is_https and "no-hsts" not in self.flaws:
            headers["Strict-Transport-Security"] = HSTS

        if "weak-headers" in self.flaws:
            headers["Content-Security-Policy"] = WEAK_CSP
            return

        headers["Content-Security-Policy"] = HARDENED_CSP
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"

    def _apply_banner(self, headers: MutableHeaders) -> None:
        """`version-banner` advertises exact versions; hardened says only "portal"."""
        if "version-banner" in self.flaws:
            headers["Server"] = self.server
            headers["X-Powered-By"] = self.powered_by
            return

        headers["Server"] = "portal"
        if "x-powered-by" in headers:
            del headers["X-Powered-By"]


class ErrorMiddleware:
    """Turns unhandled exceptions into responses: a traceback page with `debug-errors`, else a
    bare JSON 500. It sits inside the header middleware so error pages get the same headers.
    """

    def __init__(self, app: ASGIApp, *, debug: bool) -> None:
        self.app = app
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            await self._error_response(exc)(scope, receive, send)

    def _error_response(self, exc: Exception) -> Response:
        """What the client sees; only the flawed build leaks the stack."""
        if self.debug:
            trace = "".join(traceback.format_exception(exc))
            return PlainTextResponse(f"Internal Server Error\n\n{trace}", status_code=500)

        return JSONResponse({"detail": "internal error"}, status_code=500)
