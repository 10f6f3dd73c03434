"""Scoring from hand-built findings: no network, no checks."""

from launchready.findings import Finding, Severity, Status, fingerprint
from launchready.rows import ROW_IDS
from launchready.scorecard import Grade, Verdict, score


def finding(
    row: str, status: Status, severity: Severity = Severity.MEDIUM, check: str = ""
) -> Finding:
    check_id = check or f"{row}.example"
    return Finding(
        check_id=check_id,
        row=row,
        outcome="x",
        status=status,
        severity=severity,
        title=f"{row} {status}",
        fingerprint=fingerprint(check_id, "x", row),
    )


def all_rows_pass() -> list[Finding]:
    return [finding(row, Status.PASS) for row in ROW_IDS]


def test_ready_when_every_row_passes() -> None:
    card = score(all_rows_pass())
    assert card.verdict is Verdict.READY
    assert [row.id for row in card.rows] == list(ROW_IDS)
    assert all(row.grade is Grade.PASS and row.score == 100 for row in card.rows)


def test_a_fail_blocks_and_a_warning_does_not() -> None:
    warned = [*all_rows_pass(), finding("latency", Status.WARN, check="latency.other")]
    assert score(warned).verdict is Verdict.READY
    failed = [*all_rows_pass(), finding("auth", Status.FAIL, Severity.CRITICAL, "auth.other")]
    card = score(failed)
    assert card.verdict is Verdict.NOT_READY and card.blockers == 1
    auth = next(row for row in card.rows if row.id == "auth")
    assert auth.grade is Grade.FAIL and auth.score == 0


def test_could_not_tell_is_never_a_pass() -> None:
    findings = [f for f in all_rows_pass() if f.row != "secrets"]
    findings += [
        finding("secrets", Status.ERROR),
        finding("secrets", Status.UNVERIFIED, check="secrets.b"),
    ]
    card = score(findings)
    secrets_row = next(row for row in card.rows if row.id == "secrets")
    assert secrets_row.grade is Grade.UNVERIFIED and secrets_row.score is None
    assert secrets_row.checks_verified == 0 and secrets_row.checks_total == 2
    assert card.verdict is Verdict.INCOMPLETE


def test_a_pass_beside_a_check_that_could_not_tell_is_not_ready() -> None:
    for status in (Status.UNVERIFIED, Status.ERROR):
        partial = [*all_rows_pass(), finding("authorization", status, check="authorization.b")]
        card = score(partial)
        row = next(row for row in card.rows if row.id == "authorization")
        assert (row.grade, row.checks_verified, row.checks_total) == (Grade.PASS, 1, 2)
        assert card.verdict is Verdict.INCOMPLETE


def test_rows_without_checks_are_unverified_with_a_reason() -> None:
    card = score([finding("auth", Status.PASS)])
    email = next(row for row in card.rows if row.id == "email-auth")
    assert email.grade is Grade.UNVERIFIED and email.reasons == ["no check covers this row yet"]


def test_fix_plan_order_access_control_secrets_email_domain_monitoring_rest() -> None:
    rows = ["latency", "monitoring", "tls-domain", "email-auth", "secrets", "tenant-isolation"]
    findings = [finding(row, Status.FAIL) for row in rows]
    findings.append(finding("latency", Status.FAIL, Severity.CRITICAL, "latency.worse"))
    plan = score(findings).fix_plan
    assert [item.row for item in plan] == [
        "tenant-isolation",
        "secrets",
        "email-auth",
        "tls-domain",
        "monitoring",
        "latency",
        "latency",
    ]
    assert plan[-2].check_id == "latency.worse"  # higher severity first within a group


def test_fingerprint_ignores_ports_and_times() -> None:
    a = fingerprint("tls-domain.hsts", "hsts-missing", "https://portal.test:41234/")
    b = fingerprint("tls-domain.hsts", "hsts-missing", "https://portal.test:50000/")
    assert a == b
    assert a != fingerprint("tls-domain.hsts", "hsts-short", "https://portal.test:50000/")
