"""Judging: findings become row grades, a verdict and an ordered fix plan.

The scoring table is data and carries a version, stamped on every report; `docs/scoring.md`
explains it. "Could not tell" (error, unverified) never counts as pass or fail: each row shows
how many of its checks produced a verdict next to its grade.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from launchready.findings import SEVERITY_RANK, Finding, Severity, Status
from launchready.rows import FIX_GROUP_NAMES, ROWS

SCORING_VERSION = "2026.2"

# Points a row loses for one finding, by status and severity; a row starts at 100.
PENALTY: dict[Status, dict[Severity, int]] = {
    Status.FAIL: {
        Severity.CRITICAL: 100,
        Severity.HIGH: 60,
        Severity.MEDIUM: 30,
        Severity.LOW: 15,
        Severity.INFO: 5,
    },
    Status.WARN: {
        Severity.CRITICAL: 20,
        Severity.HIGH: 15,
        Severity.MEDIUM: 10,
        Severity.LOW: 5,
        Severity.INFO: 0,
    },
}

VERDICT_STATUSES = (Status.PASS, Status.WARN, Status.FAIL)


class Grade(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNVERIFIED = "unverified"


class Verdict(StrEnum):
    READY = "ready"
    NOT_READY = "not-ready"
    INCOMPLETE = "incomplete"


class RowResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    grade: Grade
    score: int | None
    checks_total: int
    checks_verified: int
    counts: dict[str, int]
    reasons: list[str]  # why parts of the row could not be verified


class FixItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    order: int
    group: str
    row: str
    check_id: str
    title: str
    severity: Severity
    status: Status
    effort_hours: tuple[int, int] | None
    fix: str
    fingerprint: str


class Scorecard(BaseModel):
    model_config = ConfigDict(frozen=True)

    scoring_version: str
    verdict: Verdict
    rows: list[RowResult]
    fix_plan: list[FixItem]
    blockers: int


def is_blocker(finding: Finding) -> bool:
    """A failing finding blocks launch; a warning does not."""
    return finding.status is Status.FAIL


def grade_row(row_id: str, title: str, findings: list[Finding]) -> RowResult:
    counts = {status.value: 0 for status in Status}
    for finding in findings:
        counts[finding.status.value] += 1

    by_check: dict[str, list[Finding]] = {}
    for finding in findings:
        by_check.setdefault(finding.check_id, []).append(finding)
    verified = sum(1 for fs in by_check.values() if any(f.status in VERDICT_STATUSES for f in fs))
    reasons = sorted(
        {
            f"{f.check_id}: {f.detail or f.title}"
            for f in findings
            if f.status in (Status.ERROR, Status.UNVERIFIED)
        }
    )
    if not by_check:
        reasons = ["no check covers this row yet"]

    if counts["fail"]:
        grade = Grade.FAIL
    elif counts["warn"]:
        grade = Grade.WARN
    elif counts["pass"]:
        grade = Grade.PASS
    else:
        grade = Grade.UNVERIFIED

    score = None
    if grade is not Grade.UNVERIFIED:
        lost = sum(PENALTY.get(f.status, {}).get(f.severity, 0) for f in findings)
        score = max(0, 100 - lost)
    return RowResult(
        id=row_id,
        title=title,
        grade=grade,
        score=score,
        checks_total=len(by_check),
        checks_verified=verified,
        counts=counts,
        reasons=reasons,
    )


def fix_plan(findings: list[Finding]) -> list[FixItem]:
    """Bad findings in the order to fix them: fix group, then fails first, then severity."""
    group_of = {row.id: row.fix_group for row in ROWS}
    row_order = {row.id: index for index, row in enumerate(ROWS)}
    bad = [f for f in findings if f.is_bad]
    bad.sort(
        key=lambda f: (
            group_of[f.row],
            f.status is not Status.FAIL,
            -SEVERITY_RANK[f.severity],
            row_order[f.row],
            f.check_id,
            f.fingerprint,
        )
    )
    return [
        FixItem(
            order=index,
            group=FIX_GROUP_NAMES[group_of[f.row]],
            row=f.row,
            check_id=f.check_id,
            title=f.title,
            severity=f.severity,
            status=f.status,
            effort_hours=f.effort_hours,
            fix=f.fix,
            fingerprint=f.fingerprint,
        )
        for index, f in enumerate(bad, start=1)
    ]


def score(findings: list[Finding]) -> Scorecard:
    rows = [grade_row(row.id, row.title, [f for f in findings if f.row == row.id]) for row in ROWS]
    blockers = sum(1 for f in findings if is_blocker(f))
    if blockers:
        verdict = Verdict.NOT_READY
    elif any(row.checks_verified < row.checks_total or not row.checks_total for row in rows):
        # A pass beside a check that could not tell is not yet "ready".
        verdict = Verdict.INCOMPLETE
    else:
        verdict = Verdict.READY
    return Scorecard(
        scoring_version=SCORING_VERSION,
        verdict=verdict,
        rows=rows,
        fix_plan=fix_plan(findings),
        blockers=blockers,
    )
