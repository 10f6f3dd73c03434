"""Wall time of a passive scan of one host: the hardened demo portal, started in-process.

Passive means page loads and TLS handshakes only: `ScanContext(config, passive=True)` turns
every active probe off, as `launchready scan --passive` does. The portal starts once; each run
is a fresh context and a full `run_scan`, timed from the call to the finished result. The
target is at most 5 s per run; the slowest run is what is compared with it.

    python benchmarks/passive_scan.py            # 3 runs
    python benchmarks/passive_scan.py --runs 10
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from _bench import machine_lines, runs_option, summarise, verdict_mark

from launchready.context import ScanContext
from launchready.demo import start_demo
from launchready.demo_config import demo_config
from launchready.runner import run_scan
from launchready.scan import ScanResult

TARGET_S = 5.0
RUN_LIMIT_S = 120.0  # a run that takes longer is stopped and counted as failed


@dataclass(frozen=True)
class Run:
    seconds: float
    requests: int
    statuses: Counter[str]


async def scan_with_limit(ctx: ScanContext) -> ScanResult:
    return await asyncio.wait_for(run_scan(ctx), RUN_LIMIT_S)


def run_once(portal: object) -> Run:
    """One passive scan with a fresh context; requests come from the probe's shared budget."""
    ctx = ScanContext(demo_config(portal), passive=True)  # type: ignore[arg-type]
    started = time.perf_counter()
    result = asyncio.run(scan_with_limit(ctx))
    seconds = time.perf_counter() - started
    statuses = Counter(finding.status.value for finding in result.findings)
    return Run(seconds, ctx.http.budget.spent, statuses)


def table(runs: list[Run]) -> list[str]:
    summary = summarise([run.seconds for run in runs])
    each = ", ".join(f"{run.seconds:.2f}" for run in runs)
    requests = ", ".join(sorted({str(run.requests) for run in runs}))
    statuses = ", ".join(f"{name} {count}" for name, count in sorted(runs[-1].statuses.items()))
    return [
        "| runs | min (s) | median (s) | max (s) | target | each run (s) | requests | findings |",
        "|---|---|---|---|---|---|---|---|",
        f"| {summary.runs} | {summary.low:.2f} | {summary.median:.2f} | {summary.high:.2f} "
        f"| ≤ {TARGET_S:.0f} s {verdict_mark(summary.meets(TARGET_S))} | {each} | {requests} "
        f"| {statuses} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    runs_option(parser)
    args = parser.parse_args()

    started = time.perf_counter()
    with start_demo(frozenset()) as portal:
        startup = time.perf_counter() - started
        runs = [run_once(portal) for _ in range(args.runs)]

    lines = [
        "## Passive scan of one host",
        "",
        "The hardened demo portal, started in-process (not timed: "
        f"{startup:.2f} s), scanned with `ScanContext(config, passive=True)`; "
        "`findings` counts the last run's findings by status.",
        "",
        *table(runs),
        "",
        *machine_lines(),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
