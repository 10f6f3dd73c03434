"""Latency sampling: send one request template N times in sequence, keep an HDR histogram.

Sequential on purpose: this measures what one customer waits, not what the server does under
load. The number of samples is bounded by config (at most 500) and by the request budget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

from launchready.probe.http import Response

MAX_MICROSECONDS = 120_000_000


@dataclass(frozen=True)
class LatencySummary:
    samples: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    last_failure: Response | None = None
    first: Response | None = None


def is_failure(response: Response) -> bool:
    """No answer, or an answer that refused the action (4xx) or broke (5xx): a refusal is fast
    for the wrong reason, so it is never counted as a timing of the action."""
    return response.error is not None or (response.status or 0) >= 400


async def sample(send: Callable[[], Awaitable[Response]], count: int) -> LatencySummary:
    histogram = HdrHistogram(1, MAX_MICROSECONDS, 3)
    failures, last_failure, first = 0, None, None
    for _ in range(count):
        response = await send()
        first = first or response
        if is_failure(response):
            failures += 1
            last_failure = response
            if response.error and response.error.startswith("not sent"):
                break  # scope or budget refusal: more attempts would only repeat it
            continue
        histogram.record_value(max(1, min(int(response.elapsed_ms * 1000), MAX_MICROSECONDS)))

    def at(percentile: float) -> float:
        value: int = histogram.get_value_at_percentile(percentile)
        return round(value / 1000, 1)

    return LatencySummary(
        samples=histogram.get_total_count(),
        failures=failures,
        p50_ms=at(50),
        p95_ms=at(95),
        p99_ms=at(99),
        max_ms=round(histogram.get_max_value() / 1000, 1),
        last_failure=last_failure,
        first=first,
    )
