"""JUnit XML output, so a CI system shows launch readiness next to the test results it knows.

One testsuite per scorecard row and one testcase per check (all findings of a check together):
a failing finding makes a failure, a check that could not run makes an error, a check that was
never verified is skipped. What the check saw beyond that goes to the testcase's system-out.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from enum import StrEnum

from launchready.findings import SEVERITY_RANK, Finding, Status
from launchready.reports._common import coverage_text, finding_order, score_text
from launchready.rows import ROWS
from launchready.scan import ScanResult
from launchready.scorecard import VERDICT_STATUSES, RowResult

# Characters XML 1.0 cannot carry at all, even escaped; response bodies can contain them.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Outcome(StrEnum):
    PASSED = "passed"
    FAILURE = "failure"
    ERROR = "error"
    SKIPPED = "skipped"


COUNTED = (Outcome.FAILURE, Outcome.ERROR, Outcome.SKIPPED)


def render(result: ScanResult) -> str:
    root = ET.Element("testsuites", name="launchready")
    rows = {row.id: row for row in result.scorecard.rows}
    totals = dict.fromkeys(("tests", *COUNTED), 0)

    for row in ROWS:
        findings = [f for f in result.findings if f.row == row.id]
        suite, counts = _suite(row.id, rows.get(row.id), findings)
        root.append(suite)
        for key, value in counts.items():
            totals[key] += value

    _set_counts(root, totals)
    root.set("time", f"{result.scan.duration_s:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _suite(
    row_id: str, row: RowResult | None, findings: list[Finding]
) -> tuple[ET.Element, dict[str, int]]:
    suite = ET.Element("testsuite", name=row_id)
    if row is not None:
        suite.append(_row_properties(row))

    counts = dict.fromkeys(("tests", *COUNTED), 0)
    for check_id, group in _by_check(findings).items():
        case, outcome = _testcase(row_id, check_id, group)
        suite.append(case)
        counts["tests"] += 1
        if outcome in COUNTED:
            counts[outcome] += 1

    _set_counts(suite, counts)
    suite.set("time", "0")
    return suite, counts


def _set_counts(element: ET.Element, counts: dict[str, int]) -> None:
    element.set("tests", str(counts["tests"]))
    element.set("failures", str(counts[Outcome.FAILURE]))
    element.set("errors", str(counts[Outcome.ERROR]))
    element.set("skipped", str(counts[Outcome.SKIPPED]))


def _row_properties(row: RowResult) -> ET.Element:
    properties = ET.Element("properties")
    values = {
        "title": row.title,
        "grade": row.grade.value,
        "score": score_text(row),
        "coverage": coverage_text(row),
    }
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    return properties


def _by_check(findings: list[Finding]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for finding in sorted(findings, key=finding_order):
        groups.setdefault(finding.check_id, []).append(finding)
    return dict(sorted(groups.items()))


def _outcome(findings: list[Finding]) -> Outcome:
    """Any failure fails the check; else an error; else skipped when nothing gave a verdict."""
    statuses = {f.status for f in findings}
    if Status.FAIL in statuses:
        return Outcome.FAILURE
    if Status.ERROR in statuses:
        return Outcome.ERROR
    if not statuses & set(VERDICT_STATUSES):
        return Outcome.SKIPPED
    return Outcome.PASSED


def _testcase(row_id: str, check_id: str, findings: list[Finding]) -> tuple[ET.Element, Outcome]:
    case = ET.Element("testcase", classname=row_id, name=check_id, time="0")
    outcome = _outcome(findings)

    shown: list[Finding] = []
    if outcome is Outcome.FAILURE:
        shown = [f for f in findings if f.status is Status.FAIL]
        _add_problem(case, "failure", shown)
    elif outcome is Outcome.ERROR:
        shown = [f for f in findings if f.status is Status.ERROR]
        _add_problem(case, "error", shown)
    elif outcome is Outcome.SKIPPED:
        ET.SubElement(case, "skipped", message=_clean(_reason(findings[0])))

    rest = [f for f in findings if f not in shown]
    if rest:
        ET.SubElement(case, "system-out").text = _clean(_report_lines(rest))
    return case, outcome


def _add_problem(case: ET.Element, tag: str, findings: list[Finding]) -> None:
    """A failure or error element: the worst finding's words as message, all of them as text."""
    worst = max(findings, key=lambda f: SEVERITY_RANK[f.severity])
    message = worst.title if tag == "failure" else _reason(worst)
    if len(findings) > 1:
        message += f" (and {len(findings) - 1} more)"
    element = ET.SubElement(case, tag, message=_clean(message), type=worst.severity.value)
    element.text = _clean(_report_lines(findings))


def _reason(finding: Finding) -> str:
    return finding.detail or finding.title


def _report_lines(findings: Iterable[Finding]) -> str:
    return "\n".join(_describe(f) for f in findings)


def _describe(finding: Finding) -> str:
    lines = [f"[{finding.status.value}/{finding.severity.value}] {finding.title}"]
    evidence = finding.evidence
    details = (
        ("target", finding.target),
        ("detail", finding.detail),
        ("note", evidence.note),
        ("file", _file_location(finding)),
        ("commit", evidence.commit),
        ("secret", evidence.masked_secret),
        ("reproduce", evidence.curl),
        ("fix", finding.fix),
    )
    lines += [f"  {label}: {value}" for label, value in details if value]
    return "\n".join(lines)


def _file_location(finding: Finding) -> str:
    path, line = finding.evidence.path, finding.evidence.line
    if not path:
        return ""
    return f"{path}:{line}" if line is not None else path


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)
