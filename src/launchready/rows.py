"""The twelve scorecard rows, in their fixed order, and the order in which fixes are planned.

Row ids are part of the JSON schema and of every report: renaming one is a breaking change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    passes_when: str
    fix_group: int  # position in the fix plan: lower is fixed first


# Fix groups, as the checklist orders them: access control, secrets, email, domain/TLS,
# monitoring, then the rest.
ACCESS_CONTROL, SECRETS, EMAIL, DOMAIN_TLS, MONITORING, REST = range(6)

FIX_GROUP_NAMES = {
    ACCESS_CONTROL: "access control",
    SECRETS: "secrets",
    EMAIL: "email delivery",
    DOMAIN_TLS: "domain and TLS",
    MONITORING: "monitoring",
    REST: "everything else",
}

ROWS: tuple[Row, ...] = (
    Row("auth", "Authentication", "no bypass; bad tokens refused; sessions expire", ACCESS_CONTROL),
    Row(
        "authorization",
        "Authorization",
        "users only reach their own tenant's records",
        ACCESS_CONTROL,
    ),
    Row(
        "input-validation",
        "Input validation",
        "bad payloads and file types refused with 4xx",
        REST,
    ),
    Row("rate-limiting", "Rate limiting", "login and costly endpoints have limits", REST),
    Row("secrets", "Secrets", "no secrets in repo, history, bundle or served files", SECRETS),
    Row("email-auth", "Email authentication", "SPF, DKIM and DMARC pass", EMAIL),
    Row(
        "tls-domain",
        "TLS and domain",
        "valid certificate, HTTPS enforced, one canonical host, safe headers",
        DOMAIN_TLS,
    ),
    Row(
        "tenant-isolation",
        "Tenant isolation",
        "tenant scope comes from the server-side session",
        ACCESS_CONTROL,
    ),
    Row("monitoring", "Monitoring", "uptime and error alerts fire within 5 minutes", MONITORING),
    Row("rollback", "Rollback", "a rollback path exists and was rehearsed", REST),
    Row("logging", "Logging and exposure", "no PII or debug output; nothing private served", REST),
    Row("latency", "Latency", "p95 under 500 ms for the onboarding actions", REST),
)

ROW_IDS: tuple[str, ...] = tuple(row.id for row in ROWS)
ROWS_BY_ID: dict[str, Row] = {row.id: row for row in ROWS}
