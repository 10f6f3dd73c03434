"""Shared fixtures: the demo portal on loopback, flawed and hardened, and scans of it; a
throwaway CA and server certificates for made-up host names."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

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


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    return trustme.CA(organization_name="launchready tests CA")


@pytest.fixture
def ca_bundle(test_ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def server_tls(test_ca: trustme.CA) -> Callable[..., ssl.SSLContext]:
    """`server_tls("portal.test")`: a server context with a certificate the test CA signed for
    those names."""

    def make(*names: str) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        test_ca.issue_cert(*names).configure_cert(context)
        return context

    return make
