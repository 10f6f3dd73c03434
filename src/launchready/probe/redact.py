"""Masking of credentials and secrets, in one place, before anything is stored or shown.

A masked value keeps a few leading characters and its length, so a reader can recognise which
key it was without being able to use it. Known credentials (the scan's own passwords and
tokens) are registered with a `Redactor` and masked wherever they appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-csrf-token",
        "x-xsrf-token",
    }
)

SENSITIVE_KEYS = re.compile(
    r"(pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|session|"
    r"credential|auth|signature|sig|code)",
    re.IGNORECASE,
)

# JWTs and long random-looking strings after "key=" style assignments.
_JWT = re.compile(r"\beyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*")
_ASSIGNMENT = re.compile(
    r"(?P<key>[\w.-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|private[_-]?key)[\w.-]*)"
    r"(?P<sep>\"?\s*[:=]\s*\"?)(?P<value>[^\s\"',;&<>]{4,})",
    re.IGNORECASE,
)


# Stored password hashes (argon2, bcrypt, scrypt, sha-crypt, Django's pbkdf2): a dumped
# users table in a response must not hand a reader something to crack.
_PASSWORD_HASH = re.compile(
    r"\$(?:argon2(?:id|i|d)|2[abxy]|scrypt|[56])\$[^\s'\";]{20,}"
    r"|\b(?:pbkdf2_sha(?:1|256)|bcrypt_sha256|argon2)\$[^\s'\";]{20,}"
)


def mask(value: str) -> str:
    """Show at most four leading characters and the length: `eyJh…(212 chars)`."""
    if len(value) < 12:
        return "****"
    return f"{value[:4]}…({len(value)} chars)"


def hide(value: str) -> str:
    """Show only the length: for passwords and the scan's own credentials, where even a few
    leading characters would help a guess (`****(22 chars)`)."""
    return f"****({len(value)} chars)"


_PASSWORD_KEY = re.compile(r"pass(word|wd)?", re.IGNORECASE)


class Redactor:
    """Masks known credentials and anything shaped like one."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._known: set[str] = set()
        for value in known:
            self.register(value)

    def register(self, value: str | None) -> None:
        # Very short values would mask ordinary words all over a report.
        if value and len(value) >= 6:
            self._known.add(value)

    def text(self, text: str) -> str:
        for value in sorted(self._known, key=len, reverse=True):
            if value in text:
                text = text.replace(value, hide(value))
        text = _JWT.sub(lambda m: mask(m.group(0)), text)
        text = _PASSWORD_HASH.sub(lambda m: hide(m.group(0)), text)
        return _ASSIGNMENT.sub(_mask_assignment, text)

    def header(self, name: str, value: str) -> str:
        lower = name.lower()
        if lower in SENSITIVE_HEADERS:
            return _mask_header_value(lower, value)
        return self.text(value)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name: self.header(name, value) for name, value in headers.items()}


def _mask_assignment(match: re.Match[str]) -> str:
    value = match.group("value")
    if "…" in value or value.startswith("****"):
        return match.group(0)  # masked already
    masked = hide(value) if _PASSWORD_KEY.search(match.group("key")) else mask(value)
    return f"{match.group('key')}{match.group('sep')}{masked}"


def _mask_header_value(name: str, value: str) -> str:
    if name in ("authorization", "proxy-authorization"):
        scheme, _, credential = value.partition(" ")
        return f"{scheme} {mask(credential)}" if credential else mask(value)
    if name in ("cookie", "set-cookie"):
        # Keep cookie names and attributes (they are evidence); mask each value.
        parts = []
        for index, part in enumerate(value.split(";")):
            key, eq, val = part.partition("=")
            is_value = eq and (name == "cookie" or index == 0)
            parts.append(f"{key}={mask(val)}" if is_value else part)
        return ";".join(parts)
    return mask(value)
