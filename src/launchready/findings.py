"""The finding model: what a check saw, how bad it is, and the evidence behind it.

Everything a report shows comes from these types. Evidence is redacted when it is built
(see `launchready.probe.redact`), so nothing downstream can leak a secret by accident.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"  # the check ran but could not tell: a reason is attached
    UNVERIFIED = "unverified"  # the check did not run: its needs were missing


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Exchange(BaseModel):
    """One HTTP request and its response, cut short and masked."""

    model_config = ConfigDict(frozen=True)

    method: str
    url: str
    request_headers: dict[str, str] = Field(default_factory=dict)
    request_body: str = ""
    status: int | None = None
    response_headers: dict[str, str] = Field(default_factory=dict)
    response_body: str = ""
    error: str | None = None
    elapsed_ms: float | None = None


class Evidence(BaseModel):
    """What backs a finding: exchanges and a curl line, or a file location, or a plain note."""

    model_config = ConfigDict(frozen=True)

    note: str = ""
    exchanges: tuple[Exchange, ...] = ()
    curl: str = ""
    path: str = ""
    line: int | None = None
    commit: str = ""
    masked_secret: str = ""


class Finding(BaseModel):
    """One outcome of one check."""

    model_config = ConfigDict(frozen=True)

    check_id: str
    row: str
    outcome: str
    status: Status
    severity: Severity
    title: str
    detail: str = ""
    target: str = ""  # the host, URL or file the finding is about
    evidence: Evidence = Field(default_factory=Evidence)
    impact: str = ""
    fix: str = ""
    effort_hours: tuple[int, int] | None = None
    fingerprint: str = ""

    @property
    def is_bad(self) -> bool:
        return self.status in (Status.FAIL, Status.WARN)


_VOLATILE = (
    re.compile(r":\d{2,5}\b"),  # ports
    re.compile(r"\b\d{4}-\d{2}-\d{2}[T ][\d:.]+Z?"),  # timestamps
    re.compile(r"\b\d+(\.\d+)?\s?ms\b"),  # durations
)


def stable_target(target: str) -> str:
    """The target with ports, timestamps and durations removed, for fingerprints."""
    for pattern in _VOLATILE:
        target = pattern.sub("", target)
    return target.lower()


def fingerprint(check_id: str, outcome: str, target: str) -> str:
    """A short id that recognises the same finding in a later scan (no lines, ports, times)."""
    key = "\x1f".join((check_id, outcome, stable_target(target)))
    return hashlib.sha256(key.encode()).hexdigest()[:16]
