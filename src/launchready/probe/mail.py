"""Reading the mail a portal sends to the scan's test accounts (reset and invite links).

Three sources: an SMTP sink the scan starts on loopback (the portal's staging SMTP points at
it), a Mailpit or MailHog HTTP API, or an IMAP mailbox.

How to add a source: subclass `Mailbox` and implement `recent(to, since)`, which returns the
messages the source holds for that address, few and recent, and never raises; polling,
filtering and the time limit live in `Mailbox.wait_for`, shared by every source. A source that
cannot be read at all says why in `problem`, so a check can tell "no mail came" apart from "the
mailbox could not be read".

Everything here is bounded: how many messages are kept, how large one may be, how many polls a
wait makes and how long each network call may take. Mail is hostile input: a message that does
not parse is kept as raw text, never raised.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import html
import imaplib
import ipaddress
import json
import logging
import os
import re
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from launchready.config import Imap, Mail

log = logging.getLogger(__name__)

MAX_MESSAGES = 500  # kept by a source at once; the oldest go first
MAX_MESSAGE_BYTES = 1_000_000  # larger mail is refused by the sink and cut short elsewhere
MAX_BODY_CHARS = 200_000  # of the text body kept per message
MAX_RECIPIENTS = 50  # per message, at the sink
MAX_POLLS = 1000  # per wait, whatever the timeout and the poll interval
MAX_API_BYTES = 5_000_000  # of one Mailpit/MailHog API answer
MAX_DETAILS_PER_POLL = 10  # Mailpit message bodies fetched per poll
MAX_IMAP_FETCH = 20  # newest matching messages fetched per IMAP poll
SINK_SESSION_TIMEOUT_S = 30.0
NETWORK_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0

Accept = Callable[["Message"], bool]


@dataclass(frozen=True)
class Message:
    to: tuple[str, ...]
    sender: str
    subject: str
    body: str
    received_at: dt.datetime


# -- parsing ----------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def addresses(values: Iterable[object]) -> tuple[str, ...]:
    """Lower-cased bare addresses from header values, envelope recipients or API fields."""
    found: list[str] = []
    for _, address in email.utils.getaddresses([str(value) for value in values]):
        address = address.strip().lower()
        if "@" in address and address not in found:
            found.append(address)
    return tuple(found)


def _header(message: EmailMessage, name: str) -> list[str]:
    """A header's values as text; a header the parser cannot make sense of is skipped."""
    values = []
    for raw in message.get_all(name, []) or []:
        try:
            values.append(str(raw))
        except Exception:  # the email package raises many kinds of error on hostile headers
            log.debug("mail: unreadable %s header skipped", name)
    return values


def _text_of(message: EmailMessage) -> str:
    """The plain-text body, else the HTML body, else nothing; undecodable parts are replaced."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception:  # a broken MIME tree: no body rather than a crash
        return ""
    if part is None:
        return ""
    try:
        content = part.get_content()
    except Exception:  # unknown charset, bad base64: fall back to the raw payload
        content = None
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def parse_message(
    raw: bytes,
    *,
    envelope_to: Iterable[str] = (),
    sender: str = "",
    received_at: dt.datetime | None = None,
) -> Message:
    """A `Message` from raw RFC 5322 bytes; what cannot be parsed is left empty, never raised."""
    raw = raw[:MAX_MESSAGE_BYTES]
    try:
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:  # a message no parser accepts is kept as text, for its links
        return Message(
            to=addresses(envelope_to),
            sender=sender,
            subject="",
            body=raw.decode("utf-8", errors="replace")[:MAX_BODY_CHARS],
            received_at=received_at or _now(),
        )

    header_to = [*_header(parsed, "to"), *_header(parsed, "cc")]
    from_header = addresses(_header(parsed, "from"))
    subjects = _header(parsed, "subject")
    return Message(
        to=addresses([*envelope_to, *header_to]),
        sender=sender or (from_header[0] if from_header else ""),
        subject=subjects[0] if subjects else "",
        body=_text_of(parsed)[:MAX_BODY_CHARS],
        received_at=received_at or _now(),
    )


_LINK = re.compile(r"https?://[^\s\"'<>()\[\]]+", re.IGNORECASE)
_URL_SAFE = re.compile(r"[\w.~%-]{16,}")
_WORDS = re.compile(r"[a-z]+([-_.][a-z]+)*|[A-Z]?[a-z]+([A-Z][a-z]+)*")


def links_in(body: str) -> list[str]:
    """The http(s) links of a text or HTML body, in order, HTML entities undone."""
    links = []
    for match in _LINK.finditer(body[:MAX_BODY_CHARS]):
        link = html.unescape(match.group(0)).rstrip(".,;:!?")
        if link not in links:
            links.append(link)
    return links


def _param(link: str, name: str) -> str | None:
    parts = urlsplit(link)
    # Single-page apps put the query in the fragment: `#/reset?token=...`.
    fragment = parts.fragment.partition("?")[2] or parts.fragment
    for where in (parts.query, fragment):
        values = parse_qs(where).get(name)
        if values and values[0]:
            return values[0]
    return None


def is_token_segment(segment: str) -> bool:
    """A path segment that is a token, not words: URL-safe, 16 characters or more, not a
    phrase (`reset-password-confirmation`, `ResetPasswordConfirmation`), and with a digit
    unless it is 32 characters or more (a long random token may happen to have none)."""
    if not _URL_SAFE.fullmatch(segment) or _WORDS.fullmatch(segment):
        return False
    has_digit = any(c.isdigit() for c in segment)
    return any(c.isalpha() for c in segment) and (has_digit or len(segment) >= 32)


def _segment_token(link: str) -> str | None:
    segments = [s for s in urlsplit(link).path.split("/") if s]
    for segment in reversed(segments):
        if is_token_segment(segment):
            return segment
    return None


def token_in(body: str, param: str) -> tuple[str, str] | None:
    """(token, link) from the first link carrying `param` (query or fragment), else from the
    first link whose path ends in a token-like segment; None when no link carries one."""
    links = links_in(body)
    for link in links:
        token = _param(link, param)
        if token:
            return token, link
    for link in links:
        token = _segment_token(link)
        if token:
            return token, link
    return None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -- the shared contract ----------------------------------------------------------------------


class Mailbox:
    """Where mail can be waited for. Subclasses implement one source each."""

    where = "mailbox"  # for findings: which source was read
    poll_interval = 0.5
    # Timestamps a source gives may be coarser than ours (IMAP: whole seconds); a message is
    # taken as new when it is at most this much older than `since`.
    resolution = dt.timedelta(0)

    def __init__(self) -> None:
        self.problem: str | None = None

    async def start(self) -> None:
        """Start listening (the SMTP sink); other sources need nothing."""

    async def recent(self, to: str, since: dt.datetime) -> list[Message]:
        """Messages the source holds for `to` from about `since` on; never raises."""
        raise NotImplementedError

    async def wait_for(
        self,
        to: str,
        *,
        since: dt.datetime,
        timeout: float,
        subject: str = "",
        accept: Accept | None = None,
    ) -> Message | None:
        """The first message to `to` received after `since`, or None after `timeout` seconds.

        `subject` must appear in the subject (any case); `accept` may refuse a message, say one
        carrying a link the caller has already seen. The source is read at least once.
        """
        address = to.strip().lower()
        floor = since - self.resolution
        deadline = time.monotonic() + max(0.0, timeout)
        for _ in range(MAX_POLLS):
            remaining = max(deadline - time.monotonic(), 0.0)
            for message in await self._recent_within(address, floor, remaining):
                if _wanted(message, address, floor, subject, accept):
                    return message

            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await asyncio.sleep(min(self.poll_interval, remaining))
        return None

    async def _recent_within(self, to: str, since: dt.datetime, remaining: float) -> list[Message]:
        # A source has its own network timeouts; this bounds a slow one by the wait as well.
        try:
            found = await asyncio.wait_for(self.recent(to, since), max(remaining, 1.0))
        except TimeoutError:
            return []
        return sorted(found, key=lambda m: m.received_at)

    async def aclose(self) -> None:
        """Stop listening."""


def _wanted(
    message: Message, to: str, floor: dt.datetime, subject: str, accept: Accept | None
) -> bool:
    if to not in message.to or message.received_at < floor:
        return False
    if subject and subject.lower() not in message.subject.lower():
        return False
    return accept is None or accept(message)


# -- SMTP sink --------------------------------------------------------------------------------


class _SinkHandler:
    """aiosmtpd handler: keeps each message, parsed, in a bounded queue."""

    def __init__(self, store: deque[Message]) -> None:
        self._store = store

    # Hook names are aiosmtpd's.
    async def handle_RCPT(
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content.encode("utf-8", errors="replace") if isinstance(content, str) else content
        sender = addresses([envelope.mail_from or ""])
        self._store.append(
            parse_message(raw, envelope_to=envelope.rcpt_tos, sender=sender[0] if sender else "")
        )
        return "250 OK: message accepted"


class SmtpSinkMailbox(Mailbox):
    """An SMTP server on loopback that accepts every message and keeps it in memory."""

    poll_interval = 0.05

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self.host, self.port = host, port
        self.where = f"the SMTP sink on {host}:{port}"
        self.messages: deque[Message] = deque(maxlen=MAX_MESSAGES)
        self._handler = _SinkHandler(self.messages)
        self._server: asyncio.Server | None = None
        self._sessions: list[SMTP] = []

    def _session(self) -> SMTP:
        self._sessions = [s for s in self._sessions if s.transport is not None][-100:]
        session = SMTP(
            self._handler,
            data_size_limit=MAX_MESSAGE_BYTES,
            hostname="launchready-sink",  # a fixed name: no DNS lookup of our own host
            ident="launchready SMTP sink",
            timeout=SINK_SESSION_TIMEOUT_S,
        )
        self._sessions.append(session)
        return session

    async def start(self) -> None:
        if self._server is not None:
            return
        if not is_loopback(self.host):
            self.problem = f"the SMTP sink listens on loopback only, not on {self.host}"
            return
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(self._session, host=self.host, port=self.port)
        except OSError as error:
            self.problem = f"cannot listen on {self.host}:{self.port}: {error.strerror or error}"
            log.warning("mail: %s", self.problem)

    async def recent(self, to: str, since: dt.datetime) -> list[Message]:
        return list(self.messages)

    async def aclose(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for session in self._sessions:
            if session.transport is not None:
                session.transport.close()
        try:
            await asyncio.wait_for(server.wait_closed(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            log.warning("mail: the SMTP sink on port %s did not close in time", self.port)


# -- Mailpit and MailHog ----------------------------------------------------------------------


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _when(value: object) -> dt.datetime | None:
    """An RFC 3339 time from an API answer, as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=parsed.tzinfo or dt.UTC).astimezone(dt.UTC)


def _mailpit_recipients(summary: dict[str, Any]) -> tuple[str, ...]:
    people = [*_as_list(summary.get("To")), *_as_list(summary.get("Cc"))]
    people += _as_list(summary.get("Bcc"))
    return addresses(_as_dict(person).get("Address", "") for person in people)


def _mailhog_message(item: dict[str, Any]) -> Message | None:
    raw = _as_dict(item.get("Raw"))
    data = raw.get("Data")
    if not isinstance(data, str):
        return None
    envelope = [
        f"{_as_dict(p).get('Mailbox', '')}@{_as_dict(p).get('Domain', '')}"
        for p in _as_list(item.get("To"))
    ]
    return parse_message(
        data.encode("utf-8", errors="replace"),
        envelope_to=envelope,
        received_at=_when(item.get("Created")) or _now(),
    )


class MailpitMailbox(Mailbox):
    """Reads a Mailpit (API v1) or MailHog (API v2) server, whichever answers."""

    poll_interval = 1.0
    resolution = dt.timedelta(seconds=1)  # its clock, not ours

    def __init__(self, base_url: str, allowed_hosts: Iterable[str] = ()) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.where = f"the mail API at {self.base_url}"
        self._kind: str | None = None  # "mailpit" or "mailhog", once one answered
        self._bodies: dict[str, Message] = {}
        parts = urlsplit(self.base_url)
        host = (parts.hostname or "").lower()
        allowed = {h.lower() for h in allowed_hosts}
        if parts.scheme not in ("http", "https") or not host:
            self.problem = f"{self.base_url} is not an http(s) URL"
        elif not (is_loopback(host) or host in allowed):
            self.problem = f"{host} is neither loopback nor in the scan scope (scope.hosts)"
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(NETWORK_TIMEOUT_S), follow_redirects=False, trust_env=False
        )

    async def recent(self, to: str, since: dt.datetime) -> list[Message]:
        if self.problem:
            return []
        if self._kind in (None, "mailpit"):
            found = await self._mailpit(to, since)
            if found is not None:
                self._kind = "mailpit"
                return found
        if self._kind in (None, "mailhog"):
            messages = await self._mailhog(to)
            if messages is not None:
                self._kind = "mailhog"
                return messages
        return []

    async def _mailpit(self, to: str, since: dt.datetime) -> list[Message] | None:
        # TODO(#3): ask Mailpit's search endpoint for `to:` instead, so that a busy shared
        # Mailpit cannot push the link past the newest 50 messages.
        listing = await self._get_json("/api/v1/messages", {"limit": "50"})
        if not isinstance(listing, dict) or not isinstance(listing.get("messages"), list):
            return None

        found: list[Message] = []
        fetched = 0
        for summary in map(_as_dict, listing["messages"][:50]):
            key, received = str(summary.get("ID", "")), _when(summary.get("Created"))
            recipients = _mailpit_recipients(summary)
            if not key or received is None or received < since or to not in recipients:
                continue
            if key not in self._bodies and fetched < MAX_DETAILS_PER_POLL:
                fetched += 1
                await self._fetch_mailpit_body(key, summary, recipients, received)
            if key in self._bodies:
                found.append(self._bodies[key])
        return found

    async def _fetch_mailpit_body(
        self, key: str, summary: dict[str, Any], to: tuple[str, ...], received: dt.datetime
    ) -> None:
        detail = _as_dict(await self._get_json(f"/api/v1/message/{quote(key, safe='')}", {}))
        if not detail:
            return
        text = detail.get("Text") or detail.get("HTML") or ""
        sender = addresses([_as_dict(summary.get("From")).get("Address", "")])
        if len(self._bodies) >= MAX_MESSAGES:
            self._bodies.pop(next(iter(self._bodies)))
        self._bodies[key] = Message(
            to=to,
            sender=sender[0] if sender else "",
            subject=str(summary.get("Subject", "")),
            body=str(text)[:MAX_BODY_CHARS],
            received_at=received,
        )

    async def _mailhog(self, to: str) -> list[Message] | None:
        listing = await self._get_json("/api/v2/search", {"kind": "to", "query": to, "limit": "50"})
        if not isinstance(listing, dict) or not isinstance(listing.get("items"), list):
            return None
        messages = (_mailhog_message(_as_dict(item)) for item in listing["items"][:50])
        return [message for message in messages if message is not None]

    async def _get_json(self, path: str, params: dict[str, str]) -> Any:
        """The JSON answer of one GET, or None for any failure (logged, never raised)."""
        url = self.base_url + path
        try:
            async with self._client.stream("GET", url, params=params) as response:
                if response.status_code != 200:
                    return None
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_API_BYTES:
                        log.warning("mail: %s answered more than %d bytes", url, MAX_API_BYTES)
                        return None
            return json.loads(bytes(body))
        except (httpx.HTTPError, ValueError, RecursionError) as error:
            log.info("mail: reading %s failed: %s", url, type(error).__name__)
            return None

    async def aclose(self) -> None:
        await self._client.aclose()


# -- IMAP -------------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _imap_date(when: dt.datetime) -> str:
    """RFC 3501 date (01-Jan-2026), independent of the locale."""
    return f"{when.day:02d}-{_MONTHS[when.month - 1]}-{when.year}"


def _imap_quoted(text: str) -> str:
    return '"' + re.sub(r'["\\\r\n]', "", text) + '"'


def _internal_date(header: bytes) -> dt.datetime | None:
    parsed = imaplib.Internaldate2tuple(header)
    if parsed is None:
        return None
    return dt.datetime.fromtimestamp(time.mktime(parsed), dt.UTC)


class ImapMailbox(Mailbox):
    """Polls an IMAP mailbox (read-only, nothing marked as read) with stdlib imaplib in a
    thread. The server is the one the config names, reached with the credentials it names:
    the user's own mailbox, not a target of the scan."""

    poll_interval = 2.0
    resolution = dt.timedelta(seconds=1)  # INTERNALDATE has whole seconds

    def __init__(self, settings: Imap, timeout: float = NETWORK_TIMEOUT_S) -> None:
        super().__init__()
        self.settings = settings
        self.timeout = timeout
        self.where = f"the IMAP mailbox {settings.mailbox} on {settings.host}:{settings.port}"

    async def start(self) -> None:
        settings = self.settings
        for env in (settings.username_env, settings.password_env):
            if not os.environ.get(env):
                self.problem = f"${env} is not set"
        if not settings.ssl and not is_loopback(settings.host):
            self.problem = "IMAP without TLS is only used on loopback (set mail.imap.ssl = true)"

    async def recent(self, to: str, since: dt.datetime) -> list[Message]:
        if self.problem:
            return []
        return await asyncio.to_thread(self._fetch, to, since)

    def _connect(self) -> imaplib.IMAP4:
        settings = self.settings
        if settings.ssl:
            return imaplib.IMAP4_SSL(
                settings.host,
                settings.port,
                ssl_context=ssl.create_default_context(),
                timeout=self.timeout,
            )
        return imaplib.IMAP4(settings.host, settings.port, timeout=self.timeout)

    def _fetch(self, to: str, since: dt.datetime) -> list[Message]:
        settings = self.settings
        try:
            with self._connect() as imap:
                imap.login(
                    os.environ.get(settings.username_env, ""),
                    os.environ.get(settings.password_env, ""),
                )
                imap.select(_imap_quoted(settings.mailbox), readonly=True)
                # SINCE compares dates in the server's time zone: a day earlier is safe.
                day = _imap_date(since - dt.timedelta(days=1))
                _, found = imap.search(None, "SINCE", day, "TO", _imap_quoted(to))
                numbers = found[0].split()[-MAX_IMAP_FETCH:] if found and found[0] else []
                return [m for n in numbers if (m := self._message(imap, n)) is not None]
        except (imaplib.IMAP4.error, OSError, EOFError, ValueError) as error:
            log.info("mail: reading %s failed: %s", self.where, type(error).__name__)
            return []

    def _message(self, imap: imaplib.IMAP4, number: bytes) -> Message | None:
        spec = f"(INTERNALDATE BODY.PEEK[]<0.{MAX_MESSAGE_BYTES}>)"
        _, parts = imap.fetch(number.decode("ascii", errors="replace"), spec)
        for part in parts or []:
            if isinstance(part, tuple) and len(part) == 2:
                header, raw = part
                received = _internal_date(header) or _now()
                return parse_message(bytes(raw), received_at=received)
        return None


def open_mailbox(config: Mail, *, allowed_hosts: Iterable[str] = ()) -> Mailbox | None:
    """The mailbox the config names, not yet started; None when none is configured.

    When several are named, the SMTP sink wins, then Mailpit, then IMAP. A Mailpit API is
    only read on loopback or on a host of `allowed_hosts` (the scan scope).
    """
    if config.smtp_sink is not None:
        return SmtpSinkMailbox(config.smtp_sink.host, config.smtp_sink.port)
    if config.mailpit:
        return MailpitMailbox(config.mailpit, allowed_hosts)
    if config.imap is not None:
        return ImapMailbox(config.imap)
    return None
