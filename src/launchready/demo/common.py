"""What every route module of the demo portal shares: the app context, authentication
dependencies, the user view and the credential check.

It sits below `portal` and `accounts` so both can declare routes without importing each other.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from .auth import AuthError, Principal, TokenService, verify_password
from .mail import Mailer
from .store import Org, SeedAccount, Store, User

SLOW_LOGIN_S = 0.7
MIN_PASSWORD_LENGTH = 12
NO_ACCOUNT = "no account with that email"

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
"""Loose on purpose (any local part, any dotted domain), strict only about what matters here:
no whitespace, so an address can never smuggle a header line into a mail."""

Email = Annotated[str, Field(max_length=200, pattern=EMAIL_PATTERN)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)]


@dataclass
class PortalContext:
    """Everything a request handler needs, hung on `app.state.portal`."""

    flaws: frozenset[str]
    https_port: int
    canonical_host: str
    store: Store
    tokens: TokenService
    accounts: list[SeedAccount]
    dummy_hash: str = field(repr=False)
    mailer: Mailer = field(default_factory=Mailer)

    @property
    def origin(self) -> str:
        """The portal's own origin: the only one CORS trusts when hardened."""
        return f"https://{self.canonical_host}:{self.https_port}"

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies get Secure, HttpOnly and SameSite."""
        return "insecure-cookie" not in self.flaws


def get_context(request: Request) -> PortalContext:
    """Dependency giving handlers the app's context."""
    context: PortalContext = request.app.state.portal
    return context


Ctx = Annotated[PortalContext, Depends(get_context)]

bearer_scheme = HTTPBearer(auto_error=False)
"""Optional so the cookie can authenticate too; its presence is what puts the operation's
security requirement into OpenAPI."""

BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def not_authenticated() -> HTTPException:
    """The one 401 every protected route returns."""
    return HTTPException(401, "not authenticated", headers={"WWW-Authenticate": "Bearer"})


def authenticate(
    request: Request, ctx: PortalContext, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """Bearer token if one is sent (no fallback when it is bad), else the session cookie."""
    try:
        if credentials is not None:
            return ctx.tokens.from_bearer(credentials.credentials)

        session_id = request.cookies.get("session")
        if session_id:
            return ctx.tokens.from_session(session_id)
    except AuthError as exc:
        raise not_authenticated() from exc

    raise not_authenticated()


def current_principal(request: Request, ctx: Ctx, credentials: BearerCredentials) -> Principal:
    """Dependency for protected routes."""
    return authenticate(request, ctx, credentials)


Auth = Annotated[Principal, Depends(current_principal)]


def integer_path_id(name: str) -> Any:
    """Dependency parsing an integer path id *before* authentication runs.

    FastAPI only reports path validation errors after every dependency has run, so a plain `int`
    parameter would answer a malformed id with 401 to anonymous callers. Parsing in a dependency
    declared ahead of `Auth` makes bad input a 422 (or, with `debug-errors`, a crash) for
    everyone, which is what the error-handling checks probe. The schema still says integer.
    """

    def parse(
        raw: Annotated[str, Path(alias=name, json_schema_extra={"type": "integer"})],
    ) -> int:
        if raw.isascii() and raw.isdigit():
            return int(raw)

        error = {
            "type": "int_parsing",
            "loc": ("path", name),
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": raw,
        }
        raise RequestValidationError([error])

    return Depends(parse)


DocId = Annotated[int, integer_path_id("doc_id")]
FormId = Annotated[int, integer_path_id("form_id")]


def require_admin(principal: Principal) -> None:
    """Admin-only operations refuse members with 403 (they are authenticated, just not allowed)."""
    if not principal.is_admin:
        raise HTTPException(403, "admin only")


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    org: str
    role: str


def user_out(user: User, org_slug: str) -> UserOut:
    """API view of a user."""
    return UserOut(id=user.id, email=user.email, name=user.name, org=org_slug, role=user.role)


def resolve_org(db: Session, value: object) -> int | None:
    """The id of an existing org named by a client-supplied value (an id, as number or digits,
    or a slug); None for anything else, so a bogus value never points a row at no tenant."""
    if isinstance(value, bool):
        return None

    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())

    if isinstance(value, int):
        org = db.get(Org, value)
    elif isinstance(value, str):
        org = db.query(Org).filter(Org.slug == value.strip().lower()).one_or_none()
    else:
        org = None

    return org.id if org is not None else None


def normalise_email(email: str) -> str:
    """Accounts are keyed by the lower-cased address, so lookups must compare the same form."""
    return email.strip().lower()


async def slow_down_if_flawed(ctx: PortalContext) -> None:
    """`slow-login`: the credential endpoints stall as if hashing were badly tuned."""
    if "slow-login" in ctx.flaws:
        await asyncio.sleep(SLOW_LOGIN_S)


async def check_credentials(ctx: PortalContext, email: str, password: str) -> tuple[User, str]:
    """Look up and verify a user; unknown emails still pay for a hash so timing stays flat."""
    with ctx.store.session() as db:
        user = db.query(User).filter(User.email == normalise_email(email)).one_or_none()
        org = db.get(Org, user.org_id) if user is not None else None

    password_hash = user.password_hash if user is not None else ctx.dummy_hash
    valid = await run_in_threadpool(verify_password, password_hash, password)
    if user is None or org is None:
        raise credentials_error(ctx, known=False)

    if not valid:
        raise credentials_error(ctx, known=True)

    return user, org.slug


def credentials_error(ctx: PortalContext, *, known: bool) -> HTTPException:
    """Hardened gives one 401 for every failure, so a login form cannot be used to test which
    addresses have accounts; `enumeration-messages` says which half was wrong."""
    if "enumeration-messages" not in ctx.flaws:
        return HTTPException(401, "invalid credentials")

    if known:
        return HTTPException(401, "wrong password")

    return HTTPException(404, NO_ACCOUNT)
