"""Runs the registered checks concurrently, each under its own timeout.

A check that raises or runs out of time becomes one "error" finding with a one-line reason;
a check whose needs are missing becomes "unverified" without being called. The scan goes on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable

from launchready.checks import load_all
from launchready.checks.base import REGISTRY, Check, CheckReport
from launchready.context import NEEDS, ScanContext
from launchready.findings import Finding, Status
from launchready.rows import ROW_IDS
from launchready.scan import ScanInfo, ScanResult
from launchready.scorecard import score

log = logging.getLogger(__name__)

ProgressFn = Callable[[Check, list[Finding]], None]


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


async def run_check(ctx: ScanContext, check: Check, timeout: float) -> list[Finding]:
    report = CheckReport(check)
    missing = [need for need in check.needs if not ctx.has(need)]
    if check.active and "active" not in check.needs and not ctx.has("active"):
        missing.append("active")
    if missing:
        for name in missing:
            need = NEEDS[name]
            report.unverified(need.reason, config_key=need.config_key, target=ctx.host)
        return report.findings

    refused_before = ctx.http.budget.refused
    try:
        await asyncio.wait_for(check.fn(ctx, report), timeout)
    except TimeoutError:
        report.error(f"the check did not finish within {timeout:.0f} s", target=ctx.host)
    except Exception as error:  # a broken check must not stop the scan
        log.warning("check %s failed: %s", check.id, _one_line(error))
        report.error(f"the check failed: {_one_line(error)}", target=ctx.host)

    if ctx.http.budget.refused > refused_before:
        return without_unsent_passes(report)
    return report.findings


def without_unsent_passes(report: CheckReport) -> list[Finding]:
    """The budget ran out while the check ran: some of its probes were never sent, so a pass
    would vouch for requests nobody made. Its passes become one error; its failures stand."""
    kept = [f for f in report.findings if f.status is not Status.PASS]
    if len(kept) < len(report.findings):
        budget = "the request budget ran out before all of its probes were sent"
        report.findings = kept
        report.error(f"{budget}; raise scope.request_budget", target=report.check.id)
    return report.findings


def selected_checks(only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Check]:
    load_all()
    only, skip = set(only), set(skip)
    checks = []
    for check in REGISTRY.values():
        wanted = not only or check.id in only or check.row in only
        if wanted and check.id not in skip and check.row not in skip:
            checks.append(check)
    return checks


async def run_checks(
    ctx: ScanContext,
    checks: list[Check],
    *,
    concurrency: int = 6,
    progress: ProgressFn | None = None,
) -> list[Finding]:
    gate = asyncio.Semaphore(concurrency)
    timeout = ctx.config.scope.check_timeout

    async def guarded(check: Check) -> list[Finding]:
        async with gate:
            findings = await run_check(ctx, check, timeout)
        if progress:
            progress(check, findings)
        return findings

    results = await asyncio.gather(*(guarded(check) for check in checks))
    return [finding for findings in results for finding in findings]


async def run_scan(
    ctx: ScanContext,
    *,
    only: Iterable[str] = (),
    skip: Iterable[str] = (),
    progress: ProgressFn | None = None,
) -> ScanResult:
    """The whole scan: checks, scorecard, run facts. The context is closed afterwards."""
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    checks = selected_checks(only, skip)
    try:
        findings = await run_checks(ctx, checks, progress=progress)
    finally:
        await ctx.aclose()
    findings.sort(key=lambda f: (ROW_IDS.index(f.row), f.check_id, f.outcome, f.target))
    info = ScanInfo(
        target=ctx.base_url,
        started_at=started,
        duration_s=round(time.perf_counter() - clock, 2),
        requests_sent=ctx.http.budget.spent,
        request_budget=ctx.http.budget.total,
        active=ctx.has("active"),
    )
    return ScanResult(scan=info, scorecard=score(findings), findings=findings)
