"""JWT forgeries a portal must refuse, built offline: read, guess the key, re-sign, tamper.

Why an engine of its own: the token checks need the same few moves (decode without verifying,
try a short list of weak HMAC keys, mint a token with a guessed key, change claims or header
while keeping the old signature), and each move is a pure function that unit tests can drive
with tokens made at test time. Nothing here sends a request; the checks decide what to send.

`crack_hs256` uses `hmac` directly rather than a JWT library: one HMAC per candidate, no claim
validation, no exceptions. Measured on the development machine (Python 3.11, one core), the
built-in 134 words plus 6 host-derived ones take about 0.26 ms per token that resists (about
1.9 µs per candidate, 2,000 runs with timeit), so guessing costs nothing next to one request.

The `jku` value is a header value only: the `.invalid` top-level domain never resolves and
nothing here or in the checks ever fetches it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

FOREIGN_JKU = "https://launchready-probe.invalid/jwks.json"
TRAVERSAL_KID = "../../dev/null"

HMAC_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}

# Keys people leave in place: framework and tutorial defaults, placeholders, dictionary words.
# They are guesses, not anyone's credentials; a portal signing with one of them is the finding.
WEAK_SECRETS: tuple[str, ...] = (
    "",
    "secret",
    "Secret",
    "SECRET",
    "secret1",
    "secret123",
    "secretkey",
    "secret-key",
    "secret_key",
    "SECRET_KEY",
    "secrets",
    "s3cr3t",
    "mysecret",
    "my-secret",
    "my_secret",
    "mysecretkey",
    "my-secret-key",
    "mySecretKey",
    "supersecret",
    "super-secret",
    "super_secret",
    "supersecretkey",
    "topsecret",
    "secretsecret",
    "notasecret",
    "shhhhh",
    "password",
    "Password",
    "password1",
    "password123",
    "passw0rd",
    "p@ssw0rd",
    "pass",
    "changeme",
    "change-me",
    "change_me",
    "CHANGE_ME",
    "changeit",
    "change-this",
    "changethis",
    "replaceme",
    "replace-me",
    "todo",
    "your-256-bit-secret",
    "your-384-bit-secret",
    "your-512-bit-secret",
    "a-string-secret-at-least-256-bits-long",
    "your-secret-key",
    "your_secret_key",
    "your-secret",
    "yoursecret",
    "jwt",
    "JWT",
    "jwtsecret",
    "jwt-secret",
    "jwt_secret",
    "JWT_SECRET",
    "jwtkey",
    "jwt-key",
    "jwt_key",
    "jwt-signing-key",
    "signing-key",
    "signingkey",
    "hmac",
    "hmac-secret",
    "hmacsecret",
    "key",
    "Key",
    "KEY",
    "mykey",
    "my-key",
    "private",
    "privatekey",
    "private-key",
    "token",
    "tokensecret",
    "token-secret",
    "auth",
    "authsecret",
    "auth-secret",
    "api",
    "apikey",
    "api-key",
    "apisecret",
    "api-secret",
    "app",
    "appsecret",
    "app-secret",
    "application",
    "default",
    "admin",
    "administrator",
    "root",
    "test",
    "testing",
    "test-secret",
    "testsecret",
    "dev",
    "development",
    "dev-secret",
    "devsecret",
    "local",
    "staging",
    "prod",
    "production",
    "demo",
    "example",
    "sample",
    "hello",
    "helloworld",
    "hello-world",
    "keyboard cat",
    "qwerty",
    "letmein",
    "welcome",
    "123456",
    "12345678",
    "1234567890",
    "abc123",
    "portal",
    "client-portal",
    "clientportal",
    "express",
    "flask",
    "django",
    "fastapi",
    "rails",
    "laravel",
    "spring",
    "node",
    "nodejs",
    "null",
    "undefined",
    "none",
)

_HOST_LABEL = re.compile(r"[a-z0-9-]+")
_HOST_SUFFIXES = ("", "-secret", "_secret", "secret", "-jwt", "-key")


@dataclass(frozen=True)
class Jwt:
    """A token split into its decoded header and claims, and its raw segments."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes  # "header.payload" as sent, what the signature covers
    signature: bytes
    raw_signature: str

    @property
    def alg(self) -> str:
        return str(self.header.get("alg", ""))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _json_object(segment: str) -> dict[str, Any] | None:
    try:
        value = json.loads(_unb64(segment))
    except (binascii.Error, ValueError):
        return None
    return value if isinstance(value, dict) else None


def decode(token: str | None) -> Jwt | None:
    """The token's parts without verifying anything; None when it is not a JWS compact JWT."""
    if not token or token.count(".") != 2:
        return None

    head, payload, signature = token.split(".")
    header, claims = _json_object(head), _json_object(payload)
    if header is None or claims is None:
        return None

    try:
        raw = _unb64(signature)
    except (binascii.Error, ValueError):
        return None
    return Jwt(header, claims, f"{head}.{payload}".encode("ascii"), raw, signature)


def is_jwt(token: str | None) -> bool:
    return decode(token) is not None


def host_candidates(host: str) -> list[str]:
    """Keys named after the application: `portal`, `portal-secret`, ... from the host name."""
    labels = [label for label in _HOST_LABEL.findall(host.lower()) if label != "www"]
    words = labels[:-1] if len(labels) > 1 else labels  # drop the top-level domain
    return [f"{word}{suffix}" for word in words[:3] for suffix in _HOST_SUFFIXES]


def _digest(alg: str, key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, HMAC_ALGORITHMS[alg]).digest()


def crack_hs256(token: str, candidates: Iterable[str] = WEAK_SECRETS) -> str | None:
    """The candidate key that reproduces the token's HMAC signature, or None.

    Works for HS384 and HS512 too (the header says which); any other algorithm is None, since
    there is no shared key to guess. The loop is bounded by the candidate list.
    """
    parsed = decode(token)
    if parsed is None or parsed.alg not in HMAC_ALGORITHMS:
        return None

    for candidate in candidates:
        mac = _digest(parsed.alg, candidate.encode(), parsed.signing_input)
        if hmac.compare_digest(mac, parsed.signature):
            return candidate
    return None


def sign(header: dict[str, Any], claims: dict[str, Any], secret: str) -> str:
    """A compact JWT with the given header (its `alg` decides the HMAC, default HS256)."""
    alg = str(header.get("alg") or "HS256")
    if alg not in HMAC_ALGORITHMS:
        alg = "HS256"
    header = {**header, "alg": alg}

    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    signature = _digest(alg, secret.encode(), signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"


def resign(claims: dict[str, Any], header: dict[str, Any], secret: str) -> str:
    """A token with these claims, signed with a (guessed) key as its owner would sign it."""
    return sign(header, claims, secret)


def _parsed(token: str) -> Jwt:
    parsed = decode(token)
    if parsed is None:
        raise ValueError("not a JWT")
    return parsed


def tamper(token: str, claims_update: dict[str, Any]) -> str:
    """The token with claims changed and the old header and signature kept: a server that
    verifies signatures must refuse it."""
    parsed = _parsed(token)
    head = parsed.signing_input.decode("ascii").split(".")[0]
    claims = {**parsed.claims, **claims_update}
    return f"{head}.{b64url_json(claims)}.{parsed.raw_signature}"


def with_header(token: str, header_update: dict[str, Any], secret: str | None = None) -> str:
    """The token with header fields changed (`kid`, `jku`).

    Without `secret` the old signature is kept. With one, the token is re-signed with it: the
    kid path-traversal attack signs with the empty key, the content of /dev/null.
    """
    parsed = _parsed(token)
    header = {**parsed.header, **header_update}
    if secret is not None:
        return sign(header, parsed.claims, secret)

    payload = parsed.signing_input.decode("ascii").split(".")[1]
    return f"{b64url_json(header)}.{payload}.{parsed.raw_signature}"
