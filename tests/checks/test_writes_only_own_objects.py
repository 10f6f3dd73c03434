"""The object matrix writes only to objects the scan created, whatever their ids look like.

A small two-tenant API where projects the scan creates get the same ids as existing users
(project 1 beside user 1): the scan may change and delete its projects, never a user.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Header, HTTPException

from launchready.config import parse_config
from launchready.context import ScanContext
from launchready.runner import run_scan
from tests.servers import serve


def two_tenant_api(tokens: dict[str, str], writes: list[str]) -> FastAPI:
    """Users 1 (tenant a) and 2 (tenant b); projects start empty, numbered from 1."""
    app = FastAPI()
    users = {1: {"id": 1, "name": "Ann", "org": "a"}, 2: {"id": 2, "name": "Ben", "org": "b"}}
    projects: dict[int, dict[str, Any]] = {}

    def tenant(authorization: str | None) -> str:
        org = tokens.get((authorization or "").removeprefix("Bearer "))
        if org is None:
            raise HTTPException(401)
        return org

    def own(store: dict[int, dict[str, Any]], item_id: int, org: str) -> dict[str, Any]:
        if item_id not in store or store[item_id]["org"] != org:
            raise HTTPException(404)
        return store[item_id]

    @app.get("/api/users")
    def list_users(authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        org = tenant(authorization)
        return [u for u in users.values() if u["org"] == org]

    @app.get("/api/users/{user_id}")
    def get_user(user_id: int, authorization: str | None = Header(None)) -> dict[str, Any]:
        return own(users, user_id, tenant(authorization))

    @app.patch("/api/users/{user_id}")
    def patch_user(user_id: int, authorization: str | None = Header(None)) -> dict[str, Any]:
        writes.append(f"PATCH /api/users/{user_id}")
        return own(users, user_id, tenant(authorization))

    @app.delete("/api/users/{user_id}", status_code=204)
    def delete_user(user_id: int, authorization: str | None = Header(None)) -> None:
        writes.append(f"DELETE /api/users/{user_id}")
        own(users, user_id, tenant(authorization))

    @app.get("/api/projects")
    def list_projects(authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        org = tenant(authorization)
        return [p for p in projects.values() if p["org"] == org]

    @app.post("/api/projects", status_code=201)
    def create(body: dict[str, Any], authorization: str | None = Header(None)) -> dict[str, Any]:
        project = {
            "id": len(projects) + 1,
            "title": str(body.get("title")),
            "org": tenant(authorization),
        }
        projects[project["id"]] = project
        return project

    @app.get("/api/projects/{project_id}")
    def get_project(project_id: int, authorization: str | None = Header(None)) -> dict[str, Any]:
        return own(projects, project_id, tenant(authorization))

    @app.delete("/api/projects/{project_id}", status_code=204)
    def delete_project(project_id: int, authorization: str | None = Header(None)) -> None:
        own(projects, project_id, tenant(authorization))
        del projects[project_id]

    return app


def test_users_with_the_ids_of_created_projects_are_never_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = {secrets.token_urlsafe(16): "a", secrets.token_urlsafe(16): "b"}
    for name, token in zip(("A", "B"), tokens, strict=True):
        monkeypatch.setenv(f"LR_WRITES_{name}_TOKEN", token)
    writes: list[str] = []

    with serve(two_tenant_api(tokens, writes)) as port:
        config = parse_config(
            {
                "target": {"url": f"http://127.0.0.1:{port}", "openapi": "/openapi.json"},
                "accounts": [
                    {"name": "ann", "tenant": "a", "token_env": "LR_WRITES_A_TOKEN"},
                    {"name": "ben", "tenant": "b", "token_env": "LR_WRITES_B_TOKEN"},
                ],
                "authorization": {
                    "create": [
                        {"method": "POST", "path": "/api/projects", "json": {"title": "p{n}"}}
                    ]
                },
            },
            Path("<test>"),
        )
        result = asyncio.run(
            run_scan(ScanContext(config), only=("authorization.cross-tenant-objects",))
        )

    assert writes == []
    assert [f.outcome for f in result.findings] == ["objects-isolated"]
