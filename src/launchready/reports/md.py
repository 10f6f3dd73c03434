"""A Markdown summary short enough for a pull-request comment: verdict, rows, what to fix first.

Evidence stays in the HTML and JSON reports; this one answers "can we launch, and if not, what
next?" in a form GitHub and GitLab render. Text from the scan is escaped so a finding cannot
break the table or inject markup into the comment.
"""

from __future__ import annotations

import re

from launchready.reports._common import (
    checks_verified,
    coverage_text,
    effort_text,
    fix_groups,
    score_text,
    short_reason,
    time_text,
    verdict_label,
)
from launchready.scan import ScanResult
from launchready.scorecard import Grade, Scorecard, Verdict

MAX_FIXES = 20

VERDICT_MARKS = {Verdict.READY: "✅", Verdict.NOT_READY: "❌", Verdict.INCOMPLETE: "⚠️"}
GRADE_MARKS = {Grade.PASS: "✅", Grade.WARN: "⚠️", Grade.FAIL: "❌", Grade.UNVERIFIED: "❔"}

_SPECIAL = re.compile(r"([\\`*_\[\]|<>#])")


def render(result: ScanResult) -> str:
    card = result.scorecard
    parts = [
        _heading(result),
        _rows_table(card),
        _fix_plan(card),
        _footer(result),
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def _heading(result: ScanResult) -> str:
    card = result.scorecard
    verified, total = checks_verified(card.rows)
    label = verdict_label(card.verdict).upper()
    lines = [
        f"## {VERDICT_MARKS[card.verdict]} launchready: {label}",
        "",
        f"**Target:** {_escape(result.scan.target)}  ",
        f"**Blockers:** {card.blockers} · **To fix:** {len(card.fix_plan)} · "
        f"**Checks verified:** {verified}/{total}",
    ]
    return "\n".join(lines)


def _rows_table(card: Scorecard) -> str:
    lines = ["| Row | Grade | Score | Coverage | Note |", "| --- | --- | ---: | --- | --- |"]
    for row in card.rows:
        grade = f"{GRADE_MARKS[row.grade]} {row.grade.value}"
        cells = (row.title, grade, score_text(row), coverage_text(row), short_reason(row))
        lines.append("| " + " | ".join(_escape(cell) for cell in cells) + " |")
    return "\n".join(lines)


def _fix_plan(card: Scorecard) -> str:
    if not card.fix_plan:
        return "### Fix plan\n\nNothing to fix."

    lines = ["### Fix plan"]
    for group, items in fix_groups(card.fix_plan[:MAX_FIXES]):
        lines += ["", f"**{_escape(group.capitalize())}**", ""]
        lines += [
            f"{item.order}. **{item.severity.value}** {_escape(item.title)} — "
            f"`{item.check_id}`, effort {effort_text(item.effort_hours)}"
            for item in items
        ]

    hidden = len(card.fix_plan) - MAX_FIXES
    if hidden > 0:
        lines += ["", f"…and {hidden} more in the full report."]
    return "\n".join(lines)


def _footer(result: ScanResult) -> str:
    scan = result.scan
    return (
        f"<sub>launchready {_escape(scan.tool_version)} · scoring "
        f"{_escape(result.scorecard.scoring_version)} · {scan.requests_sent} requests · "
        f"{'active' if scan.active else 'passive'} scan · {time_text(scan.started_at)}</sub>"
    )


def _escape(text: str) -> str:
    """Text safe inside a Markdown table cell or list item: one line, specials escaped."""
    one_line = " ".join(text.split())
    return _SPECIAL.sub(r"\\\1", one_line)
