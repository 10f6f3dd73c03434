"""The finished scan: findings, scorecard and facts about the run. Reports read only this."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from launchready import __version__
from launchready.findings import Finding
from launchready.scorecard import Scorecard

REPORT_SCHEMA_VERSION = "1.0"


class ScanInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    tool_version: str = __version__
    target: str
    started_at: dt.datetime
    duration_s: float
    requests_sent: int
    request_budget: int
    active: bool


class ScanResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: str = REPORT_SCHEMA_VERSION
    scan: ScanInfo
    scorecard: Scorecard
    findings: list[Finding]
