"""Mailboxes against real loopback servers: the SMTP sink fed by smtplib, a Mailpit-like and a
MailHog-like HTTP API, an IMAP server that is not there; and the token parser's examples."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import smtplib
import time
from collections.abc import Awaitable, Callable, Iterator
from email.message import EmailMessage
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI, HTTPException

from launchready.config import Imap, Mail, SmtpSink
from launchready.demo_config import free_loopback_port
from launchready.probe.mail import (
    MAX_MESSAGE_BYTES,
    ImapMailbox,
    Mailbox,
    MailpitMailbox,
    SmtpSinkMailbox,
    open_mailbox,
    parse_message,
    token_in,
)
from tests.servers import serve

T = TypeVar("T")
LOOP_BOUND_S = 30.0
TO = "dave@portal.test"


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, LOOP_BOUND_S)

    return asyncio.run(bounded())


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def reset_mail(to: str, token: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Portal <no-reply@portal.test>"
    message["To"] = to
    message["Subject"] = "Reset your password"
    message.set_content(f"Choose a new password: https://portal.test/reset?token={token}\n")
    return message


def send_raw(port: int, to: str, raw: bytes | EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        if isinstance(raw, EmailMessage):
            smtp.send_message(raw)
        else:
            smtp.sendmail("no-reply@portal.test", [to], raw)


async def with_sink(fn: Callable[[SmtpSinkMailbox], Awaitable[T]]) -> T:
    sink = SmtpSinkMailbox("127.0.0.1", free_loopback_port())
    await sink.start()
    assert sink.problem is None
    try:
        return await fn(sink)
    finally:
        await sink.aclose()


# -- SMTP sink --------------------------------------------------------------------------------


def test_sink_receives_mail_sent_with_smtplib() -> None:
    token = secrets.token_urlsafe(24)

    async def go(sink: SmtpSinkMailbox) -> None:
        since = now()
        await asyncio.to_thread(send_raw, sink.port, TO, reset_mail(TO, token))
        message = await sink.wait_for(TO.upper(), since=since, timeout=5, subject="reset")
        assert message is not None
        assert message.to == (TO,) and message.sender == "no-reply@portal.test"
        assert message.subject == "Reset your password"
        assert since <= message.received_at <= now()
        assert token_in(message.body, "token") == (
            token,
            f"https://portal.test/reset?token={token}",
        )

        # Mail received before `since` and mail to someone else are not what was asked for.
        assert await sink.wait_for(TO, since=now(), timeout=0.2) is None
        assert await sink.wait_for("else@portal.test", since=since, timeout=0.2) is None

    run(with_sink(go))


def test_sink_survives_malformed_and_oversized_mail() -> None:
    malformed = (
        b"From: \xff\xfe broken <<<\r\nTo: dave@portal.test\r\nSubject: =?bogus?X?zz?=\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\r\n\r\n"
        b"--\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\xc3\x28\r\n"
    )
    oversized = b"Subject: big\r\n\r\n" + b"x" * (MAX_MESSAGE_BYTES + 10)
    token = secrets.token_urlsafe(24)

    async def go(sink: SmtpSinkMailbox) -> None:
        since = now()
        await asyncio.to_thread(send_raw, sink.port, TO, malformed)
        with pytest.raises(smtplib.SMTPException):
            await asyncio.to_thread(send_raw, sink.port, TO, oversized)

        # The sink still works, and the broken mail is kept without taking anything down.
        await asyncio.to_thread(send_raw, sink.port, TO, reset_mail(TO, token))
        found = await sink.wait_for(TO, since=since, timeout=5, subject="reset")
        assert found is not None and token in found.body
        assert len(sink.messages) == 2
        assert all(len(m.body) <= MAX_MESSAGE_BYTES for m in sink.messages)

    run(with_sink(go))


def test_wait_with_nothing_arriving_returns_none_within_its_timeout() -> None:
    async def go(sink: SmtpSinkMailbox) -> None:
        started = time.monotonic()
        assert await sink.wait_for(TO, since=now(), timeout=0.5) is None
        assert 0.4 <= time.monotonic() - started < 2.0

    run(with_sink(go))


def test_sink_on_a_taken_port_says_why_instead_of_raising() -> None:
    async def go(first: SmtpSinkMailbox) -> None:
        second = SmtpSinkMailbox("127.0.0.1", first.port)
        await second.start()
        assert second.problem and str(first.port) in second.problem
        assert await second.wait_for(TO, since=now(), timeout=0.1) is None
        await second.aclose()

    run(with_sink(go))


def test_open_mailbox_picks_the_configured_source() -> None:
    assert open_mailbox(Mail()) is None
    sink = open_mailbox(Mail(smtp_sink=SmtpSink(port=2600), mailpit="http://127.0.0.1:8025"))
    assert isinstance(sink, SmtpSinkMailbox) and sink.port == 2600
    assert isinstance(open_mailbox(Mail(mailpit="http://127.0.0.1:8025")), MailpitMailbox)


# -- Mailpit and MailHog ----------------------------------------------------------------------


def mailpit_app(messages: list[dict[str, Any]]) -> FastAPI:
    """Answers like Mailpit's API v1: a message list, and one message by id."""
    app = FastAPI()

    @app.get("/api/v1/messages")
    def listing() -> dict[str, Any]:
        summaries = [{k: v for k, v in m.items() if k != "Text"} for m in reversed(messages)]
        return {"total": len(messages), "messages": summaries}

    @app.get("/api/v1/message/{key}")
    def one(key: str) -> dict[str, Any]:
        for message in messages:
            if message["ID"] == key:
                return message
        raise HTTPException(404)

    return app


@pytest.fixture
def mailpit() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    messages: list[dict[str, Any]] = []
    with serve(mailpit_app(messages)) as port:
        yield f"http://127.0.0.1:{port}", messages


def mailpit_message(to: str, text: str, created: dt.datetime) -> dict[str, Any]:
    return {
        "ID": secrets.token_hex(8),
        "From": {"Name": "Portal", "Address": "no-reply@portal.test"},
        "To": [{"Name": "", "Address": to}],
        "Subject": "You're invited",
        "Created": created.isoformat().replace("+00:00", "Z"),
        "Text": text,
    }


def test_mailpit_reader_finds_the_message_when_it_arrives(
    mailpit: tuple[str, list[dict[str, Any]]],
) -> None:
    url, messages = mailpit
    token = secrets.token_urlsafe(24)
    since = now()
    messages.append(mailpit_message(TO, "an old one https://portal.test/x?token=old1", since))
    messages[0]["Created"] = "2020-01-01T00:00:00Z"

    async def arrive_later() -> None:
        await asyncio.sleep(0.5)
        body = f"Accept: <https://portal.test/invite?token={token}>."
        messages.append(mailpit_message(TO, body, now()))

    async def go() -> Any:
        box = MailpitMailbox(url)
        try:
            arrival = asyncio.create_task(arrive_later())
            found = await box.wait_for(TO, since=since, timeout=8)
            await arrival
            return found
        finally:
            await box.aclose()

    found = run(go())
    assert found is not None and found.subject == "You're invited"
    assert token_in(found.body, "token") == (token, f"https://portal.test/invite?token={token}")


def test_mailpit_reader_refuses_hosts_off_loopback_and_scope() -> None:
    async def go() -> tuple[str | None, Any, str | None]:
        outside = MailpitMailbox("http://mail.example.invalid:8025")
        allowed = MailpitMailbox("http://mail.portal.test:8025", allowed_hosts=["mail.portal.test"])
        try:
            found = await outside.wait_for(TO, since=now(), timeout=0.2)
            return outside.problem, found, allowed.problem
        finally:
            await outside.aclose()
            await allowed.aclose()

    problem, found, allowed_problem = run(go())
    assert problem and "neither loopback nor in the scan scope" in problem
    assert found is None and allowed_problem is None


def test_mailhog_reader_parses_raw_mail() -> None:
    token = secrets.token_urlsafe(24)
    raw = reset_mail(TO, token).as_string()
    app = FastAPI()

    @app.get("/api/v2/search")
    def search(kind: str, query: str) -> dict[str, Any]:
        item = {
            "ID": "1",
            "To": [{"Mailbox": "dave", "Domain": "portal.test"}],
            "Created": now().isoformat(),
            "Raw": {"Data": raw},
        }
        return {"total": 1, "count": 1, "items": [item] if query == TO else []}

    async def go(url: str) -> Any:
        box = MailpitMailbox(url)
        try:
            return await box.wait_for(TO, since=now() - dt.timedelta(seconds=5), timeout=5)
        finally:
            await box.aclose()

    with serve(app) as port:
        found = run(go(f"http://127.0.0.1:{port}"))
    assert found is not None and found.subject == "Reset your password"
    assert token_in(found.body, "token") is not None


def test_mail_api_answering_garbage_gives_none() -> None:
    app = FastAPI()

    @app.get("/api/v1/messages")
    def listing() -> dict[str, Any]:
        return {"messages": [None, 3, {"ID": 5, "To": "nobody", "Created": "yesterday"}]}

    async def go(url: str) -> Any:
        box = MailpitMailbox(url)
        try:
            return await box.wait_for(TO, since=now(), timeout=1.5)
        finally:
            await box.aclose()

    with serve(app) as port:
        assert run(go(f"http://127.0.0.1:{port}")) is None


# -- IMAP -------------------------------------------------------------------------------------
# TODO(#3): a small loopback IMAP server, so that reading a message (SEARCH, FETCH, INTERNALDATE)
# is tested too and not only the failures.


def test_imap_with_no_server_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LR_TEST_IMAP_USER", "dave")
    monkeypatch.setenv("LR_TEST_IMAP_PASSWORD", secrets.token_urlsafe(12))
    settings = Imap(
        host="127.0.0.1",
        port=free_loopback_port(),
        ssl=False,
        username_env="LR_TEST_IMAP_USER",
        password_env="LR_TEST_IMAP_PASSWORD",
    )

    async def go() -> tuple[Any, str | None]:
        box: Mailbox = ImapMailbox(settings, timeout=2)
        await box.start()
        return await box.wait_for(TO, since=now(), timeout=1), box.problem

    started = time.monotonic()
    assert run(go()) == (None, None)
    assert time.monotonic() - started < 10


def test_imap_refuses_plaintext_off_loopback_and_missing_credentials() -> None:
    plain = Imap(host="imap.example.invalid", ssl=False, username_env="LR_NO", password_env="LR_NO")

    async def go() -> str | None:
        box = ImapMailbox(plain)
        await box.start()
        return box.problem

    problem = run(go())
    assert problem and "without TLS" in problem


# -- parsing ----------------------------------------------------------------------------------

TOKEN = "Zk3" + "q" * 20
# body -> the token that must be found in it (None: no token may be found)
TOKEN_EXAMPLES: dict[str, str | None] = {
    f"Reset: https://portal.test/reset?token={TOKEN}\n": TOKEN,
    f'<a href="https://portal.test/reset?lang=en&amp;token={TOKEN}">reset</a>': TOKEN,
    f"https://portal.test/#/invite?token={TOKEN}.": TOKEN,
    f"Accept here: https://portal.test/invites/{TOKEN}/accept": TOKEN,
    f"(https://portal.test/reset/{TOKEN})": TOKEN,
    "Sign in at https://portal.test/login or reset your password there.": None,
    "https://portal.test/reset-password-confirmation-page?lang=en": None,
    "no links at all, token=abc": None,
    f"https://portal.test/reset/{'Ab_' * 11}": "Ab_" * 11,
    "https://portal.test/Account/ResetPasswordConfirmationPageForUsers": None,
    "https://portal.test/reset-password-confirmation-page-for-users": None,
}


@pytest.mark.parametrize("body", sorted(TOKEN_EXAMPLES))
def test_token_examples(body: str) -> None:
    found = token_in(body, "token")
    assert (found[0] if found else None) == TOKEN_EXAMPLES[body]


def test_garbage_never_raises() -> None:
    for raw in (b"", b"\x00" * 100, b"\xff\xfe\r\n\r\n\xc3\x28", b"Content-Type: multipart/x\r\n"):
        message = parse_message(raw, envelope_to=["A@B.test"])
        assert message.to == ("a@b.test",)
