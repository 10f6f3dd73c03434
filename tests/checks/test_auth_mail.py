"""The mailed-token checks against the demo portal, beyond its flaw toggles: no token in any
report, lifetimes, and mail that never comes."""

from __future__ import annotations

import asyncio
import re
import secrets
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException

from launchready.config import Config, parse_config
from launchready.context import ScanContext
from launchready.demo import FLAWS, start_demo
from launchready.demo_config import demo_config, free_loopback_port
from launchready.findings import Finding, Status
from launchready.probe.mail import token_in
from launchready.reports import FORMATS
from launchready.runner import run_scan
from launchready.scan import ScanResult
from tests.servers import serve

CHECKS = ("auth.reset-token-single-use", "auth.invite-token-single-use")


def with_flows(config: Config, **changes: Any) -> Config:
    """The config with the same changes made to its reset and invite flows."""
    auth = config.auth
    assert auth.reset is not None and auth.invite is not None
    flows = {
        "reset": auth.reset.model_copy(update=changes.get("reset", {})),
        "invite": auth.invite.model_copy(update=changes.get("invite", {})),
    }
    return config.model_copy(update={"auth": auth.model_copy(update=flows)})


def scan(config: Config) -> ScanResult:
    return asyncio.run(run_scan(ScanContext(config), only=CHECKS))


def outcomes(result: ScanResult) -> dict[tuple[str, str], Finding]:
    return {(f.check_id, f.outcome): f for f in result.findings}


def test_no_mailed_token_in_any_report() -> None:
    """Every token the portal mailed, and every password the scan made up, is masked."""
    smtp_port = free_loopback_port()
    with start_demo(frozenset(FLAWS), smtp_port=smtp_port) as portal:
        result = scan(demo_config(portal, smtp_port=smtp_port))
        mailed = [token_in(mail["body"], "token") for mail in portal.outbox]

    tokens = [found[0] for found in mailed if found is not None]
    assert len(tokens) >= 3  # two reset links and an invite
    seen = {f.outcome for f in result.findings}
    assert {"reset-token-reusable", "invite-token-reusable"} <= seen
    made_up_password = re.compile(r"Lr-[\w-]{12,}")
    for name, render in FORMATS.items():
        text = render(result)
        for token in tokens:
            assert token not in text, f"{name} report shows a mailed token in full"
            assert token[:12] not in text, f"{name} report shows most of a mailed token"
        assert not made_up_password.search(text), f"{name} report shows a made-up password"


def test_short_lifetime_is_waited_out_and_a_long_one_is_not() -> None:
    """The demo's links live far longer than the 2 s the config claims for reset."""
    smtp_port = free_loopback_port()
    with start_demo(frozenset(), smtp_port=smtp_port) as portal:
        config = with_flows(
            demo_config(portal, smtp_port=smtp_port),
            reset={"lifetime_seconds": 2},
            invite={"lifetime_seconds": 3600},
        )
        found = outcomes(scan(config))

    outlived = found[("auth.reset-token-single-use", "reset-token-outlives-lifetime")]
    assert outlived.status is Status.FAIL and outlived.evidence.curl
    assert "2 s" in outlived.title
    unverified = found[("auth.invite-token-single-use", "invite-lifetime-unverified")]
    assert unverified.status is Status.UNVERIFIED and "3600" in unverified.detail
    assert ("auth.invite-token-single-use", "invite-token-single-use") in found


def test_mail_that_never_comes_is_reported_as_not_received() -> None:
    """The portal mails nowhere the scan listens: the checks say so, within the wait."""
    with start_demo(frozenset()) as portal:
        config = demo_config(portal, smtp_port=free_loopback_port())
        config = config.model_copy(
            update={"mail": config.mail.model_copy(update={"wait_seconds": 1.0})}
        )
        result = scan(config)

    found = outcomes(result)
    for check_id, code in [
        ("auth.reset-token-single-use", "reset-link-not-received"),
        ("auth.invite-token-single-use", "invite-link-not-received"),
    ]:
        finding = found[(check_id, code)]
        assert finding.status is Status.ERROR
        assert "arrived within 1 s" in finding.detail
    assert result.scan.duration_s < 30


def throttled_portal(smtp_port: int) -> FastAPI:
    """A portal that mails one reset link per address, then stays silent (a common throttle);
    its links carry the token as a path segment, and it spends tokens once."""
    app = FastAPI()
    used: dict[str, bool] = {}

    @app.post("/api/reset", status_code=202)
    def request_reset(body: dict[str, str]) -> dict[str, str]:
        if not used:
            token = secrets.token_urlsafe(24) + "7"
            used[token] = False
            mail = EmailMessage()
            mail["From"], mail["To"], mail["Subject"] = "p@portal.test", body["email"], "Reset"
            mail.set_content(f"Reset: http://portal.test/reset/{token}/confirm\n")
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as smtp:
                smtp.send_message(mail)
        return {"detail": "sent if the account exists"}

    @app.post("/api/reset/{token}")
    def spend(token: str) -> dict[str, str]:
        if used.get(token) is not False:
            raise HTTPException(400, "invalid token")
        used[token] = True
        return {"detail": "password changed"}

    return app


def test_a_portal_that_mails_one_link_is_still_tested_for_reuse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LR_TEST_ERIN_EMAIL", "erin@portal.test")
    smtp_port = free_loopback_port()
    with serve(throttled_portal(smtp_port)) as port:
        data = {
            "target": {"url": f"http://127.0.0.1:{port}", "openapi": "none"},
            "accounts": [{"name": "erin", "username_env": "LR_TEST_ERIN_EMAIL"}],
            "auth": {
                "reset": {
                    "account": "erin",
                    "request": {
                        "method": "POST",
                        "path": "/api/reset",
                        "json": {"email": "{username}"},
                    },
                    "use": {
                        "method": "POST",
                        "path": "/api/reset/{token}",
                        "json": {"p": "{new_password}"},
                    },
                }
            },
            "mail": {"smtp_sink": {"port": smtp_port}, "wait_seconds": 1},
        }
        result = asyncio.run(
            run_scan(ScanContext(parse_config(data, Path("<test>"))), only=CHECKS[:1])
        )

    found = outcomes(result)
    passed = found[("auth.reset-token-single-use", "reset-token-single-use")]
    assert "used again: HTTP 400" in passed.detail
    untested = found[("auth.reset-token-single-use", "reset-password-change-unverified")]
    assert "none came" in untested.detail
