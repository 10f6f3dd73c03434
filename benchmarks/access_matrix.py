"""Wall time of the access-control matrix on an API with 50 object endpoints and 4 identities.

The demo portal has only a couple of object endpoints, so this benchmark serves its own small
multi-tenant API on 127.0.0.1: 50 resources `/api/r0` .. `/api/r49`, each with a list, a
create, and item GET/PATCH/DELETE, described by the OpenAPI document FastAPI generates. Two
tenants with an admin and a member each log in with a bearer token (passwords are made up at
run time). The API scopes every object to the caller's tenant, so a correct scan reports no
failure: any failure or error it does report is a false positive to look into.

Only the authorization and tenant-isolation rows run (`run_scan(ctx, only=...)`), with the
config built in code. The target is at most 20 s. Each scope setting below is run with its own
freshly seeded API, because the request rate cap and budget decide most of the time.

    python benchmarks/access_matrix.py            # every scope setting once
    python benchmarks/access_matrix.py --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from _bench import machine_lines, runs_option, summarise, verdict_mark
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from launchready.config import Config, parse_config
from launchready.context import ScanContext
from launchready.findings import Finding, Status
from launchready.runner import run_scan

TARGET_S = 20.0
RESOURCES = 50
SEEDED_PER_TENANT = 2  # records each tenant owns in every resource before the scan
ROWS = ("authorization", "tenant-isolation")
HOST = "127.0.0.1"
STARTUP_LIMIT_S = 10.0
RUN_LIMIT_S = 300.0  # a scan that takes longer is stopped
ACCOUNTS = (  # (name, tenant, org id, role); the first account of a tenant is its owner
    ("north-admin", "north", 1, "admin"),
    ("north-member", "north", 1, "member"),
    ("south-admin", "south", 2, "admin"),
    ("south-member", "south", 2, "member"),
)


@dataclass(frozen=True)
class ScopeCase:
    """One setting of the scan's scope: what limits the pace of the matrix."""

    label: str
    scope: dict[str, Any]


CASES = (
    ScopeCase("rate 200/s, as the demo config", {"rate_per_second": 200, "request_budget": 20_000}),
    ScopeCase(
        "rate 1000/s, the highest allowed", {"rate_per_second": 1000, "request_budget": 20_000}
    ),
    ScopeCase("scope defaults (25/s, budget 3000)", {}),
)


# -- the synthetic API ---------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    name: str
    email: str
    password: str
    org_id: int
    role: str


@dataclass
class Store:
    """Everything the API knows; only touched from the server's event loop (async endpoints)."""

    users: list[User]
    tokens: dict[str, User] = field(default_factory=dict)
    records: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    hits: Counter[str] = field(default_factory=Counter)  # requests per identity
    shapes: Counter[str] = field(default_factory=Counter)  # requests per kind of operation

    def user_for(self, authorization: str) -> User | None:
        scheme, _, token = authorization.partition(" ")
        return self.tokens.get(token) if scheme.lower() == "bearer" else None


def shape_of(request: Request) -> str:
    """`GET /api/r*/{id}`: the request with resource numbers and ids folded together."""
    path = re.sub(r"/r\d+", "/r*", request.url.path)
    path = re.sub(r"/\d+$", "/{id}", path)
    # The tenant-isolation probes name the other tenant in the query or an X- header.
    named = request.url.query or any(key.startswith("x-") for key in request.headers)
    return f"{request.method} {path}" + (" (naming a tenant)" if named else "")


class Credentials(BaseModel):
    email: str
    password: str


class NewRecord(BaseModel):
    name: str
    note: str = ""


class RecordChange(BaseModel):
    name: str | None = None
    note: str | None = None


class ProfileChange(BaseModel):
    name: str | None = None


def make_users() -> list[User]:
    return [
        User(name, f"{name}@{tenant}.test", secrets.token_urlsafe(18), org_id, role)
        for name, tenant, org_id, role in ACCOUNTS
    ]


def seed(store: Store) -> None:
    """SEEDED_PER_TENANT records per tenant in every resource; ids are unique across all."""
    org_ids = sorted({user.org_id for user in store.users})
    for number in range(RESOURCES):
        table = store.records.setdefault(f"r{number}", {})
        for org_id, copy in itertools.product(org_ids, range(SEEDED_PER_TENANT)):
            record_id = next(store.ids)
            table[record_id] = {
                "id": record_id,
                "org_id": org_id,
                "name": f"r{number} record {copy} of org {org_id}",
                "note": "seeded",
            }


BEARER = HTTPBearer(auto_error=False)


async def current_user(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> User:
    store: Store = request.app.state.store
    user = store.tokens.get(credentials.credentials) if credentials else None
    if user is None:
        raise HTTPException(401, "not logged in")
    return user


Caller = Annotated[User, Depends(current_user)]


def build_app(store: Store) -> FastAPI:
    """Login, profile, one admin read, and the 50 tenant-scoped resources."""
    app = FastAPI(title="launchready access-matrix benchmark API")
    app.state.store = store

    @app.middleware("http")
    async def count_identity(request: Request, call_next: Any) -> Any:
        user = store.user_for(request.headers.get("authorization", ""))
        store.hits[user.name if user else "anonymous"] += 1
        store.shapes[shape_of(request)] += 1
        return await call_next(request)

    @app.post("/api/login")
    async def login(body: Credentials) -> dict[str, str]:
        user = next((u for u in store.users if u.email == body.email), None)
        if user is None or not secrets.compare_digest(user.password, body.password):
            raise HTTPException(401, "wrong email or password")
        token = secrets.token_urlsafe(24)
        store.tokens[token] = user
        return {"access_token": token, "token_type": "bearer"}

    @app.get("/api/me")
    async def me(user: Caller) -> dict[str, Any]:
        return {"email": user.email, "name": user.name, "role": user.role, "org_id": user.org_id}

    @app.patch("/api/me")
    async def change_me(body: ProfileChange, user: Caller) -> dict[str, Any]:
        # Only the display name is writable, and it is not kept: the role never is.
        return {"email": user.email, "name": body.name or user.name, "role": user.role}

    @app.get("/api/admin/users", tags=["admin"])
    async def admin_users(user: Caller) -> list[dict[str, Any]]:
        if user.role != "admin":
            raise HTTPException(403, "admins only")
        return [{"email": u.email, "role": u.role} for u in store.users if u.org_id == user.org_id]

    for number in range(RESOURCES):
        add_resource(app, store, f"r{number}")
    return app


def add_resource(app: FastAPI, store: Store, name: str) -> None:
    """List, create, read, change and delete records of one resource, within the caller's org."""
    table = store.records.setdefault(name, {})
    collection, item = f"/api/{name}", f"/api/{name}/{{record_id}}"

    def owned(record_id: int, user: User) -> dict[str, Any]:
        record = table.get(record_id)
        if record is None or record["org_id"] != user.org_id:
            raise HTTPException(404, "no such record")
        return record

    @app.get(collection, tags=[name])
    async def list_records(user: Caller) -> dict[str, Any]:
        return {"items": [r for r in table.values() if r["org_id"] == user.org_id]}

    @app.post(collection, tags=[name], status_code=201)
    async def create_record(body: NewRecord, user: Caller) -> dict[str, Any]:
        record_id = next(store.ids)
        table[record_id] = {"id": record_id, "org_id": user.org_id, **body.model_dump()}
        return table[record_id]

    @app.get(item, tags=[name])
    async def read_record(record_id: int, user: Caller) -> dict[str, Any]:
        return owned(record_id, user)

    @app.patch(item, tags=[name])
    async def change_record(record_id: int, body: RecordChange, user: Caller) -> dict[str, Any]:
        record = owned(record_id, user)
        record.update(body.model_dump(exclude_none=True))
        return record

    @app.delete(item, tags=[name], status_code=204)
    async def delete_record(record_id: int, user: Caller) -> Response:
        del table[owned(record_id, user)["id"]]
        return Response(status_code=204)


@contextmanager
def serving(app: FastAPI) -> Iterator[int]:
    """uvicorn on a free loopback port in a thread; yields the port, stops it afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Accepted connections inherit TCP_NODELAY. Without it uvicorn's separate writes of headers
    # and body wait for the client's delayed ACK (about 40 ms per request on Linux), which
    # would time the server's socket setup instead of the scan; web servers in front of real
    # portals send without that delay.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((HOST, 0))
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while not server.started and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.02)
        if not server.started:
            raise RuntimeError(f"the benchmark API did not start within {STARTUP_LIMIT_S:.0f} s")
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


# -- the scan ------------------------------------------------------------------------------------


def account_entries(users: list[User]) -> list[dict[str, Any]]:
    """Accounts for the config; credentials go to this process's environment only."""
    entries = []
    for user, (_, tenant, org_id, _) in zip(users, ACCOUNTS, strict=True):
        prefix = f"LAUNCHREADY_BENCH_{user.name.upper().replace('-', '_')}"
        os.environ[f"{prefix}_EMAIL"] = user.email
        os.environ[f"{prefix}_PASSWORD"] = user.password
        entries.append(
            {
                "name": user.name,
                "tenant": tenant,
                "tenant_id": str(org_id),
                "role": user.role,
                "username_env": f"{prefix}_EMAIL",
                "password_env": f"{prefix}_PASSWORD",
            }
        )
    return entries


def scan_config(port: int, users: list[User], scope: dict[str, Any]) -> Config:
    # One create template per resource, so the update and delete probes have an object the
    # scan owns in every one of the 50 resources.
    create = [
        {"method": "POST", "path": f"/api/r{n}", "json": {"name": "launchready probe {n}"}}
        for n in range(RESOURCES)
    ]
    data: dict[str, Any] = {
        "target": {"url": f"http://{HOST}:{port}", "openapi": "/openapi.json"},
        "scope": scope,
        "accounts": account_entries(users),
        "auth": {
            "login": {
                "path": "/api/login",
                "json": {"email": "{username}", "password": "{password}"},
                "token_path": "access_token",
                "check": "GET /api/me",
            },
        },
        # 5 operations per resource plus 4 others (254) exceed the default max_operations of 60:
        # raised so that no operation cap can leave resources out of the matrix.
        "authorization": {"create": create, "max_operations": 5 * RESOURCES + 4},
    }
    return parse_config(data, Path("<access-matrix benchmark>"))


@dataclass(frozen=True)
class Run:
    seconds: float
    requests: int
    budget: int
    hits: Counter[str]
    shapes: Counter[str]
    findings: list[Finding]
    records_left: int  # records in the API after the scan; the seeded ones when cleanup worked


def run_once(case: ScopeCase) -> Run:
    """A freshly seeded API, one scan of the two rows against it, timed around `run_scan`."""
    store = Store(make_users())
    seed(store)
    seeded = sum(len(table) for table in store.records.values())

    with serving(build_app(store)) as port:
        ctx = ScanContext(scan_config(port, store.users, case.scope))
        started = time.perf_counter()
        result = asyncio.run(asyncio.wait_for(run_scan(ctx, only=ROWS), RUN_LIMIT_S))
        seconds = time.perf_counter() - started

    left = sum(len(table) for table in store.records.values()) - seeded
    return Run(
        seconds,
        ctx.http.budget.spent,
        ctx.http.budget.total,
        store.hits,
        store.shapes,
        result.findings,
        left,
    )


# -- the report ----------------------------------------------------------------------------------


def status_counts(findings: list[Finding]) -> str:
    counts = Counter(finding.status.value for finding in findings)
    return ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))


def is_suspect(finding: Finding) -> bool:
    """Anything but a pass is unexpected on a correct API."""
    return finding.status is not Status.PASS


def table(results: list[tuple[ScopeCase, list[Run]]]) -> list[str]:
    lines = [
        "| scope | runs | min (s) | median (s) | max (s) | target | requests sent "
        "| findings (last run) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for case, runs in results:
        summary = summarise([run.seconds for run in runs])
        sent = ", ".join(sorted({f"{run.requests} of {run.budget}" for run in runs}))
        lines.append(
            f"| {case.label} | {summary.runs} | {summary.low:.1f} | {summary.median:.1f} "
            f"| {summary.high:.1f} | ≤ {TARGET_S:.0f} s {verdict_mark(summary.meets(TARGET_S))} "
            f"| {sent} | {status_counts(runs[-1].findings)} |"
        )
    return lines


def details(case: ScopeCase, run: Run) -> list[str]:
    """What the API saw per identity, and every finding of the last run with its detail."""
    hits = ", ".join(f"{name} {count}" for name, count in sorted(run.hits.items()))
    shapes = ", ".join(f"`{shape}` {count}" for shape, count in run.shapes.most_common())
    lines = [
        f"### {case.label}",
        "",
        f"- requests the API received, per identity: {hits}",
        f"- per kind of request: {shapes}",
        f"- records the scan created and left behind: {run.records_left}",
    ]
    for finding in run.findings:
        mark = "**unexpected** " if is_suspect(finding) else ""
        detail = f": {finding.detail}" if finding.detail else ""
        lines.append(
            f"- {mark}`{finding.check_id}` `{finding.outcome}` ({finding.status.value}) "
            f"{finding.title}{detail}"
        )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    runs_option(parser, default=1)
    args = parser.parse_args()

    results = [(case, [run_once(case) for _ in range(args.runs)]) for case in CASES]

    lines = [
        f"## Access-control matrix: {RESOURCES} object endpoints, {len(ACCOUNTS)} identities",
        "",
        f"Rows `{'`, `'.join(ROWS)}` only, against a correctly tenant-scoped API served on "
        "loopback; every finding that is not a pass is unexpected.",
        "",
        *table(results),
        "",
        *[line for case, runs in results for line in details(case, runs[-1])],
        *machine_lines(),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
