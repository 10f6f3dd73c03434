"""The scorecard in the terminal: what a person sees first after `launchready scan`.

Colour only repeats what the words already say (PASS, FAIL, critical...), so the output reads
the same on a monochrome terminal, in a CI log or piped to a file. All scan text goes through
`rich.text.Text`, never through console markup, so a title with brackets prints as it is.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from launchready.findings import Severity
from launchready.reports._common import (
    checks_verified,
    coverage_text,
    duration_text,
    effort_text,
    score_text,
    short_reason,
    verdict_label,
)
from launchready.scan import ScanResult
from launchready.scorecard import FixItem, Grade, RowResult, Scorecard, Verdict

TOP_FIXES = 10

VERDICT_STYLES = {
    Verdict.READY: "bold white on green",
    Verdict.NOT_READY: "bold white on red",
    Verdict.INCOMPLETE: "bold black on yellow",
}
GRADE_STYLES = {
    Grade.PASS: "green",
    Grade.WARN: "yellow",
    Grade.FAIL: "bold red",
    Grade.UNVERIFIED: "magenta",
}
SEVERITY_STYLES = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def print_scorecard(result: ScanResult, console: Console) -> None:
    """Verdict banner, the twelve rows, the first fixes and a one-line summary."""
    card = result.scorecard
    console.print(_banner(result))

    console.print(_rows_table(card.rows))
    reasons = _reasons(card.rows)
    if reasons.plain:
        console.print(reasons)

    if card.fix_plan:
        console.print(_fix_table(card.fix_plan))
    else:
        verified, _ = checks_verified(card.rows)
        if verified:
            console.print(Text("Nothing to fix.", style="green"))
        else:
            console.print(Text("Nothing could be verified, so nothing to fix can be named."))

    console.print(_summary(result))


def _banner(result: ScanResult) -> Panel:
    card = result.scorecard
    text = Text()
    text.append(f" {verdict_label(card.verdict).upper()} ", style=VERDICT_STYLES[card.verdict])
    text.append(f"  {result.scan.target}")
    if card.blockers:
        noun = "blocker" if card.blockers == 1 else "blockers"
        text.append(f"  ({card.blockers} {noun})", style="bold")
    return Panel(text, title="launchready", title_align="left", box=box.ROUNDED, expand=False)


def _rows_table(rows: list[RowResult]) -> Table:
    table = Table(title="Scorecard", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("Row")
    table.add_column("Grade")
    table.add_column("Score", justify="right")
    table.add_column("Coverage")

    for row in rows:
        table.add_row(
            Text(row.title),
            Text(row.grade.value.upper(), style=GRADE_STYLES[row.grade]),
            Text(score_text(row)),
            Text(coverage_text(row), style="dim" if row.checks_total == 0 else ""),
        )
    return table


def _reasons(rows: list[RowResult]) -> Text:
    """Why parts of rows were not verified, one line a row under the table, where a reason and
    the config key that would fix it have the terminal's whole width."""
    text = Text()
    for row in rows:
        reason = short_reason(row, width=160)
        if reason:
            text.append(f"  {row.title}: ", style="bold")
            text.append(f"{reason}\n", style="dim")
    if text.plain:
        text = Text("Why not verified\n", style="italic") + text
    return text


def _fix_table(plan: list[FixItem]) -> Table:
    shown = plan[:TOP_FIXES]
    title = "Fix first" if len(plan) <= TOP_FIXES else f"Fix first (top {TOP_FIXES} of {len(plan)})"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("#", justify="right")
    table.add_column("Group")
    table.add_column("Severity")
    table.add_column("Title", overflow="fold")
    table.add_column("Effort", justify="right", no_wrap=True)

    for item in shown:
        table.add_row(
            Text(str(item.order)),
            Text(item.group),
            Text(item.severity.value, style=SEVERITY_STYLES[item.severity]),
            Text(item.title),
            Text(effort_text(item.effort_hours)),
        )
    return table


def _summary(result: ScanResult) -> Text:
    card: Scorecard = result.scorecard
    scan = result.scan
    verified, total = checks_verified(card.rows)
    parts = [
        f"{verdict_label(card.verdict)}: {card.blockers} "
        f"{'blocker' if card.blockers == 1 else 'blockers'}, {len(card.fix_plan)} to fix",
        f"{verified}/{total} checks verified",
        f"{scan.requests_sent}/{scan.request_budget} requests in {duration_text(scan.duration_s)}",
        f"scoring {card.scoring_version}",
    ]
    return Text(" · ".join(parts))
