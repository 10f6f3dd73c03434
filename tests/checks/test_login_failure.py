"""A login that is refused is reported as such, without a config hint that would not help."""

from __future__ import annotations

import asyncio

import pytest

from launchready.context import ScanContext
from launchready.demo import start_demo
from launchready.demo_config import demo_config
from launchready.findings import Status
from launchready.runner import run_scan


def test_wrong_password_is_unverified_with_the_reason_and_no_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with start_demo(frozenset()) as portal:
        config = demo_config(portal)
        monkeypatch.setenv("LAUNCHREADY_DEMO_ALICE_PASSWORD", "not-alices-password")
        result = asyncio.run(run_scan(ScanContext(config), only=("auth.session-lifecycle",)))

    (finding,) = result.findings
    assert finding.status is Status.UNVERIFIED
    assert finding.detail == "login failed for account alice (HTTP 401)"
