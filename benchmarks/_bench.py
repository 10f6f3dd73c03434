"""Helpers shared by the speed benchmarks: machine facts, run-count options and summaries.

Each benchmark is a plain script (`python benchmarks/NAME.py`) that imports this module from
its own folder and prints a Markdown table, so the figures can be pasted into
`docs/benchmarks.md` as they are.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from dataclasses import dataclass
from pathlib import Path

MAX_RUNS = 20  # every benchmark loop is bounded, whatever --runs asks for


@dataclass(frozen=True)
class Summary:
    """Wall times of repeated runs, in seconds."""

    runs: int
    low: float
    median: float
    high: float

    def meets(self, target_s: float) -> bool:
        """The slowest run is within the target (a target is a ceiling, not an average)."""
        return self.high <= target_s


def summarise(times: list[float]) -> Summary:
    return Summary(len(times), min(times), statistics.median(times), max(times))


def cpu_model() -> str:
    """The CPU model as /proc/cpuinfo names it, or the platform's guess elsewhere."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    return platform.processor() or "unknown"


def usable_cpus() -> int:
    """CPUs this process may run on (what `nproc` prints), not the host's total."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def machine_lines() -> list[str]:
    """The machine facts as Markdown list items."""
    return [
        f"- CPUs usable (nproc): {usable_cpus()}",
        f"- CPU model: {cpu_model()}",
        f"- Python: {platform.python_version()} ({platform.python_implementation()})",
        f"- OS: {platform.system()} {platform.release()}",
    ]


def runs_option(parser: argparse.ArgumentParser, default: int = 3) -> None:
    parser.add_argument(
        "--runs",
        type=int,
        default=default,
        choices=range(1, MAX_RUNS + 1),
        metavar=f"1..{MAX_RUNS}",
        help=f"timed runs per case (default {default})",
    )


def verdict_mark(met: bool) -> str:
    return "met" if met else "**missed**"
