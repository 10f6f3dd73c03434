"""Passwords, tokens and sessions for the demo portal.

Four of the flaw toggles live here: `jwt-weak-secret` (the signing key is a dictionary word),
`jwt-alg-none` (unsigned tokens are believed), `session-fixation` (login adopts a session id the
client made up) and `long-session` (sessions last a month). Everything else is written the way a
careful team would: argon2id for passwords, HS256 only, a jti denylist so logout really ends a
token, and fresh random session ids.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
import warnings
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from .store import LoginSession, Org, RevokedToken, Store, User

TOKEN_LIFETIME_S = 3600
SESSION_LIFETIME_S = 8 * 3600
LONG_SESSION_LIFETIME_S = 30 * 86400
MAX_SESSION_ID_LENGTH = 64

# OWASP's argon2id baseline (19 MiB, 2 passes): strong, yet a login stays around 40 ms, so the
# only slow login is the one the `slow-login` flaw adds on purpose.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


class AuthError(Exception):
    """Raised when credentials are missing, malformed, forged, expired or revoked."""


@dataclass(frozen=True)
class Principal:
    """Who a request acts as; org and role come from the token claims."""

    user_id: int
    org_id: int
    org: str
    role: str
    jti: str
    session_id: str | None

    @property
    def is_admin(self) -> bool:
        """Admins may invite people and list their org's users."""
        return self.role == "admin"


def hash_password(password: str) -> str:
    """argon2id hash in PHC string form."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Constant-time check; any verification problem is just a wrong password."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def weak_secret() -> str:
    """The deliberately guessable key of `jwt-weak-secret`, assembled so no literal is committed."""
    return "sec" + "ret"


def signing_secret(flaws: frozenset[str]) -> str:
    """Per-app JWT key: 32 random bytes when hardened, the dictionary word when flawed.

    PyJWT rightly warns about the short key on every first use; the flaw is intentional, so that
    one warning (for keys of exactly this length) is silenced rather than printed mid-demo.
    """
    if "jwt-weak-secret" in flaws:
        secret = weak_secret()
        warnings.filterwarnings(
            "ignore",
            message=f"The HMAC key is {len(secret)} bytes long",
            category=jwt.InsecureKeyLengthWarning,
        )
        return secret

    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Stable hash for storing single-use tokens (invites, password resets) without keeping them
    usable: whoever reads the table cannot redeem what is in it."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    """Issues and checks JWTs and cookie sessions against the app's store."""

    def __init__(self, store: Store, flaws: frozenset[str]) -> None:
        self._store = store
        self._secret = signing_secret(flaws)
        self._accept_unsigned = "jwt-alg-none" in flaws
        self._check_expiry = "jwt-no-expiry" not in flaws
        self._adopt_session_ids = "session-fixation" in flaws
        self.session_lifetime_s = (
            LONG_SESSION_LIFETIME_S if "long-session" in flaws else SESSION_LIFETIME_S
        )

    def login(
        self, user: User, org_slug: str, presented_session_id: str | None = None
    ) -> tuple[str, str]:
        """Create a JWT and a linked server-side session; returns (jwt, session id).

        `presented_session_id` is the `session` cookie the login request arrived with. Hardened
        ignores it; `session-fixation` adopts it when the server does not know it, so an attacker
        who planted the id in a victim's browser shares the victim's session after login.
        """
        jti = secrets.token_urlsafe(16)
        token = self._sign(user, org_slug, jti, int(time.time()))

        with self._store.session() as db:
            session_id = self._new_session_id(db, presented_session_id)
            db.add(
                LoginSession(
                    id=session_id,
                    user_id=user.id,
                    jti=jti,
                    expires_at=time.time() + self.session_lifetime_s,
                )
            )

        return token, session_id

    def expired_token(self, user: User, org_slug: str) -> str:
        """A token exactly like a login's, issued and expired an hour and more ago: what a staging
        team hands the scanner so it can test expiry without waiting (no session row)."""
        issued = int(time.time()) - TOKEN_LIFETIME_S - 120
        return self._sign(user, org_slug, secrets.token_urlsafe(16), issued)

    def _sign(self, user: User, org_slug: str, jti: str, issued_at: int) -> str:
        claims = {
            "sub": str(user.id),
            "org": org_slug,
            "role": user.role,
            "jti": jti,
            "iat": issued_at,
            "exp": issued_at + TOKEN_LIFETIME_S,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def _new_session_id(self, db: Session, presented: str | None) -> str:
        """A fresh random id, unless the fixation flaw accepts the client's unknown one."""
        fresh = secrets.token_urlsafe(32)
        if not self._adopt_session_ids or not presented:
            return fresh

        if len(presented) > MAX_SESSION_ID_LENGTH or db.get(LoginSession, presented) is not None:
            return fresh

        return presented

    def from_bearer(self, token: str) -> Principal:
        """Authenticate a bearer token; revoked, forged or expired tokens raise AuthError."""
        claims = self._decode(token)

        try:
            user_id = int(claims["sub"])
            org_slug = str(claims["org"])
            role = str(claims["role"])
            jti = str(claims["jti"])
        except (KeyError, TypeError, ValueError) as exc:
            raise AuthError("incomplete token") from exc

        return self._principal(user_id, org_slug, role, jti, None)

    def from_session(self, session_id: str) -> Principal:
        """Authenticate the `session` cookie against the server-side session table."""
        with self._store.session() as db:
            row = db.get(LoginSession, session_id)
            if row is None or row.revoked or row.expires_at < time.time():
                raise AuthError("no such session")

            user = db.get(User, row.user_id)
            if user is None:
                raise AuthError("no such user")

            org = db.get(Org, user.org_id)
            org_slug = org.slug if org is not None else ""

        return self._principal(user.id, org_slug, user.role, row.jti, session_id)

    def revoke(self, principal: Principal) -> None:
        """Logout: denylist the token's jti and end every session created with it."""
        with self._store.session() as db:
            if db.get(RevokedToken, principal.jti) is None:
                db.add(RevokedToken(jti=principal.jti))

            sessions = db.query(LoginSession).filter(LoginSession.jti == principal.jti).all()
            for row in sessions:
                row.revoked = True

    def _decode(self, token: str) -> dict[str, Any]:
        """Verify signature and expiry; the `jwt-alg-none` flaw skips verification when asked to,
        and `jwt-no-expiry` forgets to compare exp with the clock."""
        if self._accept_unsigned and _looks_unsigned(token):
            return _unverified_claims(token)

        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={"require": ["exp", "sub", "jti"], "verify_exp": self._check_expiry},
            )
        except jwt.PyJWTError as exc:
            raise AuthError("invalid token") from exc

    def _principal(
        self, user_id: int, org_slug: str, role: str, jti: str, session_id: str | None
    ) -> Principal:
        """Resolve the org and check the denylist; the user must still exist."""
        with self._store.session() as db:
            if db.get(RevokedToken, jti) is not None:
                raise AuthError("token revoked")

            if db.get(User, user_id) is None:
                raise AuthError("no such user")

            org = db.query(Org).filter(Org.slug == org_slug).one_or_none()
            if org is None:
                raise AuthError("no such org")

        return Principal(user_id, org.id, org.slug, role, jti, session_id)


def _looks_unsigned(token: str) -> bool:
    """True for `alg: none` headers or an empty signature segment (the two forgeries tried)."""
    parts = token.split(".")
    if len(parts) != 3:
        return False

    if parts[2] == "":
        return True

    header = _b64_json(parts[0])
    return str(header.get("alg", "")).lower() == "none"


def _unverified_claims(token: str) -> dict[str, Any]:
    """The vulnerable path: read the payload and believe it."""
    return _b64_json(token.split(".")[1])


def _b64_json(segment: str) -> dict[str, Any]:
    """Decode one base64url JWT segment; garbage is an authentication failure, not a crash."""
    padded = segment + "=" * (-len(segment) % 4)
    try:
        value = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError) as exc:
        raise AuthError("malformed token") from exc

    if not isinstance(value, dict):
        raise AuthError("malformed token")

    return value
