"""Persistence for the demo portal: SQLAlchemy models on an in-memory SQLite database.

The portal is started in-process, possibly twice at once (flawed and hardened in one test run),
so each app gets its own private in-memory database. A single shared connection (StaticPool)
keeps the data alive for the app's lifetime; a lock serialises access because the same app is
served by two uvicorn event loops running in different threads.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool


class Base(DeclarativeBase):
    """Declarative base for the portal's tables."""


class Org(Base):
    """A customer organisation (tenant); every other row is scoped to one."""

    __tablename__ = "orgs"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class User(Base):
    """A person who can log in; `role` is "admin" or "member" within their org."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    role: Mapped[str] = mapped_column(String(20))
    mfa_secret: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)


class Document(Base):
    """A file a client shares with the portal; uploads happen in two steps (initiate, send)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="uploaded")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class OnboardingForm(Base):
    """An onboarding form; `fields` holds the saved answers as a JSON document."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    title: Mapped[str] = mapped_column(String(200))
    fields: Mapped[str] = mapped_column(default="{}")
    updated_at: Mapped[str] = mapped_column(String(40), default="")


class Invite(Base):
    """A single-use invitation; only a hash of the token is stored so a DB leak cannot use it."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    role: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    used: Mapped[bool] = mapped_column(default=False)


class ResetToken(Base):
    """A password-reset token; stored hashed like invites, and dead once used or expired."""

    __tablename__ = "reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[float]
    used: Mapped[bool] = mapped_column(default=False)


class LoginSession(Base):
    """A server-side session behind the opaque `session` cookie, tied to the JWT of the login."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    jti: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[float]
    revoked: Mapped[bool] = mapped_column(default=False)


class RevokedToken(Base):
    """The JWT denylist: a token whose jti is here was logged out and must be refused."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)


@dataclass(frozen=True)
class SeedAccount:
    """A seeded user with their clear-text password, handed to the tests and the CLI."""

    email: str
    password: str
    name: str
    org: str
    role: str

    def as_dict(self) -> dict[str, str]:
        """Plain dict form, as exposed on `DemoPortal.accounts`; `org_id` is the tenant id a
        client would send (as text, like every other value here)."""
        return {
            "email": self.email,
            "password": self.password,
            "name": self.name,
            "org": self.org,
            "org_id": str(ORG_IDS[self.org]),
            "role": self.role,
        }


def generate_accounts() -> list[SeedAccount]:
    """The four seeded users, with passwords generated now so none is ever stored in the repo.

    Dave exists for the password-reset probe, which changes his password: no other probe
    should depend on an account whose credentials the scan itself replaces.
    """
    return [
        SeedAccount("alice@acme.test", secrets.token_urlsafe(16), "Alice Archer", "acme", "admin"),
        SeedAccount("bob@globex.test", secrets.token_urlsafe(16), "Bob Baker", "globex", "admin"),
        SeedAccount("carol@acme.test", secrets.token_urlsafe(16), "Carol Chen", "acme", "member"),
        SeedAccount("dave@globex.test", secrets.token_urlsafe(16), "Dave Diaz", "globex", "member"),
    ]


class Store:
    """Owns the engine and hands out sessions one at a time (see the module docstring)."""

    def __init__(self) -> None:
        self.engine: Engine = create_engine(
            "sqlite://",
            connect_args={"check_same_thread": False},
            poolclass=StaticPool,
        )
        self._lock = threading.Lock()

        Base.metadata.create_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success; the lock keeps the shared connection single-user."""
        with self._lock, Session(self.engine, expire_on_commit=False) as db:
            yield db
            db.commit()


def now_iso() -> str:
    """UTC timestamp used for `updated_at` fields."""
    return datetime.now(UTC).isoformat(timespec="seconds")


ORGS = {"acme": "Acme Corporation", "globex": "Globex Inc."}
ORG_IDS = {"acme": 1, "globex": 2}
"""Fixed, because tenant ids are what clients send (`org-from-query`) and tests name them."""

DOCUMENTS = {
    "acme": [
        ("acme-master-services-agreement.pdf", 482_113, "application/pdf"),
        ("acme-onboarding-checklist.csv", 3_204, "text/csv"),
    ],
    "globex": [
        ("globex-security-questionnaire.pdf", 221_870, "application/pdf"),
        ("globex-logo.png", 48_512, "image/png"),
    ],
}

FORMS = {"acme": "Acme onboarding details", "globex": "Globex onboarding details"}


def seed(store: Store, accounts: list[SeedAccount], password_hashes: dict[str, str]) -> None:
    """Create the two orgs, their users, 2 documents and 1 form each, with stable integer ids:
    orgs acme 1, globex 2; users alice 1, bob 2, carol 3, dave 4; documents 1-2 acme, 3-4 globex;
    forms 1 acme, 2 globex. Signups and invites get the next ids."""
    with store.session() as db:
        orgs = {slug: Org(id=ORG_IDS[slug], slug=slug, name=name) for slug, name in ORGS.items()}
        db.add_all(orgs.values())
        db.flush()

        users = {
            account.email: User(
                email=account.email,
                name=account.name,
                password_hash=password_hashes[account.email],
                org_id=orgs[account.org].id,
                role=account.role,
            )
            for account in accounts
        }
        db.add_all(users.values())
        db.flush()

        admins = {
            account.org: users[account.email] for account in accounts if account.role == "admin"
        }
        for slug, docs in DOCUMENTS.items():
            for filename, size, content_type in docs:
                db.add(
                    Document(
                        org_id=orgs[slug].id,
                        filename=filename,
                        size=size,
                        content_type=content_type,
                        owner_id=admins[slug].id,
                    )
                )
        db.flush()

        for slug, title in FORMS.items():
            db.add(
                OnboardingForm(org_id=orgs[slug].id, title=title, fields="{}", updated_at=now_iso())
            )
