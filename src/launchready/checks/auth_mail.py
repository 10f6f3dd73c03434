"""auth row, mailed tokens: a password-reset link and an invite link work once, and only once.

Each check runs its flow as a user would. It asks the portal to mail a link (`request`), reads
the mail in the scan's mailbox (`[mail]`), takes the token from the link (the query parameter
`token_param`, else a token-like path segment) and spends it with `use`. Tokens and the
passwords the scan makes up are registered with the scan's redactor before they are sent, so no
exchange, curl line or report shows one in full.

What can be seen from outside, and what each check makes of it:

- Reset. Two links are requested, an older one (A) and a newer one (B). B is spent with a new
  password: it must work (2xx), or nothing else can be told (`reset-token-not-working`). B is
  spent again and must be refused (4xx), else `reset-token-reusable`. That second use also comes
  after the password changed, and from outside the two reasons for a refusal look the same; so
  A, never spent but issued before the change, is spent too. It must be refused as well, else
  `reset-token-survives-password-change`. A portal that keeps only the newest link refuses A
  for that reason, which is just as safe. A portal that mails one link per account every few
  minutes sends no B: then A is the link spent twice, and the older-link test is reported as
  not verified (`reset-password-change-unverified`).
- Invite. The invite goes to a fresh plus-address of the account's address (`name+tag@domain`,
  which lands in the same mailbox), so every run invites somebody new. Its token is spent twice:
  the first use must create the account, the second must be refused, else
  `invite-token-reusable`.
- Lifetime. With `lifetime_seconds` of at most 60, one more link is requested, left unspent
  until its lifetime is over, then spent: it must be refused, else `*-token-outlives-lifetime`.
  A longer lifetime is reported as not verified (the scan does not wait that long); with none
  configured nothing is claimed, and the passing finding says so.

Side effects, named in the findings: the reset account ends with a password the scan made up and
did not keep (give the flow an account no other check needs); every accepted invite creates an
account, and a flow has no request to delete one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from launchready.checks.base import CheckReport, check
from launchready.config import RequestTemplate, TokenFlow
from launchready.context import ScanContext
from launchready.engines.templates import fill
from launchready.findings import Evidence, Exchange
from launchready.probe.http import Response
from launchready.probe.login import Session
from launchready.probe.mail import Mailbox, Message, token_in
from launchready.probe.redact import Redactor

log = logging.getLogger(__name__)

MAX_LIFETIME_WAIT_S = 60  # the longest token lifetime the scan waits out
LIFETIME_SLACK_S = 2.0  # waited beyond the lifetime, for clocks and rounding
SPARE_S = 5.0  # kept back from the check's time limit for the requests after a wait


@dataclass(frozen=True)
class Codes:
    """The outcome codes of one flow."""

    flow: str  # "reset" or "invite", for words and config keys
    single_use: str
    reusable: str
    outlives_lifetime: str
    lifetime_unverified: str
    not_received: str
    unreadable: str
    not_working: str


RESET = Codes(
    flow="reset",
    single_use="reset-token-single-use",
    reusable="reset-token-reusable",
    outlives_lifetime="reset-token-outlives-lifetime",
    lifetime_unverified="reset-lifetime-unverified",
    not_received="reset-link-not-received",
    unreadable="reset-link-unreadable",
    not_working="reset-token-not-working",
)
SURVIVES_PASSWORD_CHANGE = "reset-token-survives-password-change"
PASSWORD_CHANGE_UNVERIFIED = "reset-password-change-unverified"
INVITE = Codes(
    flow="invite",
    single_use="invite-token-single-use",
    reusable="invite-token-reusable",
    outlives_lifetime="invite-token-outlives-lifetime",
    lifetime_unverified="invite-lifetime-unverified",
    not_received="invite-link-not-received",
    unreadable="invite-link-unreadable",
    not_working="invite-token-not-working",
)


def made_up_password() -> str:
    """A password any policy should take: long, with capitals, small letters, digits, symbols."""
    return f"Lr-{secrets.token_urlsafe(18)}-7x"


def plus_address(address: str, tag: str) -> str:
    """`name+tag@domain`: a new address that most mail systems deliver to `name@domain`."""
    local, _, domain = address.partition("@")
    return f"{local}+{tag}@{domain}"


def is_taken(response: Response) -> bool | None:
    """True when a token was taken (2xx), False when refused (4xx), None when neither is clear:
    no answer, a server error, a redirect or a rate limit.

    TODO(#3): judge a redirect by where it leads; HTML-form portals often answer a good reset
    with 303 to the login page and a bad one with 303 back to the form.
    """
    status = response.status
    if status is None or status == 429:
        return None
    if 200 <= status < 300:
        return True
    if 400 <= status < 500:
        return False
    return None


def describe(response: Response) -> str:
    return response.error or f"HTTP {response.status}"


def remasked(redactor: Redactor, exchange: Exchange) -> Exchange:
    """The exchange masked again: it was recorded before the mailed token was known, and the
    answer to a request for a link may carry that token (an invite API often returns it)."""
    return exchange.model_copy(
        update={
            "url": redactor.text(exchange.url),
            "request_headers": {k: redactor.text(v) for k, v in exchange.request_headers.items()},
            "request_body": redactor.text(exchange.request_body),
            "response_headers": {k: redactor.text(v) for k, v in exchange.response_headers.items()},
            "response_body": redactor.text(exchange.response_body),
        }
    )


# -- facts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mailed:
    """A token that came by mail to `address`."""

    token: str
    link: str  # masked
    address: str
    subject: str


@dataclass(frozen=True)
class Missing:
    """Why no usable link came: `unreadable` when mail came without a token in it."""

    reason: str
    unreadable: bool = False


@dataclass(frozen=True)
class Spent:
    """One use of a token and its answer."""

    response: Response
    curl: str

    @property
    def taken(self) -> bool | None:
        return is_taken(self.response)


@dataclass(frozen=True)
class LifetimeTry:
    """A link left unspent past its lifetime, then spent; or why that was not tried."""

    spent: Spent | None = None
    unverified: str = ""  # not tried, and why
    unclear: str = ""  # tried, but no usable answer


class FlowRun:
    """One configured flow, run against the portal: it gathers facts and judges nothing."""

    def __init__(
        self, ctx: ScanContext, flow: TokenFlow, kind: str, box: Mailbox, address: str
    ) -> None:
        self.ctx = ctx
        self.flow = flow
        self.kind = kind  # "reset" or "invite"
        self.box = box
        self.address = address  # the account's own address
        self.started = time.monotonic()
        self.responses: list[Response] = []
        self.tokens: set[str] = set()
        self.mailed: list[Mailed] = []

    @property
    def target(self) -> str:
        return f"{self.flow.use.method} {self.flow.use.path}"

    async def request_link(self, to: str) -> Mailed | Missing:
        """Ask the portal to mail a link to `to` and read the token from it."""
        since = dt.datetime.now(dt.UTC)
        session = await self._sender()
        if isinstance(session, str):
            return Missing(session)
        response, _ = await self._send(self.flow.request, self._values(to), session)
        if is_taken(response) is not True:
            return Missing(f"the {self.kind} request answered {describe(response)}")

        # Mail that carries no new token (an older link, a notice) is passed over.
        wait = self.ctx.config.mail.wait_seconds
        message = await self.box.wait_for(to, since=since, timeout=wait, accept=self._has_new)
        if message is None:
            return await self._why_no_link(to, since, wait)

        found = token_in(message.body, self.flow.token_param)
        if found is None:  # the accept filter let it through, so this does not happen
            return Missing(f"the mail to {to} carries no token", unreadable=True)
        token, link = found
        self.ctx.redactor.register(token)
        self.tokens.add(token)
        log.info("%s: link received for %s", self.kind, to)
        mailed = Mailed(token, self.ctx.redactor.text(link), to, message.subject)
        self.mailed.append(mailed)
        return mailed

    async def spend(self, mailed: Mailed) -> Spent:
        """Use the token once (anonymously, as whoever holds the link), with a new password."""
        password = made_up_password()
        self.ctx.redactor.register(password)
        values = {**self._values(mailed.address), "token": mailed.token, "new_password": password}
        response, curl = await self._send(self.flow.use, values, None)
        return Spent(response, curl)

    async def try_lifetime(self, to: str) -> LifetimeTry | None:
        """A fresh link left unspent past the configured lifetime, then spent; None when the
        flow names no lifetime."""
        lifetime = self.flow.lifetime_seconds
        if lifetime is None:
            return None
        key = f"auth.{self.kind}.lifetime_seconds"
        if lifetime > MAX_LIFETIME_WAIT_S:
            return LifetimeTry(
                unverified=f"{key} is {lifetime} s; the scan waits out at most "
                f"{MAX_LIFETIME_WAIT_S} s"
            )
        needed = lifetime + LIFETIME_SLACK_S + self.ctx.config.mail.wait_seconds + SPARE_S
        left = self.ctx.config.scope.check_timeout - (time.monotonic() - self.started)
        if needed > left:
            return LifetimeTry(
                unverified=f"waiting out {lifetime} s would pass the check's time limit "
                "(raise scope.check_timeout)"
            )

        mailed = await self.request_link(to)
        if isinstance(mailed, Missing):
            return LifetimeTry(unclear=f"no link for the lifetime test: {mailed.reason}")
        await asyncio.sleep(lifetime + LIFETIME_SLACK_S)
        return LifetimeTry(spent=await self.spend(mailed))

    def evidence(self, decisive: Spent | None, note: str = "") -> Evidence:
        """Every exchange of the run in order, masked again; the links that came by mail
        (masked); and a curl line for `decisive`."""
        redactor = self.ctx.redactor
        links = [f"mail {m.subject!r} to {m.address}: {m.link}" for m in self.mailed]
        note = "; ".join([note, *links] if note else links)
        exchanges = tuple(
            remasked(redactor, r.exchange) for r in self.responses if r.exchange is not None
        )
        return Evidence(note=note, exchanges=exchanges, curl=decisive.curl if decisive else "")

    def _values(self, to: str) -> dict[str, Any]:
        return {"username": self.address, "email": to, "n": 0}

    def _has_new(self, message: Message) -> bool:
        found = token_in(message.body, self.flow.token_param)
        return found is not None and found[0] not in self.tokens

    async def _sender(self) -> Session | str | None:
        """The sender's session, None to send anonymously, or why the sender cannot log in."""
        if self.flow.sender is None:
            return None
        session = await self.ctx.session(self.flow.sender)
        return f"the sender could not log in: {session.error}" if session.error else session

    async def _send(
        self, template: RequestTemplate, values: dict[str, Any], session: Session | None
    ) -> tuple[Response, str]:
        try:
            # In a path the token travels URL-encoded; in a JSON body as it is.
            path_values = {**values, "token": quote(str(values.get("token", "")), safe="")}
            path = fill(template.path, path_values)
            body = fill(template.json_body, values) if template.json_body is not None else None
        except KeyError as missing:
            error = f"not sent: the template names {{{missing.args[0]}}}, which has no value here"
            return Response(template.method, self.ctx.url(template.path), error=error), ""

        url = self.ctx.url(path)
        if session is not None:
            response = await session.send(template.method, url, json=body)
        else:
            response = await self.ctx.http.send(template.method, url, json=body)
        self.responses.append(response)
        curl = self.ctx.http.curl(response, body=json.dumps(body) if body is not None else "")
        return response, curl

    async def _why_no_link(self, to: str, since: dt.datetime, wait: float) -> Missing:
        other = await self.box.wait_for(to, since=since, timeout=0)
        if other is not None:
            reason = (
                f"the mail to {to} ({other.subject!r}) has no link with a new token (looked "
                f"for the query parameter {self.flow.token_param!r}, then path segments)"
            )
            return Missing(reason, unreadable=True)
        reason = f"no mail to {to} arrived within {wait:g} s at {self.box.where}"
        return Missing(reason + (f" ({self.box.problem})" if self.box.problem else ""))


async def _open(
    ctx: ScanContext, report: CheckReport, flow: TokenFlow | None, codes: Codes
) -> FlowRun | None:
    """The run for a flow, or None after reporting why it cannot start."""
    if flow is None:
        report.unverified(f"no {codes.flow} flow is configured", config_key=f"auth.{codes.flow}")
        return None

    address = ctx.account(flow.account).credential("username")
    if not address or "@" not in address:
        report.unverified(
            f"the username of account {flow.account} is not an email address",
            config_key=f"username_env of account {flow.account}",
            target=ctx.host,
        )
        return None

    box = await ctx.mailbox()
    if box is None or box.problem:
        reason = box.problem if box is not None else "no mailbox"
        where = box.where if box is not None else "the mailbox"
        report.error(f"{where} cannot be read: {reason}", target=ctx.host)
        return None
    return FlowRun(ctx, flow, codes.flow, box, address)


# -- judgement --------------------------------------------------------------------------------


def _report_missing(report: CheckReport, run: FlowRun, codes: Codes, missing: Missing) -> None:
    code = codes.unreadable if missing.unreadable else codes.not_received
    report.add(
        code,
        target=run.target,
        account=run.flow.account,
        detail=missing.reason,
        evidence=run.evidence(None, note=missing.reason),
    )


def _report_not_working(report: CheckReport, run: FlowRun, codes: Codes, first: Spent) -> None:
    detail = (
        f"the token from the mail answered {describe(first.response)} on its first use, so "
        "whether it works twice cannot be told; check the `use` template"
    )
    report.add(
        codes.not_working,
        target=run.target,
        account=run.flow.account,
        detail=detail,
        evidence=run.evidence(first),
    )


@dataclass(frozen=True)
class Trial:
    """One thing that must be refused: its outcome code when it is not, and its words."""

    code: str
    spent: Spent
    what: str


def _judge(
    report: CheckReport,
    run: FlowRun,
    codes: Codes,
    trials: list[Trial],
    lifetime: LifetimeTry | None,
    side_effect: str,
) -> None:
    """Each trial must be refused; any that is taken is a failure, any unclear is an error."""
    if lifetime is not None and lifetime.spent is not None:
        seconds = run.flow.lifetime_seconds
        what = f"a link spent {seconds} s after it was mailed, past its lifetime"
        trials = [*trials, Trial(codes.outlives_lifetime, lifetime.spent, what)]

    unclear = [lifetime.unclear] if lifetime is not None and lifetime.unclear else []
    failed = False
    for trial in trials:
        taken = trial.spent.taken
        if taken is None:
            unclear.append(f"{trial.what}: {describe(trial.spent.response)}")
            continue
        if taken:
            failed = True
            report.add(
                trial.code,
                target=run.target,
                account=run.flow.account,
                seconds=run.flow.lifetime_seconds or 0,
                detail=f"{_sentence(trial.what)} answered HTTP {trial.spent.response.status}. "
                f"{side_effect}",
                evidence=run.evidence(trial.spent),
            )

    if lifetime is not None and lifetime.unverified:
        report.add(
            codes.lifetime_unverified,
            target=run.target,
            account=run.flow.account,
            detail=lifetime.unverified,
        )
    if unclear:
        report.error("; ".join(unclear), target=run.target, evidence=run.evidence(None))
    elif not failed:
        report.add(
            codes.single_use,
            target=run.target,
            account=run.flow.account,
            detail=_passed_detail(run, codes, trials, lifetime, side_effect),
            evidence=run.evidence(trials[-1].spent),
        )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _passed_detail(
    run: FlowRun, codes: Codes, trials: list[Trial], lifetime: LifetimeTry | None, effect: str
) -> str:
    refused = "; ".join(f"{t.what}: HTTP {t.spent.response.status}" for t in trials)
    if lifetime is None:
        refused += f". Lifetime not tested: auth.{codes.flow}.lifetime_seconds is not set"
    return f"Refused as they should be: {refused}. {effect}"


# -- the checks -------------------------------------------------------------------------------


@check("auth.reset-token-single-use", needs=("reset-flow", "mailbox"), active=True)
async def reset_token_single_use(ctx: ScanContext, report: CheckReport) -> None:
    run = await _open(ctx, report, ctx.config.auth.reset, RESET)
    if run is None:
        return
    # Logged in before its password changes, so that a check sharing the account by mistake
    # finds a session rather than a failed login.
    await ctx.login(run.flow.account)

    # Two links; the older one stays unspent, to be tried once the password has changed.
    older = await run.request_link(run.address)
    if isinstance(older, Missing):
        _report_missing(report, run, RESET, older)
        return
    newer = await run.request_link(run.address)

    # The newer link is spent twice. A portal may mail one reset link per account every few
    # minutes: with a single link, reuse is still tested, the older link's fate is not.
    link = newer if isinstance(newer, Mailed) else older
    first = await run.spend(link)
    if first.taken is not True:
        _report_not_working(report, run, RESET, first)
        return
    trials = [Trial(RESET.reusable, await run.spend(link), "the same reset link used again")]

    # Then the older link, never spent, after the password changed.
    if isinstance(newer, Mailed):
        what = "an older, unused reset link used after the password changed"
        trials.append(Trial(SURVIVES_PASSWORD_CHANGE, await run.spend(older), what))
    else:
        report.add(
            PASSWORD_CHANGE_UNVERIFIED,
            target=run.target,
            account=run.flow.account,
            detail=f"a second reset link was needed and none came: {newer.reason}",
        )
    lifetime = await run.try_lifetime(run.address)

    side_effect = (
        f"The password of account {run.flow.account} is now one the scan made up and did not "
        "keep; its configured password no longer works."
    )
    _judge(report, run, RESET, trials, lifetime, side_effect)


@check("auth.invite-token-single-use", needs=("invite-flow", "mailbox"), active=True)
async def invite_token_single_use(ctx: ScanContext, report: CheckReport) -> None:
    run = await _open(ctx, report, ctx.config.auth.invite, INVITE)
    if run is None:
        return

    # A new address for every invite, so that accepting it creates somebody new.
    invitee = plus_address(run.address, f"launchready-{secrets.token_hex(4)}")
    mailed = await run.request_link(invitee)
    if isinstance(mailed, Missing):
        _report_missing(report, run, INVITE, mailed)
        return

    first = await run.spend(mailed)
    if first.taken is not True:
        _report_not_working(report, run, INVITE, first)
        return
    second = await run.spend(mailed)
    late_invitee = plus_address(run.address, f"launchready-{secrets.token_hex(4)}")
    lifetime = await run.try_lifetime(late_invitee)

    trials = [Trial(INVITE.reusable, second, "the same invite link accepted a second time")]
    _judge(report, run, INVITE, trials, lifetime, _accounts_created(run, trials, lifetime))


def _accounts_created(run: FlowRun, trials: list[Trial], lifetime: LifetimeTry | None) -> str:
    """Words on the accounts the accepted invites created, which the scan cannot delete."""
    taken = 1 + sum(1 for t in trials if t.spent.taken)
    if lifetime is not None and lifetime.spent is not None and lifetime.spent.taken:
        taken += 1
    return (
        f"The scan created {taken} account(s) by accepting invites sent to plus-addresses of "
        f"{run.address}; a flow has no request to delete them, so remove them by hand."
    )
