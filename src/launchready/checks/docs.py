"""Generates docs/checks.md from the check metadata: `python -m launchready.checks.docs`."""

from __future__ import annotations

import sys
from pathlib import Path

from launchready.checks import load_all
from launchready.checks.base import REGISTRY, metadata
from launchready.rows import ROWS


def render() -> str:
    load_all()
    lines = [
        "# Checks",
        "",
        "Generated from `src/launchready/checks/metadata/*.toml` by",
        "`python -m launchready.checks.docs`; a test fails when this page is out of date.",
        "",
    ]
    by_row: dict[str, list[str]] = {}
    for check_id, meta in sorted(metadata().items()):
        by_row.setdefault(meta.row, []).append(check_id)

    for row in ROWS:
        lines += [f"## {row.id}: {row.title}", ""]
        ids = by_row.get(row.id)
        if not ids:
            lines += ["No check covers this row yet: it is always reported as unverified.", ""]
            continue
        for check_id in ids:
            meta, check = metadata()[check_id], REGISTRY[check_id]
            needs = ", ".join(check.needs) or "nothing"
            kind = "active" if check.active else "passive"
            lines += [
                f"### `{check_id}`: {meta.title}",
                "",
                f"{meta.why}" if meta.why else "",
                "",
                f"- Kind: {kind}; needs: {needs}",
                f"- What breaks: {meta.impact}",
                f"- Fix: {meta.fix}",
                f"- Effort: {meta.effort_hours[0]} to {meta.effort_hours[1]} hours",
            ]
            for reference in meta.references:
                lines.append(f"- Reference: <{reference}>")
            lines += ["", "| outcome | status | severity | title |", "|---|---|---|---|"]
            for outcome in meta.outcomes.values():
                title = outcome.title.replace("|", "\\|")
                lines.append(
                    f"| `{outcome.code}` | {outcome.status.value} | {outcome.severity.value} "
                    f"| {title} |"
                )
            lines.append("")
    return "\n".join(line for line in _squeeze(lines)) + "\n"


def _squeeze(lines: list[str]) -> list[str]:
    """Drop the blank line a missing `why` leaves, so no two blank lines follow each other."""
    out: list[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return out


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/checks.md")
    target.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
