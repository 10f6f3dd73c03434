"""monitoring and rollback rows: what only the team can know, taken from dated attestations.

No probe can prove that an alert pages someone or that a rollback was rehearsed, so these
rows rest on the team's own dated statement in config. A statement older than 90 days warns:
alert routing and deploy pipelines drift.
"""

from __future__ import annotations

import datetime as dt

from launchready.checks.base import CheckReport, check
from launchready.config import Attestation
from launchready.context import ScanContext

STALE_AFTER_DAYS = 90


def _judge(report: CheckReport, attestation: Attestation | None, what: str) -> None:
    assert attestation is not None  # guaranteed by the check's needs
    age = (dt.date.today() - attestation.date).days
    by, date = attestation.by, attestation.date.isoformat()
    detail = attestation.note or f"{what} attested"
    if age < 0:
        report.add("attestation-in-future", target=what, detail=detail, by=by, date=date)
    elif age > STALE_AFTER_DAYS:
        report.add("attestation-stale", target=what, detail=detail, days=age, by=by, date=date)
    else:
        report.add("attested", target=what, detail=detail, by=by, date=date)


@check("monitoring.attested", needs=("attestation-monitoring",))
async def monitoring(ctx: ScanContext, report: CheckReport) -> None:
    _judge(report, ctx.config.attestations.monitoring, "monitoring")


@check("rollback.attested", needs=("attestation-rollback",))
async def rollback(ctx: ScanContext, report: CheckReport) -> None:
    _judge(report, ctx.config.attestations.rollback, "rollback")
