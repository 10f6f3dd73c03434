"""Wall time of the whole `launchready demo` command, as a user runs it.

Each run is a fresh process in a fresh temporary directory: start the bundled portal on
loopback, scan it, write the HTML and JSON reports, stop the portal. The flawed portal and the
hardened twin (`--hardened`) are timed separately. The target is at most 30 s per run on a
2-core machine; the slowest run is what is compared with it.

    python benchmarks/demo_end_to_end.py            # 3 runs of each
    python benchmarks/demo_end_to_end.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _bench import machine_lines, runs_option, summarise, verdict_mark

TARGET_S = 30.0
CASES = {"flawed": [], "hardened": ["--hardened"]}


@dataclass(frozen=True)
class Run:
    seconds: float
    exit_code: int | None  # None when the run was stopped at the time limit
    verdict: str
    requests: int | None
    scan_seconds: float | None  # the scan alone, as the JSON report records it


def launchready_command() -> list[str]:
    """The installed console script beside this interpreter, else `python -m launchready`."""
    script = Path(sys.executable).with_name("launchready")
    return [str(script)] if script.exists() else [sys.executable, "-m", "launchready"]


def read_report(directory: Path) -> tuple[str, int | None, float | None]:
    """Verdict, requests sent and scan duration from the run's JSON report, if it was written."""
    path = directory / "launchready-report.json"
    if not path.exists():
        return "no report", None, None
    report = json.loads(path.read_text(encoding="utf-8"))
    scan = report["scan"]
    return report["scorecard"]["verdict"], scan["requests_sent"], scan["duration_s"]


def run_once(extra: list[str], limit_s: float) -> Run:
    """One `launchready demo --quiet` in a temporary directory, timed from spawn to exit."""
    with tempfile.TemporaryDirectory(prefix="launchready-bench-") as tmp:
        directory = Path(tmp)
        command = [*launchready_command(), "demo", "--quiet", *extra]
        with open(directory / "stderr.txt", "wb") as stderr:
            started = time.perf_counter()
            try:
                done = subprocess.run(
                    command,
                    cwd=directory,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    timeout=limit_s,
                )
                exit_code: int | None = done.returncode
            except subprocess.TimeoutExpired:
                exit_code = None
            seconds = time.perf_counter() - started

        verdict, requests, scan_seconds = read_report(directory)
        return Run(seconds, exit_code, verdict, requests, scan_seconds)


def table(results: dict[str, list[Run]]) -> list[str]:
    lines = [
        "| portal | runs | min (s) | median (s) | max (s) | target | each run (s) "
        "| exit codes | verdict | requests | scan alone (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, runs in results.items():
        summary = summarise([run.seconds for run in runs])
        each = ", ".join(f"{run.seconds:.1f}" for run in runs)
        codes = ", ".join("timeout" if r.exit_code is None else str(r.exit_code) for r in runs)
        verdicts = ", ".join(sorted({run.verdict for run in runs}))
        requests = ", ".join(sorted({str(run.requests) for run in runs}))
        scans = ", ".join(f"{run.scan_seconds:.1f}" for run in runs if run.scan_seconds)
        lines.append(
            f"| {case} | {summary.runs} | {summary.low:.1f} | {summary.median:.1f} "
            f"| {summary.high:.1f} | ≤ {TARGET_S:.0f} s {verdict_mark(summary.meets(TARGET_S))} "
            f"| {each} | {codes} | {verdicts} | {requests} | {scans} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    runs_option(parser)
    parser.add_argument(
        "--limit", type=float, default=120.0, help="seconds before a run is stopped (default 120)"
    )
    args = parser.parse_args()

    results: dict[str, list[Run]] = {}
    for case, extra in CASES.items():
        results[case] = [run_once(extra, args.limit) for _ in range(args.runs)]

    lines = [
        "## `launchready demo`, end to end",
        "",
        "Command: `launchready demo --quiet` (and `--hardened`), one fresh process and "
        "temporary directory per run; `scan alone` is the scan's own duration from the JSON "
        "report.",
        "",
        *table(results),
        "",
        *machine_lines(),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
