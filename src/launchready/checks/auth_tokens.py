"""auth row, sessions and tokens: JWT forgeries, logout, session fixation and lifetime, admin MFA,
and user enumeration.

Every probe here compares what the portal does with a real credential against what it does
with a changed one, so each check first makes sure the real one works ("the baseline"): a
forged token that is refused proves nothing if the real token is refused too.

The JWT forgeries come from `engines.jwt_attacks`; this module only decides what to send and
what the answers mean. A weak signing key is named by its shape (length, kind), never in full.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from launchready.checks.auth import is_session_cookie
from launchready.checks.base import CheckReport, check
from launchready.checks.tls_domain import evidence_of
from launchready.config import RequestTemplate
from launchready.context import ScanContext
from launchready.engines import jwt_attacks as jwt
from launchready.engines.templates import fill
from launchready.probe.http import Response
from launchready.probe.login import Session, log_in
from launchready.probe.openapi import parse_operation
from launchready.probe.redact import mask

ADMIN_SESSION_MAX_S = 24 * 3600
# An expired token is only tested when the real one expires this soon: the scan never waits long.
EXPIRY_WAIT_MAX_S = 30
# Timing differences smaller than this are never taken for a signal, however steady.
TIMING_FLOOR_MS = 100.0
MFA_PATH = re.compile(r"mfa|2fa|two[-_]?factor|totp|otp|webauthn|passkey", re.IGNORECASE)


def _accepted(response: Response) -> bool:
    return response.status is not None and 200 <= response.status < 300


def _refused(response: Response) -> bool:
    return response.status in (401, 403) or (
        response.status is not None and 300 <= response.status < 400
    )


async def _probe_operation(ctx: ScanContext) -> tuple[str, str] | None:
    """A read that answers 2xx only when logged in: the login's `check`, else the first
    protected GET that needs no path parameter."""
    op = ctx.check_operation()
    if op is not None:
        return op.method, op.path

    operations, _ = await ctx.protected_operations()
    for op in operations:
        if op.method == "GET" and not op.path_params:
            return op.method, op.path
    return None


async def _token_session(ctx: ScanContext) -> Session | None:
    """The first logged-in account whose credential is a JWT sent in a header."""
    for account in ctx.accounts_with():
        session = await ctx.session(account.name)
        if not session.error and session.headers and jwt.is_jwt(session.token):
            return session
    return None


def _with_token(session: Session, token: str) -> dict[str, str]:
    """The session's credential header with another token in it (same scheme)."""
    header, value = next(iter(session.headers.items()))
    scheme = value[: -len(session.token)] if session.token and value.endswith(session.token) else ""
    return {header: f"{scheme}{token}"}


# -- JWT signing -------------------------------------------------------------------------------


@dataclass
class Forgery:
    code: str
    token: str
    what: str  # for the evidence note


def forgeries(token: str, weak_key: str | None) -> list[Forgery]:
    """Tokens a server that verifies signatures must refuse, by outcome code.

    The tampered token names another user id and the admin role, but keeps the tenant: a made-up
    tenant would be refused as unknown even by a server that never checks signatures.
    """
    parsed = jwt.decode(token)
    if parsed is None:
        return []
    claims = parsed.claims
    fresh = {"jti": f"launchready-{secrets.token_hex(8)}"} if "jti" in claims else {}
    sub = claims.get("sub")
    other_sub = str(int(sub) + 1) if isinstance(sub, str) and sub.isdigit() else "1"
    tampered: dict[str, object] = {"sub": other_sub, **fresh}
    if "role" in claims:
        tampered["role"] = "admin"

    found = [
        Forgery(
            "jwt-tampered-claims-accepted",
            jwt.tamper(token, tampered),
            f"claims changed ({', '.join(sorted(tampered))}), old signature kept",
        ),
        Forgery(
            "jwt-kid-injection-accepted",
            jwt.with_header(token, {"kid": jwt.TRAVERSAL_KID}, secret=""),
            f"kid set to {jwt.TRAVERSAL_KID} and signed with the empty key",
        ),
        Forgery(
            "jwt-jku-accepted",
            jwt.with_header(token, {"jku": jwt.FOREIGN_JKU}),
            f"jku pointed at {jwt.FOREIGN_JKU}, old signature kept",
        ),
    ]
    if weak_key is not None:
        minted = jwt.resign({**claims, **fresh}, parsed.header, weak_key)
        found.append(Forgery("jwt-weak-secret", minted, "minted with the guessed key"))
    return found


def describe_key(key: str) -> str:
    """The weakness of a guessed key in words, never the key itself."""
    if not key:
        return "the empty string"
    return f"a common {len(key)}-character word from a public list ({mask(key)})"


@check("auth.jwt-signing", needs=("active",), active=True)
async def jwt_signing(ctx: ScanContext, report: CheckReport) -> None:
    session = await _token_session(ctx)
    probe_op = await _probe_operation(ctx)
    if session is None or session.token is None:
        report.unverified(
            "no account logged in with a JWT in a header", config_key="[[accounts]] and auth.login"
        )
        return
    if probe_op is None:
        report.unverified("no logged-in read to test tokens on", config_key="auth.login.check")
        return

    # Baseline: the real token must work, or a refusal of a forged one means nothing.
    method, path = probe_op
    url = ctx.url(path)
    baseline = await ctx.http.send(method, url, headers=session.headers)
    if not _accepted(baseline):
        reason = baseline.error or f"HTTP {baseline.status}"
        report.error(f"the real token is refused on {method} {path} ({reason})", target=path)
        return

    # Guessing the key happens offline; only a match is confirmed with a request.
    weak_key = jwt.crack_hs256(session.token, [*jwt.WEAK_SECRETS, *jwt.host_candidates(ctx.host)])
    sent = 0
    for forgery in forgeries(session.token, weak_key):
        ctx.redactor.register(forgery.token)
        response = await ctx.http.send(method, url, headers=_with_token(session, forgery.token))
        sent += 1
        if not _accepted(response):
            continue
        detail = f"{forgery.what}; {method} {path} answered HTTP {response.status}"
        if forgery.code == "jwt-weak-secret":
            detail = f"the signing key is {describe_key(weak_key or '')}; {detail}"
        report.add(
            forgery.code,
            target=f"{method} {path}",
            detail=detail,
            evidence=evidence_of(
                ctx, baseline, response, note=f"$TOKEN in the curl line: {forgery.what}"
            ),
        )

    if weak_key is not None and not any(f.outcome == "jwt-weak-secret" for f in report.findings):
        # The key reproduces the signature even if the server refused the minted token.
        report.add(
            "jwt-weak-secret",
            target=f"{method} {path}",
            detail=f"the signing key is {describe_key(weak_key)}",
        )

    expired = await _expired_token(ctx, report, session, method, url)
    if not any(f.is_bad for f in report.findings):
        kinds = "forged, tampered and expired" if expired else "forged and tampered"
        report.add(
            "jwt-forgeries-refused", target=f"{method} {path}", count=sent + expired, kinds=kinds
        )


async def _expired_token(
    ctx: ScanContext, report: CheckReport, session: Session, method: str, url: str
) -> bool:
    """Send a token past its exp: the account's configured expired token, or the real one after
    it expired when that happens within a short wait."""
    captured = ctx.account(session.account).credential("expired_token")
    if captured:
        # A token that has not expired yet would make a working token look like a flaw.
        parsed_captured = jwt.decode(captured)
        exp = parsed_captured.claims.get("exp") if parsed_captured else None
        if isinstance(exp, int | float) and exp > time.time():
            report.unverified(
                f"expired token: the configured one is still valid for {exp - time.time():.0f} s",
                config_key="[[accounts]] expired_token_env",
                target="expired token",
            )
            return False
        response = await ctx.http.send(method, url, headers=_with_token(session, captured))
        _judge_expired(ctx, report, response, "the account's expired token (expired_token_env)")
        return True

    parsed = jwt.decode(session.token)
    exp = parsed.claims.get("exp") if parsed else None
    if not isinstance(exp, int | float):
        report.unverified("expired token: the token carries no exp claim", target="expired token")
        return False

    wait = exp - time.time() + 1
    if wait > EXPIRY_WAIT_MAX_S:
        report.unverified(
            f"expired token: the token lives {wait / 60:.0f} more minutes and the scan does not "
            "wait that long",
            config_key="[[accounts]] expired_token_env, or a session under 30 s in staging",
            target="expired token",
        )
        return False

    await asyncio.sleep(min(max(wait, 0), EXPIRY_WAIT_MAX_S))
    response = await ctx.http.send(method, url, headers=session.headers)
    _judge_expired(ctx, report, response, "the real token, replayed after its exp time")
    return True


def _judge_expired(ctx: ScanContext, report: CheckReport, response: Response, what: str) -> None:
    if _accepted(response):
        report.add(
            "jwt-expired-accepted",
            target=response.url,
            detail=f"{what} was accepted",
            evidence=evidence_of(ctx, response, note=what),
        )


# -- logout ------------------------------------------------------------------------------------


def _session_cookies(response: Response | None) -> dict[str, str]:
    """Session-like cookies a login set, name -> value."""
    found: dict[str, str] = {}
    for value in response.headers.get_list("set-cookie") if response else []:
        name, _, rest = value.partition("=")
        if is_session_cookie(name.strip()):
            found[name.strip()] = rest.split(";", 1)[0]
    return found


@check("auth.logout-revokes", needs=("active",), active=True)
async def logout_revokes(ctx: ScanContext, report: CheckReport) -> None:
    logout, probe_op = ctx.config.auth.logout, await _probe_operation(ctx)
    if not logout or probe_op is None or not ctx.accounts_with():
        report.unverified(
            "no logout operation or logged-in read is configured",
            config_key="auth.logout and auth.login.check",
        )
        return

    # A session of its own, so that logging it out harms no other check.
    account = ctx.accounts_with()[0].name
    session = await ctx.fresh_login(account)
    if session.error:
        report.unverified(session.error, config_key=ctx.login_hint(session, "[[accounts]]"))
        return
    cookies = _session_cookies(session.login_response)
    ctx.redactor.register(session.token)
    for value in cookies.values():
        ctx.redactor.register(value)

    method, path = probe_op
    url = ctx.url(path)
    before = await session.send(method, url)
    if not _accepted(before):
        report.error(f"the fresh session is refused on {method} {path}", target=path)
        return

    out = parse_operation(logout)
    ended = await session.send(out.method, ctx.url(out.path))
    if ended.status is None or ended.status >= 400:
        report.error(f"logout answered {ended.error or f'HTTP {ended.status}'}", target=out.path)
        return

    # Replay each credential alone, from a jar that holds nothing else.
    replays: list[tuple[str, Response]] = []
    replayer = ctx.http.sibling(f"{account}-after-logout")
    try:
        if session.headers:
            replays.append(("token", await replayer.send(method, url, headers=session.headers)))
        for name, value in cookies.items():
            replays.append(
                (f"cookie {name}", await replayer.send(method, url, cookies={name: value}))
            )
    finally:
        await replayer.aclose()

    alive = [(what, response) for what, response in replays if _accepted(response)]
    if alive:
        what, response = alive[0]
        report.add(
            "token-valid-after-logout",
            target=f"{out.method} {out.path}",
            credential=", ".join(w for w, _ in alive),
            evidence=evidence_of(ctx, before, ended, response, note=f"{what} replayed"),
        )
    elif replays:
        report.add("logout-revokes", target=f"{out.method} {out.path}", count=len(replays))
    else:
        report.unverified("the login gave neither a token nor a session cookie to replay")


# -- session lifecycle -------------------------------------------------------------------------


def cookie_lifetime(set_cookie: str, now: float) -> float | None:
    """Seconds a cookie lives by its Max-Age or Expires; None for a browser-session cookie."""
    for attribute in set_cookie.split(";")[1:]:
        key, _, value = attribute.strip().partition("=")
        if key.lower() == "max-age" and value.strip().lstrip("-").isdigit():
            return float(value.strip())
    for attribute in set_cookie.split(";")[1:]:
        key, _, value = attribute.strip().partition("=")
        if key.lower() == "expires":
            try:
                return parsedate_to_datetime(value.strip()).timestamp() - now
            except (TypeError, ValueError):
                return None
    return None


@check("auth.session-lifecycle", needs=("active",), active=True)
async def session_lifecycle(ctx: ScanContext, report: CheckReport) -> None:
    admins = ctx.accounts_with(role="admin") or ctx.accounts_with()
    if not admins:
        report.unverified("no account to log in with", config_key="[[accounts]]")
        return
    session = await ctx.session(admins[0].name)
    if session.error or session.login_response is None:
        reason = session.error or "the account uses a ready token; no login was seen"
        report.unverified(
            reason,
            config_key=ctx.login_hint(session, "[[accounts]] with username_env and password_env"),
        )
        return

    cookies = [
        v
        for v in session.login_response.headers.get_list("set-cookie")
        if is_session_cookie(v.partition("=")[0].strip())
    ]
    if not cookies:
        report.unverified("the login set no session cookie", target="session cookie")
        return

    _judge_lifetime(ctx, report, session, cookies[0])
    await _judge_fixation(ctx, report, admins[0].name, cookies[0].partition("=")[0].strip())


def _judge_lifetime(
    ctx: ScanContext, report: CheckReport, session: Session, set_cookie: str
) -> None:
    name = set_cookie.partition("=")[0].strip()
    lifetime = cookie_lifetime(set_cookie, time.time())
    evidence = evidence_of(ctx, session.login_response) if session.login_response else None
    if lifetime is not None and lifetime > ADMIN_SESSION_MAX_S:
        report.add(
            "admin-session-long",
            target=f"cookie {name}",
            hours=round(lifetime / 3600),
            evidence=evidence,
        )
    else:
        lasts = "the browser session" if lifetime is None else f"{lifetime / 3600:.1f} h"
        report.add("admin-session-bounded", target=f"cookie {name}", detail=f"lasts {lasts}")


async def _judge_fixation(ctx: ScanContext, report: CheckReport, account: str, name: str) -> None:
    """Plant a made-up session id before logging in: it must not be the session afterwards."""
    login = ctx.config.auth.login
    who = ctx.account(account)
    username, password = who.credential("username"), who.credential("password")
    if login is None or not (username and password):
        report.unverified("fixation: no password login to plant a session id before")
        return

    planted = f"launchready{secrets.token_hex(16)}"
    probe = ctx.http.sibling(f"{account}-fixation")
    try:
        probe.set_cookie(name, planted, ctx.host)
        fixed = await log_in(account, probe, login, ctx.url, username, password)
        kept = probe.cookie(name) == planted
        probe_op = await _probe_operation(ctx)
        confirm = None
        if kept and probe_op is not None:
            bare = ctx.http.sibling(f"{account}-planted")
            try:
                confirm = await bare.send(
                    probe_op[0], ctx.url(probe_op[1]), cookies={name: planted}
                )
            finally:
                await bare.aclose()
    finally:
        await probe.aclose()

    if fixed.error:
        report.error(f"fixation: {fixed.error}", target=f"cookie {name}")
    elif kept and (confirm is None or _accepted(confirm)):
        responses = [r for r in (fixed.login_response, confirm) if r is not None]
        report.add(
            "session-fixed",
            target=f"cookie {name}",
            evidence=evidence_of(ctx, *responses, note="a session id set before login survived"),
        )
    else:
        report.add("session-rotated", target=f"cookie {name}")


# -- admin MFA ---------------------------------------------------------------------------------


@check("auth.admin-mfa")
async def admin_mfa(ctx: ScanContext, report: CheckReport) -> None:
    attested = ctx.config.attestations.mfa
    if attested is not None:
        report.add("mfa-attested", target=ctx.host, by=attested.by, date=str(attested.date))
        return

    configured = ctx.config.auth.mfa
    admins = ctx.accounts_with(role="admin")
    if configured and admins and ctx.has("active"):
        op = parse_operation(configured)
        session = await ctx.session(admins[0].name)
        if session.error:
            report.unverified(session.error, config_key=ctx.login_hint(session, "[[accounts]]"))
            return
        response = await session.send(op.method, ctx.url(op.path))
        if _accepted(response):
            report.add("mfa-available", target=op.label, detail=f"HTTP {response.status}")
        elif response.status in (404, 410, 501):
            report.add("mfa-missing", target=op.label, evidence=evidence_of(ctx, response))
        else:
            report.error(f"{op.label} answered {response.error or f'HTTP {response.status}'}")
        return

    # Without a configured endpoint, the API description is the only other witness; without
    # one either, nothing was seen at all, which is not the same as seeing no MFA.
    operations, source = await ctx.access_operations()
    if not operations:
        report.unverified(
            f"no MFA endpoint configured and no API description to look in ({source})",
            config_key="auth.mfa or attestations.mfa",
        )
        return
    listed = [op.label for op in operations if MFA_PATH.search(op.path)]
    if listed:
        report.add("mfa-available", target=listed[0], detail=f"listed in {source}")
    else:
        report.add("mfa-missing", target=ctx.host, detail=f"no MFA operation in {source}")


# -- user enumeration --------------------------------------------------------------------------


@dataclass
class Samples:
    """Answers to one flow for one address: statuses, normalised bodies, times."""

    statuses: list[int | None] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    times_ms: list[float] = field(default_factory=list)
    example: Response | None = None

    def add(self, response: Response, address: str) -> None:
        self.statuses.append(response.status)
        self.bodies.append(normalise_body(response.text, address))
        self.times_ms.append(response.elapsed_ms or 0.0)
        self.example = self.example or response


def normalise_body(text: str, address: str) -> str:
    """The body without what legitimately differs: the address itself and long random runs."""
    text = text[:4000]
    for value in (address, address.split("@", 1)[0]):
        if value:
            text = text.replace(value, "<address>")
    return re.sub(r"[A-Za-z0-9_-]{20,}|\d+", "<n>", text)


def each_steady(*groups: Sequence[Hashable]) -> bool:
    """Whether every group gave one and the same answer all the time (its own noise is nil)."""
    return all(len(set(group)) == 1 for group in groups)


def answers_differ(known: Samples, unknown: Samples) -> str | None:
    """How the two groups' answers differ, when each group agrees with itself; else None."""
    k_status, u_status = known.statuses, unknown.statuses
    if each_steady(k_status, u_status) and k_status[0] != u_status[0]:
        return f"HTTP {k_status[0]} for a known address, HTTP {u_status[0]} for an unknown one"

    if each_steady(known.bodies, unknown.bodies) and known.bodies[0] != unknown.bodies[0]:
        return "the message differs for a known and an unknown address"

    return None


# Answers that come before any account lookup (forbidden, no such route, bad media type,
# throttled): the same such answer for both addresses proves nothing either way.
REFUSED_BEFORE_LOOKUP = (403, 404, 405, 415, 429)


def refused_alike(flow: str, known: Samples, unknown: Samples) -> str | None:
    """Why the comparison is void: both addresses were turned away before the lookup."""
    statuses = set(known.statuses) | set(unknown.statuses)
    if len(statuses) != 1:
        return None
    status = statuses.pop()
    looked_up = status not in REFUSED_BEFORE_LOOKUP
    if flow != "login":
        looked_up = looked_up and status is not None and status < 400
    if looked_up:
        return None
    return (
        f"both addresses got HTTP {status}, so the request never reached the account lookup "
        "(check the request template: CSRF, path, body)"
    )


def timing_differs(known: Samples, unknown: Samples) -> str | None:
    """A timing signal only when the groups do not overlap at all and their medians are far
    apart compared with both the noise floor and each group's own spread."""
    if len(known.times_ms) < 3 or len(unknown.times_ms) < 3:
        return None
    slow, fast = sorted((known.times_ms, unknown.times_ms), key=statistics.median, reverse=True)
    gap = statistics.median(slow) - statistics.median(fast)
    spread = max(max(slow) - min(slow), max(fast) - min(fast))
    if min(slow) > max(fast) and gap > max(TIMING_FLOOR_MS, spread):
        which = "known" if slow is known.times_ms else "unknown"
        return f"answers for a {which} address take {gap:.0f} ms longer (medians)"
    return None


Sender = Callable[[str], Awaitable[Response]]


async def _sample(send: Sender, known: str, unknown: str, rounds: int) -> tuple[Samples, Samples]:
    """Interleave known and unknown addresses so that drift in the server hits both alike."""
    known_samples, unknown_samples = Samples(), Samples()
    for _ in range(rounds):
        known_samples.add(await send(known), known)
        unknown_samples.add(await send(unknown), unknown)
    return known_samples, unknown_samples


def _unknown_address(known: str) -> str:
    domain = known.split("@", 1)[1] if "@" in known else "example.invalid"
    return f"launchready-nobody-{secrets.token_hex(4)}@{domain}"


@check("auth.user-enumeration", needs=("active",), active=True)
async def user_enumeration(ctx: ScanContext, report: CheckReport) -> None:
    flows = _enumeration_flows(ctx)
    known = next(
        (a.credential("username") for a in ctx.accounts_with() if a.credential("username")), None
    )
    if not flows or known is None:
        report.unverified(
            "no login, reset or signup request and no account address to compare with",
            config_key="auth.login, auth.enumeration and [[accounts]] username_env",
        )
        return

    rounds = ctx.config.auth.enumeration.samples
    leaked, compared = False, []
    for name, send, timed in flows:
        k, u = await _sample(send, known, _unknown_address(known), rounds if timed else 1)
        if None in k.statuses or None in u.statuses:
            report.error(f"{name}: some requests got no answer", target=name)
            continue
        evidence = evidence_of(ctx, *(r for r in (k.example, u.example) if r is not None))
        refused = refused_alike(name, k, u)
        if refused:
            report.error(f"{name}: {refused}", target=name, evidence=evidence)
            continue
        compared.append(name)
        how = answers_differ(k, u)
        if how:
            report.add(
                "enumeration-by-response", target=name, flow=name, detail=how, evidence=evidence
            )
            leaked = True
            continue
        slower = timing_differs(k, u) if timed else None
        if slower:
            report.add(
                "enumeration-by-timing", target=name, flow=name, detail=slower, evidence=evidence
            )
            leaked = True
    if compared and not leaked:
        report.add("no-enumeration", target=ctx.host, flows=", ".join(compared))


def _enumeration_flows(ctx: ScanContext) -> list[tuple[str, Sender, bool]]:
    """(name, send(address), timed) for login, password reset and signup, as configured.

    Signup is compared on one request per address and not timed: each unknown address may
    create an account, so the scan sends as few as it can (the detail names the address).
    """
    flows: list[tuple[str, Sender, bool]] = []
    login = ctx.config.auth.login
    if login is not None and login.kind == "json" and login.json_body is not None:
        wrong = f"launchready-wrong-{secrets.token_hex(6)}"

        async def send_login(address: str) -> Response:
            body = fill(login.json_body, {"username": address, "password": wrong})
            return await ctx.http.send(login.method, ctx.url(login.path), json=body)

        flows.append(("login", send_login, True))
    elif login is not None and login.form is not None:
        wrong = f"launchready-wrong-{secrets.token_hex(6)}"

        async def send_form_login(address: str) -> Response:
            probe = ctx.http.sibling("enumeration")
            try:
                attempt = await log_in("enumeration", probe, login, ctx.url, address, wrong)
            finally:
                await probe.aclose()
            return attempt.login_response or Response(
                "POST", ctx.url(login.path), error="no answer"
            )

        flows.append(("login", send_form_login, True))

    templates = ctx.config.auth.enumeration
    if templates.reset is not None:
        flows.append(("password reset", _template_sender(ctx, templates.reset), True))
    if templates.signup is not None:
        flows.append(("signup", _template_sender(ctx, templates.signup), False))
    return flows


def _template_sender(ctx: ScanContext, template: RequestTemplate) -> Sender:
    """Sends the template anonymously with {email} filled in."""

    async def send(address: str) -> Response:
        body = fill(template.json_body, {"email": address})
        return await ctx.http.send(template.method, ctx.url(template.path), json=body)

    return send
