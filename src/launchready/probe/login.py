"""Logging an account in, the ways real portals do it (see `config.Login` for the kinds).

The result is a `Session`: the identity's own probe (its cookie jar) plus the headers that
carry its token. Nothing here decides anything about the portal's security.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from launchready.config import Login
from launchready.engines.templates import fill
from launchready.probe.http import HttpProbe, Response

_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
CSRF_NAMES = re.compile(r"csrf|xsrf|authenticity_token|_token$|__requestverificationtoken", re.I)


@dataclass
class Session:
    """A logged-in identity."""

    account: str
    probe: HttpProbe
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    error: str | None = None
    login_response: Response | None = None

    async def send(self, method: str, url: str, **kwargs: Any) -> Response:
        headers = {**self.headers, **(kwargs.pop("headers", None) or {})}
        cookies = {**self.cookies, **(kwargs.pop("cookies", None) or {})} or None
        return await self.probe.send(method, url, headers=headers, cookies=cookies, **kwargs)


def hidden_inputs(page: str) -> dict[str, str]:
    """name -> value of every hidden input of a page (the CSRF token is usually one)."""
    found = {}
    for tag in _INPUT.findall(page[:500_000]):
        attributes = {
            m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            for m in _ATTR.finditer(tag)
        }
        if attributes.get("type", "").lower() == "hidden" and attributes.get("name"):
            found[attributes["name"]] = attributes.get("value", "")
    return found


def token_at(response: Response, path: str | None) -> str | None:
    """The string at a dotted path of a JSON answer, or None."""
    if not path:
        return None
    try:
        value: Any = response.json()
    except ValueError:
        return None
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value if isinstance(value, str) and value else None


def session_from_token(name: str, probe: HttpProbe, login: Login | None, token: str) -> Session:
    if login and login.token_cookie:
        return Session(name, probe, cookies={login.token_cookie: token}, token=token)
    header = login.header if login else "Authorization"
    scheme = login.scheme if login else "Bearer"
    value = f"{scheme} {token}" if scheme else token
    return Session(name, probe, headers={header: value}, token=token)


async def log_in(
    name: str,
    probe: HttpProbe,
    login: Login,
    url: Callable[[str], str],
    username: str,
    password: str,
) -> Session:
    """Log in once; a failure is a Session with `error`, worded for the scorecard."""
    values = {"username": username, "password": password}
    headers: dict[str, str] = {}
    form = fill(login.form, values) if login.form is not None else None

    if login.kind == "html-form":
        page = await probe.send("GET", url(login.page or login.path))
        if page.status is None or page.status >= 400:
            reason = page.error or f"HTTP {page.status}"
            return Session(name, probe, error=f"login page failed for account {name} ({reason})")
        hidden = hidden_inputs(page.text)
        form = {**hidden, **(form or {})}
        csrf = _csrf_value(login, hidden, probe)
        if csrf and login.csrf_header:
            headers[login.csrf_header] = csrf
        if csrf and login.csrf_field:
            form[login.csrf_field] = csrf

    body = fill(login.json_body, values) if login.kind == "json" else None
    response = await probe.send(
        login.method, url(login.path), json=body, data=form, headers=headers or None
    )
    if response.status is None or response.status >= 400:
        reason = response.error or f"HTTP {response.status}"
        error = f"login failed for account {name} ({reason})"
        return Session(name, probe, error=error, login_response=response)

    token = token_at(response, login.token_path)
    if token:
        session = session_from_token(name, probe, login, token)
        session.login_response = response
        return session
    if not response.headers.get_list("set-cookie") and login.kind == "json":
        return Session(
            name, probe, error=f"login for account {name} returned no token at {login.token_path}"
        )
    return Session(name, probe, login_response=response)  # the cookie jar is the session


def _csrf_value(login: Login, hidden: dict[str, str], probe: HttpProbe) -> str | None:
    if login.csrf_cookie:
        return probe.cookie(login.csrf_cookie)
    if login.csrf_field:
        return hidden.get(login.csrf_field)
    return next((value for key, value in hidden.items() if CSRF_NAMES.search(key)), None)
