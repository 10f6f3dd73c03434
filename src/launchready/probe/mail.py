"""Reading the mail a portal sends to the scan's test accounts (reset and invite links).

Three sources: an SMTP sink the scan starts on loopback (the portal's staging SMTP points at
it), a Mailpit or MailHog HTTP API, or an IMAP mailbox.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from launchready.config import Mail


@dataclass(frozen=True)
class Message:
    to: tuple[str, ...]
    sender: str
    subject: str
    body: str
    received_at: dt.datetime


class Mailbox:
    """Where mail can be waited for. Subclasses implement one source each."""

    async def start(self) -> None:
        """Start listening (the SMTP sink); other sources need nothing."""

    async def wait_for(
        self, to: str, *, since: dt.datetime, timeout: float, subject: str = ""
    ) -> Message | None:
        """The first message to `to` received after `since`, or None after `timeout` seconds."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Stop listening."""


def open_mailbox(config: Mail) -> Mailbox | None:
    """The mailbox the config names, not yet started; None when none is configured."""
    return None
