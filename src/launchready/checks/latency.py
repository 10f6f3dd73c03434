"""latency row: p50/p95/p99 of the configured core actions against a 500 ms budget."""

from __future__ import annotations

from typing import Any

from launchready.checks.base import CheckReport, check
from launchready.checks.tls_domain import evidence_of
from launchready.config import Action, RequestTemplate
from launchready.context import ScanContext
from launchready.engines.latency import LatencySummary, sample
from launchready.engines.templates import fill
from launchready.probe.http import Response
from launchready.probe.login import Session

P95_BUDGET_MS = 500.0


class _ActionRunner:
    """Sends one action per sample: untimed setup, the timed request, untimed cleanup."""

    def __init__(
        self,
        ctx: ScanContext,
        action: Action,
        session: Session,
        values: dict[str, Any],
    ) -> None:
        self.ctx, self.action, self.session = ctx, action, session
        self.values = values
        self.count = 0
        self.problem: str | None = None

    async def _send(self, template: RequestTemplate, values: dict[str, Any]) -> Response:
        path = fill(template.path, values)
        body = fill(template.json_body, values) if template.json_body is not None else None
        return await self.session.send(template.method, self.ctx.url(path), json=body)

    async def __call__(self) -> Response:
        self.count += 1
        values = {**self.values, "n": self.count}
        action = self.action
        if action.setup:
            setup = await self._send(action.setup, values)
            values["setup"] = _json_or_empty(setup)
        try:
            response = await self._send(action, values)
        except KeyError as missing:
            self.problem = f"placeholder {missing} has no value"
            return Response(action.method, action.path, error=f"not sent: {self.problem}")
        if action.cleanup and response.status and response.status < 400:
            try:
                await self._send(action.cleanup, {**values, "response": _json_or_empty(response)})
            except KeyError as missing:
                self.problem = f"cleanup placeholder {missing} has no value"
        return response


def _json_or_empty(response: Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _detail(summary: LatencySummary) -> str:
    return (
        f"{summary.samples} samples: p50 {summary.p50_ms} ms, p95 {summary.p95_ms} ms, "
        f"p99 {summary.p99_ms} ms, max {summary.max_ms} ms; {summary.failures} failed"
    )


@check("latency.core-actions", needs=("actions",), active=True)
async def core_actions(ctx: ScanContext, report: CheckReport) -> None:
    for action in ctx.config.actions:
        session = Session("anonymous", ctx.http)
        if action.account:
            session = await ctx.session(action.account)
            if session.error:
                report.unverified(session.error, target=action.name)
                continue
        values: dict[str, Any] = {}
        if action.credentials:
            account = next(a for a in ctx.config.accounts if a.name == action.credentials)
            values = {
                "username": account.credential("username") or "",
                "password": account.credential("password") or "",
            }

        runner = _ActionRunner(ctx, action, session, values)
        summary = await sample(runner, action.samples)
        p95 = f"{summary.p95_ms:.0f}"

        if summary.samples == 0 or summary.failures * 2 > action.samples:
            failed = summary.last_failure
            reason = runner.problem or (
                (failed.error or f"HTTP {failed.status}") if failed else "no samples"
            )
            report.error(
                f"{action.name}: most requests failed ({reason})",
                target=action.name,
                evidence=evidence_of(ctx, failed) if failed and failed.exchange else None,
            )
        elif summary.p95_ms > P95_BUDGET_MS:
            evidence = evidence_of(ctx, summary.first) if summary.first else None
            report.add(
                "action-slow",
                target=action.name,
                detail=_detail(summary),
                evidence=evidence,
                action=action.name,
                p95=p95,
            )
        else:
            report.add(
                "action-fast",
                target=action.name,
                detail=_detail(summary),
                action=action.name,
                p95=p95,
            )
