"""Login flows real portals use, against a loopback app that implements each of them."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from launchready.config import parse_config
from launchready.context import ScanContext
from tests.servers import serve

EMAIL = "user@example.test"


def login_app(password: str, token: str) -> FastAPI:
    app = FastAPI()
    sessions: set[str] = set()

    @app.post("/json-login")
    async def json_login(body: dict[str, Any]) -> Response:
        if body.get("email") == EMAIL and body.get("password") == password:
            return JSONResponse({"data": {"token": token}})
        return JSONResponse({"detail": "invalid"}, status_code=401)

    @app.post("/oauth/token")
    async def oauth(
        grant_type: str = Form(), username: str = Form(), password_: str = Form(alias="password")
    ) -> Response:
        if grant_type == "password" and username == EMAIL and password_ == password:
            return JSONResponse({"access_token": token, "token_type": "bearer"})
        return JSONResponse({"error": "invalid_grant"}, status_code=400)

    @app.get("/accounts/login/")
    async def login_page() -> Response:
        csrf = secrets.token_hex(16)
        page = HTMLResponse(
            "<html><form method=post><input type='hidden' name='csrfmiddlewaretoken' "
            f"value='{csrf}'><input name=email><input type=password name=password></form></html>"
        )
        page.set_cookie("csrftoken", csrf)
        return page

    @app.post("/accounts/login/")
    async def login_submit(request: Request) -> Response:
        form = await request.form()
        csrf_ok = form.get("csrfmiddlewaretoken") == request.cookies.get("csrftoken")
        if not csrf_ok:
            return HTMLResponse("CSRF verification failed", status_code=403)
        if form.get("email") != EMAIL or form.get("password") != password:
            # Like most server-rendered apps: the form again, with 200 and a message.
            return HTMLResponse("<form method=post>Please enter a correct email and password.")
        session_id = secrets.token_hex(16)
        sessions.add(session_id)
        done = RedirectResponse("/", status_code=302)
        done.set_cookie("sessionid", session_id, httponly=True)
        return done

    @app.post("/revoke-all")
    async def revoke_all() -> Response:
        sessions.clear()
        return Response(status_code=204)

    @app.get("/me")
    async def me(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        accepted = (
            auth in (f"Bearer {token}", f"Token {token}")
            or request.headers.get("x-api-key") == token
            or request.cookies.get("auth_token") == token
            or request.cookies.get("sessionid") in sessions
        )
        return JSONResponse(
            {"email": EMAIL} if accepted else {"detail": "no"}, 200 if accepted else 401
        )

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[int, str, str]]:
    password, token = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    with serve(login_app(password, token)) as port:
        yield port, password, token


def context(port: int, login: dict[str, Any], account: dict[str, Any]) -> ScanContext:
    config = parse_config(
        {
            "target": {"url": f"http://127.0.0.1:{port}", "openapi": "none"},
            "accounts": [{"name": "alice", **account}],
            "auth": {"login": {**login, "check": "GET /me"}},
        },
        Path("<test>"),
    )
    return ScanContext(config)


async def logged_in(ctx: ScanContext) -> tuple[bool, str | None]:
    try:
        session = await ctx.session("alice")
        return (not session.error and await ctx.is_alive(session)), session.error
    finally:
        await ctx.aclose()


CREDENTIALS = {"username_env": "LR_T_USER", "password_env": "LR_T_PASS"}

FLOWS = {
    "json": {
        "path": "/json-login",
        "json": {"email": "{username}", "password": "{password}"},
        "token_path": "data.token",
    },
    "oauth2-password": {
        "kind": "form",
        "path": "/oauth/token",
        "form": {"grant_type": "password", "username": "{username}", "password": "{password}"},
    },
    "html-form-csrf": {
        "kind": "html-form",
        "path": "/accounts/login/",
        "form": {"email": "{username}", "password": "{password}"},
        "token_path": "",
    },
    "token-scheme": {
        "path": "/json-login",
        "json": {"email": "{username}", "password": "{password}"},
        "token_path": "data.token",
        "scheme": "Token",
    },
    "custom-header": {
        "path": "/json-login",
        "json": {"email": "{username}", "password": "{password}"},
        "token_path": "data.token",
        "header": "X-Api-Key",
        "scheme": "",
    },
    "token-cookie": {
        "path": "/json-login",
        "json": {"email": "{username}", "password": "{password}"},
        "token_path": "data.token",
        "token_cookie": "auth_token",
    },
}


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_login_flow(
    server: tuple[int, str, str], flow: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, password, _ = server
    monkeypatch.setenv("LR_T_USER", EMAIL)
    monkeypatch.setenv("LR_T_PASS", password)
    alive, error = asyncio.run(logged_in(context(port, FLOWS[flow], CREDENTIALS)))
    assert error is None and alive


def test_wrong_password_is_a_clear_reason(
    server: tuple[int, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _, _ = server
    monkeypatch.setenv("LR_T_USER", EMAIL)
    monkeypatch.setenv("LR_T_PASS", "not-the-password")
    alive, error = asyncio.run(logged_in(context(port, FLOWS["json"], CREDENTIALS)))
    assert not alive and error == "login failed for account alice (HTTP 401)"


def test_form_login_answered_with_the_form_again_is_a_failure(
    server: tuple[int, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _, _ = server
    monkeypatch.setenv("LR_T_USER", EMAIL)
    monkeypatch.setenv("LR_T_PASS", "not-the-password")
    alive, error = asyncio.run(logged_in(context(port, FLOWS["html-form-csrf"], CREDENTIALS)))
    assert not alive
    assert error == "login failed for account alice (GET /me answered HTTP 401 after it)"


def test_token_from_environment(
    server: tuple[int, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _, token = server
    monkeypatch.setenv("LR_T_TOKEN", token)
    login = {**FLOWS["json"], "scheme": "Token"}
    alive, error = asyncio.run(logged_in(context(port, login, {"token_env": "LR_T_TOKEN"})))
    assert error is None and alive


def test_missing_environment_variable_is_named(
    server: tuple[int, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _, _ = server
    monkeypatch.delenv("LR_T_USER", raising=False)
    alive, error = asyncio.run(logged_in(context(port, FLOWS["json"], CREDENTIALS)))
    assert not alive and error == "cannot log in alice: $LR_T_USER is not set"


def test_expired_session_is_renewed(
    server: tuple[int, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, password, _ = server
    monkeypatch.setenv("LR_T_USER", EMAIL)
    monkeypatch.setenv("LR_T_PASS", password)

    async def scenario() -> tuple[bool, bool, bool]:
        ctx = context(port, FLOWS["html-form-csrf"], CREDENTIALS)
        try:
            first = await ctx.session("alice")
            await ctx.http.send("POST", ctx.url("/revoke-all"))
            dead = not await ctx.is_alive(first)
            renewed = await ctx.session("alice")
            return dead, renewed is not first, await ctx.is_alive(renewed)
        finally:
            await ctx.aclose()

    assert asyncio.run(scenario()) == (True, True, True)
