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

from .accounts import router as accounts_router
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


class DocumentOut(BaseModel):
    id: int
    org: str
    owner_id: int
    filename: str
    size: int
    content_type: str
    status: str


class UploadIn(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0)
    content_type: str = Field(max_length=100)


class RenameIn(BaseModel):
    filename: str = Field(min_length=1, max_length=255)


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


def set_session_cookie(response: Response, ctx: PortalContext, session_id: str) -> None:
    """The opaque session cookie, living as long as the server-side session (8 h, or a month
    with `long-session`); `insecure-cookie` drops every protective attribute."""
    secure = ctx.secure_cookies
    response.set_cookie(
        "session",
        session_id,
        max_age=ctx.tokens.session_lifetime_s,
        path="/",
        secure=secure,
        httponly=secure,
        samesite="lax" if secure else None,
    )


def document_out(doc: Document, org: Org | None) -> DocumentOut:
    """API view of a document; org and owner are included so a reader can tell whose it is."""
    return DocumentOut(
        id=doc.id,
        org=org.slug if org is not None else "",
        owner_id=doc.owner_id,
        filename=doc.filename,
        size=doc.size,
        content_type=doc.content_type,
        status=doc.status,
    )


def find_document(ctx: PortalContext, doc_id: int, org_id: int) -> tuple[Document, Org | None]:
    """A document of the given org, with its org; other orgs' documents are indistinguishable
    from none (404, not 403). `idor-documents` forgets the org comparison."""
    with ctx.store.session() as db:
        doc = db.get(Document, doc_id)
        org = db.get(Org, doc.org_id) if doc is not None else None

    if doc is None:
        raise HTTPException(404, "document not found")

    if doc.org_id != org_id and "idor-documents" not in ctx.flaws:
        raise HTTPException(404, "document not found")

    return doc, org


def org_document(ctx: PortalContext, principal: Principal, doc_id: int) -> Document:
    """A document of the caller's org, always checked (the upload step has no IDOR flaw)."""
    with ctx.store.session() as db:
        doc = db.get(Document, doc_id)

    if doc is None or doc.org_id != principal.org_id:
        raise HTTPException(404, "document not found")

    return doc


async def client_tenant(request: Request, ctx: PortalContext) -> int | None:
    """`org-from-query`: the org the client asks for, by query parameter, header or JSON body
    field, believed over the session's. None when hardened or when nothing usable was sent."""
    if "org-from-query" not in ctx.flaws:
        return None

    candidates: list[object] = [request.query_params.get(name) for name in TENANT_QUERY_PARAMS]
    candidates += [request.headers.get(name) for name in TENANT_HEADERS]
    candidates.append(await json_body_field(request, "org_id"))

    with ctx.store.session() as db:
        for value in candidates:
            org_id = resolve_org(db, value)
            if org_id is not None:
                return org_id

    return None


async def json_body_field(request: Request, name: str) -> object:
    """One top-level field of a JSON request body, or None (no body, not JSON, not an object)."""
    if "json" not in request.headers.get("content-type", ""):
        return None

    try:
        body = await request.json()
    except ValueError:
        return None

    return body.get(name) if isinstance(body, dict) else None


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

    _, session_id = ctx.tokens.login(user, org_slug, request.cookies.get("session"))
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
async def api_login(body: LoginIn, request: Request, ctx: Ctx) -> JSONResponse:
    """Exchange email and password for a JWT, and set the session cookie for browser use."""
    await slow_down_if_flawed(ctx)
    user, org_slug = await check_credentials(ctx, body.email, body.password)

    token, session_id = ctx.tokens.login(user, org_slug, request.cookies.get("session"))
    response = JSONResponse(TokenOut(access_token=token).model_dump())
    set_session_cookie(response, ctx, session_id)
    return response


@api.post("/logout", status_code=204)
async def api_logout(principal: Auth, ctx: Ctx) -> Response:
    """End the session: the token's jti is denylisted and the linked cookie session revoked.
    `logout-no-revoke` only clears the cookie, so a copied token or session id lives on."""
    if "logout-no-revoke" not in ctx.flaws:
        ctx.tokens.revoke(principal)

    response = Response(status_code=204)
    response.delete_cookie("session", path="/")
    return response


@api.get("/documents")
async def list_documents(request: Request, principal: Auth, ctx: Ctx) -> list[DocumentOut]:
    """The caller's org's documents (`list-leak`: everyone's; `org-from-query`: any one org's)."""
    org_id = await listing_scope(request, principal, ctx)

    with ctx.store.session() as db:
        query = db.query(Document, Org).join(Org, Document.org_id == Org.id)
        if org_id is not None:
            query = query.filter(Document.org_id == org_id)
        return [document_out(doc, org) for doc, org in query.order_by(Document.id)]


async def listing_scope(request: Request, principal: Principal, ctx: PortalContext) -> int | None:
    """Which org the listing shows; None means all of them (the `list-leak` flaw)."""
    requested = await client_tenant(request, ctx)
    if requested is not None:
        return requested

    if "list-leak" in ctx.flaws:
        return None

    return principal.org_id


@api.post("/documents", status_code=201)
async def start_upload(body: UploadIn, request: Request, principal: Auth, ctx: Ctx) -> UploadOut:
    """Upload initiation: validate the declared size and type before any bytes are sent."""
    if body.size > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"file too large (max {MAX_UPLOAD_BYTES} bytes)")

    if body.content_type not in ALLOWED_CONTENT_TYPES:
        raise HTTPException(415, "content type not allowed")

    org_id = await client_tenant(request, ctx) or principal.org_id
    with ctx.store.session() as db:
        doc = Document(
            org_id=org_id,
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
async def get_document(doc_id: DocId, request: Request, principal: Auth, ctx: Ctx) -> DocumentOut:
    """One document, scoped to the caller's org (another org's id is a 404, not a 403)."""
    org_id = await client_tenant(request, ctx) or principal.org_id
    return document_out(*find_document(ctx, doc_id, org_id))


@api.patch("/documents/{doc_id}")
async def rename_document(doc_id: DocId, body: RenameIn, principal: Auth, ctx: Ctx) -> DocumentOut:
    """Rename one of the org's documents."""
    doc, _ = find_document(ctx, doc_id, principal.org_id)

    with ctx.store.session() as db:
        stored = db.get(Document, doc.id)
        if stored is None:
            raise HTTPException(404, "document not found")
        stored.filename = body.filename
        org = db.get(Org, stored.org_id)

    return document_out(stored, org)


@api.delete("/documents/{doc_id}", status_code=204)
async def delete_document(doc_id: DocId, principal: Auth, ctx: Ctx) -> Response:
    """Delete one of the org's documents."""
    doc, _ = find_document(ctx, doc_id, principal.org_id)

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
    """Admins invite colleagues into their org; the token is shown once, stored hashed, and
    mailed to the invitee when the invite names one."""
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

    if request.email:
        ctx.mailer.send(request.email, "You're invited", invite_mail(ctx, principal, token))

    return InviteOut(token=token)


def invite_mail(ctx: PortalContext, principal: Principal, token: str) -> str:
    """The invitation's body; the link carries the token."""
    return (
        f"You have been invited to join {principal.org} on the Client Portal.\n\n"
        f"Accept the invitation here: {ctx.origin}/invite?token={token}\n"
    )


@api.post("/invites/accept", status_code=201)
async def accept_invite(body: AcceptIn, ctx: Ctx) -> UserOut:
    """Redeem an invite: creates the account (public, since the invitee has none yet)."""
    await slow_down_if_flawed(ctx)
    password_hash = await run_in_threadpool(hash_password, body.password)

    with ctx.store.session() as db:
        invite = db.query(Invite).filter(Invite.token_hash == token_digest(body.token)).first()
        if invite is None or (invite.used and "invite-token-reusable" not in ctx.flaws):
            raise HTTPException(400, "invalid or used invite")

        email = invitee_email(db, invite, body.email)
        user = User(
            email=email,
            name=body.name,
            password_hash=password_hash,
            org_id=invite.org_id,
            role=invite.role,
        )
        invite.used = True
        db.add(user)
        db.flush()
        org = db.get(Org, invite.org_id)

    return user_out(user, org.slug if org is not None else "")


def invitee_email(db: Session, invite: Invite, requested: str | None) -> str:
    """The new account's address: the invite's, else the one asked for, else a made-up one.

    A taken address is a 409, except when a reused invite (`invite-token-reusable`) meets its
    own earlier account: then the next free `name+N@domain` alias is used, so every replay of
    the token yields one more account.
    """
    email = (invite.email or requested or f"user{secrets.token_hex(4)}@invited.test").lower()
    if not email_taken(db, email):
        return email

    if not invite.used:
        raise HTTPException(409, "account already exists")

    local, _, domain = email.partition("@")
    n = 2
    while email_taken(db, f"{local}+{n}@{domain}"):
        n += 1

    return f"{local}+{n}@{domain}"


def email_taken(db: Session, email: str) -> bool:
    """Whether an account with this address exists."""
    return db.query(User).filter(User.email == email).first() is not None


@api.get("/admin/users")
async def admin_users(principal: Auth, ctx: Ctx) -> list[UserOut]:
    """Admins list their own org's users; members get 403 (`admin-open-to-members`: not)."""
    if "admin-open-to-members" not in ctx.flaws:
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
    flaws: frozenset[str],
    https_port: int,
    canonical_host: str,
    accounts: list[SeedAccount],
    mailer: Mailer,
) -> PortalContext:
    """Create the store, seed it and wire the token service and the mailer."""
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
        mailer=mailer,
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


def expired_tokens(ctx: PortalContext) -> dict[str, str]:
    """email -> an expired token of each seeded user, as a staging team would capture one."""
    with ctx.store.session() as db:
        rows = db.query(User, Org).join(Org, User.org_id == Org.id).all()
        return {user.email: ctx.tokens.expired_token(user, org.slug) for user, org in rows}


def create_app(
    flaws: frozenset[str],
    *,
    https_port: int,
    canonical_host: str = "portal.test",
    accounts: list[SeedAccount] | None = None,
    smtp_port: int | None = None,
) -> FastAPI:
    """Build the portal with exactly the named flaws on (unknown names are a ValueError).

    The seeded accounts (generated if not given) are on `app.state.portal.accounts`, every mail
    sent on `app.state.portal.mailer.outbox`; with `smtp_port` mails also go to 127.0.0.1.
    """
    unknown = sorted(flaws - FLAWS.keys())
    if unknown:
        raise ValueError(f"unknown flaw(s): {', '.join(unknown)}")

    seeded = accounts or generate_accounts()
    ctx = build_context(flaws, https_port, canonical_host, seeded, Mailer(smtp_port))
    app = FastAPI(title="Client Portal", version="1.4.2", docs_url=None, redoc_url=None)
    app.state.portal = ctx

    app.include_router(pages)
    app.include_router(api)
    app.include_router(accounts_router)
    if "exposed-files" in flaws:
        app.include_router(leaks)

    if "debug-errors" in flaws:
        app.add_exception_handler(RequestValidationError, crash_on_invalid_input)

    add_middleware(app, ctx)
    return app
