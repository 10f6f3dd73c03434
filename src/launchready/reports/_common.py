"""Wording and grouping that every report format shares, so the formats never disagree.

A verdict, an effort range or a row's coverage reads the same in the terminal, in HTML and in
Markdown because each of them asks this module for the words.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from launchready.findings import SEVERITY_RANK, Finding, Status
from launchready.rows import FIX_GROUP_NAMES, ROW_IDS, ROWS_BY_ID
from launchready.scorecard import FixItem, RowResult, Verdict

VERDICT_LABELS = {
    Verdict.READY: "ready",
    Verdict.NOT_READY: "not ready",
    Verdict.INCOMPLETE: "incomplete",
}

# Evidence lists the worst first: what broke, what could not tell, what merely warned.
STATUS_ORDER = {
    Status.FAIL: 0,
    Status.ERROR: 1,
    Status.WARN: 2,
    Status.UNVERIFIED: 3,
    Status.PASS: 4,
}

NO_VALUE = "—"


def verdict_label(verdict: Verdict) -> str:
    return VERDICT_LABELS[verdict]


def effort_text(effort: tuple[int, int] | None) -> str:
    """An effort range in hours: "2–16 h", "1 h", or a dash when unknown."""
    if effort is None:
        return NO_VALUE
    low, high = effort
    if low == high:
        return f"{low} h"
    return f"{low}–{high} h"


def score_text(row: RowResult) -> str:
    return NO_VALUE if row.score is None else str(row.score)


def coverage_text(row: RowResult) -> str:
    if row.checks_total == 0:
        return "no checks yet"
    return f"verified {row.checks_verified}/{row.checks_total}"


def is_partly_unverified(row: RowResult) -> bool:
    return row.checks_verified < row.checks_total or row.checks_total == 0


def short_reason(row: RowResult, width: int = 80) -> str:
    """The first reason a row could not be fully verified, cut to `width`, with a "+N" tail.

    The "(set KEY to verify)" ending is what the reader acts on, so the cut falls before it.
    """
    if not row.reasons or not is_partly_unverified(row):
        return ""
    reason = row.reasons[0]
    if len(reason) > width:
        head, marker, key = reason.rpartition(" (set ")
        tail = f"{marker}{key}" if marker else ""
        head = head if marker else reason
        room = max(width - len(tail) - 1, 16)
        reason = head[:room].rstrip() + "…" + tail
    extra = len(row.reasons) - 1
    return f"{reason} (+{extra} more)" if extra else reason


def row_title(row_id: str) -> str:
    row = ROWS_BY_ID.get(row_id)
    return row.title if row else row_id


def fix_groups(plan: list[FixItem]) -> list[tuple[str, list[FixItem]]]:
    """The fix plan cut into its groups, in plan order; groups with nothing to fix are left out."""
    groups: dict[str, list[FixItem]] = {name: [] for name in FIX_GROUP_NAMES.values()}
    for item in plan:
        groups.setdefault(item.group, []).append(item)
    return [(name, items) for name, items in groups.items() if items]


def finding_order(finding: Finding) -> tuple[int, int, int, str, str]:
    """Sort key: scorecard row order, then worst status, then highest severity."""
    row_index = ROW_IDS.index(finding.row) if finding.row in ROW_IDS else len(ROW_IDS)
    return (
        row_index,
        STATUS_ORDER[finding.status],
        -SEVERITY_RANK[finding.severity],
        finding.check_id,
        finding.title,
    )


def findings_by_fingerprint(findings: list[Finding]) -> dict[str, Finding]:
    """The first finding behind each fingerprint: how a fix-plan item finds its impact."""
    found: dict[str, Finding] = {}
    for finding in findings:
        found.setdefault(finding.fingerprint, finding)
    return found


def is_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def checks_verified(rows: list[RowResult]) -> tuple[int, int]:
    """How many checks produced a verdict, out of how many ran, across all rows."""
    return sum(r.checks_verified for r in rows), sum(r.checks_total for r in rows)


def time_text(moment: dt.datetime) -> str:
    """A scan time for people: "2026-01-15 10:30 UTC" (naive times are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"
