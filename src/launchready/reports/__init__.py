"""Report formats: each turns a finished `ScanResult` into text, and reads nothing else.

A report never runs a check, opens a socket or re-scores: everything it shows is in the
ScanResult, which is also why `launchready report scan.json` can re-render any format later.

How to add a format:
1. Write `reports/<name>.py` with `render(result: ScanResult) -> str` and a module docstring
   saying who reads the format. Shared wording (verdict labels, effort ranges, coverage) comes
   from `reports._common`, so formats never disagree.
2. Register it in `FORMATS` below under the name users pass to `--format`.
3. Add the name to `Format` and `EXTENSIONS` in `launchready.cli`.
4. Add a golden file `tests/golden/report.<ext>` (write it with `UPDATE_GOLDEN=1 pytest
   tests/reports`) and a test that the output is valid for its consumers.

The terminal scorecard is not in `FORMATS`: it writes to a rich Console rather than returning
text (see `reports.terminal.print_scorecard`).
"""

from __future__ import annotations

from collections.abc import Callable

from launchready.reports import html, json_report, junit, md, sarif
from launchready.scan import ScanResult

Renderer = Callable[[ScanResult], str]

FORMATS: dict[str, Renderer] = {
    "json": json_report.render,
    "html": html.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "md": md.render,
}


def render(result: ScanResult, fmt: str) -> str:
    """The report of `result` in format `fmt` (a key of FORMATS)."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"unknown report format {fmt!r}; choose from {known}") from None
    return renderer(result)
