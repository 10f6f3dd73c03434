"""Each check against its demo flaw (true positive) and against the hardened portal (true
negative). Each flaw runs on a portal with only that flaw switched on, scanning only the checks
that should see it, so a detection is caused by that flaw and nothing else."""

from __future__ import annotations

import pytest

from launchready.demo import FLAWS
from launchready.findings import Status
from launchready.scan import ScanResult
from tests.conftest import scan_portal

# flaw -> (check id, outcome code) pairs that must be reported on a portal with that flaw alone
DETECTIONS: dict[str, list[tuple[str, str]]] = {
    "no-hsts": [("tls-domain.hsts", "hsts-missing")],
    "weak-headers": [
        ("tls-domain.security-headers", "csp-unsafe-inline"),
        ("tls-domain.security-headers", "framing-allowed"),
        ("tls-domain.security-headers", "nosniff-missing"),
        ("tls-domain.security-headers", "referrer-policy-missing"),
    ],
    "insecure-cookie": [
        ("auth.session-cookies", "cookie-not-secure"),
        ("auth.session-cookies", "cookie-not-httponly"),
        ("auth.session-cookies", "cookie-no-samesite"),
    ],
    "cors-reflect": [("authorization.cors", "cors-reflects-origin")],
    "http-no-redirect": [("tls-domain.https-redirect", "http-serves-content")],
    "no-canonical-host": [("tls-domain.canonical-host", "alternate-serves-content")],
    "redirect-chain": [("tls-domain.redirect-chain", "redirect-chain-long")],
    "debug-errors": [("logging.debug-errors", "stack-trace-exposed")],
    "exposed-files": [
        ("logging.exposed-files", "env-file-exposed"),
        ("logging.exposed-files", "git-exposed"),
        ("logging.exposed-files", "source-map-exposed"),
        ("logging.exposed-files", "backup-exposed"),
    ],
    "open-admin": [("logging.admin-exposed", "admin-open")],
    "version-banner": [("logging.version-banner", "version-disclosed")],
    "unauth-export": [("auth.protected-operations", "no-credentials-accepted")],
    "jwt-alg-none": [
        ("auth.protected-operations", "jwt-alg-none-accepted"),
        ("auth.protected-operations", "jwt-unsigned-accepted"),
    ],
    "slow-login": [("latency.core-actions", "action-slow")],
    "short-cert": [("tls-domain.certificate", "cert-expiring-soon")],
    "idor-documents": [
        ("authorization.cross-tenant-objects", "cross-tenant-read"),
        ("authorization.cross-tenant-objects", "cross-tenant-update"),
        ("authorization.cross-tenant-objects", "cross-tenant-delete"),
    ],
    "org-from-query": [("tenant-isolation.client-tenant-id", "tenant-from-client")],
    "mass-assignment-role": [("authorization.mass-assignment", "privilege-mass-assignment")],
    "list-leak": [("tenant-isolation.list-scope", "list-shared-rows")],
    "admin-open-to-members": [("authorization.function-level", "admin-function-open")],
    "jwt-weak-secret": [("auth.jwt-signing", "jwt-weak-secret")],
    "jwt-no-expiry": [("auth.jwt-signing", "jwt-expired-accepted")],
    "logout-no-revoke": [("auth.logout-revokes", "token-valid-after-logout")],
    "session-fixation": [("auth.session-lifecycle", "session-fixed")],
    "long-session": [("auth.session-lifecycle", "admin-session-long")],
    "no-mfa": [("auth.admin-mfa", "mfa-missing")],
    "enumeration-messages": [("auth.user-enumeration", "enumeration-by-response")],
    "reset-token-reusable": [("auth.reset-token-single-use", "reset-token-reusable")],
    "invite-token-reusable": [("auth.invite-token-single-use", "invite-token-reusable")],
}


def test_every_flaw_is_covered() -> None:
    assert set(DETECTIONS) == set(FLAWS)


@pytest.mark.parametrize("flaw", sorted(DETECTIONS))
def test_flaw_is_detected(flaw: str) -> None:
    expected = DETECTIONS[flaw]
    checks = tuple(sorted({check_id for check_id, _ in expected}))
    result = scan_portal(frozenset({flaw}), only=checks)
    seen = {(f.check_id, f.outcome) for f in result.findings if f.is_bad}
    assert set(expected) <= seen, f"{flaw}: expected {expected}, saw {sorted(seen)}"
    for finding in result.findings:
        if (finding.check_id, finding.outcome) in expected:
            assert finding.evidence.exchanges or finding.evidence.note or finding.detail


def test_hardened_portal_has_no_failing_or_warning_finding(hardened_scan: ScanResult) -> None:
    bad = [(f.check_id, f.outcome, f.title) for f in hardened_scan.findings if f.is_bad]
    assert bad == []
    errors = [(f.check_id, f.detail) for f in hardened_scan.findings if f.status is Status.ERROR]
    assert errors == []


def test_hardened_portal_verifies_every_check_it_can(hardened_scan: ScanResult) -> None:
    unverified = {f.check_id for f in hardened_scan.findings if f.status is Status.UNVERIFIED}
    # Only the attestation rows depend on words no probe can check.
    assert unverified == {"monitoring.attested", "rollback.attested"}


def test_flawed_portal_is_not_ready_with_evidence(flawed_scan: ScanResult) -> None:
    assert flawed_scan.scorecard.verdict.value == "not-ready"
    fails = [f for f in flawed_scan.findings if f.status is Status.FAIL]
    assert fails
    for finding in fails:
        has_evidence = finding.evidence.exchanges or finding.evidence.note or finding.detail
        assert has_evidence, finding.check_id
        assert finding.fix and finding.impact, finding.check_id
    # The fix plan starts with access control.
    assert flawed_scan.scorecard.fix_plan[0].group == "access control"


def test_no_credential_in_any_report() -> None:
    """Passwords, session tokens and the exposed .env secret are never written in full."""
    import asyncio
    import re

    import httpx

    from launchready.context import ScanContext
    from launchready.demo import start_demo
    from launchready.demo_config import demo_config
    from launchready.reports import FORMATS
    from launchready.runner import run_scan

    with start_demo(frozenset(FLAWS)) as portal:
        # Only reading what the demo serves, to know what must be masked.
        with httpx.Client(verify=False) as client:
            env_file = client.get(
                f"https://127.0.0.1:{portal.https_port}/.env",
                headers={"Host": "portal.test"},
                extensions={"sni_hostname": "portal.test"},
            ).text
        result = asyncio.run(run_scan(ScanContext(demo_config(portal))))
        passwords = [account["password"] for account in portal.accounts]

    secret_values = [line.split("=", 1)[1] for line in env_file.splitlines() if "KEY=" in line]
    assert secret_values and passwords
    full_jwt = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]{10,}")
    for name, render in FORMATS.items():
        text = render(result)
        for value in [*passwords, *secret_values]:
            assert value not in text, f"{name} report shows a credential in full"
        assert not full_jwt.search(text), f"{name} report shows a whole JWT"
