"""The HTML report: one self-contained file a team can open offline, mail around or print.

Everything is inline (CSS, a three-line print helper); nothing is fetched, so the report works
without a network and leaks nothing when opened. Jinja2 autoescaping is on: scan text, which can
come from the scanned portal itself, is always escaped. This module only shapes the data; the
layout is `templates/report.html.j2`.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined

from launchready.findings import Finding
from launchready.reports._common import (
    checks_verified,
    coverage_text,
    duration_text,
    effort_text,
    finding_order,
    fix_groups,
    row_title,
    score_text,
    short_reason,
    time_text,
    verdict_label,
)
from launchready.scan import ScanResult
from launchready.scorecard import FixItem, RowResult

TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class RowView:
    row: RowResult
    score: str
    coverage: str
    reason: str


@dataclass(frozen=True)
class FixView:
    item: FixItem
    effort: str
    impact: str
    anchor: str


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    anchor: str
    location: str


@dataclass(frozen=True)
class RowEvidence:
    id: str
    title: str
    findings: list[FindingView]


def render(result: ScanResult) -> str:
    return _environment().get_template(TEMPLATE).render(**_context(result))


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("launchready.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["effort"] = effort_text
    return env


def _context(result: ScanResult) -> dict[str, object]:
    card = result.scorecard
    ordered = sorted(result.findings, key=finding_order)
    anchors = _anchors(ordered)
    verified, total = checks_verified(card.rows)

    return {
        "result": result,
        "scan": result.scan,
        "card": card,
        "verdict": verdict_label(card.verdict),
        "verdict_class": card.verdict.value,
        "started": time_text(result.scan.started_at),
        "duration": duration_text(result.scan.duration_s),
        "verified": verified,
        "total": total,
        "rows": [_row_view(row) for row in card.rows],
        "groups": _fix_views(card.fix_plan, ordered, anchors),
        "evidence": _evidence(ordered, anchors),
    }


def _anchors(ordered: list[Finding]) -> dict[int, str]:
    """An HTML id per finding (by identity: two findings can share a fingerprint)."""
    return {id(finding): f"finding-{index}" for index, finding in enumerate(ordered, start=1)}


def _row_view(row: RowResult) -> RowView:
    return RowView(row, score_text(row), coverage_text(row), short_reason(row, width=120))


def _fix_views(
    plan: list[FixItem], ordered: list[Finding], anchors: dict[int, str]
) -> list[tuple[str, list[FixView]]]:
    by_key: dict[tuple[str, str], Finding] = {}
    for finding in ordered:
        by_key.setdefault((finding.check_id, finding.fingerprint), finding)

    groups = []
    for name, items in fix_groups(plan):
        views = []
        for item in items:
            source = by_key.get((item.check_id, item.fingerprint))
            impact = source.impact if source else ""
            anchor = anchors[id(source)] if source else ""
            views.append(FixView(item, effort_text(item.effort_hours), impact, anchor))
        groups.append((name, views))
    return groups


def _evidence(ordered: list[Finding], anchors: dict[int, str]) -> list[RowEvidence]:
    rows: dict[str, list[FindingView]] = {}
    for finding in ordered:
        view = FindingView(finding, anchors[id(finding)], _file_location(finding))
        rows.setdefault(finding.row, []).append(view)
    return [RowEvidence(row_id, row_title(row_id), views) for row_id, views in rows.items()]


def _file_location(finding: Finding) -> str:
    path, line = finding.evidence.path, finding.evidence.line
    if not path:
        return ""
    return f"{path}:{line}" if line is not None else path
