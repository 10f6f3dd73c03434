"""Small judgements on single answers: what counts as a listing, what counts as a failure."""

from __future__ import annotations

import pytest

from launchready.checks.tenant_isolation import is_listing
from launchready.engines.latency import is_failure
from launchready.probe.http import Response


def answer(status: int | None, body: str = "", error: str | None = None) -> Response:
    return Response("GET", "https://p.test/x", status=status, body=body.encode(), error=error)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (answer(200, "[]"), True),
        (answer(200, '[{"id": 1}]'), True),
        (answer(200, '{"results": [{"id": 1}], "count": 1}'), True),
        (answer(400, '{"detail": "project required"}'), False),
        (answer(403, "[]"), False),
        (answer(200, '{"detail": "ok"}'), False),
        (answer(200, "<html>list</html>"), False),
        (answer(None, error="timed out"), False),
    ],
)
def test_is_listing(response: Response, expected: bool) -> None:
    assert is_listing(response) is expected


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (answer(200), False),
        (answer(201), False),
        (answer(302), False),
        (answer(401), True),  # a refused action is fast for the wrong reason
        (answer(422), True),
        (answer(503), True),
        (answer(None, error="connection refused"), True),
    ],
)
def test_latency_failure(response: Response, expected: bool) -> None:
    assert is_failure(response) is expected


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (["'self'", "'unsafe-inline'"], True),
        (["'self'", "'unsafe-inline'", "'nonce-abc123'"], False),
        (["'self'", "'unsafe-inline'", "'sha256-Zm9v'"], False),
        (["'self'"], False),
        (["'nonce-abc123'", "'strict-dynamic'"], False),
    ],
)
def test_inline_scripts_allowed(sources: list[str], expected: bool) -> None:
    from launchready.checks.tls_domain import allows_inline_scripts

    assert allows_inline_scripts(sources) is expected
