"""auth row: protected operations refuse missing, garbage and forged credentials; session
cookies carry their protective flags.

Cookie flags sit in this row because a session cookie without Secure or HttpOnly is a way
around authentication (a stolen session), and it is fixed where sessions are issued.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time

from launchready.checks.base import CheckReport, check
from launchready.checks.tls_domain import evidence_of
from launchready.context import ScanContext
from launchready.probe.http import Response
from launchready.probe.openapi import Operation

# Writes are probed with an id that should not exist, so a missing check cannot touch data.
READ_ID, WRITE_ID = "1", "0"
MAX_OPERATIONS = 40
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Operations that end sessions are not replayed: a flawed server could end the scan's own.
SESSION_ENDING = re.compile(r"log-?out|sign-?out|revoke", re.IGNORECASE)


def _b64(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims_of(token: str | None) -> dict[str, object]:
    """The real token's claims when we have one, else plausible ones for a privileged user."""
    if token and token.count(".") == 2:
        try:
            payload = token.split(".")[1]
            decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            if isinstance(decoded, dict):
                return decoded
        except ValueError:
            pass
    return {"sub": "1", "role": "admin", "exp": int(time.time()) + 3600}


def forged_tokens(real_token: str | None) -> dict[str, str]:
    """Credential variants a server must refuse, by outcome code.

    A forged token gets its own jti: if a server wrongly accepted it on a logout route, it
    must not revoke the real session the scan is using.
    """
    claims = _claims_of(real_token)
    if "jti" in claims:
        claims["jti"] = f"launchready-{secrets.token_hex(8)}"
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    stripped = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}."
    return {
        "garbage-token-accepted": "Bearer launchready-not-a-valid-token",
        "jwt-alg-none-accepted": f"Bearer {unsigned}",
        "jwt-unsigned-accepted": f"Bearer {stripped}",
    }


# What the curl line's $TOKEN stands for in each finding: never a real session's token.
CREDENTIAL_SENT = {
    "no-credentials-accepted": "sent with no credentials at all",
    "garbage-token-accepted": "$TOKEN is the made-up string launchready-not-a-valid-token",
    "jwt-alg-none-accepted": "$TOKEN is a real token's claims under an alg none header, unsigned",
    "jwt-unsigned-accepted": "$TOKEN is a real token's header and claims with no signature",
}


def _is_refused(response: Response) -> bool | None:
    """True when refused, False when served, None when the answer says neither."""
    if response.status in (401, 403):
        return True
    if response.status is not None and 300 <= response.status < 400:
        return True  # sent to a login page
    if response.status is not None and 200 <= response.status < 300:
        return False
    return None


async def _token_of(ctx: ScanContext) -> str | None:
    for account in ctx.config.accounts:
        session = await ctx.login(account.name)
        if session.token:
            return session.token
    return None


@check("auth.protected-operations", needs=("protected",))
async def protected_operations(ctx: ScanContext, report: CheckReport) -> None:
    operations, source = await ctx.protected_operations()
    if not operations and ctx.config.target.openapi not in (None, "none"):
        report.error(f"the configured OpenAPI document could not be read: {source}")
        return
    if not operations:
        report.unverified(
            f"no protected operation known ({source})",
            config_key="target.openapi or auth.protected",
        )
        return

    # Writes are only sent when active probes are allowed.
    allowed = [
        op
        for op in operations
        if (op.method in SAFE_METHODS or ctx.has("active")) and not SESSION_ENDING.search(op.path)
    ]
    skipped = len(operations) - len(allowed)
    variants: dict[str, str | None] = {"no-credentials-accepted": None}
    variants.update(forged_tokens(await _token_of(ctx)))

    bypassed: dict[str, list[tuple[Operation, Response]]] = {code: [] for code in variants}
    judged = 0
    for op in allowed[:MAX_OPERATIONS]:
        path = op.filled_path(READ_ID if op.method in SAFE_METHODS else WRITE_ID)
        for code, credential in variants.items():
            headers = {"Authorization": credential} if credential else None
            body: dict[str, object] | None = {} if op.method in ("POST", "PUT", "PATCH") else None
            response = await ctx.http.send(op.method, ctx.url(path), headers=headers, json=body)
            refused = _is_refused(response)
            judged += refused is not None
            if refused is False:
                bypassed[code].append((op, response))

    if not judged:
        report.error("no protected operation gave a conclusive answer", target=ctx.host)
        return
    for code, hits in bypassed.items():
        if not hits:
            continue
        op, response = hits[0]
        labels = ", ".join(o.label for o, _ in hits)
        report.add(
            code,
            target=op.label,
            operation=op.label,
            count=len(hits),
            detail=f"served with HTTP 2xx: {labels}",
            evidence=evidence_of(ctx, response, note=CREDENTIAL_SENT[code]),
        )
    if not any(bypassed.values()):
        note = f"{len(allowed[:MAX_OPERATIONS])} of {len(operations)} operations from {source}"
        if len(allowed) > MAX_OPERATIONS:
            note += f" (at most {MAX_OPERATIONS} are tried)"
        if skipped:
            note += f"; {skipped} write operations skipped (scope.active is off)"
        report.add("credentials-enforced", target=ctx.host, detail=note)


_SESSION_NAME = re.compile(r"sess|sid|auth|token|jwt|login|remember", re.IGNORECASE)
_CSRF_NAME = re.compile(r"csrf|xsrf", re.IGNORECASE)


def is_session_cookie(name: str) -> bool:
    """CSRF cookies are meant to be read by scripts; only session-like cookies are judged."""
    return bool(_SESSION_NAME.search(name)) and not _CSRF_NAME.search(name)


def _cookie_parts(set_cookie: str) -> tuple[str, set[str]]:
    name = set_cookie.split("=", 1)[0].strip()
    attributes = {a.strip().split("=", 1)[0].lower() for a in set_cookie.split(";")[1:]}
    return name, attributes


@check("auth.session-cookies")
async def session_cookies(ctx: ScanContext, report: CheckReport) -> None:
    responses = [await ctx.home()]
    for account in ctx.config.accounts:
        session = await ctx.login(account.name)
        if session.login_response is not None:
            responses.append(session.login_response)
            break

    cookies = [
        (response, value)
        for response in responses
        for value in response.headers.get_list("set-cookie")
        if is_session_cookie(_cookie_parts(value)[0])
    ]
    if not cookies:
        report.unverified(
            "no session cookie was set by the home page or a login",
            config_key="[[accounts]] and auth.login",
        )
        return

    bad = False
    for response, value in cookies:
        name, attributes = _cookie_parts(value)
        evidence = evidence_of(ctx, response)
        target = f"cookie {name}"
        if "secure" not in attributes and ctx.base_url.startswith("https"):
            report.add("cookie-not-secure", target=target, name=name, evidence=evidence)
            bad = True
        if "httponly" not in attributes:
            report.add("cookie-not-httponly", target=target, name=name, evidence=evidence)
            bad = True
        if "samesite" not in attributes:
            report.add("cookie-no-samesite", target=target, name=name, evidence=evidence)
            bad = True
    if not bad:
        # Secure is only asked of cookies an HTTPS target sets; say so rather than claim it.
        https = ctx.base_url.startswith("https")
        flags = "Secure, HttpOnly and SameSite" if https else "HttpOnly and SameSite (plain HTTP)"
        report.add("cookies-protected", target=ctx.host, count=len(cookies), flags=flags)
