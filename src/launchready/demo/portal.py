"""The demo B2B client portal: a FastAPI app whose weaknesses are switched on by name.

One app instance serves both listeners (HTTPS and plain HTTP) and both host names; what a request
gets depends on its scheme and Host header (see `middleware.HostRoutingMiddleware`). Every route
is shared between the flawed and the hardened build so that the two differ only where a flaw
toggle says they should.
"""

import csv
import io
import json
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from . import accounts
from .auth import Principal, TokenService, hash_password, token_digest
from .common import (
    MIN_PASSWORD_LENGTH,
    Auth,
    BearerCredentials,
    Ctx,
    DocId,
    FormId,
    PortalContext,
    UserOut,
    authenticate,
    bearer_scheme,
    check_credentials,
    require_admin,
    resolve_org,
    slow_down_if_flawed,
    user_out,
)
from .content import (
    APP_JS,
    GIT_CONFIG,
    SOURCE_MAP_COMMENT,
    admin_page,
    backup_sql,
    dot_env,
    home_page,
    login_page,
    source_map,
)
from .flaws import FLAWS
from .mail import Mailer
from .middleware import (
    CorsMiddleware,
    ErrorMiddleware,
    HostRoutingMiddleware,
    SecurityHeadersMiddleware,
)
from .store import (
    Document,
    Invite,
    OnboardingForm,
    Org,
    SeedAccount,
    Store,
    User,
    generate_accounts,
    now_iso,
    seed,
)

__all__ = ["PortalContext", "create_app"]

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ALLOWED_CONTENT_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/csv",
        "text/plain",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)
TENANT_QUERY_PARAMS = ("org_id", "org", "tenant_id", "account_id")
TENANT_HEADERS = ("x-org-id", "x-tenant-id", "x-account-id")


# --- request and response bodies -----------------------------------------------------------


class LoginIn(BaseModel):
    email: str = Field(max_length=200)
    password: str = Field(max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    org: str
    role: str


class DocumentOut(BaseModel):
    id: int
    filename: str
    size: int
    content_type: str
    status: str


class UploadIn(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0)
    content_type: str = Field(max_length=100)


class UploadOut(BaseModel):
    id: int
    upload_url: str


class FormIn(BaseModel):
    fields: dict[str, Any]


class FormOut(BaseModel):
    id: int
    title: str
    fields: dict[str, Any]
    updated_at: str


class InviteIn(BaseModel):
    email: str | None = Field(default=None, max_length=200)
    role: Literal["admin", "member"] = "member"


class InviteOut(BaseModel):
    token: str


class AcceptIn(BaseModel):
    token: str = Field(max_length=200)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)
    name: str = Field(min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=200)


class HealthOut(BaseModel):
    status: str


# --- shared helpers ------------------------------------------------------------------------


async def slow_down_if_flawed(ctx: PortalContext) -> None:
    """`slow-login`: the credential endpoints stall as if hashing were badly tuned."""
    if "slow-login" in ctx.flaws:
        await asyncio.sleep(SLOW_LOGIN_S)


async def check_credentials(ctx: PortalContext, email: str, password: str) -> tuple[User, str]:
    """Look up and verify a user; unknown emails still pay for a hash so timing stays flat."""
    with ctx.store.session() as db:
        user = db.query(User).filter(User.email == email.strip().lower()).one_or_none()
        org = db.get(Org, user.org_id) if user is not None else None

    password_hash = user.password_hash if user is not None else ctx.dummy_hash
    valid = await run_in_threadpool(verify_password, password_hash, password)
    if user is None or org is None or not valid:
        raise HTTPException(401, "invalid credentials")

    return user, org.slug


def set_session_cookie(response: Response, ctx: PortalContext, session_id: str) -> None:
    """The opaque session cookie; `insecure-cookie` drops every protective attribute."""
    secure = ctx.secure_cookies
    response.set_cookie(
        "session",
        session_id,
        max_age=3600,
        path="/",
        secure=secure,
        httponly=secure,
        samesite="lax" if secure else None,
    )


def user_out(user: User, org_slug: str) -> UserOut:
    """API view of a user."""
    return UserOut(id=user.id, email=user.email, name=user.name, org=org_slug, role=user.role)


def document_out(doc: Document) -> DocumentOut:
    """API view of a document."""
    return DocumentOut(
        id=doc.id,
        filename=doc.filename,
        size=doc.size,
        content_type=doc.content_type,
        status=doc.status,
    )


def org_document(ctx: PortalContext, principal: Principal, doc_id: int) -> Document:
    """A document of the caller's org; other orgs' documents are indistinguishable from none."""
    with ctx.store.session() as db:
        doc = db.get(Document, doc_id)

    if doc is None or doc.org_id != principal.org_id:
        raise HTTPException(404, "document not found")

    return doc


# --- pages ---------------------------------------------------------------------------------

READ_METHODS = ["GET", "HEAD"]
"""Pages and files answer HEAD like any web server would, so probes that use it see the truth."""

pages = APIRouter(include_in_schema=False)


@pages.api_route("/", methods=READ_METHODS, response_class=HTMLResponse)
async def home() -> HTMLResponse:
    """Landing page; it loads the bundle the source-map check looks at."""
    return HTMLResponse(home_page())


@pages.api_route("/login", methods=READ_METHODS, response_class=HTMLResponse)
async def login_form(ctx: Ctx) -> HTMLResponse:
    """Form login page with a double-submit CSRF token (cookie + hidden field)."""
    return render_login(ctx)


def render_login(ctx: PortalContext, error: str | None = None, status: int = 200) -> HTMLResponse:
    """Login page with a fresh CSRF token."""
    csrf = secrets.token_urlsafe(24)
    response = HTMLResponse(login_page(csrf, error), status_code=status)
    secure = ctx.secure_cookies
    response.set_cookie(
        "csrf",
        csrf,
        path="/login",
        secure=secure,
        httponly=secure,
        samesite="strict" if secure else None,
    )
    return response


@pages.post("/login")
async def login_submit(
    request: Request,
    ctx: Ctx,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
) -> Response:
    """Form login: CSRF check, credentials, session cookie, then back to the home page."""
    expected = request.cookies.get("csrf", "")
    if not expected or not secrets.compare_digest(expected, csrf):
        raise HTTPException(403, "csrf check failed")

    await slow_down_if_flawed(ctx)
    try:
        user, org_slug = await check_credentials(ctx, email, password)
    except HTTPException:
        return render_login(ctx, "Invalid email or password.", status=401)

    _, session_id = ctx.tokens.login(user, org_slug)
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, ctx, session_id)
    return response


@pages.api_route("/admin", methods=READ_METHODS, response_class=HTMLResponse)
async def admin_dashboard(request: Request, ctx: Ctx) -> Response:
    """Admin dashboard; `open-admin` forgets to put it behind the login."""
    if "open-admin" not in ctx.flaws:
        try:
            principal = authenticate(request, ctx, None)
        except HTTPException:
            return RedirectResponse("/login", status_code=302)
        require_admin(principal)

    with ctx.store.session() as db:
        rows = db.query(User, Org).join(Org, User.org_id == Org.id).order_by(User.id).all()
        users = [(user.email, org.slug, user.role) for user, org in rows]

    return HTMLResponse(admin_page(users))


@pages.api_route("/static/app.js", methods=READ_METHODS)
async def app_js(ctx: Ctx) -> Response:
    """The front-end bundle; with `exposed-files` it points at its published source map."""
    body = APP_JS + (SOURCE_MAP_COMMENT if "exposed-files" in ctx.flaws else "")
    return Response(body, media_type="application/javascript")


# --- files a careless deploy publishes (`exposed-files` only) ------------------------------

leaks = APIRouter(include_in_schema=False)


@leaks.api_route("/.env", methods=READ_METHODS)
async def leaked_env() -> PlainTextResponse:
    """Environment file copied into the web root."""
    return PlainTextResponse(dot_env())


@leaks.api_route("/.git/config", methods=READ_METHODS)
async def leaked_git_config() -> PlainTextResponse:
    """The repository metadata deployed along with the code."""
    return PlainTextResponse(GIT_CONFIG)


@leaks.api_route("/static/app.js.map", methods=READ_METHODS)
async def leaked_source_map() -> Response:
    """Production source map, original sources included."""
    return Response(source_map(), media_type="application/json")


@leaks.api_route("/backup.sql", methods=READ_METHODS)
async def leaked_backup(ctx: Ctx) -> PlainTextResponse:
    """A database dump left in the web root."""
    with ctx.store.session() as db:
        users = [(u.email, u.name, u.role, u.password_hash) for u in db.query(User).all()]

    return PlainTextResponse(backup_sql(users), media_type="application/sql")


# --- JSON API ------------------------------------------------------------------------------

api = APIRouter(prefix="/api")


@api.get("/health")
async def health() -> HealthOut:
    """Liveness probe; public on purpose."""
    return HealthOut(status="ok")


@api.post("/login")
async def api_login(body: LoginIn, ctx: Ctx) -> JSONResponse:
    """Exchange email and password for a JWT, and set the session cookie for browser use."""
    await slow_down_if_flawed(ctx)
    user, org_slug = await check_credentials(ctx, body.email, body.password)

    token, session_id = ctx.tokens.login(user, org_slug)
    response = JSONResponse(TokenOut(access_token=token).model_dump())
    set_session_cookie(response, ctx, session_id)
    return response


@api.post("/logout", status_code=204)
async def api_logout(principal: Auth, ctx: Ctx) -> Response:
    """End the session: the token's jti is denylisted and the linked cookie session revoked."""
    ctx.tokens.revoke(principal)

    response = Response(status_code=204)
    response.delete_cookie("session", path="/")
    return response


@api.get("/me")
async def me(principal: Auth, ctx: Ctx) -> UserOut:
    """The caller's own profile."""
    with ctx.store.session() as db:
        user = db.get(User, principal.user_id)

    if user is None:
        raise not_authenticated()

    return user_out(user, principal.org)


@api.get("/documents")
async def list_documents(principal: Auth, ctx: Ctx) -> list[DocumentOut]:
    """The caller's org's documents."""
    with ctx.store.session() as db:
        docs = db.query(Document).filter(Document.org_id == principal.org_id).order_by(Document.id)
        return [document_out(doc) for doc in docs]


@api.post("/documents", status_code=201)
async def start_upload(body: UploadIn, principal: Auth, ctx: Ctx) -> UploadOut:
    """Upload initiation: validate the declared size and type before any bytes are sent."""
    if body.size > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"file too large (max {MAX_UPLOAD_BYTES} bytes)")

    if body.content_type not in ALLOWED_CONTENT_TYPES:
        raise HTTPException(415, "content type not allowed")

    with ctx.store.session() as db:
        doc = Document(
            org_id=principal.org_id,
            filename=body.filename,
            size=body.size,
            content_type=body.content_type,
            status="pending",
            owner_id=principal.user_id,
        )
        db.add(doc)
        db.flush()

    return UploadOut(id=doc.id, upload_url=f"{ctx.origin}/api/documents/{doc.id}/content")


@api.put("/documents/{doc_id}/content", status_code=204)
async def upload_content(doc_id: DocId, request: Request, principal: Auth, ctx: Ctx) -> Response:
    """Second upload step: the bytes, which must not exceed what was declared."""
    doc = org_document(ctx, principal, doc_id)

    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > doc.size:
            raise HTTPException(413, "more data than declared")

    with ctx.store.session() as db:
        stored = db.get(Document, doc.id)
        if stored is not None:
            stored.status = "uploaded"
            stored.size = received

    return Response(status_code=204)


@api.get("/documents/{doc_id}")
async def get_document(doc_id: DocId, principal: Auth, ctx: Ctx) -> DocumentOut:
    """One document, scoped to the caller's org (another org's id is a 404, not a 403)."""
    return document_out(org_document(ctx, principal, doc_id))


@api.delete("/documents/{doc_id}", status_code=204)
async def delete_document(doc_id: DocId, principal: Auth, ctx: Ctx) -> Response:
    """Delete one of the org's documents."""
    doc = org_document(ctx, principal, doc_id)

    with ctx.store.session() as db:
        stored = db.get(Document, doc.id)
        if stored is not None:
            db.delete(stored)

    return Response(status_code=204)


def org_form(ctx: PortalContext, principal: Principal, form_id: int) -> OnboardingForm:
    """A form of the caller's org, else 404."""
    with ctx.store.session() as db:
        form = db.get(OnboardingForm, form_id)

    if form is None or form.org_id != principal.org_id:
        raise HTTPException(404, "form not found")

    return form


def form_out(form: OnboardingForm) -> FormOut:
    """API view of a form."""
    fields: dict[str, Any] = json.loads(form.fields or "{}")
    return FormOut(id=form.id, title=form.title, fields=fields, updated_at=form.updated_at)


@api.get("/forms/{form_id}")
async def get_form(form_id: FormId, principal: Auth, ctx: Ctx) -> FormOut:
    """Read a saved onboarding form."""
    return form_out(org_form(ctx, principal, form_id))


@api.put("/forms/{form_id}")
async def save_form(form_id: FormId, body: FormIn, principal: Auth, ctx: Ctx) -> FormOut:
    """Save the form's answers (the whole field set is replaced)."""
    org_form(ctx, principal, form_id)

    with ctx.store.session() as db:
        form = db.get(OnboardingForm, form_id)
        if form is None:
            raise HTTPException(404, "form not found")
        form.fields = json.dumps(body.fields)
        form.updated_at = now_iso()

    return form_out(form)


@api.post("/invites", status_code=201)
async def create_invite(principal: Auth, ctx: Ctx, body: InviteIn | None = None) -> InviteOut:
    """Admins invite colleagues into their org; the token is shown once, stored hashed."""
    require_admin(principal)
    request = body or InviteIn()

    token = secrets.token_urlsafe(24)
    with ctx.store.session() as db:
        db.add(
            Invite(
                token_hash=token_digest(token),
                org_id=principal.org_id,
                role=request.role,
                email=request.email,
            )
        )

    return InviteOut(token=token)


@api.post("/invites/accept", status_code=201)
async def accept_invite(body: AcceptIn, ctx: Ctx) -> UserOut:
    """Redeem an invite: creates the account (public, since the invitee has none yet)."""
    await slow_down_if_flawed(ctx)
    password_hash = await run_in_threadpool(hash_password, body.password)

    with ctx.store.session() as db:
        invite = db.query(Invite).filter(Invite.token_hash == token_digest(body.token)).first()
        if invite is None or invite.used:
            raise HTTPException(400, "invalid or used invite")

        email = (invite.email or body.email or f"user{secrets.token_hex(4)}@invited.test").lower()
        if db.query(User).filter(User.email == email).first() is not None:
            raise HTTPException(409, "account already exists")

        invite.used = True
        user = User(
            email=email,
            name=body.name,
            password_hash=password_hash,
            org_id=invite.org_id,
            role=invite.role,
        )
        db.add(user)
        db.flush()
        org = db.get(Org, invite.org_id)

    return user_out(user, org.slug if org is not None else "")


@api.get("/admin/users")
async def admin_users(principal: Auth, ctx: Ctx) -> list[UserOut]:
    """Admins list their own org's users; members get 403."""
    require_admin(principal)

    with ctx.store.session() as db:
        users = db.query(User).filter(User.org_id == principal.org_id).order_by(User.id).all()

    return [user_out(user, principal.org) for user in users]


@api.get(
    "/reports/export",
    dependencies=[Depends(bearer_scheme)],
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_report(request: Request, ctx: Ctx, credentials: BearerCredentials) -> Response:
    """CSV export of document metadata. Declared as protected in OpenAPI in both builds;
    `unauth-export` is the classic bug of a handler that never actually checks, and so
    exports every org.
    """
    org_id: int | None = None
    if "unauth-export" not in ctx.flaws:
        org_id = authenticate(request, ctx, credentials).org_id

    return Response(export_csv(ctx, org_id), media_type="text/csv")


def export_csv(ctx: PortalContext, org_id: int | None) -> str:
    """Document metadata as CSV, for one org or (the flawed path) all of them."""
    with ctx.store.session() as db:
        query = (
            db.query(Document, Org, User)
            .join(Org, Document.org_id == Org.id)
            .join(User, Document.owner_id == User.id)
        )
        if org_id is not None:
            query = query.filter(Document.org_id == org_id)
        rows = query.order_by(Document.id).all()

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["org", "document_id", "filename", "size", "content_type", "owner_email"])
    for doc, org, owner in rows:
        writer.writerow([org.slug, doc.id, doc.filename, doc.size, doc.content_type, owner.email])
    return out.getvalue()


# --- assembly ------------------------------------------------------------------------------


async def crash_on_invalid_input(request: Request, exc: Exception) -> Response:
    """`debug-errors`: input that fails validation blows up instead of getting a 4xx, and the
    error middleware then shows the traceback, like a framework left in debug mode."""
    raise ValueError(f"unhandled bad input on {request.method} {request.url.path}") from exc


def build_context(
    flaws: frozenset[str], https_port: int, canonical_host: str, accounts: list[SeedAccount]
) -> PortalContext:
    """Create the store, seed it and wire the token service."""
    store = Store()
    hashes = {account.email: hash_password(account.password) for account in accounts}
    seed(store, accounts, hashes)

    return PortalContext(
        flaws=flaws,
        https_port=https_port,
        canonical_host=canonical_host,
        store=store,
        tokens=TokenService(store, flaws),
        accounts=accounts,
        dummy_hash=hash_password(secrets.token_urlsafe(16)),
    )


def add_middleware(app: FastAPI, ctx: PortalContext) -> None:
    """Innermost first: errors, host routing, CORS, then the headers that wrap everything."""
    app.add_middleware(ErrorMiddleware, debug="debug-errors" in ctx.flaws)
    app.add_middleware(
        HostRoutingMiddleware,
        flaws=ctx.flaws,
        https_port=ctx.https_port,
        canonical_host=ctx.canonical_host,
    )
    app.add_middleware(CorsMiddleware, flaws=ctx.flaws, allowed_origin=ctx.origin)
    app.add_middleware(SecurityHeadersMiddleware, flaws=ctx.flaws)


def create_app(
    flaws: frozenset[str],
    *,
    https_port: int,
    canonical_host: str = "portal.test",
    accounts: list[SeedAccount] | None = None,
) -> FastAPI:
    """Build the portal with exactly the named flaws on (unknown names are a ValueError).

    The seeded accounts (generated if not given) are on `app.state.portal.accounts`.
    """
    unknown = sorted(flaws - FLAWS.keys())
    if unknown:
        raise ValueError(f"unknown flaw(s): {', '.join(unknown)}")

    ctx = build_context(flaws, https_port, canonical_host, accounts or generate_accounts())
    app = FastAPI(title="Client Portal", version="1.4.2", docs_url=None, redoc_url=None)
    app.state.portal = ctx

    app.include_router(pages)
    app.include_router(api)
    if "exposed-files" in flaws:
        app.include_router(leaks)

    if "debug-errors" in flaws:
        app.add_exception_handler(RequestValidationError, crash_on_invalid_input)

    add_middleware(app, ctx)
    return app
