"""End-to-end tests of the demo portal: each flaw is present when flawed and absent when hardened.

One real server per mode (module-scoped), reached over TLS with the run's CA. DNS does not know
portal.test, so every request goes to 127.0.0.1 with the Host header and SNI set to the name.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import jwt
import pytest

from launchready.demo import FLAWS, DemoPortal, start_demo

pytestmark = pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")

REDIRECTS = {301, 302, 303, 307, 308}


class Portal:
    """Test-side handle on a running demo: host-mapped requests and cached logins."""

    def __init__(self, demo: DemoPortal) -> None:
        self.demo = demo
        self.tls = ssl.create_default_context(cafile=str(demo.ca_path))
        self.client = httpx.Client(verify=self.tls, timeout=10.0)
        self._logins: dict[str, httpx.Response] = {}

    def fetch(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Request an absolute portal URL, connecting to 127.0.0.1 instead of resolving it."""
        parts = urlsplit(url)
        target = f"{parts.scheme}://127.0.0.1:{parts.port}{parts.path or '/'}"
        if parts.query:
            target += f"?{parts.query}"

        headers = {"Host": parts.netloc, **kwargs.pop("headers", {})}
        extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}

        # Cookies are always passed explicitly, so nothing leaks from one request to the next.
        self.client.cookies.clear()
        return self.client.request(method, target, headers=headers, extensions=extensions, **kwargs)

    def https(self, method: str, path: str, host: str = "portal.test", **kw: Any) -> httpx.Response:
        """Request a path on the HTTPS listener."""
        return self.fetch(method, f"https://{host}:{self.demo.https_port}{path}", **kw)

    def http(self, method: str, path: str, host: str = "portal.test", **kw: Any) -> httpx.Response:
        """Request a path on the plain-HTTP listener."""
        return self.fetch(method, f"http://{host}:{self.demo.http_port}{path}", **kw)

    def account(self, email: str) -> dict[str, str]:
        """A seeded account by email."""
        return next(a for a in self.demo.accounts if a["email"] == email)

    def login(self, email: str) -> httpx.Response:
        """A fresh API login."""
        password = self.account(email)["password"]
        return self.https("POST", "/api/login", json={"email": email, "password": password})

    def cached_login(self, email: str) -> httpx.Response:
        """One login per user and module: logins take 0.7 s in the flawed build."""
        if email not in self._logins:
            self._logins[email] = self.login(email)
        return self._logins[email]

    def token(self, email: str) -> str:
        """A cached bearer token."""
        token: str = self.cached_login(email).json()["access_token"]
        return token

    def auth(self, email: str) -> dict[str, str]:
        """Authorization header for a seeded user."""
        return {"Authorization": f"Bearer {self.token(email)}"}

    def follow(self, url: str, max_hops: int = 10) -> tuple[list[str], httpx.Response]:
        """Follow redirects by hand (each hop host-mapped); returns visited URLs and the last
        response."""
        chain = [url]
        response = self.fetch("GET", url)
        while response.status_code in REDIRECTS and len(chain) <= max_hops:
            chain.append(urljoin(chain[-1], response.headers["location"]))
            response = self.fetch("GET", chain[-1])
        return chain, response


@pytest.fixture(scope="module")
def flawed() -> Iterator[Portal]:
    with start_demo(frozenset(FLAWS)) as demo:
        portal = Portal(demo)
        yield portal
        portal.client.close()


@pytest.fixture(scope="module")
def hardened() -> Iterator[Portal]:
    with start_demo(frozenset()) as demo:
        portal = Portal(demo)
        yield portal
        portal.client.close()


def forged_token(claims: dict[str, Any], alg: str = "none", signature: str = "") -> str:
    """An unsigned (or signature-stripped) JWT with the given claims."""

    def segment(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{segment({'alg': alg, 'typ': 'JWT'})}.{segment(claims)}.{signature}"


def carol_as_admin_claims() -> dict[str, Any]:
    """A member (carol, id 3) promoting herself to admin through forged claims."""
    return {"sub": "3", "org": "acme", "role": "admin", "jti": "forged", "exp": time.time() + 600}


def peer_certificate(portal: Portal) -> dict[str, Any]:
    """The leaf certificate the HTTPS listener presents for portal.test."""
    with (
        socket.create_connection(("127.0.0.1", portal.demo.https_port), timeout=5) as raw,
        portal.tls.wrap_socket(raw, server_hostname="portal.test") as tls,
    ):
        cert: dict[str, Any] = tls.getpeercert()  # type: ignore[assignment]
        return cert


# --- the demo itself -----------------------------------------------------------------------


def test_catalogue_names_every_toggle() -> None:
    assert set(FLAWS) == {
        "no-hsts",
        "weak-headers",
        "insecure-cookie",
        "cors-reflect",
        "http-no-redirect",
        "no-canonical-host",
        "redirect-chain",
        "debug-errors",
        "exposed-files",
        "open-admin",
        "version-banner",
        "unauth-export",
        "jwt-alg-none",
        "jwt-weak-secret",
        "jwt-no-expiry",
        "slow-login",
        "short-cert",
        "idor-documents",
        "org-from-query",
        "mass-assignment-role",
        "list-leak",
        "admin-open-to-members",
        "logout-no-revoke",
        "reset-token-reusable",
        "invite-token-reusable",
        "enumeration-messages",
        "session-fixation",
        "long-session",
        "no-mfa",
    }
    assert all(isinstance(text, str) and text for text in FLAWS.values())


def test_unknown_flaw_is_rejected() -> None:
    with pytest.raises(ValueError, match="no-such-flaw"):
        start_demo(frozenset({"no-such-flaw"}))


def test_portal_attributes(hardened: Portal) -> None:
    demo = hardened.demo
    assert demo.base_url == f"https://portal.test:{demo.https_port}"
    assert demo.flaws == frozenset()
    assert Path(demo.ca_path).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert {(a["email"], a["org"], a["role"]) for a in demo.accounts} == {
        ("alice@acme.test", "acme", "admin"),
        ("bob@globex.test", "globex", "admin"),
        ("carol@acme.test", "acme", "member"),
        ("dave@globex.test", "globex", "member"),
    }
    assert len({a["password"] for a in demo.accounts}) == 4
    expired = {a["email"]: a["expired_token"] for a in demo.accounts}
    for email, token in expired.items():
        headers = {"Authorization": f"Bearer {token}"}
        assert hardened.https("GET", "/api/me", headers=headers).status_code == 401, email


def test_stop_cleans_up() -> None:
    with start_demo(frozenset({"short-cert"})) as demo:
        ca_dir = Path(demo.ca_path).parent
        assert ca_dir.is_dir()

    assert not ca_dir.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", demo.https_port), timeout=1).close()


# --- behaviour shared by both builds -------------------------------------------------------


@pytest.mark.parametrize("mode", ["flawed", "hardened"])
def test_core_api(mode: str, request: pytest.FixtureRequest) -> None:
    portal: Portal = request.getfixturevalue(mode)

    assert portal.https("GET", "/api/health").json() == {"status": "ok"}
    assert "/static/app.js" in portal.https("GET", "/").text

    wrong = portal.https("POST", "/api/login", json={"email": "alice@acme.test", "password": "x"})
    assert wrong.status_code == 401

    me = portal.https("GET", "/api/me", headers=portal.auth("alice@acme.test")).json()
    assert (me["email"], me["org"], me["role"]) == ("alice@acme.test", "acme", "admin")

    assert portal.https("GET", "/api/me").status_code == 401


def test_tenant_isolation(hardened: Portal) -> None:
    portal = hardened
    alice, bob = portal.auth("alice@acme.test"), portal.auth("bob@globex.test")

    acme_docs = portal.https("GET", "/api/documents", headers=alice).json()
    globex_docs = portal.https("GET", "/api/documents", headers=bob).json()
    assert [d["id"] for d in acme_docs][:2] == [1, 2]
    assert [d["id"] for d in globex_docs][:2] == [3, 4]

    assert portal.https("GET", "/api/documents/1", headers=alice).status_code == 200
    assert portal.https("GET", "/api/documents/3", headers=alice).status_code == 404
    assert portal.https("DELETE", "/api/documents/3", headers=alice).status_code == 404
    assert (
        portal.https("PUT", "/api/forms/2", headers=alice, json={"fields": {}}).status_code == 404
    )


def test_roles(hardened: Portal) -> None:
    portal = hardened
    alice, carol = portal.auth("alice@acme.test"), portal.auth("carol@acme.test")

    users = portal.https("GET", "/api/admin/users", headers=alice).json()
    assert {u["email"] for u in users} == {"alice@acme.test", "carol@acme.test"}
    assert portal.https("GET", "/api/admin/users", headers=carol).status_code == 403
    assert portal.https("POST", "/api/invites", headers=carol).status_code == 403


@pytest.mark.parametrize("mode", ["flawed", "hardened"])
def test_uploads_and_forms(mode: str, request: pytest.FixtureRequest) -> None:
    portal: Portal = request.getfixturevalue(mode)
    carol = portal.auth("carol@acme.test")

    def start(size: int, content_type: str) -> httpx.Response:
        body = {"filename": "report.pdf", "size": size, "content_type": content_type}
        return portal.https("POST", "/api/documents", headers=carol, json=body)

    created = start(1024, "application/pdf")
    assert created.status_code == 201
    assert created.json()["upload_url"].endswith(f"/api/documents/{created.json()['id']}/content")
    assert start(11 * 1024 * 1024, "application/pdf").status_code == 413
    assert start(1024, "application/x-msdownload").status_code == 415

    doc_id = created.json()["id"]
    assert portal.https("DELETE", f"/api/documents/{doc_id}", headers=carol).status_code == 204

    saved = portal.https("PUT", "/api/forms/1", headers=carol, json={"fields": {"vat": "GB1"}})
    assert saved.status_code == 200
    assert saved.json()["fields"] == {"vat": "GB1"}


def test_invite_flow(hardened: Portal) -> None:
    portal = hardened
    invite = portal.https(
        "POST",
        "/api/invites",
        headers=portal.auth("alice@acme.test"),
        json={"email": "erin@acme.test"},
    )
    assert invite.status_code == 201

    body = {"token": invite.json()["token"], "password": "a long passphrase", "name": "Dave"}
    accepted = portal.https("POST", "/api/invites/accept", json=body)
    assert accepted.status_code == 201
    assert (accepted.json()["org"], accepted.json()["role"]) == ("acme", "member")
    assert portal.https("POST", "/api/invites/accept", json=body).status_code == 400


def test_logout_revokes_token_and_session(hardened: Portal) -> None:
    portal = hardened
    login = portal.login("bob@globex.test")
    token, session = login.json()["access_token"], login.cookies["session"]
    bearer = {"Authorization": f"Bearer {token}"}
    cookie = {"Cookie": f"session={session}"}

    assert portal.https("GET", "/api/me", headers=cookie).status_code == 200
    assert portal.https("POST", "/api/logout", headers=bearer).status_code == 204
    assert portal.https("GET", "/api/me", headers=bearer).status_code == 401
    assert portal.https("GET", "/api/me", headers=cookie).status_code == 401


@pytest.mark.parametrize("mode", ["flawed", "hardened"])
def test_form_login(mode: str, request: pytest.FixtureRequest) -> None:
    portal: Portal = request.getfixturevalue(mode)
    page = portal.https("GET", "/login")
    assert '<form method="post" action="/login">' in page.text
    csrf = page.cookies["csrf"]
    assert f'name="csrf" value="{csrf}"' in page.text

    account = portal.account("carol@acme.test")
    form = {"email": account["email"], "password": account["password"], "csrf": csrf}
    ok = portal.https("POST", "/login", data=form, headers={"Cookie": f"csrf={csrf}"})
    assert ok.status_code == 303
    assert ok.headers["location"] == "/"
    assert "session" in ok.cookies

    assert portal.https("POST", "/login", data=form).status_code == 403


@pytest.mark.parametrize("mode", ["flawed", "hardened"])
def test_openapi_security(mode: str, request: pytest.FixtureRequest) -> None:
    portal: Portal = request.getfixturevalue(mode)
    paths = portal.https("GET", "/openapi.json").json()["paths"]

    for path, method in [
        ("/api/login", "post"),
        ("/api/health", "get"),
        ("/api/invites/accept", "post"),
    ]:
        assert not paths[path][method].get("security"), path
    for path, method in [
        ("/api/me", "get"),
        ("/api/documents", "get"),
        ("/api/reports/export", "get"),
        ("/api/admin/users", "get"),
    ]:
        assert paths[path][method]["security"] == [{"HTTPBearer": []}], path


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("mode", ["flawed", "hardened"])
def test_tls_1_2_minimum(mode: str, request: pytest.FixtureRequest) -> None:
    portal: Portal = request.getfixturevalue(mode)

    def handshake(version: ssl.TLSVersion) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(portal.demo.ca_path)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1  # old versions on purpose: must be refused
        ctx.maximum_version = version
        with (
            socket.create_connection(("127.0.0.1", portal.demo.https_port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname="portal.test"),
        ):
            pass

    handshake(ssl.TLSVersion.TLSv1_2)
    with pytest.raises(ssl.SSLError):
        handshake(ssl.TLSVersion.TLSv1_1)


# --- one test per flaw ---------------------------------------------------------------------


def test_no_hsts(flawed: Portal, hardened: Portal) -> None:
    assert "strict-transport-security" not in flawed.https("GET", "/").headers
    hsts = hardened.https("GET", "/").headers["strict-transport-security"]
    assert hsts == "max-age=31536000; includeSubDomains"


def test_weak_headers(flawed: Portal, hardened: Portal) -> None:
    weak = flawed.https("GET", "/").headers
    for name in ("x-content-type-options", "x-frame-options", "referrer-policy"):
        assert name not in weak
    assert "'unsafe-inline'" in weak["content-security-policy"]
    assert "frame-ancestors" not in weak["content-security-policy"]

    strong = hardened.https("GET", "/").headers
    assert strong["content-security-policy"] == (
        "default-src 'self'; script-src 'self'; frame-ancestors 'none'"
    )
    assert strong["x-content-type-options"] == "nosniff"
    assert strong["x-frame-options"] == "DENY"
    assert strong["referrer-policy"] == "strict-origin-when-cross-origin"


def test_insecure_cookie(flawed: Portal, hardened: Portal) -> None:
    weak = flawed.cached_login("alice@acme.test").headers["set-cookie"].lower()
    assert weak.startswith("session=")
    for attribute in ("secure", "httponly", "samesite"):
        assert attribute not in weak

    strong = hardened.cached_login("alice@acme.test").headers["set-cookie"].lower()
    for attribute in ("; secure", "; httponly", "samesite=lax"):
        assert attribute in strong


def test_cors_reflect(flawed: Portal, hardened: Portal) -> None:
    evil = {"Origin": "https://evil.test"}
    preflight = {**evil, "Access-Control-Request-Method": "GET"}

    for response in (
        flawed.https("GET", "/api/health", headers=evil),
        flawed.https("OPTIONS", "/api/me", headers=preflight),
    ):
        assert response.headers["access-control-allow-origin"] == "https://evil.test"
        assert response.headers["access-control-allow-credentials"] == "true"

    for response in (
        hardened.https("GET", "/api/health", headers=evil),
        hardened.https("OPTIONS", "/api/me", headers=preflight),
    ):
        assert "access-control-allow-origin" not in response.headers

    own = {"Origin": hardened.demo.base_url}
    allowed = hardened.https("GET", "/api/health", headers=own)
    assert allowed.headers["access-control-allow-origin"] == hardened.demo.base_url


def test_http_no_redirect(flawed: Portal, hardened: Portal) -> None:
    served = flawed.http("GET", "/api/health")
    assert served.status_code == 200
    assert served.json() == {"status": "ok"}

    redirected = hardened.http("GET", "/api/health?x=1")
    assert redirected.status_code == 301
    assert redirected.headers["location"] == (
        f"https://portal.test:{hardened.demo.https_port}/api/health?x=1"
    )


def test_no_canonical_host(flawed: Portal, hardened: Portal) -> None:
    served = flawed.https("GET", "/", host="www.portal.test")
    assert served.status_code == 200
    assert "Client Portal" in served.text

    redirected = hardened.https("GET", "/login", host="www.portal.test")
    assert redirected.status_code == 301
    assert redirected.headers["location"] == f"https://portal.test:{hardened.demo.https_port}/login"


def test_redirect_chain(flawed: Portal, hardened: Portal) -> None:
    chain, final = flawed.follow(f"http://www.portal.test:{flawed.demo.http_port}/")
    hosts = [(urlsplit(url).scheme, urlsplit(url).hostname) for url in chain]
    assert hosts == [
        ("http", "www.portal.test"),
        ("http", "portal.test"),
        ("https", "www.portal.test"),
        ("https", "portal.test"),
    ]
    assert final.status_code == 200
    assert chain[-1] == f"https://portal.test:{flawed.demo.https_port}/"

    chain, final = hardened.follow(f"http://www.portal.test:{hardened.demo.http_port}/")
    assert chain == [chain[0], f"https://portal.test:{hardened.demo.https_port}/"]
    assert final.status_code == 200


def test_debug_errors(flawed: Portal, hardened: Portal) -> None:
    def bad_inputs(portal: Portal) -> list[httpx.Response]:
        return [
            portal.https("GET", "/api/documents/abc"),
            portal.https(
                "POST",
                "/api/login",
                content=b'{"email": ',
                headers={"Content-Type": "application/json"},
            ),
        ]

    for response in bad_inputs(flawed):
        assert response.status_code == 500
        assert "Traceback (most recent call last):" in response.text
        assert 'File "' in response.text

    for response in bad_inputs(hardened):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/json"
        assert "Traceback" not in response.text


def test_exposed_files(flawed: Portal, hardened: Portal) -> None:
    env = flawed.https("GET", "/.env")
    assert env.status_code == 200
    assert "DATABASE_URL=sqlite:///portal.db" in env.text
    assert "SECRET_KEY=" in env.text

    git = flawed.https("GET", "/.git/config").text
    assert "[core]" in git and '[remote "origin"]' in git

    source_map = flawed.https("GET", "/static/app.js.map").json()
    assert source_map["sources"] and source_map["sourcesContent"]
    assert "sourceMappingURL=app.js.map" in flawed.https("GET", "/static/app.js").text
    assert "CREATE TABLE" in flawed.https("GET", "/backup.sql").text

    assert flawed.https("HEAD", "/.env").status_code == 200

    for path in ("/.env", "/.git/config", "/static/app.js.map", "/backup.sql"):
        assert hardened.https("GET", path).status_code == 404, path
        assert hardened.https("HEAD", path).status_code == 404, path
    assert "sourceMappingURL" not in hardened.https("GET", "/static/app.js").text


def test_open_admin(flawed: Portal, hardened: Portal) -> None:
    page = flawed.https("GET", "/admin")
    assert page.status_code == 200
    assert "Admin dashboard" in page.text

    refused = hardened.https("GET", "/admin")
    assert refused.status_code == 302
    assert refused.headers["location"] == "/login"


def test_version_banner(flawed: Portal, hardened: Portal) -> None:
    chatty = flawed.https("GET", "/").headers
    assert chatty["server"].startswith("uvicorn/")
    assert "Python/3." in chatty["server"]
    assert chatty["x-powered-by"].startswith("FastAPI/")

    quiet = hardened.https("GET", "/").headers
    assert quiet["server"] == "portal"
    assert "x-powered-by" not in quiet


def test_unauth_export(flawed: Portal, hardened: Portal) -> None:
    leaked = flawed.https("GET", "/api/reports/export")
    assert leaked.status_code == 200
    assert leaked.text.startswith("org,document_id,filename")
    assert "globex" in leaked.text and "acme" in leaked.text

    assert hardened.https("GET", "/api/reports/export").status_code == 401
    own = hardened.https("GET", "/api/reports/export", headers=hardened.auth("bob@globex.test"))
    assert own.status_code == 200
    assert "globex" in own.text and "acme," not in own.text


def test_jwt_alg_none(flawed: Portal, hardened: Portal) -> None:
    claims = carol_as_admin_claims()
    unsigned = forged_token(claims)
    stripped = forged_token(claims, alg="HS256")

    for token in (unsigned, stripped):
        headers = {"Authorization": f"Bearer {token}"}
        assert flawed.https("GET", "/api/admin/users", headers=headers).status_code == 200
        assert hardened.https("GET", "/api/admin/users", headers=headers).status_code == 401


def test_jwt_weak_secret(flawed: Portal, hardened: Portal) -> None:
    word = "sec" + "ret"
    claims = jwt.decode(flawed.token("alice@acme.test"), word, algorithms=["HS256"])
    assert claims["sub"] == "1" and claims["org"] == "acme" and claims["role"] == "admin"
    assert {"jti", "exp"} <= claims.keys()

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(hardened.token("alice@acme.test"), word, algorithms=["HS256"])

    forged = jwt.encode(carol_as_admin_claims(), word, algorithm="HS256")
    headers = {"Authorization": f"Bearer {forged}"}
    assert flawed.https("GET", "/api/admin/users", headers=headers).status_code == 200
    assert hardened.https("GET", "/api/admin/users", headers=headers).status_code == 401


def test_slow_login(flawed: Portal, hardened: Portal) -> None:
    def timed_login(portal: Portal) -> float:
        portal.https("GET", "/api/health")  # warm the connection so only the login is timed
        started = time.perf_counter()
        assert portal.login("carol@acme.test").status_code == 200
        return time.perf_counter() - started

    assert timed_login(flawed) >= 0.65
    assert timed_login(hardened) < 0.3


def test_short_cert(flawed: Portal, hardened: Portal) -> None:
    def days_left(portal: Portal) -> float:
        not_after = ssl.cert_time_to_seconds(peer_certificate(portal)["notAfter"])
        return (not_after - time.time()) / 86400

    assert 9 <= days_left(flawed) <= 10
    assert 89 <= days_left(hardened) <= 90

    names = {value for _, value in peer_certificate(hardened)["subjectAltName"]}
    assert names == {"portal.test", "www.portal.test"}


# --- access-control flaws ------------------------------------------------------------------


def test_enumeration_messages(flawed: Portal, hardened: Portal) -> None:
    def answers(portal: Portal, email: str) -> list[tuple[int, str]]:
        login = portal.https("POST", "/api/login", json={"email": email, "password": "x" * 12})
        reset = portal.https("POST", "/api/password-reset", json={"email": email})
        return [(login.status_code, login.text), (reset.status_code, reset.text)]

    unknown = "nobody-here@acme.test"
    assert answers(hardened, "carol@acme.test") == answers(hardened, unknown)
    flawed_known, flawed_unknown = answers(flawed, "carol@acme.test"), answers(flawed, unknown)
    assert all(k != u for k, u in zip(flawed_known, flawed_unknown, strict=True))


def test_idor_documents(flawed: Portal, hardened: Portal) -> None:
    for portal, expected in ((flawed, 200), (hardened, 404)):
        bob = portal.auth("bob@globex.test")
        assert portal.https("GET", "/api/documents/1", headers=bob).status_code == expected
        rename = {"filename": "renamed.pdf"}
        patched = portal.https("PATCH", "/api/documents/2", headers=bob, json=rename)
        assert patched.status_code == expected


def test_list_leak(flawed: Portal, hardened: Portal) -> None:
    def listed_orgs(portal: Portal) -> set[str]:
        docs = portal.https("GET", "/api/documents", headers=portal.auth("bob@globex.test"))
        return {doc["org"] for doc in docs.json()}

    assert listed_orgs(flawed) == {"acme", "globex"}
    assert listed_orgs(hardened) == {"globex"}


def test_org_from_query(flawed: Portal, hardened: Portal) -> None:
    def orgs_seen(portal: Portal, **kwargs: Any) -> set[str]:
        bob = portal.auth("bob@globex.test")
        headers = {**bob, **kwargs.pop("headers", {})}
        docs = portal.https("GET", "/api/documents", headers=headers, **kwargs)
        return {doc["org"] for doc in docs.json()}

    assert orgs_seen(flawed, params={"org_id": "1"}) == {"acme"}
    assert orgs_seen(flawed, headers={"X-Org-Id": "1"}) == {"acme"}
    assert orgs_seen(hardened, params={"org_id": "1"}) == {"globex"}
    assert orgs_seen(hardened, headers={"X-Org-Id": "1"}) == {"globex"}


def test_mass_assignment_role(flawed: Portal, hardened: Portal) -> None:
    for portal, expected in ((flawed, "admin"), (hardened, "member")):
        carol = {
            "Authorization": f"Bearer {portal.login('carol@acme.test').json()['access_token']}"
        }
        body = {"name": "Carol Chen", "role": "admin"}
        assert portal.https("PATCH", "/api/me", headers=carol, json=body).status_code == 200
        assert portal.https("GET", "/api/me", headers=carol).json()["role"] == expected
        # Put carol back, so that the other tests see a member.
        portal.https("PATCH", "/api/me", headers=carol, json={"role": "member"})


def test_admin_open_to_members(flawed: Portal, hardened: Portal) -> None:
    for portal, expected in ((flawed, 200), (hardened, 403)):
        carol = portal.auth("carol@acme.test")
        assert portal.https("GET", "/api/admin/users", headers=carol).status_code == expected


def test_logout_no_revoke(flawed: Portal) -> None:
    login = flawed.login("bob@globex.test")
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    cookie = {"Cookie": f"session={login.cookies['session']}"}

    assert flawed.https("POST", "/api/logout", headers=bearer).status_code == 204
    assert flawed.https("GET", "/api/me", headers=bearer).status_code == 200
    assert flawed.https("GET", "/api/me", headers=cookie).status_code == 200


def test_invite_token_reusable(flawed: Portal) -> None:
    alice = flawed.auth("alice@acme.test")
    token = flawed.https("POST", "/api/invites", headers=alice, json={}).json()["token"]
    body = {"token": token, "password": "a long passphrase", "name": "Frank"}

    first = flawed.https("POST", "/api/invites/accept", json=body)
    second = flawed.https("POST", "/api/invites/accept", json=body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["email"] != second.json()["email"]


def reset_link_token(portal: Portal, email: str) -> str:
    """Ask for a reset and read the token from the mail the portal sent."""
    sent = len(portal.demo.outbox)
    assert portal.https("POST", "/api/password-reset", json={"email": email}).status_code == 202
    mail = portal.demo.outbox[sent]
    assert mail["to"] == email
    return mail["body"].split("token=", 1)[1].split()[0]


def test_reset_token_reusable(flawed: Portal, hardened: Portal) -> None:
    for portal, second_use in ((flawed, 200), (hardened, 400)):
        token = reset_link_token(portal, "dave@globex.test")
        body = {"token": token, "password": "a brand new passphrase"}
        confirm = "/api/password-reset/confirm"
        assert portal.https("POST", confirm, json=body).status_code == 200
        assert portal.https("POST", confirm, json=body).status_code == second_use


def test_session_fixation(flawed: Portal, hardened: Portal) -> None:
    planted = "planted-session-id-0123456789"
    for portal, kept in ((flawed, True), (hardened, False)):
        password = portal.account("carol@acme.test")["password"]
        login = portal.https(
            "POST",
            "/api/login",
            json={"email": "carol@acme.test", "password": password},
            headers={"Cookie": f"session={planted}-{kept}"},
        )
        assert (login.cookies["session"] == f"{planted}-{kept}") is kept


def test_long_session(flawed: Portal, hardened: Portal) -> None:
    def max_age(portal: Portal) -> int:
        cookie = portal.cached_login("alice@acme.test").headers["set-cookie"].lower()
        return int(cookie.split("max-age=", 1)[1].split(";", 1)[0])

    assert max_age(flawed) == 30 * 86400
    assert max_age(hardened) == 8 * 3600


def test_no_mfa(flawed: Portal, hardened: Portal) -> None:
    assert (
        flawed.https("GET", "/api/mfa", headers=flawed.auth("alice@acme.test")).status_code == 404
    )
    mfa = hardened.https("GET", "/api/mfa", headers=hardened.auth("alice@acme.test"))
    assert mfa.status_code == 200 and mfa.json()["available"] is True


def test_jwt_no_expiry(flawed: Portal, hardened: Portal) -> None:
    for portal, expected in ((flawed, 200), (hardened, 401)):
        token = portal.account("alice@acme.test")["expired_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert portal.https("GET", "/api/me", headers=headers).status_code == expected
