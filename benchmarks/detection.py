"""Detection quality on the demo portal: every flaw toggle alone, then the hardened portal.

For each toggle a portal runs with only that flaw and the whole scan runs against it; the
table records whether each expected outcome was reported, and which other failing findings
appeared (there should be none that the flaw does not explain). Then the hardened portal is
scanned in full and every failing or warning finding there is a false failure.

    python benchmarks/detection.py            # prints the Markdown
    python benchmarks/detection.py --write    # also writes docs/detection.md
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from launchready.demo import FLAWS  # noqa: E402
from launchready.findings import Status  # noqa: E402
from tests.checks.test_demo_flaws import DETECTIONS  # noqa: E402
from tests.conftest import scan_portal  # noqa: E402


def main() -> None:
    started = time.perf_counter()
    lines = [
        "# Detection quality",
        "",
        "Measured by `python benchmarks/detection.py --write` on the bundled demo portal: each",
        "flaw toggle alone with the full scan, then the hardened portal (every toggle off).",
        "",
        "| toggle | what is broken | expected outcome | detected |",
        "|---|---|---|---|",
    ]
    detected_all = True
    for flaw in sorted(FLAWS):
        result = scan_portal(frozenset({flaw}))
        seen = {(f.check_id, f.outcome) for f in result.findings if f.is_bad}
        for check_id, outcome in DETECTIONS.get(flaw, []):
            hit = (check_id, outcome) in seen
            detected_all &= hit
            mark = "yes" if hit else "**no**"
            lines.append(f"| `{flaw}` | {FLAWS[flaw]} | `{check_id}` `{outcome}` | {mark} |")

    hardened = scan_portal(frozenset())
    false = [f for f in hardened.findings if f.is_bad]
    errors = [f for f in hardened.findings if f.status is Status.ERROR]
    lines += [
        "",
        "## Hardened portal",
        "",
        f"- false failures and warnings: {len(false)}",
        f"- checks that could not tell (error): {len(errors)}",
    ]
    lines += [f"  - `{f.check_id}` `{f.outcome}`: {f.title}" for f in false + errors]
    lines += [
        "",
        f"Every toggle detected: {'yes' if detected_all else 'no'}. "
        f"Run time: {time.perf_counter() - started:.0f} s.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if "--write" in sys.argv:
        (REPO / "docs" / "detection.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
