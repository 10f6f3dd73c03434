"""`HttpProbe` against real loopback servers: scope, redirects, budget, rate, body cap, resolve,
redaction. Every server is started by the test and stopped when its `with` block ends."""

from __future__ import annotations

import asyncio
import gzip
import json
import secrets
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest

from launchready.probe.http import MAX_REDIRECTS, HttpProbe, Limits, Response
from launchready.probe.redact import Redactor
from tests.probe.loopback import LoopbackServer, Reply, Request, html, http_handler

T = TypeVar("T")
LOOP_BOUND_S = 30.0

SCOPE = frozenset({"portal.test"})
RESOLVE = {"portal.test": "127.0.0.1", "elsewhere.test": "127.0.0.1"}


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, LOOP_BOUND_S)

    return asyncio.run(bounded())


async def with_probe(fn: Callable[[HttpProbe], Awaitable[T]], limits: Limits, **kw: Any) -> T:
    probe = HttpProbe(limits, **kw)
    try:
        return await fn(probe)
    finally:
        await probe.aclose()


def ok_route(request: Request) -> Reply:
    return html()


# -- scope guard ----------------------------------------------------------------------------------


def test_out_of_scope_host_is_refused_without_a_connection() -> None:
    with LoopbackServer(http_handler(ok_route)) as server:
        url = f"http://elsewhere.test:{server.port}/"

        async def go(probe: HttpProbe) -> tuple[Response, list[Response]]:
            return await probe.send("GET", url), await probe.follow("GET", url)

        sent, chain = run(with_probe(go, Limits(hosts=SCOPE), resolve=RESOLVE))
        assert sent.error is not None and "outside the scan scope" in sent.error
        assert "elsewhere.test" in sent.error
        assert sent.status is None
        assert len(chain) == 1 and chain[0].error == sent.error
        assert server.connections == 0
        assert server.requests == 0


def test_in_scope_host_on_the_same_server_is_sent() -> None:
    """The control for the test above: the same server, an in-scope name, one connection."""
    with LoopbackServer(http_handler(ok_route)) as server:
        url = f"http://portal.test:{server.port}/"
        response = run(
            with_probe(lambda p: p.send("GET", url), Limits(hosts=SCOPE), resolve=RESOLVE)
        )
        assert response.error is None, response.error
        assert response.status == 200
        assert server.connections == 1
        assert server.requests == 1
        assert server.seen_requests[0].headers["host"] == f"portal.test:{server.port}"


@pytest.mark.parametrize(
    "template",
    [
        "http://elsewhere.test:{port}/",
        "http://ELSEWHERE.test:{port}/",
        "http://portal.test@elsewhere.test:{port}/",
        "http://portal.test:x@elsewhere.test:{port}/",
        "http://elsewhere.test:{port}/#@portal.test",
        "http://elsewhere.test:{port}/?@portal.test",
        "http://portal.test.:{port}/",
        "http://127.0.0.1:{port}/",
    ],
)
def test_scope_guard_is_not_fooled_by_url_tricks(template: str) -> None:
    with LoopbackServer(http_handler(ok_route)) as server:
        url = template.format(port=server.port)
        response = run(
            with_probe(lambda p: p.send("GET", url), Limits(hosts=SCOPE), resolve=RESOLVE)
        )
        assert response.error is not None and "outside the scan scope" in response.error
        assert server.connections == 0


@pytest.mark.parametrize(
    "location",
    [
        "http://elsewhere.test:{port}/steal",
        "//elsewhere.test:{port}/steal",
        "http://portal.test@elsewhere.test:{port}/steal",
    ],
)
def test_follow_records_an_out_of_scope_redirect_but_does_not_follow_it(location: str) -> None:
    def route(request: Request) -> Reply:
        if request.path == "/":
            return Reply(302, [("Location", location.format(port=server.port))])
        return html("<html>should never be fetched</html>")

    with LoopbackServer(http_handler(route)) as server:
        start = f"http://portal.test:{server.port}/"
        chain = run(
            with_probe(lambda p: p.follow("GET", start), Limits(hosts=SCOPE), resolve=RESOLVE)
        )
        assert [r.status for r in chain] == [302, None]
        assert chain[0].is_redirect
        hop = chain[1]
        assert hop.url == f"http://elsewhere.test:{server.port}/steal" or (
            "elsewhere.test" in hop.url and hop.url.endswith("/steal")
        )
        assert hop.error is not None and "outside the scan scope" in hop.error
        assert server.requests == 1
        assert server.paths == ["/"]


def test_follow_follows_in_scope_redirects_and_ends_at_the_answer() -> None:
    def route(request: Request) -> Reply:
        if request.path == "/a":
            return Reply(301, [("Location", "/b")])
        if request.path == "/b":
            return Reply(302, [("Location", f"http://portal.test:{server.port}/c")])
        return html()

    with LoopbackServer(http_handler(route)) as server:
        start = f"http://portal.test:{server.port}/a"
        chain = run(
            with_probe(lambda p: p.follow("GET", start), Limits(hosts=SCOPE), resolve=RESOLVE)
        )
        assert [r.status for r in chain] == [301, 302, 200]
        assert chain[-1].url == f"http://portal.test:{server.port}/c"
        assert server.paths == ["/a", "/b", "/c"]


def test_follow_stops_a_redirect_loop_with_few_requests() -> None:
    def route(request: Request) -> Reply:
        return Reply(302, [("Location", "/b" if request.path == "/a" else "/a")])

    with LoopbackServer(http_handler(route)) as server:
        start = f"http://portal.test:{server.port}/a"
        chain = run(
            with_probe(lambda p: p.follow("GET", start), Limits(hosts=SCOPE), resolve=RESOLVE)
        )
        assert chain[-1].error == "redirect loop"
        assert chain[-1].status is None
        assert server.requests <= 3


def test_follow_gives_up_after_max_redirects() -> None:
    def route(request: Request) -> Reply:
        step = int(request.path.rsplit("/", 1)[-1] or 0)
        return Reply(302, [("Location", f"/hop/{step + 1}")])

    with LoopbackServer(http_handler(route)) as server:
        start = f"http://portal.test:{server.port}/hop/0"
        chain = run(
            with_probe(lambda p: p.follow("GET", start), Limits(hosts=SCOPE), resolve=RESOLVE)
        )
        assert chain[-1].error == f"more than {MAX_REDIRECTS} redirects"
        assert server.requests == MAX_REDIRECTS + 1


# -- budget and rate cap ---------------------------------------------------------------------------


def test_budget_refuses_further_sends_and_the_server_sees_exactly_n() -> None:
    budget = 3
    with LoopbackServer(http_handler(ok_route)) as server:
        url = f"http://portal.test:{server.port}/"

        async def go(probe: HttpProbe) -> list[Response]:
            results = [await probe.send("GET", url) for _ in range(budget + 2)]
            other = probe.sibling("alice")  # another identity shares the same budget
            try:
                results.append(await other.send("GET", url))
            finally:
                await other.aclose()
            return results

        limits = Limits(hosts=SCOPE, request_budget=budget, rate_per_second=1000)
        results = run(with_probe(go, limits, resolve=RESOLVE))
        assert [r.status for r in results[:budget]] == [200] * budget
        for refused in results[budget:]:
            assert refused.status is None
            assert refused.error == f"not sent: request budget of {budget} spent"
        assert server.requests == budget


def test_rate_cap_spaces_sequential_requests() -> None:
    with LoopbackServer(http_handler(ok_route)) as server:
        url = f"http://portal.test:{server.port}/"

        async def go(probe: HttpProbe) -> float:
            started = time.monotonic()
            for _ in range(10):
                assert (await probe.send("GET", url)).status == 200
            return time.monotonic() - started

        elapsed = run(with_probe(go, Limits(hosts=SCOPE, rate_per_second=20), resolve=RESOLVE))
        # 10 starts 50 ms apart: the last starts 450 ms after the first.
        assert 0.4 <= elapsed < 10, elapsed
        assert server.requests == 10


def test_rate_cap_holds_for_concurrent_requests_and_siblings() -> None:
    with LoopbackServer(http_handler(ok_route)) as server:
        url = f"http://portal.test:{server.port}/"

        async def go(probe: HttpProbe) -> tuple[float, list[Response]]:
            other = probe.sibling("bob")
            started = time.monotonic()
            try:
                results = await asyncio.gather(*(p.send("GET", url) for p in [probe, other] * 5))
            finally:
                await other.aclose()
            return time.monotonic() - started, list(results)

        elapsed, results = run(
            with_probe(go, Limits(hosts=SCOPE, rate_per_second=20), resolve=RESOLVE)
        )
        assert all(r.status == 200 for r in results)
        assert 0.4 <= elapsed < 10, elapsed


# -- body cap --------------------------------------------------------------------------------------

FIFTY_MB = 50 * 1024 * 1024
CHUNK = b"a" * 65536


def streamed_body(total: int = FIFTY_MB) -> Reply:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(total // len(CHUNK)):
            yield CHUNK

    return Reply(200, [("Content-Type", "text/plain")], stream=chunks, content_length=total)


@pytest.mark.parametrize("cap", [1024, 200_000])
def test_a_50_mb_body_is_cut_at_max_body_bytes_quickly(cap: int) -> None:
    with LoopbackServer(http_handler(lambda request: streamed_body())) as server:
        url = f"http://portal.test:{server.port}/big"
        started = time.monotonic()
        response = run(
            with_probe(
                lambda p: p.send("GET", url),
                Limits(hosts=SCOPE, max_body_bytes=cap),
                resolve=RESOLVE,
            )
        )
        elapsed = time.monotonic() - started
        assert response.error is None, response.error
        assert response.status == 200
        assert response.truncated is True
        assert len(response.body) == cap
        assert elapsed < 10, elapsed
        assert response.exchange is not None
        assert len(response.exchange.response_body) <= 1500


def test_a_body_under_the_cap_is_complete_and_not_truncated() -> None:
    body = b"x" * 5000
    with LoopbackServer(http_handler(lambda request: Reply(200, [], body))) as server:
        url = f"http://portal.test:{server.port}/"
        response = run(
            with_probe(
                lambda p: p.send("GET", url),
                Limits(hosts=SCOPE, max_body_bytes=5000),
                resolve=RESOLVE,
            )
        )
        assert response.body == body
        assert response.truncated is False


def test_a_gzip_bomb_is_capped_or_reported_truncated() -> None:
    bomb = gzip.compress(b"\0" * FIFTY_MB, compresslevel=9)  # ~50 KB on the wire
    cap = 200_000
    assert len(bomb) < cap

    def route(request: Request) -> Reply:
        return Reply(200, [("Content-Encoding", "gzip")], bomb)

    with LoopbackServer(http_handler(route)) as server:
        url = f"http://portal.test:{server.port}/"
        response = run(
            with_probe(
                lambda p: p.send("GET", url),
                Limits(hosts=SCOPE, max_body_bytes=cap),
                resolve=RESOLVE,
            )
        )
        assert response.status == 200
        # Either the decoded body respects the cap, or the cut it suffered is reported.
        assert len(response.body) <= cap or response.truncated


def test_total_timeout_stops_a_server_that_drips_bytes() -> None:
    """Each byte arrives well within read_timeout, yet the whole exchange is bounded."""

    def route(request: Request) -> Reply:
        async def drip() -> AsyncIterator[bytes]:
            for _ in range(200):
                await asyncio.sleep(0.1)
                yield b"."

        return Reply(200, [], stream=drip, content_length=200)

    with LoopbackServer(http_handler(route)) as server:
        url = f"http://portal.test:{server.port}/"
        limits = Limits(hosts=SCOPE, connect_timeout=0.5, read_timeout=0.5)
        started = time.monotonic()
        response = run(with_probe(lambda p: p.send("GET", url), limits, resolve=RESOLVE))
        elapsed = time.monotonic() - started
        assert response.status is None
        assert response.error is not None and "no complete answer within" in response.error
        assert 1.0 <= elapsed < 5, elapsed


def test_a_server_that_never_answers_times_out_with_a_one_line_reason() -> None:
    async def hang(server: LoopbackServer, reader: asyncio.StreamReader, writer: Any) -> None:
        await asyncio.wait_for(reader.read(1 << 20), 20)
        await asyncio.sleep(20)

    with LoopbackServer(hang) as server:
        url = f"http://portal.test:{server.port}/"
        limits = Limits(hosts=SCOPE, connect_timeout=0.5, read_timeout=0.5)
        started = time.monotonic()
        response = run(with_probe(lambda p: p.send("GET", url), limits, resolve=RESOLVE))
        assert time.monotonic() - started < 5
        assert response.error == "the server accepted the connection but did not answer in time"
        assert response.exchange is not None and response.exchange.error == response.error


# -- resolve override and TLS ----------------------------------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_resolve_override_keeps_the_real_name_for_url_host_and_certificate(
    address: str, server_tls: Callable[..., ssl.SSLContext], ca_bundle: str
) -> None:
    with LoopbackServer(
        http_handler(ok_route), ssl_context=server_tls("portal.test"), host=address
    ) as server:
        url = f"https://portal.test:{server.port}/hello?x=1"

        async def go(probe: HttpProbe) -> tuple[Response, str]:
            response = await probe.send("GET", url)
            return response, probe.curl(response)

        response, curl = run(
            with_probe(
                go, Limits(hosts=SCOPE), resolve={"portal.test": address}, ca_bundle=ca_bundle
            )
        )
        assert response.error is None, response.error
        assert response.status == 200
        assert response.url == url
        assert response.exchange is not None and response.exchange.url == url
        assert server.seen_requests[0].headers["host"] == f"portal.test:{server.port}"
        assert f"--resolve portal.test:{server.port}:{address}" in curl
        assert "--cacert" in curl and ca_bundle in curl
        assert curl.endswith(f"'{url}'")


def test_resolve_override_still_checks_the_certificate_name(
    server_tls: Callable[..., ssl.SSLContext], ca_bundle: str
) -> None:
    """A trusted certificate for another name must fail: SNI and checks use portal.test."""
    with LoopbackServer(http_handler(ok_route), ssl_context=server_tls("other.test")) as server:
        url = f"https://portal.test:{server.port}/"
        response = run(
            with_probe(
                lambda p: p.send("GET", url),
                Limits(hosts=SCOPE),
                resolve=RESOLVE,
                ca_bundle=ca_bundle,
            )
        )
        assert response.status is None
        assert response.error is not None
        assert response.error.startswith("TLS certificate not trusted")
        assert "\n" not in response.error
        assert server.requests == 0


def test_untrusted_certificate_is_a_one_line_error(
    server_tls: Callable[..., ssl.SSLContext],
) -> None:
    with LoopbackServer(http_handler(ok_route), ssl_context=server_tls("portal.test")) as server:
        url = f"https://portal.test:{server.port}/"
        # No ca_bundle: the system store does not know the test CA.
        response = run(
            with_probe(lambda p: p.send("GET", url), Limits(hosts=SCOPE), resolve=RESOLVE)
        )
        assert response.error is not None
        assert response.error.startswith("TLS certificate not trusted")
        assert "\n" not in response.error
        assert server.requests == 0


# -- redaction -------------------------------------------------------------------------------------


class Secrets:
    def __init__(self) -> None:
        self.bearer = "tok_" + secrets.token_hex(16)
        self.cookie = "c0" + secrets.token_hex(12)
        self.set_cookie = "s1" + secrets.token_hex(12)
        self.second_set_cookie = "s2" + secrets.token_hex(12)
        self.known = "sk_" + "live_" + secrets.token_hex(12)

    def all(self) -> dict[str, str]:
        return dict(vars(self))


def exchange_with(
    route: Callable[[Request], Reply], values: Secrets, extra_headers: dict[str, str]
) -> tuple[str, str]:
    """One POST carrying every kind of credential; the exchange as JSON and the curl line."""
    body = {"note": values.known}
    with LoopbackServer(http_handler(route)) as server:
        url = f"http://portal.test:{server.port}/login?api_key={values.known}"

        async def go(probe: HttpProbe) -> tuple[str, str]:
            response = await probe.send(
                "POST",
                url,
                headers={
                    "Authorization": f"Bearer {values.bearer}",
                    "Cookie": f"sid={values.cookie}; theme=dark",
                    **extra_headers,
                },
                json=body,
            )
            assert response.status == 200, response.error
            assert response.exchange is not None
            return response.exchange.model_dump_json(), probe.curl(response, body=json.dumps(body))

        return run(
            with_probe(go, Limits(hosts=SCOPE), resolve=RESOLVE, redactor=Redactor([values.known]))
        )


def leaks(text: str, values: Secrets, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if getattr(values, name) in text]


def test_credentials_and_known_secrets_are_masked_in_exchange_and_curl() -> None:
    values = Secrets()

    def route(request: Request) -> Reply:
        return Reply(
            200,
            [
                ("Set-Cookie", f"session={values.set_cookie}; Path=/; HttpOnly; Secure"),
                ("Content-Type", "application/json"),
                ("X-Debug", f"key {values.known}"),
            ],
            json.dumps({"echo": values.known, "ok": True}).encode(),
        )

    dump, curl = exchange_with(route, values, {})
    names = ("bearer", "cookie", "set_cookie", "known")
    assert leaks(dump, values, names) == []
    assert leaks(curl, values, names) == []
    # The evidence is still useful: names and shapes survive.
    exchange = json.loads(dump)
    assert exchange["request_headers"]["authorization"].startswith("Bearer tok_")
    assert exchange["response_headers"]["set-cookie"].startswith("session=")
    assert "HttpOnly" in exchange["response_headers"]["set-cookie"]
    assert "Bearer $TOKEN" in curl and "sid=$COOKIE" in curl


def test_every_set_cookie_value_is_masked_when_there_are_several() -> None:
    values = Secrets()

    def route(request: Request) -> Reply:
        return Reply(
            200,
            [
                ("Set-Cookie", f"session={values.set_cookie}; Path=/; HttpOnly"),
                ("Set-Cookie", f"remember_me={values.second_set_cookie}; Path=/; Secure"),
            ],
            b"{}",
        )

    dump, _ = exchange_with(route, values, {})
    assert leaks(dump, values, ("set_cookie", "second_set_cookie")) == []


def test_curl_masks_known_secrets_and_sensitive_headers_in_any_header() -> None:
    values = Secrets()
    csrf = "csrf" + secrets.token_hex(12)

    dump, curl = exchange_with(
        lambda request: Reply(200, [], b"{}"),
        values,
        {"X-Trace": values.known, "X-CSRF-Token": csrf},
    )
    assert values.known not in dump and csrf not in dump  # the exchange is fine
    assert values.known not in curl
    assert csrf not in curl


def test_credentials_echoed_by_the_server_are_masked_in_the_body() -> None:
    values = Secrets()

    def route(request: Request) -> Reply:
        echoed = {
            "authorization": request.headers.get("authorization", ""),
            "cookie": request.headers.get("cookie", ""),
        }
        return Reply(200, [("Content-Type", "application/json")], json.dumps(echoed).encode())

    dump, _ = exchange_with(route, values, {})
    assert leaks(dump, values, ("bearer", "cookie")) == []


def test_a_masked_value_is_not_masked_a_second_time() -> None:
    values = Secrets()
    dump, curl = exchange_with(lambda request: Reply(200, [], b"{}"), values, {})
    # A known credential is hidden whole (length only), and never masked again on top.
    assert "api_key=****(32 chars)" in json.loads(dump)["url"]
    assert " chars)" not in curl.replace("****(32 chars)", "")


def test_curl_line_expands_placeholders_in_a_shell_and_keeps_the_body() -> None:
    import subprocess

    values = Secrets()

    def route(request: Request) -> Reply:
        return Reply(200, [("Content-Type", "application/json")], b"{}")

    _, curl = exchange_with(route, values, {})
    words = curl.removeprefix("curl ")
    shown = subprocess.run(
        ["bash", "-c", f'TOKEN=tok COOKIE=ck; set -- {words}; printf "%s\\n" "$@"'],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout.splitlines()
    assert "authorization: Bearer tok" in shown
    assert "cookie: sid=ck; theme=ck" in shown
    assert any(line.startswith('{"note": ') for line in shown)


def test_curl_line_asks_for_the_password_instead_of_showing_a_mask() -> None:
    from launchready.findings import Exchange
    from launchready.probe.http import Response

    password = "pw-" + secrets.token_urlsafe(12)
    probe = HttpProbe(Limits(hosts=SCOPE), redactor=Redactor([password]))
    body = json.dumps({"email": "a@portal.test", "password": password})
    url = "https://portal.test/api/login"
    exchange = Exchange(method="POST", url=url, request_body=probe.redactor.text(body))
    response = Response("POST", url, status=401, exchange=exchange)
    response.request_headers = {"content-type": "application/json"}

    curl = probe.curl(response)
    assert password not in curl
    assert '"password\\": \\"$PASSWORD\\"' in curl
