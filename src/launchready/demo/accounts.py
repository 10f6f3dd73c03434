"""Account self-service for the demo portal: password reset, signup, profile and admin MFA.

These are the flows where a portal gives away who has an account (`enumeration-messages`), lets
a link work twice (`reset-token-reusable`), or trusts fields it should not (`mass-assignment-
role`). Hardened, every public answer is the same whether or not the address is known, and the
same work is done either way so response times do not tell either.
"""

import base64
import re
import secrets
import time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from .auth import hash_password, token_digest
from .common import (
    NO_ACCOUNT,
    Auth,
    Ctx,
    Email,
    Password,
    PortalContext,
    UserOut,
    normalise_email,
    not_authenticated,
    require_admin,
    resolve_org,
    user_out,
)
from .store import Org, ResetToken, User

RESET_LIFETIME_S = 30 * 60
RESET_ACCEPTED = "If the account exists, a reset link is on its way."
SIGNUP_ACCEPTED = "Check your email to finish signing up."
INVALID_RESET = "invalid or expired token"
MFA_ISSUER = "Client Portal"
MAX_ROLE_LENGTH = 20

router = APIRouter(prefix="/api")


class DetailOut(BaseModel):
    detail: str


class ResetIn(BaseModel):
    email: Email


class ResetConfirmIn(BaseModel):
    token: str = Field(max_length=200)
    password: Password


class SignupIn(BaseModel):
    email: Email
    password: Password
    org_name: str = Field(min_length=1, max_length=100)


class ProfileIn(BaseModel):
    """Only the name is the caller's to change; anything else sent (role, org_id, is_admin) is
    dropped by validation, which is the whole defence against mass assignment."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, min_length=1, max_length=100)


class MfaStatusOut(BaseModel):
    enrolled: bool
    available: bool = True


class MfaEnrollmentOut(BaseModel):
    otpauth_uri: str


# --- password reset ------------------------------------------------------------------------


@router.post("/password-reset", status_code=202)
async def request_password_reset(body: ResetIn, ctx: Ctx) -> DetailOut:
    """Mail a reset link if the account exists; the answer never says whether it does.

    The token is generated and hashed for unknown addresses too, so both paths do the same work.
    """
    token = secrets.token_urlsafe(32)
    digest = token_digest(token)

    with ctx.store.session() as db:
        user = db.query(User).filter(User.email == normalise_email(body.email)).one_or_none()
        if user is not None:
            expires_at = time.time() + RESET_LIFETIME_S
            db.add(ResetToken(token_hash=digest, user_id=user.id, expires_at=expires_at))

    if user is None:
        if "enumeration-messages" in ctx.flaws:
            raise HTTPException(404, NO_ACCOUNT)
        return DetailOut(detail=RESET_ACCEPTED)

    ctx.mailer.send(user.email, "Reset your password", reset_mail(ctx, token))
    return DetailOut(detail=RESET_ACCEPTED)


def reset_mail(ctx: PortalContext, token: str) -> str:
    """The reset mail's body; the link is the only way to the token."""
    minutes = RESET_LIFETIME_S // 60
    return (
        "Someone asked to reset the password of your Client Portal account.\n\n"
        f"Choose a new password here (the link works once, for {minutes} minutes):\n"
        f"{ctx.origin}/reset?token={token}\n\n"
        "If that was not you, ignore this mail; your password stays as it is.\n"
    )


@router.post("/password-reset/confirm")
async def confirm_password_reset(body: ResetConfirmIn, ctx: Ctx) -> DetailOut:
    """Set a new password with a reset token.

    The new password is hashed before the token is looked up, so a bad token answers as slowly
    as a good one. Changing the password retires every reset token the user holds, so an older
    link that is still in some inbox dies with the old password.
    """
    password_hash = await run_in_threadpool(hash_password, body.password)

    with ctx.store.session() as db:
        reset = usable_reset_token(ctx, db, body.token)
        user = db.get(User, reset.user_id) if reset is not None else None
        if user is None:
            raise HTTPException(400, INVALID_RESET)

        user.password_hash = password_hash
        retire_reset_tokens(db, user.id)

    return DetailOut(detail="password changed")


def usable_reset_token(ctx: PortalContext, db: Session, token: str) -> ResetToken | None:
    """The stored token if it is known, unexpired and unused; `reset-token-reusable` forgets to
    look at the last of those."""
    reset = db.query(ResetToken).filter(ResetToken.token_hash == token_digest(token)).one_or_none()
    if reset is None or reset.expires_at < time.time():
        return None

    if reset.used and "reset-token-reusable" not in ctx.flaws:
        return None

    return reset


def retire_reset_tokens(db: Session, user_id: int) -> None:
    """Mark every reset token of the user as used, the one just redeemed included."""
    db.query(ResetToken).filter(ResetToken.user_id == user_id).update({ResetToken.used: True})


# --- signup --------------------------------------------------------------------------------


@router.post("/signup", status_code=202)
async def signup(body: SignupIn, ctx: Ctx) -> DetailOut:
    """Create a new org with the caller as its admin, and tell them by mail.

    For an address that already has an account nothing is created; its owner gets a heads-up
    mail instead, and the caller the same answer as for a new address (the password is hashed in
    both cases so the timing matches too).
    """
    email = normalise_email(body.email)
    password_hash = await run_in_threadpool(hash_password, body.password)

    with ctx.store.session() as db:
        existing = db.query(User).filter(User.email == email).one_or_none()
        org = None
        if existing is None:
            org = create_org_with_admin(db, email, body.org_name, password_hash)

    if org is not None:
        ctx.mailer.send(email, "Finish signing up", welcome_mail(ctx, org))
        return DetailOut(detail=SIGNUP_ACCEPTED)

    if "enumeration-messages" in ctx.flaws:
        raise HTTPException(409, "email already registered")

    ctx.mailer.send(email, "Someone tried to sign up with your address", signup_again_mail(ctx))
    return DetailOut(detail=SIGNUP_ACCEPTED)


def create_org_with_admin(db: Session, email: str, org_name: str, password_hash: str) -> Org:
    """A new tenant with a unique slug, and its first user as admin."""
    org = Org(slug=unique_slug(db, org_name), name=org_name)
    db.add(org)
    db.flush()

    name = email.split("@", 1)[0]
    db.add(User(email=email, name=name, password_hash=password_hash, org_id=org.id, role="admin"))
    db.flush()
    return org


def unique_slug(db: Session, org_name: str) -> str:
    """A URL-safe slug for the org name, numbered when it is taken."""
    base = re.sub(r"[^a-z0-9]+", "-", org_name.lower()).strip("-")[:30] or "org"

    slug, n = base, 1
    while db.query(Org).filter(Org.slug == slug).first() is not None:
        n += 1
        slug = f"{base}-{n}"

    return slug


def welcome_mail(ctx: PortalContext, org: Org) -> str:
    """Sent to a new admin once their org exists."""
    return (
        f"Your organisation {org.name} is ready on the Client Portal.\n\n"
        f"Sign in to finish setting it up: {ctx.origin}/login\n"
    )


def signup_again_mail(ctx: PortalContext) -> str:
    """Sent to an existing account's owner instead of telling the signup form they exist."""
    return (
        "Someone tried to sign up for the Client Portal with your address. You already have an "
        "account, so nothing was changed.\n\n"
        f"If that was you, sign in at {ctx.origin}/login or reset your password there.\n"
        "If not, you can ignore this mail.\n"
    )


# --- profile -------------------------------------------------------------------------------


@router.get("/me")
async def me(principal: Auth, ctx: Ctx) -> UserOut:
    """The caller's own profile."""
    with ctx.store.session() as db:
        user = db.get(User, principal.user_id)

    if user is None:
        raise not_authenticated()

    return user_out(user, principal.org)


@router.patch("/me")
async def update_me(body: ProfileIn, request: Request, principal: Auth, ctx: Ctx) -> UserOut:
    """Change the caller's display name; `mass-assignment-role` also writes role and org."""
    privileged = await mass_assigned_fields(request, ctx)

    with ctx.store.session() as db:
        user = db.get(User, principal.user_id)
        if user is None:
            raise not_authenticated()

        if body.name is not None:
            user.name = body.name
        apply_privileged_fields(db, user, privileged)
        org = db.get(Org, user.org_id)

    return user_out(user, org.slug if org is not None else "")


async def mass_assigned_fields(request: Request, ctx: PortalContext) -> dict[str, Any]:
    """The raw body, when the flaw copies it onto the user; otherwise nothing."""
    if "mass-assignment-role" not in ctx.flaws:
        return {}

    raw = await request.json()
    return raw if isinstance(raw, dict) else {}


def apply_privileged_fields(db: Session, user: User, fields: dict[str, Any]) -> None:
    """The flawed update: role, is_admin and org_id straight from the client."""
    role = fields.get("role")
    if isinstance(role, str) and 0 < len(role) <= MAX_ROLE_LENGTH:
        user.role = role

    if fields.get("is_admin") is True:
        user.role = "admin"

    org_id = resolve_org(db, fields.get("org_id"))
    if org_id is not None:
        user.org_id = org_id


# --- MFA -----------------------------------------------------------------------------------


def mfa_feature(ctx: Ctx) -> None:
    """`no-mfa`: the portal has no MFA at all, so its endpoints are a plain 404 for everyone."""
    if "no-mfa" in ctx.flaws:
        raise HTTPException(404, "Not Found")


@router.get("/mfa", dependencies=[Depends(mfa_feature)])
async def mfa_status(principal: Auth, ctx: Ctx) -> MfaStatusOut:
    """Whether the caller has an authenticator app enrolled."""
    with ctx.store.session() as db:
        user = db.get(User, principal.user_id)

    if user is None:
        raise not_authenticated()

    return MfaStatusOut(enrolled=user.mfa_secret is not None)


@router.post("/mfa/enroll", dependencies=[Depends(mfa_feature)])
async def mfa_enroll(principal: Auth, ctx: Ctx) -> MfaEnrollmentOut:
    """Admins enrol a TOTP authenticator; a new call replaces the previous secret."""
    require_admin(principal)
    secret = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")

    with ctx.store.session() as db:
        user = db.get(User, principal.user_id)
        if user is None:
            raise not_authenticated()
        user.mfa_secret = secret

    return MfaEnrollmentOut(otpauth_uri=otpauth_uri(user.email, secret))


def otpauth_uri(email: str, secret: str) -> str:
    """The Key URI format authenticator apps read from a QR code."""
    issuer = quote(MFA_ISSUER)
    label = f"{issuer}:{quote(email)}"
    return f"otpauth://totp/{label}?secret={secret}&issuer={issuer}&digits=6&period=30"
