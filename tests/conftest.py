"""Shared fixtures: the demo portal on loopback, flawed and hardened, and scans of it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from launchready.context import ScanContext
from launchready.demo import FLAWS, start_demo
from launchready.demo_config import demo_config, free_loopback_port
from launchready.runner import run_scan
from launchready.scan import ScanResult

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def scan_portal(flaws: frozenset[str], only: tuple[str, ...] = ()) -> ScanResult:
    """Start the demo with these flaws, its mail going to the scan's SMTP sink, and scan it."""
    smtp_port = free_loopback_port()
    with start_demo(flaws, smtp_port=smtp_port) as portal:
        config = demo_config(portal, smtp_port=smtp_port)
        return asyncio.run(run_scan(ScanContext(config), only=only))


@pytest.fixture(scope="session")
def flawed_scan() -> ScanResult:
    return scan_portal(frozenset(FLAWS))


@pytest.fixture(scope="session")
def hardened_scan() -> ScanResult:
    return scan_portal(frozenset())


@pytest.fixture(scope="session")
def hardened_portal() -> Iterator[object]:
    with start_demo(frozenset()) as portal:
        yield portal
