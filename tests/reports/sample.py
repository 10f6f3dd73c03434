"""A hand-built scan covering every shape a report must show, for the report tests.

No network and no checks: the findings are written out here, and the scorecard comes from
`scorecard.score` so grades and the fix plan are the real ones. Secrets are visibly masked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from launchready.checks.base import CheckMeta, Outcome
from launchready.findings import Evidence, Exchange, Finding, Severity, Status, fingerprint
from launchready.scan import ScanInfo, ScanResult
from launchready.scorecard import score

TARGET = "http://127.0.0.1:54321"
STARTED = dt.datetime(2026, 1, 15, 10, 30, 5, tzinfo=dt.UTC)


def make(
    check_id: str, outcome: str, status: Status, severity: Severity, title: str, **kw: Any
) -> Finding:
    """A finding with its row from the check id and the fingerprint a check would give it."""
    target = kw.get("target", "")
    return Finding(
        check_id=check_id,
        row=check_id.split(".", 1)[0],
        outcome=outcome,
        status=status,
        severity=severity,
        title=title,
        fingerprint=fingerprint(check_id, outcome, target),
        **kw,
    )


AUTH_IMPACT = "Anyone on the internet can read or change customer data without logging in."
AUTH_FIX = "Enforce authentication server-side on every protected route."

INVOICES = Exchange(
    method="GET",
    url=f"{TARGET}/api/invoices",
    request_headers={"Accept": "application/json"},
    status=200,
    response_headers={"Content-Type": "application/json", "Content-Length": "61"},
    response_body='[{"id": 7, "tenant": "acme", "total": "1200.00"}]',
    elapsed_ms=12.4,
)


def findings() -> list[Finding]:
    return [
        make(
            "auth.protected-operations",
            "no-credentials-accepted",
            Status.FAIL,
            Severity.CRITICAL,
            "GET /api/invoices answers without any credentials (2 operations)",
            target=f"{TARGET}/api/invoices",
            detail="Sent without an Authorization header or cookie; the portal answered 200.",
            evidence=Evidence(
                exchanges=(INVOICES,),
                curl=f"curl -i -H 'Accept: application/json' {TARGET}/api/invoices",
            ),
            impact=AUTH_IMPACT,
            fix=AUTH_FIX,
            effort_hours=(2, 16),
        ),
        make(
            "auth.protected-operations",
            "no-credentials-accepted",
            Status.FAIL,
            Severity.CRITICAL,
            "GET /api/users answers without any credentials (2 operations)",
            target=f"{TARGET}/api/users",
            evidence=Evidence(
                exchanges=(
                    Exchange(
                        method="GET",
                        url=f"{TARGET}/api/users",
                        error="connection reset by peer",
                    ),
                ),
            ),
            impact=AUTH_IMPACT,
            fix=AUTH_FIX,
            effort_hours=(2, 16),
        ),
        make(
            "auth.session-cookies",
            "cookie-no-samesite",
            Status.WARN,
            Severity.LOW,
            "Cookie session has no SameSite attribute",
            target=f"{TARGET}/login",
            impact="A session can ride cross-site requests.",
            fix="Issue session cookies with SameSite=Lax.",
            effort_hours=(1, 2),
        ),
        make(
            "authorization.cors",
            "credentialed-wildcard",
            Status.FAIL,
            Severity.MEDIUM,
            "CORS reflects any origin with credentials | on /api",
            target=f"{TARGET}/api",
            detail="Origin: https://evil.example was echoed back with credentials allowed.",
            impact="Any site a user visits can read their portal data.",
            fix="Allow only your own origins.",
            effort_hours=(1, 4),
        ),
        make(
            "secrets.committed-key",
            "key-in-history",
            Status.FAIL,
            Severity.HIGH,
            "An API key is committed in config/settings.py",
            target="config/settings.py",
            evidence=Evidence(
                note="Found in the repository history, not only the working tree.",
                path="config/settings.py",
                line=42,
                commit="3f2a9c1",
                masked_secret="abcd…(40 chars)",
            ),
            impact="Whoever has the repository can call the provider as you.",
            fix="Revoke the key, move it to the secret store, and purge it from history.",
            effort_hours=(1, 3),
        ),
        make(
            "email-auth.dmarc",
            "dmarc-none",
            Status.WARN,
            Severity.MEDIUM,
            "DMARC policy is p=none",
            target="portal.example.com",
            impact="Spoofed mail from your domain is delivered.",
            fix="Move DMARC to p=quarantine once reports are clean.",
            effort_hours=(1, 1),
        ),
        make(
            "tls-domain.hsts",
            "hsts-present",
            Status.PASS,
            Severity.INFO,
            "HSTS is set with max-age of at least a year",
            target=TARGET,
        ),
        make(
            "logging.debug-errors",
            "no-debug-output",
            Status.PASS,
            Severity.INFO,
            "Error pages show no stack traces or debug output",
            target=TARGET,
        ),
        make(
            "latency.core-actions",
            "check-error",
            Status.ERROR,
            Severity.INFO,
            "The check could not run",
            target=f"{TARGET}/api/invoices",
            detail="timed out after 10 s waiting for the first response",
        ),
        make(
            "monitoring.attested",
            "needs-missing",
            Status.UNVERIFIED,
            Severity.INFO,
            "Not verified: input missing",
            detail="no attestation for monitoring (set attest.monitoring to verify)",
        ),
    ]


def scan_result() -> ScanResult:
    found = findings()
    info = ScanInfo(
        target=TARGET,
        started_at=STARTED,
        duration_s=12.5,
        requests_sent=87,
        request_budget=500,
        active=False,
    )
    return ScanResult(scan=info, scorecard=score(found), findings=found)


def _meta(check_id: str, title: str, impact: str, fix: str, *outcomes: Outcome) -> CheckMeta:
    return CheckMeta(
        id=check_id,
        row=check_id.split(".", 1)[0],
        title=title,
        impact=impact,
        fix=fix,
        effort_hours=(1, 4),
        references=(),
        outcomes={o.code: o for o in outcomes},
    )


# Fixed metadata for the SARIF golden, so editing the shipped TOML cannot change it. The secrets,
# email and monitoring checks are left out on purpose: their rules come from the findings.
METADATA = {
    "auth.protected-operations": _meta(
        "auth.protected-operations",
        "Protected operations refuse missing and forged credentials",
        AUTH_IMPACT,
        AUTH_FIX,
        Outcome("no-credentials-accepted", Status.FAIL, Severity.CRITICAL, "{operation} open"),
    ),
    "auth.session-cookies": _meta(
        "auth.session-cookies",
        "Session cookies are Secure, HttpOnly and SameSite",
        "A session can be stolen or ride cross-site requests.",
        "Issue session cookies with Secure; HttpOnly; SameSite=Lax.",
        Outcome("cookie-no-samesite", Status.WARN, Severity.LOW, "Cookie {name} has no SameSite"),
        Outcome("cookie-not-secure", Status.FAIL, Severity.MEDIUM, "Cookie {name} lacks Secure"),
    ),
    "authorization.cors": _meta(
        "authorization.cors",
        "CORS does not open the API to other sites",
        "Any site a user visits can read their portal data.",
        "Allow only your own origins.",
        Outcome("credentialed-wildcard", Status.FAIL, Severity.MEDIUM, "CORS reflects origins"),
    ),
    "tls-domain.hsts": _meta(
        "tls-domain.hsts",
        "HSTS is set",
        "Browsers can be downgraded to plain HTTP.",
        "Send Strict-Transport-Security.",
        Outcome("hsts-present", Status.PASS, Severity.INFO, "HSTS is set"),
    ),
}
