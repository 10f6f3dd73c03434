"""SARIF 2.1.0 output, so findings show up in GitHub code scanning and other SARIF viewers.

One run; one rule per check id seen in the scan, described from the check metadata (or, for a
check without metadata, from its findings); one result per failing or warning finding. GitHub
needs a physical location on every result: a file finding points at its path and line, any other
finding at the URL it is about (or the scanned URL), with the target's name as a logical location
when it is neither a URL nor a file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from launchready.checks.base import CheckMeta, metadata
from launchready.findings import SEVERITY_RANK, Finding, Severity, Status
from launchready.reports._common import is_url
from launchready.scan import ScanResult

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "launchready/v1"

# GitHub ranks security alerts by this score: >= 9 critical, >= 7 high, >= 4 medium, else low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}

# Rows about security; GitHub ranks only rules tagged "security" as security alerts.
SECURITY_ROWS = frozenset(
    {
        "auth",
        "authorization",
        "input-validation",
        "rate-limiting",
        "secrets",
        "email-auth",
        "tls-domain",
        "tenant-isolation",
        "logging",
    }
)

JSON = dict[str, Any]


def render(result: ScanResult, meta: Mapping[str, CheckMeta] | None = None) -> str:
    """The scan as a SARIF log; `meta` defaults to the shipped check metadata."""
    known = metadata() if meta is None else meta
    rules = _rules(result.findings, known)
    index = {rule["id"]: position for position, rule in enumerate(rules)}

    results = [
        _result(finding, index[finding.check_id], result.scan.target)
        for finding in result.findings
        if finding.status in (Status.FAIL, Status.WARN)
    ]
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [_run(result, rules, results)]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _run(result: ScanResult, rules: list[JSON], results: list[JSON]) -> JSON:
    driver = {
        "name": "launchready",
        "version": result.scan.tool_version,
        "semanticVersion": result.scan.tool_version,
        "rules": rules,
    }
    invocation = {
        "executionSuccessful": True,
        "startTimeUtc": result.scan.started_at.isoformat().replace("+00:00", "Z"),
    }
    properties = {
        "target": result.scan.target,
        "verdict": result.scorecard.verdict.value,
        "blockers": result.scorecard.blockers,
        "scoringVersion": result.scorecard.scoring_version,
    }
    return {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "results": results,
        "properties": properties,
    }


def _rules(findings: list[Finding], known: Mapping[str, CheckMeta]) -> list[JSON]:
    by_check: dict[str, list[Finding]] = {}
    for finding in findings:
        by_check.setdefault(finding.check_id, []).append(finding)

    return [
        _rule_from_meta(known[check_id]) if check_id in known else _rule_from_findings(group)
        for check_id, group in sorted(by_check.items())
    ]


def _rule_from_meta(meta: CheckMeta) -> JSON:
    bad = [o.severity for o in meta.outcomes.values() if o.status in (Status.FAIL, Status.WARN)]
    return _rule(
        meta.id,
        row=meta.row,
        title=meta.title,
        impact=meta.impact,
        fix=meta.fix,
        effort=meta.effort_hours,
        worst=max(bad, key=SEVERITY_RANK.__getitem__, default=Severity.INFO),
    )


def _rule_from_findings(findings: list[Finding]) -> JSON:
    """A rule for a check without metadata, described by the findings it produced.

    A bad finding's words describe the problem best, a passing one's describe the check; an
    error or unverified finding only says the check did not run, so the id stands in instead.
    """
    bad = [f for f in findings if f.is_bad]
    passed = [f for f in findings if f.status is Status.PASS]
    first = (bad or passed or findings)[0]
    title = first.title if bad or passed else f"launchready check {first.check_id}"
    return _rule(
        first.check_id,
        row=first.row,
        title=title,
        impact=first.impact,
        fix=first.fix,
        effort=first.effort_hours,
        worst=max((f.severity for f in bad), key=SEVERITY_RANK.__getitem__, default=Severity.INFO),
    )


def _rule(
    check_id: str,
    *,
    row: str,
    title: str,
    impact: str,
    fix: str,
    effort: tuple[int, int] | None,
    worst: Severity,
) -> JSON:
    security = row in SECURITY_ROWS
    tags = ["security", "launch-readiness", row] if security else ["launch-readiness", row]
    properties: JSON = {"row": row, "tags": tags}
    if effort is not None:
        properties["effortHours"] = list(effort)
    if security and worst is not Severity.INFO:
        properties["security-severity"] = SECURITY_SEVERITY[worst]

    rule: JSON = {
        "id": check_id,
        "name": _rule_name(check_id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": impact or title},
    }
    if fix:
        rule["help"] = {"text": fix}
    rule["properties"] = properties
    return rule


def _rule_name(check_id: str) -> str:
    """SARIF wants a readable identifier: "auth.session-cookies" -> "AuthSessionCookies"."""
    words = check_id.replace(".", "-").replace("_", "-").split("-")
    return "".join(word[:1].upper() + word[1:] for word in words if word)


def _level(finding: Finding) -> str:
    high = SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[Severity.HIGH]
    if finding.status is Status.FAIL:
        return "error" if high else "warning"
    low = SEVERITY_RANK[finding.severity] <= SEVERITY_RANK[Severity.LOW]
    return "note" if low else "warning"


def _result(finding: Finding, rule_index: int, scan_target: str) -> JSON:
    text = f"{finding.title}\n{finding.detail}" if finding.detail else finding.title
    properties = {
        "row": finding.row,
        "status": finding.status.value,
        "severity": finding.severity.value,
        "outcome": finding.outcome,
    }
    return {
        "ruleId": finding.check_id,
        "ruleIndex": rule_index,
        "level": _level(finding),
        "message": {"text": text},
        "locations": [_location(finding, scan_target)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": properties,
    }


def _location(finding: Finding, scan_target: str) -> JSON:
    evidence = finding.evidence
    if evidence.path:
        physical: JSON = {"artifactLocation": {"uri": _path_uri(evidence.path)}}
        if evidence.line is not None and evidence.line >= 1:
            physical["region"] = {"startLine": evidence.line}
        return {"physicalLocation": physical}

    if is_url(finding.target):
        return {"physicalLocation": {"artifactLocation": {"uri": finding.target}}}

    location: JSON = {"physicalLocation": {"artifactLocation": {"uri": _fallback_uri(scan_target)}}}
    name = finding.target or scan_target
    if name:
        location["logicalLocations"] = [{"name": name, "kind": "resource"}]
    return location


def _path_uri(path: str) -> str:
    """A file path as a URI reference: relative paths stay relative, with forward slashes."""
    if "\\" in path:
        windows = PureWindowsPath(path)
        if windows.is_absolute():
            return windows.as_uri()
        path = windows.as_posix()
    pure = PurePosixPath(path)
    if pure.is_absolute():
        return "file://" + quote(str(pure))
    return quote(str(pure).removeprefix("./"))


def _fallback_uri(scan_target: str) -> str:
    """The scanned URL when there is one, else the target's name made URI-safe."""
    if is_url(scan_target):
        return scan_target
    return quote(scan_target or "launchready-target", safe="/.-_~")
