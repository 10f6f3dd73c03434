"""The check contract and the registry.

How to add a check:
1. Write an async function `(ctx: ScanContext, report: CheckReport) -> None` in the module of
   its row (`checks/<row>.py`), decorated with `@check("row.name", needs=(...), active=...)`.
   It asks the context for facts, decides, and calls `report.add(outcome_code, ...)` once per
   outcome it saw. It never formats output and never opens a socket itself.
2. Describe it in `checks/metadata/<row>.toml`: title, impact, fix, effort, references, and
   every outcome code with its status and severity. A test fails when code and metadata differ.
3. `docs/checks.md` is generated from the metadata (`python -m launchready.checks.docs`).

Needs are names from `NEEDS` (see `launchready.context`); when one is missing the runner records
the check as unverified with the reason and the config key that enables it, and does not call it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from launchready.findings import Evidence, Finding, Severity, Status, fingerprint
from launchready.rows import ROWS_BY_ID

if TYPE_CHECKING:
    from launchready.context import ScanContext

CheckFn = Callable[["ScanContext", "CheckReport"], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    code: str
    status: Status
    severity: Severity
    title: str


@dataclass(frozen=True)
class CheckMeta:
    id: str
    row: str
    title: str
    impact: str
    fix: str
    effort_hours: tuple[int, int]
    references: tuple[str, ...]
    outcomes: dict[str, Outcome]
    why: str = ""


@dataclass(frozen=True)
class Check:
    id: str
    row: str
    fn: CheckFn
    needs: tuple[str, ...] = ()
    active: bool = False

    @property
    def meta(self) -> CheckMeta:
        return metadata()[self.id]


REGISTRY: dict[str, Check] = {}


def check(
    check_id: str, *, needs: tuple[str, ...] = (), active: bool = False
) -> Callable[[CheckFn], CheckFn]:
    """Register a check under its id; the row is the part before the first dot."""
    row = check_id.split(".", 1)[0]
    if row not in ROWS_BY_ID:
        raise ValueError(f"check {check_id}: unknown row {row!r}")

    def register(fn: CheckFn) -> CheckFn:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} registered twice")
        REGISTRY[check_id] = Check(check_id, row, fn, needs, active)
        return fn

    return register


def _outcome(code: str, raw: dict[str, Any]) -> Outcome:
    return Outcome(code, Status(raw["status"]), Severity(raw.get("severity", "info")), raw["title"])


_METADATA: dict[str, CheckMeta] = {}


def metadata() -> dict[str, CheckMeta]:
    """Every check's metadata, read once from the TOML files beside the checks."""
    if _METADATA:
        return _METADATA
    folder = resources.files("launchready.checks") / "metadata"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        for check_id, raw in tomllib.loads(entry.read_text(encoding="utf-8")).items():
            _METADATA[check_id] = CheckMeta(
                id=check_id,
                row=raw["row"],
                title=raw["title"],
                why=raw.get("why", ""),
                impact=raw["impact"],
                fix=raw["fix"],
                effort_hours=(int(raw["effort_hours"][0]), int(raw["effort_hours"][1])),
                references=tuple(raw.get("references", ())),
                outcomes={code: _outcome(code, o) for code, o in raw["outcomes"].items()},
            )
    return _METADATA


# Outcomes every check has without declaring them: the runner's own verdicts on a check.
GENERIC_OUTCOMES = {
    "check-error": Outcome("check-error", Status.ERROR, Severity.INFO, "The check could not run"),
    "needs-missing": Outcome(
        "needs-missing", Status.UNVERIFIED, Severity.INFO, "Not verified: input missing"
    ),
}


@dataclass
class CheckReport:
    """Collects one check's findings, filling status, severity and words from its metadata."""

    check: Check
    findings: list[Finding] = field(default_factory=list)

    def add(
        self,
        code: str,
        *,
        target: str = "",
        detail: str = "",
        evidence: Evidence | None = None,
        **words: object,
    ) -> Finding:
        meta = self.check.meta
        outcome = meta.outcomes.get(code) or GENERIC_OUTCOMES.get(code)
        if outcome is None:
            raise KeyError(f"check {self.check.id} has no outcome {code!r} in its metadata")
        # Titles may name the target ({target}) as well as the words the check passes.
        title = outcome.title.format(target=target, **words)
        finding = Finding(
            check_id=self.check.id,
            row=self.check.row,
            outcome=code,
            status=outcome.status,
            severity=outcome.severity,
            title=title,
            detail=detail,
            target=target,
            evidence=evidence or Evidence(),
            impact=meta.impact if outcome.status in (Status.FAIL, Status.WARN) else "",
            fix=meta.fix if outcome.status in (Status.FAIL, Status.WARN) else "",
            effort_hours=meta.effort_hours
            if outcome.status in (Status.FAIL, Status.WARN)
            else None,
            fingerprint=fingerprint(self.check.id, code, target),
        )
        self.findings.append(finding)
        return finding

    def error(self, reason: str, *, target: str = "", evidence: Evidence | None = None) -> None:
        """The check could not tell: a network failure, an unreadable answer."""
        self.add("check-error", target=target, detail=reason, evidence=evidence)

    def unverified(self, reason: str, *, config_key: str = "", target: str = "") -> None:
        detail = f"{reason} (set {config_key} to verify)" if config_key else reason
        self.add("needs-missing", target=target, detail=detail)
