"""Outgoing mail for the demo portal: an in-memory outbox, optionally relayed over SMTP.

Password resets, invites and signups are judged by what reaches an inbox (the link, the token,
whether a mail was sent at all), so every message is kept in `outbox` and tests can read it
without a mail server. Given an SMTP port, the portal also delivers each message to 127.0.0.1,
so an end-to-end run sees real mail arrive.
"""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from starlette.concurrency import run_in_threadpool

SENDER = "Portal <no-reply@portal.test>"
SMTP_HOST = "127.0.0.1"
SMTP_TIMEOUT_S = 5.0


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text mail from the portal's no-reply address."""
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def send_smtp(port: int, message: EmailMessage) -> None:
    """Blocking SMTP delivery to a server on loopback (the demo never mails the outside world)."""
    with smtplib.SMTP(SMTP_HOST, port, timeout=SMTP_TIMEOUT_S) as smtp:
        smtp.send_message(message)


@dataclass
class Mailer:
    """Keeps every mail in `outbox` and, with `smtp_port`, delivers it after the response.

    Delivery runs as a background task (smtplib in a worker thread), for two reasons: a slow or
    dead mail server must never turn a request into a 500 or a hang, and how long delivery takes
    must not show in response times, or the hardened reset endpoint would again reveal which
    addresses have accounts. Failures are swallowed and kept in `errors`.
    """

    smtp_port: int | None = None
    outbox: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _pending: set[asyncio.Task[None]] = field(default_factory=set, repr=False)

    def send(self, to: str, subject: str, body: str) -> None:
        """Record the mail now and, if SMTP is configured, schedule its delivery."""
        self.outbox.append({"to": to, "subject": subject, "body": body})
        if self.smtp_port is None:
            return

        delivery = self._deliver(self.smtp_port, to, subject, body)
        task = asyncio.get_running_loop().create_task(delivery)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, port: int, to: str, subject: str, body: str) -> None:
        """Send one mail over SMTP in a thread; any failure is recorded, never raised."""
        try:
            message = build_message(to, subject, body)
            await run_in_threadpool(send_smtp, port, message)
        except Exception as exc:  # a demo mail problem must never disturb the portal
            self.errors.append(f"{to}: {exc!r}")
