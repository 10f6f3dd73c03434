"""The scan config for the bundled demo portal, built from the running portal's facts.

It takes the portal as a plain object (ports, CA path, seeded accounts) and does not import the
demo package: the scanner and the sample portal stay apart. Demo passwords are generated when
the portal starts and handed over in this process's environment only.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, Protocol

from launchready.config import Config, parse_config

DEMO_HOSTS = ("portal.test", "www.portal.test")


class RunningPortal(Protocol):
    https_port: int
    http_port: int
    ca_path: Any
    accounts: list[dict[str, Any]]


def free_loopback_port() -> int:
    """A port nothing listens on right now, for the scan's SMTP sink."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _account_env(account: dict[str, Any], tenant_ids: dict[str, str]) -> dict[str, str]:
    name = account["email"].split("@", 1)[0]
    prefix = f"LAUNCHREADY_DEMO_{name.upper()}"
    os.environ[f"{prefix}_EMAIL"] = account["email"]
    os.environ[f"{prefix}_PASSWORD"] = account["password"]
    entry = {
        "name": name,
        "tenant": account["org"],
        "tenant_id": tenant_ids[account["org"]],
        "role": account["role"],
        "username_env": f"{prefix}_EMAIL",
        "password_env": f"{prefix}_PASSWORD",
    }
    if account.get("expired_token"):
        os.environ[f"{prefix}_EXPIRED_TOKEN"] = account["expired_token"]
        entry["expired_token_env"] = f"{prefix}_EXPIRED_TOKEN"
    return entry


def demo_config(portal: RunningPortal, *, smtp_port: int | None = None) -> Config:
    """The scan config; with `smtp_port`, the scan's SMTP sink listens there for the portal."""
    # Organisations are numbered in the order their first account appears (acme 1, globex 2).
    tenant_ids: dict[str, str] = {}
    for account in portal.accounts:
        tenant_ids.setdefault(account["org"], str(account.get("org_id", len(tenant_ids) + 1)))
    accounts = [_account_env(account, tenant_ids) for account in portal.accounts]
    admin = next(a["name"] for a in accounts if a["role"] == "admin")
    data: dict[str, Any] = {
        "target": {
            "url": f"https://portal.test:{portal.https_port}",
            "http_url": f"http://portal.test:{portal.http_port}",
            "alternate_hosts": ["www.portal.test"],
            "ca_bundle": str(portal.ca_path),
            "resolve": {host: "127.0.0.1" for host in DEMO_HOSTS},
        },
        "scope": {"request_budget": 3000, "rate_per_second": 200, "read_timeout": 5},
        "accounts": accounts,
        "auth": {
            "login": {
                "path": "/api/login",
                "json": {"email": "{username}", "password": "{password}"},
                "token_path": "access_token",
                "check": "GET /api/me",
            },
            "logout": "POST /api/logout",
            "mfa": "GET /api/mfa",
            "enumeration": {
                "reset": {
                    "method": "POST",
                    "path": "/api/password-reset",
                    "json": {"email": "{email}"},
                },
                "signup": {
                    "method": "POST",
                    "path": "/api/signup",
                    "json": {
                        "email": "{email}",
                        "password": "launchready-signup-probe",
                        "org_name": "launchready probe",
                    },
                },
            },
            **_mail_flows(accounts, smtp_port),
        },
        "authorization": {
            "admin_operations": ["GET /api/admin/users"],
            "create": [
                {
                    "method": "POST",
                    "path": "/api/documents",
                    "json": {
                        "filename": "launchready-probe-{n}.pdf",
                        "size": 2048,
                        "content_type": "application/pdf",
                    },
                }
            ],
        },
        "actions": [
            {
                "name": "login",
                "method": "POST",
                "path": "/api/login",
                "json": {"email": "{username}", "password": "{password}"},
                "credentials": admin,
                "samples": 10,
            },
            {
                "name": "invite acceptance",
                "method": "POST",
                "path": "/api/invites/accept",
                "account": admin,
                "setup": {"method": "POST", "path": "/api/invites", "json": {"role": "member"}},
                "json": {
                    "token": "{setup.token}",
                    "name": "launchready probe {n}",
                    "password": "launchready-probe-{n}-passphrase",
                },
                "samples": 10,
            },
            {
                "name": "form save",
                "method": "PUT",
                "path": "/api/forms/1",
                "account": admin,
                "json": {"fields": {"company": "launchready probe"}},
                "samples": 10,
            },
            {
                "name": "upload initiation",
                "method": "POST",
                "path": "/api/documents",
                "account": admin,
                "json": {
                    "filename": "launchready-probe.pdf",
                    "size": 1024,
                    "content_type": "application/pdf",
                },
                "cleanup": {"method": "DELETE", "path": "/api/documents/{response.id}"},
                "samples": 10,
            },
        ],
    }
    if smtp_port is not None:
        data["mail"] = {"smtp_sink": {"host": "127.0.0.1", "port": smtp_port}, "wait_seconds": 10}
    return parse_config(data, Path("<demo>"))


def _mail_flows(accounts: list[dict[str, str]], smtp_port: int | None) -> dict[str, Any]:
    """Reset and invite flows, when the portal's mail reaches the scan's SMTP sink.

    The reset flow uses an account no other check needs (dave), since it changes a password.
    """
    if smtp_port is None:
        return {}
    names = {a["name"] for a in accounts}
    admin = next(a["name"] for a in accounts if a["role"] == "admin")
    flows: dict[str, Any] = {
        "invite": {
            "account": admin,
            "sender": admin,
            "request": {
                "method": "POST",
                "path": "/api/invites",
                "json": {"email": "{email}", "role": "member"},
            },
            "use": {
                "method": "POST",
                "path": "/api/invites/accept",
                "json": {
                    "token": "{token}",
                    "name": "launchready probe",
                    "password": "{new_password}",
                },
            },
        }
    }
    if "dave" in names:
        flows["reset"] = {
            "account": "dave",
            "request": {
                "method": "POST",
                "path": "/api/password-reset",
                "json": {"email": "{username}"},
            },
            "use": {
                "method": "POST",
                "path": "/api/password-reset/confirm",
                "json": {"token": "{token}", "password": "{new_password}"},
            },
        }
    return flows
